// A run compared with another (engine/api/rundiff.h): known pairs of runs of one flow, executed
// by a test engine on a ManualClock, compared through the OperatorApi as keepflowctl and the
// desktop do; which run is "the last good one" by default; the JSON paths where two values
// differ; and when durations count as different.

#include "api/operatorapi.h"
#include "api/rundiff.h"
#include "harness.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace keepflow;

namespace {

// `fetch` fails its first `failures` attempts (transient, three attempts with a 1 s back-off
// growing from there), `count` reports `total`, `region` reaches no step.
const QByteArray kFlowV1 = R"({ "keepflow": 1, "name": "nightly-report",
  "params": { "region": { "default": "eu" }, "failures": { "default": 0 },
              "total": { "default": 1 } },
  "steps": [
    { "id": "fetch", "kind": "fault",
      "with": { "fail_first": "{{params.failures}}", "error": "transient",
                "output": { "rows": 3 } },
      "retry": { "max_attempts": 3, "initial_interval": "1s" } },
    { "id": "count", "kind": "noop", "after": ["fetch"],
      "with": { "output": { "total": "{{params.total}}" } } } ] })";

// The next version: `notify` added after `count`.
const QByteArray kFlowV2 = R"({ "keepflow": 1, "name": "nightly-report",
  "params": { "region": { "default": "eu" }, "failures": { "default": 0 },
              "total": { "default": 1 } },
  "steps": [
    { "id": "fetch", "kind": "fault",
      "with": { "fail_first": "{{params.failures}}", "error": "transient",
                "output": { "rows": 3 } },
      "retry": { "max_attempts": 3, "initial_interval": "1s" } },
    { "id": "count", "kind": "noop", "after": ["fetch"],
      "with": { "output": { "total": "{{params.total}}" } } },
    { "id": "notify", "kind": "noop", "after": ["count"] } ] })";

const QByteArray kOtherFlow = R"({ "keepflow": 1, "name": "weekly-cleanup",
  "steps": [ { "id": "sweep", "kind": "noop" } ] })";

QJsonObject object(const char *json) {
    return QJsonDocument::fromJson(json).object();
}

/// A test engine and the OperatorApi on its database and clock.
struct Fixture {
    Harness harness;
    std::unique_ptr<OperatorApi> api;

    Fixture() {
        OperatorApi::Options options;
        options.clock = &harness.clock;
        options.ownerIsDead = [](const QString &) { return true; };
        auto opened = OperatorApi::open(harness.dbPath(), options);
        QVERIFY2(opened, qPrintable(opened.error()));
        api = std::move(*opened);
    }

    /// Starts a run of flowText with params and moves the clock until it has finished (its
    /// retries fall due); a minute later on the clock than the run before.
    QString finishedRun(const QByteArray &flowText, const QJsonObject &params = {}) {
        harness.clock.advance(60'000);
        const QString run = harness.start(flowText, params);
        for (int minute = 0; minute < 10 && harness.runState(run) == RunState::Running; ++minute)
            harness.advanceAndSettle(60'000);
        return run;
    }

    QJsonObject diffJson(const QString &run, const QString &other) {
        auto diff = diffRuns(*api, run, other);
        if (!diff) {
            qWarning().noquote() << diff.error();
            return {};
        }
        return runDiffJson(*diff);
    }
};

} // namespace

class TestRunDiff : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void knownPairs_data();
    void knownPairs();
    void failedStepDiffersInStateAttemptsDurationAndError();
    void outputDifferencesNameTheirPaths();
    void addedStepIsADefinitionChangeWithNullOnTheOtherSide();
    void defaultOtherIsTheLastSucceededRunBefore();
    void noSucceededRunBeforeIsAnErrorNamingTheFlow();
    void unknownRunIsAnErrorNamingIt();
    void runsOfTwoFlowsAreNotCompared();
    void textSaysWhatDiffers();
    void jsonDifferences_data();
    void jsonDifferences();
    void durationsDifferBeyondTheTolerance_data();
    void durationsDifferBeyondTheTolerance();
};

