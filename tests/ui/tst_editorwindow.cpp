// The editor window as a flow author uses it: `--edit FILE` on a missing file, saving with
// Ctrl+S, clicking a problem, running and drilling a flow on the same canvas, and the question
// before unsaved changes are lost. The engine runs in-process on a manual clock.

#include "editorfixture.h"
#include "editorscene.h"
#include "editorwindow.h"
#include "flowdocument.h"
#include "graphscene.h"
#include "graphview.h"
#include "propertyeditor.h"
#include "validationpanel.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMessageBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUndoStack>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

QByteArray readAll(const QString &path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

struct Fixture : EditorFixture {

    StepState state(const QString &step) {
        const StepView *view = window->scene()->stepView(step);
        return view ? view->state : StepState::Pending;
    }
};

const QByteArray kTwoSteps = R"({
  "keepflow": 1,
  "name": "pair",
  "steps": [
    { "id": "a", "kind": "noop", "ui": { "x": 0, "y": 0 } },
    { "id": "b", "kind": "noop", "after": ["a"], "ui": { "x": 240, "y": 0 } }
  ]
}
)";

} // namespace

class TestEditorWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void editingAMissingFileCreatesAnEmptyFlowThere();
    void ctrlSSavesWhatWasEdited();
    void clickingAProblemSelectsItsStep();
    void runFromTheEditorShowsStatesOnTheCanvas();
    void drillRunInjectsFaultsWithoutChangingTheFile();
    void unsavedChangesAskBeforeClosing();
    void redoAnswersCtrlShiftZAndCtrlY();
    void renamingAStepAndTabbingKeepsItSelected();
    void openSaveOpenIsUnchangedForEveryExample();
};

void TestEditorWindow::editingAMissingFileCreatesAnEmptyFlowThere() {
    Fixture f;
    const QString path = f.dir.filePath(QStringLiteral("orders.flow.json"));
    QVERIFY(!QFile::exists(path));
    QVERIFY(f.window->openFile(path));
    QVERIFY(QFile::exists(path));
    // A flow without steps is not valid yet, but it is a flow file the editor opens again.
    const QJsonObject saved = QJsonDocument::fromJson(readAll(path)).object();
    QCOMPARE(saved.value(QLatin1String("name")).toString(), QStringLiteral("orders"));
    QVERIFY(saved.value(QLatin1String("steps")).toArray().isEmpty());
    QVERIFY(!f.window->isWindowModified());
    Fixture again;
    QVERIFY(again.window->openFile(path));
    QCOMPARE(again.window->document()->flow().name, QStringLiteral("orders"));
}

void TestEditorWindow::ctrlSSavesWhatWasEdited() {
    Fixture f;
    const QString path = f.write(QStringLiteral("pair.flow.json"), kTwoSteps);
    QVERIFY(f.window->openFile(path));
    auto added = f.window->scene()->addStep(QStringLiteral("shell"), QPointF(480, 0));
    QVERIFY2(added, qPrintable(added.error()));
    QVERIFY(f.window->document()->isModified());
    QVERIFY(f.window->isWindowModified());
    QApplication::setActiveWindow(f.window.get());
    QVERIFY(QTest::qWaitForWindowActive(f.window.get()));
    QTest::keyClick(f.window.get(), Qt::Key_S, Qt::ControlModifier);
    QVERIFY(!f.window->document()->isModified());
    FlowLoad saved = loadFlowFile(path);
    QVERIFY2(saved.ok(), qPrintable(saved.errorText()));
    QVERIFY(saved.flow->step(*added));
    QCOMPARE(saved.flow->step(*added)->kind, QStringLiteral("shell"));
}

void TestEditorWindow::clickingAProblemSelectsItsStep() {
    Fixture f;
    QVERIFY(f.window->openFile(f.write(QStringLiteral("pair.flow.json"), kTwoSteps)));
    Step b = *f.window->document()->flow().step(QStringLiteral("b"));
    b.resource = QStringLiteral("nowhere"); // an unknown resource: a validation error
    QVERIFY(f.window->document()->requestStepReplace(QStringLiteral("b"), b));
    f.window->problems()->refreshNow();
    QTreeWidget *list = f.window->problems()->problemList();
    QVERIFY(list->topLevelItemCount() >= 1);
    QVERIFY(f.window->scene()->hasProblem(QStringLiteral("b")));
    QTreeWidgetItem *problem = list->topLevelItem(0);
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(problem).center());
    QCOMPARE(f.window->scene()->selectedStep(), QStringLiteral("b"));
}

