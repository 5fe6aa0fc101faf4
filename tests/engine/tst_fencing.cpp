// Several workers on one database: a worker that lost its lease writes nothing more of the run
// (every commit is fenced by the run's lease epoch), leases expire by the database's clock, and
// the change feed never skips an event of a transaction that commits late. On SQLite and, with
// KEEPFLOW_TEST_POSTGRES, on PostgreSQL.

#include "api/changefeed.h"
#include "harness.h"

#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>

namespace {

const QByteArray kDelayedFlow =
    flow(R"({ "id": "wait", "kind": "delay", "with": { "duration": "10s" } },
    { "id": "then", "kind": "noop", "after": ["wait"] })");

/// A second worker process on the harness's database, with a clock of its own.
struct OtherWorker {
    ManualClock clock;
    std::unique_ptr<Store> store;
    std::unique_ptr<Engine> engine;

    OtherWorker(const QString &database, qint64 now, const QString &id)
        : clock(now) {
        auto opened = Store::open(database);
        QVERIFY2(opened, qPrintable(opened.error()));
        store = std::move(*opened);
        Engine::Options options;
        options.workerId = id;
        options.ownerIsDead = [](const QString &) { return false; }; // only expiry frees a run
        engine = std::make_unique<Engine>(*store, clock, StepKindRegistry::withBuiltins(), options);
    }
};

/// Everything of the run an engine could write, as text: the run row, step rows, attempt rows
/// and the number of events.
QStringList snapshot(Store &store, const QString &run) {
    const RunRow row = *store.run(run);
    QStringList state{stateName(row.state), row.owner, QString::number(row.leaseEpoch)};
    const QList<StepRunRow> steps = *store.stepRuns(run);
    for (const StepRunRow &step : steps)
        state << QStringLiteral("%1=%2/%3")
                     .arg(step.stepId, stateName(step.state))
                     .arg(step.attempts);
    const QList<AttemptRow> attempts = *store.attempts(run);
    for (const AttemptRow &attempt : attempts)
        state << QStringLiteral("%1#%2 %3 epoch %4")
                     .arg(attempt.stepId)
                     .arg(attempt.number)
                     .arg(attempt.worker)
                     .arg(attempt.leaseEpoch);
    state << QString::number(store.events(run)->size());
    return state;
}

} // namespace

class TestFencing : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aWorkerThatLostItsLeaseWritesNothingMore();
    void aClaimTakesOnlyWhatThereIsRoomFor();
    void aClockAheadStealsNothing();
    void theFeedNeverSkipsATransactionThatCommitsLate();
};

