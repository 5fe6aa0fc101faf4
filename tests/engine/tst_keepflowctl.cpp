// keepflowctl as users script it: its commands, exit codes and JSON.

#include "tamper.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

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

/// The check named name in `check --json` output.
QJsonObject checkNamed(const QJsonValue &report, const QString &name) {
    for (const QJsonValue &check : report.toObject().value(QStringLiteral("checks")).toArray()) {
        if (check.toObject().value(QStringLiteral("name")).toString() == name)
            return check.toObject();
    }
    return {};
}

} // namespace

class TestKeepflowctl : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void validateAcceptsExamples();
    void validateReportsFileLineColumn();
    void runExitCodesFollowRunState_data();
    void runExitCodesFollowRunState();
    void statusListAndEventsJsonFollowContract();
    void upgradeDryRunJsonAndExitCodes();
    void statusNamesTheRootCauseAndWhatWaitsOnIt();
    void statusAtShowsTheRunAsItWasThen();
    void diffComparesWithTheLastGoodRun();
    void invalidFlowRunsNothing();
    void unknownRunAndCommandExitOne();
    void detachedRunIsExecutedInBackground();
    void workerStopsGracefullyOnSigterm();
    void sigtermedWorkerLeavesItsRunToAnother();
    void resourcesCanBeListedPausedAndReset();
    void actionsChangeFinishedRunsOrRefuse();
    void actionReachesTheWorkerThatRunsIt();
    void sigkilledNonIdempotentStepWaitsForResolve();
    void damagedMetaTableIsAnErrorNotACrash_data();
    void damagedMetaTableIsAnErrorNotACrash();
    void checkPassesAHealthyDatabase();
    void checkNamesOverwrittenPages();
    void checkNamesBrokenInvariants();
    void readOnlyDatabaseCanBeLookedAt();
    void lookingAtAMissingDatabaseCreatesNone();
    void sharedDatabaseModeIsSaid();
    void submitLeavesTheRunForAWorker();
    void aPasswordInTheUrlIsRefused();
    void logsPrintWhatAnAttemptPrinted();
    void workerLogsEachEventWithoutCredentials();
    void failuresGroupAndRetryFailedActsOnTheFilter();
    void alertRulesAreListedAddedAndRemoved();
    void setPolicyAndResourceLimitsLive();

private:
    /// keepflowctl with arguments on the test database (or on database when given).
    Outcome ctl(const QStringList &arguments, const QString &database = {});
    static QString runStateOf(const Outcome &status);
    /// The run id in the JSON of `run --json` or `status --json`.
    static QString runIdOf(const Outcome &status);
    QString writeFlow(const QString &name, const QByteArray &text);
    /// A database of its own with one finished run of flow; returns the run id.
    QString databaseWithRun(const QString &database, const QByteArray &flow);
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

QString TestKeepflowctl::runIdOf(const Outcome &status) {
    return status.json()
        .toObject()
        .value(QStringLiteral("run"))
        .toObject()
        .value(QStringLiteral("id"))
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

void TestKeepflowctl::statusNamesTheRootCauseAndWhatWaitsOnIt() {
    // pay times out and may not be repeated: its outcome is uncertain, ship and mail wait on it.
    const QString file =
        writeFlow(QStringLiteral("root.flow.json"), R"({ "keepflow": 1, "name": "root",
        "steps": [ { "id": "log", "kind": "noop" },
                   { "id": "pay", "kind": "fault", "idempotency": "none", "timeout": "100ms",
                     "with": { "fail_first": 1, "error": "timeout" } },
                   { "id": "ship", "kind": "noop", "after": ["pay"] },
                   { "id": "mail", "kind": "noop", "after": ["ship"] } ] })");
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 4, run.err.constData());
    const QString id = runIdOf(run);

    const Outcome status = ctl({QStringLiteral("status"), id, QStringLiteral("--json")});
    QVERIFY2(status.exitCode == 0, status.err.constData());
    const QJsonObject report = status.json().toObject();
    QCOMPARE(report.value(QStringLiteral("run")).toObject().value(QStringLiteral("root_causes")),
             QJsonArray{QStringLiteral("pay")});
    QHash<QString, QJsonObject> steps;
    for (const QJsonValue &value : report.value(QStringLiteral("steps")).toArray())
        steps.insert(value.toObject().value(QStringLiteral("id")).toString(), value.toObject());
    QCOMPARE(steps.size(), 4);
    for (const char *waiting : {"ship", "mail"})
        QCOMPARE(steps.value(QLatin1String(waiting)).value(QStringLiteral("blocked_by")),
                 QJsonArray{QStringLiteral("pay")});
    // Absent, not empty, where a step waits on nothing (the root itself included).
    for (const char *free : {"log", "pay"})
        QVERIFY2(!steps.value(QLatin1String(free)).contains(QStringLiteral("blocked_by")), free);

    const Outcome text = ctl({QStringLiteral("status"), id});
    QVERIFY2(text.out.contains("root cause: pay has an uncertain outcome; 2 steps wait on it"),
             text.out.constData());
}

void TestKeepflowctl::statusAtShowsTheRunAsItWasThen() {
    const QString database = m_dir.filePath(QStringLiteral("at.db"));
    const QString file = writeFlow(QStringLiteral("at.flow.json"), R"({ "keepflow": 1, "name": "at",
        "steps": [ { "id": "flaky", "kind": "fault", "with": { "fail_first": 1 },
                     "retry": { "initial_interval": "50ms", "jitter": 0 } },
                   { "id": "next", "kind": "noop", "after": ["flaky"] } ] })");
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QString id = runIdOf(run);
    const QJsonArray events =
        ctl({QStringLiteral("events"), id, QStringLiteral("--json")}, database).json().toArray();
    QJsonObject retrying;
    for (const QJsonValue &event : events) {
        if (event.toObject().value(QStringLiteral("type")).toString() == "step_retrying")
            retrying = event.toObject();
    }
    QVERIFY(!retrying.isEmpty());
    const QString retryingId = QString::number(retrying.value(QStringLiteral("id")).toInteger());

    // By event id: the step waits for its retry, the next one has not started, the run runs.
    const Outcome byId = ctl({QStringLiteral("status"), id, QStringLiteral("--at"), retryingId,
                              QStringLiteral("--json")},
                             database);
    QVERIFY2(byId.exitCode == 0, byId.err.constData());
    const QJsonObject report = byId.json().toObject();
    QCOMPARE(runStateOf(byId), QStringLiteral("running"));
    const QJsonArray steps = report.value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps.size(), 2);
    QCOMPARE(steps[0].toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("retrying"));
    QCOMPARE(steps[0].toObject().value(QStringLiteral("attempts")).toInt(), 1);
    QCOMPARE(steps[0].toObject().value(QStringLiteral("error")).toString(),
             retrying.value(QStringLiteral("detail"))
                 .toObject()
                 .value(QStringLiteral("error"))
                 .toString());
    QCOMPARE(steps[1].toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("pending"));
    const QJsonObject asOf = report.value(QStringLiteral("as_of")).toObject();
    QCOMPARE(asOf.value(QStringLiteral("event")).toInteger(),
             retrying.value(QStringLiteral("id")).toInteger());
    QCOMPARE(asOf.value(QStringLiteral("type")).toString(), QStringLiteral("step_retrying"));
    QCOMPARE(asOf.value(QStringLiteral("step")).toString(), QStringLiteral("flaky"));
    QCOMPARE(asOf.value(QStringLiteral("at")), retrying.value(QStringLiteral("at")));
    // Now, the same command without --at says succeeded: the past is not the present.
    QCOMPARE(runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
             QStringLiteral("succeeded"));

    const Outcome text =
        ctl({QStringLiteral("status"), id, QStringLiteral("--at"), retryingId}, database);
    QVERIFY2(text.exitCode == 0, text.err.constData());
    QVERIFY2(text.out.startsWith("as of event " + retryingId.toUtf8() + " ("),
             text.out.constData());
    QVERIFY2(text.out.contains("retrying"), text.out.constData());

    // By time: at the first event's moment the run exists and nothing has finished; at the last
    // one's it has succeeded.
    const QString created = events.first().toObject().value(QStringLiteral("at")).toString();
    const Outcome atCreation = ctl(
        {QStringLiteral("status"), id, QStringLiteral("--at"), created, QStringLiteral("--json")},
        database);
    QVERIFY2(atCreation.exitCode == 0, atCreation.err.constData());
    const QJsonObject asOfCreation =
        atCreation.json().toObject().value(QStringLiteral("as_of")).toObject();
    QVERIFY(asOfCreation.value(QStringLiteral("at")).toString() <= created);
    QVERIFY(atCreation.json()
                .toObject()
                .value(QStringLiteral("steps"))
                .toArray()[1]
                .toObject()
                .value(QStringLiteral("state"))
                .toString() != "succeeded");
    const QString last = events.last().toObject().value(QStringLiteral("at")).toString();
    QCOMPARE(runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--at"), last,
                             QStringLiteral("--json")},
                            database)),
             QStringLiteral("succeeded"));

    // Errors: exit 1 and say what is wrong.
    const Outcome unknownEvent =
        ctl({QStringLiteral("status"), id, QStringLiteral("--at"), QStringLiteral("99999999")},
            database);
    QCOMPARE(unknownEvent.exitCode, 1);
    QVERIFY2(unknownEvent.err.contains("has no event 99999999"), unknownEvent.err.constData());
    QVERIFY(unknownEvent.out.isEmpty());
    const Outcome beforeRun = ctl({QStringLiteral("status"), id, QStringLiteral("--at"),
                                   QStringLiteral("2001-01-01T00:00:00Z")},
                                  database);
    QCOMPARE(beforeRun.exitCode, 1);
    QVERIFY2(beforeRun.err.contains("did not exist yet"), beforeRun.err.constData());
    const Outcome notATime =
        ctl({QStringLiteral("status"), id, QStringLiteral("--at"), QStringLiteral("yesterday")},
            database);
    QCOMPARE(notATime.exitCode, 1);
    QVERIFY2(notATime.err.contains("\"yesterday\" is not a time"), notATime.err.constData());
}

