#include "core/states.h"
#include "store/store.h"

#include <QTemporaryDir>
#include <QTest>

using namespace keepflow;

namespace {

struct RunSpec {
    const char *id;
    const char *flow;
    RunState state;
    qint64 createdAt;
    QList<StepState> steps;
};

RunRow runRow(const RunSpec &spec, qint64 flowId) {
    RunRow run;
    run.id = QString::fromLatin1(spec.id);
    run.flowId = flowId;
    run.flowName = QString::fromLatin1(spec.flow);
    run.state = spec.state;
    run.createdAt = spec.createdAt;
    return run;
}

QList<StepRunRow> stepRows(const RunSpec &spec) {
    QList<StepRunRow> steps;
    for (qsizetype i = 0; i < spec.steps.size(); ++i) {
        StepRunRow step;
        step.runId = QString::fromLatin1(spec.id);
        step.stepId = QStringLiteral("s%1").arg(i);
        step.position = static_cast<int>(i);
        step.state = spec.steps.at(i);
        steps.append(step);
    }
    return steps;
}

QStringList ids(const QList<RunSummary> &rows) {
    QStringList out;
    for (const RunSummary &row : rows)
        out << row.id;
    return out;
}

QStringList names(std::initializer_list<const char *> list) {
    QStringList out;
    for (const char *name : list)
        out << QString::fromLatin1(name);
    return out;
}

} // namespace

class TestRunQueries : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void listsNewestFirstWithIdBreakingTies();
    void filtersByStates();
    void filtersByExactFlowName();
    void searchMatchesRunIdOrFlowNameCaseInsensitively();
    void searchMatchesWildcardsLiterally();
    void filtersCombineWithAnd();
    void pagesWithOffsetAndLimit();
    void countsMatchTheFilters();
    void stepsDoneCountsFinalStatesOnly();
    void flowNamesAreDistinctAndSorted();

private:
    QList<RunSummary> page(const RunQuery &query);
    QTemporaryDir m_dir;
    std::unique_ptr<Store> m_store;
};

void TestRunQueries::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto store = Store::open(m_dir.filePath(QStringLiteral("runs.db")));
    QVERIFY2(store, qPrintable(store.error()));
    m_store = std::move(*store);
    QHash<QString, qint64> flowIds;
    // "zeta" gets two versions: flowNames() lists it once.
    for (const char *flow : {"nightly_export", "Billing", "zeta", "zeta", "50%off"}) {
        const QString name = QString::fromLatin1(flow);
        auto version =
            m_store->saveFlowVersion(name,
                                     QByteArray("{\"name\":\"") + flow + "\",\"v\":" +
                                         QByteArray::number(flowIds.contains(name) ? 2 : 1) + "}",
                                     {});
        QVERIFY2(version, qPrintable(version.error()));
        flowIds[name] = version->id;
    }
    using S = StepState;
    const QList<RunSpec> specs = {
        {"run-001", "nightly_export", RunState::Succeeded, 1000, {S::Succeeded, S::Succeeded}},
        {"run-002", "Billing", RunState::Failed, 2000, {S::Succeeded, S::Failed, S::Blocked}},
        {"run-003",
         "nightly_export",
         RunState::Running,
         3000,
         {S::Succeeded, S::Running, S::Pending}},
        {"run-004", "zeta", RunState::WaitingForOperator, 4000, {S::Uncertain}},
        {"RUN-005", "Billing", RunState::Running, 5000, {}},
        // Same created_at as run-007: the id breaks the tie (descending).
        {"run-006", "50%off", RunState::Cancelled, 6000, {S::Cancelled, S::Skipped}},
        {"run-007", "zeta", RunState::Paused, 6000, {S::Paused, S::Succeeded}},
        {"run_x08", "nightly_export", RunState::Running, 8000, {S::Queued}},
    };
    Batch batch;
    for (const RunSpec &spec : specs) {
        batch.runs.append(runRow(spec, flowIds.value(QString::fromLatin1(spec.flow))));
        batch.steps.append(stepRows(spec));
    }
    auto committed = m_store->commit(batch);
    QVERIFY2(committed, qPrintable(committed.error()));
}

