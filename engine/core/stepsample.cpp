#include "core/stepsample.h"

#include <algorithm>

namespace keepflow {

qint64 percentileNearestRank(const QList<qint64> &sortedValues, int percent) {
    const qint64 n = sortedValues.size();
    if (n == 0)
        return -1;
    // ceil(percent * n / 100) in integers: no rounding error decides a rank.
    const qint64 rank = std::clamp<qint64>((percent * n + 99) / 100, 1, n);
    return sortedValues[rank - 1];
}

qint64 bucketStartOf(qint64 time, qint64 length) {
    const qint64 quotient = time / length;
    return (time % length < 0 ? quotient - 1 : quotient) * length;
}

StepSampleReducer::StepSampleReducer(qint64 bucketMs, QList<StepOutcome> finished)
    : m_bucketMs(bucketMs) {
    for (const StepOutcome &outcome : finished)
        m_finished[static_cast<int>(outcome.state)][outcome.viaFallback ? 1 : 0] = true;
}

size_t qHash(const StepSampleReducer::GroupKey &key, size_t seed) {
    return qHashMulti(seed, key.step, key.position, key.outcome, key.bucket);
}

int StepSampleReducer::stepIndex(const QString &stepId) {
    auto step = m_stepIndex.constFind(stepId);
    if (step == m_stepIndex.cend()) {
        step = m_stepIndex.insert(stepId, static_cast<int>(m_stepIds.size()));
        m_stepIds.append(stepId);
        m_durations.append(QList<qint64>());
    }
    return *step;
}

void StepSampleReducer::add(int stepIndex, int position, StepState state, bool viaFallback,
                            int attempts, qint64 startedAt, qint64 endedAt, qint64 runCreatedAt) {
    const int attemptClass = std::clamp(attempts, 0, 2);
    const GroupKey key{stepIndex, position,
                       (static_cast<int>(state) * 2 + (viaFallback ? 1 : 0)) * 3 + attemptClass,
                       bucketStartOf(runCreatedAt, m_bucketMs)};
    auto found = m_groupIndex.constFind(key);
    if (found == m_groupIndex.cend()) {
        found = m_groupIndex.insert(key, static_cast<int>(m_groups.size()));
        StepSampleGroup group;
        group.stepId = m_stepIds[stepIndex];
        group.position = position;
        group.state = state;
        group.viaFallback = viaFallback;
        group.attemptClass = attemptClass;
        group.bucketStart = key.bucket;
        group.newestRunCreatedAt = runCreatedAt;
        m_groups.append(group);
    }
    StepSampleGroup &group = m_groups[*found];
    ++group.steps;
    group.attempts += attempts;
    group.newestRunCreatedAt = std::max(group.newestRunCreatedAt, runCreatedAt);
    if (m_finished[static_cast<int>(state)][viaFallback ? 1 : 0] && startedAt > 0 &&
        endedAt >= startedAt)
        m_durations[stepIndex].append(endedAt - startedAt);
}

QList<StepSampleGroup> StepSampleReducer::groups() const {
    return m_groups;
}

QList<StepDurationPercentiles> StepSampleReducer::percentiles() {
    QList<StepDurationPercentiles> result;
    for (int step = 0; step < m_stepIds.size(); ++step) {
        QList<qint64> &durations = m_durations[step];
        if (durations.isEmpty())
            continue;
        std::sort(durations.begin(), durations.end());
        result.append({m_stepIds[step], static_cast<int>(durations.size()),
                       percentileNearestRank(durations, 50), percentileNearestRank(durations, 95)});
    }
    return result;
}

} // namespace keepflow
