#pragma once

// Light and dark palettes that follow the desktop. Qt 6.4 has no color-scheme API, so the
// desktop's choice is read where desktops publish it; the Fusion style then draws either palette.

#include <QPalette>
#include <QString>

class QApplication;

namespace keepflow::ui {

enum class ColorScheme { Light, Dark };

/// The scheme, from the first that says: KEEPFLOW_THEME ("dark"/"light"), GTK_THEME (":dark"
/// suffix), the GNOME color-scheme setting ("'prefer-dark'"), else the platform palette.
ColorScheme chooseColorScheme(const QString &keepflowTheme, const QString &gtkTheme,
                              const QString &gnomeColorScheme, const QPalette &platformPalette);
/// A Fusion palette for the scheme (the light one is Fusion's own).
QPalette paletteFor(ColorScheme scheme);
/// Reads the environment and the desktop setting (gsettings, when installed) and applies the
/// palette. Returns the scheme chosen.
ColorScheme applyDesktopTheme(QApplication &app);

} // namespace keepflow::ui
