#pragma once

// An operator's request as every front end and the engine spell
// it: the kinds and their names, the JSON a request row stores, and what acting on it did.

#include "core/status.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace keepflow {

/// An operator's request; recorded with actor and reason.
struct OperatorAction {
    enum class Kind {
        Retry,              ///< a failed step again with a fresh budget, or a waiting retry now
        RetryFailedItems,   ///< only the failed items of a foreach step
        Skip,               ///< downstream goes on; output optional
        MarkSucceeded,      ///< with the given output
        ResolveHappened,    ///< an uncertain attempt took effect (output optional)
        ResolveNotHappened, ///< it did not: retry it, same idempotency key
        Approve,
        Reject,
        SetInput,  ///< replace the step's `with`, then retry it
        RerunFrom, ///< the step and everything downstream, with new idempotency keys
        PauseRun,
        UnpauseRun,
        PauseStep, ///< a held step does not start until unpaused
        UnpauseStep,
        CancelRun,
        SetPolicy, ///< change the step's retry policy, timeout or deadline from its next attempt on
        /// move the run to another version of its flow (flowVersion), keeping what succeeded
        /// (operator/upgradeplan.h decides what is kept, replaced, added and removed)
        Upgrade,
    };
    Kind kind = Kind::Retry;
    QString runId;
    QString stepId;
    QJsonValue output{QJsonValue::Undefined}; ///< skip, mark-succeeded, resolve --happened
    QJsonObject input;                        ///< set-input
    QJsonObject policy; ///< set-policy: the keys it changes (see PolicyOverride in policychange.h)
    QString reason;     ///< why (or the approval comment)
    QString actor;      ///< who; the OS user when empty
    qint64 flowVersion = 0; ///< upgrade: the stored flow version's id
};

/// The name of the kind ("retry", "retry-failed-items", "mark-succeeded", "pause-step", ...), as
/// request rows store it and events carry it (operator_<name with '_'>).
QString actionName(OperatorAction::Kind kind);
/// The kind a name stands for (the inverse of actionName); nothing for an unknown name.
std::optional<OperatorAction::Kind> actionKindFromName(const QString &name);

/// The action as a request row stores it: { "action", "run", "actor", "step", "output", "input",
/// "policy", "reason", "flow_version" } (the last ones only when set).
QJsonObject actionToJson(const OperatorAction &action);
/// The inverse of actionToJson; an unknown action name is an error naming it.
Result<OperatorAction> actionFromJson(const QJsonObject &json);

/// What acting did: applied it (message), or left it for the live worker that executes the run
/// (requestId and worker; the answer comes through OperatorApi::request()). A request the worker
/// answered keeps its requestId and carries the worker's message.
struct ActionOutcome {
    QString message;
    qint64 requestId = 0;
    QString worker;
    /// A problem after the action was applied (e.g. releasing a lease failed); empty when none.
    QString warning;
};

} // namespace keepflow
