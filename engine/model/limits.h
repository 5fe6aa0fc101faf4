#pragma once

#include <QtGlobal>

namespace keepflow {

/// The ranges of the flow format's numbers: values beyond them are mistakes, and would overflow
/// where the engine adds them to a time or multiplies them.
inline constexpr qint64 kMaxCount = 1'000'000; ///< concurrency, limits, calls, failures
inline constexpr qint64 kMaxAttempts = 10'000; ///< retry.max_attempts
inline constexpr double kMaxBackoff = 100.0;   ///< retry.backoff
inline constexpr qint64 kMaxDurationMs = 36'500LL * 24 * 60 * 60 * 1000; ///< 36500d (100 years)
inline constexpr qint64 kMaxSafeInteger = 9'007'199'254'740'991; ///< 2^53 - 1, exact in JSON
inline constexpr qint64 kMaxResponseBytes = qint64(1) << 30;     ///< 1 GiB, held in memory

} // namespace keepflow
