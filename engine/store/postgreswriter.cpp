#include "store/postgreswriter.h"

#include "store/jsonbytes.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>
#include <functional>

namespace keepflow {

namespace {

// Upserts by natural key, as the SQLite writer's; every value arrives in one JSON parameter.
const char *const kRuns =
    "INSERT INTO runs (id, flow_id, flow_name, state, params, created_at, ended_at, owner, "
    "lease_until, paused, parent_run, parent_step, lease_epoch, adoptions) "
    "SELECT id, flow_id, flow_name, state, params, created_at, ended_at, owner, lease_until, "
    "paused, parent_run, parent_step, lease_epoch, adoptions "
    "FROM json_populate_recordset(CAST(NULL AS runs), CAST(? AS json)) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at, "
    "paused = excluded.paused, adoptions = excluded.adoptions, flow_id = excluded.flow_id";
// The runs upsert of the one-statement path: a run named in the CTE "released" (this worker
// lets go of it in the same commit) is written without owner and lease.
const char *const kRunsReleasing =
    "INSERT INTO runs (id, flow_id, flow_name, state, params, created_at, ended_at, owner, "
    "lease_until, paused, parent_run, parent_step, lease_epoch, adoptions) "
    "SELECT x.id, x.flow_id, x.flow_name, x.state, x.params, x.created_at, x.ended_at, "
    "CASE WHEN r.id IS NULL THEN x.owner END, CASE WHEN r.id IS NULL THEN x.lease_until END, "
    "x.paused, x.parent_run, x.parent_step, x.lease_epoch, x.adoptions "
    "FROM json_populate_recordset(CAST(NULL AS runs), CAST(? AS json)) x "
    "LEFT JOIN released r ON r.id = x.id WHERE (SELECT ok FROM ok) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at, "
    "paused = excluded.paused, adoptions = excluded.adoptions, flow_id = excluded.flow_id, "
    "owner = CASE WHEN EXISTS (SELECT 1 FROM released r WHERE r.id = runs.id AND "
    "r.owner = runs.owner) THEN NULL ELSE runs.owner END, "
    "lease_until = CASE WHEN EXISTS (SELECT 1 FROM released r WHERE r.id = runs.id AND "
    "r.owner = runs.owner) THEN NULL ELSE runs.lease_until END";
const char *const kSteps =
    "INSERT INTO step_runs (run_id, step_id, position, state, attempts, failures, generation, "
    "not_before, started_at, ended_at, error_class, error, via_fallback, output, resource, "
    "queued_at, input_override, policy_override) "
    "SELECT run_id, step_id, position, state, attempts, failures, generation, not_before, "
    "started_at, ended_at, error_class, error, via_fallback, output, resource, queued_at, "
    "input_override, policy_override FROM json_populate_recordset(CAST(NULL AS step_runs), CAST(? "
    "AS json)) "
    "ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, "
    "position = excluded.position, attempts = excluded.attempts, failures = excluded.failures, "
    "generation = excluded.generation, "
    "not_before = excluded.not_before, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, error_class = excluded.error_class, error = excluded.error, "
    "via_fallback = excluded.via_fallback, output = excluded.output, "
    "queued_at = excluded.queued_at, input_override = excluded.input_override, "
    "policy_override = excluded.policy_override";
const char *const kAttempts =
    "INSERT INTO attempts (run_id, step_id, item_key, generation, number, idempotency_key, "
    "worker, started_at, ended_at, outcome, error_class, error, lease_epoch, stdout_tail, "
    "stderr_tail, stdout_bytes, stderr_bytes) "
    "SELECT run_id, step_id, item_key, generation, number, idempotency_key, worker, started_at, "
    "ended_at, outcome, error_class, error, lease_epoch, stdout_tail, stderr_tail, stdout_bytes, "
    "stderr_bytes "
    "FROM json_populate_recordset(CAST(NULL AS attempts), CAST(? AS json)) "
    "ON CONFLICT (run_id, step_id, item_key, generation, number) DO UPDATE SET "
    "ended_at = excluded.ended_at, outcome = excluded.outcome, "
    "error_class = excluded.error_class, error = excluded.error, "
    "stdout_tail = excluded.stdout_tail, stderr_tail = excluded.stderr_tail, "
    "stdout_bytes = excluded.stdout_bytes, stderr_bytes = excluded.stderr_bytes";
const char *const kEvents =
    "INSERT INTO events (at, run_id, step_id, type, actor, detail) "
    "SELECT at, run_id, step_id, type, actor, detail "
    "FROM json_populate_recordset(CAST(NULL AS events), CAST(? AS json)) RETURNING id";
const char *const kResources =
    "INSERT INTO resources (name, paused, breaker_state, opened_at, call_window, updated_at) "
    "SELECT name, paused, breaker_state, opened_at, call_window, updated_at "
    "FROM json_populate_recordset(CAST(NULL AS resources), CAST(? AS json)) "
    "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, "
    "breaker_state = excluded.breaker_state, opened_at = excluded.opened_at, "
    "call_window = excluded.call_window, updated_at = excluded.updated_at";
const char *const kClearItems =
    "DELETE FROM items i USING json_to_recordset(CAST(? AS json)) AS x(run_id text, step_id text) "
    "WHERE i.run_id = x.run_id AND i.step_id = x.step_id";
const char *const kRemoveSteps =
    "DELETE FROM step_runs t USING json_to_recordset(CAST(? AS json)) AS x(run_id text, "
    "step_id text) WHERE t.run_id = x.run_id AND t.step_id = x.step_id";
const char *const kItems =
    "INSERT INTO items (run_id, step_id, item_key, position, state, attempts, failures, "
    "generation, not_before, error_class, error, output) "
    "SELECT run_id, step_id, item_key, position, state, attempts, failures, generation, "
    "not_before, error_class, error, output "
    "FROM json_populate_recordset(CAST(NULL AS items), CAST(? AS json)) "
    "ON CONFLICT (run_id, step_id, item_key) DO UPDATE SET position = excluded.position, "
    "state = excluded.state, attempts = excluded.attempts, failures = excluded.failures, "
    "generation = excluded.generation, not_before = excluded.not_before, "
    "error_class = excluded.error_class, error = excluded.error, output = excluded.output";
const char *const kAnswers =
    "UPDATE requests q SET state = x.state, result = x.result, answered_at = x.answered_at "
    "FROM json_to_recordset(CAST(? AS json)) AS x(id bigint, state text, result text, "
    "answered_at bigint) WHERE q.id = x.id";
const char *const kReleases = "UPDATE runs r SET owner = NULL, lease_until = NULL "
                              "FROM json_to_recordset(CAST(? AS json)) AS x(id text, owner text) "
                              "WHERE r.id = x.id AND r.owner = x.owner";
const char *const kFence = "SELECT id, owner, lease_epoch FROM runs WHERE id IN "
                           "(SELECT json_array_elements_text(CAST(? AS json))) FOR SHARE";

/// One JSON object per row, written key by key.
class RowJson {
public:
    explicit RowJson(QByteArray &out)
        : m_out(out) {
        m_out += '{';
    }
    ~RowJson() { m_out += '}'; }
    RowJson(const RowJson &) = delete;
    RowJson &operator=(const RowJson &) = delete;

