#include "argvlistedit.h"

#include <QHBoxLayout>
#include <QListWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

QToolButton *makeButton(const QString &text, const QString &name, QWidget *parent) {
    auto *button = new QToolButton(parent);
    button->setText(text);
    button->setToolTip(name);
    button->setAccessibleName(name);
    return button;
}

} // namespace

ArgvListEdit::ArgvListEdit(QWidget *parent)
    : QWidget(parent)
    , m_list(new QListWidget(this)) {
    m_list->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                            QAbstractItemView::AnyKeyPressed);
    m_list->setMaximumHeight(m_list->fontMetrics().lineSpacing() * 7);
    setFocusProxy(m_list);

    m_add = makeButton(QStringLiteral("+"), tr("Add argument"), this);
    m_remove = makeButton(QStringLiteral("−"), tr("Remove argument"), this);
    m_up = makeButton(QStringLiteral("↑"), tr("Move argument up"), this);
    m_down = makeButton(QStringLiteral("↓"), tr("Move argument down"), this);

    auto *buttons = new QVBoxLayout;
    for (QToolButton *button : {m_add, m_remove, m_up, m_down})
        buttons->addWidget(button);
    buttons->addStretch();
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);

    connect(m_add, &QToolButton::clicked, this, &ArgvListEdit::addArgument);
    connect(m_remove, &QToolButton::clicked, this, &ArgvListEdit::removeCurrent);
    connect(m_up, &QToolButton::clicked, this, [this] { moveCurrent(-1); });
    connect(m_down, &QToolButton::clicked, this, [this] { moveCurrent(1); });
    connect(m_list, &QListWidget::itemChanged, this, &ArgvListEdit::edited);
    connect(m_list, &QListWidget::currentRowChanged, this, &ArgvListEdit::updateButtons);
    updateButtons();
}

QListWidgetItem *ArgvListEdit::makeItem(const QString &text) {
    auto *item = new QListWidgetItem(text);
    item->setFlags(item->flags() | Qt::ItemIsEditable);
    return item;
}

void ArgvListEdit::setArguments(const QStringList &arguments) {
    if (arguments == this->arguments())
        return; // keeps the selection and any open editor
    const QSignalBlocker blocker(m_list);
    const int row = m_list->currentRow();
    m_list->clear();
    for (const QString &argument : arguments)
        m_list->addItem(makeItem(argument));
    m_list->setCurrentRow(qMin(row, m_list->count() - 1));
    updateButtons();
}

QStringList ArgvListEdit::arguments() const {
    QStringList result;
    for (int i = 0; i < m_list->count(); ++i)
        result.append(m_list->item(i)->text());
    return result;
}

void ArgvListEdit::addArgument() {
    QListWidgetItem *item = makeItem(QString());
    {
        const QSignalBlocker blocker(m_list); // the empty row is not an edit yet
        m_list->addItem(item);
        m_list->setCurrentItem(item);
    }
    updateButtons();
    m_list->editItem(item);
}

void ArgvListEdit::removeCurrent() {
    const int row = m_list->currentRow();
    if (row < 0)
        return;
    {
        const QSignalBlocker blocker(m_list);
        delete m_list->takeItem(row);
        m_list->setCurrentRow(qMin(row, m_list->count() - 1));
    }
    updateButtons();
    Q_EMIT edited();
}

void ArgvListEdit::moveCurrent(int delta) {
    const int row = m_list->currentRow();
    const int to = row + delta;
    if (row < 0 || to < 0 || to >= m_list->count())
        return;
    {
        const QSignalBlocker blocker(m_list);
        QListWidgetItem *item = m_list->takeItem(row);
        m_list->insertItem(to, item);
        m_list->setCurrentRow(to);
    }
    updateButtons();
    Q_EMIT edited();
}

void ArgvListEdit::updateButtons() {
    const int row = m_list->currentRow();
    m_remove->setEnabled(row >= 0);
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row >= 0 && row + 1 < m_list->count());
}

} // namespace keepflow::ui
