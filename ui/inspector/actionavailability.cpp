#include "actionavailability.h"

namespace keepflow::ui {

using K = OperatorAction::Kind;
using S = StepState;

bool actionApplies(K kind, const StepView &view, bool isApproval) {
    const S state = view.state;
    const bool isForeach = view.itemsTotal >= 0;
    const bool failedState = state == S::Failed || state == S::Blocked || state == S::Cancelled ||
                             state == S::PartiallySucceeded;
    switch (kind) {
    case K::Retry:
        return failedState || state == S::Retrying;
    case K::RetryFailedItems:
        return isForeach && (state == S::Failed || state == S::PartiallySucceeded) &&
               view.itemsFailed > 0;
    case K::Skip:
        return nextStepState(state, StepEvent::OperatorSkipped).has_value();
    case K::MarkSucceeded:
        return nextStepState(state, StepEvent::OperatorSucceeded).has_value() &&
               state != S::WaitingForOperator && state != S::Uncertain;
    case K::ResolveHappened:
    case K::ResolveNotHappened:
        return state == S::Uncertain;
    case K::Approve:
    case K::Reject:
        return isApproval && state == S::WaitingForOperator;
    case K::SetInput:
        return state != S::Running && state != S::Succeeded && state != S::SucceededViaFallback &&
               state != S::Skipped;
    case K::RerunFrom:
        return state != S::Running && state != S::Pending;
    case K::PauseStep:
        return nextStepState(state, StepEvent::Held).has_value();
    case K::UnpauseStep:
        return state == S::Paused;
    case K::PauseRun:
    case K::UnpauseRun:
    case K::CancelRun:
        return false; // run-level: offered on the run, not on a step
    }
    return false;
}

const QList<K> &stepActionKinds() {
    static const QList<K> kinds{K::Retry,         K::RetryFailedItems, K::Skip,
                                K::MarkSucceeded, K::ResolveHappened,  K::ResolveNotHappened,
                                K::Approve,       K::Reject,           K::SetInput,
                                K::RerunFrom,     K::PauseStep,        K::UnpauseStep};
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

} // namespace keepflow::ui
