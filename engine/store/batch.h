#pragma once

// The store's write unit: everything one transaction writes (Store::commit). Only the store and
// the run ledger, its one writer, use it.

#include "core/records.h"

#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <functional>

namespace keepflow {

/// Everything one transaction writes. Rows are upserted by their natural keys.
struct Batch {
    QList<RunRow> runs;
    QList<StepRunRow> steps;
    QList<AttemptRow> attempts;
    QList<EventRow> events;
    QList<ResourceRow> resources;
    QList<ItemRow> items;
    QList<RequestRow>
        answers; ///< requests answered (state, result, answered_at) in this transaction
    /// (run id, step id): foreach steps whose item rows are dropped (rerun: a new list follows).
    QList<QPair<QString, QString>> clearedItems;
    /// (run id, step id): step rows dropped with their items (an upgrade's removed steps).
    QList<QPair<QString, QString>> removedSteps;
    /// (run id, owner): leases this owner gives up in the same transaction.
    QList<QPair<QString, QString>> releasedLeases;
    /// The fence: run id -> lease epoch of every run this batch writes that fenceOwner holds
    /// (runs it creates in the same batch are not in it). Checked inside the transaction.
    QString fenceOwner;
    QHash<QString, qint64> fencedRuns;

    bool isEmpty() const {
        return runs.isEmpty() && steps.isEmpty() && attempts.isEmpty() && events.isEmpty() &&
               resources.isEmpty() && items.isEmpty() && clearedItems.isEmpty() &&
               removedSteps.isEmpty() && answers.isEmpty() && releasedLeases.isEmpty();
    }
};

} // namespace keepflow

namespace keepflow {

/// What Store::commit did: the events' ids, or the runs its fence refused (then nothing).
struct CommitResult {
    QList<qint64> eventIds; ///< in the order of Batch::events
    qint64 lastEventId = 0;
    QStringList lostRuns; ///< runs another worker holds now; non-empty: nothing was written
};

/// Who claims, for how long, and by which clock.
struct LeaseRequest {
    QString owner;
    qint64 leaseMs = 30'000;
    qint64 now = 0; ///< the caller's clock; the database's own clock on PostgreSQL
    /// Whether a holder is gone for sure (same host, dead pid): its lease need not expire.
    std::function<bool(const QString &)> ownerIsDead;
};

/// Who holds each fenced run, as the database says: run id -> (owner, lease epoch).
using RunHolders = QHash<QString, QPair<QString, qint64>>;
/// The fence's question to the database: the ids of batch.fencedRuns as a JSON array.
QByteArray fencedRunIdsJson(const Batch &batch);
/// The fence's answer: the fenced runs not held by batch.fenceOwner with their epoch, sorted.
QStringList runsLostBy(const Batch &batch, const RunHolders &holders);

/// The batch without the rows, events, answers and leases of the given runs (a fence refused
/// them): what is committed again.
Batch withoutRuns(const Batch &batch, const QStringList &runIds);

} // namespace keepflow
