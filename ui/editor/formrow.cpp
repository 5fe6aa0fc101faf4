#include "formrow.h"

#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace keepflow::ui {

FormRow addFormRow(QFormLayout *form, const QString &key, const QString &label, QWidget *field) {
    field->setAccessibleName(label);
    field->setObjectName(key);
    FormRow row;
    // The field and its problem line share one cell, so the problem shows right under it.
    // (Rows are hidden by hiding their widgets: QFormLayout::setRowVisible corrupts memory in
    // Qt 6.4.2 when a row's visibility changes during a layout.)
    row.error = new QLabel;
    row.error->setWordWrap(true);
    row.error->setTextFormat(Qt::PlainText);
    row.error->setObjectName(key + QLatin1String("/error"));
    row.error->setStyleSheet(QStringLiteral("color: #c62828;"));
    row.error->hide();
    row.cell = new QWidget;
    auto *cellLayout = new QVBoxLayout(row.cell);
    cellLayout->setContentsMargins(0, 0, 0, 0);
    cellLayout->setSpacing(2);
    cellLayout->addWidget(field);
    cellLayout->addWidget(row.error);
    row.label = new QLabel(label);
    row.label->setBuddy(field);
    form->addRow(row.label, row.cell);
    return row;
}

} // namespace keepflow::ui
