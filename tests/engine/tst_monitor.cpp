// The monitor facade the desktop app is built on: it executes runs started by other processes,
// announces what any process committed, and previews what an action will run again.

#include "api/monitor.h"
#include "harness.h"
#include "operator/actionplan.h"

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

QTEST_GUILESS_MAIN(TestMonitor)
#include "tst_monitor.moc"
