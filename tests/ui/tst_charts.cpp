// The run timeline, the resources panel and the latency tracker of ui/charts.

#include "latencytracker.h"
#include "resourcesample.h"
#include "resourcestablemodel.h"
#include "resourcesview.h"
#include "statestyle.h"
#include "timelineplot.h"

#include "qcp.h"

#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include <cmath>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// Before QApplication exists (QTEST_MAIN creates it): the offscreen platform at a fixed DPI, so
// pixel positions do not depend on the machine.
const bool kEnvironment = [] {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    qputenv("QT_FONT_DPI", "96");
    return true;
}();

constexpr qint64 kT0 = 1'700'000'000'000; // a fixed moment, ms since the epoch

AttemptRow attempt(const QString &step, int number, qint64 start, qint64 end,
                   std::optional<AttemptOutcome> outcome, const QString &item = {}) {
    AttemptRow row;
    row.runId = QStringLiteral("run-1");
    row.stepId = step;
    row.number = number;
    row.itemKey = item;
    row.startedAt = start;
    row.endedAt = end;
    row.outcome = outcome;
    return row;
}

ResourceSample sample(const QString &name, qint64 at, int queued = 0, int inFlight = 0,
                      bool paused = false, const QString &breaker = QStringLiteral("closed")) {
    ResourceSample s;
    s.name = name;
    s.at = at;
    s.queued = queued;
    s.inFlight = inFlight;
    s.paused = paused;
    s.breakerState = breaker;
    return s;
}

QPushButton *button(QWidget *parent, const QString &label) {
    const QList<QPushButton *> buttons = parent->findChildren<QPushButton *>();
    for (QPushButton *b : buttons) {
        if (b->text() == label)
            return b;
    }
    return nullptr;
}

QString cell(const ResourcesView &view, const QString &name, int column,
             int role = Qt::DisplayRole) {
    const ResourcesTableModel *model = view.model();
    return model->index(model->rowOf(name), column).data(role).toString();
}

} // namespace

class TestCharts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // TimelinePlot
    void barPerAttemptColoredByOutcome();
    void runningBarGrowsWithNow();
    void backoffGapStaysVisible();
    void foreachItemsShareTheirStepRow();
    void attemptsOfUnknownStepsAreNotDrawn();
    void clickingRowEmitsStepClicked();
    void keyboardMovesHighlightAndActivates();
    void thousandAttemptsReplotQuickly();

    // ResourcesView
    void tableShowsLatestSample();
    void buttonsFollowPauseAndBreaker();
    void pauseEmitsRequestWithSelectedName();
    void selectionSurvivesNewResources();
    void chartsShowSelectedOrEveryResource();
    void historyStaysBounded();
    void outOfOrderSampleIsDropped();
    void escapeAndClearReturnChartsToEveryResource();
    void everyControlHasItsLabelAsAccessibleName();

    // LatencyTracker and ResourceSample
    void latencyAveragesCallsOfTheInterval();
    void attemptsAreTimedFromTheirEvents();
    void errorRateFromWindow_data();
    void errorRateFromWindow();
};

