#include "core/states.h"
#include "runsmodel.h"
#include "runsview.h"
#include "statestyle.h"
#include "store/store.h"

#include <QAccessible>
#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QIcon>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QVBoxLayout>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

const QStringList kFlows = {QStringLiteral("alpha"), QStringLiteral("beta"),
                            QStringLiteral("gamma")};
const QList<RunState> kStates = {RunState::Running, RunState::Succeeded, RunState::Failed};
constexpr qint64 kStart = 1'700'000'000'000;
constexpr int kStepsPerRun = 4;

QString runId(int i) {
    return QStringLiteral("run-%1").arg(i, 4, 10, QLatin1Char('0'));
}

/// Run i: flow i % 3, state i % 3, created 10 s after run i-1; i % 5 of its 4 steps done.
RunRow runRow(int i, const QHash<QString, qint64> &flowIds, RunState state) {
    RunRow run;
    run.id = runId(i);
    run.flowName = kFlows.at(i % kFlows.size());
    run.flowId = flowIds.value(run.flowName);
    run.state = state;
    run.createdAt = kStart + i * 10'000;
    return run;
}

QList<StepRunRow> stepRows(int i) {
    QList<StepRunRow> steps;
    for (int s = 0; s < kStepsPerRun; ++s) {
        StepRunRow step;
        step.runId = runId(i);
        step.stepId = QStringLiteral("step%1").arg(s);
        step.position = s;
        step.state = s < i % 5 ? StepState::Succeeded : StepState::Pending;
        steps.append(step);
    }
    return steps;
}

RunsSource sourceOf(Store *store) {
    return {[store](const RunQuery &query) { return store->runSummaries(query); },
            [store](const RunQuery &query) { return store->countRuns(query); },
            [store](const RunQuery &query) { return store->countRunsByState(query); }};
}

QString display(const RunsModel &model, int row, int column) {
    return model.data(model.index(row, column)).toString();
}

} // namespace

class TestRunsModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void showsRunsNewestFirst();
    void showsStateAsIconAndLabel();
    void durationIsLiveForUnfinishedRuns();
    void startedIsShortAndWholeInTheTooltip();
    void compactStatesKeepTheLabelForAssistiveClients();
    void filtersAreNewQueries();
    void searchMatchesIdOrFlow();
    void lazyLoadingLoadsPagesNotEverything();
    void refreshUpdatesRowInPlaceAndKeepsSelection();
    void newRunAppearsAtTopKeepingSelection();
    void runLeavingStateFilterLeavesTheList();
    void runEnteringStateFilterKeepsSelectionOnItsRun();
    void viewCombosFilterTheModel();
    void viewReportsSelectedRuns();
    void tabLeavesTheRunsList();
    void selectingARowThroughAccessibilityOpensItsRun();
    void emptyListSaysWhy();

private:
    void addRuns(int count);
    void setRunState(int i, RunState state, qint64 endedAt = 0);

    QTemporaryDir m_dir;
    int m_dbNumber = 0;
    std::unique_ptr<Store> m_store;
    QHash<QString, qint64> m_flowIds;
    int m_runs = 0;
};

void TestRunsModel::init() {
    QVERIFY(m_dir.isValid());
    auto store = Store::open(m_dir.filePath(QStringLiteral("runs%1.db").arg(++m_dbNumber)));
    QVERIFY2(store, qPrintable(store.error()));
    m_store = std::move(*store);
    m_flowIds.clear();
    for (const QString &flow : kFlows) {
        auto version = m_store->saveFlowVersion(flow, "{\"name\":\"" + flow.toUtf8() + "\"}", {});
        QVERIFY2(version, qPrintable(version.error()));
        m_flowIds.insert(flow, version->id);
    }
    m_runs = 0;
    addRuns(30);
}

void TestRunsModel::cleanup() {
    m_store.reset();
}

void TestRunsModel::addRuns(int count) {
    Batch batch;
    for (int i = m_runs; i < m_runs + count; ++i) {
        batch.runs.append(runRow(i, m_flowIds, kStates.at(i % kStates.size())));
        batch.steps.append(stepRows(i));
    }
    m_runs += count;
    auto committed = m_store->commit(batch);
    QVERIFY2(committed, qPrintable(committed.error()));
}

