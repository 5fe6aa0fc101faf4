// The monitor as an operator uses it: a database with runs, the step table, the inspector's
// buttons, the action dialog with its preview, and the views following state changes. The
// engine runs in-process on a manual clock; nothing sleeps.

#include "../engine/testdatabase.h"
#include "actionavailability.h"
#include "actiondialog.h"
#include "api/monitor.h"
#include "api/operatorapi.h"
#include "attemptoutputview.h"
#include "eventlogmodel.h"
#include "graphscene.h"
#include "historyscrubber.h"
#include "inspectorwidget.h"
#include "mainwindow.h"
#include "model/flowfile.h"
#include "runsmodel.h"
#include "runsview.h"
#include "statestyle.h"
#include "stepnodeitem.h"
#include "steptablemodel.h"
#include "store/store.h"
#include "timelineplot.h"

#include <QAccessible>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QSignalSpy>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace keepflow;
using namespace keepflow::ui;
using K = OperatorAction::Kind;

namespace {

QByteArray flowText(const QByteArray &name, const QByteArray &steps) {
    return "{ \"keepflow\": 1, \"name\": \"" + name + "\", \"steps\": [" + steps + "] }";
}

// Four items; items 1 and 3 fail their only attempt, within tolerance: partially succeeded.
// Retried, their second attempt succeeds (fail_first is the item's value).
const QByteArray kPartial = flowText("mailing", R"(
    { "id": "fetch", "kind": "noop" },
    { "id": "notify", "kind": "fault", "after": ["fetch"], "foreach": [0, 1, 0, 1],
      "tolerate": { "max_failed": 2 }, "retry": { "max_attempts": 1 },
      "with": { "fail_first": "{{item}}", "output": "sent" } },
    { "id": "report", "kind": "noop", "after": ["notify"] })");

const QByteArray kBroken = flowText("orders", R"(
    { "id": "fetch", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "use", "kind": "noop", "after": ["fetch"],
      "with": { "output": "{{steps.fetch.output.orders}}" } },
    { "id": "archive", "kind": "noop", "after": ["use"] },
    { "id": "audit", "kind": "noop" })");

// Two steps fail for good, one waits for approval, two succeed.
const QByteArray kTroubled = flowText("troubled", R"(
    { "id": "alpha", "kind": "noop" },
    { "id": "bravo", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "charlie", "kind": "noop" },
    { "id": "delta", "kind": "approval", "with": { "prompt": "ok?" } },
    { "id": "echo", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 8, "error": "permanent" } })");

const QByteArray kApproval = flowText("release", R"(
    { "id": "build", "kind": "noop" },
    { "id": "go_live", "kind": "approval", "after": ["build"], "with": { "prompt": "ship?" } })");

struct Fixture {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Monitor> monitor;
    std::unique_ptr<MainWindow> window;

    Fixture() {
        Monitor::Options options;
        options.clock = &clock;
        auto opened = Monitor::open(dir.filePath(QStringLiteral("ui.db")), options);
        if (!opened)
            qFatal("%s", qPrintable(opened.error()));
        monitor = std::move(*opened);
        window = std::make_unique<MainWindow>(*monitor);
        window->resize(1400, 900);
        window->show();
    }

    QString start(const QByteArray &text) {
        FlowLoad load = parseFlow(text, QStringLiteral("test.flow.json"));
        if (!load.ok())
            qFatal("%s", qPrintable(load.errorText()));
        auto run = monitor->startRun(*load.flow, {}, {});
        if (!run)
            qFatal("%s", qPrintable(run.error()));
        settle();
        return *run;
    }

    /// Lets the engine finish what it can without moving the clock, then refreshes the window.
    void settle() {
        for (int round = 0; round < 40; ++round) {
            QCoreApplication::processEvents();
            auto polled = monitor->pollNow();
            QVERIFY2(polled, qPrintable(polled.error()));
        }
        window->flushNow();
    }

    std::optional<StepState> stepState(const QString &runId, const QString &stepId) {
        const auto steps = monitor->stepRuns(runId);
        for (const StepRunRow &row : *steps) {
            if (row.stepId == stepId)
                return row.state;
        }
        return std::nullopt;
    }

    /// Clicks the step's row in the step table, as a person would.
    void clickStepRow(const QString &stepId) {
        QTableView *table = window->stepTable();
        const int row = window->stepModel()->rowOfStep(stepId);
        QVERIFY(row >= 0);
        const QRect rect = table->visualRect(window->stepModel()->index(row, 1));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
        QCOMPARE(window->currentStep(), stepId);
    }

    /// The Run menu's action whose text starts with prefix.
    QAction *runMenuAction(const QString &prefix) const {
        for (QAction *menu : window->menuBar()->actions()) {
            if (!menu->menu() || menu->text() != QLatin1String("&Run"))
                continue;
            for (QAction *action : menu->menu()->actions()) {
                if (action->text().startsWith(prefix))
                    return action;
            }
        }
        return nullptr;
    }

    /// The inspector button whose accessible name is label.
    QPushButton *button(const QString &label) {
        const auto buttons = window->inspector()->findChildren<QPushButton *>();
        for (QPushButton *candidate : buttons) {
            if (candidate->accessibleName() == label)
                return candidate;
        }
        return nullptr;
    }

    /// Presses the button, fills the dialog and confirms it.
    void press(const QString &label, const QString &reason, const QString &json = {}) {
        QPushButton *b = button(label);
        QVERIFY2(b, qPrintable(label));
        QVERIFY2(b->isEnabled(), qPrintable(label + QStringLiteral(" is disabled")));
        QTest::mouseClick(b, Qt::LeftButton);
        ActionDialog *dialog = window->actionDialog();
        QVERIFY(dialog);
        QTest::keyClicks(dialog->reasonEdit(), reason);
        if (!json.isEmpty())
            dialog->jsonEdit()->setPlainText(json);
        dialog->confirm();
        settle();
    }
};

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void retryFailedItemsFromTheStepTable();
    void firedAlertIsSaidInTheWindow();
    void windowFitsItsScreenAndTheGraphLeads();
    void savedGeometryIsClampedToASmallScreen();
    void eventLogFollowsTheSelectedStep();
    void nextProblemWalksTheStepsThatNeedAttention();
    void stepTableSortsAndFilters();
    void runsSearchMatchesStepNamesAndErrors();
    void skipWithAnOutputUnblocksDownstream();
    void approveFinishesTheRun();
    void previewListsTheStepsThatRunAgain();
    void buttonsAreEnabledOnlyWhereTheyApply_data();
    void buttonsAreEnabledOnlyWhereTheyApply();
    void graphAndTimelineFollowStateChanges();
    void runsListFilters();
    void everyButtonIsNamedAsItReads();
    void accessibilityClientSelectsARowAndPressesRetry();
    void readOnlyDatabaseIsOnlyWatched();
    void damagedDatabaseIsSaidOnOpen();
    void workersTabShowsHeartbeatsAndHeldRuns();
    void lostConnectionIsSaidAndNothingTypedIsLost();
    void historyScrubberShowsThePastAndNowReturnsToLive();
    void logsTabShowsWhatEachAttemptPrinted();
    void parentAndChildRunsLinkBothWays();
    void parentHeldUpByAWaitingChildSaysSo();
    void rootCauseIsMarkedAndWhatWaitsOnItLeadsThere();
    void retryCountdownTicksInTheStepTable();
    void attemptColumnsKeepTheirWidthsAcrossUpdates();
    void accessibilityClientSelectsARunAndItOpens();
    void noMatchingRunClosesTheRunAndTheTitleNamesIt();
    void approvalShowsItsRenderedPromptAndTakesAComment();
    void reasonIsRequiredWhereAnActionSettlesOrEnds();
    void retryFailedItemsPreviewNamesTheItems();
    void cancelAsksForAReasonAndRecordsIt();
    void requiredParameterMustBeFilled();
    void workerResumesAreFoldedInTheEventLog();
};

void TestMainWindow::firedAlertIsSaidInTheWindow() {
    Fixture f;
    {
        // keepflowctl alerts add completed_with_failures, on the same database.
        OperatorApi::Options options;
        options.clock = &f.clock;
        auto api = OperatorApi::open(f.monitor->databasePath(), options);
        QVERIFY2(api, qPrintable(api.error()));
        auto rule = alertRuleFromWords({QStringLiteral("completed_with_failures")}, {});
        QVERIFY((*api)->addAlertRule(*rule));
    }
    const QString run = f.start(kPartial);
    QCOMPARE(f.monitor->run(run)->state, RunState::CompletedWithFailures);
    // The desktop executes the run, so it also fired the alert; the feed brought it back.
    QVERIFY2(f.window->lastMessage().contains(
                 QStringLiteral("Alert: run %1 of mailing completed with failures").arg(run)),
             qPrintable(f.window->lastMessage()));
}

void TestMainWindow::retryFailedItemsFromTheStepTable() {
    Fixture f;
    const QString run = f.start(kPartial);
    QCOMPARE(f.stepState(run, QStringLiteral("notify")),
             std::optional(StepState::PartiallySucceeded));
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("notify"));
    QVERIFY(f.window->inspector()->explanation().contains(QLatin1String("2 of 4 items")));

    f.press(QStringLiteral("Retry failed items"), QStringLiteral("mail server fixed"));
    QCOMPARE(f.stepState(run, QStringLiteral("notify")), std::optional(StepState::Succeeded));
    QCOMPARE(f.monitor->run(run)->state, RunState::Succeeded);
    // The window shows it: table row, graph node and the action in the event log.
    const int row = f.window->stepModel()->rowOfStep(QStringLiteral("notify"));
    QCOMPARE(f.window->stepModel()->stepAt(row)->state, StepState::Succeeded);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("notify"))->state,
             StepState::Succeeded);
    QVERIFY(f.window->lastMessage().contains(QLatin1String("2 failed item(s) run again")));
}

