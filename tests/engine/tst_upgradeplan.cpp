// planUpgrade: what moving a run to another version of its flow keeps, replaces, adds and
// removes, and every reason it refuses. One data row per kind of difference.

#include "model/flowfile.h"
#include "operator/upgradeplan.h"

#include <QJsonArray>
#include <QTest>

using namespace keepflow;

namespace {

Flow flowOf(const QByteArray &steps, const QByteArray &name = "shop",
            const QByteArray &extra = {}) {
    const QByteArray text =
        "{ \"keepflow\": 1, \"name\": \"" + name + "\", " + extra + " \"steps\": [" + steps + "] }";
    FlowLoad load = parseFlow(text, QStringLiteral("test.flow.json"));
    if (!load.ok())
        qFatal("%s", qPrintable(load.errorText()));
    return *load.flow;
}

// a -> b -> c; the run stands as the row says ("a=succeeded,b=failed").
constexpr char kFrom[] = R"({ "id": "a", "kind": "noop" },
    { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"] },
    { "id": "c", "kind": "noop", "after": ["b"] })";

} // namespace

class TestUpgradePlan : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void plan_data();
    void plan();
    void jsonHasExactlyTheDocumentedShape();
    void flowDefaultsCountAsAChange();
};

void TestUpgradePlan::plan_data() {
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<QString>("states");
    QTest::addColumn<QString>("runState");
    QTest::addColumn<QStringList>("keep");
    QTest::addColumn<QStringList>("replace");
    QTest::addColumn<QStringList>("add");
    QTest::addColumn<QStringList>("remove");
    QTest::addColumn<QStringList>("refusedSteps"); ///< "" for the run as a whole
    QTest::addColumn<QString>("reason");           ///< in the first refusal

    const QByteArray fixedB = R"({ "id": "a", "kind": "noop" },
        { "id": "b", "kind": "noop", "after": ["a"] },
        { "id": "c", "kind": "noop", "after": ["b"] })";
    const QStringList none;

    QTest::newRow("same definition: everything kept")
        << QByteArray(kFrom) << QByteArray(kFrom) << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "b", "c"} << none << none << none << none
        << QString();
    QTest::newRow("editor positions are no change")
        << QByteArray(kFrom)
        << QByteArray(R"({ "id": "a", "kind": "noop", "ui": { "x": 40, "y": 80 } },
            { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"] },
            { "id": "c", "kind": "noop", "after": ["b"] })")
        << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "b", "c"} << none << none << none << none
        << QString();
    QTest::newRow("failed step with a new definition: replaced")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "c"} << QStringList{"b"} << none << none
        << none << QString();
    QTest::newRow("retrying step with a new definition: replaced")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=retrying"
        << "running" << QStringList{"a", "c"} << QStringList{"b"} << none << none << none
        << QString();
    QTest::newRow("succeeded step with a new definition: kept")
        << QByteArray(kFrom)
        << QByteArray(R"({ "id": "a", "kind": "noop", "with": { "output": 2 } },
            { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"] },
            { "id": "c", "kind": "noop", "after": ["b"] })")
        << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "b", "c"} << none << none << none << none
        << QString();
    QTest::newRow("skipped and via-fallback steps are kept like succeeded ones")
        << QByteArray(R"({ "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop" })")
        << QByteArray(R"({ "id": "a", "kind": "noop", "with": { "output": 1 } },
            { "id": "b", "kind": "noop", "with": { "output": 1 } })")
        << "a=skipped,b=succeeded_via_fallback"
        << "running" << QStringList{"a", "b"} << none << none << none << none << QString();
    QTest::newRow("new step: added")
        << QByteArray(kFrom)
        << QByteArray(kFrom) + R"(, { "id": "d", "kind": "noop", "after": ["a"] })"
        << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "b", "c"} << none << QStringList{"d"}
        << none << none << QString();
    QTest::newRow("step that has not run, gone: removed")
        << QByteArray(kFrom) << QByteArray(R"({ "id": "a", "kind": "noop" },
            { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"] })")
        << "a=succeeded,b=retrying"
        << "running" << QStringList{"a", "b"} << none << none << QStringList{"c"} << none
        << QString();
    QTest::newRow("skipped step, gone: removed")
        << QByteArray(R"({ "id": "a", "kind": "noop" }, { "id": "spare", "kind": "noop" })")
        << QByteArray(R"({ "id": "a", "kind": "noop" })") << "a=succeeded,spare=skipped"
        << "running" << QStringList{"a"} << none << none << QStringList{"spare"} << none
        << QString();

    QTest::newRow("refused: succeeded step gone")
        << QByteArray(kFrom)
        << QByteArray(
               R"({ "id": "b", "kind": "noop" }, { "id": "c", "kind": "noop", "after": ["b"] })")
        << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"c"} << QStringList{"b"} << none
        << QStringList{"a"} << QStringList{"a"} << "it succeeded and the new version removes it";
    QTest::newRow("refused: succeeded step would depend on a new step")
        << QByteArray(kFrom) << QByteArray(R"({ "id": "z", "kind": "noop" },
            { "id": "a", "kind": "noop", "after": ["z"] },
            { "id": "b", "kind": "fault", "with": { "fail_first": 9 }, "after": ["a"] },
            { "id": "c", "kind": "noop", "after": ["b"] })")
        << "a=succeeded,b=failed,c=blocked"
        << "completed_with_failures" << QStringList{"a", "b", "c"} << none << QStringList{"z"}
        << none << QStringList{"a"} << "would depend on new step z, which has not run";
    QTest::newRow("refused: succeeded step would depend on one that runs again")
        << QByteArray(R"({ "id": "a", "kind": "noop" },
            { "id": "b", "kind": "fault", "with": { "fail_first": 9 } })")
        << QByteArray(R"({ "id": "b", "kind": "noop" },
            { "id": "a", "kind": "noop", "after": ["b"] })")
        << "a=succeeded,b=failed"
        << "completed_with_failures" << QStringList{"a"} << QStringList{"b"} << none << none
        << QStringList{"a"} << "would depend on step b, which has not succeeded";
    QTest::newRow("succeeded step keeps waiting for one that runs again: no new dependency")
        << QByteArray(R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9 } },
            { "id": "r", "kind": "noop", "after": ["a"], "join": "all_done" })")
        << QByteArray(R"({ "id": "a", "kind": "noop" },
            { "id": "r", "kind": "noop", "after": ["a"], "join": "all_done" })")
        << "a=failed,r=succeeded"
        << "completed_with_failures" << QStringList{"r"} << QStringList{"a"} << none << none << none
        << QString();
    QTest::newRow("refused: the run succeeded")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=succeeded,c=succeeded"
        << "succeeded" << QStringList{"a", "b", "c"} << none << none << none << QStringList{""}
        << "the run is succeeded";
    QTest::newRow("refused: the run was cancelled")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=cancelled,c=cancelled"
        << "cancelled" << QStringList{"a", "c"} << QStringList{"b"} << none << none
        << QStringList{""} << "the run is cancelled";
    QTest::newRow("refused: foreach step part way through its items")
        << QByteArray(R"({ "id": "f", "kind": "noop", "foreach": [1, 2, 3] })")
        << QByteArray(R"({ "id": "f", "kind": "noop", "foreach": [1, 2, 3, 4] })") << "f=running"
        << "running" << none << QStringList{"f"} << none << none << QStringList{"f"}
        << "foreach step part way through its items";
    QTest::newRow("refused: attempt in flight, replaced")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=running"
        << "running" << QStringList{"a", "c"} << QStringList{"b"} << none << none
        << QStringList{"b"}
        << "an attempt is in flight (started, outcome not known yet) and its definition changes";
    QTest::newRow("refused: attempt in flight, removed")
        << QByteArray(kFrom)
        << QByteArray(
               R"({ "id": "a", "kind": "noop" }, { "id": "c", "kind": "noop", "after": ["a"] })")
        << "a=succeeded,b=running"
        << "running" << QStringList{"a"} << QStringList{"c"} << none << QStringList{"b"}
        << QStringList{"b"} << "the new version removes it";
    QTest::newRow("refused: attempt in flight, kept")
        << QByteArray(kFrom)
        << QByteArray(kFrom) + R"(, { "id": "d", "kind": "noop", "after": ["a"] })"
        << "a=succeeded,b=running"
        << "running" << QStringList{"a", "b", "c"} << none << QStringList{"d"} << none
        << QStringList{"b"} << "pause the run, let the attempt end";
    QTest::newRow("refused: uncertain step replaced")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=uncertain"
        << "waiting_for_operator" << QStringList{"a", "c"} << QStringList{"b"} << none << none
        << QStringList{"b"} << "its outcome is uncertain; replacing it would forget that";
    QTest::newRow("refused: uncertain step removed")
        << QByteArray(kFrom)
        << QByteArray(
               R"({ "id": "a", "kind": "noop" }, { "id": "c", "kind": "noop", "after": ["a"] })")
        << "a=succeeded,b=uncertain"
        << "waiting_for_operator" << QStringList{"a"} << QStringList{"c"} << none
        << QStringList{"b"} << QStringList{"b"}
        << "its outcome is uncertain and the new version removes it";
    QTest::newRow("uncertain step with the same definition: kept uncertain")
        << QByteArray(kFrom) << QByteArray(kFrom) + R"(, { "id": "d", "kind": "noop" })"
        << "a=succeeded,b=uncertain"
        << "waiting_for_operator" << QStringList{"a", "b", "c"} << none << QStringList{"d"} << none
        << none << QString();
    QTest::newRow("refused: held step replaced")
        << QByteArray(kFrom) << fixedB << "a=succeeded,b=paused"
        << "paused" << QStringList{"a", "c"} << QStringList{"b"} << none << none << QStringList{"b"}
        << "an operator holds it";
    QTest::newRow("refused: another flow")
        << QByteArray(kFrom) << QByteArray("OTHER") << "a=succeeded,b=failed"
        << "completed_with_failures" << none << none << none << none << QStringList{""}
        << "the file is flow \"billing\" but the run is of flow \"shop\"";
}

