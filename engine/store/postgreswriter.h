#pragma once

// The PostgreSQL write path of Store::commit. Each table's rows of a batch travel as one JSON
// array bound to one prepared statement (json_populate_recordset), so a batch of any size costs
// one round trip per table, not per row: group commit as on SQLite. PostgreSQL refuses to upsert
// one row twice in one statement, so a row written twice in a batch (a step started and ended in
// the same round) is sent once, as its last version.
//
// The fence comes first: the batch's held runs are read FOR SHARE, which also keeps a claim from
// taking them until this transaction ends (claims skip locked rows).

#include "core/status.h"
#include "store/batch.h"

#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <memory>

namespace keepflow {

class PostgresBatchWriter {
public:
    /// db must stay open while the writer lives; display names the database in errors.
    PostgresBatchWriter(QSqlDatabase db, QString display);
    ~PostgresBatchWriter();
    PostgresBatchWriter(const PostgresBatchWriter &) = delete;
    PostgresBatchWriter &operator=(const PostgresBatchWriter &) = delete;

    /// Writes batch in one transaction; on failure rolls back and says why.
    Result<CommitResult> write(const Batch &batch, qint64 lastEventId);

    /// Channels notified when a transaction commits: events written (change feeds), and work
    /// for workers (a new run, a released lease; Store::submitRequest: an operator's request).
    static const char *eventsChannel();
    static const char *workChannel();

private:
    /// Fence, rows and notifications in one statement (one round trip); the usual path.
    Result<CommitResult> writeInOneStatement(const Batch &batch, qint64 lastEventId);
    /// BEGIN, the fence, one statement per table, COMMIT: batches that drop item rows.
    Result<CommitResult> writeInTransaction(const Batch &batch, qint64 lastEventId);
    struct Statements;
    /// Executes a prepared statement with its one JSON parameter.
    Status run(QSqlQuery &query, const char *what, const QByteArray &json);
    QSqlDatabase m_db;
    QString m_display;
    std::unique_ptr<Statements> m_statements;
    QHash<QString, QSqlQuery> m_oneStatement; ///< prepared, by the batch's shape (its text)
};

} // namespace keepflow
