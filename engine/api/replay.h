#pragma once

// The history of a run replayed from its events (the change feed): the run as it was after any
// one of its events. The tables and the events must agree (tests and `keepflowctl check` compare
// them); `status --at` and the desktop's history scrubber show the past with it.

#include "core/records.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <vector>

namespace keepflow {

/// Step id -> state, for the steps of a run (all start pending), after applying events in
/// order. Item events and run events do not change step states; an operator event sets the
/// states its detail lists (a name no StepState has is ignored).
QHash<QString, StepState> replayStepStates(const QStringList &stepIds,
                                           const QList<EventRow> &events);

/// What the events say of a run at one point of its history: its state, and per step (flow
/// order) its state, attempts and failures (so the attempt budget), last error and error class,
/// when it started and ended, whether a fallback stood in, and what operators changed (an
/// edited input, a live policy); per foreach item its state, attempts, failures and error.
/// Outputs and durable timers other than the next attempt's are not in the events; ids,
/// positions and resources come from the rows the replay was built from.
struct ReplayedRun {
    RunRow run;
    QList<StepRunRow> steps;
    QList<ItemRow> items;       ///< every item the stored rows know, existing or not yet
    std::vector<bool> expanded; ///< per item: its step had expanded its list at this point
    /// Per step and per item: an attempt started whose outcome no event has told yet (its
    /// failure counts against the budget once, whichever event reports it).
    std::vector<bool> stepAttemptOpen;
    std::vector<bool> itemAttemptOpen;
    /// The items that existed at this point (the expanded ones), as `status` lists them.
    QList<ItemRow> existingItems() const;
};

/// A cursor over a run's events that shows the run after any of them at O(changes) cost: moving
/// forward applies the events passed over; moving back starts from the nearest checkpoint (a
/// copy of the replayed run, taken every checkpointInterval events on the way forward) at or
/// before the target. With n steps the interval defaults to max(64, n), so a position costs
/// at most about 2n rows' work however long the history is.
class RunReplay {
public:
    /// run, steps and items as stored now give the run's shape (ids, positions, resources, the
    /// items' keys); every field an event changes starts as a new run's. events: the run's,
    /// oldest first (as Store::events gives them).
    RunReplay(const RunRow &run, const QList<StepRunRow> &steps, const QList<ItemRow> &items,
              QList<EventRow> events, int checkpointInterval = 0);

    qsizetype eventCount() const { return m_events.size(); }
    const QList<EventRow> &events() const { return m_events; }
    /// Appends events committed since (oldest first); the position stays where it is.
    void append(const QList<EventRow> &events);

    /// Moves to just after events()[index]; -1 is before the first event (the run as created,
    /// nothing started). Clamped to [-1, eventCount() - 1].
    void seek(qsizetype index);
    qsizetype position() const { return m_position; }
    /// The event the position is just after; null at -1.
    const EventRow *currentEvent() const;
    const ReplayedRun &state() const { return m_state; }
    /// Indexes (into state().steps) of the steps whose row changed in the last seek(); all of
    /// them after a move back past a checkpoint.
    const QList<int> &changedSteps() const { return m_changed; }

    /// The index of the event with that id; -1 when the run has none.
    qsizetype indexOfEvent(qint64 eventId) const;
    /// The index of the last event at or before atMs (ms since the epoch); -1 when every event
    /// is later.
    qsizetype indexAtTime(qint64 atMs) const;

private:
    void apply(const EventRow &event);
    int stepIndex(const QString &stepId) const;
    void markChanged(int step);

    QList<EventRow> m_events;
    ReplayedRun m_initial;
    ReplayedRun m_state;
    qsizetype m_position = -1;
    int m_interval = 64;
    std::vector<ReplayedRun> m_checkpoints; ///< [k]: the run after event (k + 1) * interval - 1
    QHash<QString, int> m_stepIndex;
    QHash<QString, QHash<QString, int>> m_itemIndex; ///< step id -> item key -> index in items
    QList<int> m_changed;
    std::vector<bool> m_changedMark;
    bool m_allChanged = false;
};

} // namespace keepflow
