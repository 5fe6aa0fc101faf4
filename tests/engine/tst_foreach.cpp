// foreach: each item has its own state, attempts, key and output; partial success within
// tolerance; concurrency; recovery after a crash without re-running finished items.

#include "harness.h"

#include <QJsonArray>
#include <QTest>

using namespace keepflow;

namespace {

/// Items 0..count-1; the ones listed in failing fail every attempt (permanent).
QByteArray itemsParam(int count, const QList<int> &failing) {
    QByteArray items = "[";
    for (int i = 0; i < count; ++i) {
        if (i > 0)
            items += ", ";
        items += R"({ "id": "order-)" + QByteArray::number(i) + R"(", "fail": )" +
                 (failing.contains(i) ? "99" : "0") + " }";
    }
    return items + "]";
}

QByteArray notifyFlow(int count, const QList<int> &failing, const QByteArray &extra) {
    return flow(R"({ "id": "fetch", "kind": "noop", "with": { "output": { "orders": )" +
                itemsParam(count, failing) + R"( } } },
        { "id": "notify", "kind": "fault", "after": ["fetch"], "foreach": "{{steps.fetch.output.orders}}",
          "item_key": "{{item.id}}", )" +
                extra + R"(
          "with": { "fail_first": "{{item.fail}}", "error": "permanent", "output": { "sent": "{{item.id}}" } } },
        { "id": "report", "kind": "noop", "after": ["notify"],
          "with": { "output": { "sent": "{{steps.notify.output.succeeded}}", "failed": "{{steps.notify.output.failed}}" } } })");
}

QList<ItemRow> itemsOf(Harness &h, const QString &run) {
    return *h.store->items(run);
}

} // namespace

class TestForeach : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void withinTolerancePartiallySucceeds();
    void beyondToleranceFails();
    void allItemsSucceed();
    void eachItemHasItsOwnKeyAcrossRetries();
    void concurrencyBoundsItemsInFlight();
    void crashResumesWithoutRerunningFinishedItems();
    void listThatIsNotAListFailsClearly();
    void thousandItemsFinish();
};

void TestForeach::withinTolerancePartiallySucceeds() {
    Harness h;
    const QString run =
        h.start(notifyFlow(10, {3, 7}, R"("concurrency": 10, "tolerate": { "max_failed": 2 },)"));
    const StepRunRow notify = h.step(run, QStringLiteral("notify"));
    QCOMPARE(notify.state, StepState::PartiallySucceeded);
    const QJsonObject output = notify.output.toObject();
    const QJsonArray succeeded = output.value(QStringLiteral("succeeded")).toArray();
    QCOMPARE(succeeded.size(), 8);
    QCOMPARE(succeeded.first().toObject().value(QStringLiteral("sent")).toString(),
             QStringLiteral("order-0"));
    QCOMPARE(succeeded.last().toObject().value(QStringLiteral("sent")).toString(),
             QStringLiteral("order-9"));
    const QJsonArray failed = output.value(QStringLiteral("failed")).toArray();
    QCOMPARE(failed.size(), 2);
    QCOMPARE(failed[0].toObject().value(QStringLiteral("key")).toString(),
             QStringLiteral("order-3"));
    QCOMPARE(failed[1].toObject().value(QStringLiteral("key")).toString(),
             QStringLiteral("order-7"));
    // Downstream ran with the successful items.
    QCOMPARE(h.step(run, QStringLiteral("report")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("report"))
                 .output.toObject()
                 .value(QStringLiteral("sent"))
                 .toArray()
                 .size(),
             8);
    QCOMPARE(h.runState(run), RunState::CompletedWithFailures);
    int failedRows = 0;
    for (const ItemRow &item : itemsOf(h, run))
        failedRows += item.state == StepState::Failed ? 1 : 0;
    QCOMPARE(failedRows, 2);
}

void TestForeach::beyondToleranceFails() {
    Harness h;
    const QString run = h.start(notifyFlow(
        10, {1, 2, 3}, R"("concurrency": 10, "tolerate": { "max_failed_ratio": 0.2 },)"));
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Failed);
    QVERIFY(h.step(run, QStringLiteral("notify"))
                .error.contains(QStringLiteral("3 of 10 items failed")));
    QCOMPARE(h.step(run, QStringLiteral("report")).state, StepState::Blocked);
}

