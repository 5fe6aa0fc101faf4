#pragma once

// Every rule of the operator actions, once: planAction() looks at a run as it stands and an
// action, and answers with a plan (which steps change and how, which run again, the message for
// the operator) or a refusal saying why. It is pure: nothing is read or written. The engine
// applies a plan in one transaction; the desktop previews a plan's re-runs before retry,
// rerun-from or skip, and enables a button only where the dry plan succeeds.

#include "core/states.h"
#include "core/status.h"
#include "operator/operatoraction.h"

#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

struct Flow;
struct ItemRow;
struct StepRunRow;

/// Where one step of a run stands, as far as the operator rules look.
struct StepSnapshot {
    StepState state = StepState::Pending;
    int failedItems = 0;    ///< foreach: items that failed for good
    int uncertainItems = 0; ///< foreach: items whose outcome is unknown
    /// An operator's live policy change (step_runs.policy_override); undefined when none.
    QJsonValue policyOverride{QJsonValue::Undefined};
};

/// A run as the rules see it: its flow (ids, kinds, `after`, join rules, policies) and its steps.
struct RunSnapshot {
    const Flow *flow = nullptr;
    RunState state = RunState::Running;
    bool paused = false;
    QList<StepSnapshot> steps; ///< in flow order

    /// From the rows a store or the operator API returns (steps missing from rows are pending).
    static RunSnapshot of(const Flow &flow, RunState state, bool paused,
                          const QList<StepRunRow> &steps, const QList<ItemRow> &items);
    /// Counts the failed and uncertain items of each foreach step.
    void countItems(const QList<ItemRow> &items);
};

/// One change a plan makes to one step, applied in the plan's order.
struct StepChange {
    enum class Kind {
        RetryNow,      ///< a waiting retry is due now (its budget and key stay)
        Rerun,         ///< back to pending: it runs again with the same key; downstream unblocks
        ReopenItems,   ///< foreach: the step goes on with some of its finished items
        Settle,        ///< final by an operator's word (skipped or succeeded) with output
        Reject,        ///< an approval is refused: failed for good with the reason
        NewGeneration, ///< rerun-from: back to pending with new keys, output and errors cleared
        Hold,          ///< paused: it does not start until released
        Release,       ///< a held step goes on
        ReplaceInput,  ///< its `with` becomes the action's input
        Cancel,        ///< the run is cancelled: a step that is not final ends cancelled
        SetPolicy,     ///< its policy becomes the flow's with policy (the merged change) applied
    };
    Kind kind = Kind::Rerun;
    int step = 0;
    bool freshBudget = false;                  ///< Rerun: its failures count from zero again
    bool reopenFailedItems = false;            ///< ReopenItems: failed items are retried
    std::optional<StepEvent> uncertainItemsTo; ///< ReopenItems: Reopen or OperatorSucceeded
    StepEvent settleAs = StepEvent::OperatorSucceeded; ///< Settle: OperatorSkipped or ...Succeeded
    QJsonValue output{QJsonValue::Undefined};          ///< Settle, ReopenItems (happened)
    QString error;                                     ///< Reject: the step's error
    QJsonObject policy; ///< SetPolicy: every key operators changed so far, this change's last
};

struct ActionPlan {
    enum class RunChange { None, Pause, Unpause, Cancel };
    QList<StepChange> changes;
    RunChange runChange = RunChange::None;
    QStringList runAgain; ///< ids of the steps that will run (again), in flow order
    QString message;      ///< what was done, for the operator
};

/// The plan for action on run, or a refusal (an error saying why) that changes nothing.
Result<ActionPlan> planAction(const RunSnapshot &run, const OperatorAction &action);

/// The dry form for previews: the ids of the steps action would run (again), in flow order;
/// empty when it runs nothing again or would be refused.
QStringList stepsRunAgainBy(const OperatorAction &action, const RunSnapshot &run);

} // namespace keepflow
