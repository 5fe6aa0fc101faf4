#pragma once

#include "steps/stepkind.h"

namespace keepflow {

/// `noop`: succeeds at once with with.output (or {}). Also serves `delay`, whose wait is a
/// durable timer the engine keeps before the attempt starts.
class NoopStep final : public StepKind {
public:
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;
};

} // namespace keepflow
