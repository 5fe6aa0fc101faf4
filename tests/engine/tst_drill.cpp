// Drill runs: a step's `drill` injects faults into its attempts (the editor's "run as a drill"),
// and attempts that are not failed run the real action.

#include "harness.h"

class TestDrill : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void firstAttemptsFailThenTheRealActionRuns();
    void permanentDrillErrorIsNotRetried();
    void latencyDelaysTheRealAction();
    void timeoutDrillHangsUntilTheTimeoutFires();
    void drillIsValidatedAndRoundTrips();
};

void TestDrill::firstAttemptsFailThenTheRealActionRuns() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "send", "kind": "noop", "with": { "output": "sent" },
        "retry": { "max_attempts": 3, "initial_interval": "1s", "jitter": 0 },
        "drill": { "fail_first": 2 } })"));
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, "send").state, StepState::Retrying);
    QVERIFY(h.step(run, "send").error.contains(QLatin1String("drill: attempt 1 of the first 2")));
    QVERIFY(h.advanceAndSettle(1000));
    QVERIFY(h.advanceAndSettle(2000));
    QCOMPARE(h.step(run, "send").state, StepState::Succeeded);
    QCOMPARE(h.attempts(run, "send").size(), 3);
    QCOMPARE(h.step(run, "send").output, QJsonValue(QStringLiteral("sent"))); // the real noop's
}

void TestDrill::permanentDrillErrorIsNotRetried() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "pay", "kind": "noop",
        "drill": { "fail_first": 1, "error": "permanent" } })"));
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, "pay").state, StepState::Failed);
    QCOMPARE(h.attempts(run, "pay").size(), 1);
    QCOMPARE(h.step(run, "pay").errorClass, ErrorClass::Permanent);
}

void TestDrill::latencyDelaysTheRealAction() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "slow", "kind": "noop", "drill": { "latency": "5s" } })"));
    QCOMPARE(h.step(run, "slow").state, StepState::Running);
    h.advance(4999); // still in flight: the real action has not started
    QCOMPARE(h.engine->runningAttemptCount(), 1);
    QCOMPARE(h.step(run, "slow").state, StepState::Running);
    QVERIFY(h.advanceAndSettle(1));
    QCOMPARE(h.step(run, "slow").state, StepState::Succeeded);
}

void TestDrill::timeoutDrillHangsUntilTheTimeoutFires() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "hang", "kind": "noop", "timeout": "2s",
        "retry": { "max_attempts": 1 }, "drill": { "fail_first": 1, "error": "timeout" } })"));
    h.advance(1999);
    QCOMPARE(h.step(run, "hang").state, StepState::Running);
    QVERIFY(h.advanceAndSettle(1)); // the attempt's 2 s timeout fires
    QCOMPARE(h.step(run, "hang").state, StepState::Failed);
    QCOMPARE(h.step(run, "hang").errorClass, ErrorClass::Timeout);
}

void TestDrill::drillIsValidatedAndRoundTrips() {
    const QByteArray bad = flow(R"({ "id": "a", "kind": "noop",
        "drill": { "error": "boom", "fail_rate": 2, "sometimes": true } })");
    FlowLoad load = parseFlow(bad, QStringLiteral("bad.flow.json"));
    QVERIFY(!load.ok());
    const QString text = load.errorText();
    QVERIFY2(text.contains(QLatin1String("\"drill.error\" must be one of")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("\"drill.fail_rate\" must be a number between 0 and 1")),
             qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("unknown key \"sometimes\" in \"drill\"")),
             qPrintable(text));

    FlowLoad good = parseFlow(flow(R"({ "id": "a", "kind": "noop",
        "drill": { "error": "garbage", "fail_first": 1, "latency": "1s" } })"),
                              QStringLiteral("good.flow.json"));
    QVERIFY2(good.ok(), qPrintable(good.errorText()));
    const QByteArray once = serializeFlow(*good.flow);
    FlowLoad again = parseFlow(once, QStringLiteral("again.flow.json"));
    QVERIFY(again.ok());
    QCOMPARE(serializeFlow(*again.flow), once);
    QVERIFY(once.contains("\"drill\""));
}

QTEST_GUILESS_MAIN(TestDrill)
#include "tst_drill.moc"
