// Alerts without code: rules read from words, each kind firing on its condition, once per
// condition across watchers and restarts, the firing recorded as an event with the run, and a
// rule's command given the alert as JSON on stdin (its argv run as given).
#include "api/alerts.h"
#include "api/operatorapi.h"
#include "api/stepstats.h"
#include "harness.h"

#include <QJsonDocument>
#include <QSignalSpy>

#include <algorithm>

using namespace keepflow;

namespace {

const QByteArray kFailingFlow = flow(
    R"({ "id": "charge", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })");
const QByteArray kPartlyFailingFlow =
    flow(R"({ "id": "charge", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
         { "id": "log", "kind": "noop" })");
const QByteArray kApprovalFlow =
    flow(R"({ "id": "ok", "kind": "approval", "with": { "prompt": "ship it?" } })");

std::unique_ptr<OperatorApi> apiOn(Harness &h) {
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto opened = OperatorApi::open(h.dbPath(), options);
    if (!opened) {
        qWarning().noquote() << opened.error();
        return nullptr;
    }
    return std::move(*opened);
}

AlertRuleRow rule(const QStringList &words, const QStringList &command = {}) {
    auto parsed = alertRuleFromWords(words, command);
    if (!parsed)
        qWarning().noquote() << parsed.error();
    return parsed ? *parsed : AlertRuleRow{};
}

/// The alert_fired events of a run.
QList<EventRow> alertsOf(Harness &h, const QString &run) {
    QList<EventRow> alerts;
    const QList<EventRow> events = *h.store->events(run);
    for (const EventRow &event : events) {
        if (event.type == EventType::AlertFired)
            alerts.append(event);
    }
    return alerts;
}

/// Polls until the watcher has looked at every event committed so far; how many fired. On
/// PostgreSQL the feed shows a transaction's events once every older transaction of the server
/// ended (another test's may hold them back), and a cursor is a (transaction, id) position whose
/// id alone says nothing (the feed's head has the largest id there is): so "done" is the last
/// event readable in the feed and nothing left after the cursor.
int pollEverything(Harness &h, AlertWatcher &watcher) {
    const qint64 last = *h.store->lastEventId();
    int fired = 0;
    const bool seen = eventually([&] {
        if (auto polled = watcher.poll())
            fired += *polled;
        const auto all = h.store->eventsAfter(FeedPosition{}, 1'000'000);
        const bool lastReadable =
            all && std::any_of(all->events.cbegin(), all->events.cend(),
                               [last](const EventRow &event) { return event.id == last; });
        const auto cursor = h.store->alertCursor();
        const auto after =
            cursor ? h.store->eventsAfter(*cursor, 1) : Result<FeedPage>(cursor.status());
        return lastReadable && after && after->events.isEmpty();
    });
    if (!seen)
        qWarning("the alert watcher did not get to event %lld", last);
    return fired;
}

} // namespace

class TestAlerts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rulesFromWords_data();
    void rulesFromWords();
    void eachKindFiresOnItsCondition_data();
    void eachKindFiresOnItsCondition();
    void firesOncePerConditionAcrossWatchers();
    void rulesAndWhatFiredSurviveARestart();
    void failureBurstFiresOncePerWindow();
    void stepSlowIsTheDesktopsSlow_data();
    void stepSlowIsTheDesktopsSlow();
    void theCommandReceivesTheAlertJson();
    void removingARuleStopsIt();
};

void TestAlerts::rulesFromWords_data() {
    QTest::addColumn<QStringList>("words");
    QTest::addColumn<QString>("error"); // empty: accepted
    QTest::newRow("run failed") << QStringList{"run_failed"} << QString();
    QTest::newRow("narrowed") << QStringList{"completed_with_failures", "flow=orders", "step=pay"}
                              << QString();
    QTest::newRow("breaker of one resource")
        << QStringList{"breaker_opened", "resource=payments"} << QString();
    QTest::newRow("slow with factor") << QStringList{"step_slow", "factor=3"} << QString();
    QTest::newRow("burst") << QStringList{"failure_burst", "count=5", "window=15m"} << QString();
    QTest::newRow("no kind") << QStringList{} << "starts with its kind";
    QTest::newRow("unknown kind") << QStringList{"run_exploded"} << "unknown alert kind";
    QTest::newRow("burst without window")
        << QStringList{"failure_burst", "count=5"} << "needs count=N and window";
    QTest::newRow("factor below one")
        << QStringList{"step_slow", "factor=0.5"} << "not a valid factor";
    QTest::newRow("key the kind does not take")
        << QStringList{"run_failed", "count=3"} << "run_failed takes no count";
    QTest::newRow("not key=value") << QStringList{"run_failed", "orders"} << "KEY=VALUE";
}

