#pragma once

// The step table beside the run graph: the same steps with state, attempts, duration and last
// error. Rows follow the flow's order; updates change rows in place (the selection stays).

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

    const StepView *stepAt(int row) const;
    int rowOfStep(const QString &stepId) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QString text(const StepView &step, int column) const;

    QList<StepView> m_steps;
    QHash<QString, int> m_rowOf;
    qint64 m_now = 0;
};

} // namespace keepflow::ui
