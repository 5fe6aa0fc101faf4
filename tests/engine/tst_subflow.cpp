// subflow: a step runs another flow file as a child run, linked both ways; the child's outcome is
// the step's, and a crash while the child runs neither loses nor repeats it.

#include "harness.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace keepflow;

namespace {

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &text) {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(text);
    return path;
}

/// Starts the parent flow file as a run whose source is that file (so relative paths resolve).
QString startFile(Harness &h, const QString &path) {
    FlowLoad load = loadFlowFile(path);
    if (!load.ok()) {
        qWarning().noquote() << load.errorText();
        return {};
    }
    auto id = h.engine->createRun(*load.flow, path, {}, true);
    if (!id) {
        qWarning().noquote() << id.error();
        return {};
    }
    h.pump();
    return *id;
}

const QByteArray kParent = R"({ "keepflow": 1, "name": "parent", "steps": [
    { "id": "sub", "kind": "subflow", "with": { "flow": "child.flow.json", "params": { "who": "ops" } } },
    { "id": "after", "kind": "noop", "after": ["sub"], "with": { "output": "{{steps.sub.output.outputs.greet}}" } } ] })";

} // namespace

class TestSubflow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void childOutcomeIsTheStepsOutcome();
    void failingChildFailsTheStep();
    void crashWhileTheChildRunsResumesIt();
    void missingChildFileFailsClearly();
};

void TestSubflow::childOutcomeIsTheStepsOutcome() {
    Harness h;
    writeFile(h.dir, QStringLiteral("child.flow.json"), R"({ "keepflow": 1, "name": "child",
        "params": { "who": {} }, "steps": [ { "id": "greet", "kind": "noop", "with": { "output": "hello {{params.who}}" } } ] })");
    const QString parentPath = writeFile(h.dir, QStringLiteral("parent.flow.json"), kParent);
    const QString run = startFile(h, parentPath);
    QVERIFY(!run.isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("sub")).state, StepState::Succeeded);
    const QJsonObject output = h.step(run, QStringLiteral("sub")).output.toObject();
    const QString child = output.value(QStringLiteral("run")).toString();
    QVERIFY(!child.isEmpty());
    QCOMPARE(h.step(run, QStringLiteral("after")).output.toString(), QStringLiteral("hello ops"));
    QCOMPARE(h.runState(run), RunState::Succeeded);
    // Linked both ways.
    const auto childRow = h.store->run(child);
    QVERIFY(childRow);
    QCOMPARE(childRow->parentRun, run);
    QCOMPARE(childRow->parentStep, QStringLiteral("sub"));
    QCOMPARE(childRow->state, RunState::Succeeded);
}

void TestSubflow::failingChildFailsTheStep() {
    Harness h;
    writeFile(h.dir, QStringLiteral("child.flow.json"), R"({ "keepflow": 1, "name": "child",
        "params": { "who": {} }, "steps": [ { "id": "greet", "kind": "fault", "with": { "fail_first": 9, "error": "permanent" } } ] })");
    const QString run = startFile(h, writeFile(h.dir, QStringLiteral("parent.flow.json"), kParent));
    const StepRunRow sub = h.step(run, QStringLiteral("sub"));
    QCOMPARE(sub.state, StepState::Failed);
    QVERIFY2(sub.error.contains(QStringLiteral("ended failed")), qPrintable(sub.error));
    QCOMPARE(h.step(run, QStringLiteral("after")).state, StepState::Blocked);
}

void TestSubflow::crashWhileTheChildRunsResumesIt() {
    Harness h;
    writeFile(h.dir, QStringLiteral("child.flow.json"),
              R"({ "keepflow": 1, "name": "child", "params": { "who": {} },
        "steps": [ { "id": "wait", "kind": "delay", "with": { "duration": "10s" } },
                   { "id": "greet", "kind": "noop", "after": ["wait"], "with": { "output": "late {{params.who}}" } } ] })");
    const QString run = startFile(h, writeFile(h.dir, QStringLiteral("parent.flow.json"), kParent));
    QCOMPARE(h.step(run, QStringLiteral("sub")).state, StepState::Running);
    h.crashAndRestart();
    QVERIFY(h.engine->adoptAvailable());
    h.pump();
    h.advance(10'000);
    h.pump();
    QCOMPARE(h.step(run, QStringLiteral("sub")).state, StepState::Succeeded);
    QCOMPARE(h.step(run, QStringLiteral("after")).output.toString(), QStringLiteral("late ops"));
    QCOMPARE(h.attempts(run, QStringLiteral("sub")).size(), 1); // the child was not started again
    int children = 0;
    const auto rows = h.store->runs();
    for (const RunRow &row : *rows)
        children += row.parentRun == run ? 1 : 0;
    QCOMPARE(children, 1);
}

void TestSubflow::missingChildFileFailsClearly() {
    Harness h;
    const QString run = startFile(h, writeFile(h.dir, QStringLiteral("parent.flow.json"), kParent));
    const StepRunRow sub = h.step(run, QStringLiteral("sub"));
    QCOMPARE(sub.state, StepState::Failed);
    QVERIFY2(sub.error.contains(QStringLiteral("child.flow.json")), qPrintable(sub.error));
}

QTEST_GUILESS_MAIN(TestSubflow)
#include "tst_subflow.moc"
