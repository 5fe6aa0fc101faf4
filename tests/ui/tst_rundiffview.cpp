// The run comparison window (Run → Compare with last good run): both runs' graphs side by side
// with their boxes in the same places, exactly the steps that differ marked on both (badge and
// tooltip saying what), a table of the differences, and the selection shared. The engine runs
// in-process on a manual clock; nothing sleeps.

#include "api/monitor.h"
#include "graphscene.h"
#include "graphview.h"
#include "mainwindow.h"
#include "model/flowfile.h"
#include "rundiffview.h"
#include "stepnodeitem.h"

#include <QAction>
#include <QMenuBar>
#include <QSet>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// `fetch` fails for good when `failures` > 0, `count` reports `total`, `audit` never changes.
const QByteArray kReport = R"({ "keepflow": 1, "name": "nightly-report",
  "params": { "failures": { "default": 0 }, "total": { "default": 1 } },
  "steps": [
    { "id": "fetch", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": "{{params.failures}}", "error": "permanent",
                "output": { "rows": 3 } } },
    { "id": "count", "kind": "noop", "after": ["fetch"],
      "with": { "output": { "total": "{{params.total}}" } } },
    { "id": "audit", "kind": "noop" } ] })";

// The next version: `notify` added first, beside `fetch` and `audit` (a layout of this version
// alone would move them to make room).
const QByteArray kReportV2 = R"({ "keepflow": 1, "name": "nightly-report",
  "params": { "failures": { "default": 0 }, "total": { "default": 1 } },
  "steps": [
    { "id": "notify", "kind": "noop" },
    { "id": "fetch", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": "{{params.failures}}", "error": "permanent",
                "output": { "rows": 3 } } },
    { "id": "count", "kind": "noop", "after": ["fetch"],
      "with": { "output": { "total": "{{params.total}}" } } },
    { "id": "audit", "kind": "noop" } ] })";

struct Fixture {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Monitor> monitor;

    Fixture() {
        Monitor::Options options;
        options.clock = &clock;
        auto opened = Monitor::open(dir.filePath(QStringLiteral("diff.db")), options);
        if (!opened)
            qFatal("%s", qPrintable(opened.error()));
        monitor = std::move(*opened);
    }

    /// A finished run of text with params, a minute after the one before on the clock.
    QString finishedRun(const QByteArray &text, const QJsonObject &params = {}) {
        clock.advance(60'000);
        FlowLoad load = parseFlow(text, QStringLiteral("report.flow.json"));
        if (!load.ok())
            qFatal("%s", qPrintable(load.errorText()));
        auto run = monitor->startRun(*load.flow, {}, params);
        if (!run)
            qFatal("%s", qPrintable(run.error()));
        for (int round = 0; round < 40; ++round) {
            auto polled = monitor->pollNow();
            if (!polled)
                qFatal("%s", qPrintable(polled.error()));
        }
        return *run;
    }
};

/// The steps a scene marks as differing.
QSet<QString> markedSteps(const GraphScene *scene) {
    QSet<QString> marked;
    for (const QString &id : scene->stepIds()) {
        if (scene->differs(id))
            marked.insert(id);
    }
    return marked;
}

/// The steps the difference table has rows for.
QSet<QString> tableSteps(const QTableWidget *table) {
    QSet<QString> steps;
    for (int row = 0; row < table->rowCount(); ++row) {
        const QString id = table->item(row, 0)->data(Qt::UserRole).toString();
        if (!id.isEmpty())
            steps.insert(id);
    }
    return steps;
}

} // namespace

class TestRunDiffView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void marksExactlyTheStepsThatDiffer();
    void sameRunMarksNothing();
    void addedStepIsMarkedWhereItExistsAndBoxesShareTheirPlaces();
    void selectionIsSharedByBothGraphsAndTheTable();
    void windowOpensItForTheCurrentRunOrSaysWhyNot();
};

void TestRunDiffView::marksExactlyTheStepsThatDiffer() {
    Fixture f;
    const QString good = f.finishedRun(kReport);
    const QString bad = f.finishedRun(kReport, QJsonObject{{QStringLiteral("failures"), 1}});
    QCOMPARE(f.monitor->run(bad)->state, RunState::CompletedWithFailures);

    RunDiffView view(*f.monitor, bad);
    QVERIFY2(view.status(), qPrintable(view.status().message()));
    view.show();
    QCOMPARE(view.diff().other.id, good);

    // fetch failed where it succeeded, count never ran where it did; audit is the same.
    const QSet<QString> differing{QStringLiteral("fetch"), QStringLiteral("count")};
    QCOMPARE(markedSteps(view.runScene()), differing);
    QCOMPARE(markedSteps(view.otherScene()), differing);
    for (GraphScene *scene : {view.runScene(), view.otherScene()}) {
        // Said in text, not by the outline's color alone.
        QVERIFY(
            scene->nodeItem(QStringLiteral("fetch"))->badges().contains(QStringLiteral("differs")));
        QVERIFY(!scene->nodeItem(QStringLiteral("audit"))
                     ->badges()
                     .contains(QStringLiteral("differs")));
        const QString tooltip = scene->nodeItem(QStringLiteral("fetch"))->summaryText();
        QVERIFY2(tooltip.contains(QStringLiteral("state: failed, other run: succeeded")),
                 qPrintable(tooltip));
        QVERIFY2(!scene->nodeItem(QStringLiteral("audit"))
                      ->summaryText()
                      .contains(QStringLiteral("differs")),
                 qPrintable(scene->nodeItem(QStringLiteral("audit"))->summaryText()));
    }
    // The table: the parameter and a row per difference of those two steps only.
    QCOMPARE(tableSteps(view.table()), differing);
    QVERIFY(
        !view.table()->findItems(QStringLiteral("Parameter failures"), Qt::MatchExactly).isEmpty());
    QVERIFY(!view.table()->findItems(QStringLiteral("state"), Qt::MatchExactly).isEmpty());
}

