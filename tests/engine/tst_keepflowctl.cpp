// keepflowctl as users script it: its commands, exit codes and JSON.

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

struct Outcome {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonValue json() const {
        const QJsonDocument document = QJsonDocument::fromJson(out);
        return document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
    }
};

} // namespace

class TestKeepflowctl : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void validateAcceptsExamples();
    void validateReportsFileLineColumn();
    void runExitCodesFollowRunState_data();
    void runExitCodesFollowRunState();
    void statusListAndEventsJsonFollowContract();
    void invalidFlowRunsNothing();
    void unknownRunAndCommandExitOne();
    void detachedRunIsExecutedInBackground();
    void workerStopsGracefullyOnSigterm();
    void resourcesCanBeListedPausedAndReset();
    void actionsChangeFinishedRunsOrRefuse();
    void actionReachesTheWorkerThatRunsIt();
    void sigkilledNonIdempotentStepWaitsForResolve();

private:
    /// keepflowctl with arguments on the test database (or on database when given).
    Outcome ctl(const QStringList &arguments, const QString &database = {});
    static QString runStateOf(const Outcome &status);
    QString writeFlow(const QString &name, const QByteArray &text);
    QTemporaryDir m_dir;
    QString db() const { return m_dir.filePath(QStringLiteral("ctl.db")); }
};

QString TestKeepflowctl::runStateOf(const Outcome &status) {
    return status.json()
        .toObject()
        .value(QStringLiteral("run"))
        .toObject()
        .value(QStringLiteral("state"))
        .toString();
}

Outcome TestKeepflowctl::ctl(const QStringList &arguments, const QString &database) {
    QProcess process;
    process.start(QStringLiteral(KEEPFLOWCTL_PATH),
                  arguments +
                      QStringList{QStringLiteral("--db"), database.isEmpty() ? db() : database});
    Outcome outcome;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        return outcome;
    }
    outcome.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    outcome.out = process.readAllStandardOutput();
    outcome.err = process.readAllStandardError();
    return outcome;
}

QString TestKeepflowctl::writeFlow(const QString &name, const QByteArray &text) {
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(text);
    return path;
}

void TestKeepflowctl::validateAcceptsExamples() {
    const QDir examples(QStringLiteral(KEEPFLOW_EXAMPLES));
    QStringList files;
    for (const QString &name : examples.entryList({QStringLiteral("*.flow.json")}))
        files << examples.filePath(name);
    QVERIFY(files.size() >= 3);
    const Outcome outcome = ctl(QStringList{QStringLiteral("validate")} + files);
    QVERIFY2(outcome.exitCode == 0, outcome.err.constData());
}

void TestKeepflowctl::validateReportsFileLineColumn() {
    const QString file =
        writeFlow(QStringLiteral("bad.flow.json"),
                  "{\n  \"keepflow\": 1,\n  \"name\": \"bad\",\n"
                  "  \"steps\": [\n    { \"id\": \"a\", \"kind\": \"teleport\" }\n  ]\n}\n");
    const Outcome outcome = ctl({QStringLiteral("validate"), file});
    QCOMPARE(outcome.exitCode, 1);
    const QString expectedPrefix = file + QStringLiteral(":5:");
    QVERIFY2(QString::fromUtf8(outcome.err).startsWith(expectedPrefix), outcome.err.constData());
    QVERIFY2(outcome.err.contains(": error: "), outcome.err.constData());
    QVERIFY2(outcome.err.contains("teleport"), outcome.err.constData());
}

void TestKeepflowctl::runExitCodesFollowRunState_data() {
    QTest::addColumn<QByteArray>("steps");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("state");
    QTest::newRow("succeeded") << QByteArray(R"({ "id": "a", "kind": "noop" })") << 0
                               << QStringLiteral("succeeded");
    QTest::newRow("completed with failures")
        << QByteArray(
               R"({ "id": "a", "kind": "noop" }, { "id": "b", "kind": "fault", "with": { "fail_first": 5, "error": "permanent" } })")
        << 2 << QStringLiteral("completed_with_failures");
    QTest::newRow("failed")
        << QByteArray(
               R"({ "id": "b", "kind": "fault", "with": { "fail_first": 5, "error": "permanent" } })")
        << 3 << QStringLiteral("failed");
    QTest::newRow("waiting for an operator")
        << QByteArray(
               R"({ "id": "pay", "kind": "fault", "idempotency": "none", "timeout": "100ms", "with": { "fail_first": 1, "error": "timeout" } })")
        << 4 << QStringLiteral("waiting_for_operator");
}

