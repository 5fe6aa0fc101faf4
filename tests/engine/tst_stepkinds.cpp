// Operator actions: each one changes the run in one transaction with an event naming who and
// why, or is refused with a reason and changes nothing.

#include "api/reports.h"
#include "harness.h"

#include <QJsonArray>
#include <QTest>

using namespace keepflow;

namespace {

using K = OperatorAction::Kind;

OperatorAction act(K kind, const QString &run, const QString &step = {},
                   QJsonValue output = QJsonValue::Undefined) {
    OperatorAction action;
    action.kind = kind;
    action.runId = run;
    action.stepId = step;
    action.output = output;
    action.actor = QStringLiteral("alice");
    action.reason = QStringLiteral("ticket OPS-42");
    return action;
}

/// Applies action and pumps; fails the test when refused.
QString apply(Harness &h, const OperatorAction &action) {
    const auto done = h.engine->act(action);
    if (!done) {
        qWarning().noquote() << done.error();
        return {};
    }
    h.pump();
    return done->message;
}

int eventCount(Harness &h, const QString &run) {
    return static_cast<int>(h.store->events(run)->size());
}

} // namespace

class TestStepKinds : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void skipUnblocksDownstreamWithItsOutput();
    void retryGivesAFreshBudgetAndKeepsTheKey();
    void retryNowSkipsTheBackoff();
    void markSucceededProvidesTheOutput();
    void resolveHappenedAndNotHappened();
    void approvalWaitsForApproveOrReject();
    void setInputThenRetry();
    void setInputObeysTheFlowFileRules();
    void rerunFromRunsDownstreamWithNewKeys();
    void pausedStepIsHeldUntilUnpaused();
    void pausedRunStartsNothing();
    void heldFallbackRunsOnceReleased();
    void skipFreesAnotherBranchWhileAnApprovalWaits();
    void rerunWhileAHeldStepPausesTheRun();
    void cancelStopsEverything();
    void retryFailedItemsOnly();
    void refusals_data();
    void refusals();
    void actionsAreRecordedWithActorAndReason();
};

void TestStepKinds::skipUnblocksDownstreamWithItsOutput() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "fetch", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
        { "id": "use", "kind": "noop", "after": ["fetch"], "with": { "output": "{{steps.fetch.output.orders}}" } })"));
    QCOMPARE(h.step(run, QStringLiteral("use")).state, StepState::Blocked);
    QCOMPARE(h.runState(run), RunState::Failed);
    QVERIFY(!apply(h, act(K::Skip, run, QStringLiteral("fetch"),
                          QJsonObject{{QStringLiteral("orders"), QJsonArray{1, 2}}}))
                 .isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("fetch")).state, StepState::Skipped);
    QCOMPARE(h.step(run, QStringLiteral("use")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("use")).output, QJsonValue(QJsonArray{1, 2}));
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::retryGivesAFreshBudgetAndKeepsTheKey() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "flaky", "kind": "fault", "with": { "fail_first": 2 },
        "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } })"));
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("flaky")).state, StepState::Failed);
    QVERIFY(!apply(h, act(K::Retry, run, QStringLiteral("flaky"))).isEmpty());
    const StepRunRow step = h.step(run, QStringLiteral("flaky"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.attempts, 3);
    const auto attempts = h.attempts(run, QStringLiteral("flaky"));
    QCOMPARE(attempts.size(), 3);
    QCOMPARE(attempts[2].idempotencyKey, attempts[0].idempotencyKey); // the same logical effect
    QCOMPARE(h.runState(run), RunState::Succeeded);
    // The fresh budget is said honestly: the third attempt is 3 of 4, never "3/2".
    QCOMPARE(attemptBudget(step.state, step.attempts, step.failures, 2), 4);
    QStringList started;
    const auto events = h.store->events(run);
    for (const EventRow &event : *events) {
        if (event.type == EventType::AttemptStarted)
            started << describeEvent(event);
    }
    QCOMPARE(started.size(), 3);
    QVERIFY2(started[2].contains(QLatin1String("attempt 3/4 started")), qPrintable(started[2]));
    QVERIFY2(started[0].contains(QLatin1String("attempt 1/2 started")), qPrintable(started[0]));
}

