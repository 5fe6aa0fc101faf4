// The coordinator against a real SQLite store, with a manual clock: retries, backoff, timeouts,
// deadlines, joins, fallbacks, delays, write-ahead, recovery and group commit.

#include "harness.h"
#include "runtime/stall.h"
#include "steps/capturedstream.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace keepflow;

namespace {

/// An action that checks, as it starts, that its attempt is already committed (write-ahead).
class WriteAheadProbe final : public StepKind {
public:
    explicit WriteAheadProbe(QString dbPath)
        : m_dbPath(std::move(dbPath)) {}
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &,
                                     CompletionCallback done) override {
        auto reader = Store::open(m_dbPath); // a second connection sees only committed data
        bool found = false;
        if (reader) {
            const auto rows = (*reader)->attempts(request.runId);
            for (const AttemptRow &row : *rows) {
                found = found || (row.stepId == request.stepId && row.number == request.attempt &&
                                  row.endedAt == 0 && row.idempotencyKey == request.idempotencyKey);
            }
        }
        seenCommitted.append(found);
        done(AttemptResult::success(QJsonObject()));
        return nullptr;
    }
    QList<bool> seenCommitted;

private:
    QString m_dbPath;
};

bool processGone(qint64 pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0)
        return true;
    // A killed process nobody reaped yet is a zombie: it runs nothing any more.
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return true;
    const QList<QByteArray> fields = stat.readAll().split(' ');
    return fields.size() > 2 && fields[2] == "Z";
}

} // namespace

class TestEngine : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void chainRunsToSuccess();
    void retryFollowsBackoffSchedule();
    void retryKeepsIdempotencyKey();
    void permanentErrorIsNotRetried();
    void nonRetryableListStopsRetries();
    void exhaustedRetriesBlockDownstreamOnly();
    void joinRules_data();
    void joinRules();
    void fallbackValueIsUsedAndVisible();
    void fallbackStepRunsOnlyWhenNeeded();
    void timeoutEndsAttemptAndRetries();
    void timeoutOfNonIdempotentStepIsUncertain();
    void deadlineBoundsAllAttempts();
    void delayIsDurableAcrossRestart();
    void notBeforeHoldsStepWhileOthersProceed();
    void writeAheadCommitsAttemptBeforeAction();
    void crashedAttemptIsRetriedWithSameKey();
    void crashedNonIdempotentAttemptBecomesUncertain();
    void cutOffAttemptsSpendTheBudget();
    void cutOffLastAttemptAfterFailuresEndsTheStep();
    void cutOffItemsSpendTheirBudget();
    void stalledRunIsRecognisedWithItsCycle();
    void groupCommitSharesTransactions();
    void adoptAvailableTakesOverEveryInterruptedRun();
    void templatesPassOutputsDownstream();
    void shellSeesContractEnvironment();
    void templateValueNeverBecomesShellCode();
    void templateValueReachesAScriptThroughEnv();
    void shellExitCodesMapToErrorClasses();
    void shellJsonOutputThatIsGarbageFails();
    void shellTimeoutKillsProcessGroup();
    void shellOutputIsKeptForEachAttempt();
    void shellOutputKeepsItsTailWhole();
    void capturedTailStartsOnACharacterWhateverTheChunks();
    void timedOutAttemptKeepsWhatItPrinted();
    void missingRequiredParamIsRefused();
};

void TestEngine::chainRunsToSuccess() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "a", "kind": "noop", "with": { "output": { "n": 1 } } },
        { "id": "b", "kind": "noop", "after": ["a"] },
        { "id": "c", "kind": "noop", "after": ["b"] })"));
    QVERIFY(!run.isEmpty());
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("a")).output.toObject().value(QStringLiteral("n")).toInt(),
             1);
    QVERIFY(h.store->run(run)->endedAt > 0);
    const auto events = *h.store->events(run);
    QCOMPARE(events.first().type, EventType::RunCreated);
    QCOMPARE(events.last().type, EventType::RunFinished);
}

void TestEngine::retryFollowsBackoffSchedule() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "flaky", "kind": "fault", "with": { "fail_first": 3 },
        "retry": { "max_attempts": 5, "initial_interval": "1s", "backoff": 2.0, "jitter": 0 } })"));
    const qint64 t0 = h.clock.nowMs();
    StepRunRow step = h.step(run, QStringLiteral("flaky"));
    QCOMPARE(step.state, StepState::Retrying);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.notBefore, t0 + 1000);

    h.advance(999);
    QCOMPARE(h.step(run, QStringLiteral("flaky")).attempts, 1); // not a millisecond early
    h.advance(1);
    step = h.step(run, QStringLiteral("flaky"));
    QCOMPARE(step.attempts, 2);
    QCOMPARE(step.notBefore, t0 + 1000 + 2000);
    h.advance(2000);
    step = h.step(run, QStringLiteral("flaky"));
    QCOMPARE(step.attempts, 3);
    QCOMPARE(step.notBefore, t0 + 3000 + 4000);
    h.advance(4000);
    step = h.step(run, QStringLiteral("flaky"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.attempts, 4);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestEngine::retryKeepsIdempotencyKey() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 2 },
        "retry": { "initial_interval": "1s", "jitter": 0 } },
        { "id": "b", "kind": "noop" })"));
    h.advance(1000);
    h.advance(2000);
    const auto attempts = h.attempts(run, QStringLiteral("a"));
    QCOMPARE(attempts.size(), 3);
    QVERIFY(attempts[0].idempotencyKey.contains(run));
    for (const AttemptRow &attempt : attempts)
        QCOMPARE(attempt.idempotencyKey, attempts[0].idempotencyKey);
    QVERIFY(h.attempts(run, QStringLiteral("b")).first().idempotencyKey !=
            attempts[0].idempotencyKey);
    QCOMPARE(attempts[0].outcome, AttemptOutcome::FailedTransient);
    QCOMPARE(attempts[2].outcome, AttemptOutcome::Succeeded);
}

