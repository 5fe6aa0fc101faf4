#include "workersview.h"

#include <QHeaderView>

namespace keepflow::ui {

namespace {

enum Column { WorkerColumn, HostColumn, PidColumn, HeardColumn, RunsColumn, ColumnCount };

QString agoText(qint64 ms) {
    if (ms < 1000)
        return QStringLiteral("just now");
    if (ms < 120'000)
        return QStringLiteral("%1 s ago").arg(ms / 1000);
    return QStringLiteral("%1 min ago").arg(ms / 60'000);
}

} // namespace

WorkersView::WorkersView(QWidget *parent)
    : QTableWidget(0, ColumnCount, parent) {
    setAccessibleName(QStringLiteral("Workers"));
    setHorizontalHeaderLabels({QStringLiteral("Worker"), QStringLiteral("Host"),
                               QStringLiteral("PID"), QStringLiteral("Last heartbeat"),
                               QStringLiteral("Runs held")});
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    verticalHeader()->hide();
    horizontalHeader()->setSectionResizeMode(RunsColumn, QHeaderView::Stretch);
    setPlaceholder();
}

void WorkersView::setWorkers(const QList<WorkerRow> &workers, qint64 now) {
    clearSpans();
    setRowCount(0);
    if (workers.isEmpty()) {
        setPlaceholder();
        return;
    }
    setRowCount(static_cast<int>(workers.size()));
    for (int row = 0; row < workers.size(); ++row) {
        const WorkerRow &worker = workers[row];
        const qint64 silent = now - worker.heartbeatAt;
        QString heard = agoText(std::max<qint64>(silent, 0));
        QString why = heard;
        if (silent > kSilentAfterMs) {
            heard += QStringLiteral(" (silent)");
            why = QStringLiteral("Not heard from for %1: stopped or cut off; its runs go to "
                                 "another worker when their leases lapse")
                      .arg(agoText(silent).remove(QStringLiteral(" ago")));
        }
        const QStringList cells = {worker.id, worker.host, QString::number(worker.pid), heard,
                                   worker.runs.isEmpty()
                                       ? QStringLiteral("none")
                                       : QStringLiteral("%1: %2")
                                             .arg(worker.runs.size())
                                             .arg(worker.runs.join(QStringLiteral(", ")))};
        for (int column = 0; column < ColumnCount; ++column) {
            auto *item = new QTableWidgetItem(cells[column]);
            item->setToolTip(column == HeardColumn ? why : cells[column]);
            setItem(row, column, item);
        }
    }
    resizeColumnsToContents();
}

void WorkersView::setPlaceholder() {
    setRowCount(1);
    auto *item = new QTableWidgetItem(
        QStringLiteral("No worker process is running on this database (this window executes "
                       "runs itself unless it only watches)."));
    item->setFlags(Qt::ItemIsEnabled);
    setItem(0, 0, item);
    setSpan(0, 0, 1, ColumnCount);
}

} // namespace keepflow::ui