void TestRunsModel::setRunState(int i, RunState state, qint64 endedAt) {
    Batch batch;
    RunRow run = runRow(i, m_flowIds, state);
    run.endedAt = endedAt;
    batch.runs.append(run);
    auto committed = m_store->commit(batch);
    QVERIFY2(committed, qPrintable(committed.error()));
}

void TestRunsModel::showsRunsNewestFirst() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    QCOMPARE(model.rowCount(), 30);
    QCOMPARE(model.columnCount(), RunsModel::kColumnCount);
    for (int row = 0; row < 30; ++row)
        QCOMPARE(model.runIdAt(row), runId(29 - row));
    QCOMPARE(model.data(model.index(0, 0), RunsModel::RunIdRole).toString(), runId(29));
    QCOMPARE(display(model, 0, RunsModel::FlowColumn), QStringLiteral("gamma"));
    QCOMPARE(display(model, 0, RunsModel::RunColumn), runId(29));
    QCOMPARE(display(model, 0, RunsModel::StepsColumn), QStringLiteral("4/4")); // 29 % 5 == 4
    QCOMPARE(display(model, 1, RunsModel::StepsColumn), QStringLiteral("3/4"));
    QCOMPARE(model.headerData(RunsModel::StepsColumn, Qt::Horizontal).toString(),
             QStringLiteral("Steps"));
    QCOMPARE(model.rowOfRun(runId(25)), 4);
    QCOMPARE(model.rowOfRun(QStringLiteral("nope")), -1);
}

void TestRunsModel::showsStateAsIconAndLabel() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    // Run 29: 29 % 3 == 2, failed.
    const QModelIndex state = model.index(0, RunsModel::StateColumn);
    QCOMPARE(model.data(state).toString(), stateLabel(RunState::Failed));
    const QIcon icon = model.data(state, Qt::DecorationRole).value<QIcon>();
    QVERIFY(!icon.isNull());
    QCOMPARE(icon.cacheKey(), stateIcon(RunState::Failed).cacheKey());
    QVERIFY(model.data(model.index(0, RunsModel::FlowColumn), Qt::DecorationRole).isNull());
    QCOMPARE(model.data(state, Qt::AccessibleTextRole).toString(), QStringLiteral("State: Failed"));
    QVERIFY(model.data(state, Qt::ToolTipRole).toString().contains(runId(29)));
    QCOMPARE(model.data(model.index(0, RunsModel::StepsColumn), Qt::AccessibleTextRole).toString(),
             QStringLiteral("Steps: 4 of 4 done"));
}

