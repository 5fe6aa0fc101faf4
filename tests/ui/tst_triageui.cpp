// Triage across runs in the desktop: the Failures tab groups a seeded database's failures and
// unfolds to their runs, a group's bulk retry shows its dry run (exactly the group's runs) and
// applies it with refusals per run, the runs list's triage filters and counts per state, and
// Cancel during a bulk apply. The engine runs in-process on a manual clock; nothing sleeps.

#include "api/monitor.h"
#include "bulkdialog.h"
#include "failuresview.h"
#include "mainwindow.h"
#include "model/flowfile.h"
#include "runsmodel.h"
#include "runsview.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

using namespace keepflow;
using namespace keepflow::ui;
using K = OperatorAction::Kind;

namespace {

QByteArray flowText(const QByteArray &name, const QByteArray &steps) {
    return "{ \"keepflow\": 1, \"name\": \"" + name + "\", \"steps\": [" + steps + "] }";
}

// fetch fails for good at its first attempt; use waits behind it.
const QByteArray kOrders = flowText("orders", R"(
    { "id": "fetch", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "use", "kind": "noop", "after": ["fetch"] })");

// The same flow and step failing with another error class: another group.
const QByteArray kOrdersOtherCause = flowText("orders", R"(
    { "id": "fetch", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 9, "error": "transient" } },
    { "id": "use", "kind": "noop", "after": ["fetch"] })");

