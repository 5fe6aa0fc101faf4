#include "steps/sqlstep.h"

#include "model/template.h"

#include "core/messagetext.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QThreadPool>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>

namespace keepflow {

namespace {

constexpr qint64 kMaxBusyWaitMs = 5000;
constexpr double kMaxExactInteger = 9007199254740992.0; // 2^53

/// Where a connection name points, resolved from its environment variable.
struct ConnectionSpec {
    QString driver; ///< QSQLITE or QPSQL
    QString databaseName;
    QString host;
    int port = -1;
    QString user;
    QString password;
    QStringList options;
    QString display; ///< the URL without its password, for messages
};

Result<ConnectionSpec> resolveConnection(const QString &name) {
    const QString variable = sqlConnectionVariable(name);
    const QString text = qEnvironmentVariable(variable.toLatin1().constData()).trimmed();
    if (text.isEmpty())
        return Status::error(
            QStringLiteral("unknown SQL connection \"%1\": set the environment variable %2 to a "
                           "URL such as sqlite:///path/to/file.db or "
                           "postgresql://user@host:5432/dbname")
                .arg(name, variable));
    const QUrl url(text);
    ConnectionSpec spec;
    spec.display = url.toDisplayString(QUrl::RemovePassword);
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("sqlite")) {
        spec.driver = QStringLiteral("QSQLITE");
        spec.databaseName = url.path(QUrl::FullyDecoded);
        if (!url.host().isEmpty() && url.host() != QLatin1String("localhost"))
            return Status::error(QStringLiteral("%1 names host \"%2\": a sqlite URL is a local "
                                                "file (sqlite:///absolute/path.db)")
                                     .arg(variable, url.host()));
        if (spec.databaseName.isEmpty())
            return Status::error(
                QStringLiteral("%1 holds a sqlite URL without a file path").arg(variable));
        return spec;
    }
    if (scheme == QLatin1String("postgresql") || scheme == QLatin1String("postgres")) {
        spec.driver = QStringLiteral("QPSQL");
        spec.host = url.host();
        spec.port = url.port(5432);
        spec.user = url.userName(QUrl::FullyDecoded);
        spec.password = url.password(QUrl::FullyDecoded);
        if (spec.password.isEmpty())
            spec.password = qEnvironmentVariable("PGPASSWORD");
        spec.databaseName = url.path(QUrl::FullyDecoded).mid(1);
        // Further libpq settings (sslmode=require, …) ride along as query items.
        for (const auto &[key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded))
            spec.options << key + QLatin1Char('=') + value;
        return spec;
    }
    return Status::error(
        QStringLiteral("%1 holds \"%2\": only sqlite: and postgresql:// URLs are supported")
            .arg(variable, spec.display));
}

/// The :name placeholders and the number of ? placeholders outside literals and comments.
struct Placeholders {
    QStringList names;
    int positional = 0;
};

Placeholders scanPlaceholders(const QString &sql) {
    Placeholders found;
    const qsizetype n = sql.size();
    auto isNameChar = [](QChar c) { return c.isLetterOrNumber() || c == QLatin1Char('_'); };
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = sql[i];
        if (c == QLatin1Char('\'') || c == QLatin1Char('"') || c == QLatin1Char('`')) {
            // A doubled quote escapes itself and simply reopens the literal on the next turn.
            qsizetype end = sql.indexOf(c, i + 1);
            i = end < 0 ? n : end;
        } else if (c == QLatin1Char('-') && i + 1 < n && sql[i + 1] == QLatin1Char('-')) {
            qsizetype end = sql.indexOf(QLatin1Char('\n'), i);
            i = end < 0 ? n : end;
        } else if (c == QLatin1Char('/') && i + 1 < n && sql[i + 1] == QLatin1Char('*')) {
            qsizetype end = sql.indexOf(QLatin1String("*/"), i + 2);
            i = end < 0 ? n : end + 1;
        } else if (c == QLatin1Char(':')) {
            if (i + 1 < n && sql[i + 1] == QLatin1Char(':')) {
                ++i; // a PostgreSQL cast
                continue;
            }
            qsizetype end = i + 1;
            if (end < n && (sql[end].isLetter() || sql[end] == QLatin1Char('_'))) {
                while (end < n && isNameChar(sql[end]))
                    ++end;
                const QString name = sql.mid(i + 1, end - i - 1);
                if (!found.names.contains(name))
                    found.names << name;
                i = end - 1;
            }
        } else if (c == QLatin1Char('?')) {
            ++found.positional;
        }
    }
    return found;
}