void TestUpgradePlan::plan() {
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    QFETCH(QString, states);
    QFETCH(QString, runState);
    QFETCH(QStringList, keep);
    QFETCH(QStringList, replace);
    QFETCH(QStringList, add);
    QFETCH(QStringList, remove);
    QFETCH(QStringList, refusedSteps);
    QFETCH(QString, reason);

    const Flow fromFlow = flowOf(from);
    const Flow toFlow = to == "OTHER" ? flowOf(kFrom, "billing") : flowOf(to);
    RunSnapshot run;
    run.flow = &fromFlow;
    run.state = *runStateFromName(runState);
    run.steps.resize(fromFlow.steps.size());
    for (const QString &pair : states.split(QLatin1Char(','))) {
        const QStringList parts = pair.split(QLatin1Char('='));
        const auto state = stepStateFromName(parts[1]);
        QVERIFY2(state, qPrintable(parts[1]));
        run.steps[fromFlow.indexOfStep(parts[0])].state = *state;
    }

    const UpgradePlan plan = planUpgrade(run, toFlow);
    QCOMPARE(plan.keep, keep);
    QCOMPARE(plan.replace, replace);
    QCOMPARE(plan.add, add);
    QCOMPARE(plan.remove, remove);
    QStringList refused;
    for (const UpgradeRefusal &refusal : plan.refusals)
        refused << refusal.step;
    QCOMPARE(refused, refusedSteps);
    if (!reason.isEmpty())
        QVERIFY2(plan.refusals.first().reason.contains(reason),
                 qPrintable(plan.refusals.first().reason));
}

