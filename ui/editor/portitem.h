#pragma once

// A connection point on a step's box in the editor: the input on the left side, the output on the
// right. A child of the StepNodeItem, so it moves with it; it holds only its step id and side.
// Dragging from an output port to another step draws a wire (EditorScene handles the mouse).
//
// Threading: GUI thread.

#include <QGraphicsItem>
#include <QString>

namespace keepflow::ui {

class PortItem : public QGraphicsItem {
public:
    enum { Type = UserType + 3 };
    enum class Side { Input, Output };

    /// Radius of the drawn circle; the area that counts as the port is a bit larger.
    static constexpr qreal kRadius = 6.0;
    static constexpr qreal kHitRadius = 10.0;

    PortItem(const QString &stepId, Side side, QGraphicsItem *parent);

    const QString &stepId() const { return m_stepId; }
    Side side() const { return m_side; }
    /// Marks the port as the target under a wire being drawn.
    void setHighlighted(bool highlighted);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option,
               QWidget *widget = nullptr) override;

private:
    QString m_stepId;
    Side m_side;
    bool m_highlighted = false;
};

} // namespace keepflow::ui