void TestEngine::permanentErrorIsNotRetried() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })"));
    const StepRunRow step = h.step(run, QStringLiteral("a"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.errorClass, ErrorClass::Permanent);
    QCOMPARE(h.runState(run), RunState::Failed);
}

void TestEngine::nonRetryableListStopsRetries() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "garbage" },
        "retry": { "non_retryable": ["garbage"] } })"));
    const StepRunRow step = h.step(run, QStringLiteral("a"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QVERIFY2(step.error.contains(QStringLiteral("garbage")), qPrintable(step.error));
}

void TestEngine::exhaustedRetriesBlockDownstreamOnly() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "bad", "kind": "fault", "with": { "fail_first": 9 },
          "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } },
        { "id": "after_bad", "kind": "noop", "after": ["bad"] },
        { "id": "after_that", "kind": "noop", "after": ["after_bad"] },
        { "id": "good", "kind": "noop" })"));
    QCOMPARE(h.step(run, QStringLiteral("good")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Running);
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("bad")).state, StepState::Failed);
    QCOMPARE(h.step(run, QStringLiteral("bad")).attempts, 2);
    QCOMPARE(h.step(run, QStringLiteral("after_bad")).state, StepState::Blocked);
    QCOMPARE(h.step(run, QStringLiteral("after_that")).state, StepState::Blocked);
    QCOMPARE(h.runState(run), RunState::CompletedWithFailures);
}

void TestEngine::joinRules_data() {
    QTest::addColumn<QString>("join");
    QTest::addColumn<QString>("expected");
    QTest::newRow("all_succeeded") << QStringLiteral("all_succeeded") << QStringLiteral("blocked");
    QTest::newRow("all_done") << QStringLiteral("all_done") << QStringLiteral("succeeded");
    QTest::newRow("any_succeeded")
        << QStringLiteral("any_succeeded") << QStringLiteral("succeeded");
    QTest::newRow("none_failed") << QStringLiteral("none_failed") << QStringLiteral("blocked");
}

void TestEngine::joinRules() {
    QFETCH(QString, join);
    QFETCH(QString, expected);
    Harness h;
    const QByteArray steps = R"({ "id": "ok", "kind": "noop" },
        { "id": "broken", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
        { "id": "joined", "kind": "noop", "after": ["ok", "broken"], "join": ")" +
                             join.toUtf8() + R"(" })";
    const QString run = h.start(flow(steps));
    QCOMPARE(stateName(h.step(run, QStringLiteral("joined")).state), expected);
}

void TestEngine::fallbackValueIsUsedAndVisible() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "fetch", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" },
          "fallback": { "value": { "orders": [] } } },
        { "id": "use", "kind": "noop", "after": ["fetch"], "with": { "output": "{{steps.fetch.output.orders}}" } })"));
    const StepRunRow fetch = h.step(run, QStringLiteral("fetch"));
    QCOMPARE(fetch.state, StepState::SucceededViaFallback);
    QVERIFY(fetch.viaFallback);
    QVERIFY2(fetch.error.contains(QStringLiteral("injected fault")),
             qPrintable(fetch.error)); // kept
    QCOMPARE(h.step(run, QStringLiteral("use")).output, QJsonValue(QJsonArray()));
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestEngine::fallbackStepRunsOnlyWhenNeeded() {
    const QByteArray steps = R"({ "id": "primary", "kind": "fault",
          "with": { "fail_first": %1, "error": "permanent", "output": { "from": "primary" } },
          "fallback": { "step": "backup" } },
        { "id": "backup", "kind": "noop", "with": { "output": { "from": "backup" } } },
        { "id": "next", "kind": "noop", "after": ["primary"], "with": { "output": "{{steps.primary.output.from}}" } })";
    {
        Harness h;
        const QString run = h.start(flow(QString::fromUtf8(steps).arg(1).toUtf8()));
        QCOMPARE(h.step(run, QStringLiteral("primary")).state, StepState::SucceededViaFallback);
        QCOMPARE(h.step(run, QStringLiteral("backup")).state, StepState::Succeeded);
        QCOMPARE(h.step(run, QStringLiteral("next")).output.toString(), QStringLiteral("backup"));
        QCOMPARE(h.runState(run), RunState::Succeeded);
    }
    {
        Harness h;
        const QString run = h.start(flow(QString::fromUtf8(steps).arg(0).toUtf8()));
        QCOMPARE(h.step(run, QStringLiteral("primary")).state, StepState::Succeeded);
        QCOMPARE(h.step(run, QStringLiteral("backup")).state, StepState::Skipped);
        QCOMPARE(h.attempts(run, QStringLiteral("backup")).size(), 0);
        QCOMPARE(h.step(run, QStringLiteral("next")).output.toString(), QStringLiteral("primary"));
        QCOMPARE(h.runState(run), RunState::Succeeded);
    }
}