void TestKeepflowctl::diffComparesWithTheLastGoodRun() {
    // A database of its own: the last good run is the flow's only one before the failed run.
    const QString database = m_dir.filePath(QStringLiteral("diff.db"));
    const QString file = writeFlow(QStringLiteral("diff.flow.json"), R"({ "keepflow": 1,
        "name": "diffed", "params": { "failures": { "default": 0 } },
        "steps": [ { "id": "fetch", "kind": "fault",
                     "with": { "fail_first": "{{params.failures}}", "error": "transient",
                               "output": { "rows": 3 } },
                     "retry": { "max_attempts": 3, "initial_interval": "10ms" } },
                   { "id": "publish", "kind": "noop", "after": ["fetch"] } ] })");
    const Outcome first = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
    QVERIFY2(first.exitCode == 0, first.err.constData());
    const Outcome good = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
    QVERIFY2(good.exitCode == 0, good.err.constData());
    const Outcome bad = ctl({QStringLiteral("run"), file, QStringLiteral("--param"),
                             QStringLiteral("failures=5"), QStringLiteral("--json")},
                            database);
    QCOMPARE(bad.exitCode, 3);
    const QString goodId = runIdOf(good);
    const QString badId = runIdOf(bad);

    const Outcome diff = ctl({QStringLiteral("diff"), badId, QStringLiteral("--json")}, database);
    QVERIFY2(diff.exitCode == 0, diff.err.constData());
    const QJsonObject json = diff.json().toObject();
    // Only what differs: the flow version is the same, so no flow_versions.
    QCOMPARE(json.keys(), (QStringList{QStringLiteral("other"), QStringLiteral("params"),
                                       QStringLiteral("run"), QStringLiteral("steps")}));
    QCOMPARE(json.value(QStringLiteral("run")).toString(), badId);
    QCOMPARE(json.value(QStringLiteral("other")).toString(), goodId);
    QCOMPARE(json.value(QStringLiteral("params")).toObject(),
             (QJsonObject{{QStringLiteral("failures"), QJsonArray{5, 0}}}));
    const QJsonArray steps = json.value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps.size(), 2);
    const QJsonObject fetch = steps.at(0).toObject();
    QCOMPARE(fetch.value(QStringLiteral("id")).toString(), QStringLiteral("fetch"));
    QCOMPARE(fetch.value(QStringLiteral("state")).toArray(),
             (QJsonArray{QStringLiteral("failed"), QStringLiteral("succeeded")}));
    QCOMPARE(fetch.value(QStringLiteral("attempts")).toArray(), (QJsonArray{3, 1}));
    const QJsonArray error = fetch.value(QStringLiteral("error")).toArray();
    QVERIFY(error.at(0).isString() && error.at(1).isNull());
    QCOMPARE(fetch.value(QStringLiteral("output_differs")), QJsonValue(true));
    for (const QString &key : fetch.keys())
        QVERIFY2(QStringList({"id", "state", "attempts", "duration_ms", "error", "output_differs"})
                     .contains(key),
                 qPrintable(key));
    QCOMPARE(steps.at(1).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("publish"));
    // Naming the other run gives the same; a run compared with itself has nothing but the ids.
    QCOMPARE(ctl({QStringLiteral("diff"), badId, goodId, QStringLiteral("--json")}, database)
                 .json()
                 .toObject(),
             json);
    QCOMPARE(ctl({QStringLiteral("diff"), goodId, goodId, QStringLiteral("--json")}, database)
                 .json()
                 .toObject(),
             (QJsonObject{{QStringLiteral("run"), goodId}, {QStringLiteral("other"), goodId}}));

    const Outcome text = ctl({QStringLiteral("diff"), badId}, database);
    QVERIFY2(text.exitCode == 0, text.err.constData());
    QVERIFY2(text.out.contains("step fetch") && text.out.contains("failures"), text.out);

    // No good run before the flow's first: exit 1 naming the flow; an unknown run is named.
    const Outcome none = ctl({QStringLiteral("diff"), runIdOf(first)}, database);
    QCOMPARE(none.exitCode, 1);
    QVERIFY2(none.err.contains("\"diffed\"") && none.out.isEmpty(), none.err.constData());
    const Outcome unknown = ctl({QStringLiteral("diff"), QStringLiteral("no-such-run")}, database);
    QCOMPARE(unknown.exitCode, 1);
    QVERIFY2(unknown.err.contains("no-such-run"), unknown.err.constData());
    QCOMPARE(ctl({QStringLiteral("diff")}, database).exitCode, 1);
    QCOMPARE(ctl({QStringLiteral("diff"), badId, goodId, badId}, database).exitCode, 1);
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