void TestAlerts::rulesFromWords() {
    QFETCH(QStringList, words);
    QFETCH(QString, error);
    const auto parsed = alertRuleFromWords(words, {QStringLiteral("/bin/true")});
    if (error.isEmpty()) {
        QVERIFY2(parsed, qPrintable(parsed.error()));
        QCOMPARE(parsed->kind, words.first());
        QCOMPARE(parsed->command, QStringList{"/bin/true"});
    } else {
        QVERIFY(!parsed);
        QVERIFY2(parsed.error().contains(error), qPrintable(parsed.error()));
    }
}

void TestAlerts::eachKindFiresOnItsCondition_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("flowText");
    QTest::addColumn<int>("fired"); // alerts on the run
    QTest::newRow("run_failed on a failed run") << "run_failed" << kFailingFlow << 1;
    QTest::newRow("run_failed not on a partly failed one")
        << "run_failed" << kPartlyFailingFlow << 0;
    QTest::newRow("completed_with_failures")
        << "completed_with_failures" << kPartlyFailingFlow << 1;
    QTest::newRow("waiting_for_operator") << "waiting_for_operator" << kApprovalFlow << 1;
    QTest::newRow("waiting_for_operator not on a failed run")
        << "waiting_for_operator" << kFailingFlow << 0;
}

void TestAlerts::eachKindFiresOnItsCondition() {
    QFETCH(QString, kind);
    QFETCH(QByteArray, flowText);
    QFETCH(int, fired);
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    QVERIFY(api->addAlertRule(rule({kind})));
    const QString run = h.start(flowText);
    QVERIFY(h.settle());
    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    QSignalSpy spy(watcher.get(), &AlertWatcher::alertFired);
    QCOMPARE(pollEverything(h, *watcher), fired);
    QCOMPARE(spy.size(), fired);
    const QList<EventRow> alerts = alertsOf(h, run);
    QCOMPARE(alerts.size(), fired);
    if (fired) {
        QCOMPARE(alerts.first().actor, QStringLiteral("alerts"));
        QCOMPARE(alerts.first().detail.value("kind").toString(), kind);
        const auto firing = spy.first().first().value<AlertFiring>();
        QCOMPARE(firing.alert.value("run").toString(), run);
        QCOMPARE(firing.alert.value("flow").toString(), QStringLiteral("t"));
    }
}

void TestAlerts::firesOncePerConditionAcrossWatchers() {
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    QVERIFY(api->addAlertRule(rule({QStringLiteral("run_failed")})));
    const QString run = h.start(kFailingFlow);
    QVERIFY(h.settle());
    std::unique_ptr<AlertWatcher> first(api->createAlertWatcher());
    QCOMPARE(pollEverything(h, *first), 1);
    QCOMPARE(pollEverything(h, *first), 0);
    // Another process's watcher, looking at the same events from its own start.
    auto other = apiOn(h);
    std::unique_ptr<AlertWatcher> second(other->createAlertWatcher());
    QCOMPARE(pollEverything(h, *second), 0);
    QCOMPARE(alertsOf(h, run).size(), 1);
    // The alert is history, not a step change: the database's invariants still hold.
    QVERIFY(api->check(DatabaseCheck::Depth::Quick).ok());
}

void TestAlerts::rulesAndWhatFiredSurviveARestart() {
    Harness h;
    QString before;
    {
        auto api = apiOn(h);
        QVERIFY(api);
        QVERIFY(api->addAlertRule(rule({QStringLiteral("run_failed"), QStringLiteral("flow=t")})));
        before = h.start(kFailingFlow);
        QVERIFY(h.settle());
        std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
        QCOMPARE(pollEverything(h, *watcher), 1);
    }
    // Nobody watches while this one fails; then everything is opened anew.
    const QString during = h.start(kFailingFlow);
    QVERIFY(h.settle());
    h.crashAndRestart();
    auto api = apiOn(h);
    QVERIFY(api);
    const auto rules = api->alertRules();
    QCOMPARE(rules->size(), 1);
    QCOMPARE(rules->first().flow, QStringLiteral("t"));
    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    QCOMPARE(pollEverything(h, *watcher), 1); // the run that failed meanwhile, not the first again
    QCOMPARE(alertsOf(h, before).size(), 1);
    QCOMPARE(alertsOf(h, during).size(), 1);
}

