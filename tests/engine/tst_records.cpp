// The typed columns of the records: the store writes every enum value by its name and reads the
// same value back, and a name it does not know in the database is an error naming the table, the
// row and the value (never a silent default).

#include "store/store.h"

#include <QMetaEnum>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace keepflow;

namespace {

const QString kRun = QStringLiteral("r1");
const QString kStep = QStringLiteral("fetch");
const QString kItem = QStringLiteral("item-0");

/// A run with one step, one item, one attempt and one event.
Batch sampleBatch(qint64 flowId) {
    Batch batch;
    RunRow run;
    run.id = kRun;
    run.flowId = flowId;
    run.flowName = QStringLiteral("sample");
    run.createdAt = 1000;
    batch.runs.append(run);
    StepRunRow step;
    step.runId = kRun;
    step.stepId = kStep;
    batch.steps.append(step);
    ItemRow item;
    item.runId = kRun;
    item.stepId = kStep;
    item.itemKey = kItem;
    batch.items.append(item);
    AttemptRow attempt;
    attempt.runId = kRun;
    attempt.stepId = kStep;
    attempt.number = 1;
    attempt.idempotencyKey = QStringLiteral("r1/fetch/1");
    attempt.startedAt = 1100;
    batch.attempts.append(attempt);
    EventRow event;
    event.at = 1100;
    event.runId = kRun;
    event.stepId = kStep;
    event.actor = QStringLiteral("engine");
    batch.events.append(event);
    return batch;
}

/// Every value Enum declares.
template <typename Enum> QList<Enum> allValues() {
    const QMetaEnum meta = QMetaEnum::fromType<Enum>();
    QList<Enum> values;
    for (int i = 0; i < meta.keyCount(); ++i)
        values << static_cast<Enum>(meta.value(i));
    return values;
}

/// One typed column: how to set it in a batch and what the store reads back, compared as text
/// of the enum value (-1: unset).
struct Column {
    std::function<void(Batch &, int)> set;
    std::function<Result<int>(Store &)> read;
};

template <typename Enum> int code(const std::optional<Enum> &value) {
    return value ? static_cast<int>(*value) : -1;
}

template <typename Row, typename Get> Result<int> firstOf(const Result<QList<Row>> &rows, Get get) {
    if (!rows)
        return rows.status();
    if (rows->isEmpty())
        return Status::error(QStringLiteral("no row read back"));
    return get(rows->first());
}

Column columnNamed(const QString &name) {
    if (name == QLatin1String("runs.state"))
        return {[](Batch &b, int v) { b.runs[0].state = static_cast<RunState>(v); },
                [](Store &s) -> Result<int> {
                    auto row = s.run(kRun);
                    if (!row)
                        return row.status();
                    return static_cast<int>(row->state);
                }};
    if (name == QLatin1String("runs.state (summary)"))
        return {[](Batch &b, int v) { b.runs[0].state = static_cast<RunState>(v); },
                [](Store &s) {
                    return firstOf(s.runSummaries({}),
                                   [](const RunSummary &r) { return static_cast<int>(r.state); });
                }};
    if (name == QLatin1String("step_runs.state"))
        return {[](Batch &b, int v) { b.steps[0].state = static_cast<StepState>(v); },
                [](Store &s) {
                    return firstOf(s.stepRuns(kRun),
                                   [](const StepRunRow &r) { return static_cast<int>(r.state); });
                }};
    if (name == QLatin1String("step_runs.error_class"))
        return {[](Batch &b, int v) {
                    b.steps[0].errorClass =
                        v < 0 ? std::nullopt : std::optional(static_cast<ErrorClass>(v));
                },
                [](Store &s) {
                    return firstOf(s.stepRuns(kRun),
                                   [](const StepRunRow &r) { return code(r.errorClass); });
                }};
    if (name == QLatin1String("items.state"))
        return {[](Batch &b, int v) { b.items[0].state = static_cast<StepState>(v); },
                [](Store &s) {
                    return firstOf(s.items(kRun),
                                   [](const ItemRow &r) { return static_cast<int>(r.state); });
                }};
    if (name == QLatin1String("items.error_class"))
        return {[](Batch &b, int v) {
                    b.items[0].errorClass =
                        v < 0 ? std::nullopt : std::optional(static_cast<ErrorClass>(v));
                },
                [](Store &s) {
                    return firstOf(s.items(kRun),
                                   [](const ItemRow &r) { return code(r.errorClass); });
                }};
    if (name == QLatin1String("attempts.outcome"))
        return {[](Batch &b, int v) {
                    b.attempts[0].outcome =
                        v < 0 ? std::nullopt : std::optional(static_cast<AttemptOutcome>(v));
                },
                [](Store &s) {
                    return firstOf(s.attempts(kRun),
                                   [](const AttemptRow &r) { return code(r.outcome); });
                }};
    if (name == QLatin1String("attempts.error_class"))
        return {[](Batch &b, int v) {
                    b.attempts[0].errorClass =
                        v < 0 ? std::nullopt : std::optional(static_cast<ErrorClass>(v));
                },
                [](Store &s) {
                    return firstOf(s.attempts(kRun),
                                   [](const AttemptRow &r) { return code(r.errorClass); });
                }};
    if (name == QLatin1String("events.type"))
        return {[](Batch &b, int v) { b.events[0].type = static_cast<EventType>(v); },
                [](Store &s) {
                    return firstOf(s.events(kRun),
                                   [](const EventRow &r) { return static_cast<int>(r.type); });
                }};
    return {};
}

} // namespace