void TestKeepflowctl::runExitCodesFollowRunState() {
    QFETCH(QByteArray, steps);
    QFETCH(int, exitCode);
    QFETCH(QString, state);
    const QString file =
        writeFlow(QStringLiteral("exit.flow.json"),
                  R"({ "keepflow": 1, "name": "exit", "steps": [)" + steps + "] }");
    const Outcome outcome = ctl({QStringLiteral("run"), file, QStringLiteral("--json")});
    QVERIFY2(outcome.exitCode == exitCode, outcome.err.constData());
    QCOMPARE(runStateOf(outcome), state);
}

void TestKeepflowctl::statusListAndEventsJsonFollowContract() {
    const QString file =
        writeFlow(QStringLiteral("contract.flow.json"), R"({ "keepflow": 1, "name": "contract",
        "params": { "who": { "default": "world" } },
        "steps": [ { "id": "hello", "kind": "shell", "with": { "argv": ["printf", "hi %s", "{{params.who}}"] } },
                   { "id": "flaky", "kind": "fault", "with": { "fail_first": 1 }, "retry": { "initial_interval": "10ms" },
                     "fallback": { "value": 42 } } ] })");
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--param"),
                             QStringLiteral("who=you"), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY2(run.err.contains("attempt 1 failed"),
             run.err.constData()); // progress goes to stderr with --json
    const QJsonObject status = run.json().toObject();
    const QString id =
        status.value(QStringLiteral("run")).toObject().value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());

    const QJsonObject again =
        ctl({QStringLiteral("status"), id, QStringLiteral("--json")}).json().toObject();
    const QJsonObject runJson = again.value(QStringLiteral("run")).toObject();
    for (const char *key : {"id", "flow", "state", "created_at", "ended_at"})
        QVERIFY2(runJson.contains(QLatin1String(key)), key);
    QCOMPARE(runJson.value(QStringLiteral("flow")).toString(), QStringLiteral("contract"));
    QVERIFY(runJson.value(QStringLiteral("created_at")).toString().endsWith(QLatin1Char('Z')));
    const QJsonArray steps = again.value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps.size(), 2);
    for (const QJsonValue &value : steps) {
        for (const char *key : {"id", "state", "attempts", "error", "via_fallback", "output"})
            QVERIFY2(value.toObject().contains(QLatin1String(key)), key);
    }
    QCOMPARE(steps[0]
                 .toObject()
                 .value(QStringLiteral("output"))
                 .toObject()
                 .value(QStringLiteral("stdout"))
                 .toString(),
             QStringLiteral("hi you"));
    QCOMPARE(steps[1].toObject().value(QStringLiteral("attempts")).toInt(), 2);

    const QJsonArray list =
        ctl({QStringLiteral("list"), QStringLiteral("--json")}).json().toArray();
    QVERIFY(!list.isEmpty());
    QCOMPARE(list.first().toObject().value(QStringLiteral("id")).toString(), id); // newest first
    for (const char *key : {"id", "flow", "state", "created_at", "ended_at"})
        QVERIFY2(list.first().toObject().contains(QLatin1String(key)), key);
    const QJsonArray filtered = ctl({QStringLiteral("list"), QStringLiteral("--state"),
                                     QStringLiteral("failed"), QStringLiteral("--json")})
                                    .json()
                                    .toArray();
    for (const QJsonValue &value : filtered)
        QCOMPARE(value.toObject().value(QStringLiteral("state")).toString(),
                 QStringLiteral("failed"));
    QCOMPARE(
        ctl({QStringLiteral("list"), QStringLiteral("--state"), QStringLiteral("done")}).exitCode,
        1);

    const QJsonArray events =
        ctl({QStringLiteral("events"), id, QStringLiteral("--json")}).json().toArray();
    QVERIFY(events.size() >= 6);
    qint64 previous = 0;
    for (const QJsonValue &value : events) {
        const QJsonObject event = value.toObject();
        for (const char *key : {"id", "at", "step", "type", "actor", "detail"})
            QVERIFY2(event.contains(QLatin1String(key)), key);
        QVERIFY(event.value(QStringLiteral("id")).toInteger() > previous); // oldest first
        previous = event.value(QStringLiteral("id")).toInteger();
    }
    QCOMPARE(events.first().toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("run_created"));
}