    RowJson &text(const char *key, const QString &value) {
        appendJsonString(name(key), value);
        return *this;
    }
    RowJson &textOrNull(const char *key, const QString &value) {
        return value.isEmpty() ? null(key) : text(key, value);
    }
    RowJson &integer(const char *key, qint64 value) {
        name(key) += QByteArray::number(value);
        return *this;
    }
    RowJson &timeOrNull(const char *key, qint64 ms) {
        return ms == 0 ? null(key) : integer(key, ms);
    }
    /// A JSON column: the value's text as a string, NULL when undefined.
    RowJson &jsonText(const char *key, const QJsonValue &value) {
        const QByteArray text = jsonBytes(value);
        if (text.isEmpty())
            return null(key);
        appendJsonString(name(key), QString::fromUtf8(text));
        return *this;
    }
    RowJson &null(const char *key) {
        name(key) += "null";
        return *this;
    }

private:
    QByteArray &name(const char *key) {
        if (!m_first)
            m_out += ',';
        m_first = false;
        m_out += '"';
        m_out += key;
        m_out += "\":";
        return m_out;
    }
    QByteArray &m_out;
    bool m_first = true;
};

/// The rows as a JSON array, each key once: a row that comes again replaces the earlier one.
template <typename Row, typename Key, typename Write>
QByteArray jsonRows(const QList<Row> &rows, Key keyOf, Write write) {
    QHash<QString, qsizetype> last;
    for (qsizetype i = 0; i < rows.size(); ++i)
        last.insert(keyOf(rows[i]), i);
    QByteArray out = "[";
    bool first = true;
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if (last.value(keyOf(rows[i])) != i)
            continue;
        if (!first)
            out += ',';
        first = false;
        RowJson row(out);
        write(row, rows[i]);
    }
    out += ']';
    return out;
}

QString key2(const QString &a, const QString &b) {
    return a + QChar(0) + b;
}

QByteArray runsJson(const Batch &batch) {
    return jsonRows(
        batch.runs, [](const RunRow &r) { return r.id; },
        [](RowJson &row, const RunRow &r) {
            row.text("id", r.id)
                .integer("flow_id", r.flowId)
                .text("flow_name", r.flowName)
                .text("state", stateName(r.state))
                .jsonText("params", r.params)
                .integer("created_at", r.createdAt)
                .timeOrNull("ended_at", r.endedAt)
                .textOrNull("owner", r.owner)
                .timeOrNull("lease_until", r.leaseUntil)
                .integer("paused", r.paused ? 1 : 0)
                .textOrNull("parent_run", r.parentRun)
                .textOrNull("parent_step", r.parentStep)
                .integer("lease_epoch", r.leaseEpoch)
                .integer("adoptions", r.adoptions);
        });
}

QByteArray stepsJson(const Batch &batch) {
    return jsonRows(
        batch.steps, [](const StepRunRow &r) { return key2(r.runId, r.stepId); },
        [](RowJson &row, const StepRunRow &r) {
            row.text("run_id", r.runId)
                .text("step_id", r.stepId)
                .integer("position", r.position)
                .text("state", stateName(r.state))
                .integer("attempts", r.attempts)
                .integer("failures", r.failures)
                .integer("generation", r.generation)
                .timeOrNull("not_before", r.notBefore)
                .timeOrNull("started_at", r.startedAt)
                .timeOrNull("ended_at", r.endedAt)
                .textOrNull("error_class", errorClassName(r.errorClass))
                .textOrNull("error", r.error)
                .integer("via_fallback", r.viaFallback ? 1 : 0)
                .jsonText("output", r.output)
                .textOrNull("resource", r.resource)
                .timeOrNull("queued_at", r.queuedAt)
                .jsonText("input_override", r.inputOverride)
                .jsonText("policy_override", r.policyOverride);
        });
}

QByteArray attemptsJson(const Batch &batch) {
    return jsonRows(
        batch.attempts,
        [](const AttemptRow &r) {
            return key2(key2(r.runId, r.stepId), r.itemKey) + QChar(0) +
                   QString::number(r.generation) + QChar(0) + QString::number(r.number);
        },
        [](RowJson &row, const AttemptRow &r) {
            row.text("run_id", r.runId)
                .text("step_id", r.stepId)
                .text("item_key", r.itemKey.isNull() ? QStringLiteral("") : r.itemKey)
                .integer("generation", r.generation)
                .integer("number", r.number)
                .text("idempotency_key", r.idempotencyKey)
                .textOrNull("worker", r.worker)
                .integer("started_at", r.startedAt)
                .timeOrNull("ended_at", r.endedAt)
                .textOrNull("outcome", outcomeName(r.outcome))
                .textOrNull("error_class", errorClassName(r.errorClass))
                .textOrNull("error", r.error)
                .integer("lease_epoch", r.leaseEpoch)
                .textOrNull("stdout_tail", r.captured.stdoutTail)
                .textOrNull("stderr_tail", r.captured.stderrTail)
                .integer("stdout_bytes", r.captured.stdoutBytes)
                .integer("stderr_bytes", r.captured.stderrBytes);
        });
}

QByteArray resourcesJson(const Batch &batch) {
    return jsonRows(
        batch.resources, [](const ResourceRow &r) { return r.name; },
        [](RowJson &row, const ResourceRow &r) {
            row.text("name", r.name)
                .integer("paused", r.paused ? 1 : 0)
                .text("breaker_state", r.breakerState)
                .timeOrNull("opened_at", r.openedAt)
                .text("call_window", r.window.isNull() ? QStringLiteral("") : r.window)
                .integer("updated_at", r.updatedAt);
        });
}

QByteArray clearedItemsJson(const Batch &batch) {
    return jsonRows(
        batch.clearedItems,
        [](const QPair<QString, QString> &p) { return key2(p.first, p.second); },
        [](RowJson &row, const QPair<QString, QString> &p) {
            row.text("run_id", p.first).text("step_id", p.second);
        });
}

QByteArray removedStepsJson(const Batch &batch) {
    return jsonRows(
        batch.removedSteps,
        [](const QPair<QString, QString> &p) { return key2(p.first, p.second); },
        [](RowJson &row, const QPair<QString, QString> &p) {
            row.text("run_id", p.first).text("step_id", p.second);
        });
}

QByteArray itemsJson(const Batch &batch) {
    return jsonRows(
        batch.items, [](const ItemRow &r) { return key2(key2(r.runId, r.stepId), r.itemKey); },
        [](RowJson &row, const ItemRow &r) {
            row.text("run_id", r.runId)
                .text("step_id", r.stepId)
                .text("item_key", r.itemKey)
                .integer("position", r.position)
                .text("state", stateName(r.state))
                .integer("attempts", r.attempts)
                .integer("failures", r.failures)
                .integer("generation", r.generation)
                .timeOrNull("not_before", r.notBefore)
                .textOrNull("error_class", errorClassName(r.errorClass))
                .textOrNull("error", r.error)
                .jsonText("output", r.output);
        });
}

QByteArray answersJson(const Batch &batch) {
    return jsonRows(
        batch.answers, [](const RequestRow &r) { return QString::number(r.id); },
        [](RowJson &row, const RequestRow &r) {
            row.integer("id", r.id)
                .text("state", r.state)
                .text("result", r.result)
                .integer("answered_at", r.answeredAt);
        });
}

QByteArray releasesJson(const QList<QPair<QString, QString>> &releases) {
    return jsonRows(
        releases, [](const QPair<QString, QString> &p) { return key2(p.first, p.second); },
        [](RowJson &row, const QPair<QString, QString> &p) {
            row.text("id", p.first).text("owner", p.second);
        });
}

QByteArray eventsJson(const Batch &batch) {
    QByteArray json = "[";
    for (qsizetype i = 0; i < batch.events.size(); ++i) {
        const EventRow &e = batch.events[i];
        if (i > 0)
            json += ',';
        RowJson row(json);
        row.integer("at", e.at)
            .textOrNull("run_id", e.runId)
            .textOrNull("step_id", e.stepId)
            .text("type", eventTypeName(e.type))
            .text("actor", e.actor)
            .jsonText("detail", e.detail);
    }
    json += ']';
    return json;
}

} // namespace

