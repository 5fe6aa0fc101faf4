// Several keepflowctl workers on one PostgreSQL database, through the real binary: a claim race
// of four workers, a stopped worker (a zombie) fenced out after another took its run over, a
// SIGKILL drill with three workers, and workers that outlive killed connections and a server
// restart. Every drill checks the database afterwards: each step generation succeeded once,
// each side effect happened under the key its attempts carried.
//
// PostgreSQL only: run as tst_scaleout_postgresql (CTest starts the suite's server). The server
// restart drill starts a server of its own, so that the other tests on the suite's server are
// never cut off.

#include "core/databaseaddress.h"

#include "../engine/testdatabase.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <sys/types.h>

using namespace keepflow;

namespace {

const QString kCtl = QStringLiteral(KEEPFLOWCTL_PATH);

/// A `keepflowctl worker` process whose output is collected as it comes.
class Worker {
public:
    Worker(const QString &db, int leaseSeconds) {
        QObject::connect(&process, &QProcess::readyReadStandardOutput, &process,
                         [this] { out += process.readAllStandardOutput(); });
        QObject::connect(&process, &QProcess::readyReadStandardError, &process,
                         [this] { err += process.readAllStandardError(); });
        // Every event a line (items' routine progress is logged at debug).
        process.start(kCtl, {QStringLiteral("worker"), QStringLiteral("--lease"),
                             QString::number(leaseSeconds), QStringLiteral("--log-level"),
                             QStringLiteral("debug"), QStringLiteral("--db"), db});
    }
    ~Worker() {
        if (process.state() != QProcess::NotRunning) {
            process.kill(); // also ends a stopped process
            process.waitForFinished(5000);
        }
    }
    Worker(const Worker &) = delete;
    Worker &operator=(const Worker &) = delete;

    qint64 pid() const { return process.processId(); }
    void signal(int number) const { ::kill(static_cast<pid_t>(process.processId()), number); }
    bool running() const { return process.state() == QProcess::Running; }
    /// Event lines of its log (stderr): "TIME LEVEL run=ID [step=STEP] message".
    int lines() const { return static_cast<int>(err.count(" run=")); }
    /// The runs its log's event lines name.
    QSet<QString> runsLogged() const {
        QSet<QString> runs;
        for (const QByteArray &line : err.split('\n')) {
            const qsizetype at = line.indexOf(" run=");
            if (at >= 0)
                runs.insert(
                    QString::fromUtf8(line.mid(at + 5, line.indexOf(' ', at + 5) - at - 5)));
        }
        return runs;
    }
    /// SIGTERM, then waits for it to finish what it runs; true when it exited by itself with 0.
    bool stop() {
        if (process.state() == QProcess::NotRunning)
            return false;
        process.terminate();
        if (!process.waitForFinished(20000))
            return false;
        out += process.readAllStandardOutput();
        err += process.readAllStandardError();
        return process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    }

    QProcess process;
    QByteArray out;
    QByteArray err;
};

/// Runs keepflowctl to its end; its stdout, or nullopt (with a failed QTest check) otherwise.
std::optional<QByteArray> ctl(const QStringList &arguments, int expectedExit = 0) {
    QProcess process;
    process.start(kCtl, arguments);
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        QTest::qVerify(false, "keepflowctl finished", qPrintable(arguments.join(u' ')), __FILE__,
                       __LINE__);
        return std::nullopt;
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != expectedExit) {
        QTest::qVerify(false, "keepflowctl exit code",
                       qPrintable(QStringLiteral("keepflowctl %1 exited %2: %3")
                                      .arg(arguments.join(u' '))
                                      .arg(process.exitCode())
                                      .arg(QString::fromUtf8(process.readAllStandardError()))),
                       __FILE__, __LINE__);
        return std::nullopt;
    }
    return process.readAllStandardOutput();
}

/// Submits count runs of a flow file, a few keepflowctl processes at a time; their ids.
QStringList submitRuns(const QString &db, const QString &flowFile, int count) {
    constexpr int kAtOnce = 4;
    QStringList ids;
    std::vector<std::unique_ptr<QProcess>> running;
    auto reap = [&ids](QProcess &process) {
        process.waitForFinished(30000);
        if (process.exitCode() == 0)
            ids << QString::fromUtf8(process.readAllStandardOutput()).trimmed();
        else
            qWarning("submit: %s", process.readAllStandardError().constData());
    };
    for (int i = 0; i < count; ++i) {
        if (static_cast<int>(running.size()) == kAtOnce) {
            reap(*running.front());
            running.erase(running.begin());
        }
        running.push_back(std::make_unique<QProcess>());
        running.back()->start(kCtl,
                              {QStringLiteral("submit"), flowFile, QStringLiteral("--db"), db});
    }
    for (auto &process : running)
        reap(*process);
    return ids;
}

