#pragma once

// The engine's inside, private to engine/runtime. Its parts, each in its own file:
//   engine.cpp           the loop: pump rounds, commit, drive timers; the public Engine methods
//   progress.cpp         a step's way through its states: join, ready, fail, finalize, run state
//   attempts.cpp         the attempt target (a step or an item): start, complete, expire, launch
//   foreach.cpp          foreach steps: expand the list, schedule items, finish, reopen items
//   subflows.cpp         subflow steps and their child runs
//   operatoractions.cpp  applying an operator action's plan (operator/actionplan.h decides it)
//   recovery.cpp         loading runs: rebuild live state, recover cut-off attempts, adopt
// and its collaborators: RunLedger (every write), ResourceGate (every resource decision), Plan.

#include "model/template.h"
#include "operator/actionplan.h"
#include "runtime/engine.h"
#include "runtime/liverun.h"
#include "runtime/plan.h"
#include "runtime/resourcegate.h"
#include "runtime/runledger.h"

#include <QHash>
#include <QLoggingCategory>
#include <QSet>

#include <map>
#include <memory>
#include <queue>
#include <vector>

class QTimer;

namespace keepflow {

Q_DECLARE_LOGGING_CATEGORY(lcEngine)

struct Engine::Impl final : StepContext {
    Impl(Engine *engine, Store &store, const Clock &clock, StepKindRegistry kinds, Options options);
    ~Impl() override;

    Engine *q = nullptr;
    Store &store;
    const Clock &clockRef;
    StepKindRegistry kinds;
    Options options;
    RunLedger ledger;
    ResourceGate resources;

    QHash<qint64, std::shared_ptr<Plan>> plans;
    std::map<QString, std::unique_ptr<LiveRun>> runs;
    std::vector<Completion> completions;
    std::vector<Launch> launches; ///< attempts of this round, started once it committed
    std::vector<std::unique_ptr<Execution>> retired;
    DueHeap attemptTimeouts;
    std::map<quint64, std::pair<qint64, std::function<void()>>> calls;
    std::priority_queue<std::pair<qint64, quint64>, std::vector<std::pair<qint64, quint64>>,
                        std::greater<>>
        callHeap;
    quint64 nextCallId = 1;
    std::vector<std::pair<QString, int>> subflowChecks; ///< (run, step) to look at after a load

    bool inPump = false;
    bool stopped = false;
    bool draining = false;
    QString fatal;
    QTimer *driveTimer = nullptr;
    QTimer *leaseTimer = nullptr;
    int pollMs = 500;
    qint64 startedAt = clockRef.nowMs(); ///< when this worker started (its heartbeat row)

    // StepContext
    const Clock &clock() const override { return clockRef; }
    quint64 callAt(qint64 atMs, std::function<void()> callback) override;
    void cancelCall(quint64 id) override;

    // ---- engine.cpp: the loop --------------------------------------------------------------
    Status pump();
    Status commit();
    void stop(const QString &message);
    void schedulePump();
    void rearm();
    std::optional<qint64> nextDueAt() const;
    void fireDueCalls(qint64 now);
    void popDueTimers(qint64 now);
    void unload(const QString &runId);
    /// Another worker holds the run now: forget it without writing anything of it.
    void dropLostRun(const QString &runId);
    /// Extends this worker's leases; drops the runs it no longer holds.
    void renewLeases();
    LiveRun *findRun(const QString &id);
    Result<std::shared_ptr<Plan>> planFor(qint64 flowId);
    /// Whether a flow handed to the engine was validated when it was read from its file.
    enum class FlowChecked { No, WhenRead };
    /// Stores the flow's version (checking it first unless checked) and plans it.
    Result<qint64> registerFlow(const Flow &flow, const QString &sourcePath, FlowChecked checked);
    /// A new run of plan with params checked against the flow and defaults applied; its rows
    /// and its run_created event go into the ledger.
    Result<std::unique_ptr<LiveRun>> newRun(const std::shared_ptr<Plan> &plan,
                                            const QJsonObject &params, const QString &id,
                                            const std::pair<QString, QString> &parent,
                                            bool execute);
    Status ensureResourcesLoaded();
    Status syncResources();

