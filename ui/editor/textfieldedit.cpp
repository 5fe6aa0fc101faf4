#include "textfieldedit.h"

#include <QKeyEvent>

namespace keepflow::ui {

TextFieldEdit::TextFieldEdit(QWidget *parent)
    : QPlainTextEdit(parent) {
    setTabChangesFocus(true); // a form field: Tab moves on rather than inserting a tab
    setMaximumHeight(fontMetrics().lineSpacing() * 6 + 2 * frameWidth() + 8);
}

void TextFieldEdit::setFieldText(const QString &text) {
    m_shown = text;
    if (toPlainText() != text) {
        const QSignalBlocker blocker(this);
        setPlainText(text);
    }
}

void TextFieldEdit::finish() {
    if (toPlainText() == m_shown)
        return;
    m_shown = toPlainText();
    Q_EMIT editingFinished();
}

void TextFieldEdit::focusOutEvent(QFocusEvent *event) {
    QPlainTextEdit::focusOutEvent(event);
    finish();
}

void TextFieldEdit::keyPressEvent(QKeyEvent *event) {
    if ((event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) &&
        (event->modifiers() & Qt::ControlModifier)) {
        finish();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

} // namespace keepflow::ui
