#pragma once

// What the engine derives once per flow version: the graph as index lists, the resolved policies
// of every step, and the limits of every resource. Immutable once made; shared by the runs of
// that version.

#include "model/flow.h"
#include "model/retrypolicy.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QStringList>

#include <memory>
#include <optional>

namespace keepflow {

/// A resource's limits as the flow declares them; zero means "no limit".
struct ResourceConfig {
    int concurrency = 0;
    int rateLimit = 0;
    qint64 ratePerMs = 0;
    bool breaker = false;
    double failureRate = 0.5;
    int window = 20;
    int minCalls = 10;
    qint64 openForMs = 30'000;
    int halfOpenCalls = 1;
    qint64 maxQueueTimeMs = 0;
};

ResourceConfig parseResourceConfig(const QJsonObject &definition);

struct Plan {
    std::shared_ptr<const Flow> flow;
    qint64 flowId = 0;
    int version = 0;
    QString sourcePath;
    QList<QList<int>> upstream;
    QList<QList<int>> downstream;
    QList<int> fallbackStep; ///< step -> index of its fallback step, or -1
    QList<int> primaryOf;    ///< fallback step -> index of the step it stands in for, or -1
    QList<RetryPolicy> retry;
    QList<std::optional<qint64>> timeout;
    QList<std::optional<qint64>> deadline;
    QList<qint64> initialDelay;         ///< `delay` plus, for the delay kind, with.duration
    QList<qint64> notBeforeAt;          ///< absolute `not_before`, 0 when none
    QList<QStringList> referencedSteps; ///< steps whose outputs the step's templates read
    QList<bool> hasTemplates;
    QHash<QString, ResourceConfig> resources;

    const Step &step(int i) const { return flow->steps[i]; }
    int stepCount() const { return static_cast<int>(flow->steps.size()); }
};

std::shared_ptr<Plan> makePlan(std::shared_ptr<const Flow> flow, qint64 flowId);

} // namespace keepflow