void TestRunsModel::durationIsLiveForUnfinishedRuns() {
    setRunState(28, RunState::Succeeded, kStart + 28 * 10'000 + 3'723'000);
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    const int running = model.rowOfRun(runId(27)); // 27 % 3 == 0: running
    QVERIFY(running >= 0);
    model.setNow(kStart + 27 * 10'000 + 65'000);
    QCOMPARE(display(model, running, RunsModel::DurationColumn), QStringLiteral("1m 05s"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setNow(kStart + 27 * 10'000 + 125'000);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(display(model, running, RunsModel::DurationColumn), QStringLiteral("2m 05s"));
    // A finished run keeps its own duration, whatever the time.
    QCOMPARE(display(model, model.rowOfRun(runId(28)), RunsModel::DurationColumn),
             QStringLiteral("1h 02m"));
}

void TestRunsModel::startedIsShortAndWholeInTheTooltip() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    const qint64 started = kStart + 29 * 10'000; // the top row
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(started);
    // The same day: the time alone.
    model.setNow(started + 60'000);
    QCOMPARE(display(model, 0, RunsModel::StartedColumn), at.toString(QStringLiteral("HH:mm:ss")));
    // Days later: the day; a year later: the date.
    model.setNow(started + 3 * 86'400'000LL);
    QCOMPARE(display(model, 0, RunsModel::StartedColumn), at.toString(QStringLiteral("MMM d")));
    model.setNow(started + 400 * 86'400'000LL);
    QCOMPARE(display(model, 0, RunsModel::StartedColumn),
             at.toString(QStringLiteral("yyyy-MM-dd")));
    // The whole time for the tooltip and for assistive clients.
    const QString whole = at.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    QVERIFY(model.data(model.index(0, RunsModel::FlowColumn), Qt::ToolTipRole)
                .toString()
                .contains(whole));
    QCOMPARE(
        model.data(model.index(0, RunsModel::StartedColumn), Qt::AccessibleTextRole).toString(),
        QStringLiteral("Started: ") + whole);
}

void TestRunsModel::compactStatesKeepTheLabelForAssistiveClients() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    const QModelIndex state = model.index(0, RunsModel::StateColumn);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setCompactStates(true);
    QCOMPARE(changed.count(), 1);
    // The icon alone on screen; the label for the tooltip and a screen reader.
    QVERIFY(model.data(state).toString().isEmpty());
    QVERIFY(!model.data(state, Qt::DecorationRole).value<QIcon>().isNull());
    QCOMPARE(model.data(state, Qt::AccessibleTextRole).toString(), QStringLiteral("State: Failed"));
    QVERIFY(model.data(state, Qt::ToolTipRole).toString().contains(stateLabel(RunState::Failed)));
    model.setCompactStates(false);
    QCOMPARE(model.data(state).toString(), stateLabel(RunState::Failed));
}

void TestRunsModel::filtersAreNewQueries() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    model.setStateFilter({RunState::Failed});
    QCOMPARE(model.rowCount(), 10);
    for (int row = 0; row < model.rowCount(); ++row)
        QCOMPARE(display(model, row, RunsModel::StateColumn), stateLabel(RunState::Failed));
    model.setStateFilter({RunState::Failed, RunState::Running});
    QCOMPARE(model.rowCount(), 20);
    model.setFlowFilter(QStringLiteral("beta")); // i % 3 == 1: always succeeded
    QCOMPARE(model.rowCount(), 0);
    model.setStateFilter({});
    QCOMPARE(model.rowCount(), 10);
    QCOMPARE(model.runIdAt(0), runId(28));
    model.setFlowFilter({});
    QCOMPARE(model.rowCount(), 30);
}

void TestRunsModel::searchMatchesIdOrFlow() {
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    model.setSearch(QStringLiteral("RUN-001"));
    QCOMPARE(model.rowCount(), 10); // run-0010 .. run-0019
    QCOMPARE(model.runIdAt(0), runId(19));
    model.setSearch(QStringLiteral("gam"));
    QCOMPARE(model.rowCount(), 10);
    model.setSearch(QStringLiteral("%"));
    QCOMPARE(model.rowCount(), 0);
    model.setSearch({});
    QCOMPARE(model.rowCount(), 30);
}

void TestRunsModel::lazyLoadingLoadsPagesNotEverything() {
    addRuns(970); // 1,000 runs: five pages
    RunsModel model;
    model.setSource(sourceOf(m_store.get()));
    QCOMPARE(model.rowCount(), 1000);
    QCOMPARE(model.loadedRowCount(), 0); // only counted
    QCOMPARE(model.runIdAt(0), runId(999));
    QCOMPARE(model.loadedRowCount(), RunsModel::kPageSize);
    QCOMPARE(model.runIdAt(999), runId(0)); // the end is one query away
    QCOMPARE(model.loadedRowCount(), 2 * RunsModel::kPageSize);
    QCOMPARE(model.rowOfRun(runId(500)), -1); // not loaded
    QCOMPARE(model.runIdAt(499), runId(500));
    QCOMPARE(model.rowOfRun(runId(500)), 499);
    QVERIFY(model.loadedRowCount() < model.rowCount());

    // In a view, scrolling to the bottom loads the last page, not everything above it.
    RunsView view;
    view.resize(800, 400);
    view.model()->setSource(sourceOf(m_store.get()));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.table()->scrollToBottom();
    QCoreApplication::processEvents();
    QTRY_VERIFY(view.table()->rowAt(view.table()->viewport()->height() - 1) == 999 ||
                view.table()->indexAt(QPoint(1, view.table()->viewport()->height() - 2)).row() ==
                    999);
    QVERIFY(view.model()->loadedRowCount() <= 2 * RunsModel::kPageSize);
    QVERIFY(view.model()->queryCount() <= 4);
}

void TestRunsModel::refreshUpdatesRowInPlaceAndKeepsSelection() {
    RunsView view;
    view.model()->setSource(sourceOf(m_store.get()));
    RunsModel &model = *view.model();
    view.selectRun(runId(27));
    QCOMPARE(view.selectedRunIds(), QStringList{runId(27)});
    const int row = model.rowOfRun(runId(27));
    QCOMPARE(display(model, row, RunsModel::StateColumn), stateLabel(RunState::Running));

    setRunState(27, RunState::Cancelled, kStart + 27 * 10'000 + 5'000);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);
    model.refreshRuns({runId(27)});
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(layout.count(), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).value<QModelIndex>().row(), row);
    QCOMPARE(model.rowOfRun(runId(27)), row);
    QCOMPARE(display(model, row, RunsModel::StateColumn), stateLabel(RunState::Cancelled));
    QCOMPARE(display(model, row, RunsModel::DurationColumn), QStringLiteral("5s"));
    QCOMPARE(view.selectedRunIds(), QStringList{runId(27)});
}

