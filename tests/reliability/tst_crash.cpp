// Kill keepflowctl with SIGKILL at random moments while it runs a flow of shell steps that append
// their idempotency key to a file; resume; repeat. Afterwards every step completed, no step ever
// saw two different keys, and the database passes PRAGMA integrity_check.

#include "store/store.h"

#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace keepflow;

namespace {

constexpr int kFanoutItems = 6;
// A run is killed in its first four rounds at most, and every cut-off attempt spends one of a
// step's attempts: with five, every step outlives the drill. That a step cut off more often ends
// failed is tested in tst_engine.
constexpr int kKillingRounds = 4;
constexpr int kMaxAttempts = kKillingRounds + 1;

/// A diamond-shaped flow: a chain, a fan-out of parallel branches, a foreach, and a join. Every
/// step (and item) appends "step[/item] key" to the log.
QByteArray crashFlow(const QString &logPath, int branches) {
    const QString append = QStringLiteral("printf '%s%s %s\\n' \\\"$KEEPFLOW_STEP_ID\\\" "
                                          "\\\"${KEEPFLOW_ITEM_KEY:+/$KEEPFLOW_ITEM_KEY}\\\" "
                                          "\\\"$KEEPFLOW_IDEMPOTENCY_KEY\\\" >> '%1'")
                               .arg(logPath);
    auto step = [&append](const QString &id, const QStringList &after) {
        QString afterJson;
        for (const QString &a : after)
            afterJson += (afterJson.isEmpty() ? QString() : QStringLiteral(", ")) +
                         QLatin1Char('"') + a + QLatin1Char('"');
        return QStringLiteral(
                   R"({ "id": "%1", "kind": "shell", "after": [%2], "retry": { "max_attempts": %4 },
                       "with": { "argv": ["sh", "-c", "%3"] } })")
            .arg(id, afterJson, append)
            .arg(kMaxAttempts);
    };
    QStringList steps{step(QStringLiteral("start"), {}),
                      step(QStringLiteral("prepare"), {QStringLiteral("start")})};
    QStringList joins;
    for (int b = 0; b < branches; ++b) {
        const QString first = QStringLiteral("b%1_one").arg(b);
        const QString second = QStringLiteral("b%1_two").arg(b);
        steps << step(first, {QStringLiteral("prepare")}) << step(second, {first});
        joins << second;
    }
    QString fanout = step(QStringLiteral("fanout"), {QStringLiteral("prepare")});
    QString items;
    for (int item = 0; item < kFanoutItems; ++item)
        items +=
            (item ? QStringLiteral(", ") : QString()) + QStringLiteral("\"item-%1\"").arg(item);
    fanout.replace(
        QStringLiteral(R"("kind": "shell",)"),
        QStringLiteral(
            R"("kind": "shell", "foreach": [%1], "item_key": "{{item}}", "concurrency": 3,)")
            .arg(items));
    steps << fanout;
    joins << QStringLiteral("fanout");
    steps << step(QStringLiteral("finish"), joins);
    return QStringLiteral(R"({ "keepflow": 1, "name": "crash-drill", "steps": [%1] })")
        .arg(steps.join(QStringLiteral(",\n")))
        .toUtf8();
}

} // namespace

class TestCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sigkillAtRandomMomentsLosesNothing();
};

