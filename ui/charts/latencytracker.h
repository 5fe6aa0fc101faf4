#pragma once

// Per-resource call latency for one sampling interval, from the change feed's events. The
// resources view samples every second; each sample's latency is the mean duration of the calls
// that finished since the previous sample, failed ones included (a timeout is the slowest call),
// or NaN when none did (a gap in the chart, not a zero).
//
// Pure logic, no widgets or clock: the caller decides the intervals. Not thread-safe.

#include "core/records.h"

#include <QHash>
#include <QList>
#include <QString>

namespace keepflow::ui {

class LatencyTracker {
public:
    /// Counts one finished call of resource towards the current interval. Negative durations
    /// (clock skew between workers) are ignored.
    void addFinished(const QString &resource, qint64 durationMs);

    /// Follows attempts through the feed: `attempt_started` opens a call of its step (and item);
    /// the next event of that step (and item) ends it and counts its duration for resource (the
    /// resource the step calls; empty: not counted). Calls that started before the tracker saw
    /// them are not counted.
    void addEvent(const EventRow &event, const QString &resource);

    /// Mean duration (ms) of the resource's calls since the last take, or NaN when there were
    /// none; starts the resource's next interval.
    double takeAverage(const QString &resource);
    /// Calls counted for resource in the current interval.
    int pendingCount(const QString &resource) const;

private:
    struct Sum {
        qint64 totalMs = 0;
        int count = 0;
    };
    QHash<QString, Sum> m_sums;
    QHash<QString, qint64> m_openCalls; ///< "run|step|item" -> when its attempt started
};

} // namespace keepflow::ui
