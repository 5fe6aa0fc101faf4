#pragma once

// The palette of step kinds beside the editor's canvas: one entry per kind of knownStepKinds(),
// each with its own icon (shape and color differ per kind) and its name as label and accessible
// text, and a search field at its top ("Search step kinds") that filters the entries. Entries
// are dragged onto the canvas as EditorScene::kStepKindMimeType data holding the kind; Enter or a
// double click on one emits kindActivated, so the keyboard can add steps too.
//
// Threading: GUI thread.

#include <QIcon>
#include <QListWidget>

class QLineEdit;

namespace keepflow::ui {

class PaletteView : public QListWidget {
    Q_OBJECT
public:
    /// Item data role holding an entry's kind.
    static constexpr int KindRole = Qt::UserRole + 1;

    explicit PaletteView(QWidget *parent = nullptr);

    QLineEdit *searchField() const { return m_search; }
    /// Shows only the kinds whose name contains text (case-insensitive); empty shows all.
    void setFilterText(const QString &text);
    /// The kinds of the entries shown now, in palette order.
    QStringList visibleKinds() const;
    /// The entry of kind, or nullptr.
    QListWidgetItem *itemForKind(const QString &kind) const;

    /// The icon drawn for a step kind (a generic one for kinds the palette does not know).
    static QIcon kindIcon(const QString &kind);

Q_SIGNALS:
    /// Enter or double click on the entry of kind.
    void kindActivated(const QString &kind);

protected:
    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QList<QListWidgetItem *> &items) const override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void placeSearchField();

    QLineEdit *m_search = nullptr;
};

} // namespace keepflow::ui
