#include "api/replay.h"

#include <QJsonObject>

#include <optional>

namespace keepflow {

namespace {

/// The state a step event leaves its step in; nullopt for events that do not move a step (run,
/// item, resource and operator events, and step events that only report).
std::optional<StepState> stateAfter(EventType type) {
    switch (type) {
    case EventType::StepScheduled:
        return StepState::Scheduled;
    case EventType::StepQueued:
        return StepState::Queued;
    case EventType::AttemptStarted:
    case EventType::StepExpanded:
    case EventType::StepFallingBack:
        return StepState::Running;
    case EventType::StepRetrying:
    case EventType::AttemptCrashed:
        return StepState::Retrying;
    case EventType::StepUncertain:
        return StepState::Uncertain;
    case EventType::StepFailed:
        return StepState::Failed;
    case EventType::StepSucceeded:
        return StepState::Succeeded;
    case EventType::StepSucceededViaFallback:
        return StepState::SucceededViaFallback;
    case EventType::StepPartiallySucceeded:
        return StepState::PartiallySucceeded;
    case EventType::StepBlocked:
        return StepState::Blocked;
    case EventType::StepSkipped:
        return StepState::Skipped;
    case EventType::StepWaitingForApproval:
        return StepState::WaitingForOperator;
    case EventType::RunCreated:
    case EventType::RunResumed:
    case EventType::RunStateChanged:
    case EventType::RunWaiting:
    case EventType::RunStalled:
    case EventType::RunAdoptionLimitReached:
    case EventType::RunFinished:
    case EventType::AttemptFailed:
    case EventType::ItemSucceeded:
    case EventType::ItemRetrying:
    case EventType::ItemFailed:
    case EventType::ItemUncertain:
    case EventType::SubflowStarted:
    case EventType::ResourceOpened:
    case EventType::ResourceHalfOpen:
    case EventType::ResourceClosed:
    case EventType::ResourcePaused:
    case EventType::ResourceUnpaused:
    case EventType::ResourceReset:
    case EventType::OperatorRetry:
    case EventType::OperatorRetryFailedItems:
    case EventType::OperatorSkip:
    case EventType::OperatorMarkSucceeded:
    case EventType::OperatorResolveHappened:
    case EventType::OperatorResolveNotHappened:
    case EventType::OperatorApprove:
    case EventType::OperatorReject:
    case EventType::OperatorSetInput:
    case EventType::OperatorRerunFrom:
    case EventType::OperatorPause:
    case EventType::OperatorUnpause:
    case EventType::OperatorPauseStep:
    case EventType::OperatorUnpauseStep:
    case EventType::OperatorCancel:
    case EventType::AlertFired:
    case EventType::OperatorUpgrade:
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace

QHash<QString, StepState> replayStepStates(const QStringList &stepIds,
                                           const QList<EventRow> &events) {
    QHash<QString, StepState> states;
    for (const QString &id : stepIds)
        states.insert(id, StepState::Pending);
    for (const EventRow &event : events) {
        if (isOperatorEvent(event.type)) {
            // The detail lists the steps the action moved, by state name (it is JSON).
            const QJsonObject moved = event.detail.value(QLatin1String("steps")).toObject();
            for (auto it = moved.begin(); it != moved.end(); ++it) {
                if (const auto state = stepStateFromName(it.value().toString()))
                    states.insert(it.key(), *state);
            }
            continue;
        }
        if (event.stepId.isEmpty() || event.detail.contains(QLatin1String("item")))
            continue; // run and item events
        if (const auto state = stateAfter(event.type))
            states.insert(event.stepId, *state);
    }
    return states;
}

} // namespace keepflow