void TestKeepflowctl::invalidFlowRunsNothing() {
    const int before =
        ctl({QStringLiteral("list"), QStringLiteral("--json")}).json().toArray().size();
    const QString file =
        writeFlow(QStringLiteral("cycle.flow.json"), R"({ "keepflow": 1, "name": "cycle", "steps": [
        { "id": "a", "kind": "noop", "after": ["b"] }, { "id": "b", "kind": "noop", "after": ["a"] } ] })");
    const Outcome outcome = ctl({QStringLiteral("run"), file});
    QCOMPARE(outcome.exitCode, 1);
    QVERIFY2(outcome.err.contains("cycle"), outcome.err.constData());
    QCOMPARE(ctl({QStringLiteral("list"), QStringLiteral("--json")}).json().toArray().size(),
             before);
}

void TestKeepflowctl::unknownRunAndCommandExitOne() {
    Outcome outcome = ctl({QStringLiteral("status"), QStringLiteral("nosuchrun")});
    QCOMPARE(outcome.exitCode, 1);
    QVERIFY2(outcome.err.contains("nosuchrun"), outcome.err.constData());
    outcome = ctl({QStringLiteral("frobnicate")});
    QCOMPARE(outcome.exitCode, 1);
    QVERIFY(outcome.err.contains("unknown command"));
    const QString corrupt = m_dir.filePath(QStringLiteral("corrupt.db"));
    QFile garbage(corrupt);
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(4096, 'x'));
    garbage.close();
    QProcess process;
    process.start(QStringLiteral(KEEPFLOWCTL_PATH),
                  {QStringLiteral("list"), QStringLiteral("--db"), corrupt});
    QVERIFY(process.waitForFinished());
    QCOMPARE(process.exitCode(), 1);
    QVERIFY(process.readAllStandardError().contains(corrupt.toUtf8()));
}

void TestKeepflowctl::detachedRunIsExecutedInBackground() {
    const QString file =
        writeFlow(QStringLiteral("detach.flow.json"), R"({ "keepflow": 1, "name": "detached",
        "steps": [ { "id": "a", "kind": "shell", "with": { "argv": ["true"] } } ] })");
    const Outcome outcome =
        ctl({QStringLiteral("run"), file, QStringLiteral("--detach"), QStringLiteral("--json")});
    QCOMPARE(outcome.exitCode, 0);
    const QString id = outcome.json().toObject().value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(
        runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")})),
        QStringLiteral("succeeded"), 20000);
}

void TestKeepflowctl::workerStopsGracefullyOnSigterm() {
    const QString workerDb = m_dir.filePath(QStringLiteral("worker.db"));
    QProcess worker;
    worker.start(QStringLiteral(KEEPFLOWCTL_PATH),
                 {QStringLiteral("worker"), QStringLiteral("--db"), workerDb});
    QVERIFY(worker.waitForStarted());
    QByteArray said;
    QTRY_VERIFY((said += worker.readAllStandardError()).contains("worker on"));
    ::kill(static_cast<pid_t>(worker.processId()), SIGTERM);
    QVERIFY(worker.waitForFinished(10000));
    QCOMPARE(worker.exitStatus(), QProcess::NormalExit);
    QCOMPARE(worker.exitCode(), 0);
}