void TestRunsModel::newRunAppearsAtTopKeepingSelection() {
    RunsView view;
    view.model()->setSource(sourceOf(m_store.get()));
    RunsModel &model = *view.model();
    view.table()->selectRow(model.rowOfRun(runId(20)));
    QCOMPARE(view.selectedRunIds(), QStringList{runId(20)});
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    addRuns(2); // run-0030 and run-0031, newest
    model.refreshRuns({runId(30), runId(31)});
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 0);
    QCOMPARE(inserted.first().at(2).toInt(), 1);
    QCOMPARE(model.rowCount(), 32);
    QCOMPARE(model.runIdAt(0), runId(31));
    QCOMPARE(model.runIdAt(1), runId(30));
    QCOMPARE(model.runIdAt(2), runId(29));
    QCOMPARE(model.runIdAt(31), runId(0));
    QCOMPARE(model.rowOfRun(runId(20)), 11);
    QCOMPARE(view.selectedRunIds(), QStringList{runId(20)});
    // Nothing new: nothing moves.
    model.refreshRuns({runId(31)});
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 32);
}

void TestRunsModel::runLeavingStateFilterLeavesTheList() {
    RunsView view;
    RunsModel &model = *view.model();
    model.setSource(sourceOf(m_store.get()));
    model.setStateFilter({RunState::Running}); // runs 0, 3, ..., 27
    QCOMPARE(model.rowCount(), 10);
    view.selectRun(runId(3));
    setRunState(27, RunState::Succeeded, kStart + 280'000);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.refreshRuns({runId(27)});
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(model.rowCount(), 9);
    QCOMPARE(model.runIdAt(0), runId(24));
    QCOMPARE(view.selectedRunIds(), QStringList{runId(3)});
}

void TestRunsModel::runEnteringStateFilterKeepsSelectionOnItsRun() {
    RunsView view;
    RunsModel &model = *view.model();
    model.setSource(sourceOf(m_store.get()));
    model.setStateFilter({RunState::Running}); // runs 0, 3, ..., 27
    view.selectRun(runId(9));
    const int before = model.rowOfRun(runId(9));
    setRunState(20, RunState::Running); // above run 9 in the list
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.refreshRuns({runId(20)});
    QCOMPARE(reset.count(), 0);
    QCOMPARE(model.rowCount(), 11);
    QCOMPARE(model.runIdAt(3), runId(20)); // after 27, 24, 21
    QCOMPARE(view.selectedRunIds(), QStringList{runId(9)});
    QCOMPARE(view.table()->selectionModel()->selectedRows().first().row(), before + 1);
}

void TestRunsModel::viewCombosFilterTheModel() {
    RunsView view;
    RunsModel &model = *view.model();
    model.setSource(sourceOf(m_store.get()));
    auto flows = m_store->flowNames();
    QVERIFY(flows);
    view.setFlowNames(*flows);
    QCOMPARE(view.searchField()->placeholderText(), QStringLiteral("Search runs"));
    QCOMPARE(view.searchField()->accessibleName(), QStringLiteral("Search runs"));
    QCOMPARE(view.stateCombo()->accessibleName(), QStringLiteral("State filter"));
    QCOMPARE(view.table()->accessibleName(), QStringLiteral("Runs"));
    // With the number of runs under the other filters.
    QVERIFY(view.stateCombo()->itemText(0).startsWith(QStringLiteral("All states (")));
    QCOMPARE(view.stateCombo()->count(), 8);
    QCOMPARE(view.flowCombo()->itemText(0), QStringLiteral("All flows"));
    QCOMPARE(view.flowCombo()->count(), 4);
    QCOMPARE(view.table()->selectionBehavior(), QAbstractItemView::SelectRows);
    QCOMPARE(view.table()->selectionMode(), QAbstractItemView::ExtendedSelection);
    QVERIFY(!view.table()->isSortingEnabled());

    view.stateCombo()->setCurrentIndex(
        view.stateCombo()->findData(static_cast<int>(RunState::Failed)));
    QCOMPARE(model.stateFilter(), QList<RunState>{RunState::Failed});
    QCOMPARE(model.rowCount(), 10);
    view.flowCombo()->setCurrentIndex(view.flowCombo()->findText(QStringLiteral("gamma")));
    QCOMPARE(model.flowFilter(), QStringLiteral("gamma"));
    QCOMPARE(model.rowCount(), 10); // i % 3 == 2: every gamma run failed
    view.stateCombo()->setCurrentIndex(0);
    QCOMPARE(model.stateFilter(), QList<RunState>());
    QCOMPARE(model.rowCount(), 10);
    // The chosen flow survives a refill of the names, and is dropped when it is gone.
    view.setFlowNames(*flows);
    QCOMPARE(model.flowFilter(), QStringLiteral("gamma"));
    view.setFlowNames({QStringLiteral("alpha")});
    QCOMPARE(model.flowFilter(), QString());
    QCOMPARE(model.rowCount(), 30);

    QTest::keyClicks(view.searchField(), QStringLiteral("run-002"));
    QTest::keyClick(view.searchField(), Qt::Key_Return); // searches at once, no typing pause
    QCOMPARE(model.search(), QStringLiteral("run-002"));
    QCOMPARE(model.rowCount(), 10);
}

void TestRunsModel::viewReportsSelectedRuns() {
    RunsView view;
    view.resize(800, 600);
    view.model()->setSource(sourceOf(m_store.get()));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy selected(&view, &RunsView::runSelected);
    QSignalSpy selection(&view, &RunsView::selectionChanged);
    view.selectRun(runId(29));
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.last().at(0).toString(), runId(29));
    QCOMPARE(selection.last().at(0).toStringList(), QStringList{runId(29)});
    // Shift-click extends the selection for batch actions.
    QTableView *table = view.table();
    const QRect third = table->visualRect(view.model()->index(2, RunsModel::RunColumn));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, Qt::ShiftModifier, third.center());
    QCOMPARE(view.selectedRunIds(), (QStringList{runId(29), runId(28), runId(27)}));
    QCOMPARE(selection.last().at(0).toStringList(), (QStringList{runId(29), runId(28), runId(27)}));

    QSignalSpy menu(&view, &RunsView::runContextMenuRequested);
    Q_EMIT table->customContextMenuRequested(third.center());
    QCOMPARE(menu.count(), 1);
    QCOMPARE(menu.first().at(0).toStringList(), (QStringList{runId(29), runId(28), runId(27)}));
}

