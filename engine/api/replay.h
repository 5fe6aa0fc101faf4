#pragma once

// The history of a run replayed from its events (the change feed): which state each step is in.
// The tables and the events must agree; tests check it, the UI can rewind with it.

#include "core/records.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

/// Step id -> state, for the steps of a run (all start pending), after applying events in
/// order. Item events and run events do not change step states; an operator event sets the
/// states its detail lists (a name no StepState has is ignored).
QHash<QString, StepState> replayStepStates(const QStringList &stepIds,
                                           const QList<EventRow> &events);

} // namespace keepflow
