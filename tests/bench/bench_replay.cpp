// bench_replay: time travel over a long run. A run of 1,000 steps and 50,000 events (every step
// retries up to 24 times before it succeeds, steps interleaved as parallel branches do),
// scrubbed to random positions and stepped event by event:
//   - the replay alone (RunReplay::seek), and
//   - the replay plus the redraw the desktop does: step views built, the graph's nodes updated
//     and the viewport painted, the step table updated and painted (offscreen, like bench_graph).
// Prints the median and p95 per position. Target: under 50 ms per position with the redraw.
//
//   QT_QPA_PLATFORM=offscreen bench_replay [--steps N] [--events N] [--positions N]

#include "api/replay.h"
#include "graphscene.h"
#include "graphview.h"
#include "steptablemodel.h"
#include "stepviews.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QRandomGenerator>
#include <QTableView>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

struct Figures {
    double median = 0;
    double p95 = 0;
    double worst = 0;
};

Figures figuresOf(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    Figures f;
    f.median = ms[ms.size() / 2];
    f.p95 = ms[std::min(ms.size() - 1, ms.size() * 95 / 100)];
    f.worst = ms.back();
    return f;
}

void print(const char *what, const Figures &f) {
    std::printf("%-58s median %7.3f ms | p95 %7.3f ms | worst %7.3f ms\n", what, f.median, f.p95,
                f.worst);
    std::fflush(stdout);
}

/// Ten parallel chains of steps between a start and an end step.
Flow benchFlow(int steps) {
    Flow flow;
    flow.name = QStringLiteral("travel");
    const int chains = 10;
    for (int i = 0; i < steps; ++i) {
        Step step;
        step.id = QStringLiteral("s%1").arg(i);
        step.kind = QStringLiteral("shell");
        if (i >= chains)
            step.after = {QStringLiteral("s%1").arg(i - chains)};
        flow.steps.append(step);
    }
    return flow;
}

/// The history: every step makes attempts (attempt_started, then step_retrying or, the last,
/// step_succeeded) until the events reach the total; a few steps fail for good instead. Steps
/// move in interleaved order, one event a second.
QList<EventRow> benchEvents(const Flow &flow, int total, const QString &runId) {
    QRandomGenerator random(7);
    QList<EventRow> events;
    qint64 id = 0;
    qint64 at = 1'764'000'000'000;
    auto add = [&](const QString &step, EventType type, QJsonObject detail) {
        EventRow e;
        e.id = ++id;
        e.at = (at += 1000);
        e.runId = runId;
        e.stepId = step;
        e.type = type;
        e.detail = std::move(detail);
        events.append(e);
    };
    add({}, EventType::RunCreated, {});
    const int steps = static_cast<int>(flow.steps.size());
    const int perStep = std::max(2, (total - 2) / steps); // events per step
    std::vector<int> made(static_cast<size_t>(steps), 0);
    std::vector<int> active;
    for (int i = 0; i < steps; ++i)
        active.push_back(i);
    while (!active.empty()) {
        const auto pick = static_cast<size_t>(random.bounded(static_cast<int>(active.size())));
        const int s = active[pick];
        const QString step = flow.steps[s].id;
        int &n = made[static_cast<size_t>(s)];
        const int attempt = n / 2 + 1;
        if (n % 2 == 0) {
            add(step, EventType::AttemptStarted,
                {{QStringLiteral("attempt"), attempt}, {QStringLiteral("max_attempts"), 30}});
        } else if (n + 1 < perStep) {
            add(step, EventType::StepRetrying,
                {{QStringLiteral("attempt"), attempt},
                 {QStringLiteral("error"), QStringLiteral("HTTP 503 from the service")},
                 {QStringLiteral("error_class"), QStringLiteral("transient")},
                 {QStringLiteral("next_attempt_at"), at + 5000}});
        } else {
            if (s % 97 == 0)
                add(step, EventType::StepFailed,
                    {{QStringLiteral("error"), QStringLiteral("HTTP 404")},
                     {QStringLiteral("error_class"), QStringLiteral("permanent")}});
            else
                add(step, EventType::StepSucceeded, {{QStringLiteral("attempt"), attempt}});
            active.erase(active.begin() + static_cast<std::ptrdiff_t>(pick));
        }
        ++n;
    }
    add({}, EventType::RunFinished, {{QStringLiteral("state"), QStringLiteral("failed")}});
    return events;
}

} // namespace

