#include "operator/policychange.h"

#include "model/limits.h"
#include "model/retrypolicy.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace keepflow {

namespace {

const QString kKeyMaxAttempts = QStringLiteral("max_attempts");
const QString kKeyInitialInterval = QStringLiteral("initial_interval");
const QString kKeyBackoff = QStringLiteral("backoff");
const QString kKeyMaxInterval = QStringLiteral("max_interval");
const QString kKeyNonRetryable = QStringLiteral("non_retryable");
const QString kKeyTimeout = QStringLiteral("timeout");
const QString kKeyDeadline = QStringLiteral("deadline");

QJsonValue durationOrNull(const std::optional<qint64> &ms) {
    return ms ? QJsonValue(formatDuration(*ms)) : QJsonValue(QJsonValue::Null);
}

QString durationOrNone(const std::optional<qint64> &ms) {
    return ms ? formatDuration(*ms) : QStringLiteral("none");
}

const QString kDurationHint = QStringLiteral("a whole number and a unit: 250ms, 20s, 5m, 2h, 1d");

/// A duration key's value: a text as flow files write it.
Result<qint64> durationValue(const QJsonValue &value, const QString &key) {
    if (!value.isString())
        return Status::error(QStringLiteral("%1 must be a duration (%2)").arg(key, kDurationHint));
    const QString text = value.toString().trimmed();
    if (text.startsWith(QLatin1Char('-')))
        return Status::error(
            QStringLiteral("%1 must not be negative (got %2)").arg(key, value.toString()));
    const auto ms = parseDurationMs(text);
    if (!ms)
        return Status::error(QStringLiteral("%1: \"%2\" is not a duration (%3)")
                                 .arg(key, value.toString(), kDurationHint));
    if (*ms > kMaxDurationMs)
        return Status::error(QStringLiteral("%1 must be at most %2 (got %3)")
                                 .arg(key, formatDuration(kMaxDurationMs), value.toString()));
    return *ms;
}

QString number(double value) {
    return QString::number(value, 'g', 6);
}

} // namespace

QJsonObject StepPolicy::toJson() const {
    QJsonArray nonRetryable;
    for (const QString &entry : retry.nonRetryable)
        nonRetryable.append(entry);
    return {{kKeyMaxAttempts, retry.maxAttempts},
            {kKeyInitialInterval, formatDuration(retry.initialIntervalMs)},
            {kKeyBackoff, retry.backoff},
            {kKeyMaxInterval, formatDuration(retry.maxIntervalMs)},
            {kKeyNonRetryable, nonRetryable},
            {kKeyTimeout, durationOrNull(timeoutMs)},
            {kKeyDeadline, durationOrNull(deadlineMs)}};
}

bool StepPolicy::operator==(const StepPolicy &other) const {
    return retry.maxAttempts == other.retry.maxAttempts &&
           retry.initialIntervalMs == other.retry.initialIntervalMs &&
           retry.backoff == other.retry.backoff &&
           retry.maxIntervalMs == other.retry.maxIntervalMs && retry.jitter == other.retry.jitter &&
           retry.nonRetryable == other.retry.nonRetryable && timeoutMs == other.timeoutMs &&
           deadlineMs == other.deadlineMs;
}

StepPolicy flowStepPolicy(const Flow &flow, const Step &step) {
    StepPolicy policy;
    policy.retry = flow.effectiveRetry(step);
    policy.timeoutMs = flow.effectiveTimeoutMs(step);
    if (step.deadline)
        policy.deadlineMs = step.deadline->ms;
    return policy;
}

bool PolicyOverride::isEmpty() const {
    return !maxAttempts && !initialIntervalMs && !backoff && !maxIntervalMs && !nonRetryable &&
           !timeoutMs && !deadlineMs;
}

