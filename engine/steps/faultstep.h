#pragma once

#include "steps/stepkind.h"

namespace keepflow {

/// `fault`: injects failures for drills. Fails the first fail_first attempts, then each attempt
/// with probability fail_rate (reproducible from seed and the idempotency key), with the chosen
/// error class, after latency. A "timeout" fault hangs until the engine's attempt timeout fires.
class FaultStep final : public StepKind {
public:
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;
};

} // namespace keepflow
