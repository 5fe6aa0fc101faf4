#include "actionavailability.h"

#include "model/flow.h"
#include "operator/actionplan.h"

#include <QJsonArray>

namespace keepflow::ui {

using K = OperatorAction::Kind;

bool actionApplies(K kind, const StepView &view, bool isApproval) {
    if (kind == K::PauseRun || kind == K::UnpauseRun || kind == K::CancelRun)
        return false; // run-level: offered on the run, not on a step
    if (kind == K::SetPolicy) {
        // Its values come from its dialog; a step that will make no attempt has no use for one.
        const StepState s = view.state;
        return !isApproval && s != StepState::Succeeded && s != StepState::SucceededViaFallback &&
               s != StepState::Skipped && s != StepState::Cancelled;
    }
    // The engine's own rules decide: a dry plan of the action on this step as it stands.
    Step step;
    step.id = view.stepId.isEmpty() ? QStringLiteral("step") : view.stepId;
    step.kind = isApproval ? QStringLiteral("approval") : QStringLiteral("noop");
    if (view.itemsTotal >= 0)
        step.foreach = QJsonArray();
    Flow flow;
    flow.steps.append(step);
    RunSnapshot run;
    run.flow = &flow;
    run.steps.append(StepSnapshot{view.state, view.itemsFailed, 0});
    OperatorAction action;
    action.kind = kind;
    action.stepId = step.id;
    return planAction(run, action).isOk();
}

QString readOnlyActionTip(const QString &reason) {
    return QStringLiteral("The database is open read-only (%1): actions need write access.")
        .arg(reason);
}

const QList<K> &stepActionKinds() {
    static const QList<K> kinds{K::Retry,         K::RetryFailedItems, K::Skip,
                                K::MarkSucceeded, K::ResolveHappened,  K::ResolveNotHappened,
                                K::Approve,       K::Reject,           K::SetInput,
                                K::RerunFrom,     K::PauseStep,        K::UnpauseStep,
                                K::SetPolicy};
    return kinds;
}

QString actionLabel(K kind) {
    switch (kind) {
    case K::Retry:
        return QStringLiteral("Retry");
    case K::RetryFailedItems:
        return QStringLiteral("Retry failed items");
    case K::Skip:
        return QStringLiteral("Skip");
    case K::MarkSucceeded:
        return QStringLiteral("Mark succeeded");
    case K::ResolveHappened:
        return QStringLiteral("Resolve: happened");
    case K::ResolveNotHappened:
        return QStringLiteral("Resolve: did not happen");
    case K::Approve:
        return QStringLiteral("Approve");
    case K::Reject:
        return QStringLiteral("Reject");
    case K::SetInput:
        return QStringLiteral("Set input");
    case K::RerunFrom:
        return QStringLiteral("Rerun from here");
    case K::PauseStep:
        return QStringLiteral("Hold step");
    case K::UnpauseStep:
        return QStringLiteral("Release step");
    case K::PauseRun:
        return QStringLiteral("Pause run");
    case K::UnpauseRun:
        return QStringLiteral("Resume run");
    case K::CancelRun:
        return QStringLiteral("Cancel run");
    case K::SetPolicy:
        return QStringLiteral("Change policy…");
    case K::Upgrade:
        return QStringLiteral("Apply flow version");
    }
    return {};
}

QString actionShortcut(K kind) {
    switch (kind) {
    case K::Retry:
        return QStringLiteral("Ctrl+R");
    case K::RetryFailedItems:
        return QStringLiteral("Ctrl+Shift+R");
    case K::Skip:
        return QStringLiteral("Ctrl+K");
    case K::MarkSucceeded:
        return QStringLiteral("Ctrl+M");
    case K::Approve:
        return QStringLiteral("Ctrl+Return");
    case K::Reject:
        return QStringLiteral("Ctrl+Backspace");
    case K::SetInput:
        return QStringLiteral("Ctrl+I");
    case K::RerunFrom:
        return QStringLiteral("Ctrl+Shift+F");
    case K::PauseStep:
        return QStringLiteral("Ctrl+H");
    case K::UnpauseStep:
        return QStringLiteral("Ctrl+Shift+H");
    case K::PauseRun:
        return QStringLiteral("Ctrl+P");
    case K::UnpauseRun:
        return QStringLiteral("Ctrl+Shift+P");
    default:
        return {};
    }
}

bool actionRunsStepsAgain(K kind) {
    return kind == K::Retry || kind == K::RetryFailedItems || kind == K::Skip ||
           kind == K::MarkSucceeded || kind == K::RerunFrom || kind == K::ResolveNotHappened ||
           kind == K::ResolveHappened || kind == K::SetInput;
}

bool actionTakesOutput(K kind) {
    return kind == K::Skip || kind == K::MarkSucceeded || kind == K::ResolveHappened ||
           kind == K::SetInput;
}

bool actionNeedsReason(K kind) {
    return kind == K::Skip || kind == K::MarkSucceeded || kind == K::ResolveHappened ||
           kind == K::ResolveNotHappened || kind == K::Reject || kind == K::CancelRun;
}

} // namespace keepflow::ui