void TestMainWindow::skipWithAnOutputUnblocksDownstream() {
    Fixture f;
    const QString run = f.start(kBroken);
    QCOMPARE(f.stepState(run, QStringLiteral("use")), std::optional(StepState::Blocked));
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("fetch"));
    f.press(QStringLiteral("Skip"), QStringLiteral("orders API down; none today"),
            QStringLiteral(R"({ "orders": [7, 8] })"));
    QCOMPARE(f.stepState(run, QStringLiteral("fetch")), std::optional(StepState::Skipped));
    QCOMPARE(f.stepState(run, QStringLiteral("use")), std::optional(StepState::Succeeded));
    // The skipped step names who skipped it and why, and lists no error on its row.
    f.window->flushNow();
    QVERIFY2(f.window->inspector()->explanation().startsWith(
                 QStringLiteral("Skipped by %1 at ").arg(currentUserName())),
             qPrintable(f.window->inspector()->explanation()));
    QVERIFY(f.window->inspector()->explanation().contains(QLatin1String("orders API down")));
    const int fetchRow = f.window->stepModel()->rowOfStep(QStringLiteral("fetch"));
    QVERIFY(f.window->stepModel()->stepAt(fetchRow)->lastError.isEmpty());
    const auto steps = f.monitor->stepRuns(run);
    for (const StepRunRow &step : *steps) {
        if (step.stepId == QLatin1String("use"))
            QCOMPARE(step.output, QJsonValue(QJsonArray{7, 8}));
    }
    // Recorded with the OS user and the reason.
    const auto events = f.monitor->events(run);
    bool recorded = false;
    for (const EventRow &event : *events) {
        recorded = recorded ||
                   (event.stepId == QLatin1String("fetch") && event.actor == currentUserName() &&
                    event.detail.value(QLatin1String("reason")).toString() ==
                        QLatin1String("orders API down; none today"));
    }
    QVERIFY(recorded);
}

void TestMainWindow::approveFinishesTheRun() {
    Fixture f;
    const QString run = f.start(kApproval);
    QCOMPARE(f.monitor->run(run)->state, RunState::WaitingForOperator);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("go_live"));
    QVERIFY(!f.button(QStringLiteral("Retry"))->isEnabled());
    f.press(QStringLiteral("Approve"), QStringLiteral("looks good"));
    QCOMPARE(f.stepState(run, QStringLiteral("go_live")), std::optional(StepState::Succeeded));
    QCOMPARE(f.monitor->run(run)->state, RunState::Succeeded);
    // The step says who decided and why, not "Succeeded after 0 attempt(s)".
    f.window->flushNow();
    const QString why = f.window->inspector()->explanation();
    QVERIFY2(why.startsWith(QStringLiteral("Approved by %1 at ").arg(currentUserName())) &&
                 why.endsWith(QStringLiteral(": “looks good”.")),
             qPrintable(why));
    // The timeline marks the wait and the decision on the step's row, in that order.
    const QList<TimelineMark> marks = f.window->timeline()->marksForStep(QStringLiteral("go_live"));
    QCOMPARE(marks.size(), 2);
    QCOMPARE(marks[0].kind, TimelineMark::Kind::Wait);
    QCOMPARE(marks[1].kind, TimelineMark::Kind::OperatorAction);
    QVERIFY2(marks[1].label.contains(QLatin1String("looks good")), qPrintable(marks[1].label));
}

void TestMainWindow::previewListsTheStepsThatRunAgain() {
    Fixture f;
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("fetch"));
    QTest::mouseClick(f.button(QStringLiteral("Retry")), Qt::LeftButton);
    ActionDialog *dialog = f.window->actionDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->previewedSteps(), (QStringList{"fetch", "use", "archive"}));
    dialog->reject();

    f.clickStepRow(QStringLiteral("audit"));
    QTest::mouseClick(f.button(QStringLiteral("Rerun from here")), Qt::LeftButton);
    QVERIFY(f.window->actionDialog());
    QCOMPARE(f.window->actionDialog()->previewedSteps(), QStringList{"audit"});
}

void TestMainWindow::buttonsAreEnabledOnlyWhereTheyApply_data() {
    QTest::addColumn<int>("state");
    QTest::addColumn<bool>("approval");
    QTest::addColumn<bool>("foreach");
    QTest::addColumn<QStringList>("enabled");
    auto row = [](StepState state, bool approval, bool foreach, const QStringList &enabled) {
        QTest::newRow(qPrintable(stateName(state) + (approval  ? QStringLiteral(" approval")
                                                     : foreach ? QStringLiteral(" foreach")
                                                               : QString())))
            << int(state) << approval << foreach << enabled;
    };
    using S = StepState;
    // "Change policy…" wherever the step will or may make attempts again.
    const char *policy = "Change policy…";
    row(S::Pending, false, false, {"Skip", "Mark succeeded", "Set input", "Hold step", policy});
    row(S::Queued, false, false,
        {"Skip", "Mark succeeded", "Set input", "Rerun from here", "Hold step", policy});
    row(S::Scheduled, false, false,
        {"Skip", "Mark succeeded", "Set input", "Rerun from here", "Hold step", policy});
    row(S::Running, false, false, {policy});
    row(S::Retrying, false, false,
        {"Retry now", "Skip", "Mark succeeded", "Set input", "Rerun from here", "Hold step",
         policy});
    row(S::Succeeded, false, false, {"Rerun from here"});
    row(S::SucceededViaFallback, false, false, {"Rerun from here"});
    row(S::PartiallySucceeded, false, true,
        {"Retry", "Retry failed items", "Set input", "Rerun from here", policy});
    row(S::Failed, false, false,
        {"Retry", "Skip", "Mark succeeded", "Set input", "Rerun from here", policy});
    row(S::Uncertain, false, false,
        {"Skip", "Resolve: happened", "Resolve: did not happen", "Set input", "Rerun from here",
         policy});
    row(S::WaitingForOperator, true, false,
        {"Skip", "Approve", "Reject", "Set input", "Rerun from here"});
    row(S::Paused, false, false,
        {"Skip", "Mark succeeded", "Set input", "Rerun from here", "Release step", policy});
    row(S::Skipped, false, false, {"Rerun from here"});
    row(S::Blocked, false, false,
        {"Retry", "Skip", "Mark succeeded", "Set input", "Rerun from here", policy});
    row(S::Cancelled, false, false,
        {"Retry", "Skip", "Mark succeeded", "Set input", "Rerun from here"});
}

void TestMainWindow::buttonsAreEnabledOnlyWhereTheyApply() {
    QFETCH(int, state);
    QFETCH(bool, approval);
    QFETCH(bool, foreach);
    QFETCH(QStringList, enabled);
    InspectorWidget inspector;
    InspectorData data;
    data.runId = QStringLiteral("r");
    data.view.stepId = QStringLiteral("s");
    data.view.state = static_cast<StepState>(state);
    data.view.attempts = 1;
    data.view.maxAttempts = 3;
    if (foreach) {
        data.view.itemsTotal = 4;
        data.view.itemsSucceeded = 3;
        data.view.itemsFailed = 1;
    }
    data.step.id = QStringLiteral("s");
    data.step.kind = approval ? QStringLiteral("approval") : QStringLiteral("noop");
    inspector.showStep(data);
    QStringList actual;
    const auto buttons = inspector.findChildren<QPushButton *>();
    for (QPushButton *button : buttons) {
        // Buttons an operator can press: hidden ones (a subflow's link) and the tabs' own do
        // not count.
        if (button->isEnabled() && button->isVisibleTo(&inspector))
            actual << button->accessibleName();
    }
    actual.sort();
    enabled.sort();
    QCOMPARE(actual, enabled);
}

void TestMainWindow::graphAndTimelineFollowStateChanges() {
    Fixture f;
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("fetch"))->state, StepState::Failed);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("use"))->state, StepState::Blocked);
    const int barsBefore = f.window->timeline()->barCount();
    QCOMPARE(barsBefore, 2); // fetch's attempt and audit's

    // Another process acts (keepflowctl): the window follows through the change feed.
    OperatorAction skip;
    skip.kind = K::Skip;
    skip.runId = run;
    skip.stepId = QStringLiteral("fetch");
    skip.output = QJsonObject{{QStringLiteral("orders"), QJsonArray{}}};
    auto other = Store::open(f.monitor->databasePath());
    QVERIFY(other);
    Engine engine(**other, f.clock, StepKindRegistry::withBuiltins(), {});
    QVERIFY(engine.act(skip));
    (void)engine.shutdown();
    f.settle();
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("fetch"))->state, StepState::Skipped);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("archive"))->state,
             StepState::Succeeded);
    QCOMPARE(f.window->timeline()->barCount(), barsBefore + 2); // use and archive ran
    const int logRows = f.window->eventLog()->rowCount();
    QVERIFY(logRows > 0);
}

void TestMainWindow::runsListFilters() {
    Fixture f;
    const QString failed = f.start(kBroken);
    f.clock.advance(1000);
    const QString waiting = f.start(kApproval);
    f.clock.advance(1000);
    const QString partial = f.start(kPartial);
    f.window->flushNow();
    RunsView *runs = f.window->runsView();
    QCOMPARE(runs->model()->rowCount(), 3);
    QCOMPARE(runs->model()->runIdAt(0), partial); // newest first

    const int waitingIndex =
        runs->stateCombo()->findData(static_cast<int>(RunState::WaitingForOperator));
    QVERIFY(waitingIndex > 0);
    runs->stateCombo()->setCurrentIndex(waitingIndex);
    QCOMPARE(runs->model()->rowCount(), 1);
    QCOMPARE(runs->model()->runIdAt(0), waiting);
    runs->stateCombo()->setCurrentIndex(0);

    const int flowIndex = runs->flowCombo()->findText(QStringLiteral("orders"));
    QVERIFY(flowIndex > 0);
    runs->flowCombo()->setCurrentIndex(flowIndex);
    QCOMPARE(runs->model()->rowCount(), 1);
    QCOMPARE(runs->model()->runIdAt(0), failed);
    runs->flowCombo()->setCurrentIndex(0);

    QTest::keyClicks(runs->searchField(), partial.left(6));
    QTest::keyClick(runs->searchField(), Qt::Key_Return);
    QCOMPARE(runs->model()->rowCount(), 1);
    QCOMPARE(runs->model()->runIdAt(0), partial);
}

