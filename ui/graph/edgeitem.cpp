#include "edgeitem.h"

#include "graphlayout.h"
#include "graphscene.h"
#include "stepview.h"

#include <QGraphicsScene>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

namespace {

constexpr qreal kArrowLength = 10.0;
constexpr qreal kArrowHalfWidth = 5.0;
constexpr qreal kPenWidth = 1.5;
// Below this scale an arrowhead is under 3 px: a straight line says as much, cheaper.
constexpr qreal kDetailLod = 0.3;
// Width of the band around the curve that counts as a click on the wire.
constexpr qreal kHitWidth = 10.0;

} // namespace

EdgeItem::EdgeItem(const QString &fromId, const QString &toId, QPointF from, QPointF to)
    : m_fromId(fromId)
    , m_toId(toId) {
    setAcceptedMouseButtons(Qt::NoButton); // clicks on an edge pan the view like the background
    setZValue(0);
    setEndpoints(from, to);
}

void EdgeItem::setEndpoints(QPointF from, QPointF to) {
    const QPointF start(from.x() + kNodeWidth / 2, from.y());
    const QPointF end(to.x() - kNodeWidth / 2, to.y());
    if (!m_path.isEmpty() && start == m_start && end == m_end)
        return;
    prepareGeometryChange();
    m_start = start;
    m_end = end;
    // Horizontal tangents at both ends, as in a left-to-right layout; the curve ends where the
    // arrowhead starts.
    const QPointF curveEnd(m_end.x() - kArrowLength, m_end.y());
    const qreal pull = std::max(40.0, std::abs(curveEnd.x() - m_start.x()) / 2);
    m_path.clear();
    m_path.moveTo(m_start);
    m_path.cubicTo(m_start + QPointF(pull, 0), curveEnd - QPointF(pull, 0), curveEnd);
    m_arrow.clear();
    m_arrow << m_end << QPointF(curveEnd.x(), m_end.y() - kArrowHalfWidth)
            << QPointF(curveEnd.x(), m_end.y() + kArrowHalfWidth);
    const qreal pad = kHitWidth / 2 + 1;
    m_bounds = m_path.boundingRect().united(m_arrow.boundingRect()).adjusted(-pad, -pad, pad, pad);
}

void EdgeItem::setEditable(bool editable) {
    setFlag(ItemIsSelectable, editable);
    setAcceptedMouseButtons(editable ? Qt::LeftButton | Qt::RightButton : Qt::NoButton);
}

bool EdgeItem::isDashed() const {
    const auto *owner = qobject_cast<const GraphScene *>(scene());
    const StepView *downstream = owner ? owner->stepView(m_toId) : nullptr;
    return downstream && downstream->state == StepState::Blocked;
}

QRectF EdgeItem::boundingRect() const {
    return m_bounds;
}

QPainterPath EdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(kHitWidth);
    QPainterPath hit = stroker.createStroke(m_path);
    hit.addPolygon(m_arrow);
    return hit;
}

void EdgeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *) {
    QColor color = scene() ? scene()->palette().color(QPalette::WindowText) : QColor(Qt::black);
    color.setAlpha(150);
    const qreal lod = option->levelOfDetailFromTransform(painter->worldTransform());
    const bool selected = option->state & QStyle::State_Selected;
    if (selected)
        color = scene()->palette().color(QPalette::Highlight);
    // A selected wire is also thicker, so the selection does not rest on color alone.
    QPen pen(color, selected ? 2 * kPenWidth : kPenWidth);
    if (isDashed())
        pen.setStyle(Qt::DashLine);
    painter->setBrush(Qt::NoBrush);
    if (lod < kDetailLod) {
        pen.setWidthF(1);
        pen.setCosmetic(true);
        painter->setPen(pen);
        painter->drawLine(m_start, m_end);
        return;
    }
    painter->setPen(pen);
    painter->drawPath(m_path);
    painter->setPen(Qt::NoPen);
    painter->setBrush(color);
    painter->drawPolygon(m_arrow);
}

} // namespace keepflow::ui
