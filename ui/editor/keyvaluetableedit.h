#pragma once

// A two-column table of names and string values (HTTP headers, a shell step's environment) with
// add and remove buttons. Each finished change emits edited() once.

#include <QJsonObject>
#include <QWidget>

class QTableWidget;
class QToolButton;

namespace keepflow::ui {

class KeyValueTableEdit : public QWidget {
    Q_OBJECT
public:
    explicit KeyValueTableEdit(const QString &keyTitle, QWidget *parent = nullptr);

    /// Shows map (values as text); emits nothing.
    void setMap(const QJsonObject &map);
    /// The rows with a non-empty name.
    QJsonObject map() const;
    QTableWidget *table() const { return m_table; }

    /// Appends an empty row and opens its name editor.
    void addRow();
    void removeCurrent();

Q_SIGNALS:
    void edited();

private:
    QTableWidget *m_table = nullptr;
    QToolButton *m_add = nullptr;
    QToolButton *m_remove = nullptr;
};

} // namespace keepflow::ui