void TestEngine::timeoutEndsAttemptAndRetries() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "hang", "kind": "fault", "idempotency": "keyed",
        "with": { "fail_first": 1, "error": "timeout" }, "timeout": "5s",
        "retry": { "initial_interval": "1s", "jitter": 0 } })"));
    QCOMPARE(h.step(run, QStringLiteral("hang")).state, StepState::Running);
    h.advance(4999);
    QCOMPARE(h.step(run, QStringLiteral("hang")).state, StepState::Running);
    h.advance(1);
    const StepRunRow step = h.step(run, QStringLiteral("hang"));
    QCOMPARE(step.state, StepState::Retrying);
    QCOMPARE(step.errorClass, ErrorClass::Timeout);
    QVERIFY2(step.error.contains(QStringLiteral("timed out after 5s")), qPrintable(step.error));
    QCOMPARE(h.attempts(run, QStringLiteral("hang")).first().outcome, AttemptOutcome::TimedOut);
    h.advance(1000);
    QCOMPARE(h.step(run, QStringLiteral("hang")).state, StepState::Succeeded);
}

void TestEngine::timeoutOfNonIdempotentStepIsUncertain() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "charge", "kind": "fault", "idempotency": "none",
        "with": { "fail_first": 1, "error": "timeout" }, "timeout": "5s" },
        { "id": "receipt", "kind": "noop", "after": ["charge"] })"));
    h.advance(5000);
    QCOMPARE(h.step(run, QStringLiteral("charge")).state, StepState::Uncertain);
    QCOMPARE(h.step(run, QStringLiteral("charge")).attempts, 1);
    QCOMPARE(h.step(run, QStringLiteral("receipt")).state, StepState::Pending);
    QCOMPARE(h.runState(run), RunState::WaitingForOperator);
    h.advance(60'000); // nothing retries it by itself
    QCOMPARE(h.step(run, QStringLiteral("charge")).attempts, 1);
}