void TestForeach::allItemsSucceed() {
    Harness h;
    const QString run = h.start(notifyFlow(5, {}, R"("concurrency": 2,)"));
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestForeach::eachItemHasItsOwnKeyAcrossRetries() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "each", "kind": "fault", "foreach": ["a", "b"], "item_key": "{{item}}",
        "with": { "fail_first": 1 }, "retry": { "initial_interval": "1s", "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("each")).state, StepState::Running);
    for (const ItemRow &item : itemsOf(h, run))
        QCOMPARE(item.state, StepState::Retrying);
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("each")).state, StepState::Succeeded);
    const auto attempts = h.attempts(run, QStringLiteral("each"));
    QCOMPARE(attempts.size(), 4);
    QHash<QString, QSet<QString>> keys;
    for (const AttemptRow &attempt : attempts)
        keys[attempt.itemKey].insert(attempt.idempotencyKey);
    QCOMPARE(keys.size(), 2);
    QCOMPARE(keys.value(QStringLiteral("a")).size(), 1); // the same key on every retry
    QVERIFY(keys.value(QStringLiteral("a")) != keys.value(QStringLiteral("b")));
    QVERIFY(keys.value(QStringLiteral("a")).values().first().endsWith(QStringLiteral("/a")));
}

void TestForeach::concurrencyBoundsItemsInFlight() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "slow", "kind": "fault", "foreach": [1, 2, 3, 4, 5], "concurrency": 2,
        "with": { "latency": "1s" } })"));
    auto running = [&h, &run]() {
        int count = 0;
        for (const ItemRow &item : itemsOf(h, run))
            count += item.state == StepState::Running ? 1 : 0;
        return count;
    };
    QCOMPARE(running(), 2);
    h.advance(1000);
    QCOMPARE(running(), 2);
    h.advance(1000);
    QCOMPARE(running(), 1);
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("slow")).state, StepState::Succeeded);
}

void TestForeach::crashResumesWithoutRerunningFinishedItems() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "slow", "kind": "fault", "foreach": [1, 2, 3, 4], "concurrency": 2,
        "idempotency": "keyed", "with": { "latency": "1s", "output": "{{item}}" } })"));
    h.advance(1000); // items 0 and 1 done, 2 and 3 running
    h.crashAndRestart();
    QVERIFY(*h.engine->adopt(run));
    h.pump();
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("slow")).state, StepState::Succeeded);
    QHash<QString, int> attemptsByItem;
    QHash<QString, std::optional<AttemptOutcome>> outcomes;
    for (const AttemptRow &attempt : h.attempts(run, QStringLiteral("slow"))) {
        ++attemptsByItem[attempt.itemKey];
        outcomes[attempt.itemKey + QString::number(attempt.number)] = attempt.outcome;
    }
    QCOMPARE(attemptsByItem.value(QStringLiteral("0")), 1); // finished before the crash: not again
    QCOMPARE(attemptsByItem.value(QStringLiteral("1")), 1);
    QCOMPARE(attemptsByItem.value(QStringLiteral("2")), 2); // cut off, then retried
    QCOMPARE(outcomes.value(QStringLiteral("21")), std::optional(AttemptOutcome::Crashed));
    const QJsonArray succeeded = h.step(run, QStringLiteral("slow"))
                                     .output.toObject()
                                     .value(QStringLiteral("succeeded"))
                                     .toArray();
    QCOMPARE(succeeded, (QJsonArray{1, 2, 3, 4}));
}

void TestForeach::listThatIsNotAListFailsClearly() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "each", "kind": "noop", "foreach": "{{params.hosts}}" })",
                     R"("params": { "hosts": { "default": "web-1" } },)"));
    const StepRunRow step = h.step(run, QStringLiteral("each"));
    QCOMPARE(step.state, StepState::Failed);
    QVERIFY2(step.error.contains(QStringLiteral("expected a list")), qPrintable(step.error));
}

void TestForeach::thousandItemsFinish() {
    Harness h;
    QByteArray list = "[";
    for (int i = 0; i < 1000; ++i)
        list += (i ? "," : "") + QByteArray::number(i);
    list += "]";
    const QString run =
        h.start(flow(R"({ "id": "many", "kind": "noop", "foreach": )" + list +
                     R"(, "concurrency": 100, "with": { "output": "{{item}}" } })"));
    const StepRunRow step = h.step(run, QStringLiteral("many"));
    QCOMPARE(step.state, StepState::Succeeded);
    const QJsonArray succeeded =
        step.output.toObject().value(QStringLiteral("succeeded")).toArray();
    QCOMPARE(succeeded.size(), 1000);
    QCOMPARE(succeeded[999].toInt(), 999);
}

QTEST_GUILESS_MAIN(TestForeach)
#include "tst_foreach.moc"
