#pragma once

// The database an engine test runs on: a SQLite file in the test's folder, or, when the suite
// runs against PostgreSQL (KEEPFLOW_TEST_POSTGRES holds the URL of the suite's own server,
// started by tests/support/pgserver.sh), a fresh database on that server. The same tests then
// pin the same behaviour on both dialects.

#include "core/databaseaddress.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <functional>

namespace {

/// Whether this test process runs against PostgreSQL.
[[maybe_unused]] bool testsOnPostgres() {
    return qEnvironmentVariableIsSet("KEEPFLOW_TEST_POSTGRES");
}

/// A QPSQL connection named connection to the database at address (not opened yet). Remove it
/// with QSqlDatabase::removeDatabase once every handle to it is gone.
[[maybe_unused]] QSqlDatabase postgresConnection(const keepflow::DatabaseAddress &address,
                                                 const QString &connection) {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
    db.setHostName(address.host);
    if (address.port > 0)
        db.setPort(address.port);
    db.setUserName(address.user);
    db.setDatabaseName(address.database);
    return db;
}

/// A new, empty database for one test: the SQLite file dir/name, or a PostgreSQL database of
/// its own (created here; the server is thrown away after the suite).
[[maybe_unused]] QString newTestDatabase(const QTemporaryDir &dir, const QString &name) {
    if (!testsOnPostgres())
        return dir.filePath(name);
    const QString server = qEnvironmentVariable("KEEPFLOW_TEST_POSTGRES");
    const auto address = keepflow::parseDatabaseAddress(server);
    if (!address)
        qFatal("KEEPFLOW_TEST_POSTGRES: %s", qPrintable(address.error()));
    const QString database =
        QStringLiteral("kf_%1").arg(QUuid::createUuid().toString(QUuid::Id128).left(16));
    const QString connection = QStringLiteral("create-") + database;
    {
        QSqlDatabase admin = postgresConnection(*address, connection);
        if (!admin.open())
            qFatal("cannot reach the test server %s: %s", qPrintable(server),
                   qPrintable(admin.lastError().text()));
        QSqlQuery create(admin);
        // The name is made here from hex digits, never from input.
        if (!create.exec(QStringLiteral("CREATE DATABASE %1").arg(database)))
            qFatal("cannot create a test database: %s", qPrintable(create.lastError().text()));
    }
    QSqlDatabase::removeDatabase(connection);
    return QStringLiteral("postgresql:///%1?host=%2").arg(database, address->host);
}

/// Whether condition holds within timeoutMs, asked again every 10 ms. On PostgreSQL a change feed
/// reads a transaction's events once every older transaction of the server (of any database,
/// another test's too) has ended: what one test committed shows up soon, not at once.
[[maybe_unused]] bool eventually(const std::function<bool()> &condition, int timeoutMs = 10'000) {
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QTest::qWait(10);
    }
    return true;
}

/// Runs one bound statement on a test's PostgreSQL database (what the server's clock or another
/// worker would do, done at once): the values travel as binds.
[[maybe_unused]] void executeOnTestDatabase(const QString &url, const QString &sql,
                                            const QVariantList &binds = {}) {
    const auto address = keepflow::parseDatabaseAddress(url);
    QVERIFY2(address && address->isPostgres(), qPrintable(url));
    const QString connection = QStringLiteral("tamper-%1").arg(QUuid::createUuid().toString());
    {
        QSqlDatabase db = postgresConnection(*address, connection);
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery query(db);
        if (binds.isEmpty()) {
            // Utility statements (CREATE ROLE) cannot be prepared.
            QVERIFY2(query.exec(sql), qPrintable(query.lastError().text()));
            return;
        }
        query.prepare(sql);
        for (const QVariant &bind : binds)
            query.addBindValue(bind);
        QVERIFY2(query.exec(), qPrintable(query.lastError().text()));
    }
    QSqlDatabase::removeDatabase(connection);
}

/// A PostgreSQL server of one test's own (tests/support/pgserver.sh, fsync off), for a test that
/// restarts or stops its server: doing that to the suite's server would cut off the other tests.
/// Stopped and removed when this goes out of scope.
class OwnPostgresServer {
public:
    /// Starts it under /tmp (the socket's path must stay short); pgserver is the script's path.
    /// error() says why when it could not.
    explicit OwnPostgresServer(const QString &pgserver)
        : m_pgserver(pgserver)
        , m_parent(QStringLiteral("/tmp/kf-own-pg-XXXXXX")) {
        if (!m_parent.isValid()) {
            m_error = QStringLiteral("cannot make a folder under /tmp");
            return;
        }
        // The server's account (postgres, when we are root) must reach its folder.
        QFile::setPermissions(m_parent.path(), QFile::ReadOwner | QFile::WriteOwner |
                                                   QFile::ExeOwner | QFile::ExeGroup |
                                                   QFile::ExeOther);
        m_directory = m_parent.filePath(QStringLiteral("pg"));
        QProcess start;
        start.start(m_pgserver,
                    {QStringLiteral("start"), m_directory, QStringLiteral("--no-fsync")});
        if (!start.waitForFinished(60000) || start.exitCode() != 0) {
            m_error = QString::fromLocal8Bit(start.readAllStandardError());
            return;
        }
        m_url = QString::fromUtf8(start.readAllStandardOutput()).trimmed();
    }
    ~OwnPostgresServer() {
        if (!m_url.isEmpty())
            QProcess::execute(m_pgserver, {QStringLiteral("stop"), m_directory});
    }
    OwnPostgresServer(const OwnPostgresServer &) = delete;
    OwnPostgresServer &operator=(const OwnPostgresServer &) = delete;

    bool isRunning() const { return !m_url.isEmpty(); }
    const QString &error() const { return m_error; }
    /// postgresql:///postgres?host=SOCKET_DIR
    const QString &url() const { return m_url; }
    /// What pgserver.sh restart and stop are given.
    const QString &directory() const { return m_directory; }

private:
    QString m_pgserver;
    QTemporaryDir m_parent;
    QString m_directory;
    QString m_url;
    QString m_error;
};

} // namespace
