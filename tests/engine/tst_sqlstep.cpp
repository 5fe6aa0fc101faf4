// The sql step kind against a temporary SQLite database named by KEEPFLOW_SQL_TEST: bound values,
// rows in the output, error classes, one transaction per attempt; and end to end in the engine.

#include "core/clock.h"
#include "harness.h"
#include "model/flowfile.h"
#include "runtime/engine.h"
#include "steps/sqlstep.h"
#include "store/store.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <memory>

using namespace keepflow;

namespace {

class TestContext final : public StepContext {
public:
    ManualClock manualClock;
    const Clock &clock() const override { return manualClock; }
    quint64 callAt(qint64, std::function<void()>) override { return 0; }
    void cancelCall(quint64) override {}
};

QJsonObject object(const QByteArray &json) {
    return QJsonDocument::fromJson(json).object();
}

} // namespace

class TestSqlStep : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void insertsWithNamedBinds();
    void selectsRowsWithPositionalBinds();
    void constraintViolationIsPermanentAndRolledBack();
    void tooManyRowsIsRefusedAndRolledBack();
    void injectionInBoundValueIsStoredLiterally();
    void templateInStatementIsRefusedNotRendered();
    void unknownConnectionNamesItsVariable();
    void connectionVariableName_data();
    void connectionVariableName();
    void syntaxErrorIsPermanent();
    void multipleStatementsAreRefused();
    void bindMismatchIsPermanent_data();
    void bindMismatchIsPermanent();
    void busyDatabaseIsTransient();
    void missingPostgresDriverIsNamed();
    void connectionsAreClosedAfterEachAttempt();

    void engineRunsStatementsInOrder();
    void engineDoesNotRetryConstraintViolation();
    void slowDatabaseDoesNotHoldBackOtherSteps();
    void engineNeverSplicesATemplateIntoTheStatement();

private:
    AttemptResult sql(const QByteArray &json, std::optional<qint64> timeoutMs = std::nullopt);
    /// One attempt on connection "test".
    AttemptResult statement(const QString &text, const QJsonValue &bind = QJsonValue(),
                            std::optional<qint64> timeoutMs = std::nullopt);
    int count(const QString &where = {});

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    SqlStep m_action;
};

void TestSqlStep::init() {
    m_dir = std::make_unique<QTemporaryDir>();
    m_path = m_dir->filePath(QStringLiteral("app.db"));
    qputenv("KEEPFLOW_SQL_TEST", QByteArray("sqlite://") + m_path.toUtf8());
    const AttemptResult created =
        statement(QStringLiteral("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT "
                                 "NULL, total REAL, note TEXT)"));
    QVERIFY2(created.succeeded, qPrintable(created.error));
}

void TestSqlStep::cleanup() {
    qunsetenv("KEEPFLOW_SQL_TEST");
    m_dir.reset();
}

AttemptResult TestSqlStep::sql(const QByteArray &json, std::optional<qint64> timeoutMs) {
    AttemptRequest request;
    request.runId = QStringLiteral("run-1");
    request.stepId = QStringLiteral("query");
    request.idempotencyKey = QStringLiteral("run-1:query");
    request.input = object(json);
    request.timeoutMs = timeoutMs;
    TestContext context;
    std::optional<AttemptResult> result;
    auto execution =
        m_action.start(request, context, [&result](AttemptResult r) { result = std::move(r); });
    // The statement runs on a pool thread; its result arrives through the event loop.
    if (!QTest::qWaitFor([&result] { return result.has_value(); }, 10000))
        return AttemptResult::failure(ErrorClass::Permanent, QStringLiteral("no result in 10 s"));
    if (!result)
        return AttemptResult::failure(ErrorClass::Permanent, QStringLiteral("no result"));
    return *result;
}

