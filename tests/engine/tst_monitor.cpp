// The monitor facade the desktop app is built on: it executes runs started by other processes,
// announces what any process committed, and previews what an action will run again.

#include "api/monitor.h"
#include "harness.h"
#include "operator/actionplan.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>

using namespace keepflow;
using K = OperatorAction::Kind;

namespace {

// a fails once for good (one attempt allowed), then succeeds when retried; x always fails.
// b and c hang off a; e needs a and x; d is independent.
const QByteArray kFlow = flow(
    R"({ "id": "a", "kind": "fault", "with": { "fail_first": 1, "error": "permanent" } },
    { "id": "b", "kind": "noop", "after": ["a"] },
    { "id": "c", "kind": "noop", "after": ["b"] },
    { "id": "d", "kind": "noop" },
    { "id": "x", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "e", "kind": "noop", "after": ["a", "x"] },
    { "id": "f", "kind": "noop", "after": ["a", "x"], "join": "all_done" })");

QHash<QString, int> attemptsByStep(Harness &h, const QString &run) {
    QHash<QString, int> counts;
    const auto all = h.store->attempts(run);
    for (const AttemptRow &attempt : *all)
        ++counts[attempt.stepId];
    return counts;
}

OperatorAction action(K kind, const QString &run, const QString &step) {
    OperatorAction a;
    a.kind = kind;
    a.runId = run;
    a.stepId = step;
    a.actor = QStringLiteral("tester");
    return a;
}

} // namespace

class TestMonitor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void previewListsExactlyTheStepsThatRunAgain_data();
    void previewListsExactlyTheStepsThatRunAgain();
    void executesRunsStartedByAnotherProcess();
    void announcesActionsTakenByAnotherProcess();
    void announcesRunsWaitingForAnOperator();
    void aWatchingMonitorLeavesNewRunsToTheWorkers();
    void reconnectsAfterItsConnectionIsKilled();
    void reconnectsAfterTheServerRestarts();
};

void TestMonitor::previewListsExactlyTheStepsThatRunAgain_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("retry a failed step and what it blocked")
        << int(K::Retry) << QStringLiteral("a") << QStringList{"a", "b", "c"};
    QTest::newRow("skip unblocks the downstream")
        << int(K::Skip) << QStringLiteral("a") << QStringList{"b", "c"};
    QTest::newRow("rerun-from a succeeded step")
        << int(K::RerunFrom) << QStringLiteral("d") << QStringList{"d"};
    QTest::newRow("rerun-from runs the whole downstream")
        << int(K::RerunFrom) << QStringLiteral("b") << QStringList{"b", "c"};
    QTest::newRow("retry a step another failure still blocks")
        << int(K::Retry) << QStringLiteral("e") << QStringList{};
    QTest::newRow("retry a succeeded step runs nothing")
        << int(K::Retry) << QStringLiteral("d") << QStringList{};
}

void TestMonitor::previewListsExactlyTheStepsThatRunAgain() {
    QFETCH(int, kind);
    QFETCH(QString, step);
    QFETCH(QStringList, expected);
    Harness h;
    const QString run = h.start(kFlow);
    QVERIFY(h.settle());
    if (step != QLatin1String("a")) { // b, c and d need a to have succeeded first
        QVERIFY(h.engine->act(action(K::Retry, run, QStringLiteral("a"))));
        h.pump();
        QVERIFY(h.settle());
        QCOMPARE(h.step(run, QStringLiteral("c")).state, StepState::Succeeded);
    }
    QCOMPARE(h.step(run, QStringLiteral("e")).state, StepState::Blocked);

    auto flowLoad = parseFlow(kFlow, QStringLiteral("t.flow.json"));
    const OperatorAction request = action(static_cast<K>(kind), run, step);
    const RunSnapshot snapshot = RunSnapshot::of(*flowLoad.flow, RunState::Running, false,
                                                 *h.store->stepRuns(run), *h.store->items(run));
    const QStringList preview = stepsRunAgainBy(request, snapshot);
    QCOMPARE(preview, expected);

    // What really ran again: the steps with more attempts once the run settled.
    const QHash<QString, int> before = attemptsByStep(h, run);
    auto outcome = h.engine->act(request);
    if (!expected.isEmpty())
        QVERIFY2(outcome, qPrintable(outcome.error()));
    h.pump();
    QVERIFY(h.settle());
    const QHash<QString, int> after = attemptsByStep(h, run);
    QStringList ranAgain;
    for (const Step &s : flowLoad.flow->steps) {
        if (after.value(s.id) > before.value(s.id))
            ranAgain << s.id;
    }
    QCOMPARE(ranAgain, expected);
}

