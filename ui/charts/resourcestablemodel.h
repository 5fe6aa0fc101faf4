#pragma once

// The resources table: one row per resource, its latest sample (breaker state, pause, queue,
// in flight, error rate, latency), rows ordered by name. Updates insert new resources with
// beginInsertRows and change existing rows with dataChanged, never a reset, so that the view's
// selection and scroll position survive the refresh every few seconds.
//
// Threading: GUI thread.

#include "resourcesample.h"

#include <QAbstractTableModel>
#include <QList>

namespace keepflow::ui {

class ResourcesTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Breaker, Paused, Queued, InFlight, ErrorRate, Latency, ColumnCount };
    /// The sample's raw value of a cell (bool, int, double, QString) for sorting and tests.
    static constexpr int RawValueRole = Qt::UserRole + 1;

    explicit ResourcesTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    /// Shows each sample as its resource's latest state (the last one of a name wins).
    void updateLatest(const QList<ResourceSample> &samples);
    void clear();

    /// The row of resource name, or -1.
    int rowOf(const QString &name) const;
    QString nameAt(int row) const;
    const ResourceSample &sampleAt(int row) const { return m_rows.at(row); }

    /// "Closed", "Open", "Half-open": the breaker state for people.
    static QString breakerLabel(const QString &breakerState);

private:
    QList<ResourceSample> m_rows; ///< sorted by name
};

} // namespace keepflow::ui
