#include "model/retrypolicy.h"

#include <QTest>

using namespace keepflow;

class TestRetryPolicy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void backoffSchedule_data();
    void backoffSchedule();
    void jitterIsReproducibleAndSpread();
    void retryableErrors_data();
    void retryableErrors();
};

void TestRetryPolicy::backoffSchedule_data() {
    QTest::addColumn<qint64>("initial");
    QTest::addColumn<double>("coefficient");
    QTest::addColumn<qint64>("maximum");
    QTest::addColumn<double>("jitter");
    QTest::addColumn<double>("unit");
    QTest::addColumn<int>("failures");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("first retry") << 1000LL << 2.0 << 300000LL << 0.0 << 0.5 << 1 << 1000LL;
    QTest::newRow("second doubles") << 1000LL << 2.0 << 300000LL << 0.0 << 0.5 << 2 << 2000LL;
    QTest::newRow("fifth") << 1000LL << 2.0 << 300000LL << 0.0 << 0.5 << 5 << 16000LL;
    QTest::newRow("capped by max") << 1000LL << 2.0 << 5000LL << 0.0 << 0.5 << 10 << 5000LL;
    QTest::newRow("constant backoff") << 250LL << 1.0 << 5000LL << 0.0 << 0.5 << 7 << 250LL;
    QTest::newRow("jitter low end") << 1000LL << 2.0 << 300000LL << 0.2 << 0.0 << 1 << 800LL;
    QTest::newRow("jitter high end") << 1000LL << 2.0 << 300000LL << 0.2 << 0.999999 << 1 << 1200LL;
    QTest::newRow("jitter never exceeds max")
        << 1000LL << 2.0 << 4000LL << 0.5 << 0.999999 << 6 << 4000LL;
    QTest::newRow("coefficient 1.5") << 1000LL << 1.5 << 300000LL << 0.0 << 0.5 << 3 << 2250LL;
}

void TestRetryPolicy::backoffSchedule() {
    QFETCH(qint64, initial);
    QFETCH(double, coefficient);
    QFETCH(qint64, maximum);
    QFETCH(double, jitter);
    QFETCH(double, unit);
    QFETCH(int, failures);
    QFETCH(qint64, expected);
    RetryPolicy policy;
    policy.initialIntervalMs = initial;
    policy.backoff = coefficient;
    policy.maxIntervalMs = maximum;
    policy.jitter = jitter;
    QCOMPARE(backoffDelayMs(policy, failures, unit), expected);
}

void TestRetryPolicy::jitterIsReproducibleAndSpread() {
    QCOMPARE(jitterUnit(QStringLiteral("run/step/1"), 2),
             jitterUnit(QStringLiteral("run/step/1"), 2));
    QVERIFY(jitterUnit(QStringLiteral("run/step/1"), 2) !=
            jitterUnit(QStringLiteral("run/step/1"), 3));
    double low = 1;
    double high = 0;
    for (int i = 0; i < 200; ++i) {
        const double u = jitterUnit(QStringLiteral("key%1").arg(i), 1);
        QVERIFY(u >= 0 && u < 1);
        low = std::min(low, u);
        high = std::max(high, u);
    }
    QVERIFY(low < 0.1);
    QVERIFY(high > 0.9);
}

void TestRetryPolicy::retryableErrors_data() {
    QTest::addColumn<QStringList>("nonRetryable");
    QTest::addColumn<ErrorClass>("errorClass");
    QTest::addColumn<QString>("detail");
    QTest::addColumn<bool>("retryable");
    const QStringList defaults{QStringLiteral("permanent")};
    QTest::newRow("transient") << defaults << ErrorClass::Transient << QString() << true;
    QTest::newRow("timeout") << defaults << ErrorClass::Timeout << QString() << true;
    QTest::newRow("garbage") << defaults << ErrorClass::Garbage << QString() << true;
    QTest::newRow("permanent") << defaults << ErrorClass::Permanent << QString() << false;
    QTest::newRow("permanent even if not listed")
        << QStringList{} << ErrorClass::Permanent << QString() << false;
    QTest::newRow("listed class") << QStringList{QStringLiteral("timeout")} << ErrorClass::Timeout
                                  << QString() << false;
    QTest::newRow("listed detail") << QStringList{QStringLiteral("404")} << ErrorClass::Transient
                                   << QStringLiteral("404") << false;
    QTest::newRow("other detail") << QStringList{QStringLiteral("404")} << ErrorClass::Transient
                                  << QStringLiteral("503") << true;
}

void TestRetryPolicy::retryableErrors() {
    QFETCH(QStringList, nonRetryable);
    QFETCH(ErrorClass, errorClass);
    QFETCH(QString, detail);
    QFETCH(bool, retryable);
    RetryPolicy policy;
    policy.nonRetryable = nonRetryable;
    QCOMPARE(isRetryable(policy, errorClass, detail), retryable);
}

QTEST_GUILESS_MAIN(TestRetryPolicy)
#include "tst_retrypolicy.moc"
