// The desktop's live policy changes, offscreen: "Change policy…" opens the flow editor's own
// property editor prefilled with the step's effective policy and shows the engine's preview as
// values change; Apply changes the run; a resource's limits the same way; the inspector says
// when a policy was changed live.

#include "../engine/harness.h"
#include "api/operatorapi.h"
#include "editor/propertyeditor.h"
#include "inspectorwidget.h"
#include "policydialog.h"
#include "resourcelimitsdialog.h"
#include "stepviews.h"

#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

using namespace keepflow;
using namespace keepflow::ui;

namespace {

/// Types text into a property editor field as a person does: the field commits on leaving it.
void type(PropertyEditor *editor, const QString &field, const QString &text) {
    auto *edit = qobject_cast<QLineEdit *>(editor->fieldWidget(field));
    QVERIFY2(edit, qPrintable(field));
    edit->setText(text);
    Q_EMIT edit->editingFinished();
}

} // namespace

class TestPolicyDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void changesPolicyWithTheEnginesPreview();
    void setsResourceLimits();
    void inspectorSaysChangedLive();
    void attemptBudgetFollowsALiveChange();
};

void TestPolicyDialog::changesPolicyWithTheEnginesPreview() {
    Harness h;
    const QString run = h.start(flow(R"({ "id": "fetch", "kind": "fault",
        "with": { "fail_first": 9 },
        "retry": { "max_attempts": 3, "initial_interval": "40s", "jitter": 0 }, "timeout": "30s" })"));
    QCOMPARE(h.step(run, QStringLiteral("fetch")).state, StepState::Retrying);
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto api = std::move(*OperatorApi::open(h.dbPath(), options));
    api->setExecutor(h.engine.get());
    const FlowVersionRow version = *api->flowVersion(api->run(run)->flowId);
    const Flow runFlow = *parseFlow(version.definition, version.sourcePath).flow;

    PolicyDialog dialog(runFlow, run, QStringLiteral("fetch"), QJsonValue::Undefined,
                        [&](const QJsonObject &change) {
                            return api->previewPolicy(run, QStringLiteral("fetch"), change);
                        });
    dialog.show();
    // Prefilled with the effective policy, in the editor's own fields.
    auto text = [&](const QString &field) {
        return qobject_cast<QLineEdit *>(dialog.editor()->fieldWidget(field))->text();
    };
    QCOMPARE(text(QStringLiteral("retry/max_attempts")), QStringLiteral("3"));
    QCOMPARE(text(QStringLiteral("retry/initial_interval")), QStringLiteral("40s"));
    QCOMPARE(text(QStringLiteral("timeout")), QStringLiteral("30s"));
    QVERIFY(!dialog.editor()->fieldWidget(QStringLiteral("retry/jitter")));
    QVERIFY(!dialog.editor()->fieldWidget(QStringLiteral("id")));
    QVERIFY(!dialog.applyButton()->isEnabled());

    type(dialog.editor(), QStringLiteral("retry/max_attempts"), QStringLiteral("5"));
    QCOMPARE(dialog.previewLabel()->text(),
             QStringLiteral("max_attempts 5 instead of 3 — attempt 2/5 instead of 2/3"));
    QVERIFY(dialog.applyButton()->isEnabled());
    // A value the engine refuses: its words, naming the field; Apply is off.
    type(dialog.editor(), QStringLiteral("retry/max_interval"), QStringLiteral("10s"));
    QVERIFY2(dialog.previewLabel()->text().contains(
                 QStringLiteral("max_interval (10s) is shorter than initial_interval (40s)")),
             qPrintable(dialog.previewLabel()->text()));
    QVERIFY(!dialog.applyButton()->isEnabled());
    type(dialog.editor(), QStringLiteral("retry/max_interval"), QStringLiteral("5m"));
    type(dialog.editor(), QStringLiteral("retry/initial_interval"), QStringLiteral("10s"));
    QCOMPARE(dialog.previewLabel()->text(),
             QStringLiteral("max_attempts 5 instead of 3; initial_interval 10s instead of 40s — "
                            "attempt 2/5 instead of 2/3; next attempt in 10 s instead of 40 s"));

    dialog.reasonEdit()->setText(QStringLiteral("partner is back"));
    bool applied = false;
    connect(&dialog, &PolicyDialog::confirmed, &dialog, [&] {
        OperatorAction action;
        action.kind = OperatorAction::Kind::SetPolicy;
        action.runId = run;
        action.stepId = QStringLiteral("fetch");
        action.policy = dialog.change();
        action.reason = dialog.reason();
        const auto outcome = api->act(action, OperatorApi::HandOver::Wait);
        QVERIFY2(outcome, qPrintable(outcome.error()));
        applied = true;
    });
    QTest::mouseClick(dialog.applyButton(), Qt::LeftButton);
    QVERIFY(applied);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    const QJsonObject stored = h.step(run, QStringLiteral("fetch")).policyOverride.toObject();
    QCOMPARE(stored.value(QStringLiteral("max_attempts")).toInt(), 5);
    QCOMPARE(stored.value(QStringLiteral("initial_interval")).toString(), QStringLiteral("10s"));
    QVERIFY(!stored.contains(QStringLiteral("timeout"))); // untouched: not part of the change
}

