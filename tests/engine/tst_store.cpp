#include "store/store.h"
#include "tamper.h"

#include <QFile>
#include <QJsonArray>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace keepflow;

namespace {

std::unique_ptr<Store> openOrFail(const QString &path, const StoreOptions &options = {}) {
    auto store = Store::open(path, options);
    if (!store)
        qWarning() << store.error();
    return store ? std::move(*store) : nullptr;
}

/// A run with one step, one attempt and one event, as the engine would write them.
/// owner's claim at now for 10 s; dead: every other holder is known to be gone.
LeaseRequest lease(const QString &owner, qint64 now, bool dead = false) {
    LeaseRequest request;
    request.owner = owner;
    request.leaseMs = 10'000;
    request.now = now;
    request.ownerIsDead = [dead](const QString &) { return dead; };
    return request;
}

Batch sampleBatch(qint64 flowId, const QString &runId) {
    Batch batch;
    RunRow run;
    run.id = runId;
    run.flowId = flowId;
    run.flowName = QStringLiteral("sample");
    run.state = RunState::Running;
    run.params = {{QStringLiteral("date"), QStringLiteral("2026-11-26")}};
    run.createdAt = 1000;
    batch.runs.append(run);
    StepRunRow step;
    step.runId = runId;
    step.stepId = QStringLiteral("fetch");
    step.state = StepState::Retrying;
    step.attempts = 2;
    step.failures = 1;
    step.notBefore = 5000;
    step.startedAt = 1100;
    step.errorClass = ErrorClass::Transient;
    step.error = QStringLiteral("HTTP 503");
    step.output = QJsonArray{1, QStringLiteral("two"), QJsonValue::Null};
    batch.steps.append(step);
    AttemptRow attempt;
    attempt.runId = runId;
    attempt.stepId = QStringLiteral("fetch");
    attempt.number = 1;
    attempt.idempotencyKey = runId + QStringLiteral("/fetch/1");
    attempt.startedAt = 1100;
    batch.attempts.append(attempt);
    EventRow event;
    event.at = 1100;
    event.runId = runId;
    event.stepId = QStringLiteral("fetch");
    event.type = EventType::AttemptStarted;
    event.actor = QStringLiteral("engine");
    event.detail = {{QStringLiteral("attempt"), 1}};
    batch.events.append(event);
    return batch;
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void createsOwnerOnlyFiles();
    void usesWriteAheadLog();
    void migratesOnceAndReopens();
    void refusesNewerSchema();
    void refusesCorruptFile();
    void refusesFolder();
    void metaTableValuesGiveClearErrors_data();
    void metaTableValuesGiveClearErrors();
    void newJournalFilesAreOwnerOnlyAndOpenModeIsSaid();
    void readOnlyOpenReadsAndRefusesWrites();
    void notWritableFileOrFolderIsSaidOrOpenedReadOnly();
    void roundTripsRows();
    void fullDatabaseKeepsLastGoodStateAndRefusesWrites();
    void claimIsExclusive();
    void longSilentWorkersWithoutRunsAreForgotten();
    void flowVersionsAreReused();
    void concurrentFirstOpensMigrateOnce();
    void requestsAreAnsweredOrWithdrawnOnce();
    void jsonColumnsRoundTrip_data();
    void jsonColumnsRoundTrip();

private:
    QTemporaryDir m_dir;
    QString path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)); }
};

void TestStore::createsOwnerOnlyFiles() {
    const QString file = path("mode.db");
    auto store = openOrFail(file);
    QVERIFY(store);
    QVERIFY(store->saveFlowVersion(QStringLiteral("f"), "{}", {}));
    for (const QString &name :
         {file, file + QStringLiteral("-wal"), file + QStringLiteral("-shm")}) {
        struct stat info {};
        QVERIFY2(::stat(QFile::encodeName(name).constData(), &info) == 0, qPrintable(name));
        QCOMPARE(info.st_mode & 0777, 0600u);
    }
}

void TestStore::usesWriteAheadLog() {
    const QString file = path("wal.db");
    auto store = openOrFail(file);
    QVERIFY(store);
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("probe"));
        db.setDatabaseName(file);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("PRAGMA journal_mode")));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toString(), QStringLiteral("wal"));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("probe"));
}