void TestMainWindow::everyButtonIsNamedAsItReads() {
    Fixture f;
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("fetch"));
    const auto buttons = f.window->findChildren<QAbstractButton *>();
    int checked = 0;
    for (QAbstractButton *button : buttons) {
        if (button->text().isEmpty())
            continue;
        QString visible = button->text();
        visible.remove(QLatin1Char('&'));
        QCOMPARE(button->accessibleName(), visible);
        ++checked;
    }
    QVERIFY(checked >= 12);
    const auto tables = f.window->findChildren<QAbstractItemView *>();
    for (QAbstractItemView *view : tables) {
        if (view->isVisibleTo(f.window.get()) && !qobject_cast<QHeaderView *>(view))
            QVERIFY2(!view->accessibleName().isEmpty(), view->metaObject()->className());
    }
}

namespace {

/// The first accessible object under root with this role and name (what AT-SPI clients search).
QAccessibleInterface *findAccessible(QAccessibleInterface *root, QAccessible::Role role,
                                     const QString &name) {
    if (!root)
        return nullptr;
    if (root->role() == role && root->text(QAccessible::Name) == name)
        return root;
    for (int i = 0; i < root->childCount(); ++i) {
        if (QAccessibleInterface *found = findAccessible(root->child(i), role, name))
            return found;
    }
    return nullptr;
}

} // namespace

void TestMainWindow::accessibilityClientSelectsARowAndPressesRetry() {
    Fixture f;
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    QAccessibleInterface *window = QAccessible::queryAccessibleInterface(f.window.get());
    QAccessibleInterface *table =
        findAccessible(window, QAccessible::Table, QStringLiteral("Steps"));
    QVERIFY(table && table->tableInterface());
    int row = -1;
    for (int r = 0; r < table->tableInterface()->rowCount(); ++r) {
        QAccessibleInterface *cell = table->tableInterface()->cellAt(r, StepTableModel::StepColumn);
        if (cell && cell->text(QAccessible::Name) == QLatin1String("fetch"))
            row = r;
    }
    QVERIFY(row >= 0);
    QVERIFY(table->tableInterface()->selectRow(row));
    QCOMPARE(f.window->currentStep(), QStringLiteral("fetch"));

    QAccessibleInterface *retry =
        findAccessible(window, QAccessible::Button, QStringLiteral("Retry"));
    QVERIFY(retry && retry->actionInterface());
    // A button pressed through accessibility clicks the way a person does (an animated click).
    retry->actionInterface()->doAction(QAccessibleActionInterface::pressAction());
    QTRY_VERIFY(f.window->actionDialog());
    ActionDialog *dialog = f.window->actionDialog();
    QAccessibleInterface *confirm = findAccessible(QAccessible::queryAccessibleInterface(dialog),
                                                   QAccessible::Button, QStringLiteral("Retry"));
    QVERIFY(confirm && confirm->actionInterface());
    confirm->actionInterface()->doAction(QAccessibleActionInterface::pressAction());
    QTRY_VERIFY(!f.window->actionDialog() || !f.window->actionDialog()->isVisible());
    f.settle();
    const auto attempts = f.monitor->attempts(run);
    int fetchAttempts = 0;
    for (const AttemptRow &attempt : *attempts)
        fetchAttempts += attempt.stepId == QLatin1String("fetch") ? 1 : 0;
    QCOMPARE(fetchAttempts, 2); // the retry ran (and failed again: the fault fails 9 times)
}

void TestMainWindow::readOnlyDatabaseIsOnlyWatched() {
    Fixture f;
    const QString run = f.start(kBroken);
    QCOMPARE(f.monitor->run(run)->state, RunState::CompletedWithFailures);
    const QString path = f.monitor->databasePath();
    f.window.reset();
    QVERIFY(f.monitor->shutdown());
    f.monitor.reset();
    QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup |
                                            QFile::ReadOther));

    Monitor::Options options;
    options.clock = &f.clock;
    options.store.readOnly = true;
    auto opened = Monitor::open(path, options);
    QVERIFY2(opened, qPrintable(opened.error()));
    Monitor &monitor = **opened;
    QVERIFY(monitor.isReadOnly());
    QVERIFY(!monitor.executing()); // no in-process worker on a database it cannot write
    MainWindow window(monitor);
    window.show();
    window.flushNow();
    window.selectRun(run);
    window.flushNow();
    const QList<QLabel *> labels = window.findChildren<QLabel *>();
    const auto notice = std::find_if(labels.begin(), labels.end(), [](QLabel *label) {
        return label->accessibleName() == QLatin1String("Database notice");
    });
    QVERIFY(notice != labels.end());
    QVERIFY((*notice)->isVisible());
    QVERIFY2((*notice)->text().startsWith(QLatin1String("Read-only: ")),
             qPrintable((*notice)->text()));
    QVERIFY2((*notice)->text().contains(QStringLiteral("`chmod 600 %1`").arg(path)),
             qPrintable((*notice)->text()));

    QTableView *table = window.stepTable();
    const int row = window.stepModel()->rowOfStep(QStringLiteral("fetch"));
    QVERIFY(row >= 0);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(window.stepModel()->index(row, 1)).center());
    QCOMPARE(window.currentStep(), QStringLiteral("fetch"));
    for (K kind : stepActionKinds()) {
        QPushButton *button = window.inspector()->button(kind);
        QVERIFY2(!button->isEnabled(), qPrintable(actionLabel(kind)));
        QVERIFY2(button->toolTip().contains(QLatin1String("open read-only")),
                 qPrintable(button->toolTip()));
    }
    OperatorAction retry;
    retry.kind = K::Retry;
    retry.runId = run;
    retry.stepId = QStringLiteral("fetch");
    const auto refused = monitor.act(retry);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QLatin1String("read-only")), qPrintable(refused.error()));
    QCOMPARE(monitor.stepRuns(run)->first().state, StepState::Failed);
}

void TestMainWindow::damagedDatabaseIsSaidOnOpen() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("damaged.db"));
    {
        // Enough rows for pages between the file's first (schema) and last (newest rows).
        auto store = Store::open(path);
        QVERIFY2(store, qPrintable(store.error()));
        const qint64 flowId = (*store)->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
        Batch batch;
        RunRow run;
        run.id = QStringLiteral("r1");
        run.flowId = flowId;
        run.flowName = QStringLiteral("f");
        batch.runs.append(run);
        for (int i = 0; i < 3000; ++i) {
            EventRow event;
            event.runId = run.id;
            event.type = EventType::RunResumed;
            event.actor = QStringLiteral("test");
            event.detail = {{QStringLiteral("padding"), QString(100, QLatin1Char('x'))}};
            batch.events.append(event);
        }
        QVERIFY((*store)->commit(batch));
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadWrite));
    const qint64 pages = file.size() / 4096;
    QVERIFY2(pages > 20, qPrintable(QString::number(pages)));
    QVERIFY(file.seek((pages / 2) * 4096));
    file.write(QByteArray(2 * 4096, '\xa5'));
    file.close();

    Monitor::Options options;
    options.execute = false;
    auto monitor = Monitor::open(path, options);
    QVERIFY2(monitor, qPrintable(monitor.error()));
    MainWindow window(**monitor);
    const QList<QLabel *> labels = window.findChildren<QLabel *>();
    const auto notice = std::find_if(labels.begin(), labels.end(), [](QLabel *label) {
        return label->accessibleName() == QLatin1String("Database notice");
    });
    QVERIFY(notice != labels.end());
    QVERIFY2((*notice)->text().startsWith(QLatin1String("The database failed its quick check")),
             qPrintable((*notice)->text()));
    QVERIFY2((*notice)->text().contains(QLatin1String("integrity: ")),
             qPrintable((*notice)->text()));
}

void TestMainWindow::workersTabShowsHeartbeatsAndHeldRuns() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("workers.db"));
    ManualClock clock;
    {
        // Two worker processes: one heard from 2 s ago holding a run, one silent for 2 min.
        auto store = Store::open(path);
        QVERIFY2(store, qPrintable(store.error()));
        const qint64 flowId = (*store)->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
        Batch batch;
        RunRow run;
        run.id = QStringLiteral("run-held");
        run.flowId = flowId;
        run.flowName = QStringLiteral("f");
        run.createdAt = clock.nowMs();
        batch.runs.append(run);
        QVERIFY((*store)->commit(batch));
        LeaseRequest lease;
        lease.owner = QStringLiteral("hostb:42:abc123");
        lease.now = clock.nowMs();
        QVERIFY(*(*store)->claimRun(run.id, lease));
        WorkerRow alive{lease.owner, QStringLiteral("hostb"), 42, clock.nowMs(), 0, {}};
        QVERIFY((*store)->renewLeases(alive, 30'000, clock.nowMs() - 2'000));
        WorkerRow silent{
            QStringLiteral("hostc:7:def456"), QStringLiteral("hostc"), 7, clock.nowMs(), 0, {}};
        QVERIFY((*store)->renewLeases(silent, 30'000, clock.nowMs() - 120'000));
    }
    Monitor::Options options;
    options.clock = &clock;
    options.execute = false; // only watches, as on a shared database
    auto monitor = Monitor::open(path, options);
    QVERIFY2(monitor, qPrintable(monitor.error()));
    MainWindow window(**monitor);
    auto *workers = window.findChild<QTableWidget *>();
    for (auto *table : window.findChildren<QTableWidget *>()) {
        if (table->accessibleName() == QLatin1String("Workers"))
            workers = table;
    }
    QVERIFY(workers && workers->accessibleName() == QLatin1String("Workers"));
    QCOMPARE(workers->rowCount(), 1); // not looked at yet: not queried (the placeholder row)
    auto *tabs = window.findChild<QTabWidget *>();
    for (auto *tab : window.findChildren<QTabWidget *>()) {
        if (tab->accessibleName() == QLatin1String("Details"))
            tabs = tab;
    }
    tabs->setCurrentWidget(workers); // as Alt+4 or a click on the tab does
    QCOMPARE(workers->rowCount(), 2);
    QCOMPARE(workers->item(0, 0)->text(), QStringLiteral("hostb:42:abc123"));
    QCOMPARE(workers->item(0, 2)->text(), QStringLiteral("42"));
    QCOMPARE(workers->item(0, 3)->text(), QStringLiteral("2 s ago"));
    QCOMPARE(workers->item(0, 4)->text(), QStringLiteral("1: run-held"));
    QCOMPARE(workers->item(1, 3)->text(), QStringLiteral("2 min ago (silent)"));
    QVERIFY2(workers->item(1, 3)->toolTip().contains(QLatin1String("go to another worker")),
             qPrintable(workers->item(1, 3)->toolTip()));
    QCOMPARE(workers->item(1, 4)->text(), QStringLiteral("none"));
}