/// Rows of one query on a PostgreSQL database, over a connection of its own (opened for this
/// query: the drills kill connections and restart servers). nullopt when the server does not
/// answer; error says why.
std::optional<QList<QVariantList>> queryRows(const QString &url, const QString &sql,
                                             QString *error = nullptr) {
    const auto address = parseDatabaseAddress(url);
    if (!address || !address->isPostgres()) {
        if (error)
            *error = QStringLiteral("not a PostgreSQL URL: ") + url;
        return std::nullopt;
    }
    const QString connection = QStringLiteral("scaleout-%1").arg(QUuid::createUuid().toString());
    std::optional<QList<QVariantList>> rows;
    {
        QSqlDatabase db = postgresConnection(*address, connection);
        db.setConnectOptions(QStringLiteral("connect_timeout=5"));
        if (!db.open()) {
            if (error)
                *error = db.lastError().text();
        } else {
            QSqlQuery query(db);
            query.setForwardOnly(true);
            if (!query.exec(sql)) {
                if (error)
                    *error = query.lastError().text();
            } else {
                rows.emplace();
                while (query.next()) {
                    QVariantList row;
                    for (int c = 0; c < query.record().count(); ++c)
                        row << query.value(c);
                    rows->append(row);
                }
            }
        }
    }
    QSqlDatabase::removeDatabase(connection);
    return rows;
}

/// The rows of a query that must work; a failed check and no rows otherwise.
QList<QVariantList> rowsOf(const QString &url, const QString &sql) {
    QString error;
    auto rows = queryRows(url, sql, &error);
    if (!rows) {
        QTest::qVerify(false, "query", qPrintable(sql + QStringLiteral(": ") + error), __FILE__,
                       __LINE__);
        return {};
    }
    return *rows;
}

/// One number a query gives (a count), -1 when the server does not answer.
qint64 numberOf(const QString &url, const QString &sql) {
    auto rows = queryRows(url, sql);
    return rows && !rows->isEmpty() ? rows->first().value(0).toLongLong() : -1;
}

QString describeRows(const QList<QVariantList> &rows) {
    QStringList lines;
    for (const QVariantList &row : rows) {
        QStringList cells;
        for (const QVariant &cell : row)
            cells << (cell.isNull() ? QStringLiteral("NULL") : cell.toString());
        lines << cells.join(QStringLiteral(" | "));
    }
    return lines.join(u'\n');
}

bool writeFile(const QString &path, const QByteArray &bytes) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    return file.write(bytes) == bytes.size();
}

/// A shell step that appends its idempotency key to effectsPath, after `before` (shell code).
QString keyAppendingStep(const QString &id, const QStringList &after, const QString &effectsPath,
                         const QString &before = {}, const QString &extra = {}) {
    QStringList quoted;
    for (const QString &a : after)
        quoted << QLatin1Char('"') + a + QLatin1Char('"');
    return QStringLiteral(R"({ "id": "%1", "kind": "shell", "after": [%2], %5
        "retry": { "max_attempts": 10 },
        "with": { "argv": ["sh", "-c", "%3printf '%s\\n' \"$KEEPFLOW_IDEMPOTENCY_KEY\" >> '%4'"] } })")
        .arg(id, quoted.join(QStringLiteral(", ")), before, effectsPath, extra);
}

QByteArray flowJson(const QString &name, const QStringList &steps) {
    return QStringLiteral(R"({ "keepflow": 1, "name": "%1", "steps": [
%2 ] })")
        .arg(name, steps.join(QStringLiteral(",\n")))
        .toUtf8();
}

QStringList effectLines(const QString &path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QStringList lines;
    for (const QByteArray &line : file.readAll().split('\n'))
        if (!line.isEmpty())
            lines << QString::fromUtf8(line);
    return lines;
}

/// Step generations (or foreach items) that succeeded more than once: must be none.
const char *const kSucceededTwice =
    "SELECT run_id, step_id, item_key, generation, count(*) FROM attempts "
    "WHERE outcome = 'succeeded' GROUP BY run_id, step_id, item_key, generation "
    "HAVING count(*) > 1";

