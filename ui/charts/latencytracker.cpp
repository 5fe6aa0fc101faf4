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

void LatencyTracker::addEvent(const EventRow &event, const QString &resource) {
    const QString call = event.runId + QLatin1Char('|') + event.stepId + QLatin1Char('|') +
                         event.detail.value(QLatin1String("item")).toString();
    if (event.type == EventType::AttemptStarted) {
        m_openCalls.insert(call, event.at);
        return;
    }
    const auto open = m_openCalls.constFind(call);
    if (open == m_openCalls.cend())
        return;
    addFinished(resource, event.at - *open);
    m_openCalls.erase(open);
}

double LatencyTracker::takeAverage(const QString &resource) {
    const auto found = m_sums.constFind(resource);
    if (found == m_sums.cend() || found->count == 0)
        return std::numeric_limits<double>::quiet_NaN();
    const double average = static_cast<double>(found->totalMs) / found->count;
    m_sums.erase(found);
    return average;
}

int LatencyTracker::pendingCount(const QString &resource) const {
    return m_sums.value(resource).count;
}

} // namespace keepflow::ui
