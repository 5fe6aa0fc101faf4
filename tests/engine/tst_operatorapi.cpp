// The operator API over one database (what keepflowctl and the desktop monitor act through): an
// action is applied directly when no worker holds the run, left for the live worker that does
// (and waited for, or answered later), taken back when that worker lets go or dies, and a refused
// action changes nothing. The live worker is a second engine on the same database file; time is
// a ManualClock that only the tests move.

#include "api/operatorapi.h"
#include "harness.h"

#include <functional>

using namespace keepflow;
using K = OperatorAction::Kind;

namespace {

// `wait` keeps the run running (and its worker holding it) for an hour; `broken` fails for good.
const QByteArray kHeldFlow = flow(
    R"({ "id": "wait", "kind": "delay", "with": { "duration": "1h" } },
    { "id": "broken", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "after", "kind": "noop", "after": ["broken"] })");

// Fails and finishes: nobody holds it afterwards.
const QByteArray kFinishedFlow = flow(
    R"({ "id": "broken", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "after", "kind": "noop", "after": ["broken"] })");

OperatorAction action(K kind, const QString &run, const QString &step) {
    OperatorAction a;
    a.kind = kind;
    a.runId = run;
    a.stepId = step;
    // On a shared PostgreSQL database the role the server authenticated is the actor.
    a.actor = testsOnPostgres() ? QString() : QStringLiteral("tester");
    a.reason = QStringLiteral("known outage");
    return a;
}

/// A run on a database, the worker that executed it (`holder`, a second engine on the same file)
/// and the operator API on that file.
struct Fixture {
    Harness holder;
    QString run;
    bool holderDead = false;
    std::function<void()> onWait; ///< what happens while the API waits for an answer
    int polls = 0;
    std::unique_ptr<OperatorApi> api;

    explicit Fixture(const QByteArray &flowText) {
        run = holder.start(flowText);
        QVERIFY(holder.settle());
        OperatorApi::Options options;
        options.clock = &holder.clock;
        options.ownerIsDead = [this](const QString &owner) {
            return holderDead && owner == holderId();
        };
        options.whileWaiting = [this] {
            if (onWait)
                onWait();
            // A wrong implementation ends in the time limit instead of polling forever.
            if (++polls > 1000)
                holder.clock.advance(3'600'000);
        };
        auto opened = OperatorApi::open(holder.dbPath(), options);
        QVERIFY2(opened, qPrintable(opened.error()));
        api = std::move(*opened);
    }

    QString holderId() const { return QStringLiteral("test-worker-1"); }
    StepState stepState(const QString &step) { return holder.step(run, step).state; }
    QString owner() { return holder.store->run(run)->owner; }

    int operatorEvents() {
        int count = 0;
        const QList<EventRow> events = *holder.store->events(run);
        for (const EventRow &event : events) {
            if (isOperatorEvent(event.type))
                ++count;
        }
        return count;
    }

    /// Everything an action could change: the run, its steps, its events.
    QStringList snapshot() {
        const RunRow row = *holder.store->run(run);
        QStringList state{stateName(row.state), row.owner, QString::number(row.paused)};
        const QList<StepRunRow> steps = *holder.store->stepRuns(run);
        for (const StepRunRow &step : steps)
            state << step.stepId + QLatin1Char('=') + stateName(step.state) + QLatin1Char('/') +
                         QString::number(step.attempts);
        state << QString::number(holder.store->events(run)->size());
        return state;
    }
};

} // namespace

class TestOperatorApi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void actsDirectlyWhenNoWorkerHoldsTheRun();
    void leavesTheActionForTheLiveHolderWhichAnswersLater();
    void waitsForTheLiveHoldersAnswer();
    void withdrawsAndActsDirectlyWhenTheHolderDied();
    void withdrawsAndActsDirectlyWhenTheHoldersLeaseExpired();
    void givesUpWaitingAfterTheTimeLimitAndLeavesTheRequest();
    void refusedActionChangesNothing();
    void refusalByTheHolderIsAnErrorAndChangesNothing();
    void everyKindHasOneNameBothWays();
};

void TestOperatorApi::actsDirectlyWhenNoWorkerHoldsTheRun() {
    Fixture f(kFinishedFlow);
    QCOMPARE(f.holder.runState(f.run), RunState::Failed);
    QVERIFY(f.owner().isEmpty());

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Wait);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QCOMPARE(outcome->requestId, 0);
    QVERIFY(!outcome->message.isEmpty());
    QVERIFY(!outcome->message.contains(QLatin1String("applied by")));
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
    QCOMPARE(f.operatorEvents(), 1);
    // The finished run runs again, and the short-lived engine gave it back for a worker.
    QCOMPARE(f.holder.runState(f.run), RunState::Running);
    QVERIFY(f.owner().isEmpty());
}

void TestOperatorApi::leavesTheActionForTheLiveHolderWhichAnswersLater() {
    Fixture f(kHeldFlow);
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Failed);
    QCOMPARE(f.owner(), f.holderId());

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Leave);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QVERIFY(outcome->requestId != 0);
    QCOMPARE(outcome->worker, f.holderId());
    // Nothing changed yet: the holder is the run's only writer.
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Failed);
    QCOMPARE(f.api->request(outcome->requestId)->state, QStringLiteral("pending"));

    QVERIFY(f.holder.engine->answerRequests());
    const RequestRow answer = *f.api->request(outcome->requestId);
    QCOMPARE(answer.state, QStringLiteral("done"));
    QVERIFY(!answer.result.isEmpty());
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
    QCOMPARE(f.operatorEvents(), 1);
}

