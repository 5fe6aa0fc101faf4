// The editor's property editor, flow settings editor and validation panel (ui/editor): field edits
// become one undo command each and write what the validator accepts and the engine honours, bad
// input is refused next to its field, problems lead to the field that has them.

#include "argvlistedit.h"
#include "flowdocument.h"
#include "flowsettingseditor.h"
#include "jsonfieldedit.h"
#include "propertyeditor.h"
#include "runtime/engine.h"
#include "store/store.h"
#include "validationpanel.h"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUndoStack>

#include <algorithm>
#include <memory>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

// Fixed DPI for widget tests; set before QTEST_MAIN creates the application.
const bool kFixedDpi = qputenv("QT_FONT_DPI", "96");

const QByteArray kSample =
    "{ \"keepflow\": 1, \"name\": \"sample\", "
    "  \"resources\": { \"crm\": { \"concurrency\": 2 } }, "
    "  \"steps\": [ "
    "    { \"id\": \"fetch\", \"kind\": \"http\", \"resource\": \"crm\", "
    "      \"with\": { \"method\": \"GET\", \"url\": \"http://127.0.0.1:1/orders\" } }, "
    "    { \"id\": \"flaky\", \"kind\": \"fault\", \"after\": [\"fetch\"], "
    "      \"with\": { \"fail_first\": 10 } }, "
    "    { \"id\": \"run\", \"kind\": \"shell\", \"after\": [\"flaky\"], \"fallback\": { \"step\": "
    "\"spare\" }, "
    "      \"with\": { \"argv\": [\"echo\", \"hello\"] } }, "
    "    { \"id\": \"spare\", \"kind\": \"noop\" } "
    "  ] }";

/// A document loaded from text through a temporary file (the document's own way in).
struct Doc {
    QTemporaryDir dir;
    FlowDocument document;

    explicit Doc(const QByteArray &text = kSample) {
        const QString path = dir.filePath(QStringLiteral("sample.flow.json"));
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
            qFatal("cannot write %s", qPrintable(path));
        file.close();
        const Status loaded = document.load(path);
        if (!loaded)
            qFatal("cannot load the sample: %s", qPrintable(loaded.message()));
    }
    const Step &step(const QString &id) const { return *document.flow().step(id); }
    int undoCount() const { return document.undoStack()->count(); }
};

/// Types text into a line edit the way a user does and finishes with Return.
void typeInto(QLineEdit *edit, const QString &text) {
    QVERIFY(edit);
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
    QTest::keyClick(edit, Qt::Key_Return); // editingFinished
}

QLineEdit *lineField(PropertyEditor &editor, const QString &field) {
    return qobject_cast<QLineEdit *>(editor.fieldWidget(field));
}

bool hasErrors(const QList<Diagnostic> &problems) {
    return std::any_of(problems.begin(), problems.end(), [](const Diagnostic &d) {
        return d.severity == Diagnostic::Severity::Error;
    });
}

/// The small part of tests/engine/harness.h this test needs: one engine on a temporary store
/// with a manual clock, driven until the run ends.
struct EngineRun {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Store> store;
    std::unique_ptr<Engine> engine;

    EngineRun() {
        auto opened = Store::open(dir.filePath(QStringLiteral("engine.db")));
        if (!opened)
            qFatal("cannot open the store: %s", qPrintable(opened.error()));
        store = std::move(*opened);
        Engine::Options options;
        options.workerId = QStringLiteral("tst-propertyeditor");
        options.ownerIsDead = [](const QString &) { return true; };
        engine = std::make_unique<Engine>(*store, clock, StepKindRegistry::withBuiltins(), options);
    }

    void settle() {
        QElapsedTimer timer;
        timer.start();
        while ((engine->runningAttemptCount() > 0 || engine->hasPendingCompletions()) &&
               timer.elapsed() < 5000) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            QVERIFY(engine->pump());
        }
    }

    /// Runs flow to its end, moving the clock a minute at a time through backoff waits.
    QString runToEnd(const Flow &flow) {
        auto id = engine->createRun(flow, {}, {}, true);
        if (!id) {
            qWarning().noquote() << id.error();
            return {};
        }
        for (int round = 0; round < 200; ++round) {
            if (!engine->pump())
                return {};
            settle();
            const RunState state = store->run(*id)->state;
            if (state != RunState::Running)
                break;
            clock.advance(60'000);
        }
        return *id;
    }

    QList<AttemptRow> attempts(const QString &run, const QString &step) {
        QList<AttemptRow> rows;
        const auto all = store->attempts(run); // keep the result alive while iterating
        for (const AttemptRow &row : *all) {
            if (row.stepId == step)
                rows.append(row);
        }
        return rows;
    }
};

} // namespace

