#pragma once

// A multi-line text field (an SQL statement, a prompt) that commits like a line edit:
// editingFinished when focus leaves or on Ctrl+Return, and only when the text differs from what
// was set, so that one edit becomes one undo command.

#include <QPlainTextEdit>

namespace keepflow::ui {

class TextFieldEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit TextFieldEdit(QWidget *parent = nullptr);

    /// Shows text as the new unchanged text (keeps the cursor when it is already shown).
    /// Emits neither editingFinished nor textChanged.
    void setFieldText(const QString &text);

Q_SIGNALS:
    /// The user finished editing text that differs from what setFieldText() showed.
    void editingFinished();

protected:
    void focusOutEvent(QFocusEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    void finish();

    QString m_shown; ///< the text as last set or committed
};

} // namespace keepflow::ui