QJsonObject PolicyOverride::toJson() const {
    QJsonObject json;
    if (maxAttempts)
        json.insert(kKeyMaxAttempts, *maxAttempts);
    if (initialIntervalMs)
        json.insert(kKeyInitialInterval, formatDuration(*initialIntervalMs));
    if (backoff)
        json.insert(kKeyBackoff, *backoff);
    if (maxIntervalMs)
        json.insert(kKeyMaxInterval, formatDuration(*maxIntervalMs));
    if (nonRetryable)
        json.insert(kKeyNonRetryable, QJsonArray::fromStringList(*nonRetryable));
    if (timeoutMs)
        json.insert(kKeyTimeout, formatDuration(*timeoutMs));
    if (deadlineMs)
        json.insert(kKeyDeadline, formatDuration(*deadlineMs));
    return json;
}

Result<PolicyOverride> PolicyOverride::fromJson(const QJsonObject &json) {
    PolicyOverride change;
    for (auto it = json.begin(); it != json.end(); ++it) {
        const QString &key = it.key();
        const QJsonValue value = it.value();
        if (key == kKeyMaxAttempts) {
            const double n = value.toDouble(std::nan(""));
            if (!value.isDouble() || n != std::floor(n))
                return Status::error(QStringLiteral("max_attempts must be a whole number"));
            if (n < 1 || n > static_cast<double>(kMaxAttempts))
                return Status::error(QStringLiteral("max_attempts must be from 1 to %1 (got %2)")
                                         .arg(kMaxAttempts)
                                         .arg(number(n)));
            change.maxAttempts = static_cast<int>(n);
        } else if (key == kKeyBackoff) {
            if (!value.isDouble())
                return Status::error(QStringLiteral("backoff must be a number (at least 1)"));
            const double x = value.toDouble();
            if (x < 1.0 || x > kMaxBackoff)
                return Status::error(QStringLiteral("backoff must be from 1 to %1 (got %2): each "
                                                    "interval is the previous one times it")
                                         .arg(number(kMaxBackoff), number(x)));
            change.backoff = x;
        } else if (key == kKeyInitialInterval || key == kKeyMaxInterval || key == kKeyTimeout ||
                   key == kKeyDeadline) {
            auto ms = durationValue(value, key);
            if (!ms)
                return ms.status();
            if ((key == kKeyTimeout || key == kKeyDeadline) && *ms == 0)
                return Status::error(QStringLiteral("%1 must be longer than 0").arg(key));
            if (key == kKeyInitialInterval)
                change.initialIntervalMs = *ms;
            else if (key == kKeyMaxInterval)
                change.maxIntervalMs = *ms;
            else if (key == kKeyTimeout)
                change.timeoutMs = *ms;
            else
                change.deadlineMs = *ms;
        } else if (key == kKeyNonRetryable) {
            if (!value.isArray())
                return Status::error(QStringLiteral("non_retryable must be a list of error "
                                                    "classes or HTTP statuses"));
            QStringList list;
            for (const QJsonValue &entry : value.toArray()) {
                if (entry.isString() && !entry.toString().trimmed().isEmpty())
                    list.append(entry.toString().trimmed());
                else if (entry.isDouble())
                    list.append(QString::number(entry.toInteger()));
                else
                    return Status::error(QStringLiteral("non_retryable: every entry must be an "
                                                        "error class or an HTTP status"));
            }
            change.nonRetryable = list;
        } else {
            return Status::error(
                QStringLiteral("unknown policy key \"%1\" (known: max_attempts, "
                               "initial_interval, backoff, max_interval, non_retryable, timeout, "
                               "deadline)")
                    .arg(key));
        }
    }
    return change;
}

PolicyOverride PolicyOverride::mergedWith(const PolicyOverride &later) const {
    PolicyOverride merged = *this;
    auto take = [](auto &into, const auto &from) {
        if (from)
            into = from;
    };
    take(merged.maxAttempts, later.maxAttempts);
    take(merged.initialIntervalMs, later.initialIntervalMs);
    take(merged.backoff, later.backoff);
    take(merged.maxIntervalMs, later.maxIntervalMs);
    take(merged.nonRetryable, later.nonRetryable);
    take(merged.timeoutMs, later.timeoutMs);
    take(merged.deadlineMs, later.deadlineMs);
    return merged;
}

