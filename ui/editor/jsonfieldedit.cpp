#include "jsonfieldedit.h"

#include "fieldparsing.h"

#include <QFontDatabase>

namespace keepflow::ui {

JsonFieldEdit::JsonFieldEdit(QWidget *parent)
    : TextFieldEdit(parent) {
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setLineWrapMode(QPlainTextEdit::NoWrap);
    connect(this, &QPlainTextEdit::textChanged, this, &JsonFieldEdit::check);
}

void JsonFieldEdit::setValue(const QJsonValue &value) {
    setFieldText(jsonText(value, true));
    check();
}

void JsonFieldEdit::check() {
    const auto parsed = parseJsonText(toPlainText());
    const QString problem = parsed ? QString() : parsed.error();
    if (problem == m_problem)
        return;
    m_problem = problem;
    Q_EMIT problemChanged(m_problem);
}

} // namespace keepflow::ui