void TestMainWindow::lostConnectionIsSaidAndNothingTypedIsLost() {
    if (!testsOnPostgres())
        QSKIP("PostgreSQL only: a SQLite file does not disconnect");
    QTemporaryDir dir;
    const QString url = newTestDatabase(dir, {});
    const QString server = qEnvironmentVariable("KEEPFLOW_TEST_POSTGRES");
    const QString database = parseDatabaseAddress(url)->database;
    QString failedRun;
    QString otherRun;
    {
        // A worker elsewhere ran one run to a failed step and left another; then it stopped.
        auto store = Store::open(url);
        QVERIFY2(store, qPrintable(store.error()));
        SystemClock clock;
        Engine worker(**store, clock, StepKindRegistry::withBuiltins(), {});
        const FlowLoad broken = parseFlow(kBroken, QStringLiteral("orders.flow.json"));
        const FlowLoad release = parseFlow(kApproval, QStringLiteral("release.flow.json"));
        failedRun = *worker.createRun(*broken.flow, {}, {}, true);
        otherRun = *worker.createRun(*release.flow, {}, {}, false);
        QVERIFY(eventually([&] {
            (void)worker.pump();
            const auto steps = (*store)->stepRuns(failedRun);
            return steps && std::any_of(steps->begin(), steps->end(), [](const StepRunRow &row) {
                       return row.stepId == QLatin1String("fetch") &&
                              row.state == StepState::Failed;
                   });
        }));
        QVERIFY(worker.shutdown());
    }
    Monitor::Options options;
    options.execute = false; // the desktop watching a shared database
    auto opened = Monitor::open(url, options);
    QVERIFY2(opened, qPrintable(opened.error()));
    Monitor &monitor = **opened;
    MainWindow window(monitor);
    window.resize(1280, 720);
    window.show();
    monitor.start();
    QSignalSpy tries(&monitor, &Monitor::reconnectFailed);
    QLabel *notice = window.connectionNotice();
    QCOMPARE(notice->accessibleName(), QStringLiteral("Database connection"));
    QVERIFY(!notice->isVisible());

    // The operator narrows the list, opens a run and starts writing why a step is skipped.
    RunsView *runs = window.runsView();
    QTest::keyClicks(runs->searchField(), failedRun.left(8));
    QTest::keyClick(runs->searchField(), Qt::Key_Return);
    QCOMPARE(runs->model()->rowCount(), 1);
    window.selectRun(failedRun);
    window.requestAction(K::Skip, QStringLiteral("fetch"));
    QPointer<ActionDialog> dialog = window.actionDialog();
    QVERIFY(dialog);
    QTest::keyClicks(dialog->reasonEdit(), QStringLiteral("supplier feed is down, skipping"));

    // The connection is cut, and nobody may connect to the database for a while.
    executeOnTestDatabase(
        server, QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS false").arg(database));
    executeOnTestDatabase(server, QStringLiteral("SELECT pg_terminate_backend(pid) FROM "
                                                 "pg_stat_activity WHERE datname = '%1'")
                                      .arg(database));
    QVERIFY(eventually([&] { return notice->isVisible(); }));
    QVERIFY2(notice->text().startsWith(QStringLiteral("⚠ connection to DB lost (")),
             qPrintable(notice->text()));
    QVERIFY2(notice->text().endsWith(QStringLiteral("; reconnecting…")),
             qPrintable(notice->text()));
    QVERIFY(window.statusBar()->isAncestorOf(notice));

    // While it is away the views keep failing to read, and say nothing: the notice says it once.
    QSignalSpy messages(window.statusBar(), &QStatusBar::messageChanged);
    window.selectRun(otherRun); // its flow was never read: cannot be shown now
    QCOMPARE(window.currentRun(), failedRun);
    QTest::keyClicks(runs->searchField(), failedRun.mid(8, 1)); // the list cannot be read now
    QTest::keyClick(runs->searchField(), Qt::Key_Return);
    QVERIFY(eventually([&] { return tries.size() >= 2; })); // a second and more of ticks
    for (const QList<QVariant> &message : std::as_const(messages))
        QVERIFY2(message.at(0).toString().isEmpty(), qPrintable(message.at(0).toString()));
    // The notice has the database's words for the last try.
    QVERIFY2(notice->toolTip().contains(QLatin1String("is not currently accepting connections")),
             qPrintable(notice->toolTip()));

    // Confirming the half-written action now is refused with the reason; nothing typed is lost.
    dialog->confirm();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->reason(), QStringLiteral("supplier feed is down, skipping"));
    QVERIFY(dialog->refusalLabel()->isVisible());
    QVERIFY2(dialog->refusalLabel()->text().contains(Monitor::notConnectedMessage()),
             qPrintable(dialog->refusalLabel()->text()));
    QCOMPARE(window.lastMessage(), Monitor::notConnectedMessage());

    // Back: the notice goes, said once; the filter and the list are as the operator left them.
    executeOnTestDatabase(server,
                          QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS true").arg(database));
    QVERIFY(eventually([&] { return !notice->isVisible(); }));
    QCOMPARE(window.lastMessage(), QStringLiteral("reconnected to DB"));
    QCOMPARE(runs->searchField()->text(), failedRun.left(9));
    QCOMPARE(runs->model()->rowCount(), 1);
    QCOMPARE(runs->model()->runIdAt(0), failedRun);
    QCOMPARE(window.currentRun(), failedRun);
    QCOMPARE(window.stepModel()->rowCount(), 4);

    // The same dialog, confirmed again, acts.
    QSignalSpy finished(&window, &MainWindow::actionFinished);
    dialog->confirm();
    QCOMPARE(finished.size(), 1);
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
    QVERIFY(eventually([&] { return !dialog || !dialog->isVisible(); }));
    const auto steps = monitor.stepRuns(failedRun);
    QVERIFY2(steps, qPrintable(steps.error()));
    QVERIFY(std::any_of(steps->begin(), steps->end(), [](const StepRunRow &row) {
        return row.stepId == QLatin1String("fetch") && row.state == StepState::Skipped;
    }));
}

void TestMainWindow::logsTabShowsWhatEachAttemptPrinted() {
    Fixture f;
    const QString run = f.start(flowText("chatty", R"(
        { "id": "talk", "kind": "shell",
          "retry": { "max_attempts": 2, "initial_interval": "1s", "jitter": 0 },
          "with": { "argv": ["sh", "-c", "echo line one $KEEPFLOW_ATTEMPT; echo disk full >&2; exit 1"] } })"));
    auto reaches = [&](StepState state) {
        f.settle();
        return f.stepState(run, QStringLiteral("talk")) == std::optional(state);
    };
    QTRY_VERIFY(reaches(StepState::Retrying));
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("talk"));
    f.window->inspector()->showLogs();
    AttemptOutputView *logs = f.window->inspector()->outputView();
    QVERIFY(logs->isVisible());
    QCOMPARE(logs->attemptChooser()->count(), 1);
    QVERIFY2(logs->shownText().contains(QLatin1String("line one 1\n")),
             qPrintable(logs->shownText()));
    QVERIFY(logs->shownText().contains(QLatin1String("disk full")));

    // The second attempt arrives live and is shown; the first stays one choice away.
    f.clock.advance(1000);
    QTRY_VERIFY(reaches(StepState::Failed));
    f.window->flushNow();
    QCOMPARE(logs->attemptChooser()->count(), 2);
    QCOMPARE(logs->attemptChooser()->currentIndex(), 1);
    QVERIFY(logs->attemptChooser()->currentText().contains(QLatin1String("(latest)")));
    QVERIFY(logs->shownText().contains(QLatin1String("line one 2")));
    logs->attemptChooser()->setCurrentIndex(0);
    QVERIFY(logs->shownText().contains(QLatin1String("line one 1")));

    // Search counts and walks the matches; Copy copies what is shown.
    QTest::keyClicks(logs->searchField(), QStringLiteral("disk"));
    QCOMPARE(logs->searchStatus(), QStringLiteral("1 of 1"));
    logs->searchField()->clear();
    QTest::keyClicks(logs->searchField(), QStringLiteral("nowhere"));
    QCOMPARE(logs->searchStatus(), QStringLiteral("no match"));
    QTest::mouseClick(logs->copyButton(), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), logs->shownText());
}

namespace {

/// Every column of the runs list lies inside its viewport (none behind the scroll bar).
bool allRunColumnsShown(QTableView *table) {
    const int last = RunsModel::kColumnCount - 1;
    return table->columnViewportPosition(last) +
               table->fontMetrics().horizontalAdvance(QStringLiteral("10/10")) <=
           table->viewport()->width();
}

/// Every action button of the inspector lies inside the window.
bool allButtonsInside(MainWindow &window) {
    const auto buttons = window.inspector()->findChildren<QPushButton *>();
    for (const QPushButton *button : buttons) {
        if (!button->isVisible())
            continue;
        const QRect inWindow(button->mapTo(&window, QPoint(0, 0)), button->size());
        if (!window.rect().contains(inWindow))
            return false;
    }
    return true;
}

} // namespace

