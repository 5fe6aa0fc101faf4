// Step statistics across the runs of a flow (engine/api/stepstats.h): nearest-rank percentiles
// on known lists, attempts per success, retry share, failure-rate buckets and steps that never
// finished, computed from rows; the store's rows of one flow in a window, read through the
// OperatorApi (also on PostgreSQL); and when a step of a run counts as slow.

#include "api/operatorapi.h"
#include "api/stepstats.h"
#include "harness.h"
#include "store/batch.h"

#include <QRandomGenerator>

using namespace keepflow;

namespace {

constexpr qint64 kHour = 3'600'000;
constexpr qint64 kDay = 24 * kHour;
// A bucket boundary (a whole day since the epoch), so that rows fall into known hours.
constexpr qint64 kDayStart = 20'000 * kDay;

StepSample sample(const QString &step, StepState state, int attempts, qint64 durationMs,
                  qint64 runCreatedAt = kDayStart) {
    StepSample row;
    row.stepId = step;
    row.state = state;
    row.attempts = attempts;
    row.failures = state == StepState::Failed ? attempts : attempts - 1;
    row.runCreatedAt = runCreatedAt;
    if (durationMs >= 0) {
        row.startedAt = runCreatedAt + 10;
        row.endedAt = row.startedAt + durationMs;
    }
    return row;
}

QList<qint64> range(qint64 first, qint64 last) {
    QList<qint64> values;
    for (qint64 v = first; v <= last; ++v)
        values << v;
    return values;
}

} // namespace