StepPolicy PolicyOverride::appliedTo(StepPolicy policy) const {
    if (maxAttempts)
        policy.retry.maxAttempts = *maxAttempts;
    if (initialIntervalMs)
        policy.retry.initialIntervalMs = *initialIntervalMs;
    if (backoff)
        policy.retry.backoff = *backoff;
    if (maxIntervalMs)
        policy.retry.maxIntervalMs = *maxIntervalMs;
    if (nonRetryable) {
        // As in flow files: permanent errors are never retried; the list only adds to that.
        policy.retry.nonRetryable = *nonRetryable;
        if (!policy.retry.nonRetryable.contains(QLatin1String("permanent")))
            policy.retry.nonRetryable.prepend(QStringLiteral("permanent"));
    }
    if (timeoutMs)
        policy.timeoutMs = timeoutMs;
    if (deadlineMs)
        policy.deadlineMs = deadlineMs;
    return policy;
}

Status checkStepPolicy(const StepPolicy &policy) {
    const RetryPolicy &retry = policy.retry;
    if (retry.maxAttempts < 1)
        return Status::error(
            QStringLiteral("max_attempts must be at least 1 (got %1)").arg(retry.maxAttempts));
    if (retry.initialIntervalMs < 0)
        return Status::error(QStringLiteral("initial_interval must not be negative"));
    if (retry.backoff < 1.0)
        return Status::error(
            QStringLiteral("backoff must be at least 1 (got %1)").arg(number(retry.backoff)));
    if (retry.maxIntervalMs < retry.initialIntervalMs)
        return Status::error(
            QStringLiteral("max_interval (%1) is shorter than initial_interval "
                           "(%2): the first wait would already exceed the "
                           "longest")
                .arg(formatDuration(retry.maxIntervalMs), formatDuration(retry.initialIntervalMs)));
    if (policy.timeoutMs && *policy.timeoutMs <= 0)
        return Status::error(QStringLiteral("timeout must be longer than 0"));
    if (policy.deadlineMs && *policy.deadlineMs <= 0)
        return Status::error(QStringLiteral("deadline must be longer than 0"));
    return Status::ok();
}

QString stepIdempotencyKey(const QString &runId, const QString &stepId, int generation) {
    // "run/step/generation" appended rather than through arg(): it is built for every attempt.
    QString key;
    key.reserve(runId.size() + stepId.size() + 8);
    key += runId;
    key += QLatin1Char('/');
    key += stepId;
    key += QLatin1Char('/');
    key += QString::number(generation);
    return key;
}

StepPolicy effectiveStepPolicy(const Flow &flow, const Step &step, const QJsonValue &change) {
    StepPolicy policy = flowStepPolicy(flow, step);
    if (!change.isObject())
        return policy;
    const auto parsed = PolicyOverride::fromJson(change.toObject());
    return parsed ? parsed->appliedTo(policy) : policy;
}

qint64 recomputedRetryAt(const StepPolicy &before, const StepPolicy &after,
                         const StepProgress &step, qint64 now) {
    if (step.state != StepState::Retrying || step.notBefore == 0 || step.failures < 1)
        return step.notBefore;
    const RetryPolicy &a = before.retry;
    const RetryPolicy &b = after.retry;
    if (a.initialIntervalMs == b.initialIntervalMs && a.backoff == b.backoff &&
        a.maxIntervalMs == b.maxIntervalMs && a.jitter == b.jitter)
        return step.notBefore;
    // The wait started when the latest attempt failed: the same failure, the new intervals.
    const double unit = jitterUnit(step.idempotencyKey, step.attempts);
    const qint64 failedAt = step.notBefore - backoffDelayMs(a, step.failures, unit);
    return std::max(now, failedAt + backoffDelayMs(b, step.failures, unit));
}

