#pragma once

// What an operator action would run again, computed from the run's flow and step states without
// changing anything: the desktop shows it before retry, rerun-from, skip and the like. Mirrors the
// rules Engine::act applies (tst_monitor checks the two agree).

#include "core/records.h"
#include "model/flow.h"
#include "runtime/engine.h"

#include <QStringList>

namespace keepflow {

/// The ids of the steps that would run (again) after action, in flow order; empty when the
/// action runs nothing again (or would be refused).
QStringList stepsRunAgainBy(const OperatorAction &action, const Flow &flow,
                            const QList<StepRunRow> &steps);

} // namespace keepflow
