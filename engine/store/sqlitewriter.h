#pragma once

// The SQLite write path of Store::commit: the same portable statements, bound and stepped through
// the sqlite3 handle that Qt SQL's connection owns (QSqlDriver::handle()). Qt SQL's own binding
// costs a few thousand instructions per value, and every statement has a fixed cost, which
// together would cap group commit far below the disk's limit; so this path binds directly and
// writes up to kRowsPerStatement rows with one multi-row statement. PostgreSQL gets its own
// writer behind the same seam (it refuses to upsert one row twice in a statement, see below).

#include "core/status.h"
#include "store/batch.h"

#include <memory>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace keepflow {

/// The UTF-8 bytes bound to a statement (SQLITE_STATIC: no copy in SQLite), kept until it has
/// been stepped; blocks are reused from one statement to the next, so binding a column costs no
/// allocation.
class BindArena {
public:
    /// Room for size bytes, valid until clear().
    char *allocate(qsizetype size);
    void clear();

private:
    static constexpr qsizetype kBlockSize = 64 * 1024;
    std::vector<std::unique_ptr<char[]>> m_blocks;
    std::vector<std::unique_ptr<char[]>> m_large; ///< one each for bytes above kBlockSize
    size_t m_block = 0;                           ///< the block being filled
    qsizetype m_used = 0;                         ///< bytes used in it
};

class SqliteBatchWriter {
public:
    static constexpr int kRowsPerStatement = 32;

    /// db must outlive the writer. On failure preparation() says why.
    SqliteBatchWriter(sqlite3 *db, QString path);
    ~SqliteBatchWriter();
    SqliteBatchWriter(const SqliteBatchWriter &) = delete;
    SqliteBatchWriter &operator=(const SqliteBatchWriter &) = delete;

    const Status &preparation() const { return m_prepared; }

    /// Writes batch in one IMMEDIATE transaction, fenced (see Store::commit); on failure rolls
    /// back and says why.
    Result<CommitResult> write(const Batch &batch, qint64 lastEventId);

private:
    /// The fenced runs that batch.fenceOwner no longer holds with their epochs.
    Result<QStringList> lostRuns(const Batch &batch);
    // One table each, in the order write() takes them; a failure says which rows.
    Status writeRuns(const Batch &batch);
    Status writeStepRuns(const Batch &batch);
    Status writeAttempts(const Batch &batch);
    Status writeEvents(const Batch &batch);
    Status writeResources(const Batch &batch);
    Status clearItems(const Batch &batch);
    Status removeSteps(const Batch &batch);
    Status writeItems(const Batch &batch);
    Status writeAnswers(const Batch &batch);
    Status releaseLeases(const Batch &batch);
    /// Steps a statement whose values are bound, resets it; whatFailed names a failure.
    Status stepBound(sqlite3_stmt *statement, const QString &whatFailed);

    /// One statement shape, prepared for one row and for kRowsPerStatement rows.
    struct Shape {
        sqlite3_stmt *single = nullptr;
        sqlite3_stmt *multi = nullptr;
        int columns = 0;
    };
    Status prepare(Shape &shape, const char *head, int columns, const char *tail);
    /// Binds rows [0, count) with bindRow(statement, firstIndex, row) in chunks and steps them.
    template <typename BindRow>
    Status writeRows(Shape &shape, qsizetype count, const BindRow &bindRow, const char *what);
    Status exec(const char *sql);
    Status failure(const QString &what);

    sqlite3 *m_db;
    QString m_path;
    Status m_prepared;
    Shape m_runs;
    Shape m_steps;
    Shape m_attempts;
    Shape m_events;
    Shape m_resources;
    Shape m_items;
    sqlite3_stmt *m_release = nullptr;
    sqlite3_stmt *m_fence = nullptr;
    sqlite3_stmt *m_clearItems = nullptr;
    sqlite3_stmt *m_removeStep = nullptr;
    sqlite3_stmt *m_answer = nullptr;
    BindArena m_keep;  ///< bytes bound with SQLITE_STATIC until the step
    QByteArray m_json; ///< a JSON column's text before it goes to m_keep
};

} // namespace keepflow
