#pragma once

// The run ledger: the only writer of state rows, attempt rows and events. Every state change of
// a step or an item goes through transition() (the one transition function), is recorded as its
// row, and is announced by its event, all into the batch of the current round; commit() writes
// that batch in one transaction. Because every write path passes here, this is where a commit is
// fenced: every row of a run this worker holds names the run's lease epoch, and the store refuses
// the rows of runs another worker has claimed since (a worker paused past its lease, a partition).
// Those runs are reported lost and the rest of the batch is committed again.
//
// It also keeps what a change sets in motion: the runs and steps to look at again (candidates),
// and the durable timers (a step's or item's not-before time, armed in memory as well).
//
// Threading: the engine's thread. Failure: a failed commit leaves the database at the last good
// state and the batch is dropped; the engine stops.

#include "core/eventtype.h"
#include "core/status.h"
#include "runtime/liverun.h"
#include "store/batch.h"

#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>

#include <vector>

namespace keepflow {

class Store;

class RunLedger {
public:
    struct Identity {
        QString workerId; ///< recorded on attempts; owner of the leases
        QString actor;    ///< recorded on the events the engine writes
    };

    RunLedger(Store &store, Identity identity);

    // ---- state -----------------------------------------------------------------------------
    /// Applies event to the target through the transition function (steps: nextStepState, items:
    /// nextItemState) and keeps the run's state counts. False, changing nothing, when the event
    /// does not apply to its state.
    bool transition(const AttemptTarget &target, StepEvent event);
    bool transition(LiveRun &run, int step, StepEvent event) {
        return transition(AttemptTarget::step(run, step), event);
    }

    // ---- rows ------------------------------------------------------------------------------
    /// The run's row; with leaseUntil, claimed by this worker until then (a new run it executes).
    void recordRun(const LiveRun &run, qint64 leaseUntil = 0);
    void recordStep(const LiveRun &run, int step);
    void recordItem(const LiveRun &run, int step, int pos);
    /// An item row as an operator's action rewrote it (reopened items of a finished step).
    void recordItemRow(const ItemRow &row);
    /// The target's row: the step's, or the item's.
    void recordTarget(const AttemptTarget &target);
    /// The write-ahead row of the target's attempt that starts now.
    void recordAttemptStarted(const AttemptTarget &target, qint64 now);
    /// The row of the target's latest attempt, ended with outcome.
    void recordAttemptEnded(const AttemptTarget &target, const AttemptResult &result,
                            AttemptOutcome outcome, qint64 now);
    /// An attempt row as recovery or cancellation ends it.
    void recordAttempt(const AttemptRow &row);
    void recordResource(const ResourceRow &row);
    void recordAnswer(const RequestRow &answer);
    /// The foreach step's item rows are dropped (a rerun makes a new list).
    void clearItems(const LiveRun &run, int step);
    /// The step's row and its items are dropped (an upgrade to a version without the step).
    void removeStep(const LiveRun &run, const QString &stepId);
    /// This worker gives up the run's lease in the same transaction. A run kept in memory after
    /// that (an engine that is not driving) must be claimed again before it is written again.
    void releaseLease(LiveRun &run);

    // ---- events ----------------------------------------------------------------------------
    /// An event of the run (step < 0) or of one of its steps.
    EventRow &event(const LiveRun &run, int step, EventType type, QJsonObject detail, qint64 now);
    /// An event of the target: an item's carries its key and attempt number.
    EventRow &targetEvent(const AttemptTarget &target, EventType type, QJsonObject detail,
                          qint64 now);
    void resourceEvent(const QString &resource, EventType type, QJsonObject detail, qint64 now);

    // ---- keys and timers -------------------------------------------------------------------
    static QString idempotencyKey(const LiveRun &run, int step);
    /// The step's key, or for an item the step's key and the item's.
    static QString idempotencyKey(const AttemptTarget &target);
    /// Arms the in-memory timer of the target's not-before time (the row carries it durably);
    /// earlier timers of the same target no longer count.
    void armTimer(const AttemptTarget &target);
    DueHeap &timers() { return m_timers; }
    const DueHeap &timers() const { return m_timers; }

    // ---- what to look at next --------------------------------------------------------------
    void markDirty(LiveRun &run);
    void addCandidate(LiveRun &run, int step);
    /// Steps blocked only because of step may run after all: back to pending, looked at again.
    void unblockDownstream(LiveRun &run, int step);
    std::vector<LiveRun *> takeDirtyRuns();
    bool hasDirtyRuns() const { return !m_dirtyRuns.empty(); }
    void forget(const LiveRun &run);

    // ---- commit ----------------------------------------------------------------------------
    bool isEmpty() const { return m_batch.isEmpty(); }
    struct Committed {
        QList<EventRow> events; ///< committed, ids set
        QStringList lostRuns;   ///< runs another worker took: none of their rows were written
    };
    /// Writes the round's batch in one transaction, fenced by the leases of the runs it writes.
    /// On failure the batch is dropped and nothing of it is in the database.
    Result<Committed> commit();

private:
    /// The batch writes rows of run: fence them with its lease epoch (a run this batch creates
    /// has no row to check yet).
    void fence(const LiveRun &run);
    StepRunRow stepRow(const LiveRun &run, int step) const;
    ItemRow itemRow(const LiveRun &run, int step, int pos) const;
    AttemptRow attemptRow(const AttemptTarget &target) const;

    Store &m_store;
    Identity m_identity;
    Batch m_batch;
    QSet<QString> m_createdRuns; ///< runs the current batch inserts
    DueHeap m_timers;
    std::vector<LiveRun *> m_dirtyRuns;
};

/// How an attempt's result is recorded.
AttemptOutcome outcomeOf(const AttemptResult &result);

} // namespace keepflow