AttemptResult TestSqlStep::statement(const QString &text, const QJsonValue &bind,
                                     std::optional<qint64> timeoutMs) {
    QJsonObject input{{QStringLiteral("connection"), QStringLiteral("test")},
                      {QStringLiteral("statement"), text}};
    if (!bind.isNull())
        input.insert(QStringLiteral("bind"), bind);
    return sql(QJsonDocument(input).toJson(), timeoutMs);
}

/// Counts rows through a connection of the test's own, outside the action.
int TestSqlStep::count(const QString &where) {
    int rows = -1;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
        db.setDatabaseName(m_path);
        if (db.open()) {
            QSqlQuery query(db);
            if (query.exec(QStringLiteral("SELECT count(*) FROM orders ") + where) && query.next())
                rows = query.value(0).toInt();
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("check"));
    return rows;
}

void TestSqlStep::insertsWithNamedBinds() {
    const AttemptResult result =
        statement(QStringLiteral("INSERT INTO orders (id, customer, total, note) "
                                 "VALUES (:id, :customer, :total, :note)"),
                  object(R"J({ "id": 1, "customer": "acme", "total": 12.5, "note": null })J"));
    QVERIFY2(result.succeeded, qPrintable(result.error));
    QCOMPARE(result.output.toObject(), object(R"J({ "rows_affected": 1 })J"));
    QCOMPARE(count(QStringLiteral("WHERE customer = 'acme' AND total = 12.5 AND note IS NULL")), 1);
}

void TestSqlStep::selectsRowsWithPositionalBinds() {
    QVERIFY(statement(QStringLiteral("INSERT INTO orders (id, customer, total) "
                                     "VALUES (1, 'acme', 12.5), (2, 'globex', 3)"))
                .succeeded);
    const AttemptResult result =
        statement(QStringLiteral("SELECT id, customer, total, note FROM orders "
                                 "WHERE total > ? AND customer <> ? ORDER BY id"),
                  QJsonArray{1, QStringLiteral("nobody")});
    QVERIFY2(result.succeeded, qPrintable(result.error));
    QCOMPARE(result.output.toObject(), object(R"J({ "rows_affected": 0, "rows": [
        { "id": 1, "customer": "acme", "total": 12.5, "note": null },
        { "id": 2, "customer": "globex", "total": 3, "note": null } ] })J"));
}

void TestSqlStep::constraintViolationIsPermanentAndRolledBack() {
    QVERIFY(statement(QStringLiteral("INSERT INTO orders (id, customer) VALUES (1, 'acme')"))
                .succeeded);
    // The first row is fine, the second collides: nothing of the statement may remain.
    const AttemptResult result = statement(
        QStringLiteral("INSERT INTO orders (id, customer) VALUES (10, 'new'), (1, 'duplicate')"));
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("UNIQUE constraint failed")),
             qPrintable(result.error));
    QVERIFY2(result.error.contains(QStringLiteral("rolled back")), qPrintable(result.error));
    QCOMPARE(count(), 1);
    QCOMPARE(count(QStringLiteral("WHERE id = 10")), 0);
}

void TestSqlStep::tooManyRowsIsRefusedAndRolledBack() {
    // The statement itself succeeds; the attempt fails afterwards, so only the attempt's own
    // transaction can undo the insert.
    const QString insertMany =
        QStringLiteral("INSERT INTO orders (customer) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
                       "SELECT x + 1 FROM n WHERE x < :rows) SELECT 'c' || x FROM n RETURNING id");
    const AttemptResult result =
        statement(insertMany, QJsonObject{{QStringLiteral("rows"), 10001}});
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("more than 10000 rows")),
             qPrintable(result.error));
    QCOMPARE(count(), 0);

    const AttemptResult fits = statement(insertMany, QJsonObject{{QStringLiteral("rows"), 10000}});
    QVERIFY2(fits.succeeded, qPrintable(fits.error));
    QCOMPARE(fits.output.toObject().value(QStringLiteral("rows")).toArray().size(), 10000);
    QCOMPARE(fits.output.toObject().value(QStringLiteral("rows_affected")).toInt(), 10000);
    QCOMPARE(count(), 10000);
}