void TestRunDiffView::sameRunMarksNothing() {
    Fixture f;
    const QString first = f.finishedRun(kReport);
    const QString second = f.finishedRun(kReport);
    RunDiffView view(*f.monitor, second);
    QVERIFY2(view.status(), qPrintable(view.status().message()));
    QCOMPARE(view.diff().other.id, first);
    QVERIFY(markedSteps(view.runScene()).isEmpty());
    QVERIFY(markedSteps(view.otherScene()).isEmpty());
    QVERIFY(tableSteps(view.table()).isEmpty());
    QCOMPARE(view.table()->item(0, 0)->text(), QStringLiteral("No differences"));
}

void TestRunDiffView::addedStepIsMarkedWhereItExistsAndBoxesShareTheirPlaces() {
    Fixture f;
    f.finishedRun(kReport);
    const QString current = f.finishedRun(kReportV2);
    RunDiffView view(*f.monitor, current);
    QVERIFY2(view.status(), qPrintable(view.status().message()));
    // One layout for both: a step is in the same place on either side.
    for (const QString &id : view.otherScene()->stepIds())
        QCOMPARE(view.otherScene()->nodeItem(id)->pos(), view.runScene()->nodeItem(id)->pos());
    QCOMPARE(markedSteps(view.runScene()), QSet<QString>{QStringLiteral("notify")});
    QVERIFY(!view.otherScene()->nodeItem(QStringLiteral("notify")));
    QVERIFY(markedSteps(view.otherScene()).isEmpty());
    const QString tooltip = view.runScene()->nodeItem(QStringLiteral("notify"))->summaryText();
    QVERIFY2(tooltip.contains(QStringLiteral("added")), qPrintable(tooltip));
    QVERIFY(!view.table()->findItems(QStringLiteral("version"), Qt::MatchExactly).isEmpty());
}

void TestRunDiffView::selectionIsSharedByBothGraphsAndTheTable() {
    Fixture f;
    f.finishedRun(kReport);
    const QString bad = f.finishedRun(kReport, QJsonObject{{QStringLiteral("failures"), 1}});
    RunDiffView view(*f.monitor, bad);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    view.runScene()->selectStep(QStringLiteral("count"));
    QCOMPARE(view.otherScene()->selectedStep(), QStringLiteral("count"));
    QCOMPARE(view.table()->item(view.table()->currentRow(), 0)->data(Qt::UserRole).toString(),
             QStringLiteral("count"));

    // A row of the table selects its step on both sides.
    for (int row = 0; row < view.table()->rowCount(); ++row) {
        if (view.table()->item(row, 0)->data(Qt::UserRole).toString() == QLatin1String("fetch")) {
            view.table()->setCurrentCell(row, 1);
            break;
        }
    }
    QCOMPARE(view.runScene()->selectedStep(), QStringLiteral("fetch"));
    QCOMPARE(view.otherScene()->selectedStep(), QStringLiteral("fetch"));
}

void TestRunDiffView::windowOpensItForTheCurrentRunOrSaysWhyNot() {
    Fixture f;
    const QString first = f.finishedRun(kReport, QJsonObject{{QStringLiteral("failures"), 1}});
    const QString good = f.finishedRun(kReport);
    const QString bad = f.finishedRun(kReport, QJsonObject{{QStringLiteral("failures"), 1}});
    MainWindow window(*f.monitor);
    window.resize(1280, 720);
    window.show();

    // From the Run menu, with its shortcut.
    QAction *compare = nullptr;
    for (QAction *menu : window.menuBar()->actions()) {
        for (QAction *action : menu->menu()->actions()) {
            if (action->text().startsWith(QStringLiteral("&Compare with last good run")))
                compare = action;
        }
    }
    QVERIFY(compare);
    QCOMPARE(compare->shortcut(), QKeySequence(QStringLiteral("Ctrl+D")));

    window.selectRun(bad);
    compare->trigger();
    auto *view = window.findChild<RunDiffView *>();
    QVERIFY(view);
    QVERIFY(view->isVisible());
    QCOMPARE(view->diff().run.id, bad);
    QCOMPARE(view->diff().other.id, good);
    delete view;

    // The flow's first run has no good run before it: the status bar says so, naming the flow.
    window.selectRun(first);
    QVERIFY(!window.compareWithLastGoodRun());
    QVERIFY(!window.findChild<RunDiffView *>());
    QVERIFY2(window.lastMessage().contains(QStringLiteral("nightly-report")),
             qPrintable(window.lastMessage()));
}

QTEST_MAIN(TestRunDiffView)
#include "tst_rundiffview.moc"
