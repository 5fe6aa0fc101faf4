// Durable step throughput and memory (issue 2). Prints figures; not a pass/fail test.
//
//   bench_engine [--quick]
//
// Baseline measured in the same run on the same disk with the same pragmas: single-row durable
// commits per second through Qt SQL (the physical limit for one sequential chain).

#include "api/reports.h"
#include "model/flowfile.h"
#include "runtime/engine.h"
#include "store/store.h"

#include <QJsonArray>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <cstdio>

using namespace keepflow;

namespace {

qint64 procStatusKb(const char *field) {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(static_cast<qsizetype>(qstrlen(field)))
                .trimmed()
                .split(' ')
                .first()
                .toLongLong();
    }
    return -1;
}

double singleRowCommitRate(const QString &path, int rows) {
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
        const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
        insert.finish();
        query.finish();
        db.close();
        QSqlDatabase::removeDatabase(QStringLiteral("baseline"));
        return rows / seconds;
    }
}

Flow chainFlow(const QString &name, int steps) {
    Flow flow;
    flow.name = name;
    for (int i = 0; i < steps; ++i) {
        Step step;
        step.id = QStringLiteral("s%1").arg(i);
        step.kind = QStringLiteral("noop");
        if (i > 0)
            step.after = {QStringLiteral("s%1").arg(i - 1)};
        flow.steps.append(step);
    }
    return flow;
}

Flow delayFlow() {
    Flow flow;
    flow.name = QStringLiteral("waits");
    Step wait;
    wait.id = QStringLiteral("wait");
    wait.kind = QStringLiteral("delay");
    wait.with.insert(QStringLiteral("duration"), QStringLiteral("1h"));
    flow.steps.append(wait);
    Step after;
    after.id = QStringLiteral("after");
    after.kind = QStringLiteral("noop");
    after.after = {QStringLiteral("wait")};
    flow.steps.append(after);
    return flow;
}

struct Throughput {
    double createSeconds = 0;
    double stepsPerSecond = 0;
};

/// Creates the runs (timed apart), then pumps until all settle: steps per second of execution.
Throughput runAll(Store &store, const Flow &flow, int runs) {
    SystemClock clock;
    Engine engine(store, clock, StepKindRegistry::withBuiltins(), {});
    int settled = 0;
    QObject::connect(&engine, &Engine::runSettled,
                     [&settled](const QString &, RunState) { ++settled; });
    Throughput result;
    QElapsedTimer timer;
    timer.start();
    const auto version = engine.registerFlow(flow, {});
    for (int r = 0; r < runs; ++r) {
        auto id = engine.createRun(*version, {}, true);
        if (!id) {
            std::fprintf(stderr, "createRun: %s\n", qPrintable(id.error()));
            return result;
        }
    }
    result.createSeconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    timer.restart();
    while (settled < runs) {
        if (Status s = engine.pump(); !s) {
            std::fprintf(stderr, "pump: %s\n", qPrintable(s.message()));
            return result;
        }
    }
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    result.stepsPerSecond =
        static_cast<double>(runs) * static_cast<double>(flow.steps.size()) / seconds;
    return result;
}

} // namespace

