#pragma once

// Plain rows exchanged with the Store. Times are milliseconds since the Unix epoch; 0 means
// "not set". JSON columns travel as QJsonValue.

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

namespace keepflow {

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
    QString state; ///< stateName(RunState)
    QJsonObject params;
    qint64 createdAt = 0;
    qint64 endedAt = 0;
    QString owner; ///< worker executing the run, empty when none
    qint64 leaseUntil = 0;
    bool paused = false; ///< held by an operator: no new attempts start
    QString parentRun;   ///< a sub-run: the run whose subflow step started it
    QString parentStep;
};

/// One line of the runs list: a run and how far its steps got.
struct RunSummary {
    QString id;
    QString flowName;
    QString state; ///< stateName(RunState)
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
    QString state;    ///< stateName(StepState)
    int attempts = 0; ///< attempts started
    int failures = 0; ///< failed attempts that count against max_attempts
    int generation = 1;
    qint64 notBefore = 0; ///< durable timer for scheduled and retrying steps
    qint64 startedAt = 0; ///< first attempt
    qint64 endedAt = 0;
    QString errorClass;
    QString error;
    bool viaFallback = false;
    QJsonValue output;        ///< undefined until there is one
    QString resource;         ///< the external dependency it calls, empty when none
    qint64 queuedAt = 0;      ///< since when it waits for its resource (queued)
    QJsonValue inputOverride; ///< an operator's edited `with`, undefined when none
};

struct AttemptRow {
    QString runId;
    QString stepId;
    QString itemKey; ///< empty outside foreach
    int number = 0;
    int generation = 1;
    QString idempotencyKey;
    QString worker;
    qint64 startedAt = 0;
    qint64 endedAt = 0; ///< 0 while the outcome is unknown
    QString outcome;    ///< outcomeName(AttemptOutcome), empty while running
    QString errorClass;
    QString error;
};

/// One item of a foreach step: its own state, attempts, output and error, stored like a step's.
struct ItemRow {
    QString runId;
    QString stepId;
    QString itemKey;
    int position = 0;
    QString state;
    int attempts = 0;
    int failures = 0;
    int generation = 1;
    qint64 notBefore = 0;
    QString errorClass;
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
};

struct EventRow {
    qint64 id = 0; ///< assigned by the store on commit
    qint64 at = 0;
    QString runId;
    QString stepId;
    QString type;
    QString actor;
    QJsonObject detail;
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

/// Everything one transaction writes. Rows are upserted by their natural keys.
struct Batch {
    QList<RunRow> runs;
    QList<StepRunRow> steps;
    QList<AttemptRow> attempts;
    QList<EventRow> events;
    QList<ResourceRow> resources;
    QList<ItemRow> items;
    QList<RequestRow>
        answers; ///< requests answered (state, result, answered_at) in this transaction
    /// (run id, step id): foreach steps whose item rows are dropped (rerun: a new list follows).
    QList<QPair<QString, QString>> clearedItems;
    /// (run id, owner): leases this owner gives up in the same transaction.
    QList<QPair<QString, QString>> releasedLeases;

    bool isEmpty() const {
        return runs.isEmpty() && steps.isEmpty() && attempts.isEmpty() && events.isEmpty() &&
               resources.isEmpty() && items.isEmpty() && clearedItems.isEmpty() &&
               answers.isEmpty() && releasedLeases.isEmpty();
    }
};

} // namespace keepflow
