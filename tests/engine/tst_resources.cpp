// Resources isolate external dependencies: concurrency limits with an ordered queue, a token
// bucket, a circuit breaker, operator pauses and max_queue_time; all with a manual clock.

#include "harness.h"

#include <QTest>

using namespace keepflow;

namespace {

QByteArray withResource(const QByteArray &resource, const QByteArray &steps) {
    return flow(steps, R"("resources": { "dep": )" + resource + R"( },)");
}

/// count independent steps "s0".."sN-1" of kind fault on resource dep with the given with.
QByteArray manySteps(int count, const QByteArray &with, const QByteArray &extra = {}) {
    QByteArray steps;
    for (int i = 0; i < count; ++i) {
        if (i > 0)
            steps += ",";
        steps += R"({ "id": "s)" + QByteArray::number(i) +
                 R"(", "kind": "fault", "resource": "dep", "with": )" + with + extra + "}";
    }
    return steps;
}

QStringList statesOf(Harness &h, const QString &run, int count) {
    QStringList states;
    for (int i = 0; i < count; ++i)
        states << stateName(h.step(run, QStringLiteral("s%1").arg(i)).state);
    return states;
}

} // namespace

class TestResources : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void concurrencyLimitQueuesInOrder();
    void rateLimitSpacesCalls();
    void breakerOpensStopsCallsProbesAndCloses();
    void failedProbeOpensAgain();
    void permanentErrorsDoNotOpenTheBreaker();
    void pausedResourceHoldsWorkUntilUnpaused();
    void maxQueueTimeFailsFastAndUsesFallback();
    void hungDependencyDoesNotHoldBackOthers();
    void pauseAndBreakerSurviveRestart();
    void unknownResourceActionIsRefused();
    void foreachItemsShareTheResourceLimits();
    void foreachItemsWaitForAnOpenCircuit();
    void cancelledItemsGiveBackTheirSlots();
};

void TestResources::concurrencyLimitQueuesInOrder() {
    Harness h;
    const QString run =
        h.start(withResource(R"({ "concurrency": 2 })", manySteps(5, R"({ "latency": "1s" })")));
    QCOMPARE(statesOf(h, run, 5), (QStringList{QStringLiteral("running"), QStringLiteral("running"),
                                               QStringLiteral("queued"), QStringLiteral("queued"),
                                               QStringLiteral("queued")}));
    QVERIFY(h.step(run, QStringLiteral("s2")).queuedAt > 0);
    const auto events = *h.store->events(run);
    QVERIFY(std::any_of(events.begin(), events.end(), [](const EventRow &e) {
        return e.type == EventType::StepQueued && e.detail.value(QStringLiteral("reason"))
                                                      .toString()
                                                      .contains(QStringLiteral("2 of 2"));
    }));
    h.advance(1000);
    QCOMPARE(statesOf(h, run, 5),
             (QStringList{QStringLiteral("succeeded"), QStringLiteral("succeeded"),
                          QStringLiteral("running"), QStringLiteral("running"),
                          QStringLiteral("queued")}));
    h.advance(1000);
    h.advance(1000);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    // In order: each step started no earlier than the ones before it.
    qint64 previous = 0;
    for (int i = 0; i < 5; ++i) {
        const qint64 started = h.step(run, QStringLiteral("s%1").arg(i)).startedAt;
        QVERIFY(started >= previous);
        previous = started;
    }
}

void TestResources::rateLimitSpacesCalls() {
    Harness h;
    const qint64 t0 = h.clock.nowMs();
    const QString run =
        h.start(withResource(R"({ "rate": { "limit": 2, "per": "1s" } })", manySteps(5, "{}")));
    // The bucket starts full: two calls now, then one every 500 ms.
    QCOMPARE(statesOf(h, run, 5).count(QStringLiteral("succeeded")), 2);
    QCOMPARE(h.step(run, QStringLiteral("s2")).state, StepState::Queued);
    QCOMPARE(h.step(run, QStringLiteral("s2")).notBefore, t0 + 500);
    h.advance(499);
    QCOMPARE(statesOf(h, run, 5).count(QStringLiteral("succeeded")), 2);
    h.advance(1);
    QCOMPARE(statesOf(h, run, 5).count(QStringLiteral("succeeded")), 3);
    h.advance(500);
    h.advance(500);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("s4")).startedAt, t0 + 1500);
}

