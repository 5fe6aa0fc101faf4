#pragma once

// Per-resource call latency for one sampling interval, from finished attempts. The resources
// view samples every few seconds; each sample's latency is the mean duration of the calls that
// finished since the previous sample, or NaN when none did (a gap in the chart, not a zero).
//
// Pure logic, no widgets or clock: the caller decides the intervals. Not thread-safe.

#include "rows.h"

#include <QHash>
#include <QList>
#include <QString>

namespace keepflow::ui {

class LatencyTracker {
public:
    /// Counts one finished call of resource towards the current interval. Negative durations
    /// (clock skew between workers) are ignored.
    void addFinished(const QString &resource, qint64 durationMs);

    /// Counts the attempts that finished in (after, upTo] and whose step calls a resource
    /// (resourceOfStep: step id → resource name). Running attempts and steps without a resource
    /// are skipped. Pass consecutive, non-overlapping intervals so that each attempt counts once
    /// even though the caller re-reads the same attempt rows every time. Returns how many counted.
    int addFinishedBetween(const QList<AttemptRow> &attempts,
                           const QHash<QString, QString> &resourceOfStep, qint64 after,
                           qint64 upTo);

    /// Mean duration (ms) of the resource's calls since the last take, or NaN when there were
    /// none; starts the resource's next interval.
    double takeAverage(const QString &resource);
    /// takeAverage() of every resource that had a call since the last take.
    QHash<QString, double> takeAverages();

    /// Calls counted for resource in the current interval.
    int pendingCount(const QString &resource) const;

private:
    struct Sum {
        qint64 totalMs = 0;
        int count = 0;
    };
    QHash<QString, Sum> m_sums;
};

} // namespace keepflow::ui
