#pragma once

// The read side of keepflowctl: the JSON documents and the human-readable lines, built
// from the store's rows. Pure formatting; the store is only read.

#include "api/rootcause.h"
#include "core/records.h"
#include "core/status.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QPair>
#include <QString>

namespace keepflow {

class Store;

/// ISO 8601 UTC with milliseconds ("2026-11-26T23:41:02.120Z"), as Qt::ISODateWithMs writes it.
QString utcIsoText(qint64 ms);
/// utcIsoText(ms); null for 0.
QJsonValue isoTime(qint64 ms);

/// `status --json`: { "run": {...}, "steps": [...] }. The run has "root_causes" (the ids of the
/// steps the rest wait on, see rootcause.h) and a step that waits on some has "blocked_by".
Result<QJsonObject> runStatusJson(Store &store, const QString &runId);
/// The same from rows already read (OperatorApi::status()); with each step's max_attempts, a
/// step that makes attempts of its own also gets "attempt_budget" (attemptBudget()).
QJsonObject runStatusJson(const RunRow &run, const QList<StepRunRow> &steps,
                          const QList<ItemRow> &items, const QHash<QString, int> &maxAttempts = {},
                          const RootCauses &rootCauses = {});
/// Step id -> the max_attempts its attempts count against: the flow's, or an operator's live
/// change stored with the step's row ("attempt 3/5" once max_attempts became 5).
QHash<QString, int> effectiveMaxAttempts(const Flow &flow, const QList<StepRunRow> &steps);
/// `list --json`: [{ "id", "flow", "state", "created_at", "ended_at" }], newest first.
QJsonArray runListJson(const QList<RunListRow> &runs);
/// `events --json`: [{ "id", "at", "step", "type", "actor", "detail" }], oldest first.
QJsonArray eventsJson(const QList<EventRow> &events);
/// `keepflowctl workers --json`: each worker with its heartbeat and the runs it holds.
QJsonArray workersJson(const QList<WorkerRow> &workers);

/// `resources --json`: [{ "name", "state": "closed|open|half_open|paused", "queued", "in_flight",
/// "failure_rate" }], by name.
Result<QJsonArray> resourcesJson(Store &store);
/// The same from rows already read (OperatorApi::resources() and resourceLoad()).
QJsonArray resourcesJson(const QList<ResourceRow> &rows,
                         const QHash<QString, QPair<int, int>> &load);

/// What the event means, without time or step ("attempt 1 failed (transient): ...").
QString eventSummary(const EventRow &event);
/// One line for a person: what the event means ("fetch  attempt 1 failed (transient): ...").
QString describeEvent(const EventRow &event);
/// The `status` text: a header, the root causes in words, and one line per step.
QString runStatusText(const QJsonObject &status);

} // namespace keepflow
