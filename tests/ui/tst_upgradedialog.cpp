// "Apply to run…" in the flow editor, as an operator uses it: a drill run failed one step; the
// flow as edited is applied to that run (the plan shows what is kept and replaced, a reason is
// given, Apply) and the run finishes with what succeeded kept. A plan with a refusal shows it
// first, with its reason, and Apply stays disabled. Offscreen, on a manual clock.

#include "editorfixture.h"
#include "editorscene.h"
#include "editorwindow.h"
#include "flowdocument.h"
#include "upgradedialog.h"

#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

const QByteArray kThreeSteps = R"({
  "keepflow": 1,
  "name": "trio",
  "steps": [
    { "id": "a", "kind": "noop", "with": { "output": 7 }, "ui": { "x": 0, "y": 0 } },
    { "id": "b", "kind": "noop", "after": ["a"], "ui": { "x": 240, "y": 0 } },
    { "id": "c", "kind": "noop", "after": ["b"], "ui": { "x": 480, "y": 0 } }
  ]
}
)";

struct Fixture : EditorFixture {
    QString path = write(QStringLiteral("trio.flow.json"), kThreeSteps);

    /// A drill run in which b fails for good: a succeeded, c is blocked.
    QString failedDrillRun() {
        if (!window->openFile(path))
            return {};
        QHash<QString, QJsonObject> drill;
        drill.insert(QStringLiteral("b"),
                     QJsonObject{{QStringLiteral("error"), QStringLiteral("permanent")},
                                 {QStringLiteral("fail_first"), 1}});
        auto run = window->startRun({}, drill);
        if (!run)
            return {};
        settle();
        return *run;
    }

    StepRunRow step(const QString &run, const QString &id) {
        const QList<StepRunRow> rows = *monitor->stepRuns(run);
        for (const StepRunRow &row : rows) {
            if (row.stepId == id)
                return row;
        }
        return {};
    }
};

/// The plan's groups as the dialog shows them: "Title (n)" -> the step ids under it.
QMap<QString, QStringList> groups(const QTreeWidget *tree) {
    QMap<QString, QStringList> shown;
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *top = tree->topLevelItem(i);
        QStringList ids;
        for (int c = 0; c < top->childCount(); ++c)
            ids << top->child(c)->text(0);
        shown.insert(top->text(0), ids);
    }
    return shown;
}

} // namespace

class TestUpgradeDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void theRunMenuHasApplyToRun();
    void applyingTheEditedFlowFinishesTheFailedRunKeepingWhatSucceeded();
    void refusalsComeFirstAndApplyStaysDisabled();
};

void TestUpgradeDialog::theRunMenuHasApplyToRun() {
    Fixture f;
    QAction *found = nullptr;
    for (QAction *menu : f.window->menuBar()->actions()) {
        for (QAction *action : menu->menu()->actions()) {
            if (action->text() == QStringLiteral("&Apply to run…"))
                found = action;
        }
    }
    QVERIFY(found);
    QCOMPARE(found->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+U")));
}

void TestUpgradeDialog::applyingTheEditedFlowFinishesTheFailedRunKeepingWhatSucceeded() {
    Fixture f;
    const QString run = f.failedDrillRun();
    QVERIFY(!run.isEmpty());
    QCOMPARE(f.step(run, QStringLiteral("b")).state, StepState::Failed);
    QCOMPARE(f.monitor->run(run)->state, RunState::CompletedWithFailures);

    // The editor's flow has no drill on b: applied to the drill run, b is replaced.
    const std::unique_ptr<UpgradeDialog> dialog = f.window->makeApplyToRunDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->selectedRun(), run); // the run the canvas shows
    const QMap<QString, QStringList> shown = groups(dialog->planView());
    QCOMPARE(shown.value(QStringLiteral("Replaced (1)")), QStringList{"b"});
    QCOMPARE(shown.value(QStringLiteral("Kept (2)")), (QStringList{"a", "c"}));
    QVERIFY(!shown.contains(QStringLiteral("Refused (1)")));
    QVERIFY2(dialog->verdict()->text().contains(QLatin1String("Ready")),
             qPrintable(dialog->verdict()->text()));
    QVERIFY(dialog->applyButton()->isEnabled());

    dialog->reasonEdit()->setText(QStringLiteral("the drill is over"));
    QTest::mouseClick(dialog->applyButton(), Qt::LeftButton);
    QCOMPARE(dialog->result(), int(QDialog::Accepted));
    f.settle();
    QCOMPARE(f.monitor->run(run)->state, RunState::Succeeded);
    QCOMPARE(f.step(run, QStringLiteral("a")).attempts, 1); // kept, never sent again
    QCOMPARE(f.step(run, QStringLiteral("a")).output.toInt(), 7);
    QCOMPARE(f.step(run, QStringLiteral("b")).state, StepState::Succeeded);
    QCOMPARE(f.step(run, QStringLiteral("b")).generation, 2);
    bool recorded = false;
    const QList<EventRow> events = *f.monitor->events(run);
    for (const EventRow &event : events) {
        recorded = recorded ||
                   (event.type == EventType::OperatorUpgrade &&
                    event.detail.value("reason").toString() == QStringLiteral("the drill is over"));
    }
    QVERIFY(recorded);
}

void TestUpgradeDialog::refusalsComeFirstAndApplyStaysDisabled() {
    Fixture f;
    const QString run = f.failedDrillRun();
    QVERIFY(!run.isEmpty());
    // a succeeded; the edited flow no longer has it.
    Flow flow = f.window->document()->flow();
    flow.steps.removeFirst();
    flow.steps.first().after.clear();
    UpgradeDialog dialog(*f.monitor, flow, f.path, run);
    QCOMPARE(dialog.selectedRun(), run);
    const QTreeWidgetItem *first = dialog.planView()->topLevelItem(0);
    QCOMPARE(first->text(0), QStringLiteral("Refused (1)"));
    QCOMPARE(first->child(0)->text(0), QStringLiteral("a"));
    QVERIFY2(first->child(0)->text(2).contains(QLatin1String("removes it")),
             qPrintable(first->child(0)->text(2)));
    QVERIFY(dialog.verdict()->text().contains(QLatin1String("Cannot apply")));
    QVERIFY(!dialog.applyButton()->isEnabled());
    QCOMPARE(f.monitor->run(run)->state, RunState::CompletedWithFailures);
}

QTEST_MAIN(TestUpgradeDialog)
#include "tst_upgradedialog.moc"