void TestMainWindow::windowFitsItsScreenAndTheGraphLeads() {
    Fixture f;
    const QString run = f.start(kPartial);
    // A small laptop's screen holds the whole window with a frame around it.
    QVERIFY2(f.window->minimumSizeHint().width() <= 1200 &&
                 f.window->minimumSizeHint().height() <= 640,
             qPrintable(QStringLiteral("minimum %1x%2")
                            .arg(f.window->minimumSizeHint().width())
                            .arg(f.window->minimumSizeHint().height())));
    // At 1280 px the runs list shows every column, the states folded to their icons, and the
    // inspector's buttons fold to two columns; on a wide screen the states keep their labels.
    f.window->resize(1280, 720);
    f.window->apportionPanes();
    QCoreApplication::processEvents();
    QTableView *runs = f.window->runsView()->table();
    QVERIFY2(allRunColumnsShown(runs),
             qPrintable(QStringLiteral("runs viewport %1").arg(runs->viewport()->width())));
    QVERIFY(f.window->runsView()->model()->compactStates());
    QCOMPARE(f.window->inspector()->buttonColumns(), 2);
    QVERIFY(allButtonsInside(*f.window));
    // The runs list gives way before the graph does.
    QVERIFY(f.window->findChild<QSplitter *>(QStringLiteral("centerSplitter"))->width() >=
            f.window->width() * 3 / 8);
    f.window->resize(1920, 1000);
    f.window->apportionPanes();
    QCoreApplication::processEvents();
    QVERIFY(allRunColumnsShown(runs));
    QVERIFY(!f.window->runsView()->model()->compactStates());
    QCOMPARE(runs->model()->index(0, RunsModel::StateColumn).data().toString(),
             stateLabel(f.monitor->run(run)->state));
    QCOMPARE(f.window->inspector()->buttonColumns(), 3);

    // The graph and the step table get more height than the log below them.
    auto *center = f.window->findChild<QSplitter *>(QStringLiteral("centerSplitter"));
    QVERIFY(center);
    const QList<int> sizes = center->sizes();
    QVERIFY2(sizes[0] > sizes[2] && sizes[1] > sizes[2] && sizes[0] > sizes[1],
             qPrintable(QStringLiteral("%1 %2 %3").arg(sizes[0]).arg(sizes[1]).arg(sizes[2])));
    QVERIFY(f.window->stepTable()->height() >= 5 * f.window->stepTable()->rowHeight(0) ||
            f.window->stepTable()->rowHeight(0) == 0);
}

void TestMainWindow::savedGeometryIsClampedToASmallScreen() {
    // Run by the test tst_mainwindow_1280x720, on an offscreen screen of that size.
    Fixture f;
    const QRect available = f.window->screen()->availableGeometry();
    if (available.size() != QSize(1280, 720))
        QSKIP("needs a 1280x720 screen (the test tst_mainwindow_1280x720)");
    // A window saved on a bigger screen (or the default size) comes back inside this one.
    MainWindow other(*f.monitor);
    other.resize(4000, 3000);
    other.show();
    QVERIFY(QTest::qWaitForWindowExposed(&other));
    other.fitToScreen();
    other.apportionPanes();
    QCoreApplication::processEvents();
    const QRect frame = other.frameGeometry();
    QVERIFY2(available.contains(frame), qPrintable(QStringLiteral("%1x%2+%3+%4")
                                                       .arg(frame.width())
                                                       .arg(frame.height())
                                                       .arg(frame.x())
                                                       .arg(frame.y())));
    QVERIFY(allButtonsInside(other));
    QVERIFY(allRunColumnsShown(other.runsView()->table()));
}

void TestMainWindow::eventLogFollowsTheSelectedStep() {
    Fixture f;
    const QString run = f.start(kTroubled);
    f.window->selectRun(run);
    QTableView *log = f.window->eventTable();
    const int all = f.window->eventLog()->rowCount();
    QCOMPARE(log->model()->rowCount(), all); // no step selected: the whole run
    f.clickStepRow(QStringLiteral("bravo"));
    const int shown = log->model()->rowCount();
    QVERIFY(shown > 0 && shown < all);
    for (int row = 0; row < shown; ++row)
        QCOMPARE(log->model()->index(row, EventLogModel::StepColumn).data().toString(),
                 QStringLiteral("bravo"));
    QTest::mouseClick(f.window->allEventsToggle(), Qt::LeftButton);
    QCOMPARE(log->model()->rowCount(), all);
    QTest::keyClicks(f.window->eventSearch(), QStringLiteral("FIRST 9"));
    QVERIFY(log->model()->rowCount() > 0);
    QVERIFY(log->model()->rowCount() < all);
    for (int row = 0; row < log->model()->rowCount(); ++row)
        QVERIFY(log->model()
                    ->index(row, EventLogModel::EventColumn)
                    .data()
                    .toString()
                    .contains(QStringLiteral("first 9")));
}

void TestMainWindow::nextProblemWalksTheStepsThatNeedAttention() {
    Fixture f;
    const QString run = f.start(kTroubled);
    f.window->selectRun(run);
    f.window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(f.window.get()));
    const auto table = [&] {
        const StepView *step =
            f.window->stepModel()->stepAt(f.window->stepTable()->currentIndex().row());
        return step ? step->stepId : QString();
    };
    const QStringList expected{"bravo", "delta", "echo", "bravo"};
    for (const QString &id : expected) {
        QTest::keyClick(f.window.get(), Qt::Key_F8);
        QCOMPARE(f.window->currentStep(), id);
        QCOMPARE(f.window->graphScene()->selectedStep(), id);
        QCOMPARE(table(), id);
    }
    QTest::keyClick(f.window.get(), Qt::Key_F8, Qt::ShiftModifier);
    QCOMPARE(f.window->currentStep(), QStringLiteral("echo"));
    QVERIFY(f.window->previousProblemAction()->shortcut() == QKeySequence(Qt::SHIFT | Qt::Key_F8));
}

void TestMainWindow::stepTableSortsAndFilters() {
    Fixture f;
    const QString run = f.start(kTroubled);
    f.window->selectRun(run);
    StepTableModel *model = f.window->stepModel();
    QCOMPARE(model->stepAt(0)->stepId, QStringLiteral("alpha")); // the flow's order first
    f.clickStepRow(QStringLiteral("charlie"));
    // A click on the State header: the steps that need attention first; the selection stays.
    QHeaderView *header = f.window->stepTable()->horizontalHeader();
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
                      QPoint(header->sectionViewportPosition(StepTableModel::StateColumn) + 10,
                             header->height() / 2));
    QStringList order;
    for (int row = 0; row < model->rowCount(); ++row)
        order << model->stepAt(row)->stepId;
    QCOMPARE(QSet<QString>(order.cbegin(), order.cbegin() + 3),
             QSet<QString>({"bravo", "delta", "echo"}));
    QCOMPARE(model->stepAt(f.window->stepTable()->currentIndex().row())->stepId,
             QStringLiteral("charlie"));
    // Filtered: by text (the error too) and to the problems.
    QTest::keyClicks(f.window->stepFilter(), QStringLiteral("first 9"));
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->stepAt(0)->stepId, QStringLiteral("bravo"));
    f.window->stepFilter()->clear();
    QTest::mouseClick(f.window->attentionOnlyToggle(), Qt::LeftButton);
    QCOMPARE(model->rowCount(), 3);
    f.clickStepRow(QStringLiteral("echo"));
    QCOMPARE(f.window->graphScene()->selectedStep(), QStringLiteral("echo"));
}

void TestMainWindow::runsSearchMatchesStepNamesAndErrors() {
    Fixture f;
    const QString troubled = f.start(kTroubled);
    f.start(kApproval);
    RunsModel *runs = f.window->runsView()->model();
    QCOMPARE(runs->rowCount(), 2);
    runs->setSearch(QStringLiteral("THE FIRST 9 FAILS")); // a step's error
    QCOMPARE(runs->rowCount(), 1);
    QCOMPARE(runs->runIdAt(0), troubled);
    runs->setSearch(QStringLiteral("charl")); // a step's name
    QCOMPARE(runs->rowCount(), 1);
    QCOMPARE(runs->runIdAt(0), troubled);
    runs->setSearch(QStringLiteral("go_live")); // the other run's step
    QCOMPARE(runs->rowCount(), 1);
    QVERIFY(runs->runIdAt(0) != troubled);
}

void TestMainWindow::parentAndChildRunsLinkBothWays() {
    Fixture f;
    QFile child(f.dir.filePath(QStringLiteral("child.flow.json")));
    QVERIFY(child.open(QIODevice::WriteOnly));
    child.write(flowText("child", R"({ "id": "inner", "kind": "noop" })"));
    child.close();
    const QString parentPath = f.dir.filePath(QStringLiteral("parent.flow.json"));
    FlowLoad load = parseFlow(flowText("parent", R"(
        { "id": "sub", "kind": "subflow", "with": { "flow": "child.flow.json" } },
        { "id": "after", "kind": "noop", "after": ["sub"] })"),
                              parentPath);
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    auto parent = f.monitor->startRun(*load.flow, parentPath, {});
    QVERIFY2(parent, qPrintable(parent.error()));
    QTRY_VERIFY((f.settle(), f.monitor->run(*parent)->state == RunState::Succeeded));
    f.window->selectRun(*parent);
    QVERIFY(!f.window->openParentButton()->isVisible()); // a top-level run has no parent

    // Parent → child: the subflow step's inspector opens the run it started.
    f.clickStepRow(QStringLiteral("sub"));
    QPushButton *openChild = f.window->inspector()->openChildButton();
    QVERIFY(openChild->isVisible());
    QTest::mouseClick(openChild, Qt::LeftButton);
    const QString childId = subflowRunId(*parent, QStringLiteral("sub"), 1, 1);
    QCOMPARE(f.window->currentRun(), childId);
    QCOMPARE(f.monitor->run(childId)->parentRun, *parent);

    // Child → parent: back to the parent run with its subflow step selected.
    QPushButton *openParent = f.window->openParentButton();
    QVERIFY(openParent->isVisible());
    QVERIFY(openParent->text().contains(*parent));
    QTest::mouseClick(openParent, Qt::LeftButton);
    QCOMPARE(f.window->currentRun(), *parent);
    QCOMPARE(f.window->currentStep(), QStringLiteral("sub"));
}

