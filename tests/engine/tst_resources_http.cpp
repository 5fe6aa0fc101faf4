// Resources against a real HTTP dependency on loopback: the breaker opens, stops calls, probes
// and closes again; a hung dependency's steps time out while another resource's steps finish;
// a paused resource holds its work and releases it on unpause. Effects are counted per
// idempotency key by the server, so retries are seen to apply each logical effect once.

#include "harness.h"
#include "httptestserver.h"

#include <QTest>

using namespace keepflow;
using keepflow::test::HttpTestServer;

namespace {

/// Pumps while the network talks, until done() or a timeout (no clock time passes meanwhile).
bool pumpUntil(Harness &h, const std::function<bool()> &done, int timeoutMs = 10000) {
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        h.pump();
    }
    return true;
}

QString breakerOf(Harness &h, const QString &name) {
    const auto rows = h.store->resources();
    for (const ResourceRow &row : *rows) {
        if (row.name == name)
            return row.breakerState;
    }
    return {};
}

} // namespace

class TestResourcesHttp : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_server.listen()); }
    void init() { m_server.reset(); }
    void breakerOpensStopsCallsProbesAndCloses();
    void hungDependencyTimesOutWhileOthersFinish();
    void pausedResourceHoldsItsWork();
    void retryOfFailedItemsAppliesEachEffectOnce();
    void lostResponseIsUncertainOnlyForNonIdempotentSteps();

private:
    HttpTestServer m_server;
};

void TestResourcesHttp::breakerOpensStopsCallsProbesAndCloses() {
    HttpTestServer::Route failing;
    failing.failFirst = 4; // the dependency is down for four calls, then healthy
    m_server.setRoute(QStringLiteral("/crm"), failing);
    Harness h;
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "notify", "kind": "http", "resource": "crm",
          "foreach": [1, 2, 3, 4, 5, 6], "concurrency": 1, "timeout": "5s",
          "retry": { "max_attempts": 5, "initial_interval": "1s", "jitter": 0 },
          "with": { "method": "POST", "url": "%1", "body": { "n": "{{item}}" } } })")
                         .arg(m_server.url(QStringLiteral("/crm")))
                         .toUtf8(),
                     R"("resources": { "crm": { "breaker": { "failure_rate": 1.0, "window": 2,
                                         "min_calls": 2, "open_for": "10s", "half_open_calls": 1 } } },)"));
    QVERIFY(!run.isEmpty());
    // The first two items' calls fail: the circuit opens.
    QVERIFY(
        pumpUntil(h, [&] { return breakerOf(h, QStringLiteral("crm")) == QLatin1String("open"); }));
    QVERIFY(pumpUntil(h, [&] { return h.engine->runningAttemptCount() == 0; }));
    QCOMPARE(m_server.calls(QStringLiteral("/crm")), 2);
    // While it is open nothing calls the dependency: every item waits, none is in flight.
    h.advance(5000);
    QCOMPARE(h.engine->runningAttemptCount(), 0);
    QCOMPARE(m_server.calls(QStringLiteral("/crm")), 2);
    // After open_for one probe goes; it fails (third failure): open again, still one call only.
    h.advance(5000);
    QVERIFY(pumpUntil(h, [&] {
        return m_server.calls(QStringLiteral("/crm")) == 3 && h.engine->runningAttemptCount() == 0;
    }));
    QCOMPARE(breakerOf(h, QStringLiteral("crm")), QStringLiteral("open"));
    h.advance(10'000); // the next probe fails too (fourth)
    QVERIFY(pumpUntil(h, [&] {
        return m_server.calls(QStringLiteral("/crm")) == 4 && h.engine->runningAttemptCount() == 0;
    }));
    h.advance(10'000); // this probe succeeds: closed, and the queue drains
    QVERIFY(pumpUntil(
        h, [&] { return breakerOf(h, QStringLiteral("crm")) == QLatin1String("closed"); }));
    for (int round = 0;
         round < 10 && h.step(run, QStringLiteral("notify")).state != StepState::Succeeded;
         ++round) {
        h.advance(1000);
        pumpUntil(h, [&] { return h.engine->runningAttemptCount() == 0; });
    }
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Succeeded);
    QCOMPARE(m_server.effects(QStringLiteral("/crm")), 6); // each item's effect once
}

void TestResourcesHttp::hungDependencyTimesOutWhileOthersFinish() {
    HttpTestServer::Route hung;
    hung.fault = HttpTestServer::Fault::Hang;
    m_server.setRoute(QStringLiteral("/slow"), hung);
    m_server.setRoute(QStringLiteral("/fast"), HttpTestServer::Route{});
    Harness h;
    const QString run = h.start(
        flow(QStringLiteral(R"({ "id": "hung", "kind": "http", "resource": "slow", "timeout": "5s",
          "retry": { "max_attempts": 1 }, "with": { "method": "POST", "url": "%1" } },
        { "id": "fast", "kind": "http", "resource": "fast", "foreach": [1, 2, 3, 4, 5], "concurrency": 2,
          "with": { "method": "POST", "url": "%2" } })")
                 .arg(m_server.url(QStringLiteral("/slow")), m_server.url(QStringLiteral("/fast")))
                 .toUtf8(),
             R"("resources": { "slow": { "concurrency": 1 }, "fast": { "concurrency": 2 } },)"));
    QVERIFY(pumpUntil(
        h, [&] { return h.step(run, QStringLiteral("fast")).state == StepState::Succeeded; }));
    QCOMPARE(h.step(run, QStringLiteral("hung")).state, StepState::Running); // still hanging
    h.advance(5000);
    QVERIFY(pumpUntil(
        h, [&] { return h.step(run, QStringLiteral("hung")).state == StepState::Failed; }));
    QCOMPARE(h.step(run, QStringLiteral("hung")).errorClass, ErrorClass::Timeout);
    QCOMPARE(h.runState(run), RunState::CompletedWithFailures);
    m_server.releaseHung();
}

