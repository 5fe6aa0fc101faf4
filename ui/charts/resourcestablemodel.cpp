#include "resourcestablemodel.h"

#include "statestyle.h"

#include <QIcon>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

namespace {

// The breaker's icon borrows the step states' glyphs, so the table reads like the graph:
// closed calls go through (succeeded), open blocks them (failed), half-open tries again.
QIcon breakerIcon(const QString &breakerState) {
    if (breakerState == QLatin1String("open"))
        return stateIcon(StepState::Failed);
    if (breakerState == QLatin1String("half_open"))
        return stateIcon(StepState::Retrying);
    return stateIcon(StepState::Succeeded);
}

QString percent(double rate) {
    return QStringLiteral("%1 %").arg(rate * 100, 0, 'f', 0);
}

} // namespace

ResourcesTableModel::ResourcesTableModel(QObject *parent)
    : QAbstractTableModel(parent) {}

int ResourcesTableModel::rowCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ResourcesTableModel::columnCount(const QModelIndex &parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ResourcesTableModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const ResourceSample &sample = m_rows.at(index.row());
    const bool hasLatency = !std::isnan(sample.latencyMs);
    switch (role) {
    case Qt::DisplayRole:
    case Qt::AccessibleTextRole:
        switch (index.column()) {
        case Name:
            return sample.name;
        case Breaker:
            return breakerLabel(sample.breakerState);
        case Paused:
            return sample.paused ? tr("Yes") : tr("No");
        case Queued:
            return sample.queued;
        case InFlight:
            return sample.inFlight;
        case ErrorRate:
            return percent(sample.errorRate);
        case Latency:
            // No call finished in the last interval: say so rather than show 0 ms.
            return hasLatency ? QString::number(qRound64(sample.latencyMs)) : tr("–");
        }
        break;
    case Qt::DecorationRole:
        if (index.column() == Breaker)
            return breakerIcon(sample.breakerState);
        if (index.column() == Paused && sample.paused)
            return stateIcon(StepState::Paused);
        break;
    case Qt::TextAlignmentRole:
        if (index.column() >= Queued)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Qt::ToolTipRole:
        if (index.column() == Breaker && sample.breakerState != QLatin1String("closed"))
            return sample.breakerState == QLatin1String("open")
                       ? tr("Circuit breaker open: calls are refused until it half-opens")
                       : tr("Circuit breaker half-open: a trial call decides");
        if (index.column() == Latency && !hasLatency)
            return tr("No call finished in the last interval");
        break;
    case RawValueRole:
        switch (index.column()) {
        case Name:
            return sample.name;
        case Breaker:
            return sample.breakerState;
        case Paused:
            return sample.paused;
        case Queued:
            return sample.queued;
        case InFlight:
            return sample.inFlight;
        case ErrorRate:
            return sample.errorRate;
        case Latency:
            return sample.latencyMs;
        }
        break;
    default:
        break;
    }
    return {};
}

QVariant ResourcesTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name:
        return tr("Resource");
    case Breaker:
        return tr("Breaker");
    case Paused:
        return tr("Paused");
    case Queued:
        return tr("Queued");
    case InFlight:
        return tr("In flight");
    case ErrorRate:
        return tr("Error rate");
    case Latency:
        return tr("Latency (ms)");
    }
    return {};
}

void ResourcesTableModel::updateLatest(const QList<ResourceSample> &samples) {
    for (const ResourceSample &sample : samples) {
        const auto at = std::lower_bound(
            m_rows.begin(), m_rows.end(), sample.name,
            [](const ResourceSample &row, const QString &name) { return row.name < name; });
        const int row = static_cast<int>(at - m_rows.begin());
        if (at != m_rows.end() && at->name == sample.name) {
            m_rows[row] = sample;
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        } else {
            beginInsertRows({}, row, row);
            m_rows.insert(row, sample);
            endInsertRows();
        }
    }
}

void ResourcesTableModel::clear() {
    if (m_rows.isEmpty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int ResourcesTableModel::rowOf(const QString &name) const {
    const auto at = std::lower_bound(
        m_rows.cbegin(), m_rows.cend(), name,
        [](const ResourceSample &row, const QString &key) { return row.name < key; });
    return at != m_rows.cend() && at->name == name ? static_cast<int>(at - m_rows.cbegin()) : -1;
}

QString ResourcesTableModel::nameAt(int row) const {
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).name : QString();
}

QString ResourcesTableModel::breakerLabel(const QString &breakerState) {
    if (breakerState == QLatin1String("open"))
        return tr("Open");
    if (breakerState == QLatin1String("half_open"))
        return tr("Half-open");
    if (breakerState == QLatin1String("closed"))
        return tr("Closed");
    return breakerState;
}

} // namespace keepflow::ui
