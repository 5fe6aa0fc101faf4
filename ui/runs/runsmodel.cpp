#include "runsmodel.h"

#include "statestyle.h"

#include <QDateTime>
#include <QSet>

#include <algorithm>
#include <optional>

namespace keepflow::ui {

namespace {

/// The list's order: newest first, by creation time then id (as Store::runSummaries sorts).
bool isNewer(const RunSummary &a, qint64 createdAt, const QString &id) {
    return a.createdAt > createdAt || (a.createdAt == createdAt && a.id > id);
}

QString formatDuration(qint64 ms) {
    const qint64 seconds = std::max<qint64>(ms, 0) / 1000;
    if (seconds < 60)
        return QStringLiteral("%1s").arg(seconds);
    const qint64 minutes = seconds / 60;
    if (minutes < 60)
        return QStringLiteral("%1m %2s").arg(minutes).arg(seconds % 60, 2, 10, QLatin1Char('0'));
    const qint64 hours = minutes / 60;
    if (hours < 24)
        return QStringLiteral("%1h %2m").arg(hours).arg(minutes % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1d %2h").arg(hours / 24).arg(hours % 24);
}

/// When a run started. Short: the time alone for a run started on the day of now, else the day
/// (with the year when it is not this year's); the whole time is in the row's tooltip.
QString startedText(qint64 startedAt, qint64 now, bool shortForm) {
    const QDateTime started = QDateTime::fromMSecsSinceEpoch(startedAt);
    if (!shortForm)
        return started.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    const QDate today = QDateTime::fromMSecsSinceEpoch(now).date();
    if (started.date() == today)
        return started.toString(QStringLiteral("HH:mm:ss"));
    if (started.date().year() == today.year())
        return started.toString(QStringLiteral("MMM d"));
    return started.toString(QStringLiteral("yyyy-MM-dd"));
}

bool sameSummary(const RunSummary &a, const RunSummary &b) {
    return a.id == b.id && a.state == b.state && a.endedAt == b.endedAt &&
           a.stepsDone == b.stepsDone && a.stepsTotal == b.stepsTotal;
}

} // namespace

RunsModel::RunsModel(QObject *parent)
    : QAbstractTableModel(parent) {}

void RunsModel::setSource(RunsSource source) {
    m_source = std::move(source);
    m_queries = 0;
    reload();
}

void RunsModel::reload() {
    beginResetModel();
    m_chunks.clear();
    m_rowOfRun.clear();
    m_count = 0;
    if (m_source.isValid()) {
        ++m_queries;
        auto count = m_source.count(m_query);
        if (count)
            m_count = *count;
        else
            report(count.error());
    }
    endResetModel();
}

void RunsModel::setStateFilter(const QList<RunState> &states) {
    if (states == m_query.states)
        return;
    m_query.states = states;
    reload();
    Q_EMIT filtersChanged();
}

void RunsModel::setFlowFilter(const QString &flowName) {
    if (flowName == m_query.flowName)
        return;
    m_query.flowName = flowName;
    reload();
    Q_EMIT filtersChanged();
}

void RunsModel::setSearch(const QString &text) {
    if (text == m_query.search)
        return;
    m_query.search = text;
    reload();
    Q_EMIT filtersChanged();
}

void RunsModel::setStepCondition(const StepCondition &condition) {
    const StepCondition &was = m_query.step;
    if (condition.stepId == was.stepId && condition.state == was.state &&
        condition.error == was.error && condition.resource == was.resource)
        return;
    m_query.step = condition;
    reload();
    Q_EMIT filtersChanged();
}

void RunsModel::setTimeWindow(qint64 since, qint64 until) {
    if (since == m_query.since && until == m_query.until)
        return;
    m_query.since = since;
    m_query.until = until;
    reload();
    Q_EMIT filtersChanged();
}

RunQuery RunsModel::query() const {
    RunQuery filters = m_query;
    filters.offset = 0;
    filters.limit = 0;
    return filters;
}

void RunsModel::setNow(qint64 now) {
    m_now = now;
    // Durations run on, and "started" loses its date at midnight.
    // Only the visible rows are asked again, so this is cheap however long the list is.
    if (m_count > 0)
        Q_EMIT dataChanged(index(0, StartedColumn), index(m_count - 1, DurationColumn),
                           {Qt::DisplayRole, Qt::ToolTipRole, Qt::AccessibleTextRole});
}

void RunsModel::setCompactStates(bool compact) {
    if (compact == m_compactStates)
        return;
    m_compactStates = compact;
    if (m_count > 0)
        Q_EMIT dataChanged(index(0, StateColumn), index(m_count - 1, StateColumn),
                           {Qt::DisplayRole});
}

qint64 RunsModel::now() const {
    return m_now > 0 ? m_now : QDateTime::currentMSecsSinceEpoch();
}

void RunsModel::report(const QString &message) const {
    // data() may fail while the view paints: tell listeners afterwards, not from inside paint.
    auto *self = const_cast<RunsModel *>(this);
    QMetaObject::invokeMethod(
        self, [self, message] { Q_EMIT self->loadFailed(message); }, Qt::QueuedConnection);
}

Result<QList<RunSummary>> RunsModel::fetch(int offset, int limit) const {
    RunQuery query = m_query;
    query.offset = offset;
    query.limit = limit;
    ++m_queries;
    auto rows = m_source.page(query);
    if (!rows)
        report(rows.error());
    return rows;
}

QMap<int, RunsModel::Chunk>::iterator RunsModel::chunkFor(int row) const {
    auto it = m_chunks.upperBound(row);
    if (it == m_chunks.begin())
        return m_chunks.end();
    --it;
    return row < it.key() + it->rows.size() ? it : m_chunks.end();
}

void RunsModel::fetchAround(int row) const {
    if (!m_source.isValid())
        return;
    // The page holding row, clipped to the gap between its cached neighbours so chunks never
    // overlap (after insertions at the top, cached chunks no longer sit on page boundaries).
    int first = row - row % kPageSize;
    int end = std::min(first + kPageSize, m_count);
    auto next = m_chunks.upperBound(row);
    if (next != m_chunks.end())
        end = std::min(end, next.key());
    if (next != m_chunks.begin()) {
        auto previous = std::prev(next);
        first = std::max(first, previous.key() + static_cast<int>(previous->rows.size()));
    }
    auto rows = fetch(first, end - first);
    if (!rows || rows->isEmpty())
        return;
    m_chunks.insert(first, Chunk{std::move(*rows), ++m_useClock});
    evict();
    rebuildIndex();
}

void RunsModel::evict() const {
    while (m_chunks.size() > kMaxCachedPages) {
        auto oldest =
            std::min_element(m_chunks.begin(), m_chunks.end(),
                             [](const Chunk &a, const Chunk &b) { return a.lastUse < b.lastUse; });
        m_chunks.erase(oldest);
    }
}

void RunsModel::rebuildIndex() const {
    m_rowOfRun.clear();
    for (auto it = m_chunks.cbegin(); it != m_chunks.cend(); ++it)
        for (qsizetype i = 0; i < it->rows.size(); ++i)
            m_rowOfRun.insert(it->rows.at(i).id, it.key() + static_cast<int>(i));
}

void RunsModel::shiftChunks(int from, int delta) {
    QMap<int, Chunk> shifted;
    for (auto it = m_chunks.begin(); it != m_chunks.end(); ++it)
        shifted.insert(it.key() >= from ? it.key() + delta : it.key(), std::move(*it));
    m_chunks = std::move(shifted);
}

const RunSummary *RunsModel::summaryAt(int row) const {
    if (row < 0 || row >= m_count)
        return nullptr;
    auto it = chunkFor(row);
    if (it == m_chunks.end()) {
        fetchAround(row);
        it = chunkFor(row);
        if (it == m_chunks.end())
            return nullptr;
    }
    it->lastUse = ++m_useClock;
    return &it->rows.at(row - it.key());
}

QString RunsModel::runIdAt(int row) const {
    const RunSummary *summary = summaryAt(row);
    return summary ? summary->id : QString();
}

int RunsModel::rowOfRun(const QString &runId) const {
    // Nothing shown yet (no view asked for data): the top page is where a caller looks first.
    if (m_chunks.isEmpty() && m_count > 0)
        fetchAround(0);
    return m_rowOfRun.value(runId, -1);
}

int RunsModel::loadedRowCount() const {
    int rows = 0;
    for (const Chunk &chunk : m_chunks)
        rows += static_cast<int>(chunk.rows.size());
    return rows;
}

void RunsModel::dropRow(int row) {
    beginRemoveRows({}, row, row);
    auto it = chunkFor(row);
    if (it != m_chunks.end()) {
        it->rows.removeAt(row - it.key());
        if (it->rows.isEmpty())
            m_chunks.erase(it);
    }
    shiftChunks(row + 1, -1);
    --m_count;
    endRemoveRows();
    rebuildIndex();
}

void RunsModel::refreshRuns(const QStringList &runIds) {
    if (!m_source.isValid())
        return;
    if (m_count == 0) {
        // Nothing to keep: every run is new.
        ++m_queries;
        auto count = m_source.count(m_query);
        if (count && *count > 0) {
            beginInsertRows({}, 0, *count - 1);
            m_count = *count;
            endInsertRows();
        }
        return;
    }

    // New runs are the newest: read the top until the run that was on top before.
    const RunSummary *top = summaryAt(0);
    if (!top)
        return;
    const qint64 topCreatedAt = top->createdAt;
    const QString topId = top->id;
    QList<RunSummary> added;
    for (int offset = 0;; offset += kPageSize) {
        auto rows = fetch(offset, kPageSize);
        if (!rows)
            return;
        bool reachedOld = false;
        for (const RunSummary &row : std::as_const(*rows)) {
            if (!isNewer(row, topCreatedAt, topId)) {
                reachedOld = true;
                break;
            }
            added.append(row);
        }
        if (reachedOld || rows->size() < kPageSize)
            break;
    }
    if (!added.isEmpty()) {
        const int k = static_cast<int>(added.size());
        beginInsertRows({}, 0, k - 1);
        shiftChunks(0, k);
        m_chunks.insert(0, Chunk{added, ++m_useClock});
        m_count += k;
        endInsertRows();
        evict();
        rebuildIndex();
    }

    // Changed runs that are loaded: one query per chunk, widened by the number of changed runs
    // so that runs leaving the list above do not push a changed run out of the window.
    QSet<QString> addedIds;
    for (const RunSummary &row : std::as_const(added))
        addedIds.insert(row.id);
    const QSet<QString> changed(runIds.cbegin(), runIds.cend());
    QList<int> chunkStarts;
    for (const QString &id : runIds) {
        const int row = rowOfRun(id);
        if (row < 0 || addedIds.contains(id))
            continue;
        auto it = chunkFor(row);
        if (it != m_chunks.end() && !chunkStarts.contains(it.key()))
            chunkStarts.append(it.key());
    }
    // From the bottom up, so that removing a row never moves a chunk still to be refreshed.
    std::sort(chunkStarts.begin(), chunkStarts.end(), std::greater<>());
    const int slack = static_cast<int>(runIds.size());
    for (int start : std::as_const(chunkStarts)) {
        auto it = m_chunks.find(start);
        if (it == m_chunks.end())
            continue;
        const int windowStart = std::max(0, start - slack);
        auto fresh = fetch(windowStart, static_cast<int>(it->rows.size()) + 2 * slack);
        if (!fresh)
            return;
        QHash<QString, const RunSummary *> byId;
        for (const RunSummary &row : std::as_const(*fresh))
            byId.insert(row.id, &row);
        QList<int> gone;
        QList<int> updated;
        for (qsizetype i = 0; i < it->rows.size(); ++i) {
            RunSummary &cached = it->rows[i];
            if (!changed.contains(cached.id))
                continue;
            const int row = start + static_cast<int>(i);
            const RunSummary *now = byId.value(cached.id);
            if (!now) {
                gone.append(row); // no longer matches the filters
            } else if (!sameSummary(cached, *now)) {
                cached = *now;
                updated.append(row);
            }
        }
        // Announced after the chunk is no longer touched: a view may read rows right away.
        for (int row : std::as_const(updated))
            Q_EMIT dataChanged(index(row, 0), index(row, kColumnCount - 1));
        std::sort(gone.begin(), gone.end(), std::greater<>());
        for (int row : std::as_const(gone))
            dropRow(row);
    }

    // A run that entered the filters somewhere in the middle changes the count without a place
    // the feed told us about.
    ++m_queries;
    auto count = m_source.count(m_query);
    if (count && *count != m_count)
        resync(*count, static_cast<int>(runIds.size()));
}

void RunsModel::resync(int count, int moved) {
    const int oldCount = m_count;
    if (count > m_count) {
        beginInsertRows({}, m_count, count - 1);
        m_count = count;
        endInsertRows();
    } else if (count < m_count) {
        beginRemoveRows({}, count, m_count - 1);
        m_count = count;
        endRemoveRows();
    }
    Q_EMIT layoutAboutToBeChanged();
    // Keep the selection and current row on their runs: each has moved by at most the number
    // of runs that entered or left, so a small window around its old row finds it again.
    const QModelIndexList before = persistentIndexList();
    QHash<int, QString> idOfRow;
    for (const QModelIndex &index : before) {
        const auto it = chunkFor(index.row());
        if (it != m_chunks.end())
            idOfRow.insert(index.row(), it->rows.at(index.row() - it.key()).id);
    }
    m_chunks.clear();
    m_rowOfRun.clear();
    const int reach = std::abs(count - oldCount) + moved + 1;
    QHash<int, int> newRow;
    for (auto it = idOfRow.cbegin(); it != idOfRow.cend(); ++it) {
        const int windowStart = std::max(0, it.key() - reach);
        auto rows = fetch(windowStart, 2 * reach + 1);
        int found = -1;
        if (rows)
            for (qsizetype i = 0; i < rows->size(); ++i)
                if (rows->at(i).id == it.value())
                    found = windowStart + static_cast<int>(i);
        newRow.insert(it.key(), found);
    }
    QModelIndexList after;
    for (const QModelIndex &index : before) {
        const int row = newRow.value(index.row(), -1);
        after.append(row >= 0 && row < m_count ? this->index(row, index.column()) : QModelIndex());
    }
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged();
}

int RunsModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : m_count;
}

int RunsModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : kColumnCount;
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case StateColumn:
        return tr("State");
    case FlowColumn:
        return tr("Flow");
    case RunColumn:
        return tr("Run");
    case StartedColumn:
        return tr("Started");
    case DurationColumn:
        return tr("Duration");
    case StepsColumn:
        return tr("Steps");
    default:
        return {};
    }
}