void TestCharts::barPerAttemptColoredByOutcome() {
    TimelinePlot timeline;
    timeline.setSteps({QStringLiteral("fetch"), QStringLiteral("push"), QStringLiteral("notify")});
    timeline.setAttempts(
        {attempt(QStringLiteral("fetch"), 1, kT0, kT0 + 1000, AttemptOutcome::Succeeded),
         attempt(QStringLiteral("push"), 1, kT0 + 1000, kT0 + 2000,
                 AttemptOutcome::FailedTransient),
         attempt(QStringLiteral("push"), 2, kT0 + 4000, kT0 + 5000, AttemptOutcome::Succeeded),
         attempt(QStringLiteral("notify"), 1, kT0 + 5000, kT0 + 9000, AttemptOutcome::TimedOut)},
        kT0 + 10000);

    QCOMPARE(timeline.barCount(), 4);
    QCOMPARE(timeline.barsForStep(QStringLiteral("push")).size(), 2);
    QCOMPARE(timeline.barColor(QStringLiteral("fetch"), 0),
             outcomeColor(AttemptOutcome::Succeeded));
    QCOMPARE(timeline.barColor(QStringLiteral("push"), 0),
             outcomeColor(AttemptOutcome::FailedTransient));
    QCOMPARE(timeline.barColor(QStringLiteral("push"), 1), outcomeColor(AttemptOutcome::Succeeded));
    QCOMPARE(timeline.barColor(QStringLiteral("notify"), 0),
             outcomeColor(AttemptOutcome::TimedOut));
    QVERIFY(!timeline.barColor(QStringLiteral("notify"), 1).isValid());
    const auto fetch = timeline.barsForStep(QStringLiteral("fetch"));
    QCOMPARE(fetch.constFirst().first, TimelinePlot::plotTime(kT0));
    QCOMPARE(fetch.constFirst().second, TimelinePlot::plotTime(kT0 + 1000));
    // The legend names the outcomes.
    QStringList legend;
    QCustomPlot *plot = timeline.plotWidget();
    for (int i = 0; i < plot->legend->itemCount(); ++i) {
        if (auto *item = qobject_cast<QCPPlottableLegendItem *>(plot->legend->item(i)))
            legend << item->plottable()->name();
    }
    QVERIFY(legend.contains(outcomeLabel(AttemptOutcome::Succeeded)));
    QVERIFY(legend.contains(outcomeLabel(AttemptOutcome::TimedOut)));
    QVERIFY(legend.contains(QStringLiteral("Running")));
}

void TestCharts::runningBarGrowsWithNow() {
    TimelinePlot timeline;
    timeline.setSteps({QStringLiteral("fetch")});
    timeline.setAttempts({attempt(QStringLiteral("fetch"), 1, kT0, 0, {})}, kT0 + 1000);
    QCOMPARE(timeline.barColor(QStringLiteral("fetch"), 0), outcomeColor(std::nullopt));
    const double before = timeline.barsForStep(QStringLiteral("fetch")).constFirst().second;
    QCOMPARE(before, TimelinePlot::plotTime(kT0 + 1000));

    timeline.setNow(kT0 + 5000);
    const double after = timeline.barsForStep(QStringLiteral("fetch")).constFirst().second;
    QCOMPARE(after, TimelinePlot::plotTime(kT0 + 5000));
    QVERIFY(after > before);

    // Re-reading the rows with a later now grows it too; once finished it stops at its end.
    timeline.setAttempts({attempt(QStringLiteral("fetch"), 1, kT0, 0, {})}, kT0 + 7000);
    QCOMPARE(timeline.barsForStep(QStringLiteral("fetch")).constFirst().second,
             TimelinePlot::plotTime(kT0 + 7000));
    timeline.setAttempts(
        {attempt(QStringLiteral("fetch"), 1, kT0, kT0 + 7500, AttemptOutcome::Succeeded)},
        kT0 + 8000);
    timeline.setNow(kT0 + 20000);
    QCOMPARE(timeline.barsForStep(QStringLiteral("fetch")).constFirst().second,
             TimelinePlot::plotTime(kT0 + 7500));
    QCOMPARE(timeline.barColor(QStringLiteral("fetch"), 0),
             outcomeColor(AttemptOutcome::Succeeded));
}

