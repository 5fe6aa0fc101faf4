#pragma once

// The store's write unit: everything one transaction writes (Store::commit). Only the store and
// the run ledger, its one writer, use it.

#include "core/records.h"

#include <QList>
#include <QPair>
#include <QString>

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
    /// (run id, owner): leases this owner gives up in the same transaction.
    QList<QPair<QString, QString>> releasedLeases;

    bool isEmpty() const {
        return runs.isEmpty() && steps.isEmpty() && attempts.isEmpty() && events.isEmpty() &&
               resources.isEmpty() && items.isEmpty() && clearedItems.isEmpty() &&
               answers.isEmpty() && releasedLeases.isEmpty();
    }
};

} // namespace keepflow