void TestRunsModel::tabLeavesTheRunsList() {
    QWidget window;
    auto *layout = new QVBoxLayout(&window);
    auto *view = new RunsView;
    auto *next = new QLineEdit; // the next pane
    next->setObjectName(QStringLiteral("next"));
    layout->addWidget(view);
    layout->addWidget(next);
    view->model()->setSource(sourceOf(m_store.get()));
    window.resize(800, 600);
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    view->selectRun(runId(29));
    QSignalSpy selected(view, &RunsView::runSelected);
    QTableView *table = view->table();
    const QModelIndex current = table->currentIndex();

    for (const Qt::KeyboardModifiers modifiers :
         {Qt::KeyboardModifiers(Qt::NoModifier), Qt::KeyboardModifiers(Qt::ControlModifier)}) {
        table->setFocus();
        QVERIFY(table->hasFocus());
        QTest::keyClick(table, Qt::Key_Tab, modifiers);
        QCOMPARE(QApplication::focusWidget(), next); // one stop, then the next pane
        QCOMPARE(table->currentIndex(), current);    // no walk through the cells
        QCOMPARE(view->selectedRunIds(), QStringList{runId(29)});
        QCOMPARE(selected.count(), 0);
    }
    // And back: Shift+Tab from the next pane lands on the list, not in its last cell.
    QTest::keyClick(next, Qt::Key_Backtab, Qt::ShiftModifier);
    QCOMPARE(QApplication::focusWidget(), table);
    QCOMPARE(table->currentIndex(), current);
}

