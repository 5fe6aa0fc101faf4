#include "portitem.h"

#include "graphlayout.h"

#include <QGraphicsScene>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

namespace keepflow::ui {

namespace {

// Below this scale a port is a dot of a few pixels: not worth drawing, nor aiming at.
constexpr qreal kDrawLod = 0.4;

} // namespace

PortItem::PortItem(const QString &stepId, Side side, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_stepId(stepId)
    , m_side(side) {
    // The scene handles presses on ports (a wire starts there); the port only draws itself.
    setAcceptedMouseButtons(Qt::NoButton);
    setCursor(side == Side::Output ? Qt::CrossCursor : Qt::ArrowCursor);
    setPos(side == Side::Output ? kNodeWidth / 2 : -kNodeWidth / 2, 0);
    setToolTip(side == Side::Output ? QObject::tr("Drag to another step to connect them")
                                    : QObject::tr("Input"));
}

void PortItem::setHighlighted(bool highlighted) {
    if (highlighted == m_highlighted)
        return;
    m_highlighted = highlighted;
    update();
}

QRectF PortItem::boundingRect() const {
    return QRectF(-kHitRadius, -kHitRadius, 2 * kHitRadius, 2 * kHitRadius);
}

QPainterPath PortItem::shape() const {
    QPainterPath path;
    path.addEllipse(boundingRect());
    return path;
}

void PortItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *) {
    if (option->levelOfDetailFromTransform(painter->worldTransform()) < kDrawLod)
        return;
    const QPalette palette = scene() ? scene()->palette() : QPalette();
    const QColor ring =
        m_highlighted ? palette.color(QPalette::Highlight) : palette.color(QPalette::WindowText);
    const qreal radius = m_highlighted ? kRadius + 2 : kRadius;
    painter->setPen(QPen(ring, m_highlighted ? 2.5 : 1.5));
    // Outputs are filled, inputs hollow: the two sides differ by shape as well as position.
    painter->setBrush(m_side == Side::Output ? ring : palette.color(QPalette::Base));
    painter->drawEllipse(QPointF(0, 0), radius, radius);
}

} // namespace keepflow::ui
