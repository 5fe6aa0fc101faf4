#pragma once

// One observation of a resource (an external dependency steps call) at a moment: what the
// resources table shows and what its charts plot over time. Built by the main window from the
// engine's ResourceRow, its queue load and a LatencyTracker.

#include "core/records.h"

#include <QList>
#include <QString>

#include <limits>

namespace keepflow::ui {

struct ResourceSample {
    QString name;
    qint64 at = 0; ///< ms since the Unix epoch
    bool paused = false;
    QString breakerState = QStringLiteral("closed"); ///< closed, open or half_open
    int queued = 0;
    int inFlight = 0;
    double errorRate = 0; ///< share of failed calls in the breaker window, 0..1
    /// Mean latency of the calls that finished in the interval; NaN when none finished.
    double latencyMs = std::numeric_limits<double>::quiet_NaN();

    /// A sample from the resource's durable row (pause, breaker, window) and its load.
    static ResourceSample fromRow(const ResourceRow &row, qint64 at, int queued, int inFlight,
                                  double latencyMs);
    /// Share of '1' (failed) in a breaker window string; 0 for an empty window.
    static double errorRateOf(const QString &window);
};

} // namespace keepflow::ui
