#pragma once

// Moving a run to another version of its flow, keeping its progress: planUpgrade() looks at a
// run as it stands and the new definition and says, step by step, what is kept, replaced, added
// and removed, and what stops the upgrade (refusals, each with its reason). It is pure: nothing
// is read or written. The engine applies a plan without refusals in one transaction (one
// operator action, `upgrade`); keepflowctl and the desktop show it first.
//
// The rules, as an operator would want them:
//   - kept: a step that succeeded (directly, via its fallback, partially within tolerance) or
//     was skipped keeps its state and output, even when its definition changed: what it did has
//     happened. A step whose definition did not change keeps its state, whatever it is.
//   - replaced: a step whose definition changed and that has not succeeded starts over under the
//     new definition: back to pending in a new generation (new idempotency keys, since the
//     request it makes may differ), its attempt count and budget from zero, its error, output,
//     an operator's set-input and, for foreach, its items cleared. Earlier attempts stay in the
//     history under their generation.
//   - added: a new step, pending; removed: a step the new version no longer has (its row goes).
//   - refused: another flow's file; a run that succeeded or was cancelled; a succeeded step the
//     new version removes; a kept succeeded step whose `after` gains a step that has not
//     succeeded (a new one, or one that still has to run); a foreach step part way through its
//     items whose definition changes; an uncertain step that would be replaced or removed (its
//     uncertainty is resolved first, with `resolve`); a step an operator holds (paused) that
//     would be replaced; any attempt in flight (the run's live state is rebuilt for the new
//     version once nothing is under way: pause the run, let the attempt end, then upgrade).

#include "operator/actionplan.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

struct Flow;
struct Step;

struct UpgradeRefusal {
    QString step; ///< the step it is about; empty for the run as a whole
    QString reason;
};

struct UpgradePlan {
    QStringList keep;    ///< in the new flow's order
    QStringList replace; ///< in the new flow's order
    QStringList add;     ///< in the new flow's order
    QStringList remove;  ///< in the run's flow's order
    /// Kept steps that succeeded under a definition the new version changes: nothing of theirs
    /// runs again (shown to the operator, not a refusal).
    QStringList keptChanged;
    QList<UpgradeRefusal> refusals;

    bool refused() const { return !refusals.isEmpty(); }
    /// Every refusal as "step ID: REASON" (or REASON for the run), one per line.
    QString refusalText() const;
    /// "keeps 3 steps, replaces 1, adds 1, removes 0" for messages.
    QString summary() const;
};

/// The plan for moving run (its flow is the version it follows) to the flow `to`.
UpgradePlan planUpgrade(const RunSnapshot &run, const Flow &to);

/// Whether step b of flow `to` does something other than step a of flow `from` (the same id):
/// any key of its definition (editor positions aside), or its effective retry policy or timeout
/// (flow defaults count).
bool stepDefinitionChanged(const Flow &from, const Step &a, const Flow &to, const Step &b);

/// `upgrade --json`: { "keep": [ID...], "replace": [...], "add": [...], "remove": [...],
/// "refusals": [{ "step": ID or null, "reason": TEXT }] }.
QJsonObject upgradePlanJson(const UpgradePlan &plan);

} // namespace keepflow