void TestUpgradePlan::jsonHasExactlyTheDocumentedShape() {
    const Flow from = flowOf(kFrom);
    const Flow to =
        flowOf(R"({ "id": "b", "kind": "noop" }, { "id": "d", "kind": "noop" })", "shop");
    RunSnapshot run;
    run.flow = &from;
    run.state = RunState::CompletedWithFailures;
    run.steps.resize(3);
    run.steps[0].state = StepState::Succeeded;
    run.steps[1].state = StepState::Failed;
    run.steps[2].state = StepState::Blocked;
    const QJsonObject json = upgradePlanJson(planUpgrade(run, to));
    QCOMPARE(json.keys(), (QStringList{"add", "keep", "refusals", "remove", "replace"}));
    QCOMPARE(json.value("keep").toArray(), QJsonArray());
    QCOMPARE(json.value("replace").toArray(), QJsonArray{"b"});
    QCOMPARE(json.value("add").toArray(), QJsonArray{"d"});
    QCOMPARE(json.value("remove").toArray(), (QJsonArray{"a", "c"}));
    const QJsonArray refusals = json.value("refusals").toArray();
    QCOMPARE(refusals.size(), 1);
    QCOMPARE(refusals[0].toObject().keys(), (QStringList{"reason", "step"}));
    QCOMPARE(refusals[0].toObject().value("step").toString(), QStringLiteral("a"));

    run.state = RunState::Succeeded; // a refusal of the run as a whole has no step
    const QJsonObject whole = upgradePlanJson(planUpgrade(run, from));
    QVERIFY(whole.value("refusals").toArray()[0].toObject().value("step").isNull());
}

void TestUpgradePlan::flowDefaultsCountAsAChange() {
    // The same step text under another defaults.retry makes other attempts: it is replaced.
    const Flow from = flowOf(kFrom);
    const Flow to = flowOf(kFrom, "shop", R"("defaults": { "retry": { "max_attempts": 7 } },)");
    RunSnapshot run;
    run.flow = &from;
    run.state = RunState::Running;
    run.steps.resize(3);
    run.steps[0].state = StepState::Succeeded;
    run.steps[1].state = StepState::Retrying;
    const UpgradePlan plan = planUpgrade(run, to);
    QCOMPARE(plan.keep, (QStringList{"a"}));
    QCOMPARE(plan.keptChanged, (QStringList{"a"}));
    QCOMPARE(plan.replace, (QStringList{"b", "c"}));
}

QTEST_GUILESS_MAIN(TestUpgradePlan)
#include "tst_upgradeplan.moc"
