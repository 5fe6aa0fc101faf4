#include "core/states.h"

#include <QTest>

using namespace keepflow;

Q_DECLARE_METATYPE(std::optional<keepflow::StepState>)

class TestStates : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void transitions_data();
    void transitions();
    void runStateFollowsSteps_data();
    void runStateFollowsSteps();
    void namesRoundTrip();
    void exitCodesFollowContract();
};

void TestStates::transitions_data() {
    QTest::addColumn<StepState>("from");
    QTest::addColumn<StepEvent>("event");
    QTest::addColumn<std::optional<StepState>>("to");
    using S = StepState;
    using E = StepEvent;
    const std::optional<StepState> refused;
    QTest::newRow("pending starts") << S::Pending << E::AttemptStarted << std::optional(S::Running);
    QTest::newRow("pending waits for a time")
        << S::Pending << E::Delayed << std::optional(S::Scheduled);
    QTest::newRow("pending waits for a slot")
        << S::Pending << E::Enqueued << std::optional(S::Queued);
    QTest::newRow("pending blocked")
        << S::Pending << E::UpstreamFailed << std::optional(S::Blocked);
    QTest::newRow("unused fallback skipped")
        << S::Pending << E::NotNeeded << std::optional(S::Skipped);
    QTest::newRow("pending cannot succeed") << S::Pending << E::AttemptSucceeded << refused;
    QTest::newRow("running succeeds")
        << S::Running << E::AttemptSucceeded << std::optional(S::Succeeded);
    QTest::newRow("running retries")
        << S::Running << E::AttemptFailed << std::optional(S::Retrying);
    QTest::newRow("running fails") << S::Running << E::FailedForGood << std::optional(S::Failed);
    QTest::newRow("running falls back")
        << S::Running << E::FallbackUsed << std::optional(S::SucceededViaFallback);
    QTest::newRow("foreach partly failed")
        << S::Running << E::ItemsPartlyFailed << std::optional(S::PartiallySucceeded);
    QTest::newRow("pending cannot be partial") << S::Pending << E::ItemsPartlyFailed << refused;
    QTest::newRow("running uncertain")
        << S::Running << E::OutcomeUnknown << std::optional(S::Uncertain);
    QTest::newRow("running cannot be blocked") << S::Running << E::UpstreamFailed << refused;
    QTest::newRow("retrying starts again")
        << S::Retrying << E::AttemptStarted << std::optional(S::Running);
    QTest::newRow("retrying past deadline")
        << S::Retrying << E::FailedForGood << std::optional(S::Failed);
    QTest::newRow("retrying cannot succeed unseen")
        << S::Retrying << E::AttemptSucceeded << refused;
    QTest::newRow("scheduled starts")
        << S::Scheduled << E::AttemptStarted << std::optional(S::Running);
    QTest::newRow("queued starts") << S::Queued << E::AttemptStarted << std::optional(S::Running);
    QTest::newRow("succeeded is final") << S::Succeeded << E::AttemptStarted << refused;
    QTest::newRow("failed is final") << S::Failed << E::AttemptFailed << refused;
    QTest::newRow("cancel a running step")
        << S::Running << E::Cancel << std::optional(S::Cancelled);
    QTest::newRow("cancel a pending step")
        << S::Pending << E::Cancel << std::optional(S::Cancelled);
    QTest::newRow("retry a failed step") << S::Failed << E::Reset << std::optional(S::Pending);
    QTest::newRow("rerun a succeeded step")
        << S::Succeeded << E::Reset << std::optional(S::Pending);
    QTest::newRow("no reset while running") << S::Running << E::Reset << refused;
    QTest::newRow("skip a failed step")
        << S::Failed << E::OperatorSkipped << std::optional(S::Skipped);
    QTest::newRow("skip a waiting step")
        << S::Retrying << E::OperatorSkipped << std::optional(S::Skipped);
    QTest::newRow("cannot skip a running step") << S::Running << E::OperatorSkipped << refused;
    QTest::newRow("cannot skip a succeeded step") << S::Succeeded << E::OperatorSkipped << refused;
    QTest::newRow("resolve: it happened")
        << S::Uncertain << E::OperatorSucceeded << std::optional(S::Succeeded);
    QTest::newRow("approve") << S::WaitingForOperator << E::OperatorSucceeded
                             << std::optional(S::Succeeded);
    QTest::newRow("reject") << S::WaitingForOperator << E::FailedForGood
                            << std::optional(S::Failed);
    QTest::newRow("hold a pending step") << S::Pending << E::Held << std::optional(S::Paused);
    QTest::newRow("cannot hold a running step") << S::Running << E::Held << refused;
    QTest::newRow("unpause") << S::Paused << E::Reset << std::optional(S::Pending);
    QTest::newRow("approval waits")
        << S::Pending << E::AwaitOperator << std::optional(S::WaitingForOperator);
    QTest::newRow("cancel leaves success alone") << S::Succeeded << E::Cancel << refused;
}

