#pragma once

// The step statistics of the open run's flow, across its runs (api/stepstats.h): a table per
// step (p50, p95, attempts per success, failure rate, retry share, runs), the steps that usually
// fail or retry first, and a chart of the failure rate over time of the selected step, or of
// every step when none is selected.
//
// It also keeps the statistics per flow for the run views' "slow" badges: statsFor() gives a
// flow's cached statistics and has them read again when older than kRefreshMs (on the monitor's
// clock), and for a flow whose statistics took long to read (100,000 runs: about half a second)
// when older than kCostFactor times that. The reading happens on a thread of its own
// (StepStatsReader, with its own connection); statsRead() says when new figures arrived. Until
// a flow's first figures arrive the view says it is computing them; while they are read again it
// keeps showing the previous ones. A result requested before the user moved to another flow is
// dropped (each request has a generation; only the newest one's result is taken).
//
// Threading: GUI thread; the reading thread is stopped (after the read under way) when the view
// is destroyed.

#include "api/stepstats.h"

#include <QHash>
#include <QString>
#include <QWidget>

#include <atomic>
#include <memory>

class QCustomPlot;
class QLabel;
class QStandardItemModel;
class QTableView;
class QThread;

namespace keepflow {
class Monitor;
}

namespace keepflow::ui {

class StepStatsReader;
struct StepStatsRead;

class StepStatsView : public QWidget {
    Q_OBJECT
public:
    enum Column {
        StepColumn,
        P50Column,
        P95Column,
        AttemptsPerSuccessColumn,
        FailureRateColumn,
        RetryShareColumn,
        RunsColumn,
        ColumnCount
    };
    /// How old a flow's statistics may be before statsFor() reads them again.
    static constexpr qint64 kRefreshMs = 5000;
    static constexpr qint64 kCostFactor = 20;

    explicit StepStatsView(Monitor &monitor, QWidget *parent = nullptr);
    ~StepStatsView() override;

    /// The flow's statistics as last read, null before they first arrive (or when they cannot
    /// be read: the view says why). Asks for them again, on the reading thread, when older than
    /// kRefreshMs; never waits for them.
    const FlowStepStats *statsFor(const QString &flowName);
    /// The flow's statistics as last read, without asking for them again.
    const FlowStepStats *cachedStats(const QString &flowName) const;
    /// Whether the view waits for figures of the flow it asked for.
    bool isReading() const { return !m_readingFlow.isEmpty(); }
    /// Shows the flow's statistics (empty: none).
    void showFlow(const QString &flowName);
    const QString &flowName() const { return m_flow; }

    /// The step selected in the table, empty when none (the chart shows every step).
    QString selectedStep() const;
    void selectStep(const QString &stepId);

    // For tests.
    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }
    QCustomPlot *chart() const { return m_chart; }
    QLabel *summary() const { return m_summary; }
    StepStatsReader *reader() const { return m_reader; }
    QThread *readerThread() const { return m_thread; }

Q_SIGNALS:
    /// New statistics of the flow arrived (statsFor() and cachedStats() give them now).
    void statsRead(const QString &flowName);

private:
    struct Cached {
        FlowStepStats stats;
        qint64 readAt = 0;
        qint64 costMs = 0; ///< how long reading them took (wall time)
    };
    void fillTable();
    void updateChart();
    void requestRead(const QString &flowName);
    void takeRead(const StepStatsRead &result);

    Monitor &m_monitor;
    QHash<QString, Cached> m_cache; ///< by flow name
    QString m_flow;
    QString m_error; ///< why the shown flow's statistics could not be read
    /// Bumped by every request and every change of the flow shown: a result whose generation is
    /// not the current one is stale. Shared with the reader, which skips stale requests.
    std::shared_ptr<std::atomic<quint64>> m_generation;
    QString m_readingFlow; ///< the flow of the request under way, empty when none
    QThread *m_thread = nullptr;
    StepStatsReader *m_reader = nullptr; ///< lives on m_thread
    QLabel *m_summary = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    QCustomPlot *m_chart = nullptr;
};

} // namespace keepflow::ui
