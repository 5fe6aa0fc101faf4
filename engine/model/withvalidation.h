#pragma once

// Private to engine/model: what each step kind accepts in its `with` object, and
// the checks of it run by validateFlow(). One function per kind in withvalidation.cpp; the table
// there says which keys a kind takes and which function checks them.

#include "model/flow.h"

#include <QString>
#include <QStringList>

namespace keepflow {

class ProblemSink;

/// The `with` keys a step kind takes; empty for an unknown kind. The property
/// editor offers these.
QStringList withKeysOf(const QString &kind);

/// Checks step's `with` (at path, a JSON pointer) for its kind: unknown keys (warnings), then
/// the kind's own rules. prefix starts every error ("step \"x\": "). Unknown kinds: nothing,
/// reported elsewhere. Templates inside `with` are checked by the validator, not here.
void checkStepWith(const Step &step, const QString &path, const QString &prefix, ProblemSink &sink);

} // namespace keepflow
