// The editor's document model (ui/editor/flowdocument): every edit is one undo command that
// undoes to the same bytes, drags merge, wires that would break the graph are refused with a
// reason, copy/paste renames and keeps only inner wires, files round-trip unchanged.

#include "flowdocument.h"
#include "stepdefaults.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// Fixed DPI for widget tests; set before QTEST_MAIN creates the application.
const bool kFixedDpi = qputenv("QT_FONT_DPI", "96");

// fetch -> transform -> load -> notify, transform -> report; alert is load's fallback step;
// orphan has no position; ui keeps a key that is not the editor's position. ("\/\/": moc 6.4
// reads "//" inside a raw string as a comment and then misses the test class.)
const char kFlowText[] = R"({
  "keepflow": 1,
  "name": "pipeline",
  "params": { "day": { "default": "2026-01-01" } },
  "steps": [
    { "id": "fetch", "kind": "http",
      "with": { "method": "GET", "url": "https:\/\/example.invalid/{{params.day}}" },
      "ui": { "x": 0, "y": 0, "collapsed": true } },
    { "id": "transform", "kind": "shell", "after": ["fetch"],
      "with": { "argv": ["tr", "a-z", "A-Z"] }, "ui": { "x": 200, "y": 0 } },
    { "id": "load", "kind": "sql", "after": ["transform"],
      "with": { "connection": "main", "statement": "SELECT 1" },
      "fallback": { "step": "alert" }, "ui": { "x": 400, "y": 0 } },
    { "id": "report", "kind": "noop", "after": ["transform"], "ui": { "x": 400, "y": 120 } },
    { "id": "notify", "kind": "noop", "after": ["load", "report"], "ui": { "x": 600, "y": 60 } },
    { "id": "alert", "kind": "noop", "ui": { "x": 400, "y": -120 } },
    { "id": "orphan", "kind": "delay", "with": { "duration": "1s" } }
  ]
}
)";

QStringList exampleFiles() {
    QStringList files;
    for (const char *dir : {KEEPFLOW_EXAMPLES, KEEPFLOW_DEMO}) {
        const QDir d(QString::fromUtf8(dir));
        for (const QString &name : d.entryList({QStringLiteral("*.flow.json")}, QDir::Files))
            files.append(d.filePath(name));
    }
    return files;
}

QByteArray readAll(const QString &path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList errorsOf(const QList<Diagnostic> &diagnostics) {
    QStringList errors;
    for (const Diagnostic &d : diagnostics) {
        if (d.severity == Diagnostic::Severity::Error)
            errors.append(d.path + QLatin1String(": ") + d.message);
    }
    return errors;
}

const Step &stepOf(const FlowDocument &doc, const QString &id) {
    static const Step none;
    const Step *s = doc.flow().step(id);
    return s ? *s : none;
}

} // namespace