void TestMainWindow::parentHeldUpByAWaitingChildSaysSo() {
    Fixture f;
    QFile child(f.dir.filePath(QStringLiteral("child.flow.json")));
    QVERIFY(child.open(QIODevice::WriteOnly));
    child.write(
        flowText("child", R"({ "id": "gate", "kind": "approval", "with": { "prompt": "ok?" } })"));
    child.close();
    const QString parentPath = f.dir.filePath(QStringLiteral("parent.flow.json"));
    FlowLoad load = parseFlow(flowText("parent", R"(
        { "id": "prepare", "kind": "noop" },
        { "id": "sub", "kind": "subflow", "after": ["prepare"], "with": { "flow": "child.flow.json" } })"),
                              parentPath);
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    auto parent = f.monitor->startRun(*load.flow, parentPath, {});
    QVERIFY2(parent, qPrintable(parent.error()));
    const QString childId = subflowRunId(*parent, QStringLiteral("sub"), 1, 1);
    QTRY_VERIFY((f.settle(), f.monitor->run(childId) &&
                                 f.monitor->run(childId)->state == RunState::WaitingForOperator));
    QCOMPARE(f.monitor->run(*parent)->state, RunState::Running);
    f.window->selectRun(*parent);

    // The parent's last step reads "running", but the page says what holds it up and where.
    const QString header = f.window->runHeaderText();
    QVERIFY2(header.contains(QStringLiteral("held up: step sub waits on child run %1 (%2)")
                                 .arg(childId, stateLabel(RunState::WaitingForOperator))),
             qPrintable(header));
    const int row = f.window->stepModel()->rowOfStep(QStringLiteral("sub"));
    QCOMPARE(f.window->stepModel()->index(row, StepTableModel::StateColumn).data().toString(),
             QStringLiteral("Running (child waits for an operator)"));
    QVERIFY(f.window->graphScene()
                ->nodeItem(QStringLiteral("sub"))
                ->badgeText()
                .contains(QLatin1String("child waits for an operator")));
    // It is a problem to walk to, and the inspector says where to act.
    QVERIFY(f.window->selectNextProblem(true));
    QCOMPARE(f.window->currentStep(), QStringLiteral("sub"));
    QVERIFY2(f.window->inspector()->explanation().contains(childId),
             qPrintable(f.window->inspector()->explanation()));

    // Approved in the child: the parent's open page follows (the child's changes mark it for a
    // reload).
    OperatorAction approve;
    approve.kind = OperatorAction::Kind::Approve;
    approve.runId = childId;
    approve.stepId = QStringLiteral("gate");
    QVERIFY(f.monitor->act(approve));
    QTRY_VERIFY((f.settle(), f.monitor->run(*parent)->state == RunState::Succeeded));
    QCOMPARE(f.window->currentRun(), *parent);
    QVERIFY(!f.window->runHeaderText().contains(QLatin1String("held up")));

    // A paused child holds its parent up too, and says so.
    StepView held = *f.window->stepModel()->stepAt(row);
    held.state = StepState::Running;
    held.childState = RunState::Paused;
    StepTableModel model;
    model.setSteps({held}, 0);
    QCOMPARE(model.index(0, StepTableModel::StateColumn).data().toString(),
             QStringLiteral("Running (child paused)"));
    QVERIFY(needsAttention(held));
    QCOMPARE(f.window->stepModel()->index(row, StepTableModel::StateColumn).data().toString(),
             stateLabel(StepState::Succeeded));
}

namespace {

/// How many pixels of the step's node, drawn at 1:1, are the root-cause marker's color.
int rootMarkerPixels(GraphScene *scene, const QString &stepId) {
    const QRectF area = scene->nodeItem(stepId)->sceneBoundingRect();
    QImage image(area.size().toSize(), QImage::Format_ARGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    scene->render(&painter, QRectF(QPointF(0, 0), area.size()), area);
    painter.end();
    const QRgb marker = rootCauseColor().rgb();
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x)
            count += image.pixel(x, y) == marker ? 1 : 0;
    }
    return count;
}

} // namespace

void TestMainWindow::rootCauseIsMarkedAndWhatWaitsOnItLeadsThere() {
    Fixture f;
    // fetch fails for good: use and archive are blocked behind it, audit is unrelated.
    const QString run = f.start(kBroken);
    f.window->selectRun(run);

    // The header names the root cause in words.
    QVERIFY2(f.window->runHeaderText().contains(
                 QLatin1String("root cause: fetch failed; 2 steps wait on it")),
             qPrintable(f.window->runHeaderText()));

    // The graph marks the root, in its drawing and in its text, and not the others.
    GraphScene *scene = f.window->graphScene();
    QVERIFY2(scene->nodeItem(QStringLiteral("fetch"))
                 ->summaryText()
                 .contains(QLatin1String("root cause, 2 waiting")),
             qPrintable(scene->nodeItem(QStringLiteral("fetch"))->summaryText()));
    QVERIFY(scene->nodeItem(QStringLiteral("archive"))
                ->summaryText()
                .contains(QLatin1String("waits on fetch")));
    QVERIFY(rootMarkerPixels(scene, QStringLiteral("fetch")) > 100);
    for (const char *other : {"use", "archive", "audit"})
        QCOMPARE(rootMarkerPixels(scene, QLatin1String(other)), 0);

    // The step table says it too, the root's row in bold.
    StepTableModel *model = f.window->stepModel();
    const auto stateText = [model](const char *step) {
        return model->index(model->rowOfStep(QLatin1String(step)), StepTableModel::StateColumn)
            .data()
            .toString();
    };
    QCOMPARE(stateText("fetch"), QStringLiteral("Failed (root cause, 2 waiting)"));
    QCOMPARE(stateText("archive"), QStringLiteral("Blocked (waits on fetch)"));
    QCOMPARE(stateText("audit"), stateLabel(StepState::Succeeded));
    QVERIFY(model->index(model->rowOfStep(QStringLiteral("fetch")), StepTableModel::StepColumn)
                .data(Qt::FontRole)
                .value<QFont>()
                .bold());

    // A blocked step's inspector names its root, and its button goes there.
    f.clickStepRow(QStringLiteral("archive"));
    InspectorWidget *inspector = f.window->inspector();
    QCOMPARE(inspector->rootCauseText(), QStringLiteral("Waits on the root cause: fetch failed."));
    QCOMPARE(inspector->goToRootButtons().size(), 1);
    QPushButton *goTo = inspector->goToRootButtons().front();
    QCOMPARE(goTo->text(), QStringLiteral("Go to fetch"));
    QVERIFY(goTo->isVisible());
    QTest::mouseClick(goTo, Qt::LeftButton);
    QCOMPARE(f.window->currentStep(), QStringLiteral("fetch"));
    QCOMPARE(scene->selectedStep(), QStringLiteral("fetch"));
    QCOMPARE(f.window->stepTable()->currentIndex().row(),
             model->rowOfStep(QStringLiteral("fetch")));
    QCOMPARE(inspector->rootCauseText(), QStringLiteral("Root cause: 2 steps wait on it."));
    QVERIFY(inspector->goToRootButtons().isEmpty());
}