void TestMonitor::executesRunsStartedByAnotherProcess() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("shared.db"));
    ManualClock clock;
    Monitor::Options options;
    options.clock = &clock;
    auto monitor = Monitor::open(path, options);
    QVERIFY2(monitor, qPrintable(monitor.error()));
    QSignalSpy runsChanged(monitor->get(), &Monitor::runsChanged);

    // Another process (keepflowctl run --detach) stores a run and leaves it for a worker.
    auto other = Store::open(path);
    QVERIFY(other);
    Engine creator(**other, clock, StepKindRegistry::withBuiltins(), {});
    auto load = parseFlow(flow(R"({ "id": "one", "kind": "noop" }, { "id": "two", "kind": "noop",
        "after": ["one"] })"),
                          QStringLiteral("t.flow.json"));
    auto runId = creator.createRun(*load.flow, {}, {}, false);
    QVERIFY(runId);

    for (int round = 0; round < 5; ++round)
        QVERIFY((*monitor)->pollNow());
    QCOMPARE((*monitor)->run(*runId)->state, RunState::Succeeded);
    QStringList announced;
    for (const QList<QVariant> &signal : runsChanged)
        announced += signal.at(0).toStringList();
    QVERIFY(announced.contains(*runId));
    auto summaries = (*monitor)->runSummaries(RunQuery{});
    QVERIFY(summaries);
    QCOMPARE(summaries->size(), 1);
    QCOMPARE(summaries->first().stepsDone, 2);
}

void TestMonitor::announcesActionsTakenByAnotherProcess() {
    Harness h; // plays the other process (keepflowctl)
    const QString run = h.start(kFlow);
    QVERIFY(h.settle());
    Monitor::Options options;
    options.execute = false;
    options.clock = &h.clock;
    auto monitor = Monitor::open(h.dbPath(), options);
    QVERIFY(monitor);
    QSignalSpy events(monitor->get(), &Monitor::eventsArrived);

    OperatorAction skip = action(K::Skip, run, QStringLiteral("x"));
    skip.reason = QStringLiteral("known outage");
    QVERIFY(h.engine->act(skip));
    QVERIFY((*monitor)->pollNow());

    bool seen = false;
    for (const QList<QVariant> &signal : events) {
        for (const EventRow &event : signal.at(0).value<QList<EventRow>>()) {
            if (event.stepId == QLatin1String("x") && event.actor == QLatin1String("tester") &&
                event.detail.value(QLatin1String("reason")).toString() ==
                    QLatin1String("known outage"))
                seen = true;
        }
    }
    QVERIFY(seen);
}

void TestMonitor::announcesRunsWaitingForAnOperator() {
    QTemporaryDir dir;
    ManualClock clock;
    Monitor::Options options;
    options.clock = &clock;
    auto monitor = Monitor::open(dir.filePath(QStringLiteral("m.db")), options);
    QVERIFY(monitor);
    QSignalSpy needs(monitor->get(), &Monitor::runNeedsOperator);
    auto load = parseFlow(flow(R"({ "id": "go_live", "kind": "approval",
        "with": { "prompt": "ship it?" } })"),
                          QStringLiteral("t.flow.json"));
    auto runId = (*monitor)->startRun(*load.flow, {}, {});
    QVERIFY2(runId, qPrintable(runId.error()));
    for (int round = 0; round < 3; ++round)
        QVERIFY((*monitor)->pollNow());
    QCOMPARE(needs.size(), 1);
    QCOMPARE(needs.first().at(0).toString(), *runId);
    QCOMPARE(needs.first().at(1).toString(), QStringLiteral("t"));
    QVERIFY(needs.first().at(2).toString().contains(QLatin1String("go_live")));

    OperatorAction approve = action(K::Approve, *runId, QStringLiteral("go_live"));
    auto outcome = (*monitor)->act(approve);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    for (int round = 0; round < 3; ++round)
        QVERIFY((*monitor)->pollNow());
    QCOMPARE((*monitor)->run(*runId)->state, RunState::Succeeded);
}