QVariant boundValue(const QJsonValue &value) {
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Double: {
        const double number = value.toDouble();
        if (number == static_cast<double>(static_cast<qint64>(number)) &&
            std::abs(number) <= kMaxExactInteger)
            return static_cast<qlonglong>(number);
        return number;
    }
    case QJsonValue::Bool:
        return value.toBool();
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QVariant(); // SQL NULL
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    }
    return {};
}

QJsonValue columnValue(const QVariant &value) {
    switch (value.typeId()) {
    case QMetaType::Bool:
        return value.toBool();
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::Long:
    case QMetaType::ULong:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Short:
    case QMetaType::UShort: {
        const double number = value.toDouble();
        // Beyond 2^53 a JSON number would silently lose digits: keep the exact text.
        if (std::abs(number) > kMaxExactInteger)
            return value.toString();
        return static_cast<qint64>(value.toLongLong());
    }
    case QMetaType::Double:
    case QMetaType::Float:
        return value.toDouble();
    case QMetaType::QByteArray:
        return QString::fromLatin1(value.toByteArray().toBase64());
    case QMetaType::QDate:
        return value.toDate().toString(Qt::ISODate);
    case QMetaType::QTime:
        return value.toTime().toString(Qt::ISODateWithMs);
    case QMetaType::QDateTime:
        return value.toDateTime().toString(Qt::ISODateWithMs);
    default:
        return value.toString();
    }
}

bool isTransient(const QString &driver, const QSqlError &error) {
    const QString code = error.nativeErrorCode();
    if (driver == QLatin1String("QSQLITE")) {
        bool ok = false;
        const int primary =
            code.toInt(&ok) & 0xff; // extended codes keep the primary in the low byte
        if (!ok)
            return error.type() == QSqlError::ConnectionError;
        switch (primary) {
        case 5:  // SQLITE_BUSY
        case 6:  // SQLITE_LOCKED
        case 7:  // SQLITE_NOMEM
        case 9:  // SQLITE_INTERRUPT
        case 10: // SQLITE_IOERR
        case 13: // SQLITE_FULL
        case 14: // SQLITE_CANTOPEN
        case 15: // SQLITE_PROTOCOL
            return true;
        default:
            return false; // syntax, constraints, type mismatches, read-only, corruption
        }
    }
    if (code.isEmpty())
        return error.type() == QSqlError::ConnectionError;
    // SQLSTATE classes: connection (08), rollback such as deadlock and serialization (40),
    // insufficient resources (53), operator intervention (57), system (58), lock not available.
    static const QStringList transientClasses{QStringLiteral("08"), QStringLiteral("40"),
                                              QStringLiteral("53"), QStringLiteral("57"),
                                              QStringLiteral("58")};
    return transientClasses.contains(code.left(2)) || code == QLatin1String("55P03") ||
           code == QLatin1String("55006");
}

class SqlAttempt {
public:
    SqlAttempt(const AttemptRequest &request, QString connection)
        : m_request(request)
        , m_connection(std::move(connection)) {}

    AttemptResult run() {
        const QJsonObject &in = m_request.input;
        const QString statement = in.value(QLatin1String("statement")).toString();
        m_what = QStringLiteral("sql %1").arg(m_connection);
        if (m_connection.isEmpty())
            return permanent(QStringLiteral("with.connection is required"));
        if (statement.trimmed().isEmpty())
            return permanent(QStringLiteral("with.statement is required"));
        // Defence in depth behind validation: a value spliced into SQL text can rewrite it.
        if (hasTemplate(statement))
            return permanent(QStringLiteral("with.statement contains a template: values are never "
                                            "spliced into SQL; use a placeholder (? or :name) and "
                                            "put the template in with.bind"));
        m_statementHead = escapeControlCharacters(statement.simplified(), 60);

        const QJsonValue bind = in.value(QLatin1String("bind"));
        if (!bind.isUndefined() && !bind.isNull() && !bind.isObject() && !bind.isArray())
            return permanent(QStringLiteral("with.bind must be an object (:name) or an array (?)"));
        if (const QString mismatch = checkPlaceholders(statement, bind); !mismatch.isEmpty())
            return permanent(mismatch);

        auto spec = resolveConnection(m_connection);
        if (!spec)
            return permanent(spec.error());
        m_driver = spec->driver;
        m_what = QStringLiteral("sql %1 (%2)").arg(m_connection, spec->display);
        if (!QSqlDatabase::isDriverAvailable(spec->driver)) {
            const bool postgres = spec->driver == QLatin1String("QPSQL");
            return permanent(
                QStringLiteral("the Qt SQL driver %1 is not installed%2")
                    .arg(spec->driver,
                         postgres ? QStringLiteral(" (Debian: libqt6sql6-psql)") : QString()));
        }

        static std::atomic<quint64> counter{0};
        const QString connectionName = QStringLiteral("keepflow-sql-%1").arg(++counter);
        AttemptResult result;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(spec->driver, connectionName);
            configure(db, *spec);
            result = execute(db, statement, bind);
            db.close();
        }
        QSqlDatabase::removeDatabase(connectionName);
        return result;
    }

