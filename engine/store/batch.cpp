#include "store/batch.h"

#include "store/jsonbytes.h"

#include <QSet>

#include <algorithm>

namespace keepflow {

QByteArray fencedRunIdsJson(const Batch &batch) {
    QByteArray ids = "[";
    for (auto it = batch.fencedRuns.begin(); it != batch.fencedRuns.end(); ++it) {
        if (ids.size() > 1)
            ids += ',';
        appendJsonString(ids, it.key());
    }
    return ids + ']';
}

QStringList runsLostBy(const Batch &batch, const RunHolders &holders) {
    QStringList lost;
    for (auto it = batch.fencedRuns.begin(); it != batch.fencedRuns.end(); ++it) {
        const auto holder = holders.constFind(it.key());
        if (holder == holders.cend() || holder->first != batch.fenceOwner ||
            holder->second != it.value())
            lost << it.key();
    }
    std::sort(lost.begin(), lost.end());
    return lost;
}

Batch withoutRuns(const Batch &batch, const QStringList &runIds) {
    const QSet<QString> lost(runIds.begin(), runIds.end());
    const auto keep = [&lost](const QString &runId) { return !lost.contains(runId); };
    Batch rest;
    const auto copy = [&keep](const auto &from, auto &to) {
        for (const auto &row : from) {
            if (keep(row.runId))
                to.append(row);
        }
    };
    for (const RunRow &row : batch.runs) {
        if (keep(row.id))
            rest.runs.append(row);
    }
    copy(batch.steps, rest.steps);
    copy(batch.attempts, rest.attempts);
    copy(batch.items, rest.items);
    copy(batch.answers, rest.answers);
    // Events of no run (a resource's) stay.
    for (const EventRow &event : batch.events) {
        if (event.runId.isEmpty() || keep(event.runId))
            rest.events.append(event);
    }
    rest.resources = batch.resources;
    for (const auto &pair : batch.clearedItems) {
        if (keep(pair.first))
            rest.clearedItems.append(pair);
    }
    for (const auto &pair : batch.removedSteps) {
        if (keep(pair.first))
            rest.removedSteps.append(pair);
    }
    for (const auto &pair : batch.releasedLeases) {
        if (keep(pair.first))
            rest.releasedLeases.append(pair);
    }
    rest.fenceOwner = batch.fenceOwner;
    for (auto it = batch.fencedRuns.begin(); it != batch.fencedRuns.end(); ++it) {
        if (keep(it.key()))
            rest.fencedRuns.insert(it.key(), it.value());
    }
    return rest;
}

} // namespace keepflow