void TestEditorWindow::runFromTheEditorShowsStatesOnTheCanvas() {
    Fixture f;
    QVERIFY(f.window->openFile(f.write(QStringLiteral("pair.flow.json"), kTwoSteps)));
    auto run = f.window->startRun({}, {});
    QVERIFY2(run, qPrintable(run.error()));
    f.settle();
    QCOMPARE(f.state(QStringLiteral("a")), StepState::Succeeded);
    QCOMPARE(f.state(QStringLiteral("b")), StepState::Succeeded);
    QCOMPARE(f.monitor->run(*run)->state, RunState::Succeeded);
}

void TestEditorWindow::drillRunInjectsFaultsWithoutChangingTheFile() {
    Fixture f;
    const QString path = f.write(QStringLiteral("pair.flow.json"), kTwoSteps);
    QVERIFY(f.window->openFile(path));
    const QByteArray before = readAll(path);
    QHash<QString, QJsonObject> drill;
    drill.insert(QStringLiteral("a"),
                 QJsonObject{{QStringLiteral("error"), QStringLiteral("permanent")},
                             {QStringLiteral("fail_first"), 1}});
    auto run = f.window->startRun({}, drill);
    QVERIFY2(run, qPrintable(run.error()));
    f.settle();
    QCOMPARE(f.state(QStringLiteral("a")), StepState::Failed);
    QCOMPARE(f.state(QStringLiteral("b")), StepState::Blocked);
    QVERIFY(!f.window->document()->isModified());
    QCOMPARE(readAll(path), before);
    QVERIFY(!f.window->document()->serialized().contains("drill"));
}

