// Triage across runs: the failure signature (masking rules as data rows), failure groups, the
// filters of the runs lists and triage commands against a seeded database, and bulk actions
// through the operator API (a dry run lists exactly what applying does; refusals per run).
#include "api/operatorapi.h"
#include "api/triage.h"
#include "harness.h"

#include <functional>

using namespace keepflow;

namespace {

// `broken` fails for good and `after` is blocked behind it: the run ends failed.
const QByteArray kFailingFlow = flow(
    R"({ "id": "broken", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } },
    { "id": "after", "kind": "noop", "after": ["broken"] })");
const QByteArray kPassingFlow = flow(R"({ "id": "fine", "kind": "noop" })");

StepFailureRow failure(const char *run, const char *flow, const char *step, const char *error,
                       qint64 at, ErrorClass errorClass = ErrorClass::Transient) {
    StepFailureRow row;
    row.runId = QString::fromLatin1(run);
    row.flow = QString::fromLatin1(flow);
    row.stepId = QString::fromLatin1(step);
    row.errorClass = errorClass;
    row.error = QString::fromLatin1(error);
    row.at = at;
    return row;
}

StepRunRow stepRow(const char *run, const char *step, int position, StepState state,
                   const char *error = "", const char *resource = "", qint64 endedAt = 0) {
    StepRunRow row;
    row.runId = QString::fromLatin1(run);
    row.stepId = QString::fromLatin1(step);
    row.position = position;
    row.state = state;
    row.error = QString::fromLatin1(error);
    row.resource = QString::fromLatin1(resource);
    row.endedAt = endedAt;
    if (!row.error.isEmpty())
        row.errorClass = ErrorClass::Transient;
    return row;
}

QStringList runIds(const QList<RunRow> &runs) {
    QStringList ids;
    for (const RunRow &run : runs)
        ids << run.id;
    return ids;
}

/// One line per run with every value a listing has.
QStringList listText(const QList<RunListRow> &runs) {
    QStringList lines;
    for (const RunListRow &run : runs)
        lines << QStringLiteral("%1 %2 %3 %4 %5")
                     .arg(run.id, run.flowName, stateName(run.state))
                     .arg(run.createdAt)
                     .arg(run.endedAt);
    return lines;
}

QStringList sorted(QStringList list) {
    list.sort();
    return list;
}

/// run -> its steps, for the runs a report says apply (or would apply).
QMap<QString, QStringList> acting(const BulkReport &report) {
    QMap<QString, QStringList> runs;
    for (const BulkRunOutcome &run : report.runs) {
        if (run.outcome != BulkRunOutcome::Outcome::Refused)
            runs.insert(run.runId, run.steps);
    }
    return runs;
}

QMap<QString, QString> refusals(const BulkReport &report) {
    QMap<QString, QString> runs;
    for (const BulkRunOutcome &run : report.runs) {
        if (run.outcome == BulkRunOutcome::Outcome::Refused)
            runs.insert(run.runId, run.reason);
    }
    return runs;
}

std::unique_ptr<OperatorApi> apiOn(Harness &h) {
    OperatorApi::Options options;
    options.clock = &h.clock;
    options.ownerIsDead = [](const QString &) { return true; };
    auto opened = OperatorApi::open(h.dbPath(), options);
    if (!opened) {
        qWarning().noquote() << opened.error();
        return nullptr;
    }
    return std::move(*opened);
}

} // namespace

Q_DECLARE_METATYPE(keepflow::RunQuery)

class TestTriage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void signatureMasksWhatVaries_data();
    void signatureMasksWhatVaries();
    void sameCauseFallsTogetherOtherCausesDoNot();
    void groupsCountRunsOnceNewestFirst();
    void timeBounds_data();
    void timeBounds();

    void stepConditionsHoldForOneAndTheSameStep();
    void timeWindowFindsRunsUnderWayThen();
    void failuresApplyTheStepConditionsToTheFailingStep();
    void listingGivesTheRowsOfTheWholeRuns_data();
    void listingGivesTheRowsOfTheWholeRuns();

    void dryRunListsExactlyWhatApplyingDoes();
    void refusalsAreReportedPerRunAndChangeNothing();
    void bulkSkipSettlesEachFailedStepWithItsOutput();
};

