#pragma once

// The records of runs, steps, attempts, items and events that every layer exchanges (the store
// reads and writes them, the runtime fills them, the operator API and the UI show them). Times
// are milliseconds since the Unix epoch; 0 means "not set". JSON columns travel as QJsonValue.
// States, outcomes, error classes and event types are the core enums; their snake_case text
// exists only at the edges (SQL, JSON, the screen).

#include "core/eventtype.h"
#include "core/states.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

/// The id of the child run that attempt `attempt` of subflow step stepId (in its generation)
/// starts: derived, so that parent and child find each other without a lookup.
inline QString subflowRunId(const QString &runId, const QString &stepId, int generation,
                            int attempt) {
    return QStringLiteral("%1.%2.%3.%4").arg(runId, stepId).arg(generation).arg(attempt);
}

struct FlowVersionRow {
    qint64 id = 0;
    QString name;
    int version = 0;
    QByteArray definition; ///< the canonical flow file text
    QString sourcePath;
    qint64 createdAt = 0;
};

struct RunRow {
    QString id;
    qint64 flowId = 0;
    QString flowName;
    RunState state = RunState::Running;
    QJsonObject params;
    qint64 createdAt = 0;
    qint64 endedAt = 0;
    QString owner; ///< worker executing the run, empty when none
    qint64 leaseUntil = 0;
    qint64 leaseEpoch = 0; ///< bumped by every claim: fences the writes of earlier holders
    int adoptions = 0;   ///< times a worker took it over from another (since an operator's unpause)
    bool paused = false; ///< held by an operator: no new attempts start
    QString parentRun;   ///< a sub-run: the run whose subflow step started it
    QString parentStep;
};

/// One run as a full listing shows it (keepflowctl list): only the columns it prints, so that
/// listing 100,000 runs stays cheap (Store::runList).
struct RunListRow {
    QString id;
    QString flowName;
    RunState state = RunState::Running;
    qint64 createdAt = 0;
    qint64 endedAt = 0; ///< 0 while the run has not ended
    friend bool operator==(const RunListRow &, const RunListRow &) = default;
};

/// One line of the runs list: a run and how far its steps got.
struct RunSummary {
    QString id;
    QString flowName;
    RunState state = RunState::Running;
    qint64 createdAt = 0;
    qint64 endedAt = 0;
    int stepsTotal = 0;
    int stepsDone = 0; ///< steps in a final state
    QString parentRun;
};

struct StepRunRow {
    QString runId;
    QString stepId;
    int position = 0; ///< index in the flow's steps
    StepState state = StepState::Pending;
    int attempts = 0; ///< attempts started
    int failures = 0; ///< failed attempts that count against max_attempts
    int generation = 1;
    qint64 notBefore = 0; ///< durable timer for scheduled and retrying steps
    qint64 startedAt = 0; ///< first attempt
    qint64 endedAt = 0;
    std::optional<ErrorClass> errorClass;
    QString error;
    bool viaFallback = false;
    QJsonValue output;        ///< undefined until there is one
    QString resource;         ///< the external dependency it calls, empty when none
    qint64 queuedAt = 0;      ///< since when it waits for its resource (queued)
    QJsonValue inputOverride; ///< an operator's edited `with`, undefined when none
    /// An operator's live policy change (the keys it changed), undefined when none.
    QJsonValue policyOverride;
};

/// An alert rule as stored (alert_rules); kind is its name ("run_failed", ...), see alerts.h.
struct AlertRuleRow {
    qint64 id = 0; ///< assigned by the store
    QString kind;
    QString flow;      ///< only runs of this flow; empty: every flow
    QString step;      ///< only this step; empty: every step
    QString resource;  ///< breaker_opened: only this resource; empty: every resource
    double factor = 0; ///< step_slow: how many times the step's p95
    int threshold = 0; ///< failure_burst: failures in the window
    qint64 windowMs = 0;
    QStringList command; ///< argv of the command given the alert; empty: none
    QString createdBy;
    qint64 createdAt = 0;
};

/// A step that failed, has an uncertain outcome or partially succeeded, in one run (triage).
struct StepFailureRow {
    QString runId;
    QString flow;
    QString stepId;
    StepState state = StepState::Failed;
    std::optional<ErrorClass> errorClass;
    QString error;
    qint64 at = 0; ///< when it ended (or started, when it has not ended)
};