void TestMainWindow::retryCountdownTicksInTheStepTable() {
    StepTableModel model;
    StepView waiting;
    waiting.stepId = QStringLiteral("deploy");
    waiting.state = StepState::Retrying;
    waiting.attempts = 1;
    waiting.maxAttempts = 3;
    waiting.nextAttemptAt = 20'000;
    StepView done;
    done.stepId = QStringLiteral("build");
    done.state = StepState::Succeeded;
    model.setSteps({done, waiting}, 2'000);
    const QModelIndex state = model.index(1, StepTableModel::StateColumn);
    QCOMPARE(state.data().toString(), QStringLiteral("Retrying (in 18 s)"));

    // A tick tells the views that the state cell changed (they repaint only what they are told).
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setNow(12'000);
    bool stateCellRepainted = false;
    for (const QList<QVariant> &args : std::as_const(changed)) {
        const QModelIndex from = args.at(0).toModelIndex();
        const QModelIndex to = args.at(1).toModelIndex();
        stateCellRepainted = stateCellRepainted || (from.row() <= 1 && to.row() >= 1 &&
                                                    from.column() <= StepTableModel::StateColumn &&
                                                    to.column() >= StepTableModel::StateColumn);
    }
    QVERIFY(stateCellRepainted);
    QCOMPARE(state.data().toString(), QStringLiteral("Retrying (in 8 s)"));

    // And in the window: the row says what the node's badge says.
    QTableView view;
    view.setModel(&model);
    view.resize(600, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QAccessibleInterface *table = QAccessible::queryAccessibleInterface(&view);
    QVERIFY(table && table->tableInterface());
    model.setNow(18'000);
    QCOMPARE(
        table->tableInterface()->cellAt(1, StepTableModel::StateColumn)->text(QAccessible::Name),
        QStringLiteral("Retrying (in 2 s)"));
}

void TestMainWindow::attemptColumnsKeepTheirWidthsAcrossUpdates() {
    InspectorWidget inspector;
    inspector.resize(700, 600);
    inspector.show();
    QVERIFY(QTest::qWaitForWindowExposed(&inspector));
    InspectorData data;
    data.runId = QStringLiteral("r");
    data.view.stepId = QStringLiteral("charge");
    data.view.state = StepState::Retrying;
    data.view.attempts = 1;
    data.step.id = QStringLiteral("charge");
    data.step.kind = QStringLiteral("http");
    data.retry.maxAttempts = 5;
    data.now = 10'000;
    AttemptRow first;
    first.stepId = QStringLiteral("charge");
    first.number = 1;
    first.startedAt = 1'000;
    first.endedAt = 2'000;
    first.outcome = AttemptOutcome::FailedTransient;
    first.error = QStringLiteral("HTTP 503");
    first.idempotencyKey = QStringLiteral("r/charge/1");
    data.attempts = {first};
    inspector.showStep(data);
    QTableView *attempts = inspector.attemptsTable();
    QHeaderView *header = attempts->horizontalHeader();
    QCOMPARE(attempts->model()->rowCount(), 1);
    QVERIFY2(header->sectionSize(0) < 60, qPrintable(QString::number(header->sectionSize(0))));
    header->resizeSection(5, 150); // the operator widens the error column
    QList<int> widths;
    for (int c = 0; c < header->count(); ++c)
        widths << header->sectionSize(c);

    // A live update of the same step (a second attempt started): same columns, same widths.
    AttemptRow second = first;
    second.number = 2;
    second.startedAt = 9'000;
    second.endedAt = 0;
    second.outcome.reset();
    second.error.clear();
    second.idempotencyKey = QStringLiteral("r/charge/2");
    data.attempts = {first, second};
    data.view.state = StepState::Running;
    data.view.attempts = 2;
    inspector.showStep(data);
    QCOMPARE(attempts->model()->rowCount(), 2);
    QCOMPARE(attempts->model()->headerData(0, Qt::Horizontal).toString(), QStringLiteral("#"));
    QList<int> after;
    for (int c = 0; c < header->count(); ++c)
        after << header->sectionSize(c);
    QCOMPARE(after, widths);
}

void TestMainWindow::accessibilityClientSelectsARunAndItOpens() {
    Fixture f;
    const QString broken = f.start(kBroken);
    f.clock.advance(1000);
    const QString approval = f.start(kApproval);
    f.window->flushNow();
    f.window->selectRun(approval);
    QCOMPARE(f.window->stepModel()->rowCount(), 2);
    QAccessibleInterface *window = QAccessible::queryAccessibleInterface(f.window.get());
    QAccessibleInterface *runs = findAccessible(window, QAccessible::Table, QStringLiteral("Runs"));
    QVERIFY(runs && runs->tableInterface());
    int row = -1;
    for (int r = 0; r < runs->tableInterface()->rowCount(); ++r) {
        QAccessibleInterface *cell = runs->tableInterface()->cellAt(r, RunsModel::RunColumn);
        if (cell && cell->text(QAccessible::Name) == QStringLiteral("Run: ") + broken)
            row = r;
    }
    QVERIFY(row >= 0);
    // Selected, as a screen reader's "select" does: the run opens as if clicked.
    QVERIFY(runs->tableInterface()->selectRow(row));
    QCOMPARE(f.window->currentRun(), broken);
    QCOMPARE(f.window->stepModel()->rowCount(), 4);
    QVERIFY(f.window->windowTitle().contains(broken));
}

void TestMainWindow::noMatchingRunClosesTheRunAndTheTitleNamesIt() {
    Fixture f;
    // The platform appends the application's name: the title does not say it too.
    QVERIFY(!f.window->windowTitle().contains(QLatin1String("Keepflow")));
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    QVERIFY(f.window->windowTitle().startsWith(run + QStringLiteral(" · orders")));
    QVERIFY(!f.window->windowTitle().contains(QLatin1String("Keepflow")));
    RunsView *runs = f.window->runsView();
    QTest::keyClicks(runs->searchField(), QStringLiteral("no-such-run"));
    QTest::keyClick(runs->searchField(), Qt::Key_Return);
    QCOMPARE(runs->model()->rowCount(), 0);
    // Not the old run under a search that excludes it: empty panes that say why.
    QCOMPARE(f.window->currentRun(), QString());
    QCOMPARE(f.window->stepModel()->rowCount(), 0);
    QCOMPARE(f.window->eventLog()->rowCount(), 0);
    QVERIFY(!f.window->windowTitle().contains(run));
    QVERIFY(runs->emptyNotice()->isVisible());
    QVERIFY(runs->emptyNotice()->text().contains(QStringLiteral("“no-such-run”")));
    // Cleared, the run is listed again and opens on a click.
    runs->searchField()->clear();
    QTest::keyClick(runs->searchField(), Qt::Key_Return);
    QCOMPARE(runs->model()->rowCount(), 1);
    QTableView *table = runs->table();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(runs->model()->index(0, RunsModel::RunColumn)).center());
    QCOMPARE(f.window->currentRun(), run);
}

namespace {

const QByteArray kTemplatedApproval = R"({ "keepflow": 1, "name": "release",
    "params": { "version": { "default": "2.4" } },
    "steps": [ { "id": "build", "kind": "noop" },
               { "id": "go_live", "kind": "approval", "after": ["build"],
                 "with": { "prompt": "Release {{params.version}} passed its tests" } } ] })";

} // namespace

void TestMainWindow::approvalShowsItsRenderedPromptAndTakesAComment() {
    Fixture f;
    const QString run = f.start(kTemplatedApproval);
    QCOMPARE(f.monitor->run(run)->state, RunState::WaitingForOperator);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("go_live"));
    // The inspector says what the event log says: the prompt as rendered for this run.
    const QString why = f.window->inspector()->explanation();
    QVERIFY2(why.contains(QLatin1String("Release 2.4 passed its tests")), qPrintable(why));
    QVERIFY2(!why.contains(QLatin1String("{{")), qPrintable(why));

    QTest::mouseClick(f.button(QStringLiteral("Approve")), Qt::LeftButton);
    ActionDialog *dialog = f.window->actionDialog();
    QVERIFY(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    // What is being approved, a comment field (the CLI's --comment), room for both.
    QVERIFY(dialog->promptLabel()->isVisible());
    QVERIFY(dialog->promptLabel()->text().contains(QLatin1String("Release 2.4 passed its tests")));
    QCOMPARE(dialog->reasonEdit()->accessibleName(), QStringLiteral("Comment"));
    QVERIFY2(dialog->width() >= 480, qPrintable(QString::number(dialog->width())));
    QLineEdit *comment = dialog->reasonEdit();
    QVERIFY(comment->width() >
            comment->fontMetrics().horizontalAdvance(comment->placeholderText()) + 8);
    QVERIFY(dialog->canConfirm()); // a comment is optional
    QTest::keyClicks(comment, QStringLiteral("tests green, ship it"));
    dialog->confirm();
    f.settle();
    QCOMPARE(f.stepState(run, QStringLiteral("go_live")), std::optional(StepState::Succeeded));
    bool recorded = false;
    const auto events = f.monitor->events(run);
    for (const EventRow &event : *events)
        recorded = recorded || event.detail.value(QLatin1String("reason")).toString() ==
                                   QLatin1String("tests green, ship it");
    QVERIFY(recorded);
}

void TestMainWindow::reasonIsRequiredWhereAnActionSettlesOrEnds() {
    for (K kind : {K::Skip, K::MarkSucceeded, K::ResolveHappened, K::ResolveNotHappened, K::Reject,
                   K::CancelRun})
        QVERIFY2(actionNeedsReason(kind), qPrintable(actionLabel(kind)));
    for (K kind : {K::Retry, K::Approve})
        QVERIFY2(!actionNeedsReason(kind), qPrintable(actionLabel(kind)));

    Fixture f;
    const QString run = f.start(kBroken);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("fetch"));
    QTest::mouseClick(f.button(QStringLiteral("Skip")), Qt::LeftButton);
    ActionDialog *dialog = f.window->actionDialog();
    QVERIFY(dialog);
    QVERIFY(!dialog->canConfirm());
    QVERIFY2(dialog->problem().contains(QLatin1String("reason is required")),
             qPrintable(dialog->problem()));
    QTest::keyClicks(dialog->reasonEdit(), QStringLiteral("   ")); // blanks are no reason
    dialog->confirm();
    f.settle();
    QCOMPARE(f.stepState(run, QStringLiteral("fetch")), std::optional(StepState::Failed));
    QTest::keyClicks(dialog->reasonEdit(), QStringLiteral("supplier is down"));
    QVERIFY(dialog->canConfirm());
    QVERIFY(dialog->problem().isEmpty());
    dialog->confirm();
    f.settle();
    QCOMPARE(f.stepState(run, QStringLiteral("fetch")), std::optional(StepState::Skipped));

    // Retry takes one if given, and goes without.
    f.clickStepRow(QStringLiteral("fetch"));
    QTest::mouseClick(f.button(QStringLiteral("Rerun from here")), Qt::LeftButton);
    f.clickStepRow(QStringLiteral("audit"));
    f.window->requestAction(K::Retry, QStringLiteral("fetch"));
    QVERIFY(f.window->actionDialog());
    QVERIFY(f.window->actionDialog()->canConfirm());
}

void TestMainWindow::retryFailedItemsPreviewNamesTheItems() {
    Fixture f;
    const QString run = f.start(kPartial);
    f.window->selectRun(run);
    f.clickStepRow(QStringLiteral("notify"));
    QStringList failed;
    const auto items = f.monitor->items(run);
    for (const ItemRow &item : *items) {
        if (item.stepId == QLatin1String("notify") && item.state == StepState::Failed)
            failed << item.itemKey;
    }
    QCOMPARE(failed.size(), 2);
    QTest::mouseClick(f.button(QStringLiteral("Retry failed items")), Qt::LeftButton);
    ActionDialog *dialog = f.window->actionDialog();
    QVERIFY(dialog && dialog->itemsList());
    QStringList listed;
    for (int i = 0; i < dialog->itemsList()->count(); ++i)
        listed << dialog->itemsList()->item(i)->text();
    QCOMPARE(listed, failed);
    QVERIFY(dialog->previewedSteps().contains(QStringLiteral("notify")));
}

void TestMainWindow::cancelAsksForAReasonAndRecordsIt() {
    Fixture f;
    const QString run = f.start(kApproval);
    f.window->flushNow();
    f.window->selectRun(run);
    QAction *cancel = f.runMenuAction(QStringLiteral("Cancel run"));
    QVERIFY(cancel);
    QVERIFY(cancel->text().endsWith(QStringLiteral("…"))); // it asks before acting
    cancel->trigger();
    // Nothing happened yet: a dialog asks for the reason.
    QCOMPARE(f.monitor->run(run)->state, RunState::WaitingForOperator);
    ActionDialog *dialog = f.window->actionDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->kind(), K::CancelRun);
    QVERIFY(dialog->promptLabel()->text().contains(run));
    QVERIFY(!dialog->canConfirm());
    dialog->confirm();
    QCOMPARE(f.monitor->run(run)->state, RunState::WaitingForOperator);
    QTest::keyClicks(dialog->reasonEdit(), QStringLiteral("release postponed to Monday"));
    dialog->confirm();
    f.settle();
    QCOMPARE(f.monitor->run(run)->state, RunState::Cancelled);
    // The event log says who and why, not only "cancel by root".
    bool said = false;
    for (int row = 0; row < f.window->eventLog()->rowCount(); ++row) {
        const QString text =
            f.window->eventLog()->index(row, EventLogModel::EventColumn).data().toString();
        said = said || text.contains(QLatin1String("release postponed to Monday"));
    }
    QVERIFY(said);
}

