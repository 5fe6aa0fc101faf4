// The runs list at scale: creates --runs N runs (10 step rows each) in a temporary database,
// then times the store's list queries, showing a RunsView, and scrolling it to the end, and
// reads the memory used. One line per figure.
//
//   bench_runs [--runs N] [--extra-index]
//
// --extra-index adds runs (created_at, id) before measuring, to compare with schema v1's
// runs (created_at) alone.

#include "core/states.h"
#include "runsmodel.h"
#include "runsview.h"
#include "store/store.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <cstdio>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

constexpr int kStepsPerRun = 10;
constexpr qint64 kStart = 1'700'000'000'000;

void print(const QString &line) {
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}

QString procStatus(const char *field) {
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    const QByteArray prefix = QByteArray(field) + ':';
    for (const QByteArray &line : file.readAll().split('\n'))
        if (line.startsWith(prefix))
            return QString::fromLatin1(line.mid(prefix.size()).trimmed());
    return QStringLiteral("?");
}

/// Median of a few timings of f, in milliseconds.
template <typename F> double medianMs(F &&f, int times = 5) {
    QList<double> ms;
    for (int i = 0; i < times; ++i) {
        QElapsedTimer timer;
        timer.start();
        f();
        ms << static_cast<double>(timer.nsecsElapsed()) / 1e6;
    }
    std::sort(ms.begin(), ms.end());
    return ms.at(ms.size() / 2);
}