void TestTriage::signatureMasksWhatVaries_data() {
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("signature");
    auto row = [](const char *name, const char *error, const char *signature) {
        QTest::newRow(name) << QString::fromUtf8(error) << QString::fromUtf8(signature);
    };
    row("url path ids and address", "HTTP 503 from http://10.0.0.7:8080/orders/4411",
        "HTTP 503 from http://<n>/orders/<n>");
    row("host names stay", "HTTP 502 from https://payments.example.com/v2/charge/77",
        "HTTP 502 from https://payments.example.com/v2/charge/<n>");
    row("exit code stays", "\"sh\" exited with code 3 after 1520 ms",
        "\"sh\" exited with code 3 after <n> ms");
    row("uuid", "order 3f2b8c1e-9a4d-4e2f-8b7a-1c2d3e4f5a6b not found", "order <id> not found");
    row("hex key", "idempotency key 9f8e7d6c5b4a conflicts", "idempotency key <id> conflicts");
    row("mixed token id", "lease of worker host7:4411:ab12cd34 lapsed",
        "lease of worker host7:<id> lapsed");
    row("timestamp", "deadline 2026-11-28T04:00:00Z passed", "deadline <n> passed");
    row("decimal", "fail_rate 0.25 exceeded", "fail_rate <n> exceeded");
    row("e-mail", "mail to ops@example.com bounced", "mail to <addr> bounced");
    row("versioned names stay", "sha256 mismatch in utf8 payload over ipv6",
        "sha256 mismatch in utf8 payload over ipv6");
    row("whitespace collapsed", "  timed out\n\tafter   30 s ", "timed out after <n> s");
    row("no numbers", "connection refused", "connection refused");
    row("empty", "", "");
}

void TestTriage::signatureMasksWhatVaries() {
    QFETCH(QString, error);
    QFETCH(QString, signature);
    QCOMPARE(failureSignature(error), signature);
}

void TestTriage::sameCauseFallsTogetherOtherCausesDoNot() {
    const QString a =
        failureSignature(QStringLiteral("HTTP 503 from http://10.0.0.7:8080/orders/4411"));
    const QString b =
        failureSignature(QStringLiteral("HTTP 503 from http://10.0.0.9:8081/orders/9020"));
    const QString c =
        failureSignature(QStringLiteral("HTTP 500 from http://10.0.0.7:8080/orders/4411"));
    QCOMPARE(a, b);
    QVERIFY(a != c);
}

void TestTriage::groupsCountRunsOnceNewestFirst() {
    const QList<StepFailureRow> failures = {
        failure("r1", "orders", "charge", "HTTP 503 from http://10.0.0.1/orders/1", 1000),
        failure("r2", "orders", "charge", "HTTP 503 from http://10.0.0.2/orders/2", 3000),
        failure("r3", "orders", "charge", "HTTP 503 from http://10.0.0.3/orders/3", 2000),
        // The same run twice (a foreach's step and its retry): counted twice, listed once.
        failure("r3", "orders", "charge", "HTTP 503 from http://10.0.0.4/orders/4", 2500),
        // Same text, other step / other class / other flow: other groups.
        failure("r4", "orders", "notify", "HTTP 503 from http://10.0.0.1/orders/1", 5000),
        failure("r5", "orders", "charge", "HTTP 503 from http://10.0.0.1/orders/1", 4000,
                ErrorClass::Timeout),
        failure("r6", "billing", "charge", "HTTP 503 from http://10.0.0.1/orders/1", 6000),
    };
    const QList<FailureGroup> groups = groupFailures(failures);
    QCOMPARE(groups.size(), 4);
    const FailureGroup &charge = groups.first();
    QCOMPARE(charge.flow, QStringLiteral("orders"));
    QCOMPARE(charge.stepId, QStringLiteral("charge"));
    QCOMPARE(charge.errorClass, std::optional(ErrorClass::Transient));
    QCOMPARE(charge.signature, QStringLiteral("HTTP 503 from http://<n>/orders/<n>"));
    QCOMPARE(charge.count, 4);
    QCOMPARE(charge.runs, (QStringList{"r2", "r3", "r1"}));
    QCOMPARE(charge.firstAt, 1000);
    QCOMPARE(charge.lastAt, 3000);
    QCOMPARE(charge.example, QStringLiteral("HTTP 503 from http://10.0.0.2/orders/2"));
    // The single-failure groups follow, the most recent first.
    QCOMPARE(groups[1].flow, QStringLiteral("billing"));
    QCOMPARE(groups[2].stepId, QStringLiteral("notify"));
    QCOMPARE(groups[3].errorClass, std::optional(ErrorClass::Timeout));

    const QJsonObject json = failureGroupsJson(groups).first().toObject();
    QCOMPARE(json.value("error_class").toString(), QStringLiteral("transient"));
    QCOMPARE(json.value("count").toInt(), 4);
    QCOMPARE(json.value("runs").toArray().size(), 3);
    QCOMPARE(json.value("first_at").toString(), QStringLiteral("1970-01-01T00:00:01.000Z"));
}

