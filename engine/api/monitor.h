#pragma once

// The engine's face for a desktop monitor: one database, an in-process engine
// that executes every run no live worker holds (runs started elsewhere too), the change feed that
// announces what any process committed, id-keyed queries, and the operator actions. The UI is
// built on this class and never touches the store or SQL itself. Queries and actions go through
// the database's OperatorApi (as keepflowctl's do); actions left for another live worker are
// answered through actionAnswered().
//
// Threading: the GUI thread (the thread that opened it). Signals are past-tense and follow the
// commit they announce. Failure: queries return errors as values; a failed engine commit stops
// execution (failed() is emitted) while the queries keep working on the last good state.
//
// A lost connection (PostgreSQL; a SQLite file never disconnects): when a query, an action, the
// change feed or the engine fails and the connection no longer answers (the rule lives in
// failureLostTheConnection()), the monitor says connectionLost() with the reason, refuses every
// query and action with notConnectedMessage() meanwhile, and reconnects by itself: at once, then
// every Options::reconnectIntervalMs (each failed try is reconnectFailed() with the database's own
// words). Reconnected, it has a new connection with its LISTEN wake-ups, a new engine when it
// executes (its former engine's runs are taken over at once, not after their leases lapse), and
// a change feed that goes on where the old one stopped, so nothing committed meanwhile is missed;
// then connectionRestored(). Callers keep everything they hold: only the connection is new.

#include "api/operatorapi.h"
#include "api/rundiff.h"
#include "api/stepstats.h"
#include "core/clock.h"
#include "core/records.h"
#include "core/runquery.h"
#include "core/status.h"
#include "core/storeoptions.h"
#include "model/flow.h"
#include "model/secrets.h"
#include "runtime/engine.h"

#include <QHash>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

class QTimer;

namespace keepflow {

class AlertWatcher;
class ChangeFeed;

class Monitor : public QObject {
    Q_OBJECT
public:
    struct Options {
        bool execute = true;            ///< run an engine in-process as a worker for the database
        const Clock *clock = nullptr;   ///< the system clock when null (tests pass a ManualClock)
        int feedIntervalMs = 250;       ///< change feed polling: other processes' commits
        int adoptIntervalMs = 500;      ///< looking for runs no live worker holds
        int reconnectIntervalMs = 1000; ///< between two tries after the connection was lost
        StoreOptions store;
        /// Where the in-process engine looks up {{secrets.NAME}}; unset: the engine's default.
        std::shared_ptr<const SecretChain> secrets;
    };

    /// Opens (creating when missing) the database at path. Nothing runs until start().
    static Result<std::unique_ptr<Monitor>> open(const QString &path, const Options &options);
    static Result<std::unique_ptr<Monitor>> open(const QString &path) { return open(path, {}); }
    ~Monitor() override;

    /// Starts following the change feed and, with execute, executing runs.
    void start();
    /// One round now (tests, no timers): adopt available runs, pump the engine, answer requests,
    /// then poll the change feed. Returns how many events the feed announced.
    Result<int> pollNow();
    /// Stops the engine: running attempts are recorded as crashed on the next start.
    Status shutdown();

    const QString &databasePath() const;
    qint64 now() const;
    bool executing() const;
    /// Opened for reading only (Options::store): a monitor that executes nothing and refuses
    /// every action with readOnlyReason().
    bool isReadOnly() const;
    const QString &readOnlyReason() const;
    /// What the user should know about the database file (its mode, for one).
    const QStringList &warnings() const;
    /// Opens another connection to the same database (path and options as this monitor's), for
    /// reading only: a thread that reads on its own calls it there, since a Qt SQL connection
    /// belongs to the thread that opened it. Safe to call from any thread; the monitor may be
    /// gone by then.
    using ReaderOpener = std::function<Result<std::unique_ptr<OperatorApi>>()>;
    ReaderOpener readerOpener() const;
    /// Checks the database (the desktop runs the quick form when it opens one).
    DatabaseCheck check(DatabaseCheck::Depth depth);

    /// False from connectionLost() until connectionRestored(): queries and actions are refused
    /// with notConnectedMessage() meanwhile. Always true on SQLite.
    bool isConnected() const;
    /// Why the connection was lost, or why the last try to reconnect failed; empty while connected.
    const QString &connectionProblem() const;
    /// What a query or an action is refused with while the connection is lost.
    static QString notConnectedMessage();

    // Queries (id-keyed).
    Result<QList<RunSummary>> runSummaries(const RunQuery &query);
    Result<int> countRuns(const RunQuery &query);
    /// Runs per state for the query without its state filter.
    Result<QMap<RunState, int>> countRunsByState(const RunQuery &query);
    Result<QStringList> flowNames();
    Result<RunRow> run(const QString &runId);
    /// The flow version the run executes (parsed once per version).
    Result<Flow> flowOfRun(const QString &runId);
    Result<QList<StepRunRow>> stepRuns(const QString &runId);
    Result<QList<AttemptRow>> attempts(const QString &runId);
    /// The attempts of one step and of its items, oldest first, with what each printed.
    Result<QList<AttemptRow>> attemptOutputs(const QString &runId, const QString &stepId);
    Result<QList<ItemRow>> items(const QString &runId);
    Result<QList<EventRow>> events(const QString &runId, qint64 afterId = 0);
    Result<QList<ResourceRow>> resources();
    /// Worker processes sharing the database, with their heartbeats and the runs they hold.
    Result<QList<WorkerRow>> workers();
    /// (queued, in flight) per resource name.
    Result<QHash<QString, QPair<int, int>>> resourceLoad();
    /// What differs between the run and otherId, by default the last succeeded run of its flow
    /// before it (see api/rundiff.h).
    Result<RunDiff> diffRuns(const QString &runId, const QString &otherId = {});
    /// Per step of the flow, across its runs created in the window: durations, attempts,
    /// retries and failure rate over time (see api/stepstats.h).
    Result<FlowStepStats> stepStats(const QString &flowName, StepStatsWindow window = {});

