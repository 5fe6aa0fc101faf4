#pragma once

// Whether a database can be trusted: SQLite's own check of the file, the schema version in its
// meta table, and the engine's invariants over what it holds. One implementation, used by
// `keepflowctl check` and by the desktop when it opens a database (the quick form).

#include "core/status.h"
#include "core/storeoptions.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace keepflow {

struct CheckProblem {
    QString run;  ///< empty when the problem is not about one run
    QString step; ///< empty when it is not about one step
    QString message;
};

/// One check: "open" (only when the database could not be opened), "integrity", "schema" or
/// "invariants".
struct CheckResult {
    QString name;
    QList<CheckProblem> problems;
    bool ok() const { return problems.isEmpty(); }
};

struct DatabaseCheck {
    enum class Depth {
        Quick, ///< PRAGMA quick_check and the schema: fast enough for every open
        Full,  ///< PRAGMA integrity_check, the schema and the engine's invariants
    };
    QList<CheckResult> checks;

    bool ok() const;
    /// { "ok": BOOL, "checks": [ { "name", "ok", "problems": [ { "run"?, "step"?, "message" } ] } ]
    /// }
    QJsonObject toJson() const;
    /// One line per check ("integrity: ok"), each problem indented below a check that failed.
    QString toText() const;
    /// Every problem on one line each ("integrity: run r1, step a: MESSAGE"), for a status bar.
    QStringList problemLines() const;
};

/// Opens the database at path read-only and checks it (OperatorApi::check); a database that cannot
/// be opened gives the single check "open" with the reason. A missing file is not created.
DatabaseCheck checkDatabaseFile(const QString &path, DatabaseCheck::Depth depth,
                                StoreOptions options = {});

} // namespace keepflow