void TestTriage::timeBounds_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("expected"); // -1: refused
    const qint64 now = 1'800'000'000'000;
    QTest::newRow("seconds ago") << "90s" << now - 90'000;
    QTest::newRow("hours ago") << "2h" << now - 7'200'000;
    QTest::newRow("weeks ago") << "1w" << now - 604'800'000;
    QTest::newRow("iso utc") << "2026-11-28T04:00:00Z" << qint64(1'795'838'400'000);
    QTest::newRow("iso with offset") << "2026-11-28T05:00:00+01:00" << qint64(1'795'838'400'000);
    QTest::newRow("no unit") << "90" << qint64(-1);
    QTest::newRow("words") << "yesterday" << qint64(-1);
}

void TestTriage::timeBounds() {
    QFETCH(QString, text);
    QFETCH(qint64, expected);
    const auto at = parseTimeBound(text, 1'800'000'000'000);
    if (expected < 0) {
        QVERIFY(!at);
        QVERIFY2(at.error().contains(text), qPrintable(at.error()));
    } else {
        QVERIFY2(at, qPrintable(at.error()));
        QCOMPARE(*at, expected);
    }
}

namespace {

/// a: a failed step on "ledger" and a succeeded one on "payments";
/// b: a failed step on "payments"; c: a retrying step on "payments", still running;
/// d: succeeded, ended before the window; e: created after the window.
std::unique_ptr<Store> seededStore(const QTemporaryDir &dir) {
    auto store = Store::open(newTestDatabase(dir, QStringLiteral("triage.db")));
    if (!store)
        return nullptr;
    auto version = (*store)->saveFlowVersion(QStringLiteral("orders"), "{}", {});
    auto run = [&](const char *id, RunState state, qint64 created, qint64 ended) {
        RunRow row;
        row.id = QString::fromLatin1(id);
        row.flowId = version->id;
        row.flowName = QStringLiteral("orders");
        row.state = state;
        row.createdAt = created;
        row.endedAt = ended;
        return row;
    };
    Batch batch;
    batch.runs = {run("a", RunState::CompletedWithFailures, 1000, 1900),
                  run("b", RunState::Failed, 2000, 2600), run("c", RunState::Running, 2500, 0),
                  run("d", RunState::Succeeded, 100, 500),
                  run("e", RunState::Succeeded, 9000, 9100)};
    batch.steps = {
        stepRow("a", "post", 0, StepState::Failed, "ledger said 409 for entry 77", "ledger", 1800),
        stepRow("a", "charge", 1, StepState::Succeeded, "", "payments", 1500),
        stepRow("b", "charge", 0, StepState::Failed, "HTTP 503 from /charge/4", "payments", 2500),
        stepRow("c", "charge", 0, StepState::Retrying, "HTTP 503 from /charge/9", "payments"),
        stepRow("d", "charge", 0, StepState::Succeeded, "", "payments", 400),
        stepRow("e", "charge", 0, StepState::Succeeded, "", "payments", 9050),
    };
    if (!(*store)->commit(batch))
        return nullptr;
    return std::move(*store);
}

} // namespace