void TestRunDiff::knownPairs_data() {
    QTest::addColumn<QByteArray>("runFlow");
    QTest::addColumn<QJsonObject>("runParams");
    QTest::addColumn<QByteArray>("otherFlow");
    QTest::addColumn<QJsonObject>("otherParams");
    QTest::addColumn<bool>("sameRun");
    // What the JSON holds besides "run" and "other" (and "steps", checked by the tests below).
    QTest::addColumn<QJsonObject>("expected");
    QTest::addColumn<QStringList>("differingSteps");

    QTest::newRow("same run twice") << kFlowV1 << QJsonObject() << kFlowV1 << QJsonObject() << true
                                    << QJsonObject() << QStringList();
    QTest::newRow("same flow and params") << kFlowV1 << QJsonObject() << kFlowV1 << QJsonObject()
                                          << false << QJsonObject() << QStringList();
    QTest::newRow("a param no step reads changed")
        << kFlowV1 << object(R"({"region": "us"})") << kFlowV1 << QJsonObject() << false
        << object(R"({"params": {"region": ["us", "eu"]}})") << QStringList();
    QTest::newRow("a step failed that succeeded")
        << kFlowV1 << object(R"({"failures": 5})") << kFlowV1 << QJsonObject() << false
        << object(R"({"params": {"failures": [5, 0]}})")
        << QStringList{QStringLiteral("fetch"), QStringLiteral("count")};
    QTest::newRow("an output changed")
        << kFlowV1 << object(R"({"total": 2})") << kFlowV1 << QJsonObject() << false
        << object(R"({"params": {"total": [2, 1]}})") << QStringList{QStringLiteral("count")};
    QTest::newRow("a step added") << kFlowV2 << QJsonObject() << kFlowV1 << QJsonObject() << false
                                  << object(R"({"flow_versions": [2, 1]})")
                                  << QStringList{QStringLiteral("notify")};
}

void TestRunDiff::knownPairs() {
    QFETCH(QByteArray, runFlow);
    QFETCH(QJsonObject, runParams);
    QFETCH(QByteArray, otherFlow);
    QFETCH(QJsonObject, otherParams);
    QFETCH(bool, sameRun);
    QFETCH(QJsonObject, expected);
    QFETCH(QStringList, differingSteps);

    Fixture f;
    const QString other = f.finishedRun(otherFlow, otherParams);
    const QString run = sameRun ? other : f.finishedRun(runFlow, runParams);
    QCOMPARE(f.harness.runState(other), RunState::Succeeded);

    auto diff = diffRuns(*f.api, run, other);
    QVERIFY2(diff, qPrintable(diff.error()));
    QJsonObject json = runDiffJson(*diff);
    QCOMPARE(json.take(QStringLiteral("run")).toString(), run);
    QCOMPARE(json.take(QStringLiteral("other")).toString(), other);
    QStringList stepIds;
    for (const QJsonValue &step : json.take(QStringLiteral("steps")).toArray())
        stepIds << step.toObject().value(QStringLiteral("id")).toString();
    QCOMPARE(json, expected);
    QCOMPARE(stepIds, differingSteps);
    QCOMPARE(diff->isEmpty(), expected.isEmpty() && differingSteps.isEmpty());
}

