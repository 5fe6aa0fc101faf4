#pragma once

// Pure retry arithmetic: when the next attempt may start, and whether an error is retried.

#include "core/states.h"
#include "model/flow.h"

#include <QString>

namespace keepflow {

/// Delay before attempt failedAttempts+1, after failedAttempts failures (>= 1):
/// min(initial * backoff^(failedAttempts-1), max), then scaled by 1 + jitter * (2*unit - 1),
/// where unit is in [0, 1). The jittered value never exceeds max_interval.
qint64 backoffDelayMs(const RetryPolicy &policy, int failedAttempts, double unit);

/// A reproducible number in [0, 1) for the jitter of one attempt of one idempotency key, so that
/// a replayed schedule is the same after a restart.
double jitterUnit(const QString &idempotencyKey, int attempt);

/// False for permanent errors and for error types the policy lists as non_retryable
/// (its "non_retryable" may name an error class or, for HTTP, a status such as "404").
bool isRetryable(const RetryPolicy &policy, ErrorClass errorClass, const QString &errorDetail = {});

} // namespace keepflow
