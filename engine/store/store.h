#pragma once

// The only place with SQL. One schema with versioned migrations, portable through Qt SQL
// (SQLite embedded default; PostgreSQL later through small dialect seams).
//
// Threading: a Store is used from the thread that opened it (it owns one connection).
// Failure: every write is one transaction; on failure nothing is changed. After a failed commit
// the store refuses further writes (isBroken()) until reopened, so memory and disk never diverge.

#include "core/records.h"
#include "core/runquery.h"
#include "core/status.h"
#include "core/storeoptions.h"
#include "store/batch.h"

#include <QHash>
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

    /// Writes the batch in one transaction. Returns the id of the last event written (or the
    /// previous last id when the batch has no events).
    Result<qint64> commit(const Batch &batch);

    /// Stores a flow definition; the same text for the same name reuses its version.
    Result<FlowVersionRow> saveFlowVersion(const QString &name, const QByteArray &definition,
                                           const QString &sourcePath);
    Result<FlowVersionRow> flowVersion(qint64 id);

    Result<RunRow> run(const QString &id);
    /// Newest first.
    Result<QList<RunRow>> runs(const RunFilter &filter = {});
    /// The runs list, one page at a time (lazy models). Cheap for 100,000 runs.
    Result<QList<RunSummary>> runSummaries(const RunQuery &query);
    Result<int> countRuns(const RunQuery &query);
    /// Names of every flow that has a stored version, sorted.
    Result<QStringList> flowNames();
    Result<QList<StepRunRow>> stepRuns(const QString &runId);
    Result<QList<AttemptRow>> attempts(const QString &runId);
    Result<QList<EventRow>> events(const QString &runId, qint64 afterId = 0);
    /// The change feed: events of every run after afterId, oldest first, at most limit of them.
    Result<QList<EventRow>> eventsAfter(qint64 afterId, int limit);
    Result<qint64> lastEventId();

    /// Takes the run for owner until leaseUntil if it is free, expired, or held by a worker for
    /// which ownerIsDead returns true. Returns whether this owner now holds it.
    Result<bool> claimRun(const QString &runId, const QString &owner, qint64 leaseUntil, qint64 now,
                          const std::function<bool(const QString &)> &ownerIsDead);
    /// In one transaction, takes every running run that is unleased, leased by owner, expired at
    /// now, or held by an owner for which ownerIsDead is true; returns the runs owner now holds.
    Result<QList<RunRow>> claimRunnable(const QString &owner, qint64 leaseUntil, qint64 now,
                                        const std::function<bool(const QString &)> &ownerIsDead);
    /// Step runs and unfinished attempts of every run owner holds, keyed by run id (bulk load).
    Result<QHash<QString, QList<StepRunRow>>> stepRunsOwnedBy(const QString &owner);
    Result<QHash<QString, QList<AttemptRow>>> unfinishedAttemptsOwnedBy(const QString &owner);
    Status renewLeases(const QString &owner, qint64 leaseUntil);
    Status releaseLeases(const QString &owner);

    /// Items of every foreach step of the run, by step and position.
    Result<QList<ItemRow>> items(const QString &runId);
    /// Items of every run owner holds, keyed by run id (bulk load).
    Result<QHash<QString, QList<ItemRow>>> itemsOwnedBy(const QString &owner);

    /// Every resource with its durable state, by name.
    Result<QList<ResourceRow>> resources();
    /// Creates rows for resources not known yet (closed, not paused); leaves known ones alone.
    Status declareResources(const QStringList &names, qint64 now);
    /// Steps waiting for (queued) and calling (running) each resource, from the step runs.
    Result<QHash<QString, QPair<int, int>>> resourceLoad();
    /// An operator's change to a resource, with its event, in one transaction: pause or unpause
    /// (paused is set), or reset the breaker to closed with an empty window (paused unset).
    /// An unknown resource is an error naming it; nothing is changed then.
    Status changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker,
                          const QString &actor, qint64 now);

    /// Leaves an operator action for the worker that executes run_id; returns the request id.
    Result<qint64> submitRequest(const QString &runId, const QJsonObject &action,
                                 const QString &actor, qint64 now);
    Result<RequestRow> request(qint64 id);
    /// Takes back an unanswered request (the worker let go of the run); false when it was answered.
    Result<bool> withdrawRequest(qint64 id, qint64 now);
    /// Unanswered requests for runs owner executes, oldest first.
    Result<QList<RequestRow>> pendingRequests(const QString &owner);

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
