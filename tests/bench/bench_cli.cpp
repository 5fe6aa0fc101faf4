// keepflowctl on SQLite next to the sqlite3 shell and a raw libsqlite3 writer: prints figures;
// not a pass/fail test.
//
//   bench_cli [--quick] [--keepflowctl PATH] [--sqlite3 PATH] [--raw PATH]
//
// Everything is measured in one run, every database in one temporary folder (one disk), with the
// pragmas Keepflow's store sets (journal_mode WAL, synchronous FULL, foreign_keys ON). Each line
// is "what  value  unit  ratio"; a line whose tool is missing says so instead of a figure.
//   - baseline: the sqlite3 shell's durable single-row commit rate: one script piped into
//     `sqlite3 DB`, N separate autocommitting INSERTs. The whole process is timed and nothing is
//     subtracted; the same script with 0 INSERTs is timed too, to show that start-up is noise.
//     It is measured again after the chain and the mean of the two is the baseline: this disk's
//     rate drifts by a factor of two within minutes. Each raw ceiling is measured right before
//     the workload it bounds, for the same reason.
//   - raw ceiling: raw_sqlite_steps writes through libsqlite3, with statements prepared once, the
//     six rows Keepflow writes per noop step into Keepflow's schema, one BEGIN IMMEDIATE...COMMIT
//     per batch of 1, 50 and 100 steps. It is what the engine's work costs on this disk with no
//     engine at all: no flow parsing, planning, JSON, Qt SQL or event loop, so keepflowctl can
//     approach it but not pass it with as many steps per commit.
//   - keepflowctl run of a chain of noop steps: each step depends on the previous one, so at most
//     one step per commit; steps/s over the whole process, against the baseline and the ceiling.
//   - keepflowctl run of 50 parallel chains x 40 steps: up to 50 steps per commit.
//   - 100 runs x 100 steps submitted (not timed), then one keepflowctl worker timed from its start
//     until every run has succeeded (the database read every 50 ms): up to 100 steps per commit.
//   - keepflowctl run of a one-step flow, the whole process: median and max of 20, each on a new
//     database (includes creating the schema) and on one reused database (target: under 20 ms).
//   - memory: a keepflowctl worker executing 1,000 runs x 100 steps submitted beforehand, its
//     VmRSS sampled every 250 ms: after 10% of the steps, at 50%, at the end and the peak. All
//     1,000 runs are loaded at once, so this is the working set of 1,000 runs in flight.
//   - memory over 100,000 steps: one worker given ten waves of 100 runs x 100 steps, each wave
//     submitted when the one before has finished; its VmRSS after each wave (target: flat).
// keepflowctl's stdout (a line per event) goes to /dev/null, not to a terminal; a worker's log (a
// line per event on stderr) to a file in the temporary folder: a pipe nobody reads would block it.

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

namespace {

[[noreturn]] void die(const QString &message) {
    std::fprintf(stderr, "bench_cli: %s\n", qPrintable(message));
    std::exit(1);
}

void line(const QString &what, double value, const char *format, const QString &unit,
          const QString &ratio = {}) {
    const QString text = QStringLiteral("%1 %2  %3  %4")
                             .arg(what, -68)
                             .arg(QString::asprintf(format, value), 10)
                             .arg(unit, -9)
                             .arg(ratio);
    std::printf("%s\n", qPrintable(text.trimmed()));
    std::fflush(stdout);
}

void skipped(const QString &what, const QString &why) {
    std::printf("%-68s %10s  %-9s  skipped: %s\n", qPrintable(what), "-", "", qPrintable(why));
    std::fflush(stdout);
}

QString ratio(double value, std::optional<double> reference, const QString &name) {
    if (!reference || *reference <= 0)
        return QStringLiteral("(no %1)").arg(name);
    return QStringLiteral("%1x %2").arg(value / *reference, 0, 'f', 2).arg(name);
}

double seconds(const QElapsedTimer &timer) {
    return static_cast<double>(timer.nsecsElapsed()) / 1e9;
}

QString writeFile(const QString &path, const QByteArray &text) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
        die(QStringLiteral("cannot write %1").arg(path));
    return path;
}