void TestEngine::deadlineBoundsAllAttempts() {
    Harness h;
    const QString run = h.start(
        flow(R"({ "id": "slow", "kind": "fault", "with": { "fail_first": 99 }, "deadline": "25s",
        "retry": { "max_attempts": 10, "initial_interval": "10s", "backoff": 1.0, "jitter": 0 } })"));
    h.advance(10'000);
    QCOMPARE(h.step(run, QStringLiteral("slow")).attempts, 2);
    h.advance(10'000);
    const StepRunRow step = h.step(run, QStringLiteral("slow"));
    QCOMPARE(step.attempts, 3); // the fourth would start at 30s, after the 25s deadline
    QCOMPARE(step.state, StepState::Failed);
    const auto events = *h.store->events(run);
    const bool explained = std::any_of(events.begin(), events.end(), [](const EventRow &e) {
        return e.detail.value(QStringLiteral("reason"))
            .toString()
            .contains(QStringLiteral("deadline"));
    });
    QVERIFY(explained);
}

void TestEngine::delayIsDurableAcrossRestart() {
    Harness h;
    const QString run =
        h.start(flow(R"({ "id": "wait", "kind": "delay", "with": { "duration": "1h" } },
        { "id": "after", "kind": "noop", "after": ["wait"] },
        { "id": "meanwhile", "kind": "noop" })"));
    const qint64 t0 = h.clock.nowMs();
    QCOMPARE(h.step(run, QStringLiteral("wait")).state, StepState::Scheduled);
    QCOMPARE(h.step(run, QStringLiteral("wait")).notBefore, t0 + 3'600'000);
    QCOMPARE(h.step(run, QStringLiteral("meanwhile")).state, StepState::Succeeded);

    h.clock.advance(1'800'000);
    h.crashAndRestart();
    QVERIFY(*h.engine->adopt(run));
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("wait")).state, StepState::Scheduled);
    QCOMPARE(h.step(run, QStringLiteral("wait")).notBefore, t0 + 3'600'000); // not restarted
    h.advance(1'799'999);
    QCOMPARE(h.step(run, QStringLiteral("wait")).state, StepState::Scheduled);
    h.advance(1);
    QCOMPARE(h.step(run, QStringLiteral("after")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestEngine::notBeforeHoldsStepWhileOthersProceed() {
    Harness h;
    const QString at =
        QDateTime::fromMSecsSinceEpoch(h.clock.nowMs() + 60'000, Qt::UTC).toString(Qt::ISODate);
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "later", "kind": "noop", "not_before": "%1" },
        { "id": "now", "kind": "noop" })")
                         .arg(at)
                         .toUtf8()));
    QCOMPARE(h.step(run, QStringLiteral("later")).state, StepState::Scheduled);
    QCOMPARE(h.step(run, QStringLiteral("now")).state, StepState::Succeeded);
    h.advance(60'000);
    QCOMPARE(h.step(run, QStringLiteral("later")).state, StepState::Succeeded);
}

void TestEngine::writeAheadCommitsAttemptBeforeAction() {
    Harness h;
    auto probe = std::make_shared<WriteAheadProbe>(h.dbPath());
    h.actions.add(QStringLiteral("noop"), probe);
    h.crashAndRestart(); // a new engine with the probe registered
    const QString run = h.start(
        flow(R"({ "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop", "after": ["a"] })"));
    QCOMPARE(h.runState(run), RunState::Succeeded);
    QCOMPARE(probe->seenCommitted, (QList<bool>{true, true}));
}

void TestEngine::crashedAttemptIsRetriedWithSameKey() {
    Harness h;
    // The first attempt hangs as if the machine died under it; later attempts finish at once.
    const QString run = h.start(flow(R"({ "id": "work", "kind": "shell", "idempotency": "keyed",
        "with": { "argv": ["sh", "-c", "if [ \"$KEEPFLOW_ATTEMPT\" = 1 ]; then sleep 30; fi; echo done"] } })"));
    QCOMPARE(h.step(run, QStringLiteral("work")).state, StepState::Running);
    QCOMPARE(h.attempts(run, QStringLiteral("work")).first().endedAt, 0);

    h.crashAndRestart();
    QVERIFY(*h.engine->adopt(run));
    h.pump();
    QVERIFY(h.settleProcesses());
    const auto attempts = h.attempts(run, QStringLiteral("work"));
    QCOMPARE(attempts.size(), 2);
    QCOMPARE(attempts[0].outcome, AttemptOutcome::Crashed);
    QCOMPARE(attempts[1].outcome, AttemptOutcome::Succeeded);
    QCOMPARE(attempts[1].idempotencyKey, attempts[0].idempotencyKey);
    const StepRunRow step = h.step(run, QStringLiteral("work"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.failures, 1); // a cut-off attempt counts against the budget
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestEngine::crashedNonIdempotentAttemptBecomesUncertain() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "pay", "kind": "shell", "idempotency": "none",
        "with": { "argv": ["sleep", "30"] } })"));
    h.crashAndRestart();
    QVERIFY(*h.engine->adopt(run));
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("pay")).state, StepState::Uncertain);
    QCOMPARE(h.attempts(run, QStringLiteral("pay")).size(), 1);
    QCOMPARE(h.runState(run), RunState::WaitingForOperator);
}

void TestEngine::cutOffAttemptsSpendTheBudget() {
    Harness h;
    // Every attempt outlives its process: the engine is killed while it runs, three times.
    const QString run = h.start(flow(R"({ "id": "sync", "kind": "fault", "idempotency": "keyed",
        "retry": { "max_attempts": 3 }, "with": { "latency": "1h" } },
        { "id": "report", "kind": "noop", "after": ["sync"] })"));
    for (int crash = 1; crash <= 3; ++crash) {
        QCOMPARE(h.step(run, QStringLiteral("sync")).state, StepState::Running);
        h.crashAndAdopt(run);
    }
    const StepRunRow sync = h.step(run, QStringLiteral("sync"));
    QCOMPARE(sync.state, StepState::Failed);
    QCOMPARE(sync.error,
             QStringLiteral("cut off 3 times: the process running it was killed or lost"));
    QCOMPARE(sync.errorClass, std::optional(ErrorClass::Crashed));
    const auto attempts = h.attempts(run, QStringLiteral("sync"));
    QCOMPARE(attempts.size(), 3); // no fourth attempt: "4/3" never happens
    for (const AttemptRow &attempt : attempts)
        QCOMPARE(attempt.outcome, std::optional(AttemptOutcome::Crashed));
    QCOMPARE(h.step(run, QStringLiteral("report")).state, StepState::Blocked);
    QCOMPARE(h.runState(run), RunState::Failed);

    // Where an operator can retry it, with a fresh budget.
    OperatorAction retry;
    retry.kind = OperatorAction::Kind::Retry;
    retry.runId = run;
    retry.stepId = QStringLiteral("sync");
    retry.actor = QStringLiteral("operator");
    QVERIFY(h.engine->act(retry));
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("sync")).state, StepState::Running);
    h.advance(3'600'000);
    QCOMPARE(h.step(run, QStringLiteral("sync")).state, StepState::Succeeded);
    QCOMPARE(h.runState(run), RunState::Succeeded);
}

