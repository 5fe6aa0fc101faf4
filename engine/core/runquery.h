#pragma once

// What the runs lists and the triage commands ask for (keepflowctl list, failures, retry-failed;
// the desktop's runs view): plain values, typed with the core enums. The store turns them into
// SQL, user text only ever as binds.

#include "core/states.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

/// Conditions on one step of a run. A run matches when one and the same of its steps meets all
/// of them: "--step-state failed --resource payments" finds runs where a step that calls
/// payments failed, not runs where one step failed and another calls payments.
struct StepCondition {
    QString stepId;                 ///< exact step id
    std::optional<StepState> state; ///< e.g. retrying: the runs stuck retrying
    QString error;                  ///< case-insensitive substring of the step's last error
    QString resource;               ///< the external dependency it calls

    bool isEmpty() const {
        return stepId.isEmpty() && !state && error.isEmpty() && resource.isEmpty();
    }
};

/// A page of the runs list: filters combine with AND; newest first.
struct RunQuery {
    QList<RunState> states; ///< empty: every state
    QString flowName;       ///< exact flow name; empty: every flow
    /// Case-insensitive substring of the run id, the flow name, or the id or last error of one
    /// of the run's steps.
    QString search;
    StepCondition step;
    /// Runs under way at some moment between since and until (ms since the epoch; 0: open):
    /// created by until, and not ended before since. "Since the outage began" thus also finds
    /// the runs that started before it and failed during it.
    qint64 since = 0;
    qint64 until = 0;
    /// Exactly these runs (with the other filters); empty: any run. The desktop acts on a
    /// failure group's runs by their ids: a group is a masked signature, which no text filter
    /// selects exactly.
    QStringList runIds;
    int offset = 0;
    int limit = 0; ///< 0: no limit
};

} // namespace keepflow
