#include "store/sqlitewriter.h"

#include "store/jsonbytes.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace keepflow {

namespace {

// Upserts: a row written twice in one statement (a step started and ended in the same batch)
// ends as the later one, which SQLite applies in order.
const char *const kRunHead = "INSERT INTO runs (id, flow_id, flow_name, state, params, created_at, "
                             "ended_at, owner, lease_until, paused, parent_run, parent_step, "
                             "lease_epoch, adoptions) VALUES ";
// flow_id and position change only when an operator upgrades the run to another flow version.
const char *const kRunTail = " ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
                             "ended_at = excluded.ended_at, paused = excluded.paused, "
                             "adoptions = excluded.adoptions, flow_id = excluded.flow_id";
const char *const kStepHead =
    "INSERT INTO step_runs (run_id, step_id, position, state, attempts, failures, generation, "
    "not_before, started_at, ended_at, error_class, error, via_fallback, output, resource, "
    "queued_at, input_override, policy_override) VALUES ";
const char *const kStepTail =
    " ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, "
    "position = excluded.position, attempts = excluded.attempts, failures = excluded.failures, "
    "generation = excluded.generation, "
    "not_before = excluded.not_before, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, error_class = excluded.error_class, error = excluded.error, "
    "via_fallback = excluded.via_fallback, output = excluded.output, "
    "queued_at = excluded.queued_at, input_override = excluded.input_override, "
    "policy_override = excluded.policy_override";
const char *const kAttemptHead =
    "INSERT INTO attempts (run_id, step_id, item_key, generation, number, idempotency_key, "
    "worker, started_at, ended_at, outcome, error_class, error, lease_epoch, stdout_tail, "
    "stderr_tail, stdout_bytes, stderr_bytes) VALUES ";
const char *const kAttemptTail =
    " ON CONFLICT (run_id, step_id, item_key, generation, number) DO UPDATE SET "
    "ended_at = excluded.ended_at, outcome = excluded.outcome, "
    "error_class = excluded.error_class, error = excluded.error, "
    "stdout_tail = excluded.stdout_tail, stderr_tail = excluded.stderr_tail, "
    "stdout_bytes = excluded.stdout_bytes, stderr_bytes = excluded.stderr_bytes";
const char *const kResourceHead = "INSERT INTO resources (name, paused, breaker_state, opened_at, "
                                  "call_window, updated_at) VALUES ";
const char *const kResourceTail =
    " ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, "
    "breaker_state = excluded.breaker_state, opened_at = excluded.opened_at, "
    "call_window = excluded.call_window, updated_at = excluded.updated_at";
const char *const kItemHead = "INSERT INTO items (run_id, step_id, item_key, position, state, "
                              "attempts, failures, generation, "
                              "not_before, error_class, error, output) VALUES ";
const char *const kItemTail =
    " ON CONFLICT (run_id, step_id, item_key) DO UPDATE SET position = excluded.position, "
    "state = excluded.state, attempts = excluded.attempts, failures = excluded.failures, "
    "generation = excluded.generation, not_before = excluded.not_before, "
    "error_class = excluded.error_class, error = excluded.error, output = excluded.output";
const char *const kEventHead =
    "INSERT INTO events (at, run_id, step_id, type, actor, detail) VALUES ";
const char *const kFence =
    "SELECT id, owner, lease_epoch FROM runs WHERE id IN (SELECT value FROM json_each(?))";
const char *const kReleaseLease =
    "UPDATE runs SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?";

/// Binds positionally from a given index on; empty text and zero times become NULL where asked.
class Binder {
public:
    /// keep holds the bound bytes until the statement has been stepped (SQLITE_STATIC: no copy).
    Binder(sqlite3_stmt *statement, int firstIndex, BindArena &keep)
        : m_statement(statement)
        , m_index(firstIndex)
        , m_keep(keep) {}
    Binder &text(QStringView value) {
        // Most text is ASCII: copied straight into the arena; the rest through Qt's encoder.
        const qsizetype size = value.size();
        char *out = m_keep.allocate(size);
        const char16_t *in = value.utf16();
        for (qsizetype i = 0; i < size; ++i) {
            if (in[i] >= 0x80)
                return bytes(value.toUtf8());
            out[i] = static_cast<char>(in[i]);
        }
        return bound(out, size);
    }
    Binder &bytes(QByteArrayView value) {
        char *out = m_keep.allocate(value.size());
        if (!value.isEmpty())
            std::memcpy(out, value.data(), static_cast<size_t>(value.size()));
        return bound(out, value.size());
    }
    Binder &textOrNull(QStringView value) { return value.isEmpty() ? null() : text(value); }
    /// Compact JSON text, NULL for undefined.
    Binder &jsonOrNull(const QJsonValue &value, QByteArray &scratch) {
        if (value.isUndefined())
            return null();
        scratch.clear(); // keeps its capacity
        appendJson(scratch, value);
        return bytes(scratch);
    }
    Binder &integer(qint64 value) {
        sqlite3_bind_int64(m_statement, m_index++, value);
        return *this;
    }
    Binder &timeOrNull(qint64 ms) { return ms == 0 ? null() : integer(ms); }
    Binder &null() {
        sqlite3_bind_null(m_statement, m_index++);
        return *this;
    }

private:
    Binder &bound(const char *bytes, qsizetype size) {
        sqlite3_bind_text(m_statement, m_index++, bytes, static_cast<int>(size), SQLITE_STATIC);
        return *this;
    }
    sqlite3_stmt *m_statement;
    int m_index;
    BindArena &m_keep;
};

} // namespace

