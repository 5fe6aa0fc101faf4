#pragma once

// An ordered list of strings (a shell step's argv, one argument per row) with buttons to add,
// remove and reorder rows. Arguments are edited in place; each finished change emits edited()
// once, so the owner can make it one undo command.

#include <QStringList>
#include <QWidget>

class QListWidget;
class QListWidgetItem;
class QToolButton;

namespace keepflow::ui {

class ArgvListEdit : public QWidget {
    Q_OBJECT
public:
    explicit ArgvListEdit(QWidget *parent = nullptr);

    /// Shows arguments; emits nothing.
    void setArguments(const QStringList &arguments);
    QStringList arguments() const;
    QListWidget *list() const { return m_list; }

    /// Appends an empty argument and opens its editor; edited() follows when it is committed.
    void addArgument();
    /// Removes the current row.
    void removeCurrent();
    /// Moves the current row by delta (-1 up, +1 down).
    void moveCurrent(int delta);

Q_SIGNALS:
    /// The list changed by the user (an argument committed, added, removed or moved).
    void edited();

private:
    QListWidgetItem *makeItem(const QString &text);
    void updateButtons();

    QListWidget *m_list = nullptr;
    QToolButton *m_add = nullptr;
    QToolButton *m_remove = nullptr;
    QToolButton *m_up = nullptr;
    QToolButton *m_down = nullptr;
};

} // namespace keepflow::ui
