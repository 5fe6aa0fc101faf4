#pragma once

// The runs list as a table, lazy for 100,000 runs and more.
//
// Rows are not loaded up front: rowCount() is the store's count for the current filters, and
// data() reads rows from a small cache of pages, fetching a missing page (one indexed query) when
// a row is first shown. Scrolling to the end is therefore one query, not hundreds of fetchMore
// rounds that would also keep every run in memory.
//
// Filtering is a new query, not a QSortFilterProxyModel: a proxy sees only rows the source has
// loaded, so filtering 100,000 runs would mean loading all of them first. The database filters
// with its indexes and returns one page.
//
// Live updates (refreshRuns) change rows in place and insert new runs at the top, never reset the
// model, so the view keeps its selection and scroll position.
//
// Threading: GUI thread. The source is called synchronously from data() and refreshRuns().

#include "runssource.h"

#include <QAbstractTableModel>
#include <QMap>
#include <QStringList>

namespace keepflow::ui {

class RunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { StateColumn, FlowColumn, RunColumn, StartedColumn, DurationColumn, StepsColumn };
    static constexpr int kColumnCount = 6;
    enum Role { RunIdRole = Qt::UserRole + 1 };
    /// Rows fetched per query.
    static constexpr int kPageSize = 200;
    /// Pages kept in memory; the least recently used page goes first.
    static constexpr int kMaxCachedPages = 16;

    explicit RunsModel(QObject *parent = nullptr);

    /// Sets where rows come from and loads the list (a reset).
    void setSource(RunsSource source);
    const RunsSource &source() const { return m_source; }
    /// Reads the count again and drops every cached row (a reset).
    void reload();

    /// Empty: every state.
    void setStateFilter(const QList<RunState> &states);
    /// Exact flow name; empty: every flow.
    void setFlowFilter(const QString &flowName);
    /// Case-insensitive substring of the run id or the flow name.
    void setSearch(const QString &text);
    /// Runs with a step that meets every condition (one and the same step); empty: any run.
    void setStepCondition(const StepCondition &condition);
    /// Runs under way between since and until (ms since the epoch; 0: open).
    void setTimeWindow(qint64 since, qint64 until);
    /// The filters as one query (offset and limit unset): what a bulk action over the list uses.
    RunQuery query() const;
    const QList<RunState> &stateFilter() const { return m_query.states; }
    const QString &flowFilter() const { return m_query.flowName; }
    const QString &search() const { return m_query.search; }

    /// The time running runs are measured to (ms since the epoch); 0: the system clock. Updates
    /// the duration of the loaded unfinished runs.
    void setNow(qint64 now);

    /// Compact: the state column shows only the state's icon (its glyph says the state; the
    /// label stays in the tooltip and for assistive clients), for a runs pane too narrow for
    /// every column with labels.
    void setCompactStates(bool compact);
    bool compactStates() const { return m_compactStates; }

    /// The runs changed (the change feed named them): loaded rows of these runs are updated in
    /// place, runs newer than the top row are inserted at the top, and a run that no longer
    /// matches the filters leaves the list.
    void refreshRuns(const QStringList &runIds);

    /// Empty when row is out of range. Loads the row's page when needed.
    QString runIdAt(int row) const;
    /// The row of a loaded run; -1 when it is not in the list or not loaded. Loads the top page
    /// when nothing is loaded yet.
    int rowOfRun(const QString &runId) const;
    /// Rows currently held in memory (at most kMaxCachedPages pages plus new runs).
    int loadedRowCount() const;
    /// Queries made since the source was set (for tests and the benchmark).
    int queryCount() const { return m_queries; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    /// A filter changed (after the reset it caused).
    void filtersChanged();
    /// A query failed; the list shows what it had.
    void loadFailed(const QString &message);

private:
    /// A run of consecutive rows from one query, starting at row first.
    struct Chunk {
        QList<RunSummary> rows;
        quint64 lastUse = 0;
    };

    const RunSummary *summaryAt(int row) const;
    QMap<int, Chunk>::iterator chunkFor(int row) const;
    void fetchAround(int row) const;
    void evict() const;
    void rebuildIndex() const;
    void shiftChunks(int from, int delta);
    Result<QList<RunSummary>> fetch(int offset, int limit) const;
    void dropRow(int row);
    void resync(int count, int moved);
    qint64 now() const;
    void report(const QString &message) const;

    RunsSource m_source;
    RunQuery m_query;
    int m_count = 0;
    qint64 m_now = 0;
    bool m_compactStates = false;
    // Cache: row of its first run -> chunk; chunks never overlap. Mutable: data() fills it.
    mutable QMap<int, Chunk> m_chunks;
    mutable QHash<QString, int> m_rowOfRun;
    mutable quint64 m_useClock = 0;
    mutable int m_queries = 0;
};

} // namespace keepflow::ui