void TestStepKinds::retryNowSkipsTheBackoff() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "flaky", "kind": "fault", "with": { "fail_first": 1 },
        "retry": { "initial_interval": "1h", "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("flaky")).state, StepState::Retrying);
    QVERIFY(!apply(h, act(K::Retry, run, QStringLiteral("flaky"))).isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("flaky")).state, StepState::Succeeded);
}

void TestStepKinds::markSucceededProvidesTheOutput() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
        { "id": "b", "kind": "noop", "after": ["a"], "with": { "output": "{{steps.a.output.n}}" } })"));
    QVERIFY(!apply(h, act(K::MarkSucceeded, run, QStringLiteral("a"),
                          QJsonObject{{QStringLiteral("n"), 5}}))
                 .isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("b")).output.toInt(), 5);
}

void TestStepKinds::resolveHappenedAndNotHappened() {
    const QByteArray text =
        flow(R"({ "id": "pay", "kind": "fault", "idempotency": "none", "timeout": "5s",
        "with": { "fail_first": 1, "error": "timeout", "output": { "paid": true } } },
        { "id": "receipt", "kind": "noop", "after": ["pay"] })");
    {
        Harness h;
        const QString run = h.start(text);
        h.advance(5000);
        QCOMPARE(h.step(run, QStringLiteral("pay")).state, StepState::Uncertain);
        QVERIFY(!apply(h, act(K::ResolveHappened, run, QStringLiteral("pay"),
                              QJsonObject{{QStringLiteral("paid"), true}}))
                     .isEmpty());
        QCOMPARE(h.step(run, QStringLiteral("pay")).state, StepState::Succeeded);
        QCOMPARE(h.attempts(run, QStringLiteral("pay")).size(), 1); // never sent again
        QCOMPARE(h.step(run, QStringLiteral("receipt")).state, StepState::Succeeded);
    }
    {
        Harness h;
        const QString run = h.start(text);
        h.advance(5000);
        QVERIFY(!apply(h, act(K::ResolveNotHappened, run, QStringLiteral("pay"))).isEmpty());
        const auto attempts = h.attempts(run, QStringLiteral("pay"));
        QCOMPARE(attempts.size(), 2);
        QCOMPARE(attempts[1].idempotencyKey, attempts[0].idempotencyKey);
        QCOMPARE(h.step(run, QStringLiteral("pay")).state, StepState::Succeeded);
    }
}

void TestStepKinds::approvalWaitsForApproveOrReject() {
    const QByteArray text = flow(
        R"({ "id": "ok", "kind": "approval", "with": { "prompt": "Deploy {{params.version}}?" } },
        { "id": "deploy", "kind": "noop", "after": ["ok"], "with": { "output": "{{steps.ok.output.approved_by}}" } })",
        R"("params": { "version": { "default": "1.2" } },)");
    {
        Harness h;
        const QString run = h.start(text);
        QCOMPARE(h.step(run, QStringLiteral("ok")).state, StepState::WaitingForOperator);
        QCOMPARE(h.runState(run), RunState::WaitingForOperator);
        const auto events = *h.store->events(run);
        QVERIFY(std::any_of(events.begin(), events.end(), [](const EventRow &e) {
            return e.detail.value(QStringLiteral("prompt")).toString() ==
                   QLatin1String("Deploy 1.2?");
        }));
        QVERIFY(!apply(h, act(K::Approve, run, QStringLiteral("ok"))).isEmpty());
        QCOMPARE(h.step(run, QStringLiteral("deploy")).output.toString(), QStringLiteral("alice"));
        QCOMPARE(h.runState(run), RunState::Succeeded);
    }
    {
        Harness h;
        const QString run = h.start(text);
        QVERIFY(!apply(h, act(K::Reject, run, QStringLiteral("ok"))).isEmpty());
        QCOMPARE(h.step(run, QStringLiteral("ok")).state, StepState::Failed);
        QVERIFY(
            h.step(run, QStringLiteral("ok")).error.contains(QStringLiteral("rejected by alice")));
        QCOMPARE(h.step(run, QStringLiteral("deploy")).state, StepState::Blocked);
    }
}

void TestStepKinds::setInputThenRetry() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "call", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })"));
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Failed);
    OperatorAction action = act(K::SetInput, run, QStringLiteral("call"));
    action.input = QJsonObject{{QStringLiteral("output"), QStringLiteral("fixed")}};
    QVERIFY(!apply(h, action).isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("call")).output.toString(), QStringLiteral("fixed"));
}

