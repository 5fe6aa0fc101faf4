// Upgrading a run to a corrected version of its flow, through the engine and the operator API:
// the run finishes under the new definition with what succeeded kept, across a restart, on a run
// a live worker holds (it rebuilds its live state), and a refused upgrade changes nothing.
// Runs on SQLite and on PostgreSQL (testdatabase.h).

#include "api/operatorapi.h"
#include "api/replay.h"
#include "harness.h"

#include <QJsonArray>

namespace {

// a succeeds with an output, b fails for good (permanent), c would use a's output.
constexpr char kBroken[] = R"({ "keepflow": 1, "name": "orders", "steps": [
  { "id": "a", "kind": "noop", "with": { "output": { "n": 41 } } },
  { "id": "b", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" },
    "after": ["a"] },
  { "id": "c", "kind": "noop", "with": { "output": "{{steps.a.output.n}}" }, "after": ["b"] },
  { "id": "d", "kind": "noop", "after": ["c"] }
] })";

// b fixed; d gone; e new after b; the steps in another order (positions move).
constexpr char kFixed[] = R"({ "keepflow": 1, "name": "orders", "steps": [
  { "id": "e", "kind": "noop", "with": { "output": "new" }, "after": ["b"] },
  { "id": "b", "kind": "noop", "with": { "output": "fixed" }, "after": ["a"] },
  { "id": "a", "kind": "noop", "with": { "output": { "n": 41 } } },
  { "id": "c", "kind": "noop", "with": { "output": "{{steps.a.output.n}}" }, "after": ["b"] }
] })";

// b keeps retrying (transient) with an hour between attempts: the run stays with its worker.
constexpr char kRetrying[] = R"({ "keepflow": 1, "name": "orders", "steps": [
  { "id": "a", "kind": "noop", "with": { "output": { "n": 41 } } },
  { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"],
    "retry": { "max_attempts": 5, "initial_interval": "1h" } },
  { "id": "c", "kind": "noop", "with": { "output": "{{steps.a.output.n}}" }, "after": ["b"] },
  { "id": "d", "kind": "noop", "after": ["c"] }
] })";

Flow load(const char *text) {
    FlowLoad loaded = parseFlow(QByteArray(text), QStringLiteral("orders.flow.json"));
    if (!loaded.ok())
        qFatal("%s", qPrintable(loaded.errorText()));
    return *loaded.flow;
}

OperatorAction upgradeTo(const QString &run, qint64 version) {
    OperatorAction action;
    action.kind = OperatorAction::Kind::Upgrade;
    action.runId = run;
    action.flowVersion = version;
    action.reason = QStringLiteral("b called the old endpoint");
    action.actor = testsOnPostgres() ? QString() : QStringLiteral("tester");
    return action;
}

QList<EventRow> upgradeEvents(Harness &h, const QString &run) {
    QList<EventRow> found;
    const QList<EventRow> events = *h.store->events(run); // a copy: the Result is a temporary
    for (const EventRow &event : events) {
        if (event.type == EventType::OperatorUpgrade)
            found << event;
    }
    return found;
}

/// What the run ended with, and that its history replays to its step table.
void checkFinishedUnderTheFixedVersion(Harness &h, const QString &run, int attemptsOfA) {
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const StepRunRow a = h.step(run, QStringLiteral("a"));
    QCOMPARE(a.state, StepState::Succeeded);
    QCOMPARE(a.output.toObject().value("n").toInt(), 41);
    QCOMPARE(a.attempts, attemptsOfA); // kept: never sent again
    const StepRunRow b = h.step(run, QStringLiteral("b"));
    QCOMPARE(b.state, StepState::Succeeded);
    QCOMPARE(b.output.toString(), QStringLiteral("fixed"));
    QCOMPARE(b.generation, 2); // a new definition: new idempotency keys
    QCOMPARE(b.attempts, 1);   // counted afresh
    QCOMPARE(h.step(run, QStringLiteral("c")).output.toInt(), 41); // a's kept output
    QCOMPARE(h.step(run, QStringLiteral("e")).output.toString(), QStringLiteral("new"));
    QCOMPARE(h.step(run, QStringLiteral("e")).position, 0);
    const QList<StepRunRow> rows = *h.store->stepRuns(run);
    QStringList ids;
    for (const StepRunRow &row : rows)
        ids << row.stepId;
    ids.sort();
    QCOMPARE(ids, (QStringList{"a", "b", "c", "e"})); // d's row went with it
    // The attempts b made under the old definition stay, under their generation.
    QCOMPARE(h.attempts(run, QStringLiteral("b")).first().generation, 1);
    const QHash<QString, StepState> replayed = replayStepStates(ids, *h.store->events(run));
    for (const StepRunRow &row : rows)
        QCOMPARE(replayed.value(row.stepId), row.state);
}

} // namespace

