#pragma once

// The Workers tab: the worker processes sharing the database, when each was last heard of (its
// heartbeat), and the runs each holds. A worker silent for longer than a lease is marked: its
// runs go to another worker once their leases lapse.

#include "core/records.h"

#include <QTableWidget>

namespace keepflow::ui {

class WorkersView : public QTableWidget {
    Q_OBJECT
public:
    explicit WorkersView(QWidget *parent = nullptr);
    /// Shows workers as of now (ms, the monitor's clock).
    void setWorkers(const QList<WorkerRow> &workers, qint64 now);

    /// A heartbeat older than this is no longer a sign of life (the default lease).
    static constexpr qint64 kSilentAfterMs = 30'000;

private:
    void setPlaceholder();
};

} // namespace keepflow::ui