class TestRecords : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void storeRoundTripsEveryValue_data();
    void storeRoundTripsEveryValue();
    void unknownNameInTheDatabaseIsAnError_data();
    void unknownNameInTheDatabaseIsAnError();

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    QString newPath() { return m_dir.filePath(QStringLiteral("records-%1.db").arg(++m_files)); }
};

void TestRecords::storeRoundTripsEveryValue_data() {
    QTest::addColumn<QString>("column");
    QTest::addColumn<int>("value");
    auto rows = [](const char *column, const auto &values, auto name, bool optional) {
        for (const auto value : values)
            QTest::addRow("%s = %s", column, qPrintable(name(value)))
                << QString::fromLatin1(column) << static_cast<int>(value);
        if (optional)
            QTest::addRow("%s unset", column) << QString::fromLatin1(column) << -1;
    };
    auto run = [](RunState s) { return stateName(s); };
    auto step = [](StepState s) { return stateName(s); };
    auto errorClass = [](ErrorClass c) { return errorClassName(c); };
    auto outcome = [](AttemptOutcome o) { return outcomeName(o); };
    auto event = [](EventType t) { return eventTypeName(t); };
    rows("runs.state", allValues<RunState>(), run, false);
    rows("runs.state (summary)", allValues<RunState>(), run, false);
    rows("step_runs.state", allValues<StepState>(), step, false);
    rows("step_runs.error_class", allValues<ErrorClass>(), errorClass, true);
    rows("items.state", allValues<StepState>(), step, false);
    rows("items.error_class", allValues<ErrorClass>(), errorClass, true);
    rows("attempts.outcome", allValues<AttemptOutcome>(), outcome, true);
    rows("attempts.error_class", allValues<ErrorClass>(), errorClass, true);
    rows("events.type", allValues<EventType>(), event, false);
}

void TestRecords::storeRoundTripsEveryValue() {
    QFETCH(QString, column);
    QFETCH(int, value);
    const Column c = columnNamed(column);
    QVERIFY(c.set && c.read);
    auto store = Store::open(newPath());
    QVERIFY2(store, qPrintable(store.error()));
    auto flow = (*store)->saveFlowVersion(QStringLiteral("sample"), "{}", {});
    QVERIFY2(flow, qPrintable(flow.error()));
    Batch batch = sampleBatch(flow->id);
    c.set(batch, value);
    auto committed = (*store)->commit(batch);
    QVERIFY2(committed, qPrintable(committed.error()));
    const Result<int> read = c.read(**store);
    QVERIFY2(read, qPrintable(read.error()));
    QCOMPARE(*read, value);
}