struct PostgresBatchWriter::Statements {
    explicit Statements(const QSqlDatabase &db)
        : runs(db)
        , steps(db)
        , attempts(db)
        , events(db)
        , resources(db)
        , clearItems(db)
        , removeSteps(db)
        , items(db)
        , answers(db)
        , releases(db)
        , fence(db) {}
    QSqlQuery runs, steps, attempts, events, resources, clearItems, removeSteps, items, answers,
        releases, fence;
    bool prepared = false;
};

PostgresBatchWriter::PostgresBatchWriter(QSqlDatabase db, QString display)
    : m_db(std::move(db))
    , m_display(std::move(display)) {}

PostgresBatchWriter::~PostgresBatchWriter() = default;

const char *PostgresBatchWriter::eventsChannel() {
    return "keepflow_events";
}

const char *PostgresBatchWriter::workChannel() {
    return "keepflow_work";
}

Status PostgresBatchWriter::run(QSqlQuery &query, const char *what, const QByteArray &json) {
    query.bindValue(0, QString::fromUtf8(json));
    if (!query.exec())
        return Status::error(QStringLiteral("%1: cannot write %2: %3")
                                 .arg(m_display, QLatin1String(what), query.lastError().text()));
    query.finish();
    return Status::ok();
}

Result<CommitResult> PostgresBatchWriter::write(const Batch &batch, qint64 lastEventId) {
    // Dropping and rewriting a foreach step's items in one statement would touch the same rows
    // twice, which PostgreSQL refuses: those (rare) batches take a transaction of statements.
    // An upgrade's removed steps (rarer still) take the same way.
    if (batch.clearedItems.isEmpty() && batch.removedSteps.isEmpty())
        return writeInOneStatement(batch, lastEventId);
    return writeInTransaction(batch, lastEventId);
}