void TestKeepflowctl::sigtermedWorkerLeavesItsRunToAnother() {
    // As systemd stops a worker: SIGTERM while a step runs. The worker lets that attempt finish
    // and records it, starts nothing more, gives the run back and exits 0; a second worker
    // takes the run over at once and finishes it. Every step writes a line to a file of its
    // own when it runs: one line each at the end means no step ran twice.
    const QString database = m_dir.filePath(QStringLiteral("handover.db"));
    const QDir effects(m_dir.filePath(QStringLiteral("handover-effects")));
    QVERIFY(QDir().mkpath(effects.path()));
    const QString gate = m_dir.filePath(QStringLiteral("handover-gate"));
    // The first step runs until the test opens the gate (a bound of 30 s, should it never).
    const QString flow = QStringLiteral(R"({ "keepflow": 1, "name": "handover", "steps": [
        { "id": "slow", "kind": "shell", "with": { "env": { "EFFECTS": "%1", "GATE": "%2" },
          "argv": ["sh", "-c", "echo ran >> \"$EFFECTS/slow\"; i=0; while [ ! -e \"$GATE\" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"] } },
        { "id": "then", "kind": "shell", "after": ["slow"], "with": { "env": { "EFFECTS": "%1" },
          "argv": ["sh", "-c", "echo ran >> \"$EFFECTS/then\""] } },
        { "id": "last", "kind": "shell", "after": ["then"], "with": { "env": { "EFFECTS": "%1" },
          "argv": ["sh", "-c", "echo ran >> \"$EFFECTS/last\""] } } ] })")
                             .arg(effects.path(), gate);
    const QString file = writeFlow(QStringLiteral("handover.flow.json"), flow.toUtf8());
    const Outcome submitted = ctl({QStringLiteral("submit"), file}, database);
    QVERIFY2(submitted.exitCode == 0, submitted.err.constData());
    const QString id = QString::fromUtf8(submitted.out).trimmed();
    auto status = [&] {
        return ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)
            .json()
            .toObject();
    };
    auto attemptsOf = [](const QJsonObject &report) {
        QHash<QString, int> attempts;
        for (const QJsonValue &step : report.value(QStringLiteral("steps")).toArray())
            attempts.insert(step.toObject().value(QStringLiteral("id")).toString(),
                            step.toObject().value(QStringLiteral("attempts")).toInt());
        return attempts;
    };

    QProcess first;
    first.start(QStringLiteral(KEEPFLOWCTL_PATH),
                {QStringLiteral("worker"), QStringLiteral("--db"), database});
    QVERIFY(first.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(effects.filePath(QStringLiteral("slow"))), 20'000);
    ::kill(static_cast<pid_t>(first.processId()), SIGTERM);
    QByteArray said;
    QTRY_VERIFY_WITH_TIMEOUT((said += first.readAllStandardError()).contains("stopping"), 10'000);
    QFile opened(gate); // the running attempt may finish now
    QVERIFY(opened.open(QIODevice::WriteOnly));
    opened.close();
    QVERIFY2(first.waitForFinished(10'000), said.constData());
    QCOMPARE(first.exitStatus(), QProcess::NormalExit);
    QCOMPARE(first.exitCode(), 0);

    // What it ran is recorded, nothing else was started, and nobody holds the run.
    QJsonObject report = status();
    QCOMPARE(runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
             QStringLiteral("running"));
    QVERIFY2(!report.value(QStringLiteral("run")).toObject().contains(QStringLiteral("worker")),
             QJsonDocument(report).toJson().constData());
    QCOMPARE(report.value(QStringLiteral("steps"))
                 .toArray()
                 .first()
                 .toObject()
                 .value(QStringLiteral("state"))
                 .toString(),
             QStringLiteral("succeeded"));
    QCOMPARE(attemptsOf(report), (QHash<QString, int>{{QStringLiteral("slow"), 1},
                                                      {QStringLiteral("then"), 0},
                                                      {QStringLiteral("last"), 0}}));
    QCOMPARE(ctl({QStringLiteral("workers"), QStringLiteral("--json")}, database)
                 .json()
                 .toArray()
                 .size(),
             0);

    QProcess second;
    second.start(QStringLiteral(KEEPFLOWCTL_PATH),
                 {QStringLiteral("worker"), QStringLiteral("--db"), database});
    QVERIFY(second.waitForStarted());
    QTRY_COMPARE_WITH_TIMEOUT(
        runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
        QStringLiteral("succeeded"), 20'000);
    ::kill(static_cast<pid_t>(second.processId()), SIGTERM);
    QVERIFY(second.waitForFinished(10'000));
    QCOMPARE(second.exitCode(), 0);
    QCOMPARE(attemptsOf(status()), (QHash<QString, int>{{QStringLiteral("slow"), 1},
                                                        {QStringLiteral("then"), 1},
                                                        {QStringLiteral("last"), 1}}));
    for (const QString &step :
         {QStringLiteral("slow"), QStringLiteral("then"), QStringLiteral("last")}) {
        QFile effect(effects.filePath(step));
        QVERIFY2(effect.open(QIODevice::ReadOnly), qPrintable(step));
        QCOMPARE(effect.readAll(), QByteArray("ran\n"));
    }
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
    const QString id = runIdOf(run);
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

QString TestKeepflowctl::databaseWithRun(const QString &database, const QByteArray &flow) {
    const QString file = writeFlow(QStringLiteral("fixture.flow.json"), flow);
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
    if (run.exitCode == 1 || run.exitCode < 0) // 1: an error; -1: it crashed
        qWarning() << run.err;
    return runIdOf(run);
}

void TestKeepflowctl::damagedMetaTableIsAnErrorNotACrash_data() {
    QTest::addColumn<QStringList>("statements");
    QTest::addColumn<QByteArray>("expected");
    const auto setVersion = [](const QString &value) {
        return QStringList{
            QStringLiteral("UPDATE meta SET value = %1 WHERE key = 'schema_version'").arg(value)};
    };
    const QStringList loose = {QStringLiteral("DROP TABLE meta"),
                               QStringLiteral("CREATE TABLE meta (key TEXT, value TEXT)")};
    const QByteArray unknown = "is not one Keepflow knows (expected 0..";
    QTest::newRow("negative") << setVersion(QStringLiteral("'-1'")) << unknown;
    QTest::newRow("huge") << setVersion(QStringLiteral("'99999999999999999999'")) << unknown;
    QTest::newRow("newer") << setVersion(QStringLiteral("'9'")) << QByteArray("upgrade Keepflow");
    QTest::newRow("text") << setVersion(QStringLiteral("'abc'")) << unknown;
    QTest::newRow("empty") << setVersion(QStringLiteral("''")) << unknown;
    QTest::newRow("fractional") << setVersion(QStringLiteral("'0.5'")) << unknown;
    QTest::newRow("null") << loose + QStringList{QStringLiteral(
                                         "INSERT INTO meta VALUES ('schema_version', NULL)")}
                          << QByteArray("schema version NULL in ");
    QTest::newRow("missing row") << QStringList{QStringLiteral("DELETE FROM meta")}
                                 << QByteArray("no schema_version");
    QTest::newRow("missing table")
        << QStringList{QStringLiteral("DROP TABLE meta")} << QByteArray("no meta table");
    QTest::newRow("duplicate key")
        << loose + QStringList{QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')"),
                               QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')")}
        << QByteArray("more than once");
    QTest::newRow("extra key") << QStringList{QStringLiteral("INSERT INTO meta VALUES ('x', 'y')")}
                               << QByteArray("a key Keepflow does not write");
}

void TestKeepflowctl::damagedMetaTableIsAnErrorNotACrash() {
    QFETCH(QStringList, statements);
    QFETCH(QByteArray, expected);
    const QString database =
        m_dir.filePath(QStringLiteral("meta-%1.db")
                           .arg(QString::fromLatin1(QTest::currentDataTag())
                                    .replace(QLatin1Char(' '), QLatin1Char('-'))));
    QFile::remove(database);
    QVERIFY(!databaseWithRun(
                 database,
                 R"({ "keepflow": 1, "name": "m", "steps": [ { "id": "a", "kind": "noop" } ] })")
                 .isEmpty());
    QVERIFY(tamper(database, statements));
    for (const QStringList &command :
         {QStringList{QStringLiteral("list")}, QStringList{QStringLiteral("check")}}) {
        const Outcome outcome = ctl(command, database);
        QVERIFY2(outcome.exitCode == 1, // -1: it crashed
                 qPrintable(QStringLiteral("%1 exited %2: %3")
                                .arg(command.first())
                                .arg(outcome.exitCode)
                                .arg(QString::fromUtf8(outcome.err + outcome.out))));
        const QByteArray said = outcome.err + outcome.out;
        QVERIFY2(said.contains(expected), said.constData());
        QVERIFY2(said.contains(database.toUtf8()), said.constData());
    }
}

void TestKeepflowctl::checkPassesAHealthyDatabase() {
    const QString database = m_dir.filePath(QStringLiteral("healthy.db"));
    QVERIFY(!databaseWithRun(database, R"({ "keepflow": 1, "name": "h", "steps": [
        { "id": "a", "kind": "fault", "with": { "fail_first": 1 }, "retry": { "initial_interval": "10ms" } },
        { "id": "b", "kind": "noop", "after": ["a"], "foreach": [1, 2, 3] } ] })")
                 .isEmpty());
    const Outcome text = ctl({QStringLiteral("check")}, database);
    QVERIFY2(text.exitCode == 0, (text.out + text.err).constData());
    QCOMPARE(text.out, QByteArray("integrity: ok\nschema: ok\ninvariants: ok\n"));
    const Outcome json = ctl({QStringLiteral("check"), QStringLiteral("--json")}, database);
    QCOMPARE(json.exitCode, 0);
    QCOMPARE(json.json().toObject().value(QStringLiteral("ok")).toBool(), true);
    for (const char *name : {"integrity", "schema", "invariants"}) {
        const QJsonObject check = checkNamed(json.json(), QLatin1String(name));
        QVERIFY2(check.value(QStringLiteral("ok")).toBool(), name);
        QVERIFY2(check.value(QStringLiteral("problems")).toArray().isEmpty(), name);
    }
    // A check never creates a database.
    const QString missing = m_dir.filePath(QStringLiteral("never-created.db"));
    QCOMPARE(ctl({QStringLiteral("check")}, missing).exitCode, 1);
    QVERIFY(!QFile::exists(missing));
}

void TestKeepflowctl::checkNamesOverwrittenPages() {
    const QString database = m_dir.filePath(QStringLiteral("overwritten.db"));
    // Enough rows for the file to have many data pages between its first and last.
    QStringList items;
    for (int i = 0; i < 300; ++i)
        items << QString::number(i);
    QVERIFY(!databaseWithRun(database, R"({ "keepflow": 1, "name": "big", "steps": [
        { "id": "each", "kind": "noop", "foreach": [)" +
                                           items.join(QLatin1Char(',')).toUtf8() + "] } ] }")
                 .isEmpty());
    QVERIFY(!QFile::exists(database + QStringLiteral("-wal"))); // checkpointed on the last close
    QFile file(database);
    QVERIFY(file.open(QIODevice::ReadWrite));
    const qint64 pageSize = 4096;
    const qint64 pages = file.size() / pageSize;
    QVERIFY2(pages > 20, qPrintable(QString::number(pages)));
    QVERIFY(file.seek((pages / 2) * pageSize));
    file.write(QByteArray(2 * pageSize, '\xa5'));
    file.close();

    const Outcome text = ctl({QStringLiteral("check")}, database);
    QCOMPARE(text.exitCode, 1);
    QVERIFY2(text.out.startsWith("integrity: "), text.out.constData());
    QVERIFY2(!text.out.startsWith("integrity: ok"), text.out.constData());
    const Outcome json = ctl({QStringLiteral("check"), QStringLiteral("--json")}, database);
    QCOMPARE(json.exitCode, 1);
    QCOMPARE(json.json().toObject().value(QStringLiteral("ok")).toBool(), false);
    const QJsonObject integrity = checkNamed(json.json(), QStringLiteral("integrity"));
    QCOMPARE(integrity.value(QStringLiteral("ok")).toBool(), false);
    QVERIFY(!integrity.value(QStringLiteral("problems")).toArray().isEmpty());
}

void TestKeepflowctl::checkNamesBrokenInvariants() {
    const QString database = m_dir.filePath(QStringLiteral("invariants.db"));
    const QString id = databaseWithRun(database, R"({ "keepflow": 1, "name": "inv", "steps": [
        { "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop", "after": ["a"] } ] })");
    QVERIFY(!id.isEmpty());
    QCOMPARE(ctl({QStringLiteral("check")}, database).exitCode, 0);
    const auto problemsFor = [&](const QStringList &statements) {
        const QString copy = m_dir.filePath(QStringLiteral("invariants-copy.db"));
        QFile::remove(copy);
        QFile::copy(database, copy);
        tamper(copy, statements);
        const Outcome outcome = ctl({QStringLiteral("check"), QStringLiteral("--json")}, copy);
        const QJsonObject invariants = checkNamed(outcome.json(), QStringLiteral("invariants"));
        return std::make_pair(outcome.exitCode,
                              invariants.value(QStringLiteral("problems")).toArray());
    };
    const auto names = [&id](const QJsonArray &problems, const QString &step, const char *text) {
        for (const QJsonValue &value : problems) {
            const QJsonObject problem = value.toObject();
            if (problem.value(QStringLiteral("run")).toString() == id &&
                problem.value(QStringLiteral("step")).toString() == step &&
                problem.value(QStringLiteral("message")).toString().contains(QLatin1String(text)))
                return true;
        }
        return false;
    };

    // A second succeeded attempt in the same generation: the step's effect happened twice.
    auto [twiceExit, twice] = problemsFor({QStringLiteral(
        "INSERT INTO attempts (run_id, step_id, item_key, generation, number, idempotency_key, "
        "worker, started_at, ended_at, outcome, error_class, error, lease_epoch) "
        "SELECT run_id, step_id, item_key, generation, number + 1, "
        "idempotency_key, worker, started_at, ended_at, outcome, error_class, error, "
        "lease_epoch FROM attempts WHERE step_id = 'a'")});
    QCOMPARE(twiceExit, 1);
    QVERIFY2(names(twice, QStringLiteral("a"), "succeeded twice in generation"),
             QJsonDocument(twice).toJson().constData());

    // A step row whose state its events do not give.
    auto [stateExit, state] =
        problemsFor({QStringLiteral("UPDATE step_runs SET state = 'failed' WHERE step_id = 'b'")});
    QCOMPARE(stateExit, 1);
    QVERIFY2(names(state, QStringLiteral("b"),
                   "is failed in the step table but succeeded by its events"),
             QJsonDocument(state).toJson().constData());

    // A running run owned by a worker without a lease time: nobody could ever take it over.
    auto [leaseExit, lease] = problemsFor({QStringLiteral(
        "UPDATE runs SET state = 'running', owner = 'host:1:w', lease_until = NULL")});
    QCOMPARE(leaseExit, 1);
    QVERIFY2(names(lease, QString(), "without a lease time"),
             QJsonDocument(lease).toJson().constData());

    // A running run that no worker holds is an interrupted one (resume continues it): no problem.
    auto [unownedExit, unowned] = problemsFor(
        {QStringLiteral("UPDATE runs SET state = 'running', owner = NULL, lease_until = NULL")});
    QCOMPARE(unownedExit, 0);
    QVERIFY(unowned.isEmpty());
}

void TestKeepflowctl::lookingAtAMissingDatabaseCreatesNone() {
    QTemporaryDir folder;
    const QString database = folder.filePath(QStringLiteral("typo.db"));
    for (const QStringList &command : {QStringList{QStringLiteral("list")},
                                       QStringList{QStringLiteral("status"), QStringLiteral("r1")},
                                       QStringList{QStringLiteral("events"), QStringLiteral("r1")},
                                       QStringList{QStringLiteral("resources")}}) {
        const Outcome outcome = ctl(command, database);
        QCOMPARE(outcome.exitCode, 1);
        QVERIFY2(outcome.err.contains("no Keepflow database at " + database.toUtf8()),
                 outcome.err.constData());
        QVERIFY2(!QFileInfo::exists(database), qPrintable(command.join(QLatin1Char(' '))));
    }
}

void TestKeepflowctl::readOnlyDatabaseCanBeLookedAt() {
    QTemporaryDir folder;
    const QString database = folder.filePath(QStringLiteral("ro.db"));
    const QString id = databaseWithRun(database, R"({ "keepflow": 1, "name": "ro", "steps": [
        { "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } } ] })");
    QVERIFY(!id.isEmpty());
    // Asked for: every read command works, every action is refused and changes nothing.
    const QString readOnly = QStringLiteral("--read-only");
    for (const QStringList &command :
         {QStringList{QStringLiteral("list")}, QStringList{QStringLiteral("status"), id},
          QStringList{QStringLiteral("events"), id}, QStringList{QStringLiteral("resources")}}) {
        const Outcome outcome = ctl(command + QStringList{readOnly}, database);
        QVERIFY2(outcome.exitCode == 0, outcome.err.constData());
    }
    const auto eventCount = [&] {
        return ctl({QStringLiteral("events"), id, QStringLiteral("--json")}, database)
            .json()
            .toArray()
            .size();
    };
    const qsizetype eventsBefore = eventCount();
    const Outcome retry =
        ctl({QStringLiteral("retry"), id, QStringLiteral("a"), readOnly}, database);
    QCOMPARE(retry.exitCode, 1);
    QVERIFY2(retry.err.contains("read-only"), retry.err.constData());
    QCOMPARE(eventCount(), eventsBefore);

    if (::geteuid() == 0)
        QSKIP("root writes to files and folders whatever their mode; the automatic read-only open "
              "needs a non-root user");
    QVERIFY(::chmod(QFile::encodeName(database).constData(), 0400) == 0);
    const Outcome list = ctl({QStringLiteral("list")}, database);
    QVERIFY2(list.exitCode == 0, list.err.constData());
    QVERIFY2(list.err.contains("opened read-only: the file is not writable"), list.err.constData());
    QVERIFY(list.out.contains(id.toUtf8()));
    QVERIFY(::chmod(QFile::encodeName(database).constData(), 0600) == 0);

    QVERIFY(::chmod(QFile::encodeName(folder.path()).constData(), 0500) == 0);
    const Outcome status = ctl({QStringLiteral("status"), id}, database);
    const Outcome resume = ctl({QStringLiteral("resume")}, database);
    ::chmod(QFile::encodeName(folder.path()).constData(), 0700);
    QVERIFY2(status.exitCode == 0, status.err.constData());
    QVERIFY2(status.out.contains("failed"), status.out.constData());
    QCOMPARE(resume.exitCode, 1);
    QVERIFY2(resume.err.contains("is not writable") && resume.err.contains("-wal"),
             resume.err.constData());
}

void TestKeepflowctl::sharedDatabaseModeIsSaid() {
    const QString database = m_dir.filePath(QStringLiteral("shared.db"));
    QVERIFY(!databaseWithRun(
                 database,
                 R"({ "keepflow": 1, "name": "s", "steps": [ { "id": "a", "kind": "noop" } ] })")
                 .isEmpty());
    QVERIFY(::chmod(QFile::encodeName(database).constData(), 0644) == 0);
    const Outcome list = ctl({QStringLiteral("list")}, database);
    QCOMPARE(list.exitCode, 0);
    QCOMPARE(list.err.count("chmod 600"), 1);
    QVERIFY2(list.err.contains(QStringLiteral("`chmod 600 %1`").arg(database).toUtf8()),
             list.err.constData());
    struct stat info {};
    QVERIFY(::stat(QFile::encodeName(database).constData(), &info) == 0);
    QCOMPARE(info.st_mode & 0777, 0644u); // said, not changed
}

void TestKeepflowctl::submitLeavesTheRunForAWorker() {
    const QString database = m_dir.filePath(QStringLiteral("submit.db"));
    const QString file = writeFlow(QStringLiteral("submit.flow.json"),
                                   R"({ "keepflow": 1, "name": "submitted",
        "steps": [ { "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop", "after": ["a"] } ] })");
    const Outcome submitted =
        ctl({QStringLiteral("submit"), file, QStringLiteral("--json")}, database);
    QVERIFY2(submitted.exitCode == 0, submitted.err.constData());
    const QString id = submitted.json().toObject().value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());
    // Nothing ran: the run waits, held by nobody, with no attempt.
    const QJsonObject status =
        ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database).json().toObject();
    QCOMPARE(
        status.value(QStringLiteral("run")).toObject().value(QStringLiteral("state")).toString(),
        QStringLiteral("running"));
    for (const QJsonValue &step : status.value(QStringLiteral("steps")).toArray())
        QCOMPARE(step.toObject().value(QStringLiteral("attempts")).toInt(), 0);
    const Outcome workers = ctl({QStringLiteral("workers"), QStringLiteral("--json")}, database);
    QCOMPARE(workers.exitCode, 0);
    QCOMPARE(workers.json().toArray().size(), 0);
    // A worker takes it, runs it, and is gone again after SIGTERM.
    QProcess worker;
    worker.start(QStringLiteral(KEEPFLOWCTL_PATH),
                 {QStringLiteral("worker"), QStringLiteral("--db"), database});
    QVERIFY(worker.waitForStarted());
    QTRY_COMPARE_WITH_TIMEOUT(
        runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
        QStringLiteral("succeeded"), 20'000);
    const QJsonArray alive =
        ctl({QStringLiteral("workers"), QStringLiteral("--json")}, database).json().toArray();
    QCOMPARE(alive.size(), 1);
    QCOMPARE(alive.first().toObject().value(QStringLiteral("pid")).toInteger(), worker.processId());
    worker.terminate();
    QVERIFY(worker.waitForFinished(20'000));
    QCOMPARE(worker.exitCode(), 0);
    QCOMPARE(ctl({QStringLiteral("workers"), QStringLiteral("--json")}, database)
                 .json()
                 .toArray()
                 .size(),
             0);
}

void TestKeepflowctl::aPasswordInTheUrlIsRefused() {
    const Outcome outcome = ctl({QStringLiteral("list")},
                                QStringLiteral("postgresql://ann:s3cret@db.example/keepflow"));
    QCOMPARE(outcome.exitCode, 1);
    QVERIFY2(outcome.err.contains("PGPASSWORD"), outcome.err.constData());
    QVERIFY2(!outcome.err.contains("s3cret"), outcome.err.constData()); // never printed
}

void TestKeepflowctl::workerLogsEachEventWithoutCredentials() {
    // A step echoes a URL with a password, an Authorization header and a secret it was given,
    // then fails: the worker's log (stderr, JSON lines), the events and the captured output
    // show none of them.
    const QString database = m_dir.filePath(QStringLiteral("worker-log.db"));
    const QString file = writeFlow(QStringLiteral("leaky.flow.json"),
                                   R"({ "keepflow": 1, "name": "leaky", "steps": [
        { "id": "ok", "kind": "noop" },
        { "id": "leak", "kind": "shell", "after": ["ok"], "retry": { "max_attempts": 1 },
          "with": { "argv": ["sh", "-c", "echo fetching https://bob:hunter2@crm.example/orders; echo 'Authorization: Bearer tok-9f8e' >&2; echo key $API_KEY >&2; exit 3"],
                    "env": { "API_KEY": "{{secrets.api_key}}" } } } ] })");
    const Outcome submitted = ctl({QStringLiteral("submit"), file}, database);
    QCOMPARE(submitted.exitCode, 0);
    const QString id = QString::fromUtf8(submitted.out).trimmed();
    QProcess worker;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEEPFLOW_SECRET_API_KEY"), QStringLiteral("sk-live-5150"));
    env.remove(QStringLiteral("JOURNAL_STREAM"));
    worker.setProcessEnvironment(env);
    worker.start(QStringLiteral(KEEPFLOWCTL_PATH),
                 {QStringLiteral("worker"), QStringLiteral("--db"), database,
                  QStringLiteral("--log-format"), QStringLiteral("json")});
    QVERIFY(worker.waitForStarted());
    QTRY_COMPARE_WITH_TIMEOUT(
        runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
        QStringLiteral("completed_with_failures"), 20'000);
    worker.terminate();
    QVERIFY(worker.waitForFinished(20'000));
    QCOMPARE(worker.exitCode(), 0);
    const QByteArray log = worker.readAllStandardError();
    QVERIFY2(worker.readAllStandardOutput().isEmpty(), "the log goes to stderr only");

    // One JSON object per line, one line per event at info and above, each with its level.
    const Outcome events = ctl({QStringLiteral("events"), id, QStringLiteral("--json")}, database);
    QCOMPARE(events.exitCode, 0);
    QSet<QString> logged;
    QString failedLevel;
    for (const QByteArray &line : log.split('\n')) {
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonObject object = QJsonDocument::fromJson(line, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, line.constData());
        QVERIFY2(object.contains(QStringLiteral("level")) &&
                     object.contains(QStringLiteral("time")),
                 line.constData());
        if (object.value(QStringLiteral("run")).toString() != id)
            continue;
        logged.insert(object.value(QStringLiteral("event")).toString());
        if (object.value(QStringLiteral("event")).toString() == QLatin1String("step_failed"))
            failedLevel = object.value(QStringLiteral("level")).toString();
    }
    // Every event the worker committed (submit committed the run's creation).
    for (const QJsonValue &event : events.json().toArray()) {
        const QString type = event.toObject().value(QStringLiteral("type")).toString();
        if (type != QLatin1String("run_created"))
            QVERIFY2(logged.contains(type), qPrintable(type));
    }
    QCOMPARE(failedLevel, QStringLiteral("error"));

    // Nothing anywhere holds the password, the token or the secret.
    const Outcome logs = ctl({QStringLiteral("logs"), id, QStringLiteral("leak")}, database);
    const Outcome status = ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database);
    for (const QByteArray &text : {log, events.out, logs.out, status.out}) {
        for (const char *secret : {"hunter2", "tok-9f8e", "sk-live-5150"})
            QVERIFY2(!text.contains(secret), text.constData());
    }
    QVERIFY2(logs.out.contains("https://bob:***@crm.example/orders"), logs.out.constData());
    QVERIFY2(logs.out.contains("Authorization: ***"), logs.out.constData());

    // A level that does not exist is refused, naming the option.
    const Outcome badLevel =
        ctl({QStringLiteral("worker"), QStringLiteral("--log-level"), QStringLiteral("loud")},
            database);
    QCOMPARE(badLevel.exitCode, 1);
    QVERIFY2(badLevel.err.contains("--log-level"), badLevel.err.constData());
}

void TestKeepflowctl::logsPrintWhatAnAttemptPrinted() {
    const QString database = m_dir.filePath(QStringLiteral("logs.db"));
    const QString file = writeFlow(QStringLiteral("logs.flow.json"),
                                   R"({ "keepflow": 1, "name": "logs", "steps": [
        { "id": "flaky", "kind": "shell", "retry": { "max_attempts": 2, "initial_interval": "10ms" },
          "with": { "argv": ["sh", "-c", "echo try $KEEPFLOW_ATTEMPT; echo oops $KEEPFLOW_ATTEMPT >&2; [ $KEEPFLOW_ATTEMPT = 2 ]"] } },
        { "id": "each", "kind": "shell", "foreach": ["x", "y"], "after": ["flaky"],
          "with": { "argv": ["sh", "-c", "echo item $KEEPFLOW_ITEM_KEY"] } },
        { "id": "quiet", "kind": "noop", "after": ["flaky"] } ] })");
    const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QString id = runIdOf(run);

    // The latest attempt by default: its stdout, then its stderr.
    const Outcome latest = ctl({QStringLiteral("logs"), id, QStringLiteral("flaky")}, database);
    QCOMPARE(latest.exitCode, 0);
    QCOMPARE(latest.out, QByteArray("try 2\noops 2\n"));
    const Outcome first =
        ctl({QStringLiteral("logs"), id, QStringLiteral("flaky"), QStringLiteral("--attempt"),
             QStringLiteral("1"), QStringLiteral("--json")},
            database);
    QCOMPARE(first.exitCode, 0);
    const QJsonObject json = first.json().toObject();
    QCOMPARE(json.value(QStringLiteral("attempt")).toInt(), 1);
    QCOMPARE(json.value(QStringLiteral("stdout")).toString(), QStringLiteral("try 1\n"));
    QCOMPARE(json.value(QStringLiteral("stderr")).toString(), QStringLiteral("oops 1\n"));
    QCOMPARE(json.value(QStringLiteral("stdout_bytes")).toInt(), 6);
    // An item of a foreach step is named with --item; without it the refusal says so.
    // (Items without an item_key are keyed by their position.)
    const Outcome item = ctl({QStringLiteral("logs"), id, QStringLiteral("each"),
                              QStringLiteral("--item"), QStringLiteral("1")},
                             database);
    QCOMPARE(item.out, QByteArray("item 1\n"));
    const Outcome noSuchItem = ctl({QStringLiteral("logs"), id, QStringLiteral("each"),
                                    QStringLiteral("--item"), QStringLiteral("y")},
                                   database);
    QCOMPARE(noSuchItem.exitCode, 1);
    QVERIFY2(
        noSuchItem.err.contains(R"(no attempt of an item "y" (items that made attempts: 0, 1))"),
        noSuchItem.err.constData());
    const Outcome noItem = ctl({QStringLiteral("logs"), id, QStringLiteral("each")}, database);
    QCOMPARE(noItem.exitCode, 1);
    QVERIFY2(noItem.err.contains("--item KEY"), noItem.err.constData());
    // A kind that prints nothing says so, on stderr.
    const Outcome quiet = ctl({QStringLiteral("logs"), id, QStringLiteral("quiet")}, database);
    QCOMPARE(quiet.exitCode, 0);
    QVERIFY(quiet.out.isEmpty());
    QVERIFY2(quiet.err.contains("printed nothing"), quiet.err.constData());
    // What is not there is named.
    const Outcome noAttempt = ctl({QStringLiteral("logs"), id, QStringLiteral("flaky"),
                                   QStringLiteral("--attempt"), QStringLiteral("3")},
                                  database);
    QCOMPARE(noAttempt.exitCode, 1);
    QVERIFY2(noAttempt.err.contains("has no attempt 3 (it made 2)"), noAttempt.err.constData());
    const Outcome noStep = ctl({QStringLiteral("logs"), id, QStringLiteral("nope")}, database);
    QCOMPARE(noStep.exitCode, 1);
    QVERIFY2(noStep.err.contains(R"(has no step "nope")"), noStep.err.constData());
    const Outcome badNumber = ctl({QStringLiteral("logs"), id, QStringLiteral("flaky"),
                                   QStringLiteral("--attempt"), QStringLiteral("0")},
                                  database);
    QCOMPARE(badNumber.exitCode, 1);
    QVERIFY2(badNumber.err.contains("--attempt needs a positive number"),
             badNumber.err.constData());
}

void TestKeepflowctl::failuresGroupAndRetryFailedActsOnTheFilter() {
    const QString database = m_dir.filePath(QStringLiteral("triage.db"));
    // Two runs fail at "charge" with errors that differ only in an order number; one succeeds.
    auto flowWith = [this](const char *name, const char *error) {
        return writeFlow(QString::fromLatin1(name) + QStringLiteral(".flow.json"),
                         QByteArray(R"({ "keepflow": 1, "name": "orders", "steps": [
            { "id": "charge", "kind": "shell", "with": { "argv": ["sh", "-c", "echo ')") +
                             error + R"(' >&2; exit 1"] } } ] })");
    };
    const QString first = flowWith("o1", "HTTP 503 from http://10.0.0.7:8080/orders/4411");
    const QString second = flowWith("o2", "HTTP 503 from http://10.0.0.9:8080/orders/9020");
    const QString fine = writeFlow(QStringLiteral("fine.flow.json"),
                                   R"({ "keepflow": 1, "name": "orders", "steps": [
            { "id": "charge", "kind": "noop" } ] })");
    QStringList failed;
    for (const QString &file : {first, second}) {
        const Outcome run = ctl({QStringLiteral("run"), file, QStringLiteral("--json")}, database);
        QCOMPARE(run.exitCode, 3);
        failed << runIdOf(run);
    }
    QCOMPARE(ctl({QStringLiteral("run"), fine}, database).exitCode, 0);

    const Outcome failures = ctl({QStringLiteral("failures"), QStringLiteral("--json")}, database);
    QVERIFY2(failures.exitCode == 0, failures.err.constData());
    const QJsonArray groups = failures.json().toArray();
    QCOMPARE(groups.size(), 1);
    const QJsonObject group = groups.first().toObject();
    QCOMPARE(group.value("flow").toString(), QStringLiteral("orders"));
    QCOMPARE(group.value("step").toString(), QStringLiteral("charge"));
    QCOMPARE(group.value("count").toInt(), 2);
    QVERIFY2(group.value("signature").toString().contains("HTTP 503 from http://<n>/orders/<n>"),
             qPrintable(group.value("signature").toString()));
    QCOMPARE(group.value("runs").toArray().size(), 2);
    for (const char *key : {"error_class", "first_at", "last_at"})
        QVERIFY2(group.contains(QLatin1String(key)), key);

    // Filters: the failed runs by error text; a bad state or time says which option is wrong.
    const Outcome byError = ctl({QStringLiteral("list"), QStringLiteral("--error"),
                                 QStringLiteral("orders/4411"), QStringLiteral("--json")},
                                database);
    QCOMPARE(byError.json().toArray().size(), 1);
    const Outcome badState =
        ctl({QStringLiteral("list"), QStringLiteral("--step-state"), QStringLiteral("broke")},
            database);
    QCOMPARE(badState.exitCode, 1);
    QVERIFY2(badState.err.contains("--step-state") && badState.err.contains("broke"),
             badState.err.constData());
    const Outcome badTime = ctl(
        {QStringLiteral("failures"), QStringLiteral("--since"), QStringLiteral("soon")}, database);
    QCOMPARE(badTime.exitCode, 1);
    QVERIFY2(badTime.err.contains("--since"), badTime.err.constData());

    const QStringList retryFailed{QStringLiteral("retry-failed"), QStringLiteral("--flow"),
                                  QStringLiteral("orders"),       QStringLiteral("--since"),
                                  QStringLiteral("1h"),           QStringLiteral("--json")};
    const Outcome dry = ctl(retryFailed + QStringList{QStringLiteral("--dry-run")}, database);
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    const QJsonObject plan = dry.json().toObject();
    QCOMPARE(plan.value("dry_run").toBool(), true);
    QCOMPARE(plan.value("applied").toInt(), 0);
    QCOMPARE(plan.value("refused").toInt(), 0);
    QCOMPARE(plan.value("runs").toArray().size(), 2);
    for (const QJsonValue &run : plan.value("runs").toArray()) {
        QCOMPARE(run.toObject().value("outcome").toString(), QStringLiteral("would_apply"));
        QVERIFY(failed.contains(run.toObject().value("run").toString()));
        QCOMPARE(run.toObject().value("steps").toArray(), QJsonArray{QStringLiteral("charge")});
        QVERIFY(run.toObject().contains("reason"));
    }
    QCOMPARE(runStateOf(ctl({QStringLiteral("status"), failed.first(), QStringLiteral("--json")},
                            database)),
             QStringLiteral("failed"));

    const Outcome applied =
        ctl(retryFailed + QStringList{QStringLiteral("--reason"), QStringLiteral("gateway back")},
            database);
    QVERIFY2(applied.exitCode == 0, applied.err.constData());
    QCOMPARE(applied.json().toObject().value("applied").toInt(), 2);
    QCOMPARE(applied.json().toObject().value("dry_run").toBool(), false);
    for (const QString &id : failed) {
        QCOMPARE(
            runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
            QStringLiteral("running"));
        const Outcome events = ctl({QStringLiteral("events"), id}, database);
        QVERIFY2(events.out.contains("gateway back"), events.out.constData());
    }
    // Refused runs exit 1 and say why: nothing failed is left to retry in a succeeded run.
    const Outcome refused =
        ctl({QStringLiteral("retry-failed"), QStringLiteral("--state"), QStringLiteral("succeeded"),
             QStringLiteral("--step-state"), QStringLiteral("succeeded"), QStringLiteral("--json")},
            database);
    QCOMPARE(refused.exitCode, 1);
    QCOMPARE(refused.json().toObject().value("refused").toInt(), 1);
}