void TestResourcesHttp::pausedResourceHoldsItsWork() {
    m_server.setRoute(QStringLiteral("/crm"), HttpTestServer::Route{});
    Harness h;
    const QByteArray text =
        flow(QStringLiteral(R"({ "id": "call", "kind": "http", "resource": "crm",
        "with": { "method": "POST", "url": "%1" } })")
                 .arg(m_server.url(QStringLiteral("/crm")))
                 .toUtf8(),
             R"("resources": { "crm": {} },)");
    FlowLoad load = parseFlow(text, QStringLiteral("p.flow.json"));
    QVERIFY(h.engine->registerFlow(*load.flow, {}));
    QVERIFY(h.store->changeResource(QStringLiteral("crm"), true, false, QStringLiteral("ops"),
                                    h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    const QString run = h.start(text);
    h.advance(60'000);
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Queued);
    QCOMPARE(m_server.calls(QStringLiteral("/crm")), 0);
    QVERIFY(h.store->changeResource(QStringLiteral("crm"), false, false, QStringLiteral("ops"),
                                    h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    QVERIFY(pumpUntil(
        h, [&] { return h.step(run, QStringLiteral("call")).state == StepState::Succeeded; }));
    QCOMPARE(m_server.calls(QStringLiteral("/crm")), 1);
}

void TestResourcesHttp::retryOfFailedItemsAppliesEachEffectOnce() {
    HttpTestServer::Route flaky;
    flaky.failFirst = 2; // the first two calls fail: items 0 and 1
    m_server.setRoute(QStringLiteral("/notify"), flaky);
    Harness h;
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "notify", "kind": "http", "foreach": [0, 1, 2, 3, 4],
          "concurrency": 1, "tolerate": { "max_failed": 2 }, "retry": { "max_attempts": 1 },
          "with": { "method": "POST", "url": "%1", "body": { "item": "{{item}}" } } })")
                         .arg(m_server.url(QStringLiteral("/notify")))
                         .toUtf8()));
    QVERIFY(pumpUntil(h, [&] {
        return h.step(run, QStringLiteral("notify")).state == StepState::PartiallySucceeded;
    }));
    QCOMPARE(m_server.calls(QStringLiteral("/notify")), 5);
    QCOMPARE(m_server.effects(QStringLiteral("/notify")), 3);
    OperatorAction retry;
    retry.kind = OperatorAction::Kind::RetryFailedItems;
    retry.runId = run;
    retry.stepId = QStringLiteral("notify");
    QVERIFY(h.engine->act(retry));
    QVERIFY(pumpUntil(
        h, [&] { return h.step(run, QStringLiteral("notify")).state == StepState::Succeeded; }));
    QCOMPARE(m_server.calls(QStringLiteral("/notify")), 7); // only the two failed items again
    QCOMPARE(m_server.effects(QStringLiteral("/notify")), 5);
    for (const QByteArray &key : m_server.keys(QStringLiteral("/notify")))
        QCOMPARE(m_server.effectsForKey(key), 1); // no item applied twice
}

void TestResourcesHttp::lostResponseIsUncertainOnlyForNonIdempotentSteps() {
    HttpTestServer::Route reset;
    reset.fault = HttpTestServer::Fault::ResetAfterEffect; // applied, then the connection dies
    m_server.setRoute(QStringLiteral("/pay"), reset);
    {
        Harness h;
        const QString run =
            h.start(flow(QStringLiteral(R"({ "id": "pay", "kind": "http", "idempotency": "none",
            "with": { "method": "POST", "url": "%1" } })")
                             .arg(m_server.url(QStringLiteral("/pay")))
                             .toUtf8()));
        QVERIFY(pumpUntil(
            h, [&] { return h.step(run, QStringLiteral("pay")).state == StepState::Uncertain; }));
        QCOMPARE(h.runState(run), RunState::WaitingForOperator); // an operator decides
        QCOMPARE(h.attempts(run, QStringLiteral("pay")).size(), 1);
        QCOMPARE(h.attempts(run, QStringLiteral("pay")).first().outcome, AttemptOutcome::Uncertain);
    }
    m_server.reset();
    reset.faultCalls = 1; // only the first call dies after applying
    m_server.setRoute(QStringLiteral("/pay"), reset);
    {
        Harness h;
        const QString run =
            h.start(flow(QStringLiteral(R"({ "id": "pay", "kind": "http", "idempotency": "keyed",
            "retry": { "initial_interval": "1s", "jitter": 0 }, "with": { "method": "POST", "url": "%1" } })")
                             .arg(m_server.url(QStringLiteral("/pay")))
                             .toUtf8()));
        QVERIFY(pumpUntil(h, [&] { return h.engine->runningAttemptCount() == 0; }));
        if (h.step(run, QStringLiteral("pay")).state == StepState::Retrying)
            h.advance(1000);
        QVERIFY(pumpUntil(
            h, [&] { return h.step(run, QStringLiteral("pay")).state == StepState::Succeeded; }));
        QCOMPARE(m_server.effects(QStringLiteral("/pay")), 1); // the retry carried the same key
    }
}

QTEST_GUILESS_MAIN(TestResourcesHttp)
#include "tst_resources_http.moc"
