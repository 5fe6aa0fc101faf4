#pragma once

// The change feed: the events table read in commit order (Store::eventsAfter), so that a monitor
// sees what any process committed to a database (its own engine, keepflowctl actions, a worker
// elsewhere) the same way. The desktop UI is built on it.
//
// Threading: the thread that owns the store. Failure: a read that fails changes nothing and
// is reported; the next poll starts from the same place.

#include "core/records.h"
#include "core/status.h"

#include <QObject>
#include <QStringList>

class QTimer;

namespace keepflow {

class Store;

class ChangeFeed : public QObject {
    Q_OBJECT
public:
    explicit ChangeFeed(Store &store, int pageSize = 500, QObject *parent = nullptr);

    /// Skips the history: only what is committed from now on is announced.
    Status startFromNow();
    /// Goes on from position() and lastSeenId() of a feed on an earlier connection to the same
    /// database: what was committed since it last read is announced, nothing twice.
    void continueFrom(const FeedPosition &position, qint64 lastSeenId);
    /// Announces everything committed since the last poll: eventsArrived per page of events,
    /// then once runsChanged and resourcesChanged with each id once (coalesced). Returns how many
    /// events it read.
    Result<int> poll();
    /// Polls every intervalMs from the event loop; failures are reported through failed().
    void follow(int intervalMs = 250);
    /// Stops following (poll() still reads on demand).
    void stop();

    /// The highest event id announced so far.
    qint64 lastSeenId() const { return m_lastId; }
    /// Where the next poll reads from.
    const FeedPosition &position() const { return m_position; }

Q_SIGNALS:
    void eventsArrived(const QList<keepflow::EventRow> &events);
    void runsChanged(const QStringList &runIds);
    void resourcesChanged(const QStringList &names);
    void failed(const QString &message);

private:
    Store &m_store;
    int m_pageSize;
    qint64 m_lastId = 0;
    FeedPosition m_position;
    QTimer *m_timer = nullptr;
};

} // namespace keepflow