void TestMonitor::aWatchingMonitorLeavesNewRunsToTheWorkers() {
    Harness worker; // a worker process on the shared database
    Monitor::Options options;
    options.execute = false; // the desktop on a shared database
    options.clock = &worker.clock;
    auto monitor = Monitor::open(worker.dbPath(), options);
    QVERIFY(monitor);
    const FlowLoad load = parseFlow(kFlow, QStringLiteral("m.flow.json"));
    auto run = (*monitor)->startRun(*load.flow, {}, {});
    QVERIFY2(run, qPrintable(run.error()));
    // Created and left unclaimed, with nothing run; the worker takes it and runs it.
    QVERIFY(worker.store->run(*run)->owner.isEmpty());
    QVERIFY(worker.store->attempts(*run)->isEmpty());
    QCOMPARE(*worker.engine->adoptAvailable(), 1);
    worker.pump();
    QVERIFY(worker.settle());
    QVERIFY(!worker.store->attempts(*run)->isEmpty());
}

/// Whether one of the announced events is of type for run.
bool announced(const QSignalSpy &events, EventType type, const QString &runId) {
    for (const QList<QVariant> &signal : events) {
        for (const EventRow &event : signal.at(0).value<QList<EventRow>>()) {
            if (event.type == type && event.runId == runId)
                return true;
        }
    }
    return false;
}

const QByteArray kTwoSteps = flow(R"({ "id": "one", "kind": "noop" },
    { "id": "two", "kind": "noop", "after": ["one"] })");

/// Another process on the database starts a run of flowText (two noop steps unless given) and
/// leaves it for a worker.
QString runStartedElsewhere(const QString &database, const QByteArray &flowText = kTwoSteps) {
    auto store = Store::open(database);
    if (!store)
        return {};
    SystemClock clock;
    Engine creator(**store, clock, StepKindRegistry::withBuiltins(), {});
    const FlowLoad load = parseFlow(flowText, QStringLiteral("elsewhere.flow.json"));
    auto runId = creator.createRun(*load.flow, {}, {}, false);
    return runId ? *runId : QString();
}

