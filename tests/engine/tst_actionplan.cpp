// planAction: the one place the operator rules live. Data rows of state × action pin which
// actions apply in which state, what they change and what they run again; refusals say why.

#include "model/flowfile.h"
#include "operator/actionplan.h"

#include <QMetaEnum>
#include <QTest>

using namespace keepflow;
using K = OperatorAction::Kind;
using S = StepState;
using C = StepChange::Kind;

Q_DECLARE_METATYPE(keepflow::StepState)
Q_DECLARE_METATYPE(keepflow::OperatorAction::Kind)
Q_DECLARE_METATYPE(keepflow::StepChange::Kind)

namespace {

// a -> b -> c, and d after a with any_succeeded; e is a's fallback; f is a foreach; g an approval.
constexpr char kFlow[] = R"({
  "keepflow": 1, "name": "plan",
  "steps": [
    { "id": "a", "kind": "noop", "fallback": { "step": "e" } },
    { "id": "b", "kind": "noop", "after": ["a"] },
    { "id": "c", "kind": "noop", "after": ["b"] },
    { "id": "d", "kind": "noop", "after": ["a", "g"], "join": "any_succeeded" },
    { "id": "e", "kind": "noop" },
    { "id": "f", "kind": "noop", "foreach": [1, 2, 3] },
    { "id": "g", "kind": "approval", "with": { "prompt": "ok?" } }
  ]
})";

const QList<K> &stepKinds() {
    static const QList<K> kinds{K::Retry,         K::RetryFailedItems, K::Skip,
                                K::MarkSucceeded, K::ResolveHappened,  K::ResolveNotHappened,
                                K::Approve,       K::Reject,           K::SetInput,
                                K::RerunFrom,     K::PauseStep,        K::UnpauseStep};
    return kinds;
}

} // namespace

class TestActionPlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void stepActionsApplyOnlyInTheirStates_data();
    void stepActionsApplyOnlyInTheirStates();
    void retryOfAFailedStepRerunsItAndUnblocksDownstream();
    void retryOfAWaitingRetryIsDueNow();
    void retryOfAForeachReopensOnlyItsFailedItems();
    void retryFailedItemsWithoutFailedItemsIsRefused();
    void stillBlockedStepIsNotPreviewedAsRunningAgain();
    void skipLetsAnyOfDownstreamGoOn();
    void approveCarriesWhoApproved();
    void rerunFromTakesEverythingDownstreamWithNewKeys();
    void rerunFromWaitsUntilNothingInItRuns();
    void runActionsFollowTheRunState();
    void unknownStepIsRefusedWithItsName();

private:
    std::optional<Flow> m_flow;
    RunSnapshot snapshot(const QHash<QString, S> &states = {}) const;
};