void TestCharts::backoffGapStaysVisible() {
    TimelinePlot timeline;
    timeline.resize(800, 300);
    timeline.setSteps({QStringLiteral("push")});
    // Attempt 2 follows a 3 s backoff; given out of order, as a query might return them.
    timeline.setAttempts(
        {attempt(QStringLiteral("push"), 2, kT0 + 4000, kT0 + 5000, AttemptOutcome::Succeeded),
         attempt(QStringLiteral("push"), 1, kT0, kT0 + 1000, AttemptOutcome::FailedTransient)},
        kT0 + 6000);
    const auto bars = timeline.barsForStep(QStringLiteral("push"));
    QCOMPARE(bars.size(), 2);
    QVERIFY(bars[0].second < bars[1].first);

    // And on screen: empty pixels between the two bars.
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    timeline.plotWidget()->replot();
    const int end1 = timeline.pixelFor(QStringLiteral("push"), kT0 + 1000).x();
    const int start2 = timeline.pixelFor(QStringLiteral("push"), kT0 + 4000).x();
    QVERIFY2(start2 - end1 > 50, qPrintable(QStringLiteral("%1 → %2").arg(end1).arg(start2)));
    const QImage image = timeline.plotWidget()->toPixmap(800, 300).toImage();
    const int y = timeline.pixelFor(QStringLiteral("push"), kT0).y();
    const QColor failed = outcomeColor(AttemptOutcome::FailedTransient);
    QCOMPARE(image.pixelColor((timeline.pixelFor(QStringLiteral("push"), kT0).x() + end1) / 2, y),
             failed);
    QVERIFY(image.pixelColor((end1 + start2) / 2, y) != failed);
    QVERIFY(image.pixelColor((end1 + start2) / 2, y) != outcomeColor(AttemptOutcome::Succeeded));
}

void TestCharts::foreachItemsShareTheirStepRow() {
    TimelinePlot timeline;
    timeline.setSteps({QStringLiteral("each")});
    timeline.setAttempts(
        {attempt(QStringLiteral("each"), 1, kT0, kT0 + 3000, AttemptOutcome::Succeeded,
                 QStringLiteral("a")),
         attempt(QStringLiteral("each"), 1, kT0 + 100, kT0 + 1000, AttemptOutcome::FailedTransient,
                 QStringLiteral("b")),
         attempt(QStringLiteral("each"), 2, kT0 + 2000, 0, {}, QStringLiteral("b"))},
        kT0 + 4000);
    QCOMPARE(timeline.barCount(), 3);
    const auto bars = timeline.barsForStep(QStringLiteral("each"));
    QCOMPARE(bars.size(), 3);
    // Overlapping items are separate bars, item b's retry follows its own backoff.
    QCOMPARE(bars[1].second, TimelinePlot::plotTime(kT0 + 1000));
    QCOMPARE(bars[2].first, TimelinePlot::plotTime(kT0 + 2000));
    QCOMPARE(bars[2].second, TimelinePlot::plotTime(kT0 + 4000));
}

void TestCharts::attemptsOfUnknownStepsAreNotDrawn() {
    TimelinePlot timeline;
    timeline.setSteps({QStringLiteral("fetch")});
    timeline.setAttempts(
        {attempt(QStringLiteral("fetch"), 1, kT0, kT0 + 10, AttemptOutcome::Succeeded),
         attempt(QStringLiteral("gone"), 1, kT0, kT0 + 10, AttemptOutcome::Succeeded)},
        kT0 + 20);
    QCOMPARE(timeline.barCount(), 1);
    QVERIFY(timeline.barsForStep(QStringLiteral("gone")).isEmpty());
    // New steps drop the bars: they belonged to rows that now mean something else.
    timeline.setSteps({QStringLiteral("other")});
    QCOMPARE(timeline.barCount(), 0);
}