void TestMainWindow::requiredParameterMustBeFilled() {
    Fixture f;
    const QString path = f.dir.filePath(QStringLiteral("greet.flow.json"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({ "keepflow": 1, "name": "greet",
        "params": { "who": { "description": "whom to greet" }, "greeting": { "default": "hi" } },
        "steps": [ { "id": "say", "kind": "noop", "with": { "output": "{{params.who}}" } } ] })");
    file.close();

    // Given on the command line without it: refused, by name.
    f.window->startRunFromFile(path, {QStringLiteral("greeting=hello")});
    QCOMPARE(*f.monitor->countRuns({}), 0);
    QVERIFY2(f.window->lastMessage().contains(QLatin1String("who")),
             qPrintable(f.window->lastMessage()));

    // In the dialog: Start waits for it and says which is missing.
    bool checked = false;
    QTimer::singleShot(0, [&] {
        QWidget *dialog = QApplication::activeModalWidget();
        QVERIFY(dialog);
        QPushButton *start = nullptr;
        for (QPushButton *b : dialog->findChildren<QPushButton *>()) {
            if (b->accessibleName() == QLatin1String("Start"))
                start = b;
        }
        QLineEdit *who = nullptr;
        for (QLineEdit *e : dialog->findChildren<QLineEdit *>()) {
            if (e->accessibleName() == QLatin1String("who"))
                who = e;
        }
        QLabel *missing = nullptr;
        for (QLabel *l : dialog->findChildren<QLabel *>()) {
            if (l->accessibleName() == QLatin1String("Missing parameters"))
                missing = l;
        }
        QVERIFY(start && who && missing);
        QVERIFY(!start->isEnabled());
        QVERIFY2(missing->text().contains(QLatin1String("who")), qPrintable(missing->text()));
        QTest::keyClicks(who, QStringLiteral("  "));
        QVERIFY(!start->isEnabled());
        QTest::keyClicks(who, QStringLiteral("ops"));
        QVERIFY(start->isEnabled());
        QVERIFY(!missing->isVisible());
        checked = true;
        QTest::mouseClick(start, Qt::LeftButton);
    });
    f.window->startRunFromFile(path);
    QVERIFY(checked);
    QCOMPARE(*f.monitor->countRuns({}), 1);
}

void TestMainWindow::workerResumesAreFoldedInTheEventLog() {
    auto event = [](qint64 id, EventType type, const QString &step = {}) {
        EventRow row;
        row.id = id;
        row.at = 1000 * id;
        row.runId = QStringLiteral("r");
        row.stepId = step;
        row.type = type;
        row.actor = QStringLiteral("vm:1");
        row.detail = {{QStringLiteral("worker"), QStringLiteral("vm:1234")}};
        return row;
    };
    EventLogModel log;
    log.setEvents(QStringLiteral("r"),
                  {event(1, EventType::RunCreated), event(2, EventType::RunResumed),
                   event(3, EventType::StepScheduled, QStringLiteral("a")),
                   event(4, EventType::RunResumed)});
    QCOMPARE(log.rowCount(), 2);
    QCOMPARE(log.hiddenCount(), 2);
    for (int row = 0; row < log.rowCount(); ++row)
        QVERIFY(log.eventAt(row)->type != EventType::RunResumed);
    QSignalSpy hidden(&log, &EventLogModel::hiddenCountChanged);
    log.appendEvents(
        {event(5, EventType::RunResumed), event(6, EventType::StepSucceeded, QStringLiteral("a"))});
    QCOMPARE(log.rowCount(), 3);
    QCOMPARE(log.eventAt(2)->id, 6);
    QCOMPARE(hidden.last().at(0).toInt(), 3);
    log.setShowResumes(true); // on demand, in their places
    QCOMPARE(log.rowCount(), 6);
    QCOMPARE(log.eventAt(1)->type, EventType::RunResumed);

    // The window's log folds them too, and its context menu offers them.
    Fixture f;
    auto *toggle = f.window->findChild<QAction *>(QStringLiteral("showResumes"));
    QVERIFY(toggle && toggle->isCheckable() && !toggle->isChecked());
    QVERIFY(!f.window->eventLog()->showsResumes());
    toggle->trigger();
    QVERIFY(f.window->eventLog()->showsResumes());
}

void TestMainWindow::historyScrubberShowsThePastAndNowReturnsToLive() {
    Fixture f;
    // flaky fails once and retries after a second; then an approval waits for an operator.
    const QString run = f.start(flowText("travel", R"(
        { "id": "flaky", "kind": "fault", "with": { "fail_first": 1 },
          "retry": { "max_attempts": 4, "initial_interval": "1s", "jitter": 0 } },
        { "id": "approve", "kind": "approval", "after": ["flaky"], "with": { "prompt": "go?" } })"));
    f.clock.advance(1000);
    f.settle();
    QCOMPARE(f.stepState(run, QStringLiteral("approve")), StepState::WaitingForOperator);
    f.window->selectRun(run);
    f.settle();
    f.clickStepRow(QStringLiteral("flaky"));
    HistoryScrubber *scrubber = f.window->historyScrubber();
    QVERIFY(!scrubber->isScrubbed());
    QCOMPARE(scrubber->slider()->accessibleName(), QStringLiteral("Run history"));
    QCOMPARE(scrubber->nowButton()->accessibleName(), QStringLiteral("Now"));
    QVERIFY(scrubber->label()->text().startsWith(QLatin1String("Live")));
    QVERIFY(!scrubber->nowButton()->isEnabled());

    const QList<EventRow> &events = scrubber->events();
    qsizetype retrying = -1;
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (events[i].type == EventType::StepRetrying)
            retrying = i;
    }
    QVERIFY(retrying > 0);

    // Home goes to the first event, Right steps one event at a time to the retry.
    scrubber->slider()->setFocus();
    QTest::keyClick(scrubber->slider(), Qt::Key_Home);
    QVERIFY(scrubber->isScrubbed());
    QCOMPARE(scrubber->index(), qsizetype(0));
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->state, StepState::Pending);
    for (qsizetype i = 0; i < retrying; ++i)
        QTest::keyClick(scrubber->slider(), Qt::Key_Right);
    QCOMPARE(scrubber->index(), retrying);
    f.window->flushNow();

    // The graph, the step table and the inspector show the retry; the log marks its event.
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->state, StepState::Retrying);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->attempts, 1);
    // "attempt 1/4": the budget as the run had it, its one failure counted against it.
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->maxAttempts, 4);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("approve"))->state,
             StepState::Pending);
    const int flakyRow = f.window->stepModel()->rowOfStep(QStringLiteral("flaky"));
    QCOMPARE(f.window->stepModel()->stepAt(flakyRow)->state, StepState::Retrying);
    QCOMPARE(f.window->inspector()->shown().view.state, StepState::Retrying);
    const qint64 retryingId = events[retrying].id;
    QCOMPARE(f.window->eventLog()->highlightedEvent(), retryingId);
    const int logRow = f.window->eventLog()->rowOfEvent(retryingId);
    QVERIFY(logRow >= 0);
    QVERIFY(
        f.window->eventLog()
            ->data(f.window->eventLog()->index(logRow, EventLogModel::EventColumn), Qt::FontRole)
            .value<QFont>()
            .bold());
    const QString label = scrubber->label()->text();
    QVERIFY2(label.contains(QLatin1String("step_retrying")) &&
                 label.contains(QLatin1String("step flaky")),
             qPrintable(label));
    QVERIFY2(f.window->runHeaderText().contains(QLatin1String("as it was at")),
             qPrintable(f.window->runHeaderText()));

    // Actions would act on the present: disabled, and the tooltip says why.
    QPushButton *retry = f.button(QStringLiteral("Retry now"));
    QVERIFY(retry);
    QVERIFY(!retry->isEnabled());
    QVERIFY2(retry->toolTip().contains(QLatin1String("Press Now")), qPrintable(retry->toolTip()));
    // So would the Run menu's actions on runs (its shortcuts with them).
    QAction *cancelRun = f.runMenuAction(QStringLiteral("Cancel run"));
    QVERIFY(cancelRun);
    QVERIFY(!cancelRun->isEnabled());
    QVERIFY(!f.runMenuAction(QStringLiteral("Pause run"))->isEnabled());
    QVERIFY2(cancelRun->toolTip().contains(QLatin1String("press Now")),
             qPrintable(cancelRun->toolTip()));

    // What happens meanwhile does not move the past: an approval from elsewhere.
    OperatorAction approve;
    approve.kind = K::Approve;
    approve.runId = run;
    approve.stepId = QStringLiteral("approve");
    approve.actor = QStringLiteral("elsewhere");
    QVERIFY(f.monitor->act(approve));
    f.settle();
    QCOMPARE(f.stepState(run, QStringLiteral("approve")), StepState::Succeeded);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->state, StepState::Retrying);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("approve"))->state,
             StepState::Pending);
    QCOMPARE(scrubber->index(), retrying);
    QVERIFY(scrubber->events().size() > events.size() - 1);

    // Now: live again, with what happened meanwhile, and the actions follow the steps again.
    QTest::mouseClick(scrubber->nowButton(), Qt::LeftButton);
    f.window->flushNow();
    QVERIFY(!scrubber->isScrubbed());
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("flaky"))->state,
             StepState::Succeeded);
    QCOMPARE(f.window->graphScene()->stepView(QStringLiteral("approve"))->state,
             StepState::Succeeded);
    QCOMPARE(f.window->stepModel()->stepAt(flakyRow)->state, StepState::Succeeded);
    QCOMPARE(f.window->eventLog()->highlightedEvent(), qint64(0));
    QVERIFY(!f.window->runHeaderText().contains(QLatin1String("as it was")));
    QVERIFY(scrubber->label()->text().startsWith(QLatin1String("Live")));
    QVERIFY(!f.button(QStringLiteral("Retry"))->toolTip().contains(QLatin1String("Press Now")));
    QVERIFY(cancelRun->isEnabled());

    // Play from the start at 5 events/s: two seconds of playback move ten events on.
    scrubber->setSpeed(static_cast<int>(HistoryScrubber::speeds().size()) - 2);
    scrubber->play();
    QVERIFY(scrubber->isPlaying());
    QCOMPARE(scrubber->index(), qsizetype(0));
    scrubber->advancePlayback(1000);
    QCOMPARE(scrubber->index(), qsizetype(5));
    scrubber->advancePlayback(60'000); // past the end: live
    QVERIFY(!scrubber->isScrubbed());
    QVERIFY(!scrubber->isPlaying());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