void TestEngine::cutOffLastAttemptAfterFailuresEndsTheStep() {
    Harness h;
    // Attempt 1 fails by itself; attempts 2 and 3 are cut off.
    const QString run = h.start(flow(R"({ "id": "sync", "kind": "fault", "idempotency": "keyed",
        "retry": { "max_attempts": 3, "initial_interval": "1s", "jitter": 0 },
        "with": { "fail_first": 1, "latency": "1m" } })"));
    h.advance(60'000);
    QCOMPARE(h.step(run, QStringLiteral("sync")).state, StepState::Retrying);
    h.advance(1000);
    for (int crash = 0; crash < 2; ++crash) {
        QCOMPARE(h.step(run, QStringLiteral("sync")).state, StepState::Running);
        h.crashAndAdopt(run);
    }
    const StepRunRow sync = h.step(run, QStringLiteral("sync"));
    QCOMPARE(sync.state, StepState::Failed);
    QCOMPARE(sync.failures, 3);
    QCOMPARE(sync.error, QStringLiteral("no attempts left (3 of 3): attempt 3 was cut off: the "
                                        "process running it was killed or lost"));
    QCOMPARE(h.attempts(run, QStringLiteral("sync")).size(), 3);
}

void TestEngine::cutOffItemsSpendTheirBudget() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "mail", "kind": "fault", "idempotency": "keyed",
        "foreach": ["a", "b"], "concurrency": 2, "retry": { "max_attempts": 2 },
        "with": { "latency": "1h" } })"));
    for (int crash = 0; crash < 2; ++crash) {
        QCOMPARE(h.step(run, QStringLiteral("mail")).state, StepState::Running);
        h.crashAndAdopt(run);
    }
    const auto items = h.store->items(run);
    QCOMPARE(items->size(), 2);
    for (const ItemRow &item : *items) {
        QCOMPARE(item.state, StepState::Failed);
        QCOMPARE(item.error,
                 QStringLiteral("cut off 2 times: the process running it was killed or lost"));
    }
    QCOMPARE(h.attempts(run, QStringLiteral("mail")).size(), 4);
    QCOMPARE(h.step(run, QStringLiteral("mail")).state, StepState::Failed);
}

void TestEngine::stalledRunIsRecognisedWithItsCycle() {
    // Validation refuses this flow (see tst_validation); the engine's guard is checked on the
    // live state directly: two fallbacks of each other, neither of which can ever start.
    auto flow = std::make_shared<Flow>();
    for (const auto &[id, fallback] : {std::pair{"a", "b"}, std::pair{"b", "a"}}) {
        Step step;
        step.id = QLatin1String(id);
        step.kind = QStringLiteral("noop");
        step.fallback.kind = Fallback::Kind::Step;
        step.fallback.step = QLatin1String(fallback);
        flow->steps.append(step);
    }
    Step independent;
    independent.id = QStringLiteral("c");
    independent.kind = QStringLiteral("noop");
    flow->steps.append(independent);
    LiveRun run;
    run.plan = makePlan(flow, 0);
    run.steps.resize(3);
    run.step(2).state = StepState::Running;
    run.counts[static_cast<int>(StepState::Pending)] = 2;
    run.counts[static_cast<int>(StepState::Running)] = 1;
    QVERIFY(!isStalled(run)); // c is still in flight: it may yet change something

    run.step(2).state = StepState::Succeeded;
    run.counts[static_cast<int>(StepState::Running)] = 0;
    run.counts[static_cast<int>(StepState::Succeeded)] = 1;
    QVERIFY(isStalled(run));
    QCOMPARE(stallReason(run, 0),
             QStringLiteral("its steps wait for each other in a cycle (a -> fallback b -> "
                            "fallback a)"));
    run.paused = true;
    QVERIFY(!isStalled(run)); // an operator holds it: waiting is what it should do
}

void TestEngine::groupCommitSharesTransactions() {
    Harness h;
    const FlowLoad load = parseFlow(
        flow(R"({ "id": "s1", "kind": "noop" }, { "id": "s2", "kind": "noop", "after": ["s1"] },
        { "id": "s3", "kind": "noop", "after": ["s2"] }, { "id": "s4", "kind": "noop", "after": ["s3"] },
        { "id": "s5", "kind": "noop", "after": ["s4"] })"),
        QStringLiteral("chain"));
    QVERIFY(load.ok());
    QStringList runs;
    for (int i = 0; i < 10; ++i)
        runs << *h.engine->createRun(*load.flow, {}, {}, true);
    QSignalSpy commits(h.engine.get(), &Engine::eventsCommitted);
    h.pump();
    for (const QString &run : runs)
        QCOMPARE(h.runState(run), RunState::Succeeded);
    // 50 steps, 5 deep: one commit per level (the finish of one step and the start of the next
    // share it), plus the one that finishes the runs; never one per step.
    QVERIFY2(commits.count() <= 6, qPrintable(QString::number(commits.count())));
}