/// Everything a run has in the database but its lease time, row by row.
QString runSnapshot(const QString &url, const QString &runId) {
    const QString id = QLatin1Char('\'') + runId + QLatin1Char('\''); // hex digits
    QStringList parts;
    for (const QString &sql :
         {QStringLiteral("SELECT id, state, owner, paused, lease_epoch, adoptions, ended_at "
                         "FROM runs WHERE id = %1"),
          QStringLiteral("SELECT * FROM step_runs WHERE run_id = %1 ORDER BY step_id"),
          QStringLiteral("SELECT * FROM attempts WHERE run_id = %1 ORDER BY step_id, item_key, "
                         "generation, number"),
          QStringLiteral("SELECT * FROM items WHERE run_id = %1 ORDER BY 1, 2, 3"),
          QStringLiteral("SELECT id, run_id, step_id, type, detail FROM events WHERE run_id = %1 "
                         "ORDER BY id")})
        parts << describeRows(rowsOf(url, sql.arg(id)));
    parts << describeRows(rowsOf(url, QStringLiteral("SELECT count(*), max(id) FROM events")));
    return parts.join(QStringLiteral("\n--\n"));
}

QString pgBin() {
    QDir lib(QStringLiteral("/usr/lib/postgresql"));
    QStringList versions = lib.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(versions.begin(), versions.end(),
              [](const QString &a, const QString &b) { return a.toInt() < b.toInt(); });
    return versions.isEmpty() ? QString() : lib.filePath(versions.last() + QStringLiteral("/bin"));
}

/// A database of its own on the server at serverUrl.
QString createDatabaseOn(const QString &serverUrl) {
    const QString name =
        QStringLiteral("kf_%1").arg(QUuid::createUuid().toString(QUuid::Id128).left(16));
    if (!queryRows(serverUrl, QStringLiteral("CREATE DATABASE ") + name))
        return {};
    const auto address = parseDatabaseAddress(serverUrl);
    return QStringLiteral("postgresql:///%1?host=%2").arg(name, address->host);
}

/// The worker id's pid part ("host:pid:random").
qint64 pidOfWorkerId(const QString &workerId) {
    const QStringList parts = workerId.split(u':');
    return parts.size() >= 3 ? parts[parts.size() - 2].toLongLong() : -1;
}

} // namespace

class TestScaleout : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void claimRaceFourWorkers();
    void zombieIsFencedOut();
    void sigkillDrillThreeWorkers();
    void workersSurviveServerRestartAndKilledConnections();
};

void TestScaleout::initTestCase() {
    if (!testsOnPostgres())
        QSKIP("several workers share a database only on PostgreSQL: run tst_scaleout_postgresql "
              "(KEEPFLOW_TEST_POSTGRES names the suite's server)");
}