class TestFlowDocument : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_flowPath;

    // A document holding kFlowText, freshly loaded (clean, empty undo stack).
    void open(FlowDocument &doc) {
        const Status status = doc.load(m_flowPath);
        QVERIFY2(status.isOk(), qPrintable(status.message()));
    }

    // One edit by name (the rows of everyEditUndoesAndRedoesToTheSameBytes).
    Status edit(FlowDocument &doc, const QString &name) {
        if (name == QLatin1String("add"))
            return doc.requestStepAdd(QStringLiteral("http"), QPointF(10, 20)).status();
        if (name == QLatin1String("remove with wires"))
            return doc.requestStepsRemove({QStringLiteral("transform")});
        if (name == QLatin1String("remove fallback target"))
            return doc.requestStepsRemove({QStringLiteral("alert")});
        if (name == QLatin1String("remove several"))
            return doc.requestStepsRemove(
                {QStringLiteral("notify"), QStringLiteral("fetch"), QStringLiteral("orphan")});
        if (name == QLatin1String("move")) {
            for (int i = 0; i < 5; ++i) {
                const Status s = doc.requestStepsMove(
                    {QStringLiteral("fetch"), QStringLiteral("orphan")}, QPointF(3.25, -1.5));
                if (!s)
                    return s;
            }
            doc.finishMove();
            return Status::ok();
        }
        if (name == QLatin1String("positions"))
            return doc.requestPositions({{QStringLiteral("report"), QPointF(1, 2)},
                                         {QStringLiteral("orphan"), QPointF(3, 4)}},
                                        QStringLiteral("Layout"));
        if (name == QLatin1String("edge add"))
            return doc.requestEdgeAdd(QStringLiteral("fetch"), QStringLiteral("notify"));
        if (name == QLatin1String("edge remove"))
            return doc.requestEdgeRemove(QStringLiteral("load"), QStringLiteral("notify"));
        if (name == QLatin1String("replace")) {
            Step s = stepOf(doc, QStringLiteral("fetch"));
            s.with.insert(QStringLiteral("method"), QStringLiteral("POST"));
            s.description = QStringLiteral("now a post");
            return doc.requestStepReplace(QStringLiteral("fetch"), s);
        }
        if (name == QLatin1String("replace with rename")) {
            Step s = stepOf(doc, QStringLiteral("alert"));
            s.id = QStringLiteral("page-oncall");
            Status status = doc.requestStepReplace(QStringLiteral("alert"), s);
            if (!status)
                return status;
            s = stepOf(doc, QStringLiteral("transform"));
            s.id = QStringLiteral("shape");
            return doc.requestStepReplace(QStringLiteral("transform"), s);
        }
        if (name == QLatin1String("flow settings")) {
            Flow settings = doc.flow();
            settings.name = QStringLiteral("renamed");
            settings.description = QStringLiteral("described");
            settings.defaultTimeout = Duration{60000, QStringLiteral("1m")};
            return doc.requestFlowSettings(settings);
        }
        if (name == QLatin1String("paste"))
            return doc
                .requestPaste(doc.copySteps({QStringLiteral("transform"), QStringLiteral("load"),
                                             QStringLiteral("alert")}),
                              QPointF(50, 50))
                .status();
        if (name == QLatin1String("duplicate"))
            return doc.requestDuplicate({QStringLiteral("load"), QStringLiteral("notify")})
                .status();
        return Status::error(QStringLiteral("unknown edit ") + name);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(kFixedDpi);
        QVERIFY(m_dir.isValid());
        m_flowPath = m_dir.filePath(QStringLiteral("pipeline.flow.json"));
        QFile f(m_flowPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kFlowText);
    }

    void everyEditUndoesAndRedoesToTheSameBytes_data() {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<int>("commands");
        QTest::newRow("add") << QStringLiteral("add") << 1;
        QTest::newRow("remove with wires") << QStringLiteral("remove with wires") << 1;
        QTest::newRow("remove fallback target") << QStringLiteral("remove fallback target") << 1;
        QTest::newRow("remove several") << QStringLiteral("remove several") << 1;
        QTest::newRow("move") << QStringLiteral("move") << 1;
        QTest::newRow("positions") << QStringLiteral("positions") << 1;
        QTest::newRow("edge add") << QStringLiteral("edge add") << 1;
        QTest::newRow("edge remove") << QStringLiteral("edge remove") << 1;
        QTest::newRow("replace") << QStringLiteral("replace") << 1;
        QTest::newRow("replace with rename") << QStringLiteral("replace with rename") << 2;
        QTest::newRow("flow settings") << QStringLiteral("flow settings") << 1;
        QTest::newRow("paste") << QStringLiteral("paste") << 1;
        QTest::newRow("duplicate") << QStringLiteral("duplicate") << 1;
    }

    void everyEditUndoesAndRedoesToTheSameBytes() {
        QFETCH(QString, edit);
        QFETCH(int, commands);
        FlowDocument doc;
        open(doc);
        const QByteArray before = doc.serialized();

        const Status status = this->edit(doc, edit);
        QVERIFY2(status.isOk(), qPrintable(status.message()));
        const QByteArray after = doc.serialized();
        QVERIFY(after != before);
        QCOMPARE(doc.undoStack()->count(), commands);

        for (int round = 0; round < 2; ++round) {
            for (int i = 0; i < commands; ++i)
                doc.undoStack()->undo();
            QCOMPARE(doc.serialized(), before);
            QVERIFY(!doc.isModified());
            for (int i = 0; i < commands; ++i)
                doc.undoStack()->redo();
            QCOMPARE(doc.serialized(), after);
            QVERIFY(doc.isModified());
        }
    }

    void removeDropsEveryReferenceAndUndoRestoresThem() {
        FlowDocument doc;
        open(doc);
        QVERIFY(doc.requestStepsRemove({QStringLiteral("transform"), QStringLiteral("alert")}));
        QCOMPARE(doc.flow().steps.size(), 5);
        QVERIFY(stepOf(doc, QStringLiteral("load")).after.isEmpty());
        QVERIFY(stepOf(doc, QStringLiteral("report")).after.isEmpty());
        QCOMPARE(stepOf(doc, QStringLiteral("load")).fallback.kind, Fallback::Kind::None);
        doc.undoStack()->undo();
        QCOMPARE(doc.flow().steps.at(1).id, QStringLiteral("transform"));
        QCOMPARE(doc.flow().steps.at(5).id, QStringLiteral("alert"));
        QCOMPARE(stepOf(doc, QStringLiteral("load")).fallback.step, QStringLiteral("alert"));
    }

    void dragOfFiftyMovesIsOneUndoCommand() {
        FlowDocument doc;
        open(doc);
        const QByteArray before = doc.serialized();
        const QStringList ids{QStringLiteral("fetch"), QStringLiteral("load")};
        QSignalSpy moved(&doc, &FlowDocument::positionsChanged);
        QSignalSpy structure(&doc, &FlowDocument::structureChanged);
        for (int i = 0; i < 50; ++i)
            QVERIFY(doc.requestStepsMove(ids, QPointF(2, 1)));
        doc.finishMove();
        QCOMPARE(doc.undoStack()->count(), 1);
        QCOMPARE(doc.stepPosition(QStringLiteral("fetch")), QPointF(100, 50));
        QCOMPARE(doc.stepPosition(QStringLiteral("load")), QPointF(500, 50));
        QCOMPARE(moved.count(), 50);
        QCOMPARE(moved.last().at(0).toStringList(), ids);
        QCOMPARE(structure.count(), 0);
        // The other keys of ui stay.
        QCOMPARE(stepOf(doc, QStringLiteral("fetch")).ui->value(QLatin1String("collapsed")),
                 QJsonValue(true));

        // A new drag after the mouse was released is a second command.
        QVERIFY(doc.requestStepsMove(ids, QPointF(1, 1)));
        QCOMPARE(doc.undoStack()->count(), 2);
        doc.finishMove();

        doc.undoStack()->undo();
        doc.undoStack()->undo();
        QCOMPARE(doc.serialized(), before);
    }

    void moveAfterUndoDoesNotMergeIntoAnOlderDrag() {
        FlowDocument doc;
        open(doc);
        const QStringList ids{QStringLiteral("fetch")};
        QVERIFY(doc.requestStepsMove(ids, QPointF(10, 0)));
        QVERIFY(doc.requestStepsMove(ids, QPointF(10, 0)));
        QVERIFY(doc.requestEdgeAdd(QStringLiteral("fetch"), QStringLiteral("orphan")));
        doc.undoStack()->undo(); // back to the drag's command on top
        QVERIFY(doc.requestStepsMove(ids, QPointF(5, 0)));
        QCOMPARE(doc.undoStack()->count(), 2);
        // Another set of steps does not merge either.
        QVERIFY(doc.requestStepsMove({QStringLiteral("load")}, QPointF(5, 0)));
        QCOMPARE(doc.undoStack()->count(), 3);
    }

    void moveOfUnpositionedStepUndoesToNoPosition() {
        FlowDocument doc;
        open(doc);
        QVERIFY(!doc.hasPosition(QStringLiteral("orphan")));
        QVERIFY(doc.requestStepsMove({QStringLiteral("orphan")}, QPointF(7, 8)));
        QVERIFY(doc.hasPosition(QStringLiteral("orphan")));
        QCOMPARE(doc.stepPosition(QStringLiteral("orphan")), QPointF(7, 8));
        doc.undoStack()->undo();
        QVERIFY(!doc.hasPosition(QStringLiteral("orphan")));
        QVERIFY(!stepOf(doc, QStringLiteral("orphan")).ui.has_value());
    }

    void edgeClosingACycleIsRefusedWithTheCycleNamed() {
        FlowDocument doc;
        open(doc);
        const QByteArray before = doc.serialized();
        QStringList path;
        QVERIFY(doc.wouldCreateCycle(QStringLiteral("notify"), QStringLiteral("transform"), &path));
        QCOMPARE(path.first(), QStringLiteral("transform"));
        QCOMPARE(path.last(), QStringLiteral("transform"));
        QCOMPARE(path.size(), 4); // transform -> load -> notify -> transform

        const Status status = doc.requestEdgeAdd(QStringLiteral("load"), QStringLiteral("fetch"));
        QVERIFY(!status);
        QCOMPARE(status.message(), QStringLiteral("adding load -> fetch would close the cycle "
                                                  "fetch -> transform -> load -> fetch"));
        QCOMPARE(doc.serialized(), before);
        QCOMPARE(doc.undoStack()->count(), 0);
        QVERIFY(!doc.isModified());
        QVERIFY(!doc.wouldCreateCycle(QStringLiteral("fetch"), QStringLiteral("notify")));
    }

    void duplicateSelfAndUnknownWiresAreRefused() {
        FlowDocument doc;
        open(doc);
        const QByteArray before = doc.serialized();
        QSignalSpy changed(&doc, &FlowDocument::changed);
        const Status duplicate =
            doc.requestEdgeAdd(QStringLiteral("fetch"), QStringLiteral("transform"));
        QVERIFY(!duplicate);
        QVERIFY2(duplicate.message().contains(QLatin1String("already waits")),
                 qPrintable(duplicate.message()));
        const Status self = doc.requestEdgeAdd(QStringLiteral("load"), QStringLiteral("load"));
        QVERIFY(!self);
        QVERIFY2(self.message().contains(QLatin1String("itself")), qPrintable(self.message()));
        QVERIFY(!doc.requestEdgeAdd(QStringLiteral("nowhere"), QStringLiteral("load")));
        QVERIFY(!doc.requestEdgeRemove(QStringLiteral("fetch"), QStringLiteral("load")));
        QVERIFY(!doc.requestStepsRemove({QStringLiteral("load"), QStringLiteral("nowhere")}));
        QVERIFY(!doc.requestStepsMove({QStringLiteral("nowhere")}, QPointF(1, 1)));
        QVERIFY(!doc.requestStepAdd(QStringLiteral("teleport"), QPointF()));
        QCOMPARE(doc.serialized(), before);
        QCOMPARE(doc.undoStack()->count(), 0);
        QCOMPARE(changed.count(), 0);
    }

    void renameFollowsReferencesAndRefusesTakenOrInvalidIds() {
        FlowDocument doc;
        open(doc);
        QSignalSpy structure(&doc, &FlowDocument::structureChanged);
        Step s = stepOf(doc, QStringLiteral("load"));
        s.id = QStringLiteral("report");
        QVERIFY(!doc.requestStepReplace(QStringLiteral("load"), s));
        s.id = QStringLiteral("load it");
        QVERIFY(!doc.requestStepReplace(QStringLiteral("load"), s));
        QCOMPARE(doc.undoStack()->count(), 0);

        s.id = QStringLiteral("store");
        QVERIFY(doc.requestStepReplace(QStringLiteral("load"), s));
        QCOMPARE(structure.count(), 1);
        QCOMPARE(stepOf(doc, QStringLiteral("notify")).after,
                 QStringList({QStringLiteral("store"), QStringLiteral("report")}));
        QCOMPARE(doc.flow().steps.at(2).id, QStringLiteral("store"));

        s = stepOf(doc, QStringLiteral("alert"));
        s.id = QStringLiteral("pager");
        QVERIFY(doc.requestStepReplace(QStringLiteral("alert"), s));
        QCOMPARE(stepOf(doc, QStringLiteral("store")).fallback.step, QStringLiteral("pager"));
        QVERIFY(errorsOf(doc.problems()).isEmpty());

        // An unchanged step is no command.
        QVERIFY(
            doc.requestStepReplace(QStringLiteral("pager"), stepOf(doc, QStringLiteral("pager"))));
        QCOMPARE(doc.undoStack()->count(), 2);
    }

    void copyPasteKeepsInnerWiresDropsOuterOnesAndRenames() {
        FlowDocument doc;
        open(doc);
        const QByteArray fragment =
            doc.copySteps({QStringLiteral("transform"), QStringLiteral("load"),
                           QStringLiteral("notify"), QStringLiteral("alert")});
        QSignalSpy structure(&doc, &FlowDocument::structureChanged);
        const Result<QStringList> pasted = doc.requestPaste(fragment, QPointF(30, 40));
        QVERIFY2(pasted.isOk(), qPrintable(pasted.error()));
        QCOMPARE(*pasted, QStringList({QStringLiteral("transform-2"), QStringLiteral("load-2"),
                                       QStringLiteral("notify-2"), QStringLiteral("alert-2")}));
        QCOMPARE(structure.count(), 1);
        QCOMPARE(doc.undoStack()->count(), 1);
        QCOMPARE(doc.flow().steps.size(), 11);

        QVERIFY(stepOf(doc, QStringLiteral("transform-2")).after.isEmpty()); // fetch not copied
        QCOMPARE(stepOf(doc, QStringLiteral("load-2")).after,
                 QStringList{QStringLiteral("transform-2")});
        QCOMPARE(stepOf(doc, QStringLiteral("notify-2")).after,
                 QStringList{QStringLiteral("load-2")}); // report not copied
        QCOMPARE(stepOf(doc, QStringLiteral("load-2")).fallback.step, QStringLiteral("alert-2"));
        QCOMPARE(doc.stepPosition(QStringLiteral("load-2")), QPointF(430, 40));
        QCOMPARE(stepOf(doc, QStringLiteral("load-2")).with,
                 stepOf(doc, QStringLiteral("load")).with);
        QVERIFY(errorsOf(doc.problems()).isEmpty());

        // Pasting again numbers on ("transform-3"), never "transform-2-2".
        const Result<QStringList> again = doc.requestPaste(fragment, QPointF(60, 80));
        QVERIFY(again.isOk());
        QCOMPARE(again->first(), QStringLiteral("transform-3"));
        const Result<QStringList> copyOfCopy =
            doc.requestPaste(doc.copySteps({QStringLiteral("load-2")}), QPointF());
        QCOMPARE(copyOfCopy->first(), QStringLiteral("load-4"));

        // A half-edited step (no url, a template naming a step left behind) pastes as it is.
        Step half = stepOf(doc, QStringLiteral("fetch"));
        half.with = {{QStringLiteral("body"), QStringLiteral("{{steps.load.output}}")}};
        half.timeout = Duration{0, QStringLiteral("soon")};
        QVERIFY(doc.requestStepReplace(QStringLiteral("fetch"), half));
        const Result<QStringList> halfPasted =
            doc.requestPaste(doc.copySteps({QStringLiteral("fetch")}), QPointF());
        QVERIFY2(halfPasted.isOk(), qPrintable(halfPasted.error()));
        Step expected = half;
        expected.id = halfPasted->first();
        Flow one;
        one.steps = {expected};
        Flow pastedOne;
        pastedOne.steps = {stepOf(doc, expected.id)};
        QCOMPARE(serializeFlow(pastedOne), serializeFlow(one));

        // Text that is not a fragment is refused.
        QVERIFY(!doc.requestPaste("hello", QPointF()));
        QVERIFY(!doc.requestPaste(R"({"steps": 3})", QPointF()));
        QVERIFY(!doc.requestPaste(R"({"keepflow": 1, "name": "x", "steps": []})", QPointF()));
        QCOMPARE(doc.undoStack()->count(), 5);
    }

    void duplicateIsOneCommandNextToTheOriginals() {
        FlowDocument doc;
        open(doc);
        const Result<QStringList> ids =
            doc.requestDuplicate({QStringLiteral("fetch"), QStringLiteral("transform")});
        QVERIFY(ids.isOk());
        QCOMPARE(*ids, QStringList({QStringLiteral("fetch-2"), QStringLiteral("transform-2")}));
        QCOMPARE(stepOf(doc, QStringLiteral("transform-2")).after,
                 QStringList{QStringLiteral("fetch-2")});
        QCOMPARE(doc.stepPosition(QStringLiteral("fetch-2")), QPointF(40, 40));
        QCOMPARE(doc.undoStack()->count(), 1);
    }

    void openSaveOpenIsUnchangedForEveryExample_data() {
        QTest::addColumn<QString>("path");
        const QStringList files = exampleFiles();
        QVERIFY(files.size() >= 4);
        for (const QString &file : files)
            QTest::newRow(qPrintable(QFileInfo(file).fileName())) << file;
    }

    void openSaveOpenIsUnchangedForEveryExample() {
        QFETCH(QString, path);
        FlowDocument doc;
        const Status loaded = doc.load(path);
        QVERIFY2(loaded.isOk(), qPrintable(loaded.message()));
        QCOMPARE(doc.filePath(), path);
        QCOMPARE(errorsOf(doc.problems()), QStringList());
        const QString copy = m_dir.filePath(QStringLiteral("copy.flow.json"));
        QVERIFY(doc.save(copy));
        QCOMPARE(readAll(copy), readAll(path));
        FlowDocument again;
        QVERIFY(again.load(copy));
        QCOMPARE(again.serialized(), doc.serialized());
    }

    void draftWithErrorsOpensAndSavesBackUnchanged() {
        const QByteArray draft = R"({
  "keepflow": 1,
  "name": "draft",
  "steps": [
    {
      "id": "a",
      "kind": "noop",
      "after": ["missing"]
    }
  ]
}
)";
        const QString path = m_dir.filePath(QStringLiteral("draft.flow.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(draft);
        f.close();
        FlowDocument doc;
        QVERIFY(doc.load(path));
        QVERIFY(!errorsOf(doc.problems()).isEmpty());
        QCOMPARE(doc.serialized(), draft);

        // An empty new flow saves and opens again.
        doc.newFlow(QStringLiteral("empty"));
        const QString empty = m_dir.filePath(QStringLiteral("empty.flow.json"));
        QVERIFY(doc.save(empty));
        FlowDocument again;
        QVERIFY(again.load(empty));
        QCOMPARE(again.serialized(), doc.serialized());

        // Text that is not a flow, or a value of the wrong type, does not open.
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(R"({ "keepflow": 1, "name": "w", "steps": [
                   { "id": "a", "kind": "noop", "timeout": 5 } ] })");
        f.close();
        const Status wrong = again.load(path);
        QVERIFY(!wrong);
        QVERIFY2(wrong.message().contains(QLatin1String("draft.flow.json")),
                 qPrintable(wrong.message()));
        QCOMPARE(again.filePath(), empty);
    }

    void modifiedFollowsUndoToTheSavedState() {
        FlowDocument doc;
        QSignalSpy modified(&doc, &FlowDocument::modifiedChanged);
        QSignalSpy path(&doc, &FlowDocument::filePathChanged);
        open(doc);
        QVERIFY(!doc.isModified());
        QCOMPARE(path.count(), 1);

        QVERIFY(doc.requestStepAdd(QStringLiteral("noop"), QPointF()).isOk());
        QVERIFY(doc.isModified());
        QCOMPARE(modified.count(), 1);
        QCOMPARE(modified.last().at(0).toBool(), true);

        const QString saved = m_dir.filePath(QStringLiteral("saved.flow.json"));
        QVERIFY(doc.save(saved));
        QVERIFY(!doc.isModified());
        QCOMPARE(modified.last().at(0).toBool(), false);
        QCOMPARE(doc.filePath(), saved);
        QCOMPARE(readAll(saved), doc.serialized());

        QVERIFY(doc.requestStepsMove({QStringLiteral("fetch")}, QPointF(5, 5)));
        QVERIFY(doc.isModified());
        doc.undoStack()->undo(); // back to what was saved
        QVERIFY(!doc.isModified());
        doc.undoStack()->undo(); // before the save
        QVERIFY(doc.isModified());
        doc.undoStack()->redo();
        QVERIFY(!doc.isModified());
        QCOMPARE(modified.count(), 6);

        // Loading and newFlow() start clean with an empty stack.
        doc.newFlow(QStringLiteral("fresh"));
        QVERIFY(!doc.isModified());
        QCOMPARE(doc.undoStack()->count(), 0);
        QVERIFY(doc.flow().steps.isEmpty());
        QVERIFY(doc.filePath().isEmpty());

        // A file that does not load changes nothing.
        const QByteArray fresh = doc.serialized();
        QVERIFY(!doc.load(m_dir.filePath(QStringLiteral("missing.flow.json"))));
        QCOMPARE(doc.serialized(), fresh);
    }

    void everyKindsDefaultStepValidates_data() {
        QTest::addColumn<QString>("kind");
        for (const QString &kind : knownStepKinds())
            QTest::newRow(qPrintable(kind)) << kind;
    }

    void everyKindsDefaultStepValidates() {
        QFETCH(QString, kind);
        Flow flow;
        flow.name = QStringLiteral("defaults");
        flow.steps.append(defaultStep(kind, kind));
        QCOMPARE(errorsOf(validateFlow(flow)), QStringList());

        FlowDocument doc;
        doc.newFlow(QStringLiteral("palette"));
        const Result<QString> first = doc.requestStepAdd(kind, QPointF(120, 40));
        const Result<QString> second = doc.requestStepAdd(kind, QPointF(120, 140));
        QVERIFY(first.isOk() && second.isOk());
        QCOMPARE(*first, kind);
        QCOMPARE(*second, kind + QStringLiteral("-2"));
        QCOMPARE(doc.stepPosition(kind), QPointF(120, 40));
        QCOMPARE(errorsOf(doc.problems()), QStringList());
        if (kind != QLatin1String("noop"))
            QVERIFY(!stepOf(doc, kind).with.isEmpty());
    }

    void uniqueIdsAreValidAndNumbered() {
        FlowDocument doc;
        open(doc);
        QCOMPARE(doc.uniqueStepId(QStringLiteral("fresh")), QStringLiteral("fresh"));
        QCOMPARE(doc.uniqueStepId(QStringLiteral("fetch")), QStringLiteral("fetch-2"));
        QCOMPARE(doc.uniqueStepId(QStringLiteral("my step")), QStringLiteral("my-step"));
        QCOMPARE(doc.uniqueStepId(QString()), QStringLiteral("step"));
    }

    void signalsTellWhatChanged() {
        FlowDocument doc;
        open(doc);
        QSignalSpy changed(&doc, &FlowDocument::changed);
        QSignalSpy structure(&doc, &FlowDocument::structureChanged);
        QSignalSpy moved(&doc, &FlowDocument::positionsChanged);
        QVERIFY(doc.requestEdgeAdd(QStringLiteral("fetch"), QStringLiteral("orphan")));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(structure.count(), 0);
        QVERIFY(doc.requestStepsRemove({QStringLiteral("orphan")}));
        QCOMPARE(structure.count(), 1);
        QVERIFY(doc.requestPositions({{QStringLiteral("fetch"), QPointF(9, 9)}}, {}));
        QCOMPARE(moved.count(), 1);
        QCOMPARE(moved.last().at(0).toStringList(), QStringList{QStringLiteral("fetch")});
        doc.undoStack()->undo();
        QCOMPARE(moved.count(), 2);
        doc.undoStack()->undo();
        QCOMPARE(structure.count(), 2);
        QCOMPARE(changed.count(), 5);
    }
};

QTEST_MAIN(TestFlowDocument)
#include "tst_flowdocument.moc"
