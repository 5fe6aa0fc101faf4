#include "api/alerts.h"

#include "api/reports.h"
#include "api/stepstats.h"
#include "api/triage.h"
#include "core/eventtype.h"
#include "model/flow.h"
#include "store/store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace keepflow {

namespace {

/// A rule's command is stopped when it takes longer (a hung pager must not pile up).
constexpr int kCommandTimeoutMs = 60'000;

const QStringList &kindNames() {
    static const QStringList names{QStringLiteral("run_failed"),
                                   QStringLiteral("completed_with_failures"),
                                   QStringLiteral("waiting_for_operator"),
                                   QStringLiteral("breaker_opened"),
                                   QStringLiteral("step_slow"),
                                   QStringLiteral("failure_burst")};
    return names;
}

QString seconds(qint64 ms) {
    return QStringLiteral("%1 s").arg(static_cast<double>(ms) / 1000.0, 0, 'f', 1);
}

} // namespace

QString alertKindName(AlertKind kind) {
    return kindNames().value(static_cast<int>(kind));
}

std::optional<AlertKind> alertKindFromName(const QString &name) {
    const auto at = kindNames().indexOf(name);
    return at < 0 ? std::nullopt : std::optional(static_cast<AlertKind>(at));
}

QStringList alertKindNames() {
    return kindNames();
}

Result<AlertRuleRow> alertRuleFromWords(const QStringList &words, const QStringList &command) {
    if (words.isEmpty())
        return Status::error(
            QStringLiteral("an alert rule starts with its kind: %1").arg(kindNames().join(u", ")));
    const auto kind = alertKindFromName(words.first());
    if (!kind)
        return Status::error(QStringLiteral("unknown alert kind \"%1\" (%2)")
                                 .arg(words.first(), kindNames().join(u", ")));
    AlertRuleRow rule;
    rule.kind = words.first();
    rule.command = command;
    if (*kind == AlertKind::StepSlow)
        rule.factor = 2.0;
    for (const QString &word : words.mid(1)) {
        const auto eq = word.indexOf(QLatin1Char('='));
        const QString key = eq < 0 ? word : word.left(eq);
        const QString value = eq < 0 ? QString() : word.mid(eq + 1);
        if (eq <= 0 || value.isEmpty())
            return Status::error(
                QStringLiteral("\"%1\": give KEY=VALUE (flow, step, resource, factor, count, "
                               "window)")
                    .arg(word));
        bool ok = true;
        if (key == QLatin1String("flow")) {
            rule.flow = value;
        } else if (key == QLatin1String("step")) {
            rule.step = value;
        } else if (key == QLatin1String("resource") && *kind == AlertKind::BreakerOpened) {
            rule.resource = value;
        } else if (key == QLatin1String("factor") && *kind == AlertKind::StepSlow) {
            rule.factor = value.toDouble(&ok);
            ok = ok && rule.factor >= 1.0 && std::isfinite(rule.factor);
        } else if (key == QLatin1String("count") && *kind == AlertKind::FailureBurst) {
            rule.threshold = value.toInt(&ok);
            ok = ok && rule.threshold >= 1;
        } else if (key == QLatin1String("window") && *kind == AlertKind::FailureBurst) {
            const auto ms = parseDurationMs(value);
            ok = ms && *ms > 0;
            rule.windowMs = ms.value_or(0);
        } else {
            return Status::error(
                QStringLiteral("\"%1\": %2 takes no %3").arg(word, rule.kind, key));
        }
        if (!ok)
            return Status::error(QStringLiteral("\"%1\": not a valid %2").arg(word, key));
    }
    if (*kind == AlertKind::FailureBurst && (rule.threshold == 0 || rule.windowMs == 0))
        return Status::error(
            QStringLiteral("failure_burst needs count=N and window=DURATION (e.g. 15m)"));
    return rule;
}