void TestCharts::clickingRowEmitsStepClicked() {
    TimelinePlot timeline;
    timeline.resize(800, 400);
    timeline.setSteps({QStringLiteral("fetch"), QStringLiteral("push"), QStringLiteral("notify")});
    timeline.setAttempts(
        {attempt(QStringLiteral("fetch"), 1, kT0, kT0 + 1000, AttemptOutcome::Succeeded),
         attempt(QStringLiteral("push"), 1, kT0 + 1000, kT0 + 5000, AttemptOutcome::Succeeded)},
        kT0 + 6000);
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    timeline.plotWidget()->replot();
    QSignalSpy clicked(&timeline, &TimelinePlot::stepClicked);

    // On a bar.
    QTest::mouseClick(timeline.plotWidget(), Qt::LeftButton, {},
                      timeline.pixelFor(QStringLiteral("push"), kT0 + 3000));
    QCOMPARE(clicked.size(), 1);
    QCOMPARE(clicked.at(0).at(0).toString(), QStringLiteral("push"));
    QCOMPARE(timeline.highlightedStep(), QStringLiteral("push"));

    // On the empty part of a row, and on a row's label left of the plot area.
    QTest::mouseClick(timeline.plotWidget(), Qt::LeftButton, {},
                      timeline.pixelFor(QStringLiteral("notify"), kT0 + 3000));
    QCOMPARE(clicked.size(), 2);
    QCOMPARE(clicked.at(1).at(0).toString(), QStringLiteral("notify"));
    QPoint label = timeline.pixelFor(QStringLiteral("fetch"), kT0);
    label.setX(timeline.plotWidget()->axisRect()->left() - 10);
    QTest::mouseClick(timeline.plotWidget(), Qt::LeftButton, {}, label);
    QCOMPARE(clicked.size(), 3);
    QCOMPARE(clicked.at(2).at(0).toString(), QStringLiteral("fetch"));

    // Below the rows (the legend) is no step.
    QTest::mouseClick(timeline.plotWidget(), Qt::LeftButton, {},
                      QPoint(400, timeline.plotWidget()->height() - 3));
    QCOMPARE(clicked.size(), 3);
}

void TestCharts::keyboardMovesHighlightAndActivates() {
    TimelinePlot timeline;
    timeline.setSteps({QStringLiteral("fetch"), QStringLiteral("push"), QStringLiteral("notify")});
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    QCOMPARE(timeline.focusPolicy(), Qt::StrongFocus);
    QSignalSpy clicked(&timeline, &TimelinePlot::stepClicked);
    QTest::keyClick(&timeline, Qt::Key_Down);
    QCOMPARE(timeline.highlightedStep(), QStringLiteral("fetch"));
    QTest::keyClick(&timeline, Qt::Key_Down);
    QTest::keyClick(&timeline, Qt::Key_Down);
    QTest::keyClick(&timeline, Qt::Key_Down); // stays on the last row
    QTest::keyClick(&timeline, Qt::Key_Up);
    QCOMPARE(timeline.highlightedStep(), QStringLiteral("push"));
    QTest::keyClick(&timeline, Qt::Key_Return);
    QCOMPARE(clicked.size(), 1);
    QCOMPARE(clicked.at(0).at(0).toString(), QStringLiteral("push"));
    QCOMPARE(timeline.accessibleName(), QStringLiteral("Timeline"));
}

void TestCharts::thousandAttemptsReplotQuickly() {
    QStringList steps;
    for (int i = 0; i < 50; ++i)
        steps << QStringLiteral("step-%1").arg(i);
    QList<AttemptRow> attempts;
    const QList<std::optional<AttemptOutcome>> outcomes{AttemptOutcome::Succeeded,
                                                        AttemptOutcome::FailedTransient,
                                                        AttemptOutcome::TimedOut, std::nullopt};
    for (int i = 0; i < 1000; ++i) {
        const qint64 start = kT0 + (i / 50) * 2000;
        const std::optional<AttemptOutcome> outcome = outcomes[i % outcomes.size()];
        attempts << attempt(steps[i % 50], i / 50 + 1, start, !outcome ? 0 : start + 1500, outcome,
                            i % 7 == 0 ? QStringLiteral("item-%1").arg(i % 3) : QString());
    }
    TimelinePlot timeline;
    timeline.resize(1200, 800);
    timeline.setSteps(steps);
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));

    QElapsedTimer timer;
    timer.start();
    timeline.setAttempts(attempts, kT0 + 60000);
    const qint64 buildMs = timer.restart();
    for (int i = 0; i < 10; ++i) {
        timeline.setNow(kT0 + 60000 + i * 1000);
        timeline.plotWidget()->replot(QCustomPlot::rpImmediateRefresh);
    }
    const qint64 replotMs = timer.elapsed() / 10;
    qInfo("1,000 attempts: setAttempts %lld ms, setNow + replot %lld ms", buildMs, replotMs);
    QCOMPARE(timeline.barCount(), 1000);
    // Generous for a Debug build on a shared machine; about 10 ms in practice.
    QVERIFY2(replotMs < 250, qPrintable(QString::number(replotMs)));
}

