#pragma once

// What a step dropped from the palette starts with: for each kind the flow format defines, a `with`
// that passes validation, so that a new step is never an error before the user touched it.

#include "model/flow.h"

#include <QJsonObject>
#include <QString>

namespace keepflow::ui {

/// The `with` a new step of kind starts with; {} for noop and for a kind Keepflow does not know.
QJsonObject defaultStepWith(const QString &kind);

/// A new step of kind named id with defaultStepWith(kind); nothing else is set.
Step defaultStep(const QString &kind, const QString &id);

} // namespace keepflow::ui