Result<CommitResult> PostgresBatchWriter::writeInOneStatement(const Batch &batch,
                                                              qint64 lastEventId) {
    // One statement is one transaction and one round trip: the fence, every table's rows and
    // the notifications, as data-modifying CTEs that write only when the fence holds.
    QStringList parts;
    QVariantList binds;
    const auto json = [&binds](const QByteArray &text) {
        binds << QString::fromUtf8(text);
        return QStringLiteral("CAST(? AS json)");
    };
    const QByteArray fencedIds = fencedRunIdsJson(batch);
    QByteArray fenced = "[";
    for (auto it = batch.fencedRuns.begin(); it != batch.fencedRuns.end(); ++it) {
        if (fenced.size() > 1)
            fenced += ',';
        RowJson row(fenced);
        row.text("id", it.key()).integer("epoch", it.value());
    }
    fenced += ']';
    if (batch.fencedRuns.isEmpty()) {
        parts << QStringLiteral("held AS (SELECT id, owner, lease_epoch FROM runs WHERE false), "
                                "ok AS (SELECT true AS ok)");
    } else {
        // FOR SHARE: a claim (FOR UPDATE) of these runs waits until this commits, and this
        // waits for a claim under way, then sees its result.
        parts << QStringLiteral("held AS (SELECT id, owner, lease_epoch FROM runs WHERE id IN "
                                "(SELECT json_array_elements_text(%1)) FOR SHARE)")
                     .arg(json(fencedIds));
        parts << QStringLiteral("ok AS (SELECT count(*) = %1 AS ok FROM held h JOIN "
                                "json_to_recordset(%2) AS f(id text, epoch bigint) ON h.id = f.id "
                                "AND h.lease_epoch = f.epoch WHERE h.owner = ?)")
                     .arg(batch.fencedRuns.size())
                     .arg(json(fenced));
        binds << batch.fenceOwner;
    }
    // Each table's statement writes only when the fence holds.
    const auto guarded = [](const char *sql) {
        QString text = QString::fromLatin1(sql);
        const QString from = QStringLiteral("CAST(? AS json))");
        const qsizetype at = text.indexOf(from) + from.size();
        text.insert(at, QStringLiteral(" WHERE (SELECT ok FROM ok)"));
        return text;
    };
    QSet<QString> upserted;
    for (const RunRow &row : batch.runs)
        upserted.insert(row.id);
    // Releases of runs whose row this batch upserts are applied by that upsert (one statement
    // may change a row only once); the others by an update of their own.
    QList<QPair<QString, QString>> releasedByUpsert;
    QList<QPair<QString, QString>> releasedApart;
    for (const auto &release : batch.releasedLeases)
        (upserted.contains(release.first) ? releasedByUpsert : releasedApart).append(release);
    if (!batch.runs.isEmpty()) {
        parts << QStringLiteral("released AS (SELECT id, owner FROM json_to_recordset(%1) AS "
                                "r(id text, owner text))")
                     .arg(json(releasesJson(releasedByUpsert)));
        binds << QString::fromUtf8(runsJson(batch));
        parts << QStringLiteral("w_runs AS (%1)").arg(QLatin1String(kRunsReleasing));
    }
    const std::pair<bool, std::pair<const char *, std::function<QByteArray()>>> tables[] = {
        {!batch.steps.isEmpty(), {kSteps, [&batch] { return stepsJson(batch); }}},
        {!batch.attempts.isEmpty(), {kAttempts, [&batch] { return attemptsJson(batch); }}},
        {!batch.resources.isEmpty(), {kResources, [&batch] { return resourcesJson(batch); }}},
        {!batch.items.isEmpty(), {kItems, [&batch] { return itemsJson(batch); }}},
    };
    int table = 0;
    for (const auto &[present, statement] : tables) {
        ++table;
        if (!present)
            continue;
        binds << QString::fromUtf8(statement.second());
        parts << QStringLiteral("w_%1 AS (%2)").arg(table).arg(guarded(statement.first));
    }
    if (!batch.events.isEmpty()) {
        binds << QString::fromUtf8(eventsJson(batch));
        parts << QStringLiteral("w_events AS (%1)").arg(guarded(kEvents));
    }
    if (!batch.answers.isEmpty()) {
        parts << QStringLiteral("w_answers AS (%1 AND (SELECT ok FROM ok))")
                     .arg(QString::fromLatin1(kAnswers).replace(QStringLiteral("CAST(? AS json)"),
                                                                json(answersJson(batch))));
    }
    if (!releasedApart.isEmpty()) {
        parts << QStringLiteral("w_releases AS (%1 AND (SELECT ok FROM ok))")
                     .arg(QString::fromLatin1(kReleases).replace(
                         QStringLiteral("CAST(? AS json)"), json(releasesJson(releasedApart))));
    }
    const bool newWork =
        !batch.releasedLeases.isEmpty() ||
        std::any_of(batch.events.begin(), batch.events.end(),
                    [](const EventRow &e) { return e.type == EventType::RunCreated; });
    // Delivered when the statement commits, never before.
    parts << QStringLiteral("n_events AS (SELECT pg_notify('%1', '') FROM ok WHERE ok AND %2)")
                 .arg(QLatin1String(eventsChannel()),
                      batch.events.isEmpty() ? QStringLiteral("false") : QStringLiteral("true"));
    parts << QStringLiteral("n_work AS (SELECT pg_notify('%1', '') FROM ok WHERE ok AND %2)")
                 .arg(QLatin1String(workChannel()),
                      newWork ? QStringLiteral("true") : QStringLiteral("false"));
    const QString sql =
        QStringLiteral("WITH %1 SELECT (SELECT ok FROM ok), %2, "
                       "(SELECT json_agg(json_build_array(id, owner, lease_epoch)) FROM held), "
                       "(SELECT count(*) FROM n_events), (SELECT count(*) FROM n_work)")
            .arg(parts.join(QStringLiteral(", ")),
                 batch.events.isEmpty()
                     ? QStringLiteral("NULL")
                     : QStringLiteral("(SELECT string_agg(CAST(id AS text), ',' ORDER BY id) "
                                      "FROM w_events)"));
    auto cached = m_oneStatement.find(sql);
    if (cached == m_oneStatement.end()) {
        QSqlQuery query(m_db);
        if (!query.prepare(sql))
            return Status::error(QStringLiteral("%1: cannot prepare a statement: %2")
                                     .arg(m_display, query.lastError().text()));
        cached = m_oneStatement.insert(sql, query);
    }
    QSqlQuery &query = *cached;
    for (int i = 0; i < binds.size(); ++i)
        query.bindValue(i, binds[i]);
    if (!query.exec() || !query.next())
        return Status::error(
            QStringLiteral("%1: cannot commit: %2").arg(m_display, query.lastError().text()));
    CommitResult result;
    result.lastEventId = lastEventId;
    const bool ok = query.value(0).toBool();
    const QString ids = query.value(1).toString();
    const QString held = query.value(2).toString();
    query.finish();
    if (!ok) {
        // [[id, owner, epoch], ...]: who holds each fenced run now.
        RunHolders holders;
        const QJsonArray rows = QJsonDocument::fromJson(held.toUtf8()).array();
        for (const QJsonValue &row : rows) {
            const QJsonArray fields = row.toArray();
            holders.insert(fields.at(0).toString(),
                           {fields.at(1).toString(), fields.at(2).toInteger()});
        }
        result.lostRuns = runsLostBy(batch, holders);
        if (result.lostRuns.isEmpty())
            return Status::error(
                QStringLiteral("%1: the lease check failed without a lost run").arg(m_display));
        return result;
    }
    for (const QString &id : ids.split(QLatin1Char(','), Qt::SkipEmptyParts))
        result.eventIds << id.toLongLong();
    if (!result.eventIds.isEmpty())
        result.lastEventId = result.eventIds.last();
    return result;
}

