#pragma once

// The resource gate: owns the state of every external dependency the engine calls (concurrency
// slots, rate-limit tokens, the circuit breaker, the queue of calls waiting for it, an
// operator's pause) and decides whether a call may start now. The durable part (pause, breaker)
// is written through the run ledger; operators change it in the resources table and sync() takes
// it in.
//
// Threading: the engine's thread.

#include "core/records.h"
#include "runtime/plan.h"
#include "steps/stepkind.h"

#include <QString>

#include <deque>
#include <functional>
#include <map>
#include <optional>

namespace keepflow {

class RunLedger;

/// A call waiting for a resource: a step, or one item of a foreach step.
struct QueueEntry {
    QString runId;
    int step = 0;
    int item = -1;
    bool operator==(const QueueEntry &) const = default;
};

class ResourceGate {
public:
    enum class Breaker { Closed, Open, HalfOpen };

    /// A resource as the engine sees it: limits, the durable pause and breaker, live counters.
    struct Resource {
        QString name;
        ResourceConfig config;   ///< what applies: declared, with an operator's live limits
        ResourceConfig declared; ///< as the flow of the latest caller declares it
        std::optional<int> concurrencyOverride; ///< set live (resources table), for every run
        std::optional<std::pair<int, qint64>> rateOverride;
        bool paused = false;
        Breaker breaker = Breaker::Closed;
        qint64 openedAt = 0;
        QString window; ///< latest call outcomes, oldest first: '1' failed
        int inFlight = 0;
        int probesInFlight = 0;
        int probeSuccesses = 0;
        double tokens = -1; ///< rate-limit tokens; -1 until first use (the bucket starts full)
        qint64 refilledAt = 0;
        std::deque<QueueEntry> queue; ///< calls waiting for it, oldest first
    };

    struct Callbacks {
        /// Whether the entry still waits in the queue (its step or item may have moved on).
        std::function<bool(const QueueEntry &)> stillWaiting;
        /// Lets the entry's step try again.
        std::function<void(const QueueEntry &)> wake;
    };

    ResourceGate(RunLedger &ledger, Callbacks callbacks);

    /// The resource with its limits as config declares them.
    Resource &resource(const QString &name, const ResourceConfig &config);

    /// Whether a call of entry may start now. If so, its slot and (half-open) probe are taken
    /// and probe says which; if not, why says why and wakeAt (when known) when to look again.
    bool admit(Resource &res, const QueueEntry &entry, qint64 now, QString &why, qint64 &wakeAt);
    /// Takes a slot for the call admit() let through (the head of the queue leaves it).
    /// Returns whether the call is a half-open breaker's probe.
    bool takeSlot(Resource &res, bool wasQueued);
    /// A call to res ended (result) or never went out (nullopt): its slot is free again, and
    /// the breaker learns how it went.
    void release(Resource &res, bool probe, const std::optional<AttemptResult> &result, qint64 now);
    void enqueue(Resource &res, const QueueEntry &entry) { res.queue.push_back(entry); }
    /// Lets the oldest waiting call of res try again.
    void wakeQueue(Resource &res);

    /// Takes in what operators changed in the resources table (pause, unpause, reset, limits
    /// set live: a raised limit lets waiting calls in at once, a lowered one admits no new call
    /// until the calls in flight are below it).
    void sync(const QList<ResourceRow> &rows);
    bool loaded() const { return m_loaded; }

private:
    void dropStaleQueueHeads(Resource &res);
    /// res.config from what the flow declares and what an operator set live.
    static void applyLimits(Resource &res);
    ResourceRow row(const Resource &res, qint64 now) const;

    RunLedger &m_ledger;
    Callbacks m_callbacks;
    std::map<QString, Resource> m_resources;
    bool m_loaded = false;
};

} // namespace keepflow