void TestScaleout::claimRaceFourWorkers() {
    constexpr int kRuns = 100;
    constexpr int kWorkers = 4;
    QTemporaryDir dir;
    const QString db = newTestDatabase(dir, QStringLiteral("race.db"));
    const QString flowFile = dir.filePath(QStringLiteral("chain.flow.json"));
    QVERIFY(writeFile(flowFile, flowJson(QStringLiteral("noop-chain"),
                                         {QStringLiteral(R"({ "id": "a", "kind": "noop" })"),
                                          QStringLiteral(R"({ "id": "b", "kind": "noop", )"
                                                         R"("after": ["a"] })"),
                                          QStringLiteral(R"({ "id": "c", "kind": "noop", )"
                                                         R"("after": ["b"] })")})));
    const QStringList runIds = submitRuns(db, flowFile, kRuns);
    QCOMPARE(runIds.size(), kRuns);

    // All four at once, on a hundred runs waiting: they race for the same rows.
    std::vector<std::unique_ptr<Worker>> workers;
    for (int w = 0; w < kWorkers; ++w)
        workers.push_back(std::make_unique<Worker>(db, 10));
    for (auto &worker : workers)
        QVERIFY(worker->process.waitForStarted());
    const QString succeeded = QStringLiteral("SELECT count(*) FROM runs WHERE state = 'succeeded'");
    QVERIFY2(eventually([&] { return numberOf(db, succeeded) == kRuns; }, 30000),
             qPrintable(describeRows(
                 rowsOf(db, QStringLiteral("SELECT id, state, owner FROM runs WHERE state <> "
                                           "'succeeded'")))));
    // Nothing was left that a worker still holds: a run is let go of when it finishes.
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM runs WHERE owner IS NOT NULL")), 0);
    for (auto &worker : workers)
        QVERIFY2(worker->stop(), worker->err.constData());

    // Each run was claimed once, by one worker, and executed by that worker alone.
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM runs WHERE adoptions > 0")), 0);
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM runs WHERE lease_epoch <> 1")), 0);
    const auto twoWorkers =
        rowsOf(db, QStringLiteral("SELECT run_id, string_agg(DISTINCT worker, ' ') FROM attempts "
                                  "GROUP BY run_id HAVING count(DISTINCT worker) <> 1"));
    QVERIFY2(twoWorkers.isEmpty(), qPrintable(describeRows(twoWorkers)));
    // Resumed once, by the worker that made its attempts.
    const auto resumptions = rowsOf(
        db, QStringLiteral("SELECT r.run_id, count(*), min(r.detail::json->>'worker'), "
                           "min(a.worker) FROM events r JOIN (SELECT DISTINCT run_id, worker "
                           "FROM attempts) a ON a.run_id = r.run_id WHERE r.type = "
                           "'run_resumed' GROUP BY r.run_id"));
    QCOMPARE(resumptions.size(), kRuns);
    for (const QVariantList &row : resumptions) {
        QVERIFY2(row[1].toInt() == 1, qPrintable(row[0].toString() + QStringLiteral(" resumed ") +
                                                 row[1].toString() + QStringLiteral(" times")));
        QCOMPARE(row[2].toString(), row[3].toString());
    }
    // Every step ran once.
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM step_runs WHERE state = "
                                         "'succeeded' AND attempts = 1")),
             3 * kRuns);
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM attempts WHERE outcome = "
                                         "'succeeded'")),
             3 * kRuns);
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM attempts")), 3 * kRuns);

    // What each process printed agrees: the runs it announced are its own and nobody else's.
    QHash<qint64, QString> workerIdByPid;
    for (const QVariantList &row :
         rowsOf(db, QStringLiteral("SELECT DISTINCT worker FROM attempts")))
        workerIdByPid.insert(pidOfWorkerId(row[0].toString()), row[0].toString());
    QHash<QString, int> printedBy;
    QStringList share;
    for (int w = 0; w < kWorkers; ++w) {
        const QSet<QString> runs = workers[w]->runsLogged();
        for (const QString &run : runs) {
            QVERIFY2(!printedBy.contains(run),
                     qPrintable(QStringLiteral("run %1 printed by workers %2 and %3")
                                    .arg(run)
                                    .arg(printedBy.value(run))
                                    .arg(w)));
            printedBy.insert(run, w);
        }
        share << QString::number(runs.size());
    }
    QCOMPARE(printedBy.size(), kRuns);
    qInfo("runs per worker: %s", qPrintable(share.join(QStringLiteral(", "))));
    // The claims were shared: 100 runs, at most 32 to a claim, four workers started together.
    QVERIFY2(workerIdByPid.size() > 1, "one worker took every run");
}

