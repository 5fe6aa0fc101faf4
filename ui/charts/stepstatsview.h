#pragma once

// The step statistics of the open run's flow, across its runs (api/stepstats.h): a table per
// step (p50, p95, attempts per success, failure rate, retry share, runs), the steps that usually
// fail or retry first, and a chart of the failure rate over time of the selected step, or of
// every step when none is selected.
//
// It also keeps the statistics per flow for the run views' "slow" badges: statsFor() reads a
// flow's statistics through the Monitor at most once per kRefreshMs (on the monitor's clock), and
// for a flow whose statistics took long to read (100,000 runs: about a second) at most once per
// kCostFactor times that, so that reloading a run never keeps the window busy.
//
// Threading: GUI thread.

#include "api/stepstats.h"

#include <QHash>
#include <QString>
#include <QWidget>

class QCustomPlot;
class QLabel;
class QStandardItemModel;
class QTableView;

namespace keepflow {
class Monitor;
}

namespace keepflow::ui {

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

    /// The flow's statistics, read again when older than kRefreshMs; null when they cannot be
    /// read (the view says why). Shows them when flowName is the flow shown.
    const FlowStepStats *statsFor(const QString &flowName);
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

private:
    struct Cached {
        FlowStepStats stats;
        qint64 readAt = 0;
        qint64 costMs = 0; ///< how long reading them took (wall time)
    };
    void fillTable();
    void updateChart();

    Monitor &m_monitor;
    QHash<QString, Cached> m_cache; ///< by flow name
    QString m_flow;
    QString m_error; ///< why the shown flow's statistics could not be read
    QLabel *m_summary = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    QCustomPlot *m_chart = nullptr;
};

} // namespace keepflow::ui
