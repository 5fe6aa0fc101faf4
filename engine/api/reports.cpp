#include "api/reports.h"

#include "model/flow.h"
#include "model/flowfile.h"
#include "operator/policychange.h"
#include "store/store.h"

#include <QDateTime>
#include <QJsonDocument>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace keepflow {

QString utcIsoText(qint64 ms) {
    // By hand rather than through QDateTime, whose formatting took most of the time of a status
    // of a few thousand steps; the text is the same (Qt::ISODateWithMs in UTC).
    using namespace std::chrono;
    const sys_time<milliseconds> at{milliseconds{ms}};
    const sys_days day = floor<days>(at);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{at - day};
    const int year = static_cast<int>(date.year());
    if (year < 1 || year > 9999) // Qt's calendar has no year 0
        return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
    // "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", digit by digit (a worker logs a line per event).
    char16_t text[24];
    const auto digits = [&text](int first, int value, int count) {
        for (int i = count - 1; i >= 0; --i, value /= 10)
            text[first + i] = static_cast<char16_t>(u'0' + value % 10);
    };
    digits(0, year, 4);
    text[4] = u'-';
    digits(5, static_cast<int>(static_cast<unsigned>(date.month())), 2);
    text[7] = u'-';
    digits(8, static_cast<int>(static_cast<unsigned>(date.day())), 2);
    text[10] = u'T';
    digits(11, static_cast<int>(time.hours().count()), 2);
    text[13] = u':';
    digits(14, static_cast<int>(time.minutes().count()), 2);
    text[16] = u':';
    digits(17, static_cast<int>(time.seconds().count()), 2);
    text[19] = u'.';
    digits(20, static_cast<int>(time.subseconds().count()), 3);
    text[23] = u'Z';
    return QString(reinterpret_cast<const QChar *>(text), 24);
}

QJsonValue isoTime(qint64 ms) {
    if (ms == 0)
        return QJsonValue::Null;
    return utcIsoText(ms);
}

QJsonArray workersJson(const QList<WorkerRow> &workers) {
    QJsonArray rows;
    for (const WorkerRow &worker : workers) {
        rows.append(QJsonObject{{QStringLiteral("id"), worker.id},
                                {QStringLiteral("host"), worker.host},
                                {QStringLiteral("pid"), worker.pid},
                                {QStringLiteral("started_at"), isoTime(worker.startedAt)},
                                {QStringLiteral("heartbeat_at"), isoTime(worker.heartbeatAt)},
                                {QStringLiteral("runs"), QJsonArray::fromStringList(worker.runs)}});
    }
    return rows;
}

