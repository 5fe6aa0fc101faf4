#pragma once

// Root cause versus cascade: which stuck steps a run's other steps wait on. When one step fails,
// everything downstream of it is blocked; this tells the step that needs an operator (the root
// cause) from the steps that only wait for it. Pure: computed from the flow and the step rows.
//
// The rules:
//   - A root cause is a step in a state only an operator gets out of: failed, uncertain, waiting
//     for an operator, or paused. A root cause waits on nothing itself.
//   - A pending, blocked or cancelled step waits on the roots its upstreams wait on (or are),
//     as its join rule says:
//       all_succeeded, none_failed: every stuck upstream holds it;
//       all_done: only upstreams that cannot finish hold it (a failed or blocked one finished);
//       any_succeeded: it is held only when no upstream succeeded or can still succeed by itself.
//   - An upstream that succeeded, partially succeeded (a foreach within its tolerance),
//     succeeded via its fallback, or was skipped holds nothing.
//   - A step running its fallback step waits on what that fallback step waits on (or is).
//   - A step in motion (queued, scheduled, running, retrying) waits on nothing; neither does a
//     pending fallback step (it is not needed yet) nor a cancelled upstream (the operator's
//     cancel is no step's failure).

#include "core/records.h"
#include "core/states.h"
#include "model/flow.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

struct RootCauses {
    /// The root-cause steps of the run, in flow order.
    QStringList roots;
    /// Step id -> the roots it waits on, in flow order; only steps that wait on one are keys.
    QHash<QString, QStringList> blockedBy;
    /// Root id -> how many steps wait on it.
    QHash<QString, int> waitingCount;

    bool isRoot(const QString &stepId) const { return roots.contains(stepId); }
};

/// Whether a step in this state is a root cause: only an operator gets it going again.
bool isRootCauseState(StepState state);

/// The root causes of a run from its flow and its step rows. A row whose step the flow lacks
/// (the flow could not be read) can still be a root, without edges. Linear in steps and edges
/// times the roots a step waits on.
RootCauses findRootCauses(const Flow &flow, const QList<StepRunRow> &steps);

/// Why the root stops the run, in words: "charge failed", "charge has an uncertain outcome",
/// "approve waits for an operator's approval", "ship is paused".
QString rootCauseReason(const QString &stepId, StepState state);
/// The reason and how many steps wait on it: "charge has an uncertain outcome; 6 steps wait on
/// it" (just the reason when none does).
QString describeRootCause(const QString &stepId, StepState state, int waiting);

} // namespace keepflow