void TestEngine::adoptAvailableTakesOverEveryInterruptedRun() {
    Harness h;
    const QByteArray text =
        flow(R"({ "id": "wait", "kind": "delay", "with": { "duration": "10s" } },
        { "id": "flaky", "kind": "fault", "after": ["wait"], "with": { "fail_first": 1 },
          "retry": { "initial_interval": "1s", "jitter": 0 } })");
    QStringList runs;
    for (int i = 0; i < 5; ++i)
        runs << h.start(text);
    h.advance(10'000); // every run is now retrying its flaky step
    for (const QString &run : runs)
        QCOMPARE(h.step(run, QStringLiteral("flaky")).state, StepState::Retrying);

    h.crashAndRestart();
    const auto adopted = h.engine->adoptAvailable();
    QVERIFY(adopted);
    QCOMPARE(*adopted, 5);
    QCOMPARE(*h.engine->adoptAvailable(), 0); // nothing is taken twice
    h.advance(1000);
    for (const QString &run : runs) {
        QCOMPARE(h.runState(run), RunState::Succeeded);
        QCOMPARE(h.store->run(run)->owner, QString()); // a finished run holds no lease
    }
}

void TestEngine::templatesPassOutputsDownstream() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "fetch", "kind": "noop", "with": { "output": { "orders": [ { "id": 7 } ] } } },
        { "id": "use", "kind": "noop", "after": ["fetch"],
          "with": { "output": { "first": "{{steps.fetch.output.orders.0.id}}", "text": "day {{params.date}} run {{run.id}}" } } })",
        R"("params": { "date": { "default": "2026-11-26" } },)"));
    const QJsonObject output = h.step(run, QStringLiteral("use")).output.toObject();
    QCOMPARE(output.value(QStringLiteral("first")).toInt(), 7);
    QCOMPARE(output.value(QStringLiteral("text")).toString(),
             QStringLiteral("day 2026-11-26 run ") + run);
}

void TestEngine::shellSeesContractEnvironment() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "env", "kind": "shell",
        "with": { "argv": ["sh", "-c", "printf '%s|%s|%s|%s' \"$KEEPFLOW_RUN_ID\" \"$KEEPFLOW_STEP_ID\" \"$KEEPFLOW_ATTEMPT\" \"$KEEPFLOW_IDEMPOTENCY_KEY\""] } })"));
    QVERIFY(h.settleProcesses());
    const StepRunRow step = h.step(run, QStringLiteral("env"));
    QCOMPARE(step.state, StepState::Succeeded);
    const QString key = h.attempts(run, QStringLiteral("env")).first().idempotencyKey;
    QCOMPARE(step.output.toObject().value(QStringLiteral("stdout")).toString(),
             QStringLiteral("%1|env|1|%2").arg(run, key));
    QCOMPARE(step.output.toObject().value(QStringLiteral("exit_code")).toInt(), 0);
}

void TestEngine::templateValueNeverBecomesShellCode() {
    Harness h;
    const QString marker = h.dir.filePath(QStringLiteral("pwned"));
    const QString hostile = QStringLiteral("x; touch %1; echo $(touch %1)").arg(marker);
    const QString run = h.start(
        flow(
            R"({ "id": "echo", "kind": "shell", "with": { "argv": ["printf", "%s", "{{params.text}}"] } },
        { "id": "script", "kind": "shell", "after": ["echo"],
          "with": { "shell": true, "argv": ["printf '%s' \"$1\"", "{{params.text}}"] } })",
            R"("params": { "text": { "default": "" } },)"),
        {{QStringLiteral("text"), hostile}});
    QVERIFY(h.settleProcesses());
    QVERIFY(h.settleProcesses());
    QCOMPARE(h.step(run, QStringLiteral("echo"))
                 .output.toObject()
                 .value(QStringLiteral("stdout"))
                 .toString(),
             hostile);
    QCOMPARE(h.step(run, QStringLiteral("script"))
                 .output.toObject()
                 .value(QStringLiteral("stdout"))
                 .toString(),
             hostile);
    QVERIFY(!QFile::exists(marker));
}

// What validation points to instead of a template in "sh -c": the value in with.env, quoted by
// the script itself.
void TestEngine::templateValueReachesAScriptThroughEnv() {
    Harness h;
    const QString marker = h.dir.filePath(QStringLiteral("FILE"));
    const QString hostile = QStringLiteral("hi; touch %1 $(touch %1)").arg(marker);
    const QString run = h.start(flow(R"({ "id": "greet", "kind": "shell",
          "with": { "argv": ["sh", "-c", "echo \"$X\""], "env": { "X": "{{params.x}}" } } })",
                                     R"("params": { "x": {} },)"),
                                {{QStringLiteral("x"), hostile}});
    QVERIFY(!run.isEmpty());
    QVERIFY(h.settleProcesses());
    const StepRunRow step = h.step(run, QStringLiteral("greet"));
    QVERIFY2(step.state == StepState::Succeeded, qPrintable(step.error));
    QCOMPARE(step.output.toObject().value(QStringLiteral("stdout")).toString(),
             hostile + QLatin1Char('\n'));
    QVERIFY(!QFile::exists(marker));
}