SqliteBatchWriter::SqliteBatchWriter(sqlite3 *db, QString path)
    : m_db(db)
    , m_path(std::move(path)) {
    for (Status s :
         {prepare(m_runs, kRunHead, 14, kRunTail), prepare(m_steps, kStepHead, 18, kStepTail),
          prepare(m_attempts, kAttemptHead, 17, kAttemptTail), prepare(m_events, kEventHead, 6, ""),
          prepare(m_resources, kResourceHead, 6, kResourceTail),
          prepare(m_items, kItemHead, 12, kItemTail)}) {
        if (!s) {
            m_prepared = s;
            return;
        }
    }
    if (sqlite3_prepare_v2(m_db, kReleaseLease, -1, &m_release, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(m_db, kFence, -1, &m_fence, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(m_db, "DELETE FROM items WHERE run_id = ? AND step_id = ?", -1,
                           &m_clearItems, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(m_db, "DELETE FROM step_runs WHERE run_id = ? AND step_id = ?", -1,
                           &m_removeStep, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(
            m_db, "UPDATE requests SET state = ?, result = ?, answered_at = ? WHERE id = ?", -1,
            &m_answer, nullptr) != SQLITE_OK)
        m_prepared = failure(QStringLiteral("cannot prepare a statement"));
}

SqliteBatchWriter::~SqliteBatchWriter() {
    for (Shape *shape : {&m_runs, &m_steps, &m_attempts, &m_events, &m_resources, &m_items}) {
        sqlite3_finalize(shape->single);
        sqlite3_finalize(shape->multi);
    }
    sqlite3_finalize(m_release);
    sqlite3_finalize(m_fence);
    sqlite3_finalize(m_clearItems);
    sqlite3_finalize(m_removeStep);
    sqlite3_finalize(m_answer);
}

Status SqliteBatchWriter::prepare(Shape &shape, const char *head, int columns, const char *tail) {
    shape.columns = columns;
    QByteArray group = "(";
    for (int c = 0; c < columns; ++c)
        group += c == 0 ? "?" : ", ?";
    group += ")";
    for (const int rows : {1, kRowsPerStatement}) {
        QByteArray sql = head;
        for (int r = 0; r < rows; ++r)
            sql += (r == 0 ? QByteArray() : QByteArrayLiteral(", ")) + group;
        sql += tail;
        sqlite3_stmt **target = rows == 1 ? &shape.single : &shape.multi;
        if (sqlite3_prepare_v3(m_db, sql.constData(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, target, nullptr) != SQLITE_OK)
            return failure(QStringLiteral("cannot prepare a statement"));
    }
    return Status::ok();
}

Status SqliteBatchWriter::failure(const QString &what) {
    return Status::error(
        QStringLiteral("%1: %2: %3").arg(m_path, what, QString::fromUtf8(sqlite3_errmsg(m_db))));
}

Status SqliteBatchWriter::exec(const char *sql) {
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return failure(QStringLiteral("cannot execute %1").arg(QLatin1String(sql)));
    return Status::ok();
}

char *BindArena::allocate(qsizetype size) {
    if (size > kBlockSize) {
        m_large.push_back(std::make_unique_for_overwrite<char[]>(static_cast<size_t>(size)));
        return m_large.back().get();
    }
    if (m_blocks.empty())
        m_blocks.push_back(std::make_unique_for_overwrite<char[]>(kBlockSize));
    if (m_used + size > kBlockSize) {
        ++m_block;
        m_used = 0;
        if (m_block == m_blocks.size())
            m_blocks.push_back(std::make_unique_for_overwrite<char[]>(kBlockSize));
    }
    char *at = m_blocks[m_block].get() + m_used;
    m_used += size;
    return at;
}

void BindArena::clear() {
    m_block = 0;
    m_used = 0;
    m_large.clear();
}

template <typename BindRow>
Status SqliteBatchWriter::writeRows(Shape &shape, qsizetype count, const BindRow &bindRow,
                                    const char *what) {
    qsizetype row = 0;
    while (row < count) {
        const bool chunk = count - row >= kRowsPerStatement;
        sqlite3_stmt *statement = chunk ? shape.multi : shape.single;
        const int rows = chunk ? kRowsPerStatement : 1;
        for (int r = 0; r < rows; ++r)
            bindRow(statement, 1 + r * shape.columns, row + r);
        const int rc = sqlite3_step(statement);
        sqlite3_reset(statement); // every parameter is bound again next time: no clear needed
        m_keep.clear();
        if (rc != SQLITE_DONE)
            return failure(QLatin1String(what));
        row += rows;
    }
    return Status::ok();
}

Status SqliteBatchWriter::writeRuns(const Batch &batch) {
    return writeRows(
        m_runs, batch.runs.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const RunRow &run = batch.runs[i];
            Binder(statement, first, m_keep)
                .text(run.id)
                .integer(run.flowId)
                .text(run.flowName)
                .text(stateName(run.state))
                .jsonOrNull(run.params, m_json)
                .integer(run.createdAt)
                .timeOrNull(run.endedAt)
                .textOrNull(run.owner)
                .timeOrNull(run.leaseUntil)
                .integer(run.paused ? 1 : 0)
                .textOrNull(run.parentRun)
                .textOrNull(run.parentStep)
                .integer(run.leaseEpoch)
                .integer(run.adoptions);
        },
        "cannot write runs");
}

Status SqliteBatchWriter::writeStepRuns(const Batch &batch) {
    return writeRows(
        m_steps, batch.steps.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const StepRunRow &row = batch.steps[i];
            Binder(statement, first, m_keep)
                .text(row.runId)
                .text(row.stepId)
                .integer(row.position)
                .text(stateName(row.state))
                .integer(row.attempts)
                .integer(row.failures)
                .integer(row.generation)
                .timeOrNull(row.notBefore)
                .timeOrNull(row.startedAt)
                .timeOrNull(row.endedAt)
                .textOrNull(errorClassName(row.errorClass))
                .textOrNull(row.error)
                .integer(row.viaFallback ? 1 : 0)
                .jsonOrNull(row.output, m_json)
                .textOrNull(row.resource)
                .timeOrNull(row.queuedAt)
                .jsonOrNull(row.inputOverride, m_json)
                .jsonOrNull(row.policyOverride, m_json);
        },
        "cannot write step runs");
}

Status SqliteBatchWriter::writeAttempts(const Batch &batch) {
    return writeRows(
        m_attempts, batch.attempts.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const AttemptRow &row = batch.attempts[i];
            Binder(statement, first, m_keep)
                .text(row.runId)
                .text(row.stepId)
                .text(row.itemKey.isNull() ? QStringLiteral("") : row.itemKey)
                .integer(row.generation)
                .integer(row.number)
                .text(row.idempotencyKey)
                .textOrNull(row.worker)
                .integer(row.startedAt)
                .timeOrNull(row.endedAt)
                .textOrNull(outcomeName(row.outcome))
                .textOrNull(errorClassName(row.errorClass))
                .textOrNull(row.error)
                .integer(row.leaseEpoch)
                .textOrNull(row.captured.stdoutTail)
                .textOrNull(row.captured.stderrTail)
                .integer(row.captured.stdoutBytes)
                .integer(row.captured.stderrBytes);
        },
        "cannot write attempts");
}

Status SqliteBatchWriter::writeEvents(const Batch &batch) {
    return writeRows(
        m_events, batch.events.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const EventRow &event = batch.events[i];
            Binder(statement, first, m_keep)
                .integer(event.at)
                .textOrNull(event.runId)
                .textOrNull(event.stepId)
                .text(eventTypeName(event.type))
                .text(event.actor)
                .jsonOrNull(event.detail, m_json);
        },
        "cannot append events");
}

Status SqliteBatchWriter::writeResources(const Batch &batch) {
    return writeRows(
        m_resources, batch.resources.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const ResourceRow &row = batch.resources[i];
            Binder(statement, first, m_keep)
                .text(row.name)
                .integer(row.paused ? 1 : 0)
                .text(row.breakerState)
                .timeOrNull(row.openedAt)
                .text(row.window.isNull() ? QStringLiteral("") : row.window)
                .integer(row.updatedAt);
        },
        "cannot write resources");
}