void TestKeepflowctl::alertRulesAreListedAddedAndRemoved() {
    const QString database = m_dir.filePath(QStringLiteral("alerts.db"));
    // ctl() appends --db, which would land in the command after "--": the process by hand.
    QProcess add;
    add.start(QStringLiteral(KEEPFLOWCTL_PATH),
              {QStringLiteral("alerts"), QStringLiteral("add"), QStringLiteral("failure_burst"),
               QStringLiteral("count=3"), QStringLiteral("window=15m"),
               QStringLiteral("flow=orders"), QStringLiteral("--json"), QStringLiteral("--db"),
               database, QStringLiteral("--"), QStringLiteral("/usr/local/bin/page"),
               QStringLiteral("--team"), QStringLiteral("pay; rm -rf /")});
    QVERIFY(add.waitForFinished(60000));
    Outcome added;
    added.exitCode = add.exitCode();
    added.out = add.readAllStandardOutput();
    added.err = add.readAllStandardError();
    QVERIFY2(added.exitCode == 0, added.err.constData());
    const qint64 id = added.json().toObject().value("id").toInteger();
    QVERIFY(id > 0);
    const Outcome listed =
        ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--json")}, database);
    const QJsonObject rule = listed.json().toArray().first().toObject();
    QCOMPARE(rule.value("kind").toString(), QStringLiteral("failure_burst"));
    QCOMPARE(rule.value("count").toInt(), 3);
    QCOMPARE(rule.value("window_ms").toInteger(), 900'000);
    QCOMPARE(rule.value("flow").toString(), QStringLiteral("orders"));
    // The command is kept as its words: nothing is a shell line.
    QCOMPARE(rule.value("command").toArray(),
             (QJsonArray{QStringLiteral("/usr/local/bin/page"), QStringLiteral("--team"),
                         QStringLiteral("pay; rm -rf /")}));
    const Outcome bad = ctl({QStringLiteral("alerts"), QStringLiteral("add"),
                             QStringLiteral("failure_burst"), QStringLiteral("count=3")},
                            database);
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.err.contains("window"), bad.err.constData());
    QCOMPARE(
        ctl({QStringLiteral("alerts"), QStringLiteral("remove"), QString::number(id)}, database)
            .exitCode,
        0);
    const Outcome again =
        ctl({QStringLiteral("alerts"), QStringLiteral("remove"), QString::number(id)}, database);
    QCOMPARE(again.exitCode, 1);
    QVERIFY2(again.err.contains(QString::number(id).toUtf8()), again.err.constData());
    QCOMPARE(ctl({QStringLiteral("alerts"), QStringLiteral("--json")}, database).json().toArray(),
             QJsonArray());
}

