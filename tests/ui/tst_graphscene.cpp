// The run graph (ui/graph): one item per step and per dependency, positions from the editor or
// a left-to-right layout, coalesced live updates that repaint without recreating items, badges,
// selection, dashed edges into blocked steps, keyboard access, minimap and legend.

#include "edgeitem.h"
#include "graphlayout.h"
#include "graphscene.h"
#include "graphview.h"
#include "legendwidget.h"
#include "minimapview.h"
#include "statestyle.h"
#include "stepnodeitem.h"

#include <QAccessible>
#include <QFontMetricsF>
#include <QImage>
#include <QJsonObject>
#include <QPainter>
#include <QScreen>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// Fixed DPI for widget tests; set before QTEST_MAIN creates the application.
const bool kFixedDpi = qputenv("QT_FONT_DPI", "96");

Step makeStep(const QString &id, const QStringList &after = {},
              const QString &kind = QStringLiteral("http")) {
    Step step;
    step.id = id;
    step.kind = kind;
    step.after = after;
    return step;
}

// a -> b -> d, a -> c -> d (a diamond), d -> e.
Flow diamondFlow() {
    Flow flow;
    flow.name = QStringLiteral("diamond");
    flow.steps = {makeStep(QStringLiteral("a")),
                  makeStep(QStringLiteral("b"), {QStringLiteral("a")}),
                  makeStep(QStringLiteral("c"), {QStringLiteral("a")}, QStringLiteral("shell")),
                  makeStep(QStringLiteral("d"), {QStringLiteral("b"), QStringLiteral("c")}),
                  makeStep(QStringLiteral("e"), {QStringLiteral("d")})};
    return flow;
}

// Parallel chains between fan-out and fan-in steps, as real flows are shaped.
Flow chainsFlow(int count) {
    Flow flow;
    QString join;
    int n = 0;
    while (n < count) {
        const QString fan = QStringLiteral("fan%1").arg(n++);
        flow.steps.append(makeStep(fan, join.isEmpty() ? QStringList() : QStringList{join}));
        QStringList tails;
        for (int chain = 0; chain < 4 && n < count; ++chain) {
            QString previous = fan;
            for (int k = 0; k < 3 && n < count; ++k) {
                const QString id = QStringLiteral("s%1").arg(n++);
                flow.steps.append(makeStep(id, {previous}));
                previous = id;
            }
            tails.append(previous);
        }
        if (n >= count)
            break;
        join = QStringLiteral("join%1").arg(n++);
        flow.steps.append(makeStep(join, tails));
    }
    return flow;
}

StepView viewOf(const QString &id, StepState state) {
    StepView view;
    view.stepId = id;
    view.kind = QStringLiteral("http");
    view.state = state;
    return view;
}

void verifyLeftToRight(const Flow &flow, const QHash<QString, QPointF> &positions) {
    QCOMPARE(positions.size(), flow.steps.size());
    for (const Step &step : flow.steps) {
        for (const QString &upstream : step.after) {
            QVERIFY2(positions.value(upstream).x() + kNodeWidth <= positions.value(step.id).x(),
                     qPrintable(upstream + QStringLiteral(" -> ") + step.id));
        }
    }
}

} // namespace

