#include "policydialog.h"

#include "editor/flowdocument.h"
#include "editor/propertyeditor.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

/// The retry keys of policy as a flow file writes them ("permanent" is implied, left out).
QJsonObject retryKeys(const RetryPolicy &retry) {
    QJsonArray nonRetryable;
    for (const QString &entry : retry.nonRetryable) {
        if (entry != QLatin1String("permanent"))
            nonRetryable.append(entry);
    }
    QJsonObject keys{{QStringLiteral("max_attempts"), retry.maxAttempts},
                     {QStringLiteral("initial_interval"), formatDuration(retry.initialIntervalMs)},
                     {QStringLiteral("backoff"), retry.backoff},
                     {QStringLiteral("max_interval"), formatDuration(retry.maxIntervalMs)}};
    if (!nonRetryable.isEmpty())
        keys.insert(QStringLiteral("non_retryable"), nonRetryable);
    return keys;
}

std::optional<Duration> durationOf(const std::optional<qint64> &ms) {
    if (!ms)
        return std::nullopt;
    return Duration{*ms, formatDuration(*ms)};
}

} // namespace

PolicyDialog::PolicyDialog(const Flow &flow, const QString &runId, const QString &stepId,
                           const QJsonValue &storedChange, Preview preview, QWidget *parent)
    : QDialog(parent)
    , m_stepId(stepId)
    , m_previewOf(std::move(preview))
    , m_document(new FlowDocument(this)) {
    setWindowTitle(tr("Change policy of %1").arg(stepId));
    setAccessibleName(tr("Change policy"));
    const Step *step = flow.step(stepId);
    Step copy;
    copy.id = stepId;
    copy.kind = step ? step->kind : QStringLiteral("noop");
    if (step) {
        m_current = effectiveStepPolicy(flow, *step, storedChange);
        copy.with = step->with;
    }
    // The same editor as the flow editor's, on a one-step copy holding the effective policy.
    m_document->newFlow(flow.name);
    copy.retry = retryKeys(m_current.retry);
    copy.timeout = durationOf(m_current.timeoutMs);
    copy.deadline = durationOf(m_current.deadlineMs);
    if (auto added = m_document->requestStepAdd(copy.kind, QPointF()))
        m_document->requestStepReplace(*added, copy);

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Step %1 of run %2, from its next attempt on. An attempt in "
                                "flight keeps its timeout; a waiting retry is retimed.")
                                 .arg(stepId, runId));
    intro->setWordWrap(true);
    intro->setTextFormat(Qt::PlainText);
    layout->addWidget(intro);
    m_editor = new PropertyEditor(m_document, this, PropertyEditor::Sections::Policy);
    m_editor->showStep(stepId);
    layout->addWidget(m_editor, 1);
    m_preview = new QLabel;
    m_preview->setWordWrap(true);
    m_preview->setTextFormat(Qt::PlainText);
    m_preview->setAccessibleName(tr("Preview"));
    m_preview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_preview->setMinimumHeight(m_preview->fontMetrics().lineSpacing() * 3);
    layout->addWidget(m_preview);
    auto *form = new QFormLayout;
    m_reason = new QLineEdit;
    m_reason->setAccessibleName(tr("Reason"));
    m_reason->setPlaceholderText(tr("why, recorded with the change"));
    form->addRow(tr("Reason"), m_reason);
    layout->addLayout(form);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_apply = buttons->addButton(tr("Apply"), QDialogButtonBox::AcceptRole);
    m_apply->setAccessibleName(tr("Apply"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_apply, &QPushButton::clicked, this, [this] {
        if (m_change.isEmpty())
            return;
        m_refused = false;
        Q_EMIT confirmed();
        if (!m_refused)
            accept();
    });
    connect(m_document, &FlowDocument::changed, this, &PolicyDialog::updatePreview);
    resize(540, 560);
    updatePreview();
}

PolicyDialog::~PolicyDialog() = default;

QString PolicyDialog::reason() const {
    return m_reason->text().trimmed();
}

void PolicyDialog::refuse(const QString &why) {
    m_refused = true;
    m_preview->setText(why);
    m_preview->setStyleSheet(QStringLiteral("color: palette(highlight)"));
}

void PolicyDialog::updatePreview() {
    m_change = {};
    const Step *edited = m_document->flow().step(m_stepId);
    if (!edited)
        return;
    const StepPolicy now = flowStepPolicy(m_document->flow(), *edited);
    const RetryPolicy &a = m_current.retry;
    const RetryPolicy &b = now.retry;
    if (b.maxAttempts != a.maxAttempts)
        m_change.insert(QStringLiteral("max_attempts"), b.maxAttempts);
    if (b.initialIntervalMs != a.initialIntervalMs)
        m_change.insert(QStringLiteral("initial_interval"), formatDuration(b.initialIntervalMs));
    if (b.backoff != a.backoff)
        m_change.insert(QStringLiteral("backoff"), b.backoff);
    if (b.maxIntervalMs != a.maxIntervalMs)
        m_change.insert(QStringLiteral("max_interval"), formatDuration(b.maxIntervalMs));
    if (b.nonRetryable != a.nonRetryable)
        m_change.insert(QStringLiteral("non_retryable"),
                        QJsonArray::fromStringList(b.nonRetryable));
    QString problem;
    if (now.timeoutMs != m_current.timeoutMs) {
        if (now.timeoutMs)
            m_change.insert(QStringLiteral("timeout"), formatDuration(*now.timeoutMs));
        else
            problem = tr("A timeout cannot be removed on a run under way: set a longer one.");
    }
    if (now.deadlineMs != m_current.deadlineMs) {
        if (now.deadlineMs)
            m_change.insert(QStringLiteral("deadline"), formatDuration(*now.deadlineMs));
        else
            problem = tr("A deadline cannot be removed on a run under way: set a later one.");
    }
    QString text;
    bool ok = false;
    bool isError = !problem.isEmpty();
    if (isError) {
        text = problem;
    } else if (m_change.isEmpty()) {
        text = tr("Nothing changes yet: edit a value above.");
    } else if (m_previewOf) {
        const auto preview = m_previewOf(m_change);
        ok = preview.isOk();
        isError = !ok;
        text = ok ? preview->text() : preview.error();
    }
    if (!ok)
        m_change = {}; // nothing that could apply
    m_preview->setText(text);
    // The engine's refusal stands out; the palette's highlight keeps it readable in both themes.
    m_preview->setStyleSheet(isError ? QStringLiteral("color: palette(highlight)") : QString());
    m_apply->setEnabled(ok);
}

} // namespace keepflow::ui