void TestStepKinds::setInputObeysTheFlowFileRules() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "call", "kind": "shell", "retry": { "max_attempts": 1 }, "with": { "argv": ["false"] } })",
        R"("params": { "x": { "default": "hi" } },)"));
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Failed);
    const int before = static_cast<int>(h.store->events(run)->size());
    // A template in a shell's code is refused here as in a flow file, and nothing changes.
    OperatorAction code = act(K::SetInput, run, QStringLiteral("call"));
    code.input =
        QJsonObject{{QStringLiteral("argv"), QJsonArray{QStringLiteral("sh"), QStringLiteral("-c"),
                                                        QStringLiteral("echo {{params.x}}")}}};
    const auto refused = h.engine->act(code);
    QVERIFY(!refused);
    QVERIFY2(refused.error().startsWith(QStringLiteral("the new input of step call is refused: ")),
             qPrintable(refused.error()));
    QVERIFY2(refused.error().contains(QStringLiteral("with.env")), qPrintable(refused.error()));
    QCOMPARE(static_cast<int>(h.store->events(run)->size()), before);
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Failed);
    // The value passed as an environment variable is fine.
    OperatorAction env = code;
    env.input =
        QJsonObject{{QStringLiteral("argv"), QJsonArray{QStringLiteral("sh"), QStringLiteral("-c"),
                                                        QStringLiteral("test \"$X\" = hi")}},
                    {QStringLiteral("env"),
                     QJsonObject{{QStringLiteral("X"), QStringLiteral("{{params.x}}")}}}};
    QVERIFY(!apply(h, env).isEmpty());
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, QStringLiteral("call")).state, StepState::Succeeded);
}

void TestStepKinds::rerunFromRunsDownstreamWithNewKeys() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop", "after": ["a"] },
        { "id": "c", "kind": "noop", "after": ["b"] }, { "id": "other", "kind": "noop" })"));
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const QString firstKey = h.attempts(run, QStringLiteral("b")).first().idempotencyKey;
    QVERIFY(!apply(h, act(K::RerunFrom, run, QStringLiteral("b"))).isEmpty());
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(h.attempts(run, QStringLiteral("a")).size(), 1);
    QCOMPARE(h.attempts(run, QStringLiteral("other")).size(), 1);
    const auto b = h.attempts(run, QStringLiteral("b"));
    QCOMPARE(b.size(), 2);
    QVERIFY(b[1].idempotencyKey != firstKey); // the operator asked for the effect again
    QCOMPARE(h.attempts(run, QStringLiteral("c")).size(), 2);
}