void TestStore::migratesOnceAndReopens() {
    const QString file = path("migrate.db");
    {
        auto store = openOrFail(file);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), Store::latestSchemaVersion());
        QVERIFY(store->commit(sampleBatch(store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id,
                                          QStringLiteral("r1"))));
    }
    auto again = openOrFail(file);
    QVERIFY(again);
    QCOMPARE(again->schemaVersion(), Store::latestSchemaVersion());
    QCOMPARE(again->runs()->size(), 1);
}

void TestStore::refusesNewerSchema() {
    const QString file = path("newer.db");
    openOrFail(file).reset();
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("bump"));
        db.setDatabaseName(file);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(
            QStringLiteral("UPDATE meta SET value = '99' WHERE key = 'schema_version'")));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("bump"));
    auto store = Store::open(file);
    QVERIFY(!store);
    QVERIFY2(store.error().contains(file), qPrintable(store.error()));
    QVERIFY2(store.error().contains(QStringLiteral("newer")), qPrintable(store.error()));
}

void TestStore::refusesCorruptFile() {
    const QString file = path("corrupt.db");
    QFile garbage(file);
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(8192, '\x5a'));
    garbage.close();
    auto store = Store::open(file);
    QVERIFY(!store);
    QVERIFY2(store.error().contains(file), qPrintable(store.error()));
    QVERIFY2(store.error().contains(QStringLiteral("corrupt")), qPrintable(store.error()));
    QCOMPARE(QFile(file).size(), 8192); // nothing was written over it
}

void TestStore::refusesFolder() {
    auto store = Store::open(m_dir.path());
    QVERIFY(!store);
    QVERIFY2(store.error().contains(QStringLiteral("folder")), qPrintable(store.error()));
}

namespace {

mode_t modeOf(const QString &file) {
    struct stat info {};
    if (::stat(QFile::encodeName(file).constData(), &info) != 0)
        return 0;
    return info.st_mode & 0777;
}

} // namespace

void TestStore::metaTableValuesGiveClearErrors_data() {
    QTest::addColumn<QStringList>("statements");
    QTest::addColumn<QString>("expected");
    const auto setVersion = [](const QString &value) {
        return QStringList{
            QStringLiteral("UPDATE meta SET value = %1 WHERE key = 'schema_version'").arg(value)};
    };
    const QString unknown = QStringLiteral("is not one Keepflow knows (expected 0..%1)")
                                .arg(Store::latestSchemaVersion());
    // A meta table without its constraints, as a foreign or damaged writer could leave it.
    const QStringList loose = {QStringLiteral("DROP TABLE meta"),
                               QStringLiteral("CREATE TABLE meta (key TEXT, value TEXT)")};
    QTest::newRow("negative") << setVersion(QStringLiteral("'-1'")) << unknown;
    QTest::newRow("huge") << setVersion(QStringLiteral("'99999999999999999999'")) << unknown;
    QTest::newRow("int overflow") << setVersion(QStringLiteral("'2147483648'")) << unknown;
    QTest::newRow("newer") << setVersion(QString::number(Store::latestSchemaVersion() + 1))
                           << QStringLiteral("newer than this Keepflow (%1): upgrade Keepflow")
                                  .arg(Store::latestSchemaVersion());
    QTest::newRow("largest int") << setVersion(QStringLiteral("'2147483647'"))
                                 << QStringLiteral("newer than this Keepflow");
    QTest::newRow("text") << setVersion(QStringLiteral("'abc'")) << unknown;
    QTest::newRow("empty") << setVersion(QStringLiteral("''")) << unknown;
    QTest::newRow("fractional") << setVersion(QStringLiteral("'1.5'")) << unknown;
    QTest::newRow("real one") << setVersion(QStringLiteral("1.0")) << unknown;
    QTest::newRow("spaces") << setVersion(QStringLiteral("' 1'")) << unknown;
    QTest::newRow("plus sign") << setVersion(QStringLiteral("'+1'")) << unknown;
    QTest::newRow("blob") << setVersion(QStringLiteral("x'01'")) << unknown;
    QTest::newRow("null") << loose + QStringList{QStringLiteral(
                                         "INSERT INTO meta VALUES ('schema_version', NULL)")}
                          << QStringLiteral("schema version NULL in ");
    QTest::newRow("zero with tables") << setVersion(QStringLiteral("'0'"))
                                      << QStringLiteral("schema version 0 (new) but it already "
                                                        "has Keepflow tables");
    QTest::newRow("missing row")
        << QStringList{QStringLiteral("DELETE FROM meta")}
        << QStringLiteral("its meta table has no schema_version; the file is damaged");
    QTest::newRow("missing table")
        << QStringList{QStringLiteral("DROP TABLE meta")}
        << QStringLiteral("but no meta table, so no schema version; the file is damaged");
    QTest::newRow("duplicate key")
        << loose + QStringList{QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')"),
                               QStringLiteral("INSERT INTO meta VALUES ('schema_version', '1')")}
        << QStringLiteral("schema_version more than once");
    QTest::newRow("extra key") << QStringList{QStringLiteral(
                                      "INSERT INTO meta VALUES ('owner', 'someone')")}
                               << QStringLiteral("a key Keepflow does not write (\"owner\")");
    QTest::newRow("missing keepflow table") << QStringList{QStringLiteral("DROP TABLE requests")}
                                            << QStringLiteral("the tables requests are missing");
}

