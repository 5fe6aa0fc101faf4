#pragma once

// The live state of the runs an engine executes: what is in memory between two commits. Every
// field that matters after a crash is also in a row (the run ledger writes it); the rest
// (executions, queue and slot bookkeeping, timer stamps) is rebuilt by recovery.

#include "core/states.h"
#include "model/secrets.h"
#include "operator/policychange.h"
#include "runtime/plan.h"
#include "steps/stepkind.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <vector>

namespace keepflow {

/// What a step and a foreach item have in common: one thing that makes attempts. Its state
/// changes only through the run ledger's transition().
struct AttemptState {
    StepState state = StepState::Pending;
    int attempts = 0;
    int failures = 0;
    qint64 notBefore = 0;        ///< when it looks again (retry, delay, queue timer); 0: none
    qint64 attemptStartedAt = 0; ///< of the latest attempt
    qint64 attemptDeadline = 0;  ///< 0: no timeout for the running attempt
    quint32 timerStamp = 0;      ///< only the latest armed timer counts
    std::optional<ErrorClass> errorClass; ///< of the latest failure; unset when none
    QString error;
    bool inFlight = false;  ///< its action was started and has not been recorded as ended
    bool holdsSlot = false; ///< counted in its resource's in-flight calls
    bool isProbe = false;   ///< a half-open breaker's trial call
    bool inQueue = false;   ///< listed in its resource's queue
    qint64 queuedAt = 0;
    std::unique_ptr<Execution> execution;
    SecretMask mask; ///< the running attempt's secrets, hidden in what it printed
};

/// A started, not yet final item of a foreach step.
struct LiveItem : AttemptState {};

/// A running foreach step: the list, what is left to start, and the live items. Items that
/// finished keep only their state and output (or error); the rest stays in the items table.
struct ForeachProgress {
    QJsonArray items;
    QStringList keys;
    std::vector<StepState> states;
    std::vector<QJsonValue> outputs;
    std::vector<QString> errors;
    std::deque<int> pending;        ///< positions not started yet, in order
    std::map<int, LiveItem> active; ///< running or waiting to retry
    int running = 0;
    int succeeded = 0;
    int failed = 0;
    int uncertain = 0;
    int concurrency = 4;
};

struct LiveStep : AttemptState {
    int generation = 1; ///< part of the idempotency key; rerun-from starts a new one
    qint64 startedAt = 0;
    qint64 endedAt = 0;
    bool attemptDeadlineIsStepDeadline = false;
    bool viaFallback = false;
    bool candidate = false;      ///< listed in its run's candidates for the next pass
    bool fallbackActive = false; ///< failed for good; its fallback step runs in its stead
    QJsonValue output{QJsonValue::Undefined};
    std::unique_ptr<ForeachProgress> foreach;
    QJsonValue inputOverride{QJsonValue::Undefined};  ///< set-input: replaces `with`
    QJsonValue policyOverride{QJsonValue::Undefined}; ///< set-policy: the keys an operator set
    /// The flow's policy with policyOverride applied; unset while there is none.
    std::optional<StepPolicy> livePolicy;
};

struct LiveRun {
    QString id;
    QString flowName;
    std::shared_ptr<Plan> plan;
    QJsonObject params;
    RunState state = RunState::Running;
    qint64 createdAt = 0;
    qint64 endedAt = 0;
    std::vector<LiveStep> steps;
    StepStateCounts counts{};
    std::vector<int> candidates; ///< steps to look at in the next pass
    bool dirty = false;
    bool paused = false;        ///< held by an operator: nothing new starts
    qint64 leaseEpoch = 0;      ///< the epoch of this worker's lease: every commit is fenced by it
    int adoptions = 0;          ///< takeovers from stopped workers since an operator's unpause
    bool leaseReleased = false; ///< let go of (finished, waiting, paused) but still in memory
    QString parentRun;          ///< a sub-run: the run and step that started it
    QString parentStep;

    LiveStep &step(int i) { return steps[static_cast<size_t>(i)]; }
    const LiveStep &step(int i) const { return steps[static_cast<size_t>(i)]; }
    const Step &def(int i) const { return plan->step(i); }