void TestPolicyDialog::setsResourceLimits() {
    Harness h;
    h.start(flow(R"({ "id": "a", "kind": "noop", "resource": "crm" })",
                 R"("resources": { "crm": { "concurrency": 2 } },)"));
    OperatorApi::Options options;
    options.clock = &h.clock;
    auto api = std::move(*OperatorApi::open(h.dbPath(), options));
    ResourceLimitsDialog dialog(
        QStringLiteral("crm"), [&](std::optional<int> concurrency, const QString &rate) {
            return api->previewResourceLimits(QStringLiteral("crm"), concurrency, rate);
        });
    dialog.show();
    QVERIFY(!dialog.applyButton()->isEnabled());
    dialog.concurrencyEdit()->setText(QStringLiteral("0"));
    QVERIFY2(dialog.previewLabel()->text().contains(QStringLiteral("concurrency must be from 1")),
             qPrintable(dialog.previewLabel()->text()));
    QVERIFY(!dialog.applyButton()->isEnabled());
    dialog.concurrencyEdit()->setText(QStringLiteral("6"));
    dialog.rateEdit()->setText(QStringLiteral("lots"));
    QVERIFY2(dialog.previewLabel()->text().contains(QStringLiteral("rate must be N/DURATION")),
             qPrintable(dialog.previewLabel()->text()));
    dialog.rateEdit()->setText(QStringLiteral("20/1s"));
    QCOMPARE(dialog.previewLabel()->text(),
             QStringLiteral("concurrency 6 instead of 2; rate 20/1s instead of none"));
    QVERIFY(dialog.applyButton()->isEnabled());
    connect(&dialog, &ResourceLimitsDialog::confirmed, &dialog, [&] {
        QVERIFY(api->setResourceLimits(dialog.resourceName(), dialog.concurrency(), dialog.rate(),
                                       dialog.reason()));
    });
    QTest::mouseClick(dialog.applyButton(), Qt::LeftButton);
    const ResourceRow row = api->resources()->first();
    QCOMPARE(row.concurrencyOverride, std::optional<int>(6));
    QCOMPARE(row.rateOverride, QStringLiteral("20/1s"));
}

void TestPolicyDialog::inspectorSaysChangedLive() {
    InspectorWidget inspector;
    InspectorData shown;
    shown.runId = QStringLiteral("r");
    shown.view.stepId = QStringLiteral("fetch");
    shown.view.state = StepState::Retrying;
    shown.step.id = QStringLiteral("fetch");
    shown.step.kind = QStringLiteral("http");
    shown.retry.maxAttempts = 5;
    shown.retry.initialIntervalMs = 10'000;
    shown.timeoutMs = 60'000;
    shown.policyChangedLive = true;
    inspector.showStep(shown);
    QCOMPARE(inspector.policyText(),
             QStringLiteral("Policy: 5 attempts, retry after 10s ×2 up to 5m, timeout 1m — "
                            "changed live on this run"));
    QVERIFY(inspector.button(OperatorAction::Kind::SetPolicy)->isEnabled());
    shown.view.state = StepState::Succeeded;
    shown.policyChangedLive = false;
    inspector.showStep(shown);
    QVERIFY(!inspector.policyText().contains(QStringLiteral("changed live")));
    QVERIFY(!inspector.button(OperatorAction::Kind::SetPolicy)->isEnabled());
}

void TestPolicyDialog::attemptBudgetFollowsALiveChange() {
    // The graph's "attempt 1/N" and the step table's attempts use the policy the engine applies.
    const FlowLoad load = parseFlow(QByteArrayLiteral(R"({ "keepflow": 1, "name": "f", "steps": [
        { "id": "fetch", "kind": "noop", "retry": { "max_attempts": 2 } } ] })"),
                                    QStringLiteral("f.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    const Flow *flow = &*load.flow;
    StepRunRow row;
    row.stepId = QStringLiteral("fetch");
    row.state = StepState::Retrying;
    row.attempts = 1;
    row.failures = 1;
    QCOMPARE(buildStepViews(*flow, {row}, {}, {}).first().maxAttempts, 2);
    row.policyOverride = QJsonObject{{QStringLiteral("max_attempts"), 5}};
    QCOMPARE(buildStepViews(*flow, {row}, {}, {}).first().maxAttempts, 5);
    // A change of other keys keeps the flow's attempts.
    row.policyOverride = QJsonObject{{QStringLiteral("initial_interval"), QStringLiteral("1s")}};
    QCOMPARE(buildStepViews(*flow, {row}, {}, {}).first().maxAttempts, 2);
}

QTEST_MAIN(TestPolicyDialog)
#include "tst_policydialog.moc"