class TestPropertyEditor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void retryFieldsShowEffectiveDefaults();
    void retryEditsWriteAPolicyTheEngineHonours();
    void emptyingARetryFieldRemovesTheKey();
    void eachFieldChangeIsOneUndoCommand();
    void renamingTheIdRenamesReferences();
    void afterListShowsACheckboxOnEveryCandidate();
    void badJsonBodyIsRefusedWithAVisibleMessage();
    void badDurationIsRefusedNextToTheField();
    void takenIdIsRefusedWithTheDocumentsReason();
    void argvListEditRoundTrips();
    void kindRowsFollowTheShownStep();
    void documentChangesRefreshTheShownStep();
    void validationPanelListsAndActivatesProblems();
    void focusFieldFocusesTheRightWidget();
    void labeledFieldsHaveAccessibleNames();
    void flowSettingsEditDefaultsAndResources();
    void flowSettingsRefuseBadParamDefault();
    void largeFlowStaysResponsive();
};

void TestPropertyEditor::retryFieldsShowEffectiveDefaults() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/max_attempts"))->placeholderText(),
             QStringLiteral("3 (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/initial_interval"))->placeholderText(),
             QStringLiteral("1s (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/backoff"))->placeholderText(),
             QStringLiteral("2 (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/max_interval"))->placeholderText(),
             QStringLiteral("5m (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/jitter"))->placeholderText(),
             QStringLiteral("0.2 (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("retry/non_retryable"))->placeholderText(),
             QStringLiteral("permanent (default)"));
    QCOMPARE(lineField(editor, QStringLiteral("timeout"))->placeholderText(),
             QStringLiteral("none (default)"));
    QVERIFY(lineField(editor, QStringLiteral("retry/max_attempts"))->text().isEmpty());
    auto *idempotency =
        qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("idempotency")));
    QCOMPARE(idempotency->currentText(), QStringLiteral("(default: keyed)"));
}

