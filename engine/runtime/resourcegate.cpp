#include "runtime/resourcegate.h"

#include "operator/policychange.h"
#include "runtime/runledger.h"

#include <cmath>

namespace keepflow {

namespace {

QString breakerName(ResourceGate::Breaker state) {
    switch (state) {
    case ResourceGate::Breaker::Closed:
        return QStringLiteral("closed");
    case ResourceGate::Breaker::Open:
        return QStringLiteral("open");
    case ResourceGate::Breaker::HalfOpen:
        return QStringLiteral("half_open");
    }
    return {};
}

ResourceGate::Breaker breakerFromName(const QString &name) {
    if (name == QLatin1String("open"))
        return ResourceGate::Breaker::Open;
    if (name == QLatin1String("half_open"))
        return ResourceGate::Breaker::HalfOpen;
    return ResourceGate::Breaker::Closed;
}

} // namespace

ResourceGate::ResourceGate(RunLedger &ledger, Callbacks callbacks)
    : m_ledger(ledger)
    , m_callbacks(std::move(callbacks)) {}

ResourceGate::Resource &ResourceGate::resource(const QString &name, const ResourceConfig &config) {
    Resource &res = m_resources[name];
    res.name = name;
    res.declared = config;
    applyLimits(res);
    return res;
}

void ResourceGate::applyLimits(Resource &res) {
    res.config = res.declared;
    if (res.concurrencyOverride)
        res.config.concurrency = *res.concurrencyOverride;
    if (res.rateOverride) {
        res.config.rateLimit = res.rateOverride->first;
        res.config.ratePerMs = res.rateOverride->second;
    }
    // A bucket never holds more than the rate allows now.
    if (res.config.rateLimit > 0 && res.tokens > res.config.rateLimit)
        res.tokens = res.config.rateLimit;
}

ResourceRow ResourceGate::row(const Resource &res, qint64 now) const {
    ResourceRow row;
    row.name = res.name;
    row.paused = res.paused;
    row.breakerState = breakerName(res.breaker);
    row.openedAt = res.openedAt;
    row.window = res.window;
    row.updatedAt = now;
    return row;
}

bool ResourceGate::admit(Resource &res, const QueueEntry &entry, qint64 now, QString &why,
                         qint64 &wakeAt) {
    const ResourceConfig &config = res.config;
    if (res.paused) {
        why = QStringLiteral("resource %1 is paused").arg(res.name);
        return false;
    }
    if (res.breaker == Breaker::Open) {
        if (now < res.openedAt + config.openForMs) {
            why = QStringLiteral("the circuit of %1 is open").arg(res.name);
            wakeAt = res.openedAt + config.openForMs;
            return false;
        }
        res.breaker = Breaker::HalfOpen; // time to probe
        res.probesInFlight = 0;
        res.probeSuccesses = 0;
        m_ledger.recordResource(row(res, now));
        m_ledger.resourceEvent(res.name, EventType::ResourceHalfOpen, {}, now);
    }
    if (res.breaker == Breaker::HalfOpen && res.probesInFlight >= config.halfOpenCalls) {
        why = QStringLiteral("the circuit of %1 is half-open and its probes are out").arg(res.name);
        return false;
    }
    if (config.concurrency > 0 && res.inFlight >= config.concurrency) {
        why =
            QStringLiteral("%1 has %2 of %2 calls in flight").arg(res.name).arg(config.concurrency);
        return false;
    }
    dropStaleQueueHeads(res);
    if (!res.queue.empty() && !(res.queue.front() == entry)) {
        why = QStringLiteral("%1 calls wait before it for %2").arg(res.queue.size()).arg(res.name);
        return false;
    }
    if (config.rateLimit > 0) {
        const double perMs = static_cast<double>(config.rateLimit) /
                             static_cast<double>(std::max<qint64>(1, config.ratePerMs));
        if (res.tokens < 0) {
            res.tokens = config.rateLimit;
        } else {
            res.tokens = std::min<double>(
                config.rateLimit, res.tokens + static_cast<double>(now - res.refilledAt) * perMs);
        }
        res.refilledAt = now;
        if (res.tokens < 1.0) {
            why = QStringLiteral("rate limit of %1: %2 per %3")
                      .arg(res.name)
                      .arg(config.rateLimit)
                      .arg(formatDuration(config.ratePerMs));
            wakeAt = now + static_cast<qint64>(std::ceil((1.0 - res.tokens) / perMs));
            return false;
        }
        res.tokens -= 1.0;
    }
    return true;
}

bool ResourceGate::takeSlot(Resource &res, bool wasQueued) {
    if (wasQueued)
        res.queue.pop_front(); // admit() lets only the head through
    ++res.inFlight;
    const bool probe = res.breaker == Breaker::HalfOpen;
    if (probe)
        ++res.probesInFlight;
    return probe;
}

void ResourceGate::release(Resource &res, bool probe, const std::optional<AttemptResult> &result,
                           qint64 now) {
    res.inFlight = std::max(0, res.inFlight - 1);
    if (probe)
        res.probesInFlight = std::max(0, res.probesInFlight - 1);
    if (result && res.config.breaker) {
        // The dependency's health: an error it caused (not a permanent one of the caller's).
        const bool failed = !result->succeeded && result->errorClass != ErrorClass::Permanent;
        if (res.breaker == Breaker::HalfOpen && probe) {
            if (failed) {
                res.breaker = Breaker::Open;
                res.openedAt = now;
                m_ledger.resourceEvent(
                    res.name, EventType::ResourceOpened,
                    {{QStringLiteral("reason"), QStringLiteral("a probe failed")}}, now);
            } else if (++res.probeSuccesses >= res.config.halfOpenCalls) {
                res.breaker = Breaker::Closed;
                res.window.clear();
                m_ledger.resourceEvent(res.name, EventType::ResourceClosed, {}, now);
            }
        } else if (res.breaker == Breaker::Closed) {
            res.window += failed ? QLatin1Char('1') : QLatin1Char('0');
            if (res.window.size() > res.config.window)
                res.window.remove(0, res.window.size() - res.config.window);
            const auto failures = res.window.count(QLatin1Char('1'));
            const double rate =
                static_cast<double>(failures) / static_cast<double>(res.window.size());
            // Only a failure can push the rate over the threshold.
            if (failed && res.window.size() >= res.config.minCalls &&
                rate >= res.config.failureRate) {
                res.breaker = Breaker::Open;
                res.openedAt = now;
                m_ledger.resourceEvent(
                    res.name, EventType::ResourceOpened,
                    {{QStringLiteral("failure_rate"), rate},
                     {QStringLiteral("calls"), static_cast<int>(res.window.size())}},
                    now);
            }
        }
        m_ledger.recordResource(row(res, now));
    }
    wakeQueue(res);
}

void ResourceGate::dropStaleQueueHeads(Resource &res) {
    while (!res.queue.empty() && !m_callbacks.stillWaiting(res.queue.front()))
        res.queue.pop_front();
}

void ResourceGate::wakeQueue(Resource &res) {
    dropStaleQueueHeads(res);
    if (!res.queue.empty())
        m_callbacks.wake(res.queue.front());
}

void ResourceGate::sync(const QList<ResourceRow> &rows) {
    m_loaded = true;
    for (const ResourceRow &row : rows) {
        Resource &res = m_resources[row.name];
        res.name = row.name;
        const Breaker breaker = breakerFromName(row.breakerState);
        bool wake = false;
        if (row.paused != res.paused) {
            res.paused = row.paused;
            wake = !res.paused;
        }
        if (breaker != res.breaker || row.window != res.window || row.openedAt != res.openedAt) {
            res.breaker = breaker;
            res.window = row.window;
            res.openedAt = row.openedAt;
            res.probesInFlight = 0;
            res.probeSuccesses = 0;
            wake = wake || breaker == Breaker::Closed;
        }
        std::optional<std::pair<int, qint64>> rate;
        if (!row.rateOverride.isEmpty()) {
            if (auto parsed = parseRate(row.rateOverride))
                rate = *parsed;
        }
        if (row.concurrencyOverride != res.concurrencyOverride || rate != res.rateOverride) {
            res.concurrencyOverride = row.concurrencyOverride;
            res.rateOverride = rate;
            applyLimits(res);
            wake = true; // a raised limit lets the next in line in now
        }
        if (wake)
            wakeQueue(res);
    }
}

} // namespace keepflow