void TestAlerts::failureBurstFiresOncePerWindow() {
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    QVERIFY(api->addAlertRule(rule({QStringLiteral("failure_burst"), QStringLiteral("count=3"),
                                    QStringLiteral("window=1h")})));
    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    h.clock.set(10 * 3'600'000); // the start of a window
    for (int i = 0; i < 2; ++i)
        h.start(kFailingFlow);
    QVERIFY(h.settle());
    QCOMPARE(pollEverything(h, *watcher), 0); // two failures: below the count
    for (int i = 0; i < 3; ++i)
        h.start(kFailingFlow);
    QVERIFY(h.settle());
    QCOMPARE(pollEverything(h, *watcher), 1); // the third and later ones: one alert for the burst
    h.clock.advance(3'600'000);               // the next window: the burst goes on
    for (int i = 0; i < 3; ++i)
        h.start(kFailingFlow);
    QVERIFY(h.settle());
    QCOMPARE(pollEverything(h, *watcher), 1);
}

void TestAlerts::stepSlowIsTheDesktopsSlow_data() {
    // Runs of flow t, oldest first: `older` whose step took olderMs, then `recent` that took
    // recentMs, then the judged run's step, which took tookMs.
    QTest::addColumn<int>("older");
    QTest::addColumn<qint64>("olderMs");
    QTest::addColumn<int>("recent");
    QTest::addColumn<qint64>("recentMs");
    QTest::addColumn<qint64>("tookMs");
    QTest::addColumn<QString>("factor");  // the rule's
    QTest::addColumn<QString>("message"); // empty: does not fire
    // The whole history's p95 is 10 s (3,000 runs took 10 s): it would not be slow. Against the
    // latest 200 durations (199 of 1 s and its own 3 s: p95 1 s) it is.
    QTest::newRow("slow against the latest runs")
        << 3000 << qint64(10'000) << 199 << qint64(1000) << qint64(3000) << "2"
        << "step work of run judged took 3.0 s, 3.0× its p95 of 1.0 s";
    // The other way round: 5.5 × the whole history's p95 (1 s: 4,000 of its 4,200 durations),
    // 2.2 × the latest runs' (2.5 s).
    QTest::newRow("not slow against the latest runs")
        << 4000 << qint64(1000) << 199 << qint64(2500) << qint64(5500) << "3"
        << "";
    QTest::newRow("slow by the rule's factor")
        << 0 << qint64(0) << 199 << qint64(1000) << qint64(3500) << "3"
        << "step work of run judged took 3.5 s, 3.5× its p95 of 1.0 s";
    // 18 earlier durations and its own: one short of the 20 the rule needs.
    QTest::newRow("too little history")
        << 0 << qint64(0) << 18 << qint64(1000) << qint64(9000) << "2"
        << "";
    QTest::newRow("just enough history")
        << 0 << qint64(0) << 19 << qint64(1000) << qint64(9000) << "2"
        << "step work of run judged took 9.0 s, 9.0× its p95 of 1.0 s";
}

void TestAlerts::stepSlowIsTheDesktopsSlow() {
    QFETCH(int, older);
    QFETCH(qint64, olderMs);
    QFETCH(int, recent);
    QFETCH(qint64, recentMs);
    QFETCH(qint64, tookMs);
    QFETCH(QString, factor);
    QFETCH(QString, message);
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    QVERIFY(api->addAlertRule(rule({QStringLiteral("step_slow"), "factor=" + factor})));
    auto version = h.store->saveFlowVersion(QStringLiteral("t"), flow(R"({ "id": "work",
        "kind": "noop" })"),
                                            {});
    QVERIFY2(version, qPrintable(version ? QString() : version.error()));
    const qint64 start = h.clock.nowMs();
    Batch batch;
    const auto addRun = [&](const QString &id, qint64 durationMs) {
        RunRow run;
        run.id = id;
        run.flowId = version->id;
        run.flowName = QStringLiteral("t");
        run.state = RunState::Succeeded;
        run.createdAt = start + batch.runs.size() * 1000LL;
        run.endedAt = run.createdAt + durationMs + 10;
        batch.runs << run;
        StepRunRow step;
        step.runId = id;
        step.stepId = QStringLiteral("work");
        step.state = StepState::Succeeded;
        step.attempts = 1;
        step.startedAt = run.createdAt + 5;
        step.endedAt = step.startedAt + durationMs;
        batch.steps << step;
        return step;
    };
    for (int i = 0; i < older; ++i)
        addRun(QStringLiteral("older-%1").arg(i), olderMs);
    for (int i = 0; i < recent; ++i)
        addRun(QStringLiteral("recent-%1").arg(i), recentMs);
    const StepRunRow judged = addRun(QStringLiteral("judged"), tookMs);
    EventRow ended;
    ended.at = judged.endedAt;
    ended.runId = judged.runId;
    ended.stepId = judged.stepId;
    ended.type = EventType::StepSucceeded;
    ended.actor = QStringLiteral("engine");
    batch.events << ended;
    auto committed = h.store->commit(batch);
    QVERIFY2(committed, qPrintable(committed ? QString() : committed.error()));

    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    QSignalSpy spy(watcher.get(), &AlertWatcher::alertFired);
    QCOMPARE(pollEverything(h, *watcher), message.isEmpty() ? 0 : 1);
    if (!message.isEmpty())
        QCOMPARE(spy.first().first().value<AlertFiring>().alert.value("message").toString(),
                 message);

    // The desktop's badge reads the same verdict from the flow's statistics.
    auto stats = stepStats(*api, QStringLiteral("t"));
    QVERIFY2(stats, qPrintable(stats ? QString() : stats.error()));
    const StepStats *work = stats->step(QStringLiteral("work"));
    QVERIFY(work);
    QCOMPARE(work->slowBaseline.finished, std::min(older + recent + 1, kSlowWindow));
    SlowRule slow;
    slow.factor = factor.toDouble();
    const std::optional<double> badge = slowFactor(*work, tookMs, slow);
    QCOMPARE(badge.has_value(), !message.isEmpty());
    if (badge)
        QVERIFY2(message.contains(QStringLiteral("%1×").arg(*badge, 0, 'f', 1)),
                 qPrintable(message));
}

