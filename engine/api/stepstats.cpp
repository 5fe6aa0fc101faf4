#include "stepstats.h"

#include "operatorapi.h"

#include <QHash>

#include <algorithm>
#include <limits>

namespace keepflow {

namespace {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kDayMs = 24 * kHourMs;

double ratio(int part, int whole) {
    return whole > 0 ? static_cast<double>(part) / whole : 0.0;
}

/// Floor division: bucket starts stay aligned for times before the epoch too.
qint64 bucketStart(qint64 time, qint64 length) {
    const qint64 quotient = time / length;
    return (time % length < 0 ? quotient - 1 : quotient) * length;
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

qint64 percentileNearestRank(const QList<qint64> &sortedValues, int percent) {
    const qint64 n = sortedValues.size();
    if (n == 0)
        return -1;
    // ceil(percent * n / 100) in integers: no rounding error decides a rank.
    const qint64 rank = std::clamp<qint64>((percent * n + 99) / 100, 1, n);
    return sortedValues[rank - 1];
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

FlowStepStats computeStepStats(const QString &flowName, const QList<StepSample> &rows,
                               StepStatsWindow window) {
    FlowStepStats result;
    result.flowName = flowName;
    result.window = window;

    qint64 first = std::numeric_limits<qint64>::max();
    qint64 last = std::numeric_limits<qint64>::min();
    for (const StepSample &row : rows) {
        first = std::min(first, row.runCreatedAt);
        last = std::max(last, row.runCreatedAt);
    }
    const qint64 from = window.from > 0 ? window.from : first;
    const qint64 to = window.to > 0 ? window.to : last;
    result.bucketMs = bucketLengthFor(rows.isEmpty() ? 0 : std::max<qint64>(0, to - from));

    struct Accumulator {
        StepStats stats;
        qint64 newestRun = std::numeric_limits<qint64>::min(); ///< whose position counts
        QList<qint64> durations;
        QHash<qint64, FailureBucket> buckets;
    };
    QHash<QString, int> indexOf;
    QList<Accumulator> steps;
    int mostRuns = 0;
    for (const StepSample &row : rows) {
        auto found = indexOf.constFind(row.stepId);
        int index = 0;
        if (found == indexOf.cend()) {
            index = static_cast<int>(steps.size());
            indexOf.insert(row.stepId, index);
            steps.append(Accumulator{});
            steps.last().stats.stepId = row.stepId;
        } else {
            index = *found;
        }
        Accumulator &step = steps[index];
        StepStats &stats = step.stats;
        if (row.runCreatedAt >= step.newestRun) {
            step.newestRun = row.runCreatedAt;
            stats.position = row.position;
        }
        ++stats.runs;
        mostRuns = std::max(mostRuns, stats.runs);
        if (row.attempts > 0) {
            ++stats.started;
            if (row.attempts > 1)
                ++stats.retried;
        }
        const bool succeeded = stepSucceeded(row.state) && !row.viaFallback;
        const bool failed = stepFailed(row.state, row.viaFallback);
        if (!succeeded && !failed)
            continue;
        if (succeeded) {
            ++stats.succeeded;
            stats.successAttempts += row.attempts;
        } else {
            ++stats.failed;
        }
        if (row.startedAt > 0 && row.endedAt >= row.startedAt)
            step.durations.append(row.endedAt - row.startedAt);
        FailureBucket &bucket = step.buckets[bucketStart(row.runCreatedAt, result.bucketMs)];
        if (succeeded)
            ++bucket.succeeded;
        else
            ++bucket.failed;
    }
    // Every run has a row for each step of its flow version: the step seen most often was in
    // every run (a step added later was not).
    result.runs = mostRuns;

    result.steps.reserve(steps.size());
    for (Accumulator &step : steps) {
        std::sort(step.durations.begin(), step.durations.end());
        step.stats.finishedDurations = static_cast<int>(step.durations.size());
        step.stats.p50Ms = percentileNearestRank(step.durations, 50);
        step.stats.p95Ms = percentileNearestRank(step.durations, 95);
        for (auto it = step.buckets.cbegin(); it != step.buckets.cend(); ++it) {
            FailureBucket bucket = it.value();
            bucket.start = it.key();
            step.stats.buckets.append(bucket);
        }
        std::sort(step.stats.buckets.begin(), step.stats.buckets.end(),
                  [](const FailureBucket &a, const FailureBucket &b) { return a.start < b.start; });
        result.steps.append(std::move(step.stats));
    }
    std::sort(result.steps.begin(), result.steps.end(), [](const StepStats &a, const StepStats &b) {
        return a.position != b.position ? a.position < b.position : a.stepId < b.stepId;
    });
    return result;
}

Result<FlowStepStats> stepStats(OperatorApi &api, const QString &flowName, StepStatsWindow window) {
    auto rows = api.stepSamples(flowName, window.from, window.to);
    if (!rows)
        return rows.status();
    return computeStepStats(flowName, *rows, window);
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

std::optional<double> slowFactor(const StepStats &stats, qint64 elapsedMs, SlowRule rule) {
    // A p95 of 0 ms (steps that take no measurable time) makes any duration "infinitely" slow.
    if (stats.finishedDurations < rule.minFinished || stats.p95Ms <= 0)
        return std::nullopt;
    const double factor = static_cast<double>(elapsedMs) / static_cast<double>(stats.p95Ms);
    if (factor <= rule.factor)
        return std::nullopt;
    return factor;
}

} // namespace keepflow
