#include "keyvaluetableedit.h"

#include "fieldparsing.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace keepflow::ui {

KeyValueTableEdit::KeyValueTableEdit(const QString &keyTitle, QWidget *parent)
    : QWidget(parent)
    , m_table(new QTableWidget(0, 2, this)) {
    m_table->setHorizontalHeaderLabels({keyTitle, tr("Value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setMaximumHeight(m_table->fontMetrics().lineSpacing() * 8);
    setFocusProxy(m_table);

    m_add = new QToolButton(this);
    m_add->setText(QStringLiteral("+"));
    m_add->setAccessibleName(tr("Add %1").arg(keyTitle.toLower()));
    m_add->setToolTip(m_add->accessibleName());
    m_remove = new QToolButton(this);
    m_remove->setText(QStringLiteral("−"));
    m_remove->setAccessibleName(tr("Remove %1").arg(keyTitle.toLower()));
    m_remove->setToolTip(m_remove->accessibleName());

    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addStretch();
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);

    connect(m_add, &QToolButton::clicked, this, &KeyValueTableEdit::addRow);
    connect(m_remove, &QToolButton::clicked, this, &KeyValueTableEdit::removeCurrent);
    connect(m_table, &QTableWidget::itemChanged, this, &KeyValueTableEdit::edited);
}

void KeyValueTableEdit::setMap(const QJsonObject &map) {
    if (map == this->map())
        return; // keeps an open editor and the current row
    const QSignalBlocker blocker(m_table);
    m_table->setRowCount(0);
    for (auto it = map.begin(); it != map.end(); ++it) {
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_table->setItem(row, 0, new QTableWidgetItem(it.key()));
        m_table->setItem(row, 1, new QTableWidgetItem(valueText(it.value())));
    }
}

QJsonObject KeyValueTableEdit::map() const {
    QJsonObject result;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QTableWidgetItem *key = m_table->item(row, 0);
        const QTableWidgetItem *value = m_table->item(row, 1);
        if (key && !key->text().trimmed().isEmpty())
            result.insert(key->text().trimmed(), value ? value->text() : QString());
    }
    return result;
}

void KeyValueTableEdit::addRow() {
    const int row = m_table->rowCount();
    {
        const QSignalBlocker blocker(m_table); // an empty row changes nothing yet
        m_table->insertRow(row);
        m_table->setItem(row, 0, new QTableWidgetItem);
        m_table->setItem(row, 1, new QTableWidgetItem);
    }
    m_table->setCurrentCell(row, 0);
    m_table->editItem(m_table->item(row, 0));
}

void KeyValueTableEdit::removeCurrent() {
    const int row = m_table->currentRow();
    if (row < 0)
        return;
    {
        const QSignalBlocker blocker(m_table);
        m_table->removeRow(row);
    }
    Q_EMIT edited();
}

} // namespace keepflow::ui
