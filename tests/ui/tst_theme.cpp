// Light and dark palettes follow the desktop: where its choice is read from, in which order.

#include "statestyle.h"
#include "theme.h"

#include <QApplication>
#include <QTest>

using namespace keepflow::ui;

class TestTheme : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void schemeFollowsTheDesktop_data();
    void schemeFollowsTheDesktop();
    void darkPaletteReadsAsDark();
};

void TestTheme::schemeFollowsTheDesktop_data() {
    QTest::addColumn<QString>("keepflowTheme");
    QTest::addColumn<QString>("gtkTheme");
    QTest::addColumn<QString>("gnome");
    QTest::addColumn<bool>("platformDark");
    QTest::addColumn<bool>("dark");
    QTest::newRow("nothing said: the platform palette") << ""
                                                        << ""
                                                        << "" << false << false;
    QTest::newRow("a dark platform palette (KDE)") << ""
                                                   << ""
                                                   << "" << true << true;
    QTest::newRow("GNOME prefers dark") << ""
                                        << ""
                                        << "'prefer-dark'\n"
                                        << false << true;
    QTest::newRow("GNOME prefers light over a dark palette") << ""
                                                             << ""
                                                             << "'prefer-light'\n"
                                                             << true << false;
    QTest::newRow("GTK_THEME with :dark") << ""
                                          << "Adwaita:dark"
                                          << "'default'" << false << true;
    QTest::newRow("KEEPFLOW_THEME wins") << "light"
                                         << "Adwaita:dark"
                                         << "'prefer-dark'" << true << false;
    QTest::newRow("KEEPFLOW_THEME dark") << "Dark"
                                         << ""
                                         << "" << false << true;
}

void TestTheme::schemeFollowsTheDesktop() {
    QFETCH(QString, keepflowTheme);
    QFETCH(QString, gtkTheme);
    QFETCH(QString, gnome);
    QFETCH(bool, platformDark);
    QFETCH(bool, dark);
    const QPalette platform = paletteFor(platformDark ? ColorScheme::Dark : ColorScheme::Light);
    QCOMPARE(chooseColorScheme(keepflowTheme, gtkTheme, gnome, platform) == ColorScheme::Dark,
             dark);
}

void TestTheme::darkPaletteReadsAsDark() {
    QVERIFY(isDarkPalette(paletteFor(ColorScheme::Dark)));
    QVERIFY(!isDarkPalette(paletteFor(ColorScheme::Light)));
}

QTEST_MAIN(TestTheme)
#include "tst_theme.moc"