class TestGraphScene : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(kFixedDpi); }

    void flowGivesOneNodePerStepAndOneEdgePerDependency() {
        Flow flow = diamondFlow();
        flow.steps[4].after.append(QStringLiteral("missing")); // unknown upstreams are ignored
        GraphScene scene;
        scene.setFlow(flow);
        for (const Step &step : flow.steps) {
            QVERIFY(scene.nodeItem(step.id));
            QCOMPARE(scene.nodeItem(step.id)->stepId(), step.id);
        }
        QCOMPARE(scene.stepIds(), QStringList({"a", "b", "c", "d", "e"}));
        QCOMPARE(scene.edgeItems().size(), 5);
        const QList<std::pair<QString, QString>> expected = {
            {"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}, {"d", "e"}};
        for (const auto &[from, to] : expected)
            QVERIFY2(scene.edgeItem(from, to), qPrintable(from + " -> " + to));
        QVERIFY(!scene.edgeItem("b", "a"));
        int nodes = 0;
        for (QGraphicsItem *item : scene.items())
            nodes += item->type() == StepNodeItem::Type;
        QCOMPARE(nodes, 5);
        QVERIFY(scene.sceneRect().contains(scene.itemsBoundingRect()));
    }

    void everyStepStartsPendingWithItsKind() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        QCOMPARE(scene.stepView("c")->state, StepState::Pending);
        QCOMPARE(scene.stepView("c")->kind, QStringLiteral("shell"));
        QCOMPARE(scene.nodeItem("c")->summaryText(), QStringLiteral("c (shell): Pending"));
        QVERIFY(!scene.stepView("nope"));
        QVERIFY(!scene.nodeItem("nope"));
    }

    void editorPositionsAreHonoured() {
        Flow flow = diamondFlow();
        for (int i = 0; i < flow.steps.size(); ++i)
            flow.steps[i].ui = QJsonObject{{"x", 100 * i}, {"y", -30 * i}};
        GraphScene scene;
        scene.setFlow(flow);
        for (int i = 0; i < flow.steps.size(); ++i)
            QCOMPARE(scene.nodeItem(flow.steps[i].id)->pos(), QPointF(100 * i, -30 * i));
    }

    void layoutPutsEveryStepRightOfItsUpstreams() {
        // One step without a position: the editor's positions are not used, dot lays out all.
        Flow flow = diamondFlow();
        for (int i = 1; i < flow.steps.size(); ++i)
            flow.steps[i].ui = QJsonObject{{"x", 0}, {"y", 0}};
        QVERIFY(!hasEditorPositions(flow));
        GraphScene scene;
        scene.setFlow(flow);
        QHash<QString, QPointF> positions;
        for (const Step &step : flow.steps)
            positions.insert(step.id, scene.nodeItem(step.id)->pos());
        verifyLeftToRight(flow, positions);
        // Nodes do not overlap.
        QVERIFY(!scene.nodeItem("b")->collidesWithItem(scene.nodeItem("c")));
    }

    void layoutIsLeftToRightForLargeFlows_data() {
        QTest::addColumn<int>("effort");
        QTest::newRow("full") << int(DotEffort::Full);
        QTest::newRow("quick") << int(DotEffort::Quick);
    }

    void layoutIsLeftToRightForLargeFlows() {
        QFETCH(int, effort);
        const Flow flow = chainsFlow(300);
        verifyLeftToRight(flow, dotLayout(flow, DotEffort(effort)));
    }

    void updateRepaintsWithoutRecreatingItems() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        StepNodeItem *node = scene.nodeItem("b");
        EdgeItem *edge = scene.edgeItem("a", "b");
        const int itemCount = int(scene.items().size());

        StepView running = viewOf("b", StepState::Running);
        running.attempts = 2;
        running.maxAttempts = 3;
        scene.updateSteps({running});
        QCOMPARE(scene.pendingUpdateCount(), 1);
        scene.flushUpdates();
        QCOMPARE(scene.pendingUpdateCount(), 0);

        QCOMPARE(scene.nodeItem("b"), node);
        QCOMPARE(scene.edgeItem("a", "b"), edge);
        QCOMPARE(int(scene.items().size()), itemCount);
        QCOMPARE(scene.stepView("b")->state, StepState::Running);
        QCOMPARE(node->badgeText(), QStringLiteral("attempt 2/3"));
        QCOMPARE(node->summaryText(), QStringLiteral("b (http): Running, attempt 2/3"));

        scene.updateSteps({viewOf("b", StepState::Succeeded)});
        scene.flushUpdates();
        QCOMPARE(scene.nodeItem("b"), node);
        QCOMPARE(node->summaryText(), QStringLiteral("b (http): Succeeded"));
    }

    void paintShowsTheStateColor() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        scene.updateSteps({viewOf("d", StepState::Failed)});
        scene.flushUpdates();
        const QRectF box = scene.nodeItem("d")->sceneBoundingRect();
        for (qreal scale : {1.0, 0.4, 0.1}) { // full detail, glyph only, plain box
            QImage image((box.size() * scale).toSize(), QImage::Format_ARGB32);
            image.fill(Qt::transparent);
            QPainter painter(&image);
            scene.render(&painter, QRectF(), box);
            painter.end();
            // Just inside the box's left edge, halfway down: clear of glyph and text.
            const QPointF inside =
                (scene.nodeItem("d")->mapToScene(StepNodeItem::boxRect().left() + 4, 8) -
                 box.topLeft()) *
                scale;
            QCOMPARE(image.pixelColor(inside.toPoint()).rgb(), stateColor(StepState::Failed).rgb());
        }
    }

    void badgesNameAttemptsCountdownItemsAndFlags() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        const qint64 now = 1'700'000'000'000;
        scene.setNow(now);

        StepView retrying = viewOf("a", StepState::Retrying);
        retrying.attempts = 2;
        retrying.maxAttempts = 3;
        retrying.nextAttemptAt = now + 12'000;
        StepView items = viewOf("b", StepState::PartiallySucceeded);
        items.itemsTotal = 40;
        items.itemsSucceeded = 37;
        items.itemsFailed = 3;
        StepView flags = viewOf("c", StepState::Succeeded);
        flags.viaFallback = true;
        flags.uncertain = true;
        flags.breakerOpen = true;
        flags.resourcePaused = true;
        StepView scheduled = viewOf("d", StepState::Scheduled);
        scheduled.nextAttemptAt = now + 5 * 60'000;
        scene.updateSteps({retrying, items, flags, scheduled});
        scene.flushUpdates();

        QCOMPARE(scene.nodeItem("a")->badgeText(), QStringLiteral("attempt 2/3, retry in 12 s"));
        QCOMPARE(scene.nodeItem("a")->summaryText(),
                 QStringLiteral("a (http): Retrying, attempt 2/3, retry in 12 s"));
        QCOMPARE(scene.nodeItem("b")->badges(), QStringList({"37/40 items", "3 failed"}));
        QCOMPARE(scene.nodeItem("c")->badges(),
                 QStringList({"fallback", "uncertain", "breaker open", "paused resource"}));
        QCOMPARE(scene.nodeItem("d")->badgeText(), QStringLiteral("starts in 5 min"));
        QCOMPARE(scene.nodeItem("e")->badgeText(), QString());
    }

    void countdownFollowsTheInjectedTime() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        const qint64 now = 1'700'000'000'000;
        scene.setNow(now);
        StepView retrying = viewOf("a", StepState::Retrying);
        retrying.nextAttemptAt = now + 12'000;
        scene.updateSteps({retrying});
        scene.flushUpdates();
        QCOMPARE(scene.nodeItem("a")->badgeText(), QStringLiteral("retry in 12 s"));

        scene.setNow(now + 2'500);
        QCOMPARE(scene.pendingUpdateCount(), 1); // only steps with a countdown repaint
        scene.flushUpdates();
        QCOMPARE(scene.nodeItem("a")->badgeText(), QStringLiteral("retry in 10 s"));
        scene.setNow(now + 12'000);
        QCOMPARE(scene.nodeItem("a")->badgeText(), QStringLiteral("retry due"));
    }

    void updatesAreCoalescedIntoOneFlush() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        QSignalSpy flushed(&scene, &GraphScene::updatesFlushed);
        const QList<StepState> states = {StepState::Queued, StepState::Running, StepState::Retrying,
                                         StepState::Succeeded};
        for (StepState state : states)
            scene.updateSteps({viewOf("a", state), viewOf("b", state), viewOf("zzz", state)});
        QCOMPARE(scene.pendingUpdateCount(), 2); // unknown ids are ignored
        QVERIFY(flushed.wait(1000));             // the 25 Hz timer fires by itself
        QCOMPARE(flushed.size(), 1);
        QCOMPARE(flushed.first().first().toInt(), 2);
        QCOMPARE(scene.stepView("a")->state, StepState::Succeeded);
        QVERIFY(!flushed.wait(3 * GraphScene::kFlushIntervalMs));
    }

    void edgesIntoBlockedStepsAreDashed() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        QVERIFY(!scene.edgeItem("b", "d")->isDashed());
        scene.updateSteps({viewOf("c", StepState::Failed), viewOf("d", StepState::Blocked)});
        scene.flushUpdates();
        QVERIFY(scene.edgeItem("b", "d")->isDashed());
        QVERIFY(scene.edgeItem("c", "d")->isDashed());
        QVERIFY(!scene.edgeItem("a", "c")->isDashed());
        QVERIFY(!scene.edgeItem("d", "e")->isDashed());
        scene.updateSteps({viewOf("d", StepState::Pending)});
        scene.flushUpdates();
        QVERIFY(!scene.edgeItem("b", "d")->isDashed());
    }

    void selectingANodeEmitsStepSelected() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        QSignalSpy selected(&scene, &GraphScene::stepSelected);
        scene.nodeItem("b")->setSelected(true);
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.last().first().toString(), QStringLiteral("b"));
        QCOMPARE(scene.selectedStep(), QStringLiteral("b"));

        scene.selectStep("c");
        QCOMPARE(selected.size(), 2);
        QCOMPARE(selected.last().first().toString(), QStringLiteral("c"));
        QVERIFY(scene.nodeItem("c")->isSelected());
        QVERIFY(!scene.nodeItem("b")->isSelected());
        QCOMPARE(scene.selectedItems().size(), 1);

        // One step at a time, even when a second one is added to the selection.
        scene.nodeItem("e")->setSelected(true);
        QCOMPARE(scene.selectedStep(), QStringLiteral("e"));
        QCOMPARE(scene.selectedItems().size(), 1);

        scene.selectStep(QString());
        QCOMPARE(scene.selectedStep(), QString());
        QCOMPARE(selected.last().first().toString(), QString());
    }

    void mouseSelectsActivatesAndAsksForTheContextMenu() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        GraphView view(&scene);
        view.resize(900, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QSignalSpy selected(&scene, &GraphScene::stepSelected);
        QSignalSpy activated(&scene, &GraphScene::stepActivated);
        QSignalSpy menu(&scene, &GraphScene::stepContextMenuRequested);

        const QPoint c = view.mapFromScene(scene.nodeItem("c")->pos());
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, c);
        QCOMPARE(scene.selectedStep(), QStringLiteral("c"));
        QCOMPARE(selected.last().first().toString(), QStringLiteral("c"));
        QTest::mouseDClick(view.viewport(), Qt::LeftButton, {}, c);
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.first().first().toString(), QStringLiteral("c"));

        const QPoint d = view.mapFromScene(scene.nodeItem("d")->pos());
        QContextMenuEvent event(QContextMenuEvent::Mouse, d, view.viewport()->mapToGlobal(d));
        QApplication::sendEvent(view.viewport(), &event);
        QCOMPARE(menu.size(), 1);
        QCOMPARE(menu.first().first().toString(), QStringLiteral("d"));
        QCOMPARE(scene.selectedStep(), QStringLiteral("d"));
    }

    void keyboardWalksTheSteps() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        GraphView view(&scene);
        view.resize(900, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.activateWindow(); // Tab walks steps only while the view has the keyboard focus
        QVERIFY(QTest::qWaitForWindowActive(&view));
        view.setFocus();
        QVERIFY(view.hasFocus());
        QSignalSpy activated(&scene, &GraphScene::stepActivated);

        QTest::keyClick(&view, Qt::Key_Tab);
        QCOMPARE(scene.selectedStep(), QStringLiteral("a"));
        QTest::keyClick(&view, Qt::Key_Tab);
        QCOMPARE(scene.selectedStep(), QStringLiteral("b"));
        QTest::keyClick(&view, Qt::Key_Backtab, Qt::ShiftModifier);
        QCOMPARE(scene.selectedStep(), QStringLiteral("a"));
        QTest::keyClick(&view, Qt::Key_Right, Qt::ControlModifier);
        QVERIFY(scene.selectedStep() == "b" || scene.selectedStep() == "c");
        QTest::keyClick(&view, Qt::Key_Right, Qt::ControlModifier);
        QCOMPARE(scene.selectedStep(), QStringLiteral("d"));
        QCOMPARE(view.accessibleDescription(), QStringLiteral("d (http): Pending"));
        QTest::keyClick(&view, Qt::Key_Return);
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.first().first().toString(), QStringLiteral("d"));
        QTest::keyClick(&view, Qt::Key_Escape);
        QCOMPARE(scene.selectedStep(), QString());
        QCOMPARE(view.accessibleName(), QStringLiteral("Run graph"));
    }

    void zoomAndFitFromTheKeyboard() {
        GraphScene scene;
        scene.setFlow(chainsFlow(200));
        GraphView view(&scene);
        view.resize(800, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setFocus();
        view.resetZoom();
        QCOMPARE(view.zoom(), 1.0);
        QTest::keyClick(&view, Qt::Key_Plus);
        QVERIFY(view.zoom() > 1.0);
        QTest::keyClick(&view, Qt::Key_Minus);
        QTest::keyClick(&view, Qt::Key_Minus);
        QVERIFY(view.zoom() < 1.0);
        QTest::keyClick(&view, Qt::Key_F);
        const QRectF visible = view.mapToScene(view.viewport()->rect()).boundingRect();
        QVERIFY(visible.adjusted(-2, -2, 2, 2).contains(scene.sceneRect()));

        // Arrow keys pan.
        view.resetZoom();
        const int before = view.horizontalScrollBar()->value();
        QTest::keyClick(&view, Qt::Key_Right);
        QVERIFY(view.horizontalScrollBar()->value() > before);
    }

    void smallFlowsAreNotMagnifiedByFit() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        GraphView view(&scene);
        view.resize(2000, 1200);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.fitAll();
        QCOMPARE(view.zoom(), 1.0);
    }

    void minimapClickCentersTheMainView() {
        GraphScene scene;
        scene.setFlow(chainsFlow(200));
        GraphView view(&scene);
        view.resize(800, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.resetZoom();
        MinimapView *minimap = view.minimap();
        QVERIFY(minimap->isVisible());
        QVERIFY(view.viewport()->geometry().contains(minimap->geometry()));

        const QPoint target(minimap->viewport()->width() * 3 / 4,
                            minimap->viewport()->height() / 2);
        const QPointF scenePoint = minimap->mapToScene(target);
        QTest::mouseClick(minimap->viewport(), Qt::LeftButton, {}, target);
        const QPointF center = view.mapToScene(view.viewport()->rect().center());
        QVERIFY2(QLineF(center, scenePoint).length() < 50,
                 qPrintable(QStringLiteral("%1,%2 vs %3,%4")
                                .arg(center.x())
                                .arg(center.y())
                                .arg(scenePoint.x())
                                .arg(scenePoint.y())));
        view.setMinimapVisible(false);
        QVERIFY(!minimap->isVisible());
    }

    void minimapFollowsStateChanges() {
        // The overview repaints after the main view has: it must not keep its first colors. The
        // steps checked are shown in both views, where a cache shared between them would be
        // refreshed by the main view's paint and stay stale in the overview's.
        GraphScene scene;
        scene.setFlow(diamondFlow());
        GraphView view(&scene);
        view.resize(500, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.resetZoom();
        MinimapView *minimap = view.minimap();
        QVERIFY(minimap->isVisible());
        const auto minimapColor = [&](const QString &id) {
            // As on screen: the scene hands its dirty items to the views, the main view paints,
            // then the overview; read back what is shown.
            QCoreApplication::processEvents();
            view.viewport()->repaint();
            minimap->viewport()->repaint();
            const QImage shown = view.screen()->grabWindow(view.winId()).toImage();
            const QPoint at =
                minimap->viewport()->mapTo(&view, minimap->mapFromScene(scene.nodeItem(id)->pos()));
            return shown.pixelColor(at);
        };
        // The overview tints the main view's visible area with the highlight color.
        const auto tinted = [&](QColor color) {
            const QColor tint = minimap->palette().color(QPalette::Highlight);
            const auto mix = [](int under, int over) { return (under * 215 + over * 40) / 255; };
            return QColor(mix(color.red(), tint.red()), mix(color.green(), tint.green()),
                          mix(color.blue(), tint.blue()));
        };
        const auto near = [](QColor a, QColor b) {
            return std::abs(a.red() - b.red()) <= 3 && std::abs(a.green() - b.green()) <= 3 &&
                   std::abs(a.blue() - b.blue()) <= 3;
        };
        const QRectF visible = view.mapToScene(view.viewport()->rect()).boundingRect();
        QStringList inside;
        for (const QString &id : scene.stepIds()) {
            if (visible.contains(scene.nodeItem(id)->sceneBoundingRect()))
                inside << id;
        }
        QVERIFY(!inside.isEmpty());
        for (StepState state : {StepState::Retrying, StepState::Skipped, StepState::Succeeded}) {
            QList<StepView> views;
            for (const QString &id : std::as_const(inside))
                views << viewOf(id, state);
            scene.updateSteps(views);
            scene.flushUpdates();
            for (const QString &id : std::as_const(inside)) {
                const QColor shown = minimapColor(id);
                QVERIFY2(near(shown, tinted(stateColor(state))),
                         qPrintable(QStringLiteral("%1 %2: %3, expected %4")
                                        .arg(id, stateLabel(state), shown.name(),
                                             tinted(stateColor(state)).name())));
            }
        }
    }

    void namesAreReadableAtTheDefaultFit_data() {
        QTest::addColumn<Flow>("flow");
        QTest::addColumn<QSize>("size");
        Flow nightly;
        nightly.steps = {makeStep("prepare"),
                         makeStep("extract", {"prepare"}),
                         makeStep("warehouse-load", {"extract"}),
                         makeStep("search-index", {"extract"}),
                         makeStep("thumbnails", {"extract"}),
                         makeStep("cool-down", {"warehouse-load"}),
                         makeStep("verify-load", {"cool-down", "warehouse-load"}),
                         makeStep("report", {"verify-load", "search-index", "thumbnails"})};
        Flow runbook;
        runbook.steps = {makeStep("probe-health"),
                         makeStep("assume-degraded"),
                         makeStep("snapshot-logs", {"probe-health"}),
                         makeStep("drain", {"snapshot-logs"}),
                         makeStep("restart", {"drain"}),
                         makeStep("settle", {"restart"}),
                         makeStep("verify", {"settle"}),
                         makeStep("close-incident", {"verify"})};
        // The graph pane at 1600x1000 and at 1280x720.
        for (const QSize size : {QSize(860, 330), QSize(560, 200)}) {
            const QString at = QStringLiteral(" %1x%2").arg(size.width()).arg(size.height());
            QTest::newRow(qPrintable("nightly" + at)) << nightly << size;
            QTest::newRow(qPrintable("runbook" + at)) << runbook << size;
            QTest::newRow(qPrintable("50 steps" + at)) << chainsFlow(50) << size;
        }
    }

    void namesAreReadableAtTheDefaultFit() {
        QFETCH(Flow, flow);
        QFETCH(QSize, size);
        GraphScene scene;
        scene.setFlow(flow);
        GraphView view(&scene);
        view.resize(size);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.fitAll();
        const qreal zoom = view.zoom();
        for (const Step &step : flow.steps) {
            const StepNodeItem::NameLayout name = scene.nodeItem(step.id)->nameLayout(zoom);
            QVERIFY2(!name.lines.isEmpty(), qPrintable(step.id));
            QVERIFY2(
                name.pixelSize * zoom >= StepNodeItem::kMinNamePixels - 0.01,
                qPrintable(QStringLiteral("%1: %2 px").arg(step.id).arg(name.pixelSize * zoom)));
            QCOMPARE(name.lines.join(QString()), step.id); // whole: wrapped, not elided
        }
    }

    void longNamesWrapThenElide() {
        QFont font;
        font.setPixelSize(11);
        const QFontMetricsF metrics(font);
        const QStringList lines =
            StepNodeItem::wrapName("warehouse-load-and-verify-every-partition", metrics,
                                   metrics.horizontalAdvance("warehouse-load-"), 2);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("warehouse-") && lines[0].endsWith("-"), qPrintable(lines[0]));
        QVERIFY(lines[1].contains(QChar(0x2026))); // the rest does not fit: elided
    }

    void bigGraphsLabelTheStepsThatNeedAttention() {
        GraphScene scene;
        const Flow flow = chainsFlow(300);
        scene.setFlow(flow);
        QList<StepView> views;
        for (const Step &step : flow.steps)
            views << viewOf(step.id, StepState::Succeeded);
        const QHash<QString, StepState> problems = {{"s5", StepState::Failed},
                                                    {"s40", StepState::Retrying},
                                                    {"s77", StepState::WaitingForOperator},
                                                    {"s100", StepState::Uncertain}};
        for (StepView &view : views)
            view.state = problems.value(view.stepId, view.state);
        scene.updateSteps(views);
        scene.flushUpdates();
        GraphView view(&scene);
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.fitAll();
        QVERIFY(view.zoom() < StepNodeItem::kNameLod); // too small for names in the boxes
        QStringList labelled;
        const QImage shown = view.viewport()->grab().toImage();
        for (const GraphView::AttentionLabel &label : view.attentionLabels()) {
            labelled << label.stepId;
            QVERIFY(label.rect.height() >= StepNodeItem::kMinNamePixels);
            QVERIFY(label.rect.width() > 40);
            // Drawn in the state's color, at screen size.
            const QPoint inside(label.rect.right() - 3, label.rect.center().y() + 4);
            QCOMPARE(shown.pixelColor(inside).rgb(), stateColor(problems[label.stepId]).rgb());
        }
        QCOMPARE(labelled, QStringList({"s5", "s40", "s77", "s100"}));

        scene.updateSteps({viewOf("s40", StepState::Succeeded)});
        scene.flushUpdates();
        labelled.clear();
        for (const GraphView::AttentionLabel &label : view.attentionLabels())
            labelled << label.stepId;
        QCOMPARE(labelled, QStringList({"s5", "s77", "s100"}));
    }

    void stepsAreAccessibleChildrenOfTheGraph() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        scene.updateSteps({viewOf("c", StepState::Failed)});
        scene.flushUpdates();
        GraphView view(&scene);
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QSignalSpy selected(&scene, &GraphScene::stepSelected);
        QAccessibleInterface *graph = QAccessible::queryAccessibleInterface(&view);
        QVERIFY(graph);
        QCOMPARE(graph->text(QAccessible::Name), QStringLiteral("Run graph"));
        QCOMPARE(graph->childCount(), 5);
        QAccessibleInterface *c = graph->child(2);
        QVERIFY(c && c->isValid());
        QCOMPARE(c->role(), QAccessible::ListItem);
        QCOMPARE(c->text(QAccessible::Name), QStringLiteral("c"));
        QCOMPARE(c->text(QAccessible::Description), QStringLiteral("c (http): Failed"));
        QCOMPARE(c->parent(), graph);
        QCOMPARE(graph->indexOfChild(c), 2);
        QVERIFY(c->state().selectable);
        QVERIFY(!c->state().selected);
        QVERIFY(
            view.viewport()->rect().contains(view.viewport()->mapFromGlobal(c->rect().center())));
        QCOMPARE(graph->childAt(c->rect().center().x(), c->rect().center().y()), c);
        QAccessibleActionInterface *actions = c->actionInterface();
        QVERIFY(actions);
        QVERIFY(actions->actionNames().contains(QAccessibleActionInterface::pressAction()));
        actions->doAction(QAccessibleActionInterface::pressAction());
        QCOMPARE(scene.selectedStep(), QStringLiteral("c"));
        QCOMPARE(selected.last().first().toString(), QStringLiteral("c"));
        QVERIFY(c->state().selected);
        QCOMPARE(graph->child(2), c); // the same interface each time
    }

    void legendListsEveryStateWithItsLabel() {
        LegendWidget legend;
        // Every state, then the root-cause marker.
        QCOMPARE(legend.labels().size(), allStepStates().size() + 1);
        for (int i = 0; i < allStepStates().size(); ++i)
            QCOMPARE(legend.labels().at(i), stateLabel(allStepStates().at(i)));
        QCOMPARE(legend.labels().last(), rootCauseLabel());
        QAction *toggle = legend.toggleViewAction();
        QCOMPARE(toggle->text(), QStringLiteral("Legend"));
        toggle->setChecked(true);
        QVERIFY(legend.isVisible());
        legend.hide();
        QVERIFY(!toggle->isChecked());
    }

    void setFlowAgainReplacesTheItems() {
        GraphScene scene;
        scene.setFlow(diamondFlow());
        scene.selectStep("b");
        QSignalSpy selected(&scene, &GraphScene::stepSelected);
        scene.setFlow(chainsFlow(20));
        QCOMPARE(scene.stepIds().size(), 20);
        QVERIFY(!scene.nodeItem("b"));
        QCOMPARE(scene.selectedStep(), QString());
        QCOMPARE(selected.size(), 1);
    }
};

QTEST_MAIN(TestGraphScene)
#include "tst_graphscene.moc"