void TestTriage::stepConditionsHoldForOneAndTheSameStep() {
    QTemporaryDir dir;
    auto store = seededStore(dir);
    QVERIFY(store);
    RunQuery failedOnPayments;
    failedOnPayments.step.state = StepState::Failed;
    failedOnPayments.step.resource = QStringLiteral("payments");
    // a has a failed step and a step on payments, but not one failed step on payments.
    QCOMPARE(runIds(*store->runs(failedOnPayments)), QStringList{"b"});

    RunQuery stuckRetrying;
    stuckRetrying.step.state = StepState::Retrying;
    QCOMPARE(runIds(*store->runs(stuckRetrying)), QStringList{"c"});

    RunQuery byError; // case-insensitive, and % matches literally
    byError.step.error = QStringLiteral("http 503");
    QCOMPARE(runIds(*store->runs(byError)), (QStringList{"c", "b"}));
    byError.step.error = QStringLiteral("503%");
    QVERIFY(store->runs(byError)->isEmpty());

    RunQuery byStep;
    byStep.step.stepId = QStringLiteral("post");
    QCOMPARE(runIds(*store->runs(byStep)), QStringList{"a"});
    QCOMPARE(*store->countRuns(failedOnPayments), 1);
}

void TestTriage::timeWindowFindsRunsUnderWayThen() {
    QTemporaryDir dir;
    auto store = seededStore(dir);
    QVERIFY(store);
    RunQuery window;
    window.since = 1950; // a ended before; b, c (still running) were under way; e starts later
    window.until = 3000;
    QCOMPARE(runIds(*store->runs(window)), (QStringList{"c", "b"}));
    window.since = 0; // open start: d and a too
    QCOMPARE(runIds(*store->runs(window)), (QStringList{"c", "b", "a", "d"}));
}

void TestTriage::listingGivesTheRowsOfTheWholeRuns_data() {
    QTest::addColumn<RunQuery>("query");
    QTest::addColumn<int>("count");
    const auto row = [](const char *name, int count, const std::function<void(RunQuery &)> &set) {
        RunQuery query;
        set(query);
        QTest::newRow(name) << query << count;
    };
    row("everything", 5, [](RunQuery &) {});
    row("state", 2, [](RunQuery &q) { q.states = {RunState::Succeeded}; });
    row("states", 3, [](RunQuery &q) { q.states = {RunState::Succeeded, RunState::Running}; });
    row("flow", 5, [](RunQuery &q) { q.flowName = QStringLiteral("orders"); });
    row("other flow", 0, [](RunQuery &q) { q.flowName = QStringLiteral("refunds"); });
    row("search by run id", 1, [](RunQuery &q) { q.search = QStringLiteral("B"); });
    row("search by step", 1, [](RunQuery &q) { q.search = QStringLiteral("pos"); });
    row("search by error", 2, [](RunQuery &q) { q.search = QStringLiteral("http 503"); });
    row("search, % literal", 0, [](RunQuery &q) { q.search = QStringLiteral("50%"); });
    row("step id", 5, [](RunQuery &q) { q.step.stepId = QStringLiteral("charge"); });
    row("step state", 2, [](RunQuery &q) { q.step.state = StepState::Failed; });
    row("step error", 2, [](RunQuery &q) { q.step.error = QStringLiteral("HTTP 503"); });
    row("step resource", 5, [](RunQuery &q) { q.step.resource = QStringLiteral("payments"); });
    row("step state on a resource", 1, [](RunQuery &q) {
        q.step.state = StepState::Failed;
        q.step.resource = QStringLiteral("payments");
    });
    row("run ids", 2, [](RunQuery &q) { q.runIds = {QStringLiteral("e"), QStringLiteral("a")}; });
    row("since and until", 2, [](RunQuery &q) {
        q.since = 1950;
        q.until = 3000;
    });
    row("until", 4, [](RunQuery &q) { q.until = 3000; });
    row("since, a run still going", 2, [](RunQuery &q) { q.since = 2700; });
    row("page", 2, [](RunQuery &q) {
        q.limit = 2;
        q.offset = 1;
    });
    row("offset without limit", 3, [](RunQuery &q) { q.offset = 2; });
    row("filter and page", 1, [](RunQuery &q) {
        q.step.resource = QStringLiteral("payments");
        q.limit = 1;
        q.offset = 4;
    });
}

