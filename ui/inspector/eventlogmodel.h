#pragma once

// The event log of one run: every state change and operator action (who, why), oldest first.
// New events are appended in batches from the change feed.

#include "core/records.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

namespace keepflow::ui {

class EventLogModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TimeColumn, StepColumn, EventColumn, ActorColumn, ColumnCount };

    explicit EventLogModel(QObject *parent = nullptr);

    /// Shows the events of runId (replacing what was shown).
    void setEvents(const QString &runId, const QList<EventRow> &events);
    /// Appends the events of the shown run from a feed page (others are ignored).
    void appendEvents(const QList<EventRow> &events);
    const QString &runId() const { return m_runId; }
    /// The shown event at row (folded events are not shown).
    const EventRow *eventAt(int row) const;
    /// Every event of the run, oldest first.
    const QList<EventRow> &events() const { return m_events; }

    /// "run resumed by vm:…" (a worker took the run up) is the machinery's business, not the
    /// operator's: folded away unless shown. hiddenCount() says how many are folded.
    void setShowResumes(bool show);

    /// The event the history scrubber stands on: shown in bold on a highlighted background
    /// (0: none).
    void setHighlightedEvent(qint64 eventId);
    qint64 highlightedEvent() const { return m_highlighted; }
    /// The row that shows the event with that id; -1 when it is folded or not the run's.
    int rowOfEvent(qint64 eventId) const;
    bool showsResumes() const { return m_showResumes; }
    int hiddenCount() const { return static_cast<int>(m_events.size() - m_shown.size()); }

Q_SIGNALS:
    void hiddenCountChanged(int count);

public:
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    bool shown(const EventRow &event) const;

    QString m_runId;
    QList<EventRow> m_events;
    QList<int> m_shown; ///< indexes into m_events of the rows shown
    bool m_showResumes = false;
    qint64 m_lastId = 0;
    qint64 m_highlighted = 0;
};

/// What the event log shows of its model: by default the events of the selected step (all of
/// them while no step is selected, or with allEvents), narrowed to the rows where some column
/// contains the search text (case-insensitive).
class EventLogFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit EventLogFilter(QObject *parent = nullptr);

    void setStep(const QString &stepId);
    const QString &step() const { return m_step; }
    void setAllEvents(bool all);
    bool allEvents() const { return m_all; }
    void setSearch(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_step;
    QString m_search;
    bool m_all = false;
};

} // namespace keepflow::ui