Status SqliteBatchWriter::writeItems(const Batch &batch) {
    return writeRows(
        m_items, batch.items.size(),
        [this, &batch](sqlite3_stmt *statement, int first, qsizetype i) {
            const ItemRow &row = batch.items[i];
            Binder(statement, first, m_keep)
                .text(row.runId)
                .text(row.stepId)
                .text(row.itemKey)
                .integer(row.position)
                .text(stateName(row.state))
                .integer(row.attempts)
                .integer(row.failures)
                .integer(row.generation)
                .timeOrNull(row.notBefore)
                .textOrNull(errorClassName(row.errorClass))
                .textOrNull(row.error)
                .jsonOrNull(row.output, m_json);
        },
        "cannot write items");
}

Status SqliteBatchWriter::stepBound(sqlite3_stmt *statement, const QString &whatFailed) {
    const int rc = sqlite3_step(statement);
    sqlite3_reset(statement);
    m_keep.clear();
    return rc == SQLITE_DONE ? Status::ok() : failure(whatFailed);
}

Status SqliteBatchWriter::clearItems(const Batch &batch) {
    Status status;
    for (const auto &[runId, stepId] : batch.clearedItems) {
        Binder(m_clearItems, 1, m_keep).text(runId).text(stepId);
        if (status = stepBound(m_clearItems,
                               QStringLiteral("cannot clear the items of step %1").arg(stepId));
            !status)
            break;
    }
    return status;
}

