// The step statistics of the open run's flow (View → Step statistics) and the "slow" badge: a
// database seeded with known step durations, attempts and failures; the view's figures, its
// order (the steps that fail or retry first) and its chart; a step far slower than its p95
// carries the badge on its node and in the step table while a normal one does not. The figures
// are read on the view's own thread: asking returns at once, the figures (and the badge) follow
// through the event loop, a result for a flow the user left is dropped, and the thread and its
// connection go with the window. Nothing sleeps: the monitor runs on a manual clock and executes
// nothing; the tests wait for conditions (QTRY_*, a semaphore the reading thread releases).

#include "api/monitor.h"
#include "graphscene.h"
#include "mainwindow.h"
#include "stepnodeitem.h"
#include "stepstatsreader.h"
#include "stepstatsview.h"
#include "steptablemodel.h"
#include "store/store.h"

#include "qcp.h"

#include <QDockWidget>
#include <QLabel>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

const QByteArray kFlow = R"({ "keepflow": 1, "name": "nightly",
  "steps": [ { "id": "fetch", "kind": "noop" },
             { "id": "count", "kind": "noop", "after": ["fetch"] } ] })";

// On an hour's start: the 31 runs fall in one hourly failure-rate bucket.
constexpr qint64 kStart = 1'780'002'000'000;
constexpr int kHistory = 30;

/// kHistory finished runs of nightly, a minute apart: fetch takes 1000 + 10 i ms (p50 1140,
/// p95 1280) and needs two attempts in runs 0, 10 and 20; count takes 200 ms and fails in every
/// fifth run. Then the open run "open": fetch took openFetchMs, count 210 ms.
void seed(const QString &path, qint64 openFetchMs) {
    auto store = Store::open(path);
    QVERIFY2(store, qPrintable(store ? QString() : store.error()));
    auto version = (*store)->saveFlowVersion(QStringLiteral("nightly"), kFlow, {});
    QVERIFY2(version, qPrintable(version ? QString() : version.error()));
    Batch batch;
    for (int i = 0; i <= kHistory; ++i) {
        const bool open = i == kHistory;
        RunRow run;
        run.id = open ? QStringLiteral("open") : QStringLiteral("run-%1").arg(i, 2, 10, QChar('0'));
        run.flowId = version->id;
        run.flowName = QStringLiteral("nightly");
        run.createdAt = kStart + i * 60'000LL;
        const bool countFails = !open && i % 5 == 0;
        run.state = countFails ? RunState::CompletedWithFailures : RunState::Succeeded;
        const qint64 fetchMs = open ? openFetchMs : 1000 + 10 * i;
        run.endedAt = run.createdAt + fetchMs + 300;
        batch.runs << run;
        StepRunRow fetch;
        fetch.runId = run.id;
        fetch.stepId = QStringLiteral("fetch");
        fetch.state = StepState::Succeeded;
        fetch.attempts = !open && i % 10 == 0 ? 2 : 1;
        fetch.failures = fetch.attempts - 1;
        fetch.startedAt = run.createdAt + 5;
        fetch.endedAt = fetch.startedAt + fetchMs;
        batch.steps << fetch;
        StepRunRow count = fetch;
        count.stepId = QStringLiteral("count");
        count.position = 1;
        count.attempts = 1;
        count.failures = countFails ? 1 : 0;
        count.state = countFails ? StepState::Failed : StepState::Succeeded;
        count.startedAt = fetch.endedAt;
        count.endedAt = count.startedAt + (open ? 210 : 200);
        batch.steps << count;
    }
    auto committed = (*store)->commit(batch);
    QVERIFY2(committed, qPrintable(committed ? QString() : committed.error()));
}

/// One more finished run of nightly, created minute minutes after kStart.
void addNightlyRun(const QString &path, const QString &id, int minute) {
    auto store = Store::open(path);
    QVERIFY2(store, qPrintable(store ? QString() : store.error()));
    auto version = (*store)->saveFlowVersion(QStringLiteral("nightly"), kFlow, {});
    QVERIFY2(version, qPrintable(version ? QString() : version.error()));
    Batch batch;
    RunRow run;
    run.id = id;
    run.flowId = version->id;
    run.flowName = QStringLiteral("nightly");
    run.createdAt = kStart + minute * 60'000LL;
    run.state = RunState::Succeeded;
    run.endedAt = run.createdAt + 1500;
    batch.runs << run;
    for (const char *stepId : {"fetch", "count"}) {
        StepRunRow step;
        step.runId = run.id;
        step.stepId = QString::fromLatin1(stepId);
        step.position = batch.steps.size();
        step.state = StepState::Succeeded;
        step.attempts = 1;
        step.startedAt = run.createdAt + 5;
        step.endedAt = step.startedAt + 1000;
        batch.steps << step;
    }
    auto committed = (*store)->commit(batch);
    QVERIFY2(committed, qPrintable(committed ? QString() : committed.error()));
}

