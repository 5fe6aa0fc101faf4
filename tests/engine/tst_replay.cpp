// The run as it was after any one of its events (api/replay.h): at points along a retry, a
// fallback, a foreach and an operator's retry, the replay gives exactly what the tables held at
// that moment. Runs on SQLite and, as tst_replay_postgresql, on PostgreSQL.

#include "api/replay.h"
#include "harness.h"

#include <QTest>

#include <functional>

using namespace keepflow;

namespace {

/// What the tables held when an event was the run's last: its id, and the rows.
struct Snapshot {
    qint64 lastEventId = 0;
    RunRow run;
    QList<StepRunRow> steps;
    QList<ItemRow> items;
};

using Script = std::function<void(Harness &, const QString &run, const std::function<void()> &)>;

QString optionalClass(const std::optional<ErrorClass> &errorClass) {
    return errorClass ? errorClassName(*errorClass) : QStringLiteral("none");
}

/// An operator's action of kind on step "a" of run.
OperatorAction onStepA(OperatorAction::Kind kind, const QString &run) {
    OperatorAction action;
    action.kind = kind;
    action.runId = run;
    action.stepId = QStringLiteral("a");
    action.actor = QStringLiteral("operator");
    return action;
}

/// An operator's change as stored: the value, or null when there was none (a row read back
/// has null where a fresh one has undefined).
QJsonValue changedOrNot(const QJsonValue &value) {
    return value.isUndefined() ? QJsonValue() : value;
}

} // namespace

Q_DECLARE_METATYPE(Script)

class TestReplay : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void replayMatchesTheTablesAtEachPoint_data();
    void replayMatchesTheTablesAtEachPoint();
    void movingBackAndForthGivesTheSame();
    void timesAndIdsFindTheirEvent();

private:
    void compareAtEachPoint(const QList<Snapshot> &snapshots, const QList<EventRow> &events);
};

void TestReplay::replayMatchesTheTablesAtEachPoint_data() {
    QTest::addColumn<QByteArray>("flowText");
    QTest::addColumn<Script>("script");

    QTest::newRow("retry sequence")
        << flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 2 },
            "retry": { "max_attempts": 4, "initial_interval": "1s", "jitter": 0 } },
            { "id": "b", "kind": "noop", "after": ["a"] })")
        << Script([](Harness &h, const QString &, const std::function<void()> &snap) {
               h.advance(1000);
               snap();
               h.advance(2000);
               snap();
           });
    QTest::newRow("fallback step")
        << flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" },
            "fallback": { "step": "spare" } },
            { "id": "spare", "kind": "fault", "with": { "fail_first": 1 },
              "retry": { "initial_interval": "1s", "jitter": 0 } },
            { "id": "c", "kind": "noop", "after": ["a"] })")
        << Script([](Harness &h, const QString &, const std::function<void()> &snap) {
               h.advance(1000);
               snap();
           });
    QTest::newRow("foreach")
        << flow(R"({ "id": "each", "kind": "fault", "foreach": [0, 1, 2, 9], "concurrency": 2,
            "with": { "fail_first": "{{item}}", "error": "transient" },
            "retry": { "max_attempts": 3, "initial_interval": "1s", "jitter": 0 },
            "tolerate": { "max_failed": 1 } },
            { "id": "after", "kind": "noop", "after": ["each"] })")
        << Script([](Harness &h, const QString &, const std::function<void()> &snap) {
               for (int i = 0; i < 5; ++i) {
                   h.advance(1000);
                   snap();
               }
           });
    QTest::newRow("rerun from a step whose fallback failed")
        << flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" },
            "fallback": { "step": "spare" } },
            { "id": "spare", "kind": "fault", "with": { "fail_first": 9 },
              "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } })")
        << Script([](Harness &h, const QString &run, const std::function<void()> &snap) {
               h.advance(1000);
               snap(); // both failed: the spare with its budget spent
               OperatorAction rerun = onStepA(OperatorAction::Kind::RerunFrom, run);
               QVERIFY(h.engine->act(rerun));
               snap(); // the spare stands by again with its whole budget
               const auto steps = *h.store->stepRuns(run);
               QCOMPARE(steps[1].state, StepState::Pending);
               QCOMPARE(steps[1].attempts, 0);
               QCOMPARE(steps[1].failures, 0);
               h.pump();
               snap();
               h.advance(1000);
               snap();
           });
    QTest::newRow("policy and input changed live")
        << flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 3 },
            "retry": { "max_attempts": 2, "initial_interval": "10s", "jitter": 0 } })")
        << Script([](Harness &h, const QString &run, const std::function<void()> &snap) {
               snap(); // attempt 1 failed, the retry waits 10 s
               OperatorAction change = onStepA(OperatorAction::Kind::SetPolicy, run);
               change.policy =
                   QJsonObject{{QStringLiteral("max_attempts"), 5},
                               {QStringLiteral("initial_interval"), QStringLiteral("1s")}};
               QVERIFY(h.engine->act(change));
               snap(); // attempt 1 of 5, the retry due sooner
               change.policy = QJsonObject{{QStringLiteral("backoff"), 3}};
               QVERIFY(h.engine->act(change));
               snap(); // both changes in the override
               OperatorAction edit = onStepA(OperatorAction::Kind::SetInput, run);
               edit.input = QJsonObject{{QStringLiteral("fail_first"), 2}};
               QVERIFY(h.engine->act(edit));
               snap(); // the edited input, for the next attempt
               h.advance(1000);
               snap();
           });
    QTest::newRow("operator retry")
        << flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 2 },
            "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } },
            { "id": "b", "kind": "noop", "after": ["a"] })")
        << Script([](Harness &h, const QString &run, const std::function<void()> &snap) {
               h.advance(1000);
               snap(); // failed for good, b blocked
               OperatorAction retry = onStepA(OperatorAction::Kind::Retry, run);
               QVERIFY(h.engine->act(retry));
               snap();
               h.pump();
               snap();
           });
}

