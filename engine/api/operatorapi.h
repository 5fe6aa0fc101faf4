#pragma once

// The operator's requests over one database, the one implementation every front end uses
// (keepflowctl, the desktop Monitor): the operator actions with their hand-over to the live worker
// that executes a run, and the queries the front ends show. Front ends never open the store.
//
// Acting (act()): when no live worker holds the run, the action is applied through an Engine on
// this database (the executor set with setExecutor(), else a short-lived one that gives its lease
// back at once). When another live worker holds it, the action is left as a request row for that
// worker (Engine::answerRequests() applies it, single writer per run), and then
//   - HandOver::Leave returns at once with requestId and worker; request() reports the answer
//     later (the desktop polls it);
//   - HandOver::Wait polls for the answer: "done" returns the worker's message with
//     " (applied by WORKER)", "refused" is an error with the worker's reason. When the holder lets
//     go of the run (another owner or none), its lease expires, or Options::ownerIsDead says it
//     died, the request is withdrawn and the action applied directly (at most
//     Options::handOvers times). A worker that does not answer within Options::answerTimeoutMs
//     (on the clock) is an error saying it applies it when it does.
//
// Ownership: an OperatorApi owns its Store (open() opens it; the constructor takes it). Engines
// and change feeds on the same database come from createEngine() and createChangeFeed(); they use
// the API's store and clock and must be destroyed before the API. The executor (setExecutor()) is
// not owned. Options::clock, when given, must outlive the API.
//
// Threading: the thread that opened it (the Store's thread); the engines and feeds it creates
// live there too. act() with HandOver::Wait blocks that thread while it waits for another
// process's answer (between polls it calls Options::whileWaiting, by default a 50 ms sleep).
//
// Failure: every call returns its error as a value. A refused action is an error with the
// reason and changes nothing. A failed query changes nothing.

#include "api/alerts.h"
#include "api/databasecheck.h"
#include "api/rootcause.h"
#include "api/triage.h"
#include "core/clock.h"
#include "core/records.h"
#include "core/runquery.h"
#include "core/status.h"
#include "core/stepsample.h"
#include "core/storeoptions.h"
#include "operator/operatoraction.h"
#include "operator/policychange.h"
#include "operator/upgradeplan.h"
#include "runtime/engine.h"

#include <QHash>
#include <QMap>
#include <QPair>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

class QObject;

namespace keepflow {

class ChangeFeed;
class Store;

/// What `status RUN` shows: the run, its steps and the items of its foreach steps.
struct RunStatus {
    RunRow run;
    QList<StepRunRow> steps;
    QList<ItemRow> items;
    /// Step id -> its retry policy's max_attempts (empty if the stored flow cannot be read).
    QHash<QString, int> maxAttempts;
    /// The steps the rest wait on, and what each waiting step waits on (without the stored flow:
    /// the roots only).
    RootCauses rootCauses;
};

/// What an upgrade of a run to a new version of its flow would do, and what applying it did.
struct UpgradeOutcome {
    UpgradePlan plan;
    QString flowName;
    int fromVersion = 0; ///< the version the run follows (before)
    int toVersion = 0;   ///< the stored new version; 0 until it is stored (dry runs, refusals)
    bool applied = false;
    ActionOutcome action; ///< applied: what the engine or the run's live worker answered
};

class OperatorApi {
public:
    /// After act() leaves an action for the live worker that executes the run.
    enum class HandOver {
        Wait,  ///< wait for its answer (keepflowctl)
        Leave, ///< return at once with the request id; request() has the answer later (desktop)
    };

    struct Options {
        StoreOptions store;
        const Clock *clock = nullptr; ///< the system clock when null (tests pass a ManualClock)
        /// Whether a worker holding a run is gone (its requests are taken back). Null: the
        /// process is on this host and no longer exists (isLocalOwnerDead). Also what engines
        /// from createEngine() and the short-lived ones use unless their options say otherwise.
        std::function<bool(const QString &owner)> ownerIsDead;
        /// HandOver::Wait: how long (on the clock) a live worker may take to answer.
        qint64 answerTimeoutMs = 10'000;
        /// HandOver::Wait: how many times an action follows the run to a new holder.
        int handOvers = 3;
        /// HandOver::Wait: called between two polls for an answer. Null: sleeps 50 ms (the
        /// answer comes from another process). Tests let the other worker answer here.
        std::function<void()> whileWaiting;
    };

    /// Opens (creating when missing) and migrates the database at path.
    static Result<std::unique_ptr<OperatorApi>> open(const QString &path, const Options &options);
    static Result<std::unique_ptr<OperatorApi>> open(const QString &path) { return open(path, {}); }
    OperatorApi(std::unique_ptr<Store> store, Options options);
    ~OperatorApi();
    OperatorApi(const OperatorApi &) = delete;
    OperatorApi &operator=(const OperatorApi &) = delete;

