#pragma once

#include "action.h"

namespace keepflow {

/// `noop`: succeeds at once with with.output (or {}). Also serves `delay`, whose wait is a
/// durable timer the engine keeps before the attempt starts.
class NoopAction final : public Action {
public:
    std::unique_ptr<Execution> start(const AttemptRequest &request, ActionContext &context,
                                     CompletionCallback done) override;
};

} // namespace keepflow