void TestCharts::tableShowsLatestSample() {
    ResourcesView view;
    ResourceSample api = sample(QStringLiteral("api"), kT0, 3, 2, false, QStringLiteral("open"));
    api.errorRate = 0.5;
    api.latencyMs = 120.4;
    view.addSamples({sample(QStringLiteral("db"), kT0, 1, 1), api});
    view.addSamples(
        {sample(QStringLiteral("db"), kT0 + 1000, 7, 4, true, QStringLiteral("half_open"))});

    QCOMPARE(view.model()->rowCount(), 2);
    QCOMPARE(view.model()->nameAt(0), QStringLiteral("api")); // ordered by name
    using M = ResourcesTableModel;
    QCOMPARE(cell(view, QStringLiteral("api"), M::Breaker), QStringLiteral("Open"));
    QVERIFY(!view.model()
                 ->index(view.model()->rowOf(QStringLiteral("api")), M::Breaker)
                 .data(Qt::DecorationRole)
                 .value<QIcon>()
                 .isNull());
    QCOMPARE(cell(view, QStringLiteral("api"), M::Queued), QStringLiteral("3"));
    QCOMPARE(cell(view, QStringLiteral("api"), M::InFlight), QStringLiteral("2"));
    QCOMPARE(cell(view, QStringLiteral("api"), M::ErrorRate), QStringLiteral("50 %"));
    QCOMPARE(cell(view, QStringLiteral("api"), M::Latency), QStringLiteral("120"));
    QCOMPARE(cell(view, QStringLiteral("api"), M::Paused), QStringLiteral("No"));
    // db shows its latest sample, not the first.
    QCOMPARE(cell(view, QStringLiteral("db"), M::Breaker), QStringLiteral("Half-open"));
    QCOMPARE(cell(view, QStringLiteral("db"), M::Paused), QStringLiteral("Yes"));
    QCOMPARE(cell(view, QStringLiteral("db"), M::Queued), QStringLiteral("7"));
    QCOMPARE(cell(view, QStringLiteral("db"), M::InFlight), QStringLiteral("4"));
    QCOMPARE(cell(view, QStringLiteral("db"), M::Latency), QStringLiteral("–"));
}

void TestCharts::buttonsFollowPauseAndBreaker() {
    ResourcesView view;
    QPushButton *pause = button(&view, QStringLiteral("Pause"));
    QPushButton *unpause = button(&view, QStringLiteral("Unpause"));
    QPushButton *reset = button(&view, QStringLiteral("Reset breaker"));
    QVERIFY(pause && unpause && reset);
    view.addSamples({sample(QStringLiteral("api"), kT0), sample(QStringLiteral("db"), kT0)});
    // Nothing selected: nothing to act on.
    QVERIFY(!pause->isEnabled() && !unpause->isEnabled() && !reset->isEnabled());

    view.selectResource(QStringLiteral("api"));
    QCOMPARE(view.selectedResource(), QStringLiteral("api"));
    QVERIFY(pause->isEnabled());
    QVERIFY(!unpause->isEnabled());
    QVERIFY(!reset->isEnabled());

    // The next sample pauses it and opens its breaker.
    view.addSamples(
        {sample(QStringLiteral("api"), kT0 + 1000, 0, 0, true, QStringLiteral("open"))});
    QVERIFY(!pause->isEnabled());
    QVERIFY(unpause->isEnabled());
    QVERIFY(reset->isEnabled());
    view.addSamples(
        {sample(QStringLiteral("api"), kT0 + 2000, 0, 0, true, QStringLiteral("half_open"))});
    QVERIFY(reset->isEnabled());

    view.selectResource(QStringLiteral("db"));
    QVERIFY(pause->isEnabled() && !unpause->isEnabled() && !reset->isEnabled());
    view.selectResource(QString());
    QVERIFY(view.selectedResource().isEmpty());
    QVERIFY(!pause->isEnabled() && !unpause->isEnabled() && !reset->isEnabled());
}

