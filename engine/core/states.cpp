#include "core/states.h"

#include "core/enumnames.h"

namespace keepflow {

std::optional<StepState> nextStepState(StepState state, StepEvent event) {
    using S = StepState;
    using E = StepEvent;
    if (event == E::Cancel)
        return isFinal(state) ? std::nullopt : std::optional(S::Cancelled);

    // Operator actions apply to a step that is not running (and, for a reset, not in motion).
    const bool waiting = state == S::Pending || state == S::Queued || state == S::Scheduled ||
                         state == S::Retrying || state == S::Paused;
    const bool stuck = state == S::Failed || state == S::Blocked || state == S::Uncertain ||
                       state == S::WaitingForOperator || state == S::Cancelled;
    switch (event) {
    case E::OperatorSkipped:
    case E::OperatorSucceeded:
        return waiting || stuck
                   ? std::optional(event == E::OperatorSkipped ? S::Skipped : S::Succeeded)
                   : std::nullopt;
    case E::Held:
        return state == S::Pending || state == S::Queued || state == S::Scheduled ||
                       state == S::Retrying
                   ? std::optional(S::Paused)
                   : std::nullopt;
    case E::Reset:
        return state == S::Running || state == S::Pending ? std::nullopt
                                                          : std::optional(S::Pending);
    case E::AwaitOperator:
        return state == S::Pending || state == S::Scheduled ? std::optional(S::WaitingForOperator)
                                                            : std::nullopt;
    case E::Reopen:
        return state == S::Failed || state == S::PartiallySucceeded || state == S::Uncertain
                   ? std::optional(S::Running)
                   : std::nullopt;
    default:
        break;
    }

    switch (state) {
    case S::Pending:
        switch (event) {
        case E::Delayed:
            return S::Scheduled;
        case E::Enqueued:
            return S::Queued;
        case E::AttemptStarted:
            return S::Running;
        case E::UpstreamFailed:
            return S::Blocked;
        case E::NotNeeded:
            return S::Skipped;
        default:
            return std::nullopt;
        }
    case S::Queued:
    case S::Scheduled:
    case S::Retrying:
        switch (event) {
        case E::AttemptStarted:
            return S::Running;
        case E::Enqueued:
            return S::Queued;
        case E::Delayed:
            return S::Scheduled;
        case E::FailedForGood:
            return S::Failed; // deadline or queue time passed while waiting
        case E::FallbackUsed:
            return S::SucceededViaFallback;
        default:
            return std::nullopt;
        }
    case S::Running:
        switch (event) {
        case E::AttemptSucceeded:
            return S::Succeeded;
        case E::AttemptFailed:
            return S::Retrying;
        case E::FailedForGood:
            return S::Failed;
        case E::FallbackUsed:
            return S::SucceededViaFallback;
        case E::ItemsPartlyFailed:
            return S::PartiallySucceeded;
        case E::OutcomeUnknown:
            return S::Uncertain;
        default:
            return std::nullopt;
        }
    case S::WaitingForOperator:
        return event == E::FailedForGood ? std::optional(S::Failed) : std::nullopt; // rejected
    default:
        return std::nullopt;
    }
}

std::optional<StepState> nextItemState(StepState state, StepEvent event) {
    using S = StepState;
    switch (event) {
    case StepEvent::Reopen:
        return state == S::Failed || state == S::Uncertain ? std::optional(S::Retrying)
                                                           : std::nullopt;
    case StepEvent::AttemptStarted:
    case StepEvent::Enqueued:
    case StepEvent::AttemptSucceeded:
    case StepEvent::AttemptFailed:
    case StepEvent::FailedForGood:
    case StepEvent::OutcomeUnknown:
    case StepEvent::OperatorSucceeded: // an uncertain item resolved "happened"
        return nextStepState(state, event);
    default:
        return std::nullopt; // items are not delayed, blocked, held or skipped one by one
    }
}

bool isFinal(StepState state) {
    switch (state) {
    case StepState::Succeeded:
    case StepState::SucceededViaFallback:
    case StepState::PartiallySucceeded:
    case StepState::Failed:
    case StepState::Skipped:
    case StepState::Blocked:
    case StepState::Cancelled:
        return true;
    default:
        return false;
    }
}

bool countsAsSuccess(StepState state) {
    return state == StepState::Succeeded || state == StepState::SucceededViaFallback ||
           state == StepState::PartiallySucceeded || state == StepState::Skipped;
}

int attemptBudget(StepState state, int attempts, int failures, int maxAttempts) {
    // The latest attempt counts as a failure unless it is running, succeeded or has an unknown
    // outcome; every other attempt since the fresh budget failed.
    const bool latestNotAFailure =
        attempts > 0 && (state == StepState::Running || state == StepState::Succeeded ||
                         state == StepState::Uncertain);
    const int beforeTheBudget = std::max(0, attempts - failures - (latestNotAFailure ? 1 : 0));
    return std::max(attempts, maxAttempts + beforeTheBudget);
}

RunState deriveRunState(const StepStateCounts &counts) {
    auto count = [&counts](StepState s) { return counts[static_cast<int>(s)]; };
    using S = StepState;
    const int active = count(S::Pending) + count(S::Queued) + count(S::Scheduled) +
                       count(S::Running) + count(S::Retrying);
    const int waiting = count(S::Uncertain) + count(S::WaitingForOperator);
    // A pending step behind one that waits for an operator cannot run by itself either, so the
    // run waits when something waits and nothing else is in motion.
    const int moving = active - count(S::Pending);
    if (moving > 0)
        return RunState::Running;
    if (waiting > 0)
        return RunState::WaitingForOperator;
    if (count(S::Paused) > 0)
        return RunState::Paused;
    if (count(S::Pending) > 0)
        return RunState::Running;
    if (count(S::Cancelled) > 0)
        return RunState::Cancelled;
    const int failures = count(S::Failed) + count(S::PartiallySucceeded) + count(S::Blocked);
    const int successes =
        count(S::Succeeded) + count(S::SucceededViaFallback) + count(S::PartiallySucceeded);
    if (failures == 0)
        return RunState::Succeeded;
    return successes > 0 ? RunState::CompletedWithFailures : RunState::Failed;
}

bool isFinal(RunState state) {
    return state == RunState::Succeeded || state == RunState::CompletedWithFailures ||
           state == RunState::Failed || state == RunState::Cancelled;
}

QString snakeCaseName(const char *pascal) {
    QString out;
    for (const char *c = pascal; *c; ++c) {
        const QChar ch = QLatin1Char(*c);
        if (ch.isUpper() && c != pascal)
            out += QLatin1Char('_');
        out += ch.toLower();
    }
    return out;
}

namespace {

template <typename Enum> QString enumName(Enum value) {
    return EnumNames<Enum>::instance().name(value);
}

template <typename Enum> std::optional<Enum> enumFromName(const QString &name) {
    return EnumNames<Enum>::instance().value(name);
}

} // namespace

QString stateName(StepState state) {
    return enumName(state);
}
QString stateName(RunState state) {
    return enumName(state);
}
QString outcomeName(AttemptOutcome outcome) {
    switch (outcome) {
    case AttemptOutcome::FailedTransient:
        return QStringLiteral("failed");
    case AttemptOutcome::FailedPermanent:
        return QStringLiteral("failed_permanent");
    default:
        return enumName(outcome);
    }
}
QString errorClassName(ErrorClass errorClass) {
    return enumName(errorClass);
}
QString outcomeName(const std::optional<AttemptOutcome> &outcome) {
    return outcome ? outcomeName(*outcome) : QString();
}
QString errorClassName(const std::optional<ErrorClass> &errorClass) {
    return errorClass ? errorClassName(*errorClass) : QString();
}
std::optional<StepState> stepStateFromName(const QString &name) {
    return enumFromName<StepState>(name);
}
std::optional<RunState> runStateFromName(const QString &name) {
    return enumFromName<RunState>(name);
}
std::optional<AttemptOutcome> outcomeFromName(const QString &name) {
    if (name == QLatin1String("failed"))
        return AttemptOutcome::FailedTransient;
    if (name == QLatin1String("failed_permanent"))
        return AttemptOutcome::FailedPermanent;
    return enumFromName<AttemptOutcome>(name);
}
std::optional<ErrorClass> errorClassFromName(const QString &name) {
    return enumFromName<ErrorClass>(name);
}

int exitCodeFor(RunState state) {
    switch (state) {
    case RunState::Succeeded:
        return 0;
    case RunState::CompletedWithFailures:
        return 2;
    case RunState::Failed:
        return 3;
    case RunState::WaitingForOperator:
    case RunState::Paused:
        return 4;
    case RunState::Cancelled:
        return 5;
    case RunState::Running:
        return 1;
    }
    return 1;
}

} // namespace keepflow