void TestKeepflowctl::resourcesCanBeListedPausedAndReset() {
    const QString file =
        writeFlow(QStringLiteral("resource.flow.json"), R"({ "keepflow": 1, "name": "uses-crm",
        "resources": { "crm": { "concurrency": 2, "breaker": { "failure_rate": 0.5, "window": 2, "min_calls": 2 } } },
        "steps": [ { "id": "a", "kind": "fault", "resource": "crm", "with": { "fail_first": 1 },
                     "retry": { "initial_interval": "10ms", "jitter": 0 } } ] })");
    QCOMPARE(ctl({QStringLiteral("run"), file}).exitCode, 0);
    auto crm = [this]() {
        const QJsonArray list =
            ctl({QStringLiteral("resources"), QStringLiteral("--json")}).json().toArray();
        for (const QJsonValue &value : list) {
            if (value.toObject().value(QStringLiteral("name")).toString() == QLatin1String("crm"))
                return value.toObject();
        }
        return QJsonObject();
    };
    QJsonObject resource = crm();
    for (const char *key : {"name", "state", "queued", "in_flight", "failure_rate"})
        QVERIFY2(resource.contains(QLatin1String(key)), key);
    QCOMPARE(resource.value(QStringLiteral("state")).toString(), QStringLiteral("closed"));
    QCOMPARE(resource.value(QStringLiteral("failure_rate")).toDouble(),
             0.5); // one failed, one succeeded

    QCOMPARE(
        ctl({QStringLiteral("resource"), QStringLiteral("pause"), QStringLiteral("crm")}).exitCode,
        0);
    QCOMPARE(crm().value(QStringLiteral("state")).toString(), QStringLiteral("paused"));
    QCOMPARE(ctl({QStringLiteral("resource"), QStringLiteral("unpause"), QStringLiteral("crm")})
                 .exitCode,
             0);
    QCOMPARE(
        ctl({QStringLiteral("resource"), QStringLiteral("reset"), QStringLiteral("crm")}).exitCode,
        0);
    resource = crm();
    QCOMPARE(resource.value(QStringLiteral("state")).toString(), QStringLiteral("closed"));
    QCOMPARE(resource.value(QStringLiteral("failure_rate")).toDouble(), 0.0);
    const Outcome unknown =
        ctl({QStringLiteral("resource"), QStringLiteral("pause"), QStringLiteral("nope")});
    QCOMPARE(unknown.exitCode, 1);
    QVERIFY2(unknown.err.contains("unknown resource"), unknown.err.constData());
    QCOMPARE(ctl({QStringLiteral("resource"), QStringLiteral("explode"), QStringLiteral("crm")})
                 .exitCode,
             1);
}

void TestKeepflowctl::actionsChangeFinishedRunsOrRefuse() {
    const QString file =
        writeFlow(QStringLiteral("act.flow.json"), R"({ "keepflow": 1, "name": "act",
        "steps": [ { "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
                   { "id": "b", "kind": "noop", "after": ["a"], "with": { "output": "{{steps.a.output.v}}" } } ] })");
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")});
    QCOMPARE(run.exitCode, 3);
    const QString id = run.json()
                           .toObject()
                           .value(QStringLiteral("run"))
                           .toObject()
                           .value(QStringLiteral("id"))
                           .toString();
    const Outcome refused = ctl({QStringLiteral("approve"), id, QStringLiteral("a")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("not an approval"), refused.err.constData());
    QCOMPARE(ctl({QStringLiteral("mark-succeeded"), id, QStringLiteral("a")}).exitCode,
             1); // --output is required
    const Outcome marked = ctl({QStringLiteral("mark-succeeded"), id, QStringLiteral("a"),
                                QStringLiteral("--output"), QStringLiteral("{\"v\": 7}"),
                                QStringLiteral("--reason"), QStringLiteral("fixed by hand")});
    QVERIFY2(marked.exitCode == 0, marked.err.constData());
    QVERIFY(marked.out.contains("running again"));
    const Outcome resumed = ctl({QStringLiteral("resume"), id, QStringLiteral("--json")});
    QCOMPARE(resumed.exitCode, 0);
    const QJsonArray steps = resumed.json().toObject().value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps[1].toObject().value(QStringLiteral("output")).toInt(), 7);
    const QJsonArray events =
        ctl({QStringLiteral("events"), id, QStringLiteral("--json")}).json().toArray();
    bool recorded = false;
    for (const QJsonValue &value : events) {
        const QJsonObject event = value.toObject();
        recorded = recorded || (event.value(QStringLiteral("type")).toString() ==
                                    QLatin1String("operator_mark_succeeded") &&
                                event.value(QStringLiteral("detail"))
                                        .toObject()
                                        .value(QStringLiteral("reason"))
                                        .toString() == QLatin1String("fixed by hand") &&
                                !event.value(QStringLiteral("actor")).toString().isEmpty());
    }
    QVERIFY(recorded);
}