void TestStore::metaTableValuesGiveClearErrors() {
    QFETCH(QStringList, statements);
    QFETCH(QString, expected);
    const QString file =
        path("meta-%1.db").arg(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
    QFile::remove(file);
    {
        auto store = openOrFail(file);
        QVERIFY(store);
        QVERIFY(store->commit(sampleBatch(store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id,
                                          QStringLiteral("r1"))));
    }
    QVERIFY(tamper(file, statements));
    const QByteArray before = [&file] {
        QFile f(file);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    for (const bool readOnly : {false, true}) {
        StoreOptions options;
        options.readOnly = readOnly;
        auto store = Store::open(file, options);
        QVERIFY2(!store, readOnly ? "read-only open" : "open");
        QVERIFY2(store.error().contains(file), qPrintable(store.error()));
        QVERIFY2(store.error().contains(expected), qPrintable(store.error()));
    }
    QFile after(file);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QVERIFY2(after.readAll() == before, "a damaged database was changed");
}

void TestStore::newJournalFilesAreOwnerOnlyAndOpenModeIsSaid() {
    const QString file = path("shared.db");
    {
        auto store = openOrFail(file);
        QVERIFY(store);
        QVERIFY(store->warnings().isEmpty());
    }
    QVERIFY(!QFile::exists(file + QStringLiteral("-wal"))); // the last close removes the journal
    QVERIFY(::chmod(QFile::encodeName(file).constData(), 0644) == 0);
    auto store = openOrFail(file);
    QVERIFY(store);
    QVERIFY(store->saveFlowVersion(QStringLiteral("f"), "{}", {}));
    QCOMPARE(modeOf(file), mode_t(0644)); // the user's file is theirs to change
    QCOMPARE(modeOf(file + QStringLiteral("-wal")), mode_t(0600));
    QCOMPARE(modeOf(file + QStringLiteral("-shm")), mode_t(0600));
    QCOMPARE(store->warnings().size(), 1);
    const QString warning = store->warnings().first();
    QVERIFY2(warning.contains(QStringLiteral("mode 0644")), qPrintable(warning));
    QVERIFY2(warning.contains(QStringLiteral("`chmod 600 %1`").arg(file)), qPrintable(warning));
}

void TestStore::readOnlyOpenReadsAndRefusesWrites() {
    const QString file = path("readonly.db");
    qint64 flowId = 0;
    {
        auto store = openOrFail(file);
        flowId = store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
        QVERIFY(store->commit(sampleBatch(flowId, QStringLiteral("r1"))));
    }
    StoreOptions options;
    options.readOnly = true;
    auto store = openOrFail(file, options);
    QVERIFY(store);
    QVERIFY(store->isReadOnly());
    QCOMPARE(store->runs()->size(), 1);
    QCOMPARE(store->events(QStringLiteral("r1"))->size(), 1);
    const auto write = store->commit(sampleBatch(flowId, QStringLiteral("r2")));
    QVERIFY(!write);
    QVERIFY2(write.error().contains(QStringLiteral("read-only")), qPrintable(write.error()));
    QVERIFY(!store->claimRun(QStringLiteral("r1"), lease(QStringLiteral("w"), 1)));
    QVERIFY(!store->saveFlowVersion(QStringLiteral("g"), "{}", {}));
    QVERIFY(store->integrityCheck());

    // Read-only never creates a database.
    const QString missing = path("missing.db");
    auto none = Store::open(missing, options);
    QVERIFY(!none);
    QVERIFY2(none.error().contains(missing), qPrintable(none.error()));
    QVERIFY(!QFile::exists(missing));
}

void TestStore::notWritableFileOrFolderIsSaidOrOpenedReadOnly() {
    if (::geteuid() == 0)
        QSKIP("root writes to files and folders whatever their mode; needs a non-root user");
    QTemporaryDir folder;
    const QString file = folder.filePath(QStringLiteral("locked.db"));
    openOrFail(file).reset();
    StoreOptions fallBack;
    fallBack.readOnlyWhenNotWritable = true;

    QVERIFY(::chmod(QFile::encodeName(file).constData(), 0444) == 0);
    auto refused = Store::open(file);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QStringLiteral("not writable (mode 0444)")),
             qPrintable(refused.error()));
    auto reader = openOrFail(file, fallBack);
    QVERIFY(reader && reader->isReadOnly());
    QVERIFY(reader->runs());
    reader.reset();
    QVERIFY(::chmod(QFile::encodeName(file).constData(), 0600) == 0);

    QVERIFY(::chmod(QFile::encodeName(folder.path()).constData(), 0555) == 0);
    auto inLockedFolder = Store::open(file);
    QVERIFY(!inLockedFolder);
    QVERIFY2(inLockedFolder.error().contains(
                 QStringLiteral("its folder %1 is not writable").arg(folder.path())),
             qPrintable(inLockedFolder.error()));
    QVERIFY2(inLockedFolder.error().contains(QStringLiteral("-wal")),
             qPrintable(inLockedFolder.error()));
    auto folderReader = openOrFail(file, fallBack);
    const bool opened = folderReader && folderReader->isReadOnly() && folderReader->runs();
    folderReader.reset();
    ::chmod(QFile::encodeName(folder.path()).constData(), 0700);
    QVERIFY(opened);
}

