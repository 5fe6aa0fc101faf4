#pragma once

#include "steps/stepkind.h"

#include "core/status.h"

namespace keepflow {

/// `sql`: one statement per attempt, in its own transaction (committed on success, rolled back on
/// any failure). `with`: connection (a name), statement, bind (an object bound as :name or an
/// array bound positionally as ?; values are always bound, never written into the text).
/// Output: {rows_affected, rows} with rows (at most 10,000) only for statements that return them.
///
/// Connections are referenced, not stored in flows: NAME resolves to the environment variable
/// KEEPFLOW_SQL_<NAME> (upper case, other characters as _) holding sqlite:///abs/path.db,
/// sqlite:relative.db or postgresql://user[:password]@host[:port]/db (password also from
/// PGPASSWORD; needs Qt's QPSQL driver).
///
/// Errors: an unknown connection, a missing driver, syntax errors and constraint violations are
/// permanent; busy or locked databases and connection failures are transient.
///
/// Threading: each attempt runs on a pool thread (at most 8 at once) with its own uniquely named
/// QSqlDatabase connection, opened and closed within the attempt; the result is delivered on the
/// engine's thread, so a slow database never blocks the coordinator. A timeout or cancel drops the
/// result; the statement itself ends on its own (a busy SQLite database is waited for at most the
/// attempt's timeout, 5 s at most).
class SqlStep final : public StepKind {
public:
    static constexpr int kMaxRows = 10'000;

    /// The statement is never rendered: values go to with.bind (SQL injection otherwise).
    InputRendering renderingOf(const QString &withKey) const override;
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;
};

/// The environment variable that names connection name: KEEPFLOW_SQL_<NAME>.
QString sqlConnectionVariable(const QString &name);

} // namespace keepflow
