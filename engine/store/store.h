#pragma once

// The only place with SQL. One schema with versioned migrations, portable through Qt SQL:
// SQLite (a file path: the embedded default) and PostgreSQL (a postgresql:// URL, QPSQL driver)
// differ only at small dialect seams (storedialect.h) and in their batch writers.
//
// Several workers may share one database. A worker holds a run by its lease: owner, lease_until
// and lease_epoch, which every claim bumps. Lease times are the database's clock (PostgreSQL's
// server clock; for SQLite, whose database lives on this host, the caller's clock). Every commit
// that writes rows of held runs names them with their epochs (Batch::fencedRuns) and is refused
// for the runs another worker took meanwhile, in the same transaction as its writes.
//
// Threading: a Store is used from the thread that opened it (it owns one connection).
// Failure: every write is one transaction; on failure nothing is changed. After a failed commit
// the store refuses further writes (isBroken()) until reopened, so memory and disk never diverge.

#include "core/records.h"
#include "core/runquery.h"
#include "core/status.h"
#include "core/stepsample.h"
#include "core/storeoptions.h"
#include "store/batch.h"

#include <QHash>
#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace keepflow {

class Store {
public:
    /// Opens (creating with mode 0600 when missing) and migrates the database at path; with
    /// options.readOnly (or readOnlyWhenNotWritable and a file or folder that is not writable)
    /// opens it for reading only. A corrupt, unreadable, damaged (its meta table), newer or, for
    /// writing, read-only database is an error naming the file. New -wal and -shm files are made
    /// owner-only; a database file others can read is left as it is and named in warnings().
    static Result<std::unique_ptr<Store>> open(const QString &path,
                                               const StoreOptions &options = {});
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    const QString &path() const;
    int schemaVersion() const;
    static int latestSchemaVersion();
    bool isBroken() const;
    /// Opened for reading only: every write is refused with readOnlyReason().
    bool isReadOnly() const;
    const QString &readOnlyReason() const;
    /// What the user should know about the file (mode readable by others), said once at open.
    const QStringList &warnings() const;
    /// Reads the meta table again: an error naming what is wrong unless it holds the latest
    /// schema version and every Keepflow table exists.
    Status checkSchema();

    /// Writes the batch in one transaction, fenced: when a run of batch.fencedRuns is no longer
    /// held by batch.fenceOwner with that epoch, nothing is written and CommitResult::lostRuns
    /// names those runs (the caller drops them and commits the rest again). Otherwise says the
    /// ids the events got, in order.
    Result<CommitResult> commit(const Batch &batch);

    /// Stores a flow definition; the same text for the same name reuses its version.
    Result<FlowVersionRow> saveFlowVersion(const QString &name, const QByteArray &definition,
                                           const QString &sourcePath);
    Result<FlowVersionRow> flowVersion(qint64 id);