Result<CommitResult> PostgresBatchWriter::writeInTransaction(const Batch &batch,
                                                             qint64 lastEventId) {
    if (!m_statements) {
        auto statements = std::make_unique<Statements>(m_db);
        const std::pair<QSqlQuery *, const char *> all[] = {
            {&statements->runs, kRuns},
            {&statements->steps, kSteps},
            {&statements->attempts, kAttempts},
            {&statements->events, kEvents},
            {&statements->resources, kResources},
            {&statements->clearItems, kClearItems},
            {&statements->removeSteps, kRemoveSteps},
            {&statements->items, kItems},
            {&statements->answers, kAnswers},
            {&statements->releases, kReleases},
            {&statements->fence, kFence}};
        for (const auto &[query, sql] : all) {
            if (!query->prepare(QString::fromLatin1(sql)))
                return Status::error(QStringLiteral("%1: cannot prepare a statement: %2")
                                         .arg(m_display, query->lastError().text()));
        }
        m_statements = std::move(statements);
    }
    Statements &s = *m_statements;
    QSqlQuery control(m_db);
    if (!control.exec(QStringLiteral("BEGIN")))
        return Status::error(QStringLiteral("%1: cannot begin a transaction: %2")
                                 .arg(m_display, control.lastError().text()));
    auto rollback = [&control](Status status) -> Result<CommitResult> {
        control.exec(QStringLiteral("ROLLBACK"));
        return status;
    };

    CommitResult result;
    if (!batch.fencedRuns.isEmpty()) {
        s.fence.bindValue(0, QString::fromUtf8(fencedRunIdsJson(batch)));
        if (!s.fence.exec())
            return rollback(Status::error(QStringLiteral("%1: cannot check the leases: %2")
                                              .arg(m_display, s.fence.lastError().text())));
        RunHolders holders;
        while (s.fence.next())
            holders.insert(s.fence.value(0).toString(),
                           {s.fence.value(1).toString(), s.fence.value(2).toLongLong()});
        s.fence.finish();
        result.lostRuns = runsLostBy(batch, holders);
        if (!result.lostRuns.isEmpty()) {
            control.exec(QStringLiteral("ROLLBACK"));
            result.lastEventId = lastEventId;
            return result;
        }
    }

    Status status;
    if (!batch.runs.isEmpty())
        status = run(s.runs, "runs", runsJson(batch));
    if (status && !batch.steps.isEmpty())
        status = run(s.steps, "step runs", stepsJson(batch));
    if (status && !batch.attempts.isEmpty())
        status = run(s.attempts, "attempts", attemptsJson(batch));
    if (status && !batch.events.isEmpty()) {
        const QByteArray json = eventsJson(batch);
        s.events.bindValue(0, QString::fromUtf8(json));
        if (!s.events.exec()) {
            status = Status::error(QStringLiteral("%1: cannot append events: %2")
                                       .arg(m_display, s.events.lastError().text()));
        } else {
            while (s.events.next())
                result.eventIds << s.events.value(0).toLongLong();
            s.events.finish();
            // One statement takes its ids in row order; sorted, they pair with the batch's.
            std::sort(result.eventIds.begin(), result.eventIds.end());
        }
    }
    if (status && !batch.resources.isEmpty())
        status = run(s.resources, "resources", resourcesJson(batch));
    if (status && !batch.clearedItems.isEmpty()) {
        status = run(s.clearItems, "cleared items", clearedItemsJson(batch));
    }
    if (status && !batch.removedSteps.isEmpty())
        status = run(s.removeSteps, "removed steps", removedStepsJson(batch));
    if (status && !batch.items.isEmpty())
        status = run(s.items, "items", itemsJson(batch));
    if (status && !batch.answers.isEmpty())
        status = run(s.answers, "answers", answersJson(batch));
    if (status && !batch.releasedLeases.isEmpty())
        status = run(s.releases, "released leases", releasesJson(batch.releasedLeases));
    // Listeners wake up when this commits (NOTIFY is delivered at commit, never before).
    const bool newWork =
        !batch.releasedLeases.isEmpty() ||
        std::any_of(batch.events.begin(), batch.events.end(),
                    [](const EventRow &e) { return e.type == EventType::RunCreated; });
    for (const auto &[wanted, channel] :
         {std::pair{!batch.events.isEmpty(), eventsChannel()}, std::pair{newWork, workChannel()}}) {
        if (status && wanted &&
            !control.exec(QStringLiteral("SELECT pg_notify('%1', '')").arg(QLatin1String(channel))))
            status = Status::error(QStringLiteral("%1: cannot notify listeners: %2")
                                       .arg(m_display, control.lastError().text()));
    }
    if (status && !control.exec(QStringLiteral("COMMIT")))
        status = Status::error(
            QStringLiteral("%1: cannot commit: %2").arg(m_display, control.lastError().text()));
    if (!status)
        return rollback(status);
    result.lastEventId = result.eventIds.isEmpty() ? lastEventId : result.eventIds.last();
    return result;
}

} // namespace keepflow