/// chains independent chains of length noop steps each, in one flow.
QByteArray chainsFlowText(int chains, int length) {
    QByteArray text = R"({"keepflow":1,"name":"chain","steps":[)";
    for (int c = 0; c < chains; ++c) {
        for (int i = 0; i < length; ++i) {
            const QByteArray prefix = chains == 1 ? "s" : "c" + QByteArray::number(c) + "s";
            text += c == 0 && i == 0 ? "" : ",";
            text += R"({"id":")" + prefix + QByteArray::number(i) + R"(","kind":"noop")";
            if (i > 0)
                text += R"(,"after":[")" + prefix + QByteArray::number(i - 1) + R"("])";
            text += "}";
        }
    }
    return text + "]}";
}

/// Runs program to its end, stdout to /dev/null unless out is given; its wall time in seconds.
double runTimed(const QString &program, const QStringList &arguments, QByteArray *out = nullptr,
                const QString &stdinFile = {}) {
    QProcess process;
    if (!out)
        process.setStandardOutputFile(QProcess::nullDevice());
    if (!stdinFile.isEmpty())
        process.setStandardInputFile(stdinFile);
    QElapsedTimer timer;
    timer.start();
    process.start(program, arguments);
    if (!process.waitForFinished(-1) || process.exitStatus() != QProcess::NormalExit)
        die(QStringLiteral("%1 %2 did not finish: %3")
                .arg(program, arguments.join(QLatin1Char(' ')), process.errorString()));
    const double elapsed = seconds(timer);
    if (process.exitCode() != 0)
        die(QStringLiteral("%1 %2 exited with %3: %4")
                .arg(program, arguments.join(QLatin1Char(' ')))
                .arg(process.exitCode())
                .arg(QString::fromLocal8Bit(process.readAllStandardError())));
    if (out)
        *out = process.readAllStandardOutput();
    return elapsed;
}

/// A read-only connection to a Keepflow database, for counting what was written.
class Reader {
public:
    explicit Reader(const QString &path)
        : m_name(QStringLiteral("reader-%1").arg(++s_count)) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open())
            die(db.lastError().text());
    }
    ~Reader() {
        QSqlDatabase::database(m_name).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    Reader(const Reader &) = delete;
    Reader &operator=(const Reader &) = delete;

    qint64 scalar(const QString &sql) const {
        QSqlQuery query(QSqlDatabase::database(m_name));
        if (!query.exec(sql) || !query.next())
            die(query.lastError().text());
        return query.value(0).toLongLong();
    }
    qint64 succeededAttempts() const {
        return scalar(QStringLiteral("SELECT count(*) FROM attempts WHERE outcome = 'succeeded'"));
    }
    qint64 unfinishedRuns() const {
        return scalar(QStringLiteral("SELECT count(*) FROM runs WHERE state <> 'succeeded'"));
    }

private:
    static inline int s_count = 0;
    QString m_name;
};

void expectSteps(const QString &db, qint64 steps, const QString &what) {
    const Reader reader(db);
    if (const qint64 done = reader.succeededAttempts(); done != steps)
        die(QStringLiteral("%1: %2 succeeded attempts, expected %3")
                .arg(what)
                .arg(done)
                .arg(steps));
}

struct Tools {
    QString ctl;
    QString sqlite3; // empty: not found
    QString raw;     // empty: not found
};

