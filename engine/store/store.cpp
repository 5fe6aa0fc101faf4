#include "store/store.h"

#include "core/databaseaddress.h"
#include "core/messagetext.h"
#include "store/jsonbytes.h"
#include "store/postgreswriter.h"
#include "store/sqlitewriter.h"

#include <sqlite3.h>

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QThread>
#include <QUrl>
#include <QVariant>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace keepflow {

namespace {

// Migration N takes the schema from version N-1 to N. Portable SQL: SQLite and PostgreSQL
// differ only where %AUTO_ID%, %WITHOUT_ROWID%, %XACT_ID% and %FEED_INDEX% stand
// (migrationScript()).
const QStringList &migrations() {
    static const QStringList steps = {
        // 1: the whole first schema.
        QStringLiteral(R"(
CREATE TABLE flows (
    id %AUTO_ID%,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    source_path TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (name, version));
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    flow_id BIGINT NOT NULL REFERENCES flows (id),
    flow_name TEXT NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    owner TEXT,
    lease_until BIGINT,
    paused INTEGER NOT NULL DEFAULT 0,
    parent_run TEXT,
    parent_step TEXT);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_state ON runs (state);
CREATE TABLE step_runs (
    run_id TEXT NOT NULL REFERENCES runs (id),
    step_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    not_before BIGINT,
    started_at BIGINT,
    ended_at BIGINT,
    error_class TEXT,
    error TEXT,
    via_fallback INTEGER NOT NULL,
    output TEXT,
    input_override TEXT,
    resource TEXT,
    queued_at BIGINT,
    PRIMARY KEY (run_id, step_id))%WITHOUT_ROWID%;
CREATE TABLE attempts (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    generation INTEGER NOT NULL,
    number INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    worker TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT,
    error_class TEXT,
    error TEXT,
    PRIMARY KEY (run_id, step_id, item_key, generation, number))%WITHOUT_ROWID%;
CREATE TABLE items (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    not_before BIGINT,
    error_class TEXT,
    error TEXT,
    output TEXT,
    PRIMARY KEY (run_id, step_id, item_key))%WITHOUT_ROWID%;
CREATE TABLE resources (
    name TEXT PRIMARY KEY,
    paused INTEGER NOT NULL,
    breaker_state TEXT NOT NULL,
    opened_at BIGINT,
    call_window TEXT NOT NULL,
    updated_at BIGINT NOT NULL);
CREATE TABLE events (
    id %AUTO_ID%,
    at BIGINT NOT NULL,
    run_id TEXT,
    step_id TEXT,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX events_by_run ON events (run_id, id);
CREATE TABLE requests (
    id %AUTO_ID%,
    run_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    answered_at BIGINT);
CREATE INDEX requests_pending ON requests (state, run_id);
)"),
        // 2: several workers on one database: fenced leases, adoptions, worker heartbeats, and
        // the change feed's order (xact: the writing transaction on PostgreSQL, 0 on SQLite).
        QStringLiteral(R"(
ALTER TABLE runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN adoptions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN xact BIGINT NOT NULL DEFAULT %XACT_ID%;
CREATE INDEX runs_by_owner ON runs (owner);
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL);
%FEED_INDEX%
)"),
        // 3: who may do what on a shared database (PostgreSQL only: postgresqlOnly()).
        QString(),
        // 4: what each attempt printed (CapturedOutput): sizes and tails.
        QStringLiteral(R"(
ALTER TABLE attempts ADD COLUMN stdout_tail TEXT;
ALTER TABLE attempts ADD COLUMN stderr_tail TEXT;
ALTER TABLE attempts ADD COLUMN stdout_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN stderr_bytes BIGINT NOT NULL DEFAULT 0;
)"),
        // 5: triage across runs. Partial indexes hold only the steps in trouble and the steps
        // with an error, so that the steps going well (almost all writes) never touch them.
        QStringLiteral(R"(
CREATE INDEX step_runs_troubled ON step_runs (state, run_id) WHERE state IN ('failed', 'uncertain',
    'partially_succeeded', 'retrying', 'waiting_for_operator', 'paused', 'blocked');
CREATE INDEX step_runs_with_error ON step_runs (run_id) WHERE error IS NOT NULL;
)"),
        // 6: alerts. Rules; the conditions that fired (each once, whichever process saw it);
        // how far the change feed has been looked at for them, so that a restart goes on there.
        QStringLiteral(R"(
CREATE TABLE alert_rules (
    id %AUTO_ID%,
    kind TEXT NOT NULL,
    flow TEXT,
    step TEXT,
    resource TEXT,
    factor DOUBLE PRECISION,
    threshold INTEGER,
    window_ms BIGINT,
    command TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL);
CREATE TABLE alert_firings (
    rule_id BIGINT NOT NULL,
    condition_key TEXT NOT NULL,
    fired_at BIGINT NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (rule_id, condition_key));
CREATE TABLE alert_cursor (
    name TEXT PRIMARY KEY,
    xact BIGINT NOT NULL,
    event_id BIGINT NOT NULL);
)"),
        // 7: the runs of one flow by time (step statistics, the runs list filtered by flow)
        // without reading every run.
        QStringLiteral(R"(
CREATE INDEX runs_by_flow ON runs (flow_name, created_at);
)"),
        // 8: live policy changes. A step's (the keys an operator changed) lives with its step
        // run; a resource's limits set live, and the ones the newest flow declares, with it.
        QStringLiteral(R"(
ALTER TABLE step_runs ADD COLUMN policy_override TEXT;
ALTER TABLE resources ADD COLUMN concurrency_override INTEGER;
ALTER TABLE resources ADD COLUMN rate_override TEXT;
ALTER TABLE resources ADD COLUMN declared_concurrency INTEGER;
ALTER TABLE resources ADD COLUMN declared_rate TEXT;
)"),
    };
    return steps;
}

/// What a migration also does on PostgreSQL, run as one statement after its portable part.
/// 3: two group roles: keepflow_watcher may read everything (the desktop shows actions
/// disabled), keepflow_operator may act and run workers too; grant one of them to each login
/// role. Creating roles needs CREATEROLE: without it the migration says so and goes on.
QString postgresqlOnly(int migration) {
    if (migration == 6)
        return QStringLiteral(R"(
DO $alerts$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keepflow_operator') THEN
        GRANT SELECT ON alert_rules, alert_firings, alert_cursor TO keepflow_watcher;
        GRANT SELECT, INSERT, UPDATE, DELETE ON alert_rules, alert_firings, alert_cursor
            TO keepflow_operator;
        GRANT USAGE, SELECT ON alert_rules_id_seq TO keepflow_operator;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'keepflow: the alert tables were not granted to the Keepflow roles: %', SQLERRM;
END
$alerts$)");
    if (migration != 3)
        return {};
    return QStringLiteral(R"(
DO $roles$
DECLARE
    tables text := 'flows, runs, step_runs, attempts, items, resources, events, requests, workers';
BEGIN
    -- Roles belong to the server: another database migrating at the same moment may create
    -- one between the check and CREATE ROLE (then a duplicate), which is as good.
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keepflow_watcher') THEN
            CREATE ROLE keepflow_watcher NOLOGIN;
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keepflow_operator') THEN
            CREATE ROLE keepflow_operator NOLOGIN;
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO keepflow_watcher, keepflow_operator',
                   current_schema());
    EXECUTE format('GRANT SELECT ON meta, %s TO keepflow_watcher, keepflow_operator', tables);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO keepflow_operator', tables);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO keepflow_operator',
                   current_schema());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'keepflow: the roles keepflow_watcher and keepflow_operator were not set up: %',
        SQLERRM;
END
$roles$)");
}

/// A JSON column's value (any JSON, scalars too); undefined for text that is not JSON.
QJsonValue jsonFromUtf8(QByteArrayView utf8) {
    QByteArray text;
    text.reserve(utf8.size() + 2);
    text += '[';
    text += utf8;
    text += ']';
    const QJsonDocument document = QJsonDocument::fromJson(text);
    return document.isArray() && !document.array().isEmpty() ? document.array().first()
                                                             : QJsonValue(QJsonValue::Undefined);
}

QJsonValue jsonFromText(const QVariant &column) {
    if (column.isNull())
        return QJsonValue(QJsonValue::Undefined);
    return jsonFromUtf8(column.toString().toUtf8());
}

/// One row's values as Qt SQL's query gives them.
class QueryColumns {
public:
    explicit QueryColumns(const QSqlQuery &query)
        : m_query(query) {}
    QString text(int column) const { return m_query.value(column).toString(); }
    qint64 integer(int column) const { return m_query.value(column).toLongLong(); }
    bool isNull(int column) const { return m_query.value(column).isNull(); }
    QJsonValue json(int column) const { return jsonFromText(m_query.value(column)); }

private:
    const QSqlQuery &m_query;
};

/// The same, straight from a sqlite3 statement stepped to a row: bulk loads on SQLite (a
/// worker loads every step row of the runs it claims), where Qt SQL's QVariant per value cost
/// more than the read itself. NULL reads as Qt SQL reads it: a null string, 0, undefined JSON.
class StatementColumns {
public:
    explicit StatementColumns(sqlite3_stmt *statement)
        : m_statement(statement) {}
    QString text(int column) const { return QString::fromUtf8(utf8(column)); }
    qint64 integer(int column) const { return sqlite3_column_int64(m_statement, column); }
    bool isNull(int column) const {
        return sqlite3_column_type(m_statement, column) == SQLITE_NULL;
    }
    QJsonValue json(int column) const {
        return isNull(column) ? QJsonValue(QJsonValue::Undefined) : jsonFromUtf8(utf8(column));
    }

private:
    QByteArrayView utf8(int column) const {
        const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(m_statement, column));
        return QByteArrayView(text, text ? sqlite3_column_bytes(m_statement, column) : 0);
    }
    sqlite3_stmt *m_statement;
};

std::atomic<int> connectionCounter{0};

template <typename Enum> std::optional<Enum> enumFromText(const QString &text);
template <> std::optional<RunState> enumFromText(const QString &text) {
    return runStateFromName(text);
}
template <> std::optional<StepState> enumFromText(const QString &text) {
    return stepStateFromName(text);
}
template <> std::optional<AttemptOutcome> enumFromText(const QString &text) {
    return outcomeFromName(text);
}
template <> std::optional<ErrorClass> enumFromText(const QString &text) {
    return errorClassFromName(text);
}
template <> std::optional<EventType> enumFromText(const QString &text) {
    return eventTypeFromName(text);
}

/// Reads the enum columns of one row. A name the enum does not know (a database written by
/// something else, or damaged) is an error naming the table, the row and the value; the first one
/// is kept, and the row is not used.
template <typename Columns> class EnumColumnsOf {
public:
    explicit EnumColumnsOf(const Columns &columns)
        : m_columns(columns) {}

    /// A NOT NULL column.
    template <typename Enum> Enum required(int column, const char *name) {
        const QString text = m_columns.text(column);
        if (const std::optional<Enum> value = enumFromText<Enum>(text))
            return *value;
        unknown(name, text);
        return Enum{};
    }
    /// A column that is NULL (or empty) while unset.
    template <typename Enum> std::optional<Enum> optional(int column, const char *name) {
        if (m_columns.isNull(column))
            return std::nullopt;
        const QString text = m_columns.text(column);
        if (text.isEmpty())
            return std::nullopt;
        const std::optional<Enum> known = enumFromText<Enum>(text);
        if (!known)
            unknown(name, text);
        return known;
    }

    bool isOk() const { return m_column == nullptr; }
    /// The error for the row key describes: 'step_runs row (run_id "r1", step_id "a") has an
    /// unknown state "bogus"'.
    Status error(const char *table, const QString &key) const {
        return Status::error(QStringLiteral("%1 row (%2) has an unknown %3 \"%4\"")
                                 .arg(QLatin1String(table), key, QLatin1String(m_column), m_text));
    }

private:
    void unknown(const char *column, const QString &text) {
        if (m_column)
            return;
        m_column = column;
        m_text = text;
    }
    Columns m_columns;
    const char *m_column = nullptr;
    QString m_text;
};

/// Enum columns of Qt SQL's query.
class EnumColumns : public EnumColumnsOf<QueryColumns> {
public:
    explicit EnumColumns(const QSqlQuery &query)
        : EnumColumnsOf<QueryColumns>(QueryColumns(query)) {}
};

/// 'run_id "r1", step_id "a"': the key of a row in an error.
QString rowKey(std::initializer_list<std::pair<const char *, QString>> columns) {
    QStringList parts;
    for (const auto &[column, value] : columns)
        parts << QStringLiteral("%1 \"%2\"").arg(QLatin1String(column), value);
    return parts.join(QStringLiteral(", "));
}

/// Why a connection failed or broke, in libpq's or the server's words on one line, its lines
/// joined by "; " (not Qt's driver's "QPSQL: Unable to connect").
QString connectionErrorText(const QSqlError &error) {
    const QString text = error.databaseText().isEmpty() ? error.text() : error.databaseText();
    QStringList lines;
    for (const QString &line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        if (!line.simplified().isEmpty())
            lines << line.simplified();
    }
    return lines.join(QStringLiteral("; "));
}

} // namespace

struct Store::Impl {
    QString path; ///< the SQLite file, or the PostgreSQL URL (how messages name the database)
    bool postgres = false;
    QString connectionName;
    QSqlDatabase db;
    int schemaVersion = 0;
    bool broken = false;
    qint64 lastEventId = 0;
    /// Why writes are refused when the database was opened read-only; empty otherwise.
    QString readOnlyReason;
    QStringList warnings;
    QString databaseRole; ///< PostgreSQL: session_user, the authenticated role

    std::unique_ptr<SqliteBatchWriter> writer;
    std::unique_ptr<PostgresBatchWriter> postgresWriter;
    sqlite3 *sqlite = nullptr; ///< the handle Qt SQL's SQLite connection owns (reads around Qt)

    ~Impl() {
        writer.reset(); // its statements must go before the connection closes
        postgresWriter.reset();
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(connectionName);
    }

    /// What the database said about the last statement that failed (PostgreSQL's or libpq's
    /// words): why, when the driver closed a connection that broke.
    mutable QString lastDatabaseText;

    QString fail(const QString &what, const QSqlError &error) const {
        if (!error.databaseText().isEmpty())
            lastDatabaseText = connectionErrorText(error);
        return QStringLiteral("%1: %2: %3").arg(path, what, error.text());
    }

    Status writable() const {
        if (!readOnlyReason.isEmpty())
            return Status::error(QStringLiteral("%1: opened read-only (%2); nothing can be changed")
                                     .arg(path, readOnlyReason));
        if (broken)
            return Status::error(QStringLiteral("%1: an earlier write failed; reopen the database "
                                                "before writing again")
                                     .arg(path));
        return Status::ok();
    }

    Status exec(const QString &sql) {
        QSqlQuery query(db);
        if (!query.exec(sql))
            return Status::error(
                fail(QStringLiteral("cannot execute \"%1\"").arg(sql.simplified().left(60)),
                     query.lastError()));
        return Status::ok();
    }

    Result<QSqlQuery> prepare(const QString &sql) {
        QSqlQuery query(db);
        if (!query.prepare(sql))
            return Status::error(
                fail(QStringLiteral("cannot prepare a statement"), query.lastError()));
        return query;
    }

    Result<int> storedSchemaVersion();
    Status migrate();