QString spokenDuration(qint64 ms) {
    ms = std::max<qint64>(0, ms);
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    const qint64 seconds = (ms + 500) / 1000;
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    const qint64 minutes = seconds / 60;
    if (minutes < 60) {
        const qint64 rest = seconds % 60;
        return rest == 0 ? QStringLiteral("%1 min").arg(minutes)
                         : QStringLiteral("%1 min %2 s").arg(minutes).arg(rest);
    }
    const qint64 hours = minutes / 60;
    const qint64 rest = minutes % 60;
    return rest == 0 ? QStringLiteral("%1 h").arg(hours)
                     : QStringLiteral("%1 h %2 min").arg(hours).arg(rest);
}

QString PolicyPreview::text() const {
    if (changes.isEmpty())
        return QStringLiteral("nothing changes");
    QString text = changes.join(QStringLiteral("; "));
    if (!effects.isEmpty())
        text += QStringLiteral(" — ") + effects.join(QStringLiteral("; "));
    return text;
}

PolicyPreview previewPolicyChange(const StepPolicy &before, const StepPolicy &after,
                                  const StepProgress &step, qint64 now) {
    PolicyPreview preview;
    preview.before = before;
    preview.after = after;
    const RetryPolicy &a = before.retry;
    const RetryPolicy &b = after.retry;
    auto changed = [&preview](const QString &key, const QString &to, const QString &from) {
        if (to != from)
            preview.changes << QStringLiteral("%1 %2 instead of %3").arg(key, to, from);
    };
    changed(kKeyMaxAttempts, QString::number(b.maxAttempts), QString::number(a.maxAttempts));
    changed(kKeyInitialInterval, formatDuration(b.initialIntervalMs),
            formatDuration(a.initialIntervalMs));
    changed(kKeyBackoff, number(b.backoff), number(a.backoff));
    changed(kKeyMaxInterval, formatDuration(b.maxIntervalMs), formatDuration(a.maxIntervalMs));
    changed(kKeyNonRetryable, b.nonRetryable.join(QLatin1Char(',')),
            a.nonRetryable.join(QLatin1Char(',')));
    changed(kKeyTimeout, durationOrNone(after.timeoutMs), durationOrNone(before.timeoutMs));
    changed(kKeyDeadline, durationOrNone(after.deadlineMs), durationOrNone(before.deadlineMs));
    if (preview.changes.isEmpty())
        return preview;

    const StepState state = step.state;
    const bool running = state == StepState::Running;
    const bool waitsToStart = state == StepState::Pending || state == StepState::Scheduled ||
                              state == StepState::Queued || state == StepState::Retrying ||
                              state == StepState::Paused;
    if (!running && !waitsToStart) {
        preview.effects << QStringLiteral("step is %1: the new policy applies when it runs again")
                               .arg(stateName(state));
        return preview;
    }
    // The attempt the budget is about: the one in flight, or the next one.
    const int attempt = running ? std::max(1, step.attempts) : step.attempts + 1;
    const StepState budgetState = running ? StepState::Running : StepState::Retrying;
    // Never "4/3": an attempt that runs counts in its budget.
    const int budgetBefore =
        std::max(attempt, attemptBudget(budgetState, step.attempts, step.failures, a.maxAttempts));
    const int budgetAfter =
        std::max(attempt, attemptBudget(budgetState, step.attempts, step.failures, b.maxAttempts));
    if (budgetBefore != budgetAfter)
        preview.effects << QStringLiteral("attempt %1/%2 instead of %1/%3")
                               .arg(attempt)
                               .arg(budgetAfter)
                               .arg(budgetBefore);
    if (state == StepState::Retrying && step.failures >= b.maxAttempts)
        preview.effects << QStringLiteral("attempt %1 is the last one").arg(attempt);
    if (state == StepState::Retrying) {
        const qint64 at = recomputedRetryAt(before, after, step, now);
        preview.nextAttemptAt = at;
        if (at != step.notBefore)
            preview.effects << (at <= now ? QStringLiteral("next attempt now instead of in %1")
                                                .arg(spokenDuration(step.notBefore - now))
                                          : QStringLiteral("next attempt in %1 instead of %2")
                                                .arg(spokenDuration(at - now),
                                                     spokenDuration(step.notBefore - now)));
    }
    if (running && (before.timeoutMs != after.timeoutMs || before.deadlineMs != after.deadlineMs))
        preview.effects << QStringLiteral("attempt %1 in flight keeps the limits it started with; "
                                          "the new ones apply from attempt %2 on")
                               .arg(attempt)
                               .arg(attempt + 1);
    return preview;
}