void TestPropertyEditor::retryEditsWriteAPolicyTheEngineHonours() {
    Doc doc("{ \"keepflow\": 1, \"name\": \"retry\", "
            "      \"steps\": [ { \"id\": \"flaky\", \"kind\": \"fault\", \"with\": { "
            "\"fail_first\": 10 } } ] }");
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    const int before = doc.undoCount();

    typeInto(lineField(editor, QStringLiteral("retry/max_attempts")), QStringLiteral("4"));
    typeInto(lineField(editor, QStringLiteral("retry/initial_interval")), QStringLiteral("2s"));
    typeInto(lineField(editor, QStringLiteral("timeout")), QStringLiteral("30s"));
    QCOMPARE(doc.undoCount(), before + 3);

    const Flow &flow = doc.document.flow();
    const Step &step = doc.step(QStringLiteral("flaky"));
    QVERIFY(step.retry);
    QCOMPARE(step.retry->value(QLatin1String("max_attempts")).toInt(), 4);
    QCOMPARE(step.retry->value(QLatin1String("initial_interval")).toString(), QStringLiteral("2s"));
    QCOMPARE(step.retry->size(), 2); // untouched fields stay absent
    QVERIFY2(!hasErrors(validateFlow(flow)), qPrintable(validateFlow(flow).value(0).message));
    const RetryPolicy policy = flow.effectiveRetry(step);
    QCOMPARE(policy.maxAttempts, 4);
    QCOMPARE(policy.initialIntervalMs, 2000);
    QCOMPARE(policy.backoff, 2.0);
    QCOMPARE(flow.effectiveTimeoutMs(step), std::optional<qint64>(30'000));

    // The saved file reads back with the same policy.
    const FlowLoad reread = parseFlow(doc.document.serialized(), QStringLiteral("saved"));
    QVERIFY2(reread.ok(), qPrintable(reread.errorText()));
    QCOMPARE(reread.flow->effectiveRetry(reread.flow->steps.first()).maxAttempts, 4);

    // The engine makes exactly the attempts the editor set, then gives up.
    EngineRun run;
    const QString runId = run.runToEnd(flow);
    QVERIFY(!runId.isEmpty());
    QCOMPARE(run.attempts(runId, QStringLiteral("flaky")).size(), 4);
    QCOMPARE(run.store->run(runId)->state, RunState::Failed);

    // With fail_first below the budget, the last allowed attempt succeeds.
    Step fewer = step;
    fewer.with.insert(QStringLiteral("fail_first"), 3);
    QVERIFY(doc.document.requestStepReplace(QStringLiteral("flaky"), fewer));
    EngineRun second;
    const QString secondId = second.runToEnd(doc.document.flow());
    QCOMPARE(second.attempts(secondId, QStringLiteral("flaky")).size(), 4);
    QCOMPARE(second.store->run(secondId)->state, RunState::Succeeded);
}

void TestPropertyEditor::emptyingARetryFieldRemovesTheKey() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    QLineEdit *max = lineField(editor, QStringLiteral("retry/max_attempts"));
    typeInto(max, QStringLiteral("6"));
    QCOMPARE(doc.step(QStringLiteral("flaky")).retry->value(QLatin1String("max_attempts")).toInt(),
             6);
    typeInto(max, QString());
    QVERIFY(!doc.step(QStringLiteral("flaky")).retry.has_value()); // no empty "retry": {}
    QCOMPARE(max->placeholderText(), QStringLiteral("3 (default)"));
    QVERIFY(!doc.document.serialized().contains("\"retry\""));
}

void TestPropertyEditor::eachFieldChangeIsOneUndoCommand() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("fetch"));
    QUndoStack *undo = doc.document.undoStack();
    const QByteArray original = doc.document.serialized();

    typeInto(lineField(editor, QStringLiteral("description")), QStringLiteral("get orders"));
    QCOMPARE(undo->count(), 1);
    typeInto(lineField(editor, QStringLiteral("with/url")),
             QStringLiteral("https://example.org/orders"));
    QCOMPARE(undo->count(), 2);
    auto *join = qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("join")));
    join->setCurrentIndex(join->findData(QStringLiteral("all_done")));
    QCOMPARE(undo->count(), 3);
    auto *method = qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("with/method")));
    method->setCurrentIndex(method->findData(QStringLiteral("POST")));
    QCOMPARE(undo->count(), 4);
    typeInto(lineField(editor, QStringLiteral("concurrency")), QStringLiteral("3"));
    QCOMPARE(undo->count(), 5);
    // Finishing a field again without a change adds nothing.
    QTest::keyClick(lineField(editor, QStringLiteral("concurrency")), Qt::Key_Return);
    QCOMPARE(undo->count(), 5);

    const Step &step = doc.step(QStringLiteral("fetch"));
    QCOMPARE(step.description, QStringLiteral("get orders"));
    QCOMPARE(step.with.value(QLatin1String("url")).toString(),
             QStringLiteral("https://example.org/orders"));
    QCOMPARE(step.effectiveJoin(), JoinRule::AllDone);
    QCOMPARE(step.with.value(QLatin1String("method")).toString(), QStringLiteral("POST"));
    QCOMPARE(step.concurrency, std::optional<int>(3));

    // Undo takes back one field at a time, and the editor shows it.
    undo->undo();
    QVERIFY(!doc.step(QStringLiteral("fetch")).concurrency);
    QVERIFY(lineField(editor, QStringLiteral("concurrency"))->text().isEmpty());
    undo->undo();
    QCOMPARE(method->currentData().toString(), QStringLiteral("GET"));
    while (undo->canUndo())
        undo->undo();
    QCOMPARE(doc.document.serialized(), original);
    QCOMPARE(lineField(editor, QStringLiteral("description"))->text(), QString());
}

void TestPropertyEditor::afterListShowsACheckboxOnEveryCandidate() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky")); // after fetch only
    auto *after = qobject_cast<QListWidget *>(editor.fieldWidget(QStringLiteral("after")));
    QVERIFY(after);
    QCOMPARE(after->count(), 3);
    for (int i = 0; i < after->count(); ++i) {
        QListWidgetItem *item = after->item(i);
        // A check state of its own on every row: the style draws a box, empty or ticked, and
        // screen readers say "not checked"; without one "run" reads as if it were set.
        QVERIFY2(item->data(Qt::CheckStateRole).isValid(), qPrintable(item->text()));
        QCOMPARE(item->checkState(),
                 item->text() == QLatin1String("fetch") ? Qt::Checked : Qt::Unchecked);
    }
    // Ticking an unchecked candidate by keyboard adds it.
    after->setFocus();
    after->setCurrentRow(2);
    QCOMPARE(after->currentItem()->text(), QStringLiteral("spare"));
    QTest::keyClick(after, Qt::Key_Space);
    QCOMPARE(doc.step(QStringLiteral("flaky")).after,
             (QStringList{QStringLiteral("fetch"), QStringLiteral("spare")}));
}