QJsonObject alertRuleJson(const AlertRuleRow &rule) {
    QJsonObject json{{QStringLiteral("id"), rule.id},
                     {QStringLiteral("kind"), rule.kind},
                     {QStringLiteral("command"), QJsonArray::fromStringList(rule.command)},
                     {QStringLiteral("created_by"), rule.createdBy},
                     {QStringLiteral("created_at"), isoTime(rule.createdAt)}};
    if (!rule.flow.isEmpty())
        json.insert(QStringLiteral("flow"), rule.flow);
    if (!rule.step.isEmpty())
        json.insert(QStringLiteral("step"), rule.step);
    if (!rule.resource.isEmpty())
        json.insert(QStringLiteral("resource"), rule.resource);
    if (rule.factor > 0)
        json.insert(QStringLiteral("factor"), rule.factor);
    if (rule.threshold > 0)
        json.insert(QStringLiteral("count"), rule.threshold);
    if (rule.windowMs > 0)
        json.insert(QStringLiteral("window_ms"), rule.windowMs);
    return json;
}

QString describeAlertRule(const AlertRuleRow &rule) {
    QStringList parts{QString::number(rule.id).leftJustified(4), rule.kind};
    if (!rule.flow.isEmpty())
        parts << QStringLiteral("flow=") + rule.flow;
    if (!rule.step.isEmpty())
        parts << QStringLiteral("step=") + rule.step;
    if (!rule.resource.isEmpty())
        parts << QStringLiteral("resource=") + rule.resource;
    if (rule.factor > 0)
        parts << QStringLiteral("factor=%1").arg(rule.factor);
    if (rule.threshold > 0)
        parts << QStringLiteral("count=%1").arg(rule.threshold);
    if (rule.windowMs > 0)
        parts << QStringLiteral("window=%1s").arg(rule.windowMs / 1000);
    if (!rule.command.isEmpty())
        parts << QStringLiteral("->") << rule.command;
    return parts.join(QLatin1Char(' '));
}

AlertWatcher::AlertWatcher(Store &store, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_clock(clock) {}

AlertWatcher::~AlertWatcher() = default;

void AlertWatcher::follow(int intervalMs) {
    if (!m_timer) {
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, [this] {
            if (auto polled = poll(); !polled)
                Q_EMIT failed(polled.error());
        });
    }
    m_timer->start(intervalMs);
}