void TestRunsModel::selectingARowThroughAccessibilityOpensItsRun() {
    RunsView view;
    view.resize(800, 600);
    view.model()->setSource(sourceOf(m_store.get()));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.selectRun(runId(29));
    QSignalSpy selected(&view, &RunsView::runSelected);
    // What an AT-SPI client's "select" does: select a row, the current index untouched.
    QAccessibleInterface *table = QAccessible::queryAccessibleInterface(view.table());
    QVERIFY(table && table->tableInterface());
    QVERIFY(table->tableInterface()->selectRow(3));
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.last().at(0).toString(), runId(26));
    // The keyboard goes on from the selected row.
    QCOMPARE(view.table()->currentIndex().row(), 3);
    // A selection made in code (the selection model) is the same.
    view.table()->selectionModel()->select(
        view.model()->index(5, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QCOMPARE(selected.count(), 2);
    QCOMPARE(selected.last().at(0).toString(), runId(24));
    QCOMPARE(view.selectedRunIds(), QStringList{runId(24)});
}

void TestRunsModel::emptyListSaysWhy() {
    RunsView view;
    view.resize(800, 600);
    view.model()->setSource(sourceOf(m_store.get()));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(!view.emptyNotice()->isVisible());
    view.selectRun(runId(29));
    QSignalSpy selected(&view, &RunsView::runSelected);
    QTest::keyClicks(view.searchField(), QStringLiteral("nothing-like-it"));
    QTest::keyClick(view.searchField(), Qt::Key_Return);
    QCOMPARE(view.model()->rowCount(), 0);
    QVERIFY(view.emptyNotice()->isVisible());
    QVERIFY(view.emptyNotice()->text().contains(QStringLiteral("“nothing-like-it”")));
    // Nothing matches, so nothing stays open.
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.last().at(0).toString(), QString());
    view.searchField()->clear();
    QTest::keyClick(view.searchField(), Qt::Key_Return);
    QVERIFY(!view.emptyNotice()->isVisible());

    // An empty database says how to start a run.
    QTemporaryDir dir;
    auto empty = Store::open(dir.filePath(QStringLiteral("empty.db")));
    QVERIFY(empty);
    RunsView fresh;
    fresh.resize(400, 400);
    fresh.model()->setSource(sourceOf(empty->get()));
    fresh.show();
    QVERIFY(QTest::qWaitForWindowExposed(&fresh));
    QVERIFY(fresh.emptyNotice()->isVisible());
    QVERIFY(fresh.emptyNotice()->text().contains(QLatin1String("Start run")));
}

QTEST_MAIN(TestRunsModel)
#include "tst_runsmodel.moc"
