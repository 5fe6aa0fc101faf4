// The times in keepflowctl's reports: formatted by hand for speed, so checked against QDateTime.

#include "api/loglines.h"
#include "api/reports.h"
#include "core/records.h"
#include "model/secrets.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace keepflow;

class TestReports : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void isoTimeIsQtsUtcIsoDateWithMs_data();
    void isoTimeIsQtsUtcIsoDateWithMs();
    void noTimeIsNull();
    void logLinesCarryLevelRunAndStep();
    void logLinesMaskCredentials_data();
    void logLinesMaskCredentials();
    void eventLinesStartWithTheLocalClock_data();
    void eventLinesStartWithTheLocalClock();
    void attemptSummariesReadAsBefore();
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

void TestReports::attemptSummariesReadAsBefore() {
    // The lines printed for every attempt, which scripts read.
    EventRow started;
    started.type = EventType::AttemptStarted;
    started.detail = {{QStringLiteral("attempt"), 2},
                      {QStringLiteral("max_attempts"), 3},
                      {QStringLiteral("attempt_budget"), 5}};
    QCOMPARE(eventSummary(started), QStringLiteral("attempt 2/5 started"));
    started.detail.remove(QStringLiteral("attempt_budget"));
    started.detail.insert(QStringLiteral("item"), QStringLiteral("k-7"));
    QCOMPARE(eventSummary(started), QStringLiteral("item k-7 attempt 2/3 started"));
    EventRow succeeded;
    succeeded.type = EventType::StepSucceeded;
    succeeded.stepId = QStringLiteral("charge");
    succeeded.detail = {{QStringLiteral("attempt"), 1}, {QStringLiteral("duration_ms"), 250}};
    QCOMPARE(eventSummary(succeeded), QStringLiteral("succeeded (attempt 1, 250ms)"));
    succeeded.detail.insert(QStringLiteral("duration_ms"), 61'240);
    QCOMPARE(eventSummary(succeeded), QStringLiteral("succeeded (attempt 1, 61.2s)"));
    QVERIFY2(describeEvent(succeeded).mid(12) ==
                 QStringLiteral("  charge           succeeded (attempt 1, 61.2s)"),
             qPrintable(describeEvent(succeeded)));
    succeeded.stepId = QStringLiteral("a_step_id_longer_than_16");
    QVERIFY2(describeEvent(succeeded).mid(12) ==
                 QStringLiteral("  a_step_id_longer_than_16 succeeded (attempt 1, 61.2s)"),
             qPrintable(describeEvent(succeeded)));
}

void TestReports::logLinesCarryLevelRunAndStep() {
    EventRow failed;
    failed.at = 1'780'000'000'123;
    failed.runId = QStringLiteral("4d61ab129371");
    failed.stepId = QStringLiteral("charge");
    failed.type = EventType::StepFailed;
    failed.detail = {{QStringLiteral("error"), QStringLiteral("HTTP 503")}};
    QCOMPARE(eventLevel(failed), LogLevel::Error);
    const QString text = eventLogLine(failed, LogFormat::Text, false);
    QVERIFY2(text.startsWith(QStringLiteral("2026-05-28T20:26:40.123Z ERROR run=4d61ab129371 "
                                            "step=charge ")) &&
                 text.endsWith(QLatin1Char('\n')) && text.count(QLatin1Char('\n')) == 1,
             qPrintable(text));
    // Under journald the line starts with the syslog priority and journald adds the time.
    QVERIFY2(
        eventLogLine(failed, LogFormat::Text, true).startsWith(QStringLiteral("<3>ERROR run=")),
        qPrintable(eventLogLine(failed, LogFormat::Text, true)));
    const QJsonObject json =
        QJsonDocument::fromJson(eventLogLine(failed, LogFormat::Json, true).toUtf8()).object();
    QCOMPARE(json.value(QStringLiteral("level")).toString(), QStringLiteral("error"));
    QCOMPARE(json.value(QStringLiteral("event")).toString(), QStringLiteral("step_failed"));
    QCOMPARE(json.value(QStringLiteral("step")).toString(), QStringLiteral("charge"));
    QCOMPARE(json.value(QStringLiteral("time")).toString(),
             QStringLiteral("2026-05-28T20:26:40.123Z"));
    // Routine item progress is debug; a retry is a warning; a success is information.
    EventRow item;
    item.type = EventType::ItemSucceeded;
    QCOMPARE(eventLevel(item), LogLevel::Debug);
    item.type = EventType::StepRetrying;
    QCOMPARE(eventLevel(item), LogLevel::Warning);
    item.type = EventType::StepSucceeded;
    QCOMPARE(eventLevel(item), LogLevel::Info);
    QCOMPARE(logLevelFromName(QStringLiteral("WARN")), std::optional(LogLevel::Warning));
    QCOMPARE(logLevelFromName(QStringLiteral("loud")), std::nullopt);
    QCOMPARE(logFormatFromName(QStringLiteral("json")), std::optional(LogFormat::Json));
}

void TestReports::logLinesMaskCredentials_data() {
    QTest::addColumn<QString>("said");
    QTest::addColumn<QString>("masked");
    QTest::newRow("url password")
        << QStringLiteral("GET https://bob:hunter2@crm.example/orders failed")
        << QStringLiteral("GET https://bob:***@crm.example/orders failed");
    QTest::newRow("port is no password") << QStringLiteral("http://crm.example:8080/orders")
                                         << QStringLiteral("http://crm.example:8080/orders");
    QTest::newRow("user without password") << QStringLiteral("postgresql://ann@db/keepflow")
                                           << QStringLiteral("postgresql://ann@db/keepflow");
    // A header's value runs to the end of its line.
    QTest::newRow("header") << QStringLiteral("sent Authorization: Bearer tok-9f8e\nthen retried")
                            << QStringLiteral("sent Authorization: ***\nthen retried");
    QTest::newRow("json header") << QStringLiteral(R"({"authorization": "Basic Ym9iOmh1bnRlcjI="})")
                                 << QStringLiteral(R"({"authorization": "***"})");
    QTest::newRow("proxy") << QStringLiteral("Proxy-Authorization=Digest abc, then")
                           << QStringLiteral("Proxy-Authorization=***, then");
    QTest::newRow("upper case") << QStringLiteral("AUTHORIZATION: Bearer tok-9f8e")
                                << QStringLiteral("AUTHORIZATION: ***");
    // Text that is not ASCII goes through the same search.
    QTest::newRow("not ascii") << QStringLiteral("Anfrage für bob: authorization=tok-9f8e")
                               << QStringLiteral("Anfrage für bob: authorization=***");
    QTest::newRow("nothing to mask") << QStringLiteral("author: ann; ratio 3:2; path a//b")
                                     << QStringLiteral("author: ann; ratio 3:2; path a//b");
}

void TestReports::logLinesMaskCredentials() {
    QFETCH(QString, said);
    QFETCH(QString, masked);
    QCOMPARE(redactCredentials(said), masked);
    EventRow event;
    event.runId = QStringLiteral("r");
    event.type = EventType::AttemptFailed;
    event.detail = {{QStringLiteral("error"), said}};
    for (LogFormat format : {LogFormat::Text, LogFormat::Json}) {
        const QString line = eventLogLine(event, format, false);
        for (const char *secret : {"hunter2", "tok-9f8e", "Ym9iOmh1bnRlcjI", "Digest abc"})
            QVERIFY2(!line.contains(QLatin1String(secret)), qPrintable(line));
    }
}

QTEST_GUILESS_MAIN(TestReports)
#include "tst_reports.moc"