void TestActionPlan::initTestCase() {
    FlowLoad load = parseFlow(kFlow, QStringLiteral("plan.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    m_flow = *load.flow;
}

RunSnapshot TestActionPlan::snapshot(const QHash<QString, S> &states) const {
    RunSnapshot run;
    run.flow = &*m_flow;
    for (const Step &step : m_flow->steps)
        run.steps.append(StepSnapshot{states.value(step.id, S::Pending), 0, 0});
    return run;
}

OperatorAction action(K kind, const QString &step = QStringLiteral("a")) {
    OperatorAction a;
    a.kind = kind;
    a.runId = QStringLiteral("r1");
    a.stepId = step;
    a.actor = QStringLiteral("ann");
    return a;
}

void TestActionPlan::stepActionsApplyOnlyInTheirStates_data() {
    QTest::addColumn<S>("state");
    QTest::addColumn<K>("kind");
    QTest::addColumn<bool>("applies");
    // For step "a" (plain, with a fallback): the states in which each action applies.
    const QHash<K, QList<S>> appliesIn{
        {K::Retry, {S::Retrying, S::Failed, S::Blocked, S::Cancelled, S::PartiallySucceeded}},
        {K::RetryFailedItems, {}},
        {K::Skip,
         {S::Pending, S::Queued, S::Scheduled, S::Retrying, S::Paused, S::Failed, S::Blocked,
          S::Uncertain, S::WaitingForOperator, S::Cancelled}},
        {K::MarkSucceeded,
         {S::Pending, S::Queued, S::Scheduled, S::Retrying, S::Paused, S::Failed, S::Blocked,
          S::Cancelled}},
        {K::ResolveHappened, {S::Uncertain}},
        {K::ResolveNotHappened, {S::Uncertain}},
        {K::Approve, {}},
        {K::Reject, {}},
        {K::SetInput,
         {S::Pending, S::Queued, S::Scheduled, S::Retrying, S::PartiallySucceeded, S::Failed,
          S::Uncertain, S::WaitingForOperator, S::Paused, S::Blocked, S::Cancelled}},
        {K::RerunFrom,
         {S::Queued, S::Scheduled, S::Retrying, S::Succeeded, S::SucceededViaFallback,
          S::PartiallySucceeded, S::Failed, S::Uncertain, S::WaitingForOperator, S::Paused,
          S::Skipped, S::Blocked, S::Cancelled}},
        {K::PauseStep, {S::Pending, S::Queued, S::Scheduled, S::Retrying}},
        {K::UnpauseStep, {S::Paused}},
    };
    const QMetaEnum actions = QMetaEnum::fromType<S>();
    for (int s = 0; s < kStepStateCount; ++s) {
        const S state = static_cast<S>(s);
        for (K kind : stepKinds()) {
            QTest::addRow("%s %s", actions.valueToKey(s), qPrintable(actionName(kind)))
                << state << kind << appliesIn.value(kind).contains(state);
        }
    }
}

void TestActionPlan::stepActionsApplyOnlyInTheirStates() {
    QFETCH(S, state);
    QFETCH(K, kind);
    QFETCH(bool, applies);
    const auto plan = planAction(snapshot({{QStringLiteral("a"), state}}), action(kind));
    QVERIFY2(plan.isOk() == applies, qPrintable(plan ? plan->message : plan.error()));
    if (plan) {
        QVERIFY(!plan->message.isEmpty());
    } else {
        QVERIFY2(plan.error().contains(QLatin1String("step a")), qPrintable(plan.error()));
    }
}

void TestActionPlan::retryOfAFailedStepRerunsItAndUnblocksDownstream() {
    const auto plan = planAction(snapshot({{QStringLiteral("a"), S::Failed},
                                           {QStringLiteral("b"), S::Blocked},
                                           {QStringLiteral("c"), S::Blocked}}),
                                 action(K::Retry));
    QVERIFY(plan);
    QCOMPARE(plan->changes.size(), 1);
    QCOMPARE(plan->changes[0].kind, C::Rerun);
    QVERIFY(plan->changes[0].freshBudget);
    QCOMPARE(plan->runAgain,
             (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    QCOMPARE(plan->message, QStringLiteral("step a runs again with a fresh budget of 3 attempts"));
}

void TestActionPlan::retryOfAWaitingRetryIsDueNow() {
    const auto plan = planAction(snapshot({{QStringLiteral("a"), S::Retrying}}), action(K::Retry));
    QVERIFY(plan);
    QCOMPARE(plan->changes.size(), 1);
    QCOMPARE(plan->changes[0].kind, C::RetryNow);
    QCOMPARE(plan->runAgain, QStringList{QStringLiteral("a")});
    QCOMPARE(plan->message, QStringLiteral("step a retries now"));
}

void TestActionPlan::retryOfAForeachReopensOnlyItsFailedItems() {
    RunSnapshot run = snapshot({{QStringLiteral("f"), S::PartiallySucceeded}});
    run.steps[5].failedItems = 2;
    for (K kind : {K::Retry, K::RetryFailedItems}) {
        const auto plan = planAction(run, action(kind, QStringLiteral("f")));
        QVERIFY(plan);
        QCOMPARE(plan->changes.size(), 1);
        QCOMPARE(plan->changes[0].kind, C::ReopenItems);
        QVERIFY(plan->changes[0].reopenFailedItems);
        QVERIFY(!plan->changes[0].uncertainItemsTo);
        QCOMPARE(plan->message,
                 QStringLiteral("step f: 2 failed item(s) run again; succeeded items are kept"));
    }
}

void TestActionPlan::retryFailedItemsWithoutFailedItemsIsRefused() {
    const auto plan = planAction(snapshot({{QStringLiteral("f"), S::PartiallySucceeded}}),
                                 action(K::RetryFailedItems, QStringLiteral("f")));
    QVERIFY(!plan);
    QCOMPARE(plan.error(), QStringLiteral("step f has no failed items"));
    // Retry falls back to running the whole step again.
    const auto retry = planAction(snapshot({{QStringLiteral("f"), S::PartiallySucceeded}}),
                                  action(K::Retry, QStringLiteral("f")));
    QVERIFY(retry);
    QCOMPARE(retry->changes[0].kind, C::Rerun);
}

void TestActionPlan::stillBlockedStepIsNotPreviewedAsRunningAgain() {
    // b is blocked by a, which failed for good: retrying b resets it, but it is blocked again.
    const auto plan =
        planAction(snapshot({{QStringLiteral("a"), S::Failed}, {QStringLiteral("b"), S::Blocked}}),
                   action(K::Retry, QStringLiteral("b")));
    QVERIFY(plan);
    QCOMPARE(plan->changes[0].kind, C::Rerun);
    QVERIFY(plan->runAgain.isEmpty());
}

void TestActionPlan::skipLetsAnyOfDownstreamGoOn() {
    const auto plan = planAction(snapshot({{QStringLiteral("a"), S::Failed},
                                           {QStringLiteral("b"), S::Blocked},
                                           {QStringLiteral("d"), S::Blocked},
                                           {QStringLiteral("g"), S::Failed}}),
                                 action(K::Skip));
    QVERIFY(plan);
    QCOMPARE(plan->changes[0].kind, C::Settle);
    QCOMPARE(plan->changes[0].settleAs, StepEvent::OperatorSkipped);
    QCOMPARE(plan->runAgain, (QStringList{QStringLiteral("b"), QStringLiteral("d")}));
    QCOMPARE(plan->message, QStringLiteral("step a is skipped"));
}

void TestActionPlan::approveCarriesWhoApproved() {
    OperatorAction approve = action(K::Approve, QStringLiteral("g"));
    approve.reason = QStringLiteral("looks right");
    const auto plan = planAction(snapshot({{QStringLiteral("g"), S::WaitingForOperator}}), approve);
    QVERIFY(plan);
    QCOMPARE(plan->changes[0].kind, C::Settle);
    QCOMPARE(plan->changes[0].output.toObject().value(QLatin1String("approved_by")).toString(),
             QStringLiteral("ann"));
    const auto notApproval =
        planAction(snapshot({{QStringLiteral("a"), S::WaitingForOperator}}), action(K::Approve));
    QVERIFY(!notApproval);
    QVERIFY(notApproval.error().contains(QLatin1String("not an approval")));
    const auto reject = planAction(snapshot({{QStringLiteral("g"), S::WaitingForOperator}}),
                                   action(K::Reject, QStringLiteral("g")));
    QVERIFY(reject);
    QCOMPARE(reject->changes[0].kind, C::Reject);
    QCOMPARE(reject->changes[0].error, QStringLiteral("rejected by ann"));
}

void TestActionPlan::rerunFromTakesEverythingDownstreamWithNewKeys() {
    const auto plan = planAction(snapshot({{QStringLiteral("a"), S::Succeeded},
                                           {QStringLiteral("b"), S::Succeeded},
                                           {QStringLiteral("c"), S::Failed}}),
                                 action(K::RerunFrom));
    QVERIFY(plan);
    QCOMPARE(plan->changes.size(), 4);
    for (const StepChange &change : plan->changes)
        QCOMPARE(change.kind, C::NewGeneration);
    QCOMPARE(plan->runAgain, (QStringList{QStringLiteral("a"), QStringLiteral("b"),
                                          QStringLiteral("c"), QStringLiteral("d")}));
}

void TestActionPlan::rerunFromWaitsUntilNothingInItRuns() {
    const auto plan = planAction(
        snapshot({{QStringLiteral("a"), S::Succeeded}, {QStringLiteral("c"), S::Running}}),
        action(K::RerunFrom));
    QVERIFY(!plan);
    QCOMPARE(plan.error(),
             QStringLiteral("step c is running: rerun-from waits until nothing in it runs"));
}

void TestActionPlan::runActionsFollowTheRunState() {
    RunSnapshot run =
        snapshot({{QStringLiteral("a"), S::Running}, {QStringLiteral("b"), S::Failed}});
    QVERIFY(planAction(run, action(K::PauseRun, {})));
    QVERIFY(!planAction(run, action(K::UnpauseRun, {})));
    const auto cancel = planAction(run, action(K::CancelRun, {}));
    QVERIFY(cancel);
    QCOMPARE(cancel->runChange, ActionPlan::RunChange::Cancel);
    QCOMPARE(cancel->changes.size(), 6); // every step but the failed one
    run.paused = true;
    QCOMPARE(planAction(run, action(K::PauseRun, {})).error(),
             QStringLiteral("run r1 is already paused"));
    QVERIFY(planAction(run, action(K::UnpauseRun, {})));
    run.state = RunState::Failed;
    QCOMPARE(planAction(run, action(K::CancelRun, {})).error(),
             QStringLiteral("run r1 is already failed"));
}

void TestActionPlan::unknownStepIsRefusedWithItsName() {
    const auto plan = planAction(snapshot(), action(K::Retry, QStringLiteral("nope")));
    QVERIFY(!plan);
    QCOMPARE(plan.error(), QStringLiteral("run r1 has no step \"nope\""));
}

QTEST_GUILESS_MAIN(TestActionPlan)
#include "tst_actionplan.moc"
