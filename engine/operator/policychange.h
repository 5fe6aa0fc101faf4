#pragma once

// Live policy changes: what an operator may change on a run under way (a step's retry policy,
// attempt timeout and deadline; a resource's concurrency and rate), how a change is checked, and
// its preview in words. Pure: the engine applies a change through set-policy and applies it with
// the same preview text; keepflowctl and the desktop show the preview through the operator API,
// which calls these same functions on the stored rows.

#include "core/records.h"
#include "core/states.h"
#include "core/status.h"
#include "model/flow.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

/// A step's effective policy: its retry policy, attempt timeout and deadline.
struct StepPolicy {
    RetryPolicy retry;
    std::optional<qint64> timeoutMs;  ///< per attempt; none when unset
    std::optional<qint64> deadlineMs; ///< the whole step, from its first attempt; none when unset

    /// { "max_attempts", "initial_interval", "backoff", "max_interval", "non_retryable",
    ///   "timeout", "deadline" } with durations as flow files write them, null when unset.
    QJsonObject toJson() const;
    bool operator==(const StepPolicy &other) const;
};

/// The step's policy as its flow says (defaults applied).
StepPolicy flowStepPolicy(const Flow &flow, const Step &step);

/// What an operator changed of a step's policy, key by key; the keys left unset keep the flow's
/// value. Stored with the step's row (step_runs.policy_override) as JSON with the flow file's
/// key names, so that every worker that loads the run applies it.
struct PolicyOverride {
    std::optional<int> maxAttempts;
    std::optional<qint64> initialIntervalMs;
    std::optional<double> backoff;
    std::optional<qint64> maxIntervalMs;
    std::optional<QStringList> nonRetryable;
    std::optional<qint64> timeoutMs;
    std::optional<qint64> deadlineMs;

    bool isEmpty() const;
    QJsonObject toJson() const;
    /// The inverse of toJson(); a key with a wrong value is an error naming the key and saying
    /// what it takes; an unknown key is an error naming it.
    static Result<PolicyOverride> fromJson(const QJsonObject &json);
    /// This override with later's keys over it (a second change keeps the first one's keys).
    PolicyOverride mergedWith(const PolicyOverride &later) const;
    StepPolicy appliedTo(StepPolicy policy) const;
};

/// Whether policy holds together: max_attempts at least 1, intervals and limits not negative,
/// backoff at least 1, max_interval not below initial_interval, timeout and deadline above 0.
/// The error names the field ("max_interval (10s) is shorter than initial_interval (20s)").
Status checkStepPolicy(const StepPolicy &policy);

/// The idempotency key of a step's attempts in one generation ("RUN/STEP/GENERATION"); an
/// item's adds "/ITEM KEY". Its backoff's jitter is drawn from it.
QString stepIdempotencyKey(const QString &runId, const QString &stepId, int generation);

/// The step's policy as its flow says, with a stored live change (a step row's policy_override;
/// undefined or unreadable: none) applied.
StepPolicy effectiveStepPolicy(const Flow &flow, const Step &step, const QJsonValue &change);

/// Where a step stands, as far as a policy change looks.
struct StepProgress {
    StepState state = StepState::Pending;
    int attempts = 0;
    int failures = 0;
    qint64 notBefore = 0;   ///< a retrying step's next attempt
    QString idempotencyKey; ///< of the step's current generation (its backoff's jitter)
};

/// When a retrying step's next attempt starts once before becomes after: the backoff from its
/// latest failure recomputed with after's intervals (never before now). Unchanged when the step
/// does not wait for a retry or its intervals did not change.
qint64 recomputedRetryAt(const StepPolicy &before, const StepPolicy &after,
                         const StepProgress &step, qint64 now);

/// A policy change in words, for the step as it stands now.
struct PolicyPreview {
    StepPolicy before;
    StepPolicy after;
    QStringList changes;      ///< one per changed value: "max_attempts 5 instead of 3"
    QStringList effects;      ///< what it means now: "attempt 3/5 instead of 3/3", ...
    qint64 nextAttemptAt = 0; ///< a retrying step's recomputed next attempt, else 0
    /// "max_attempts 5 instead of 3; ... — attempt 3/5 instead of 3/3; next attempt in 20 s
    /// instead of 80 s"; "nothing changes" when before equals after.
    QString text() const;
};

PolicyPreview previewPolicyChange(const StepPolicy &before, const StepPolicy &after,
                                  const StepProgress &step, qint64 now);

/// A short duration for a person: "850 ms", "20 s", "4 min 10 s", "2 h 5 min".
QString spokenDuration(qint64 ms);

/// A resource's limits an operator set live; unset keeps what the flows declare.
struct ResourceLimits {
    std::optional<int> concurrency;
    std::optional<int> rateLimit; ///< calls per ratePerMs
    std::optional<qint64> ratePerMs;

    /// "4", "10/1s", or "none".
    static QString rateText(std::optional<int> limit, std::optional<qint64> perMs);
    QJsonObject toJson() const; ///< { "concurrency": N|null, "rate": "N/DURATION"|null }
};

/// Checks a live change of a resource's limits: concurrency from 1 up, a rate that parses.
/// Returns the rate as stored ("10/1s"; empty when unset); an error names the field.
Result<QString> checkResourceLimits(std::optional<int> concurrency, const QString &rate);
/// A resource's limit as it applies: set live, else as the newest flow declares it, else "none".
QString effectiveConcurrencyText(const ResourceRow &row);
QString effectiveRateText(const ResourceRow &row);
/// What changed between two rows' limits: "concurrency 8 instead of 2", "rate 10/1s instead of
/// none".
QStringList resourceLimitChanges(const ResourceRow &before, const ResourceRow &after);

/// Parses a rate "N/DURATION" ("10/1s", "600/1m", "5/s": a bare unit is one of it); an error
/// naming the field when it is not one.
Result<std::pair<int, qint64>> parseRate(const QString &text);

} // namespace keepflow
