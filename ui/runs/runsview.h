#pragma once

// The runs list: search, state and flow filters over a table of runs (RunsModel), a time range,
// and step filters (a step's state, id, error text and resource: one and the same step). The
// state filter shows how many runs each state has under the other filters. Selection is by rows
// and extended, so operator actions can apply to several runs at once; "Retry failed…" asks for
// a bulk retry over everything the filters select.
//
// Threading: GUI thread.

#include "core/runquery.h"

#include <QPoint>
#include <QStringList>
#include <QWidget>

#include <functional>

class QComboBox;
class QDateTimeEdit;
class QPushButton;
class QToolButton;
class QLabel;
class QLineEdit;
class QTableView;
class QTimer;

namespace keepflow::ui {

class RunsModel;

class RunsView : public QWidget {
    Q_OBJECT
public:
    explicit RunsView(QWidget *parent = nullptr);

    RunsModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QLineEdit *searchField() const { return m_search; }
    QComboBox *stateCombo() const { return m_stateCombo; }
    QComboBox *flowCombo() const { return m_flowCombo; }
    /// Any time, the last hour, 24 hours, 7 days, or Custom (the since and until fields).
    QComboBox *timeCombo() const { return m_timeCombo; }
    QDateTimeEdit *sinceEdit() const { return m_since; }
    QDateTimeEdit *untilEdit() const { return m_until; }
    /// Shows or hides the step filters.
    QToolButton *stepFiltersToggle() const { return m_stepFiltersToggle; }
    QComboBox *stepStateCombo() const { return m_stepState; }
    QLineEdit *stepIdField() const { return m_stepId; }
    QLineEdit *errorField() const { return m_error; }
    QLineEdit *resourceField() const { return m_resource; }
    QPushButton *retryFailedButton() const { return m_retryFailed; }

    /// The time "the last hour" is counted back from; the system clock by default.
    void setClock(std::function<qint64()> now);
    /// Reads the counts per state again (the state filter's entries); one query.
    void refreshStateCounts();
    /// Applies the typed step filters now instead of after the typing pause.
    void applyStepFiltersNow();

    /// Fills the flow filter ("All flows" first); keeps the chosen flow when it is still there.
    void setFlowNames(const QStringList &names);
    /// Ids of the selected runs, top to bottom.
    QStringList selectedRunIds() const;
    /// Selects the run's row and scrolls to it, when the run is loaded in the list.
    void selectRun(const QString &runId);

    /// What the list says when it has no rows (guidance); hidden while it has rows.
    QLabel *emptyNotice() const { return m_empty; }

    /// Every column, the state with its label.
    QSize sizeHint() const override;
    /// Every column, the state shown as its icon: what a small screen should give the list.
    int compactWidth() const;

Q_SIGNALS:
    /// The run to open changed: a row was selected (click, keyboard, or an assistive client
    /// selecting it through accessibility) or became current; empty when there is none.
    void runSelected(const QString &runId);
    void selectionChanged(const QStringList &runIds);
    void runContextMenuRequested(const QStringList &runIds, const QPoint &globalPos);
    /// "Retry failed…": a bulk retry over the runs the filters select (query: the filters).
    void bulkRetryRequested(const keepflow::RunQuery &query);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void buildTriageFilters();
    void applyTimeRange();
    bool hasFilters() const;
    void connectSelection();
    void showContextMenu(const QPoint &pos);
    void openRun(const QString &runId);
    void updateEmptyNotice();
    /// Sum of the column widths with the state column stateWidth wide.
    int columnsWidth(int stateWidth) const;
    void fitStateColumn();
    /// The table's frame and vertical scroll bar.
    int tableFrameWidth() const;

    /// Room either side of a cell's text.
    static constexpr int kCellPadding = 4;
    /// A header's text leaves room for the style's margins.
    static constexpr int kHeaderPadding = 8;

    RunsModel *m_model = nullptr;
    QLineEdit *m_search = nullptr;
    QComboBox *m_stateCombo = nullptr;
    QComboBox *m_flowCombo = nullptr;
    QTableView *m_table = nullptr;
    QTimer *m_searchDelay = nullptr;
    QComboBox *m_timeCombo = nullptr;
    QDateTimeEdit *m_since = nullptr;
    QDateTimeEdit *m_until = nullptr;
    QWidget *m_customRange = nullptr;
    QToolButton *m_stepFiltersToggle = nullptr;
    QWidget *m_stepFilters = nullptr;
    QComboBox *m_stepState = nullptr;
    QLineEdit *m_stepId = nullptr;
    QLineEdit *m_error = nullptr;
    QLineEdit *m_resource = nullptr;
    QPushButton *m_retryFailed = nullptr;
    QTimer *m_stepFilterDelay = nullptr;
    QTimer *m_countsDelay = nullptr;
    std::function<qint64()> m_now;
    QLabel *m_empty = nullptr;
    int m_stateLabelWidth = 0; ///< icon and the longest state label
    int m_stateIconWidth = 0;  ///< the icon alone
    QString m_openedRun;       ///< the last run announced by runSelected
    QString m_loadError;       ///< why the list's last load failed; empty when it did not
};

} // namespace keepflow::ui