void TestStepKinds::pausedStepIsHeldUntilUnpaused() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "wait", "kind": "delay", "with": { "duration": "10s" } },
        { "id": "later", "kind": "noop", "after": ["wait"] })"));
    QVERIFY(!apply(h, act(K::PauseStep, run, QStringLiteral("later"))).isEmpty());
    h.advance(10'000);
    QCOMPARE(h.step(run, QStringLiteral("wait")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("later")).state, StepState::Paused);
    QCOMPARE(h.runState(run), RunState::Paused);
    QVERIFY(!apply(h, act(K::UnpauseStep, run, QStringLiteral("later"))).isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("later")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::skipFreesAnotherBranchWhileAnApprovalWaits() {
    // An approval waits on one branch; skipping a pending step of another frees its downstream.
    // The run runs again (it used to be recorded as waiting, its lease let go, and the freed
    // step started unrecorded or never).
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "gate", "kind": "approval", "with": { "prompt": "go?" } },
        { "id": "prepare", "kind": "noop", "after": ["gate"] },
        { "id": "send", "kind": "fault", "after": ["prepare"], "with": { "latency": "1s" } })"));
    QCOMPARE(h.runState(run), RunState::WaitingForOperator);
    QVERIFY(!apply(h, act(K::Skip, run, QStringLiteral("prepare"))).isEmpty());
    QCOMPARE(h.runState(run), RunState::Running);
    QCOMPARE(h.step(run, QStringLiteral("send")).state, StepState::Running);
    QCOMPARE(h.attempts(run, QStringLiteral("send")).size(), 1); // recorded before it ran
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("send")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::WaitingForOperator); // the approval still waits
    QVERIFY(!apply(h, act(K::Approve, run, QStringLiteral("gate"))).isEmpty());
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::rerunWhileAHeldStepPausesTheRun() {
    // A held step leaves the run paused; rerunning another, independent step makes it run (it
    // used to stay paused, the step pending, until the run stalled: tst_randomized 2417048330).
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "first", "kind": "fault", "with": { "latency": "1s" } },
        { "id": "held", "kind": "noop", "after": ["first"] },
        { "id": "other", "kind": "noop" })"));
    QVERIFY(!apply(h, act(K::PauseStep, run, QStringLiteral("held"))).isEmpty());
    h.advance(1000);
    QCOMPARE(h.runState(run), RunState::Paused);
    QVERIFY(!apply(h, act(K::RerunFrom, run, QStringLiteral("other"))).isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("other")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("other")).attempts, 1);
    QCOMPARE(h.runState(run), RunState::Paused); // the held step still holds it
    QVERIFY(!apply(h, act(K::UnpauseStep, run, QStringLiteral("held"))).isEmpty());
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::heldFallbackRunsOnceReleased() {
    // The fallback is held while it waits to retry; its primary has already failed for good.
    // Released, it must run in the primary's stead (it used to stay pending for ever, the run
    // "running" with nothing to do).
    Harness h;
    const QString run = h.start(flow(R"({ "id": "primary", "kind": "fault",
          "with": { "fail_first": 1, "error": "permanent" }, "fallback": { "step": "backup" } },
        { "id": "backup", "kind": "fault", "with": { "fail_first": 1, "output": "saved" },
          "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("backup")).state, StepState::Retrying);
    QVERIFY(!apply(h, act(K::PauseStep, run, QStringLiteral("backup"))).isEmpty());
    h.advance(5000);
    QCOMPARE(h.step(run, QStringLiteral("backup")).state, StepState::Paused);
    QVERIFY(!apply(h, act(K::UnpauseStep, run, QStringLiteral("backup"))).isEmpty());
    h.advance(0);
    QCOMPARE(h.step(run, QStringLiteral("backup")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("primary")).state, StepState::SucceededViaFallback);
    QCOMPARE(h.step(run, QStringLiteral("primary")).output, QJsonValue(QStringLiteral("saved")));
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::pausedRunStartsNothing() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "wait", "kind": "delay", "with": { "duration": "10s" } },
        { "id": "later", "kind": "noop", "after": ["wait"] })"));
    QVERIFY(!apply(h, act(K::PauseRun, run)).isEmpty());
    QCOMPARE(h.runState(run), RunState::Paused);
    h.advance(20'000);
    QCOMPARE(h.step(run, QStringLiteral("wait")).state, StepState::Scheduled);
    QVERIFY(!apply(h, act(K::UnpauseRun, run)).isEmpty());
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestStepKinds::cancelStopsEverything() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "slow", "kind": "fault", "with": { "latency": "1h" } },
        { "id": "after", "kind": "noop", "after": ["slow"] })"));
    QVERIFY(!apply(h, act(K::CancelRun, run)).isEmpty());
    QCOMPARE(h.runState(run), RunState::Cancelled);
    QCOMPARE(h.step(run, QStringLiteral("slow")).state, StepState::Cancelled);
    QCOMPARE(h.step(run, QStringLiteral("after")).state, StepState::Cancelled);
    QVERIFY(h.attempts(run, QStringLiteral("slow"))
                .first()
                .error.contains(QStringLiteral("cancelled by alice")));
    h.advance(3'600'000);
    QCOMPARE(h.step(run, QStringLiteral("slow")).state,
             StepState::Cancelled); // its latency never lands
}

