#pragma once

// File → Secrets…: the secrets the open flows reference, whether each is stored in the keyring,
// and a field to store or replace one. Values are typed into a password field and never shown.

#include "core/status.h"

#include <QDialog>
#include <QStringList>

#include <functional>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace keepflow::ui {

class SecretsDialog : public QDialog {
    Q_OBJECT
public:
    using StoreFunction =
        std::function<void(const QString &name, const QString &value, std::function<void(Status)>)>;

    /// referenced: names in the open flows; stored: names already in the keyring.
    SecretsDialog(const QStringList &referenced, const QStringList &stored, StoreFunction store,
                  QWidget *parent = nullptr);

private:
    void refresh();
    void storeValue();
    void answered(const QString &name, const Status &status);

    QStringList m_stored;
    StoreFunction m_store;
    QListWidget *m_list;
    QLineEdit *m_value;
    QPushButton *m_storeButton;
    QLabel *m_message;
};

} // namespace keepflow::ui