    Result<RunRow> run(const QString &id);
    /// The runs the query selects, newest first (search, filters, page).
    Result<QList<RunRow>> runs(const RunQuery &query = {});
    /// The same runs in the same order as runs(query), with only the columns a listing shows.
    /// SQLite reads them through the sqlite3 handle, as reduceStepSamples() does (a listing of
    /// 100,000 runs spent most of its time building Qt SQL's values); PostgreSQL through Qt SQL.
    Result<QList<RunListRow>> runList(const RunQuery &query = {});
    /// The newest run of run's flow (by name) in state that was created before run, in the
    /// runs list's order (created_at, then id); nullopt when there is none.
    Result<std::optional<RunRow>> previousRunOfFlow(const RunRow &run, RunState state);
    /// The steps of every run of the flow (by name) created in [from, to) (0: open), with their
    /// run's times; in no particular order (step statistics).
    Result<QList<StepSample>> stepSamples(const QString &flowName, qint64 from, qint64 to);
    /// The first and last creation time of the flow's runs created in [from, to) (0: open);
    /// nullopt when there is none.
    Result<std::optional<std::pair<qint64, qint64>>> stepSampleSpan(const QString &flowName,
                                                                    qint64 from, qint64 to);
    /// The steps of the same runs grouped by step, position, state, fallback, attempt class and
    /// bucket of the run's creation time (bucketMs long, floored from 0), and per step the
    /// nearest-rank p50 and p95 of ended_at - started_at over the steps that started, ended, and
    /// whose outcome is one of finished. PostgreSQL counts and ranks in SQL; SQLite, whose
    /// sorter takes seconds over 500,000 rows, streams the rows once through StepSampleReducer.
    Result<StepSampleReduction> reduceStepSamples(const QString &flowName, qint64 from, qint64 to,
                                                  qint64 bucketMs,
                                                  const QList<StepOutcome> &finished);
    /// The runs list, one page at a time (lazy models). Cheap for 100,000 runs.
    Result<QList<RunSummary>> runSummaries(const RunQuery &query);
    Result<int> countRuns(const RunQuery &query);
    /// How many runs the query selects in each state, its state filter left out (the runs
    /// list's state filter shows them); states without runs are absent.
    Result<QMap<RunState, int>> countRunsByState(const RunQuery &query);
    /// Steps that failed, have an uncertain outcome or partially succeeded (or, when the query
    /// names a step state, steps in that state), in the runs the query selects. The query's
    /// step conditions apply to that step and its time window to when it ended.
    Result<QList<StepFailureRow>> stepFailures(const RunQuery &query);
    /// Names of every flow that has a stored version, sorted.
    Result<QStringList> flowNames();
    Result<QList<StepRunRow>> stepRuns(const QString &runId);
    Result<QList<AttemptRow>> attempts(const QString &runId);
    /// The attempts of one step and of its items, oldest first, with what each printed.
    Result<QList<AttemptRow>> attemptOutputs(const QString &runId, const QString &stepId);
    Result<QList<EventRow>> events(const QString &runId, qint64 afterId = 0);
    /// The change feed: events of every run committed after position, in commit order, at most
    /// limit of them, and the position after them. Never skips an event: on PostgreSQL, where an
    /// id is handed out at insert and becomes visible at commit, only events of transactions
    /// older than every transaction still under way are read (see FeedPosition).
    Result<FeedPage> eventsAfter(const FeedPosition &position, int limit);
    /// The position after everything committed so far (a feed that skips the history).
    Result<FeedPosition> feedHead();
    Result<qint64> lastEventId();

    /// The database's clock in ms since the epoch: PostgreSQL's server clock, or callerNow for
    /// SQLite (its database is on the caller's host).
    Result<qint64> databaseNow(qint64 callerNow);

    /// Takes the run for lease.owner if it is free, expired by the database's clock, or held by
    /// a worker for which lease.ownerIsDead returns true; bumps its lease epoch and counts an
    /// adoption when it took the run from another worker. The run as now held, or nullopt when
    /// another live worker holds it.
    Result<std::optional<RunRow>> claimRun(const QString &runId, const LeaseRequest &lease);
    /// In one transaction, takes up to limit running runs that nobody holds, whose lease expired
    /// or whose holder is dead (never lease.owner's own), oldest first, skipping rows another
    /// worker is claiming at the same moment (PostgreSQL: FOR UPDATE SKIP LOCKED). Returns them
    /// as now held (new epochs).
    Result<QList<RunRow>> claimRunnable(const LeaseRequest &lease, int limit);
    /// Claims each of the runs as claimRun() does, all in one transaction (an operator's bulk
    /// action); returns those now held, with their new epochs. The others are held by live
    /// workers (or do not exist).
    Result<QList<RunRow>> claimRuns(const QStringList &runIds, const LeaseRequest &lease);
    /// Step runs and unfinished attempts of the runs, keyed by run id (loading a claimed batch).
    Result<QHash<QString, QList<StepRunRow>>> stepRunsOf(const QStringList &runIds);
    Result<QHash<QString, QList<AttemptRow>>> unfinishedAttemptsOf(const QStringList &runIds);
    /// Extends every lease owner holds and records the worker's heartbeat, in one transaction.
    /// Returns the runs owner still holds with their epochs: a run missing, or with another
    /// epoch, was taken by another worker.
    Result<QHash<QString, qint64>> renewLeases(const WorkerRow &worker, qint64 leaseMs,
                                               qint64 callerNow);
    /// Gives up every lease owner holds and removes its worker row.
    Status releaseLeases(const QString &owner);
    /// Every worker that has a heartbeat row, with the runs it holds.
    Result<QList<WorkerRow>> workers();

    /// Items of every foreach step of the run, by step and position.
    Result<QList<ItemRow>> items(const QString &runId);
    /// Items of the runs, keyed by run id (loading a claimed batch).
    Result<QHash<QString, QList<ItemRow>>> itemsOf(const QStringList &runIds);