Result<QString> AlertWatcher::flowOf(const QString &runId) {
    if (const auto known = m_flowOfRun.constFind(runId); known != m_flowOfRun.cend())
        return *known;
    auto run = m_store.run(runId);
    if (!run)
        return run.status();
    if (m_flowOfRun.size() > 10'000)
        m_flowOfRun.clear(); // a cache, not a record of every run
    m_flowOfRun.insert(runId, run->flowName);
    return run->flowName;
}

std::optional<AlertWatcher::Condition>
AlertWatcher::evaluate(const AlertRuleRow &rule, const EventRow &event, const QString &flow) {
    const auto kind = alertKindFromName(rule.kind);
    if (!kind)
        return std::nullopt; // a rule a newer Keepflow wrote
    if (!rule.flow.isEmpty() && rule.flow != flow)
        return std::nullopt;
    if (!rule.step.isEmpty() && rule.step != event.stepId)
        return std::nullopt;
    const QString state = event.detail.value(QLatin1String("state")).toString();
    const QString byEvent = QStringLiteral("event:%1").arg(event.id);
    switch (*kind) {
    case AlertKind::RunFailed:
    case AlertKind::RunCompletedWithFailures: {
        const RunState wanted =
            *kind == AlertKind::RunFailed ? RunState::Failed : RunState::CompletedWithFailures;
        if (event.type != EventType::RunFinished || state != stateName(wanted))
            return std::nullopt;
        return Condition{byEvent, QStringLiteral("run %1 of %2 %3")
                                      .arg(event.runId, flow,
                                           *kind == AlertKind::RunFailed
                                               ? QStringLiteral("failed")
                                               : QStringLiteral("completed with failures"))};
    }
    case AlertKind::WaitingForOperator:
        if (event.type != EventType::RunWaiting || state != stateName(RunState::WaitingForOperator))
            return std::nullopt;
        return Condition{
            byEvent, QStringLiteral("run %1 of %2 waits for an operator").arg(event.runId, flow)};
    case AlertKind::BreakerOpened: {
        const QString resource = event.detail.value(QLatin1String("resource")).toString();
        if (event.type != EventType::ResourceOpened ||
            (!rule.resource.isEmpty() && rule.resource != resource))
            return std::nullopt;
        return Condition{byEvent, QStringLiteral("the circuit breaker of %1 opened").arg(resource)};
    }
    case AlertKind::StepSlow: {
        if (event.stepId.isEmpty() || event.detail.contains(QLatin1String("item")) ||
            (event.type != EventType::StepSucceeded && event.type != EventType::StepFailed &&
             event.type != EventType::StepSucceededViaFallback &&
             event.type != EventType::StepPartiallySucceeded))
            return std::nullopt;
        auto steps = m_store.stepRuns(event.runId);
        if (!steps)
            return std::nullopt;
        const auto row = std::find_if(steps->cbegin(), steps->cend(),
                                      [&event](const auto &s) { return s.stepId == event.stepId; });
        if (row == steps->cend() || row->startedAt <= 0 || row->endedAt < row->startedAt)
            return std::nullopt;
        const qint64 took = row->endedAt - row->startedAt;
        // The desktop's "slow" badge's rule and window (api/stepstats.h), the factor the rule's.
        auto latest =
            m_store.latestStepDurations(flow, event.stepId, kSlowWindow, finishedStepOutcomes());
        if (!latest)
            return std::nullopt;
        const SlowBaseline baseline = slowBaseline(std::move(*latest));
        SlowRule slow;
        slow.factor = rule.factor;
        const std::optional<double> factor = slowFactor(baseline, took, slow);
        if (!factor)
            return std::nullopt;
        return Condition{byEvent, QStringLiteral("step %1 of run %2 took %3, %4× its p95 of %5")
                                      .arg(event.stepId, event.runId, seconds(took))
                                      .arg(*factor, 0, 'f', 1)
                                      .arg(seconds(baseline.p95Ms))};
    }
    case AlertKind::FailureBurst: {
        if (event.type != EventType::StepFailed || event.stepId.isEmpty())
            return std::nullopt;
        const QString signature =
            failureSignature(event.detail.value(QLatin1String("error")).toString());
        RunQuery recent;
        recent.flowName = flow;
        recent.step.stepId = event.stepId;
        recent.since = event.at - rule.windowMs;
        recent.until = event.at;
        auto failures = m_store.stepFailures(recent);
        if (!failures)
            return std::nullopt;
        const auto count = std::count_if(failures->cbegin(), failures->cend(),
                                         [&signature](const StepFailureRow &failure) {
                                             return failure.state == StepState::Failed &&
                                                    failureSignature(failure.error) == signature;
                                         });
        if (count < rule.threshold)
            return std::nullopt;
        // Once per window: a burst that goes on fires again in the next one.
        return Condition{QStringLiteral("burst:%1|%2|%3|%4")
                             .arg(flow, event.stepId, signature)
                             .arg(event.at / rule.windowMs),
                         QStringLiteral("%1 failures of %2 / %3 within %4: %5")
                             .arg(count)
                             .arg(flow, event.stepId, seconds(rule.windowMs), signature)};
    }
    }
    return std::nullopt;
}

Result<int> AlertWatcher::poll() {
    auto rules = m_store.alertRules();
    if (!rules)
        return rules.status();
    auto cursor = m_store.alertCursor();
    if (!cursor)
        return cursor.status();
    if (rules->isEmpty()) {
        // Nothing to look for: keep up with the feed, so that a rule added later starts there.
        auto head = m_store.feedHead();
        if (!head)
            return head.status();
        if (Status s = m_store.setAlertCursor(*head); !s)
            return s;
        return 0;
    }
    int fired = 0;
    FeedPosition position = *cursor;
    for (;;) {
        auto page = m_store.eventsAfter(position, 500);
        if (!page)
            return page.status();
        for (const EventRow &event : page->events) {
            if (event.type == EventType::AlertFired)
                continue;
            QString flow;
            if (!event.runId.isEmpty()) {
                auto known = flowOf(event.runId);
                if (!known)
                    return known.status();
                flow = *known;
            }
            for (const AlertRuleRow &rule : *rules) {
                const auto condition = evaluate(rule, event, flow);
                if (!condition)
                    continue;
                AlertFiring firing;
                firing.rule = rule;
                firing.event.at = m_clock.nowMs();
                firing.event.runId = event.runId;
                firing.event.stepId = event.stepId;
                firing.event.type = EventType::AlertFired;
                firing.event.actor = QStringLiteral("alerts");
                firing.event.detail = {{QStringLiteral("rule"), rule.id},
                                       {QStringLiteral("kind"), rule.kind},
                                       {QStringLiteral("message"), condition->message},
                                       {QStringLiteral("trigger"), event.id}};
                auto id = m_store.recordAlertFiring(rule.id, condition->key, firing.event);
                if (!id)
                    return id.status();
                if (!*id)
                    continue; // fired before, here or elsewhere
                firing.event.id = **id;
                firing.alert = {
                    {QStringLiteral("id"), firing.event.id},
                    {QStringLiteral("at"), isoTime(firing.event.at)},
                    {QStringLiteral("rule"), rule.id},
                    {QStringLiteral("kind"), rule.kind},
                    {QStringLiteral("message"), condition->message},
                    {QStringLiteral("run"), event.runId.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                  : QJsonValue(event.runId)},
                    {QStringLiteral("flow"),
                     flow.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(flow)},
                    {QStringLiteral("step"), event.stepId.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                    : QJsonValue(event.stepId)},
                    {QStringLiteral("trigger"), eventsJson({event}).first()}};
                ++fired;
                Q_EMIT alertFired(firing);
                if (m_runCommands && !rule.command.isEmpty())
                    runCommand(firing);
            }
        }
        if (Status s = m_store.setAlertCursor(page->next); !s)
            return s;
        if (page->events.isEmpty() || page->next.id == position.id)
            break;
        position = page->next;
    }
    return fired;
}

void AlertWatcher::runCommand(const AlertFiring &firing) {
    // The argv as given: no shell, so nothing in the alert can become a command.
    auto *process = new QProcess(this);
    const qint64 ruleId = firing.rule.id;
    auto *timeout = new QTimer(process);
    timeout->setSingleShot(true);
    connect(timeout, &QTimer::timeout, process, [process] { process->kill(); });
    connect(process, &QProcess::finished, this,
            [this, process, ruleId, timeout](int exitCode, QProcess::ExitStatus status) {
                const bool killed = status != QProcess::NormalExit || !timeout->isActive();
                timeout->stop();
                Q_EMIT commandFinished(ruleId, exitCode,
                                       killed ? QStringLiteral("the command was stopped after "
                                                               "%1 s or crashed")
                                                    .arg(kCommandTimeoutMs / 1000)
                                              : QString());
                process->deleteLater();
            });
    connect(process, &QProcess::errorOccurred, this,
            [this, process, ruleId](QProcess::ProcessError error) {
                if (error != QProcess::FailedToStart)
                    return;
                Q_EMIT commandFinished(ruleId, -1, process->errorString());
                process->deleteLater();
            });
    process->start(firing.rule.command.first(), firing.rule.command.mid(1));
    process->write(QJsonDocument(firing.alert).toJson(QJsonDocument::Compact) + '\n');
    process->closeWriteChannel();
    timeout->start(kCommandTimeoutMs);
}

} // namespace keepflow