void TestMonitor::reconnectsAfterItsConnectionIsKilled() {
    if (!testsOnPostgres())
        QSKIP("PostgreSQL only: a SQLite file does not disconnect");
    QTemporaryDir dir;
    const QString url = newTestDatabase(dir, {});
    const QString server = qEnvironmentVariable("KEEPFLOW_TEST_POSTGRES");
    const QString database = parseDatabaseAddress(url)->database;
    Monitor::Options options;
    options.execute = false; // the desktop watching a shared database
    auto opened = Monitor::open(url, options);
    QVERIFY2(opened, qPrintable(opened.error()));
    Monitor &monitor = **opened;
    monitor.start();
    QVERIFY(monitor.isConnected());
    QSignalSpy lost(&monitor, &Monitor::connectionLost);
    QSignalSpy failedTries(&monitor, &Monitor::reconnectFailed);
    QSignalSpy restored(&monitor, &Monitor::connectionRestored);
    QSignalSpy failed(&monitor, &Monitor::failed);
    QSignalSpy events(&monitor, &Monitor::eventsArrived);

    // Nobody may connect to the database for a while, and the monitor's connection is cut (the
    // backends of this test's database only: other tests share the server).
    executeOnTestDatabase(
        server, QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS false").arg(database));
    executeOnTestDatabase(server, QStringLiteral("SELECT pg_terminate_backend(pid) FROM "
                                                 "pg_stat_activity WHERE datname = '%1'")
                                      .arg(database));
    QVERIFY(eventually([&] { return !lost.isEmpty(); }));
    QVERIFY(!monitor.isConnected());
    const QString reason = lost.first().at(0).toString();
    QVERIFY2(reason.contains(QLatin1String("connection")), qPrintable(reason));
    // Meanwhile queries and actions are refused at once, all with the same words.
    const auto list = monitor.runSummaries(RunQuery{});
    QVERIFY(!list);
    QCOMPARE(list.error(), Monitor::notConnectedMessage());
    OperatorAction cancel = action(K::CancelRun, QStringLiteral("some-run"), {});
    const auto acted = monitor.act(cancel);
    QVERIFY(!acted);
    QCOMPARE(acted.error(), Monitor::notConnectedMessage());
    // It tries again every second and says why each try failed, in the server's words.
    QVERIFY(eventually([&] { return failedTries.size() >= 2; }));
    const QString refusal = failedTries.last().at(0).toString();
    QVERIFY2(refusal.contains(QLatin1String("is not currently accepting connections")),
             qPrintable(refusal));
    QCOMPARE(monitor.connectionProblem(), refusal);
    QVERIFY(restored.isEmpty());

    executeOnTestDatabase(server,
                          QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS true").arg(database));
    QVERIFY(eventually([&] { return !restored.isEmpty(); }));
    QVERIFY(monitor.isConnected());
    QVERIFY(monitor.connectionProblem().isEmpty());
    QCOMPARE(lost.size(), 1);
    QCOMPARE(restored.size(), 1);
    // The loss was said once, as a loss: no failure for each query that could not run.
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    const auto after = monitor.runSummaries(RunQuery{});
    QVERIFY2(after, qPrintable(after.error()));
    QVERIFY(after->isEmpty());

    // Another process starts a run now: the feed of the new connection announces it.
    const QString runId = runStartedElsewhere(url);
    QVERIFY(!runId.isEmpty());
    QVERIFY(eventually([&] { return announced(events, EventType::RunCreated, runId); }));
    QCOMPARE(monitor.run(runId)->state, RunState::Running);
    QCOMPARE(lost.size(), 1);
}

void TestMonitor::reconnectsAfterTheServerRestarts() {
    if (!testsOnPostgres())
        QSKIP("PostgreSQL only: a SQLite file does not disconnect");
    // A server of this test's own: restarting the suite's would cut off the other tests.
    const QString pgserver = QStringLiteral(KEEPFLOW_PGSERVER);
    const OwnPostgresServer server(pgserver);
    QVERIFY2(server.isRunning(), qPrintable(server.error()));
    const QString serverDir = server.directory();
    const QString url = server.url();

    Monitor::Options options;
    options.execute = true; // the desktop started with --worker
    // Polled once a minute: within the test's deadlines only the LISTEN wake-ups of the new
    // connection bring news.
    options.feedIntervalMs = 60'000;
    auto opened = Monitor::open(url, options);
    QVERIFY2(opened, qPrintable(opened.error()));
    Monitor &monitor = **opened;
    monitor.start();
    QSignalSpy lost(&monitor, &Monitor::connectionLost);
    QSignalSpy restored(&monitor, &Monitor::connectionRestored);
    QSignalSpy failed(&monitor, &Monitor::failed);
    QSignalSpy events(&monitor, &Monitor::eventsArrived);
    const QString before = runStartedElsewhere(url);
    QVERIFY(eventually([&] {
        auto row = monitor.run(before);
        return row && row->state == RunState::Succeeded;
    }));
    // A run the monitor's engine is in the middle of when the server goes down.
    const QString inFlight = runStartedElsewhere(url, flow(R"({ "id": "slow", "kind": "shell",
        "with": { "argv": ["sleep", "1"] }, "idempotency": "idempotent",
        "retry": { "max_attempts": 3 } },
        { "id": "after", "kind": "noop", "after": ["slow"] })"));
    QVERIFY(eventually([&] {
        auto attempts = monitor.attempts(inFlight);
        return attempts && !attempts->isEmpty();
    }));

    // The server goes down hard and comes back, while the monitor carries on.
    QProcess restart;
    restart.start(pgserver, {QStringLiteral("restart"), serverDir});
    QVERIFY(eventually([&] { return restart.state() == QProcess::NotRunning; }, 60000));
    QVERIFY2(restart.exitCode() == 0, restart.readAllStandardError().constData());
    QVERIFY(eventually([&] { return !restored.isEmpty(); }, 15000));
    QCOMPARE(lost.size(), 1);
    QVERIFY2(!lost.first().at(0).toString().isEmpty(), "no reason given");
    QVERIFY(monitor.isConnected());
    QVERIFY(monitor.executing());
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    // The new engine takes over the run its former one held, without waiting for the lease
    // (30 s) to lapse.
    QVERIFY(eventually([&] {
        auto row = monitor.run(inFlight);
        return row && row->state == RunState::Succeeded;
    }));

    // A run started elsewhere now is announced by the resubscribed LISTEN and executed by the
    // monitor's new engine.
    const QString runId = runStartedElsewhere(url);
    QVERIFY(!runId.isEmpty());
    QVERIFY(eventually([&] { return announced(events, EventType::RunCreated, runId); }));
    QVERIFY(eventually([&] {
        auto row = monitor.run(runId);
        return row && row->state == RunState::Succeeded;
    }));
    QCOMPARE(lost.size(), 1);
}

QTEST_GUILESS_MAIN(TestMonitor)
#include "tst_monitor.moc"
