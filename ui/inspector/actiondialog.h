#pragma once

// Asks for what an operator action needs before it is taken: a reason (recorded with the
// action), an output or input as JSON where the action takes one, and for actions that run steps
// again the exact list of those steps. Confirming it never acts by itself: the caller does, on
// confirmed(), and may refuse() to keep the dialog open with everything as typed.

#include "operator/operatoraction.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;

namespace keepflow::ui {

class ActionDialog : public QDialog {
    Q_OBJECT
public:
    /// runAgain: the preview (null: the action runs nothing again, no list is shown).
    ActionDialog(OperatorAction::Kind kind, const QString &target, const QStringList *runAgain,
                 const QString &initialJson, QWidget *parent = nullptr);

    /// What the operator decides on, shown above the fields: an approval's prompt as rendered
    /// for this run (approve, reject). Empty: nothing is shown.
    void setPrompt(const QString &prompt);
    /// The items that will run again (retry failed items): listed under the steps.
    void setItemsPreview(const QStringList &itemKeys);

    OperatorAction::Kind kind() const { return m_kind; }
    QString reason() const;
    /// The output (or input) entered; undefined when the field was left empty.
    QJsonValue json() const;
    QStringList previewedSteps() const;

    QLineEdit *reasonEdit() const { return m_reason; }
    QPlainTextEdit *jsonEdit() const { return m_json; }
    QListWidget *previewList() const { return m_preview; }
    QListWidget *itemsList() const { return m_items; }
    QLabel *promptLabel() const { return m_prompt; }
    /// Whether confirming is possible now (a required reason given, valid JSON).
    bool canConfirm() const;
    /// What stops confirming ("A reason is required …"); empty when nothing does.
    QString problem() const;
    /// Presses the confirm button (what a person does with Enter).
    void confirm();
    /// From a receiver of confirmed(): the action was not taken (why says why). The dialog stays
    /// open with what was typed, and says why.
    void refuse(const QString &why);
    QLabel *refusalLabel() const { return m_refusal; }

Q_SIGNALS:
    /// The operator confirmed valid input. Unless a receiver calls refuse(), the dialog is then
    /// accepted (and closes).
    void confirmed();

private:
    void validate();

    OperatorAction::Kind m_kind;
    QLineEdit *m_reason = nullptr;
    QPlainTextEdit *m_json = nullptr;
    QLabel *m_jsonError = nullptr;
    QLabel *m_problem = nullptr;
    QLabel *m_prompt = nullptr;
    QLabel *m_itemsLabel = nullptr;
    QListWidget *m_preview = nullptr;
    QListWidget *m_items = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QLabel *m_refusal = nullptr;
    bool m_refused = false;
};

} // namespace keepflow::ui