    // A step's policy: an operator's live change when there is one, else the flow's. Every
    // decision that reads a policy asks these, so that a change applies from the next attempt.
    const RetryPolicy &retry(int i) const {
        const auto &live = step(i).livePolicy;
        return live ? live->retry : plan->retry[i];
    }
    std::optional<qint64> timeoutMs(int i) const {
        const auto &live = step(i).livePolicy;
        return live ? live->timeoutMs : plan->timeout[i];
    }
    std::optional<qint64> deadlineMs(int i) const {
        const auto &live = step(i).livePolicy;
        return live ? live->deadlineMs : plan->deadline[i];
    }
    StepPolicy flowPolicy(int i) const {
        return StepPolicy{plan->retry[i], plan->timeout[i], plan->deadline[i]};
    }
    StepPolicy policy(int i) const { return step(i).livePolicy.value_or(flowPolicy(i)); }
    /// Sets the step's live change (undefined: none) and the policy that follows from it.
    /// A stored change that no longer reads is left out: the flow's policy applies.
    void setPolicyOverride(int i, const QJsonValue &change) {
        LiveStep &s = step(i);
        s.policyOverride = change;
        s.livePolicy.reset();
        if (!change.isObject())
            return;
        if (auto parsed = PolicyOverride::fromJson(change.toObject()))
            s.livePolicy = parsed->appliedTo(flowPolicy(i));
    }
};

/// Whether the run has a step at position step. A timer or queue entry armed before the run
/// was upgraded to a version with fewer steps may name a position it no longer has.
inline bool hasStep(const LiveRun &run, int step) {
    return step >= 0 && static_cast<size_t>(step) < run.steps.size();
}

/// Whether anything of the run is under way: an attempt (a step's or an item's) in flight, or a
/// subflow's child run. A paused run with nothing under way is paused; a foreach step whose
/// items all wait is not work in flight.
inline bool hasWorkInFlight(const LiveRun &run) {
    for (size_t i = 0; i < run.steps.size(); ++i) {
        const LiveStep &step = run.steps[i];
        if (step.inFlight)
            return true;
        if (step.state == StepState::Running &&
            run.plan->step(static_cast<int>(i)).kind == QLatin1String("subflow"))
            return true;
        if (step.foreach) {
            for (const auto &[pos, item] : step.foreach->active) {
                if (item.inFlight)
                    return true;
            }
        }
    }
    return false;
}

/// The one thing that makes attempts: a step, or one item of a foreach step. Start, complete,
/// expire and reopen are written once for both; where they differ, they ask isItem().
class AttemptTarget {
public:
    static AttemptTarget step(LiveRun &run, int step) {
        return AttemptTarget(run, step, -1, &run.step(step));
    }
    /// The item at pos when it is live (running or waiting to retry), else nullopt.
    static std::optional<AttemptTarget> item(LiveRun &run, int step, int pos) {
        ForeachProgress *progress = run.step(step).foreach.get();
        if (!progress)
            return std::nullopt;
        const auto it = progress->active.find(pos);
        if (it == progress->active.end())
            return std::nullopt;
        return AttemptTarget(run, step, pos, &it->second);
    }
    /// The step (item < 0) or the live item.
    static std::optional<AttemptTarget> of(LiveRun &run, int step, int item) {
        if (item < 0)
            return AttemptTarget::step(run, step);
        return AttemptTarget::item(run, step, item);
    }

    bool isItem() const { return m_item >= 0; }
    LiveRun &run() const { return *m_run; }
    int stepIndex() const { return m_step; }
    int itemPos() const { return m_item; }
    const Step &def() const { return m_run->def(m_step); }
    LiveStep &liveStep() const { return m_run->step(m_step); }
    AttemptState &state() const { return *m_state; }
    ForeachProgress &progress() const { return *liveStep().foreach; }
    /// The item's key; empty for a step.
    QString itemKey() const { return isItem() ? progress().keys[m_item] : QString(); }

private:
    AttemptTarget(LiveRun &run, int step, int item, AttemptState *state)
        : m_run(&run)
        , m_step(step)
        , m_item(item)
        , m_state(state) {}
    LiveRun *m_run;
    int m_step;
    int m_item;
    AttemptState *m_state;
};

/// An attempt's result, waiting for the next pump to be applied.
struct Completion {
    QString runId;
    int step = 0;
    int attempt = 0;
    int generation = 0;
    AttemptResult result;
    int item = -1; ///< foreach item position, -1 for the step itself
};

/// An attempt whose intent is in the batch: its action starts once the batch committed.
struct Launch {
    QString runId;
    int step = 0;
    AttemptRequest request;
    int item = -1;
    SecretMask mask; ///< the secrets in request.input: hidden in whatever the attempt reports
};

/// A due time in a min-heap, with what it refers to.
struct Due {
    qint64 at = 0;
    QString runId;
    int step = 0;
    quint32 stamp = 0;
    int item = -1; ///< foreach item position, -1 for the step itself
    bool operator>(const Due &other) const { return at > other.at; }
};

using DueHeap = std::priority_queue<Due, std::vector<Due>, std::greater<Due>>;

} // namespace keepflow