    // ---- dialect seams -----------------------------------------------------------------------
    /// Starts a write transaction. SQLite takes its write lock now (IMMEDIATE), so that the
    /// reads inside see the state the writes apply to; PostgreSQL locks rows as it reads them.
    Status beginWrite() {
        return exec(postgres ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE"));
    }
    /// Ends a transaction whose first failure was status: COMMIT when ok, ROLLBACK otherwise.
    Status finish(Status status) {
        if (status)
            status = exec(QStringLiteral("COMMIT"));
        if (!status)
            exec(QStringLiteral("ROLLBACK"));
        return status;
    }
    /// A claim's transaction: begun (beginWrite()), with the database's clock read inside it.
    /// On failure nothing is left open.
    Result<qint64> beginClaim(qint64 callerNow) {
        if (Status s = writable(); !s)
            return s;
        if (Status s = beginWrite(); !s)
            return s;
        auto now = postgres ? serverNow() : Result<qint64>(callerNow);
        if (!now)
            exec(QStringLiteral("ROLLBACK"));
        return now;
    }
    /// Ends a claim's transaction after query failed: rolled back, the error saying why.
    Status abortClaim(const QSqlQuery &query) {
        const Status status =
            Status::error(fail(QStringLiteral("cannot claim runs"), query.lastError()));
        exec(QStringLiteral("ROLLBACK"));
        return status;
    }
    /// Case-insensitive LIKE: SQLite's LIKE is, for ASCII; PostgreSQL needs ILIKE.
    QString like() const { return postgres ? QStringLiteral("ILIKE") : QStringLiteral("LIKE"); }
    /// Wakes the workers listening for work when the transaction commits (PostgreSQL).
    Status notifyWork() {
        if (!postgres)
            return Status::ok();
        return exec(QStringLiteral("SELECT pg_notify('%1', '')")
                        .arg(QLatin1String(PostgresBatchWriter::workChannel())));
    }
    /// Wakes the change feeds when the transaction commits (PostgreSQL): for events written
    /// outside the batch writer, which notifies for its own.
    Status notifyEvents() {
        if (!postgres)
            return Status::ok();
        return exec(QStringLiteral("SELECT pg_notify('%1', '')")
                        .arg(QLatin1String(PostgresBatchWriter::eventsChannel())));
    }
    Result<qint64> serverNow();
    Status openPostgres(const DatabaseAddress &address, const StoreOptions &options);
};

namespace {

/// A migration's portable text made concrete for one dialect.
QString migrationScript(QString script, bool postgres) {
    // SQLite: events are never deleted, so a plain rowid key grows monotonically without
    // AUTOINCREMENT's extra write to sqlite_sequence on every insert.
    script.replace(QStringLiteral("%AUTO_ID%"), postgres ? QStringLiteral("BIGSERIAL PRIMARY KEY")
                                                         : QStringLiteral("INTEGER PRIMARY KEY"));
    script.replace(QStringLiteral("%WITHOUT_ROWID%"),
                   postgres ? QString() : QStringLiteral(" WITHOUT ROWID"));
    // The transaction that writes an event, as a number: what the feed orders by on PostgreSQL.
    script.replace(QStringLiteral("%XACT_ID%"),
                   postgres ? QStringLiteral("(CAST(CAST(pg_current_xact_id() AS text) AS bigint))")
                            : QStringLiteral("0"));
    script.replace(QStringLiteral("%FEED_INDEX%"),
                   postgres ? QStringLiteral("CREATE INDEX events_feed ON events (xact, id);")
                            : QString());
    return script;
}

} // namespace

Result<qint64> Store::Impl::serverNow() {
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral(
            "SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint)")) ||
        !query.next())
        return Status::error(
            fail(QStringLiteral("cannot read the server's clock"), query.lastError()));
    return query.value(0).toLongLong();
}

namespace {

/// The tables the migrations create (not meta).
const QStringList &keepflowTables() {
    static const QStringList tables = {
        QStringLiteral("flows"),         QStringLiteral("runs"),
        QStringLiteral("step_runs"),     QStringLiteral("attempts"),
        QStringLiteral("items"),         QStringLiteral("resources"),
        QStringLiteral("events"),        QStringLiteral("requests"),
        QStringLiteral("workers"),       QStringLiteral("alert_rules"),
        QStringLiteral("alert_firings"), QStringLiteral("alert_cursor")};
    return tables;
}

/// A meta value as it reads in a message: NULL, or the text quoted with control characters
/// escaped (it comes from a damaged or foreign file).
QString metaValueText(const QString &type, const QString &text) {
    if (type == QLatin1String("null"))
        return QStringLiteral("NULL");
    if (type == QLatin1String("blob"))
        return QStringLiteral("(a blob)");
    return quotedForMessage(text, 40);
}

} // namespace

