#pragma once

// Step statistics across the runs of one flow: per step how long it takes (p50 and p95 of the
// finished steps' durations), how many attempts a success costs, how often it needs a retry, and
// its failure rate over time. computeStepStats() is pure; stepStats() has the store reduce the
// rows (Store::reduceStepSamples: counts and ranks, never the rows themselves) and summarizes
// them the same way. slowFactor() says whether one step of one run is far slower than its
// recent history: the one rule for "slow", the desktop's badge and the alerts' step_slow alike.
//
// Definitions, per step (each run has at most one row per step):
//   runs          the runs of the flow in the window that have the step
//   succeeded     state succeeded or partially succeeded
//   failed        state failed, or succeeded via its fallback (the step itself failed for good)
//   duration      ended_at - started_at of a succeeded or failed step that started
//   p50, p95      nearest-rank percentiles of the durations (percentileNearestRank())
//   attempts per success   the attempts of the succeeded steps / how many succeeded
//   retry share   of the runs where the step started, those where it took more than one attempt
//   failure rate  failed / (succeeded + failed); per bucket of the run's creation time too

#include "core/states.h"
#include "core/status.h"
#include "core/stepsample.h"

#include <QList>
#include <QString>

#include <optional>

namespace keepflow {

class OperatorApi;

/// Runs created in [from, to); 0 leaves that end open.
struct StepStatsWindow {
    qint64 from = 0;
    qint64 to = 0;
};

/// The steps of the runs created in [start, start + bucket length).
struct FailureBucket {
    qint64 start = 0;
    int succeeded = 0;
    int failed = 0;
    double failureRate() const;
};

/// What "slow" is judged against: the nearest-rank p95 of a step's latest kSlowWindow finished
/// durations in its flow (slowBaseline()).
struct SlowBaseline {
    int finished = 0;  ///< how many durations (at most kSlowWindow)
    qint64 p95Ms = -1; ///< -1: none
};

struct StepStats {
    QString stepId;
    int position = 0; ///< in the newest flow version seen
    int runs = 0;
    int started = 0; ///< runs where it made at least one attempt
    int succeeded = 0;
    int failed = 0;
    int retried = 0;           ///< runs where it took more than one attempt
    int successAttempts = 0;   ///< attempts of the succeeded steps
    int finishedDurations = 0; ///< how many durations p50 and p95 are taken from
    qint64 p50Ms = -1;         ///< -1: no finished step
    qint64 p95Ms = -1;
    QList<FailureBucket> buckets; ///< oldest first; only buckets with a finished step
    /// The latest runs' p95, whatever the window (p95Ms is the window's): what slowFactor()
    /// compares with.
    SlowBaseline slowBaseline;

    double attemptsPerSuccess() const; ///< 0 when it never succeeded
    double retryShare() const;         ///< 0 when it never started
    double failureRate() const;        ///< 0 when it never finished
};

struct FlowStepStats {
    QString flowName;
    StepStatsWindow window; ///< as asked
    qint64 bucketMs = 0;    ///< the failure-rate buckets' length
    int runs = 0;           ///< runs with at least one step in the window
    QList<StepStats> steps; ///< in flow order

    const StepStats *step(const QString &stepId) const;
};

/// The failure-rate bucket for a window spanning spanMs: an hour up to two days, a day up to
/// 90 days, else a week.
qint64 bucketLengthFor(qint64 spanMs);

/// Whether the step counts as succeeded, failed, or neither (still going, skipped, ...).
bool stepSucceeded(StepState state);
bool stepFailed(StepState state, bool viaFallback);

/// The statistics of rows (the steps of a flow's runs, any order). The buckets span the window,
/// or without one the runs' creation times. The slow baselines are those of the rows' latest
/// runs (runs created in the same millisecond in the rows' order).
FlowStepStats computeStepStats(const QString &flowName, const QList<StepSample> &rows,
                               StepStatsWindow window = {});

/// Reads the steps of the flow's runs in the window and computes their statistics.
Result<FlowStepStats> stepStats(OperatorApi &api, const QString &flowName,
                                StepStatsWindow window = {});

/// The steps that usually fail or retry first: by failure rate + retry share, then by how many
/// runs they had, then flow order.
QList<StepStats> byTrouble(QList<StepStats> steps);

/// How many of a step's latest finished durations "slow" is judged against. A recent window
/// rather than the whole history: an operator asks whether a step is slow for what it does
/// these days; a step that got faster or slower after a change months ago is judged by its
/// runs since, not diluted by 100,000 old ones. It also keeps the alerts' check one short read.
constexpr int kSlowWindow = 200;

/// The outcomes whose durations count (p50, p95 and the slow baseline): succeeded (not through
/// a fallback) or failed.
QList<StepOutcome> finishedStepOutcomes();

/// The baseline of latestDurations, a step's latest finished durations (newest first, as
/// Store::latestStepDurations gives them): only the first kSlowWindow count.
SlowBaseline slowBaseline(QList<qint64> latestDurations);

/// When a step of a run counts as slow: it took more than factor × its baseline's p95, and the
/// baseline holds at least minFinished durations.
struct SlowRule {
    double factor = 2.0;
    int minFinished = 20;
};

/// How long a step of a run has taken: ended - started when it ended, now - started while it
/// has started but not ended; nullopt when it never started.
std::optional<qint64> stepElapsedMs(qint64 startedAt, qint64 endedAt, qint64 now);

/// elapsedMs / p95 when the step is slow by rule, else nullopt (too little history, no p95, or
/// not slow).
std::optional<double> slowFactor(const SlowBaseline &baseline, qint64 elapsedMs,
                                 SlowRule rule = {});
/// The same against the statistics' slowBaseline.
std::optional<double> slowFactor(const StepStats &stats, qint64 elapsedMs, SlowRule rule = {});

} // namespace keepflow