// Two steps fail for good (two groups), one waits for approval.
const QByteArray kBilling = flowText("billing", R"(
    { "id": "charge", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "invoice", "kind": "fault", "retry": { "max_attempts": 1 },
      "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "approve", "kind": "approval", "with": { "prompt": "ok?" } })");

const QByteArray kFine = flowText("fine", R"({ "id": "only", "kind": "noop" })");

constexpr qint64 kDayMs = 24 * 3600 * 1000;

struct Fixture {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Monitor> monitor;
    std::unique_ptr<MainWindow> window;

    Fixture() {
        Monitor::Options options;
        options.clock = &clock;
        auto opened = Monitor::open(dir.filePath(QStringLiteral("triage.db")), options);
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

    void settle() {
        for (int round = 0; round < 30; ++round) {
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

    FailuresView *showFailures() {
        FailuresView *view = window->failuresView();
        auto *tabs = qobject_cast<QTabWidget *>(view->parentWidget()->parentWidget());
        tabs->setCurrentWidget(view);
        view->flushNow();
        return view;
    }

    /// The group row of flow/step in the Failures tree; null when there is none.
    QTreeWidgetItem *groupRow(const QString &flow, const QString &step) {
        QTreeWidget *tree = window->failuresView()->tree();
        for (int i = 0; i < tree->topLevelItemCount(); ++i) {
            QTreeWidgetItem *item = tree->topLevelItem(i);
            if (item->text(FailuresView::FlowColumn) == flow &&
                item->text(FailuresView::StepColumn) == step)
                return item;
        }
        return nullptr;
    }

    /// Opens the bulk dialog of the group's action as a person would (the group's menu).
    BulkDialog *actOnGroup(const QString &flow, const QString &step, K kind) {
        FailuresView *view = window->failuresView();
        view->tree()->setCurrentItem(groupRow(flow, step));
        for (QAction *action : view->groupActions()) {
            if (action->data().toInt() == static_cast<int>(kind))
                action->trigger();
        }
        return window->bulkDialog();
    }
};

QStringList sorted(QStringList list) {
    list.sort();
    return list;
}

QStringList runsOf(const QTreeWidgetItem *group) {
    QStringList runs;
    for (int i = 0; i < group->childCount(); ++i)
        runs << group->child(i)->text(0);
    return runs;
}

QStringList dialogRuns(const BulkDialog *dialog, const QString &outcome = {}) {
    QStringList runs;
    const QTableWidget *table = dialog->runsTable();
    for (int row = 0; row < table->rowCount(); ++row) {
        if (outcome.isEmpty() || table->item(row, BulkDialog::OutcomeColumn)->text() == outcome)
            runs << table->item(row, BulkDialog::RunColumn)->text();
    }
    return runs;
}

QStringList listedRuns(RunsView *view) {
    QStringList runs;
    for (int row = 0; row < view->model()->rowCount(); ++row)
        runs << view->model()->runIdAt(row);
    return runs;
}

} // namespace

class TestTriageUi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void failuresGroupAndUnfoldToTheirRuns();
    void groupRetryShowsItsDryRunThenAppliesWithRefusals();
    void runsListFiltersAndCountsPerState();
    void cancelStopsAfterTheCommitUnderWay();
};

void TestTriageUi::failuresGroupAndUnfoldToTheirRuns() {
    Fixture f;
    const QStringList orders{f.start(kOrders), f.start(kOrders), f.start(kOrders)};
    const QString billing = f.start(kBilling);
    f.start(kFine);
    FailuresView *view = f.showFailures();

    QCOMPARE(view->tree()->topLevelItemCount(), 3);
    // Biggest first.
    QTreeWidgetItem *top = view->tree()->topLevelItem(0);
    QCOMPARE(top->text(FailuresView::FlowColumn), QStringLiteral("orders"));
    QCOMPARE(top->text(FailuresView::StepColumn), QStringLiteral("fetch"));
    QCOMPARE(top->text(FailuresView::RunsColumn), QString::number(orders.size()));
    QCOMPARE(sorted(runsOf(top)), sorted(orders));
    for (const char *step : {"charge", "invoice"}) {
        QTreeWidgetItem *group = f.groupRow(QStringLiteral("billing"), QString::fromLatin1(step));
        QVERIFY2(group, step);
        QCOMPARE(runsOf(group), QStringList{billing});
    }

    // Activating a run (Enter, double-click) opens it.
    view->tree()->expandItem(top);
    view->tree()->setCurrentItem(top->child(1));
    view->tree()->setFocus();
    QTest::keyClick(view->tree(), Qt::Key_Return);
    QCOMPARE(f.window->currentRun(), top->child(1)->text(0));

    // The runs list's flow filter narrows the groups.
    f.window->runsView()->flowCombo()->setCurrentIndex(
        f.window->runsView()->flowCombo()->findData(QStringLiteral("billing")));
    QCOMPARE(view->tree()->topLevelItemCount(), 2);
    QVERIFY(!f.groupRow(QStringLiteral("orders"), QStringLiteral("fetch")));

    // A new failure shows after the change feed names its run (throttled, then read).
    f.window->runsView()->flowCombo()->setCurrentIndex(0);
    const QString another = f.start(kOrders);
    view->flushNow();
    QVERIFY(
        runsOf(f.groupRow(QStringLiteral("orders"), QStringLiteral("fetch"))).contains(another));
}

void TestTriageUi::groupRetryShowsItsDryRunThenAppliesWithRefusals() {
    Fixture f;
    const QStringList orders{f.start(kOrders), f.start(kOrders), f.start(kOrders)};
    const QString billing = f.start(kBilling);
    const QString otherCause = f.start(kOrdersOtherCause);
    f.showFailures();
    QCOMPARE(f.window->failuresView()->groups().size(), 4);

    BulkDialog *dialog = f.actOnGroup(QStringLiteral("orders"), QStringLiteral("fetch"), K::Retry);
    QVERIFY(dialog);
    // The dry run: exactly the group's runs, its step in each; nothing changed yet.
    QCOMPARE(sorted(dialogRuns(dialog)), sorted(orders));
    for (const BulkRunOutcome &run : dialog->report().runs) {
        QCOMPARE(run.outcome, BulkRunOutcome::Outcome::WouldApply);
        QCOMPARE(run.steps, QStringList{QStringLiteral("fetch")});
    }
    QVERIFY(dialog->summaryLabel()->text().contains(QStringLiteral("3 step(s) in 3 run(s)")));
    for (const QString &run : orders)
        QCOMPARE(f.stepState(run, QStringLiteral("fetch")), StepState::Failed);
    QCOMPARE(f.stepState(billing, QStringLiteral("charge")), StepState::Failed);

    // Someone retries one of the runs meanwhile: applying refuses that run and says why.
    OperatorAction single;
    single.kind = K::Retry;
    single.runId = orders[0];
    single.stepId = QStringLiteral("fetch");
    QVERIFY(f.monitor->act(single));

    QSignalSpy done(dialog, &BulkDialog::applyFinished);
    dialog->reasonEdit()->setText(QStringLiteral("upstream fixed"));
    QTest::mouseClick(dialog->applyButton(), Qt::LeftButton);
    QVERIFY(done.wait(10'000));
    QCOMPARE(dialog->appliedCount(), 2);
    QCOMPARE(dialog->refusedCount(), 1);
    QCOMPARE(dialogRuns(dialog, QStringLiteral("Refused")), QStringList{orders[0]});
    QCOMPARE(sorted(dialogRuns(dialog, QStringLiteral("Applied"))), sorted({orders[1], orders[2]}));
    const QTableWidget *table = dialog->runsTable();
    for (int row = 0; row < table->rowCount(); ++row)
        QVERIFY(!table->item(row, BulkDialog::ReasonColumn)->text().isEmpty());
    // Through the monitor: the group's steps are failed no more; another group's stays failed.
    for (const QString &run : orders)
        QVERIFY(f.stepState(run, QStringLiteral("fetch")) != StepState::Failed);
    QCOMPARE(f.stepState(billing, QStringLiteral("charge")), StepState::Failed);
    QCOMPARE(f.stepState(otherCause, QStringLiteral("fetch")), StepState::Failed);
    QCOMPARE(dialog->progressBar()->value(), 3);
}

void TestTriageUi::runsListFiltersAndCountsPerState() {
    Fixture f;
    const QString old = f.start(kOrders);
    f.clock.advance(2 * kDayMs);
    const QStringList orders{f.start(kOrders), f.start(kOrders)};
    const QString billing = f.start(kBilling);
    const QString fine = f.start(kFine);
    RunsView *view = f.window->runsView();

    // Counts per state, from the runs themselves.
    const auto all = f.monitor->runSummaries({});
    QVERIFY(all);
    QMap<RunState, int> expected;
    for (const RunSummary &run : *all)
        expected[run.state] += 1;
    QComboBox *states = view->stateCombo();
    // Live changes read them again within a second (throttled); here at once.
    view->refreshStateCounts();
    for (int i = 1; i < states->count(); ++i) {
        const auto state = static_cast<RunState>(states->itemData(i).toInt());
        QVERIFY2(states->itemText(i).endsWith(QStringLiteral("(%1)").arg(expected.value(state))),
                 qPrintable(states->itemText(i)));
    }
    QCOMPARE(states->itemText(0), QStringLiteral("All states (5)"));

    // Step filters: one and the same step.
    view->stepFiltersToggle()->click();
    view->stepIdField()->setText(QStringLiteral("invoice"));
    view->applyStepFiltersNow();
    QCOMPARE(listedRuns(view), QStringList{billing});
    view->stepIdField()->clear();
    view->stepStateCombo()->setCurrentIndex(
        view->stepStateCombo()->findData(static_cast<int>(StepState::Failed)));
    QCOMPARE(sorted(listedRuns(view)), sorted(QStringList{old, orders[0], orders[1], billing}));
    // The counts follow the other filters: the succeeded run is not counted now.
    const int succeededIndex = states->findData(static_cast<int>(RunState::Succeeded));
    QVERIFY2(states->itemText(succeededIndex).endsWith(QStringLiteral("(0)")),
             qPrintable(states->itemText(succeededIndex)));
    view->errorField()->setText(QStringLiteral("no such error text"));
    view->applyStepFiltersNow();
    QVERIFY(listedRuns(view).isEmpty());
    view->errorField()->clear();
    view->stepStateCombo()->setCurrentIndex(0);
    view->applyStepFiltersNow();
    QCOMPARE(listedRuns(view).size(), 5);

    // Time range on the manual clock: the run that ended two days ago is not in the last hour.
    view->timeCombo()->setCurrentIndex(view->timeCombo()->findText(QStringLiteral("Last hour")));
    QCOMPARE(sorted(listedRuns(view)), sorted(QStringList{orders[0], orders[1], billing, fine}));
    view->timeCombo()->setCurrentIndex(view->timeCombo()->findText(QStringLiteral("Last 7 days")));
    QCOMPARE(listedRuns(view).size(), 5);

    // "Retry failed…" over the filters: its dry run lists the runs the filters select.
    view->timeCombo()->setCurrentIndex(view->timeCombo()->findText(QStringLiteral("Last hour")));
    view->flowCombo()->setCurrentIndex(view->flowCombo()->findData(QStringLiteral("orders")));
    view->retryFailedButton()->click();
    QVERIFY(f.window->bulkDialog());
    QCOMPARE(sorted(dialogRuns(f.window->bulkDialog())), sorted(orders));
}

void TestTriageUi::cancelStopsAfterTheCommitUnderWay() {
    Fixture f;
    QStringList orders;
    for (int i = 0; i < 5; ++i)
        orders << f.start(kOrders);
    f.showFailures();
    BulkRequest request =
        FailuresView::requestFor(f.window->failuresView()->groups().first(), K::Retry);
    request.runsPerCommit = 2; // the desktop commits 500 runs at a time
    f.window->requestBulk(request, QStringLiteral("five runs"));
    BulkDialog *dialog = f.window->bulkDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->report().runs.size(), 5);

    QSignalSpy done(dialog, &BulkDialog::applyFinished);
    // Cancel as soon as the first commit is reported.
    connect(dialog, &BulkDialog::progressed, dialog, [dialog](int handled) {
        if (handled == 2)
            QTest::mouseClick(dialog->cancelButton(), Qt::LeftButton);
    });
    dialog->apply();
    QVERIFY(dialog->isApplying());
    QVERIFY(done.wait(10'000));
    QVERIFY(dialog->report().cancelled);
    QCOMPARE(dialog->appliedCount(), 2);
    int retried = 0;
    for (const QString &run : orders)
        retried += f.stepState(run, QStringLiteral("fetch")) != StepState::Failed;
    QCOMPARE(retried, 2);
    QCOMPARE(dialog->progressBar()->value(), 2);
    QCOMPARE(dialog->cancelButton()->text(), QStringLiteral("&Close"));
}

QTEST_MAIN(TestTriageUi)
#include "tst_triageui.moc"