void TestAlerts::theCommandReceivesTheAlertJson() {
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    const QString received = h.dir.filePath(QStringLiteral("alert.json"));
    // The argv as given: the file name is an argument, never spliced into a shell line.
    QVERIFY(api->addAlertRule(
        rule({QStringLiteral("run_failed")}, {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                                              QStringLiteral("cat > \"$0\""), received})));
    const QString run = h.start(kFailingFlow);
    QVERIFY(h.settle());
    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    QSignalSpy finished(watcher.get(), &AlertWatcher::commandFinished);
    QCOMPARE(pollEverything(h, *watcher), 1);
    QVERIFY(finished.wait(10'000)); // the command is a process: its end is awaited, not time
    QCOMPARE(finished.first().at(1).toInt(), 0);
    QFile file(received);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject alert = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(alert.value("kind").toString(), QStringLiteral("run_failed"));
    QCOMPARE(alert.value("run").toString(), run);
    QCOMPARE(alert.value("id").toInteger(), alertsOf(h, run).first().id);
    QCOMPARE(alert.value("trigger").toObject().value("type").toString(),
             QStringLiteral("run_finished"));
}

void TestAlerts::removingARuleStopsIt() {
    Harness h;
    auto api = apiOn(h);
    QVERIFY(api);
    const auto added = api->addAlertRule(rule({QStringLiteral("run_failed")}));
    QVERIFY(added);
    QVERIFY(api->removeAlertRule(added->id));
    QVERIFY(!api->removeAlertRule(added->id));
    h.start(kFailingFlow);
    QVERIFY(h.settle());
    std::unique_ptr<AlertWatcher> watcher(api->createAlertWatcher());
    QCOMPARE(pollEverything(h, *watcher), 0);
}

QTEST_GUILESS_MAIN(TestAlerts)
#include "tst_alerts.moc"
