// bench_canvas: dragging steps in the editor's canvas (EditorScene in a shown GraphView).
//
//   bench_canvas [--steps N] [--selected K] [--seconds S]
//
// A flow of N steps (1,000) laid out by dot and loaded into a FlowDocument; K steps (100) that lie
// together are selected and dragged with the left button: the view gets a mouse move every 16 ms
// (what a hand asks for at 60 Hz) for S seconds (5), back and forth fast enough that every move
// crosses a grid line, each move going the whole way through
// EditorScene -> FlowDocument::requestStepsMove (one merging undo command) -> positionsChanged ->
// items and wires moved. Prints, one figure per line, for the whole flow fitted in the view and
// at 100 %: viewport paints per second (the frame rate the user sees), time per move (event to
// items moved, before painting) and time per frame (move plus paint). Target: above 30 fps.
// Run under QT_QPA_PLATFORM=offscreen and under xvfb-run -a.

#include "editorscene.h"
#include "flowdocument.h"
#include "graphlayout.h"
#include "graphview.h"
#include "model/flowfile.h"
#include "stepnodeitem.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QMouseEvent>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUndoStack>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

constexpr int kFrameMs = 16;
constexpr int kSwing = 240; // px each side of the middle of the drag

void print(const QString &scenario, const char *figure, const QString &value) {
    std::printf("%s | %s | %s\n", qPrintable(scenario), figure, qPrintable(value));
    std::fflush(stdout);
}

QString ms(double value) {
    return QStringLiteral("%1 ms").arg(value, 0, 'f', 2);
}

// Parallel chains between fan-out and fan-in steps (as bench_graph), with dot positions saved
// as the editor saves them.
Flow syntheticFlow(int count) {
    QRandomGenerator random(42);
    Flow flow;
    flow.name = QStringLiteral("bench");
    QString join;
    int n = 0;
    auto add = [&](const QString &id, const QStringList &after) {
        Step step;
        step.id = id;
        step.kind = QStringLiteral("noop"); // needs no settings to load
        step.after = after;
        flow.steps.append(step);
    };
    while (n < count) {
        const QString fan = QStringLiteral("fan_%1").arg(n++);
        add(fan, join.isEmpty() ? QStringList() : QStringList{join});
        QStringList tails;
        const int chains = random.bounded(3, 9);
        for (int c = 0; c < chains && n < count; ++c) {
            QString previous = fan;
            const int length = random.bounded(2, 7);
            for (int k = 0; k < length && n < count; ++k) {
                const QString id = QStringLiteral("s_%1").arg(n++);
                add(id, {previous});
                previous = id;
            }
            tails.append(previous);
        }
        if (n >= count)
            break;
        join = QStringLiteral("join_%1").arg(n++);
        add(join, tails);
    }
    const QHash<QString, QPointF> positions = dotLayout(flow);
    for (Step &step : flow.steps) {
        const QPointF pos = EditorScene::snapToGrid(positions.value(step.id));
        step.ui = QJsonObject{{QStringLiteral("x"), pos.x()}, {QStringLiteral("y"), pos.y()}};
    }
    return flow;
}

// The selected steps: the `count` steps nearest to the middle of the flow.
QStringList nearestSteps(const EditorScene &scene, int count) {
    const QRectF bounds = scene.contentRect();
    QStringList ids = scene.stepIds();
    std::sort(ids.begin(), ids.end(), [&](const QString &a, const QString &b) {
        return QLineF(scene.nodeItem(a)->pos(), bounds.center()).length() <
               QLineF(scene.nodeItem(b)->pos(), bounds.center()).length();
    });
    return ids.mid(0, count);
}

class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject *, QEvent *event) override {
        if (event->type() == QEvent::Paint)
            ++paints;
        return false;
    }
};

double percentile(std::vector<double> values, double p) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, size_t(p * double(values.size())))];
}

double mean(const std::vector<double> &values) {
    double sum = 0;
    for (double v : values)
        sum += v;
    return values.empty() ? 0 : sum / double(values.size());
}