void TestStepKinds::retryFailedItemsOnly() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "notify", "kind": "fault", "foreach": [0, 1, 0, 1], "concurrency": 4,
        "tolerate": { "max_failed": 2 }, "with": { "fail_first": "{{item}}", "output": "sent" },
        "retry": { "max_attempts": 1 } })"));
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::PartiallySucceeded);
    QVERIFY(!apply(h, act(K::RetryFailedItems, run, QStringLiteral("notify"))).isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Succeeded);
    QHash<QString, int> attemptsByItem;
    for (const AttemptRow &attempt : h.attempts(run, QStringLiteral("notify")))
        ++attemptsByItem[attempt.itemKey];
    QCOMPARE(attemptsByItem.value(QStringLiteral("0")), 1); // succeeded items are never sent again
    QCOMPARE(attemptsByItem.value(QStringLiteral("1")), 2);
    QCOMPARE(attemptsByItem.value(QStringLiteral("2")), 1);
    QCOMPARE(attemptsByItem.value(QStringLiteral("3")), 2);
    // The retried items' second attempt is 2 of 2 (one made before the retry plus a fresh 1).
    QStringList started;
    const auto events = h.store->events(run);
    for (const EventRow &event : *events) {
        if (event.type == EventType::AttemptStarted)
            started << describeEvent(event);
    }
    const QString log = started.join(QLatin1Char('\n'));
    QVERIFY2(log.contains(QLatin1String("item 1 attempt 2/2 started")), qPrintable(log));
    const auto items = h.store->items(run);
    for (const ItemRow &item : *items)
        QVERIFY(item.attempts <= attemptBudget(item.state, item.attempts, item.failures, 1));
    QCOMPARE(h.step(run, QStringLiteral("notify"))
                 .output.toObject()
                 .value(QStringLiteral("succeeded"))
                 .toArray()
                 .size(),
             4);
}

void TestStepKinds::refusals_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("message");
    QTest::newRow("skip a succeeded step")
        << int(K::Skip) << QStringLiteral("done") << QStringLiteral("cannot be skipped");
    QTest::newRow("retry a succeeded step")
        << int(K::Retry) << QStringLiteral("done") << QStringLiteral("rerun-from");
    QTest::newRow("retry a running step")
        << int(K::Retry) << QStringLiteral("busy") << QStringLiteral("nothing to retry");
    QTest::newRow("approve a non-approval")
        << int(K::Approve) << QStringLiteral("busy") << QStringLiteral("not an approval");
    QTest::newRow("resolve a certain step")
        << int(K::ResolveHappened) << QStringLiteral("done") << QStringLiteral("not uncertain");
    QTest::newRow("failed items of a plain step")
        << int(K::RetryFailedItems) << QStringLiteral("done") << QStringLiteral("no foreach");
    QTest::newRow("hold a running step")
        << int(K::PauseStep) << QStringLiteral("busy") << QStringLiteral("can be held");
    QTest::newRow("unknown step") << int(K::Skip) << QStringLiteral("nope")
                                  << QStringLiteral("has no step \"nope\"");
}

void TestStepKinds::refusals() {
    QFETCH(int, kind);
    QFETCH(QString, step);
    QFETCH(QString, message);
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "done", "kind": "noop" }, { "id": "busy", "kind": "fault", "with": { "latency": "1h" } })"));
    const int before = eventCount(h, run);
    const auto rowsBefore = *h.store->stepRuns(run);
    const auto refused = h.engine->act(act(static_cast<K>(kind), run, step));
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(message), qPrintable(refused.error()));
    QCOMPARE(eventCount(h, run), before); // nothing recorded
    const auto rowsAfter = *h.store->stepRuns(run);
    for (int i = 0; i < rowsBefore.size(); ++i)
        QCOMPARE(rowsAfter[i].state, rowsBefore[i].state); // nothing changed
    QVERIFY(!h.engine->act(act(K::Skip, QStringLiteral("no-such-run"), QStringLiteral("done"))));
}

void TestStepKinds::actionsAreRecordedWithActorAndReason() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })"));
    QVERIFY(!apply(h, act(K::Skip, run, QStringLiteral("a"))).isEmpty());
    const auto events = *h.store->events(run);
    const auto it = std::find_if(events.begin(), events.end(), [](const EventRow &e) {
        return e.type == EventType::OperatorSkip;
    });
    QVERIFY(it != events.end());
    QCOMPARE(it->actor, QStringLiteral("alice"));
    QCOMPARE(it->stepId, QStringLiteral("a"));
    QCOMPARE(it->detail.value(QStringLiteral("reason")).toString(),
             QStringLiteral("ticket OPS-42"));
}

QTEST_GUILESS_MAIN(TestStepKinds)
#include "tst_stepkinds.moc"