QString programVersion(const QString &program, const QStringList &arguments) {
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(10'000) || process.exitCode() != 0)
        return QStringLiteral("?");
    return QString::fromUtf8(process.readAllStandardOutput()).section(QLatin1Char(' '), 0, 0);
}

/// The sqlite3 shell: seconds for a script with inserts single-row INSERTs into a new database.
double shellScript(const Tools &tools, const QTemporaryDir &dir, const QString &name, int inserts) {
    QByteArray script = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
                        "PRAGMA foreign_keys=ON;\n"
                        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n";
    for (int i = 0; i < inserts; ++i)
        script += "INSERT INTO t(v) VALUES('row');\n"; // no BEGIN: each one commits
    const QString scriptPath = writeFile(dir.filePath(name + QStringLiteral(".sql")), script);
    const QString db = dir.filePath(name + QStringLiteral(".db"));
    const double elapsed = runTimed(tools.sqlite3, {db}, nullptr, scriptPath);
    QByteArray count;
    runTimed(tools.sqlite3, {db, QStringLiteral("SELECT count(*) FROM t")}, &count);
    if (count.trimmed().toInt() != inserts)
        die(QStringLiteral("the sqlite3 shell wrote %1 rows, not %2")
                .arg(QString::fromUtf8(count.trimmed()))
                .arg(inserts));
    return elapsed;
}

/// A new Keepflow database at path, made by keepflowctl running a one-step flow.
void createKeepflowDatabase(const Tools &tools, const QTemporaryDir &dir, const QString &path) {
    const QString flow = dir.filePath(QStringLiteral("one.flow.json"));
    if (!QFile::exists(flow))
        writeFile(flow, chainsFlowText(1, 1));
    runTimed(tools.ctl, {QStringLiteral("run"), flow, QStringLiteral("--db"), path});
}

struct RawResult {
    double stepsPerSecond = 0;
    qint64 commits = 0;
    QString sqliteVersion;
};

/// raw_sqlite_steps on a new Keepflow database.
RawResult rawCeiling(const Tools &tools, const QTemporaryDir &dir, int steps, int perCommit) {
    const QString db = dir.filePath(QStringLiteral("raw-%1.db").arg(perCommit));
    createKeepflowDatabase(tools, dir, db);
    QByteArray out;
    runTimed(tools.raw, {db, QString::number(steps), QString::number(perCommit)}, &out);
    RawResult result;
    for (const QByteArray &field : out.trimmed().split(' ')) {
        const qsizetype equals = field.indexOf('=');
        const QByteArray key = field.left(equals);
        const QByteArray value = field.mid(equals + 1);
        if (key == "steps_per_second")
            result.stepsPerSecond = value.toDouble();
        else if (key == "commits")
            result.commits = value.toLongLong();
        else if (key == "sqlite")
            result.sqliteVersion = QString::fromUtf8(value);
    }
    if (result.stepsPerSecond <= 0)
        die(QStringLiteral("raw_sqlite_steps printed %1").arg(QString::fromUtf8(out)));
    // One step was already there: the one-step flow that created the database.
    expectSteps(db, steps + 1, QStringLiteral("raw_sqlite_steps"));
    return result;
}

/// keepflowctl run of chains x length noop steps on a new database: steps per second.
double ctlRun(const Tools &tools, const QTemporaryDir &dir, const QString &name, int chains,
              int length) {
    const QString flow = writeFile(dir.filePath(name + QStringLiteral(".flow.json")),
                                   chainsFlowText(chains, length));
    const QString db = dir.filePath(name + QStringLiteral(".db"));
    const double elapsed =
        runTimed(tools.ctl, {QStringLiteral("run"), flow, QStringLiteral("--db"), db});
    expectSteps(db, static_cast<qint64>(chains) * length, name);
    return chains * length / elapsed;
}

struct WorkerResult {
    double seconds = 0;
    qint64 rssAt10 = 0; // kB, 0: no sample; at the first sample with 10% of the steps done
    qint64 rssAt50 = 0;
    double doneAt10 = 0; // the share of steps done at that sample
    double doneAt50 = 0;
    qint64 rssEnd = 0;
    qint64 rssPeak = 0;
};

qint64 vmRssKb(qint64 pid) {
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &row : status.readAll().split('\n')) {
        if (row.startsWith("VmRSS:"))
            return row.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

/// The end of a worker's log (its stderr, a line per event), to say why it ended.
QString logTail(const QString &path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("(no log at %1)").arg(path);
    return QString::fromLocal8Bit(file.readAll().right(2000));
}

/// runs x length-step chains submitted to a new database (not timed), then one worker timed
/// from its start until every run has succeeded, the database and the worker's VmRSS read every
/// pollMs.
WorkerResult ctlWorker(const Tools &tools, const QTemporaryDir &dir, const QString &name, int runs,
                       int length, int pollMs) {
    const QString flow =
        writeFile(dir.filePath(name + QStringLiteral(".flow.json")), chainsFlowText(1, length));
    const QString db = dir.filePath(name + QStringLiteral(".db"));
    for (int r = 0; r < runs; ++r)
        runTimed(tools.ctl, {QStringLiteral("submit"), flow, QStringLiteral("--db"), db});
    const qint64 total = static_cast<qint64>(runs) * length;
    const Reader reader(db);
    if (reader.scalar(QStringLiteral("SELECT count(*) FROM runs")) != runs)
        die(QStringLiteral("%1: submit did not create %2 runs").arg(name).arg(runs));

    WorkerResult result;
    QProcess worker;
    worker.setStandardOutputFile(QProcess::nullDevice());
    const QString log = dir.filePath(name + QStringLiteral(".worker.log"));
    worker.setStandardErrorFile(log);
    QElapsedTimer timer;
    timer.start();
    worker.start(tools.ctl, {QStringLiteral("worker"), QStringLiteral("--db"), db});
    if (!worker.waitForStarted())
        die(QStringLiteral("cannot start keepflowctl worker: %1").arg(worker.errorString()));
    const qint64 pid = worker.processId();
    while (true) {
        const qint64 rss = vmRssKb(pid);
        const bool finished = reader.unfinishedRuns() == 0;
        if (finished)
            result.seconds = seconds(timer);
        const qint64 done = finished ? total : reader.succeededAttempts();
        result.rssPeak = std::max(result.rssPeak, rss);
        const double share = static_cast<double>(done) / static_cast<double>(total);
        if (result.rssAt10 == 0 && done * 10 >= total) {
            result.rssAt10 = rss;
            result.doneAt10 = share;
        }
        if (result.rssAt50 == 0 && done * 2 >= total) {
            result.rssAt50 = rss;
            result.doneAt50 = share;
        }
        if (finished) {
            result.rssEnd = rss;
            break;
        }
        if (worker.state() != QProcess::Running)
            die(QStringLiteral("%1: keepflowctl worker ended early: %2").arg(name, logTail(log)));
        if (timer.elapsed() > 3'600'000)
            die(QStringLiteral("%1: the worker did not finish within an hour").arg(name));
        QThread::msleep(static_cast<unsigned long>(pollMs)); // sampling interval
    }
    ::kill(static_cast<pid_t>(pid), SIGTERM);
    if (!worker.waitForFinished(30'000))
        die(QStringLiteral("%1: keepflowctl worker did not stop on SIGTERM").arg(name));
    expectSteps(db, total, name);
    return result;
}

/// One worker on one database, given waves of runs x length-step chains: each wave is submitted
/// once the one before has finished. Returns the worker's VmRSS (kB) after each wave: a worker
/// whose memory is flat holds the same after the tenth wave as after the second.
std::vector<qint64> workerRssOverWaves(const Tools &tools, const QTemporaryDir &dir, int waves,
                                       int runs, int length) {
    const QString flow =
        writeFile(dir.filePath(QStringLiteral("waves.flow.json")), chainsFlowText(1, length));
    const QString db = dir.filePath(QStringLiteral("waves.db"));
    createKeepflowDatabase(tools, dir, db);
    const Reader reader(db);
    QProcess worker;
    worker.setStandardOutputFile(QProcess::nullDevice());
    const QString log = dir.filePath(QStringLiteral("waves.worker.log"));
    worker.setStandardErrorFile(log);
    worker.start(tools.ctl, {QStringLiteral("worker"), QStringLiteral("--db"), db});
    if (!worker.waitForStarted())
        die(QStringLiteral("cannot start keepflowctl worker: %1").arg(worker.errorString()));
    const qint64 pid = worker.processId();
    std::vector<qint64> rss;
    QElapsedTimer timer;
    timer.start();
    for (int wave = 0; wave < waves; ++wave) {
        for (int r = 0; r < runs; ++r)
            runTimed(tools.ctl, {QStringLiteral("submit"), flow, QStringLiteral("--db"), db});
        while (reader.unfinishedRuns() > 0) {
            if (worker.state() != QProcess::Running)
                die(QStringLiteral("waves: keepflowctl worker ended early: %1").arg(logTail(log)));
            if (timer.elapsed() > 3'600'000)
                die(QStringLiteral("waves: the worker did not finish within an hour"));
            QThread::msleep(100); // polling the database for the wave's end
        }
        rss.push_back(vmRssKb(pid));
    }
    ::kill(static_cast<pid_t>(pid), SIGTERM);
    if (!worker.waitForFinished(30'000))
        die(QStringLiteral("waves: keepflowctl worker did not stop on SIGTERM"));
    expectSteps(db, static_cast<qint64>(waves) * runs * length + 1, QStringLiteral("waves"));
    return rss;
}

struct Latency {
    double medianMs = 0;
    double maxMs = 0;
};

Latency oneStepLatency(const Tools &tools, const QTemporaryDir &dir, bool fresh, int count) {
    const QString flow = dir.filePath(QStringLiteral("one.flow.json"));
    if (!QFile::exists(flow))
        writeFile(flow, chainsFlowText(1, 1));
    const QString reused = dir.filePath(QStringLiteral("one-reused.db"));
    if (!fresh)
        createKeepflowDatabase(tools, dir, reused); // first run not counted: it creates the file
    std::vector<double> ms;
    for (int i = 0; i < count; ++i) {
        const QString db = fresh ? dir.filePath(QStringLiteral("one-fresh-%1.db").arg(i)) : reused;
        ms.push_back(
            1000 * runTimed(tools.ctl, {QStringLiteral("run"), flow, QStringLiteral("--db"), db}));
    }
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    return {n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms.back()};
}

QString optionValue(const QStringList &args, const QString &name, const QString &fallback) {
    const auto at = args.indexOf(name);
    if (at > 0 && at + 1 < args.size())
        return args.at(at + 1);
    return fallback;
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool quick = args.contains(QStringLiteral("--quick"));
    Tools tools;
    tools.ctl =
        optionValue(args, QStringLiteral("--keepflowctl"), QStringLiteral(KEEPFLOWCTL_PATH));
    tools.sqlite3 = optionValue(args, QStringLiteral("--sqlite3"),
                                QStandardPaths::findExecutable(QStringLiteral("sqlite3")));
    tools.raw = optionValue(args, QStringLiteral("--raw"), QStringLiteral(RAW_SQLITE_STEPS_PATH));
    if (!QFileInfo(tools.ctl).isExecutable())
        die(QStringLiteral("no keepflowctl at %1").arg(tools.ctl));
    QString sqliteMissing, rawMissing;
    if (tools.sqlite3.isEmpty() || !QFileInfo(tools.sqlite3).isExecutable()) {
        sqliteMissing = tools.sqlite3.isEmpty()
                            ? QStringLiteral("no sqlite3 on PATH (apt-get install sqlite3)")
                            : QStringLiteral("%1 is not an executable").arg(tools.sqlite3);
        tools.sqlite3.clear();
    }
    if (!QFileInfo(tools.raw).isExecutable()) {
        rawMissing = QStringLiteral("%1 is not an executable").arg(tools.raw);
        tools.raw.clear();
    }

    const int shellInserts = quick ? 500 : 3'000;
    const int chainSteps = quick ? 1'000 : 5'000;
    const int parallelChains = 50, parallelLength = 40;
    const int manyRuns = 100, manyLength = 100;
    const int latencyCount = 20;
    const int memoryRuns = quick ? 200 : 1'000, memoryLength = 100;

    QTemporaryDir dir;
    if (!dir.isValid())
        die(QStringLiteral("cannot create a temporary folder: %1").arg(dir.errorString()));
    const QStorageInfo disk(dir.path());
    std::printf("bench_cli%s  %s  folder %s (%s, %s on %s)\n", quick ? " --quick" : "",
                qPrintable(QDateTime::currentDateTime().toString(Qt::ISODate)),
                qPrintable(dir.path()), qPrintable(QString::fromUtf8(disk.fileSystemType())),
                qPrintable(QString::fromUtf8(disk.device())), qPrintable(disk.rootPath()));
    std::printf("keepflowctl %s\nsqlite3     %s\nraw         %s\n", qPrintable(tools.ctl),
                tools.sqlite3.isEmpty()
                    ? "(none)"
                    : qPrintable(tools.sqlite3 + QStringLiteral(" (") +
                                 programVersion(tools.sqlite3, {QStringLiteral("--version")}) +
                                 QStringLiteral(")")),
                tools.raw.isEmpty() ? "(none)" : qPrintable(tools.raw));
    std::fflush(stdout);

    // 1. The baseline.
    std::optional<double> baseline;
    const QString shellWhat =
        QStringLiteral("sqlite3 shell: %1 single-row INSERTs, each a commit").arg(shellInserts);
    const QString startWhat = QStringLiteral("sqlite3 shell: same script with 0 INSERTs");
    if (tools.sqlite3.isEmpty()) {
        skipped(shellWhat, sqliteMissing);
        skipped(startWhat, sqliteMissing);
    } else {
        const double elapsed = shellScript(tools, dir, QStringLiteral("shell"), shellInserts);
        baseline = shellInserts / elapsed;
        line(shellWhat, *baseline, "%.0f", QStringLiteral("commits/s"),
             QStringLiteral("1.00x baseline (%1 s)").arg(elapsed, 0, 'f', 2));
        const double empty = shellScript(tools, dir, QStringLiteral("shell-empty"), 0);
        line(startWhat, 1000 * empty, "%.1f", QStringLiteral("ms"),
             QStringLiteral("%1% of the run above").arg(100 * empty / elapsed, 0, 'f', 1));
    }

    // 6. The raw ceiling of each batch size, measured right before the workload it bounds: the
    // disk's rate drifts over minutes, and neighbours in time share its mood.
    const auto rawCeilingLine = [&](int steps, int perCommit) -> std::optional<double> {
        const QString what =
            QStringLiteral("raw libsqlite3: %1 steps, %2 per commit").arg(steps).arg(perCommit);
        if (tools.raw.isEmpty()) {
            skipped(what, rawMissing);
            return std::nullopt;
        }
        const RawResult result = rawCeiling(tools, dir, steps, perCommit);
        line(what, result.stepsPerSecond, "%.0f", QStringLiteral("steps/s"),
             ratio(result.stepsPerSecond, baseline, QStringLiteral("baseline")) +
                 QStringLiteral(" (%1 commits, SQLite %2)")
                     .arg(result.commits)
                     .arg(result.sqliteVersion));
        return result.stepsPerSecond;
    };

    // 2. The chain, then the baseline again: the chain is compared with the mean of the two.
    const std::optional<double> raw1 = rawCeilingLine(chainSteps, 1);
    const double chain = ctlRun(tools, dir, QStringLiteral("chain"), 1, chainSteps);
    if (baseline) {
        const double again =
            shellInserts / shellScript(tools, dir, QStringLiteral("shell-again"), shellInserts);
        line(shellWhat + QStringLiteral(", again after the chain"), again, "%.0f",
             QStringLiteral("commits/s"),
             QStringLiteral("%1x the first; the baseline below is their mean")
                 .arg(again / *baseline, 0, 'f', 2));
        baseline = (*baseline + again) / 2;
    }
    line(QStringLiteral("keepflowctl run: chain of %1 noop steps").arg(chainSteps), chain, "%.0f",
         QStringLiteral("steps/s"),
         ratio(chain, baseline, QStringLiteral("baseline")) + QStringLiteral(", ") +
             ratio(chain, raw1, QStringLiteral("raw (1/commit)")));

    // 3. Parallel chains in one run.
    const std::optional<double> raw50 =
        rawCeilingLine(parallelChains * parallelLength, parallelChains);
    const double parallel =
        ctlRun(tools, dir, QStringLiteral("parallel"), parallelChains, parallelLength);
    line(QStringLiteral("keepflowctl run: %1 parallel chains x %2 steps")
             .arg(parallelChains)
             .arg(parallelLength),
         parallel, "%.0f", QStringLiteral("steps/s"),
         ratio(parallel, baseline, QStringLiteral("baseline")) + QStringLiteral(", ") +
             ratio(parallel, raw50, QStringLiteral("raw (50/commit)")));

    // 4. Many runs through one worker.
    const std::optional<double> raw100 = rawCeilingLine(manyRuns * manyLength, manyRuns);
    const WorkerResult many =
        ctlWorker(tools, dir, QStringLiteral("many"), manyRuns, manyLength, 50);
    const double manyRate = manyRuns * manyLength / many.seconds;
    line(QStringLiteral("keepflowctl worker: %1 runs x %2 steps").arg(manyRuns).arg(manyLength),
         manyRate, "%.0f", QStringLiteral("steps/s"),
         ratio(manyRate, baseline, QStringLiteral("baseline")) + QStringLiteral(", ") +
             ratio(manyRate, raw100, QStringLiteral("raw (100/commit)")));

    // 5. Latency of a one-step run.
    for (const bool fresh : {true, false}) {
        const Latency latency = oneStepLatency(tools, dir, fresh, latencyCount);
        const QString where =
            fresh ? QStringLiteral("new database each") : QStringLiteral("one reused database");
        line(QStringLiteral("keepflowctl run: one-step flow, %1, median of %2")
                 .arg(where)
                 .arg(latencyCount),
             latency.medianMs, "%.1f", QStringLiteral("ms"), QStringLiteral("target < 20 ms"));
        line(QStringLiteral("keepflowctl run: one-step flow, %1, max of %2")
                 .arg(where)
                 .arg(latencyCount),
             latency.maxMs, "%.1f", QStringLiteral("ms"));
    }

    // 7. Memory of a worker over many runs.
    const WorkerResult memory =
        ctlWorker(tools, dir, QStringLiteral("memory"), memoryRuns, memoryLength, 250);
    const QString memoryWhat = QStringLiteral("keepflowctl worker RSS, %1 runs x %2 steps,")
                                   .arg(memoryRuns)
                                   .arg(memoryLength);
    const auto mib = [](qint64 kb) { return static_cast<double>(kb) / 1024; };
    const auto toFirst = [&memory](qint64 kb) {
        return memory.rssAt10 > 0
                   ? QStringLiteral("%1x the 10% figure")
                         .arg(static_cast<double>(kb) / static_cast<double>(memory.rssAt10), 0, 'f',
                              2)
                   : QString();
    };
    const auto sampled = [](double share) {
        return QStringLiteral("sampled at %1% done").arg(100 * share, 0, 'f', 0);
    };
    line(memoryWhat + QStringLiteral(" after 10% of steps"), mib(memory.rssAt10), "%.1f",
         QStringLiteral("MiB"), sampled(memory.doneAt10));
    line(memoryWhat + QStringLiteral(" at 50%"), mib(memory.rssAt50), "%.1f", QStringLiteral("MiB"),
         toFirst(memory.rssAt50) + QStringLiteral(", ") + sampled(memory.doneAt50));
    line(memoryWhat + QStringLiteral(" at the end"), mib(memory.rssEnd), "%.1f",
         QStringLiteral("MiB"), toFirst(memory.rssEnd));
    line(memoryWhat + QStringLiteral(" peak"), mib(memory.rssPeak), "%.1f", QStringLiteral("MiB"),
         toFirst(memory.rssPeak));
    // 8. Memory of a worker over 100,000 steps given in waves: flat, or growing with the steps.
    const int waves = quick ? 4 : 10;
    const std::vector<qint64> waveRss = workerRssOverWaves(tools, dir, waves, 100, 100);
    for (size_t wave = 0; wave < waveRss.size(); ++wave) {
        line(
            QStringLiteral("keepflowctl worker RSS after wave %1 of %2 (100 runs x 100 steps each)")
                .arg(wave + 1)
                .arg(waves),
            mib(waveRss[wave]), "%.1f", QStringLiteral("MiB"),
            wave == 0
                ? QString()
                : QStringLiteral("%1x wave 1")
                      .arg(static_cast<double>(waveRss[wave]) / static_cast<double>(waveRss[0]), 0,
                           'f', 2));
    }
    const double memoryRate = memoryRuns * memoryLength / memory.seconds;
    line(QStringLiteral("keepflowctl worker: %1 runs x %2 steps (the run above)")
             .arg(memoryRuns)
             .arg(memoryLength),
         memoryRate, "%.0f", QStringLiteral("steps/s"),
         ratio(memoryRate, baseline, QStringLiteral("baseline")));
    return 0;
}