void TestOperatorApi::waitsForTheLiveHoldersAnswer() {
    Fixture f(kHeldFlow);
    int polls = 0;
    f.onWait = [&f, &polls] {
        if (++polls == 2) // the holder gets to it on its next poll
            QVERIFY(f.holder.engine->answerRequests());
    };

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Wait);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QVERIFY(outcome->requestId != 0);
    QVERIFY2(outcome->message.endsWith(QStringLiteral(" (applied by %1)").arg(f.holderId())),
             qPrintable(outcome->message));
    QCOMPARE(f.api->request(outcome->requestId)->state, QStringLiteral("done"));
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
    QCOMPARE(f.operatorEvents(), 1);
    QCOMPARE(f.owner(), f.holderId()); // it still executes the run
}

void TestOperatorApi::withdrawsAndActsDirectlyWhenTheHolderDied() {
    Fixture f(kHeldFlow);
    f.onWait = [&f] { f.holderDead = true; }; // killed before it answered

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Wait);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QCOMPARE(outcome->requestId, 0);
    QVERIFY(!outcome->message.contains(QLatin1String("applied by")));
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
    // The request was taken back: nothing is left for the holder to apply a second time.
    QVERIFY(f.holder.store->pendingRequests(f.holderId())->isEmpty());
    QCOMPARE(f.operatorEvents(), 1);
    QVERIFY(f.owner().isEmpty()); // free for the next worker
}

void TestOperatorApi::withdrawsAndActsDirectlyWhenTheHoldersLeaseExpired() {
    Fixture f(kHeldFlow);
    const qint64 leaseUntil = f.holder.store->run(f.run)->leaseUntil;
    // The holder stops renewing its lease (hung, or its host is gone) and time passes it: the
    // test's clock on SQLite; on PostgreSQL the server's clock decides, so the lease is moved
    // into its past.
    f.onWait = [&f, leaseUntil] {
        if (testsOnPostgres())
            executeOnTestDatabase(f.holder.dbPath(),
                                  QStringLiteral("UPDATE runs SET lease_until = 0 WHERE id = ?"),
                                  {f.run});
        else
            f.holder.clock.set(leaseUntil + 1);
    };

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Wait);
    QVERIFY2(outcome, qPrintable(outcome.error()));
    QCOMPARE(outcome->requestId, 0);
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
    QVERIFY(f.holder.store->pendingRequests(f.holderId())->isEmpty());
    QCOMPARE(f.operatorEvents(), 1);
}

void TestOperatorApi::givesUpWaitingAfterTheTimeLimitAndLeavesTheRequest() {
    Fixture f(kHeldFlow);
    f.onWait = [&f] { f.holder.clock.advance(1000); }; // alive, holding, but not answering

    auto outcome =
        f.api->act(action(K::Skip, f.run, QStringLiteral("broken")), OperatorApi::HandOver::Wait);
    QVERIFY(!outcome);
    QVERIFY2(outcome.error().contains(QLatin1String("has not answered request")),
             qPrintable(outcome.error()));
    QVERIFY2(outcome.error().contains(QLatin1String("within 10 s")), qPrintable(outcome.error()));
    // It stays left for the holder, which applies it when it gets to it.
    QCOMPARE(f.holder.store->pendingRequests(f.holderId())->size(), 1);
    QVERIFY(f.holder.engine->answerRequests());
    QCOMPARE(f.stepState(QStringLiteral("broken")), StepState::Skipped);
}

void TestOperatorApi::refusedActionChangesNothing() {
    Fixture f(kFinishedFlow);
    const QStringList before = f.snapshot();

    auto outcome = f.api->act(action(K::Approve, f.run, QStringLiteral("broken")),
                              OperatorApi::HandOver::Wait);
    QVERIFY(!outcome);
    QVERIFY2(outcome.error().contains(QLatin1String("not an approval")),
             qPrintable(outcome.error()));
    QCOMPARE(f.snapshot(), before);
}

void TestOperatorApi::refusalByTheHolderIsAnErrorAndChangesNothing() {
    Fixture f(kHeldFlow);
    f.onWait = [&f] { QVERIFY(f.holder.engine->answerRequests()); };
    const QString stepsBefore = f.snapshot().mid(3, 3).join(QLatin1Char(','));

    auto outcome = f.api->act(action(K::Approve, f.run, QStringLiteral("broken")),
                              OperatorApi::HandOver::Wait);
    QVERIFY(!outcome);
    QVERIFY2(outcome.error().contains(QLatin1String("not an approval")),
             qPrintable(outcome.error()));
    QCOMPARE(f.snapshot().mid(3, 3).join(QLatin1Char(',')), stepsBefore);
    QCOMPARE(f.operatorEvents(), 0);
    QVERIFY(f.holder.store->pendingRequests(f.holderId())->isEmpty());
}

void TestOperatorApi::everyKindHasOneNameBothWays() {
    QSet<QString> names;
    for (int k = 0; k <= static_cast<int>(K::SetPolicy); ++k) {
        const auto kind = static_cast<K>(k);
        const QString name = actionName(kind);
        QVERIFY(!name.isEmpty());
        names.insert(name);
        QCOMPARE(actionKindFromName(name), std::optional<K>(kind));
        OperatorAction a = action(kind, QStringLiteral("r"), QStringLiteral("s"));
        auto back = actionFromJson(actionToJson(a));
        QVERIFY(back);
        QCOMPARE(back->kind, kind);
    }
    QCOMPARE(names.size(), static_cast<int>(K::SetPolicy) + 1);
    QCOMPARE(actionName(K::MarkSucceeded), QStringLiteral("mark-succeeded"));
    QVERIFY(!actionKindFromName(QStringLiteral("frobnicate")));
    QVERIFY(!actionFromJson(QJsonObject{{QStringLiteral("action"), QStringLiteral("frobnicate")}}));
}

QTEST_GUILESS_MAIN(TestOperatorApi)
#include "tst_operatorapi.moc"
