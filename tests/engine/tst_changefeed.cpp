// The change feed follows a database written by another connection (another process in real
// life): every committed event once, in order, in pages, with the changed runs and resources.

#include "api/changefeed.h"
#include "harness.h"

#include <QSignalSpy>
#include <QTest>

using namespace keepflow;

class TestChangeFeed : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void seesWhatAnotherConnectionCommits();
    void startFromNowSkipsHistory();
};

void TestChangeFeed::seesWhatAnotherConnectionCommits() {
    Harness writer;                             // the engine and its connection
    auto reader = Store::open(writer.dbPath()); // the monitor's own connection
    QVERIFY(reader);
    ChangeFeed feed(**reader, 3); // small pages: several per poll
    QSignalSpy pages(&feed, &ChangeFeed::eventsArrived);
    QSignalSpy runs(&feed, &ChangeFeed::runsChanged);
    QSignalSpy resources(&feed, &ChangeFeed::resourcesChanged);

    const QString first = writer.start(
        flow(R"({ "id": "a", "kind": "noop" }, { "id": "b", "kind": "noop", "after": ["a"] })"));
    const QString second = writer.start(flow(R"({ "id": "c", "kind": "noop" })"));
    const auto expected = *writer.store->lastEventId();
    // On PostgreSQL the feed reads a transaction's events once every older transaction of the
    // server (any database's) has ended: another test's may still be open for a moment.
    int read = 0;
    QVERIFY(eventually([&feed, &read, expected] {
        read += *feed.poll();
        return feed.lastSeenId() >= expected;
    }));
    QVERIFY(read >= 8);
    QCOMPARE(feed.lastSeenId(), expected);
    QVERIFY(pages.count() >= 3);
    qint64 previous = 0;
    int total = 0;
    for (const QList<QVariant> &page : pages) {
        for (const EventRow &event : page.first().value<QList<EventRow>>()) {
            QVERIFY(event.id > previous); // in order, each once
            previous = event.id;
            ++total;
        }
    }
    QCOMPARE(total, read);
    QStringList announced;
    for (const QList<QVariant> &signal : runs) {
        for (const QString &run : signal.first().toStringList()) {
            if (!announced.contains(run))
                announced << run;
        }
    }
    QCOMPARE(announced, (QStringList{first, second}));
    if (!testsOnPostgres())
        QCOMPARE(runs.count(), 1); // coalesced: one announcement per poll

    const auto announcements = runs.count();
    QVERIFY(*feed.poll() == 0); // nothing new
    QCOMPARE(runs.count(), announcements);

    FlowLoad load = parseFlow(flow(R"({ "id": "x", "kind": "noop", "resource": "crm" })",
                                   R"("resources": { "crm": {} },)"),
                              QStringLiteral("r.flow.json"));
    QVERIFY(writer.engine->registerFlow(*load.flow, {}));
    QVERIFY(writer.store->changeResource(QStringLiteral("crm"), true, false, QStringLiteral("ops"),
                                         writer.clock.nowMs()));
    QVERIFY(eventually([&feed] { return *feed.poll() == 1; }));
    QCOMPARE(resources.count(), 1);
    QCOMPARE(resources.first().first().toStringList(), QStringList{QStringLiteral("crm")});
}

void TestChangeFeed::startFromNowSkipsHistory() {
    Harness writer;
    writer.start(flow(R"({ "id": "a", "kind": "noop" })"));
    auto reader = Store::open(writer.dbPath());
    ChangeFeed feed(**reader);
    QVERIFY(feed.startFromNow());
    QCOMPARE(*feed.poll(), 0);
    writer.start(flow(R"({ "id": "a", "kind": "noop" })"));
    QVERIFY(eventually([&feed] { return *feed.poll() > 0; }));
}

QTEST_GUILESS_MAIN(TestChangeFeed)
#include "tst_changefeed.moc"
