#pragma once

// The flow model: pure values, no I/O.
// Fields hold what the author wrote (optional where the file may leave them out), so that saving
// writes back the same file; the effective*() functions apply flow defaults and built-in values.

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

/// A duration as written ("250ms", "10s", "5m", "2h", "1d") and its value in milliseconds.
struct Duration {
    qint64 ms = 0;
    QString text; ///< as written; empty when set in code (then formatted from ms on save)
};

/// How a step with several upstreams decides it may start.
enum class JoinRule {
    AllSucceeded, ///< every upstream succeeded (directly, via fallback) or was skipped (default)
    AllDone,      ///< every upstream finished, whatever the outcome
    AnySucceeded, ///< at least one upstream succeeded
    NoneFailed,   ///< no upstream failed (skipped ones are fine)
};

/// What a retry of the step may do to the outside world.
enum class Idempotency {
    Idempotent, ///< safe to repeat (reads)
    Keyed,      ///< the target honours the idempotency key (default)
    None,       ///< not safe: an uncertain outcome waits for an operator
};

/// Retry policy with every value resolved (defaults applied).
struct RetryPolicy {
    int maxAttempts = 3;
    qint64 initialIntervalMs = 1000;
    double backoff = 2.0;
    qint64 maxIntervalMs = 5 * 60 * 1000;
    double jitter = 0.2;
    QStringList nonRetryable{QStringLiteral("permanent")};
};

struct Fallback {
    enum class Kind { None, Value, Step };
    Kind kind = Kind::None;
    QJsonValue value; ///< Kind::Value
    QString step;     ///< Kind::Step: id of the step whose output replaces this one's
};

struct Tolerate {
    std::optional<int> maxFailed;
    std::optional<double> maxFailedRatio;
};

struct Step {
    QString id;
    QString kind;
    QString description;
    QStringList after;
    std::optional<JoinRule> join;
    QString resource;
    std::optional<Idempotency> idempotency;
    QJsonObject with;
    std::optional<QJsonObject> retry; ///< the step's retry keys, overriding defaults key by key
    std::optional<Duration> timeout;  ///< per attempt
    std::optional<Duration> deadline; ///< whole step, all attempts together
    std::optional<Duration> delay;    ///< wait before the first attempt
    QString notBefore;                ///< ISO 8601 time as written, empty when absent
    Fallback fallback;
    QJsonValue foreach{QJsonValue::Undefined}; ///< undefined when absent; a template or an array
    QString itemKey;
    std::optional<int> concurrency;
    std::optional<Tolerate> tolerate;
    /// Faults injected into this step's attempts for a drill run (the editor's "run as a drill"):
    /// { "error": "transient|permanent|timeout|garbage", "fail_first": N, "fail_rate": 0..1,
    ///   "latency": "2s" }. Attempts that are not failed run the real action (after latency).
    std::optional<QJsonObject> drill;
    std::optional<QJsonObject> ui; ///< editor data (positions), kept as written
    QJsonObject extra;             ///< keys Keepflow does not know, kept as written

    JoinRule effectiveJoin() const { return join.value_or(JoinRule::AllSucceeded); }
    Idempotency effectiveIdempotency() const { return idempotency.value_or(Idempotency::Keyed); }
};

struct ParamSpec {
    QString name;
    QJsonValue defaultValue{QJsonValue::Undefined}; ///< undefined when the parameter is required
    QString description;
    QJsonObject extra;
};

struct ResourceSpec {
    QString name;
    QJsonObject definition; ///< as written: concurrency, rate, breaker, max_queue_time
};

struct Flow {
    /// "$schema": the JSON Schema the file names for editors (the format's is
    /// https://keepflow.io/schema/flow-1.json); kept as written, never interpreted.
    std::optional<QString> schema;
    int formatVersion = 1;
    QString name;
    QString description;
    QList<ParamSpec> params;
    std::optional<QJsonObject> defaultRetry;
    std::optional<Duration> defaultTimeout;
    QJsonObject defaultsExtra; ///< unknown keys inside "defaults"
    QList<ResourceSpec> resources;
    QList<Step> steps;
    QJsonObject extra; ///< unknown top-level keys

    /// Index of the step with this id in steps, or -1.
    qsizetype indexOfStep(const QString &id) const;
    const Step *step(const QString &id) const;
    const ResourceSpec *resource(const QString &name) const;
    const ParamSpec *param(const QString &name) const;

    /// Built-in values, then defaults.retry, then the step's retry, key by key.
    RetryPolicy effectiveRetry(const Step &step) const;
    /// The per-attempt timeout in ms, or nullopt for none.
    std::optional<qint64> effectiveTimeoutMs(const Step &step) const;
};

const char *joinRuleName(JoinRule rule);
std::optional<JoinRule> joinRuleFromName(const QString &name);
const char *idempotencyName(Idempotency idempotency);
std::optional<Idempotency> idempotencyFromName(const QString &name);

/// Parses "250ms", "10s", "5m", "2h", "1d" (a non-negative integer and a unit).
std::optional<qint64> parseDurationMs(const QString &text);
/// The shortest exact text for ms in the largest unit that divides it ("90s", "2h", "250ms").
QString formatDuration(qint64 ms);

/// The step kinds of the flow format.
const QStringList &knownStepKinds();

} // namespace keepflow