class TestUpgrade : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void failedStepFixedByTheNewVersionSucceedsAndKeepsWhatSucceeded();
    void upgradeSurvivesARestart();
    void liveWorkerRebuildsItsRunForTheNewVersion();
    void refusedUpgradeChangesNothing();
    void sameVersionIsRefused();
};

void TestUpgrade::failedStepFixedByTheNewVersionSucceedsAndKeepsWhatSucceeded() {
    Harness h;
    const QString run = h.start(kBroken);
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, QStringLiteral("b")).state, StepState::Failed);
    QCOMPARE(h.step(run, QStringLiteral("c")).state, StepState::Blocked);
    const qint64 before = h.store->run(run)->flowId;

    auto version = h.engine->registerFlow(load(kFixed), QStringLiteral("orders.flow.json"));
    QVERIFY2(version, qPrintable(version.error()));
    auto outcome = h.engine->act(upgradeTo(run, *version));
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QVERIFY2(outcome->message.contains(QLatin1String("from orders v1 to v2")),
             qPrintable(outcome->message));
    QCOMPARE(h.store->run(run)->flowId, *version);

    const QList<EventRow> events = upgradeEvents(h, run);
    QCOMPARE(events.size(), 1);
    const QJsonObject detail = events.first().detail;
    if (!testsOnPostgres())
        QCOMPARE(events.first().actor, QStringLiteral("tester"));
    QCOMPARE(detail.value("reason").toString(), QStringLiteral("b called the old endpoint"));
    QCOMPARE(detail.value("from_version").toInt(), 1);
    QCOMPARE(detail.value("to_version").toInt(), 2);
    QCOMPARE(detail.value("from_flow_id").toInteger(), before);
    QCOMPARE(detail.value("keep").toArray(), (QJsonArray{"a", "c"}));
    QCOMPARE(detail.value("replace").toArray(), QJsonArray{"b"});
    QCOMPARE(detail.value("add").toArray(), QJsonArray{"e"});
    QCOMPARE(detail.value("remove").toArray(), QJsonArray{"d"});
    QVERIFY(isOperatorEvent(EventType::OperatorUpgrade));
    QVERIFY(!isOperatorEvent(EventType::AlertFired));

    QVERIFY(h.advanceAndSettle(0));
    h.pump();
    checkFinishedUnderTheFixedVersion(h, run, 1);
}

void TestUpgrade::upgradeSurvivesARestart() {
    Harness h;
    const QString run = h.start(kBroken);
    QVERIFY(h.settle());
    auto version = h.engine->registerFlow(load(kFixed), QStringLiteral("orders.flow.json"));
    QVERIFY2(version, qPrintable(version.error()));
    QVERIFY(h.engine->act(upgradeTo(run, *version)));
    // The process dies before anything of the new version ran; the next one loads the run from
    // its rows, for the new version.
    QCOMPARE(h.step(run, QStringLiteral("b")).state, StepState::Pending);
    h.crashAndAdopt(run);
    QVERIFY(h.settle());
    h.pump();
    checkFinishedUnderTheFixedVersion(h, run, 1);
}

