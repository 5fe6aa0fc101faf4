#pragma once

// A short message on the canvas where an edit was refused ("would create a cycle: a -> b -> a"):
// an icon and the reason on a bordered box, always drawn at the same size whatever the zoom.
// EditorScene shows one at a time and removes it after a few seconds.
//
// Threading: GUI thread.

#include <QGraphicsItem>
#include <QString>

namespace keepflow::ui {

class NoticeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 5 };

    /// Anchored (top-left) at pos in scene coordinates.
    NoticeItem(const QString &text, QPointF pos);

    const QString &text() const { return m_text; }

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option,
               QWidget *widget = nullptr) override;

private:
    QString m_text;
    QRectF m_bounds;
};

} // namespace keepflow::ui
