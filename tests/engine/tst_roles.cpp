// Who may act on a shared PostgreSQL database: the schema's two group roles, and the actor of an
// action taken from the authenticated role (session_user), never from a claimed name.

#include "api/operatorapi.h"
#include "harness.h"

#include <QUrl>

namespace {

/// A login role of the test server, a member of group (keepflow_watcher or keepflow_operator),
/// and the database URL that connects as it.
QString connectAs(const QString &database, const QString &group, const QString &tag) {
    const QString role =
        QStringLiteral("%1_%2").arg(tag, QUuid::createUuid().toString(QUuid::Id128).left(8));
    // Names made here from hex digits and fixed words: never from input.
    executeOnTestDatabase(database,
                          QStringLiteral("CREATE ROLE %1 LOGIN IN ROLE %2").arg(role, group));
    QUrl url(database);
    url.setUserName(role);
    return url.toString();
}

} // namespace

class TestRoles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() {
        if (!testsOnPostgres())
            QSKIP("roles are PostgreSQL's: a SQLite file is guarded by its file mode");
    }
    void aWatcherSeesEverythingAndChangesNothing();
    void anOperatorActsUnderItsOwnName();
};

void TestRoles::aWatcherSeesEverythingAndChangesNothing() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })"));
    auto api = OperatorApi::open(
        connectAs(h.dbPath(), QStringLiteral("keepflow_watcher"), QStringLiteral("walt")));
    QVERIFY2(api, qPrintable(api.error()));
    QVERIFY((*api)->isReadOnly());
    QVERIFY2((*api)->readOnlyReason().contains(QLatin1String("may only watch")),
             qPrintable((*api)->readOnlyReason()));
    QCOMPARE((*api)->status(run)->run.state, RunState::Failed); // it sees the run
    OperatorAction retry;
    retry.kind = OperatorAction::Kind::Retry;
    retry.runId = run;
    retry.stepId = QStringLiteral("a");
    const auto refused = (*api)->act(retry, OperatorApi::HandOver::Leave);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QLatin1String("may only watch")),
             qPrintable(refused.error()));
    QCOMPARE(h.step(run, QStringLiteral("a")).attempts, 1); // nothing changed
}

void TestRoles::anOperatorActsUnderItsOwnName() {
    Harness h;
    const QString run = h.start(flow(
        R"({ "id": "a", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } })"));
    const QString url =
        connectAs(h.dbPath(), QStringLiteral("keepflow_operator"), QStringLiteral("ann"));
    const QString role = QUrl(url).userName();
    auto api = OperatorApi::open(url);
    QVERIFY2(api, qPrintable(api.error()));
    QVERIFY(!(*api)->isReadOnly());
    OperatorAction skip;
    skip.kind = OperatorAction::Kind::Skip;
    skip.runId = run;
    skip.stepId = QStringLiteral("a");
    skip.reason = QStringLiteral("known outage");
    // A claimed name is refused: the server says who this is.
    skip.actor = QStringLiteral("someone-else");
    const auto claimed = (*api)->act(skip, OperatorApi::HandOver::Leave);
    QVERIFY(!claimed);
    QVERIFY2(claimed.error().contains(role), qPrintable(claimed.error()));
    skip.actor.clear();
    const auto done = (*api)->act(skip, OperatorApi::HandOver::Leave);
    QVERIFY2(done, qPrintable(done.error()));
    QCOMPARE(h.step(run, QStringLiteral("a")).state, StepState::Skipped);
    bool recorded = false;
    const QList<EventRow> events = *h.store->events(run);
    for (const EventRow &event : events)
        recorded |= event.type == EventType::OperatorSkip && event.actor == role;
    QVERIFY(recorded);
}

QTEST_GUILESS_MAIN(TestRoles)
#include "tst_roles.moc"