void TestPropertyEditor::renamingTheIdRenamesReferences() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("fetch"));
    typeInto(lineField(editor, QStringLiteral("id")), QStringLiteral("orders"));
    QCOMPARE(doc.undoCount(), 1);
    QCOMPARE(editor.stepId(), QStringLiteral("orders"));
    QVERIFY(!doc.document.flow().step(QStringLiteral("fetch")));
    QCOMPARE(doc.step(QStringLiteral("flaky")).after, QStringList{QStringLiteral("orders")});
    QVERIFY(!hasErrors(doc.document.problems()));

    // Undo renames back, and the editor follows the step.
    doc.document.undoStack()->undo();
    QCOMPARE(editor.stepId(), QStringLiteral("fetch"));
    QCOMPARE(lineField(editor, QStringLiteral("id"))->text(), QStringLiteral("fetch"));
    QCOMPARE(doc.step(QStringLiteral("flaky")).after, QStringList{QStringLiteral("fetch")});

    // A fallback reference follows its step's new id too.
    editor.showStep(QStringLiteral("spare"));
    typeInto(lineField(editor, QStringLiteral("id")), QStringLiteral("backup"));
    QCOMPARE(doc.step(QStringLiteral("run")).fallback.step, QStringLiteral("backup"));
    QVERIFY(!hasErrors(doc.document.problems()));
}

void TestPropertyEditor::badJsonBodyIsRefusedWithAVisibleMessage() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.resize(500, 900);
    editor.show();
    editor.showStep(QStringLiteral("fetch"));
    auto *body = qobject_cast<JsonFieldEdit *>(editor.fieldWidget(QStringLiteral("with/body")));
    QVERIFY(body);
    const QByteArray before = doc.document.serialized();

    body->setFocus();
    QTest::keyClicks(body, QStringLiteral("{ \"order\": "));
    QVERIFY(!body->problem().isEmpty()); // checked while typing
    QTest::keyClick(body, Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(editor.fieldError(QStringLiteral("with/body")).startsWith(QStringLiteral("not JSON")));
    auto *message = editor.findChild<QLabel *>(QStringLiteral("with/body/error"));
    QVERIFY(message);
    QVERIFY(message->isVisible());
    QCOMPARE(message->text(), editor.fieldError(QStringLiteral("with/body")));
    QCOMPARE(doc.undoCount(), 0);
    QCOMPARE(doc.document.serialized(), before);

    // Fixed, it applies and the message goes.
    QTest::keyClicks(body, QStringLiteral("\"{{item.id}}\" }"));
    QVERIFY(body->problem().isEmpty());
    QTest::keyClick(body, Qt::Key_Return, Qt::ControlModifier);
    QCOMPARE(doc.undoCount(), 1);
    QVERIFY(editor.fieldError(QStringLiteral("with/body")).isEmpty());
    QVERIFY(!message->isVisible());
    QCOMPARE(doc.step(QStringLiteral("fetch")).with.value(QLatin1String("body")).toObject(),
             QJsonObject({{QStringLiteral("order"), QStringLiteral("{{item.id}}")}}));
}

void TestPropertyEditor::badDurationIsRefusedNextToTheField() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    typeInto(lineField(editor, QStringLiteral("timeout")), QStringLiteral("10 parsecs"));
    QVERIFY(editor.fieldError(QStringLiteral("timeout")).contains(QStringLiteral("duration")));
    QCOMPARE(doc.undoCount(), 0);
    typeInto(lineField(editor, QStringLiteral("retry/jitter")), QStringLiteral("1.5"));
    QVERIFY(!editor.fieldError(QStringLiteral("retry/jitter")).isEmpty());
    QCOMPARE(doc.undoCount(), 0);
    // The bad text stays for fixing while other fields commit.
    typeInto(lineField(editor, QStringLiteral("description")), QStringLiteral("x"));
    QCOMPARE(lineField(editor, QStringLiteral("timeout"))->text(), QStringLiteral("10 parsecs"));
    typeInto(lineField(editor, QStringLiteral("timeout")), QStringLiteral("10s"));
    QVERIFY(editor.fieldError(QStringLiteral("timeout")).isEmpty());
    QCOMPARE(doc.undoCount(), 2);
}