void TestKeepflowctl::setPolicyAndResourceLimitsLive() {
    const QString database = m_dir.filePath(QStringLiteral("policy.db"));
    // Four failures: the flow's three attempts fail the run; five let it succeed.
    const QString file = writeFlow(QStringLiteral("policy.flow.json"), R"({ "keepflow": 1,
        "name": "live-policy", "resources": { "crm": { "concurrency": 2 } },
        "steps": [ { "id": "a", "kind": "fault", "resource": "crm", "with": { "fail_first": 4 },
                     "retry": { "max_attempts": 3, "initial_interval": "10ms", "jitter": 0 } } ] })");
    const Outcome submitted = ctl({QStringLiteral("submit"), file}, database);
    QCOMPARE(submitted.exitCode, 0);
    const QString run = QString::fromUtf8(submitted.out).trimmed();
    auto setPolicy = [&](const QStringList &options) {
        return ctl(QStringList{QStringLiteral("set-policy"), run, QStringLiteral("a")} + options,
                   database);
    };
    // A preview changes nothing.
    const Outcome dry = setPolicy(
        {QStringLiteral("--max-attempts"), QStringLiteral("5"), QStringLiteral("--dry-run")});
    QCOMPARE(dry.exitCode, 0);
    QCOMPARE(QString::fromUtf8(dry.out),
             QStringLiteral("would change step a: max_attempts 5 instead of 3 — attempt 1/5 "
                            "instead of 1/3\n"));
    // Wrong values are refused naming the field.
    Outcome refused = setPolicy({QStringLiteral("--max-interval"), QStringLiteral("1ms")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("max_interval (1ms) is shorter than initial_interval (10ms)"),
             refused.err.constData());
    refused = setPolicy({QStringLiteral("--backoff"), QStringLiteral("0.5")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("backoff must be from 1"), refused.err.constData());
    refused = setPolicy({QStringLiteral("--timeout"), QStringLiteral("-3s")});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("timeout must not be negative"), refused.err.constData());
    QCOMPARE(setPolicy({}).exitCode, 1);

    const Outcome applied =
        setPolicy({QStringLiteral("--max-attempts"), QStringLiteral("5"),
                   QStringLiteral("--timeout"), QStringLiteral("1m"), QStringLiteral("--reason"),
                   QStringLiteral("flaky partner"), QStringLiteral("--json")});
    QCOMPARE(applied.exitCode, 0);
    const QJsonObject json = applied.json().toObject();
    QCOMPARE(json.value(QStringLiteral("result")).toString(),
             QStringLiteral("step a: max_attempts 5 instead of 3; timeout 1m instead of none — "
                            "attempt 1/5 instead of 1/3"));
    QCOMPARE(json.value(QStringLiteral("before")).toObject().value(QStringLiteral("max_attempts")),
             QJsonValue(3));
    QCOMPARE(json.value(QStringLiteral("after")).toObject().value(QStringLiteral("timeout")),
             QJsonValue(QStringLiteral("1m")));
    const QJsonArray events =
        ctl({QStringLiteral("events"), run, QStringLiteral("--json")}, database).json().toArray();
    const auto changed = std::find_if(events.begin(), events.end(), [](const QJsonValue &e) {
        return e.toObject().value(QStringLiteral("type")).toString() ==
               QLatin1String("operator_set_policy");
    });
    QVERIFY(changed != events.end());

    // Resources: live limits, checked and said.
    const Outcome raised =
        ctl({QStringLiteral("resource"), QStringLiteral("set"), QStringLiteral("crm"),
             QStringLiteral("--concurrency"), QStringLiteral("4"), QStringLiteral("--rate"),
             QStringLiteral("10/1s"), QStringLiteral("--reason"), QStringLiteral("quota raised")},
            database);
    QCOMPARE(raised.exitCode, 0);
    QCOMPARE(QString::fromUtf8(raised.out),
             QStringLiteral("crm: concurrency 4 instead of 2; rate 10/1s instead of none\n"));
    const Outcome garbage =
        ctl({QStringLiteral("resource"), QStringLiteral("set"), QStringLiteral("crm"),
             QStringLiteral("--rate"), QStringLiteral("lots")},
            database);
    QCOMPARE(garbage.exitCode, 1);
    QVERIFY2(garbage.err.contains("rate must be N/DURATION"), garbage.err.constData());
    QCOMPARE(ctl({QStringLiteral("resource"), QStringLiteral("set"), QStringLiteral("crm"),
                  QStringLiteral("--concurrency"), QStringLiteral("0")},
                 database)
                 .exitCode,
             1);

    // A new process runs it with the policy kept in the database: five attempts, succeeded.
    const Outcome resumed = ctl({QStringLiteral("resume"), run}, database);
    QCOMPARE(resumed.exitCode, 0);
    const QJsonObject status =
        ctl({QStringLiteral("status"), run, QStringLiteral("--json")}, database).json().toObject();
    const QJsonObject step = status.value(QStringLiteral("steps")).toArray().first().toObject();
    QCOMPARE(step.value(QStringLiteral("attempts")).toInt(), 5);
}

