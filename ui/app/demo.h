#pragma once

// The demo of `keepflow --demo`: example flows (compiled in as resources) started so that an
// operator sees, within a minute, steps fail, retry with backoff, fall back, partially succeed,
// wait for an approval and end uncertain.

#include "core/status.h"

#include <QStringList>

namespace keepflow {
class Monitor;
}

namespace keepflow::ui {

/// The demo database path (in the user's data folder); the file is started afresh every time.
QString demoDatabasePath();
/// Removes the database file and its WAL companions so that the demo starts from nothing.
Status resetDemoDatabase(const QString &path);
/// Starts the demo runs; returns their ids, the most instructive first.
Result<QStringList> startDemoRuns(Monitor &monitor);

} // namespace keepflow::ui