    // Operator requests.
    /// Stores the flow and starts a run of it with params (defaults applied).
    Result<QString> startRun(const Flow &flow, const QString &sourcePath,
                             const QJsonObject &params);
    /// The steps the action would run again (a preview; nothing changes).
    Result<QStringList> stepsRunAgainBy(const OperatorAction &action);
    /// Applies the action (one transaction with its event, actor = the OS user unless set) or
    /// refuses it with the reason. When another live worker executes the run the action is left
    /// for it (requestId set) and actionAnswered() reports its answer later.
    Result<ActionOutcome> act(const OperatorAction &action);
    /// What moving the run to flow `to` would keep, replace, add and remove, and what refuses
    /// it (see OperatorApi::planUpgrade); nothing changes.
    Result<UpgradeOutcome> planUpgrade(const QString &runId, const Flow &to);
    /// Applies that upgrade as one operator action (see OperatorApi::upgrade); a run another
    /// live worker executes gets a request, answered through actionAnswered().
    Result<UpgradeOutcome> upgrade(const QString &runId, const Flow &to, const QString &sourcePath,
                                   const QString &reason);
    /// Pause or unpause (paused set), or reset the breaker, of a resource; with its event.
    Status changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker);
    /// What set-policy with change would do to the step now (OperatorApi::previewPolicy).
    Result<PolicyPreview> previewPolicy(const QString &runId, const QString &stepId,
                                        const QJsonObject &change);
    /// A resource's limits live, and their preview (OperatorApi::setResourceLimits).
    Result<QString> setResourceLimits(const QString &name, std::optional<int> concurrency,
                                      const QString &rate, const QString &reason);
    Result<QString> previewResourceLimits(const QString &name, std::optional<int> concurrency,
                                          const QString &rate);

    // Triage across runs (see OperatorApi): failure groups, and bulk actions over a filter, a
    // dry run first. applyBulk() acts through this monitor's engine when it executes;
    // progress(done, total) after each commit, false stops there.
    Result<QList<FailureGroup>> failureGroups(const RunQuery &query);
    Result<BulkReport> planBulk(const BulkRequest &request);
    Result<BulkReport> applyBulk(const BulkRequest &request,
                                 const std::function<bool(int done, int total)> &progress = {});

Q_SIGNALS:
    /// New events, oldest first, from any process.
    void eventsArrived(const QList<keepflow::EventRow> &events);
    /// Runs whose state, steps or items changed (each id once per poll).
    void runsChanged(const QStringList &runIds);
    void resourcesChanged(const QStringList &names);
    /// A run started waiting for an operator (approval, uncertain outcome).
    void runNeedsOperator(const QString &runId, const QString &flowName, const QString &why);
    /// The worker that executes the run answered a request left by act().
    void actionAnswered(qint64 requestId, bool applied, const QString &message);
    void failed(const QString &message);
    /// The connection to the database was lost (reason: the database's or its client's words);
    /// the monitor reconnects by itself.
    void connectionLost(const QString &reason);
    /// A try to reconnect failed (reason: why); the next follows in Options::reconnectIntervalMs.
    void reconnectFailed(const QString &reason);
    /// Connected again: queries and actions work, the feed follows and the engine executes again.
    void connectionRestored();

private:
    Monitor(const QString &path, std::unique_ptr<OperatorApi> api, const Options &options);
    OperatorApi::Options apiOptions() const;
    /// Creates the change feed and, with Options::execute, the engine on m_api's connection.
    void attach();
    /// Starts the feed and the engine of the current connection (after start()).
    void drive();
    /// Stops and drops the engine and the feed of a lost connection (the feed's place is kept).
    void detach();
    /// The rule, asked after anything failed: on PostgreSQL the failure lost the connection
    /// when the connection no longer answers either (OperatorApi::checkConnection()). Then the
    /// monitor is disconnected (connectionLost()) and starts reconnecting; returns true. Always
    /// true while disconnected; false on SQLite.
    bool failureLostTheConnection();
    void reconnect();
    /// Runs call on the connection: refused while disconnected; a failure that lost the
    /// connection is refused the same way.
    template <typename R, typename Call> R onConnection(Call &&call);
    /// A failure of the feed or the engine: a lost connection, else failed().
    void onFailure(const QString &message);
    void onEvents(const QList<EventRow> &events);
    void adoptAvailable();
    void checkRequests();

    QString m_path; ///< as given to open(): what reconnecting opens again
    std::unique_ptr<OperatorApi> m_api;
    std::unique_ptr<Engine> m_engine; ///< on m_api's database; destroyed before it
    ChangeFeed *m_feed = nullptr;
    AlertWatcher *m_alerts = nullptr; ///< while executing: fires the database's alert rules
    FeedPosition m_feedPosition;      ///< where the feed of a lost connection stopped
    qint64 m_feedLastId = 0;
    QTimer *m_adoptTimer = nullptr;
    QTimer *m_requestTimer = nullptr;
    QTimer *m_reconnectTimer = nullptr;
    Options m_options;
    bool m_started = false;
    bool m_connected = true;
    QString m_connectionProblem;
    QString m_workerId;          ///< the engine's
    QStringList m_formerWorkers; ///< this monitor's engines of lost connections: gone for good
    QHash<qint64, Flow> m_flows; ///< by flow version id
    QHash<QString, qint64> m_flowIdOfRun; ///< run id -> its flow version id
    QHash<qint64, QString> m_requests;    ///< requests left for other workers: id -> run
};

} // namespace keepflow
