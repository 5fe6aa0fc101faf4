// Live policy changes on a run under way: a step's retry policy, timeout and deadline
// (set-policy), a resource's concurrency and rate; their preview in words, their checks, their
// events, and that they hold across a restart. Time is a ManualClock only the tests move.

#include "api/operatorapi.h"
#include "api/replay.h"
#include "harness.h"
#include "operator/policychange.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace keepflow;
using K = OperatorAction::Kind;

Q_DECLARE_METATYPE(keepflow::StepPolicy)

namespace {

OperatorAction setPolicy(const QString &run, const QString &step, const QJsonObject &policy) {
    OperatorAction a;
    a.kind = K::SetPolicy;
    a.runId = run;
    a.stepId = step;
    a.policy = policy;
    a.actor = testsOnPostgres() ? QString() : QStringLiteral("tester");
    a.reason = QStringLiteral("the partner asked for slower retries");
    return a;
}

std::unique_ptr<OperatorApi> apiOn(Harness &h) {
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto opened = OperatorApi::open(h.dbPath(), options);
    if (!opened)
        qWarning().noquote() << opened.error();
    return opened ? std::move(*opened) : nullptr;
}

QList<EventRow> eventsOf(Harness &h, const QString &run, EventType type) {
    QList<EventRow> found;
    const QList<EventRow> all = *h.store->events(run);
    for (const EventRow &event : all) {
        if (event.type == type)
            found << event;
    }
    return found;
}

StepPolicy policy(int maxAttempts, qint64 initialMs, double backoff = 2.0) {
    StepPolicy p;
    p.retry.maxAttempts = maxAttempts;
    p.retry.initialIntervalMs = initialMs;
    p.retry.backoff = backoff;
    p.retry.jitter = 0;
    return p;
}

QStringList statesOf(Harness &h, const QString &run, int count) {
    QStringList states;
    for (int i = 0; i < count; ++i)
        states << stateName(h.step(run, QStringLiteral("s%1").arg(i)).state);
    return states;
}

} // namespace

class TestLivePolicy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void previewText_data();
    void previewText();
    void invalidPolicyNamesTheField_data();
    void invalidPolicyNamesTheField();
    void invalidResourceLimitsNameTheField_data();
    void invalidResourceLimitsNameTheField();
    void liveChangeHoldsAcrossRestart();
    void waitingRetryIsRetimed();
    void attemptInFlightKeepsItsTimeout();
    void eventCarriesBeforeAfterActorAndReason();
    void liveWorkerAppliesTheRequest();
    void refusedOnFinishedRun();
    void resourceConcurrencyRaisedAndLoweredLive();
    void resourceRateSetLiveAndKeptAfterRestart();
};