void TestRunDiff::failedStepDiffersInStateAttemptsDurationAndError() {
    Fixture f;
    const QString good = f.finishedRun(kFlowV1);
    const QString bad = f.finishedRun(kFlowV1, object(R"({"failures": 5})"));
    QCOMPARE(f.harness.runState(bad), RunState::Failed);
    const StepRunRow failed = f.harness.step(bad, QStringLiteral("fetch"));
    const StepRunRow succeeded = f.harness.step(good, QStringLiteral("fetch"));
    QCOMPARE(failed.attempts, 3);
    QVERIFY(!failed.error.isEmpty());
    // The back-offs between the three attempts took seconds of the clock; the good one none.
    QVERIFY(failed.endedAt - failed.startedAt >= 2000);
    QCOMPARE(succeeded.endedAt - succeeded.startedAt, 0);

    const QJsonObject json = f.diffJson(bad, good);
    const QJsonArray steps = json.value(QStringLiteral("steps")).toArray();
    QCOMPARE(steps.size(), 2);
    const QJsonObject fetch = steps.at(0).toObject();
    const QJsonObject expected{
        {QStringLiteral("id"), QStringLiteral("fetch")},
        {QStringLiteral("state"),
         QJsonArray{QStringLiteral("failed"), QStringLiteral("succeeded")}},
        {QStringLiteral("attempts"), QJsonArray{3, 1}},
        {QStringLiteral("duration_ms"), QJsonArray{failed.endedAt - failed.startedAt, 0}},
        {QStringLiteral("error"), QJsonArray{failed.error, QJsonValue::Null}},
        {QStringLiteral("output_differs"), true}};
    QCOMPARE(fetch, expected);
    // Downstream never ran in the failed run: no attempts, no output, and why as its error.
    const StepRunRow blocked = f.harness.step(bad, QStringLiteral("count"));
    QVERIFY(!blocked.error.isEmpty());
    const QJsonObject count = steps.at(1).toObject();
    QCOMPARE(count.value(QStringLiteral("id")).toString(), QStringLiteral("count"));
    QCOMPARE(count.value(QStringLiteral("state")).toArray(),
             (QJsonArray{stateName(blocked.state), QStringLiteral("succeeded")}));
    QCOMPARE(count.value(QStringLiteral("attempts")).toArray(), (QJsonArray{0, 1}));
    QCOMPARE(count.value(QStringLiteral("error")).toArray(),
             (QJsonArray{blocked.error, QJsonValue::Null}));
    QCOMPARE(count.value(QStringLiteral("output_differs")).toBool(), true);
}

void TestRunDiff::outputDifferencesNameTheirPaths() {
    Fixture f;
    const QString one = f.finishedRun(kFlowV1);
    const QString two = f.finishedRun(kFlowV1, object(R"({"total": 2})"));
    auto diff = diffRuns(*f.api, two, one);
    QVERIFY2(diff, qPrintable(diff.error()));
    QCOMPARE(diff->steps.size(), 1);
    const StepDiff &count = diff->steps.first();
    QCOMPARE(count.stepId, QStringLiteral("count"));
    QCOMPARE(count.outputPaths, QStringList{QStringLiteral("$.total")});
    QVERIFY(!count.stateDiffers && !count.attemptsDiffer && !count.durationDiffers &&
            !count.errorDiffers && !count.definitionDiffers());
    // Exactly the step's key: a step whose only difference is its output.
    QCOMPARE(runDiffJson(*diff).value(QStringLiteral("steps")).toArray(),
             (QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("count")},
                                     {QStringLiteral("output_differs"), true}}}));
}

void TestRunDiff::addedStepIsADefinitionChangeWithNullOnTheOtherSide() {
    Fixture f;
    const QString old = f.finishedRun(kFlowV1);
    const QString current = f.finishedRun(kFlowV2);
    auto diff = diffRuns(*f.api, current, old);
    QVERIFY2(diff, qPrintable(diff.error()));
    QCOMPARE(diff->version, 2);
    QCOMPARE(diff->otherVersion, 1);
    const StepDiff *notify = diff->step(QStringLiteral("notify"));
    QVERIFY(notify);
    QVERIFY(notify->definitionAdded);
    QVERIFY(notify->run && !notify->other);
    QVERIFY(!diff->step(QStringLiteral("fetch")));
    const QJsonObject step = runDiffJson(*diff).value(QStringLiteral("steps"))[0].toObject();
    QCOMPARE(step.value(QStringLiteral("state")).toArray(),
             (QJsonArray{QStringLiteral("succeeded"), QJsonValue::Null}));
    QCOMPARE(step.value(QStringLiteral("attempts")).toArray(), (QJsonArray{1, QJsonValue::Null}));

    // The other way round the step was removed: null on the run's side.
    auto back = diffRuns(*f.api, old, current);
    QVERIFY2(back, qPrintable(back.error()));
    QVERIFY(back->step(QStringLiteral("notify"))->definitionRemoved);
    const QJsonObject removed = runDiffJson(*back).value(QStringLiteral("steps"))[0].toObject();
    QCOMPARE(removed.value(QStringLiteral("state")).toArray(),
             (QJsonArray{QJsonValue::Null, QStringLiteral("succeeded")}));
}

