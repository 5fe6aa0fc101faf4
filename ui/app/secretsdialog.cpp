#include "secretsdialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

namespace keepflow::ui {

SecretsDialog::SecretsDialog(const QStringList &referenced, const QStringList &stored,
                             StoreFunction store, QWidget *parent)
    : QDialog(parent)
    , m_stored(stored)
    , m_store(std::move(store))
    , m_list(new QListWidget(this))
    , m_value(new QLineEdit(this))
    , m_storeButton(new QPushButton(QStringLiteral("Store"), this))
    , m_message(new QLabel(this)) {
    setWindowTitle(QStringLiteral("Secrets"));
    setMinimumWidth(440); // the explanation reads in three lines, not seven
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(
        QStringLiteral("Secrets the flows reference as {{secrets.NAME}}. A value stored here goes "
                       "into the desktop keyring; KEEPFLOW_SECRET_NAME in the environment and "
                       "the secrets file come first."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_list->setAccessibleName(QStringLiteral("Secrets"));
    QStringList names = referenced + stored;
    names.removeDuplicates();
    names.sort();
    for (const QString &name : names) {
        auto *item = new QListWidgetItem(m_list);
        item->setData(Qt::UserRole, name);
    }
    layout->addWidget(m_list);
    m_value->setEchoMode(QLineEdit::Password);
    m_value->setPlaceholderText(QStringLiteral("New value"));
    m_value->setAccessibleName(QStringLiteral("Value"));
    layout->addWidget(m_value);
    m_storeButton->setAccessibleName(QStringLiteral("Store"));
    layout->addWidget(m_storeButton);
    m_message->setWordWrap(true);
    layout->addWidget(m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_storeButton, &QPushButton::clicked, this, &SecretsDialog::storeValue);
    connect(m_list, &QListWidget::currentRowChanged, this, &SecretsDialog::refresh);
    connect(m_value, &QLineEdit::textChanged, this, &SecretsDialog::refresh);
    if (m_list->count() > 0)
        m_list->setCurrentRow(0);
    refresh();
}

void SecretsDialog::refresh() {
    for (int row = 0; row < m_list->count(); ++row) {
        QListWidgetItem *item = m_list->item(row);
        const QString name = item->data(Qt::UserRole).toString();
        item->setText(QStringLiteral("%1 — %2").arg(
            name, m_stored.contains(name) ? QStringLiteral("stored in the keyring")
                                          : QStringLiteral("not in the keyring")));
    }
    m_storeButton->setEnabled(m_list->currentItem() && !m_value->text().isEmpty());
}

void SecretsDialog::storeValue() {
    if (!m_list->currentItem())
        return;
    const QString name = m_list->currentItem()->data(Qt::UserRole).toString();
    m_storeButton->setEnabled(false);
    m_message->setText(QStringLiteral("Storing %1…").arg(name));
    // The keyring answers later; the dialog may be closed by then.
    m_store(name, m_value->text(),
            [self = QPointer<SecretsDialog>(this), name](const Status &status) {
                if (!self)
                    return;
                self->answered(name, status);
            });
}

void SecretsDialog::answered(const QString &name, const Status &status) {
    {
        if (status) {
            if (!m_stored.contains(name))
                m_stored.append(name);
            m_value->clear();
            m_message->setText(QStringLiteral("Stored %1.").arg(name));
        } else {
            m_message->setText(status.message());
        }
        refresh();
    }
}

} // namespace keepflow::ui