void TestPropertyEditor::takenIdIsRefusedWithTheDocumentsReason() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    QSignalSpy refused(&editor, &PropertyEditor::editRefused);
    editor.showStep(QStringLiteral("fetch"));
    typeInto(lineField(editor, QStringLiteral("id")), QStringLiteral("flaky"));
    QCOMPARE(refused.count(), 1);
    QVERIFY(!editor.fieldError(QStringLiteral("id")).isEmpty());
    QCOMPARE(editor.fieldError(QStringLiteral("id")), refused.first().first().toString());
    QCOMPARE(editor.stepId(), QStringLiteral("fetch"));
    QCOMPARE(doc.undoCount(), 0);
}

void TestPropertyEditor::argvListEditRoundTrips() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("run"));
    auto *argv = qobject_cast<ArgvListEdit *>(editor.fieldWidget(QStringLiteral("with/argv")));
    QVERIFY(argv);
    QCOMPARE(argv->arguments(), (QStringList{QStringLiteral("echo"), QStringLiteral("hello")}));
    auto argvOf = [&doc] {
        QStringList list;
        for (const QJsonValue &v :
             doc.step(QStringLiteral("run")).with.value(QLatin1String("argv")).toArray())
            list.append(v.toString());
        return list;
    };

    argv->addArgument(); // an empty row is no edit until it is committed
    QCOMPARE(doc.undoCount(), 0);
    argv->list()->item(2)->setText(QStringLiteral("world"));
    QCOMPARE(doc.undoCount(), 1);
    QCOMPARE(argvOf(), (QStringList{QStringLiteral("echo"), QStringLiteral("hello"),
                                    QStringLiteral("world")}));
    argv->list()->setCurrentRow(2);
    argv->moveCurrent(-1);
    QCOMPARE(doc.undoCount(), 2);
    QCOMPARE(argvOf(), (QStringList{QStringLiteral("echo"), QStringLiteral("world"),
                                    QStringLiteral("hello")}));
    argv->list()->setCurrentRow(2);
    argv->removeCurrent();
    QCOMPARE(doc.undoCount(), 3);
    QCOMPARE(argvOf(), (QStringList{QStringLiteral("echo"), QStringLiteral("world")}));

    // Through the saved file and back: the same list.
    const FlowLoad reread = parseFlow(doc.document.serialized(), QStringLiteral("saved"));
    QVERIFY2(reread.ok(), qPrintable(reread.errorText()));
    QCOMPARE(reread.flow->step(QStringLiteral("run"))->with.value(QLatin1String("argv")),
             doc.step(QStringLiteral("run")).with.value(QLatin1String("argv")));
    // Undo shows the earlier list in the widget.
    doc.document.undoStack()->undo();
    QCOMPARE(argv->arguments(), (QStringList{QStringLiteral("echo"), QStringLiteral("world"),
                                             QStringLiteral("hello")}));
}

void TestPropertyEditor::kindRowsFollowTheShownStep() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.show();
    editor.showStep(QStringLiteral("fetch"));
    QVERIFY(editor.fieldWidget(QStringLiteral("with/url"))->isVisible());
    QVERIFY(!editor.findChild<QWidget *>(QStringLiteral("with/argv"))->isVisible());
    editor.showStep(QStringLiteral("run"));
    QVERIFY(editor.fieldWidget(QStringLiteral("with/argv"))->isVisible());
    QVERIFY(!editor.findChild<QWidget *>(QStringLiteral("with/url"))->isVisible());
    QVERIFY(editor.fieldWidget(QStringLiteral("fallback/step"))->isEnabled());
    QVERIFY(!editor.fieldWidget(QStringLiteral("fallback/value"))->isEnabled());

    // Changing the kind keeps the keys the new kind takes and shows its rows.
    auto *kind = qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("kind")));
    kind->setCurrentIndex(kind->findData(QStringLiteral("noop")));
    QCOMPARE(doc.step(QStringLiteral("run")).kind, QStringLiteral("noop"));
    QVERIFY(doc.step(QStringLiteral("run")).with.isEmpty());
    QVERIFY(editor.fieldWidget(QStringLiteral("with/output"))->isVisible());
    QCOMPARE(doc.undoCount(), 1);
}

