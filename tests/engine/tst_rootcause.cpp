// Root cause versus cascade: which stuck steps the rest of a run waits on (api/rootcause.h), and
// how `status` reports it. Each row is a run written as its steps, in flow order:
//
//     id[~fallback][<up1,up2][:join]=state
//
// "~backup" names a fallback step, "~*" a fallback value; "<a,b" are the steps it comes after;
// ":any_succeeded" (or all_done, none_failed, all_succeeded) its join rule; "=state" its state
// (stateName). "-" as a state: no row yet. Expected: the roots, and "step:root,root" per
// waiting step.

#include "api/reports.h"
#include "api/rootcause.h"
#include "core/records.h"
#include "model/flow.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

using namespace keepflow;

class TestRootCause : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rootsAndWhatWaitsOnThem_data();
    void rootsAndWhatWaitsOnThem();
    void countsTheStepsWaitingOnEachRoot();
    void aRowTheFlowLacksCanStillBeARoot();
    void describesTheRootInWords_data();
    void describesTheRootInWords();
    void statusJsonCarriesRootCausesAndBlockedBy();
    void statusTextNamesTheRootCause();
};

namespace {

struct Run {
    Flow flow;
    QList<StepRunRow> rows;
};

Run parseRun(const QString &text) {
    static const QRegularExpression token(
        QStringLiteral(R"(^([\w-]+)(?:~([\w*-]+))?(?:<([\w,-]+))?(?::(\w+))?=([\w-]+)$)"));
    Run run;
    const QStringList parts = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        const QRegularExpressionMatch m = token.match(part);
        if (!m.hasMatch())
            qFatal("bad step in a test row: %s", qPrintable(part));
        Step step;
        step.id = m.captured(1);
        step.kind = QStringLiteral("noop");
        if (m.captured(2) == QLatin1String("*")) {
            step.fallback.kind = Fallback::Kind::Value;
            step.fallback.value = QStringLiteral("default");
        } else if (!m.captured(2).isEmpty()) {
            step.fallback.kind = Fallback::Kind::Step;
            step.fallback.step = m.captured(2);
        }
        if (!m.captured(3).isEmpty())
            step.after = m.captured(3).split(QLatin1Char(','));
        if (!m.captured(4).isEmpty()) {
            step.join = joinRuleFromName(m.captured(4));
            if (!step.join)
                qFatal("bad join rule in a test row: %s", qPrintable(part));
        }
        if (m.captured(5) != QLatin1String("-")) {
            StepRunRow row;
            row.runId = QStringLiteral("r1");
            row.stepId = step.id;
            row.position = static_cast<int>(run.flow.steps.size());
            const auto state = stepStateFromName(m.captured(5));
            if (!state)
                qFatal("bad state in a test row: %s", qPrintable(part));
            row.state = *state;
            run.rows.append(row);
        }
        run.flow.steps.append(step);
    }
    return run;
}

/// "b:a c:a,b" -> {b: [a], c: [a, b]}.
QHash<QString, QStringList> parseBlockedBy(const QString &text) {
    QHash<QString, QStringList> blockedBy;
    for (const QString &entry : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        const qsizetype colon = entry.indexOf(QLatin1Char(':'));
        blockedBy.insert(entry.left(colon), entry.mid(colon + 1).split(QLatin1Char(',')));
    }
    return blockedBy;
}

QStringList ids(const QString &text) {
    return text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

} // namespace