void TestStore::roundTripsRows() {
    auto store = openOrFail(path("rows.db"));
    QVERIFY(store);
    const qint64 flowId =
        store->saveFlowVersion(QStringLiteral("sample"), "{\"keepflow\": 1}", QStringLiteral("/x"))
            ->id;
    const Batch batch = sampleBatch(flowId, QStringLiteral("r1"));
    const auto committed = store->commit(batch);
    QVERIFY(committed);
    QVERIFY(committed->lastEventId > 0);
    QCOMPARE(committed->eventIds.size(), batch.events.size());
    QCOMPARE(committed->eventIds.last(), committed->lastEventId);

    const auto run = store->run(QStringLiteral("r1"));
    QVERIFY(run);
    QCOMPARE(run->flowId, flowId);
    QCOMPARE(run->params, batch.runs.first().params);
    QCOMPARE(run->endedAt, 0);
    const auto steps = store->stepRuns(QStringLiteral("r1"));
    QCOMPARE(steps->size(), 1);
    const StepRunRow &step = steps->first();
    QCOMPARE(step.state, StepState::Retrying);
    QCOMPARE(step.attempts, 2);
    QCOMPARE(step.failures, 1);
    QCOMPARE(step.notBefore, 5000);
    QCOMPARE(step.error, QStringLiteral("HTTP 503"));
    QCOMPARE(step.output, batch.steps.first().output);
    const auto attempts = store->attempts(QStringLiteral("r1"));
    QCOMPARE(attempts->size(), 1);
    QCOMPARE(attempts->first().endedAt, 0); // written ahead: no outcome yet
    QCOMPARE(attempts->first().idempotencyKey, QStringLiteral("r1/fetch/1"));
    const auto events = store->events(QStringLiteral("r1"));
    QCOMPARE(events->size(), 1);
    QCOMPARE(events->first().id, committed->lastEventId);
    QCOMPARE(events->first().detail.value(QStringLiteral("attempt")).toInt(), 1);

    // Finishing the attempt updates the same row.
    Batch finish;
    AttemptRow ended = batch.attempts.first();
    ended.endedAt = 1200;
    ended.outcome = AttemptOutcome::Succeeded;
    finish.attempts.append(ended);
    QVERIFY(store->commit(finish));
    QCOMPARE(store->attempts(QStringLiteral("r1"))->first().outcome, AttemptOutcome::Succeeded);
    QVERIFY(store->integrityCheck());
}

