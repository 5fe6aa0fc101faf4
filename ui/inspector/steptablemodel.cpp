#include "steptablemodel.h"

#include "countdown.h"
#include "statestyle.h"
#include "stepviews.h"

namespace keepflow::ui {

StepTableModel::StepTableModel(QObject *parent)
    : QAbstractTableModel(parent) {}

void StepTableModel::setSteps(const QList<StepView> &steps, qint64 now) {
    m_now = now;
    bool sameSteps = steps.size() == m_steps.size();
    for (qsizetype i = 0; sameSteps && i < steps.size(); ++i)
        sameSteps = steps[i].stepId == m_steps[i].stepId;
    if (!sameSteps) {
        beginResetModel();
        m_steps = steps;
        m_rowOf.clear();
        for (qsizetype i = 0; i < m_steps.size(); ++i)
            m_rowOf.insert(m_steps[i].stepId, static_cast<int>(i));
        endResetModel();
        return;
    }
    // Only the rows between the first and the last that changed are repainted.
    qsizetype first = -1;
    qsizetype last = -1;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        if (steps[i] == m_steps[i])
            continue;
        if (first < 0)
            first = i;
        last = i;
    }
    m_steps = steps;
    if (first >= 0)
        Q_EMIT dataChanged(index(static_cast<int>(first), 0),
                           index(static_cast<int>(last), ColumnCount - 1));
}

void StepTableModel::setNow(qint64 now) {
    m_now = now;
    if (m_steps.isEmpty())
        return;
    // Running steps' durations grow; a retry's countdown ("Retrying (in 5 s)") ticks down.
    Q_EMIT dataChanged(index(0, DurationColumn), index(rowCount() - 1, DurationColumn));
    for (qsizetype i = 0; i < m_steps.size(); ++i) {
        if (m_steps[i].state == StepState::Retrying && m_steps[i].nextAttemptAt > 0)
            Q_EMIT dataChanged(index(static_cast<int>(i), StateColumn),
                               index(static_cast<int>(i), StateColumn));
    }
}

const StepView *StepTableModel::stepAt(int row) const {
    return row >= 0 && row < m_steps.size() ? &m_steps[row] : nullptr;
}

int StepTableModel::rowOfStep(const QString &stepId) const {
    return m_rowOf.value(stepId, -1);
}

int StepTableModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_steps.size());
}

int StepTableModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString StepTableModel::text(const StepView &step, int column) const {
    switch (column) {
    case StateColumn: {
        QString label = stateLabel(step.state);
        if (step.state == StepState::Retrying && step.nextAttemptAt > 0)
            label += QStringLiteral(" (in %1)").arg(formatCountdown(step.nextAttemptAt - m_now));
        return label;
    }
    case StepColumn:
        return step.stepId;
    case KindColumn:
        return step.kind;
    case AttemptsColumn:
        if (step.itemsTotal > 0) // a foreach step: its items tell more than attempt counts
            return step.itemsFailed > 0 ? QStringLiteral("%1/%2 items, %3 failed")
                                              .arg(step.itemsSucceeded)
                                              .arg(step.itemsTotal)
                                              .arg(step.itemsFailed)
                                        : QStringLiteral("%1/%2 items")
                                              .arg(step.itemsSucceeded)
                                              .arg(step.itemsTotal);
        return step.attempts == 0
                   ? QStringLiteral("–")
                   : QStringLiteral("%1/%2").arg(step.attempts).arg(step.maxAttempts);
    case DurationColumn:
        if (step.startedAt == 0)
            return {};
        return formatSpan((step.endedAt > 0 ? step.endedAt : m_now) - step.startedAt);
    case ErrorColumn:
        return step.lastError;
    }
    return {};
}

QVariant StepTableModel::data(const QModelIndex &index, int role) const {
    const StepView *step = stepAt(index.row());
    if (!step)
        return {};
    switch (role) {
    case Qt::DisplayRole:
    case Qt::AccessibleTextRole:
        return text(*step, index.column());
    case Qt::ToolTipRole:
        return index.column() == ErrorColumn ? step->lastError : text(*step, index.column());
    case Qt::DecorationRole:
        return index.column() == StateColumn ? QVariant(stateIcon(step->state)) : QVariant();
    case StepIdRole:
        return step->stepId;
    default:
        return {};
    }
}

QVariant StepTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const names[] = {"State",    "Step",     "Kind",
                                        "Attempts", "Duration", "Last error"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QVariant();
}

} // namespace keepflow::ui