void TestScaleout::zombieIsFencedOut() {
    QTemporaryDir dir;
    const QString db = newTestDatabase(dir, QStringLiteral("zombie.db"));
    const QString effects = dir.filePath(QStringLiteral("effects.log"));
    const QString flowFile = dir.filePath(QStringLiteral("zombie.flow.json"));
    QVERIFY(writeFile(flowFile, flowJson(QStringLiteral("zombie"),
                                         {keyAppendingStep(QStringLiteral("slow"), {}, effects,
                                                           QStringLiteral("sleep 1; ")),
                                          QStringLiteral(R"({ "id": "after", "kind": "noop", )"
                                                         R"("after": ["slow"] })")})));
    const auto submitted = ctl({QStringLiteral("submit"), flowFile, QStringLiteral("--db"), db});
    QVERIFY(submitted);
    const QString runId = QString::fromUtf8(*submitted).trimmed();
    const QString quotedId = QLatin1Char('\'') + runId + QLatin1Char('\'');

    // A takes the run and starts the slow step (its start is committed: it printed it).
    Worker a(db, 2);
    QVERIFY(a.process.waitForStarted());
    QVERIFY2(
        eventually([&] { return a.err.contains(" step=slow ") && a.err.contains("attempt 1/"); },
                   15000),
        a.err.constData());
    const auto held =
        ctl({QStringLiteral("workers"), QStringLiteral("--json"), QStringLiteral("--db"), db});
    QVERIFY(held);
    QVERIFY2(held->contains(runId.toUtf8()) && held->contains(QByteArray::number(a.pid())),
             held->constData());
    const QString ownerA =
        rowsOf(db, QStringLiteral("SELECT owner FROM runs WHERE id = %1").arg(quotedId))
            .value(0)
            .value(0)
            .toString();
    QCOMPARE(pidOfWorkerId(ownerA), a.pid());

    // A stops dead (not dead: stopped, its process and pid live on). Its step's shell goes on
    // and appends its key while A sleeps.
    a.signal(SIGSTOP);
    auto resumeA = qScopeGuard([&a] { a.signal(SIGCONT); });
    Worker b(db, 2);
    QVERIFY(b.process.waitForStarted());
    // B takes the run over once A's lease has lapsed by the server's clock, records A's attempt
    // cut off and runs it again with the same key.
    QVERIFY2(eventually(
                 [&] {
                     return numberOf(db, QStringLiteral("SELECT count(*) FROM runs WHERE id = %1 "
                                                        "AND state = 'succeeded'")
                                             .arg(quotedId)) == 1;
                 },
                 20000),
             qPrintable(b.err + runSnapshot(db, runId)));
    const auto run =
        rowsOf(db, QStringLiteral("SELECT owner, lease_epoch, adoptions FROM runs WHERE id = %1")
                       .arg(quotedId));
    QCOMPARE(run.size(), 1);
    QVERIFY(run[0][0].isNull());         // let go of when it finished
    QCOMPARE(run[0][1].toLongLong(), 2); // claimed by A, then by B
    QCOMPARE(run[0][2].toInt(), 1);      // one take-over
    const auto attempts = rowsOf(
        db, QStringLiteral("SELECT step_id, number, worker, outcome, idempotency_key, "
                           "lease_epoch FROM attempts WHERE run_id = %1 ORDER BY step_id, number")
                .arg(quotedId));
    QVERIFY2(attempts.size() == 3, qPrintable(describeRows(attempts)));
    // "after" sorts before "slow".
    QCOMPARE(attempts[0][0].toString(), QStringLiteral("after"));
    QCOMPARE(pidOfWorkerId(attempts[0][2].toString()), b.pid());
    QCOMPARE(attempts[1][0].toString(), QStringLiteral("slow"));
    QCOMPARE(attempts[1][1].toInt(), 1);
    QCOMPARE(attempts[1][2].toString(), ownerA);
    QCOMPARE(attempts[1][3].toString(), QStringLiteral("crashed"));
    QCOMPARE(attempts[1][5].toLongLong(), 1);
    QCOMPARE(attempts[2][1].toInt(), 2);
    QCOMPARE(pidOfWorkerId(attempts[2][2].toString()), b.pid());
    QCOMPARE(attempts[2][3].toString(), QStringLiteral("succeeded"));
    QCOMPARE(attempts[2][5].toLongLong(), 2);
    const QString key = attempts[1][4].toString();
    QCOMPARE(attempts[2][4].toString(), key); // retried with the same key
    const QString before = runSnapshot(db, runId);

    // A wakes: its step's process ended while it slept, so it has a completion to commit, which
    // the fence refuses. It says so, and writes nothing.
    resumeA.dismiss();
    a.signal(SIGCONT);
    QVERIFY2(eventually([&] { return a.err.contains("was taken over by another worker"); }, 15000),
             a.err.constData());
    QVERIFY2(a.err.contains(runId.toUtf8()), a.err.constData());
    qInfo("A: %s", a.err.mid(a.err.indexOf("WARNING run ")).trimmed().constData());
    QVERIFY2(a.stop(), a.err.constData()); // and stops cleanly: everything it did is on disk
    QCOMPARE(runSnapshot(db, runId), before);
    QVERIFY2(!a.err.contains("succeeded"), a.err.constData()); // A never committed a success
    QVERIFY2(b.stop(), b.err.constData());
    QCOMPARE(runSnapshot(db, runId), before);

    // The effect happened twice, both times under the same key: a keyed system sees it once.
    QCOMPARE(effectLines(effects), QStringList({key, key}));
}

