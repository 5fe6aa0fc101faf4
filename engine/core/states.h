#pragma once

// Step, run and attempt states as users see them, and the one pure function that decides every step
// state transition. The runtime applies it, then persists the result; nothing else picks a state.

#include <QMetaType>
#include <QObject>
#include <QString>

#include <array>
#include <optional>

namespace keepflow {
Q_NAMESPACE

enum class StepState {
    Pending,              ///< upstream not done yet
    Queued,               ///< waiting for a resource slot or rate token
    Scheduled,            ///< waiting for a not-before time (delay, not_before)
    Running,              ///< an attempt is in progress
    Retrying,             ///< an attempt failed; the next one waits for its backoff
    Succeeded,            ///< done, with output
    SucceededViaFallback, ///< failed for good, its fallback supplied the output
    PartiallySucceeded,   ///< foreach: some items failed, within tolerance
    Failed,               ///< failed for good
    Uncertain,            ///< an attempt's outcome is unknown; an operator decides
    WaitingForOperator,   ///< approval pending
    Paused,               ///< held by an operator until resumed
    Skipped,              ///< not run (by an operator, or an unused fallback step)
    Blocked,              ///< an upstream failed, so this step cannot run
    Cancelled,            ///< the run was cancelled before this step finished
};
Q_ENUM_NS(StepState)
inline constexpr int kStepStateCount = 15;

enum class RunState {
    Running,               ///< something can still run by itself
    Paused,                ///< held by an operator
    WaitingForOperator,    ///< nothing can run until an operator decides
    Succeeded,             ///< every step succeeded or was skipped
    CompletedWithFailures, ///< some steps failed while others succeeded
    Failed,                ///< no step that ran succeeded
    Cancelled,             ///< cancelled by an operator
};
Q_ENUM_NS(RunState)

enum class AttemptOutcome {
    Succeeded,       ///< finished with output
    FailedTransient, ///< failed, may be retried
    FailedPermanent, ///< failed, never retried
    TimedOut,        ///< killed by its timeout
    Crashed,         ///< the engine died while it ran
    Uncertain,       ///< unknown whether the side effect happened
};
Q_ENUM_NS(AttemptOutcome)

/// Why an attempt failed ("transient", "permanent", "timeout", ...).
enum class ErrorClass { Transient, Permanent, Timeout, Garbage, Crashed, Uncertain };
Q_ENUM_NS(ErrorClass)

/// What happened to a step; the input of the transition function.
enum class StepEvent {
    Delayed,           ///< upstreams allow it, but it waits for a not-before time
    Enqueued,          ///< waits for a resource slot
    AttemptStarted,    ///< an attempt's intent was written
    AttemptSucceeded,  ///< the attempt succeeded
    AttemptFailed,     ///< the attempt failed and another will follow after a backoff
    FailedForGood,     ///< failed with no retry left (and no fallback)
    FallbackUsed,      ///< failed for good and its fallback supplied an output
    ItemsPartlyFailed, ///< foreach: every item is done, some failed within tolerance
    OutcomeUnknown,    ///< crashed or timed out on a non-idempotent step
    UpstreamFailed,    ///< the join rule can no longer be met
    NotNeeded,         ///< a fallback step whose primary succeeded
    Cancel,            ///< the run was cancelled
    // Operator actions.
    Reset,             ///< run it again: retry, rerun, unpause, resolve "did not happen", unblock
    OperatorSkipped,   ///< skipped by an operator (optionally with an output)
    OperatorSucceeded, ///< marked succeeded, resolved "happened", or approved
    Held,              ///< paused by an operator: it does not start until unpaused
    AwaitOperator,     ///< an approval step waits for approve or reject
    Reopen, ///< a foreach step goes on with its failed or uncertain items (an item: retried now)
};
Q_ENUM_NS(StepEvent)

/// The one transition function: the next state, or nullopt when event does not apply to state.
std::optional<StepState> nextStepState(StepState state, StepEvent event);

/// The same for one item of a foreach step: items share the step states, and a reopened item
/// is a retry that is due now (its attempt numbers go on, its key stays).
std::optional<StepState> nextItemState(StepState state, StepEvent event);

bool isFinal(StepState state);
/// Succeeded directly, via fallback, partially (for downstream purposes), or skipped.
bool countsAsSuccess(StepState state);

/// How many attempts a step (or item) may make in all: its policy's maxAttempts, plus the
/// attempts it made before an operator's retry gave it a fresh budget (attempt numbers go on,
/// failures start again from 0). "attempt 3/4" after a retry, never "3/2".
int attemptBudget(StepState state, int attempts, int failures, int maxAttempts);

/// Number of steps in each state, indexed by StepState.
using StepStateCounts = std::array<int, kStepStateCount>;

/// The run state that follows from its steps' states.
RunState deriveRunState(const StepStateCounts &counts);

bool isFinal(RunState state);

/// snake_case names used in files, the database and JSON output.
QString stateName(StepState state);
QString stateName(RunState state);
QString outcomeName(AttemptOutcome outcome);
QString errorClassName(ErrorClass errorClass);
/// The name, or an empty string when unset (running attempts, steps without an error).
QString outcomeName(const std::optional<AttemptOutcome> &outcome);
QString errorClassName(const std::optional<ErrorClass> &errorClass);
std::optional<StepState> stepStateFromName(const QString &name);
std::optional<RunState> runStateFromName(const QString &name);
std::optional<AttemptOutcome> outcomeFromName(const QString &name);
std::optional<ErrorClass> errorClassFromName(const QString &name);

/// Exit code of keepflowctl run/resume for a run that stopped in state.
int exitCodeFor(RunState state);

} // namespace keepflow