int main(int argc, char **argv) {
    QApplication app(argc, argv);
    int stepCount = 1000;
    int eventCount = 50'000;
    int positions = 500;
    const QStringList args = QCoreApplication::arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--steps"))
            stepCount = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--events"))
            eventCount = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--positions"))
            positions = args[i + 1].toInt();
    }

    const Flow flow = benchFlow(stepCount);
    const QString runId = QStringLiteral("bench-run");
    const QList<EventRow> events = benchEvents(flow, eventCount, runId);
    RunRow run;
    run.id = runId;
    run.flowName = flow.name;
    run.createdAt = events.first().at;
    QList<StepRunRow> rows;
    for (int i = 0; i < stepCount; ++i) {
        StepRunRow row;
        row.runId = runId;
        row.stepId = flow.steps[i].id;
        row.position = i;
        rows.append(row);
    }
    std::printf("run: %d steps, %lld events\n", stepCount, static_cast<long long>(events.size()));

    QElapsedTimer timer;
    timer.start();
    RunReplay replay(run, rows, {}, events);
    replay.seek(replay.eventCount() - 1); // the first pass takes the checkpoints
    std::printf("%-58s %.1f ms\n", "replay built and played to the end (checkpoints taken)",
                timer.nsecsElapsed() / 1e6);

    QRandomGenerator random(11);
    const auto randomPosition = [&] {
        return static_cast<qsizetype>(random.bounded(static_cast<int>(replay.eventCount())));
    };
    std::vector<double> jumps;
    for (int i = 0; i < positions; ++i) {
        const qsizetype target = randomPosition();
        timer.restart();
        replay.seek(target);
        jumps.push_back(timer.nsecsElapsed() / 1e6);
    }
    print("replay alone: jump to a random position", figuresOf(jumps));
    std::vector<double> steps;
    for (int i = 0; i < positions; ++i) {
        const qsizetype step = random.bounded(2) == 0 ? -1 : 1;
        timer.restart();
        replay.seek(replay.position() + step);
        steps.push_back(timer.nsecsElapsed() / 1e6);
    }
    print("replay alone: one event back or forward", figuresOf(steps));

    // The desktop's views: the graph fitted in a 1200x700 view, the step table beside it.
    GraphScene scene;
    scene.setFlow(flow);
    GraphView view(&scene);
    view.resize(1200, 700);
    view.show();
    view.fitAll();
    StepTableModel model;
    QTableView table;
    table.setModel(&model);
    table.resize(900, 400);
    table.show();
    QCoreApplication::processEvents();
    // One position: the replay, the step views, the graph and the table brought up to date
    // and painted. fullRepaint paints the whole viewport of both (the worst case, as after a
    // resize); otherwise the event loop paints what changed, as in the app.
    std::vector<double> partReplay, partViews, partUpdate, partPaint;
    const auto redrawAt = [&](qsizetype index, bool fullRepaint) {
        QElapsedTimer part;
        part.start();
        replay.seek(index);
        partReplay.push_back(part.nsecsElapsed() / 1e6);
        part.restart();
        const ReplayedRun &past = replay.state();
        const qint64 at = replay.currentEvent() ? replay.currentEvent()->at : run.createdAt;
        const QList<StepView> views = buildStepViews(flow, past.steps, {}, {});
        partViews.push_back(part.nsecsElapsed() / 1e6);
        part.restart();
        scene.setNow(at);
        scene.updateSteps(views);
        scene.flushUpdates();
        model.setSteps(views, at);
        partUpdate.push_back(part.nsecsElapsed() / 1e6);
        part.restart();
        if (fullRepaint) {
            view.viewport()->repaint();
            table.viewport()->repaint();
        } else {
            QCoreApplication::processEvents(); // the pending updates: paints what changed
        }
        partPaint.push_back(part.nsecsElapsed() / 1e6);
    };
    const auto measure = [&](const char *what, bool fullRepaint, bool stepping) {
        partReplay.clear();
        partViews.clear();
        partUpdate.clear();
        partPaint.clear();
        std::vector<double> total;
        for (int i = 0; i < positions; ++i) {
            const qsizetype target =
                stepping ? replay.position() + (random.bounded(2) == 0 ? -1 : 1) : randomPosition();
            timer.restart();
            redrawAt(target, fullRepaint);
            total.push_back(timer.nsecsElapsed() / 1e6);
        }
        print(what, figuresOf(total));
        print("    of which the replay", figuresOf(partReplay));
        print("    of which building the step views", figuresOf(partViews));
        print("    of which updating graph nodes and table rows", figuresOf(partUpdate));
        print("    of which painting", figuresOf(partPaint));
    };
    redrawAt(0, true);
    measure("replay + redraw (changed nodes painted): random jump", false, false);
    measure("replay + redraw (changed nodes painted): one event", false, true);
    measure("replay + redraw (whole graph and table painted): random jump", true, false);
    measure("replay + redraw (whole graph and table painted): one event", true, true);
    return 0;
}