    /// Every resource with its durable state, by name.
    Result<QList<ResourceRow>> resources();
    /// Creates rows for resources not known yet (closed, not paused) and records the limits
    /// each is declared with (name, declaredConcurrency, declaredRate); leaves the rest alone.
    Status declareResources(const QList<ResourceRow> &declared, qint64 now);
    /// Steps waiting for (queued) and calling (running) each resource, from the step runs.
    Result<QHash<QString, QPair<int, int>>> resourceLoad();
    /// An operator's change to a resource, with its event, in one transaction: pause or unpause
    /// (paused is set), or reset the breaker to closed with an empty window (paused unset).
    /// An unknown resource is an error naming it; nothing is changed then.
    Status changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker,
                          const QString &actor, qint64 now);

    /// An operator's live change of a resource's limits (concurrency and/or rate "N/DURATION";
    /// unset and empty keep the current ones) with its event, in one transaction. describe
    /// builds the event's detail from the row before and after (an error changes nothing).
    /// An unknown resource is an error naming it. Returns the row as changed.
    Result<ResourceRow> setResourceLimits(
        const QString &name, std::optional<int> concurrency, const QString &rate, EventRow event,
        const std::function<Result<QJsonObject>(const ResourceRow &before, ResourceRow &after)>
            &describe);

    /// Leaves an operator action for the worker that executes run_id; returns the request id.
    Result<qint64> submitRequest(const QString &runId, const QJsonObject &action,
                                 const QString &actor, qint64 now);
    Result<RequestRow> request(qint64 id);
    /// Takes back an unanswered request (the worker let go of the run); false when it was answered.
    Result<bool> withdrawRequest(qint64 id, qint64 now);
    /// Unanswered requests for runs owner executes, oldest first.
    Result<QList<RequestRow>> pendingRequests(const QString &owner);

    // Alerts.
    Result<QList<AlertRuleRow>> alertRules();
    /// Stores the rule; returns its id.
    Result<qint64> addAlertRule(const AlertRuleRow &rule);
    /// Removes the rule (and what it fired); an unknown id is an error naming it.
    Status removeAlertRule(qint64 id);
    /// Records that rule fired for the condition key, with its event (alert_fired), in one
    /// transaction: the event's id, or nullopt when it had fired for that key already (in this
    /// process or another, before a restart or not).
    Result<std::optional<qint64>> recordAlertFiring(qint64 ruleId, const QString &conditionKey,
                                                    const EventRow &event);
    /// How far the change feed was looked at for alerts (the start of the feed when never).
    Result<FeedPosition> alertCursor();
    Status setAlertCursor(const FeedPosition &position);
    /// Durations (ended_at - started_at) of a step of a flow in its newest runs (created_at, then
    /// id) where it started, ended and its outcome is one of finished; at most limit of them,
    /// newest first (what "slow" is judged against: api/stepstats.h).
    Result<QList<qint64>> latestStepDurations(const QString &flow, const QString &stepId, int limit,
                                              const QList<StepOutcome> &finished);

    /// A PostgreSQL database (else SQLite).
    bool isPostgres() const;
    /// PostgreSQL: whether this store's connection still answers (a SELECT 1 on it). An error
    /// only when the connection is gone (the server closed it, restarted or cannot be reached),
    /// saying why in the client library's or the server's own words; a statement refused on a
    /// live connection is no such error. Always ok on SQLite (a file does not disconnect).
    Status checkConnection();
    /// PostgreSQL: the role the server authenticated (session_user); empty for SQLite.
    const QString &databaseRole() const;
    enum class Channel {
        Work,   ///< a new run, a released lease, an operator's request: for workers
        Events, ///< any commit with events: for change feeds
    };
    /// PostgreSQL: calls wake, from this thread's event loop, whenever another connection commits
    /// to channel: a wake-up only, never the change itself (keep polling slowly as a safety
    /// net). False on SQLite, or when the subscription failed (then polling alone).
    bool listen(Channel channel, QObject *context, std::function<void()> wake);

    /// The reads between beginRead() and endRead() see one snapshot (a read transaction), however
    /// other processes commit meanwhile. Not while a write is under way on this store.
    Status beginRead();
    void endRead();

    enum class IntegrityDepth { Quick, Full };
    /// SQLite's own check (PRAGMA quick_check or integrity_check): what it found, empty when
    /// the file is intact. An error only when the check could not run.
    Result<QStringList> integrityProblems(IntegrityDepth depth);
    /// Runs PRAGMA integrity_check; ok when the database is intact.
    Status integrityCheck();

private:
    struct Impl;
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

} // namespace keepflow