void TestResources::breakerOpensStopsCallsProbesAndCloses() {
    Harness h;
    // Four calls fail (once each), which opens the circuit; the retries wait for it instead of
    // calling the dead dependency; after open_for one probe goes, succeeds, and the rest follow.
    const QString run = h.start(withResource(
        R"({ "breaker": { "failure_rate": 0.5, "window": 4, "min_calls": 4, "open_for": "10s", "half_open_calls": 1 } })",
        manySteps(4, R"({ "fail_first": 1 })",
                  R"(, "retry": { "initial_interval": "1s", "jitter": 0 })")));
    auto resource = [&h]() { return h.store->resources()->first(); };
    QCOMPARE(resource().breakerState, QStringLiteral("open"));
    QCOMPARE(resource().window, QStringLiteral("1111"));
    const qint64 openedAt = resource().openedAt;

    h.advance(1000); // retries are due, but the circuit is open: they queue, nothing is called
    QCOMPARE(statesOf(h, run, 4), QStringList(4, QStringLiteral("queued")));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(h.step(run, QStringLiteral("s%1").arg(i)).attempts, 1);

    h.clock.set(openedAt + 10'000);
    h.pump();
    // One probe: it succeeds and closes the circuit, then the queue drains.
    const auto events = *h.store->events(run);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(resource().breakerState, QStringLiteral("closed"));
    int attempts = 0;
    for (int i = 0; i < 4; ++i)
        attempts += h.step(run, QStringLiteral("s%1").arg(i)).attempts;
    QCOMPARE(attempts, 8); // each failed once and succeeded once: no call while open
}

void TestResources::failedProbeOpensAgain() {
    Harness h;
    const QString run = h.start(withResource(
        R"({ "breaker": { "failure_rate": 1.0, "window": 1, "min_calls": 1, "open_for": "5s" } })",
        manySteps(1, R"({ "fail_first": 2 })",
                  R"(, "retry": { "initial_interval": "1s", "jitter": 0, "max_attempts": 5 })")));
    auto resource = [&h]() { return h.store->resources()->first(); };
    QCOMPARE(resource().breakerState, QStringLiteral("open"));
    const qint64 firstOpen = resource().openedAt;
    h.advance(4999);
    QCOMPARE(h.step(run, QStringLiteral("s0")).attempts, 1); // no call while open
    h.advance(1); // the probe is attempt 2: it fails, so the circuit opens again from now
    QCOMPARE(h.step(run, QStringLiteral("s0")).attempts, 2);
    QCOMPARE(resource().breakerState, QStringLiteral("open"));
    QCOMPARE(resource().openedAt, firstOpen + 5000);
    h.advance(4999);
    QCOMPARE(h.step(run, QStringLiteral("s0")).attempts, 2);
    h.advance(1); // the next probe succeeds and closes it
    QCOMPARE(h.step(run, QStringLiteral("s0")).attempts, 3);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(resource().breakerState, QStringLiteral("closed"));
}

void TestResources::permanentErrorsDoNotOpenTheBreaker() {
    Harness h;
    const QString run = h.start(withResource(
        R"({ "breaker": { "failure_rate": 0.5, "window": 2, "min_calls": 2, "open_for": "5s" } })",
        manySteps(3, R"({ "fail_first": 1, "error": "permanent" })")));
    QCOMPARE(h.store->resources()->first().breakerState, QStringLiteral("closed"));
    QCOMPARE(statesOf(h, run, 3), QStringList(3, QStringLiteral("failed")));
}

void TestResources::pausedResourceHoldsWorkUntilUnpaused() {
    Harness h;
    const QByteArray text =
        flow(R"({ "id": "call", "kind": "fault", "resource": "dep", "with": {} },
        { "id": "local", "kind": "noop" })",
             R"("resources": { "dep": {} },)");
    // Declare the resource, then pause it as an operator would from another process.
    FlowLoad load = parseFlow(text, QStringLiteral("p.flow.json"));
    QVERIFY(h.engine->registerFlow(*load.flow, {}));
    QVERIFY(h.store->changeResource(QStringLiteral("dep"), true, false, QStringLiteral("alice"),
                                    h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    const QString run = h.start(text);
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Queued);
    QCOMPARE(h.step(run, QStringLiteral("local")).state, StepState::Succeeded); // the rest moves
    QCOMPARE(h.runState(run), RunState::Running);
    h.advance(60'000);
    QCOMPARE(h.step(run, QStringLiteral("call")).attempts, 0);

    QVERIFY(h.store->changeResource(QStringLiteral("dep"), false, false, QStringLiteral("alice"),
                                    h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestResources::maxQueueTimeFailsFastAndUsesFallback() {
    Harness h;
    const QByteArray text = flow(R"({ "id": "call", "kind": "fault", "resource": "dep", "with": {},
          "fallback": { "value": { "cached": true } } })",
                                 R"("resources": { "dep": { "max_queue_time": "10s" } },)");
    FlowLoad load = parseFlow(text, QStringLiteral("q.flow.json"));
    QVERIFY(h.engine->registerFlow(*load.flow, {}));
    QVERIFY(h.store->changeResource(QStringLiteral("dep"), true, false, QStringLiteral("bob"),
                                    h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    const QString run = h.start(text);
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Queued);
    h.advance(9999);
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Queued);
    h.advance(1);
    const StepRunRow step = h.step(run, QStringLiteral("call"));
    QCOMPARE(step.state, StepState::SucceededViaFallback);
    QVERIFY2(step.error.contains(QStringLiteral("max_queue_time")), qPrintable(step.error));
    QCOMPARE(step.attempts, 0); // the paused dependency was never called
}

void TestResources::hungDependencyDoesNotHoldBackOthers() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "hung", "kind": "fault", "resource": "slow", "timeout": "30s",
          "idempotency": "keyed", "with": { "fail_first": 9, "error": "timeout" }, "retry": { "max_attempts": 1 } },
        { "id": "a", "kind": "fault", "resource": "fast", "with": { "latency": "100ms" } },
        { "id": "b", "kind": "fault", "resource": "fast", "after": ["a"], "with": { "latency": "100ms" } },
        { "id": "c", "kind": "noop", "after": ["b"] })",
             R"("resources": { "slow": { "concurrency": 1 }, "fast": { "concurrency": 1 } },)"));
    h.advance(100);
    h.advance(100);
    QCOMPARE(h.step(run, QStringLiteral("c")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("hung")).state, StepState::Running);
    h.advance(30'000);
    QCOMPARE(h.step(run, QStringLiteral("hung")).state, StepState::Failed);
    QCOMPARE(h.step(run, QStringLiteral("hung")).errorClass, ErrorClass::Timeout);
    QCOMPARE(h.runState(run), RunState::CompletedWithFailures);
}