private:
    QString checkPlaceholders(const QString &statement, const QJsonValue &bind) const {
        const Placeholders used = scanPlaceholders(statement);
        if (bind.isObject()) {
            const QJsonObject named = bind.toObject();
            if (used.positional > 0)
                return QStringLiteral("with.bind is an object but the statement uses ?; use "
                                      ":name placeholders or an array");
            for (auto it = named.begin(); it != named.end(); ++it) {
                if (!used.names.contains(it.key()))
                    return QStringLiteral("with.bind has \"%1\" but the statement has no :%1")
                        .arg(it.key());
            }
            for (const QString &name : used.names) {
                if (!named.contains(name))
                    return QStringLiteral("the statement uses :%1 but with.bind has no \"%1\"")
                        .arg(name);
            }
            return {};
        }
        if (!used.names.isEmpty() && bind.isArray())
            return QStringLiteral("with.bind is an array but the statement uses :%1; use ? "
                                  "placeholders or an object")
                .arg(used.names.first());
        if (!used.names.isEmpty())
            return QStringLiteral("the statement uses :%1 but with.bind is missing")
                .arg(used.names.first());
        const int given = bind.isArray() ? static_cast<int>(bind.toArray().size()) : 0;
        if (given != used.positional)
            return QStringLiteral("the statement has %1 ? placeholder(s) but with.bind holds %2 "
                                  "value(s)")
                .arg(used.positional)
                .arg(given);
        return {};
    }

    void configure(QSqlDatabase &db, const ConnectionSpec &spec) const {
        db.setDatabaseName(spec.databaseName);
        const qint64 waitMs =
            std::clamp<qint64>(m_request.timeoutMs.value_or(kMaxBusyWaitMs), 1, kMaxBusyWaitMs);
        QStringList options = spec.options;
        if (spec.driver == QLatin1String("QSQLITE")) {
            // Bounded: the engine's thread waits here and cannot time the attempt out meanwhile.
            options << QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(waitMs);
        } else {
            db.setHostName(spec.host);
            db.setPort(spec.port);
            db.setUserName(spec.user);
            db.setPassword(spec.password);
            const bool hasConnectTimeout =
                std::any_of(options.begin(), options.end(), [](const QString &o) {
                    return o.startsWith(QLatin1String("connect_timeout="));
                });
            if (!hasConnectTimeout)
                options
                    << QStringLiteral("connect_timeout=%1").arg(std::max<qint64>(2, waitMs / 1000));
        }
        db.setConnectOptions(options.join(QLatin1Char(';')));
    }

    AttemptResult execute(QSqlDatabase &db, const QString &statement, const QJsonValue &bind) {
        if (!db.open())
            return failure(QStringLiteral("cannot connect"), db.lastError(), true);
        if (!db.transaction())
            return failure(QStringLiteral("cannot begin a transaction"), db.lastError(), true);
        QJsonObject output;
        {
            QSqlQuery query(db);
            query.setForwardOnly(true);
            if (!query.prepare(statement))
                return rollback(db, query, QStringLiteral("cannot prepare"));
            if (bind.isObject()) {
                const QJsonObject named = bind.toObject();
                for (auto it = named.begin(); it != named.end(); ++it)
                    query.bindValue(QLatin1Char(':') + it.key(), boundValue(it.value()));
            } else {
                for (const QJsonValue &value : bind.toArray())
                    query.addBindValue(boundValue(value));
            }
            if (!query.exec())
                return rollback(db, query, QStringLiteral("failed"));
            if (query.isSelect()) {
                QJsonArray rows;
                const QSqlRecord record = query.record();
                while (query.next()) {
                    if (rows.size() == SqlStep::kMaxRows) {
                        query.finish();
                        db.rollback();
                        return permanent(QStringLiteral("\"%1\" returned more than %2 rows; add "
                                                        "a LIMIT or narrow the WHERE clause "
                                                        "(rolled back)")
                                             .arg(m_statementHead)
                                             .arg(SqlStep::kMaxRows));
                    }
                    QJsonObject row;
                    for (int c = 0; c < record.count(); ++c)
                        row.insert(record.fieldName(c),
                                   query.isNull(c) ? QJsonValue() : columnValue(query.value(c)));
                    rows.append(row);
                }
                if (query.lastError().isValid())
                    return rollback(db, query, QStringLiteral("failed while reading rows"));
                output.insert(QStringLiteral("rows"), rows);
            }
            output.insert(QStringLiteral("rows_affected"), std::max(0, query.numRowsAffected()));
            query.finish(); // SQLite refuses to commit while a statement is still active
        }
        if (!db.commit()) {
            const QSqlError error = db.lastError();
            db.rollback();
            return failure(QStringLiteral("cannot commit (rolled back)"), error, true);
        }
        return AttemptResult::success(output);
    }

    AttemptResult rollback(QSqlDatabase &db, QSqlQuery &query, const QString &what) {
        const QSqlError error = query.lastError();
        query.finish();
        db.rollback();
        return failure(QStringLiteral("\"%1\" %2 (rolled back)").arg(m_statementHead, what), error,
                       false);
    }

    AttemptResult failure(const QString &what, const QSqlError &error, bool connectionLevel) {
        const bool transient =
            isTransient(m_driver, error) || (connectionLevel && error.nativeErrorCode().isEmpty());
        // The database's own words; Qt's driver text ("Unable to fetch row") adds nothing to them.
        QString text = error.databaseText().trimmed();
        if (text.isEmpty())
            text = error.driverText().trimmed();
        if (text.isEmpty())
            text = QStringLiteral("unknown error");
        AttemptResult result =
            AttemptResult::failure(transient ? ErrorClass::Transient : ErrorClass::Permanent,
                                   QStringLiteral("%1: %2: %3").arg(m_what, what, text));
        result.errorDetail = error.nativeErrorCode();
        return result;
    }

    AttemptResult permanent(const QString &why) const {
        return AttemptResult::failure(ErrorClass::Permanent,
                                      QStringLiteral("%1: %2").arg(m_what, why));
    }

    const AttemptRequest &m_request;
    QString m_connection;
    QString m_what; ///< "sql NAME (URL)", the prefix of every failure
    QString m_driver;
    QString m_statementHead;
};

} // namespace