void TestRecords::unknownNameInTheDatabaseIsAnError_data() {
    QTest::addColumn<QString>("table");
    QTest::addColumn<QString>("sqlColumn");
    QTest::addColumn<QString>("column"); ///< what reads it back
    QTest::addColumn<QString>("rowKey");
    const QString runKey = QStringLiteral("id \"r1\"");
    const QString stepKey = QStringLiteral("run_id \"r1\", step_id \"fetch\"");
    QTest::newRow("runs.state") << "runs"
                                << "state"
                                << "runs.state" << runKey;
    QTest::newRow("runs.state (summary)") << "runs"
                                          << "state"
                                          << "runs.state (summary)" << runKey;
    QTest::newRow("step_runs.state") << "step_runs"
                                     << "state"
                                     << "step_runs.state" << stepKey;
    QTest::newRow("step_runs.error_class") << "step_runs"
                                           << "error_class"
                                           << "step_runs.error_class" << stepKey;
    QTest::newRow("items.state") << "items"
                                 << "state"
                                 << "items.state"
                                 << stepKey + QStringLiteral(", item_key \"item-0\"");
    QTest::newRow("items.error_class")
        << "items"
        << "error_class"
        << "items.error_class" << stepKey + QStringLiteral(", item_key \"item-0\"");
    QTest::newRow("attempts.outcome")
        << "attempts"
        << "outcome"
        << "attempts.outcome" << stepKey + QStringLiteral(", item_key \"\"");
    QTest::newRow("attempts.error_class")
        << "attempts"
        << "error_class"
        << "attempts.error_class" << stepKey + QStringLiteral(", item_key \"\"");
    QTest::newRow("events.type") << "events"
                                 << "type"
                                 << "events.type" << QStringLiteral("id \"");
}

void TestRecords::unknownNameInTheDatabaseIsAnError() {
    QFETCH(QString, table);
    QFETCH(QString, sqlColumn);
    QFETCH(QString, column);
    QFETCH(QString, rowKey);
    const QString file = newPath();
    auto store = Store::open(file);
    QVERIFY2(store, qPrintable(store.error()));
    auto flow = (*store)->saveFlowVersion(QStringLiteral("sample"), "{}", {});
    QVERIFY2(flow, qPrintable(flow.error()));
    auto committed = (*store)->commit(sampleBatch(flow->id));
    QVERIFY2(committed, qPrintable(committed.error()));

    // Something else (another program, a damaged file) wrote a name Keepflow does not know.
    {
        QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"),
                                                     QStringLiteral("raw-%1").arg(m_files));
        raw.setDatabaseName(file);
        QVERIFY(raw.open());
        QSqlQuery update(raw);
        QVERIFY2(
            update.exec(QStringLiteral("UPDATE %1 SET %2 = 'bogus_value'").arg(table, sqlColumn)),
            qPrintable(update.lastError().text()));
        QCOMPARE(update.numRowsAffected(), 1);
    }
    QSqlDatabase::removeDatabase(QStringLiteral("raw-%1").arg(m_files));

    const Result<int> read = columnNamed(column).read(**store);
    QVERIFY(!read);
    const QString error = read.error();
    QVERIFY2(error.contains(file), qPrintable(error));
    QVERIFY2(error.contains(table + QStringLiteral(" row (")), qPrintable(error));
    QVERIFY2(error.contains(rowKey), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("unknown %1 \"bogus_value\"").arg(sqlColumn)),
             qPrintable(error));
}

QTEST_GUILESS_MAIN(TestRecords)
#include "tst_records.moc"
