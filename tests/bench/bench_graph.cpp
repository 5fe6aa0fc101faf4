// bench_graph: the run graph with 1,000 and 5,000 steps.
//
//   bench_graph [--steps N] [--seconds S] [--quick]
//
// Prints, one figure per line: dot layout time (full and quick effort), time from setFlow to
// the first completed paint of the viewport, repaints per second and paint times while 1,000
// state changes per second stream in (whole graph fitted in the view; and at 100 % while the
// view pans, which asks for a frame every 16 ms), peak RSS and RSS after 1 s vs at the end, and
// the same with the item cache off and with the scene index off (NoIndex instead of the BSP tree).
// Targets: 1,000 steps open in under 1 s and stay above 30 fps under the stream.
// Run under QT_QPA_PLATFORM=offscreen and under xvfb-run -a.

#include "graphlayout.h"
#include "graphscene.h"
#include "graphview.h"
#include "statestyle.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QScrollBar>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

constexpr int kUpdatesPerSecond = 1000;
constexpr int kFeedIntervalMs = 10; // small batches: 10 changes every 10 ms
constexpr int kPanIntervalMs = 16;  // a user dragging asks for ~60 frames a second

void print(int steps, const char *figure, const QString &value) {
    std::printf("%d steps | %s | %s\n", steps, figure, qPrintable(value));
    std::fflush(stdout);
}

QString ms(double value) {
    return QStringLiteral("%1 ms").arg(value, 0, 'f', 1);
}

double kibFromStatus(const char *field) {
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith(field))
            return line.mid(qstrlen(field)).trimmed().split(' ').first().toDouble();
    }
    return 0;
}

QString mib(double kib) {
    return QStringLiteral("%1 MiB").arg(kib / 1024.0, 0, 'f', 1);
}