    // ---- progress.cpp: a step's way through its states -------------------------------------
    enum class JoinDecision { Wait, Ready, Blocked };
    JoinDecision evaluateJoin(const LiveRun &run, int i, QString &blockedBy) const;
    /// Whether a pending step (not a fallback, which starts only with its primary's failure)
    /// has its upstream settled so that it may start.
    bool hasStepReadyToStart(const LiveRun &run) const;
    void advance(LiveRun &run, qint64 now);
    void makeReady(LiveRun &run, int i, qint64 now);
    void failForGood(LiveRun &run, int i, qint64 now);
    void finalized(LiveRun &run, int i, qint64 now);
    void skipUnneededFallback(LiveRun &run, int primary, qint64 now);
    void updateRunState(LiveRun &run, qint64 now);
    void settleStalled(LiveRun &run, qint64 now);
    void awaitApproval(LiveRun &run, int i, qint64 now);
    /// The step's input as the operator last set it, else as the flow says.
    QJsonObject withOf(const LiveRun &run, int i) const;
    TemplateScope scopeFor(const LiveRun &run, int i, const QString &key) const;

    // ---- attempts.cpp: the attempt target --------------------------------------------------
    /// Starts the target now if its resource lets it, otherwise queues it in order. Returns
    /// false when it waits (the resource takes no call now).
    bool tryStart(const AttemptTarget &target, qint64 now);
    /// A step's checks before an attempt (deadline, foreach, approval), then startAttempt().
    void startStep(LiveRun &run, int i, qint64 now);
    void startAttempt(const AttemptTarget &target, qint64 now);
    /// An attempt's result arrived: applied unless stale (the attempt was ended meanwhile).
    void complete(Completion &completion, qint64 now);
    void attemptSucceeded(const AttemptTarget &target, const AttemptResult &result, qint64 now);
    void attemptFailed(const AttemptTarget &target, const AttemptResult &result, qint64 now);
    /// An item's attempt ended: its state, row and event; a final item leaves the live set.
    void settleItem(const AttemptTarget &target, StepEvent event, EventType type,
                    QJsonObject detail, qint64 now);
    void expire(const Due &due);
    void expireAttempts(qint64 now);
    void launch(Launch &launch);
    void releaseSlot(const AttemptTarget &target, std::optional<AttemptResult> result, qint64 now);
    /// Stops the step's running work (and its items'); their completions never arrive.
    void cancelExecutions(LiveStep &step);
    /// Cancels the step's calls (and its items') and gives back the resource slots they held:
    /// their results will never be read (the step is cancelled, or the run leaves memory).
    void abandonExecutions(LiveRun &run, int s, qint64 now);
    ResourceGate::Resource &resourceOf(const LiveRun &run, int i);
    bool stillWaiting(const QueueEntry &entry);

    // ---- foreach.cpp ----------------------------------------------------------------------
    Result<std::pair<QJsonArray, QStringList>> foreachList(const LiveRun &run, int i) const;
    void expandForeach(LiveRun &run, int i, qint64 now);
    void scheduleItems(LiveRun &run, int i, qint64 now);
    void finishForeach(LiveRun &run, int i, qint64 now);
    /// A foreach step goes on with the items that did not succeed (failedToo: failed items
    /// with a fresh budget); uncertainTo decides uncertain items: retried (Reopen), recorded
    /// as happened with output (OperatorSucceeded), or left alone (nullopt).
    Result<int> reopenItems(LiveRun &run, int i, bool failedToo,
                            std::optional<StepEvent> uncertainTo, const QJsonValue &output);
    /// Rebuilds the live state of every running foreach step from its item rows.
    void rebuildForeach(LiveRun &run, const QList<ItemRow> &itemRows);

    // ---- subflows.cpp ---------------------------------------------------------------------
    QString childRunId(const LiveRun &run, int i) const;
    void startSubflow(LiveRun &run, int i, const QJsonObject &input, qint64 now);
    AttemptResult subflowResult(const QString &childId, RunState state,
                                const QJsonObject &outputs) const;
    void notifyParent(const LiveRun &child, RunState state);
    void checkSubflows();