void TestEngine::shellExitCodesMapToErrorClasses() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "perm", "kind": "shell",
          "with": { "argv": ["sh", "-c", "printf 'bad input\\033[2J\\nforged line' >&2; exit 3"], "permanent_exit_codes": [3] } },
        { "id": "trans", "kind": "shell", "with": { "argv": ["sh", "-c", "exit 1"] },
          "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 } },
        { "id": "missing", "kind": "shell", "with": { "argv": ["/nonexistent/keepflow-tool"] } })"));
    QVERIFY(h.settleProcesses());
    const StepRunRow perm = h.step(run, QStringLiteral("perm"));
    QCOMPARE(perm.state, StepState::Failed);
    QCOMPARE(perm.attempts, 1);
    QVERIFY2(perm.error.contains(QStringLiteral("code 3")) &&
                 perm.error.contains(QStringLiteral("bad input")),
             qPrintable(perm.error));
    // Its stderr reaches the error with control characters escaped: no terminal control, no
    // forged line.
    QVERIFY2(perm.error.endsWith(QStringLiteral("bad input\\x1b[2J\\nforged line")),
             qPrintable(perm.error));
    QCOMPARE(h.step(run, QStringLiteral("trans")).state, StepState::Retrying);
    QCOMPARE(h.step(run, QStringLiteral("missing")).state, StepState::Failed);
    QVERIFY(h.step(run, QStringLiteral("missing")).error.contains(QStringLiteral("cannot start")));
    h.advance(1000);
    QVERIFY(h.settleProcesses());
    QCOMPARE(h.step(run, QStringLiteral("trans")).state, StepState::Failed);
    QCOMPARE(h.step(run, QStringLiteral("trans")).attempts, 2);
}

void TestEngine::shellJsonOutputThatIsGarbageFails() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "parse", "kind": "shell",
          "with": { "argv": ["printf", "<html>oops"], "output": "json" }, "retry": { "max_attempts": 1 } },
        { "id": "good", "kind": "shell", "with": { "argv": ["printf", "{\"n\": 5}"], "output": "json" } })"));
    QVERIFY(h.settleProcesses());
    const StepRunRow bad = h.step(run, QStringLiteral("parse"));
    QCOMPARE(bad.state, StepState::Failed);
    QCOMPARE(bad.errorClass, ErrorClass::Garbage);
    QVERIFY2(bad.error.contains(QStringLiteral("oops")), qPrintable(bad.error));
    QCOMPARE(
        h.step(run, QStringLiteral("good")).output.toObject().value(QStringLiteral("n")).toInt(),
        5);
}

void TestEngine::shellTimeoutKillsProcessGroup() {
    Harness h;
    const QString pidFile = h.dir.filePath(QStringLiteral("child.pid"));
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "hang", "kind": "shell", "timeout": "2s",
        "retry": { "max_attempts": 1 },
        "with": { "argv": ["sh", "-c", "sleep 60 & echo $! > %1; wait"] } })")
                         .arg(pidFile)
                         .toUtf8()));
    QTRY_VERIFY(QFile(pidFile).size() > 0);
    QFile file(pidFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const qint64 grandchild = file.readAll().trimmed().toLongLong();
    QVERIFY(grandchild > 0);
    QVERIFY(!processGone(grandchild));
    h.advance(2000);
    const StepRunRow step = h.step(run, QStringLiteral("hang"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.errorClass, ErrorClass::Timeout);
    QTRY_VERIFY(processGone(grandchild)); // the whole group, not only the direct child
}

void TestEngine::shellOutputIsKeptForEachAttempt() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "talk", "kind": "shell",
        "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 },
        "with": { "argv": ["sh", "-c", "echo out $KEEPFLOW_ATTEMPT; echo err $KEEPFLOW_ATTEMPT >&2; exit 1"] } })"));
    QVERIFY(h.settleProcesses());
    QVERIFY(h.advanceAndSettle(1000));
    QCOMPARE(h.step(run, QStringLiteral("talk")).state, StepState::Failed);
    const auto attempts = h.store->attemptOutputs(run, QStringLiteral("talk"));
    QVERIFY2(attempts, qPrintable(attempts.error()));
    QCOMPARE(attempts->size(), 2);
    for (int n = 1; n <= 2; ++n) {
        const CapturedOutput &captured = attempts->at(n - 1).captured;
        QCOMPARE(attempts->at(n - 1).number, n);
        QCOMPARE(captured.stdoutTail, QStringLiteral("out %1\n").arg(n));
        QCOMPARE(captured.stderrTail, QStringLiteral("err %1\n").arg(n));
        QCOMPARE(captured.stdoutBytes, 6);
        QCOMPARE(captured.stderrBytes, 6);
        QVERIFY(!captured.stdoutCut() && !captured.stderrCut());
    }
    // The runs' own attempt list stays light: it does not carry what was printed.
    QVERIFY(h.attempts(run, QStringLiteral("talk")).first().captured.isEmpty());
}

