#include "actiondialog.h"

#include "actionavailability.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace keepflow::ui {

using K = OperatorAction::Kind;

ActionDialog::ActionDialog(K kind, const QString &target, const QStringList *runAgain,
                           const QString &initialJson, QWidget *parent)
    : QDialog(parent)
    , m_kind(kind) {
    setWindowTitle(QStringLiteral("%1 — %2").arg(actionLabel(kind), target));
    setAccessibleName(windowTitle());
    // Room for a sentence of a reason and a prompt: never a strip that cuts its own labels.
    setMinimumWidth(520);
    auto *layout = new QVBoxLayout(this);
    m_prompt = new QLabel;
    m_prompt->setAccessibleName(QStringLiteral("Prompt"));
    m_prompt->setTextFormat(Qt::PlainText);
    m_prompt->setWordWrap(true);
    m_prompt->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_prompt->setVisible(false);
    layout->addWidget(m_prompt);
    if (runAgain) {
        auto *label =
            new QLabel(runAgain->isEmpty() ? QStringLiteral("No step will run again.")
                                           : QStringLiteral("These steps will run again:"));
        layout->addWidget(label);
        m_preview = new QListWidget;
        m_preview->setAccessibleName(QStringLiteral("Steps that will run again"));
        m_preview->addItems(*runAgain);
        m_preview->setMaximumHeight(140);
        m_preview->setVisible(!runAgain->isEmpty());
        layout->addWidget(m_preview);
        m_itemsLabel = new QLabel;
        m_itemsLabel->setVisible(false);
        layout->addWidget(m_itemsLabel);
        m_items = new QListWidget;
        m_items->setAccessibleName(QStringLiteral("Items that will run again"));
        m_items->setMaximumHeight(140);
        m_items->setVisible(false);
        layout->addWidget(m_items);
    }
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_reason = new QLineEdit;
    const bool required = actionNeedsReason(kind);
    // Approving records a comment (the CLI's --comment is the same field).
    const QString reasonLabel = kind == K::Approve ? QStringLiteral("Comment")
                                : required         ? QStringLiteral("Reason (required)")
                                                   : QStringLiteral("Reason (optional)");
    m_reason->setAccessibleName(kind == K::Approve ? QStringLiteral("Comment")
                                                   : QStringLiteral("Reason"));
    m_reason->setAccessibleDescription(reasonLabel);
    m_reason->setPlaceholderText(kind == K::Approve
                                     ? QStringLiteral("Optional: recorded with the approval")
                                 : required ? QStringLiteral("Why: recorded with the action")
                                            : QStringLiteral("Optional: recorded with the action"));
    form->addRow(reasonLabel, m_reason);
    connect(m_reason, &QLineEdit::textChanged, this, &ActionDialog::validate);
    if (actionTakesOutput(kind)) {
        const QString label = kind == K::SetInput ? QStringLiteral("New input (JSON object)")
                                                  : QStringLiteral("Output (JSON, optional)");
        m_json = new QPlainTextEdit;
        m_json->setAccessibleName(label);
        m_json->setFont(QFont(QStringLiteral("monospace")));
        m_json->setPlainText(initialJson);
        m_jsonError = new QLabel;
        m_jsonError->setWordWrap(true);
        form->addRow(label, m_json);
        form->addRow(QString(), m_jsonError);
        connect(m_json, &QPlainTextEdit::textChanged, this, &ActionDialog::validate);
    }
    layout->addLayout(form);
    m_problem = new QLabel;
    m_problem->setAccessibleName(QStringLiteral("Needed"));
    m_problem->setTextFormat(Qt::PlainText);
    m_problem->setWordWrap(true);
    layout->addWidget(m_problem);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QPushButton *ok = m_buttons->button(QDialogButtonBox::Ok);
    ok->setText(actionLabel(kind));
    ok->setAccessibleName(actionLabel(kind));
    m_buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(QStringLiteral("Cancel"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ActionDialog::confirm);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    m_refusal = new QLabel;
    m_refusal->setAccessibleName(QStringLiteral("Not taken"));
    m_refusal->setTextFormat(Qt::PlainText);
    m_refusal->setWordWrap(true);
    m_refusal->setVisible(false);
    layout->addWidget(m_refusal);
    layout->addWidget(m_buttons);
    validate();
    m_reason->setFocus();
}

QString ActionDialog::reason() const {
    return m_reason->text().trimmed();
}

QJsonValue ActionDialog::json() const {
    if (!m_json || m_json->toPlainText().trimmed().isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    // Wrapped so that scalars ("42", "\"ok\"") are accepted as outputs too.
    const QByteArray text = "[" + m_json->toPlainText().toUtf8() + "]";
    const QJsonDocument doc = QJsonDocument::fromJson(text);
    return doc.isArray() && doc.array().size() == 1 ? doc.array().first()
                                                    : QJsonValue(QJsonValue::Undefined);
}

QStringList ActionDialog::previewedSteps() const {
    QStringList steps;
    for (int i = 0; m_preview && i < m_preview->count(); ++i)
        steps << m_preview->item(i)->text();
    return steps;
}

void ActionDialog::confirm() {
    if (!m_buttons->button(QDialogButtonBox::Ok)->isEnabled())
        return;
    m_refused = false;
    Q_EMIT confirmed();
    if (!m_refused)
        accept();
}

void ActionDialog::refuse(const QString &why) {
    m_refused = true;
    m_refusal->setText(QStringLiteral("⚠ Not taken: %1").arg(why));
    m_refusal->setAccessibleDescription(why);
    m_refusal->setVisible(true);
}

void ActionDialog::setPrompt(const QString &prompt) {
    m_prompt->setText(prompt);
    m_prompt->setAccessibleDescription(prompt);
    m_prompt->setVisible(!prompt.isEmpty());
    adjustSize();
}

void ActionDialog::setItemsPreview(const QStringList &itemKeys) {
    if (!m_items)
        return;
    m_items->clear();
    m_items->addItems(itemKeys);
    m_items->setVisible(!itemKeys.isEmpty());
    m_itemsLabel->setText(itemKeys.isEmpty()
                              ? QString()
                              : QStringLiteral("%1 failed item(s) will run again (succeeded items "
                                               "are kept):")
                                    .arg(itemKeys.size()));
    m_itemsLabel->setVisible(!itemKeys.isEmpty());
    adjustSize();
}

bool ActionDialog::canConfirm() const {
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

QString ActionDialog::problem() const {
    return m_problem->text();
}

void ActionDialog::validate() {
    QString problem;
    QString missing;
    if (actionNeedsReason(m_kind) && reason().isEmpty())
        missing = QStringLiteral("A reason is required to %1: it is recorded with the action.")
                      .arg(actionLabel(m_kind).toLower());
    m_problem->setText(missing);
    m_problem->setVisible(!missing.isEmpty());
    if (m_json) {
        const QString text = m_json->toPlainText().trimmed();
        if (!text.isEmpty()) {
            QJsonParseError error;
            QJsonDocument::fromJson("[" + text.toUtf8() + "]", &error);
            if (error.error != QJsonParseError::NoError)
                problem = QStringLiteral("Not valid JSON at character %1: %2")
                              .arg(error.offset - 1) // not counting the added "["
                              .arg(error.errorString());
        }
        if (problem.isEmpty() && m_kind == K::SetInput && !json().isObject())
            problem = QStringLiteral("The input must be a JSON object (the step's `with`).");
        m_jsonError->setText(problem);
    }
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty() && missing.isEmpty());
}

} // namespace keepflow::ui
