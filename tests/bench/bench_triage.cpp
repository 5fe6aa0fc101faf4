// Triage at scale: failure groups, the runs filters, a bulk retry's dry run and the bulk action
// itself over a database of 100,000 runs with 20,000 failed steps. Prints figures; not a
// pass/fail test.
//
//   bench_triage [--runs N] [--failed N] [--bulk N] [--keepflowctl PATH]
//
// In-process through the operator API, and through the real keepflowctl (the whole process
// timed, output to /dev/null). The disk's single-row durable commit rate is measured in the same
// run as the baseline of the bulk action's commit rate.

#include "api/operatorapi.h"
#include "api/triage.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
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

double singleRowCommitRate(const QString &path, int rows) {
    double rate = 0;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("baseline"));
        db.setDatabaseName(path);
        db.open();
        QSqlQuery query(db);
        query.exec(QStringLiteral("PRAGMA journal_mode = WAL"));
        query.exec(QStringLiteral("PRAGMA synchronous = FULL"));
        query.exec(QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"));
        QSqlQuery insert(db);
        insert.prepare(QStringLiteral("INSERT INTO t (v) VALUES (?)"));
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < rows; ++i) {
            query.exec(QStringLiteral("BEGIN IMMEDIATE"));
            insert.bindValue(0, QStringLiteral("row"));
            insert.exec();
            query.exec(QStringLiteral("COMMIT"));
        }
        rate = rows / (static_cast<double>(timer.nsecsElapsed()) / 1e9);
        insert.finish();
        query.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("baseline"));
    return rate;
}

// Five steps in a chain; the third calls a resource. A failed step blocks the rest.
QByteArray flowText(const QString &name) {
    return QStringLiteral(R"({ "keepflow": 1, "name": "%1", "steps": [
        { "id": "fetch", "kind": "noop" },
        { "id": "validate", "kind": "noop", "after": ["fetch"] },
        { "id": "charge", "kind": "noop", "after": ["validate"] },
        { "id": "ship", "kind": "noop", "after": ["charge"] },
        { "id": "notify", "kind": "noop", "after": ["ship"] } ] })")
        .arg(name)
        .toUtf8();
}

const QStringList kSteps{QStringLiteral("fetch"), QStringLiteral("validate"),
                         QStringLiteral("charge"), QStringLiteral("ship"),
                         QStringLiteral("notify")};

