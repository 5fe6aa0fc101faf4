#pragma once

// The database an engine test runs on: a SQLite file in the test's folder, or, when the suite
// runs against PostgreSQL (KEEPFLOW_TEST_POSTGRES holds the URL of the suite's own server,
// started by tests/support/pgserver.sh), a fresh database on that server. The same tests then
// pin the same behaviour on both dialects.

#include "core/databaseaddress.h"

#include <QElapsedTimer>
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
        QSqlDatabase admin = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        admin.setHostName(address->host);
        if (address->port > 0)
            admin.setPort(address->port);
        admin.setUserName(address->user);
        admin.setDatabaseName(address->database);
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
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(address->host);
        db.setUserName(address->user);
        db.setDatabaseName(address->database);
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

} // namespace