void TestResources::pauseAndBreakerSurviveRestart() {
    Harness h;
    const QString run = h.start(withResource(
        R"({ "breaker": { "failure_rate": 1.0, "window": 1, "min_calls": 1, "open_for": "1m" } })",
        manySteps(1, R"({ "fail_first": 1 })",
                  R"(, "retry": { "initial_interval": "1s", "jitter": 0 })")));
    QCOMPARE(h.store->resources()->first().breakerState, QStringLiteral("open"));
    h.crashAndRestart();
    QVERIFY(*h.engine->adopt(run));
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("s0")).state, StepState::Queued); // still open
    QCOMPARE(h.step(run, QStringLiteral("s0")).attempts, 1);
    // An operator resets the breaker: the queued work goes at once.
    QVERIFY(h.store->changeResource(QStringLiteral("dep"), std::nullopt, true,
                                    QStringLiteral("carol"), h.clock.nowMs()));
    QVERIFY(h.engine->syncResources());
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("s0")).state, StepState::Succeeded);
}

void TestResources::unknownResourceActionIsRefused() {
    Harness h;
    const Status status = h.store->changeResource(QStringLiteral("nope"), true, false,
                                                  QStringLiteral("dave"), h.clock.nowMs());
    QVERIFY(!status);
    QVERIFY2(status.message().contains(QStringLiteral("unknown resource \"nope\"")),
             qPrintable(status.message()));
}