void TestUpgrade::liveWorkerRebuildsItsRunForTheNewVersion() {
    Harness holder;
    const QString run = holder.start(kRetrying);
    QVERIFY(holder.settle());
    QCOMPARE(holder.step(run, QStringLiteral("b")).state, StepState::Retrying);
    QCOMPARE(holder.store->run(run)->owner, QStringLiteral("test-worker-1"));

    OperatorApi::Options options;
    options.clock = &holder.clock;
    options.ownerIsDead = [](const QString &) { return false; };
    auto api = OperatorApi::open(holder.dbPath(), options);
    QVERIFY2(api, qPrintable(api.error()));
    const QString actor = testsOnPostgres() ? QString() : QStringLiteral("tester");

    // The dry plan, then the real thing: left for the worker that holds the run.
    auto planned = (*api)->planUpgrade(run, load(kFixed));
    QVERIFY2(planned, qPrintable(planned.error()));
    QCOMPARE(planned->plan.replace, QStringList{"b"});
    QVERIFY(!planned->plan.refused());
    auto outcome = (*api)->upgrade(run, load(kFixed), QStringLiteral("orders.flow.json"),
                                   QStringLiteral("b called the old endpoint"), actor,
                                   OperatorApi::HandOver::Leave);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QVERIFY(outcome->applied);
    QVERIFY(outcome->action.requestId != 0);
    QCOMPARE(outcome->toVersion, 2);
    QCOMPARE(holder.step(run, QStringLiteral("b")).state, StepState::Retrying); // not yet

    QVERIFY(holder.engine->answerRequests());
    QCOMPARE((*api)->request(outcome->action.requestId)->state, QStringLiteral("done"));
    // b's old retry timer (an hour away) no longer counts: the new b runs now.
    QVERIFY(holder.advanceAndSettle(0));
    holder.pump();
    QVERIFY(holder.settle());
    checkFinishedUnderTheFixedVersion(holder, run, 1);
    QCOMPARE(holder.attempts(run, QStringLiteral("b")).size(), 2); // one old, one new
}

void TestUpgrade::refusedUpgradeChangesNothing() {
    Harness h;
    const QString run = h.start(kBroken);
    QVERIFY(h.settle());
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto api = OperatorApi::open(h.dbPath(), options);
    QVERIFY2(api, qPrintable(api.error()));
    const RunRow before = *h.store->run(run);
    const qsizetype events = h.store->events(run)->size();

    // a succeeded; a version without it would lose what it did.
    constexpr char kWithoutA[] = R"({ "keepflow": 1, "name": "orders", "steps": [
      { "id": "b", "kind": "noop" }, { "id": "c", "kind": "noop", "after": ["b"] } ] })";
    auto outcome = (*api)->upgrade(run, load(kWithoutA), {}, QStringLiteral("try"), {},
                                   OperatorApi::HandOver::Wait);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QVERIFY(!outcome->applied);
    QCOMPARE(outcome->plan.refusals.size(), 1);
    QCOMPARE(outcome->plan.refusals.first().step, QStringLiteral("a"));
    QCOMPARE(h.store->run(run)->flowId, before.flowId);
    QCOMPARE(h.store->run(run)->state, before.state);
    QCOMPARE(h.store->events(run)->size(), events);

    // The engine refuses on its own too (a request or a caller that skipped the plan).
    auto version = h.engine->registerFlow(load(kWithoutA), {});
    QVERIFY(version);
    auto acted = h.engine->act(upgradeTo(run, *version));
    QVERIFY(!acted);
    QVERIFY2(acted.error().contains(QLatin1String("step a: it succeeded and the new version "
                                                  "removes it")),
             qPrintable(acted.error()));
    QCOMPARE(h.store->run(run)->flowId, before.flowId);
    QCOMPARE(h.store->events(run)->size(), events);
}

void TestUpgrade::sameVersionIsRefused() {
    Harness h;
    const QString run = h.start(kBroken);
    QVERIFY(h.settle());
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto api = OperatorApi::open(h.dbPath(), options);
    QVERIFY2(api, qPrintable(api.error()));
    auto planned = (*api)->planUpgrade(run, load(kBroken));
    QVERIFY2(planned, qPrintable(planned.error()));
    QCOMPARE(planned->plan.refusals.size(), 1);
    QVERIFY(planned->plan.refusals.first().reason.contains(QLatin1String("already follows")));
}

QTEST_GUILESS_MAIN(TestUpgrade)
#include "tst_upgrade.moc"