void TestTriage::listingGivesTheRowsOfTheWholeRuns() {
    // On SQLite runList() reads through the sqlite3 handle and runs() through Qt SQL: for every
    // filter they give the same runs, in the same order, with the same values.
    QFETCH(RunQuery, query);
    QFETCH(int, count);
    QTemporaryDir dir;
    auto store = seededStore(dir);
    QVERIFY(store);
    auto whole = store->runs(query);
    QVERIFY2(whole, qPrintable(whole.error()));
    auto listed = store->runList(query);
    QVERIFY2(listed, qPrintable(listed.error()));
    QList<RunListRow> expected;
    for (const RunRow &run : *whole)
        expected.append({run.id, run.flowName, run.state, run.createdAt, run.endedAt});
    QCOMPARE(listed->size(), count);
    QCOMPARE(listText(*listed), listText(expected)); // says which row differs
    QVERIFY(*listed == expected);

    // keepflowctl list opens the database read-only: the same rows that way.
    StoreOptions readOnly;
    readOnly.readOnly = true;
    auto reader = Store::open(store->path(), readOnly);
    QVERIFY2(reader, qPrintable(reader ? QString() : reader.error()));
    auto readOnlyListed = (*reader)->runList(query);
    QVERIFY2(readOnlyListed, qPrintable(readOnlyListed.error()));
    QCOMPARE(listText(*readOnlyListed), listText(expected));
}

void TestTriage::failuresApplyTheStepConditionsToTheFailingStep() {
    QTemporaryDir dir;
    auto store = seededStore(dir);
    QVERIFY(store);
    auto all = store->stepFailures({});
    QVERIFY2(all, qPrintable(all.error()));
    QCOMPARE(all->size(), 2); // a/post and b/charge; c's step is retrying, not failed
    RunQuery onPayments;
    onPayments.step.resource = QStringLiteral("payments");
    const auto payments = store->stepFailures(onPayments);
    QCOMPARE(payments->size(), 1);
    QCOMPARE(payments->first().runId, QStringLiteral("b"));
    QCOMPARE(payments->first().at, 2500);
    RunQuery retrying; // a named step state replaces the failed ones
    retrying.step.state = StepState::Retrying;
    QCOMPARE(store->stepFailures(retrying)->first().runId, QStringLiteral("c"));
    RunQuery since; // the window applies to when the step failed
    since.since = 2000;
    QCOMPARE(store->stepFailures(since)->size(), 1);
}

void TestTriage::dryRunListsExactlyWhatApplyingDoes() {
    Harness h;
    const QStringList failing{h.start(kFailingFlow), h.start(kFailingFlow), h.start(kFailingFlow)};
    const QString passing = h.start(kPassingFlow);
    QVERIFY(h.settle());
    for (const QString &run : failing)
        QCOMPARE(h.runState(run), RunState::Failed);
    h.engine->shutdown();
    auto api = apiOn(h);
    QVERIFY(api);
    BulkRequest request;
    request.kind = OperatorAction::Kind::Retry;
    request.query.states = {RunState::Failed};
    request.reason = QStringLiteral("outage over");
    request.actor = testsOnPostgres() ? QString() : QStringLiteral("oncall");

    auto dry = api->planBulk(request);
    QVERIFY2(dry, qPrintable(dry.error()));
    QVERIFY(dry->dryRun);
    QCOMPARE(sorted(acting(*dry).keys()), sorted(failing));
    for (const QStringList &steps : acting(*dry))
        QCOMPARE(steps, QStringList{"broken"});
    // The dry run changed nothing.
    for (const QString &run : failing)
        QCOMPARE(h.step(run, QStringLiteral("broken")).state, StepState::Failed);

    int progressCalls = 0;
    auto applied = api->applyBulk(request, [&](int done, int total) {
        ++progressCalls;
        return done <= total;
    });
    QVERIFY2(applied, qPrintable(applied.error()));
    QVERIFY(!applied->dryRun);
    QCOMPARE(progressCalls, 1);
    QCOMPARE(acting(*applied), acting(*dry));
    QCOMPARE(applied->count(BulkRunOutcome::Outcome::Applied), 3);
    for (const QString &run : failing) {
        QCOMPARE(h.runState(run), RunState::Running);
        QCOMPARE(h.step(run, QStringLiteral("broken")).state, StepState::Pending);
        // Recorded with actor and reason, and given back for a worker to take.
        const QList<EventRow> events = *h.store->events(run);
        const auto retry = std::find_if(events.cbegin(), events.cend(), [](const EventRow &e) {
            return e.type == EventType::OperatorRetry;
        });
        QVERIFY(retry != events.cend());
        QCOMPARE(retry->detail.value("reason").toString(), QStringLiteral("outage over"));
        if (!testsOnPostgres())
            QCOMPARE(retry->actor, QStringLiteral("oncall"));
        QVERIFY(h.store->run(run)->owner.isEmpty());
    }
    QCOMPARE(h.runState(passing), RunState::Succeeded);
    // Nothing failed is left: the same request now finds nothing.
    QVERIFY(api->planBulk(request)->runs.isEmpty());
}

