#pragma once

// The README's screenshots: `keepflow --demo --screenshots DIR` (packaging/screenshots.sh runs it
// under Xvfb) lets the demo runs reach their instructive states and grabs the main screens.

#include "core/status.h"

#include <QStringList>

#include <functional>

namespace keepflow::ui {

class MainWindow;

/// Grabs the screens of the demo runs into dir as PNG files over about 25 s of real time, then
/// calls done with the outcome. runs: the ids startDemoRuns() returned, in its order.
void takeDemoScreenshots(MainWindow &window, const QStringList &runs, const QString &dir,
                         std::function<void(const Status &)> done);

class EditorWindow;

/// Grabs the editor with a step selected (the foreach one when there is one) into dir/editor.png.
void takeEditorScreenshot(EditorWindow &editor, const QString &dir,
                          std::function<void(const Status &)> done);

} // namespace keepflow::ui
