#pragma once

// The step table beside the run graph: the same steps with state, attempts, duration and last
// error. Rows follow the flow's order; updates change rows in place (the selection stays).
// The table can be sorted by a column (sort(); column -1 is the flow's order again; the State
// column puts the steps that need attention first) and filtered by text (step, kind, state or
// error containing it) and to the steps that need attention; rows are then the shown ones, and
// a state change that moves a step keeps its selection (a layout change). A root cause's row is
// bold with the graph's marker beside its name, and its state says "root cause"; a step that
// waits on one says which.

#include "stepview.h"

#include <QAbstractTableModel>

namespace keepflow::ui {

class StepTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        StateColumn,
        StepColumn,
        KindColumn,
        AttemptsColumn,
        DurationColumn,
        ErrorColumn,
        ColumnCount
    };
    enum Role { StepIdRole = Qt::UserRole + 1 };

    explicit StepTableModel(QObject *parent = nullptr);

    /// Same step ids as before: rows are updated in place; otherwise the model is reset.
    void setSteps(const QList<StepView> &steps, qint64 now);
    void setNow(qint64 now);

    /// The step shown at row; rowOfStep is -1 for a step filtered out.
    const StepView *stepAt(int row) const;
    int rowOfStep(const QString &stepId) const;
    /// Every step, in the flow's order, whatever is shown.
    const QList<StepView> &allSteps() const { return m_steps; }

    void setFilterText(const QString &text);
    const QString &filterText() const { return m_filter; }
    void setAttentionOnly(bool only);
    bool attentionOnly() const { return m_attentionOnly; }
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QString text(const StepView &step, int column) const;
    /// The rows to show (indexes into m_steps) for the filter and sort order.
    QList<int> shownRows() const;
    bool accepts(const StepView &step) const;
    /// Shows rows, as a layout change that keeps persistent indexes on their steps.
    void relayout(const QList<int> &rows);
    void indexRows();

    QList<StepView> m_steps; ///< the flow's order
    QList<int> m_rows;       ///< shown rows: indexes into m_steps
    QHash<QString, int> m_rowOf;
    qint64 m_now = 0;
    QString m_filter;
    bool m_attentionOnly = false;
    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
};

} // namespace keepflow::ui
