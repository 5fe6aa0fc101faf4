#include "eventlogmodel.h"

#include <QColor>
#include <QFont>
#include <QGuiApplication>
#include <QPalette>

#include "api/reports.h"

#include <QDateTime>

namespace keepflow::ui {

EventLogModel::EventLogModel(QObject *parent)
    : QAbstractTableModel(parent) {}

bool EventLogModel::shown(const EventRow &event) const {
    return m_showResumes || event.type != EventType::RunResumed;
}

void EventLogModel::setEvents(const QString &runId, const QList<EventRow> &events) {
    beginResetModel();
    m_runId = runId;
    m_events = events;
    m_shown.clear();
    for (qsizetype i = 0; i < m_events.size(); ++i) {
        if (shown(m_events[i]))
            m_shown.append(static_cast<int>(i));
    }
    m_lastId = events.isEmpty() ? 0 : events.last().id;
    endResetModel();
    Q_EMIT hiddenCountChanged(hiddenCount());
}

void EventLogModel::setShowResumes(bool show) {
    if (show == m_showResumes)
        return;
    m_showResumes = show;
    setEvents(m_runId, QList<EventRow>(m_events));
}

void EventLogModel::appendEvents(const QList<EventRow> &events) {
    QList<EventRow> mine;
    for (const EventRow &event : events) {
        if (event.runId == m_runId && event.id > m_lastId)
            mine.append(event);
    }
    if (mine.isEmpty())
        return;
    m_lastId = mine.last().id;
    QList<int> added;
    for (const EventRow &event : std::as_const(mine)) {
        if (shown(event))
            added.append(static_cast<int>(m_events.size()));
        m_events.append(event);
    }
    if (!added.isEmpty()) {
        const int first = static_cast<int>(m_shown.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        m_shown += added;
        endInsertRows();
    }
    if (added.size() != mine.size())
        Q_EMIT hiddenCountChanged(hiddenCount());
}

const EventRow *EventLogModel::eventAt(int row) const {
    return row >= 0 && row < m_shown.size() ? &m_events[m_shown[row]] : nullptr;
}

int EventLogModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_shown.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

void EventLogModel::setHighlightedEvent(qint64 eventId) {
    if (eventId == m_highlighted)
        return;
    const int before = rowOfEvent(m_highlighted);
    m_highlighted = eventId;
    for (const int row : {before, rowOfEvent(eventId)}) {
        if (row >= 0)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1),
                               {Qt::FontRole, Qt::BackgroundRole});
    }
}

int EventLogModel::rowOfEvent(qint64 eventId) const {
    if (eventId == 0)
        return -1;
    for (int row = static_cast<int>(m_shown.size()) - 1; row >= 0; --row) {
        if (m_events[m_shown[row]].id == eventId)
            return row;
    }
    return -1;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const {
    const EventRow *event = eventAt(index.row());
    if (event && m_highlighted != 0 && event->id == m_highlighted) {
        if (role == Qt::FontRole) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        if (role == Qt::BackgroundRole) {
            QColor marked = QGuiApplication::palette().color(QPalette::Highlight);
            marked.setAlpha(70);
            return marked;
        }
    }
    if (!event ||
        (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::AccessibleTextRole))
        return {};
    switch (index.column()) {
    case TimeColumn:
        return role == Qt::ToolTipRole
                   ? QDateTime::fromMSecsSinceEpoch(event->at).toString(Qt::ISODateWithMs)
                   : QDateTime::fromMSecsSinceEpoch(event->at).toString(
                         QStringLiteral("HH:mm:ss.zzz"));
    case StepColumn:
        return event->stepId;
    case EventColumn: {
        QString text = eventSummary(*event);
        const QString reason = event->detail.value(QLatin1String("reason")).toString();
        if (!reason.isEmpty() && !text.contains(reason))
            text += QStringLiteral(" — reason: ") + reason;
        return text;
    }
    case ActorColumn:
        return event->actor;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const names[] = {"Time", "Step", "Event", "Who"};
    return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QVariant();
}

EventLogFilter::EventLogFilter(QObject *parent)
    : QSortFilterProxyModel(parent) {}

void EventLogFilter::setStep(const QString &stepId) {
    if (stepId == m_step)
        return;
    m_step = stepId;
    if (!m_all)
        invalidateRowsFilter();
}

void EventLogFilter::setAllEvents(bool all) {
    if (all == m_all)
        return;
    m_all = all;
    invalidateRowsFilter();
}

void EventLogFilter::setSearch(const QString &text) {
    if (text == m_search)
        return;
    m_search = text;
    invalidateRowsFilter();
}

bool EventLogFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const {
    const auto *log = qobject_cast<const EventLogModel *>(sourceModel());
    const EventRow *event = log ? log->eventAt(sourceRow) : nullptr;
    if (!event)
        return false;
    if (!m_all && !m_step.isEmpty() && event->stepId != m_step)
        return false;
    if (m_search.isEmpty())
        return true;
    for (int column = 0; column < EventLogModel::ColumnCount; ++column) {
        const QModelIndex index = log->index(sourceRow, column, sourceParent);
        if (log->data(index).toString().contains(m_search, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace keepflow::ui
