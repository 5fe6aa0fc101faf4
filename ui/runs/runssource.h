#pragma once

// Where the runs list gets its rows from: the engine facade in the desktop app, a Store directly
// in tests and benchmarks. Keeping it two plain functions means the list never depends on the
// engine's worker or threads.

#include "core/records.h"
#include "core/runquery.h"
#include "core/status.h"

#include <QList>
#include <QMap>

#include <functional>

namespace keepflow::ui {

struct RunsSource {
    /// A page of the list, newest first (Store::runSummaries).
    std::function<Result<QList<RunSummary>>(const RunQuery &)> page;
    /// How many runs match the query's filters; its offset and limit are ignored
    /// (Store::countRuns).
    std::function<Result<int>(const RunQuery &)> count;

    /// Runs per state for the query without its state filter (Store::countRunsByState);
    /// optional: without it the state filter shows no counts.
    std::function<Result<QMap<RunState, int>>(const RunQuery &)> countByState;

    bool isValid() const { return page && count; }
};

} // namespace keepflow::ui
