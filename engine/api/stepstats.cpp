#include "stepstats.h"

#include "operatorapi.h"

#include <QHash>
#include <QMap>

#include <algorithm>
#include <limits>

namespace keepflow {

namespace {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kDayMs = 24 * kHourMs;

double ratio(int part, int whole) {
    return whole > 0 ? static_cast<double>(part) / whole : 0.0;
}

} // namespace

double FailureBucket::failureRate() const {
    return ratio(failed, succeeded + failed);
}

double StepStats::attemptsPerSuccess() const {
    return ratio(successAttempts, succeeded);
}

double StepStats::retryShare() const {
    return ratio(retried, started);
}

double StepStats::failureRate() const {
    return ratio(failed, succeeded + failed);
}

const StepStats *FlowStepStats::step(const QString &stepId) const {
    for (const StepStats &stats : steps) {
        if (stats.stepId == stepId)
            return &stats;
    }
    return nullptr;
}

qint64 bucketLengthFor(qint64 spanMs) {
    if (spanMs <= 2 * kDayMs)
        return kHourMs;
    if (spanMs <= 90 * kDayMs)
        return kDayMs;
    return 7 * kDayMs;
}

bool stepSucceeded(StepState state) {
    return state == StepState::Succeeded || state == StepState::PartiallySucceeded;
}

bool stepFailed(StepState state, bool viaFallback) {
    return state == StepState::Failed || state == StepState::SucceededViaFallback ||
           (viaFallback && state == StepState::Succeeded);
}

QList<StepOutcome> finishedStepOutcomes() {
    QList<StepOutcome> outcomes;
    for (int index = 0; index < kStepStateCount; ++index) {
        const auto state = static_cast<StepState>(index);
        for (const bool viaFallback : {false, true}) {
            if ((stepSucceeded(state) && !viaFallback) || stepFailed(state, viaFallback))
                outcomes.append({state, viaFallback});
        }
    }
    return outcomes;
}

SlowBaseline slowBaseline(QList<qint64> latestDurations) {
    if (latestDurations.size() > kSlowWindow)
        latestDurations.resize(kSlowWindow);
    std::sort(latestDurations.begin(), latestDurations.end());
    return {static_cast<int>(latestDurations.size()), percentileNearestRank(latestDurations, 95)};
}

namespace {

/// Both ways to the statistics (rows in memory, or counts taken in the database) end here.
FlowStepStats summarize(const QString &flowName, StepStatsWindow window, qint64 bucketMs,
                        const QList<StepSampleGroup> &groups,
                        const QList<StepDurationPercentiles> &percentiles) {
    FlowStepStats result;
    result.flowName = flowName;
    result.window = window;
    result.bucketMs = bucketMs;

    struct Accumulator {
        StepStats stats;
        qint64 newestRun = std::numeric_limits<qint64>::min(); ///< whose position counts
        QMap<qint64, FailureBucket> buckets;
    };
    QHash<QString, int> indexOf;
    QList<Accumulator> steps;
    const auto accumulatorOf = [&](const QString &stepId) -> Accumulator & {
        auto found = indexOf.constFind(stepId);
        if (found != indexOf.cend())
            return steps[*found];
        indexOf.insert(stepId, static_cast<int>(steps.size()));
        steps.append(Accumulator{});
        steps.last().stats.stepId = stepId;
        return steps.last();
    };
    for (const StepSampleGroup &group : groups) {
        Accumulator &step = accumulatorOf(group.stepId);
        StepStats &stats = step.stats;
        if (group.newestRunCreatedAt >= step.newestRun) {
            step.newestRun = group.newestRunCreatedAt;
            stats.position = group.position;
        }
        stats.runs += group.steps;
        if (group.attemptClass > 0)
            stats.started += group.steps;
        if (group.attemptClass > 1)
            stats.retried += group.steps;
        const bool succeeded = stepSucceeded(group.state) && !group.viaFallback;
        const bool failed = stepFailed(group.state, group.viaFallback);
        if (!succeeded && !failed)
            continue;
        FailureBucket &bucket = step.buckets[group.bucketStart];
        if (succeeded) {
            stats.succeeded += group.steps;
            stats.successAttempts += static_cast<int>(group.attempts);
            bucket.succeeded += group.steps;
        } else {
            stats.failed += group.steps;
            bucket.failed += group.steps;
        }
    }
    for (const StepDurationPercentiles &durations : percentiles) {
        StepStats &stats = accumulatorOf(durations.stepId).stats;
        stats.finishedDurations = durations.finished;
        stats.p50Ms = durations.p50Ms;
        stats.p95Ms = durations.p95Ms;
    }

    result.steps.reserve(steps.size());
    for (Accumulator &step : steps) {
        // Every run has a row for each step of its flow version: the step seen most often was in
        // every run (a step added later was not).
        result.runs = std::max(result.runs, step.stats.runs);
        for (auto it = step.buckets.cbegin(); it != step.buckets.cend(); ++it) {
            FailureBucket bucket = it.value();
            bucket.start = it.key();
            step.stats.buckets.append(bucket); // oldest first: the map is ordered by start
        }
        result.steps.append(std::move(step.stats));
    }
    std::sort(result.steps.begin(), result.steps.end(), [](const StepStats &a, const StepStats &b) {
        return a.position != b.position ? a.position < b.position : a.stepId < b.stepId;
    });
    return result;
}

} // namespace

FlowStepStats computeStepStats(const QString &flowName, const QList<StepSample> &rows,
                               StepStatsWindow window) {
    qint64 first = std::numeric_limits<qint64>::max();
    qint64 last = std::numeric_limits<qint64>::min();
    for (const StepSample &row : rows) {
        first = std::min(first, row.runCreatedAt);
        last = std::max(last, row.runCreatedAt);
    }
    const qint64 from = window.from > 0 ? window.from : first;
    const qint64 to = window.to > 0 ? window.to : last;
    const qint64 bucketMs = bucketLengthFor(rows.isEmpty() ? 0 : std::max<qint64>(0, to - from));

    StepSampleReducer reducer(bucketMs, finishedStepOutcomes());
    for (const StepSample &row : rows)
        reducer.add(row);
    FlowStepStats stats =
        summarize(flowName, window, bucketMs, reducer.groups(), reducer.percentiles());

    // The slow baselines from the same rows: each step's finished durations, newest run first.
    QList<const StepSample *> newestFirst;
    for (const StepSample &row : rows) {
        if (((stepSucceeded(row.state) && !row.viaFallback) ||
             stepFailed(row.state, row.viaFallback)) &&
            row.startedAt > 0 && row.endedAt >= row.startedAt)
            newestFirst.append(&row);
    }
    std::stable_sort(
        newestFirst.begin(), newestFirst.end(),
        [](const StepSample *a, const StepSample *b) { return a->runCreatedAt > b->runCreatedAt; });
    for (StepStats &step : stats.steps) {
        QList<qint64> latest;
        for (const StepSample *row : std::as_const(newestFirst)) {
            if (row->stepId == step.stepId && latest.size() < kSlowWindow)
                latest.append(row->endedAt - row->startedAt);
        }
        step.slowBaseline = slowBaseline(latest);
    }
    return stats;
}

Result<FlowStepStats> stepStats(OperatorApi &api, const QString &flowName, StepStatsWindow window) {
    auto span = api.stepSampleSpan(flowName, window.from, window.to);
    if (!span)
        return span.status();
    const qint64 from = window.from > 0 ? window.from : (*span ? (*span)->first : 0);
    const qint64 to = window.to > 0 ? window.to : (*span ? (*span)->second : 0);
    const qint64 bucketMs = bucketLengthFor(*span ? std::max<qint64>(0, to - from) : 0);
    auto reduced =
        api.reduceStepSamples(flowName, window.from, window.to, bucketMs, finishedStepOutcomes());
    if (!reduced)
        return reduced.status();
    FlowStepStats stats =
        summarize(flowName, window, bucketMs, reduced->groups, reduced->percentiles);
    for (StepStats &step : stats.steps) {
        auto latest =
            api.latestStepDurations(flowName, step.stepId, kSlowWindow, finishedStepOutcomes());
        if (!latest)
            return latest.status();
        step.slowBaseline = slowBaseline(std::move(*latest));
    }
    return stats;
}

QList<StepStats> byTrouble(QList<StepStats> steps) {
    std::stable_sort(steps.begin(), steps.end(), [](const StepStats &a, const StepStats &b) {
        const double troubleA = a.failureRate() + a.retryShare();
        const double troubleB = b.failureRate() + b.retryShare();
        if (troubleA != troubleB)
            return troubleA > troubleB;
        if (a.runs != b.runs)
            return a.runs > b.runs;
        return a.position < b.position;
    });
    return steps;
}

std::optional<qint64> stepElapsedMs(qint64 startedAt, qint64 endedAt, qint64 now) {
    if (startedAt <= 0)
        return std::nullopt;
    return std::max<qint64>(0, (endedAt > 0 ? endedAt : now) - startedAt);
}

std::optional<double> slowFactor(const SlowBaseline &baseline, qint64 elapsedMs, SlowRule rule) {
    // A p95 of 0 ms (steps that take no measurable time) makes any duration "infinitely" slow.
    if (baseline.finished < rule.minFinished || baseline.p95Ms <= 0)
        return std::nullopt;
    const double factor = static_cast<double>(elapsedMs) / static_cast<double>(baseline.p95Ms);
    if (factor <= rule.factor)
        return std::nullopt;
    return factor;
}

std::optional<double> slowFactor(const StepStats &stats, qint64 elapsedMs, SlowRule rule) {
    return slowFactor(stats.slowBaseline, elapsedMs, rule);
}

} // namespace keepflow
