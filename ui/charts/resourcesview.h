#pragma once

// The resources panel: a table of the external dependencies steps call (breaker state as text
// and icon, pause, queue, in flight, error rate, latency), the operator's buttons for the
// selected one, and charts over time of queue depth, in flight, error rate and latency: the
// selected resource's lines, or one line per resource when none is selected.
//
// The view only shows and asks: the buttons emit requests and the main window calls the engine;
// the table follows the next samples. History is bounded by age and by count per resource, so
// memory stays flat however long the monitor runs.
//
// Threading: GUI thread.

#include "resourcesample.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QWidget>

class QCustomPlot;
class QPushButton;
class QTableView;

namespace keepflow::ui {

class ResourcesTableModel;

class ResourcesView : public QWidget {
    Q_OBJECT
public:
    enum Chart { QueueDepth, InFlight, ErrorRate, Latency, ChartCount };

    explicit ResourcesView(QWidget *parent = nullptr);
    ~ResourcesView() override;

    /// Appends to each resource's history (a sample older than its resource's latest is
    /// dropped), trims it to the limits, shows the latest sample per resource in the table and
    /// redraws the charts once.
    void addSamples(const QList<ResourceSample> &samples);
    /// Keeps at most spanMs of history (before a resource's latest sample) and maxPoints samples
    /// per resource. Defaults: 30 minutes, 1,800 samples (one a second).
    void setHistoryLimits(qint64 spanMs, int maxPoints);
    /// Forgets every resource and its history.
    void clear();

    /// The resource selected in the table, empty when none.
    QString selectedResource() const;
    /// Selects the resource's row (empty or unknown: clears the selection).
    void selectResource(const QString &name);
    int historySize(const QString &name) const;
    /// A database opened read-only: pause, unpause and reset disabled, tip (why) as their tooltip.
    void setReadOnly(const QString &tip);

    // For tests and the main window's layout.
    ResourcesTableModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QCustomPlot *chart(Chart chart) const { return m_charts.at(chart); }
    /// "Queue depth", "In flight", "Error rate", "Latency (ms)".
    static QString chartTitle(Chart chart);

Q_SIGNALS:
    void pauseRequested(const QString &name);
    /// "Set limits…": concurrency and rate live.
    void limitsRequested(const QString &name);
    void unpauseRequested(const QString &name);
    void resetRequested(const QString &name);
    void selectedResourceChanged(const QString &name);

protected:
    void changeEvent(QEvent *event) override;

private:
    void onSelectionChanged();
    void updateButtons();
    void updateCharts();
    void applyPalette();

    ResourcesTableModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_unpause = nullptr;
    QPushButton *m_reset = nullptr;
    QPushButton *m_limits = nullptr;
    QString m_readOnlyTip;         ///< empty unless the database is open read-only
    QList<QCustomPlot *> m_charts; ///< indexed by Chart
    QString m_selected;            ///< the charts' resource, empty for all
    QHash<QString, QList<ResourceSample>> m_history; ///< oldest first
    qint64 m_historySpanMs = 30 * 60 * 1000;
    int m_maxPoints = 1800;
};

} // namespace keepflow::ui