/// What an attempt printed on stdout and stderr: how much, and the end of it (the last
/// kCapturedTailBytes of each stream, cut at a character boundary). Empty for kinds that print
/// nothing (only shell steps capture today).
struct CapturedOutput {
    /// The cap on what is kept of each stream: its tail, where a failure says why.
    static constexpr qsizetype kCapturedTailBytes = 64 * 1024;
    QString stdoutTail;
    QString stderrTail;
    qint64 stdoutBytes = 0; ///< everything printed, kept or not
    qint64 stderrBytes = 0;

    bool isEmpty() const { return stdoutBytes == 0 && stderrBytes == 0; }
    bool stdoutCut() const { return stdoutBytes > stdoutTail.toUtf8().size(); }
    bool stderrCut() const { return stderrBytes > stderrTail.toUtf8().size(); }
};

struct AttemptRow {
    QString runId;
    QString stepId;
    QString itemKey; ///< empty outside foreach
    int number = 0;
    int generation = 1;
    QString idempotencyKey;
    QString worker;
    qint64 leaseEpoch = 0; ///< the run's lease epoch the worker held when it started
    qint64 startedAt = 0;
    qint64 endedAt = 0;                    ///< 0 while the outcome is unknown
    std::optional<AttemptOutcome> outcome; ///< empty while running
    std::optional<ErrorClass> errorClass;
    QString error;
    /// Written when the attempt ends; read only by Store::attemptOutputs (it can be large).
    CapturedOutput captured;
};

/// One item of a foreach step: its own state, attempts, output and error, stored like a step's.
struct ItemRow {
    QString runId;
    QString stepId;
    QString itemKey;
    int position = 0;
    StepState state = StepState::Pending;
    int attempts = 0;
    int failures = 0;
    int generation = 1;
    qint64 notBefore = 0;
    std::optional<ErrorClass> errorClass;
    QString error;
    QJsonValue output; ///< undefined until it succeeded
};

/// The durable part of a resource's state: an operator's pause and its circuit breaker.
struct ResourceRow {
    QString name;
    bool paused = false;
    QString breakerState = QStringLiteral("closed"); ///< closed, open or half_open
    qint64 openedAt = 0;
    QString window; ///< outcomes of the latest calls, oldest first: '1' failed, '0' succeeded
    qint64 updatedAt = 0;
    /// What an operator set live (Store::setResourceLimits); unset: as the flows declare.
    std::optional<int> concurrencyOverride;
    QString rateOverride; ///< "N/DURATION", empty when not set
    /// As the newest flow that uses it declares it (unset: no limit, or not known yet).
    std::optional<int> declaredConcurrency;
    QString declaredRate;
};

struct EventRow {
    qint64 id = 0; ///< assigned by the store on commit
    qint64 at = 0;
    QString runId;
    QString stepId;
    EventType type = EventType::RunCreated;
    QString actor;
    QJsonObject detail;
};

/// A worker process sharing the database: who it is and when it last said it is alive.
struct WorkerRow {
    QString id; ///< "host:pid:random", the owner name on the runs it holds
    QString host;
    qint64 pid = 0;
    qint64 startedAt = 0;
    qint64 heartbeatAt = 0; ///< by the database's clock
    QStringList runs;       ///< runs it holds now (read by Store::workers())
};

/// Where a change feed has read up to. Events are read in (xact, id) order: on SQLite every xact
/// is 0 (one writer at a time commits ids in order); on PostgreSQL xact is the id of the
/// transaction that wrote the event, and only transactions below the oldest one still under way
/// are read, so an event that commits late is never passed over.
struct FeedPosition {
    qint64 xact = 0;
    qint64 id = 0;
};

struct FeedPage {
    QList<EventRow> events;
    FeedPosition next;
};

/// An operator action left for the worker that executes the run, and its answer.
struct RequestRow {
    qint64 id = 0;
    QString runId;
    qint64 createdAt = 0;
    QString actor;
    QJsonObject action;
    QString state; ///< pending, done or refused
    QString result;
    qint64 answeredAt = 0;
};

} // namespace keepflow
