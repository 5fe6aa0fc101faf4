#pragma once

// The history of a run replayed from its events (the change feed): which state each step is in.
// The tables and the events must agree; tests check it, the UI can rewind with it.

#include "store/rows.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

/// Step id -> state name, for the steps of a run (all start pending), after applying events in
/// order. Item events and run events do not change step states.
QHash<QString, QString> replayStepStates(const QStringList &stepIds, const QList<EventRow> &events);

} // namespace keepflow
