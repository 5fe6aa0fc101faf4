#include "demo.h"

#include "api/monitor.h"
#include "model/flowfile.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>

namespace keepflow::ui {

QString demoDatabasePath() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/keepflow/desktop-demo.db");
}

Status resetDemoDatabase(const QString &path) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
        QFile file(path + suffix);
        if (file.exists() && !file.remove())
            return Status::error(QStringLiteral("cannot remove the old demo database %1: %2")
                                     .arg(file.fileName(), file.errorString()));
    }
    return Status::ok();
}

Result<QStringList> startDemoRuns(Monitor &monitor) {
    // release-train: backoff, an uncertain charge, partial success, an approval.
    // incident-runbook: a fallback. nightly-pipeline: a failed branch beside finished ones.
    const QStringList flows{QStringLiteral(":/demo/release-train.flow.json"),
                            QStringLiteral(":/examples/incident-runbook.flow.json"),
                            QStringLiteral(":/examples/nightly-pipeline.flow.json")};
    QStringList runs;
    for (const QString &path : flows) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return Status::error(
                QStringLiteral("demo flow %1 is missing: %2").arg(path, file.errorString()));
        FlowLoad load = parseFlow(file.readAll(), path);
        if (!load.ok())
            return Status::error(load.errorText());
        auto run = monitor.startRun(*load.flow, path, {});
        if (!run)
            return run.status();
        runs << *run;
    }
    return runs;
}

} // namespace keepflow::ui
