// Step statistics at scale: the stats of one 5-step flow over 100,000 of its runs (and of a
// flow with few runs next to them), as the desktop's statistics view asks for them. Prints
// figures; not a pass/fail test.
//
//   bench_stepstats [--runs N] [--keep]

#include "api/operatorapi.h"
#include "api/stepstats.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <functional>

using namespace keepflow;

namespace {

void print(const QString &line) {
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}

const QStringList kSteps{QStringLiteral("fetch"), QStringLiteral("validate"),
                         QStringLiteral("charge"), QStringLiteral("ship"),
                         QStringLiteral("notify")};

/// runs of "orders" (one a minute, newest now; charge retries in one run of 5 and fails in one
/// of 50) and 100 runs of "small".
bool seed(Store &store, int runs, qint64 now) {
    auto orders = store.saveFlowVersion(QStringLiteral("orders"), "{\"keepflow\":1}", {});
    auto small = store.saveFlowVersion(QStringLiteral("small"), "{\"keepflow\":1}", {});
    if (!orders || !small) {
        print(orders ? small.error() : orders.error());
        return false;
    }
    QRandomGenerator random(7);
    constexpr int kRunsPerBatch = 5000;
    const int total = runs + 100;
    for (int first = 0; first < total; first += kRunsPerBatch) {
        Batch batch;
        for (int i = first; i < std::min(total, first + kRunsPerBatch); ++i) {
            const bool isSmall = i >= runs;
            RunRow run;
            run.id = QStringLiteral("run%1").arg(i, 7, 10, QLatin1Char('0'));
            run.flowId = isSmall ? small->id : orders->id;
            run.flowName = isSmall ? QStringLiteral("small") : QStringLiteral("orders");
            run.createdAt = now - (total - i) * 60'000LL;
            const bool fails = i % 50 == 0;
            run.state = fails ? RunState::CompletedWithFailures : RunState::Succeeded;
            run.endedAt = run.createdAt + 5000;
            batch.runs.append(run);
            for (int s = 0; s < 5; ++s) {
                StepRunRow step;
                step.runId = run.id;
                step.stepId = kSteps[s];
                step.position = s;
                step.attempts = s == 2 && i % 5 == 0 ? 2 : 1;
                step.startedAt = run.createdAt + s * 1000;
                step.endedAt = step.startedAt + 100 + random.bounded(900);
                step.state = s == 2 && fails ? StepState::Failed : StepState::Succeeded;
                if (s > 2 && fails) {
                    step.state = StepState::Blocked;
                    step.attempts = 0;
                    step.startedAt = step.endedAt = 0;
                }
                batch.steps.append(step);
            }
        }
        auto committed = store.commit(batch);
        if (!committed) {
            print(committed.error());
            return false;
        }
    }
    return true;
}

/// Median of n timings of what, in ms.
double medianMs(int n, const std::function<bool()> &what) {
    QList<double> times;
    for (int i = 0; i < n; ++i) {
        QElapsedTimer timer;
        timer.start();
        if (!what())
            return -1;
        times << static_cast<double>(timer.nsecsElapsed()) / 1e6;
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const auto at = args.indexOf(QStringLiteral("--runs"));
    const int runs = at >= 0 && at + 1 < args.size() ? args[at + 1].toInt() : 100'000;

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("stats.db"));
    if (args.contains(QStringLiteral("--keep"))) { // to look at the query plans afterwards
        dir.setAutoRemove(false);
        print(QStringLiteral("database kept: %1").arg(path));
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    {
        auto store = Store::open(path);
        if (!store) {
            print(store.error());
            return 1;
        }
        QElapsedTimer timer;
        timer.start();
        if (!seed(**store, runs, now))
            return 1;
        print(QStringLiteral("seeded %1 runs of a 5-step flow (+100 of another) in %2 s")
                  .arg(runs)
                  .arg(timer.elapsed() / 1000.0, 0, 'f', 1));
    }
    auto opened = OperatorApi::open(path, {});
    if (!opened) {
        print(opened.error());
        return 1;
    }
    OperatorApi &api = **opened;
    print(QStringLiteral("\nmedian of 5 (ms):"));
    auto figure = [&](const QString &what, const QString &flow, StepStatsWindow window) {
        int steps = 0;
        int seen = 0;
        const double ms = medianMs(5, [&] {
            auto stats = stepStats(api, flow, window);
            if (!stats) {
                print(stats.error());
                return false;
            }
            steps = static_cast<int>(stats->steps.size());
            seen = stats->runs;
            return true;
        });
        print(QStringLiteral("  %1: %2 ms (%3 runs, %4 steps)")
                  .arg(what)
                  .arg(ms, 0, 'f', 1)
                  .arg(seen)
                  .arg(steps));
        return ms;
    };
    const double allRunsMs =
        figure(QStringLiteral("step stats, all runs of the flow"), QStringLiteral("orders"), {});
    figure(QStringLiteral("step stats, its last 7 days"), QStringLiteral("orders"),
           {now - 7 * 24 * 3'600'000LL, 0});
    figure(QStringLiteral("step stats, a flow with 100 runs"), QStringLiteral("small"), {});

    // The baseline, in the same run: every row read through Qt SQL and reduced in memory
    // (computeStepStats), which is how the statistics were read before the store reduced them.
    const double rowsMs = medianMs(5, [&] {
        auto rows = api.stepSamples(QStringLiteral("orders"), 0, 0);
        if (!rows) {
            print(rows.error());
            return false;
        }
        return !computeStepStats(QStringLiteral("orders"), *rows).steps.isEmpty();
    });
    print(QStringLiteral("  baseline, all runs' rows through Qt SQL + computeStepStats: %1 ms "
                         "(the store's reduction: %2 x of it)")
              .arg(rowsMs, 0, 'f', 1)
              .arg(allRunsMs / rowsMs, 0, 'f', 2));
    return 0;
}