    // ---- operatoractions.cpp --------------------------------------------------------------
    Result<QString> act(const OperatorAction &request, bool executing, qint64 requestId);
    /// What an applied action changed, until it is committed.
    struct AppliedAction {
        QString message;
        RunState stateBefore = RunState::Running;
    };
    /// act() up to its commit: the plan applied to the loaded run, its events and the run's
    /// new state in the ledger; refused (nothing changed) with the reason.
    Result<AppliedAction> applyAction(const OperatorAction &request, qint64 requestId);
    /// act() after its commit: a settled run is announced (executing) or its parent told.
    void settleAfterAction(const QString &runId, RunState stateBefore, bool executing);
    /// Engine::actOnMany(): claims and loads the runs of the actions that are not loaded, in
    /// one transaction and a few reads; the ids it could not take.
    Result<QSet<QString>> claimForActions(const QList<OperatorAction> &actions);
    /// The run as planAction() sees it (with the item counts of stepId when it is a foreach).
    Result<RunSnapshot> snapshotOf(const LiveRun &run, const QString &stepId);
    /// Applies the plan of action to the loaded run, into the ledger.
    Status applyPlan(LiveRun &run, const OperatorAction &action, const ActionPlan &plan,
                     qint64 now);
    /// Puts a finished step back to pending so that it runs again (same generation: same key).
    void resetStep(LiveRun &run, int i, bool freshBudget);
    /// rerun-from: the step starts over with a new generation (new keys).
    void startNewGeneration(LiveRun &run, int i);
    /// A policy change moved the intervals: the step's (and its items') waiting retries are due
    /// by the new ones, counted from the failure they wait after.
    void retimeRetries(LiveRun &run, int i, const StepPolicy &before, const StepPolicy &after,
                       qint64 now);
    /// The run is cancelled: the step's work stops and it ends cancelled.
    void cancelStep(LiveRun &run, int i, const QString &actor, qint64 now);

    // ---- upgrade.cpp ----------------------------------------------------------------------
    /// What an applied upgrade changed: its message and its event's detail.
    struct AppliedUpgrade {
        QString message;
        QJsonObject detail;
    };
    /// Moves the loaded run to flow version action.flowVersion as planUpgrade() decides, into
    /// the ledger (rows of every step, removed ones dropped, the run's new version); refused
    /// with every reason, changing nothing. The caller records the event and the run state.
    Result<AppliedUpgrade> applyUpgrade(LiveRun &run, const OperatorAction &action);
    /// After an upgrade's commit: the run's live state is built again from its rows for the new
    /// version (timers, queues and foreach progress refer to steps by position).
    Status reloadUpgraded(const QString &runId);

    // ---- recovery.cpp ---------------------------------------------------------------------
    /// Claims and loads a run (finished ones too when allowFinal, for operator actions).
    Result<bool> adopt(const QString &runId, bool allowFinal);
    /// This worker's lease request at now (its clock; PostgreSQL uses the server's).
    LeaseRequest leaseRequest(qint64 now) const;
    /// A run taken over too often is paused with the reason, for an operator.
    void pauseIfAdoptedTooOften(LiveRun &run, qint64 now);
    Status load(const RunRow &row, const QList<StepRunRow> &stepRows,
                const QList<AttemptRow> &openAttempts, const QList<ItemRow> &itemRows, qint64 now);
    /// Write-ahead says: an attempt with a start and no outcome was cut off by a crash.
    /// Returns the steps whose cut-off attempt spent their budget: they fail for good once the
    /// run is loaded.
    QList<int> recoverOpenAttempts(LiveRun &run, const QList<AttemptRow> &openAttempts, qint64 now);
    /// Steps a loaded run had in motion go on (a running step with no open attempt is retried).
    void restartSteps(LiveRun &run, qint64 now, const QList<int> &spent);
    /// An attempt cut off by a crash: retried (same key) when idempotent or keyed and attempts
    /// are left, otherwise uncertain until an operator decides. A cut-off counts against the
    /// budget; true when it spent the step's last attempt (an item's fails at once).
    bool recoverCutOffAttempt(const AttemptTarget &target, const AttemptRow &attempt, qint64 now);
    QString cutOffReason(const AttemptTarget &target, const AttemptRow &attempt, int failures,
                         int budget);
};

} // namespace keepflow