void TestCharts::pauseEmitsRequestWithSelectedName() {
    ResourcesView view;
    view.addSamples({sample(QStringLiteral("api"), kT0),
                     sample(QStringLiteral("db"), kT0, 0, 0, true, QStringLiteral("open"))});
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy paused(&view, &ResourcesView::pauseRequested);
    QSignalSpy unpaused(&view, &ResourcesView::unpauseRequested);
    QSignalSpy reset(&view, &ResourcesView::resetRequested);

    view.selectResource(QStringLiteral("api"));
    QTest::mouseClick(button(&view, QStringLiteral("Pause")), Qt::LeftButton);
    QCOMPARE(paused.size(), 1);
    QCOMPARE(paused.at(0).at(0).toString(), QStringLiteral("api"));

    // By keyboard: arrow down in the table to db, Tab to its enabled buttons, Space.
    view.table()->setFocus();
    QTest::keyClick(view.table(), Qt::Key_Down);
    QCOMPARE(view.selectedResource(), QStringLiteral("db"));
    QPushButton *unpause = button(&view, QStringLiteral("Unpause"));
    QPushButton *resetButton = button(&view, QStringLiteral("Reset breaker"));
    unpause->setFocus();
    QTest::keyClick(unpause, Qt::Key_Space);
    QCOMPARE(unpaused.size(), 1);
    QCOMPARE(unpaused.at(0).at(0).toString(), QStringLiteral("db"));
    QTest::mouseClick(resetButton, Qt::LeftButton);
    QCOMPARE(reset.size(), 1);
    QCOMPARE(reset.at(0).at(0).toString(), QStringLiteral("db"));
    // A disabled button asks nothing.
    QTest::mouseClick(button(&view, QStringLiteral("Pause")), Qt::LeftButton);
    QCOMPARE(paused.size(), 1);
}

void TestCharts::selectionSurvivesNewResources() {
    ResourcesView view;
    view.addSamples({sample(QStringLiteral("db"), kT0)});
    view.selectResource(QStringLiteral("db"));
    QSignalSpy changed(&view, &ResourcesView::selectedResourceChanged);
    view.addSamples({sample(QStringLiteral("api"), kT0 + 1000), // sorts before db
                     sample(QStringLiteral("db"), kT0 + 1000, 5)});
    QCOMPARE(view.model()->rowOf(QStringLiteral("db")), 1);
    QCOMPARE(view.selectedResource(), QStringLiteral("db"));
    QCOMPARE(changed.size(), 0);
}

void TestCharts::chartsShowSelectedOrEveryResource() {
    ResourcesView view;
    QList<ResourceSample> first{sample(QStringLiteral("api"), kT0, 2, 1),
                                sample(QStringLiteral("db"), kT0, 4, 3)};
    first[0].latencyMs = 80;
    view.addSamples(first);
    view.addSamples({sample(QStringLiteral("api"), kT0 + 1000, 3, 2),
                     sample(QStringLiteral("db"), kT0 + 1000)});
    for (int c = 0; c < ResourcesView::ChartCount; ++c)
        QCOMPARE(view.chart(ResourcesView::Chart(c))->graphCount(), 2);

    view.selectResource(QStringLiteral("api"));
    QCustomPlot *queue = view.chart(ResourcesView::QueueDepth);
    QCOMPARE(queue->graphCount(), 1);
    QCOMPARE(queue->graph(0)->name(), QStringLiteral("api"));
    QCOMPARE(queue->graph(0)->dataCount(), 2);
    QCOMPARE(queue->graph(0)->data()->at(1)->value, 3.0);
    QCOMPARE(view.chart(ResourcesView::InFlight)->graph(0)->data()->at(1)->value, 2.0);
    // No call finished in the second interval: a gap in the latency line, not a zero.
    QCPGraph *latency = view.chart(ResourcesView::Latency)->graph(0);
    QCOMPARE(latency->data()->at(0)->value, 80.0);
    QVERIFY(std::isnan(latency->data()->at(1)->value));

    view.selectResource(QString());
    QCOMPARE(queue->graphCount(), 2);
}