void TestEngine::shellOutputKeepsItsTailWhole() {
    Harness h;
    // "é\n" 70,000 times then "END!\n": 210,005 bytes, so the last 64 KiB begin inside an "é"
    // and the tail must start after it; a NUL byte (which no text column stores) shows as U+FFFD.
    const QString run = h.start(flow(R"({ "id": "chatty", "kind": "shell",
        "with": { "argv": ["sh", "-c", "yes é | head -n 70000; echo END!; printf 'a\\000b' >&2"] } })"));
    QVERIFY(!run.isEmpty());
    QVERIFY(h.settleProcesses());
    QCOMPARE(h.step(run, QStringLiteral("chatty")).state, StepState::Succeeded);
    const auto attempts = h.store->attemptOutputs(run, QStringLiteral("chatty"));
    QVERIFY2(attempts && attempts->size() == 1, "one attempt");
    const CapturedOutput &captured = attempts->first().captured;
    QCOMPARE(captured.stdoutBytes, 70000 * 3 + 5);
    QVERIFY(captured.stdoutCut());
    const QByteArray tail = captured.stdoutTail.toUtf8();
    QVERIFY(tail.size() <= CapturedOutput::kCapturedTailBytes);
    QCOMPARE(tail.size(), CapturedOutput::kCapturedTailBytes - 1);
    QVERIFY(captured.stdoutTail.endsWith(QStringLiteral("\u00e9\nEND!\n")));
    QVERIFY2(!captured.stdoutTail.contains(QChar(QChar::ReplacementCharacter)),
             "the tail starts inside a character");
    QCOMPARE(captured.stderrTail, QStringLiteral("a\ufffdb"));
    QCOMPARE(captured.stderrBytes, 3);
}

void TestEngine::capturedTailStartsOnACharacterWhateverTheChunks() {
    // "é\n" 70,000 times then "END!\n": wherever the pipe cuts it into chunks, the kept tail
    // begins on a whole character and fits the cap.
    QByteArray printed;
    for (int i = 0; i < 70000; ++i)
        printed += "\xc3\xa9\n";
    printed += "END!\n";
    for (const qsizetype chunk : {qsizetype(1), qsizetype(7), qsizetype(4096), qsizetype(65535),
                                  qsizetype(65536), qsizetype(131073), printed.size()}) {
        CapturedStream stream;
        for (qsizetype at = 0; at < printed.size(); at += chunk)
            stream.append(printed.mid(at, chunk));
        const QString tail = stream.tailText();
        QCOMPARE(stream.total(), printed.size());
        QVERIFY2(tail.toUtf8().size() <= CapturedOutput::kCapturedTailBytes,
                 qPrintable(QString::number(chunk)));
        QVERIFY2(!tail.contains(QChar(QChar::ReplacementCharacter)),
                 qPrintable(QString::number(chunk)));
        QVERIFY(tail.endsWith(QStringLiteral("\u00e9\nEND!\n")));
        QCOMPARE(stream.head(), printed.left(CapturedStream::kMaxOutputBytes));
    }
}

void TestEngine::timedOutAttemptKeepsWhatItPrinted() {
    Harness h;
    const QString marker = h.dir.filePath(QStringLiteral("printed"));
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "hang", "kind": "shell", "timeout": "2s",
        "retry": { "max_attempts": 1 },
        "with": { "argv": ["sh", "-c", "echo waiting for the lock; echo still waiting >&2; touch %1; sleep 60"] } })")
                         .arg(marker)
                         .toUtf8()));
    QTRY_VERIFY(QFile::exists(marker));
    h.advance(2000);
    QCOMPARE(h.step(run, QStringLiteral("hang")).errorClass, ErrorClass::Timeout);
    const auto attempts = h.store->attemptOutputs(run, QStringLiteral("hang"));
    QVERIFY2(attempts && attempts->size() == 1, "one attempt");
    QCOMPARE(attempts->first().captured.stdoutTail, QStringLiteral("waiting for the lock\n"));
    QCOMPARE(attempts->first().captured.stderrTail, QStringLiteral("still waiting\n"));
}

void TestEngine::missingRequiredParamIsRefused() {
    Harness h;
    const FlowLoad load =
        parseFlow(flow(R"({ "id": "a", "kind": "noop", "with": { "output": "{{params.day}}" } })",
                       R"("params": { "day": { "description": "no default" } },)"),
                  QStringLiteral("p.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    const auto missing = h.engine->createRun(*load.flow, {}, {}, true);
    QVERIFY(!missing);
    QVERIFY2(missing.error().contains(QStringLiteral("\"day\" is required")),
             qPrintable(missing.error()));
    const auto unknown = h.engine->createRun(*load.flow, {}, {{QStringLiteral("days"), 1}}, true);
    QVERIFY(!unknown);
    QVERIFY2(unknown.error().contains(QStringLiteral("unknown parameter \"days\"")),
             qPrintable(unknown.error()));
    QCOMPARE(h.store->runs()->size(), 0); // nothing was created
}

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
