#include "resourcesample.h"

namespace keepflow::ui {

ResourceSample ResourceSample::fromRow(const ResourceRow &row, qint64 at, int queued, int inFlight,
                                       double latencyMs) {
    ResourceSample sample;
    sample.name = row.name;
    sample.at = at;
    sample.paused = row.paused;
    sample.breakerState = row.breakerState;
    sample.queued = queued;
    sample.inFlight = inFlight;
    sample.errorRate = errorRateOf(row.window);
    sample.latencyMs = latencyMs;
    return sample;
}

double ResourceSample::errorRateOf(const QString &window) {
    if (window.isEmpty())
        return 0;
    return static_cast<double>(window.count(QLatin1Char('1'))) / window.size();
}

} // namespace keepflow::ui
