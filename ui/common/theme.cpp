#include "theme.h"

#include "statestyle.h"

#include <QApplication>
#include <QProcess>
#include <QStandardPaths>
#include <QStyle>

namespace keepflow::ui {

ColorScheme chooseColorScheme(const QString &keepflowTheme, const QString &gtkTheme,
                              const QString &gnomeColorScheme, const QPalette &platformPalette) {
    const QString forced = keepflowTheme.trimmed().toLower();
    if (forced == QLatin1String("dark"))
        return ColorScheme::Dark;
    if (forced == QLatin1String("light"))
        return ColorScheme::Light;
    if (gtkTheme.endsWith(QLatin1String(":dark"), Qt::CaseInsensitive))
        return ColorScheme::Dark;
    if (gnomeColorScheme.contains(QLatin1String("prefer-dark")))
        return ColorScheme::Dark;
    if (gnomeColorScheme.contains(QLatin1String("prefer-light")))
        return ColorScheme::Light;
    return isDarkPalette(platformPalette) ? ColorScheme::Dark : ColorScheme::Light;
}

QPalette paletteFor(ColorScheme scheme) {
    if (scheme == ColorScheme::Light)
        return QApplication::style()->standardPalette();
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30);
    const QColor base(0x1e, 0x1f, 0x22);
    const QColor text(0xdf, 0xe1, 0xe5);
    const QColor disabledText(0x7a, 0x7e, 0x85);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabledText);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x3c, 0x3f, 0x44));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x35, 0x74, 0xf0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x8a, 0xb4, 0xf8));
    p.setColor(QPalette::Light, QColor(0x4a, 0x4d, 0x52));
    p.setColor(QPalette::Midlight, QColor(0x3c, 0x3f, 0x44));
    p.setColor(QPalette::Mid, QColor(0x26, 0x28, 0x2b));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabledText);
    return p;
}

ColorScheme applyDesktopTheme(QApplication &app) {
    QString gnome;
    const QString gsettings = QStandardPaths::findExecutable(QStringLiteral("gsettings"));
    if (!gsettings.isEmpty()) {
        QProcess query;
        query.start(gsettings,
                    {QStringLiteral("get"), QStringLiteral("org.gnome.desktop.interface"),
                     QStringLiteral("color-scheme")});
        // A desktop setting is worth a short wait at start-up, not a hang.
        if (query.waitForFinished(1000))
            gnome = QString::fromUtf8(query.readAllStandardOutput());
    }
    const ColorScheme scheme =
        chooseColorScheme(qEnvironmentVariable("KEEPFLOW_THEME"), qEnvironmentVariable("GTK_THEME"),
                          gnome, QApplication::palette());
    app.setPalette(paletteFor(scheme));
    return scheme;
}

} // namespace keepflow::ui