void TestRootCause::rootsAndWhatWaitsOnThem_data() {
    QTest::addColumn<QString>("run");
    QTest::addColumn<QString>("roots");
    QTest::addColumn<QString>("blockedBy");

    // Shapes.
    QTest::newRow("chain: the failed step is the root, everything after it waits on it")
        << "a=failed b<a=blocked c<b=blocked"
        << "a"
        << "b:a c:a";
    QTest::newRow("chain behind an uncertain step: pending steps wait on it")
        << "a=succeeded b<a=uncertain c<b=pending d<c=-"
        << "b"
        << "c:b d:b";
    QTest::newRow("diamond: both branches and the join wait on the one failure")
        << "a=failed b<a=blocked c<a=blocked d<b,c=blocked"
        << "a"
        << "b:a c:a d:a";
    QTest::newRow("diamond with one branch still running: the join waits on the failed branch")
        << "a=succeeded b<a=failed c<a=running d<b,c=blocked"
        << "b"
        << "d:b";
    QTest::newRow("steps in motion wait on nothing")
        << "a=failed b=running c=queued d=retrying e=scheduled"
        << "a"
        << "";
    QTest::newRow("a held step behind another root is a root itself, not blocked")
        << "a=paused b<a=paused c<b=pending"
        << "a b"
        << "c:b";

    // Join rules.
    QTest::newRow("all_succeeded (default): every stuck upstream holds it")
        << "a=failed b=uncertain c<a,b:all_succeeded=blocked"
        << "a b"
        << "c:a,b";
    QTest::newRow("all_done: a failed upstream has finished, only the unfinished one holds it")
        << "a=failed b=uncertain c<a,b:all_done=pending"
        << "a b"
        << "c:b";
    QTest::newRow("all_done: an upstream that cannot finish holds it")
        << "a=uncertain b=succeeded c<a,b:all_done=pending"
        << "a"
        << "c:a";
    QTest::newRow("all_done: a blocked upstream has finished too")
        << "a=failed b<a=blocked x=uncertain c<b,x:all_done=pending"
        << "a x"
        << "b:a c:x";
    QTest::newRow("all_done: a pending upstream held by a root holds it")
        << "a=waiting_for_operator b<a=pending c<b:all_done=pending"
        << "a"
        << "b:a c:a";
    QTest::newRow("any_succeeded: one upstream succeeded, the other's failure holds nothing")
        << "a=failed b=succeeded c<a,b:any_succeeded=cancelled"
        << "a"
        << "";
    QTest::newRow("any_succeeded: an upstream still running may satisfy it")
        << "a=failed b=running c<a,b:any_succeeded=pending"
        << "a"
        << "";
    QTest::newRow("any_succeeded: an upstream pending on running steps may satisfy it")
        << "a=failed x=running b<x=pending c<a,b:any_succeeded=pending"
        << "a"
        << "";
    QTest::newRow("any_succeeded: no upstream can succeed by itself, all of them hold it")
        << "a=failed b=uncertain c<a,b:any_succeeded=pending"
        << "a b"
        << "c:a,b";
    QTest::newRow("any_succeeded: every upstream failed")
        << "a=failed b=failed c<a,b:any_succeeded=blocked"
        << "a b"
        << "c:a,b";
    QTest::newRow("none_failed: a skipped upstream holds nothing, the failed one does")
        << "a=skipped b=failed c<a,b:none_failed=blocked"
        << "b"
        << "c:b";
    QTest::newRow("none_failed: skipped and succeeded upstreams let it run")
        << "a=skipped b=succeeded c<a,b:none_failed=running"
        << ""
        << "";

    // Fallbacks.
    QTest::newRow("fallback step succeeded: the failure it covered blocks nothing")
        << "pay~backup=succeeded_via_fallback backup=succeeded ship<pay=running"
        << ""
        << "";
    QTest::newRow("fallback value: the failure it covered blocks nothing")
        << "pay~*=succeeded_via_fallback ship<pay=succeeded"
        << ""
        << "";
    QTest::newRow("fallback failed too: the primary is the root its downstream waits on")
        << "pay~backup=failed backup=failed ship<pay=blocked"
        << "pay backup"
        << "ship:pay";
    QTest::newRow("fallback running: the primary's downstream waits on nothing")
        << "pay~backup=running backup=running ship<pay=pending"
        << ""
        << "";
    QTest::newRow("fallback held by an operator: the primary's downstream waits on it")
        << "pay~backup=running backup=paused ship<pay=pending"
        << "backup"
        << "ship:backup";
    QTest::newRow("fallback not needed yet: a pending fallback step waits on nothing")
        << "pay~backup=retrying backup=pending ship<pay=pending"
        << ""
        << "";

    // Foreach steps (their state says how their items went).
    QTest::newRow("foreach partially succeeded (within tolerance): its downstream runs")
        << "items=partially_succeeded report<items=running"
        << ""
        << "";
    QTest::newRow("foreach failed beyond its tolerance: it is the root")
        << "items=failed report<items=blocked"
        << "items"
        << "report:items";

    // Operators.
    QTest::newRow("waiting for an operator's approval: the steps after it wait on it")
        << "build=succeeded approve<build=waiting_for_operator deploy<approve=pending "
           "notify<deploy=-"
        << "approve"
        << "deploy:approve notify:approve";
    QTest::newRow("uncertain outcome: the steps after it wait on it")
        << "cart=succeeded charge<cart=uncertain receipt<charge=pending ship<charge=pending"
        << "charge"
        << "receipt:charge ship:charge";
    QTest::newRow("two independent roots, and a step that waits on both")
        << "a=failed b=uncertain c<a=blocked d<b=pending e<c,d=blocked"
        << "a b"
        << "c:a d:b e:a,b";

    // Cancelled runs.
    QTest::newRow("cancelled run: the failure still blocks its downstream, the cancel no one")
        << "a=failed b<a=blocked c=cancelled d<c=cancelled"
        << "a"
        << "b:a";
    QTest::newRow("cancelled while uncertain: a cancelled step is no root")
        << "a=cancelled b<a=cancelled"
        << ""
        << "";
    QTest::newRow("blocked by a stalled run, not by a root: waits on nothing")
        << "a=blocked b<a=blocked"
        << ""
        << "";
}