namespace {

QJsonValue textOrNull(const QString &text) {
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QString compactJson(const QJsonValue &value) {
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    if (value.isString())
        return value.toString();
    return value.toVariant().toString();
}

QString localClock(qint64 ms) {
    // localtime_r rather than QDateTime: `run` prints a line per event (see isoTime). Events
    // come many to a second: the last second's local time is kept.
    const qint64 millisecond = ((ms % 1000) + 1000) % 1000;
    const time_t seconds = static_cast<time_t>((ms - millisecond) / 1000);
    thread_local time_t lastSeconds = 0;
    thread_local tm lastLocal{};
    thread_local bool known = false;
    if (!known || seconds != lastSeconds) {
        tm local{};
        if (!localtime_r(&seconds, &local))
            return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss.zzz"));
        lastSeconds = seconds;
        lastLocal = local;
        known = true;
    }
    const int parts[] = {lastLocal.tm_hour, lastLocal.tm_min, lastLocal.tm_sec};
    char16_t text[12];
    for (int i = 0; i < 3; ++i) {
        text[i * 3] = static_cast<char16_t>(u'0' + parts[i] / 10);
        text[i * 3 + 1] = static_cast<char16_t>(u'0' + parts[i] % 10);
        text[i * 3 + 2] = i < 2 ? u':' : u'.';
    }
    text[9] = static_cast<char16_t>(u'0' + millisecond / 100);
    text[10] = static_cast<char16_t>(u'0' + millisecond / 10 % 10);
    text[11] = static_cast<char16_t>(u'0' + millisecond % 10);
    return QString(reinterpret_cast<const QChar *>(text), 12);
}

/// QString::number(value) appended without a temporary string.
void appendNumber(QString &out, qint64 value) {
    char16_t text[24];
    int at = 24;
    quint64 magnitude = value < 0 ? 0 - static_cast<quint64>(value) : static_cast<quint64>(value);
    do {
        text[--at] = static_cast<char16_t>(u'0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        text[--at] = u'-';
    out.append(reinterpret_cast<const QChar *>(text + at), 24 - at);
}

QString seconds(qint64 ms) {
    if (ms < 1000) {
        QString text;
        text.reserve(8);
        appendNumber(text, ms);
        text += QLatin1String("ms");
        return text;
    }
    return QString::number(static_cast<double>(ms) / 1000.0, 'f', 1) + QLatin1Char('s');
}

} // namespace

Result<QJsonObject> runStatusJson(Store &store, const QString &runId) {
    auto run = store.run(runId);
    if (!run)
        return run.status();
    auto steps = store.stepRuns(runId);
    if (!steps)
        return steps.status();
    auto items = store.items(runId);
    if (!items)
        return items.status();
    // Without its flow (unreadable) a run's roots are still known, not what waits on them.
    Flow flow;
    if (auto version = store.flowVersion(run->flowId)) {
        if (FlowLoad load = parseFlow(version->definition, version->sourcePath); load.ok())
            flow = std::move(*load.flow);
    }
    return runStatusJson(*run, *steps, *items, {}, findRootCauses(flow, *steps));
}

QHash<QString, int> effectiveMaxAttempts(const Flow &flow, const QList<StepRunRow> &steps) {
    QHash<QString, QJsonValue> changed;
    for (const StepRunRow &row : steps)
        changed.insert(row.stepId, row.policyOverride);
    QHash<QString, int> maxAttempts;
    for (const Step &step : flow.steps)
        maxAttempts.insert(
            step.id, effectiveStepPolicy(flow, step, changed.value(step.id)).retry.maxAttempts);
    return maxAttempts;
}

QJsonObject runStatusJson(const RunRow &run, const QList<StepRunRow> &steps,
                          const QList<ItemRow> &items, const QHash<QString, int> &maxAttempts,
                          const RootCauses &rootCauses) {
    QJsonObject runJson{{QStringLiteral("id"), run.id},
                        {QStringLiteral("flow"), run.flowName},
                        {QStringLiteral("state"), stateName(run.state)},
                        {QStringLiteral("created_at"), isoTime(run.createdAt)},
                        {QStringLiteral("ended_at"), isoTime(run.endedAt)},
                        {QStringLiteral("params"), run.params}};
    if (!run.owner.isEmpty())
        runJson.insert(QStringLiteral("worker"), run.owner);
    if (!run.parentRun.isEmpty())
        runJson.insert(QStringLiteral("parent"),
                       QJsonObject{{QStringLiteral("run"), run.parentRun},
                                   {QStringLiteral("step"), run.parentStep}});
    if (run.paused)
        runJson.insert(QStringLiteral("paused"), true);
    runJson.insert(QStringLiteral("root_causes"), QJsonArray::fromStringList(rootCauses.roots));
    QHash<QString, QJsonObject> itemCounts;
    for (const ItemRow &item : items) {
        QJsonObject &counts = itemCounts[item.stepId];
        auto bump = [&counts](const char *key) {
            counts.insert(QLatin1String(key), counts.value(QLatin1String(key)).toInt() + 1);
        };
        bump("total");
        if (item.state == StepState::Succeeded)
            bump("succeeded");
        else if (item.state == StepState::Failed || item.state == StepState::Uncertain)
            bump("failed");
        else
            bump("remaining");
    }
    QJsonArray stepsJson;
    for (const StepRunRow &step : steps) {
        QJsonObject stepJson{
            {QStringLiteral("id"), step.stepId},
            {QStringLiteral("state"), stateName(step.state)},
            {QStringLiteral("attempts"), step.attempts},
            {QStringLiteral("error"), textOrNull(step.error)},
            {QStringLiteral("error_class"), textOrNull(errorClassName(step.errorClass))},
            {QStringLiteral("via_fallback"), step.viaFallback},
            {QStringLiteral("output"),
             step.output.isUndefined() ? QJsonValue(QJsonValue::Null) : step.output},
            {QStringLiteral("started_at"), isoTime(step.startedAt)},
            {QStringLiteral("ended_at"), isoTime(step.endedAt)}};
        if (step.notBefore != 0)
            stepJson.insert(QStringLiteral("next_attempt_at"), isoTime(step.notBefore));
        // Absent rather than empty when the step waits on no root cause: scripts test for it.
        if (const auto roots = rootCauses.blockedBy.constFind(step.stepId);
            roots != rootCauses.blockedBy.cend())
            stepJson.insert(QStringLiteral("blocked_by"), QJsonArray::fromStringList(*roots));
        if (itemCounts.contains(step.stepId)) {
            QJsonObject counts = itemCounts.value(step.stepId);
            for (const char *key : {"total", "succeeded", "failed", "remaining"}) {
                if (!counts.contains(QLatin1String(key)))
                    counts.insert(QLatin1String(key), 0);
            }
            stepJson.insert(QStringLiteral("items"), counts);
        } else if (const auto max = maxAttempts.constFind(step.stepId);
                   max != maxAttempts.cend() && step.attempts > 0) {
            stepJson.insert(QStringLiteral("attempt_budget"),
                            attemptBudget(step.state, step.attempts, step.failures, *max));
        }
        stepsJson.append(stepJson);
    }
    return QJsonObject{{QStringLiteral("run"), runJson}, {QStringLiteral("steps"), stepsJson}};
}

QJsonArray runListJson(const QList<RunListRow> &runs) {
    QJsonArray list;
    for (const RunListRow &run : runs) {
        list.append(QJsonObject{{QStringLiteral("id"), run.id},
                                {QStringLiteral("flow"), run.flowName},
                                {QStringLiteral("state"), stateName(run.state)},
                                {QStringLiteral("created_at"), isoTime(run.createdAt)},
                                {QStringLiteral("ended_at"), isoTime(run.endedAt)}});
    }
    return list;
}

QJsonArray eventsJson(const QList<EventRow> &events) {
    QJsonArray list;
    for (const EventRow &event : events) {
        list.append(QJsonObject{{QStringLiteral("id"), event.id},
                                {QStringLiteral("at"), isoTime(event.at)},
                                {QStringLiteral("step"), textOrNull(event.stepId)},
                                {QStringLiteral("type"), eventTypeName(event.type)},
                                {QStringLiteral("actor"), event.actor},
                                {QStringLiteral("detail"), event.detail}});
    }
    return list;
}

Result<QJsonArray> resourcesJson(Store &store) {
    auto rows = store.resources();
    if (!rows)
        return rows.status();
    auto load = store.resourceLoad();
    if (!load)
        return load.status();
    return resourcesJson(*rows, *load);
}

QJsonArray resourcesJson(const QList<ResourceRow> &rows,
                         const QHash<QString, QPair<int, int>> &load) {
    QJsonArray list;
    for (const ResourceRow &row : rows) {
        const auto failures = row.window.count(QLatin1Char('1'));
        const double rate = row.window.isEmpty() ? 0.0
                                                 : static_cast<double>(failures) /
                                                       static_cast<double>(row.window.size());
        const QPair<int, int> counts = load.value(row.name);
        list.append(QJsonObject{
            {QStringLiteral("name"), row.name},
            {QStringLiteral("state"), row.paused ? QStringLiteral("paused") : row.breakerState},
            {QStringLiteral("breaker"), row.breakerState},
            {QStringLiteral("queued"), counts.first},
            {QStringLiteral("in_flight"), counts.second},
            {QStringLiteral("failure_rate"), rate},
            {QStringLiteral("calls_in_window"), static_cast<int>(row.window.size())},
            {QStringLiteral("opened_at"), isoTime(row.openedAt)}});
    }
    return list;
}

namespace {

/// A text and a number of an event's detail.
QString text(const QJsonObject &d, const char *key) {
    return d.value(QLatin1String(key)).toString();
}
qint64 number(const QJsonObject &d, const char *key) {
    return d.value(QLatin1String(key)).toInteger();
}

/// A run's own events.
QString runEventSummary(const EventRow &event) {
    const QJsonObject &d = event.detail;
    QString what;
    switch (event.type) {
    case EventType::RunCreated:
        what = QStringLiteral("run %1 of %2 v%3 created")
                   .arg(event.runId, text(d, "flow"))
                   .arg(number(d, "version"));
        break;
    case EventType::RunResumed:
        what = QStringLiteral("run %1 resumed by %2").arg(event.runId, text(d, "worker"));
        break;
    case EventType::RunFinished:
        what = QStringLiteral("run %1 finished: %2").arg(event.runId, text(d, "state"));
        break;
    case EventType::RunStalled:
        what = QStringLiteral("run %1 stalled: %2").arg(event.runId, text(d, "reason"));
        break;
    case EventType::RunAdoptionLimitReached:
        what = QStringLiteral("run %1 paused: %2").arg(event.runId, text(d, "reason"));
        break;
    case EventType::RunWaiting:
    case EventType::RunStateChanged:
        what = QStringLiteral("run %1 is now %2").arg(event.runId, text(d, "state"));
        break;
    default:
        break;
    }
    return what;
}

/// The attempts allowed in all (an operator's retry adds a fresh budget); events written before
/// attempt_budget existed carry only the policy's max_attempts.
qint64 attemptBudgetOf(const QJsonObject &d) {
    return d.contains(QLatin1String("attempt_budget")) ? number(d, "attempt_budget")
                                                       : number(d, "max_attempts");
}

/// A step's events: its attempts, its way to a final state.
QString stepEventSummary(const EventRow &event) {
    const QJsonObject &d = event.detail;
    QString what;
    switch (event.type) {
    case EventType::AttemptStarted:
        // Appended rather than through arg(): a line per attempt is printed (same text).
        what.reserve(40);
        if (d.contains(QLatin1String("item")))
            what += QLatin1String("item ") + text(d, "item") + QLatin1Char(' ');
        what += QLatin1String("attempt ");
        appendNumber(what, number(d, "attempt"));
        what += QLatin1Char('/');
        appendNumber(what, attemptBudgetOf(d));
        what += QLatin1String(" started");
        break;
    case EventType::StepRetrying:
        what = QStringLiteral("attempt %1 failed (%2): %3; retry %4/%5 in %6")
                   .arg(number(d, "attempt"))
                   .arg(text(d, "error_class"), text(d, "error"))
                   .arg(number(d, "attempt") + 1)
                   .arg(attemptBudgetOf(d))
                   .arg(seconds(number(d, "delay_ms")));
        break;
    case EventType::AttemptFailed:
        what = QStringLiteral("attempt %1 failed (%2): %3; %4")
                   .arg(number(d, "attempt"))
                   .arg(text(d, "error_class"), text(d, "error"), text(d, "reason"));
        break;
    case EventType::AttemptCrashed:
        what = QStringLiteral("attempt %1 crashed: %2; retrying")
                   .arg(number(d, "attempt"))
                   .arg(text(d, "error"));
        break;
    case EventType::StepSucceeded: {
        const QJsonObject items = d.value(QLatin1String("items")).toObject();
        if (items.isEmpty()) {
            what.reserve(40);
            what += QLatin1String("succeeded (attempt ");
            appendNumber(what, number(d, "attempt"));
            what += QLatin1String(", ");
            what += seconds(number(d, "duration_ms"));
            what += QLatin1Char(')');
        } else {
            what = QStringLiteral("succeeded: all %1 items")
                       .arg(items.value(QLatin1String("total")).toInt());
        }
        break;
    }
    case EventType::StepSucceededViaFallback:
        what = QStringLiteral("succeeded via fallback (%1) after: %2")
                   .arg(text(d, "fallback"), text(d, "error"));
        break;
    case EventType::StepFallingBack:
        what = QStringLiteral("failed (%1); running fallback step %2")
                   .arg(text(d, "error"), text(d, "fallback"));
        break;
    case EventType::StepFailed:
        what = QStringLiteral("FAILED after %1 attempt(s): %2")
                   .arg(number(d, "attempts"))
                   .arg(text(d, "error"));
        break;
    case EventType::StepBlocked:
        what =
            d.contains(QLatin1String("reason"))
                ? QStringLiteral("blocked: %1").arg(text(d, "reason"))
                : QStringLiteral("blocked: upstream %1 did not succeed").arg(text(d, "upstream"));
        break;
    case EventType::StepSkipped:
        what = QStringLiteral("skipped: %1").arg(text(d, "reason"));
        break;
    case EventType::StepScheduled:
        what = QStringLiteral("scheduled until %1").arg(localClock(number(d, "until")));
        break;
    case EventType::SubflowStarted:
        what = QStringLiteral("started sub-run %1 of %2").arg(text(d, "run"), text(d, "flow"));
        break;
    case EventType::StepExpanded:
        what = QStringLiteral("foreach over %1 items, %2 at a time")
                   .arg(number(d, "items"))
                   .arg(number(d, "concurrency"));
        break;
    case EventType::StepPartiallySucceeded: {
        const QJsonObject items = d.value(QLatin1String("items")).toObject();
        what =
            QStringLiteral("PARTIALLY SUCCEEDED: %1 of %2 items ok, %3 failed (within tolerance)")
                .arg(items.value(QLatin1String("succeeded")).toInt())
                .arg(items.value(QLatin1String("total")).toInt())
                .arg(items.value(QLatin1String("failed")).toInt());
        break;
    }
    case EventType::StepQueued:
        what = QStringLiteral("queued: %1").arg(text(d, "reason"));
        break;
    case EventType::StepWaitingForApproval:
        what = QStringLiteral("WAITS FOR APPROVAL: %1").arg(text(d, "prompt"));
        break;
    case EventType::StepUncertain:
        what = QStringLiteral("UNCERTAIN, waits for an operator: %1").arg(text(d, "error"));
        break;

    default:
        break;
    }
    return what;
}

/// A foreach item's events.
QString itemEventSummary(const EventRow &event) {
    const QJsonObject &d = event.detail;
    QString what;
    switch (event.type) {
    case EventType::ItemSucceeded:
        what = QStringLiteral("item %1 succeeded (attempt %2)")
                   .arg(text(d, "item"))
                   .arg(number(d, "attempt"));
        break;
    case EventType::ItemRetrying:
        what = QStringLiteral("item %1 attempt %2 failed (%3): %4; retry in %5")
                   .arg(text(d, "item"))
                   .arg(number(d, "attempt"))
                   .arg(text(d, "error_class"), text(d, "error"), seconds(number(d, "delay_ms")));
        break;
    case EventType::ItemFailed:
        what = QStringLiteral("item %1 FAILED after %2 attempt(s): %3")
                   .arg(text(d, "item"))
                   .arg(number(d, "attempt"))
                   .arg(text(d, "error"));
        break;
    case EventType::ItemUncertain:
        what = QStringLiteral("item %1 UNCERTAIN: %2").arg(text(d, "item"), text(d, "error"));
        break;
    default:
        break;
    }
    return what;
}

/// A resource's breaker and an operator's pause or reset.
QString resourceEventSummary(const EventRow &event) {
    const QJsonObject &d = event.detail;
    QString what;
    switch (event.type) {
    case EventType::ResourceOpened:
        what = QStringLiteral("circuit of %1 OPENED (%2)")
                   .arg(text(d, "resource"),
                        d.contains(QLatin1String("reason"))
                            ? text(d, "reason")
                            : QStringLiteral("failure rate %1 over %2 calls")
                                  .arg(d.value(QLatin1String("failure_rate")).toDouble(), 0, 'f', 2)
                                  .arg(number(d, "calls")));
        break;
    case EventType::ResourceHalfOpen:
        what = QStringLiteral("circuit of %1 half-open: probing").arg(text(d, "resource"));
        break;
    case EventType::ResourceClosed:
        what = QStringLiteral("circuit of %1 closed again").arg(text(d, "resource"));
        break;
    case EventType::ResourcePaused:
    case EventType::ResourceUnpaused:
    case EventType::ResourceReset:
        what = QStringLiteral("%1 %2 by %3")
                   .arg(text(d, "resource"), eventTypeName(event.type).mid(9), event.actor);
        break;
    case EventType::ResourceLimitsChanged:
        what =
            QStringLiteral("%1: %2 (by %3%4)")
                .arg(text(d, "resource"), text(d, "result"), event.actor,
                     d.contains(QLatin1String("reason")) ? QStringLiteral(": ") + text(d, "reason")
                                                         : QString());
        break;
    default:
        break;
    }
    return what;
}

/// An operator's action, with its result, who and why.
QString operatorEventSummary(const EventRow &event) {
    const QJsonObject &d = event.detail;
    const QString reason =
        d.contains(QLatin1String("reason")) ? QStringLiteral(": ") + text(d, "reason") : QString();
    return QStringLiteral("%1 (%2 by %3%4)")
        .arg(text(d, "result"), text(d, "action"), event.actor, reason);
}

} // namespace

QString eventSummary(const EventRow &event) {
    QString what;
    if (event.type == EventType::AlertFired)
        what = QStringLiteral("ALERT (rule %1, %2): %3")
                   .arg(number(event.detail, "rule"))
                   .arg(text(event.detail, "kind"), text(event.detail, "message"));
    else if (isOperatorEvent(event.type))
        what = operatorEventSummary(event);
    else if (isResourceEvent(event.type))
        what = resourceEventSummary(event);
    else if (event.type >= EventType::RunCreated && event.type <= EventType::RunFinished)
        what = runEventSummary(event);
    else if (event.type >= EventType::ItemSucceeded && event.type <= EventType::ItemUncertain)
        what = itemEventSummary(event);
    else
        what = stepEventSummary(event);
    if (what.isNull()) // a value the enum does not declare
        what = eventTypeName(event.type) + QLatin1Char(' ') + compactJson(event.detail);
    return what;
}

QString describeEvent(const EventRow &event) {
    // "%1  %2 %3" with the step id padded to 16, appended (a line per event is printed).
    const QString summary = eventSummary(event);
    QString line;
    line.reserve(12 + 2 + std::max<qsizetype>(16, event.stepId.size()) + 1 + summary.size());
    line += localClock(event.at);
    line += QLatin1String("  ");
    line += event.stepId;
    if (event.stepId.size() < 16)
        line.resize(line.size() + 16 - event.stepId.size(), QLatin1Char(' '));
    line += QLatin1Char(' ');
    line += summary;
    return line;
}

QString runStatusText(const QJsonObject &status) {
    const QJsonObject run = status.value(QLatin1String("run")).toObject();
    QString out = QStringLiteral("run %1  flow %2  %3\n")
                      .arg(run.value(QLatin1String("id")).toString(),
                           run.value(QLatin1String("flow")).toString(),
                           run.value(QLatin1String("state")).toString());
    const QJsonArray steps = status.value(QLatin1String("steps")).toArray();
    // Each root cause in words, with how many steps wait on it.
    QHash<QString, StepState> stateOf;
    QHash<QString, int> waiting;
    for (const QJsonValue &value : steps) {
        const QJsonObject step = value.toObject();
        const QString id = step.value(QLatin1String("id")).toString();
        stateOf.insert(id, stepStateFromName(step.value(QLatin1String("state")).toString())
                               .value_or(StepState::Failed));
        for (const QJsonValue &root : step.value(QLatin1String("blocked_by")).toArray())
            ++waiting[root.toString()];
    }
    for (const QJsonValue &value : run.value(QLatin1String("root_causes")).toArray()) {
        const QString root = value.toString();
        out += QStringLiteral("  root cause: %1\n")
                   .arg(describeRootCause(root, stateOf.value(root, StepState::Failed),
                                          waiting.value(root)));
    }
    for (const QJsonValue &value : steps) {
        const QJsonObject step = value.toObject();
        QString line = QStringLiteral("  %1 %2 attempts %3")
                           .arg(step.value(QLatin1String("id")).toString().leftJustified(18),
                                step.value(QLatin1String("state")).toString().leftJustified(24))
                           .arg(step.value(QLatin1String("attempts")).toInt());
        const QJsonObject items = step.value(QLatin1String("items")).toObject();
        if (!items.isEmpty())
            line += QStringLiteral("  items %1/%2 ok, %3 failed")
                        .arg(items.value(QLatin1String("succeeded")).toInt())
                        .arg(items.value(QLatin1String("total")).toInt())
                        .arg(items.value(QLatin1String("failed")).toInt());
        if (step.value(QLatin1String("via_fallback")).toBool())
            line += QStringLiteral("  (fallback used)");
        QStringList roots;
        for (const QJsonValue &root : step.value(QLatin1String("blocked_by")).toArray())
            roots.append(root.toString());
        if (!roots.isEmpty())
            line += QStringLiteral("  waits on ") + roots.join(QStringLiteral(", "));
        const QString error = step.value(QLatin1String("error")).toString();
        if (!error.isEmpty())
            line += QStringLiteral("  error: ") + error;
        out += line + QLatin1Char('\n');
    }
    return out;
}

} // namespace keepflow
