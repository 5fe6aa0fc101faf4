#pragma once

// The kinds of event in a run's history (the events table, the change feed, `keepflowctl
// events`). Code names them by this enum; their snake_case text ("step_retrying") exists only at
// the edges: SQL, JSON and the screen.

#include <QObject>
#include <QString>

#include <optional>

namespace keepflow {
// Its own namespace: Qt's meta-object system allows one Q_NAMESPACE per namespace (states.h has
// keepflow's).
namespace events {
Q_NAMESPACE

enum class EventType {
    RunCreated,      ///< a run was created with its parameters
    RunResumed,      ///< a worker took the run up (start, restart, adoption)
    RunStateChanged, ///< the run's state moved without finishing
    RunWaiting,      ///< the run waits for an operator or is paused
    RunStalled,      ///< no step could start and nothing was in motion: the rest was blocked
    RunAdoptionLimitReached, ///< taken over too often after its workers stopped: paused
    RunFinished,             ///< the run reached a final state

    StepScheduled,            ///< waits for a not-before time
    StepQueued,               ///< waits for a resource
    StepExpanded,             ///< a foreach step expanded its list into items
    StepRetrying,             ///< an attempt failed; the next waits for its backoff
    StepUncertain,            ///< an attempt's outcome is unknown
    StepFailed,               ///< failed for good
    StepSucceeded,            ///< succeeded
    StepSucceededViaFallback, ///< its fallback supplied the output
    StepPartiallySucceeded,   ///< some items failed, within tolerance
    StepFallingBack,          ///< failed for good; its fallback step runs
    StepBlocked,              ///< an upstream did not succeed
    StepSkipped,              ///< not needed (an unused fallback step)
    StepWaitingForApproval,   ///< an approval step waits for an operator

    AttemptStarted, ///< an attempt's intent and key were committed
    AttemptFailed,  ///< an attempt failed and no retry follows
    AttemptCrashed, ///< an attempt was cut off by a crash

    ItemSucceeded, ///< a foreach item succeeded
    ItemRetrying,  ///< a foreach item's attempt failed; it is retried after a backoff
    ItemFailed,    ///< a foreach item failed for good
    ItemUncertain, ///< a foreach item's outcome is unknown

    SubflowStarted, ///< a subflow step started its child run

    ResourceOpened,   ///< a circuit breaker opened
    ResourceHalfOpen, ///< an open breaker lets probes through
    ResourceClosed,   ///< a breaker closed again
    ResourcePaused,   ///< an operator paused a resource
    ResourceUnpaused, ///< an operator unpaused it
    ResourceReset,    ///< an operator reset its breaker

    OperatorRetry, ///< operator actions, one per OperatorAction kind
    OperatorRetryFailedItems,
    OperatorSkip,
    OperatorMarkSucceeded,
    OperatorResolveHappened,
    OperatorResolveNotHappened,
    OperatorApprove,
    OperatorReject,
    OperatorSetInput,
    OperatorRerunFrom,
    OperatorPause,
    OperatorUnpause,
    OperatorPauseStep,
    OperatorUnpauseStep,
    OperatorCancel,
    AlertFired, ///< an alert rule's condition held (detail: rule, kind, message, trigger)
    /// An operator changed a step's policy on a run under way (detail: before, after, result).
    OperatorSetPolicy,
    /// An operator changed a resource's concurrency or rate live (detail: before, after).
    ResourceLimitsChanged,
    /// An operator moved the run to another version of its flow (detail: reason, versions
    /// before and after, the plan's kept, replaced, added and removed steps, the steps moved)
    OperatorUpgrade,
};
Q_ENUM_NS(EventType)

} // namespace events

using events::EventType;

/// "step_retrying" for EventType::StepRetrying.
QString eventTypeName(EventType type);
std::optional<EventType> eventTypeFromName(QStringView name);
/// Whether type records an operator's action (its detail lists the steps it moved): the
/// operator kinds, and OperatorUpgrade appended after them.
bool isOperatorEvent(EventType type);
bool isResourceEvent(EventType type);

} // namespace keepflow