void TestRootCause::rootsAndWhatWaitsOnThem() {
    QFETCH(QString, run);
    QFETCH(QString, roots);
    QFETCH(QString, blockedBy);
    const Run parsed = parseRun(run);
    const RootCauses found = findRootCauses(parsed.flow, parsed.rows);
    QCOMPARE(found.roots, ids(roots));
    QCOMPARE(found.blockedBy, parseBlockedBy(blockedBy));
}

void TestRootCause::countsTheStepsWaitingOnEachRoot() {
    const Run run = parseRun(QStringLiteral("a=failed b=uncertain c<a=blocked d<b=pending "
                                            "e<c,d=blocked f=failed"));
    const RootCauses found = findRootCauses(run.flow, run.rows);
    QCOMPARE(found.waitingCount.value(QStringLiteral("a")), 2); // c, e
    QCOMPARE(found.waitingCount.value(QStringLiteral("b")), 2); // d, e
    QCOMPARE(found.waitingCount.value(QStringLiteral("f")), 0);
    QVERIFY(found.isRoot(QStringLiteral("f")));
    QVERIFY(!found.isRoot(QStringLiteral("c")));
}

void TestRootCause::aRowTheFlowLacksCanStillBeARoot() {
    // The stored flow could not be read: the roots are known from the states alone.
    const Run run = parseRun(QStringLiteral("a=failed b<a=blocked"));
    const RootCauses found = findRootCauses(Flow{}, run.rows);
    QCOMPARE(found.roots, QStringList{QStringLiteral("a")});
    QVERIFY(found.blockedBy.isEmpty());
}

void TestRootCause::describesTheRootInWords_data() {
    QTest::addColumn<StepState>("state");
    QTest::addColumn<int>("waiting");
    QTest::addColumn<QString>("text");
    QTest::newRow("uncertain, six waiting")
        << StepState::Uncertain << 6 << "charge has an uncertain outcome; 6 steps wait on it";
    QTest::newRow("failed, one waiting")
        << StepState::Failed << 1 << "charge failed; 1 step waits on it";
    QTest::newRow("waiting for approval, none waiting")
        << StepState::WaitingForOperator << 0 << "charge waits for an operator's approval";
    QTest::newRow("paused") << StepState::Paused << 2 << "charge is paused; 2 steps wait on it";
}

void TestRootCause::describesTheRootInWords() {
    QFETCH(StepState, state);
    QFETCH(int, waiting);
    QFETCH(QString, text);
    QCOMPARE(describeRootCause(QStringLiteral("charge"), state, waiting), text);
}

void TestRootCause::statusJsonCarriesRootCausesAndBlockedBy() {
    const Run run = parseRun(QStringLiteral("cart=succeeded charge<cart=uncertain "
                                            "ship<charge=pending"));
    RunRow runRow;
    runRow.id = QStringLiteral("r1");
    const QJsonObject status =
        runStatusJson(runRow, run.rows, {}, {}, findRootCauses(run.flow, run.rows));
    QCOMPARE(status.value(QLatin1String("run")).toObject().value(QLatin1String("root_causes")),
             QJsonArray{QStringLiteral("charge")});
    const QJsonArray steps = status.value(QLatin1String("steps")).toArray();
    QCOMPARE(steps.size(), 3);
    // Absent, not empty, where a step waits on nothing.
    QVERIFY(!steps[0].toObject().contains(QLatin1String("blocked_by")));
    QVERIFY(!steps[1].toObject().contains(QLatin1String("blocked_by")));
    QCOMPARE(steps[2].toObject().value(QLatin1String("blocked_by")),
             QJsonArray{QStringLiteral("charge")});
}

void TestRootCause::statusTextNamesTheRootCause() {
    const Run run = parseRun(QStringLiteral("cart=succeeded charge<cart=uncertain "
                                            "ship<charge=pending mail<charge=pending"));
    RunRow runRow;
    runRow.id = QStringLiteral("r1");
    const QString text =
        runStatusText(runStatusJson(runRow, run.rows, {}, {}, findRootCauses(run.flow, run.rows)));
    QVERIFY2(text.contains(
                 QLatin1String("root cause: charge has an uncertain outcome; 2 steps wait on it")),
             qPrintable(text));
    QVERIFY2(text.contains(QRegularExpression(QStringLiteral("ship .*waits on charge"))),
             qPrintable(text));
}

QTEST_GUILESS_MAIN(TestRootCause)
#include "tst_rootcause.moc"