void TestScaleout::sigkillDrillThreeWorkers() {
    constexpr int kRuns = 20;
    constexpr int kWorkers = 3;
    constexpr int kKills = 8;
    constexpr int kItems = 4;
    const quint32 seed =
        qEnvironmentVariableIsSet("KEEPFLOW_SCALEOUT_SEED")
            ? static_cast<quint32>(qEnvironmentVariableIntValue("KEEPFLOW_SCALEOUT_SEED"))
            : QRandomGenerator::global()->generate();
    qInfo("seed %u (set KEEPFLOW_SCALEOUT_SEED to replay the kill pattern)", seed);
    QRandomGenerator random(seed);
    QTemporaryDir dir;
    const QString db = newTestDatabase(dir, QStringLiteral("drill.db"));
    const QString effects = dir.filePath(QStringLiteral("effects.log"));
    const QString flowFile = dir.filePath(QStringLiteral("drill.flow.json"));
    // A step's work takes a while, so that the kills land inside attempts too.
    const QString work = QStringLiteral("sleep 0.2; ");
    QStringList items;
    for (int i = 0; i < kItems; ++i)
        items << QStringLiteral("\"item-%1\"").arg(i);
    QVERIFY(writeFile(
        flowFile,
        flowJson(
            QStringLiteral("drill"),
            {keyAppendingStep(QStringLiteral("start"), {}, effects, work),
             keyAppendingStep(QStringLiteral("fan"), {QStringLiteral("start")}, effects, work,
                              QStringLiteral(R"("foreach": [%1], "item_key": "{{item}}", )"
                                             R"("concurrency": 1,)")
                                  .arg(items.join(QStringLiteral(", ")))),
             keyAppendingStep(QStringLiteral("left"), {QStringLiteral("fan")}, effects, work),
             keyAppendingStep(QStringLiteral("right"), {QStringLiteral("fan")}, effects, work),
             keyAppendingStep(QStringLiteral("finish"),
                              {QStringLiteral("left"), QStringLiteral("right")}, effects, work)})));
    constexpr int kEffectsPerRun = 4 + kItems;
    QStringList runIds = submitRuns(db, flowFile, kRuns);
    QCOMPARE(runIds.size(), kRuns);

    std::vector<std::unique_ptr<Worker>> workers; // the live ones
    std::vector<std::unique_ptr<Worker>> killed;
    for (int w = 0; w < kWorkers; ++w)
        workers.push_back(std::make_unique<Worker>(db, 2));
    auto progress = [&] {
        int lines = 0;
        for (auto &w : workers)
            lines += w->lines();
        for (auto &w : killed)
            lines += w->lines();
        return lines;
    };
    const QString notSucceeded =
        QStringLiteral("SELECT count(*) FROM runs WHERE state <> 'succeeded'");
    int kills = 0;
    QSet<QString> unpaused;
    // A kill every 20 to 50 lines of progress (of some 500 in all).
    int killAt = 20 + static_cast<int>(random.bounded(30));
    QElapsedTimer timer;
    timer.start();
    // A loaded machine may finish the runs before the drill has killed enough: then another
    // wave of runs, so that how many kills land does not depend on the machine's speed.
    constexpr int kMinKills = 4;
    constexpr int kMaxWaves = 4;
    int waves = 1;
    for (;;) {
        if (numberOf(db, notSucceeded) == 0) {
            if (kills >= kMinKills || waves == kMaxWaves)
                break;
            const QStringList more = submitRuns(db, flowFile, kRuns);
            QCOMPARE(more.size(), kRuns);
            runIds += more;
            ++waves;
        }
        QVERIFY2(timer.elapsed() < 45000 * waves,
                 qPrintable(describeRows(rowsOf(
                     db, QStringLiteral("SELECT id, state, owner, paused, adoptions FROM runs "
                                        "WHERE state <> 'succeeded'")))));
        if (kills < kKills && progress() >= killAt) {
            // kill -9 one of them, at once a replacement: it takes over what the dead one held
            // (same host, its pid gone) and carries on.
            // The victim is one that holds runs when there is one (killing an idle worker
            // cuts nothing off): a holder's id is host:pid:random.
            QList<quint32> holders;
            const auto owners = rowsOf(
                db, QStringLiteral("SELECT DISTINCT owner FROM runs WHERE owner IS NOT NULL"));
            for (quint32 w = 0; w < workers.size(); ++w) {
                for (const QVariantList &owner : owners) {
                    if (owner[0].toString().section(QLatin1Char(':'), 1, 1).toLongLong() ==
                        workers[w]->process.processId())
                        holders << w;
                }
            }
            const auto victim = holders.isEmpty()
                                    ? random.bounded(static_cast<quint32>(workers.size()))
                                    : holders[static_cast<qsizetype>(
                                          random.bounded(static_cast<quint32>(holders.size())))];
            workers[victim]->process.kill();
            workers[victim]->process.waitForFinished();
            killed.push_back(std::move(workers[victim]));
            workers.erase(workers.begin() + victim);
            workers.push_back(std::make_unique<Worker>(db, 2));
            ++kills;
            killAt = progress() + 20 + static_cast<int>(random.bounded(30));
        }
        // Runs taken over more often than the adoption limit wait for an operator: the drill's.
        for (const QVariantList &row :
             rowsOf(db, QStringLiteral("SELECT id FROM runs WHERE paused <> 0"))) {
            const QString id = row[0].toString();
            QVERIFY(ctl({QStringLiteral("unpause"), id, QStringLiteral("--reason"),
                         QStringLiteral("drill: the kills were on purpose"), QStringLiteral("--db"),
                         db}));
            unpaused.insert(id);
        }
        QTest::qWait(50);
    }
    for (auto &worker : workers)
        QVERIFY2(worker->stop(), worker->err.constData());
    const qint64 crashed =
        numberOf(db, QStringLiteral("SELECT count(*) FROM attempts WHERE outcome = 'crashed'"));
    qInfo("%d progress lines in %lld ms", progress(), static_cast<long long>(timer.elapsed()));
    qInfo("%d kills over %d wave(s) of runs, %lld attempts cut off and retried, %lld runs "
          "unpaused after the adoption limit paused them",
          kills, waves, crashed, static_cast<long long>(unpaused.size()));
    QVERIFY2(kills >= kMinKills, "the drill ended before it killed much");
    QVERIFY2(crashed > 0, "no kill landed inside an attempt");

    const auto twice = rowsOf(db, QString::fromLatin1(kSucceededTwice));
    QVERIFY2(twice.isEmpty(), qPrintable(describeRows(twice)));
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM step_runs WHERE state = "
                                         "'succeeded'")),
             5 * runIds.size());
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM items WHERE state = "
                                         "'succeeded'")),
             kItems * runIds.size());
    // The effects: each under the key its successful attempt had, no key the engine never gave.
    const QStringList lines = effectLines(effects);
    const QSet<QString> effectKeys(lines.begin(), lines.end());
    QSet<QString> succeededKeys;
    QSet<QString> allKeys;
    for (const QVariantList &row :
         rowsOf(db, QStringLiteral("SELECT idempotency_key, outcome FROM attempts"))) {
        allKeys.insert(row[0].toString());
        if (row[1].toString() == QLatin1String("succeeded"))
            succeededKeys.insert(row[0].toString());
    }
    QCOMPARE(succeededKeys.size(), kEffectsPerRun * runIds.size());
    for (const QString &key : succeededKeys)
        QVERIFY2(effectKeys.contains(key), qPrintable(key + QStringLiteral(" had no effect")));
    for (const QString &key : effectKeys)
        QVERIFY2(allKeys.contains(key), qPrintable(key + QStringLiteral(" is no attempt's key")));
    QCOMPARE(effectKeys.size(), kEffectsPerRun * runIds.size());
    // The engine's own check of the database agrees.
    QVERIFY(ctl({QStringLiteral("check"), QStringLiteral("--db"), db}));
}