void TestStates::transitions() {
    QFETCH(StepState, from);
    QFETCH(StepEvent, event);
    QFETCH(std::optional<StepState>, to);
    QCOMPARE(nextStepState(from, event), to);
}

void TestStates::runStateFollowsSteps_data() {
    QTest::addColumn<QList<StepState>>("steps");
    QTest::addColumn<RunState>("expected");
    using S = StepState;
    QTest::newRow("all succeeded")
        << QList<S>{S::Succeeded, S::SucceededViaFallback, S::Skipped} << RunState::Succeeded;
    QTest::newRow("something running")
        << QList<S>{S::Succeeded, S::Running, S::Pending} << RunState::Running;
    QTest::newRow("retrying keeps it running")
        << QList<S>{S::Retrying, S::Failed} << RunState::Running;
    QTest::newRow("one branch failed")
        << QList<S>{S::Succeeded, S::Failed, S::Blocked} << RunState::CompletedWithFailures;
    QTest::newRow("partial success")
        << QList<S>{S::PartiallySucceeded, S::Succeeded} << RunState::CompletedWithFailures;
    QTest::newRow("nothing succeeded")
        << QList<S>{S::Failed, S::Blocked, S::Blocked} << RunState::Failed;
    QTest::newRow("uncertain waits")
        << QList<S>{S::Succeeded, S::Uncertain, S::Pending} << RunState::WaitingForOperator;
    QTest::newRow("approval waits")
        << QList<S>{S::WaitingForOperator, S::Failed} << RunState::WaitingForOperator;
    QTest::newRow("held step pauses") << QList<S>{S::Succeeded, S::Paused} << RunState::Paused;
    QTest::newRow("cancelled") << QList<S>{S::Succeeded, S::Cancelled} << RunState::Cancelled;
}

void TestStates::runStateFollowsSteps() {
    QFETCH(QList<StepState>, steps);
    QFETCH(RunState, expected);
    StepStateCounts counts{};
    for (StepState s : steps)
        ++counts[static_cast<int>(s)];
    QCOMPARE(deriveRunState(counts), expected);
}

void TestStates::namesRoundTrip() {
    QCOMPARE(stateName(StepState::SucceededViaFallback), QStringLiteral("succeeded_via_fallback"));
    QCOMPARE(stateName(StepState::WaitingForOperator), QStringLiteral("waiting_for_operator"));
    QCOMPARE(stateName(RunState::CompletedWithFailures), QStringLiteral("completed_with_failures"));
    for (int i = 0; i < kStepStateCount; ++i) {
        const auto state = static_cast<StepState>(i);
        QCOMPARE(stepStateFromName(stateName(state)), std::optional(state));
    }
    QCOMPARE(outcomeFromName(outcomeName(AttemptOutcome::TimedOut)),
             std::optional(AttemptOutcome::TimedOut));
    QCOMPARE(errorClassName(ErrorClass::Garbage), QStringLiteral("garbage"));
    QVERIFY(!stepStateFromName(QStringLiteral("done")));
}

void TestStates::exitCodesFollowContract() {
    QCOMPARE(exitCodeFor(RunState::Succeeded), 0);
    QCOMPARE(exitCodeFor(RunState::CompletedWithFailures), 2);
    QCOMPARE(exitCodeFor(RunState::Failed), 3);
    QCOMPARE(exitCodeFor(RunState::WaitingForOperator), 4);
    QCOMPARE(exitCodeFor(RunState::Paused), 4);
    QCOMPARE(exitCodeFor(RunState::Cancelled), 5);
}

QTEST_GUILESS_MAIN(TestStates)
#include "tst_states.moc"
