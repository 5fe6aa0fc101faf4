#pragma once

// A multi-line editor for one JSON value (a body, an output, a fallback value) that checks the
// text as it is typed and reports the problem; it commits like TextFieldEdit.

#include "textfieldedit.h"

#include <QJsonValue>

namespace keepflow::ui {

class JsonFieldEdit : public TextFieldEdit {
    Q_OBJECT
public:
    explicit JsonFieldEdit(QWidget *parent = nullptr);

    /// Shows value (indented; empty for undefined) as the new unchanged text. Emits nothing.
    void setValue(const QJsonValue &value);
    /// Why the current text is not JSON, or empty when it is (or is empty).
    const QString &problem() const { return m_problem; }

Q_SIGNALS:
    /// The live check's verdict changed: problem is empty when the text is valid again.
    void problemChanged(const QString &problem);

private:
    void check();

    QString m_problem;
};

} // namespace keepflow::ui