/// The schema version recorded in the meta table: 0 for a new, empty file. Anything a Keepflow
/// never writes there (a value that is not a version, an unknown or repeated key, a missing row
/// or table next to Keepflow's tables) is an error naming the file, never a guess: migrating a
/// damaged file would make it worse.
Result<int> Store::Impl::storedSchemaVersion() {
    const int latest = static_cast<int>(migrations().size());
    const auto damaged = [this](const QString &what) {
        return Status::error(
            QStringLiteral("%1: %2; the file is damaged or not a Keepflow database")
                .arg(path, what));
    };
    QSqlQuery tables(db);
    if (!tables.exec(postgres
                         ? QStringLiteral("SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = current_schema()")
                         : QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table'")))
        return Status::error(fail(QStringLiteral("cannot read the schema"), tables.lastError()));
    QStringList names;
    while (tables.next())
        names << tables.value(0).toString();
    QStringList ours;
    for (const QString &table : keepflowTables()) {
        if (names.contains(table))
            ours << table;
    }
    if (!names.contains(QLatin1String("meta"))) {
        if (!ours.isEmpty())
            return damaged(QStringLiteral("it has Keepflow tables (%1) but no meta table, so no "
                                          "schema version")
                               .arg(ours.join(QStringLiteral(", "))));
        if (!names.isEmpty())
            return Status::error(QStringLiteral("%1: not a Keepflow database (it has the tables "
                                                "%2 and no meta table)")
                                     .arg(path, names.join(QStringLiteral(", "))));
        return 0; // a new, empty file
    }
    QSqlQuery meta(db);
    if (!meta.exec(postgres ? QStringLiteral("SELECT key, 'text', value FROM meta")
                            : QStringLiteral("SELECT key, typeof(value), value FROM meta")))
        return damaged(
            QStringLiteral("cannot read the meta table (%1)").arg(meta.lastError().text()));
    std::optional<int> version;
    bool sawVersion = false;
    while (meta.next()) {
        const QString key = meta.value(0).toString();
        if (key != QLatin1String("schema_version"))
            return damaged(QStringLiteral("the meta table has a key Keepflow does not write "
                                          "(%1)")
                               .arg(quotedForMessage(key, 40)));
        if (sawVersion)
            return damaged(QStringLiteral("the meta table has schema_version more than once"));
        sawVersion = true;
        const QString type = meta.value(1).toString();
        const QString text = meta.value(2).toString();
        bool fits = false;
        // Exactly what migrate() writes: decimal digits, nothing else.
        static const QRegularExpression digits(QStringLiteral("^(0|[1-9][0-9]*)$"));
        const int value = text.toInt(&fits);
        if ((type != QLatin1String("text") && type != QLatin1String("integer")) ||
            !digits.match(text).hasMatch() || !fits)
            return Status::error(QStringLiteral("schema version %1 in %2 is not one Keepflow "
                                                "knows (expected 0..%3); the file is damaged or "
                                                "not a Keepflow database")
                                     .arg(metaValueText(type, text), path)
                                     .arg(latest));
        version = value;
    }
    if (!version) {
        if (!ours.isEmpty())
            return damaged(QStringLiteral("it has Keepflow tables (%1) but its meta table has "
                                          "no schema_version")
                               .arg(ours.join(QStringLiteral(", "))));
        return 0; // the meta table of a file whose first migration never committed
    }
    if (*version > latest)
        return Status::error(QStringLiteral("%1: schema version %2 is newer than this Keepflow "
                                            "(%3): upgrade Keepflow")
                                 .arg(path)
                                 .arg(*version)
                                 .arg(latest));
    if (*version == 0 && !ours.isEmpty())
        return damaged(QStringLiteral("schema version 0 (new) but it already has Keepflow tables "
                                      "(%1)")
                           .arg(ours.join(QStringLiteral(", "))));
    if (*version == latest && ours.size() != keepflowTables().size()) {
        QStringList missing;
        for (const QString &table : keepflowTables()) {
            if (!ours.contains(table))
                missing << table;
        }
        return damaged(QStringLiteral("schema version %1 but the tables %2 are missing")
                           .arg(*version)
                           .arg(missing.join(QStringLiteral(", "))));
    }
    return *version;
}

Status Store::Impl::migrate() {
    const int latest = static_cast<int>(migrations().size());
    while (true) {
        // Under the write lock: another process may have migrated while this one waited.
        if (Status s = beginWrite(); !s)
            return s;
        if (postgres) {
            if (Status s = exec(QStringLiteral("SELECT pg_advisory_xact_lock(7463)")); !s) {
                exec(QStringLiteral("ROLLBACK"));
                return s;
            }
        }
        auto version = storedSchemaVersion();
        if (!version) {
            exec(QStringLiteral("ROLLBACK"));
            return version.status();
        }
        schemaVersion = *version;
        if (schemaVersion == latest)
            return exec(QStringLiteral("COMMIT"));
        QString script = migrations().at(schemaVersion);
        if (schemaVersion == 0)
            script.prepend(QStringLiteral(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"));
        script = migrationScript(script, postgres);
        QStringList statements = script.split(QLatin1Char(';'), Qt::SkipEmptyParts);
        if (postgres && !postgresqlOnly(schemaVersion + 1).isEmpty())
            statements << postgresqlOnly(schemaVersion + 1); // one statement: it holds ';'
        Status status;
        for (const QString &statement : statements) {
            if (statement.trimmed().isEmpty())
                continue;
            status = exec(statement);
            if (!status)
                break;
        }
        if (status)
            status =
                exec(QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', '%1') "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                         .arg(schemaVersion + 1));
        if (status)
            status = exec(QStringLiteral("COMMIT"));
        if (!status) {
            exec(QStringLiteral("ROLLBACK"));
            return Status::error(QStringLiteral("migration to schema version %1 failed: %2")
                                     .arg(schemaVersion + 1)
                                     .arg(status.message()));
        }
    }
}

Store::Store(std::unique_ptr<Impl> impl)
    : d(std::move(impl)) {}
Store::~Store() = default;

namespace {

/// The permission bits of the file at path; nullopt when there is none.
std::optional<mode_t> permissionsOf(const QString &path) {
    struct stat info {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return std::nullopt;
    return info.st_mode & 0777;
}

QString octalMode(mode_t mode) {
    return QStringLiteral("0%1").arg(mode, 3, 8, QLatin1Char('0'));
}

} // namespace

/// Connects to the PostgreSQL server at address and migrates its schema. The password, when the
/// server asks for one, comes from PGPASSWORD or ~/.pgpass (libpq reads them): never set here.
Status Store::Impl::openPostgres(const DatabaseAddress &address, const StoreOptions &options) {
    Impl &impl = *this;
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        return Status::error(QStringLiteral("%1: Qt's PostgreSQL driver (QPSQL) is not installed "
                                            "(Debian: apt-get install libqt6sql6-psql)")
                                 .arg(address.display));
    impl.db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), impl.connectionName);
    impl.db.setDatabaseName(address.database);
    if (!address.host.isEmpty())
        impl.db.setHostName(address.host);
    if (address.port > 0)
        impl.db.setPort(address.port);
    if (!address.user.isEmpty())
        impl.db.setUserName(address.user);
    impl.db.setConnectOptions(QStringLiteral("connect_timeout=%1;application_name=keepflow")
                                  .arg(std::max(1, options.busyTimeoutMs / 1000)));
    if (!impl.db.open())
        return Status::error(QStringLiteral("%1: cannot connect: %2")
                                 .arg(address.display, connectionErrorText(impl.db.lastError())));
    // Quiet notices (a migration's "relation exists" and the like) and a bounded wait for locks.
    for (const QString &setting :
         {QStringLiteral("SET client_min_messages = warning"),
          QStringLiteral("SET lock_timeout = %1").arg(options.busyTimeoutMs)}) {
        if (Status s = impl.exec(setting); !s)
            return s;
    }
    // Who we are to the server, and whether that role may change anything (the watch-only role
    // may not: then the database is watched, as a read-only file is).
    {
        QSqlQuery role(impl.db);
        if (!role.exec(QStringLiteral("SELECT session_user, to_regclass('runs') IS NULL OR "
                                      "has_table_privilege(to_regclass('runs'), 'UPDATE')")) ||
            !role.next())
            return Status::error(
                impl.fail(QStringLiteral("cannot read the role"), role.lastError()));
        impl.databaseRole = role.value(0).toString();
        if (!role.value(1).toBool() && impl.readOnlyReason.isEmpty())
            impl.readOnlyReason =
                QStringLiteral("the database role %1 may only watch; grant it keepflow_operator "
                               "to act")
                    .arg(impl.databaseRole);
    }
    if (impl.readOnlyReason.isEmpty()) {
        if (Status s = impl.migrate(); !s)
            return s;
    } else {
        auto version = impl.storedSchemaVersion();
        if (!version)
            return version.status();
        if (*version != Store::latestSchemaVersion())
            return Status::error(QStringLiteral("%1: schema version %2, expected %3, and it is "
                                                "opened read-only (%4)")
                                     .arg(address.display)
                                     .arg(*version)
                                     .arg(Store::latestSchemaVersion())
                                     .arg(impl.readOnlyReason));
        impl.schemaVersion = *version;
        if (Status s =
                impl.exec(QStringLiteral("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
            !s)
            return s;
    }
    impl.postgresWriter = std::make_unique<PostgresBatchWriter>(impl.db, address.display);
    return Status::ok();
}

Result<std::unique_ptr<Store>> Store::open(const QString &path, const StoreOptions &options) {
    auto address = parseDatabaseAddress(path);
    if (!address)
        return address.status();
    if (address->isPostgres()) {
        auto impl = std::make_unique<Impl>();
        impl->path = address->display;
        impl->postgres = true;
        impl->connectionName =
            QStringLiteral("keepflow-store-%1").arg(connectionCounter.fetch_add(1));
        if (options.readOnly)
            impl->readOnlyReason = QStringLiteral("opened with --read-only");
        if (Status s = impl->openPostgres(*address, options); !s)
            return s;
        auto store = std::unique_ptr<Store>(new Store(std::move(impl)));
        if (auto lastId = store->lastEventId(); !lastId)
            return lastId.status();
        return store;
    }
    const QFileInfo info(path);
    const QString folder = info.absolutePath();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    if (options.readOnly)
        impl->readOnlyReason = QStringLiteral("opened with --read-only");
    if (info.isDir())
        return Status::error(QStringLiteral("%1: is a folder, not a database file").arg(path));
    if (!info.exists()) {
        if (options.readOnly)
            return Status::error(
                QStringLiteral("%1: no such database (opened read-only, so it is not created)")
                    .arg(path));
        if (!QDir().mkpath(folder))
            return Status::error(
                QStringLiteral("%1: cannot create the folder %2").arg(path, folder));
        // Create it owner-only before SQLite does; SQLite gives its -wal and -shm files the
        // same mode as the database file.
        const int fd = ::open(QFile::encodeName(path).constData(),
                              O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return Status::error(
                QStringLiteral("%1: cannot create the database in %2: %3")
                    .arg(path, folder, QString::fromLocal8Bit(std::strerror(errno))));
        if (fd >= 0)
            ::close(fd);
    } else if (!info.isReadable()) {
        return Status::error(
            QStringLiteral("%1: cannot read the database (permission denied)").arg(path));
    } else {
        const mode_t mode = permissionsOf(path).value_or(0600);
        // Said, not changed: the file is the user's, and they may share it on purpose.
        if ((mode & 0077) != 0)
            impl->warnings << QStringLiteral("%1 can be read by other users (mode %2); `chmod 600 "
                                             "%1` makes it owner-only")
                                  .arg(path, octalMode(mode));
        QString notWritable;
        if (!info.isWritable())
            notWritable = QStringLiteral("the file is not writable (mode %1)").arg(octalMode(mode));
        else if (!QFileInfo(folder).isWritable())
            notWritable = QStringLiteral("its folder %1 is not writable, and SQLite needs to "
                                         "create its journal (the -wal and -shm files) there")
                              .arg(folder);
        if (!notWritable.isEmpty() && impl->readOnlyReason.isEmpty()) {
            if (!options.readOnlyWhenNotWritable)
                return Status::error(QStringLiteral("%1: %2; Keepflow records every change, so it "
                                                    "needs write access")
                                         .arg(path, notWritable));
            impl->readOnlyReason = notWritable;
        }
    }
    const bool readOnly = !impl->readOnlyReason.isEmpty();
    const QStringList journalFiles = {path + QStringLiteral("-wal"), path + QStringLiteral("-shm")};
    QStringList newJournalFiles;
    for (const QString &file : journalFiles) {
        if (!QFileInfo::exists(file))
            newJournalFiles << file;
    }

    // SQLite gives a new -wal and -shm the database file's mode; whatever the database's mode,
    // the journal this process creates is owner-only (it holds the same rows).
    const auto makeJournalOwnerOnly = [&newJournalFiles] {
        for (const QString &file : newJournalFiles) {
            if (const auto mode = permissionsOf(file); mode && (*mode & 0077) != 0)
                ::chmod(QFile::encodeName(file).constData(), *mode & 0700);
        }
    };

    impl->connectionName = QStringLiteral("keepflow-store-%1").arg(connectionCounter.fetch_add(1));
    impl->db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), impl->connectionName);
    impl->db.setDatabaseName(path);
    QStringList connectOptions = {
        QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(options.busyTimeoutMs)};
    if (readOnly) {
        connectOptions << QStringLiteral("QSQLITE_OPEN_READONLY");
        if (!QFileInfo(folder).isWritable() && !newJournalFiles.isEmpty()) {
            // A WAL database needs its -shm file even to be read. Without a journal and without
            // a writable folder nobody can change the file, so SQLite may read it as immutable.
            connectOptions << QStringLiteral("QSQLITE_OPEN_URI");
            impl->db.setDatabaseName(
                QUrl::fromLocalFile(info.absoluteFilePath()).toString(QUrl::FullyEncoded) +
                QStringLiteral("?immutable=1"));
        }
    }
    impl->db.setConnectOptions(connectOptions.join(QLatin1Char(';')));
    if (!impl->db.open())
        return Status::error(
            impl->fail(QStringLiteral("cannot open the database"), impl->db.lastError()));

    // The first real read tells a corrupt or foreign file apart from a database.
    QSqlQuery probe(impl->db);
    if (!probe.exec(QStringLiteral("SELECT count(*) FROM sqlite_master"))) {
        const QString why = probe.lastError().text();
        if (why.contains(QLatin1String("readonly"), Qt::CaseInsensitive))
            return Status::error(
                QStringLiteral("%1: cannot be written (read-only file system, or no "
                               "permission to create its -wal and -shm files in %2): %3")
                    .arg(path, folder, why));
        if (why.contains(QLatin1String("unable to open"), Qt::CaseInsensitive))
            return Status::error(QStringLiteral("%1: cannot be opened (SQLite needs to read and "
                                                "create its -wal and -shm files in %2): %3")
                                     .arg(path, folder, why));
        return Status::error(
            QStringLiteral("%1: not a Keepflow database, or it is corrupt: %2").arg(path, why));
    }
    probe.finish();
    // The handle reads around Qt SQL (step statistics, the runs listing), read-only or not.
    const QVariant handle = impl->db.driver()->handle();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0)
        return Status::error(
            QStringLiteral("%1: the Qt SQLite driver gave no sqlite3 handle").arg(path));
    impl->sqlite = *static_cast<sqlite3 *const *>(handle.constData());
    if (readOnly) {
        auto version = impl->storedSchemaVersion();
        if (!version)
            return version.status();
        const int latest = latestSchemaVersion();
        if (*version != latest)
            return Status::error(
                *version == 0
                    ? QStringLiteral("%1: not a Keepflow database yet (empty), and it is opened "
                                     "read-only (%2)")
                          .arg(path, impl->readOnlyReason)
                    : QStringLiteral("%1: schema version %2 must be migrated to %3, which a "
                                     "database opened read-only (%4) cannot be")
                          .arg(path)
                          .arg(*version)
                          .arg(latest)
                          .arg(impl->readOnlyReason));
        impl->schemaVersion = latest;
        makeJournalOwnerOnly();
        // Nothing more is read here: a damaged page elsewhere must not keep `check` from opening.
        return std::unique_ptr<Store>(new Store(std::move(impl)));
    }
    // Switching a new file to WAL needs the file to itself; SQLite does not wait for that lock,
    // so when another process is creating the same database, ask again for the busy timeout.
    QElapsedTimer waited;
    waited.start();
    while (true) {
        QSqlQuery journal(impl->db);
        if (journal.exec(QStringLiteral("PRAGMA journal_mode = WAL")) && journal.next() &&
            journal.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0)
            break;
        const QString why = journal.lastError().isValid() ? journal.lastError().text()
                                                          : QStringLiteral("WAL mode refused");
        const bool locked = why.contains(QLatin1String("locked"), Qt::CaseInsensitive) ||
                            why.contains(QLatin1String("busy"), Qt::CaseInsensitive);
        if (!locked || waited.elapsed() > options.busyTimeoutMs)
            return Status::error(
                QStringLiteral("%1: cannot open the database for writing: %2").arg(path, why));
        QThread::msleep(20);
    }
    const QString sync = options.sync == StoreOptions::Sync::Full ? QStringLiteral("FULL")
                                                                  : QStringLiteral("NORMAL");
    for (const QString &pragma : {QStringLiteral("PRAGMA synchronous = ") + sync,
                                  QStringLiteral("PRAGMA foreign_keys = ON")}) {
        if (Status s = impl->exec(pragma); !s)
            return s;
    }
    if (Status s = impl->migrate(); !s)
        return s;
    makeJournalOwnerOnly();
    if (options.maxPageCount > 0) {
        if (Status s =
                impl->exec(QStringLiteral("PRAGMA max_page_count = %1").arg(options.maxPageCount));
            !s)
            return s;
    }
    impl->writer = std::make_unique<SqliteBatchWriter>(impl->sqlite, path);
    if (!impl->writer->preparation())
        return impl->writer->preparation();
    auto last = std::unique_ptr<Store>(new Store(std::move(impl)));
    auto lastId = last->lastEventId();
    if (!lastId)
        return lastId.status();
    return last;
}

const QString &Store::path() const {
    return d->path;
}
int Store::schemaVersion() const {
    return d->schemaVersion;
}
int Store::latestSchemaVersion() {
    return static_cast<int>(migrations().size());
}
bool Store::isBroken() const {
    return d->broken;
}
bool Store::isReadOnly() const {
    return !d->readOnlyReason.isEmpty();
}
const QString &Store::readOnlyReason() const {
    return d->readOnlyReason;
}
const QStringList &Store::warnings() const {
    return d->warnings;
}

Status Store::checkSchema() {
    auto version = d->storedSchemaVersion();
    if (!version)
        return version.status();
    if (*version != latestSchemaVersion())
        return Status::error(QStringLiteral("%1: schema version %2, expected %3")
                                 .arg(d->path)
                                 .arg(*version)
                                 .arg(latestSchemaVersion()));
    return Status::ok();
}

Result<CommitResult> Store::commit(const Batch &batch) {
    if (Status s = d->writable(); !s)
        return s;
    if (batch.isEmpty()) {
        CommitResult nothing;
        nothing.lastEventId = d->lastEventId;
        return nothing;
    }
    auto result = d->postgres ? d->postgresWriter->write(batch, d->lastEventId)
                              : d->writer->write(batch, d->lastEventId);
    if (!result) {
        // Rolled back; refuse further writes so that nobody carries on from a state the disk
        // does not have.
        d->broken = true;
        return result.status();
    }
    d->lastEventId = std::max(d->lastEventId, result->lastEventId);
    return result;
}

Result<FlowVersionRow> Store::saveFlowVersion(const QString &name, const QByteArray &definition,
                                              const QString &sourcePath) {
    if (Status s = d->writable(); !s)
        return s;
    const QString hash = QString::fromLatin1(
        QCryptographicHash::hash(definition, QCryptographicHash::Sha256).toHex());
    QSqlQuery query(d->db);
    query.prepare(
        QStringLiteral("SELECT id, version, created_at FROM flows WHERE name = ? AND hash = ?"));
    query.addBindValue(name);
    query.addBindValue(hash);
    if (!query.exec())
        return Status::error(d->fail(QStringLiteral("cannot read flows"), query.lastError()));
    FlowVersionRow row;
    row.name = name;
    row.definition = definition;
    row.sourcePath = sourcePath;
    if (query.next()) {
        row.id = query.value(0).toLongLong();
        row.version = query.value(1).toInt();
        row.createdAt = query.value(2).toLongLong();
        return row;
    }
    query.finish();
    if (Status s = d->beginWrite(); !s)
        return s;
    if (d->postgres) {
        // Versions of one name are numbered one writer at a time.
        QSqlQuery lock(d->db);
        lock.prepare(QStringLiteral("SELECT pg_advisory_xact_lock(hashtext(?))"));
        lock.addBindValue(name);
        if (!lock.exec()) {
            const QString message =
                d->fail(QStringLiteral("cannot lock flow %1").arg(name), lock.lastError());
            d->exec(QStringLiteral("ROLLBACK"));
            return Status::error(message);
        }
    }
    QSqlQuery next(d->db);
    next.prepare(QStringLiteral("SELECT COALESCE(MAX(version), 0) + 1 FROM flows WHERE name = ?"));
    next.addBindValue(name);
    if (!next.exec() || !next.next()) {
        d->exec(QStringLiteral("ROLLBACK"));
        return Status::error(d->fail(QStringLiteral("cannot read flows"), next.lastError()));
    }
    row.version = next.value(0).toInt();
    next.finish();
    row.createdAt = QDateTime::currentMSecsSinceEpoch();
    QSqlQuery insert(d->db);
    insert.prepare(
        QStringLiteral("INSERT INTO flows (name, version, hash, definition, source_path, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
    insert.addBindValue(name);
    insert.addBindValue(row.version);
    insert.addBindValue(hash);
    insert.addBindValue(QString::fromUtf8(definition));
    insert.addBindValue(sourcePath);
    insert.addBindValue(row.createdAt);
    if (!insert.exec() || !insert.next()) {
        const QString message =
            d->fail(QStringLiteral("cannot store flow %1").arg(name), insert.lastError());
        insert.finish();
        d->exec(QStringLiteral("ROLLBACK"));
        return Status::error(message);
    }
    row.id = insert.value(0).toLongLong();
    insert.finish();
    if (Status s = d->exec(QStringLiteral("COMMIT")); !s) {
        d->exec(QStringLiteral("ROLLBACK"));
        return s;
    }
    return row;
}

Result<FlowVersionRow> Store::flowVersion(qint64 id) {
    QSqlQuery query(d->db);
    query.prepare(QStringLiteral(
        "SELECT name, version, definition, source_path, created_at FROM flows WHERE id = ?"));
    query.addBindValue(id);
    if (!query.exec())
        return Status::error(d->fail(QStringLiteral("cannot read flows"), query.lastError()));
    if (!query.next())
        return Status::error(QStringLiteral("%1: no flow version %2").arg(d->path).arg(id));
    FlowVersionRow row;
    row.id = id;
    row.name = query.value(0).toString();
    row.version = query.value(1).toInt();
    row.definition = query.value(2).toString().toUtf8();
    row.sourcePath = query.value(3).toString();
    row.createdAt = query.value(4).toLongLong();
    return row;
}

namespace {

/// Runs a SELECT with positional binds and turns each row into a Row.
template <typename Row>
Result<QList<Row>> selectRows(const QSqlDatabase &db, const QString &path, const QString &sql,
                              const QVariantList &binds, const QString &what,
                              Result<Row> (*make)(const QSqlQuery &)) {
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(sql);
    for (const QVariant &bind : binds)
        query.addBindValue(bind);
    if (!query.exec())
        return Status::error(
            QStringLiteral("%1: cannot read %2: %3").arg(path, what, query.lastError().text()));
    QList<Row> rows;
    while (query.next()) {
        Result<Row> row = make(query);
        if (!row)
            return Status::error(
                QStringLiteral("%1: cannot read %2: %3").arg(path, what, row.error()));
        rows.append(std::move(*row));
    }
    return rows;
}

/// The rows of several runs, by run id (bulk loads).
template <typename Row> Result<QHash<QString, QList<Row>>> byRun(Result<QList<Row>> rows) {
    if (!rows)
        return rows.status();
    QHash<QString, QList<Row>> grouped;
    for (Row &row : *rows)
        grouped[row.runId].append(std::move(row));
    return grouped;
}

/// "?, ?, ?": count placeholders for an IN list whose values travel as binds.
QString placeholders(qsizetype count) {
    QStringList marks;
    marks.fill(QStringLiteral("?"), count);
    return marks.join(QStringLiteral(", "));
}

/// placeholders() for the run ids, which are appended to binds.
QString runIdMarks(const QStringList &runIds, QVariantList &binds) {
    for (const QString &id : runIds)
        binds << id;
    return placeholders(runIds.size());
}

} // namespace

namespace {

const char *const kRunColumns =
    "id, flow_id, flow_name, state, params, created_at, ended_at, owner, lease_until, paused, "
    "parent_run, parent_step, lease_epoch, adoptions";

Result<RunRow> runFromQuery(const QSqlQuery &query) {
    EnumColumns columns(query);
    RunRow row;
    row.id = query.value(0).toString();
    row.flowId = query.value(1).toLongLong();
    row.flowName = query.value(2).toString();
    row.state = columns.required<RunState>(3, "state");
    row.params = jsonFromText(query.value(4)).toObject();
    row.createdAt = query.value(5).toLongLong();
    row.endedAt = query.value(6).toLongLong();
    row.owner = query.value(7).toString();
    row.leaseUntil = query.value(8).toLongLong();
    row.paused = query.value(9).toInt() != 0;
    row.parentRun = query.value(10).toString();
    row.parentStep = query.value(11).toString();
    row.leaseEpoch = query.value(12).toLongLong();
    row.adoptions = query.value(13).toInt();
    if (!columns.isOk())
        return columns.error("runs", rowKey({{"id", row.id}}));
    return row;
}

} // namespace

Result<RunRow> Store::run(const QString &id) {
    QSqlQuery query(d->db);
    query.prepare(
        QStringLiteral("SELECT %1 FROM runs WHERE id = ?").arg(QLatin1String(kRunColumns)));
    query.addBindValue(id);
    if (!query.exec())
        return Status::error(d->fail(QStringLiteral("cannot read runs"), query.lastError()));
    if (!query.next())
        return Status::error(QStringLiteral("no run with id \"%1\" in %2").arg(id, d->path));
    auto row = runFromQuery(query);
    if (!row)
        return Status::error(QStringLiteral("%1: cannot read runs: %2").arg(d->path, row.error()));
    return row;
}

Result<std::optional<RunRow>> Store::previousRunOfFlow(const RunRow &run, RunState state) {
    const QString sql =
        QStringLiteral("SELECT %1 FROM runs WHERE flow_name = ? AND state = ? AND id <> ? AND "
                       "(created_at < ? OR (created_at = ? AND id < ?)) "
                       "ORDER BY created_at DESC, id DESC LIMIT 1")
            .arg(QLatin1String(kRunColumns));
    auto rows = selectRows<RunRow>(
        d->db, d->path, sql,
        {run.flowName, stateName(state), run.id, run.createdAt, run.createdAt, run.id},
        QStringLiteral("runs"), runFromQuery);
    if (!rows)
        return rows.status();
    if (rows->isEmpty())
        return std::optional<RunRow>();
    return std::optional<RunRow>(rows->first());
}

namespace {

const char *const kStepColumns =
    "run_id, step_id, position, state, attempts, failures, generation, not_before, started_at, "
    "ended_at, error_class, error, via_fallback, output, resource, queued_at, input_override, "
    "policy_override";

template <typename Columns> Result<StepRunRow> stepRunFrom(const Columns &values) {
    EnumColumnsOf<Columns> columns(values);
    StepRunRow row;
    row.runId = values.text(0);
    row.stepId = values.text(1);
    row.position = static_cast<int>(values.integer(2));
    row.state = columns.template required<StepState>(3, "state");
    row.attempts = static_cast<int>(values.integer(4));
    row.failures = static_cast<int>(values.integer(5));
    row.generation = static_cast<int>(values.integer(6));
    row.notBefore = values.integer(7);
    row.startedAt = values.integer(8);
    row.endedAt = values.integer(9);
    row.errorClass = columns.template optional<ErrorClass>(10, "error_class");
    row.error = values.text(11);
    row.viaFallback = values.integer(12) != 0;
    row.output = values.json(13);
    row.resource = values.text(14);
    row.queuedAt = values.integer(15);
    row.inputOverride = values.json(16);
    row.policyOverride = values.json(17);
    if (!columns.isOk())
        return columns.error("step_runs", rowKey({{"run_id", row.runId}, {"step_id", row.stepId}}));
    return row;
}

Result<StepRunRow> stepRunFromQuery(const QSqlQuery &query) {
    return stepRunFrom(QueryColumns(query));
}

const char *const kAttemptColumns =
    "run_id, step_id, item_key, generation, number, idempotency_key, worker, started_at, "
    "ended_at, outcome, error_class, error, lease_epoch";
constexpr int kAttemptColumnCount = 13;

template <typename Columns> Result<AttemptRow> attemptFrom(const Columns &values) {
    EnumColumnsOf<Columns> columns(values);
    AttemptRow row;
    row.runId = values.text(0);
    row.stepId = values.text(1);
    row.itemKey = values.text(2);
    row.generation = static_cast<int>(values.integer(3));
    row.number = static_cast<int>(values.integer(4));
    row.idempotencyKey = values.text(5);
    row.worker = values.text(6);
    row.startedAt = values.integer(7);
    row.endedAt = values.integer(8);
    row.outcome = columns.template optional<AttemptOutcome>(9, "outcome");
    row.errorClass = columns.template optional<ErrorClass>(10, "error_class");
    row.error = values.text(11);
    row.leaseEpoch = values.integer(12);
    if (!columns.isOk())
        return columns.error("attempts", rowKey({{"run_id", row.runId},
                                                 {"step_id", row.stepId},
                                                 {"item_key", row.itemKey},
                                                 {"generation", QString::number(row.generation)},
                                                 {"number", QString::number(row.number)}}));
    return row;
}

Result<AttemptRow> attemptFromQuery(const QSqlQuery &query) {
    return attemptFrom(QueryColumns(query));
}

} // namespace

Result<QList<StepRunRow>> Store::stepRuns(const QString &runId) {
    // As stepRunsOf reads them (on SQLite around Qt SQL): a run's status reads every step row.
    auto rows = stepRunsOf({runId});
    if (!rows)
        return rows.status();
    return rows->value(runId);
}

Result<QList<StepSample>> Store::stepSamples(const QString &flowName, qint64 from, qint64 to) {
    QString sql = QStringLiteral(
        "SELECT s.step_id, s.position, s.state, s.attempts, s.failures, s.started_at, s.ended_at, "
        "s.via_fallback, r.created_at, r.ended_at FROM runs r JOIN step_runs s ON s.run_id = r.id "
        "WHERE r.flow_name = ?");
    QVariantList binds{flowName};
    if (from > 0) {
        sql += QStringLiteral(" AND r.created_at >= ?");
        binds << from;
    }
    if (to > 0) {
        sql += QStringLiteral(" AND r.created_at < ?");
        binds << to;
    }
    return selectRows<StepSample>(
        d->db, d->path, sql, binds, QStringLiteral("step runs"),
        [](const QSqlQuery &query) -> Result<StepSample> {
            StepSample row;
            row.stepId = query.value(0).toString();
            row.position = query.value(1).toInt();
            const auto state = stepStateFromName(query.value(2).toString());
            if (!state)
                return Status::error(
                    QStringLiteral("unknown step state %1").arg(query.value(2).toString()));
            row.state = *state;
            row.attempts = query.value(3).toInt();
            row.failures = query.value(4).toInt();
            row.startedAt = query.value(5).toLongLong();
            row.endedAt = query.value(6).toLongLong();
            row.viaFallback = query.value(7).toInt() != 0;
            row.runCreatedAt = query.value(8).toLongLong();
            row.runEndedAt = query.value(9).toLongLong();
            return row;
        });
}

namespace {

/// The runs of a flow created in [from, to), as the step statistics' queries select them.
QString flowRunsWhere(const QString &flowName, qint64 from, qint64 to, QVariantList &binds) {
    QString where = QStringLiteral(" WHERE r.flow_name = ?");
    binds << flowName;
    if (from > 0) {
        where += QStringLiteral(" AND r.created_at >= ?");
        binds << from;
    }
    if (to > 0) {
        where += QStringLiteral(" AND r.created_at < ?");
        binds << to;
    }
    return where;
}

} // namespace

Result<std::optional<std::pair<qint64, qint64>>> Store::stepSampleSpan(const QString &flowName,
                                                                       qint64 from, qint64 to) {
    QVariantList binds;
    const QString sql = QStringLiteral("SELECT MIN(r.created_at), MAX(r.created_at) FROM runs r%1")
                            .arg(flowRunsWhere(flowName, from, to, binds));
    auto span = selectRows<std::optional<std::pair<qint64, qint64>>>(
        d->db, d->path, sql, binds, QStringLiteral("runs"),
        [](const QSqlQuery &q) -> Result<std::optional<std::pair<qint64, qint64>>> {
            if (q.value(0).isNull())
                return std::optional<std::pair<qint64, qint64>>();
            return std::optional(std::pair(q.value(0).toLongLong(), q.value(1).toLongLong()));
        });
    if (!span)
        return span.status();
    return span->isEmpty() ? std::nullopt : span->first();
}

namespace {

/// Store::reduceStepSamples' groups, counted by the database.
Result<QList<StepSampleGroup>> countStepSampleGroups(const QSqlDatabase &db, const QString &path,
                                                     const QString &flowName, qint64 from,
                                                     qint64 to, qint64 bucketMs) {
    QVariantList binds;
    // Integer division truncates toward zero in both databases: times before 1970 are floored by
    // hand so that a bucket starts where bucketStart() in the statistics puts it.
    QString sql = QStringLiteral(
        "SELECT s.step_id, s.position, s.state, s.via_fallback, "
        "CASE WHEN s.attempts > 1 THEN 2 WHEN s.attempts > 0 THEN 1 ELSE 0 END, "
        "CASE WHEN r.created_at < 0 THEN (r.created_at + 1) / ? - 1 ELSE r.created_at / ? END, "
        "COUNT(*), SUM(s.attempts), MAX(r.created_at) "
        "FROM runs r JOIN step_runs s ON s.run_id = r.id");
    binds << bucketMs << bucketMs;
    sql += flowRunsWhere(flowName, from, to, binds);
    sql += QStringLiteral(" GROUP BY 1, 2, 3, 4, 5, 6");
    auto groups = selectRows<StepSampleGroup>(
        db, path, sql, binds, QStringLiteral("step runs"),
        [](const QSqlQuery &q) -> Result<StepSampleGroup> {
            StepSampleGroup group;
            group.stepId = q.value(0).toString();
            group.position = q.value(1).toInt();
            const auto state = stepStateFromName(q.value(2).toString());
            if (!state)
                return Status::error(
                    QStringLiteral("unknown step state %1").arg(q.value(2).toString()));
            group.state = *state;
            group.viaFallback = q.value(3).toInt() != 0;
            group.attemptClass = q.value(4).toInt();
            group.bucketStart = q.value(5).toLongLong();
            group.steps = q.value(6).toInt();
            group.attempts = q.value(7).toLongLong();
            group.newestRunCreatedAt = q.value(8).toLongLong();
            return group;
        });
    if (groups) {
        for (StepSampleGroup &group : *groups)
            group.bucketStart *= bucketMs;
    }
    return groups;
}

/// Store::reduceStepSamples' percentiles, ranked by the database.
Result<QList<StepDurationPercentiles>>
rankStepDurations(const QSqlDatabase &db, const QString &path, const QString &flowName, qint64 from,
                  qint64 to, const QList<StepOutcome> &finished) {
    if (finished.isEmpty())
        return QList<StepDurationPercentiles>();
    QVariantList binds;
    const QString where = flowRunsWhere(flowName, from, to, binds);
    QStringList outcomes;
    for (const StepOutcome &outcome : finished) {
        outcomes << QStringLiteral("(s.state = ? AND s.via_fallback = ?)");
        binds << stateName(outcome.state) << (outcome.viaFallback ? 1 : 0);
    }
    // The ranks are percentileNearestRank()'s: ceil(percent * n / 100), which for n >= 1 is
    // always between 1 and n.
    const QString sql =
        QStringLiteral("WITH finished AS (SELECT s.step_id, s.ended_at - s.started_at AS took "
                       "FROM step_runs s JOIN runs r ON r.id = s.run_id%1 "
                       "AND s.started_at > 0 AND s.ended_at >= s.started_at AND (%2)), "
                       "ranked AS (SELECT step_id, took, "
                       "ROW_NUMBER() OVER (PARTITION BY step_id ORDER BY took) AS ordinal, "
                       "COUNT(*) OVER (PARTITION BY step_id) AS n FROM finished) "
                       "SELECT step_id, n, "
                       "MAX(CASE WHEN ordinal = (50 * n + 99) / 100 THEN took END), "
                       "MAX(CASE WHEN ordinal = (95 * n + 99) / 100 THEN took END) "
                       "FROM ranked GROUP BY step_id, n")
            .arg(where, outcomes.join(QStringLiteral(" OR ")));
    return selectRows<StepDurationPercentiles>(
        db, path, sql, binds, QStringLiteral("step durations"),
        [](const QSqlQuery &q) -> Result<StepDurationPercentiles> {
            StepDurationPercentiles row;
            row.stepId = q.value(0).toString();
            row.finished = q.value(1).toInt();
            row.p50Ms = q.value(2).toLongLong();
            row.p95Ms = q.value(3).toLongLong();
            return row;
        });
}

/// Binds values as Qt SQL's SQLite driver binds them (text, integer, real or NULL), so that a
/// reader through the sqlite3 handle can run the SQL and binds written for Qt SQL.
bool bindSqliteValues(sqlite3_stmt *statement, const QVariantList &binds) {
    for (int i = 0; i < binds.size(); ++i) {
        const QVariant &value = binds[i];
        int bound = SQLITE_OK;
        switch (value.isNull() ? QMetaType::UnknownType : value.typeId()) {
        case QMetaType::UnknownType:
            bound = sqlite3_bind_null(statement, i + 1);
            break;
        case QMetaType::Bool:
        case QMetaType::Int:
        case QMetaType::UInt:
        case QMetaType::Long:
        case QMetaType::LongLong:
        case QMetaType::ULongLong:
            bound = sqlite3_bind_int64(statement, i + 1, value.toLongLong());
            break;
        case QMetaType::Double:
            bound = sqlite3_bind_double(statement, i + 1, value.toDouble());
            break;
        default: {
            const QByteArray text = value.toString().toUtf8();
            bound = sqlite3_bind_text(statement, i + 1, text.constData(),
                                      static_cast<int>(text.size()), SQLITE_TRANSIENT);
        }
        }
        if (bound != SQLITE_OK)
            return false;
    }
    return true;
}

/// Store::reduceStepSamples on SQLite: the rows streamed once through the sqlite3 handle (Qt
/// SQL's values cost more than the whole pass), reduced as they come.
Result<StepSampleReduction> streamStepSamples(sqlite3 *db, const QString &path,
                                              const QString &flowName, qint64 from, qint64 to,
                                              StepSampleReducer &reducer) {
    QVariantList binds;
    const QByteArray sql =
        QStringLiteral("SELECT s.step_id, s.position, s.state, s.via_fallback, s.attempts, "
                       "s.started_at, s.ended_at, r.created_at "
                       "FROM runs r JOIN step_runs s ON s.run_id = r.id%1")
            .arg(flowRunsWhere(flowName, from, to, binds))
            .toUtf8();
    sqlite3_stmt *statement = nullptr;
    const auto failed = [&](const char *what) {
        const QString text =
            QStringLiteral("%1: cannot read step runs (%2): %3")
                .arg(path, QLatin1String(what), QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_finalize(statement);
        return Status::error(text);
    };
    if (sqlite3_prepare_v2(db, sql.constData(), static_cast<int>(sql.size()), &statement,
                           nullptr) != SQLITE_OK)
        return failed("prepare");
    if (!bindSqliteValues(statement, binds))
        return failed("bind");

    // Step ids and states repeat on every run: each distinct text is looked up once.
    QHash<QByteArray, int> stepIndexes;
    QList<std::pair<QByteArray, StepState>> states;
    const auto text = [&](int column) {
        return QByteArray::fromRawData(
            reinterpret_cast<const char *>(sqlite3_column_text(statement, column)),
            sqlite3_column_bytes(statement, column));
    };
    int stepped = SQLITE_ROW;
    while ((stepped = sqlite3_step(statement)) == SQLITE_ROW) {
        const QByteArray idBytes = text(0);
        auto index = stepIndexes.constFind(idBytes);
        if (index == stepIndexes.cend())
            index = stepIndexes.insert(QByteArray(idBytes.constData(), idBytes.size()),
                                       reducer.stepIndex(QString::fromUtf8(idBytes)));
        const QByteArray stateBytes = text(2);
        auto state = std::find_if(states.cbegin(), states.cend(),
                                  [&](const auto &known) { return known.first == stateBytes; });
        if (state == states.cend()) {
            const std::optional<StepState> named = stepStateFromName(QString::fromUtf8(stateBytes));
            if (!named) {
                sqlite3_finalize(statement);
                return Status::error(
                    QStringLiteral("%1: cannot read step runs: unknown step state %2")
                        .arg(path, QString::fromUtf8(stateBytes)));
            }
            states.append({QByteArray(stateBytes.constData(), stateBytes.size()), *named});
            state = states.cend() - 1;
        }
        reducer.add(*index, sqlite3_column_int(statement, 1), state->second,
                    sqlite3_column_int(statement, 3) != 0, sqlite3_column_int(statement, 4),
                    sqlite3_column_int64(statement, 5), sqlite3_column_int64(statement, 6),
                    sqlite3_column_int64(statement, 7));
    }
    if (stepped != SQLITE_DONE)
        return failed("step");
    sqlite3_finalize(statement);
    return StepSampleReduction{reducer.groups(), reducer.percentiles()};
}

} // namespace

Result<StepSampleReduction> Store::reduceStepSamples(const QString &flowName, qint64 from,
                                                     qint64 to, qint64 bucketMs,
                                                     const QList<StepOutcome> &finished) {
    if (bucketMs <= 0)
        return Status::error(QStringLiteral("the bucket length must be positive"));
    if (!d->postgres) {
        StepSampleReducer reducer(bucketMs, finished);
        return streamStepSamples(d->sqlite, d->path, flowName, from, to, reducer);
    }
    auto groups = countStepSampleGroups(d->db, d->path, flowName, from, to, bucketMs);
    if (!groups)
        return groups.status();
    auto percentiles = rankStepDurations(d->db, d->path, flowName, from, to, finished);
    if (!percentiles)
        return percentiles.status();
    return StepSampleReduction{std::move(*groups), std::move(*percentiles)};
}

Result<QList<AttemptRow>> Store::attempts(const QString &runId) {
    return selectRows<AttemptRow>(
        d->db, d->path,
        QStringLiteral("SELECT %1 FROM attempts WHERE run_id = ? "
                       "ORDER BY started_at, step_id, item_key, generation, number")
            .arg(QLatin1String(kAttemptColumns)),
        {runId}, QStringLiteral("attempts"), attemptFromQuery);
}

Result<QList<AttemptRow>> Store::attemptOutputs(const QString &runId, const QString &stepId) {
    return selectRows<AttemptRow>(
        d->db, d->path,
        QStringLiteral("SELECT %1, stdout_tail, stderr_tail, stdout_bytes, stderr_bytes "
                       "FROM attempts WHERE run_id = ? AND step_id = ? "
                       "ORDER BY started_at, item_key, generation, number")
            .arg(QLatin1String(kAttemptColumns)),
        {runId, stepId}, QStringLiteral("attempts"),
        [](const QSqlQuery &query) -> Result<AttemptRow> {
            Result<AttemptRow> row = attemptFromQuery(query);
            if (row) {
                const int first = kAttemptColumnCount;
                row->captured.stdoutTail = query.value(first).toString();
                row->captured.stderrTail = query.value(first + 1).toString();
                row->captured.stdoutBytes = query.value(first + 2).toLongLong();
                row->captured.stderrBytes = query.value(first + 3).toLongLong();
            }
            return row;
        });
}

namespace {

/// The rows of several runs by run id (a worker's bulk loads): sql's %1 is the run ids'
/// placeholders. sqlite, when given, is read straight through its handle and fromStatement;
/// otherwise Qt SQL's query and fromQuery.
template <typename Row>
Result<QHash<QString, QList<Row>>>
rowsOfRuns(const QSqlDatabase &db, sqlite3 *sqlite, const QString &path, const QString &sql,
           const QStringList &runIds, const QString &what,
           Result<Row> (*fromQuery)(const QSqlQuery &),
           Result<Row> (*fromStatement)(const StatementColumns &)) {
    QVariantList binds;
    const QString text = sql.arg(runIdMarks(runIds, binds));
    if (!sqlite)
        return byRun(selectRows<Row>(db, path, text, binds, what, fromQuery));
    const QByteArray utf8 = text.toUtf8();
    sqlite3_stmt *statement = nullptr;
    const auto failed = [&] {
        const QString error = QStringLiteral("%1: cannot read %2: %3")
                                  .arg(path, what, QString::fromUtf8(sqlite3_errmsg(sqlite)));
        sqlite3_finalize(statement);
        return Status::error(error);
    };
    if (sqlite3_prepare_v2(sqlite, utf8.constData(), static_cast<int>(utf8.size()), &statement,
                           nullptr) != SQLITE_OK)
        return failed();
    for (int i = 0; i < runIds.size(); ++i) {
        const QByteArray id = runIds[i].toUtf8();
        sqlite3_bind_text(statement, i + 1, id.constData(), static_cast<int>(id.size()),
                          SQLITE_TRANSIENT);
    }
    QHash<QString, QList<Row>> grouped;
    const StatementColumns columns(statement);
    int stepped = SQLITE_ROW;
    while ((stepped = sqlite3_step(statement)) == SQLITE_ROW) {
        Result<Row> row = fromStatement(columns);
        if (!row) {
            sqlite3_finalize(statement);
            return Status::error(
                QStringLiteral("%1: cannot read %2: %3").arg(path, what, row.error()));
        }
        grouped[row->runId].append(std::move(*row));
    }
    if (stepped != SQLITE_DONE)
        return failed();
    sqlite3_finalize(statement);
    return grouped;
}

} // namespace

Result<QHash<QString, QList<StepRunRow>>> Store::stepRunsOf(const QStringList &runIds) {
    return rowsOfRuns<StepRunRow>(
        d->db, d->postgres ? nullptr : d->sqlite, d->path,
        QStringLiteral("SELECT %1 FROM step_runs WHERE run_id IN (%2) ORDER BY run_id, position")
            .arg(QLatin1String(kStepColumns), QStringLiteral("%1")),
        runIds, QStringLiteral("step runs"), stepRunFromQuery, stepRunFrom<StatementColumns>);
}

Result<QHash<QString, QList<AttemptRow>>> Store::unfinishedAttemptsOf(const QStringList &runIds) {
    return rowsOfRuns<AttemptRow>(
        d->db, d->postgres ? nullptr : d->sqlite, d->path,
        QStringLiteral("SELECT %1 FROM attempts WHERE ended_at IS NULL AND run_id IN (%2)")
            .arg(QLatin1String(kAttemptColumns), QStringLiteral("%1")),
        runIds, QStringLiteral("attempts"), attemptFromQuery, attemptFrom<StatementColumns>);
}

namespace {

// Step states that count as done in the runs list: the final ones of isFinal(StepState), by
// the names the step_runs table holds. Uncertain is not final: an operator still has to decide.
const QStringList &finalStepStateNames() {
    static const QStringList names = [] {
        QStringList finals;
        for (int i = 0; i < kStepStateCount; ++i) {
            const auto state = static_cast<StepState>(i);
            if (isFinal(state))
                finals << stateName(state);
        }
        return finals;
    }();
    return names;
}

/// A case-insensitive substring pattern for LIKE/ILIKE ... ESCAPE '\\': the wildcards are
/// escaped so that "50%" or "a_b" match literally.
QString containsPattern(const QString &text) {
    QString escaped = text;
    escaped.replace(QLatin1Char('\\'), QStringLiteral("\\\\"))
        .replace(QLatin1Char('%'), QStringLiteral("\\%"))
        .replace(QLatin1Char('_'), QStringLiteral("\\_"));
    return QLatin1Char('%') + escaped + QLatin1Char('%');
}

/// A step state as an SQL literal. Only for the names of the enum (never user text): a bound
/// state cannot use the partial index step_runs_troubled, which the planner picks only when it
/// sees the state's value.
QString stateLiteral(StepState state) {
    return QLatin1Char('\'') + stateName(state) + QLatin1Char('\'');
}

/// The conditions of one step row (aliased s), joined with AND, with their binds in order.
QString stepConditionSql(const StepCondition &step, QVariantList &binds, const QString &like) {
    QStringList conditions;
    if (!step.stepId.isEmpty()) {
        conditions << QStringLiteral("s.step_id = ?");
        binds << step.stepId;
    }
    if (step.state)
        conditions << QStringLiteral("s.state = ") + stateLiteral(*step.state);
    if (!step.error.isEmpty()) {
        // IS NOT NULL: what lets the planner read step_runs_with_error instead of every step.
        conditions << QStringLiteral("s.error IS NOT NULL AND s.error %1 ? ESCAPE '\\'").arg(like);
        binds << containsPattern(step.error);
    }
    if (!step.resource.isEmpty()) {
        conditions << QStringLiteral("s.resource = ?");
        binds << step.resource;
    }
    return conditions.isEmpty() ? QStringLiteral("1 = 1")
                                : conditions.join(QStringLiteral(" AND "));
}

/// LIMIT and OFFSET of a page, as binds (no limit: -1 for SQLite, NULL for PostgreSQL).
void appendPage(QString &sql, QVariantList &binds, const RunQuery &query, bool postgres) {
    if (query.limit <= 0 && query.offset <= 0)
        return;
    sql += QStringLiteral(" LIMIT ? OFFSET ?");
    if (query.limit > 0)
        binds << query.limit;
    else
        binds << (postgres ? QVariant(QMetaType(QMetaType::LongLong)) : QVariant(-1));
    binds << std::max(query.offset, 0);
}

/// The WHERE clause of a runs-list query over runs (aliased r), with its binds in order. User
/// text only ever travels as a bind.
QString runQueryWhere(const RunQuery &query, QVariantList &binds, const QString &like) {
    QStringList conditions;
    if (!query.states.isEmpty()) {
        conditions << QStringLiteral("r.state IN (%1)").arg(placeholders(query.states.size()));
        for (const RunState state : query.states)
            binds << stateName(state);
    }
    if (!query.flowName.isEmpty()) {
        conditions << QStringLiteral("r.flow_name = ?");
        binds << query.flowName;
    }
    if (!query.search.isEmpty()) {
        // Case-insensitive (like: LIKE or ILIKE).
        const QString pattern = containsPattern(query.search);
        // A run also matches by the id or the last error of one of its steps, so that "timeout"
        // or "warehouse-load" finds the runs where it happened.
        conditions << QStringLiteral("(r.id %1 ? ESCAPE '\\' OR r.flow_name %1 ? ESCAPE '\\' OR "
                                     "EXISTS (SELECT 1 FROM step_runs s WHERE s.run_id = r.id AND "
                                     "(s.step_id %1 ? ESCAPE '\\' OR s.error %1 ? ESCAPE '\\')))")
                          .arg(like);
        binds << pattern << pattern << pattern << pattern;
    }
    if (!query.step.isEmpty())
        conditions << QStringLiteral("r.id IN (SELECT s.run_id FROM step_runs s WHERE %1)")
                          .arg(stepConditionSql(query.step, binds, like));
    if (!query.runIds.isEmpty()) {
        conditions << QStringLiteral("r.id IN (%1)").arg(placeholders(query.runIds.size()));
        for (const QString &id : query.runIds)
            binds << id;
    }
    if (query.until > 0) {
        conditions << QStringLiteral("r.created_at <= ?");
        binds << query.until;
    }
    if (query.since > 0) {
        conditions << QStringLiteral("(r.ended_at IS NULL OR r.ended_at >= ?)");
        binds << query.since;
    }
    return conditions.isEmpty()
               ? QString()
               : QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND "));
}

Result<RunSummary> runSummaryFromQuery(const QSqlQuery &query) {
    EnumColumns columns(query);
    RunSummary row;
    row.id = query.value(0).toString();
    row.flowName = query.value(1).toString();
    row.state = columns.required<RunState>(2, "state");
    row.createdAt = query.value(3).toLongLong();
    row.endedAt = query.value(4).toLongLong();
    row.parentRun = query.value(5).toString();
    row.stepsTotal = query.value(6).toInt();
    row.stepsDone = query.value(7).toInt();
    if (!columns.isOk())
        return columns.error("runs", rowKey({{"id", row.id}}));
    return row;
}

} // namespace

Result<QList<RunSummary>> Store::runSummaries(const RunQuery &query) {
    QVariantList binds;
    const QString where = runQueryWhere(query, binds, d->like());
    // The page is chosen first in a derived table (a LIMIT keeps it from being flattened), so
    // the step counts are computed for the page's runs only, never for the rows skipped by the
    // offset. Each count is a prefix scan of step_runs' primary key (run_id, step_id).
    const QString finals = placeholders(finalStepStateNames().size());
    const QString sql =
        QStringLiteral(
            "SELECT p.id, p.flow_name, p.state, p.created_at, p.ended_at, p.parent_run, "
            "(SELECT COUNT(*) FROM step_runs s WHERE s.run_id = p.id), "
            "(SELECT COUNT(*) FROM step_runs s WHERE s.run_id = p.id AND s.state IN (%1)) "
            "FROM (SELECT r.id, r.flow_name, r.state, r.created_at, r.ended_at, r.parent_run "
            "FROM runs r%2 ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?) p "
            "ORDER BY p.created_at DESC, p.id DESC")
            .arg(finals, where);
    QVariantList all;
    for (const QString &name : finalStepStateNames())
        all << name;
    all << binds;
    // No limit: -1 for SQLite, NULL for PostgreSQL.
    if (query.limit > 0)
        all << query.limit;
    else
        all << (d->postgres ? QVariant(QMetaType(QMetaType::LongLong)) : QVariant(-1));
    all << std::max(query.offset, 0);
    return selectRows<RunSummary>(d->db, d->path, sql, all, QStringLiteral("runs"),
                                  runSummaryFromQuery);
}

Result<int> Store::countRuns(const RunQuery &query) {
    QVariantList binds;
    const QString where = runQueryWhere(query, binds, d->like());
    auto count =
        selectRows<int>(d->db, d->path, QStringLiteral("SELECT COUNT(*) FROM runs r%1").arg(where),
                        binds, QStringLiteral("the run count"),
                        [](const QSqlQuery &q) -> Result<int> { return q.value(0).toInt(); });
    if (!count)
        return count.status();
    return count->value(0);
}

Result<QMap<RunState, int>> Store::countRunsByState(const RunQuery &query) {
    RunQuery anyState = query;
    anyState.states.clear();
    QVariantList binds;
    const QString where = runQueryWhere(anyState, binds, d->like());
    auto counts = selectRows<QPair<QString, int>>(
        d->db, d->path,
        QStringLiteral("SELECT r.state, COUNT(*) FROM runs r%1 GROUP BY r.state").arg(where), binds,
        QStringLiteral("the run counts"), [](const QSqlQuery &q) -> Result<QPair<QString, int>> {
            return qMakePair(q.value(0).toString(), q.value(1).toInt());
        });
    if (!counts)
        return counts.status();
    QMap<RunState, int> byState;
    for (const auto &[name, count] : std::as_const(*counts)) {
        if (const std::optional<RunState> state = runStateFromName(name))
            byState.insert(*state, count);
    }
    return byState;
}

Result<QList<RunRow>> Store::runs(const RunQuery &query) {
    QVariantList binds;
    QString sql = QStringLiteral("SELECT %1 FROM runs r%2 ORDER BY r.created_at DESC, r.id DESC")
                      .arg(QLatin1String(kRunColumns), runQueryWhere(query, binds, d->like()));
    appendPage(sql, binds, query, d->postgres);
    return selectRows<RunRow>(d->db, d->path, sql, binds, QStringLiteral("runs"), runFromQuery);
}

namespace {

/// Store::runList on SQLite: the columns read straight from the sqlite3 handle.
Result<QList<RunListRow>> readRunList(sqlite3 *db, const QString &path, const QString &sql,
                                      const QVariantList &binds) {
    const QByteArray text = sql.toUtf8();
    sqlite3_stmt *statement = nullptr;
    const auto failed = [&](const char *what) {
        const QString why =
            QStringLiteral("%1: cannot read runs (%2): %3")
                .arg(path, QLatin1String(what), QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_finalize(statement);
        return Status::error(why);
    };
    if (sqlite3_prepare_v2(db, text.constData(), static_cast<int>(text.size()), &statement,
                           nullptr) != SQLITE_OK)
        return failed("prepare");
    if (!bindSqliteValues(statement, binds))
        return failed("bind");
    const auto column = [&statement](int at) {
        return QByteArray::fromRawData(
            reinterpret_cast<const char *>(sqlite3_column_text(statement, at)),
            sqlite3_column_bytes(statement, at));
    };
    // A handful of states and flows repeat over every run: each distinct text is decoded once.
    QHash<QByteArray, RunState> states;
    QHash<QByteArray, QString> flows;
    QList<RunListRow> rows;
    int stepped = SQLITE_ROW;
    while ((stepped = sqlite3_step(statement)) == SQLITE_ROW) {
        RunListRow row;
        const QByteArray id = column(0);
        row.id = QString::fromUtf8(id);
        const QByteArray flow = column(1);
        auto flowName = flows.constFind(flow);
        if (flowName == flows.cend())
            flowName =
                flows.insert(QByteArray(flow.constData(), flow.size()), QString::fromUtf8(flow));
        row.flowName = *flowName;
        const QByteArray stateText = column(2);
        auto state = states.constFind(stateText);
        if (state == states.cend()) {
            const std::optional<RunState> named = runStateFromName(QString::fromUtf8(stateText));
            if (!named) {
                sqlite3_finalize(statement);
                // As selectRows() and EnumColumns say it on the Qt path.
                return Status::error(
                    QStringLiteral(
                        "%1: cannot read runs: runs row (%2) has an unknown state \"%3\"")
                        .arg(path, rowKey({{"id", row.id}}), QString::fromUtf8(stateText)));
            }
            state = states.insert(QByteArray(stateText.constData(), stateText.size()), *named);
        }
        row.state = *state;
        row.createdAt = sqlite3_column_int64(statement, 3);
        row.endedAt = sqlite3_column_int64(statement, 4);
        rows.append(std::move(row));
    }
    if (stepped != SQLITE_DONE)
        return failed("step");
    sqlite3_finalize(statement);
    return rows;
}

} // namespace

Result<QList<RunListRow>> Store::runList(const RunQuery &query) {
    // runs(query)'s WHERE, order and page; only the columns differ.
    QVariantList binds;
    QString sql = QStringLiteral("SELECT r.id, r.flow_name, r.state, r.created_at, r.ended_at "
                                 "FROM runs r%1 ORDER BY r.created_at DESC, r.id DESC")
                      .arg(runQueryWhere(query, binds, d->like()));
    appendPage(sql, binds, query, d->postgres);
    if (!d->postgres)
        return readRunList(d->sqlite, d->path, sql, binds);
    return selectRows<RunListRow>(d->db, d->path, sql, binds, QStringLiteral("runs"),
                                  [](const QSqlQuery &q) -> Result<RunListRow> {
                                      EnumColumns columns(q);
                                      RunListRow row;
                                      row.id = q.value(0).toString();
                                      row.flowName = q.value(1).toString();
                                      row.state = columns.required<RunState>(2, "state");
                                      row.createdAt = q.value(3).toLongLong();
                                      row.endedAt = q.value(4).toLongLong();
                                      if (!columns.isOk())
                                          return columns.error("runs", rowKey({{"id", row.id}}));
                                      return row;
                                  });
}

Result<QList<StepFailureRow>> Store::stepFailures(const RunQuery &query) {
    // The step conditions and the time window apply to the failing step itself; the rest of the
    // query to its run.
    RunQuery ofRuns = query;
    ofRuns.step = {};
    ofRuns.since = 0;
    ofRuns.until = 0;
    QVariantList binds;
    QStringList conditions;
    if (query.step.state) {
        conditions << stepConditionSql(query.step, binds, d->like());
    } else {
        conditions << QStringLiteral("s.state IN (%1, %2, %3)")
                          .arg(stateLiteral(StepState::Failed), stateLiteral(StepState::Uncertain),
                               stateLiteral(StepState::PartiallySucceeded));
        if (!query.step.isEmpty())
            conditions << stepConditionSql(query.step, binds, d->like());
    }
    const QString at = QStringLiteral("COALESCE(s.ended_at, s.started_at, r.created_at)");
    if (query.since > 0) {
        conditions << at + QStringLiteral(" >= ?");
        binds << query.since;
    }
    if (query.until > 0) {
        conditions << at + QStringLiteral(" <= ?");
        binds << query.until;
    }
    QString runsWhere = runQueryWhere(ofRuns, binds, d->like());
    if (!runsWhere.isEmpty())
        conditions << runsWhere.mid(QStringLiteral(" WHERE ").size());
    const QString sql =
        QStringLiteral("SELECT s.run_id, r.flow_name, s.step_id, s.state, s.error_class, s.error, "
                       "%1 FROM step_runs s JOIN runs r ON r.id = s.run_id WHERE %2")
            .arg(at, conditions.join(QStringLiteral(" AND ")));
    return selectRows<StepFailureRow>(
        d->db, d->path, sql, binds, QStringLiteral("step runs"),
        [](const QSqlQuery &q) -> Result<StepFailureRow> {
            EnumColumns columns(q);
            StepFailureRow row;
            row.runId = q.value(0).toString();
            row.flow = q.value(1).toString();
            row.stepId = q.value(2).toString();
            row.state = columns.required<StepState>(3, "state");
            row.errorClass = columns.optional<ErrorClass>(4, "error_class");
            row.error = q.value(5).toString();
            row.at = q.value(6).toLongLong();
            if (!columns.isOk())
                return columns.error("step_runs",
                                     rowKey({{"run_id", row.runId}, {"step_id", row.stepId}}));
            return row;
        });
}

Result<QStringList> Store::flowNames() {
    // DISTINCT over the (name, version) unique index: no sort, one step per version.
    return selectRows<QString>(
        d->db, d->path, QStringLiteral("SELECT DISTINCT name FROM flows ORDER BY name"), {},
        QStringLiteral("flows"),
        [](const QSqlQuery &q) -> Result<QString> { return q.value(0).toString(); });
}

namespace {

Result<EventRow> eventFromQuery(const QSqlQuery &query) {
    EnumColumns columns(query);
    EventRow row;
    row.id = query.value(0).toLongLong();
    row.at = query.value(1).toLongLong();
    row.runId = query.value(2).toString();
    row.stepId = query.value(3).toString();
    row.type = columns.required<EventType>(4, "type");
    row.actor = query.value(5).toString();
    row.detail = jsonFromText(query.value(6)).toObject();
    if (!columns.isOk())
        return columns.error("events", rowKey({{"id", QString::number(row.id)}}));
    return row;
}

} // namespace

Result<QList<EventRow>> Store::events(const QString &runId, qint64 afterId) {
    return selectRows<EventRow>(
        d->db, d->path,
        QStringLiteral("SELECT id, at, run_id, step_id, type, actor, detail FROM events "
                       "WHERE run_id = ? AND id > ? ORDER BY id"),
        {runId, afterId}, QStringLiteral("events"), eventFromQuery);
}

Result<FeedPage> Store::eventsAfter(const FeedPosition &position, int limit) {
    FeedPage page;
    page.next = position;
    // SQLite: one writer at a time, so ids become visible in order. PostgreSQL: an id becomes
    // visible when its transaction commits, in any order; events are read by (xact, id) and only
    // from transactions older than every one still under way (the snapshot's xmin), whose
    // events are all visible now and can never be joined by an earlier one.
    const QString sql =
        d->postgres ? QStringLiteral(
                          "SELECT id, at, run_id, step_id, type, actor, detail, xact FROM events "
                          "WHERE (xact > ? OR (xact = ? AND id > ?)) AND xact < CAST(CAST("
                          "pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint) "
                          "ORDER BY xact, id LIMIT ?")
                    : QStringLiteral(
                          "SELECT id, at, run_id, step_id, type, actor, detail, xact FROM events "
                          "WHERE id > ? ORDER BY id LIMIT ?");
    const QVariantList binds = d->postgres
                                   ? QVariantList{position.xact, position.xact, position.id, limit}
                                   : QVariantList{position.id, limit};
    QSqlQuery query(d->db);
    query.setForwardOnly(true);
    query.prepare(sql);
    for (const QVariant &bind : binds)
        query.addBindValue(bind);
    if (!query.exec())
        return Status::error(d->fail(QStringLiteral("cannot read events"), query.lastError()));
    while (query.next()) {
        auto row = eventFromQuery(query);
        if (!row)
            return Status::error(
                QStringLiteral("%1: cannot read events: %2").arg(d->path, row.error()));
        page.next = {query.value(7).toLongLong(), row->id};
        page.events.append(std::move(*row));
    }
    return page;
}

Result<FeedPosition> Store::feedHead() {
    QSqlQuery query(d->db);
    // PostgreSQL: everything of transactions below the oldest one under way is history; what
    // any later transaction wrote, committed or not yet, is still to be read.
    if (!query.exec(d->postgres ? QStringLiteral("SELECT CAST(CAST(pg_snapshot_xmin("
                                                 "pg_current_snapshot()) AS text) AS bigint) - 1")
                                : QStringLiteral("SELECT COALESCE(MAX(id), 0) FROM events")) ||
        !query.next())
        return Status::error(d->fail(QStringLiteral("cannot read events"), query.lastError()));
    if (d->postgres)
        return FeedPosition{query.value(0).toLongLong(), std::numeric_limits<qint64>::max()};
    return FeedPosition{0, query.value(0).toLongLong()};
}

Result<qint64> Store::lastEventId() {
    QSqlQuery query(d->db);
    if (!query.exec(QStringLiteral("SELECT COALESCE(MAX(id), 0) FROM events")) || !query.next())
        return Status::error(d->fail(QStringLiteral("cannot read events"), query.lastError()));
    d->lastEventId = query.value(0).toLongLong();
    return d->lastEventId;
}

namespace {

/// Who holds a run now, with the runs owner must not take: its own, and runs held by a live
/// worker whose lease has not expired by the database's clock.
const char *const kClaimable =
    "state = 'running' AND (owner IS NULL OR (owner <> ? AND lease_until < ?)%1)";

/// " OR owner IN (?, ?)": the holders that ownerIsDead says are gone.
QString deadOwnersCondition(const QStringList &dead) {
    return dead.isEmpty() ? QString()
                          : QStringLiteral(" OR owner IN (%1)").arg(placeholders(dead.size()));
}

} // namespace

Result<qint64> Store::databaseNow(qint64 callerNow) {
    if (!d->postgres)
        return callerNow;
    return d->serverNow();
}

Result<QList<RunRow>> Store::claimRunnable(const LeaseRequest &lease, int limit) {
    if (limit <= 0)
        return QList<RunRow>();
    auto now = d->beginClaim(lease.now);
    if (!now)
        return now.status();
    auto abort = [this](const QSqlQuery &query) { return d->abortClaim(query); };
    // Holders with a live lease that are known to be gone (same host, dead pid).
    QStringList deadOwners;
    if (lease.ownerIsDead) {
        QSqlQuery holders(d->db);
        holders.prepare(
            QStringLiteral("SELECT DISTINCT owner FROM runs WHERE state = 'running' AND "
                           "owner IS NOT NULL AND owner <> ? AND lease_until >= ?"));
        holders.addBindValue(lease.owner);
        holders.addBindValue(*now);
        if (!holders.exec())
            return abort(holders);
        while (holders.next()) {
            const QString holder = holders.value(0).toString();
            if (lease.ownerIsDead(holder))
                deadOwners << holder;
        }
    }
    // Oldest first, as many as there is room for; on PostgreSQL rows another worker is claiming
    // right now are skipped instead of waited for, so claimants never queue behind each other.
    QSqlQuery claim(d->db);
    claim.setForwardOnly(true);
    claim.prepare(
        QStringLiteral(
            "UPDATE runs SET owner = ?, lease_until = ?, lease_epoch = lease_epoch + 1, "
            "adoptions = adoptions + CASE WHEN owner IS NULL THEN 0 ELSE 1 END "
            "WHERE id IN (SELECT id FROM runs WHERE %1 ORDER BY created_at, id LIMIT ?%2) "
            "RETURNING %3")
            .arg(QString::fromLatin1(kClaimable).arg(deadOwnersCondition(deadOwners)),
                 d->postgres ? QStringLiteral(" FOR UPDATE SKIP LOCKED") : QString(),
                 QLatin1String(kRunColumns)));
    claim.addBindValue(lease.owner);
    claim.addBindValue(*now + lease.leaseMs);
    claim.addBindValue(lease.owner);
    claim.addBindValue(*now);
    for (const QString &dead : deadOwners)
        claim.addBindValue(dead);
    claim.addBindValue(limit);
    if (!claim.exec())
        return abort(claim);
    QList<RunRow> rows;
    while (claim.next()) {
        auto row = runFromQuery(claim);
        if (!row) {
            claim.finish();
            d->exec(QStringLiteral("ROLLBACK"));
            return Status::error(
                QStringLiteral("%1: cannot read runs: %2").arg(d->path, row.error()));
        }
        rows.append(std::move(*row));
    }
    claim.finish();
    if (Status s = d->finish(Status::ok()); !s)
        return s;
    std::sort(rows.begin(), rows.end(), [](const RunRow &a, const RunRow &b) {
        return a.createdAt != b.createdAt ? a.createdAt < b.createdAt : a.id < b.id;
    });
    return rows;
}

Result<std::optional<RunRow>> Store::claimRun(const QString &runId, const LeaseRequest &lease) {
    auto claimed = claimRuns({runId}, lease);
    if (!claimed)
        return claimed.status();
    if (!claimed->isEmpty())
        return std::optional<RunRow>(claimed->first());
    // Not taken: a live worker holds it, or there is no such run (an error naming it).
    if (auto exists = run(runId); !exists)
        return exists.status();
    return std::optional<RunRow>();
}

Result<QList<RunRow>> Store::claimRuns(const QStringList &runIds, const LeaseRequest &lease) {
    if (runIds.isEmpty())
        return QList<RunRow>();
    auto now = d->beginClaim(lease.now);
    if (!now)
        return now.status();
    auto abort = [this](const QSqlQuery &query) { return d->abortClaim(query); };
    // As claimRun, for each: taken only from nobody, this owner, an expired lease or a holder
    // known to be gone; the update names the epoch read here, so two claimants cannot both win.
    QVariantList binds;
    const QString marks = runIdMarks(runIds, binds);
    QSqlQuery current(d->db);
    current.setForwardOnly(true);
    current.prepare(QStringLiteral("SELECT id, owner, lease_until, lease_epoch FROM runs "
                                   "WHERE id IN (%1)%2")
                        .arg(marks, d->postgres ? QStringLiteral(" FOR UPDATE") : QString()));
    for (const QVariant &bind : binds)
        current.addBindValue(bind);
    if (!current.exec())
        return abort(current);
    QList<QPair<QString, qint64>> free;
    while (current.next()) {
        const QString owner = current.value(1).toString();
        if (owner.isEmpty() || owner == lease.owner || current.value(2).toLongLong() < *now ||
            (lease.ownerIsDead && lease.ownerIsDead(owner)))
            free.append({current.value(0).toString(), current.value(3).toLongLong()});
    }
    current.finish();
    QSqlQuery claim(d->db);
    claim.prepare(
        QStringLiteral("UPDATE runs SET owner = ?, lease_until = ?, lease_epoch = lease_epoch + 1, "
                       "adoptions = adoptions + CASE WHEN owner IS NULL OR owner = ? THEN 0 "
                       "ELSE 1 END WHERE id = ? AND lease_epoch = ? RETURNING %1")
            .arg(QLatin1String(kRunColumns)));
    QList<RunRow> rows;
    for (const auto &[id, epoch] : free) {
        claim.addBindValue(lease.owner);
        claim.addBindValue(*now + lease.leaseMs);
        claim.addBindValue(lease.owner);
        claim.addBindValue(id);
        claim.addBindValue(epoch);
        if (!claim.exec())
            return abort(claim);
        if (claim.next()) {
            auto row = runFromQuery(claim);
            if (!row) {
                d->exec(QStringLiteral("ROLLBACK"));
                return Status::error(
                    QStringLiteral("%1: cannot read runs: %2").arg(d->path, row.error()));
            }
            rows.append(std::move(*row));
        }
        claim.finish();
    }
    if (Status s = d->finish(Status::ok()); !s)
        return s;
    return rows;
}

Result<QHash<QString, qint64>> Store::renewLeases(const WorkerRow &worker, qint64 leaseMs,
                                                  qint64 callerNow) {
    if (Status s = d->writable(); !s)
        return s;
    if (Status s = d->beginWrite(); !s)
        return s;
    auto now = databaseNow(callerNow);
    if (!now) {
        d->exec(QStringLiteral("ROLLBACK"));
        return now.status();
    }
    QSqlQuery heartbeat(d->db);
    heartbeat.prepare(QStringLiteral(
        "INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at"));
    heartbeat.addBindValue(worker.id);
    heartbeat.addBindValue(worker.host);
    heartbeat.addBindValue(worker.pid);
    heartbeat.addBindValue(worker.startedAt > 0 ? worker.startedAt : *now);
    heartbeat.addBindValue(*now);
    if (!heartbeat.exec()) {
        const Status status = Status::error(
            d->fail(QStringLiteral("cannot record the worker's heartbeat"), heartbeat.lastError()));
        d->exec(QStringLiteral("ROLLBACK"));
        return status;
    }
    heartbeat.finish();
    // A worker silent for ten minutes that holds nothing is gone (killed before it could say
    // so): its row goes, so that the list shows who is there.
    QSqlQuery prune(d->db);
    prune.prepare(QStringLiteral("DELETE FROM workers WHERE heartbeat_at < ? AND id NOT IN "
                                 "(SELECT owner FROM runs WHERE owner IS NOT NULL)"));
    prune.addBindValue(*now - 600'000);
    if (!prune.exec()) {
        const Status status = Status::error(
            d->fail(QStringLiteral("cannot forget stopped workers"), prune.lastError()));
        d->exec(QStringLiteral("ROLLBACK"));
        return status;
    }
    prune.finish();
    QSqlQuery renew(d->db);
    renew.setForwardOnly(true);
    renew.prepare(QStringLiteral("UPDATE runs SET lease_until = ? WHERE owner = ? "
                                 "RETURNING id, lease_epoch"));
    renew.addBindValue(*now + leaseMs);
    renew.addBindValue(worker.id);
    if (!renew.exec()) {
        const Status status =
            Status::error(d->fail(QStringLiteral("cannot renew leases"), renew.lastError()));
        d->exec(QStringLiteral("ROLLBACK"));
        return status;
    }
    QHash<QString, qint64> held;
    while (renew.next())
        held.insert(renew.value(0).toString(), renew.value(1).toLongLong());
    renew.finish();
    if (Status s = d->finish(Status::ok()); !s)
        return s;
    return held;
}

Status Store::releaseLeases(const QString &owner) {
    if (Status s = d->writable(); !s)
        return s;
    if (Status s = d->beginWrite(); !s)
        return s;
    Status status;
    for (const QString &sql :
         {QStringLiteral("UPDATE runs SET owner = NULL, lease_until = NULL WHERE owner = ?"),
          QStringLiteral("DELETE FROM workers WHERE id = ?")}) {
        QSqlQuery query(d->db);
        query.prepare(sql);
        query.addBindValue(owner);
        if (!query.exec()) {
            status =
                Status::error(d->fail(QStringLiteral("cannot release leases"), query.lastError()));
            break;
        }
    }
    if (status)
        status = d->notifyWork(); // the runs are free: other workers may take them now
    return d->finish(status);
}

Result<QList<WorkerRow>> Store::workers() {
    auto rows = selectRows<WorkerRow>(
        d->db, d->path,
        QStringLiteral("SELECT id, host, pid, started_at, heartbeat_at FROM workers ORDER BY id"),
        {}, QStringLiteral("workers"), [](const QSqlQuery &q) -> Result<WorkerRow> {
            WorkerRow row;
            row.id = q.value(0).toString();
            row.host = q.value(1).toString();
            row.pid = q.value(2).toLongLong();
            row.startedAt = q.value(3).toLongLong();
            row.heartbeatAt = q.value(4).toLongLong();
            return row;
        });
    if (!rows)
        return rows.status();
    auto held = selectRows<QPair<QString, QString>>(
        d->db, d->path,
        QStringLiteral("SELECT owner, id FROM runs WHERE owner IS NOT NULL ORDER BY owner, "
                       "created_at, id"),
        {}, QStringLiteral("runs"), [](const QSqlQuery &q) -> Result<QPair<QString, QString>> {
            return QPair<QString, QString>(q.value(0).toString(), q.value(1).toString());
        });
    if (!held)
        return held.status();
    for (WorkerRow &worker : *rows) {
        for (const auto &[owner, runId] : *held) {
            if (owner == worker.id)
                worker.runs << runId;
        }
    }
    return rows;
}

namespace {

const char *const kItemColumns = "run_id, step_id, item_key, position, state, attempts, failures, "
                                 "generation, not_before, error_class, error, output";

template <typename Columns> Result<ItemRow> itemFrom(const Columns &values) {
    EnumColumnsOf<Columns> columns(values);
    ItemRow row;
    row.runId = values.text(0);
    row.stepId = values.text(1);
    row.itemKey = values.text(2);
    row.position = static_cast<int>(values.integer(3));
    row.state = columns.template required<StepState>(4, "state");
    row.attempts = static_cast<int>(values.integer(5));
    row.failures = static_cast<int>(values.integer(6));
    row.generation = static_cast<int>(values.integer(7));
    row.notBefore = values.integer(8);
    row.errorClass = columns.template optional<ErrorClass>(9, "error_class");
    row.error = values.text(10);
    row.output = values.json(11);
    if (!columns.isOk())
        return columns.error(
            "items",
            rowKey({{"run_id", row.runId}, {"step_id", row.stepId}, {"item_key", row.itemKey}}));
    return row;
}

Result<ItemRow> itemFromQuery(const QSqlQuery &query) {
    return itemFrom(QueryColumns(query));
}

} // namespace

Result<QList<ItemRow>> Store::items(const QString &runId) {
    return selectRows<ItemRow>(
        d->db, d->path,
        QStringLiteral("SELECT %1 FROM items WHERE run_id = ? ORDER BY step_id, position")
            .arg(QLatin1String(kItemColumns)),
        {runId}, QStringLiteral("items"), itemFromQuery);
}

Result<QHash<QString, QList<ItemRow>>> Store::itemsOf(const QStringList &runIds) {
    return rowsOfRuns<ItemRow>(
        d->db, d->postgres ? nullptr : d->sqlite, d->path,
        QStringLiteral(
            "SELECT %1 FROM items WHERE run_id IN (%2) ORDER BY run_id, step_id, position")
            .arg(QLatin1String(kItemColumns), QStringLiteral("%1")),
        runIds, QStringLiteral("items"), itemFromQuery, itemFrom<StatementColumns>);
}

Result<QList<ResourceRow>> Store::resources() {
    QSqlQuery query(d->db);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral(
            "SELECT name, paused, breaker_state, opened_at, call_window, updated_at, "
            "concurrency_override, rate_override, declared_concurrency, declared_rate "
            "FROM resources ORDER BY name")))
        return Status::error(d->fail(QStringLiteral("cannot read resources"), query.lastError()));
    QList<ResourceRow> rows;
    while (query.next()) {
        ResourceRow row;
        row.name = query.value(0).toString();
        row.paused = query.value(1).toInt() != 0;
        row.breakerState = query.value(2).toString();
        row.openedAt = query.value(3).toLongLong();
        row.window = query.value(4).toString();
        row.updatedAt = query.value(5).toLongLong();
        if (!query.value(6).isNull())
            row.concurrencyOverride = query.value(6).toInt();
        row.rateOverride = query.value(7).toString();
        if (!query.value(8).isNull())
            row.declaredConcurrency = query.value(8).toInt();
        row.declaredRate = query.value(9).toString();
        rows.append(row);
    }
    return rows;
}

Status Store::declareResources(const QList<ResourceRow> &declared, qint64 now) {
    if (declared.isEmpty())
        return Status::ok();
    if (Status s = d->writable(); !s)
        return s;
    for (const ResourceRow &resource : declared) {
        QSqlQuery insert(d->db);
        insert.prepare(QStringLiteral(
            "INSERT INTO resources (name, paused, breaker_state, opened_at, call_window, "
            "updated_at, declared_concurrency, declared_rate) "
            "VALUES (?, 0, 'closed', NULL, '', ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "declared_concurrency = excluded.declared_concurrency, "
            "declared_rate = excluded.declared_rate"));
        insert.addBindValue(resource.name);
        insert.addBindValue(now);
        insert.addBindValue(resource.declaredConcurrency ? QVariant(*resource.declaredConcurrency)
                                                         : QVariant(QMetaType(QMetaType::Int)));
        insert.addBindValue(resource.declaredRate.isEmpty()
                                ? QVariant(QMetaType(QMetaType::QString))
                                : QVariant(resource.declaredRate));
        if (!insert.exec())
            return Status::error(
                d->fail(QStringLiteral("cannot declare resource %1").arg(resource.name),
                        insert.lastError()));
    }
    return Status::ok();
}

Result<ResourceRow> Store::setResourceLimits(
    const QString &name, std::optional<int> concurrency, const QString &rate, EventRow event,
    const std::function<Result<QJsonObject>(const ResourceRow &before, ResourceRow &after)>
        &describe) {
    if (Status s = d->writable(); !s)
        return s;
    // Read inside the transaction: the event's "before" is what this change replaced.
    if (Status s = d->beginWrite(); !s)
        return s;
    auto failed = [this](const QSqlQuery &query) -> Status {
        return d->finish(Status::error(
            d->fail(QStringLiteral("cannot change a resource's limits"), query.lastError())));
    };
    auto all = resources();
    if (!all)
        return d->finish(all.status());
    const auto it = std::find_if(all->begin(), all->end(),
                                 [&name](const ResourceRow &row) { return row.name == name; });
    if (it == all->end()) {
        QStringList known;
        for (const ResourceRow &row : *all)
            known << row.name;
        return d->finish(
            Status::error(QStringLiteral("unknown resource \"%1\" (known: %2)")
                              .arg(name, known.isEmpty() ? QStringLiteral("none")
                                                         : known.join(QStringLiteral(", ")))));
    }
    const ResourceRow before = *it;
    ResourceRow after = before;
    if (concurrency)
        after.concurrencyOverride = concurrency;
    if (!rate.isEmpty())
        after.rateOverride = rate;
    after.updatedAt = event.at;
    auto detail = describe(before, after);
    if (!detail)
        return d->finish(detail.status());
    event.detail = *detail;
    QSqlQuery update(d->db);
    update.prepare(QStringLiteral("UPDATE resources SET concurrency_override = ?, "
                                  "rate_override = ?, updated_at = ? WHERE name = ?"));
    update.addBindValue(after.concurrencyOverride ? QVariant(*after.concurrencyOverride)
                                                  : QVariant(QMetaType(QMetaType::Int)));
    update.addBindValue(after.rateOverride.isEmpty() ? QVariant(QMetaType(QMetaType::QString))
                                                     : QVariant(after.rateOverride));
    update.addBindValue(after.updatedAt);
    update.addBindValue(name);
    if (!update.exec())
        return failed(update);
    QSqlQuery insert(d->db);
    insert.prepare(QStringLiteral("INSERT INTO events (at, run_id, step_id, type, actor, detail) "
                                  "VALUES (?, NULL, NULL, ?, ?, ?)"));
    insert.addBindValue(event.at);
    insert.addBindValue(eventTypeName(event.type));
    insert.addBindValue(event.actor);
    insert.addBindValue(QString::fromUtf8(jsonBytes(event.detail)));
    if (!insert.exec())
        return failed(insert);
    if (Status s = d->notifyEvents(); !s)
        return d->finish(s); // workers and change feeds wake up when this commits
    if (Status s = d->finish(Status::ok()); !s)
        return s;
    return after;
}

Result<QHash<QString, QPair<int, int>>> Store::resourceLoad() {
    QSqlQuery query(d->db);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral(
            "SELECT resource, state, COUNT(*) FROM step_runs WHERE resource "
            "IS NOT NULL AND state IN ('queued', 'running') GROUP BY resource, state")))
        return Status::error(d->fail(QStringLiteral("cannot read step runs"), query.lastError()));
    QHash<QString, QPair<int, int>> load;
    while (query.next()) {
        auto &entry = load[query.value(0).toString()];
        (query.value(1).toString() == QLatin1String("queued") ? entry.first : entry.second) +=
            query.value(2).toInt();
    }
    return load;
}

Status Store::changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker,
                             const QString &actor, qint64 now) {
    auto all = resources();
    if (!all)
        return all.status();
    const auto it = std::find_if(all->begin(), all->end(),
                                 [&name](const ResourceRow &row) { return row.name == name; });
    if (it == all->end()) {
        QStringList known;
        for (const ResourceRow &row : *all)
            known << row.name;
        return Status::error(QStringLiteral("unknown resource \"%1\" (known: %2)")
                                 .arg(name, known.isEmpty() ? QStringLiteral("none")
                                                            : known.join(QStringLiteral(", "))));
    }
    ResourceRow row = *it;
    EventType type = EventType::ResourceReset;
    if (paused) {
        row.paused = *paused;
        type = *paused ? EventType::ResourcePaused : EventType::ResourceUnpaused;
    }
    if (resetBreaker) {
        row.breakerState = QStringLiteral("closed");
        row.openedAt = 0;
        row.window.clear();
        type = EventType::ResourceReset;
    }
    row.updatedAt = now;
    Batch batch;
    batch.resources.append(row);
    EventRow event;
    event.at = now;
    event.type = type;
    event.actor = actor;
    event.detail = {{QStringLiteral("resource"), name}};
    batch.events.append(event);
    auto committed = commit(batch);
    return committed ? Status::ok() : committed.status();
}

Result<QList<AlertRuleRow>> Store::alertRules() {
    return selectRows<AlertRuleRow>(
        d->db, d->path,
        QStringLiteral("SELECT id, kind, flow, step, factor, threshold, window_ms, command, "
                       "created_by, created_at, resource FROM alert_rules ORDER BY id"),
        {}, QStringLiteral("alert rules"), [](const QSqlQuery &q) -> Result<AlertRuleRow> {
            AlertRuleRow row;
            row.id = q.value(0).toLongLong();
            row.kind = q.value(1).toString();
            row.flow = q.value(2).toString();
            row.step = q.value(3).toString();
            row.factor = q.value(4).toDouble();
            row.threshold = q.value(5).toInt();
            row.windowMs = q.value(6).toLongLong();
            for (const QJsonValue &word : jsonFromText(q.value(7)).toArray())
                row.command << word.toString();
            row.createdBy = q.value(8).toString();
            row.createdAt = q.value(9).toLongLong();
            row.resource = q.value(10).toString();
            return row;
        });
}

Result<qint64> Store::addAlertRule(const AlertRuleRow &rule) {
    if (Status s = d->writable(); !s)
        return s;
    QSqlQuery insert(d->db);
    insert.prepare(QStringLiteral(
        "INSERT INTO alert_rules (kind, flow, step, resource, factor, threshold, window_ms, "
        "command, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"));
    auto orNull = [](const QString &text) {
        return text.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(text);
    };
    insert.addBindValue(rule.kind);
    insert.addBindValue(orNull(rule.flow));
    insert.addBindValue(orNull(rule.step));
    insert.addBindValue(orNull(rule.resource));
    insert.addBindValue(rule.factor);
    insert.addBindValue(rule.threshold);
    insert.addBindValue(rule.windowMs);
    insert.addBindValue(QString::fromUtf8(jsonBytes(QJsonArray::fromStringList(rule.command))));
    insert.addBindValue(rule.createdBy);
    insert.addBindValue(rule.createdAt);
    if (!insert.exec() || !insert.next())
        return Status::error(
            d->fail(QStringLiteral("cannot add an alert rule"), insert.lastError()));
    const qint64 id = insert.value(0).toLongLong();
    insert.finish();
    return id;
}

Status Store::removeAlertRule(qint64 id) {
    if (Status s = d->writable(); !s)
        return s;
    if (Status s = d->beginWrite(); !s)
        return s;
    QSqlQuery remove(d->db);
    remove.prepare(QStringLiteral("DELETE FROM alert_rules WHERE id = ?"));
    remove.addBindValue(id);
    if (!remove.exec())
        return d->finish(Status::error(
            d->fail(QStringLiteral("cannot remove alert rule %1").arg(id), remove.lastError())));
    if (remove.numRowsAffected() != 1)
        return d->finish(Status::error(QStringLiteral("no alert rule with id %1").arg(id)));
    QSqlQuery firings(d->db);
    firings.prepare(QStringLiteral("DELETE FROM alert_firings WHERE rule_id = ?"));
    firings.addBindValue(id);
    if (!firings.exec())
        return d->finish(Status::error(
            d->fail(QStringLiteral("cannot remove alert rule %1").arg(id), firings.lastError())));
    return d->finish(Status::ok());
}

Result<std::optional<qint64>> Store::recordAlertFiring(qint64 ruleId, const QString &conditionKey,
                                                       const EventRow &event) {
    if (Status s = d->writable(); !s)
        return s;
    if (Status s = d->beginWrite(); !s)
        return s;
    auto failed = [this](const QSqlQuery &query) -> Status {
        return d->finish(
            Status::error(d->fail(QStringLiteral("cannot record an alert"), query.lastError())));
    };
    QSqlQuery firing(d->db);
    firing.prepare(QStringLiteral("INSERT INTO alert_firings (rule_id, condition_key, fired_at) "
                                  "VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING rule_id"));
    firing.addBindValue(ruleId);
    firing.addBindValue(conditionKey);
    firing.addBindValue(event.at);
    if (!firing.exec())
        return failed(firing);
    const bool fresh = firing.next();
    firing.finish();
    if (!fresh) {
        if (Status s = d->finish(Status::ok()); !s)
            return s;
        return std::optional<qint64>();
    }
    QSqlQuery insert(d->db);
    insert.prepare(QStringLiteral("INSERT INTO events (at, run_id, step_id, type, actor, detail) "
                                  "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
    insert.addBindValue(event.at);
    insert.addBindValue(event.runId.isEmpty() ? QVariant(QMetaType(QMetaType::QString))
                                              : QVariant(event.runId));
    insert.addBindValue(event.stepId.isEmpty() ? QVariant(QMetaType(QMetaType::QString))
                                               : QVariant(event.stepId));
    insert.addBindValue(eventTypeName(event.type));
    insert.addBindValue(event.actor);
    insert.addBindValue(QString::fromUtf8(jsonBytes(event.detail)));
    if (!insert.exec() || !insert.next())
        return failed(insert);
    const qint64 eventId = insert.value(0).toLongLong();
    insert.finish();
    QSqlQuery link(d->db);
    link.prepare(QStringLiteral(
        "UPDATE alert_firings SET event_id = ? WHERE rule_id = ? AND condition_key = ?"));
    link.addBindValue(eventId);
    link.addBindValue(ruleId);
    link.addBindValue(conditionKey);
    if (!link.exec())
        return failed(link);
    if (Status s = d->notifyEvents(); !s)
        return d->finish(s); // workers and change feeds wake up when this commits
    if (Status s = d->finish(Status::ok()); !s)
        return s;
    return std::optional<qint64>(eventId);
}

Result<FeedPosition> Store::alertCursor() {
    auto rows = selectRows<FeedPosition>(
        d->db, d->path,
        QStringLiteral("SELECT xact, event_id FROM alert_cursor WHERE name = 'alerts'"), {},
        QStringLiteral("the alert cursor"), [](const QSqlQuery &q) -> Result<FeedPosition> {
            FeedPosition position;
            position.xact = q.value(0).toLongLong();
            position.id = q.value(1).toLongLong();
            return position;
        });
    if (!rows)
        return rows.status();
    return rows->isEmpty() ? FeedPosition{} : rows->first();
}

Status Store::setAlertCursor(const FeedPosition &position) {
    if (Status s = d->writable(); !s)
        return s;
    QSqlQuery upsert(d->db);
    // Only forward, in the feed's order (transaction, then id: on PostgreSQL an id is handed out
    // at insert, so a later commit can hold a smaller one): two processes leave the furthest.
    upsert.prepare(QStringLiteral(
        "INSERT INTO alert_cursor (name, xact, event_id) VALUES ('alerts', ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET xact = excluded.xact, event_id = excluded.event_id "
        "WHERE alert_cursor.xact < excluded.xact OR (alert_cursor.xact = excluded.xact AND "
        "alert_cursor.event_id < excluded.event_id)"));
    upsert.addBindValue(position.xact);
    upsert.addBindValue(position.id);
    if (!upsert.exec())
        return Status::error(
            d->fail(QStringLiteral("cannot record the alert cursor"), upsert.lastError()));
    return Status::ok();
}

Result<QList<qint64>> Store::latestStepDurations(const QString &flow, const QString &stepId,
                                                 int limit, const QList<StepOutcome> &finished) {
    if (finished.isEmpty() || limit <= 0)
        return QList<qint64>();
    QVariantList binds{flow, stepId};
    QStringList outcomes;
    for (const StepOutcome &outcome : finished) {
        outcomes << QStringLiteral("(s.state = ? AND s.via_fallback = ?)");
        binds << stateName(outcome.state) << (outcome.viaFallback ? 1 : 0);
    }
    binds << limit;
    // runs_by_flow (flow_name, created_at) walks the flow's runs newest first; each step row is
    // a lookup of step_runs' primary key.
    return selectRows<qint64>(
        d->db, d->path,
        QStringLiteral("SELECT s.ended_at - s.started_at FROM runs r JOIN step_runs s ON "
                       "s.run_id = r.id WHERE r.flow_name = ? AND s.step_id = ? "
                       "AND s.started_at > 0 AND s.ended_at >= s.started_at AND (%1) "
                       "ORDER BY r.created_at DESC, r.id DESC LIMIT ?")
            .arg(outcomes.join(QStringLiteral(" OR "))),
        binds, QStringLiteral("step durations"),
        [](const QSqlQuery &q) -> Result<qint64> { return q.value(0).toLongLong(); });
}

Result<qint64> Store::submitRequest(const QString &runId, const QJsonObject &action,
                                    const QString &actor, qint64 now) {
    if (Status s = d->writable(); !s)
        return s;
    QSqlQuery insert(d->db);
    insert.prepare(QStringLiteral("INSERT INTO requests (run_id, created_at, actor, action, state) "
                                  "VALUES (?, ?, ?, ?, 'pending') RETURNING id"));
    insert.addBindValue(runId);
    insert.addBindValue(now);
    insert.addBindValue(actor);
    insert.addBindValue(QString::fromUtf8(jsonBytes(action)));
    if (!insert.exec() || !insert.next())
        return Status::error(
            d->fail(QStringLiteral("cannot submit a request"), insert.lastError()));
    const qint64 id = insert.value(0).toLongLong();
    insert.finish();
    // The worker holding the run learns of it at once (PostgreSQL; SQLite workers poll).
    if (Status s = d->notifyWork(); !s)
        return s;
    return id;
}

namespace {

Result<RequestRow> requestFromQuery(const QSqlQuery &query) {
    RequestRow row;
    row.id = query.value(0).toLongLong();
    row.runId = query.value(1).toString();
    row.createdAt = query.value(2).toLongLong();
    row.actor = query.value(3).toString();
    row.action = jsonFromText(query.value(4)).toObject();
    row.state = query.value(5).toString();
    row.result = query.value(6).toString();
    row.answeredAt = query.value(7).toLongLong();
    return row;
}

const char *const kRequestColumns =
    "id, run_id, created_at, actor, action, state, result, answered_at";

} // namespace

Result<RequestRow> Store::request(qint64 id) {
    QSqlQuery query(d->db);
    query.prepare(
        QStringLiteral("SELECT %1 FROM requests WHERE id = ?").arg(QLatin1String(kRequestColumns)));
    query.addBindValue(id);
    if (!query.exec())
        return Status::error(d->fail(QStringLiteral("cannot read requests"), query.lastError()));
    if (!query.next())
        return Status::error(QStringLiteral("%1: no request %2").arg(d->path).arg(id));
    return requestFromQuery(query);
}

Result<bool> Store::withdrawRequest(qint64 id, qint64 now) {
    if (Status s = d->writable(); !s)
        return s;
    QSqlQuery query(d->db);
    query.prepare(
        QStringLiteral("UPDATE requests SET state = 'withdrawn', answered_at = ? WHERE id = ? "
                       "AND state = 'pending'"));
    query.addBindValue(now);
    query.addBindValue(id);
    if (!query.exec())
        return Status::error(
            d->fail(QStringLiteral("cannot withdraw request %1").arg(id), query.lastError()));
    return query.numRowsAffected() == 1;
}

Result<QList<RequestRow>> Store::pendingRequests(const QString &owner) {
    return selectRows<RequestRow>(
        d->db, d->path,
        QStringLiteral("SELECT %1 FROM requests WHERE state = 'pending' AND run_id IN "
                       "(SELECT id FROM runs WHERE owner = ?) ORDER BY id")
            .arg(QLatin1String(kRequestColumns)),
        {owner}, QStringLiteral("requests"), requestFromQuery);
}

bool Store::isPostgres() const {
    return d->postgres;
}

Status Store::checkConnection() {
    if (!d->postgres)
        return Status::ok();
    // Qt's driver closes a connection that broke under a statement.
    if (!d->db.isOpen())
        return Status::error(d->lastDatabaseText.isEmpty()
                                 ? QStringLiteral("the connection was closed")
                                 : d->lastDatabaseText);
    QSqlQuery probe(d->db);
    if (probe.exec(QStringLiteral("SELECT 1")) && probe.next())
        return Status::ok();
    // libpq's own failures (no connection, the server closed it) carry no SQLSTATE; the server
    // says 08xxx (connection exception) or 57P0x (shut down, crashed, starting up). Anything
    // else (an aborted transaction, say) came over a connection that still works.
    const QSqlError error = probe.lastError();
    const QString state = error.nativeErrorCode();
    if (!state.isEmpty() && !state.startsWith(QLatin1String("08")) &&
        !state.startsWith(QLatin1String("57P")))
        return Status::ok();
    return Status::error(connectionErrorText(error));
}

const QString &Store::databaseRole() const {
    return d->databaseRole;
}

bool Store::listen(Channel channel, QObject *context, std::function<void()> wake) {
    if (!d->postgres)
        return false;
    const QString name =
        QLatin1String(channel == Channel::Work ? PostgresBatchWriter::workChannel()
                                               : PostgresBatchWriter::eventsChannel());
    QSqlDriver *driver = d->db.driver();
    if (!driver->subscribedToNotifications().contains(name) &&
        !driver->subscribeToNotification(name))
        return false;
    // A connection hears its own notifications too: those it knows of already.
    QObject::connect(driver, &QSqlDriver::notification, context,
                     [name, wake = std::move(wake)](const QString &heard,
                                                    QSqlDriver::NotificationSource source,
                                                    const QVariant &) {
                         if (heard == name && source == QSqlDriver::OtherSource)
                             wake();
                     });
    return true;
}

Status Store::beginRead() {
    return d->exec(d->postgres ? QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                               : QStringLiteral("BEGIN DEFERRED"));
}

void Store::endRead() {
    d->exec(QStringLiteral("COMMIT"));
}

Result<QStringList> Store::integrityProblems(IntegrityDepth depth) {
    if (d->postgres)
        return QStringList(); // the server checks its own pages (data checksums, amcheck)
    QSqlQuery query(d->db);
    const QString pragma = depth == IntegrityDepth::Quick ? QStringLiteral("quick_check")
                                                          : QStringLiteral("integrity_check");
    if (!query.exec(QStringLiteral("PRAGMA %1").arg(pragma))) {
        // A page so damaged that SQLite cannot even walk it is a finding, not a failed query.
        const QString why = query.lastError().text();
        if (why.contains(QLatin1String("malformed"), Qt::CaseInsensitive) ||
            why.contains(QLatin1String("corrupt"), Qt::CaseInsensitive))
            return QStringList{why};
        return Status::error(d->fail(QStringLiteral("%1 failed").arg(pragma), query.lastError()));
    }
    QStringList problems;
    while (query.next()) {
        const QString line = query.value(0).toString();
        if (line != QLatin1String("ok"))
            problems << line;
    }
    return problems;
}

Status Store::integrityCheck() {
    auto problems = integrityProblems(IntegrityDepth::Full);
    if (!problems)
        return problems.status();
    if (!problems->isEmpty())
        return Status::error(QStringLiteral("%1: integrity check: %2")
                                 .arg(d->path, problems->join(QStringLiteral("; "))));
    return Status::ok();
}

} // namespace keepflow