void TestSqlStep::injectionInBoundValueIsStoredLiterally() {
    const QString evil = QStringLiteral("x'); DROP TABLE orders; --");
    const AttemptResult insert =
        statement(QStringLiteral("INSERT INTO orders (customer) VALUES (:customer)"),
                  QJsonObject{{QStringLiteral("customer"), evil}});
    QVERIFY2(insert.succeeded, qPrintable(insert.error));
    const AttemptResult read = statement(QStringLiteral("SELECT customer FROM orders"));
    QVERIFY2(read.succeeded, qPrintable(read.error));
    const QJsonArray rows = read.output.toObject().value(QStringLiteral("rows")).toArray();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().toObject().value(QStringLiteral("customer")).toString(), evil);
}

void TestSqlStep::templateInStatementIsRefusedNotRendered() {
    // Behind validation, the step itself: "{{" in the statement is refused before any SQL runs.
    const AttemptResult result =
        statement(QStringLiteral("INSERT INTO orders (customer) VALUES ('{{params.x}}')"));
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("with.statement contains a template: values "
                                                  "are never spliced into SQL")),
             qPrintable(result.error));
    QCOMPARE(count(), 0);
}

void TestSqlStep::unknownConnectionNamesItsVariable() {
    const AttemptResult result = sql(R"J({ "connection": "crm-prod", "statement": "SELECT 1" })J");
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("KEEPFLOW_SQL_CRM_PROD")),
             qPrintable(result.error));
    QVERIFY2(result.error.contains(QStringLiteral("\"crm-prod\"")), qPrintable(result.error));
}

void TestSqlStep::connectionVariableName_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("variable");
    QTest::newRow("plain") << QStringLiteral("warehouse")
                           << QStringLiteral("KEEPFLOW_SQL_WAREHOUSE");
    QTest::newRow("dash and dot") << QStringLiteral("crm-prod.eu")
                                  << QStringLiteral("KEEPFLOW_SQL_CRM_PROD_EU");
    QTest::newRow("digits") << QStringLiteral("db2") << QStringLiteral("KEEPFLOW_SQL_DB2");
    QTest::newRow("non-ascii") << QStringLiteral("b\u00fccher")
                               << QStringLiteral("KEEPFLOW_SQL_B_CHER");
}

void TestSqlStep::connectionVariableName() {
    QFETCH(QString, name);
    QFETCH(QString, variable);
    QCOMPARE(sqlConnectionVariable(name), variable);
}

void TestSqlStep::syntaxErrorIsPermanent() {
    const AttemptResult result = statement(QStringLiteral("SELEC 1"));
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("syntax error")), qPrintable(result.error));
    QVERIFY2(result.error.startsWith(QStringLiteral("sql test (sqlite://")),
             qPrintable(result.error));
}

void TestSqlStep::multipleStatementsAreRefused() {
    const AttemptResult result = statement(QStringLiteral("SELECT 1; DROP TABLE orders"));
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QCOMPARE(count(), 0); // the table is still there
}

void TestSqlStep::bindMismatchIsPermanent_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("bind");
    QTest::addColumn<QString>("reason");
    QTest::newRow("misspelt name")
        << QStringLiteral("INSERT INTO orders (customer) VALUES (:customer)")
        << QByteArray(R"J({ "custmer": "a" })J")
        << QStringLiteral("with.bind has \"custmer\" but the statement has no :custmer");
    QTest::newRow("missing name")
        << QStringLiteral("SELECT * FROM orders WHERE id = :id AND customer = :c")
        << QByteArray(R"J({ "id": 1 })J")
        << QStringLiteral("the statement uses :c but with.bind has no \"c\"");
    QTest::newRow("too few values")
        << QStringLiteral("SELECT * FROM orders WHERE id = ? AND customer = ?") << QByteArray("[1]")
        << QStringLiteral("2 ? placeholder(s) but with.bind holds 1 value(s)");
    QTest::newRow("array for names")
        << QStringLiteral("SELECT * FROM orders WHERE id = :id") << QByteArray("[1]")
        << QStringLiteral("with.bind is an array but the statement "
                          "uses :id");
    QTest::newRow("placeholders in literals are text")
        << QStringLiteral("SELECT ':x', '?', \"a?\" FROM orders WHERE id = :id -- :y ?")
        << QByteArray(R"J({ "id": 1, "x": 2 })J") << QStringLiteral("with.bind has \"x\"");
}

