#pragma once

#include "action.h"

namespace keepflow {

/// `fault`: injects failures for drills. Fails the first fail_first attempts, then each attempt
/// with probability fail_rate (reproducible from seed and the idempotency key), with the chosen
/// error class, after latency. A "timeout" fault hangs until the engine's attempt timeout fires.
class FaultAction final : public Action {
public:
    std::unique_ptr<Execution> start(const AttemptRequest &request, ActionContext &context,
                                     CompletionCallback done) override;
};

} // namespace keepflow
