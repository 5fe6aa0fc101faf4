#pragma once

// Builds what the run views show of each step (StepView) from the engine's rows: the step row,
// the flow's policies (attempt budget), the foreach items, the resources' breakers, and the
// root causes the stuck steps wait on (api/rootcause.h).

#include "api/stepstats.h"
#include "core/records.h"
#include "model/flow.h"
#include "stepview.h"

namespace keepflow::ui {

/// One StepView per step of flow, in flow order.
QList<StepView> buildStepViews(const Flow &flow, const QList<StepRunRow> &steps,
                               const QList<ItemRow> &items, const QList<ResourceRow> &resources);

/// Sets slowFactor on the steps that took (ended) or have taken so far (running or retrying, at
/// now) more than rule.factor × their p95 in stats, with enough history; clears it elsewhere.
void markSlowSteps(QList<StepView> &steps, const FlowStepStats &stats, qint64 now,
                   SlowRule rule = {});

/// What holds a parent run up in its children, for the run's header: " · held up: step deploy
/// waits on child run 1a2b… (Waiting for operator)"; empty when no child does.
QString childHoldUpText(const QList<StepView> &steps);

/// The run's root causes in words, for the run's header: " · root cause: charge has an
/// uncertain outcome; 6 steps wait on it" (one such part per root); empty when there is none.
QString rootCauseText(const QList<StepView> &steps);

/// "2 s", "1 min 5 s", "3 h 2 min": a duration for people.
QString formatSpan(qint64 ms);

} // namespace keepflow::ui