QVariant RunsModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.column() >= kColumnCount)
        return {};
    const RunSummary *run = summaryAt(index.row());
    if (!run)
        return {};
    if (role == RunIdRole)
        return run->id;
    const RunState state = run->state;
    // The compact forms are for the eye; tooltips and assistive clients get the whole text.
    auto text = [&](int column, bool compactTime = false) -> QString {
        switch (column) {
        case StateColumn:
            return stateLabel(run->state);
        case FlowColumn:
            return run->flowName;
        case RunColumn:
            return run->id;
        case StartedColumn:
            return startedText(run->createdAt, now(), compactTime);
        case DurationColumn:
            if (run->endedAt > 0)
                return formatDuration(run->endedAt - run->createdAt);
            // Live for unfinished runs, measured to the injected now.
            return !isFinal(state) ? formatDuration(now() - run->createdAt) : QString();
        case StepsColumn:
            return QStringLiteral("%1/%2").arg(run->stepsDone).arg(run->stepsTotal);
        default:
            return {};
        }
    };
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == StateColumn && m_compactStates)
            return {};
        return text(index.column(), true);
    case Qt::DecorationRole:
        // The icon's glyph and the label both say the state: never color alone.
        if (index.column() == StateColumn)
            return stateIcon(state);
        return {};
    case Qt::ToolTipRole:
        return tr("Run %1 of %2: %3, %4 of %5 steps done; started %6")
            .arg(run->id, run->flowName, stateLabel(run->state))
            .arg(run->stepsDone)
            .arg(run->stepsTotal)
            .arg(startedText(run->createdAt, now(), false));
    case Qt::AccessibleTextRole:
        if (index.column() == StepsColumn)
            return tr("Steps: %1 of %2 done").arg(run->stepsDone).arg(run->stepsTotal);
        return QStringLiteral("%1: %2").arg(headerData(index.column(), Qt::Horizontal).toString(),
                                            text(index.column()));
    default:
        return {};
    }
}

} // namespace keepflow::ui