std::unique_ptr<Store> openStore(const QString &path) {
    auto store = Store::open(path);
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(store.error()));
        std::exit(1);
    }
    return std::move(*store);
}

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool quick = args.contains(QStringLiteral("--quick"));
    // --only chain|runs|waiting runs one part (for profiling).
    const auto onlyAt = args.indexOf(QStringLiteral("--only"));
    const QString only = onlyAt > 0 && onlyAt + 1 < args.size() ? args[onlyAt + 1] : QString();
    auto wanted = [&only](const char *part) {
        return only.isEmpty() || only == QLatin1String(part);
    };
    QTemporaryDir dir;
    const int chainSteps = quick ? 1000 : 10000;
    const int fanRuns = quick ? 20 : 100;
    const int waitingRuns = quick ? 1000 : 10000;

    const double commitRate =
        singleRowCommitRate(dir.filePath(QStringLiteral("baseline.db")), quick ? 300 : 2000);
    std::printf("baseline: single-row durable commits (WAL, synchronous=FULL): %.0f/s\n",
                commitRate);

    if (wanted("chain")) {
        auto store = openStore(dir.filePath(QStringLiteral("chain.db")));
        const Throughput chain = runAll(*store, chainFlow(QStringLiteral("chain"), chainSteps), 1);
        std::printf(
            "chain: %d noop steps in one run: %.0f steps/s = %.2f x commit rate (target >= 0.8); "
            "creating the run took %.3f s\n",
            chainSteps, chain.stepsPerSecond, chain.stepsPerSecond / commitRate,
            chain.createSeconds);
    }
    if (wanted("runs")) {
        auto store = openStore(dir.filePath(QStringLiteral("fan.db")));
        const Throughput runs = runAll(*store, chainFlow(QStringLiteral("hundred"), 100), fanRuns);
        std::printf(
            "runs: %d runs of 100 noop steps: %.0f steps/s = %.2f x commit rate (target >= 10); "
            "creating the runs took %.3f s\n",
            fanRuns, runs.stepsPerSecond, runs.stepsPerSecond / commitRate, runs.createSeconds);
    }
    if (wanted("waiting")) {
        const QString path = dir.filePath(QStringLiteral("waiting.db"));
        {
            auto store = openStore(path);
            SystemClock clock;
            Engine engine(*store, clock, StepKindRegistry::withBuiltins(), {});
            const auto version = engine.registerFlow(delayFlow(), {});
            QElapsedTimer timer;
            timer.start();
            for (int r = 0; r < waitingRuns; ++r) {
                if (!engine.createRun(*version, {}, true)) {
                    std::fprintf(stderr, "createRun failed\n");
                    return 1;
                }
                if (r % 500 == 499)
                    engine.pump();
            }
            engine.pump();
            std::printf("waiting: %d runs waiting on a 1h timer created in %.2f s; RSS %lld KiB "
                        "(peak %lld KiB; "
                        "target < 150 MB)\n",
                        waitingRuns, static_cast<double>(timer.elapsed()) / 1000.0,
                        procStatusKb("VmRSS:"), procStatusKb("VmHWM:"));
            // The process "dies" here: leases are left as they are, as after a crash.
        }
        auto store = openStore(path);
        SystemClock clock;
        Engine::Options options;
        options.ownerIsDead = [](const QString &) { return true; };
        options.maxLoadedRuns = waitingRuns; // one worker takes all of them up again
        Engine engine(*store, clock, StepKindRegistry::withBuiltins(), options);
        QElapsedTimer timer;
        timer.start();
        // A worker claims a batch at a time and claims again at once after a full one.
        int resumed = 0;
        while (true) {
            const auto adopted = engine.adoptAvailable();
            if (!adopted) {
                std::fprintf(stderr, "adopt: %s\n", qPrintable(adopted.error()));
                return 1;
            }
            if (*adopted == 0)
                break;
            resumed += *adopted;
        }
        engine.pump();
        std::printf("restart: %d waiting runs resumed in %.3f s (target < 2 s); RSS %lld KiB\n",
                    resumed, static_cast<double>(timer.elapsed()) / 1000.0,
                    procStatusKb("VmRSS:"));
    }
    if (wanted("foreach")) {
        // One foreach step over 10,000 items: time, progress as the status shows it, memory.
        auto store = openStore(dir.filePath(QStringLiteral("foreach.db")));
        const int items = quick ? 2000 : 10000;
        QJsonArray list;
        for (int i = 0; i < items; ++i)
            list.append(QJsonObject{
                {QStringLiteral("id"), i},
                {QStringLiteral("email"), QStringLiteral("user%1@example.com").arg(i)}});
        Flow flow;
        flow.name = QStringLiteral("fanout");
        Step each;
        each.id = QStringLiteral("notify");
        each.kind = QStringLiteral("noop");
        each.foreach = list;
        each.itemKey = QStringLiteral("{{item.id}}");
        each.concurrency = 100;
        each.with.insert(QStringLiteral("output"), QStringLiteral("{{item.email}}"));
        flow.steps.append(each);
        SystemClock clock;
        Engine engine(*store, clock, StepKindRegistry::withBuiltins(), {});
        const qint64 rssBefore = procStatusKb("VmRSS:");
        QElapsedTimer timer;
        timer.start();
        const auto run = engine.createRun(flow, {}, {}, true);
        int settled = 0;
        QObject::connect(&engine, &Engine::runSettled,
                         [&settled](const QString &, RunState) { ++settled; });
        int done = 0;
        int nextReport = items / 4;
        // Progress as an operator sees it: the status of the committed state, read as it goes.
        QObject::connect(&engine, &Engine::eventsCommitted, [&](const QList<EventRow> &events) {
            for (const EventRow &event : events)
                done += event.type == EventType::ItemSucceeded ? 1 : 0;
            if (done < nextReport)
                return;
            nextReport += items / 4;
            const auto status = runStatusJson(*store, *run);
            const QJsonObject counts = status->value(QStringLiteral("steps"))
                                           .toArray()
                                           .first()
                                           .toObject()
                                           .value(QStringLiteral("items"))
                                           .toObject();
            std::printf("foreach progress after %.2f s: %d of %d items succeeded, %d remaining "
                        "(status --json)\n",
                        static_cast<double>(timer.elapsed()) / 1000.0,
                        counts.value(QStringLiteral("succeeded")).toInt(), items,
                        counts.value(QStringLiteral("remaining")).toInt());
        });
        while (settled == 0) {
            if (!engine.pump())
                return 1;
        }
        const double seconds = static_cast<double>(timer.elapsed()) / 1000.0;
        std::printf(
            "foreach: %d items in %.2f s = %.0f items/s; RSS %lld KiB before, %lld KiB after\n",
            items, seconds, items / seconds, rssBefore, procStatusKb("VmRSS:"));
    }
    std::printf("peak RSS of the whole benchmark: %lld KiB\n", procStatusKb("VmHWM:"));
    return 0;
}