QList<RunSummary> TestRunQueries::page(const RunQuery &query) {
    auto rows = m_store->runSummaries(query);
    if (!rows) {
        qWarning() << rows.error();
        return {};
    }
    return *rows;
}

void TestRunQueries::listsNewestFirstWithIdBreakingTies() {
    const QList<RunSummary> rows = page({});
    QCOMPARE(ids(rows), names({"run_x08", "run-007", "run-006", "RUN-005", "run-004", "run-003",
                               "run-002", "run-001"}));
    const RunSummary &first = rows.first();
    QCOMPARE(first.flowName, QStringLiteral("nightly_export"));
    QCOMPARE(first.state, RunState::Running);
    QCOMPARE(first.createdAt, 8000);
}

void TestRunQueries::filtersByStates() {
    RunQuery query;
    query.states = QList<RunState>{RunState::Running};
    QCOMPARE(ids(page(query)), names({"run_x08", "RUN-005", "run-003"}));
    query.states << RunState::Failed;
    QCOMPARE(ids(page(query)), names({"run_x08", "RUN-005", "run-003", "run-002"}));
}

void TestRunQueries::filtersByExactFlowName() {
    RunQuery query;
    query.flowName = QStringLiteral("Billing");
    QCOMPARE(ids(page(query)), names({"RUN-005", "run-002"}));
    query.flowName = QStringLiteral("billing"); // exact: the case matters here
    QVERIFY(page(query).isEmpty());
    query.flowName = QStringLiteral("Bill");
    QVERIFY(page(query).isEmpty());
}

void TestRunQueries::searchMatchesRunIdOrFlowNameCaseInsensitively() {
    RunQuery query;
    query.search = QStringLiteral("run-00");
    QCOMPARE(page(query).size(), 7); // RUN-005 too
    query.search = QStringLiteral("BILL");
    QCOMPARE(ids(page(query)), names({"RUN-005", "run-002"}));
    query.search = QStringLiteral("export");
    QCOMPARE(ids(page(query)), names({"run_x08", "run-003", "run-001"}));
    query.search = QStringLiteral("no such run");
    QVERIFY(page(query).isEmpty());
}

void TestRunQueries::searchMatchesWildcardsLiterally() {
    RunQuery query;
    query.search = QStringLiteral("%");
    QCOMPARE(ids(page(query)), names({"run-006"})); // only the flow "50%off" holds a '%'
    query.search = QStringLiteral("0%o");
    QCOMPARE(ids(page(query)), names({"run-006"}));
    query.search = QStringLiteral("n_x");
    QCOMPARE(ids(page(query)), names({"run_x08"})); // '_' is not "any character"
    query.search = QStringLiteral("run_0");
    QVERIFY(page(query).isEmpty());
    query.search = QStringLiteral("\\");
    QVERIFY(page(query).isEmpty());
    query.search = QStringLiteral("'; DROP TABLE runs; --");
    QVERIFY(page(query).isEmpty());
    QCOMPARE(page({}).size(), 8);
}

void TestRunQueries::filtersCombineWithAnd() {
    RunQuery query;
    query.states = QList<RunState>{RunState::Running};
    query.flowName = QStringLiteral("nightly_export");
    QCOMPARE(ids(page(query)), names({"run_x08", "run-003"}));
    query.search = QStringLiteral("003");
    QCOMPARE(ids(page(query)), names({"run-003"}));
    auto count = m_store->countRuns(query);
    QVERIFY(count);
    QCOMPARE(*count, 1);
}

