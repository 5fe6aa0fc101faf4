#pragma once

// What the runs lists ask for (keepflowctl list, the desktop's runs view): plain values, typed
// with the core enums. The store turns them into SQL.

#include "core/states.h"

#include <QList>
#include <QString>

#include <optional>

namespace keepflow {

struct RunFilter {
    std::optional<RunState> state; ///< empty: every state
    int limit = 0;                 ///< 0: no limit
};

/// A page of the runs list: filters combine with AND; newest first.
struct RunQuery {
    QList<RunState> states; ///< empty: every state
    QString flowName;       ///< exact flow name; empty: every flow
    /// Case-insensitive substring of the run id, the flow name, or the id or last error of one
    /// of the run's steps.
    QString search;
    int offset = 0;
    int limit = 0; ///< 0: no limit
};

} // namespace keepflow
