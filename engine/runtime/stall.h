#pragma once

// A run that can make no progress: only pending steps are left and nothing that could start them
// is in motion. Validation refuses the shapes known to lead there (cycles through fallbacks); the
// engine settles any such run at once rather than sit on it.

#include "runtime/liverun.h"

#include <QString>

namespace keepflow {

/// Only pending steps are left, and nothing that could start them is in motion: no attempt,
/// timer, queue, operator question or hold.
bool isStalled(const LiveRun &run);

/// Why the pending step `first` of a stalled run can never start, naming the cycle its steps wait
/// in ("a -> fallback b -> fallback a") when there is one.
QString stallReason(const LiveRun &run, int first);

} // namespace keepflow