    const QString &databasePath() const;
    const Clock &clock() const;
    /// Opened for reading only (Options::store): actions and engines are refused with the reason.
    bool isReadOnly() const;
    const QString &readOnlyReason() const;
    /// What the user should know about the database file, said once (its mode, for one).
    const QStringList &warnings() const;

    /// Checks the database (see databasecheck.h). The invariants: no step or item succeeded
    /// twice in one generation; replaying a run's events gives the step states its table holds;
    /// a running run's lease is whole (an owner with a lease time, or neither: a run no worker
    /// holds, as an interrupted or detached one is). Failed reads are problems too; nothing is
    /// changed.
    DatabaseCheck check(DatabaseCheck::Depth depth);

    // Executing runs on this database.
    /// An engine on this database with the built-in step kinds (keepflowctl run, resume, worker;
    /// the monitor's in-process worker). It must be destroyed before this API.
    std::unique_ptr<Engine> createEngine(Engine::Options options = {}, QObject *parent = nullptr);
    /// act() applies actions through engine (which the caller drives) instead of a short-lived
    /// one; null goes back to short-lived ones. Not owned.
    void setExecutor(Engine *engine);
    /// The change feed of this database (what any process commits). Destroy before this API.
    ChangeFeed *createChangeFeed(int pageSize = 500, QObject *parent = nullptr);

    // Operator requests.
    /// Applies the action, refuses it with the reason (nothing changes), or hands it over to the
    /// live worker that executes the run (see the top of this file).
    Result<ActionOutcome> act(const OperatorAction &action, HandOver policy);
    /// What moving runId to the flow `to` (read and checked as run and submit do) would do: the
    /// plan of operator/upgradeplan.h from the run's rows, with a refusal when the run follows
    /// that very text already. Nothing is changed.
    Result<UpgradeOutcome> planUpgrade(const QString &runId, const Flow &to);
    /// planUpgrade(), then, when nothing refuses it, stores `to` as a new version of the flow
    /// and applies operator action `upgrade` (one transaction with its event, by actor and with
    /// reason; handed over to the run's live worker like any action, per policy). A refused
    /// plan is no error: the outcome says applied false with the refusals. The engine plans again
    /// from the run as it stands when it applies it, and refuses (an error) when that differs.
    Result<UpgradeOutcome> upgrade(const QString &runId, const Flow &to, const QString &sourcePath,
                                   const QString &reason, const QString &actor, HandOver policy);
    /// A request left by act(): state "pending", "done", "refused" or "withdrawn", and result.
    Result<RequestRow> request(qint64 requestId);
    /// Pause or unpause (paused set), or reset the breaker, of a resource, with its event by
    /// actor (the OS user when empty). An unknown resource is an error naming it.
    Status changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker,
                          const QString &actor = {});

    // Live policy changes (set-policy is an action: act() applies it).
    /// What set-policy with change (flow file keys: max_attempts, initial_interval, ...) would
    /// do to the step as it stands now; refused as act() would refuse it (a wrong value names
    /// its field). Nothing is changed.
    Result<PolicyPreview> previewPolicy(const QString &runId, const QString &stepId,
                                        const QJsonObject &change);
    /// A resource's limits set live (concurrency >= 1, rate "N/DURATION"; unset and empty keep
    /// the current ones) for every run and every worker on this database, with its event
    /// (resource_limits_changed: before, after, actor, reason) in one transaction. Workers take
    /// it in within their resource poll (half a second). Returns what changed in words.
    Result<QString> setResourceLimits(const QString &name, std::optional<int> concurrency,
                                      const QString &rate, const QString &reason,
                                      const QString &actor = {});
    /// What setResourceLimits() would change, in words ("concurrency 8 instead of 2"); the same
    /// checks, nothing changed.
    Result<QString> previewResourceLimits(const QString &name, std::optional<int> concurrency,
                                          const QString &rate);

    // Triage across runs.
    /// Failed, uncertain and partially succeeded steps of the runs the query selects, grouped by
    /// flow, step, error class and signature (see triage.h).
    Result<QList<FailureGroup>> failureGroups(const RunQuery &query);
    /// Which runs and steps the bulk request would act on, and for each run whether the action
    /// applies or why not; nothing is changed.
    Result<BulkReport> planBulk(const BulkRequest &request);
    /// Applies the bulk request: the runs a chunk at a time, each chunk's actions in one commit
    /// (see Engine::actOnMany), with the outcome per run. progress(done, total) is called after
    /// each chunk; returning false stops there (the report says cancelled).
    Result<BulkReport> applyBulk(const BulkRequest &request,
                                 const std::function<bool(int done, int total)> &progress = {});

