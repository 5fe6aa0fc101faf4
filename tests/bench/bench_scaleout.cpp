// Scale-out on PostgreSQL: prints figures; not a pass/fail test.
//
//   bench_scaleout [--quick] [--keepflowctl PATH]
//
// Starts its own PostgreSQL (tests/support/pgserver.sh, fsync on as in production) and measures,
// side by side in one run on that server:
//   - the baseline: PostgreSQL's own durable single-row commit rate (one INSERT per transaction,
//     one client; and four clients at once, for reference);
//   - a chain of 10,000 noop steps, in-process (the engine on the same server) and through the
//     real `keepflowctl run` (target: >= 0.8x the baseline);
//   - 100 runs x 100 steps submitted with `keepflowctl submit`, then executed by 1 and by 4
//     `keepflowctl worker` processes (target with 4: >= 10x the baseline);
//   - failover: 100 runs held by one worker; another worker running; the holder is killed
//     (SIGKILL: same host, so its dead pid frees the runs at once) or stopped (SIGSTOP: alive,
//     so only its lease, 5 s, frees them): time until the other worker resumed all of them
//     (target: lease + 2 s).

#include "core/databaseaddress.h"
#include "model/flowfile.h"
#include "runtime/engine.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>

using namespace keepflow;

namespace {

[[noreturn]] void die(const QString &message) {
    std::fprintf(stderr, "bench_scaleout: %s\n", qPrintable(message));
    std::exit(1);
}

/// The suite's PostgreSQL server for this run, stopped when it goes.
class Server {
public:
    explicit Server(const QString &script)
        : m_script(script) {
        m_dir = QDir::tempPath() + QStringLiteral("/keepflow-bench-pg-%1").arg(getpid());
        QProcess start;
        start.start(m_script, {QStringLiteral("start"), m_dir});
        if (!start.waitForFinished(60'000) || start.exitCode() != 0)
            die(QStringLiteral("cannot start PostgreSQL: %1")
                    .arg(QString::fromLocal8Bit(start.readAllStandardError())));
        m_url = QString::fromUtf8(start.readAllStandardOutput()).trimmed();
        m_socket = m_dir + QStringLiteral("/socket");
    }
    ~Server() { QProcess::execute(m_script, {QStringLiteral("stop"), m_dir}); }
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    /// A new database on the server and its URL.
    QString createDatabase(const QString &name) {
        QSqlDatabase db = connect(QStringLiteral("postgres"), QStringLiteral("admin"));
        QSqlQuery query(db);
        // name comes from this program, never from input.
        if (!query.exec(QStringLiteral("CREATE DATABASE %1").arg(name)))
            die(query.lastError().text());
        return QStringLiteral("postgresql:///%1?host=%2").arg(name, m_socket);
    }
    QSqlDatabase connect(const QString &database, const QString &connection) {
        QSqlDatabase db = QSqlDatabase::contains(connection)
                              ? QSqlDatabase::database(connection)
                              : QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
        db.setHostName(m_socket);
        db.setDatabaseName(database);
        if (!db.isOpen() && !db.open())
            die(db.lastError().text());
        return db;
    }
    const QString &socket() const { return m_socket; }

private:
    QString m_script;
    QString m_dir;
    QString m_url;
    QString m_socket;
};

/// Single-row durable commits per second with clients connections at once, for seconds.
double singleRowCommitRate(Server &server, int clients, double seconds) {
    const QString database = QStringLiteral("baseline_c%1").arg(clients);
    server.createDatabase(database);
    {
        QSqlDatabase db = server.connect(database, QStringLiteral("setup-") + database);
        QSqlQuery(db).exec(QStringLiteral("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT)"));
    }
    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<qint64> counts(static_cast<size_t>(clients), 0);
    const QString socket = server.socket();
    QElapsedTimer timer;
    timer.start();
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back(QThread::create([c, &counts, &database, &socket, seconds] {
            const QString name = QStringLiteral("client%1-%2").arg(c).arg(database);
            {
                QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
                db.setHostName(socket);
                db.setDatabaseName(database);
                if (!db.open()) {
                    std::fprintf(stderr, "client %d: %s\n", c, qPrintable(db.lastError().text()));
                    return;
                }
                QSqlQuery insert(db);
                insert.prepare(QStringLiteral("INSERT INTO t (v) VALUES (?)"));
                QElapsedTimer own;
                own.start();
                while (own.nsecsElapsed() < static_cast<qint64>(seconds * 1e9)) {
                    insert.bindValue(0, QStringLiteral("row")); // autocommit: one txn each
                    if (!insert.exec()) {
                        std::fprintf(stderr, "client %d: %s\n", c,
                                     qPrintable(insert.lastError().text()));
                        return;
                    }
                    ++counts[static_cast<size_t>(c)];
                }
            }
            QSqlDatabase::removeDatabase(name);
        }));
        threads.back()->start();
    }
    for (auto &thread : threads)
        thread->wait();
    const double elapsed = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    qint64 total = 0;
    for (const qint64 count : counts)
        total += count;
    return static_cast<double>(total) / elapsed;
}

QByteArray chainFlowText(const QString &name, int steps) {
    QByteArray text = "{ \"keepflow\": 1, \"name\": \"" + name.toUtf8() + "\", \"steps\": [";
    for (int i = 0; i < steps; ++i) {
        text += i == 0 ? "" : ",";
        text += "{\"id\":\"s" + QByteArray::number(i) + "\",\"kind\":\"noop\"";
        if (i > 0)
            text += ",\"after\":[\"s" + QByteArray::number(i - 1) + "\"]";
        text += "}";
    }
    return text + "] }";
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &text) {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
        die(QStringLiteral("cannot write %1").arg(path));
    return path;
}

int runCtl(const QString &ctl, const QStringList &arguments, QByteArray *out = nullptr) {
    QProcess process;
    process.start(ctl, arguments);
    if (!process.waitForFinished(-1))
        die(QStringLiteral("%1 did not finish").arg(ctl));
    if (out)
        *out = process.readAllStandardOutput();
    if (process.exitCode() != 0)
        std::fprintf(stderr, "%s\n", process.readAllStandardError().constData());
    return process.exitCode();
}

/// The first column of the query's first row.
qint64 scalar(QSqlDatabase &db, const QString &sql) {
    QSqlQuery query(db);
    if (!query.exec(sql) || !query.next())
        die(query.lastError().text());
    return query.value(0).toLongLong();
}

void waitUntil(const std::function<bool()> &done, int timeoutMs, const QString &what) {
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            die(QStringLiteral("timed out waiting for %1").arg(what));
        QThread::msleep(20); // polling a condition, not waiting for time to pass
    }
}

std::vector<std::unique_ptr<QProcess>> startWorkers(const QString &ctl, const QString &url,
                                                    int count, int leaseSeconds = 30) {
    std::vector<std::unique_ptr<QProcess>> workers;
    for (int w = 0; w < count; ++w) {
        auto worker = std::make_unique<QProcess>();
        worker->setStandardOutputFile(QProcess::nullDevice());
        worker->setStandardErrorFile(QProcess::nullDevice());
        worker->start(ctl, {QStringLiteral("worker"), QStringLiteral("--db"), url,
                            QStringLiteral("--lease"), QString::number(leaseSeconds)});
        if (!worker->waitForStarted())
            die(QStringLiteral("cannot start a worker"));
        workers.push_back(std::move(worker));
    }
    return workers;
}

void stopWorkers(std::vector<std::unique_ptr<QProcess>> &workers) {
    for (auto &worker : workers) {
        if (worker->state() == QProcess::Running)
            ::kill(static_cast<pid_t>(worker->processId()), SIGTERM);
    }
    for (auto &worker : workers)
        worker->waitForFinished(30'000);
}

/// 100 runs x steps submitted, then executed by workers processes: steps per second.
double manyRuns(Server &server, const QString &ctl, const QTemporaryDir &dir, int workerCount,
                int runs, int steps) {
    const QString name = QStringLiteral("many_w%1").arg(workerCount);
    const QString url = server.createDatabase(name);
    const QString file = writeFile(dir, name + QStringLiteral(".flow.json"),
                                   chainFlowText(QStringLiteral("chain"), steps));
    for (int r = 0; r < runs; ++r) {
        if (runCtl(ctl, {QStringLiteral("submit"), file, QStringLiteral("--db"), url}) != 0)
            die(QStringLiteral("submit failed"));
    }
    QSqlDatabase db = server.connect(name, QStringLiteral("watch-") + name);
    QElapsedTimer timer;
    timer.start();
    auto workers = startWorkers(ctl, url, workerCount);
    waitUntil(
        [&db] {
            return scalar(db, QStringLiteral("SELECT count(*) FROM runs WHERE state <> "
                                             "'succeeded'")) == 0;
        },
        600'000, QStringLiteral("%1 runs").arg(runs));
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    stopWorkers(workers);
    const qint64 attempts = scalar(db, QStringLiteral("SELECT count(*) FROM attempts"));
    if (attempts != static_cast<qint64>(runs) * steps)
        die(QStringLiteral("%1 attempts for %2 steps").arg(attempts).arg(runs * steps));
    return static_cast<double>(runs) * steps / seconds;
}

/// Seconds from the holder's end (signal) until the other worker resumed all runs.
double failover(Server &server, const QString &ctl, const QTemporaryDir &dir, int signal,
                int leaseSeconds, int runs) {
    const QString name =
        signal == SIGKILL ? QStringLiteral("failover_kill") : QStringLiteral("failover_stop");
    const QString url = server.createDatabase(name);
    const QString file = writeFile(dir, name + QStringLiteral(".flow.json"),
                                   R"({ "keepflow": 1, "name": "waits", "steps": [
            { "id": "wait", "kind": "delay", "with": { "duration": "1h" } },
            { "id": "after", "kind": "noop", "after": ["wait"] } ] })");
    for (int r = 0; r < runs; ++r)
        runCtl(ctl, {QStringLiteral("submit"), file, QStringLiteral("--db"), url});
    QSqlDatabase db = server.connect(name, QStringLiteral("watch-") + name);
    auto holder = startWorkers(ctl, url, 1, leaseSeconds);
    waitUntil(
        [&db, runs] {
            return scalar(db, QStringLiteral("SELECT count(DISTINCT id) FROM runs WHERE owner "
                                             "IS NOT NULL")) == runs;
        },
        60'000, QStringLiteral("the holder to take every run"));
    auto standby = startWorkers(ctl, url, 1, leaseSeconds);
    waitUntil([&db] { return scalar(db, QStringLiteral("SELECT count(*) FROM workers")) == 2; },
              60'000, QStringLiteral("the standby's heartbeat"));
    const qint64 resumedBefore =
        scalar(db, QStringLiteral("SELECT count(*) FROM events WHERE type = 'run_resumed'"));
    QElapsedTimer timer;
    timer.start();
    ::kill(static_cast<pid_t>(holder.front()->processId()), signal);
    if (signal == SIGKILL)
        holder.front()->waitForFinished(10'000); // reaped, as its service manager would
    waitUntil(
        [&db, runs, resumedBefore] {
            return scalar(db, QStringLiteral(
                                  "SELECT count(*) FROM events WHERE type = 'run_resumed'")) -
                       resumedBefore >=
                   runs;
        },
        120'000, QStringLiteral("the standby to resume every run"));
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    if (signal == SIGSTOP)
        ::kill(static_cast<pid_t>(holder.front()->processId()), SIGKILL);
    holder.front()->waitForFinished(10'000);
    stopWorkers(standby);
    return seconds;
}

/// The chain in-process: the engine on this process's connection to the server.
double chainInProcess(const QString &url, int steps) {
    auto store = Store::open(url);
    if (!store)
        die(store.error());
    FlowLoad load =
        parseFlow(chainFlowText(QStringLiteral("chain"), steps), QStringLiteral("chain.flow.json"));
    if (!load.ok())
        die(load.errorText());
    SystemClock clock;
    Engine engine(**store, clock, StepKindRegistry::withBuiltins(), {});
    bool settled = false;
    QObject::connect(&engine, &Engine::runSettled,
                     [&settled](const QString &, RunState) { settled = true; });
    QElapsedTimer timer;
    timer.start();
    auto id = engine.createRun(*load.flow, {}, {}, true);
    if (!id)
        die(id.error());
    while (!settled) {
        if (Status s = engine.pump(); !s)
            die(s.message());
    }
    return steps / (static_cast<double>(timer.nsecsElapsed()) / 1e9);
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool quick = args.contains(QStringLiteral("--quick"));
    QString ctl = QStringLiteral(KEEPFLOWCTL_PATH);
    if (const auto at = args.indexOf(QStringLiteral("--keepflowctl"));
        at > 0 && at + 1 < args.size())
        ctl = args.at(at + 1);
    const int chainSteps = quick ? 2'000 : 10'000;
    const int runs = quick ? 20 : 100;
    const int steps = quick ? 20 : 100;
    const int failoverRuns = quick ? 20 : 100;
    const int lease = 5;

    Server server(QStringLiteral(PGSERVER_SCRIPT));
    QTemporaryDir dir;
    std::printf("PostgreSQL on %s (fsync on); keepflowctl %s\n", qPrintable(server.socket()),
                qPrintable(ctl));

    const double baseline = singleRowCommitRate(server, 1, quick ? 2 : 5);
    const double baseline4 = singleRowCommitRate(server, 4, quick ? 2 : 5);
    std::printf("baseline: single-row durable commits/s, 1 client   %10.0f\n", baseline);
    std::printf("baseline: single-row durable commits/s, 4 clients  %10.0f\n", baseline4);

    const QString chainUrl = server.createDatabase(QStringLiteral("chain_inprocess"));
    const double inProcess = chainInProcess(chainUrl, chainSteps);
    std::printf("chain of %d steps, in-process          %10.0f steps/s  %.2fx baseline\n",
                chainSteps, inProcess, inProcess / baseline);

    const QString chainCtlUrl = server.createDatabase(QStringLiteral("chain_ctl"));
    const QString chainFile = writeFile(dir, QStringLiteral("chain.flow.json"),
                                        chainFlowText(QStringLiteral("chain"), chainSteps));
    QElapsedTimer timer;
    timer.start();
    if (runCtl(ctl, {QStringLiteral("run"), chainFile, QStringLiteral("--db"), chainCtlUrl}) != 0)
        die(QStringLiteral("keepflowctl run failed"));
    const double viaCtl = chainSteps / (static_cast<double>(timer.nsecsElapsed()) / 1e9);
    std::printf("chain of %d steps, keepflowctl run     %10.0f steps/s  %.2fx baseline\n",
                chainSteps, viaCtl, viaCtl / baseline);

    for (const int workers : {1, 4}) {
        const double rate = manyRuns(server, ctl, dir, workers, runs, steps);
        std::printf("%d runs x %d steps, %d keepflowctl worker(s) %8.0f steps/s  %.2fx baseline\n",
                    runs, steps, workers, rate, rate / baseline);
    }
    const double killed = failover(server, ctl, dir, SIGKILL, lease, failoverRuns);
    std::printf("failover of %d runs, holder SIGKILLed (dead pid seen)  %6.2f s  (lease %d s)\n",
                failoverRuns, killed, lease);
    const double stopped = failover(server, ctl, dir, SIGSTOP, lease, failoverRuns);
    std::printf("failover of %d runs, holder SIGSTOPped (lease expiry)  %6.2f s  (lease %d s)\n",
                failoverRuns, stopped, lease);
    return 0;
}