QString ResourceLimits::rateText(std::optional<int> limit, std::optional<qint64> perMs) {
    if (!limit || *limit <= 0)
        return QStringLiteral("none");
    return QStringLiteral("%1/%2").arg(*limit).arg(formatDuration(perMs.value_or(1000)));
}

QJsonObject ResourceLimits::toJson() const {
    return {{QStringLiteral("concurrency"),
             concurrency ? QJsonValue(*concurrency) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("rate"), rateLimit ? QJsonValue(rateText(rateLimit, ratePerMs))
                                               : QJsonValue(QJsonValue::Null)}};
}

Result<QString> checkResourceLimits(std::optional<int> concurrency, const QString &rate) {
    if (!concurrency && rate.isEmpty())
        return Status::error(QStringLiteral("give --concurrency N or --rate N/DURATION to change"));
    if (concurrency && (*concurrency < 1 || *concurrency > kMaxCount))
        return Status::error(QStringLiteral("concurrency must be from 1 to %1 (got %2); pause "
                                            "the resource to stop its calls")
                                 .arg(kMaxCount)
                                 .arg(*concurrency));
    if (rate.isEmpty())
        return QString();
    auto parsed = parseRate(rate);
    if (!parsed)
        return parsed.status();
    return ResourceLimits::rateText(parsed->first, parsed->second);
}

QString effectiveConcurrencyText(const ResourceRow &row) {
    const auto value = row.concurrencyOverride ? row.concurrencyOverride : row.declaredConcurrency;
    return value ? QString::number(*value) : QStringLiteral("none");
}

QString effectiveRateText(const ResourceRow &row) {
    if (!row.rateOverride.isEmpty())
        return row.rateOverride;
    return row.declaredRate.isEmpty() ? QStringLiteral("none") : row.declaredRate;
}

QStringList resourceLimitChanges(const ResourceRow &before, const ResourceRow &after) {
    QStringList changes;
    const QString concurrencyBefore = effectiveConcurrencyText(before);
    const QString concurrencyAfter = effectiveConcurrencyText(after);
    if (concurrencyBefore != concurrencyAfter)
        changes << QStringLiteral("concurrency %1 instead of %2")
                       .arg(concurrencyAfter, concurrencyBefore);
    const QString rateBefore = effectiveRateText(before);
    const QString rateAfter = effectiveRateText(after);
    if (rateBefore != rateAfter)
        changes << QStringLiteral("rate %1 instead of %2").arg(rateAfter, rateBefore);
    return changes;
}

Result<std::pair<int, qint64>> parseRate(const QString &text) {
    const QString hint =
        QStringLiteral("rate must be N/DURATION, e.g. 10/1s or 600/1m (got \"%1\")").arg(text);
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    if (slash <= 0)
        return Status::error(hint);
    bool ok = false;
    const qint64 limit = text.left(slash).trimmed().toLongLong(&ok);
    if (!ok)
        return Status::error(hint);
    if (limit < 1 || limit > kMaxCount)
        return Status::error(QStringLiteral("rate: the number of calls must be from 1 to %1 (got "
                                            "%2)")
                                 .arg(kMaxCount)
                                 .arg(limit));
    QString per = text.mid(slash + 1).trimmed();
    if (!per.isEmpty() && !per.front().isDigit())
        per.prepend(QLatin1Char('1')); // "5/s": per one second
    const auto perMs = parseDurationMs(per);
    if (!perMs)
        return Status::error(hint);
    if (*perMs <= 0 || *perMs > kMaxDurationMs)
        return Status::error(
            QStringLiteral("rate: the period must be longer than 0 (got \"%1\")").arg(text));
    return std::pair<int, qint64>(static_cast<int>(limit), *perMs);
}

} // namespace keepflow