/// A second flow, weekly, with one run of one step.
void seedWeekly(const QString &path) {
    auto store = Store::open(path);
    QVERIFY2(store, qPrintable(store ? QString() : store.error()));
    const QByteArray flow = R"({ "keepflow": 1, "name": "weekly",
      "steps": [ { "id": "pack", "kind": "noop" } ] })";
    auto version = (*store)->saveFlowVersion(QStringLiteral("weekly"), flow, {});
    QVERIFY2(version, qPrintable(version ? QString() : version.error()));
    Batch batch;
    RunRow run;
    run.id = QStringLiteral("weekly-1");
    run.flowId = version->id;
    run.flowName = QStringLiteral("weekly");
    run.createdAt = kStart;
    run.state = RunState::Succeeded;
    run.endedAt = kStart + 900;
    batch.runs << run;
    StepRunRow pack;
    pack.runId = run.id;
    pack.stepId = QStringLiteral("pack");
    pack.state = StepState::Succeeded;
    pack.attempts = 1;
    pack.startedAt = kStart + 5;
    pack.endedAt = kStart + 800;
    batch.steps << pack;
    auto committed = (*store)->commit(batch);
    QVERIFY2(committed, qPrintable(committed ? QString() : committed.error()));
}

struct Fixture {
    QTemporaryDir dir;
    ManualClock clock{kStart + 3'600'000};
    std::unique_ptr<Monitor> monitor;
    std::unique_ptr<MainWindow> window;

    explicit Fixture(qint64 openFetchMs) {
        const QString path = dir.filePath(QStringLiteral("stats.db"));
        seed(path, openFetchMs);
        Monitor::Options options;
        options.clock = &clock;
        options.execute = false;
        auto opened = Monitor::open(path, options);
        if (!opened)
            qFatal("%s", qPrintable(opened.error()));
        monitor = std::move(*opened);
        window = std::make_unique<MainWindow>(*monitor);
        window->selectRun(QStringLiteral("open"));
    }
    QString path() const { return dir.filePath(QStringLiteral("stats.db")); }
    StepStatsView *view() const { return window->stepStatsView(); }
    /// Whether the figures of nightly have arrived from the reading thread.
    bool haveStats() const { return view()->cachedStats(QStringLiteral("nightly")) != nullptr; }

    /// The view's text in row (by step id) and column.
    QString cell(const QString &stepId, int column) const {
        const QStandardItemModel *model = window->stepStatsView()->model();
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->item(row, StepStatsView::StepColumn)->text() == stepId)
                return model->item(row, column)->text();
        }
        return QStringLiteral("(no row)");
    }
};

} // namespace

class TestStepStatsView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsTheFiguresOfTheOpenRunsFlow() {
        Fixture f(1100);
        StepStatsView *view = f.window->stepStatsView();
        QCOMPARE(view->flowName(), QStringLiteral("nightly"));
        QTRY_VERIFY2(f.haveStats(), qPrintable(view->summary()->text()));
        QCOMPARE(view->model()->rowCount(), 2);
        // fetch over 31 runs: durations 1000..1290 and the open run's 1100 ms.
        QCOMPARE(f.cell("fetch", StepStatsView::P50Column), QStringLiteral("1 s")); // 1150 ms
        QCOMPARE(f.cell("fetch", StepStatsView::RunsColumn), QStringLiteral("31"));
        // Two attempts in runs 0, 10 and 20: 3 of 31.
        QCOMPARE(f.cell("fetch", StepStatsView::RetryShareColumn), QStringLiteral("9.7%"));
        QCOMPARE(f.cell("fetch", StepStatsView::AttemptsPerSuccessColumn),
                 QStringLiteral("1.10")); // 34 / 31
        QCOMPARE(f.cell("fetch", StepStatsView::FailureRateColumn), QStringLiteral("0.0%"));
        // count: 30 × 200 ms and the open run's 210 ms; p95 is rank 30 of 31.
        QCOMPARE(f.cell("count", StepStatsView::P95Column), QStringLiteral("200 ms"));
        QCOMPARE(f.cell("count", StepStatsView::FailureRateColumn),
                 QStringLiteral("19.4%")); // 6/31
        QCOMPARE(f.cell("count", StepStatsView::RetryShareColumn), QStringLiteral("0.0%"));
        // count fails in a fifth of its runs, fetch retries in a tenth: count comes first,
        // though it is second in the flow.
        QCOMPARE(view->model()->item(0, StepStatsView::StepColumn)->text(),
                 QStringLiteral("count"));