void TestLivePolicy::previewText_data() {
    QTest::addColumn<StepPolicy>("before");
    QTest::addColumn<StepPolicy>("after");
    QTest::addColumn<int>("state");
    QTest::addColumn<int>("attempts");
    QTest::addColumn<int>("failures");
    QTest::addColumn<qint64>("waitMs"); ///< a retrying step's next attempt, from now
    QTest::addColumn<QString>("text");
    const auto retrying = static_cast<int>(StepState::Retrying);
    // Two failures with initial 40s and backoff 2: the wait is 80s, started right now.
    QTest::newRow("more attempts while retrying")
        << policy(3, 40'000) << policy(5, 40'000) << retrying << 2 << 2 << qint64(80'000)
        << "max_attempts 5 instead of 3 — attempt 3/5 instead of 3/3";
    QTest::newRow("shorter intervals while retrying")
        << policy(3, 40'000) << policy(3, 10'000) << retrying << 2 << 2 << qint64(80'000)
        << "initial_interval 10s instead of 40s — next attempt in 20 s instead of 1 min 20 s";
    QTest::newRow("both")
        << policy(3, 40'000) << policy(5, 10'000) << retrying << 2 << 2 << qint64(80'000)
        << "max_attempts 5 instead of 3; initial_interval 10s instead of 40s — attempt 3/5 "
           "instead of 3/3; next attempt in 20 s instead of 1 min 20 s";
    // The new wait after the failure has passed already: the attempt is due at once.
    QTest::newRow("new wait already over")
        << policy(3, 40'000) << policy(3, 10'000) << retrying << 1 << 1 << qint64(15'000)
        << "initial_interval 10s instead of 40s — next attempt now instead of in 15 s";
    QTest::newRow("backoff halves the wait")
        << policy(3, 40'000) << policy(3, 40'000, 1.0) << retrying << 2 << 2 << qint64(80'000)
        << "backoff 1 instead of 2 — next attempt in 40 s instead of 1 min 20 s";
    QTest::newRow("fewer attempts than were made")
        << policy(5, 1000) << policy(2, 1000) << retrying << 3 << 3 << qint64(4000)
        << "max_attempts 2 instead of 5 — attempt 4/4 instead of 4/5; attempt 4 is the last one";
    StepPolicy longer = policy(3, 1000);
    longer.timeoutMs = 120'000;
    StepPolicy shorter = policy(3, 1000);
    shorter.timeoutMs = 30'000;
    QTest::newRow("timeout while an attempt runs")
        << shorter << longer << static_cast<int>(StepState::Running) << 2 << 1 << qint64(0)
        << "timeout 2m instead of 30s — attempt 2 in flight keeps the limits it started with; "
           "the new ones apply from attempt 3 on";
    StepPolicy withDeadline = policy(3, 1000);
    withDeadline.deadlineMs = 3'600'000;
    QTest::newRow("deadline on a pending step")
        << policy(3, 1000) << withDeadline << static_cast<int>(StepState::Pending) << 0 << 0
        << qint64(0) << "deadline 1h instead of none";
    QTest::newRow("failed step")
        << policy(3, 1000) << policy(5, 1000) << static_cast<int>(StepState::Failed) << 3 << 3
        << qint64(0)
        << "max_attempts 5 instead of 3 — step is failed: the new policy applies when it runs "
           "again";
    QTest::newRow("nothing") << policy(3, 1000) << policy(3, 1000) << retrying << 1 << 1
                             << qint64(1000) << "nothing changes";
}

void TestLivePolicy::previewText() {
    QFETCH(StepPolicy, before);
    QFETCH(StepPolicy, after);
    QFETCH(int, state);
    QFETCH(int, attempts);
    QFETCH(int, failures);
    QFETCH(qint64, waitMs);
    QFETCH(QString, text);
    const qint64 now = 1'000'000;
    StepProgress progress{static_cast<StepState>(state), attempts, failures,
                          waitMs > 0 ? now + waitMs : 0, QStringLiteral("r/s/1")};
    QCOMPARE(previewPolicyChange(before, after, progress, now).text(), text);
}

void TestLivePolicy::invalidPolicyNamesTheField_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error");
    QTest::newRow("zero attempts")
        << QByteArray(R"({"max_attempts": 0})") << "max_attempts must be from 1 to 10000 (got 0)";
    QTest::newRow("negative attempts")
        << QByteArray(R"({"max_attempts": -2})") << "max_attempts must be from 1 to 10000 (got -2)";
    QTest::newRow("negative interval") << QByteArray(R"({"initial_interval": "-5s"})")
                                       << "initial_interval must not be negative (got -5s)";
    QTest::newRow("backoff below one")
        << QByteArray(R"({"backoff": 0.5})") << "backoff must be from 1 to 100 (got 0.5)";
    QTest::newRow("max below initial")
        << QByteArray(R"({"initial_interval": "20s", "max_interval": "10s"})")
        << "max_interval (10s) is shorter than initial_interval (20s)";
    QTest::newRow("max below the flow's initial")
        << QByteArray(R"({"max_interval": "500ms"})")
        << "max_interval (500ms) is shorter than initial_interval (1s)";
    QTest::newRow("timeout garbage")
        << QByteArray(R"({"timeout": "soon"})") << "timeout: \"soon\" is not a duration";
    QTest::newRow("zero deadline")
        << QByteArray(R"({"deadline": "0s"})") << "deadline must be longer than 0";
    QTest::newRow("unknown key") << QByteArray(R"({"colour": "red"})")
                                 << "unknown policy key \"colour\"";
}

void TestLivePolicy::invalidPolicyNamesTheField() {
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9 },
        "retry": { "max_attempts": 5, "initial_interval": "1s" } })"));
    const QJsonObject change = QJsonDocument::fromJson(json).object();
    auto api = apiOn(h);
    QVERIFY(api);
    const auto preview = api->previewPolicy(run, QStringLiteral("a"), change);
    QVERIFY(!preview);
    QVERIFY2(preview.error().contains(error), qPrintable(preview.error()));
    QVERIFY2(preview.error().startsWith(QStringLiteral("policy of step a: ")),
             qPrintable(preview.error()));
    // The action itself refuses it the same way and changes nothing.
    const auto acted = h.engine->act(setPolicy(run, QStringLiteral("a"), change));
    QVERIFY(!acted);
    QCOMPARE(acted.error(), preview.error());
    QVERIFY(h.step(run, QStringLiteral("a")).policyOverride.isUndefined());
    QVERIFY(eventsOf(h, run, EventType::OperatorSetPolicy).isEmpty());
}

void TestLivePolicy::invalidResourceLimitsNameTheField_data() {
    QTest::addColumn<int>("concurrency"); ///< -1000: not given
    QTest::addColumn<QString>("rate");
    QTest::addColumn<QString>("error");
    QTest::newRow("zero concurrency") << 0 << QString() << "concurrency must be from 1";
    QTest::newRow("negative concurrency") << -3 << QString() << "concurrency must be from 1";
    QTest::newRow("rate without period")
        << -1000 << QStringLiteral("10") << "rate must be N/DURATION, e.g. 10/1s";
    QTest::newRow("rate words") << -1000 << QStringLiteral("ten/1s")
                                << "rate must be N/DURATION, e.g. 10/1s";
    QTest::newRow("rate bad period")
        << -1000 << QStringLiteral("10/fortnight") << "rate must be N/DURATION";
    QTest::newRow("rate zero calls")
        << -1000 << QStringLiteral("0/1s") << "rate: the number of calls must be from 1";
    QTest::newRow("nothing") << -1000 << QString() << "give --concurrency N or --rate";
}

void TestLivePolicy::invalidResourceLimitsNameTheField() {
    QFETCH(int, concurrency);
    QFETCH(QString, rate);
    QFETCH(QString, error);
    Harness h;
    h.start(flow(R"({ "id": "a", "kind": "noop", "resource": "dep" })",
                 R"("resources": { "dep": { "concurrency": 2 } },)"));
    auto api = apiOn(h);
    QVERIFY(api);
    const std::optional<int> given =
        concurrency == -1000 ? std::nullopt : std::optional<int>(concurrency);
    const auto changed = api->setResourceLimits(QStringLiteral("dep"), given, rate, {});
    QVERIFY(!changed);
    QVERIFY2(changed.error().contains(error), qPrintable(changed.error()));
    const auto rows = *h.store->resources();
    QVERIFY(!rows.first().concurrencyOverride);
    QVERIFY(rows.first().rateOverride.isEmpty());
    QVERIFY(!api->setResourceLimits(QStringLiteral("nope"), 3, {}, {}));
}

void TestLivePolicy::liveChangeHoldsAcrossRestart() {
    Harness h;
    // Four failures: with its flow's three attempts it fails for good.
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 4 },
        "retry": { "max_attempts": 3, "initial_interval": "1s", "backoff": 1, "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Retrying);
    const auto acted = h.engine->act(setPolicy(run, QStringLiteral("a"), {{"max_attempts", 5}}));
    QVERIFY2(acted, qPrintable(acted.error()));
    QCOMPARE(acted->message,
             QStringLiteral("step a: max_attempts 5 instead of 3 — attempt 2/5 instead of 2/3"));
    QCOMPARE(h.step(run, QStringLiteral("a")).policyOverride.toObject().value("max_attempts"),
             QJsonValue(5));
    // The worker dies; a new one takes the run up and reads the change from the database.
    h.crashAndAdopt(run);
    for (int i = 0; i < 5; ++i)
        h.advance(1000);
    const StepRunRow a = h.step(run, QStringLiteral("a"));
    QCOMPARE(a.state, StepState::Succeeded);
    QCOMPARE(a.attempts, 5);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const auto started = eventsOf(h, run, EventType::AttemptStarted);
    QCOMPARE(started.last().detail.value("max_attempts").toInt(), 5);
    QCOMPARE(started.last().detail.value("attempt_budget").toInt(), 5);
    auto api = apiOn(h);
    QCOMPARE(api->status(run)->maxAttempts.value(QStringLiteral("a")), 5);
}

void TestLivePolicy::waitingRetryIsRetimed() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 2 },
        "retry": { "max_attempts": 5, "initial_interval": "40s", "backoff": 2, "jitter": 0 } })"));
    h.advance(40'000); // attempt 2 fails: the next waits 80 s
    const qint64 failedAt = h.clock.nowMs();
    QCOMPARE(h.step(run, QStringLiteral("a")).notBefore, failedAt + 80'000);
    h.clock.advance(5000);
    auto api = apiOn(h);
    const auto preview =
        api->previewPolicy(run, QStringLiteral("a"), {{"initial_interval", "10s"}});
    QVERIFY2(preview, qPrintable(preview.error()));
    QCOMPARE(preview->text(),
             QStringLiteral("initial_interval 10s instead of 40s — next attempt in 15 s instead "
                            "of 1 min 15 s"));
    QCOMPARE(preview->nextAttemptAt, failedAt + 20'000);
    const auto acted =
        h.engine->act(setPolicy(run, QStringLiteral("a"), {{"initial_interval", "10s"}}));
    QVERIFY2(acted, qPrintable(acted.error()));
    QCOMPARE(acted->message, QStringLiteral("step a: ") + preview->text());
    QCOMPARE(h.step(run, QStringLiteral("a")).notBefore, failedAt + 20'000);
    h.advance(14'999);
    QCOMPARE(h.step(run, QStringLiteral("a")).attempts, 2);
    h.advance(1);
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("a")).attempts, 3);
}

void TestLivePolicy::attemptInFlightKeepsItsTimeout() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault",
        "with": { "latency": "1m" }, "timeout": "5s",
        "retry": { "max_attempts": 3, "initial_interval": "1s", "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Running);
    const auto acted = h.engine->act(setPolicy(run, QStringLiteral("a"), {{"timeout", "20s"}}));
    QVERIFY2(acted, qPrintable(acted.error()));
    QVERIFY2(acted->message.contains(QStringLiteral("attempt 1 in flight keeps the limits")),
             qPrintable(acted->message));
    h.advance(5000); // attempt 1 still times out after 5 s
    auto attempts = h.attempts(run, QStringLiteral("a"));
    QCOMPARE(attempts.size(), 1);
    QCOMPARE(attempts[0].errorClass, ErrorClass::Timeout);
    h.advance(1000); // attempt 2 starts with 20 s
    QCOMPARE(h.step(run, QStringLiteral("a")).attempts, 2);
    h.advance(19'999);
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Running);
    h.advance(1);
    attempts = h.attempts(run, QStringLiteral("a"));
    QCOMPARE(attempts[1].errorClass, ErrorClass::Timeout);
    QVERIFY2(attempts[1].error.contains(QStringLiteral("20s")), qPrintable(attempts[1].error));
}

void TestLivePolicy::eventCarriesBeforeAfterActorAndReason() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 1 },
        "retry": { "max_attempts": 3, "initial_interval": "1m", "jitter": 0 } })"));
    const auto acted = h.engine->act(setPolicy(
        run, QStringLiteral("a"), {{"max_attempts", 6}, {"deadline", "2h"}, {"backoff", 1.5}}));
    QVERIFY2(acted, qPrintable(acted.error()));
    const auto events = eventsOf(h, run, EventType::OperatorSetPolicy);
    QCOMPARE(events.size(), 1);
    const EventRow &event = events.first();
    QCOMPARE(eventTypeName(event.type), QStringLiteral("operator_set_policy"));
    QVERIFY(isOperatorEvent(event.type));
    QVERIFY(!isOperatorEvent(EventType::AlertFired));
    QCOMPARE(event.stepId, QStringLiteral("a"));
    QCOMPARE(event.actor, testsOnPostgres() ? h.store->databaseRole() : QStringLiteral("tester"));
    QCOMPARE(event.detail.value("reason").toString(),
             QStringLiteral("the partner asked for slower retries"));
    QCOMPARE(event.detail.value("action").toString(), QStringLiteral("set-policy"));
    const QJsonObject before = event.detail.value("before").toObject();
    const QJsonObject after = event.detail.value("after").toObject();
    QCOMPARE(before.value("max_attempts").toInt(), 3);
    QCOMPARE(after.value("max_attempts").toInt(), 6);
    QCOMPARE(before.value("deadline"), QJsonValue(QJsonValue::Null));
    QCOMPARE(after.value("deadline").toString(), QStringLiteral("2h"));
    QCOMPARE(before.value("backoff").toDouble(), 2.0);
    QCOMPARE(after.value("backoff").toDouble(), 1.5);
    QCOMPARE(after.value("initial_interval").toString(), QStringLiteral("1m"));
    // A second change keeps the first one's keys; the history still replays to the states.
    QVERIFY(h.engine->act(setPolicy(run, QStringLiteral("a"), {{"initial_interval", "30s"}})));
    const QJsonObject stored = h.step(run, QStringLiteral("a")).policyOverride.toObject();
    QCOMPARE(stored.value("max_attempts").toInt(), 6);
    QCOMPARE(stored.value("initial_interval").toString(), QStringLiteral("30s"));
    const auto states = replayStepStates({QStringLiteral("a")}, *h.store->events(run));
    QCOMPARE(states.value(QStringLiteral("a")), h.step(run, QStringLiteral("a")).state);
}