void TestKeepflowctl::actionReachesTheWorkerThatRunsIt() {
    const QString workerDb = m_dir.filePath(QStringLiteral("live.db"));
    QProcess worker;
    worker.start(QStringLiteral(KEEPFLOWCTL_PATH),
                 {QStringLiteral("worker"), QStringLiteral("--db"), workerDb});
    QVERIFY(worker.waitForStarted());
    auto live = [this, &workerDb](const QStringList &arguments) {
        return ctl(arguments, workerDb);
    };
    const QString file =
        writeFlow(QStringLiteral("live.flow.json"), R"({ "keepflow": 1, "name": "live",
        "steps": [ { "id": "wait", "kind": "delay", "with": { "duration": "1h" } },
                   { "id": "broken", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
                   { "id": "after", "kind": "noop", "after": ["broken"] } ] })");
    const Outcome started =
        live({QStringLiteral("run"), file, QStringLiteral("--detach"), QStringLiteral("--json")});
    const QString id = started.json().toObject().value(QStringLiteral("id")).toString();
    QVERIFY2(!id.isEmpty(), started.err.constData());
    auto stepState = [&live, &id](int index) {
        return live({QStringLiteral("status"), id, QStringLiteral("--json")})
            .json()
            .toObject()
            .value(QStringLiteral("steps"))
            .toArray()[index]
            .toObject()
            .value(QStringLiteral("state"))
            .toString();
    };
    QTRY_COMPARE_WITH_TIMEOUT(stepState(1), QStringLiteral("failed"), 20000);
    // A live process executes the run: the action is left for it and applied within a second.
    const Outcome skipped = live({QStringLiteral("skip"), id, QStringLiteral("broken")});
    QVERIFY2(skipped.exitCode == 0, skipped.err.constData());
    QVERIFY2(skipped.out.contains("applied by"), skipped.out.constData());
    QTRY_COMPARE_WITH_TIMEOUT(stepState(2), QStringLiteral("succeeded"), 20000);
    const Outcome cancelled = live({QStringLiteral("cancel"), id});
    QVERIFY2(cancelled.exitCode == 0, cancelled.err.constData());
    QTRY_COMPARE_WITH_TIMEOUT(
        runStateOf(live({QStringLiteral("status"), id, QStringLiteral("--json")})),
        QStringLiteral("cancelled"), 20000);
    ::kill(static_cast<pid_t>(worker.processId()), SIGTERM);
    QVERIFY(worker.waitForFinished(10000));
}

void TestKeepflowctl::sigkilledNonIdempotentStepWaitsForResolve() {
    const QString file =
        writeFlow(QStringLiteral("pay.flow.json"), R"({ "keepflow": 1, "name": "pay",
        "steps": [ { "id": "charge", "kind": "shell", "idempotency": "none", "with": { "argv": ["sleep", "3"] } },
                   { "id": "receipt", "kind": "noop", "after": ["charge"] } ] })");
    QProcess running;
    running.start(QStringLiteral(KEEPFLOWCTL_PATH),
                  {QStringLiteral("run"), file, QStringLiteral("--db"), db()});
    QVERIFY(running.waitForStarted());
    QByteArray said;
    QTRY_VERIFY((said += running.readAllStandardOutput()).contains("attempt 1/3 started"));
    const QString id = QString::fromUtf8(said.mid(4, said.indexOf(' ', 4) - 4));
    running.kill(); // SIGKILL while the charge may or may not have happened
    QVERIFY(running.waitForFinished());

    const Outcome resumed = ctl({QStringLiteral("resume"), id, QStringLiteral("--json")});
    QCOMPARE(resumed.exitCode, 4); // waits for an operator: nothing retries it by itself
    QCOMPARE(resumed.json()
                 .toObject()
                 .value(QStringLiteral("steps"))
                 .toArray()[0]
                 .toObject()
                 .value(QStringLiteral("state"))
                 .toString(),
             QStringLiteral("uncertain"));
    QCOMPARE(ctl({QStringLiteral("retry"), id, QStringLiteral("charge")}).exitCode,
             1); // must be resolved
    const Outcome resolved =
        ctl({QStringLiteral("resolve"), id, QStringLiteral("charge"), QStringLiteral("--happened"),
             QStringLiteral("--output"), QStringLiteral("{\"charged\": true}")});
    QVERIFY2(resolved.exitCode == 0, resolved.err.constData());
    const Outcome finished = ctl({QStringLiteral("resume"), id, QStringLiteral("--json")});
    QCOMPARE(finished.exitCode, 0);
    const QJsonArray steps = finished.json().toObject().value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps[0].toObject().value(QStringLiteral("attempts")).toInt(), 1); // never run twice
    QCOMPARE(steps[1].toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("succeeded"));
}

QTEST_GUILESS_MAIN(TestKeepflowctl)
#include "tst_keepflowctl.moc"
