// The times in keepflowctl's reports: formatted by hand for speed, so checked against QDateTime.

#include "api/reports.h"
#include "core/records.h"

#include <QDateTime>
#include <QTest>

using namespace keepflow;

class TestReports : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void isoTimeIsQtsUtcIsoDateWithMs_data();
    void isoTimeIsQtsUtcIsoDateWithMs();
    void noTimeIsNull();
    void eventLinesStartWithTheLocalClock_data();
    void eventLinesStartWithTheLocalClock();
};

namespace {

void addTimes() {
    QTest::addColumn<qint64>("ms");
    QTest::newRow("one ms after the epoch") << qint64(1);
    QTest::newRow("one ms before the epoch") << qint64(-1);
    QTest::newRow("leap day")
        << QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC).toMSecsSinceEpoch();
    QTest::newRow("today") << qint64(1795813854997);
    QTest::newRow("turn of a century")
        << QDateTime(QDate(2100, 3, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    QTest::newRow("before 1970")
        << QDateTime(QDate(1969, 7, 20), QTime(20, 17, 40, 5), Qt::UTC).toMSecsSinceEpoch();
    QTest::newRow("last ms of year 9999")
        << QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), Qt::UTC).toMSecsSinceEpoch();
    QTest::newRow("year 10000 (Qt's form)")
        << QDateTime(QDate(10000, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
}

} // namespace

void TestReports::isoTimeIsQtsUtcIsoDateWithMs_data() {
    addTimes();
}

void TestReports::isoTimeIsQtsUtcIsoDateWithMs() {
    QFETCH(qint64, ms);
    QCOMPARE(isoTime(ms).toString(),
             QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs));
}

void TestReports::noTimeIsNull() {
    QVERIFY(isoTime(0).isNull());
}

void TestReports::eventLinesStartWithTheLocalClock_data() {
    addTimes();
}

void TestReports::eventLinesStartWithTheLocalClock() {
    QFETCH(qint64, ms);
    EventRow event;
    event.at = ms;
    event.stepId = QStringLiteral("fetch");
    event.type = EventType::StepSucceeded;
    const QString expected =
        QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss.zzz"));
    QCOMPARE(describeEvent(event).left(expected.size()), expected);
}

QTEST_GUILESS_MAIN(TestReports)
#include "tst_reports.moc"