void TestPropertyEditor::documentChangesRefreshTheShownStep() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.show();
    QApplication::setActiveWindow(&editor);
    QVERIFY(QTest::qWaitForWindowActive(&editor));
    editor.showStep(QStringLiteral("flaky"));
    QLineEdit *description = lineField(editor, QStringLiteral("description"));
    QLineEdit *failFirst = lineField(editor, QStringLiteral("with/fail_first"));
    description->setFocus();
    QTest::keyClicks(description, QStringLiteral("abc"));
    description->setCursorPosition(1);

    // Another view edits something else of the step: that field follows, the text being typed
    // keeps its text, focus and cursor.
    Step step = doc.step(QStringLiteral("flaky"));
    step.with.insert(QStringLiteral("fail_first"), 2);
    QVERIFY(doc.document.requestStepReplace(QStringLiteral("flaky"), step));
    QCOMPARE(failFirst->text(), QStringLiteral("2"));
    QCOMPARE(description->text(), QStringLiteral("abc"));
    QVERIFY(description->hasFocus());
    QCOMPARE(description->cursorPosition(), 1);

    QTest::keyClick(description, Qt::Key_Return);
    QCOMPARE(doc.step(QStringLiteral("flaky")).description, QStringLiteral("abc"));
    QCOMPARE(description->cursorPosition(), 1); // the commit's own refresh left it alone

    // Once committed, the field follows the document again (undo from a menu).
    doc.document.undoStack()->undo();
    QCOMPARE(description->text(), QString());
    QCOMPARE(failFirst->text(), QStringLiteral("2"));

    // Removing the shown step shows nothing.
    QVERIFY(doc.document.requestStepsRemove({QStringLiteral("flaky")}));
    QVERIFY(editor.stepId().isEmpty());
}

void TestPropertyEditor::validationPanelListsAndActivatesProblems() {
    Doc doc;
    ValidationPanel panel(&doc.document);
    panel.resize(600, 300);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(panel.problems().isEmpty());
    QCOMPARE(panel.countText(), QStringLiteral("No problems"));
    QCOMPARE(panel.problemList()->accessibleName(), QStringLiteral("Problems"));

    QSignalSpy stepsChanged(&panel, &ValidationPanel::problemStepsChanged);
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    auto *resource = qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("resource")));
    QCOMPARE(resource->count(), 2); // (none), crm
    Step step = doc.step(QStringLiteral("flaky"));
    step.resource = QStringLiteral("nowhere");
    QVERIFY(doc.document.requestStepReplace(QStringLiteral("flaky"), step));
    QCOMPARE(resource->currentText(), QStringLiteral("nowhere (not defined)"));

    // Coalesced: the list follows after a short delay.
    QTRY_COMPARE(panel.problems().size(), 1);
    QCOMPARE(panel.problems().first().path, QStringLiteral("/steps/1/resource"));
    QCOMPARE(panel.countText(), QStringLiteral("1 problem"));
    QVERIFY(panel.findChild<QLabel *>()->text() == QStringLiteral("1 problem"));
    QCOMPARE(panel.problemSteps(), QSet<QString>{QStringLiteral("flaky")});
    QCOMPARE(stepsChanged.count(), 1);
    QCOMPARE(stepsChanged.first().first().value<QSet<QString>>(),
             QSet<QString>{QStringLiteral("flaky")});
    QTreeWidget *list = panel.problemList();
    QCOMPARE(list->topLevelItemCount(), 1);
    QVERIFY(!list->topLevelItem(0)->icon(0).isNull());
    QCOMPARE(list->topLevelItem(0)->text(1), QStringLiteral("/steps/1/resource"));

    QSignalSpy activated(&panel, &ValidationPanel::problemActivated);
    const QRect rect = list->visualItemRect(list->topLevelItem(0));
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.first().at(0).toString(), QStringLiteral("flaky"));
    QCOMPARE(activated.first().at(1).toString(), QStringLiteral("/steps/1/resource"));
    list->setCurrentItem(list->topLevelItem(0));
    QTest::keyClick(list, Qt::Key_Return);
    QCOMPARE(activated.count(), 2);

    // Fixing it empties the list and the marked steps.
    doc.document.undoStack()->undo();
    QTRY_VERIFY(panel.problems().isEmpty());
    QVERIFY(panel.problemSteps().isEmpty());
    QCOMPARE(stepsChanged.count(), 2);
}