void TestReplay::replayMatchesTheTablesAtEachPoint() {
    QFETCH(QByteArray, flowText);
    QFETCH(Script, script);
    Harness h;
    const QString run = h.start(flowText);
    QVERIFY(!run.isEmpty());
    QList<Snapshot> snapshots;
    const auto snap = [&] {
        Snapshot s;
        s.lastEventId = h.store->events(run)->last().id;
        s.run = *h.store->run(run);
        s.steps = *h.store->stepRuns(run);
        s.items = *h.store->items(run);
        snapshots.append(s);
    };
    snap();
    script(h, run, snap);
    QVERIFY(!QTest::currentTestFailed());
    snap();
    QVERIFY(snapshots.size() >= 3);

    const auto stored = *h.store->events(run);
    // A history written before attempt ends carried the step's failures gives the same: the
    // replay counts them by the engine's rule (operator events list theirs in both).
    QList<EventRow> older = stored;
    for (EventRow &event : older) {
        if (!isOperatorEvent(event.type))
            event.detail.remove(QStringLiteral("failures"));
    }
    for (const QList<EventRow> &events : {stored, older})
        compareAtEachPoint(snapshots, events);
}

void TestReplay::compareAtEachPoint(const QList<Snapshot> &snapshots,
                                    const QList<EventRow> &events) {
    const Snapshot &last = snapshots.last();
    RunReplay replay(last.run, last.steps, last.items, events, 2);
    // Latest first, so that every point but the first is reached by moving back.
    for (auto it = snapshots.crbegin(); it != snapshots.crend(); ++it) {
        const Snapshot &expected = *it;
        const qsizetype index = replay.indexOfEvent(expected.lastEventId);
        QVERIFY(index >= 0);
        replay.seek(index);
        const ReplayedRun &past = replay.state();
        const QString at = QStringLiteral("after event %1").arg(expected.lastEventId);
        QCOMPARE(stateName(past.run.state), stateName(expected.run.state));
        QCOMPARE(past.steps.size(), expected.steps.size());
        for (qsizetype i = 0; i < expected.steps.size(); ++i) {
            const StepRunRow &want = expected.steps[i];
            const StepRunRow &got = past.steps[i];
            const QByteArray where = (at + QStringLiteral(", step ") + want.stepId).toUtf8();
            QVERIFY2(got.state == want.state, where + ": " + stateName(got.state).toUtf8() +
                                                  " != " + stateName(want.state).toUtf8());
            QVERIFY2(got.attempts == want.attempts, where + ": attempts " +
                                                        QByteArray::number(got.attempts) +
                                                        " != " + QByteArray::number(want.attempts));
            // The attempt budget shown ("attempt 2/4") is derived from the failures.
            QVERIFY2(got.failures == want.failures, where + ": failures " +
                                                        QByteArray::number(got.failures) +
                                                        " != " + QByteArray::number(want.failures));
            QVERIFY2(got.error == want.error, where + ": error \"" + got.error.toUtf8() +
                                                  "\" != \"" + want.error.toUtf8() + "\"");
            QVERIFY2(optionalClass(got.errorClass) == optionalClass(want.errorClass),
                     where + ": error class " + optionalClass(got.errorClass).toUtf8() +
                         " != " + optionalClass(want.errorClass).toUtf8());
            QVERIFY2(got.viaFallback == want.viaFallback, where + ": via fallback");
            QVERIFY2(changedOrNot(got.policyOverride) == changedOrNot(want.policyOverride),
                     where + ": policy override");
            QVERIFY2(changedOrNot(got.inputOverride) == changedOrNot(want.inputOverride),
                     where + ": edited input");
            QVERIFY2((got.endedAt == 0) == (want.endedAt == 0), where + ": ended or not");
        }
        const QList<ItemRow> items = past.existingItems();
        QCOMPARE(items.size(), expected.items.size());
        for (qsizetype i = 0; i < items.size(); ++i) {
            const QByteArray where =
                (at + QStringLiteral(", item ") + expected.items[i].itemKey).toUtf8();
            QVERIFY2(items[i].state == expected.items[i].state,
                     where + ": " + stateName(items[i].state).toUtf8() +
                         " != " + stateName(expected.items[i].state).toUtf8());
            QVERIFY2(items[i].attempts == expected.items[i].attempts, where + ": attempts");
            QVERIFY2(items[i].failures == expected.items[i].failures, where + ": failures");
        }
    }
}