Status SqliteBatchWriter::removeSteps(const Batch &batch) {
    Status status;
    for (const auto &[runId, stepId] : batch.removedSteps) {
        Binder(m_removeStep, 1, m_keep).text(runId).text(stepId);
        if (status = stepBound(
                m_removeStep, QStringLiteral("cannot remove step %1 of run %2").arg(stepId, runId));
            !status)
            break;
    }
    return status;
}

Status SqliteBatchWriter::writeAnswers(const Batch &batch) {
    Status status;
    for (const RequestRow &answer : batch.answers) {
        Binder(m_answer, 1, m_keep)
            .text(answer.state)
            .text(answer.result)
            .integer(answer.answeredAt)
            .integer(answer.id);
        if (status = stepBound(m_answer, QStringLiteral("cannot answer request %1").arg(answer.id));
            !status)
            break;
    }
    return status;
}

Status SqliteBatchWriter::releaseLeases(const Batch &batch) {
    Status status;
    for (const auto &[runId, owner] : batch.releasedLeases) {
        Binder(m_release, 1, m_keep).text(runId).text(owner);
        if (status = stepBound(m_release, QStringLiteral("cannot release run %1").arg(runId));
            !status)
            break;
    }
    return status;
}

Result<QStringList> SqliteBatchWriter::lostRuns(const Batch &batch) {
    if (batch.fencedRuns.isEmpty())
        return QStringList();
    Binder(m_fence, 1, m_keep).bytes(fencedRunIdsJson(batch));
    RunHolders holders;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(m_fence)) == SQLITE_ROW) {
        const auto column = [this](int i) {
            return QString::fromUtf8(
                reinterpret_cast<const char *>(sqlite3_column_text(m_fence, i)),
                sqlite3_column_bytes(m_fence, i));
        };
        holders.insert(column(0), {column(1), sqlite3_column_int64(m_fence, 2)});
    }
    sqlite3_reset(m_fence);
    m_keep.clear();
    if (rc != SQLITE_DONE)
        return failure(QStringLiteral("cannot check the leases"));
    return runsLostBy(batch, holders);
}

Result<CommitResult> SqliteBatchWriter::write(const Batch &batch, qint64 lastEventId) {
    if (!m_prepared)
        return m_prepared;
    if (Status s = exec("BEGIN IMMEDIATE"); !s)
        return s;
    auto rollback = [this](const Status &status) -> Result<CommitResult> {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        return status;
    };
    CommitResult result;
    result.lastEventId = lastEventId;
    // The fence, under the write lock: no claim can come between this check and the commit.
    auto lost = lostRuns(batch);
    if (!lost)
        return rollback(lost.status());
    if (!lost->isEmpty()) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        result.lostRuns = *lost;
        return result;
    }

    Status status = writeRuns(batch);
    if (status)
        status = writeStepRuns(batch);
    if (status)
        status = writeAttempts(batch);
    if (status)
        status = writeEvents(batch);
    if (status)
        status = writeResources(batch);
    if (status)
        status = clearItems(batch);
    if (status)
        status = removeSteps(batch);
    if (status)
        status = writeItems(batch);
    if (status)
        status = writeAnswers(batch);
    if (status)
        status = releaseLeases(batch);
    if (status)
        status = exec("COMMIT");
    if (!status)
        return rollback(status);
    // One writer at a time: the batch's events got consecutive ids ending at the last rowid.
    if (!batch.events.isEmpty()) {
        result.lastEventId = sqlite3_last_insert_rowid(m_db);
        for (qint64 id = result.lastEventId - batch.events.size() + 1; id <= result.lastEventId;
             ++id)
            result.eventIds << id;
    }
    return result;
}

} // namespace keepflow