QString sqlConnectionVariable(const QString &name) {
    QString suffix = name.toUpper();
    for (QChar &c : suffix) {
        if (!((c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
              (c >= QLatin1Char('0') && c <= QLatin1Char('9'))))
            c = QLatin1Char('_');
    }
    return QStringLiteral("KEEPFLOW_SQL_") + suffix;
}

namespace {

/// The attempt runs on a pool thread with its own connection; the engine's thread only learns the
/// result. Cancelling drops the result (the statement itself ends on its own, bounded by the busy
/// timeout), so a slow database never holds back the coordinator or other resources.
class SqlExecution final : public Execution {
public:
    struct Shared {
        std::atomic<bool> cancelled{false};
        CompletionCallback done;
    };

    SqlExecution(const AttemptRequest &request, CompletionCallback done)
        : m_shared(std::make_shared<Shared>())
        , m_home(new QObject) {
        m_shared->done = std::move(done);
        AttemptRequest copy = request;
        copy.step = nullptr; // the flow may be gone when the thread runs; the input is all it needs
        QPointer<QObject> home = m_home;
        std::shared_ptr<Shared> shared = m_shared;
        pool().start([copy, shared, home] {
            AttemptResult result;
            try {
                result = SqlAttempt(copy, copy.input.value(QLatin1String("connection")).toString())
                             .run();
            } catch (const std::exception &error) {
                result = AttemptResult::failure(
                    ErrorClass::Transient,
                    QStringLiteral("sql: internal error: %1").arg(QString::fromUtf8(error.what())));
            } catch (...) {
                result = AttemptResult::failure(ErrorClass::Transient,
                                                QStringLiteral("sql: internal error"));
            }
            if (shared->cancelled || !home)
                return;
            QMetaObject::invokeMethod(
                home.data(),
                [shared, result] {
                    if (shared->cancelled)
                        return;
                    if (auto callback = std::exchange(shared->done, nullptr))
                        callback(result);
                },
                Qt::QueuedConnection);
        });
    }

    ~SqlExecution() override {
        cancel();
        m_home->deleteLater(); // queued results addressed to it are dropped with it
    }

    void cancel() override {
        m_shared->cancelled = true;
        m_shared->done = nullptr;
    }

private:
    static QThreadPool &pool() {
        static QThreadPool threads;
        threads.setMaxThreadCount(8);
        return threads;
    }

    std::shared_ptr<Shared> m_shared;
    QObject *m_home;
};

} // namespace

StepKind::InputRendering SqlStep::renderingOf(const QString &withKey) const {
    return withKey == QLatin1String("statement") ? InputRendering::Never : InputRendering::Values;
}

std::unique_ptr<Execution> SqlStep::start(const AttemptRequest &request, StepContext &,
                                          CompletionCallback done) {
    return std::make_unique<SqlExecution>(request, std::move(done));
}

} // namespace keepflow