class TestStepStats : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void percentileNearestRank_data() {
        QTest::addColumn<QList<qint64>>("sorted");
        QTest::addColumn<int>("percent");
        QTest::addColumn<qint64>("expected");
        QTest::newRow("empty") << QList<qint64>{} << 50 << qint64(-1);
        QTest::newRow("one value, p50") << QList<qint64>{7} << 50 << qint64(7);
        QTest::newRow("one value, p95") << QList<qint64>{7} << 95 << qint64(7);
        QTest::newRow("two values, p50 is the smaller") << QList<qint64>{3, 9} << 50 << qint64(3);
        QTest::newRow("two values, p95 is the larger") << QList<qint64>{3, 9} << 95 << qint64(9);
        QTest::newRow("three values, p50 the middle") << QList<qint64>{1, 5, 8} << 50 << qint64(5);
        QTest::newRow("1..10, p50 rank 5") << range(1, 10) << 50 << qint64(5);
        QTest::newRow("1..10, p95 rank 10") << range(1, 10) << 95 << qint64(10);
        QTest::newRow("1..20, p95 rank 19") << range(1, 20) << 95 << qint64(19);
        QTest::newRow("1..100, p95 rank 95") << range(1, 100) << 95 << qint64(95);
        QTest::newRow("1..101, p50 rank 51") << range(1, 101) << 50 << qint64(51);
        QTest::newRow("p0 is the smallest") << QList<qint64>{4, 6} << 0 << qint64(4);
        QTest::newRow("p100 is the largest") << range(1, 7) << 100 << qint64(7);
    }
    void percentileNearestRank() {
        QFETCH(QList<qint64>, sorted);
        QFETCH(int, percent);
        QFETCH(qint64, expected);
        QCOMPARE(keepflow::percentileNearestRank(sorted, percent), expected);
    }

    void bucketLength_data() {
        QTest::addColumn<qint64>("span");
        QTest::addColumn<qint64>("expected");
        QTest::newRow("no span") << qint64(0) << kHour;
        QTest::newRow("two days") << 2 * kDay << kHour;
        QTest::newRow("three days") << 3 * kDay << kDay;
        QTest::newRow("90 days") << 90 * kDay << kDay;
        QTest::newRow("a year") << 365 * kDay << 7 * kDay;
    }
    void bucketLength() {
        QFETCH(qint64, span);
        QFETCH(qint64, expected);
        QCOMPARE(bucketLengthFor(span), expected);
    }

    void attemptsRetriesAndFailureRate() {
        // fetch: 4 successes with 1, 1, 2 and 4 attempts, 1 failure after 3 attempts, one
        // success via its fallback; count: always one attempt, one run still running it.
        QList<StepSample> rows{
            sample("fetch", StepState::Succeeded, 1, 100),
            sample("fetch", StepState::Succeeded, 1, 300),
            sample("fetch", StepState::Succeeded, 2, 200),
            sample("fetch", StepState::Succeeded, 4, 900),
            sample("fetch", StepState::Failed, 3, 400),
            sample("fetch", StepState::SucceededViaFallback, 3, 500),
            sample("count", StepState::Succeeded, 1, 20),
            sample("count", StepState::Succeeded, 1, 10),
            sample("count", StepState::Running, 1, -1),
        };
        rows[6].position = rows[7].position = rows[8].position = 1;
        const FlowStepStats stats = computeStepStats("nightly", rows);
        QCOMPARE(stats.steps.size(), 2);
        QCOMPARE(stats.runs, 6);
        const StepStats &fetch = stats.steps[0];
        QCOMPARE(fetch.stepId, QStringLiteral("fetch"));
        QCOMPARE(fetch.runs, 6);
        QCOMPARE(fetch.succeeded, 4);
        QCOMPARE(fetch.failed, 2);
        QCOMPARE(fetch.attemptsPerSuccess(), (1 + 1 + 2 + 4) / 4.0);
        QCOMPARE(fetch.retryShare(), 4 / 6.0);
        QCOMPARE(fetch.failureRate(), 2 / 6.0);
        // durations sorted: 100 200 300 400 500 900
        QCOMPARE(fetch.finishedDurations, 6);
        QCOMPARE(fetch.p50Ms, qint64(300));
        QCOMPARE(fetch.p95Ms, qint64(900));
        const StepStats &count = stats.steps[1];
        QCOMPARE(count.stepId, QStringLiteral("count"));
        QCOMPARE(count.runs, 3);
        QCOMPARE(count.succeeded, 2);
        QCOMPARE(count.finishedDurations, 2); // the running one has no duration yet
        QCOMPARE(count.p50Ms, qint64(10));
        QCOMPARE(count.p95Ms, qint64(20));
        QCOMPARE(count.retryShare(), 0.0);
        QCOMPARE(count.failureRate(), 0.0);
    }

    void stepsThatNeverFinished() {
        QList<StepSample> rows{sample("approve", StepState::WaitingForOperator, 0, -1),
                               sample("approve", StepState::Blocked, 0, -1),
                               sample("approve", StepState::Running, 1, -1)};
        const FlowStepStats stats = computeStepStats("release", rows);
        QCOMPARE(stats.steps.size(), 1);
        const StepStats &approve = stats.steps[0];
        QCOMPARE(approve.runs, 3);
        QCOMPARE(approve.started, 1);
        QCOMPARE(approve.succeeded + approve.failed, 0);
        QCOMPARE(approve.finishedDurations, 0);
        QCOMPARE(approve.p50Ms, qint64(-1));
        QCOMPARE(approve.p95Ms, qint64(-1));
        QCOMPARE(approve.attemptsPerSuccess(), 0.0);
        QCOMPARE(approve.failureRate(), 0.0);
        QVERIFY(approve.buckets.isEmpty());
        QVERIFY(!slowFactor(approve, 1'000'000, SlowRule{2.0, 0}));
        QVERIFY(computeStepStats("none", {}).steps.isEmpty());
    }

    void failureRateBuckets() {
        // A day of runs: hourly buckets. Hour 0: 1 of 4 failed; hour 2: 2 of 2; hour 23: 0 of 1.
        QList<StepSample> rows{
            sample("push", StepState::Succeeded, 1, 5, kDayStart),
            sample("push", StepState::Succeeded, 1, 5, kDayStart + 10 * 60'000),
            sample("push", StepState::Failed, 3, 5, kDayStart + 20 * 60'000),
            sample("push", StepState::Succeeded, 2, 5, kDayStart + kHour - 1),
            sample("push", StepState::Failed, 3, 5, kDayStart + 2 * kHour),
            sample("push", StepState::Failed, 3, 5, kDayStart + 2 * kHour + 30 * 60'000),
            sample("push", StepState::Running, 1, -1, kDayStart + 5 * kHour), // not counted
            sample("push", StepState::Succeeded, 1, 5, kDayStart + 23 * kHour),
        };
        const FlowStepStats stats = computeStepStats("deploy", rows);
        QCOMPARE(stats.bucketMs, kHour);
        const QList<FailureBucket> &buckets = stats.steps[0].buckets;
        QCOMPARE(buckets.size(), 3);
        QCOMPARE(buckets[0].start, kDayStart);
        QCOMPARE(buckets[0].failed, 1);
        QCOMPARE(buckets[0].succeeded, 3);
        QCOMPARE(buckets[0].failureRate(), 0.25);
        QCOMPARE(buckets[1].start, kDayStart + 2 * kHour);
        QCOMPARE(buckets[1].failureRate(), 1.0);
        QCOMPARE(buckets[2].start, kDayStart + 23 * kHour);
        QCOMPARE(buckets[2].failureRate(), 0.0);

        // The same rows asked for a 30-day window: daily buckets, all in one.
        const FlowStepStats monthly =
            computeStepStats("deploy", rows, {kDayStart - 29 * kDay, kDayStart + kDay});
        QCOMPARE(monthly.bucketMs, kDay);
        QCOMPARE(monthly.steps[0].buckets.size(), 1);
        QCOMPARE(monthly.steps[0].buckets[0].failed, 3);
        QCOMPARE(monthly.steps[0].buckets[0].succeeded, 4);
    }

    void troubleFirst() {
        StepStats calm;
        calm.stepId = "calm";
        calm.position = 0;
        calm.runs = calm.started = calm.succeeded = 10;
        StepStats retrying = calm;
        retrying.stepId = "retrying";
        retrying.position = 1;
        retrying.retried = 5;
        StepStats failing = calm;
        failing.stepId = "failing";
        failing.position = 2;
        failing.succeeded = 2;
        failing.failed = 8;
        const QList<StepStats> sorted = byTrouble({calm, retrying, failing});
        QCOMPARE(sorted[0].stepId, QStringLiteral("failing"));
        QCOMPARE(sorted[1].stepId, QStringLiteral("retrying"));
        QCOMPARE(sorted[2].stepId, QStringLiteral("calm"));
    }

    void slowStep_data() {
        QTest::addColumn<int>("history"); // finished durations, all p95Ms
        QTest::addColumn<qint64>("startedAt");
        QTest::addColumn<qint64>("endedAt"); // 0: still running
        QTest::addColumn<qint64>("now");
        QTest::addColumn<double>("expected"); // 0: not slow
        // History: 1000 ms each, so p95 = 1000 and "slow" means more than 2000 ms.
        QTest::newRow("below 2x p95") << 20 << qint64(1000) << qint64(2500) << qint64(9000) << 0.0;
        QTest::newRow("exactly 2x p95 is not slow")
            << 20 << qint64(1000) << qint64(3000) << qint64(9000) << 0.0;
        QTest::newRow("above 2x p95") << 20 << qint64(1000) << qint64(4100) << qint64(9000) << 3.1;
        QTest::newRow("too little history")
            << 19 << qint64(1000) << qint64(9000) << qint64(9000) << 0.0;
        QTest::newRow("running, not yet slow")
            << 20 << qint64(1000) << qint64(0) << qint64(2900) << 0.0;
        QTest::newRow("running, slow so far")
            << 20 << qint64(1000) << qint64(0) << qint64(6000) << 5.0;
        QTest::newRow("never started") << 20 << qint64(0) << qint64(0) << qint64(90000) << 0.0;
    }
    void slowStep() {
        QFETCH(int, history);
        QFETCH(qint64, startedAt);
        QFETCH(qint64, endedAt);
        QFETCH(qint64, now);
        QFETCH(double, expected);
        QList<StepSample> rows;
        for (int i = 0; i < history; ++i)
            rows << sample("build", StepState::Succeeded, 1, 1000);
        const StepStats stats = computeStepStats("ci", rows).steps.value(0);
        // The running step's "now" comes from a ManualClock, as the desktop's does in tests.
        ManualClock clock(now);
        const std::optional<qint64> elapsed = stepElapsedMs(startedAt, endedAt, clock.nowMs());
        const std::optional<double> factor = elapsed ? slowFactor(stats, *elapsed) : std::nullopt;
        if (expected == 0.0) {
            QVERIFY2(!factor, qPrintable(QString::number(factor.value_or(0))));
        } else {
            QVERIFY(factor);
            QCOMPARE(*factor, expected);
        }
    }

    void storeReadsOneFlowInItsWindow() {
        Harness harness;
        OperatorApi::Options options;
        options.clock = &harness.clock;
        options.ownerIsDead = [](const QString &) { return true; };
        auto opened = OperatorApi::open(harness.dbPath(), options);
        QVERIFY2(opened, qPrintable(opened.error()));
        OperatorApi &api = **opened;

        auto nightly = harness.store->saveFlowVersion("nightly", R"({"keepflow":1})", {});
        auto other = harness.store->saveFlowVersion("other", R"({"keepflow":1})", {});
        QVERIFY(nightly && other);
        // Six runs of nightly an hour apart (fetch takes (i+1) s, retried in odd runs, failed in
        // the last; count never finishes in the last), and one run of another flow.
        Batch batch;
        for (int i = 0; i < 7; ++i) {
            RunRow run;
            run.id = QStringLiteral("run-%1").arg(i);
            const bool isOther = i == 6;
            run.flowId = isOther ? other->id : nightly->id;
            run.flowName = isOther ? QStringLiteral("other") : QStringLiteral("nightly");
            run.state = RunState::Succeeded;
            run.createdAt = kDayStart + i * kHour;
            run.endedAt = run.createdAt + 60'000;
            batch.runs << run;
            StepRunRow fetch;
            fetch.runId = run.id;
            fetch.stepId = QStringLiteral("fetch");
            fetch.state = i == 5 ? StepState::Failed : StepState::Succeeded;
            fetch.attempts = i % 2 == 1 ? 2 : 1;
            fetch.startedAt = run.createdAt + 5;
            fetch.endedAt = fetch.startedAt + (i + 1) * 1000;
            batch.steps << fetch;
            StepRunRow count = fetch;
            count.stepId = QStringLiteral("count");
            count.position = 1;
            count.state = i == 5 ? StepState::Blocked : StepState::Succeeded;
            count.attempts = i == 5 ? 0 : 1;
            count.startedAt = i == 5 ? 0 : fetch.endedAt;
            count.endedAt = i == 5 ? 0 : fetch.endedAt + 50;
            batch.steps << count;
        }
        auto committed = harness.store->commit(batch);
        QVERIFY2(committed, qPrintable(committed.error()));

        auto all = stepStats(api, "nightly");
        QVERIFY2(all, qPrintable(all.error()));
        QCOMPARE(all->runs, 6);
        QCOMPARE(all->steps.size(), 2);
        const StepStats *fetch = all->step("fetch");
        QVERIFY(fetch);
        QCOMPARE(fetch->runs, 6);
        QCOMPARE(fetch->succeeded, 5);
        QCOMPARE(fetch->failed, 1);
        QCOMPARE(fetch->p50Ms, qint64(3000));
        QCOMPARE(fetch->p95Ms, qint64(6000));
        QCOMPARE(fetch->attemptsPerSuccess(), (1 + 2 + 1 + 2 + 1) / 5.0);
        QCOMPARE(fetch->retryShare(), 3 / 6.0);
        QCOMPARE(fetch->buckets.size(), 6);
        QCOMPARE(fetch->buckets.last().failureRate(), 1.0);
        const StepStats *count = all->step("count");
        QVERIFY(count);
        QCOMPARE(count->position, 1);
        QCOMPARE(count->finishedDurations, 5);
        QCOMPARE(count->p95Ms, qint64(50));

        // The window [hour 1, hour 4): runs 1, 2 and 3.
        auto window = stepStats(api, "nightly", {kDayStart + kHour, kDayStart + 4 * kHour});
        QVERIFY2(window, qPrintable(window.error()));
        QCOMPARE(window->step("fetch")->runs, 3);
        QCOMPARE(window->step("fetch")->p50Ms, qint64(3000));
        QCOMPARE(window->step("fetch")->failed, 0);

        auto unknown = stepStats(api, "no-such-flow");
        QVERIFY2(unknown, qPrintable(unknown.error()));
        QVERIFY(unknown->steps.isEmpty());
    }

    // stepStats() counts and ranks in the database; computeStepStats() works on the rows. Both
    // must agree on every figure, for rows of every state, fallback, attempt count and duration,
    // spread over hours, days or weeks (each bucket length), with a step that moved in a newer
    // flow version.
    void countedInTheDatabaseEqualsComputedFromRows_data() {
        QTest::addColumn<qint64>("spanMs");
        QTest::newRow("hour buckets") << 40 * kHour;
        QTest::newRow("day buckets") << 60 * kDay;
        QTest::newRow("week buckets") << 400 * kDay;
    }
    void countedInTheDatabaseEqualsComputedFromRows() {
        QFETCH(qint64, spanMs);
        Harness harness;
        OperatorApi::Options options;
        options.clock = &harness.clock;
        options.ownerIsDead = [](const QString &) { return true; };
        auto opened = OperatorApi::open(harness.dbPath(), options);
        QVERIFY2(opened, qPrintable(opened.error()));
        OperatorApi &api = **opened;
        auto flow = harness.store->saveFlowVersion("mixed", R"({"keepflow":1})", {});
        QVERIFY(flow);

        QRandomGenerator random(static_cast<quint32>(spanMs / kHour));
        const QStringList stepIds{"fetch", "charge", "ship"};
        Batch batch;
        for (int i = 0; i < 400; ++i) {
            RunRow run;
            run.id = QStringLiteral("run-%1").arg(i);
            run.flowId = flow->id;
            run.flowName = QStringLiteral("mixed");
            run.state = RunState::CompletedWithFailures;
            run.createdAt = kDayStart + random.bounded(spanMs);
            batch.runs << run;
            const bool newerVersion = run.createdAt > kDayStart + spanMs / 2;
            for (int s = 0; s < stepIds.size(); ++s) {
                StepRunRow step;
                step.runId = run.id;
                step.stepId = stepIds[s];
                // ship comes first in the newer version.
                step.position = newerVersion && s == 2 ? 0 : s + 1;
                step.state = static_cast<StepState>(random.bounded(kStepStateCount));
                step.viaFallback = random.bounded(4) == 0;
                step.attempts = random.bounded(4);
                step.failures = std::max(0, step.attempts - 1);
                if (step.attempts > 0) {
                    step.startedAt = run.createdAt + 1 + random.bounded(1000);
                    // A few durations repeat (ties) and a few end before they start (clock skew).
                    if (random.bounded(5) > 0)
                        step.endedAt = step.startedAt + random.bounded(20) * 250 - 250;
                }
                batch.steps << step;
            }
        }
        auto committed = harness.store->commit(batch);
        QVERIFY2(committed, qPrintable(committed.error()));

        for (const StepStatsWindow window :
             {StepStatsWindow{}, StepStatsWindow{kDayStart + spanMs / 4, kDayStart + spanMs}}) {
            auto rows = api.stepSamples("mixed", window.from, window.to);
            QVERIFY2(rows, qPrintable(rows.error()));
            const FlowStepStats fromRows = computeStepStats("mixed", *rows, window);
            auto counted = stepStats(api, "mixed", window);
            QVERIFY2(counted, qPrintable(counted.error()));
            QCOMPARE(counted->bucketMs, fromRows.bucketMs);
            QCOMPARE(counted->runs, fromRows.runs);
            QCOMPARE(counted->steps.size(), fromRows.steps.size());
            for (int s = 0; s < fromRows.steps.size(); ++s) {
                const StepStats &expected = fromRows.steps[s];
                const StepStats &actual = counted->steps[s];
                QCOMPARE(actual.stepId, expected.stepId);
                QCOMPARE(actual.position, expected.position);
                QCOMPARE(actual.runs, expected.runs);
                QCOMPARE(actual.started, expected.started);
                QCOMPARE(actual.succeeded, expected.succeeded);
                QCOMPARE(actual.failed, expected.failed);
                QCOMPARE(actual.retried, expected.retried);
                QCOMPARE(actual.successAttempts, expected.successAttempts);
                QCOMPARE(actual.finishedDurations, expected.finishedDurations);
                QCOMPARE(actual.p50Ms, expected.p50Ms);
                QCOMPARE(actual.p95Ms, expected.p95Ms);
                // The slow baseline is the flow's latest runs', whatever the window: the rows
                // of every run give it.
                if (window.from == 0 && window.to == 0) {
                    QCOMPARE(actual.slowBaseline.finished, expected.slowBaseline.finished);
                    QCOMPARE(actual.slowBaseline.p95Ms, expected.slowBaseline.p95Ms);
                }
                QCOMPARE(actual.buckets.size(), expected.buckets.size());
                for (int b = 0; b < expected.buckets.size(); ++b) {
                    QCOMPARE(actual.buckets[b].start, expected.buckets[b].start);
                    QCOMPARE(actual.buckets[b].succeeded, expected.buckets[b].succeeded);
                    QCOMPARE(actual.buckets[b].failed, expected.buckets[b].failed);
                }
            }
            QVERIFY(fromRows.steps.value(0).finishedDurations > 10); // the rows were not trivial
        }
    }
};

QTEST_GUILESS_MAIN(TestStepStats)
#include "tst_stepstats.moc"