void TestStore::fullDatabaseKeepsLastGoodStateAndRefusesWrites() {
    const QString file = path("full.db");
    qint64 flowId = 0;
    {
        auto store = openOrFail(file);
        flowId = store->saveFlowVersion(QStringLiteral("sample"), "{}", {})->id;
        QVERIFY(store->commit(sampleBatch(flowId, QStringLiteral("kept"))));
    }
    StoreOptions tiny;
    tiny.maxPageCount = 1; // smaller than what is already there: every new page is refused
    auto store = openOrFail(file, tiny);
    QVERIFY(store);
    Batch big = sampleBatch(flowId, QStringLiteral("lost"));
    for (int i = 0; i < 2000; ++i) {
        EventRow event = big.events.first();
        event.detail = {{QStringLiteral("padding"), QString(200, QLatin1Char('x'))}};
        big.events.append(event);
    }
    const auto result = store->commit(big);
    QVERIFY(!result);
    QVERIFY2(result.error().contains(file), qPrintable(result.error()));
    QVERIFY2(result.error().contains(QStringLiteral("full")), qPrintable(result.error()));
    QVERIFY(store->isBroken());
    QVERIFY(!store->commit(sampleBatch(flowId, QStringLiteral("later"))));
    store.reset();

    auto reopened = openOrFail(file);
    QVERIFY(reopened);
    QVERIFY(reopened->run(QStringLiteral("kept")));
    QVERIFY(!reopened->run(QStringLiteral("lost"))); // all or nothing
    QCOMPARE(reopened->events(QStringLiteral("lost"))->size(), 0);
    QVERIFY(reopened->integrityCheck());
}