void TestRunDiff::defaultOtherIsTheLastSucceededRunBefore() {
    Fixture f;
    const QString firstGood = f.finishedRun(kFlowV1);
    const QString lastGood = f.finishedRun(kFlowV1);
    f.finishedRun(kOtherFlow); // succeeded, newer, of another flow
    const QString newerFailed = f.finishedRun(kFlowV1, object(R"({"failures": 5})"));
    QCOMPARE(f.harness.runState(newerFailed), RunState::Failed);
    const QString run = f.finishedRun(kFlowV1, object(R"({"failures": 5})"));
    const QString laterGood = f.finishedRun(kFlowV1); // after the run: not its last good one

    auto last = f.api->lastSucceededRunBefore(run);
    QVERIFY2(last, qPrintable(last.error()));
    QVERIFY(last->has_value());
    QCOMPARE((*last)->id, lastGood);
    QCOMPARE(f.diffJson(run, {}).value(QStringLiteral("other")).toString(), lastGood);
    // A succeeded run is compared with the one before it, never with itself.
    QCOMPARE(f.diffJson(lastGood, {}).value(QStringLiteral("other")).toString(), firstGood);
    QCOMPARE(f.diffJson(laterGood, {}).value(QStringLiteral("other")).toString(), lastGood);
}

void TestRunDiff::noSucceededRunBeforeIsAnErrorNamingTheFlow() {
    Fixture f;
    const QString failed = f.finishedRun(kFlowV1, object(R"({"failures": 5})"));
    f.finishedRun(kFlowV1); // succeeded, but after it
    auto last = f.api->lastSucceededRunBefore(failed);
    QVERIFY2(last, qPrintable(last.error()));
    QVERIFY(!last->has_value());
    auto diff = diffRuns(*f.api, failed);
    QVERIFY(!diff);
    QVERIFY2(diff.error().contains(QStringLiteral("\"nightly-report\"")), qPrintable(diff.error()));
    QVERIFY2(diff.error().contains(failed), qPrintable(diff.error()));
}

void TestRunDiff::unknownRunIsAnErrorNamingIt() {
    Fixture f;
    const QString run = f.finishedRun(kFlowV1);
    for (const auto &[a, b] : {std::pair{QStringLiteral("no-such-run"), run},
                               std::pair{run, QStringLiteral("no-such-run")}}) {
        auto diff = diffRuns(*f.api, a, b);
        QVERIFY(!diff);
        QVERIFY2(diff.error().contains(QStringLiteral("no-such-run")), qPrintable(diff.error()));
    }
    QVERIFY(!f.api->lastSucceededRunBefore(QStringLiteral("no-such-run")));
}

void TestRunDiff::runsOfTwoFlowsAreNotCompared() {
    Fixture f;
    const QString report = f.finishedRun(kFlowV1);
    const QString cleanup = f.finishedRun(kOtherFlow);
    auto diff = diffRuns(*f.api, report, cleanup);
    QVERIFY(!diff);
    QVERIFY2(diff.error().contains(QStringLiteral("weekly-cleanup")) &&
                 diff.error().contains(QStringLiteral("nightly-report")),
             qPrintable(diff.error()));
}

void TestRunDiff::textSaysWhatDiffers() {
    Fixture f;
    const QString good = f.finishedRun(kFlowV1);
    const QString bad = f.finishedRun(kFlowV2, object(R"({"failures": 5})"));
    auto diff = diffRuns(*f.api, bad, good);
    QVERIFY2(diff, qPrintable(diff.error()));
    const QString text = runDiffText(*diff);
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY2(lines.first().contains(bad) && lines.first().contains(good), qPrintable(text));
    auto lineWith = [&lines](const QString &a, const QString &b) {
        return std::any_of(lines.begin(), lines.end(), [&](const QString &line) {
            return line.contains(a) && line.contains(b);
        });
    };
    QVERIFY2(lineWith(QStringLiteral("failures"), QStringLiteral("5")), qPrintable(text));
    QVERIFY2(lineWith(QStringLiteral("version"), QStringLiteral("2")), qPrintable(text));
    QVERIFY2(lineWith(QStringLiteral("step fetch"), QStringLiteral("failed")), qPrintable(text));
    QVERIFY2(lineWith(QStringLiteral("step notify"), QStringLiteral("added")), qPrintable(text));
    QVERIFY2(lineWith(QStringLiteral("attempts"), QStringLiteral("3")), qPrintable(text));

    auto same = diffRuns(*f.api, good, good);
    QVERIFY2(same, qPrintable(same.error()));
    QVERIFY2(runDiffText(*same).contains(QStringLiteral("no differences")),
             qPrintable(runDiffText(*same)));
}

