#pragma once

// Triage across many runs: what went wrong, grouped by cause (failure groups), and the bulk
// recovery over a filter (retry-failed). The grouping and the signature are pure; the
// OperatorApi reads the rows and applies the actions.

#include "core/records.h"
#include "core/runquery.h"
#include "core/states.h"
#include "core/status.h"
#include "operator/operatoraction.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

/// The error text with what differs from one occurrence to the next masked, so that
/// "HTTP 503 from http://10.0.0.7:8080/orders/4411" and "... 10.0.0.9:8080/orders/9020" fall
/// together: numbers become <n> (dates, times, addresses and ports included), ids and keys
/// (hex, UUIDs, long tokens with digits) <id>, e-mail addresses <addr>. A number after "HTTP",
/// "status" or "code" stays (it says what kind of failure it is), as do short names with a
/// version digit (sha256, utf8, ipv6). Whitespace is collapsed.
QString failureSignature(const QString &error);

/// Failures of one step of one flow with the same error class and signature.
struct FailureGroup {
    QString flow;
    QString stepId;
    std::optional<ErrorClass> errorClass;
    QString signature;
    QString example; ///< the newest error text as it was
    int count = 0;
    QStringList runs; ///< newest failure first, each run once
    qint64 firstAt = 0;
    qint64 lastAt = 0;
};

/// The failures grouped; biggest group first, then the most recent, then by flow and step.
QList<FailureGroup> groupFailures(const QList<StepFailureRow> &failures);

/// `failures --json`: [{ "flow", "step", "error_class", "signature", "count", "runs",
/// "first_at", "last_at" }].
QJsonArray failureGroupsJson(const QList<FailureGroup> &groups);

/// A time bound of a filter: ISO 8601 ("2026-11-28T04:00:00Z", a date, or a local time without
/// zone), or a duration ago ("90s", "15m", "2h", "3d", "1w"), against now. An error names the
/// text and what is accepted.
Result<qint64> parseTimeBound(const QString &text, qint64 nowMs);

/// An operator's action over every run a filter selects: one action per target step of each
/// run, recorded with actor and reason.
struct BulkRequest {
    /// Retry: the failed steps (with the query's step state, the steps in that state: a
    /// retrying step's wait is cut short); RetryFailedItems: the failed items of foreach steps;
    /// Skip (with output): the failed steps; ResolveHappened / ResolveNotHappened: the steps
    /// with an uncertain outcome; CancelRun: the run.
    OperatorAction::Kind kind = OperatorAction::Kind::Retry;
    RunQuery query; ///< the runs, and with its step conditions the steps acted on
    QJsonValue output{QJsonValue::Undefined};
    QString reason;
    QString actor; ///< the OS user when empty
    /// Runs claimed and changed per commit (and between two progress calls); tests use fewer.
    int runsPerCommit = 500;
};

/// What one bulk action did or would do to one run.
struct BulkRunOutcome {
    enum class Outcome { WouldApply, Applied, Refused };
    QString runId;
    QStringList steps; ///< the steps it acts on, in flow order
    Outcome outcome = Outcome::WouldApply;
    QString reason; ///< refused: why; applied: what was done
};

/// The report of a bulk action (or of its dry run).
struct BulkReport {
    bool dryRun = true;
    bool cancelled = false; ///< stopped by the operator: runs not reached are not listed
    QList<BulkRunOutcome> runs;
    int count(BulkRunOutcome::Outcome outcome) const;
};

/// `retry-failed --json`: { "dry_run", "runs": [{ "run", "steps", "outcome", "reason" }],
/// "applied", "refused" }.
QJsonObject bulkReportJson(const BulkReport &report);
QString bulkOutcomeName(BulkRunOutcome::Outcome outcome);

} // namespace keepflow
