#pragma once

// A dependency of the run graph: a curve with an arrowhead from the right side of the upstream
// box to the left side of the downstream one. Dashed while the downstream step is blocked. Holds
// only the two ids and its path, recomputed when the editor moves one of its steps. In the editor
// it is a selectable wire (hit-tested along the curve, not its bounding box).
//
// Threading: GUI thread.

#include <QGraphicsItem>
#include <QPainterPath>
#include <QPolygonF>
#include <QString>

namespace keepflow::ui {

class EdgeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 2 };

    /// from and to are the centers of the two boxes, in scene coordinates.
    EdgeItem(const QString &fromId, const QString &toId, QPointF from, QPointF to);

    const QString &fromId() const { return m_fromId; }
    const QString &toId() const { return m_toId; }
    /// True while the downstream step is blocked (an upstream failed).
    bool isDashed() const;

    /// New centers of the two boxes (a step moved in the editor).
    void setEndpoints(QPointF from, QPointF to);
    /// Editable wires can be clicked and selected; run graph edges let clicks pan the view.
    void setEditable(bool editable);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option,
               QWidget *widget = nullptr) override;

private:
    QString m_fromId;
    QString m_toId;
    QPointF m_start;
    QPointF m_end;
    QPainterPath m_path;
    QPolygonF m_arrow;
    QRectF m_bounds;
};

} // namespace keepflow::ui
