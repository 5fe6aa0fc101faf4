#pragma once

#include "steps/stepkind.h"

#include <memory>

namespace keepflow {

/// Wraps a step kind's action so that a step with a `drill` key gets the faults it names (the
/// editor's "run as a drill"): its first fail_first attempts (and others with probability
/// fail_rate, reproducible from the idempotency key) fail with the drill's error class after its
/// latency; the other attempts run the real action, after the latency. Steps without `drill` go
/// straight to the real action.
class DrillStep final : public StepKind {
public:
    explicit DrillStep(std::shared_ptr<StepKind> real);
    InputRendering renderingOf(const QString &withKey) const override {
        return m_real->renderingOf(withKey);
    }
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;

private:
    std::shared_ptr<StepKind> m_real;
};

} // namespace keepflow