bool createRuns(Store &store, int runs) {
    const QStringList flows = {QStringLiteral("nightly_export"), QStringLiteral("billing"),
                               QStringLiteral("etl_orders"), QStringLiteral("reports"),
                               QStringLiteral("backup")};
    QList<qint64> flowIds;
    for (const QString &flow : flows) {
        auto version = store.saveFlowVersion(flow, "{\"name\":\"" + flow.toUtf8() + "\"}", {});
        if (!version) {
            print(version.error());
            return false;
        }
        flowIds << version->id;
    }
    const QList<RunState> states = {RunState::Succeeded,
                                    RunState::Succeeded,
                                    RunState::Failed,
                                    RunState::Running,
                                    RunState::Succeeded,
                                    RunState::Cancelled,
                                    RunState::CompletedWithFailures};
    constexpr int kRunsPerBatch = 5000;
    for (int first = 0; first < runs; first += kRunsPerBatch) {
        Batch batch;
        for (int i = first; i < std::min(runs, first + kRunsPerBatch); ++i) {
            RunRow run;
            run.id = QStringLiteral("run-%1").arg(i, 6, 10, QLatin1Char('0'));
            run.flowId = flowIds.at(i % flows.size());
            run.flowName = flows.at(i % flows.size());
            const RunState state = states.at(i % states.size());
            run.state = state;
            run.createdAt = kStart + qint64(i) * 1000;
            if (isFinal(state))
                run.endedAt = run.createdAt + 500 + (i % 7) * 100;
            batch.runs.append(run);
            for (int s = 0; s < kStepsPerRun; ++s) {
                StepRunRow step;
                step.runId = run.id;
                step.stepId = QStringLiteral("step_%1").arg(s);
                step.position = s;
                step.state = (isFinal(state) || s < i % kStepsPerRun ? StepState::Succeeded
                                                                     : StepState::Pending);
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

bool addIndex(const QString &path) {
    bool ok = false;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("bench-index"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery query(db);
            ok = query.exec(QStringLiteral(
                "CREATE INDEX IF NOT EXISTS runs_by_created_id ON runs (created_at, id)"));
            if (!ok)
                print(query.lastError().text());
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("bench-index"));
    return ok;
}

/// Processes events until done() holds (or 30 s pass); returns the milliseconds it took.
template <typename F> double waitUntil(const QElapsedTimer &timer, F &&done) {
    while (!done() && timer.elapsed() < 30'000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject *watched, QEvent *event) override {
        if (event->type() == QEvent::Paint)
            ++paints;
        return QObject::eventFilter(watched, event);
    }
};

} // namespace

int main(int argc, char **argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    int runs = 100'000;
    bool extraIndex = false;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--runs") && i + 1 < args.size())
            runs = std::max(1, args.at(++i).toInt());
        else if (args.at(i) == QLatin1String("--extra-index"))
            extraIndex = true;
    }

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench.db"));
    StoreOptions options;
    options.sync = StoreOptions::Sync::Normal;
    auto opened = Store::open(path, options);
    if (!opened) {
        print(opened.error());
        return 1;
    }
    Store &store = **opened;
    QElapsedTimer timer;
    timer.start();
    if (!createRuns(store, runs))
        return 1;
    print(QStringLiteral("create %1 runs x %2 steps: %3 ms")
              .arg(runs)
              .arg(kStepsPerRun)
              .arg(timer.elapsed()));
    if (extraIndex) {
        timer.restart();
        if (!addIndex(path))
            return 1;
        print(QStringLiteral("extra index runs (created_at, id): %1 ms").arg(timer.elapsed()));
    }

    auto pageMs = [&store](RunQuery query) {
        return medianMs([&] {
            auto rows = store.runSummaries(query);
            if (!rows)
                print(rows.error());
        });
    };
    auto countMs = [&store](const RunQuery &query) {
        return medianMs([&] {
            auto count = store.countRuns(query);
            if (!count)
                print(count.error());
        });
    };
    RunQuery page;
    page.limit = RunsModel::kPageSize;
    print(QStringLiteral("query page offset 0 (%1 rows): %2 ms")
              .arg(page.limit)
              .arg(pageMs(page), 0, 'f', 2));
    RunQuery last = page;
    last.offset = std::max(0, runs - 1000);
    print(QStringLiteral("query page offset %1: %2 ms")
              .arg(last.offset)
              .arg(pageMs(last), 0, 'f', 2));
    print(QStringLiteral("query count: %1 ms").arg(countMs({}), 0, 'f', 2));
    RunQuery failed = page;
    failed.states = QList<RunState>{RunState::Failed};
    print(QStringLiteral("query page state=failed: %1 ms").arg(pageMs(failed), 0, 'f', 2));
    print(QStringLiteral("query count state=failed: %1 ms").arg(countMs(failed), 0, 'f', 2));
    RunQuery flow = page;
    flow.flowName = QStringLiteral("billing");
    print(QStringLiteral("query page flow=billing: %1 ms").arg(pageMs(flow), 0, 'f', 2));
    print(QStringLiteral("query count flow=billing: %1 ms").arg(countMs(flow), 0, 'f', 2));
    RunQuery search = page;
    search.search = QStringLiteral("99");
    print(QStringLiteral("query page search=\"99\": %1 ms").arg(pageMs(search), 0, 'f', 2));
    print(QStringLiteral("query count search=\"99\": %1 ms").arg(countMs(search), 0, 'f', 2));
    RunQuery failedLast = failed;
    failedLast.offset = std::max(0, runs / 7 - 1000);
    print(QStringLiteral("query page state=failed offset %1: %2 ms")
              .arg(failedLast.offset)
              .arg(pageMs(failedLast), 0, 'f', 2));

    print(QStringLiteral("memory before view: VmRSS %1, VmHWM %2")
              .arg(procStatus("VmRSS"), procStatus("VmHWM")));

    RunsView view;
    view.resize(1100, 700);
    PaintCounter paints;
    view.table()->viewport()->installEventFilter(&paints);
    timer.restart();
    view.model()->setSource({[&store](const RunQuery &query) { return store.runSummaries(query); },
                             [&store](const RunQuery &query) { return store.countRuns(query); },
                             {}});
    view.show();
    const double shown = waitUntil(timer, [&] { return paints.paints > 0; });
    print(QStringLiteral("show (model set + first paint): %1 ms, rows %2, loaded %3")
              .arg(shown, 0, 'f', 1)
              .arg(view.model()->rowCount())
              .arg(view.model()->loadedRowCount()));

    QTableView *table = view.table();
    const int lastRow = view.model()->rowCount() - 1;
    const int paintsBefore = paints.paints;
    timer.restart();
    table->scrollToBottom();
    const double scrolled = waitUntil(timer, [&] {
        return paints.paints > paintsBefore &&
               table->rowAt(table->viewport()->height() - 2) == lastRow;
    });
    print(QStringLiteral("scroll to end: %1 ms, last row %2 = %3, loaded %4, queries %5")
              .arg(scrolled, 0, 'f', 1)
              .arg(lastRow)
              .arg(view.model()->runIdAt(lastRow))
              .arg(view.model()->loadedRowCount())
              .arg(view.model()->queryCount()));

    timer.restart();
    int paintsNow = paints.paints;
    table->scrollToTop();
    const double back = waitUntil(timer, [&] { return paints.paints > paintsNow; });
    print(QStringLiteral("scroll back to top: %1 ms").arg(back, 0, 'f', 1));

    timer.restart();
    paintsNow = paints.paints;
    view.model()->setStateFilter({RunState::Failed});
    const double filtered = waitUntil(timer, [&] { return paints.paints > paintsNow; });
    print(QStringLiteral("filter state=failed (query + paint): %1 ms, rows %2")
              .arg(filtered, 0, 'f', 1)
              .arg(view.model()->rowCount()));

    print(QStringLiteral("memory with view: VmRSS %1, VmHWM %2")
              .arg(procStatus("VmRSS"), procStatus("VmHWM")));
    return 0;
}
