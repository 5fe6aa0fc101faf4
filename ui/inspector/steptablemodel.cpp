#include "steptablemodel.h"

#include "countdown.h"
#include "statestyle.h"
#include "stepviews.h"

#include <QFont>

#include <algorithm>

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
        m_rows = shownRows();
        indexRows();
        endResetModel();
        return;
    }
    QList<bool> changed(steps.size(), false);
    for (qsizetype i = 0; i < steps.size(); ++i)
        changed[i] = !(steps[i] == m_steps[i]);
    m_steps = steps;
    const QList<int> rows = shownRows();
    if (rows != m_rows)
        relayout(rows); // a state change moved or hid a step, or showed one
    // Only the rows between the first and the last that changed are repainted.
    int first = -1;
    int last = -1;
    for (int row = 0; row < m_rows.size(); ++row) {
        if (!changed[m_rows[row]])
            continue;
        if (first < 0)
            first = row;
        last = row;
    }
    if (first >= 0)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

void StepTableModel::setNow(qint64 now) {
    m_now = now;
    if (m_rows.isEmpty())
        return;
    // Running steps' durations grow; a retry's countdown ("Retrying (in 5 s)") ticks down.
    Q_EMIT dataChanged(index(0, DurationColumn), index(rowCount() - 1, DurationColumn));
    for (int row = 0; row < m_rows.size(); ++row) {
        const StepView &step = m_steps[m_rows[row]];
        if (step.state == StepState::Retrying && step.nextAttemptAt > 0)
            Q_EMIT dataChanged(index(row, StateColumn), index(row, StateColumn));
    }
}

void StepTableModel::setFilterText(const QString &text) {
    if (text == m_filter)
        return;
    m_filter = text;
    relayout(shownRows());
}

void StepTableModel::setAttentionOnly(bool only) {
    if (only == m_attentionOnly)
        return;
    m_attentionOnly = only;
    relayout(shownRows());
}

void StepTableModel::sort(int column, Qt::SortOrder order) {
    m_sortColumn = column >= 0 && column < ColumnCount ? column : -1;
    m_sortOrder = order;
    relayout(shownRows());
}

bool StepTableModel::accepts(const StepView &step) const {
    if (m_attentionOnly && !needsAttention(step))
        return false;
    if (m_filter.isEmpty())
        return true;
    for (const QString &text : {step.stepId, step.kind, stateLabel(step.state), step.lastError}) {
        if (text.contains(m_filter, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

QList<int> StepTableModel::shownRows() const {
    QList<int> rows;
    rows.reserve(m_steps.size());
    for (int i = 0; i < m_steps.size(); ++i) {
        if (accepts(m_steps[i]))
            rows.append(i);
    }
    if (m_sortColumn < 0)
        return rows;
    // Keys that sort as people expect: numbers as numbers, states with problems first.
    const auto key = [this](const StepView &step) -> QVariant {
        switch (m_sortColumn) {
        case StateColumn:
            return (needsAttention(step) ? 0 : 100) + int(step.state);
        case AttemptsColumn:
            return step.itemsTotal > 0 ? step.itemsFailed : step.attempts;
        case DurationColumn:
            return step.startedAt == 0 ? qint64(-1)
                                       : (step.endedAt > 0 ? step.endedAt : m_now) - step.startedAt;
        default:
            return text(step, m_sortColumn).toLower();
        }
    };
    QList<QVariant> keys(m_steps.size());
    for (int i : std::as_const(rows))
        keys[i] = key(m_steps[i]);
    const bool ascending = m_sortOrder == Qt::AscendingOrder;
    std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
        const QPartialOrdering order = QVariant::compare(keys[a], keys[b]);
        return ascending ? order == QPartialOrdering::Less : order == QPartialOrdering::Greater;
    });
    return rows;
}

void StepTableModel::relayout(const QList<int> &rows) {
    if (rows == m_rows)
        return;
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    QList<QString> ids;
    ids.reserve(before.size());
    for (const QModelIndex &index : before)
        ids.append(stepAt(index.row()) ? stepAt(index.row())->stepId : QString());
    m_rows = rows;
    indexRows();
    QModelIndexList after;
    after.reserve(before.size());
    for (qsizetype i = 0; i < before.size(); ++i) {
        const int row = rowOfStep(ids[i]);
        after.append(row >= 0 ? index(row, before[i].column()) : QModelIndex());
    }
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void StepTableModel::indexRows() {
    m_rowOf.clear();
    for (int row = 0; row < m_rows.size(); ++row)
        m_rowOf.insert(m_steps[m_rows[row]].stepId, row);
}

const StepView *StepTableModel::stepAt(int row) const {
    return row >= 0 && row < m_rows.size() ? &m_steps[m_rows[row]] : nullptr;
}

int StepTableModel::rowOfStep(const QString &stepId) const {
    return m_rowOf.value(stepId, -1);
}

int StepTableModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
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
        if (const QString held = childHoldUpBadge(step); !held.isEmpty())
            label += QStringLiteral(" (%1)").arg(held);
        if (step.rootCause)
            label += step.waitingOnIt > 0
                         ? QStringLiteral(" (root cause, %1 waiting)").arg(step.waitingOnIt)
                         : QStringLiteral(" (root cause)");
        else if (!step.blockedBy.isEmpty())
            label +=
                QStringLiteral(" (waits on %1)").arg(step.blockedBy.join(QStringLiteral(", ")));
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
        if (const QString slow = slowBadge(step); !slow.isEmpty())
            return QStringLiteral("%1 (%2)").arg(
                formatSpan((step.endedAt > 0 ? step.endedAt : m_now) - step.startedAt), slow);
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
        if (index.column() == StepColumn && step->rootCause)
            return rootCauseIcon(); // the graph's marker, beside the name
        return index.column() == StateColumn ? QVariant(stateIcon(step->state)) : QVariant();
    case Qt::FontRole: {
        if (!step->rootCause)
            return {};
        QFont bold;
        bold.setBold(true);
        return bold;
    }
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