void TestResources::foreachItemsShareTheResourceLimits() {
    Harness h;
    // The step would run 5 items at once; the resource takes 2 calls, shared with another step.
    const QString run = h.start(
        flow(R"({ "id": "notify", "kind": "fault", "resource": "crm", "foreach": [1, 2, 3, 4, 5],
          "concurrency": 5, "with": { "latency": "1s" } },
        { "id": "other", "kind": "fault", "resource": "crm", "with": { "latency": "1s" } })",
             R"("resources": { "crm": { "concurrency": 2 } },)"));
    auto itemStates = [&h, &run]() {
        QStringList states;
        const auto items = h.store->items(run);
        for (const ItemRow &item : *items)
            states << stateName(item.state);
        return states;
    };
    const QStringList first = itemStates();
    const int runningItems = static_cast<int>(first.count(QStringLiteral("running")));
    const bool otherRunning = h.step(run, QStringLiteral("other")).state == StepState::Running;
    QCOMPARE(runningItems + (otherRunning ? 1 : 0), 2);
    for (int round = 0; round < 4; ++round) {
        h.advance(1000);
        const int running =
            static_cast<int>(itemStates().count(QStringLiteral("running"))) +
            (h.step(run, QStringLiteral("other")).state == StepState::Running ? 1 : 0);
        QVERIFY2(running <= 2, qPrintable(QString::number(running)));
    }
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestResources::cancelledItemsGiveBackTheirSlots() {
    // Two items of a cancelled run held both slots of crm: another run's call must not wait for
    // results that will never be read (the slots used to stay taken for the engine's life).
    Harness h;
    const QByteArray resources = R"("resources": { "crm": { "concurrency": 2 } },)";
    const QString first =
        h.start(flow(R"({ "id": "notify", "kind": "fault", "resource": "crm", "foreach": [1, 2],
          "concurrency": 2, "with": { "latency": "1m" } })",
                     resources));
    QCOMPARE(h.step(first, QStringLiteral("notify")).state, StepState::Running);
    OperatorAction cancel;
    cancel.kind = OperatorAction::Kind::CancelRun;
    cancel.runId = first;
    cancel.actor = QStringLiteral("alice");
    QVERIFY(h.engine->act(cancel));
    h.pump();
    QCOMPARE(h.runState(first), RunState::Cancelled);
    const QString second = h.start(
        flow(R"({ "id": "sync", "kind": "fault", "resource": "crm", "with": { "latency": "1s" } })",
             resources));
    QCOMPARE(h.step(second, QStringLiteral("sync")).state, StepState::Running);
    h.advance(1000);
    QCOMPARE(h.runState(second), RunState::Succeeded);
}

void TestResources::foreachItemsWaitForAnOpenCircuit() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "notify", "kind": "fault", "resource": "crm", "foreach": [1, 0, 0, 0],
          "concurrency": 1, "with": { "fail_first": "{{item}}" }, "retry": { "initial_interval": "1s", "jitter": 0 } })",
        R"("resources": { "crm": { "breaker": { "failure_rate": 1.0, "window": 1, "min_calls": 1, "open_for": "10s" } } },)"));
    // The first item fails once, which opens the circuit: nothing is called while it is open.
    QCOMPARE(h.store->resources()->first().breakerState, QStringLiteral("open"));
    h.advance(5000);
    QCOMPARE(h.attempts(run, QStringLiteral("notify")).size(), 1);
    h.advance(5000); // half-open: the retry of item 0 probes and succeeds; the others follow
    h.advance(1000);
    h.advance(1000);
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Succeeded);
    QCOMPARE(h.store->resources()->first().breakerState, QStringLiteral("closed"));
}

QTEST_GUILESS_MAIN(TestResources)
#include "tst_resources.moc"
