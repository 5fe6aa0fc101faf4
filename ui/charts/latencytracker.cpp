#include "latencytracker.h"

#include <limits>

namespace keepflow::ui {

void LatencyTracker::addFinished(const QString &resource, qint64 durationMs) {
    if (durationMs < 0 || resource.isEmpty())
        return;
    Sum &sum = m_sums[resource];
    sum.totalMs += durationMs;
    ++sum.count;
}

int LatencyTracker::addFinishedBetween(const QList<AttemptRow> &attempts,
                                       const QHash<QString, QString> &resourceOfStep, qint64 after,
                                       qint64 upTo) {
    int counted = 0;
    for (const AttemptRow &attempt : attempts) {
        // endedAt 0: still running, its latency is not known yet.
        if (attempt.endedAt == 0 || attempt.endedAt <= after || attempt.endedAt > upTo)
            continue;
        const QString resource = resourceOfStep.value(attempt.stepId);
        if (resource.isEmpty() || attempt.endedAt < attempt.startedAt)
            continue;
        addFinished(resource, attempt.endedAt - attempt.startedAt);
        ++counted;
    }
    return counted;
}

double LatencyTracker::takeAverage(const QString &resource) {
    const auto found = m_sums.constFind(resource);
    if (found == m_sums.cend() || found->count == 0)
        return std::numeric_limits<double>::quiet_NaN();
    const double average = static_cast<double>(found->totalMs) / found->count;
    m_sums.erase(found);
    return average;
}

QHash<QString, double> LatencyTracker::takeAverages() {
    QHash<QString, double> averages;
    for (auto it = m_sums.cbegin(); it != m_sums.cend(); ++it) {
        if (it->count > 0)
            averages.insert(it.key(), static_cast<double>(it->totalMs) / it->count);
    }
    m_sums.clear();
    return averages;
}

int LatencyTracker::pendingCount(const QString &resource) const {
    return m_sums.value(resource).count;
}

} // namespace keepflow::ui