void TestReplay::movingBackAndForthGivesTheSame() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 3 },
        "retry": { "max_attempts": 5, "initial_interval": "1s", "jitter": 0 } },
        { "id": "b", "kind": "noop", "after": ["a"] })"));
    for (int i = 0; i < 4; ++i)
        h.advance(10'000);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const auto events = *h.store->events(run);
    const auto steps = *h.store->stepRuns(run);
    RunReplay walked(*h.store->run(run), steps, {}, events, 3);
    // Each position reached from the start agrees with the same reached by jumping around.
    for (qsizetype target = events.size() - 1; target >= -1; --target) {
        RunReplay fresh(*h.store->run(run), steps, {}, events, 3);
        fresh.seek(target);
        walked.seek(events.size() - 1);
        walked.seek(target);
        QCOMPARE(walked.position(), target);
        for (qsizetype i = 0; i < steps.size(); ++i) {
            QCOMPARE(walked.state().steps[i].state, fresh.state().steps[i].state);
            QCOMPARE(walked.state().steps[i].attempts, fresh.state().steps[i].attempts);
            QCOMPARE(walked.state().steps[i].error, fresh.state().steps[i].error);
        }
        QCOMPARE(walked.state().run.state, fresh.state().run.state);
    }
    // One step forward changes only the step its event is about.
    walked.seek(-1);
    const qsizetype started =
        std::find_if(events.cbegin(), events.cend(),
                     [](const EventRow &e) { return e.type == EventType::AttemptStarted; }) -
        events.cbegin();
    walked.seek(started - 1);
    walked.seek(started);
    QCOMPARE(walked.changedSteps(), QList<int>{0});
    QCOMPARE(walked.state().steps[0].state, StepState::Running);
    QCOMPARE(walked.state().steps[0].attempts, 1);
}

void TestReplay::timesAndIdsFindTheirEvent() {
    Harness h;
    const qint64 created = h.clock.nowMs();
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 1 },
        "retry": { "initial_interval": "5s", "jitter": 0 } })"));
    h.advance(5000);
    h.advance(5000);
    QCOMPARE(h.runState(run), RunState::Succeeded);
    const auto events = *h.store->events(run);
    RunReplay replay(*h.store->run(run), *h.store->stepRuns(run), {}, events);
    QCOMPARE(replay.indexAtTime(created - 1), qsizetype(-1)); // before the run existed
    QVERIFY(events.last().at > created);
    for (qsizetype i = 0; i < events.size(); ++i) {
        QCOMPARE(replay.indexOfEvent(events[i].id), i);
        // A time names the last event of that moment.
        const qsizetype at = replay.indexAtTime(events[i].at);
        QVERIFY(at >= i);
        QCOMPARE(events[at].at, events[i].at);
        QVERIFY(at == events.size() - 1 || events[at + 1].at > events[i].at);
    }
    QCOMPARE(replay.indexAtTime(events.last().at + 3'600'000), events.size() - 1);
    QCOMPARE(replay.indexOfEvent(events.last().id + 1000), qsizetype(-1));
    // Where the step waited for its retry, the replay says why and the event that said so.
    const qsizetype retrying =
        std::find_if(events.cbegin(), events.cend(),
                     [](const EventRow &e) { return e.type == EventType::StepRetrying; }) -
        events.cbegin();
    QVERIFY(retrying < events.size());
    replay.seek(retrying);
    QCOMPARE(replay.state().steps[0].state, StepState::Retrying);
    QCOMPARE(replay.state().steps[0].error, h.attempts(run, QStringLiteral("a")).first().error);
    QCOMPARE(replay.currentEvent()->type, EventType::StepRetrying);
}

QTEST_GUILESS_MAIN(TestReplay)
#include "tst_replay.moc"