void TestKeepflowctl::upgradeDryRunJsonAndExitCodes() {
    const QString database = m_dir.filePath(QStringLiteral("upgrade.db"));
    const QString broken = writeFlow(QStringLiteral("upgrade-v1.flow.json"),
                                     R"({ "keepflow": 1, "name": "upgr", "steps": [
        { "id": "a", "kind": "noop", "with": { "output": 5 } },
        { "id": "b", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" },
          "after": ["a"] },
        { "id": "c", "kind": "noop", "after": ["b"] } ] })");
    const QString fixed = writeFlow(QStringLiteral("upgrade-v2.flow.json"),
                                    R"({ "keepflow": 1, "name": "upgr", "steps": [
        { "id": "a", "kind": "noop", "with": { "output": 5 } },
        { "id": "b", "kind": "noop", "after": ["a"] },
        { "id": "c", "kind": "noop", "after": ["b"] },
        { "id": "d", "kind": "noop", "after": ["a"] } ] })");
    const QString withoutA = writeFlow(QStringLiteral("upgrade-bad.flow.json"),
                                       R"({ "keepflow": 1, "name": "upgr", "steps": [
        { "id": "b", "kind": "noop" }, { "id": "c", "kind": "noop", "after": ["b"] } ] })");
    const QString invalid =
        writeFlow(QStringLiteral("upgrade-invalid.flow.json"),
                  "{ \"keepflow\": 1, \"name\": \"upgr\",\n  \"steps\": [ { \"id\": 3 } ] }");
    const Outcome run = ctl({QStringLiteral("run"), broken, QStringLiteral("--json")}, database);
    QCOMPARE(run.exitCode, 2); // completed with failures
    const QString id = runIdOf(run);

    // --dry-run --json: exactly the five keys, exit 0 without refusals.
    const Outcome dry = ctl({QStringLiteral("upgrade"), id, fixed, QStringLiteral("--dry-run"),
                             QStringLiteral("--json")},
                            database);
    QVERIFY2(dry.exitCode == 0, dry.err.constData());
    const QJsonObject plan = dry.json().toObject();
    QCOMPARE(plan.keys(), (QStringList{"add", "keep", "refusals", "remove", "replace"}));
    QCOMPARE(plan.value("keep").toArray(), (QJsonArray{"a", "c"}));
    QCOMPARE(plan.value("replace").toArray(), QJsonArray{"b"});
    QCOMPARE(plan.value("add").toArray(), QJsonArray{"d"});
    QCOMPARE(plan.value("remove").toArray(), QJsonArray());
    QCOMPARE(plan.value("refusals").toArray(), QJsonArray());
    QCOMPARE(runStateOf(ctl({QStringLiteral("status"), id, QStringLiteral("--json")}, database)),
             QStringLiteral("completed_with_failures")); // a dry run changes nothing

    // A refusal: exit 1, with the step and the reason; without --dry-run nothing is applied.
    const Outcome refused = ctl({QStringLiteral("upgrade"), id, withoutA,
                                 QStringLiteral("--dry-run"), QStringLiteral("--json")},
                                database);
    QCOMPARE(refused.exitCode, 1);
    const QJsonArray refusals = refused.json().toObject().value("refusals").toArray();
    QCOMPARE(refusals.size(), 1);
    QCOMPARE(refusals[0].toObject().keys(), (QStringList{"reason", "step"}));
    QCOMPARE(refusals[0].toObject().value("step").toString(), QStringLiteral("a"));
    const Outcome notApplied = ctl({QStringLiteral("upgrade"), id, withoutA}, database);
    QCOMPARE(notApplied.exitCode, 1);
    QVERIFY2(notApplied.out.contains("refused: step a: it succeeded and the new version removes"),
             notApplied.out.constData());
    QVERIFY2(notApplied.err.contains("nothing was changed"), notApplied.err.constData());
    const Outcome events = ctl({QStringLiteral("events"), id, QStringLiteral("--json")}, database);
    QVERIFY(!events.out.contains("operator_upgrade"));

    // An invalid file is reported like run's, with its line and column.
    const Outcome bad = ctl({QStringLiteral("upgrade"), id, invalid}, database);
    QCOMPARE(bad.exitCode, 1);
    QVERIFY2(bad.err.contains(invalid.toUtf8() + ":2:"), bad.err.constData());

    // Applied: the run runs again and finishes under the new definition.
    const Outcome applied = ctl({QStringLiteral("upgrade"), id, fixed, QStringLiteral("--reason"),
                                 QStringLiteral("b is fixed"), QStringLiteral("--json")},
                                database);
    QVERIFY2(applied.exitCode == 0, applied.err.constData());
    QCOMPARE(applied.json().toObject().value("applied").toBool(), true);
    QCOMPARE(applied.json().toObject().value("state").toString(), QStringLiteral("running"));
    const Outcome resumed = ctl({QStringLiteral("resume"), id, QStringLiteral("--json")}, database);
    QCOMPARE(resumed.exitCode, 0);
    QCOMPARE(runStateOf(resumed), QStringLiteral("succeeded"));
    const Outcome text =
        ctl({QStringLiteral("upgrade"), id, fixed, QStringLiteral("--dry-run")}, database);
    QCOMPARE(text.exitCode, 1); // succeeded now, and already on that version
    QVERIFY2(text.out.contains("keep:    a, b, c, d"), text.out.constData());
}

QTEST_GUILESS_MAIN(TestKeepflowctl)
#include "tst_keepflowctl.moc"