void TestFencing::aWorkerThatLostItsLeaseWritesNothingMore() {
    Harness zombie;
    zombie.leaseMs = 1; // its lease lapses at once (as if it were paused past it)
    zombie.crashAndRestart();
    const QString run = zombie.start(kDelayedFlow);
    QCOMPARE(zombie.store->run(run)->leaseEpoch, 1);

    // Another worker takes the run over: a new epoch; the zombie's memory still has epoch 1.
    OtherWorker adopter(zombie.dbPath(), zombie.clock.nowMs() + 10, QStringLiteral("adopter"));
    QCOMPARE(*adopter.engine->adoptAvailable(), 1);
    QCOMPARE(zombie.store->run(run)->owner, QStringLiteral("adopter"));
    QCOMPARE(zombie.store->run(run)->leaseEpoch, 2);
    QCOMPARE(zombie.store->run(run)->adoptions, 1);
    const QStringList adopted = snapshot(*zombie.store, run);

    // The zombie wakes: its delay is due, and it commits the step's success and the next
    // step's start. The fence refuses every row of the run; the run is dropped from its memory.
    QSignalSpy lost(zombie.engine.get(), &Engine::runLost);
    zombie.advance(20'000);
    QCOMPARE(lost.size(), 1);
    QCOMPARE(lost.first().first().toString(), run);
    QVERIFY(!zombie.engine->loadedRunIds().contains(run));
    QCOMPARE(snapshot(*zombie.store, run), adopted);

    // The run ends as if the zombie had never woken: the adopter finishes it.
    adopter.clock.advance(20'000);
    QVERIFY(adopter.engine->pump());
    QCOMPARE(zombie.runState(run), RunState::Succeeded);
    const QList<AttemptRow> attempts = *zombie.store->attempts(run);
    QCOMPARE(attempts.size(), 2);
    for (const AttemptRow &attempt : attempts) {
        QCOMPARE(attempt.worker, QStringLiteral("adopter"));
        QCOMPARE(attempt.leaseEpoch, 2); // the inspector shows under which lease it ran
    }
}

void TestFencing::aClaimTakesOnlyWhatThereIsRoomFor() {
    Harness h;
    QStringList runs;
    for (int i = 0; i < 5; ++i) {
        auto load = parseFlow(kDelayedFlow, QStringLiteral("t.flow.json"));
        auto id = h.engine->createRun(*load.flow, {}, {}, false); // submitted, not executed
        QVERIFY2(id, qPrintable(id.error()));
        runs << *id;
    }
    Engine::Options options;
    options.workerId = QStringLiteral("small");
    options.maxLoadedRuns = 3;
    options.claimBatch = 2;
    Engine small(*h.store, h.clock, StepKindRegistry::withBuiltins(), options);
    QCOMPARE(*small.adoptAvailable(), 2); // one claim: a batch
    QCOMPARE(*small.adoptAvailable(), 1); // room for one more
    QCOMPARE(*small.adoptAvailable(), 0); // full: the rest is left for other workers
    int unowned = 0;
    for (const QString &run : runs)
        unowned += h.store->run(run)->owner.isEmpty() ? 1 : 0;
    QCOMPARE(unowned, 2);
}

void TestFencing::aClockAheadStealsNothing() {
    if (!testsOnPostgres())
        QSKIP("SQLite lives on one host: its workers share one clock");
    Harness holder; // the server's clock times its lease: 30 s from now
    holder.clock.set(QDateTime::currentMSecsSinceEpoch());
    const QString run = holder.start(kDelayedFlow);
    OtherWorker ahead(holder.dbPath(), QDateTime::currentMSecsSinceEpoch() + 3'600'000,
                      QStringLiteral("an-hour-ahead"));
    QCOMPARE(*ahead.engine->adoptAvailable(), 0);
    const auto claimed = ahead.engine->adopt(run);
    QVERIFY(claimed);
    QVERIFY(!*claimed);
    QCOMPARE(holder.store->run(run)->owner, QStringLiteral("test-worker-1"));
    QCOMPARE(holder.store->run(run)->leaseEpoch, 1);
}

void TestFencing::theFeedNeverSkipsATransactionThatCommitsLate() {
    if (!testsOnPostgres())
        QSKIP("SQLite commits one writer at a time: ids become visible in order");
    Harness h;
    const auto address = parseDatabaseAddress(h.dbPath());
    QVERIFY(address);
    const auto connectTo = [&address](const QString &name) {
        return postgresConnection(*address, name);
    };
    {
        QSqlDatabase early = connectTo(QStringLiteral("early"));
        QSqlDatabase late = connectTo(QStringLiteral("late"));
        QVERIFY(early.open() && late.open());
        auto feedStore = Store::open(h.dbPath());
        QVERIFY(feedStore);
        ChangeFeed feed(**feedStore);
        QVERIFY(feed.startFromNow());
        QStringList seen;
        QObject::connect(&feed, &ChangeFeed::eventsArrived, [&seen](const QList<EventRow> &events) {
            for (const EventRow &event : events)
                seen << event.actor;
        });
        const auto insert = [](QSqlDatabase &db, const QString &actor) {
            QSqlQuery query(db);
            query.prepare(QStringLiteral("INSERT INTO events (at, type, actor, detail) VALUES "
                                         "(1, 'resource_paused', ?, '{}')"));
            query.addBindValue(actor);
            QVERIFY2(query.exec(), qPrintable(query.lastError().text()));
        };
        // The early transaction takes the lower id and commits last.
        QVERIFY(QSqlQuery(early).exec(QStringLiteral("BEGIN")));
        insert(early, QStringLiteral("early"));
        QVERIFY(QSqlQuery(late).exec(QStringLiteral("BEGIN")));
        insert(late, QStringLiteral("late"));
        QVERIFY(QSqlQuery(late).exec(QStringLiteral("COMMIT")));
        QVERIFY(feed.poll());
        // Reading "late" now and moving past its id would lose "early" for good: held back.
        QCOMPARE(seen, QStringList());
        QVERIFY(QSqlQuery(early).exec(QStringLiteral("COMMIT")));
        QVERIFY(eventually([&feed, &seen] { return feed.poll() && seen.size() >= 2; }));
        QCOMPARE(seen, (QStringList{QStringLiteral("early"), QStringLiteral("late")}));
        QVERIFY(feed.poll());
        QCOMPARE(seen.size(), 2); // each once
    }
    QSqlDatabase::removeDatabase(QStringLiteral("early"));
    QSqlDatabase::removeDatabase(QStringLiteral("late"));
}

QTEST_GUILESS_MAIN(TestFencing)
#include "tst_fencing.moc"