void TestRunQueries::pagesWithOffsetAndLimit() {
    RunQuery query;
    query.limit = 3;
    QCOMPARE(ids(page(query)), names({"run_x08", "run-007", "run-006"}));
    query.offset = 3;
    QCOMPARE(ids(page(query)), names({"RUN-005", "run-004", "run-003"}));
    query.offset = 6;
    QCOMPARE(ids(page(query)), names({"run-002", "run-001"}));
    query.offset = 8;
    QVERIFY(page(query).isEmpty());
    query.offset = 5;
    query.limit = 0; // no limit: everything after the offset
    QCOMPARE(ids(page(query)), names({"run-003", "run-002", "run-001"}));
    query = {};
    query.states = QList<RunState>{RunState::Running};
    query.offset = 1;
    query.limit = 1;
    QCOMPARE(ids(page(query)), names({"RUN-005"}));
}

void TestRunQueries::countsMatchTheFilters() {
    auto all = m_store->countRuns({});
    QVERIFY2(all, qPrintable(all.error()));
    QCOMPARE(*all, 8);
    RunQuery query;
    query.states = QList<RunState>{RunState::Running, RunState::Paused};
    QCOMPARE(*m_store->countRuns(query), 4);
    query = {};
    query.flowName = QStringLiteral("zeta");
    QCOMPARE(*m_store->countRuns(query), 2);
    query = {};
    query.search = QStringLiteral("%");
    QCOMPARE(*m_store->countRuns(query), 1);
    query.offset = 5; // paging does not change the count
    query.limit = 1;
    QCOMPARE(*m_store->countRuns(query), 1);
}

void TestRunQueries::stepsDoneCountsFinalStatesOnly() {
    QHash<QString, QPair<int, int>> progress; // id -> (done, total)
    for (const RunSummary &row : page({}))
        progress.insert(row.id, {row.stepsDone, row.stepsTotal});
    QCOMPARE(progress.value(QStringLiteral("run-001")), qMakePair(2, 2));
    QCOMPARE(progress.value(QStringLiteral("run-002")), qMakePair(3, 3)); // failed, blocked
    QCOMPARE(progress.value(QStringLiteral("run-003")), qMakePair(1, 3));
    QCOMPARE(progress.value(QStringLiteral("run-004")), qMakePair(0, 1)); // uncertain: not done
    QCOMPARE(progress.value(QStringLiteral("RUN-005")), qMakePair(0, 0)); // no step rows yet
    QCOMPARE(progress.value(QStringLiteral("run-006")), qMakePair(2, 2)); // cancelled, skipped
    QCOMPARE(progress.value(QStringLiteral("run-007")), qMakePair(1, 2));

    // One step in every state: the store's idea of "done" is the runtime's isFinal().
    RunSpec every{"every-state", "zeta", RunState::Running, 100, {}};
    int finals = 0;
    for (int i = 0; i < kStepStateCount; ++i) {
        every.steps << static_cast<StepState>(i);
        finals += isFinal(static_cast<StepState>(i)) ? 1 : 0;
    }
    Batch batch;
    RunQuery zetaRuns;
    zetaRuns.flowName = QStringLiteral("zeta");
    auto existing = m_store->runSummaries(zetaRuns);
    QVERIFY(existing && !existing->isEmpty());
    auto flowOfZeta = m_store->run(existing->first().id);
    QVERIFY(flowOfZeta);
    batch.runs.append(runRow(every, flowOfZeta->flowId));
    batch.steps.append(stepRows(every));
    QVERIFY(m_store->commit(batch));
    RunQuery query;
    query.search = QStringLiteral("every-state");
    const QList<RunSummary> rows = page(query);
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().stepsTotal, kStepStateCount);
    QCOMPARE(rows.first().stepsDone, finals);
    QCOMPARE(finals, 7);
    // The oldest run now; the rest of the list is unchanged.
    QCOMPARE(page({}).last().id, QStringLiteral("every-state"));
}

void TestRunQueries::flowNamesAreDistinctAndSorted() {
    auto flows = m_store->flowNames();
    QVERIFY2(flows, qPrintable(flows.error()));
    QCOMPARE(*flows, names({"50%off", "Billing", "nightly_export", "zeta"}));
}

QTEST_GUILESS_MAIN(TestRunQueries)
#include "tst_runqueries.moc"
