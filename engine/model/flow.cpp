#include "model/flow.h"

#include <QJsonArray>

#include <limits>

namespace keepflow {

namespace {

// A Duration set in code has no text; one read from a file has both, and the text wins so that a
// hand-edited ms cannot silently disagree with what is saved.
qint64 durationMs(const Duration &d) {
    if (!d.text.isEmpty()) {
        if (const auto ms = parseDurationMs(d.text))
            return *ms;
    }
    return d.ms;
}

std::optional<int> positiveInt(const QJsonValue &v) {
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (d < 1 || d > std::numeric_limits<int>::max() || d != static_cast<double>(qint64(d)))
        return std::nullopt;
    return static_cast<int>(d);
}

// Applies the keys of one retry object on top of policy; invalid values are left to validation
// and ignored here.
void applyRetryKeys(RetryPolicy &policy, const QJsonObject &retry) {
    if (const auto n = positiveInt(retry.value(QLatin1String("max_attempts"))))
        policy.maxAttempts = *n;
    const QJsonValue initial = retry.value(QLatin1String("initial_interval"));
    if (initial.isString()) {
        if (const auto ms = parseDurationMs(initial.toString()))
            policy.initialIntervalMs = *ms;
    }
    const QJsonValue backoff = retry.value(QLatin1String("backoff"));
    if (backoff.isDouble() && backoff.toDouble() >= 1.0)
        policy.backoff = backoff.toDouble();
    const QJsonValue maxInterval = retry.value(QLatin1String("max_interval"));
    if (maxInterval.isString()) {
        if (const auto ms = parseDurationMs(maxInterval.toString()))
            policy.maxIntervalMs = *ms;
    }
    const QJsonValue jitter = retry.value(QLatin1String("jitter"));
    if (jitter.isDouble() && jitter.toDouble() >= 0.0 && jitter.toDouble() <= 1.0)
        policy.jitter = jitter.toDouble();
    const QJsonValue nonRetryable = retry.value(QLatin1String("non_retryable"));
    if (nonRetryable.isArray()) {
        QStringList list;
        for (const QJsonValue &v : nonRetryable.toArray()) {
            if (v.isString())
                list.append(v.toString());
            else if (v.isDouble())
                list.append(QString::number(v.toInteger())); // an HTTP status such as 404
        }
        policy.nonRetryable = list;
    }
}

} // namespace

qsizetype Flow::indexOfStep(const QString &id) const {
    for (qsizetype i = 0; i < steps.size(); ++i) {
        if (steps.at(i).id == id)
            return i;
    }
    return -1;
}

const Step *Flow::step(const QString &id) const {
    const qsizetype i = indexOfStep(id);
    return i < 0 ? nullptr : &steps.at(i);
}

const ResourceSpec *Flow::resource(const QString &resourceName) const {
    for (const ResourceSpec &r : resources) {
        if (r.name == resourceName)
            return &r;
    }
    return nullptr;
}

const ParamSpec *Flow::param(const QString &paramName) const {
    for (const ParamSpec &p : params) {
        if (p.name == paramName)
            return &p;
    }
    return nullptr;
}

RetryPolicy Flow::effectiveRetry(const Step &s) const {
    RetryPolicy policy;
    if (defaultRetry)
        applyRetryKeys(policy, *defaultRetry);
    if (s.retry)
        applyRetryKeys(policy, *s.retry);
    // Permanent errors are never retried; non_retryable only adds to that.
    if (!policy.nonRetryable.contains(QLatin1String("permanent")))
        policy.nonRetryable.prepend(QStringLiteral("permanent"));
    return policy;
}

std::optional<qint64> Flow::effectiveTimeoutMs(const Step &s) const {
    if (s.timeout)
        return durationMs(*s.timeout);
    if (defaultTimeout)
        return durationMs(*defaultTimeout);
    return std::nullopt;
}

const char *joinRuleName(JoinRule rule) {
    switch (rule) {
    case JoinRule::AllSucceeded:
        return "all_succeeded";
    case JoinRule::AllDone:
        return "all_done";
    case JoinRule::AnySucceeded:
        return "any_succeeded";
    case JoinRule::NoneFailed:
        return "none_failed";
    }
    return "all_succeeded";
}

std::optional<JoinRule> joinRuleFromName(const QString &name) {
    for (JoinRule rule : {JoinRule::AllSucceeded, JoinRule::AllDone, JoinRule::AnySucceeded,
                          JoinRule::NoneFailed}) {
        if (name == QLatin1String(joinRuleName(rule)))
            return rule;
    }
    return std::nullopt;
}

const char *idempotencyName(Idempotency idempotency) {
    switch (idempotency) {
    case Idempotency::Idempotent:
        return "idempotent";
    case Idempotency::Keyed:
        return "keyed";
    case Idempotency::None:
        return "none";
    }
    return "keyed";
}

std::optional<Idempotency> idempotencyFromName(const QString &name) {
    for (Idempotency i : {Idempotency::Idempotent, Idempotency::Keyed, Idempotency::None}) {
        if (name == QLatin1String(idempotencyName(i)))
            return i;
    }
    return std::nullopt;
}

std::optional<qint64> parseDurationMs(const QString &text) {
    qsizetype digits = 0;
    while (digits < text.size() && text.at(digits).isDigit() && text.at(digits).unicode() < 128)
        ++digits;
    if (digits == 0 || digits > 15) // 15 digits always fit in 64 bits; the unit is checked below
        return std::nullopt;
    const qint64 number = QStringView(text).left(digits).toLongLong();
    const QStringView unit = QStringView(text).mid(digits);
    qint64 factor = 0;
    if (unit == QLatin1String("ms"))
        factor = 1;
    else if (unit == QLatin1String("s"))
        factor = 1000;
    else if (unit == QLatin1String("m"))
        factor = 60 * 1000;
    else if (unit == QLatin1String("h"))
        factor = 60 * 60 * 1000;
    else if (unit == QLatin1String("d"))
        factor = 24 * 60 * 60 * 1000;
    else
        return std::nullopt;
    if (number > std::numeric_limits<qint64>::max() / factor)
        return std::nullopt;
    return number * factor;
}

QString formatDuration(qint64 ms) {
    if (ms == 0)
        return QStringLiteral("0s");
    constexpr qint64 kSecond = 1000;
    constexpr qint64 kMinute = 60 * kSecond;
    constexpr qint64 kHour = 60 * kMinute;
    constexpr qint64 kDay = 24 * kHour;
    if (ms % kDay == 0)
        return QString::number(ms / kDay) + QLatin1Char('d');
    if (ms % kHour == 0)
        return QString::number(ms / kHour) + QLatin1Char('h');
    if (ms % kMinute == 0)
        return QString::number(ms / kMinute) + QLatin1Char('m');
    if (ms % kSecond == 0)
        return QString::number(ms / kSecond) + QLatin1Char('s');
    return QString::number(ms) + QLatin1String("ms");
}

const QStringList &knownStepKinds() {
    static const QStringList kinds{
        QStringLiteral("noop"),    QStringLiteral("delay"), QStringLiteral("shell"),
        QStringLiteral("http"),    QStringLiteral("sql"),   QStringLiteral("approval"),
        QStringLiteral("subflow"), QStringLiteral("fault"),
    };
    return kinds;
}

} // namespace keepflow