void TestPropertyEditor::focusFieldFocusesTheRightWidget() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.resize(500, 700);
    editor.show();
    QApplication::setActiveWindow(&editor);
    QVERIFY(QTest::qWaitForWindowActive(&editor));

    editor.focusField(QStringLiteral("/steps/1/retry/max_attempts"));
    QCOMPARE(editor.stepId(), QStringLiteral("flaky"));
    QCOMPARE(QApplication::focusWidget(), editor.fieldWidget(QStringLiteral("retry/max_attempts")));

    editor.focusField(QStringLiteral("/steps/0/with/url"));
    QCOMPARE(editor.stepId(), QStringLiteral("fetch"));
    QCOMPARE(QApplication::focusWidget(), editor.fieldWidget(QStringLiteral("with/url")));

    editor.focusField(QStringLiteral("/steps/2/after/0"));
    QCOMPARE(QApplication::focusWidget(), editor.fieldWidget(QStringLiteral("after")));

    editor.focusField(QStringLiteral("/steps/2/with/argv/1"));
    QCOMPARE(QApplication::focusWidget()->parentWidget(),
             editor.fieldWidget(QStringLiteral("with/argv"))); // the list inside the editor

    editor.focusField(QStringLiteral("/steps/1/tolerate"));
    QCOMPARE(QApplication::focusWidget(),
             editor.fieldWidget(QStringLiteral("tolerate/max_failed")));

    // A `with` key without a widget of its own: the raw JSON of `with`.
    editor.focusField(QStringLiteral("/steps/1/with/bogus"));
    QCOMPARE(QApplication::focusWidget(), editor.fieldWidget(QStringLiteral("with")));

    editor.focusField(QStringLiteral("/steps/2/fallback/step"));
    QCOMPARE(QApplication::focusWidget(), editor.fieldWidget(QStringLiteral("fallback/step")));
}

void TestPropertyEditor::labeledFieldsHaveAccessibleNames() {
    Doc doc;
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("fetch"));
    FlowSettingsEditor settings(&doc.document);
    int checked = 0;
    for (QWidget *root : {static_cast<QWidget *>(&editor), static_cast<QWidget *>(&settings)}) {
        for (const QLabel *label : root->findChildren<QLabel *>()) {
            if (!label->buddy())
                continue;
            QVERIFY2(!label->text().isEmpty(), qPrintable(label->buddy()->objectName()));
            QCOMPARE(label->buddy()->accessibleName(), label->text());
            ++checked;
        }
    }
    QVERIFY(checked > 50);
    // Fields built from several widgets name their inner list too.
    auto *argv = editor.findChild<ArgvListEdit *>();
    QVERIFY(argv);
    QCOMPARE(argv->list()->accessibleName(), QStringLiteral("Arguments"));
}

