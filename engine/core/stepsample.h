#pragma once

// One step of one run as the step statistics read it (api/stepstats.h): only the columns they
// need, so that reading the steps of 100,000 runs stays cheap.

#include "core/states.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

struct StepSample {
    QString stepId;
    int position = 0; ///< index in the flow's steps (of the run's flow version)
    StepState state = StepState::Pending;
    int attempts = 0; ///< attempts started
    int failures = 0;
    qint64 startedAt = 0; ///< first attempt; 0 when it never started
    qint64 endedAt = 0;   ///< 0 while not finished
    bool viaFallback = false;
    qint64 runCreatedAt = 0;
    qint64 runEndedAt = 0; ///< 0 while the run has not ended
};

/// Steps of a flow's runs counted together (Store::stepSampleGroups): those with the same step,
/// position, state, fallback, attempt class and failure-rate bucket. The statistics need no
/// more than these counts, so a flow with 100,000 runs is read as a few thousand groups.
struct StepSampleGroup {
    QString stepId;
    int position = 0;
    StepState state = StepState::Pending;
    bool viaFallback = false;
    int attemptClass = 0;   ///< 0: never started, 1: one attempt, 2: more than one
    qint64 bucketStart = 0; ///< the runs' creation time, floored to the bucket length
    int steps = 0;
    qint64 attempts = 0; ///< the attempts of those steps together
    qint64 newestRunCreatedAt = 0;
};

/// The nearest-rank p50 and p95 of one step's finished durations (Store::stepDurationPercentiles).
struct StepDurationPercentiles {
    QString stepId;
    int finished = 0; ///< how many durations they are taken from
    qint64 p50Ms = -1;
    qint64 p95Ms = -1;
};

/// The steps of a flow's runs reduced to what the statistics need.
struct StepSampleReduction {
    QList<StepSampleGroup> groups;
    QList<StepDurationPercentiles> percentiles;
};

/// A step state and whether a fallback supplied the output: which of them count as finished is
/// the statistics' rule (stepstats.h), handed to the store as a list of these.
struct StepOutcome {
    StepState state = StepState::Pending;
    bool viaFallback = false;
};

/// The nearest-rank percentile of sortedValues (ascending): the value at rank
/// ceil(percent / 100 * n), counted from 1, at least rank 1. -1 for an empty list.
/// One value: it for every percentile; two: p50 is the smaller, p95 the larger.
qint64 percentileNearestRank(const QList<qint64> &sortedValues, int percent);

/// time floored to a multiple of length (also before 1970).
qint64 bucketStartOf(qint64 time, qint64 length);

/// Reduces steps, one at a time, to what Store::stepSampleGroups and stepDurationPercentiles
/// give: computeStepStats() reduces rows in memory with it, and the SQLite store the rows it
/// streams (so both follow one rule).
class StepSampleReducer {
public:
    StepSampleReducer(qint64 bucketMs, QList<StepOutcome> finished);

    /// The number add() knows the step by (a reader that streams many rows looks each id up
    /// once).
    int stepIndex(const QString &stepId);
    void add(int stepIndex, int position, StepState state, bool viaFallback, int attempts,
             qint64 startedAt, qint64 endedAt, qint64 runCreatedAt);
    void add(const StepSample &row) {
        add(stepIndex(row.stepId), row.position, row.state, row.viaFallback, row.attempts,
            row.startedAt, row.endedAt, row.runCreatedAt);
    }

    QList<StepSampleGroup> groups() const;
    /// Sorts the durations the first time.
    QList<StepDurationPercentiles> percentiles();

    /// What makes a group, with the step id as its index in m_stepIds.
    struct GroupKey {
        int step = 0;
        int position = 0;
        int outcome = 0; ///< state, fallback and attempt class in one number
        qint64 bucket = 0;
        friend bool operator==(const GroupKey &, const GroupKey &) = default;
    };

private:
    qint64 m_bucketMs;
    bool m_finished[kStepStateCount][2] = {};
    QHash<QString, int> m_stepIndex;
    QStringList m_stepIds;
    QHash<GroupKey, int> m_groupIndex;
    QList<StepSampleGroup> m_groups;
    QList<QList<qint64>> m_durations; ///< per step index
};

size_t qHash(const StepSampleReducer::GroupKey &key, size_t seed = 0);

} // namespace keepflow

// Moved in memory as bytes when a list of 500,000 of them grows (a QString is relocatable).
Q_DECLARE_TYPEINFO(keepflow::StepSample, Q_RELOCATABLE_TYPE);