void TestStore::claimIsExclusive() {
    const QString file = path("claim.db");
    auto first = openOrFail(file);
    auto second = openOrFail(file);
    QVERIFY(first && second);
    const qint64 flowId = first->saveFlowVersion(QStringLiteral("sample"), "{}", {})->id;
    QVERIFY(first->commit(sampleBatch(flowId, QStringLiteral("r1"))));
    const QString w1 = QStringLiteral("w1");
    const QString w2 = QStringLiteral("w2");
    const auto epochAfter = [](const Result<std::optional<RunRow>> &claim) -> qint64 {
        return claim && *claim ? (*claim)->leaseEpoch : 0;
    };
    // A claim takes the lease for 10 s by the database's clock and bumps the epoch.
    QCOMPARE(epochAfter(first->claimRun(QStringLiteral("r1"), lease(w1, 1000))), 1);
    QCOMPARE(first->run(QStringLiteral("r1"))->leaseUntil, 11'000);
    QCOMPARE(epochAfter(second->claimRun(QStringLiteral("r1"), lease(w2, 1000))), 0);
    QCOMPARE(epochAfter(first->claimRun(QStringLiteral("r1"), lease(w1, 2000))), 2);
    QCOMPARE(first->run(QStringLiteral("r1"))->adoptions, 0); // its own: no takeover
    // An expired lease is free; taking it from another worker counts as an adoption.
    QCOMPARE(epochAfter(second->claimRun(QStringLiteral("r1"), lease(w2, 30'000))), 3);
    QCOMPARE(second->run(QStringLiteral("r1"))->adoptions, 1);
    // A dead holder's lease is taken over before it expires.
    QCOMPARE(epochAfter(first->claimRun(QStringLiteral("r1"), lease(w1, 31'000, true))), 4);
    QCOMPARE(first->run(QStringLiteral("r1"))->owner, QStringLiteral("w1"));
    QCOMPARE(first->run(QStringLiteral("r1"))->adoptions, 2);
    QVERIFY(first->releaseLeases(QStringLiteral("w1")));
    QCOMPARE(second->run(QStringLiteral("r1"))->owner, QString());
}

void TestStore::longSilentWorkersWithoutRunsAreForgotten() {
    auto store = openOrFail(path("workers.db"));
    const qint64 flowId = store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
    QVERIFY(store->commit(sampleBatch(flowId, QStringLiteral("r1"))));
    const auto heartbeat = [&store](const QString &id, qint64 at) {
        return bool(
            store->renewLeases(WorkerRow{id, QStringLiteral("h"), 1, at, 0, {}}, 10'000, at));
    };
    QVERIFY(heartbeat(QStringLiteral("idle"), 1'000));
    QVERIFY(heartbeat(QStringLiteral("holder"), 1'000));
    QVERIFY(store->claimRun(QStringLiteral("r1"), lease(QStringLiteral("holder"), 1'000)));
    QVERIFY(heartbeat(QStringLiteral("recent"), 500'000));
    QCOMPARE(store->workers()->size(), 3); // nine minutes of silence: still listed
    QVERIFY(heartbeat(QStringLiteral("recent"), 700'000));
    QStringList left;
    const QList<WorkerRow> workers = *store->workers();
    for (const WorkerRow &worker : workers)
        left << worker.id;
    // Silent for more than ten minutes and holding nothing: gone. The holder stays listed
    // until its runs are taken over.
    QCOMPARE(left, (QStringList{QStringLiteral("holder"), QStringLiteral("recent")}));
}

void TestStore::flowVersionsAreReused() {
    auto store = openOrFail(path("versions.db"));
    const auto v1 = store->saveFlowVersion(QStringLiteral("f"), "{\"a\":1}", {});
    const auto same = store->saveFlowVersion(QStringLiteral("f"), "{\"a\":1}", {});
    const auto v2 = store->saveFlowVersion(QStringLiteral("f"), "{\"a\":2}", {});
    QCOMPARE(v1->id, same->id);
    QCOMPARE(v1->version, 1);
    QCOMPARE(v2->version, 2);
    QCOMPARE(store->flowVersion(v2->id)->definition, QByteArray("{\"a\":2}"));
}

void TestStore::concurrentFirstOpensMigrateOnce() {
    // Several processes may open a new database at once; each must see one migrated schema.
    const QString file = path("race.db");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&file, &failures] {
            auto store = Store::open(file);
            if (!store || (*store)->schemaVersion() != Store::latestSchemaVersion())
                ++failures;
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    QCOMPARE(failures.load(), 0);
}

void TestStore::requestsAreAnsweredOrWithdrawnOnce() {
    auto store = openOrFail(path("requests.db"));
    const qint64 flowId = store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
    QVERIFY(store->commit(sampleBatch(flowId, QStringLiteral("r1"))));
    QVERIFY(store->claimRun(QStringLiteral("r1"), lease(QStringLiteral("w1"), 1000)));
    const qint64 first = *store->submitRequest(QStringLiteral("r1"),
                                               {{QStringLiteral("action"), QStringLiteral("skip")}},
                                               QStringLiteral("ann"), 1000);
    const qint64 second = *store->submitRequest(
        QStringLiteral("r1"), {{QStringLiteral("action"), QStringLiteral("retry")}},
        QStringLiteral("ann"), 1001);
    QCOMPARE(store->pendingRequests(QStringLiteral("w1"))->size(), 2);
    QCOMPARE(store->pendingRequests(QStringLiteral("w2"))->size(), 0); // only for the run's worker
    Batch answer;
    RequestRow done = *store->request(first);
    done.state = QStringLiteral("done");
    done.result = QStringLiteral("ok");
    done.answeredAt = 2000;
    answer.answers.append(done);
    QVERIFY(store->commit(answer));
    QCOMPARE(*store->withdrawRequest(first, 3000), false); // answered already
    QCOMPARE(*store->withdrawRequest(second, 3000), true);
    QCOMPARE(*store->withdrawRequest(second, 3001), false); // once
    QCOMPARE(store->request(first)->result, QStringLiteral("ok"));
    QCOMPARE(store->pendingRequests(QStringLiteral("w1"))->size(), 0);
}

void TestStore::jsonColumnsRoundTrip_data() {
    QTest::addColumn<QJsonValue>("value");
    QTest::newRow("empty object") << QJsonValue(QJsonObject());
    QTest::newRow("nested") << QJsonValue(QJsonObject{
        {QStringLiteral("a"), QJsonArray{1, 2.5, -3, true, QJsonValue::Null}},
        {QStringLiteral("b"), QJsonObject{{QStringLiteral("c"), QStringLiteral("d")}}}});
    QTest::newRow("escapes") << QJsonValue(
        QStringLiteral("quote \" backslash \\ newline \n tab \t bell \x07"));
    QTest::newRow("unicode") << QJsonValue(QStringLiteral("caf\u00e9 \u2713 \U0001F600"));
    QTest::newRow("big integer") << QJsonValue(9007199254740000.0);
    QTest::newRow("fraction") << QJsonValue(0.1);
    QTest::newRow("tiny") << QJsonValue(1e-300);
    QTest::newRow("false") << QJsonValue(false);
    QTest::newRow("null") << QJsonValue(QJsonValue::Null);
}

void TestStore::jsonColumnsRoundTrip() {
    QFETCH(QJsonValue, value);
    auto store = openOrFail(path("json.db"));
    const qint64 flowId = store->saveFlowVersion(QStringLiteral("f"), "{}", {})->id;
    Batch batch = sampleBatch(flowId, QStringLiteral("json-%1").arg(QTest::currentDataTag()));
    batch.steps.first().output = value;
    QVERIFY(store->commit(batch));
    QCOMPARE(store->stepRuns(batch.runs.first().id)->first().output, value);
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