void TestPropertyEditor::flowSettingsEditDefaultsAndResources() {
    Doc doc;
    FlowSettingsEditor settings(&doc.document);
    PropertyEditor editor(&doc.document);
    editor.showStep(QStringLiteral("flaky"));
    auto line = [&settings](const QString &field) {
        return qobject_cast<QLineEdit *>(settings.fieldWidget(field));
    };
    QCOMPARE(line(QStringLiteral("defaults/retry/max_attempts"))->placeholderText(),
             QStringLiteral("3 (default)"));

    typeInto(line(QStringLiteral("defaults/retry/max_attempts")), QStringLiteral("5"));
    QCOMPARE(doc.undoCount(), 1);
    QCOMPARE(doc.document.flow().defaultRetry->value(QLatin1String("max_attempts")).toInt(), 5);
    // The step's placeholder shows the flow default that now applies to it.
    QCOMPARE(lineField(editor, QStringLiteral("retry/max_attempts"))->placeholderText(),
             QStringLiteral("5 (default)"));
    QCOMPARE(doc.document.flow().effectiveRetry(doc.step(QStringLiteral("flaky"))).maxAttempts, 5);

    typeInto(line(QStringLiteral("defaults/timeout")), QStringLiteral("1m"));
    QCOMPARE(doc.undoCount(), 2);
    QCOMPARE(doc.document.flow().effectiveTimeoutMs(doc.step(QStringLiteral("flaky"))),
             std::optional<qint64>(60'000));
    QCOMPARE(lineField(editor, QStringLiteral("timeout"))->placeholderText(),
             QStringLiteral("1m (default)"));

    typeInto(line(QStringLiteral("name")), QStringLiteral("renamed"));
    QCOMPARE(doc.document.flow().name, QStringLiteral("renamed"));
    QCOMPARE(doc.undoCount(), 3);

    QCOMPARE(settings.currentResource(), QStringLiteral("crm"));
    typeInto(line(QStringLiteral("resource/rate/limit")), QStringLiteral("10"));
    typeInto(line(QStringLiteral("resource/rate/per")), QStringLiteral("1s"));
    typeInto(line(QStringLiteral("resource/breaker/failure_rate")), QStringLiteral("0.5"));
    QCOMPARE(doc.undoCount(), 6);
    const QJsonObject crm = doc.document.flow().resource(QStringLiteral("crm"))->definition;
    QCOMPARE(crm.value(QLatin1String("concurrency")).toInt(), 2);
    QCOMPARE(crm.value(QLatin1String("rate")).toObject(),
             QJsonObject(
                 {{QStringLiteral("limit"), 10}, {QStringLiteral("per"), QStringLiteral("1s")}}));
    QCOMPARE(crm.value(QLatin1String("breaker")).toObject().value(QLatin1String("failure_rate")),
             QJsonValue(0.5));
    QVERIFY(!hasErrors(doc.document.problems()));

    settings.addResource();
    QCOMPARE(doc.undoCount(), 7);
    QCOMPARE(settings.currentResource(), QStringLiteral("resource"));
    QVERIFY(doc.document.flow().resource(QStringLiteral("resource")));
    auto *resource = qobject_cast<QComboBox *>(editor.fieldWidget(QStringLiteral("resource")));
    QCOMPARE(resource->count(), 3); // the step's resource combo offers it
    typeInto(line(QStringLiteral("resource/concurrency")), QStringLiteral("0"));
    QVERIFY(!settings.fieldError(QStringLiteral("resource/concurrency")).isEmpty());
    QCOMPARE(doc.undoCount(), 7);

    settings.addParam();
    QCOMPARE(doc.document.flow().params.size(), 1);
    QCOMPARE(doc.document.flow().params.first().name, QStringLiteral("param"));
    QCOMPARE(doc.undoCount(), 8);
}

void TestPropertyEditor::flowSettingsRefuseBadParamDefault() {
    Doc doc("{ \"keepflow\": 1, \"name\": \"p\", "
            "      \"params\": { \"date\": { \"default\": \"2026-11-26\", \"description\": "
            "\"business day\" } }, "
            "      \"steps\": [] }");
    FlowSettingsEditor settings(&doc.document);
    auto *table = settings.findChild<QTableWidget *>();
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("\"2026-11-26\""));
    table->item(0, 1)->setText(QStringLiteral("2026-11-27"));
    QVERIFY(!settings.fieldError(QStringLiteral("params")).isEmpty());
    QCOMPARE(doc.undoCount(), 0);
    table->item(0, 1)->setText(QStringLiteral("\"2026-11-27\""));
    QVERIFY(settings.fieldError(QStringLiteral("params")).isEmpty());
    QCOMPARE(doc.undoCount(), 1);
    QCOMPARE(doc.document.flow().params.first().defaultValue.toString(),
             QStringLiteral("2026-11-27"));
    QCOMPARE(doc.document.flow().params.first().description, QStringLiteral("business day"));
}

void TestPropertyEditor::largeFlowStaysResponsive() {
    // 1,000 steps in a chain, each with a problem (an unknown resource).
    QByteArray steps;
    for (int i = 0; i < 1000; ++i) {
        if (i > 0)
            steps += ",";
        steps +=
            QStringLiteral("{ \"id\": \"s%1\", \"kind\": \"noop\", \"resource\": \"missing\"%2 }")
                .arg(i)
                .arg(i > 0 ? QStringLiteral(", \"after\": [\"s%1\"]").arg(i - 1) : QString())
                .toUtf8();
    }
    Doc doc("{ \"keepflow\": 1, \"name\": \"big\", \"steps\": [" + steps + "] }");
    ValidationPanel panel(&doc.document);
    PropertyEditor editor(&doc.document);

    QElapsedTimer timer;
    timer.start();
    panel.refreshNow();
    const qint64 refreshMs = timer.restart();
    QCOMPARE(panel.problems().size(), 1000);
    QCOMPARE(panel.problemSteps().size(), 1000);
    editor.showStep(QStringLiteral("s500"));
    const qint64 showMs = timer.restart();
    typeInto(lineField(editor, QStringLiteral("description")), QStringLiteral("middle"));
    const qint64 commitMs = timer.restart();
    panel.refreshNow();
    const qint64 secondRefreshMs = timer.elapsed();
    qInfo("1,000 steps: validation panel refresh %lld ms (again %lld ms), show step %lld ms, "
          "commit a field %lld ms",
          refreshMs, secondRefreshMs, showMs, commitMs);
    QCOMPARE(doc.step(QStringLiteral("s500")).description, QStringLiteral("middle"));
    QVERIFY(refreshMs < 2000);
    QVERIFY(commitMs < 2000);
}

QTEST_MAIN(TestPropertyEditor)
#include "tst_propertyeditor.moc"
