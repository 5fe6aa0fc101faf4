#pragma once

// The flow editor's window over a monitor of a database of its own, on a manual clock, shown
// offscreen: what the editor's UI tests start from.

#include "api/monitor.h"
#include "core/clock.h"
#include "editorscene.h"
#include "editorwindow.h"

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace keepflow::ui {

struct EditorFixture {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Monitor> monitor;
    std::unique_ptr<EditorWindow> window;

    EditorFixture() {
        Monitor::Options options;
        options.clock = &clock;
        auto opened = Monitor::open(dir.filePath(QStringLiteral("editor.db")), options);
        if (!opened)
            qFatal("%s", qPrintable(opened.error()));
        monitor = std::move(*opened);
        window = std::make_unique<EditorWindow>(*monitor);
        window->show();
    }

    /// The in-process engine's rounds and the window's refresh, as the event loop would run
    /// them, without time passing.
    void settle() {
        for (int round = 0; round < 30; ++round) {
            QCoreApplication::processEvents();
            QVERIFY(monitor->pollNow());
        }
        window->refreshRunNow();
        window->scene()->flushUpdates();
    }

    /// Writes text to name in the fixture's folder; its path.
    QString write(const QString &name, const QByteArray &text) {
        const QString path = dir.filePath(name);
        QFile file(path);
        file.open(QIODevice::WriteOnly);
        file.write(text);
        return path;
    }
};

} // namespace keepflow::ui