/// Seeds runs over five flows, newest last; every (runs / failed)-th run fails at one step
/// with one of six causes, each with its own numbers in the text.
bool seed(Store &store, int runs, int failed, qint64 now) {
    QList<qint64> flowIds;
    for (int f = 0; f < 5; ++f) {
        const QString name = QStringLiteral("flow-%1").arg(f);
        auto version = store.saveFlowVersion(name, flowText(name), {});
        if (!version) {
            print(version.error());
            return false;
        }
        flowIds << version->id;
    }
    const QStringList causes{
        QStringLiteral("HTTP 503 from http://10.0.%1.7:8080/orders/%2"),
        QStringLiteral("HTTP 429 from https://payments.example.com/v2/charge/%2 (rate %1/s)"),
        QStringLiteral("\"sh\" exited with code 2: disk %1 full writing batch %2"),
        QStringLiteral("timed out after %1 s waiting for lock %2"),
        QStringLiteral("deadlock detected on row %2 of shard %1"),
        QStringLiteral("garbage response, first bytes \"%1%2\""),
    };
    QRandomGenerator random(42);
    const int every = std::max(1, runs / std::max(1, failed));
    constexpr int kRunsPerBatch = 5000;
    for (int first = 0; first < runs; first += kRunsPerBatch) {
        Batch batch;
        for (int i = first; i < std::min(runs, first + kRunsPerBatch); ++i) {
            RunRow run;
            run.id = QStringLiteral("run%1").arg(i, 7, 10, QLatin1Char('0'));
            const int f = i % 5;
            run.flowId = flowIds[f];
            run.flowName = QStringLiteral("flow-%1").arg(f);
            run.createdAt = now - (runs - i) * 1000LL; // one a second, the newest now
            const bool fails = i % every == 0 && i / every < failed;
            const int failedAt = fails ? static_cast<int>(random.bounded(5)) : -1;
            run.state = fails ? (failedAt == 0 ? RunState::Failed : RunState::CompletedWithFailures)
                              : RunState::Succeeded;
            run.endedAt = run.createdAt + 900;
            batch.runs.append(run);
            for (int s = 0; s < 5; ++s) {
                StepRunRow step;
                step.runId = run.id;
                step.stepId = kSteps[s];
                step.position = s;
                step.attempts = 1;
                step.startedAt = run.createdAt + s * 100;
                step.endedAt = step.startedAt + 90;
                if (s == 2)
                    step.resource = QStringLiteral("payments");
                if (s < failedAt || failedAt < 0) {
                    step.state = StepState::Succeeded;
                } else if (s == failedAt) {
                    step.state = StepState::Failed;
                    step.attempts = 3;
                    step.failures = 3;
                    const int cause = static_cast<int>(random.bounded(causes.size()));
                    step.errorClass = cause == 5 ? ErrorClass::Garbage : ErrorClass::Transient;
                    step.error =
                        causes[cause].arg(random.bounded(1, 250)).arg(random.bounded(1000, 99999));
                } else {
                    step.state = StepState::Blocked;
                    step.startedAt = 0;
                    step.endedAt = 0;
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

/// The whole keepflowctl process, stdout to /dev/null: ms and exit code.
std::pair<double, int> timedCtl(const QString &ctl, const QStringList &arguments) {
    QProcess process;
    process.setStandardOutputFile(QProcess::nullDevice());
    QElapsedTimer timer;
    timer.start();
    process.start(ctl, arguments);
    process.waitForFinished(300'000);
    return {static_cast<double>(timer.nsecsElapsed()) / 1e6, process.exitCode()};
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    auto option = [&args](const char *name, int fallback) {
        const auto at = args.indexOf(QLatin1String(name));
        return at >= 0 && at + 1 < args.size() ? args[at + 1].toInt() : fallback;
    };
    const int runs = option("--runs", 100'000);
    const int failed = option("--failed", 20'000);
    const int bulk = option("--bulk", 10'000);
    const auto ctlAt = args.indexOf(QStringLiteral("--keepflowctl"));
    const QString ctl = ctlAt >= 0 && ctlAt + 1 < args.size() ? args[ctlAt + 1] : QString();

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("triage.db"));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    {
        auto store = Store::open(path);
        if (!store) {
            print(store.error());
            return 1;
        }
        QElapsedTimer timer;
        timer.start();
        if (!seed(**store, runs, failed, now))
            return 1;
        print(QStringLiteral("seeded %1 runs, %2 steps, %3 failed steps in %4 s")
                  .arg(runs)
                  .arg(runs * 5)
                  .arg(failed)
                  .arg(timer.elapsed() / 1000.0, 0, 'f', 1));
    }
    const double baseline = singleRowCommitRate(dir.filePath(QStringLiteral("baseline.db")), 300);
    print(QStringLiteral("baseline: single-row durable commits %1 /s").arg(baseline, 0, 'f', 0));

    OperatorApi::Options options;
    auto opened = OperatorApi::open(path, options);
    if (!opened) {
        print(opened.error());
        return 1;
    }
    OperatorApi &api = **opened;
    print(QStringLiteral("\nin-process, median of 5 (ms):"));
    int groups = 0;
    const double failuresMs = medianMs(5, [&] {
        auto result = api.failureGroups({});
        groups = result ? static_cast<int>(result->size()) : -1;
        return result.isOk();
    });
    print(QStringLiteral("  failure groups, all: %1 ms (%2 groups)")
              .arg(failuresMs, 0, 'f', 1)
              .arg(groups));

    struct Filter {
        const char *name;
        RunQuery query;
    };
    QList<Filter> filters;
    auto add = [&filters](const char *name, const std::function<void(RunQuery &)> &set) {
        RunQuery query;
        set(query);
        filters.append({name, query});
    };
    add("--state failed", [](RunQuery &q) { q.states = {RunState::Failed}; });
    add("--flow flow-3", [](RunQuery &q) { q.flowName = QStringLiteral("flow-3"); });
    add("--step charge", [](RunQuery &q) { q.step.stepId = QStringLiteral("charge"); });
    add("--step-state failed", [](RunQuery &q) { q.step.state = StepState::Failed; });
    add("--error \"HTTP 503\"", [](RunQuery &q) { q.step.error = QStringLiteral("HTTP 503"); });
    add("--resource payments", [](RunQuery &q) { q.step.resource = QStringLiteral("payments"); });
    add("--step-state failed --resource payments", [](RunQuery &q) {
        q.step.state = StepState::Failed;
        q.step.resource = QStringLiteral("payments");
    });
    add("--since 2h --until 1h", [now](RunQuery &q) {
        q.since = now - 7'200'000;
        q.until = now - 3'600'000;
    });
    for (const Filter &filter : filters) {
        int listed = 0;
        // What keepflowctl list reads, and the whole rows that bulk actions read.
        const double listMs = medianMs(5, [&] {
            auto result = api.runList(filter.query);
            listed = result ? static_cast<int>(result->size()) : -1;
            return result.isOk();
        });
        const double wholeRowsMs = medianMs(5, [&] { return api.runs(filter.query).isOk(); });
        RunQuery page = filter.query;
        page.limit = 200;
        const double pageMs = medianMs(5, [&] { return api.runSummaries(page).isOk(); });
        const double countMs = medianMs(5, [&] { return api.countRuns(filter.query).isOk(); });
        const double failuresOfMs =
            medianMs(5, [&] { return api.failureGroups(filter.query).isOk(); });
        print(QStringLiteral("  %1: all %2 runs %3 ms (whole rows %4 ms); first page of 200 %5 "
                             "ms; count %6 ms; failure groups %7 ms")
                  .arg(QLatin1String(filter.name))
                  .arg(listed)
                  .arg(listMs, 0, 'f', 1)
                  .arg(wholeRowsMs, 0, 'f', 1)
                  .arg(pageMs, 0, 'f', 1)
                  .arg(countMs, 0, 'f', 1)
                  .arg(failuresOfMs, 0, 'f', 1));
    }

    // The newest `bulk` failed runs: a time window that holds them.
    BulkRequest request;
    request.kind = OperatorAction::Kind::Retry;
    request.reason = QStringLiteral("benchmark");
    const int every = std::max(1, runs / std::max(1, failed));
    request.query.step.state = StepState::Failed;
    request.query.since = now - static_cast<qint64>(bulk) * every * 1000 + 500;
    int planned = 0;
    const double dryMs = medianMs(3, [&] {
        auto report = api.planBulk(request);
        planned = report ? static_cast<int>(report->runs.size()) : -1;
        return report.isOk();
    });
    print(QStringLiteral("  retry-failed dry run: %1 runs in %2 ms")
              .arg(planned)
              .arg(dryMs, 0, 'f', 1));

    if (!ctl.isEmpty()) {
        print(QStringLiteral("\nthrough %1 (whole process, median of 3, ms):").arg(ctl));
        const QStringList db{QStringLiteral("--db"), path};
        const QList<std::pair<const char *, QStringList>> commands{
            {"failures --json", {QStringLiteral("failures"), QStringLiteral("--json")}},
            {"list --step-state failed --json",
             {QStringLiteral("list"), QStringLiteral("--step-state"), QStringLiteral("failed"),
              QStringLiteral("--json")}},
            {"list --error \"HTTP 503\" --json",
             {QStringLiteral("list"), QStringLiteral("--error"), QStringLiteral("HTTP 503"),
              QStringLiteral("--json")}},
            {"--help (process start)", {QStringLiteral("--help")}},
        };
        for (const auto &[name, arguments] : commands) {
            QList<double> times;
            int code = 0;
            for (int i = 0; i < 3; ++i) {
                const auto [ms, exit] = timedCtl(ctl, arguments + db);
                times << ms;
                code = exit;
            }
            std::sort(times.begin(), times.end());
            print(QStringLiteral("  %1: %2 ms (exit %3)")
                      .arg(QLatin1String(name))
                      .arg(times[1], 0, 'f', 1)
                      .arg(code));
        }
        const QString since =
            QDateTime::fromMSecsSinceEpoch(request.query.since).toUTC().toString(Qt::ISODateWithMs);
        const auto [dry, dryExit] = timedCtl(
            ctl, QStringList{QStringLiteral("retry-failed"), QStringLiteral("--step-state"),
                             QStringLiteral("failed"), QStringLiteral("--since"), since,
                             QStringLiteral("--dry-run"), QStringLiteral("--json")} +
                     db);
        print(QStringLiteral("  retry-failed --dry-run (%1 runs): %2 ms (exit %3)")
                  .arg(planned)
                  .arg(dry, 0, 'f', 1)
                  .arg(dryExit));
    }

    QElapsedTimer timer;
    timer.start();
    int chunks = 0;
    auto applied = api.applyBulk(request, [&chunks](int, int) {
        ++chunks;
        return true;
    });
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    if (!applied) {
        print(applied.error());
        return 1;
    }
    const int count = applied->count(BulkRunOutcome::Outcome::Applied);
    print(QStringLiteral("\nbulk retry, in-process: %1 runs applied (%2 refused) in %3 s = %4 "
                         "runs/s, %5 commits of up to 500 runs; %6 × the single-row commit rate")
              .arg(count)
              .arg(applied->count(BulkRunOutcome::Outcome::Refused))
              .arg(seconds, 0, 'f', 2)
              .arg(count / seconds, 0, 'f', 0)
              .arg(chunks)
              .arg(count / seconds / baseline, 0, 'f', 2));
    return 0;
}