void dragFor(const QString &scenario, FlowDocument &document, EditorScene &scene, GraphView &view,
             const QStringList &selected, double seconds) {
    scene.selectSteps(selected);
    const QString anchor = selected.first();
    QWidget *viewport = view.viewport();
    view.centerOn(scene.nodeItem(anchor));
    QTest::qWait(200);
    const int undoBefore = document.undoStack()->index();
    const QPointF anchorStart = scene.nodeItem(anchor)->pos();

    const QPoint press = view.mapFromScene(scene.nodeItem(anchor)->pos());
    QTest::mousePress(viewport, Qt::LeftButton, {}, press);

    PaintCounter counter;
    viewport->installEventFilter(&counter);
    std::vector<double> moveMs;
    std::vector<double> frameMs;
    QElapsedTimer clock;
    clock.start();
    const qint64 total = qint64(seconds * 1000);
    int frame = 0;
    QPoint last = press;
    const int stride = std::max(3, int(std::ceil(1.25 * EditorScene::kGridSize * view.zoom())));
    int moved = 0;
    const QMetaObject::Connection counting = QObject::connect(
        &document, &FlowDocument::positionsChanged, [&moved](const QStringList &) { ++moved; });
    while (clock.elapsed() < total) {
        const qint64 frameStart = clock.nsecsElapsed();
        // Back and forth across 480 px at a speed that crosses a grid line on every frame (at
        // least 3 px), so that every move really moves the steps: a fast hand.
        const int offset = (frame * stride) % (4 * kSwing);
        const int x = offset < 2 * kSwing ? offset - kSwing : 3 * kSwing - offset;
        const QPoint pos = press + QPoint(x + kSwing, (frame % 2) * stride);
        ++frame;
        QMouseEvent move(QEvent::MouseMove, pos, viewport->mapToGlobal(pos), Qt::NoButton,
                         Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(viewport, &move);
        last = pos;
        moveMs.push_back(double(clock.nsecsElapsed() - frameStart) / 1e6);
        QCoreApplication::processEvents(); // the repaint the move asked for
        frameMs.push_back(double(clock.nsecsElapsed() - frameStart) / 1e6);
        // Wait for the next frame tick, handling events meanwhile.
        while (clock.nsecsElapsed() - frameStart < qint64(kFrameMs) * 1000000) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 1);
            QThread::usleep(500);
        }
    }
    const double elapsed = double(clock.elapsed()) / 1000.0;
    viewport->removeEventFilter(&counter);
    QObject::disconnect(counting);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, last);

    print(scenario, "zoom", QStringLiteral("%1").arg(view.zoom(), 0, 'f', 3));
    print(scenario, "mouse moves sent", QString::number(moveMs.size()));
    print(scenario, "moves that moved the steps", QString::number(moved));
    print(scenario, "frames per second (viewport paints/s)",
          QStringLiteral("%1").arg(counter.paints / elapsed, 0, 'f', 1));
    print(scenario, "time per move (mean)", ms(mean(moveMs)));
    print(scenario, "time per move (p95)", ms(percentile(moveMs, 0.95)));
    print(scenario, "time per frame, move + paint (mean)", ms(mean(frameMs)));
    print(scenario, "time per frame, move + paint (p95)", ms(percentile(frameMs, 0.95)));
    print(scenario, "undo commands for the drag",
          QString::number(document.undoStack()->index() - undoBefore));
    print(scenario, "anchor step moved by",
          QStringLiteral("%1, %2")
              .arg(scene.nodeItem(anchor)->pos().x() - anchorStart.x())
              .arg(scene.nodeItem(anchor)->pos().y() - anchorStart.y()));
    // Back where they were, so the next scenario starts from the same flow.
    document.undoStack()->undo();
}

} // namespace

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    int steps = 1000;
    int selectedCount = 100;
    double seconds = 5.0;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == QLatin1String("--steps"))
            steps = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--selected"))
            selectedCount = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--seconds"))
            seconds = args[i + 1].toDouble();
    }
    std::printf("platform %s, %d steps, %d selected, %.0f s per scenario\n",
                qPrintable(QGuiApplication::platformName()), steps, selectedCount, seconds);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench.flow.json"));
    const Status saved = saveFlowFile(syntheticFlow(steps), path);
    if (!saved) {
        std::fprintf(stderr, "cannot write the flow: %s\n", qPrintable(saved.message()));
        return 1;
    }
    FlowDocument document;
    if (const Status loaded = document.load(path); !loaded) {
        std::fprintf(stderr, "cannot load the flow: %s\n", qPrintable(loaded.message().left(300)));
        return 1;
    }

    QElapsedTimer open;
    open.start();
    EditorScene scene(&document);
    GraphView view(&scene);
    view.resize(1280, 800);
    view.show();
    if (!QTest::qWaitForWindowExposed(&view))
        return 1;
    QCoreApplication::processEvents();
    print(QStringLiteral("open"), "scene built and first paint", ms(double(open.elapsed())));

    const QStringList selected = nearestSteps(scene, selectedCount);
    view.fitAll();
    dragFor(QStringLiteral("fit"), document, scene, view, selected, seconds);
    view.resetZoom();
    dragFor(QStringLiteral("100 %"), document, scene, view, selected, seconds);
    return 0;
}