// Parallel chains between fan-out and fan-in steps, as real flows are shaped: a fan-out step,
// 3 to 8 chains of 2 to 6 steps, a join step, and again.
Flow syntheticFlow(int count) {
    QRandomGenerator random(42);
    Flow flow;
    flow.name = QStringLiteral("bench");
    QString join;
    int n = 0;
    auto add = [&](const QString &id, const QStringList &after) {
        Step step;
        step.id = id;
        step.kind = (n % 3 == 0) ? QStringLiteral("http") : QStringLiteral("shell");
        step.after = after;
        flow.steps.append(step);
    };
    while (n < count) {
        const QString fan = QStringLiteral("fan_%1").arg(n++);
        add(fan, join.isEmpty() ? QStringList() : QStringList{join});
        QStringList tails;
        const int width = 3 + random.bounded(6);
        for (int chain = 0; chain < width && n < count; ++chain) {
            QString previous = fan;
            const int length = 2 + random.bounded(5);
            for (int k = 0; k < length && n < count; ++k) {
                const QString id = QStringLiteral("step_%1").arg(n++);
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
    return flow;
}

StepView randomView(const QString &id, qint64 now, QRandomGenerator &random) {
    const QList<StepState> &states = allStepStates();
    StepView view;
    view.stepId = id;
    view.state = states[random.bounded(int(states.size()))];
    view.attempts = random.bounded(1, 4);
    view.maxAttempts = 3;
    if (view.state == StepState::Retrying || view.state == StepState::Scheduled)
        view.nextAttemptAt = now + random.bounded(1, 60) * 1000;
    if (random.bounded(4) == 0) {
        view.itemsTotal = 40;
        view.itemsSucceeded = random.bounded(41);
        view.itemsFailed = random.bounded(40 - view.itemsSucceeded + 1);
    }
    view.breakerOpen = random.bounded(50) == 0;
    return view;
}

// Counts and times the viewport's paints.
class TimedView : public GraphView {
public:
    using GraphView::GraphView;
    int paints = 0;
    std::vector<double> paintMs;
    bool recording = false;

protected:
    void paintEvent(QPaintEvent *event) override {
        QElapsedTimer timer;
        timer.start();
        GraphView::paintEvent(event);
        ++paints;
        if (recording)
            paintMs.push_back(timer.nsecsElapsed() / 1e6);
    }
};

struct Setup {
    const char *name;
    QGraphicsItem::CacheMode cache;
    QGraphicsScene::ItemIndexMethod index;
    bool pan; ///< at 100 %, panning every 16 ms; otherwise the whole graph fitted
};

struct Options {
    QList<int> steps{1000, 5000};
    int seconds = 10;
};

class Bench {
public:
    Bench(int steps, const Options &options)
        : m_steps(steps)
        , m_options(options)
        , m_flow(syntheticFlow(steps)) {}

    void run() {
        int edges = 0;
        for (const Step &step : m_flow.steps)
            edges += int(step.after.size());
        print(m_steps, "edges", QString::number(edges));
        measureLayout();
        stream({"stream, fit all, cache device, index bsp", QGraphicsItem::DeviceCoordinateCache,
                QGraphicsScene::BspTreeIndex, false},
               true);
        stream({"stream, 100 % panning, cache device, index bsp",
                QGraphicsItem::DeviceCoordinateCache, QGraphicsScene::BspTreeIndex, true},
               false);
        stream({"stream, fit all, cache none, index bsp", QGraphicsItem::NoCache,
                QGraphicsScene::BspTreeIndex, false},
               false);
        stream({"stream, 100 % panning, cache none, index bsp", QGraphicsItem::NoCache,
                QGraphicsScene::BspTreeIndex, true},
               false);
        stream({"stream, fit all, cache device, index none", QGraphicsItem::DeviceCoordinateCache,
                QGraphicsScene::NoIndex, false},
               false);
        stream({"stream, 100 % panning, cache device, index none",
                QGraphicsItem::DeviceCoordinateCache, QGraphicsScene::NoIndex, true},
               false);
        compareIndexLookups();
        print(m_steps, "peak RSS (VmHWM, process so far)", mib(kibFromStatus("VmHWM:")));
    }

private:
    void measureLayout() {
        for (DotEffort effort : {DotEffort::Full, DotEffort::Quick}) {
            if (effort == DotEffort::Full && m_options.seconds < 10 && m_steps > kFullDotMaxSteps)
                continue; // --quick: skip the multi-second full dot on big flows
            QElapsedTimer timer;
            timer.start();
            const auto positions = dotLayout(m_flow, effort);
            const double elapsed = timer.nsecsElapsed() / 1e6;
            print(m_steps, effort == DotEffort::Full ? "layout dot full" : "layout dot quick",
                  ms(elapsed) + QStringLiteral(" (%1 positions)").arg(positions.size()));
        }
    }

    // Opens the flow in a fresh view and streams state changes into it for the set duration.
    void stream(const Setup &setup, bool main) {
        GraphScene scene;
        scene.setItemIndexMethod(setup.index);
        scene.setNodeCacheMode(setup.cache);
        TimedView view(&scene);
        view.resize(1280, 800);
        view.show();
        QApplication::processEvents();

        // First paint: from setFlow to the first completed paint of the viewport.
        const int paintsBefore = view.paints;
        QElapsedTimer open;
        open.start();
        scene.setFlow(m_flow);
        const double setFlowMs = open.nsecsElapsed() / 1e6;
        view.viewport()->update();
        while (view.paints == paintsBefore)
            QApplication::processEvents(QEventLoop::WaitForMoreEvents);
        const double firstPaintMs = open.nsecsElapsed() / 1e6;
        const QString label = QString::fromLatin1(setup.name);
        if (main) {
            print(m_steps, "setFlow (layout and items)", ms(setFlowMs));
            print(m_steps, "first paint", ms(firstPaintMs));
        } else if (setup.index == QGraphicsScene::NoIndex && !setup.pan) {
            print(m_steps, "first paint, index none", ms(firstPaintMs));
        }
        if (setup.pan) {
            view.resetZoom();
            view.horizontalScrollBar()->setValue(view.horizontalScrollBar()->minimum());
        }

        QRandomGenerator random(7);
        qint64 now = 1'700'000'000'000;
        QElapsedTimer clock;
        clock.start();
        qint64 sent = 0;
        QTimer feed;
        feed.setTimerType(Qt::PreciseTimer);
        feed.setInterval(kFeedIntervalMs);
        QObject::connect(&feed, &QTimer::timeout, [&] {
            // Catch up to exactly 1,000 changes per elapsed second, in small batches.
            const qint64 due = clock.elapsed() * kUpdatesPerSecond / 1000;
            QList<StepView> batch;
            for (; sent < due; ++sent) {
                const Step &step = m_flow.steps[random.bounded(int(m_flow.steps.size()))];
                batch.append(randomView(step.id, now, random));
            }
            scene.updateSteps(batch);
        });
        QTimer tick; // the countdown clock, as the main window drives it
        tick.setInterval(1000);
        QObject::connect(&tick, &QTimer::timeout, [&] { scene.setNow(now += 1000); });
        QTimer pan;
        pan.setTimerType(Qt::PreciseTimer);
        pan.setInterval(kPanIntervalMs);
        int direction = 1;
        QObject::connect(&pan, &QTimer::timeout, [&] {
            QScrollBar *bar = view.horizontalScrollBar();
            if (bar->value() >= bar->maximum())
                direction = -1;
            else if (bar->value() <= bar->minimum())
                direction = 1;
            bar->setValue(bar->value() + direction * 12);
        });

        double rssAfter1s = 0;
        QTimer::singleShot(1000, [&] { rssAfter1s = kibFromStatus("VmRSS:"); });
        feed.start();
        tick.start();
        if (setup.pan)
            pan.start();
        view.paintMs.clear();
        view.recording = true;
        const int paintsAtStart = view.paints;
        QEventLoop loop;
        QTimer::singleShot(m_options.seconds * 1000, &loop, &QEventLoop::quit);
        loop.exec();
        const double seconds = clock.nsecsElapsed() / 1e9;
        view.recording = false;
        feed.stop();
        const double rssEnd = kibFromStatus("VmRSS:");

        std::vector<double> times = view.paintMs;
        std::sort(times.begin(), times.end());
        double sum = 0;
        for (double t : times)
            sum += t;
        const double average = times.empty() ? 0 : sum / double(times.size());
        const double p95 = times.empty() ? 0 : times[size_t(double(times.size() - 1) * 0.95)];
        const double worst = times.empty() ? 0 : times.back();
        const QString paints =
            QStringLiteral("%1 paints/s").arg((view.paints - paintsAtStart) / seconds, 0, 'f', 1);
        print(m_steps, qPrintable(label + QStringLiteral(": repaint rate")), paints);
        print(m_steps, qPrintable(label + QStringLiteral(": paint time avg / p95 / max")),
              QStringLiteral("%1 / %2 / %3 ms (capacity %4 fps at p95)")
                  .arg(average, 0, 'f', 2)
                  .arg(p95, 0, 'f', 2)
                  .arg(worst, 0, 'f', 2)
                  .arg(p95 > 0 ? 1000.0 / p95 : 0.0, 0, 'f', 0));
        print(m_steps, qPrintable(label + QStringLiteral(": state changes delivered")),
              QStringLiteral("%1/s").arg(sent / seconds, 0, 'f', 0));
        if (main) {
            print(m_steps, "RSS after 1 s of stream", mib(rssAfter1s));
            print(m_steps, "RSS at end of stream", mib(rssEnd));
        }
    }

    // What the index is for here: hit tests (clicks, tooltips) and exposed-area queries.
    void compareIndexLookups() {
        for (auto method : {QGraphicsScene::BspTreeIndex, QGraphicsScene::NoIndex}) {
            GraphScene scene;
            scene.setItemIndexMethod(method);
            QElapsedTimer timer;
            timer.start();
            scene.setFlow(m_flow);
            scene.items(QPointF()); // builds the BSP tree, lazily built otherwise
            const double build = timer.nsecsElapsed() / 1e6;
            QRandomGenerator random(3);
            const QRectF rect = scene.sceneRect();
            timer.restart();
            int hits = 0;
            for (int i = 0; i < 10'000; ++i) {
                const QPointF point(rect.left() + random.bounded(rect.width()),
                                    rect.top() + random.bounded(rect.height()));
                hits += int(scene.items(point).size());
            }
            const double lookups = timer.nsecsElapsed() / 1e6;
            timer.restart();
            int visible = 0;
            for (int i = 0; i < 200; ++i) {
                const QRectF area(rect.left() + random.bounded(rect.width()), rect.top(), 1280,
                                  800);
                visible += int(scene.items(area).size());
            }
            const double areas = timer.nsecsElapsed() / 1e6;
            const bool bsp = method == QGraphicsScene::BspTreeIndex;
            print(m_steps, bsp ? "index bsp: setFlow + index build" : "index none: setFlow",
                  ms(build));
            print(m_steps,
                  bsp ? "index bsp: 10,000 point lookups" : "index none: 10,000 point lookups",
                  ms(lookups) + QStringLiteral(" (%1 hits)").arg(hits));
            print(m_steps,
                  bsp ? "index bsp: 200 view-sized area queries"
                      : "index none: 200 view-sized area queries",
                  ms(areas) + QStringLiteral(" (%1 items)").arg(visible));
        }
    }

    int m_steps;
    Options m_options;
    Flow m_flow;
};

Options parseOptions(const QStringList &arguments) {
    Options options;
    for (int i = 1; i < arguments.size(); ++i) {
        const QString &argument = arguments[i];
        if (argument == QLatin1String("--steps") && i + 1 < arguments.size())
            options.steps = {arguments[++i].toInt()};
        else if (argument == QLatin1String("--seconds") && i + 1 < arguments.size())
            options.seconds = std::max(1, arguments[++i].toInt());
        else if (argument == QLatin1String("--quick"))
            options.seconds = 2;
        else
            std::fprintf(stderr, "ignored argument: %s\n", qPrintable(argument));
    }
    return options;
}

} // namespace

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    const Options options = parseOptions(QApplication::arguments());
    std::printf("platform %s, %d s per stream, %d state changes/s, flush every %d ms\n",
                qPrintable(QApplication::platformName()), options.seconds, kUpdatesPerSecond,
                GraphScene::kFlushIntervalMs);
    for (int steps : options.steps)
        Bench(steps, options).run();
    return 0;
}