void TestTriage::refusalsAreReportedPerRunAndChangeNothing() {
    Harness h;
    const QString failing = h.start(kFailingFlow);
    const QString passing = h.start(kPassingFlow);
    QVERIFY(h.settle());
    h.engine->shutdown();
    auto api = apiOn(h);
    QVERIFY(api);
    const qsizetype eventsBefore = h.store->events(passing)->size();
    BulkRequest request;
    request.kind = OperatorAction::Kind::Retry;
    request.actor = testsOnPostgres() ? QString() : QStringLiteral("oncall");
    // Succeeded steps: retry refuses them (rerun-from is what runs them again).
    request.query.step.state = StepState::Succeeded;
    auto dry = api->planBulk(request);
    QVERIFY2(dry, qPrintable(dry.error()));
    auto applied = api->applyBulk(request);
    QVERIFY2(applied, qPrintable(applied.error()));
    QCOMPARE(refusals(*dry).keys(), QStringList{passing});
    QCOMPARE(refusals(*applied), refusals(*dry));
    QVERIFY2(refusals(*applied).value(passing).contains("nothing to retry"),
             qPrintable(refusals(*applied).value(passing)));
    QCOMPARE(applied->count(BulkRunOutcome::Outcome::Refused), 1);
    QCOMPARE(h.runState(passing), RunState::Succeeded);
    QCOMPARE(h.store->events(passing)->size(), eventsBefore);
    // A run with nothing the request is about is not listed: failed-items without a foreach.
    request.kind = OperatorAction::Kind::RetryFailedItems;
    request.query = {};
    QVERIFY(api->planBulk(request)->runs.isEmpty());
    request.kind = OperatorAction::Kind::Retry;
    QCOMPARE(acting(*api->planBulk(request)).keys(), QStringList{failing});
}

void TestTriage::bulkSkipSettlesEachFailedStepWithItsOutput() {
    Harness h;
    const QStringList failing{h.start(kFailingFlow), h.start(kFailingFlow)};
    QVERIFY(h.settle());
    h.engine->shutdown();
    auto api = apiOn(h);
    QVERIFY(api);
    BulkRequest request;
    request.kind = OperatorAction::Kind::Skip;
    request.output = QJsonObject{{"skipped", true}};
    request.actor = testsOnPostgres() ? QString() : QStringLiteral("oncall");
    request.query.step.stepId = QStringLiteral("broken");
    auto applied = api->applyBulk(request);
    QVERIFY2(applied, qPrintable(applied.error()));
    QCOMPARE(applied->count(BulkRunOutcome::Outcome::Applied), 2);
    for (const QString &run : failing) {
        const StepRunRow broken = h.step(run, QStringLiteral("broken"));
        QCOMPARE(broken.state, StepState::Skipped);
        QCOMPARE(broken.output.toObject().value("skipped").toBool(), true);
        QCOMPARE(h.step(run, QStringLiteral("after")).state, StepState::Pending);
    }
}

QTEST_GUILESS_MAIN(TestTriage)
#include "tst_triage.moc"
