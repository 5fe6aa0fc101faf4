#pragma once

// The coordinator: owns the state of the runs it executes, decides what runs next, and persists
// every transition before acting on it.
//
// Durability rules: every state change is committed with its event in one
// transaction; an attempt's start (with its idempotency key) is committed before its action runs;
// its outcome is committed together with the downstream steps it makes ready. Transitions that are
// ready at the same moment share one transaction (group commit).
//
// Threading: one thread, the one that owns the Store. Signals are emitted only after the
// transaction they announce has committed. If a commit fails the engine stops (stopped() is
// true, fatalError is emitted) and executes nothing more: the database holds the last good state.

#include "core/clock.h"
#include "core/records.h"
#include "core/states.h"
#include "core/status.h"
#include "model/flow.h"
#include "model/secrets.h"
#include "operator/operatoraction.h"
#include "steps/stepkind.h"

#include <QJsonObject>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

class QTimer;

namespace keepflow {

struct FlowLoad;

class Store;

class Engine : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString workerId; ///< unique per process; owner of the leases this engine takes
        QString actor;    ///< recorded on the events the engine writes (e.g. "engine")
        /// How long a claim holds a run without renewal (renewed every third of it).
        qint64 leaseMs = 30'000;
        /// Runs taken at once by one claim; at most maxLoadedRuns are executed at a time.
        int claimBatch = 32;
        int maxLoadedRuns = 1000;
        /// A run taken over from a stopped worker more often than this (since an operator last
        /// unpaused it) is paused with the reason, for an operator to look at.
        int adoptionLimit = 3;
        /// Decides whether another worker holding a lease is gone (same host, dead pid).
        std::function<bool(const QString &owner)> ownerIsDead;
        /// Where {{secrets.NAME}} is looked up when an attempt starts; unset:
        /// SecretChain::standard() (environment, then the secrets file).
        std::shared_ptr<const SecretChain> secrets;
    };

    Engine(Store &store, const Clock &clock, StepKindRegistry actions, Options options,
           QObject *parent = nullptr);
    ~Engine() override;

    /// Stores the flow version and creates a run with params (defaults applied). When execute is
    /// true this engine claims and loads it; otherwise it waits for a worker. A flow that breaks
    /// a rule of validateFlow is refused with its problems, and nothing is stored.
    Result<QString> createRun(const Flow &flow, const QString &sourcePath,
                              const QJsonObject &params, bool execute);
    /// Stores the flow version (the same text reuses its version) and returns its id, for
    /// starting many runs of one flow without storing it each time. flow is checked as above.
    Result<qint64> registerFlow(const Flow &flow, const QString &sourcePath);
    /// createRun() of a flow parseFlow or loadFlowFile accepted (load.ok()): it was checked while
    /// it was read, with positions for its author, and is not checked again.
    Result<QString> createRun(const FlowLoad &load, const QString &sourcePath,
                              const QJsonObject &params, bool execute);
    Result<QString> createRun(qint64 flowVersionId, const QJsonObject &params, bool execute);
    /// Claims and loads an unfinished run. Attempts that started and never finished are recorded
    /// as crashed: retried when the step is idempotent or keyed, uncertain otherwise.
    /// Returns false when another live worker holds it.
    Result<bool> adopt(const QString &runId);
    /// adopt() for every unfinished run that no live worker holds. Returns how many were taken.
    Result<int> adoptAvailable();

    /// Does everything that is due now: completions, timeouts, timers, newly ready steps; one
    /// commit per round. Returns an error (and stops) when the store fails.
    Status pump();
    /// Applies an operator action to its run in one transaction with its event, or refuses it
    /// with a message saying why, changing nothing. A finished run that gets an action runs
    /// again (its next engine continues it). Returns what was done, for the operator.
    Result<ActionOutcome> act(const OperatorAction &action);
    /// Applies many actions with few commits (an operator's bulk action over a filter): the
    /// runs not loaded are claimed together in one transaction, each action is applied or
    /// refused on its own as act() would, and all of them share one commit. A run that a live
    /// worker holds gets a request (as act() leaves one). When this engine does not drive its
    /// runs, it gives them back in the same commit. One outcome per action, in order; an error
    /// only when the store fails (then nothing of the batch is committed).
    Result<QList<Result<ActionOutcome>>> actOnMany(const QList<OperatorAction> &actions);
    /// Applies the actions operators left for runs this engine executes (driving does this every
    /// poll). Each answer is committed with the change it made.
    Status answerRequests();
    /// Takes in what operators changed in the resources table now (a live limit set in this
    /// process) instead of at the next poll; waiting calls a raised limit admits start.
    Status syncResourcesNow();

    /// Reads the resources table and takes in what operators changed (pause, unpause, breaker
    /// reset). Driving does this every poll; tests call it directly.
    Status syncResources();
    /// The earliest time something is due (timer, timeout, action callback), if any.
    std::optional<qint64> nextDueAt() const;
    bool hasPendingCompletions() const;

    /// Drive the engine from the Qt event loop with the real clock: pumps when work completes
    /// and when timers fall due, renews leases. pollMs also bounds the sleep (worker polling).
    void startDriving(int pollMs = 500);
    /// Stop starting attempts (graceful shutdown); running ones finish and are recorded.
    void drain();
    /// Kills running attempts (they are recorded as crashed on the next start) and releases leases.
    Status shutdown();

    bool stopped() const;
    int runningAttemptCount() const;
    std::optional<RunState> runState(const QString &runId) const;
    QStringList loadedRunIds() const;

Q_SIGNALS:
    /// Events up to events.last().id are committed.
    void eventsCommitted(const QList<keepflow::EventRow> &events);
    /// The run reached a final state or waits for an operator (or is paused).
    void runSettled(const QString &runId, keepflow::RunState state);
    void fatalError(const QString &message);
    /// Another worker took the run (this one's lease lapsed): it is dropped from memory, its
    /// running attempts are stopped, and nothing more of it is written by this engine.
    void runLost(const QString &runId);
    /// PostgreSQL: another process committed work for workers (a new run, a released lease, an
    /// operator's request). Whoever drives adoption adopts now instead of at its next poll.
    void workArrived();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

/// "host:pid:random", unique for this process.
QString makeWorkerId();
/// True when owner names a process on this host that no longer exists.
bool isLocalOwnerDead(const QString &owner);
/// The OS user, for events.
QString currentUserName();

} // namespace keepflow