void TestScaleout::workersSurviveServerRestartAndKilledConnections() {
    constexpr int kRuns = 30;
    constexpr int kSteps = 5;
    const QString pgserver = QStringLiteral(KEEPFLOW_PGSERVER);
    if (pgBin().isEmpty())
        QSKIP("no PostgreSQL server binaries under /usr/lib/postgresql");
    // A server of this test's own: restarting the suite's would cut off the other tests.
    const OwnPostgresServer server(pgserver);
    QVERIFY2(server.isRunning(), qPrintable(server.error()));
    const QString serverDir = server.directory();
    const QString serverUrl = server.url();
    const QString db = createDatabaseOn(serverUrl);
    QVERIFY2(!db.isEmpty(), qPrintable(serverUrl));

    QTemporaryDir dir;
    const QString effects = dir.filePath(QStringLiteral("effects.log"));
    const QString flowFile = dir.filePath(QStringLiteral("chain.flow.json"));
    QStringList steps;
    for (int s = 0; s < kSteps; ++s)
        steps << keyAppendingStep(QStringLiteral("s%1").arg(s),
                                  s ? QStringList{QStringLiteral("s%1").arg(s - 1)} : QStringList{},
                                  effects, QStringLiteral("sleep 0.3; "));
    QVERIFY(writeFile(flowFile, flowJson(QStringLiteral("restart-drill"), steps)));
    const QStringList runIds = submitRuns(db, flowFile, kRuns);
    QCOMPARE(runIds.size(), kRuns);

    std::vector<std::unique_ptr<Worker>> workers;
    for (int w = 0; w < 2; ++w)
        workers.push_back(std::make_unique<Worker>(db, 2));
    auto lines = [&] { return workers[0]->lines() + workers[1]->lines(); };
    auto reconnects = [&](int w) {
        return static_cast<int>(workers[w]->err.count("reconnecting in 1 s"));
    };
    const QString succeeded = QStringLiteral("SELECT count(*) FROM runs WHERE state = 'succeeded'");

    // Some way in, every connection of the workers is cut. (Both are up first: a worker whose
    // first connection fails stops, as it should with a wrong URL.)
    QVERIFY(eventually(
        [&] {
            return workers[0]->err.contains("worker on") && workers[1]->err.contains("worker on");
        },
        20000));
    QVERIFY(eventually([&] { return lines() >= 40; }, 20000));
    const qint64 terminated = numberOf(
        db, QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = 'keepflow' AND pid <> pg_backend_pid()"));
    QVERIFY2(terminated >= 2, qPrintable(QString::number(terminated)));
    QVERIFY2(eventually([&] { return reconnects(0) >= 1 && reconnects(1) >= 1; }, 15000),
             qPrintable(QString::fromUtf8(workers[0]->err + workers[1]->err)));

    // They carry on; later the server itself goes down hard and comes back.
    const int linesAfterCut = lines();
    QVERIFY2(eventually([&] { return lines() >= linesAfterCut + 30; }, 20000),
             qPrintable(QString::fromUtf8(workers[0]->err + workers[1]->err)));
    QVERIFY2(numberOf(db, succeeded) < kRuns, "finished before the restart: make the runs longer");
    QProcess restart;
    restart.start(pgserver, {QStringLiteral("restart"), serverDir});
    QVERIFY(restart.waitForFinished(60000));
    QVERIFY2(restart.exitCode() == 0, restart.readAllStandardError().constData());
    // Back on the same socket.
    QCOMPARE(numberOf(db, QStringLiteral("SELECT 1")), 1);
    QVERIFY2(eventually([&] { return reconnects(0) >= 2 && reconnects(1) >= 2; }, 15000),
             qPrintable(QString::fromUtf8(workers[0]->err + workers[1]->err)));

    QVERIFY2(eventually([&] { return numberOf(db, succeeded) == kRuns; }, 40000),
             qPrintable(describeRows(
                 rowsOf(db, QStringLiteral("SELECT id, state, owner, paused, adoptions FROM runs "
                                           "WHERE state <> 'succeeded'")))));
    for (auto &worker : workers) {
        QVERIFY(worker->running()); // it reconnected; the lost connection did not end it
        QVERIFY2(worker->stop(), worker->err.constData());
    }
    const auto twice = rowsOf(db, QString::fromLatin1(kSucceededTwice));
    QVERIFY2(twice.isEmpty(), qPrintable(describeRows(twice)));
    QCOMPARE(numberOf(db, QStringLiteral("SELECT count(*) FROM step_runs WHERE state = "
                                         "'succeeded'")),
             kSteps * kRuns);
    const QStringList effectList = effectLines(effects);
    const QSet<QString> effectKeys(effectList.begin(), effectList.end());
    QCOMPARE(effectKeys.size(), kSteps * kRuns);
    for (const QVariantList &row :
         rowsOf(db, QStringLiteral("SELECT idempotency_key FROM attempts WHERE outcome = "
                                   "'succeeded'")))
        QVERIFY2(effectKeys.contains(row[0].toString()), qPrintable(row[0].toString()));
    qInfo("%lld connections cut; reconnects: %d and %d; %lld attempts cut off, %lld effects "
          "repeated under their key",
          terminated, reconnects(0), reconnects(1),
          numberOf(db, QStringLiteral("SELECT count(*) FROM attempts WHERE outcome = 'crashed'")),
          static_cast<long long>(effectList.size() - effectKeys.size()));
    QVERIFY(ctl({QStringLiteral("check"), QStringLiteral("--db"), db}));
}

QTEST_GUILESS_MAIN(TestScaleout)
#include "tst_scaleout.moc"