void TestLivePolicy::liveWorkerAppliesTheRequest() {
    Harness holder;
    const QString run = holder.start(flow(R"({ "id": "a", "kind": "fault",
        "with": { "fail_first": 9 }, "retry": { "max_attempts": 3, "initial_interval": "1m" } })"));
    OperatorApi::Options options;
    options.clock = &holder.clock;
    options.ownerIsDead = [](const QString &) { return false; };
    auto opened = OperatorApi::open(holder.dbPath(), options);
    QVERIFY2(opened, qPrintable(opened.error()));
    auto &api = *opened;
    const auto left = api->act(setPolicy(run, QStringLiteral("a"), {{"max_attempts", 7}}),
                               OperatorApi::HandOver::Leave);
    QVERIFY2(left, qPrintable(left.error()));
    QVERIFY(left->requestId != 0); // the worker holding the run applies it
    QVERIFY(holder.engine->answerRequests());
    const auto answer = api->request(left->requestId);
    QCOMPARE(answer->state, QStringLiteral("done"));
    QVERIFY2(answer->result.contains(QStringLiteral("attempt 2/7 instead of 2/3")),
             qPrintable(answer->result));
    QCOMPARE(holder.step(run, QStringLiteral("a")).policyOverride.toObject().value("max_attempts"),
             QJsonValue(7));
}

