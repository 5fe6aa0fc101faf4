#include "loglines.h"

#include "api/reports.h"
#include "core/eventtype.h"
#include "model/secrets.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace keepflow {

namespace {

/// The syslog priorities journald reads from a line's "<N>" prefix.
int syslogPriority(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return 7;
    case LogLevel::Info:
        return 6;
    case LogLevel::Warning:
        return 4;
    case LogLevel::Error:
        return 3;
    }
    return 6;
}

QString utcTime(qint64 ms) {
    return utcIsoText(ms); // Qt::ISODateWithMs in UTC, without QDateTime's cost per line
}

/// Strings inside detail with credentials masked, recursively.
QJsonValue redacted(const QJsonValue &value) {
    if (value.isString())
        return redactCredentials(value.toString());
    if (value.isObject()) {
        QJsonObject out;
        const QJsonObject in = value.toObject();
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(it.key(), redacted(it.value()));
        return out;
    }
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue &element : value.toArray())
            out.append(redacted(element));
        return out;
    }
    return value;
}

/// "2026-11-28T03:40:00.123Z WARNING run=… step=… message"; under journald, which stamps its
/// own time, "<4>WARNING run=… step=… message".
QString textLine(LogLevel level, qint64 at, const QString &fields, const QString &message,
                 bool journalPriority) {
    const QString start = journalPriority ? QStringLiteral("<%1>").arg(syslogPriority(level))
                                          : utcTime(at) + QLatin1Char(' ');
    const QString text = redactCredentials(message);
    // "%1%2 %3%4\n", appended: a worker logs a line per event.
    QString line;
    line.reserve(start.size() + 8 + fields.size() + text.size() + 1);
    line += start;
    line += logLevelName(level).toUpper();
    line += QLatin1Char(' ');
    line += fields;
    line += text;
    line += QLatin1Char('\n');
    return line;
}

QString jsonLine(QJsonObject object) {
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact)) +
           QLatin1Char('\n');
}

} // namespace

std::optional<LogLevel> logLevelFromName(const QString &name) {
    const QString lower = name.toLower();
    if (lower == QLatin1String("debug"))
        return LogLevel::Debug;
    if (lower == QLatin1String("info"))
        return LogLevel::Info;
    if (lower == QLatin1String("warning") || lower == QLatin1String("warn"))
        return LogLevel::Warning;
    if (lower == QLatin1String("error"))
        return LogLevel::Error;
    return std::nullopt;
}

QString logLevelName(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return QStringLiteral("debug");
    case LogLevel::Info:
        return QStringLiteral("info");
    case LogLevel::Warning:
        return QStringLiteral("warning");
    case LogLevel::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("info");
}

std::optional<LogFormat> logFormatFromName(const QString &name) {
    if (name == QLatin1String("text"))
        return LogFormat::Text;
    if (name == QLatin1String("json"))
        return LogFormat::Json;
    return std::nullopt;
}

LogLevel eventLevel(const EventRow &event) {
    switch (event.type) {
    case EventType::StepFailed:
    case EventType::ItemFailed:
    case EventType::RunStalled:
    case EventType::AlertFired:
        return LogLevel::Error;
    case EventType::RunFinished: {
        const QString state = event.detail.value(QLatin1String("state")).toString();
        if (state == QLatin1String("failed"))
            return LogLevel::Error;
        return state == QLatin1String("completed_with_failures") ? LogLevel::Warning
                                                                 : LogLevel::Info;
    }
    case EventType::AttemptFailed:
    case EventType::AttemptCrashed:
    case EventType::StepRetrying:
    case EventType::ItemRetrying:
    case EventType::StepUncertain:
    case EventType::ItemUncertain:
    case EventType::StepFallingBack:
    case EventType::StepSucceededViaFallback:
    case EventType::StepPartiallySucceeded:
    case EventType::StepBlocked:
    case EventType::StepWaitingForApproval:
    case EventType::RunWaiting:
    case EventType::RunAdoptionLimitReached:
    case EventType::ResourceOpened:
        return LogLevel::Warning;
    case EventType::ItemSucceeded:
        return LogLevel::Debug;
    case EventType::AttemptStarted:
        // An item's attempts are the routine inside its step: one line each would drown the rest.
        return event.detail.contains(QLatin1String("item")) ? LogLevel::Debug : LogLevel::Info;
    default:
        return LogLevel::Info;
    }
}

QString eventLogLine(const EventRow &event, LogFormat format, bool journalPriority) {
    const LogLevel level = eventLevel(event);
    const QString message = describeEvent(event);
    if (format == LogFormat::Json) {
        QJsonObject line{{QStringLiteral("time"), utcTime(event.at)},
                         {QStringLiteral("level"), logLevelName(level)},
                         {QStringLiteral("run"), event.runId},
                         {QStringLiteral("event"), eventTypeName(event.type)},
                         {QStringLiteral("message"), redactCredentials(message)},
                         {QStringLiteral("detail"), redacted(event.detail)}};
        if (!event.stepId.isEmpty())
            line.insert(QStringLiteral("step"), event.stepId);
        if (!event.actor.isEmpty())
            line.insert(QStringLiteral("actor"), event.actor);
        return jsonLine(line);
    }
    QString fields = QLatin1String("run=") + event.runId + QLatin1Char(' ');
    if (!event.stepId.isEmpty())
        fields += QLatin1String("step=") + event.stepId + QLatin1Char(' ');
    return textLine(level, event.at, fields, message, journalPriority);
}

QString noticeLogLine(LogLevel level, const QString &message, qint64 at, LogFormat format,
                      bool journalPriority) {
    if (format == LogFormat::Json)
        return jsonLine({{QStringLiteral("time"), utcTime(at)},
                         {QStringLiteral("level"), logLevelName(level)},
                         {QStringLiteral("message"), redactCredentials(message)}});
    return textLine(level, at, QString(), message, journalPriority);
}

} // namespace keepflow