    // Alerts (see alerts.h).
    Result<QList<AlertRuleRow>> alertRules();
    /// Stores the rule, recorded as created by actor (the OS user when empty); returns it with
    /// its id. The first rule of a database starts watching from what is committed next.
    Result<AlertRuleRow> addAlertRule(AlertRuleRow rule, const QString &actor = {});
    Status removeAlertRule(qint64 id);
    /// A watcher of this database's alert rules (a worker's, the desktop's). Destroy before
    /// this API.
    AlertWatcher *createAlertWatcher(QObject *parent = nullptr);

    // Queries.
    Result<RunRow> run(const QString &runId);
    /// The runs the query selects, newest first, whole.
    Result<QList<RunRow>> runs(const RunQuery &query = {});
    /// The same runs with only what a listing shows (keepflowctl list; see Store::runList).
    Result<QList<RunListRow>> runList(const RunQuery &query = {});
    /// The runs list one page at a time (the desktop).
    Result<QList<RunSummary>> runSummaries(const RunQuery &query);
    Result<int> countRuns(const RunQuery &query);
    /// Runs per state for the query without its state filter (see Store::countRunsByState).
    Result<QMap<RunState, int>> countRunsByState(const RunQuery &query);
    Result<QStringList> flowNames();
    Result<FlowVersionRow> flowVersion(qint64 id);
    /// The last good run to compare runId with: the newest succeeded run of the same flow
    /// created before it, never runId itself; nullopt when there is none. An unknown run is an
    /// error naming it.
    Result<std::optional<RunRow>> lastSucceededRunBefore(const QString &runId);
    /// The steps of the flow's runs created in [from, to) (0: open), for step statistics
    /// (api/stepstats.h).
    Result<QList<StepSample>> stepSamples(const QString &flowName, qint64 from, qint64 to);
    /// The same steps reduced in the database (see Store::stepSampleSpan and reduceStepSamples):
    /// what stepStats() reads.
    Result<std::optional<std::pair<qint64, qint64>>> stepSampleSpan(const QString &flowName,
                                                                    qint64 from, qint64 to);
    Result<StepSampleReduction> reduceStepSamples(const QString &flowName, qint64 from, qint64 to,
                                                  qint64 bucketMs,
                                                  const QList<StepOutcome> &finished);
    /// See Store::latestStepDurations (what "slow" is judged against).
    Result<QList<qint64>> latestStepDurations(const QString &flowName, const QString &stepId,
                                              int limit, const QList<StepOutcome> &finished);
    /// The run, its steps and items, read in that order. flowOfRun: the flow of the run's
    /// version when the caller holds it parsed (keepflowctl run, which started it), so that it
    /// is not read and parsed again; otherwise it is read from the database.
    Result<RunStatus> status(const QString &runId, const Flow *flowOfRun = nullptr);
    Result<QList<StepRunRow>> stepRuns(const QString &runId);
    Result<QList<AttemptRow>> attempts(const QString &runId);
    /// The attempts of one step and of its items, oldest first, with what each printed.
    Result<QList<AttemptRow>> attemptOutputs(const QString &runId, const QString &stepId);
    Result<QList<ItemRow>> items(const QString &runId);
    /// The run's events after afterId, oldest first.
    Result<QList<EventRow>> events(const QString &runId, qint64 afterId = 0);
    /// Every resource, by name.
    Result<QList<ResourceRow>> resources();
    /// Workers sharing the database, with their heartbeats and the runs they hold.
    Result<QList<WorkerRow>> workers();
    /// PostgreSQL (else a SQLite file).
    bool isPostgres() const;
    /// PostgreSQL: an error saying why when the connection is gone (see Store::checkConnection);
    /// ok while it answers, and always on SQLite.
    Status checkConnection();
    /// (queued, in flight) per resource name.
    Result<QHash<QString, QPair<int, int>>> resourceLoad();

    /// A run of a bulk action as planned: its report and the actions applying it takes.
    struct PlannedBulkRun {
        BulkRunOutcome report;
        QList<OperatorAction> actions; ///< one per step the action applies to
    };

private:
    Result<QList<PlannedBulkRun>> planBulkRuns(const BulkRequest &request);
    /// Who an action is recorded as: on PostgreSQL the role the server authenticated (claiming
    /// another name is refused), else the name given or the OS user.
    Result<QString> recordedActor(const QString &claimed) const;
    Result<ActionOutcome> actOnce(const OperatorAction &action);
    bool holderLetGo(const RunRow &holder, const QString &worker) const;

    std::unique_ptr<Store> m_store;
    std::unique_ptr<SystemClock> m_ownClock;
    const Clock *m_clock = nullptr;
    Options m_options;
    Engine *m_executor = nullptr;
};

} // namespace keepflow