void TestEditorWindow::redoAnswersCtrlShiftZAndCtrlY() {
    Fixture f;
    QVERIFY(f.window->openFile(f.write(QStringLiteral("pair.flow.json"), kTwoSteps)));
    QApplication::setActiveWindow(f.window.get());
    QVERIFY(QTest::qWaitForWindowActive(f.window.get()));
    QUndoStack *undo = f.window->document()->undoStack();
    Step a = *f.window->document()->flow().step(QStringLiteral("a"));
    a.description = QStringLiteral("first");
    QVERIFY(f.window->document()->requestStepReplace(QStringLiteral("a"), a));
    a.description = QStringLiteral("second");
    QVERIFY(f.window->document()->requestStepReplace(QStringLiteral("a"), a));
    QCOMPARE(undo->index(), 2);
    // On X11 (Redo is Ctrl+Shift+Z alone) and on Windows (Ctrl+Y first): both keys, each once.
    const QKeySequence ctrlShiftZ(QStringLiteral("Ctrl+Shift+Z"));
    const QKeySequence ctrlY(QStringLiteral("Ctrl+Y"));
    for (const QList<QKeySequence> &platform :
         {QList<QKeySequence>{ctrlShiftZ},
          QList<QKeySequence>{ctrlY, QKeySequence(QStringLiteral("Alt+Shift+Backspace")),
                              ctrlShiftZ}}) {
        const QList<QKeySequence> keys = EditorWindow::redoShortcuts(platform);
        QCOMPARE(keys.count(ctrlShiftZ), 1);
        QCOMPARE(keys.count(ctrlY), 1);
        for (const QKeySequence &key : platform)
            QVERIFY(keys.contains(key));
    }
    // Each key once on the Redo action (one key twice is an "ambiguous overload" that does
    // nothing), Ctrl+Y too, and no other action of the window claims them.
    const auto actions = f.window->findChildren<QAction *>();
    QAction *redo = nullptr;
    for (QAction *action : actions) {
        if (action->text().startsWith(QLatin1String("&Redo")))
            redo = action;
    }
    QVERIFY(redo);
    QCOMPARE(redo->shortcuts().count(ctrlShiftZ), 1);
    QCOMPARE(redo->shortcuts().count(ctrlY), 1);
    for (QAction *action : actions) {
        if (action != redo)
            QVERIFY2(!action->shortcuts().contains(ctrlShiftZ) &&
                         !action->shortcuts().contains(ctrlY),
                     qPrintable(action->text()));
    }
    f.window->canvas()->setFocus();
    QTest::keyClick(f.window.get(), Qt::Key_Z, Qt::ControlModifier);
    QTest::keyClick(f.window.get(), Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(undo->index(), 0);
    // Both keys redo (neither is "ambiguous"), one step each.
    QTest::keyClick(f.window.get(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(undo->index(), 1);
    QTest::keyClick(f.window.get(), Qt::Key_Y, Qt::ControlModifier);
    QCOMPARE(undo->index(), 2);
    QCOMPARE(f.window->document()->flow().step(QStringLiteral("a"))->description,
             QStringLiteral("second"));
}

void TestEditorWindow::renamingAStepAndTabbingKeepsItSelected() {
    Fixture f;
    QVERIFY(f.window->openFile(f.write(QStringLiteral("pair.flow.json"), kTwoSteps)));
    QApplication::setActiveWindow(f.window.get());
    QVERIFY(QTest::qWaitForWindowActive(f.window.get()));
    f.window->scene()->selectStep(QStringLiteral("a"));
    PropertyEditor *properties = f.window->propertyEditor();
    auto *id = qobject_cast<QLineEdit *>(properties->fieldWidget(QStringLiteral("id")));
    QVERIFY(id && id->isVisible());
    id->setFocus();
    id->selectAll();
    QTest::keyClicks(id, QStringLiteral("extract"));
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    QVERIFY(f.window->document()->flow().step(QStringLiteral("extract")));
    // The renamed step stays selected and shown; the focus went on to the next field.
    QCOMPARE(f.window->scene()->selectedStep(), QStringLiteral("extract"));
    QCOMPARE(properties->stepId(), QStringLiteral("extract"));
    QVERIFY(id->isVisible());
    QWidget *next = QApplication::focusWidget();
    QVERIFY(next && next != id && properties->isAncestorOf(next) && next->isVisible());
    // What is typed next lands in the form: Tab on to the description, type, Tab away.
    while (QApplication::focusWidget() != properties->fieldWidget(QStringLiteral("description")))
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    QTest::keyClicks(QApplication::focusWidget(), QStringLiteral("reads the orders"));
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    QCOMPARE(f.window->document()->flow().step(QStringLiteral("extract"))->description,
             QStringLiteral("reads the orders"));
}

void TestEditorWindow::unsavedChangesAskBeforeClosing() {
    Fixture f;
    QVERIFY(f.window->openFile(f.write(QStringLiteral("pair.flow.json"), kTwoSteps)));
    QVERIFY(f.window->document()->requestStepsMove({QStringLiteral("a")}, QPointF(20, 0)));
    int asked = 0;
    f.window->setUnsavedChangesQuestion([&asked] {
        ++asked;
        return int(QMessageBox::Cancel);
    });
    QVERIFY(!f.window->close());
    QCOMPARE(asked, 1);
    QVERIFY(f.window->isVisible());
    f.window->setUnsavedChangesQuestion([] { return int(QMessageBox::Discard); });
    QVERIFY(f.window->close());
}

void TestEditorWindow::openSaveOpenIsUnchangedForEveryExample() {
    const QStringList folders{QStringLiteral(KEEPFLOW_RESOURCES "/examples"),
                              QStringLiteral(KEEPFLOW_RESOURCES "/demo")};
    int checked = 0;
    for (const QString &folder : folders) {
        const QStringList files = QDir(folder).entryList({QStringLiteral("*.flow.json")});
        for (const QString &name : files) {
            Fixture f;
            const QString original = QDir(folder).filePath(name);
            const QString copy = f.write(name, readAll(original));
            QVERIFY2(f.window->openFile(copy), qPrintable(name));
            QVERIFY(f.window->saveAs(copy));
            QCOMPARE(readAll(copy), readAll(original));
            ++checked;
        }
    }
    QVERIFY(checked >= 4);
}

QTEST_MAIN(TestEditorWindow)
#include "tst_editorwindow.moc"
