#include "model/retrypolicy.h"

#include <QCryptographicHash>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace keepflow {

qint64 backoffDelayMs(const RetryPolicy &policy, int failedAttempts, double unit) {
    const int exponent = std::max(0, failedAttempts - 1);
    const double maxInterval = static_cast<double>(policy.maxIntervalMs);
    double base = static_cast<double>(policy.initialIntervalMs) *
                  std::pow(std::max(1.0, policy.backoff), exponent);
    base = std::min(base, maxInterval);
    const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
    const double scaled = base * (1.0 + jitter * (2.0 * std::clamp(unit, 0.0, 1.0) - 1.0));
    return static_cast<qint64>(std::llround(std::clamp(scaled, 0.0, maxInterval)));
}

double jitterUnit(const QString &idempotencyKey, int attempt) {
    QCryptographicHash hash(QCryptographicHash::Sha1);
    hash.addData(idempotencyKey.toUtf8());
    hash.addData(QByteArray::number(attempt));
    const QByteArray digest = hash.result();
    quint64 bits = 0;
    std::memcpy(&bits, digest.constData(), sizeof bits);
    return static_cast<double>(bits >> 11) / static_cast<double>(1ULL << 53);
}

bool isRetryable(const RetryPolicy &policy, ErrorClass errorClass, const QString &errorDetail) {
    if (errorClass == ErrorClass::Permanent)
        return false;
    const QString className = errorClassName(errorClass);
    for (const QString &entry : policy.nonRetryable) {
        if (entry == className || (!errorDetail.isEmpty() && entry == errorDetail))
            return false;
    }
    return true;
}

} // namespace keepflow