void TestSqlStep::bindMismatchIsPermanent() {
    QFETCH(QString, text);
    QFETCH(QByteArray, bind);
    QFETCH(QString, reason);
    const QJsonDocument document = QJsonDocument::fromJson(bind);
    const AttemptResult result = statement(
        text, document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object()));
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(reason), qPrintable(result.error));
}

void TestSqlStep::busyDatabaseIsTransient() {
    const QString insert = QStringLiteral("INSERT INTO orders (customer) VALUES ('late')");
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("holder"));
        db.setDatabaseName(m_path);
        QVERIFY(db.open());
        QSqlQuery hold(db);
        QVERIFY(hold.exec(QStringLiteral("BEGIN EXCLUSIVE")));
        // The attempt's timeout bounds how long it waits for the lock.
        const AttemptResult result = statement(insert, QJsonValue(), 100);
        QVERIFY(!result.succeeded);
        QCOMPARE(result.errorClass, ErrorClass::Transient);
        QVERIFY2(result.error.contains(QStringLiteral("locked")), qPrintable(result.error));
        QVERIFY(hold.exec(QStringLiteral("ROLLBACK")));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("holder"));
    QVERIFY(statement(insert).succeeded);
}

void TestSqlStep::missingPostgresDriverIsNamed() {
    if (QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        QSKIP("the QPSQL driver is installed here");
    qputenv("KEEPFLOW_SQL_PG", "postgresql://keepflow:secret@127.0.0.1:1/orders");
    const AttemptResult result = sql(R"J({ "connection": "pg", "statement": "SELECT 1" })J");
    qunsetenv("KEEPFLOW_SQL_PG");
    QVERIFY(!result.succeeded);
    QCOMPARE(result.errorClass, ErrorClass::Permanent);
    QVERIFY2(result.error.contains(QStringLiteral("QPSQL")), qPrintable(result.error));
    QVERIFY2(!result.error.contains(QStringLiteral("secret")), qPrintable(result.error));
}

void TestSqlStep::connectionsAreClosedAfterEachAttempt() {
    QVERIFY(statement(QStringLiteral("SELECT 1")).succeeded);
    QVERIFY(!statement(QStringLiteral("SELEC 1")).succeeded);
    for (const QString &name : QSqlDatabase::connectionNames())
        QVERIFY2(!name.startsWith(QStringLiteral("keepflow-sql")), qPrintable(name));
}

void TestSqlStep::engineRunsStatementsInOrder() {
    Harness h;
    const QString run = h.start(flow(R"J(
        { "id": "add", "kind": "sql", "with": { "connection": "test",
          "statement": "INSERT INTO orders (customer, total) VALUES (:customer, :total)",
          "bind": { "customer": "{{run.id}}", "total": 40 } } },
        { "id": "read", "kind": "sql", "after": ["add"], "with": { "connection": "test",
          "statement": "SELECT customer, total FROM orders WHERE customer = ?",
          "bind": ["{{run.id}}"] } })J"));
    QVERIFY(h.settle());
    QVERIFY(!run.isEmpty());
    QCOMPARE(h.store->run(run)->state, RunState::Succeeded);
    const QJsonObject added = h.step(run, QStringLiteral("add")).output.toObject();
    QCOMPARE(added.value(QStringLiteral("rows_affected")).toInt(), 1);
    const QJsonArray rows = h.step(run, QStringLiteral("read"))
                                .output.toObject()
                                .value(QStringLiteral("rows"))
                                .toArray();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().toObject().value(QStringLiteral("customer")).toString(), run);
    QCOMPARE(rows.first().toObject().value(QStringLiteral("total")).toInt(), 40);
}

void TestSqlStep::engineDoesNotRetryConstraintViolation() {
    Harness h;
    const QString run = h.start(flow(R"J(
        { "id": "add", "kind": "sql", "with": { "connection": "test",
          "statement": "INSERT INTO orders (id, customer) VALUES (1, 'a'), (1, 'b')" } })J"));
    QVERIFY(h.settle());
    const StepRunRow step = h.step(run, QStringLiteral("add"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.errorClass, ErrorClass::Permanent);
    QCOMPARE(count(), 0);
}

void TestSqlStep::slowDatabaseDoesNotHoldBackOtherSteps() {
    // Another connection holds the write lock: the insert waits for it on a pool thread while the
    // engine goes on with everything else.
    {
        QSqlDatabase locker =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        locker.setDatabaseName(m_path);
        QVERIFY(locker.open());
        QSqlQuery lock(locker);
        QVERIFY(lock.exec(QStringLiteral("BEGIN EXCLUSIVE")));
        Harness h;
        FlowLoad load = parseFlow(R"J({ "keepflow": 1, "name": "t", "steps": [
            { "id": "add", "kind": "sql", "timeout": "10s", "with": { "connection": "test",
              "statement": "INSERT INTO orders (customer) VALUES ('late')" } },
            { "id": "other", "kind": "noop" } ] })J",
                                  QStringLiteral("t.flow.json"));
        QVERIFY(load.ok());
        const QString run = *h.engine->createRun(*load.flow, {}, {}, true);
        QVERIFY(h.engine->pump());
        QCOMPARE(h.step(run, QStringLiteral("other")).state, StepState::Succeeded);
        QCOMPARE(h.step(run, QStringLiteral("add")).state, StepState::Running);
        QCOMPARE(h.engine->runningAttemptCount(), 1);
        QVERIFY(lock.exec(QStringLiteral("COMMIT"))); // the database is free again
        QTRY_VERIFY_WITH_TIMEOUT(
            (h.engine->pump(), h.step(run, QStringLiteral("add")).state == StepState::Succeeded),
            10000);
        lock.finish();
        locker.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    QCOMPARE(count(QStringLiteral("WHERE customer = 'late'")), 1);
}

void TestSqlStep::engineNeverSplicesATemplateIntoTheStatement() {
    // A run of a flow with a template in its statement is refused when it is created (the engine
    // validates the flow it stores), so the injection "zzz' or '1'='1" never reaches the database.
    QVERIFY(statement(QStringLiteral("INSERT INTO orders (customer) VALUES ('acme'), ('globex')"))
                .succeeded);
    Flow flow;
    flow.name = QStringLiteral("t");
    ParamSpec x;
    x.name = QStringLiteral("x");
    flow.params.append(x);
    Step read;
    read.id = QStringLiteral("read");
    read.kind = QStringLiteral("sql");
    read.with = object(R"J({ "connection": "test",
        "statement": "SELECT customer FROM orders WHERE customer = '{{params.x}}'" })J");
    flow.steps.append(read);
    Harness h;
    const auto run = h.engine->createRun(
        flow, {}, QJsonObject{{QStringLiteral("x"), QStringLiteral("zzz' or '1'='1")}}, true);
    QVERIFY(!run);
    QVERIFY2(run.error().contains(QStringLiteral("step \"read\": \"with.statement\" must not "
                                                 "contain templates")),
             qPrintable(run.error()));
    QCOMPARE(h.engine->runningAttemptCount(), 0);
}

QTEST_GUILESS_MAIN(TestSqlStep)
#include "tst_sqlstep.moc"