void TestLivePolicy::refusedOnFinishedRun() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "noop" })"));
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const auto acted = h.engine->act(setPolicy(run, QStringLiteral("a"), {{"max_attempts", 2}}));
    QVERIFY(!acted);
    QVERIFY2(acted.error().contains(QStringLiteral("applies to a run under way")),
             qPrintable(acted.error()));
}

void TestLivePolicy::resourceConcurrencyRaisedAndLoweredLive() {
    Harness h;
    QByteArray steps;
    for (int i = 0; i < 5; ++i)
        steps += (i ? "," : "") + QByteArray(R"({ "id": "s)") + QByteArray::number(i) +
                 R"(", "kind": "fault", "resource": "dep", "with": { "latency": "1m" } })";
    const QString run = h.start(flow(steps, R"("resources": { "dep": { "concurrency": 1 } },)"));
    QCOMPARE(statesOf(h, run, 5).count(QStringLiteral("running")), 1);
    auto api = apiOn(h);
    api->setExecutor(h.engine.get());
    auto changed = api->setResourceLimits(QStringLiteral("dep"), 3, {},
                                          QStringLiteral("partner raised our quota"));
    QVERIFY2(changed, qPrintable(changed.error()));
    QCOMPARE(*changed, QStringLiteral("dep: concurrency 3 instead of 1"));
    h.pump();
    QCOMPARE(statesOf(h, run, 5), (QStringList{QStringLiteral("running"), QStringLiteral("running"),
                                               QStringLiteral("running"), QStringLiteral("queued"),
                                               QStringLiteral("queued")}));
    // Lowered: the calls in flight go on, no new one starts until fewer than 1 are in flight.
    changed = api->setResourceLimits(QStringLiteral("dep"), 1, {}, {});
    QVERIFY2(changed, qPrintable(changed.error()));
    h.pump();
    QCOMPARE(statesOf(h, run, 5).count(QStringLiteral("running")), 3);
    h.advance(60'000); // s0 finishes first; s1 and s2 too
    QCOMPARE(statesOf(h, run, 5),
             (QStringList{QStringLiteral("succeeded"), QStringLiteral("succeeded"),
                          QStringLiteral("succeeded"), QStringLiteral("running"),
                          QStringLiteral("queued")}));
    // The events: resource events without a run, with before, after, actor and reason.
    // On PostgreSQL the feed shows them once every older transaction of the server ended
    // (another test's may still be open).
    QList<EventRow> limitEvents;
    eventually([&] {
        limitEvents.clear();
        const auto page = h.store->eventsAfter(FeedPosition{}, 1000);
        for (const EventRow &event : page ? page->events : QList<EventRow>{}) {
            if (event.type == EventType::ResourceLimitsChanged)
                limitEvents << event;
        }
        return limitEvents.size() >= 2;
    });
    QCOMPARE(limitEvents.size(), 2);
    const EventRow &first = limitEvents.first();
    QVERIFY(isResourceEvent(first.type));
    QCOMPARE(first.detail.value("resource").toString(), QStringLiteral("dep"));
    QCOMPARE(first.detail.value("before").toObject().value("concurrency").toString(),
             QStringLiteral("1"));
    QCOMPARE(first.detail.value("after").toObject().value("concurrency").toString(),
             QStringLiteral("3"));
    QCOMPARE(first.detail.value("reason").toString(), QStringLiteral("partner raised our quota"));
    QVERIFY(!first.actor.isEmpty());
}

