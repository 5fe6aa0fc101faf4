#pragma once

// One labelled row of the editors' forms: the field, and under it in the same cell a problem line
// that is hidden until there is a problem to show.

#include <QString>

class QFormLayout;
class QLabel;
class QWidget;

namespace keepflow::ui {

struct FormRow {
    QLabel *label = nullptr;
    QWidget *cell = nullptr; ///< holds the field and its problem line
    QLabel *error = nullptr;
};

/// Adds the row to form; the field gets label as its accessible name and key as object name.
FormRow addFormRow(QFormLayout *form, const QString &key, const QString &label, QWidget *field);

} // namespace keepflow::ui
