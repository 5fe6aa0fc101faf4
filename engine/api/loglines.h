#pragma once

// A worker's log: one line per event on stderr, which journald (or whatever runs the worker)
// keeps. Text for people, JSON for log shippers; a level on every line, to filter on. Lines
// never carry a credential: URL passwords and Authorization values are masked, as secrets
// already are in the events themselves.

#include "core/records.h"

#include <QString>

#include <optional>

namespace keepflow {

enum class LogLevel { Debug, Info, Warning, Error };
enum class LogFormat { Text, Json };

/// "debug", "info", "warning" (or "warn"), "error"; nullopt for anything else.
std::optional<LogLevel> logLevelFromName(const QString &name);
QString logLevelName(LogLevel level);
/// "text" or "json".
std::optional<LogFormat> logFormatFromName(const QString &name);

/// How much an operator should care: failures for good are errors; failed attempts, waits for
/// an operator, uncertain outcomes and open breakers warnings; items' routine progress debug.
LogLevel eventLevel(const EventRow &event);

/// One line (with its newline) for an event. journalPriority: start a text line with the
/// syslog priority ("<4>") that journald reads from a service's stderr.
QString eventLogLine(const EventRow &event, LogFormat format, bool journalPriority);
/// One line for something the worker itself says (a lost run, a reconnect).
QString noticeLogLine(LogLevel level, const QString &message, qint64 at, LogFormat format,
                      bool journalPriority);

} // namespace keepflow