void TestCrash::sigkillAtRandomMomentsLosesNothing() {
    const int runs = qEnvironmentVariableIntValue("KEEPFLOW_CRASH_RUNS") > 0
                         ? qEnvironmentVariableIntValue("KEEPFLOW_CRASH_RUNS")
                         : 40;
    const int branches = 4;
    const int stepCount = 2 + 2 * branches + 1 + 1;
    const int effectCount = stepCount - 1 + kFanoutItems; // the foreach step acts once per item
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("seed %u (set KEEPFLOW_CRASH_SEED to replay)", seed);
    QRandomGenerator random(
        qEnvironmentVariableIsSet("KEEPFLOW_CRASH_SEED")
            ? static_cast<quint32>(qEnvironmentVariableIntValue("KEEPFLOW_CRASH_SEED"))
            : seed);
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("crash.db"));
    int kills = 0;
    int crashedAttempts = 0;
    int pausedByAdoptionLimit = 0;

    for (int r = 0; r < runs; ++r) {
        const QString log = dir.filePath(QStringLiteral("effects-%1.log").arg(r));
        const QString flowFile = dir.filePath(QStringLiteral("crash-%1.flow.json").arg(r));
        QFile file(flowFile);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(crashFlow(log, branches));
        file.close();

        QString runId;
        bool finished = false;
        for (int round = 0; round < 60 && !finished; ++round) {
            QProcess process;
            QStringList arguments = runId.isEmpty() ? QStringList{QStringLiteral("run"), flowFile}
                                                    : QStringList{QStringLiteral("resume"), runId};
            process.start(QStringLiteral(KEEPFLOWCTL_PATH),
                          arguments + QStringList{QStringLiteral("--db"), db});
            QVERIFY(process.waitForStarted());
            // Kill after a random number of progress lines: anywhere from before the first commit
            // to the middle of the run. Later rounds are allowed to finish.
            const int killAfterLines =
                round < kKillingRounds ? static_cast<int>(random.bounded(3 * stepCount)) : -1;
            int lines = 0;
            QByteArray pending;
            bool killed = false;
            while (process.state() != QProcess::NotRunning) {
                if (killAfterLines >= 0 && lines >= killAfterLines) {
                    process.kill(); // SIGKILL: no chance to clean up
                    killed = true;
                    ++kills;
                    break;
                }
                process.waitForReadyRead(100);
                pending += process.readAllStandardOutput();
                lines = static_cast<int>(pending.count('\n'));
                if (runId.isEmpty()) {
                    const auto at = pending.indexOf("run ");
                    const auto end = pending.indexOf(' ', at + 4);
                    if (at >= 0 && end > at && pending.contains("attempt"))
                        runId = QString::fromUtf8(pending.mid(at + 4, end - at - 4));
                }
            }
            process.waitForFinished();
            pending += process.readAllStandardOutput();
            if (runId.isEmpty()) {
                // Killed before it said its id: find the run in the database, if it exists yet.
                auto store = Store::open(db);
                QVERIFY2(store, qPrintable(store.error()));
                const auto rows = (*store)->runs();
                for (const RunRow &row : *rows) {
                    auto steps = (*store)->stepRuns(row.id);
                    if (row.flowName == QLatin1String("crash-drill") && !steps->isEmpty()) {
                        const auto events = (*store)->events(row.id);
                        if (events->first().detail.value(QStringLiteral("source")).toString() ==
                            flowFile)
                            runId = row.id;
                    }
                }
            }
            if (!killed)
                finished = process.exitCode() == 0;
            else if (runId.isEmpty())
                continue; // killed before the run existed: start it again
            auto store = Store::open(db);
            QVERIFY2(store, qPrintable(store.error()));
            QVERIFY((*store)->integrityCheck());
            if (!killed && process.exitCode() == 4 && (*store)->run(runId)->paused) {
                // Taken over more often than the adoption limit: paused for an operator, who
                // unpauses it; the next round resumes it.
                QVERIFY((*store)->run(runId)->adoptions > 3);
                ++pausedByAdoptionLimit;
                QCOMPARE(
                    QProcess::execute(QStringLiteral(KEEPFLOWCTL_PATH),
                                      {QStringLiteral("unpause"), runId, QStringLiteral("--reason"),
                                       QStringLiteral("drill: the kills were on purpose"),
                                       QStringLiteral("--db"), db}),
                    0);
                QCOMPARE((*store)->run(runId)->adoptions, 0);
            }
        }
        QVERIFY2(finished, qPrintable(QStringLiteral("run %1 did not finish").arg(runId)));

        auto store = Store::open(db);
        const auto steps = (*store)->stepRuns(runId);
        QCOMPARE(steps->size(), stepCount);
        const auto attempts = (*store)->attempts(runId);
        for (const AttemptRow &attempt : *attempts) {
            crashedAttempts += attempt.outcome == AttemptOutcome::Crashed ? 1 : 0;
            QVERIFY2(attempt.number <= kMaxAttempts, // the budget holds across kills
                     qPrintable(
                         QStringLiteral("%1 attempt %2").arg(attempt.stepId).arg(attempt.number)));
        }
        for (const StepRunRow &step : *steps)
            QVERIFY2(step.state == StepState::Succeeded,
                     qPrintable(step.stepId + QLatin1Char(' ') + stateName(step.state)));

        QFile effects(log);
        QVERIFY(effects.open(QIODevice::ReadOnly));
        QHash<QString, QSet<QString>> keysByStep;
        for (const QByteArray &line : effects.readAll().split('\n')) {
            if (line.isEmpty())
                continue;
            const QList<QByteArray> parts = line.split(' ');
            QCOMPARE(parts.size(), 2);
            keysByStep[QString::fromUtf8(parts[0])].insert(QString::fromUtf8(parts[1]));
        }
        QCOMPARE(keysByStep.size(), effectCount); // every step's and item's effect happened
        for (auto it = keysByStep.begin(); it != keysByStep.end(); ++it)
            QVERIFY2(it.value().size() == 1,
                     qPrintable(it.key() + QStringLiteral(" saw two keys")));
    }
    qInfo("%d runs paused by the adoption limit and unpaused", pausedByAdoptionLimit);
    qInfo("%d runs, %d kills, %d attempts cut off mid-flight and recovered", runs, kills,
          crashedAttempts);
    QVERIFY(kills >= runs);       // the drill really killed things
    QVERIFY(crashedAttempts > 0); // and some kills landed inside an attempt
}

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