void TestLivePolicy::resourceRateSetLiveAndKeptAfterRestart() {
    Harness h;
    QByteArray steps;
    for (int i = 0; i < 4; ++i)
        steps += (i ? "," : "") + QByteArray(R"({ "id": "s)") + QByteArray::number(i) +
                 R"(", "kind": "fault", "resource": "dep", "with": {} })";
    const QString run = h.start(
        flow(steps, R"("resources": { "dep": { "rate": { "limit": 1, "per": "10s" } } },)"));
    QCOMPARE(statesOf(h, run, 4).count(QStringLiteral("succeeded")), 1);
    auto api = apiOn(h);
    // Another process sets it: the worker takes it in from the database (after a restart too).
    auto changed =
        api->setResourceLimits(QStringLiteral("dep"), std::nullopt, QStringLiteral("2/s"), {});
    QVERIFY2(changed, qPrintable(changed.error()));
    QCOMPARE(*changed, QStringLiteral("dep: rate 2/1s instead of 1/10s"));
    api.reset();
    h.crashAndAdopt(run);
    h.advance(500);
    h.advance(500);
    h.advance(500);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QVERIFY(h.step(run, QStringLiteral("s3")).endedAt -
                h.step(run, QStringLiteral("s1")).startedAt <
            10'000);
}

QTEST_GUILESS_MAIN(TestLivePolicy)
#include "tst_livepolicy.moc"