void TestRunDiff::jsonDifferences_data() {
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<QStringList>("paths");
    QTest::newRow("equal") << QByteArray(R"({"a": [1, {"b": null}]})")
                           << QByteArray(R"({"a": [1, {"b": null}]})") << QStringList();
    QTest::newRow("a scalar") << QByteArray(R"({"a": 1, "b": 2})")
                              << QByteArray(R"({"a": 1, "b": 3})") << QStringList{"$.b"};
    QTest::newRow("a type") << QByteArray(R"({"a": "1"})") << QByteArray(R"({"a": 1})")
                            << QStringList{"$.a"};
    QTest::newRow("the whole value")
        << QByteArray(R"([1])") << QByteArray(R"({"a": 1})") << QStringList{"$"};
    QTest::newRow("a key on one side")
        << QByteArray(R"({"a": 1})") << QByteArray(R"({"a": 1, "z": {"deep": 1}})")
        << QStringList{"$.z"};
    QTest::newRow("array elements")
        << QByteArray(R"({"rows": [1, 2, 3]})") << QByteArray(R"({"rows": [1, 5]})")
        << QStringList{"$.rows[1]", "$.rows[2]"};
    QTest::newRow("nested, in order") << QByteArray(R"({"b": {"x": [0, {"y": 1}]}, "a": true})")
                                      << QByteArray(R"({"b": {"x": [0, {"y": 2}]}, "a": false})")
                                      << QStringList{"$.a", "$.b.x[1].y"};
    QTest::newRow("a key that is no name")
        << QByteArray(R"({"odd key": 1})") << QByteArray(R"({"odd key": 2})")
        << QStringList{R"($["odd key"])"};
}

void TestRunDiff::jsonDifferences() {
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(QStringList, paths);
    const QJsonValue left = QJsonDocument::fromJson("[" + a + "]").array().at(0);
    const QJsonValue right = QJsonDocument::fromJson("[" + b + "]").array().at(0);
    QVERIFY(!left.isUndefined() && !right.isUndefined());
    QCOMPARE(keepflow::jsonDifferences(left, right), paths);
    // Symmetric in what it names.
    QCOMPARE(keepflow::jsonDifferences(right, left), paths);
}

void TestRunDiff::durationsDifferBeyondTheTolerance_data() {
    QTest::addColumn<qint64>("a");
    QTest::addColumn<qint64>("b"); // -1: none (not ended)
    QTest::addColumn<bool>("differ");
    QTest::newRow("equal") << qint64(5000) << qint64(5000) << false;
    QTest::newRow("jitter under a second") << qint64(300) << qint64(900) << false;
    QTest::newRow("a second more, but not half as long again")
        << qint64(60'000) << qint64(61'500) << false;
    QTest::newRow("three times as long") << qint64(3000) << qint64(1000) << true;
    QTest::newRow("from nothing to seconds") << qint64(0) << qint64(1000) << true;
    QTest::newRow("one has not ended") << qint64(0) << qint64(-1) << true;
}

void TestRunDiff::durationsDifferBeyondTheTolerance() {
    QFETCH(qint64, a);
    QFETCH(qint64, b);
    QFETCH(bool, differ);
    const std::optional<qint64> other = b < 0 ? std::nullopt : std::optional<qint64>(b);
    QCOMPARE(durationsDiffer(a, other), differ);
    QCOMPARE(durationsDiffer(other, a), differ);
}

QTEST_GUILESS_MAIN(TestRunDiff)
#include "tst_rundiff.moc"
