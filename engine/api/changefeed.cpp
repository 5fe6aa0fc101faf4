#include "api/changefeed.h"

#include "store/store.h"

#include <QTimer>

namespace keepflow {

ChangeFeed::ChangeFeed(Store &store, int pageSize, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_pageSize(std::max(1, pageSize)) {}

Status ChangeFeed::startFromNow() {
    auto head = m_store.feedHead();
    if (!head)
        return head.status();
    m_position = *head;
    auto last = m_store.lastEventId();
    if (!last)
        return last.status();
    m_lastId = *last;
    return Status::ok();
}

void ChangeFeed::continueFrom(const FeedPosition &position, qint64 lastSeenId) {
    m_position = position;
    m_lastId = lastSeenId;
}

Result<int> ChangeFeed::poll() {
    QStringList runs;
    QStringList resources;
    int read = 0;
    while (true) {
        auto fetched = m_store.eventsAfter(m_position, m_pageSize);
        if (!fetched)
            return fetched.status();
        const QList<EventRow> *page = &fetched->events;
        if (page->isEmpty())
            break;
        m_position = fetched->next;
        for (const EventRow &event : *page) {
            if (!event.runId.isEmpty() && !runs.contains(event.runId))
                runs << event.runId;
            const QString resource = event.detail.value(QLatin1String("resource")).toString();
            if (isResourceEvent(event.type) && !resources.contains(resource))
                resources << resource;
        }
        m_lastId = std::max(m_lastId, page->last().id);
        read += static_cast<int>(page->size());
        Q_EMIT eventsArrived(*page);
        if (page->size() < m_pageSize)
            break;
    }
    if (!runs.isEmpty())
        Q_EMIT runsChanged(runs);
    if (!resources.isEmpty())
        Q_EMIT resourcesChanged(resources);
    return read;
}

void ChangeFeed::follow(int intervalMs) {
    if (!m_timer) {
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, [this] {
            if (auto read = poll(); !read)
                Q_EMIT failed(read.error());
        });
        // PostgreSQL: a commit elsewhere is read at once; the timer stays as the safety net.
        m_store.listen(Store::Channel::Events, this, [this] {
            if (!m_timer->isActive())
                return; // stopped
            if (auto read = poll(); !read)
                Q_EMIT failed(read.error());
        });
    }
    m_timer->start(intervalMs);
}

void ChangeFeed::stop() {
    if (m_timer)
        m_timer->stop();
}

} // namespace keepflow