void TestCharts::historyStaysBounded() {
    ResourcesView view;
    // By count: the default keeps 30 minutes or 1,800 samples.
    for (int i = 0; i < 2500; ++i)
        view.addSamples({sample(QStringLiteral("api"), kT0 + i * 500)});
    QCOMPARE(view.historySize(QStringLiteral("api")), 1800);
    QCOMPARE(view.chart(ResourcesView::QueueDepth)->graph(0)->dataCount(), 1800);

    // By age: one sample a minute over two hours keeps the last 30 minutes.
    for (int i = 0; i < 120; ++i)
        view.addSamples({sample(QStringLiteral("db"), kT0 + i * 60'000)});
    QCOMPARE(view.historySize(QStringLiteral("db")), 31);

    view.setHistoryLimits(10'000, 5);
    QCOMPARE(view.historySize(QStringLiteral("api")), 5);
    QCOMPARE(view.historySize(QStringLiteral("db")), 1);
    QCOMPARE(view.historySize(QStringLiteral("none")), 0);
}

void TestCharts::outOfOrderSampleIsDropped() {
    ResourcesView view;
    view.addSamples({sample(QStringLiteral("api"), kT0 + 1000, 5)});
    view.addSamples({sample(QStringLiteral("api"), kT0, 9)});
    QCOMPARE(view.historySize(QStringLiteral("api")), 1);
    QCOMPARE(cell(view, QStringLiteral("api"), ResourcesTableModel::Queued), QStringLiteral("5"));
}

void TestCharts::escapeAndClearReturnChartsToEveryResource() {
    ResourcesView view;
    view.addSamples({sample(QStringLiteral("api"), kT0), sample(QStringLiteral("db"), kT0)});
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy changed(&view, &ResourcesView::selectedResourceChanged);
    view.selectResource(QStringLiteral("db"));
    QCOMPARE(view.chart(ResourcesView::QueueDepth)->graphCount(), 1);
    view.table()->setFocus();
    QTest::keyClick(view.table(), Qt::Key_Escape);
    QVERIFY(view.selectedResource().isEmpty());
    QCOMPARE(view.chart(ResourcesView::QueueDepth)->graphCount(), 2);
    QCOMPARE(changed.size(), 2);
    QCOMPARE(changed.at(1).at(0).toString(), QString());

    view.selectResource(QStringLiteral("api"));
    view.clear();
    QCOMPARE(view.model()->rowCount(), 0);
    QCOMPARE(view.historySize(QStringLiteral("api")), 0);
    QVERIFY(view.selectedResource().isEmpty());
    QCOMPARE(changed.constLast().at(0).toString(), QString());
    QCOMPARE(view.chart(ResourcesView::QueueDepth)->graphCount(), 0);
}

void TestCharts::everyControlHasItsLabelAsAccessibleName() {
    ResourcesView view;
    for (const QString &label :
         {QStringLiteral("Pause"), QStringLiteral("Unpause"), QStringLiteral("Reset breaker")}) {
        QPushButton *b = button(&view, label);
        QVERIFY2(b, qPrintable(label));
        QCOMPARE(b->accessibleName(), label);
        QVERIFY(b->focusPolicy() & Qt::TabFocus);
    }
    QCOMPARE(view.table()->accessibleName(), QStringLiteral("Resources"));
    const QStringList titles{QStringLiteral("Queue depth"), QStringLiteral("In flight"),
                             QStringLiteral("Error rate"), QStringLiteral("Latency (ms)")};
    for (int c = 0; c < ResourcesView::ChartCount; ++c) {
        QCustomPlot *plot = view.chart(ResourcesView::Chart(c));
        QCOMPARE(plot->accessibleName(), titles[c]);
        auto *title = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0));
        QVERIFY(title);
        QCOMPARE(title->text(), titles[c]);
    }
}

void TestCharts::latencyAveragesCallsOfTheInterval() {
    LatencyTracker tracker;
    QVERIFY(std::isnan(tracker.takeAverage(QStringLiteral("api"))));
    tracker.addFinished(QStringLiteral("api"), 100);
    tracker.addFinished(QStringLiteral("api"), 300);
    tracker.addFinished(QStringLiteral("db"), 40);
    tracker.addFinished(QStringLiteral("db"), -5); // clock skew: ignored
    QCOMPARE(tracker.pendingCount(QStringLiteral("api")), 2);
    QCOMPARE(tracker.takeAverage(QStringLiteral("api")), 200.0);
    // The next interval starts empty.
    QVERIFY(std::isnan(tracker.takeAverage(QStringLiteral("api"))));
    QCOMPARE(tracker.takeAverage(QStringLiteral("db")), 40.0);
}

void TestCharts::attemptsAreTimedFromTheirEvents() {
    auto event = [](EventType type, const char *step, qint64 at, const char *item = nullptr) {
        EventRow e;
        e.runId = QStringLiteral("r1");
        e.stepId = QString::fromLatin1(step);
        e.type = type;
        e.at = at;
        if (item)
            e.detail.insert(QStringLiteral("item"), QString::fromLatin1(item));
        return e;
    };
    LatencyTracker tracker;
    // Ended before the tracker saw it start: unknown duration, not counted.
    tracker.addEvent(event(EventType::StepSucceeded, "fetch", kT0 - 10), QStringLiteral("api"));
    tracker.addEvent(event(EventType::AttemptStarted, "fetch", kT0), QStringLiteral("api"));
    tracker.addEvent(event(EventType::StepRetrying, "fetch", kT0 + 200), QStringLiteral("api"));
    // Two items of one foreach step are separate calls.
    tracker.addEvent(event(EventType::AttemptStarted, "notify", kT0, "a"), QStringLiteral("mail"));
    tracker.addEvent(event(EventType::AttemptStarted, "notify", kT0 + 10, "b"),
                     QStringLiteral("mail"));
    tracker.addEvent(event(EventType::ItemSucceeded, "notify", kT0 + 110, "b"),
                     QStringLiteral("mail"));
    tracker.addEvent(event(EventType::ItemFailed, "notify", kT0 + 300, "a"),
                     QStringLiteral("mail"));
    // A second event of the same ended attempt (attempt_failed, then step_failed) counts once.
    tracker.addEvent(event(EventType::AttemptStarted, "fetch", kT0 + 1000), QStringLiteral("api"));
    tracker.addEvent(event(EventType::AttemptFailed, "fetch", kT0 + 1600), QStringLiteral("api"));
    tracker.addEvent(event(EventType::StepFailed, "fetch", kT0 + 1601), QStringLiteral("api"));
    QCOMPARE(tracker.pendingCount(QStringLiteral("api")), 2);
    QCOMPARE(tracker.takeAverage(QStringLiteral("api")), 400.0);  // (200 + 600) / 2
    QCOMPARE(tracker.takeAverage(QStringLiteral("mail")), 200.0); // (100 + 300) / 2
}

void TestCharts::errorRateFromWindow_data() {
    QTest::addColumn<QString>("window");
    QTest::addColumn<double>("rate");
    QTest::newRow("empty") << QString() << 0.0;
    QTest::newRow("all succeeded") << QStringLiteral("0000") << 0.0;
    QTest::newRow("half failed") << QStringLiteral("0101") << 0.5;
    QTest::newRow("one in five") << QStringLiteral("00100") << 0.2;
    QTest::newRow("all failed") << QStringLiteral("111") << 1.0;
}

void TestCharts::errorRateFromWindow() {
    QFETCH(QString, window);
    QFETCH(double, rate);
    QCOMPARE(ResourceSample::errorRateOf(window), rate);
    ResourceRow row;
    row.name = QStringLiteral("api");
    row.paused = true;
    row.breakerState = QStringLiteral("open");
    row.window = window;
    const ResourceSample s = ResourceSample::fromRow(row, kT0, 3, 1, 12.5);
    QCOMPARE(s.errorRate, rate);
    QCOMPARE(s.breakerState, QStringLiteral("open"));
    QVERIFY(s.paused);
    QCOMPARE(s.queued, 3);
    QCOMPARE(s.inFlight, 1);
    QCOMPARE(s.latencyMs, 12.5);
}

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