        // The chart: one line per step, or the selected step's.
        QCOMPARE(view->chart()->graphCount(), 2);
        view->selectStep(QStringLiteral("count"));
        QCOMPARE(view->selectedStep(), QStringLiteral("count"));
        QCOMPARE(view->chart()->graphCount(), 1);
        QCOMPARE(view->chart()->graph(0)->name(), QStringLiteral("count"));
        // All 31 runs in one hour: one bucket, 6 failed of 31.
        QCOMPARE(view->chart()->graph(0)->dataCount(), 1);
        QCOMPARE(view->chart()->graph(0)->data()->begin()->value, 6 * 100.0 / 31);

        // Keyboard and screen readers: the dock is in the View menu with a shortcut; the table
        // has an accessible name and takes the focus.
        auto *dock = f.window->findChild<QDockWidget *>(QStringLiteral("stepStatsDock"));
        QVERIFY(dock);
        QVERIFY(!dock->toggleViewAction()->shortcut().isEmpty());
        QCOMPARE(view->table()->accessibleName(), QStringLiteral("Step statistics"));
        QVERIFY(view->table()->focusPolicy() & Qt::TabFocus);
    }

    void slowStepCarriesTheBadgeAndANormalOneDoesNot() {
        // fetch's p95 over the 31 runs is rank 30, 1290 ms (the open run's 4000 ms is rank 31):
        // 3.1 × p95; count took 210 ms against a p95 of 200 ms: not slow.
        Fixture f(4000);
        const GraphScene *scene = f.window->graphScene();
        // The run is shown before the figures arrive: no badge yet, then the badge once the
        // reading thread's result is in.
        QVERIFY(!f.haveStats());
        QVERIFY(!scene->nodeItem(QStringLiteral("fetch"))
                     ->badges()
                     .join(QString())
                     .contains(QStringLiteral("slow")));
        QTRY_VERIFY(scene->nodeItem(QStringLiteral("fetch"))
                        ->badges()
                        .contains(QStringLiteral("slow: 3.1× p95")));
        const QStringList fetchBadges = scene->nodeItem(QStringLiteral("fetch"))->badges();
        QVERIFY2(fetchBadges.contains(QStringLiteral("slow: 3.1× p95")),
                 qPrintable(fetchBadges.join(QStringLiteral(" | "))));
        QVERIFY(scene->nodeItem(QStringLiteral("fetch"))
                    ->summaryText()
                    .contains(QStringLiteral("slow: 3.1× p95")));
        const QStringList countBadges = scene->nodeItem(QStringLiteral("count"))->badges();
        QVERIFY2(!countBadges.join(QString()).contains(QStringLiteral("slow")),
                 qPrintable(countBadges.join(QStringLiteral(" | "))));

        const StepTableModel *table = f.window->stepModel();
        const int fetchRow = table->rowOfStep(QStringLiteral("fetch"));
        const int countRow = table->rowOfStep(QStringLiteral("count"));
        QVERIFY(table->index(fetchRow, StepTableModel::DurationColumn)
                    .data()
                    .toString()
                    .contains(QStringLiteral("slow: 3.1× p95")));
        QVERIFY(!table->index(countRow, StepTableModel::DurationColumn)
                     .data()
                     .toString()
                     .contains(QStringLiteral("slow")));
    }

    void normalRunCarriesNoBadge() {
        Fixture f(1100);
        QTRY_VERIFY(f.haveStats());
        const QStringList badges =
            f.window->graphScene()->nodeItem(QStringLiteral("fetch"))->badges();
        QVERIFY2(!badges.join(QString()).contains(QStringLiteral("slow")),
                 qPrintable(badges.join(QStringLiteral(" | "))));
    }

    void readsOnItsOwnThreadAndSaysItIsComputing() {
        Fixture f(1100);
        StepStatsView *view = f.view();
        QSignalSpy read(view, &StepStatsView::statsRead);
        // Opening the run asked for the figures and returned: they come through the event
        // loop, which has not run since.
        QVERIFY(view->isReading());
        QVERIFY(!f.haveStats());
        QCOMPARE(view->model()->rowCount(), 0);
        QCOMPARE(view->summary()->text(), QStringLiteral("Computing the statistics of nightly…"));
        QVERIFY(view->readerThread()->isRunning());
        QVERIFY(view->reader()->thread() == view->readerThread());
        QVERIFY(view->readerThread() != QThread::currentThread());

        QTRY_COMPARE(read.count(), 1);
        QCOMPARE(read.at(0).at(0).toString(), QStringLiteral("nightly"));
        QVERIFY(!view->isReading());
        QCOMPARE(view->model()->rowCount(), 2);
        QVERIFY(view->summary()->text().startsWith(QStringLiteral("Flow nightly across 31 run")));
    }

    void refreshingKeepsThePreviousFiguresUntilTheNewOnesArrive() {
        Fixture f(1100);
        StepStatsView *view = f.view();
        QTRY_VERIFY(f.haveStats());
        QCOMPARE(f.cell("fetch", StepStatsView::RunsColumn), QStringLiteral("31"));
        addNightlyRun(f.path(), QStringLiteral("late"), 40);

        // Not old yet: nothing is read again.
        f.clock.advance(StepStatsView::kRefreshMs - 1);
        QVERIFY(view->statsFor(QStringLiteral("nightly")));
        QVERIFY(!view->isReading());

        QSignalSpy read(view, &StepStatsView::statsRead);
        // Older than kRefreshMs, and than kCostFactor times what any read here may cost.
        f.clock.advance(10 * 60'000);
        const FlowStepStats *previous = view->statsFor(QStringLiteral("nightly"));
        QVERIFY(previous);
        QCOMPARE(previous->runs, 31);
        QVERIFY(view->isReading());
        QCOMPARE(f.cell("fetch", StepStatsView::RunsColumn), QStringLiteral("31"));
        QVERIFY(!view->summary()->text().startsWith(QStringLiteral("Computing")));

        QTRY_COMPARE(read.count(), 1);
        QCOMPARE(f.cell("fetch", StepStatsView::RunsColumn), QStringLiteral("32"));
        QCOMPARE(view->cachedStats(QStringLiteral("nightly"))->runs, 32);
    }

    void resultForAFlowTheUserLeftIsDropped() {
        Fixture f(1100);
        StepStatsView *view = f.view();
        QTRY_VERIFY(f.haveStats());
        seedWeekly(f.path());

        // Released on the reading thread once weekly's figures are read and on their way (the
        // view's queued connection was made first, so the result is posted by then).
        QSemaphore weeklyRead;
        connect(
            view->reader(), &StepStatsReader::finished, view->reader(),
            [&weeklyRead](const StepStatsRead &result) {
                if (result.flowName == QLatin1String("weekly") && result.error.isEmpty())
                    weeklyRead.release();
            },
            Qt::DirectConnection);
        QSignalSpy read(view, &StepStatsView::statsRead);
        view->showFlow(QStringLiteral("weekly"));
        QVERIFY(view->isReading());
        QVERIFY(weeklyRead.tryAcquire(1, 30'000));
        // The user went back to nightly before weekly's result was taken.
        view->showFlow(QStringLiteral("nightly"));
        QCoreApplication::sendPostedEvents(view, QEvent::MetaCall);
        QCOMPARE(read.count(), 0);
        QVERIFY(!view->cachedStats(QStringLiteral("weekly")));
        QCOMPARE(view->flowName(), QStringLiteral("nightly"));
        QCOMPARE(view->model()->rowCount(), 2); // nightly's figures, untouched

        // Asked for while shown, the same flow's figures are taken.
        view->showFlow(QStringLiteral("weekly"));
        QTRY_COMPARE(read.count(), 1);
        QCOMPARE(read.at(0).at(0).toString(), QStringLiteral("weekly"));
        QCOMPARE(view->model()->rowCount(), 1);
        QCOMPARE(f.cell("pack", StepStatsView::RunsColumn), QStringLiteral("1"));
    }

    void closingTheWindowStopsTheThreadAndClosesItsConnection() {
        Fixture f(1100);
        QTRY_VERIFY(f.haveStats());
        const QStringList withReader = QSqlDatabase::connectionNames();
        // A read under way when the window closes.
        f.clock.advance(10 * 60'000);
        f.view()->statsFor(QStringLiteral("nightly"));
        QVERIFY(f.view()->isReading());
        QPointer<QThread> thread = f.view()->readerThread();
        f.window.reset();
        QVERIFY(thread.isNull());
        // The monitor's connection stays; the reader's is gone.
        QCOMPARE(QSqlDatabase::connectionNames().size(), withReader.size() - 1);
        QVERIFY(f.monitor->stepStats(QStringLiteral("nightly")));
    }
};

QTEST_MAIN(TestStepStatsView)
#include "tst_stepstatsview.moc"
