#include "edgeitem.h"

#include "graphlayout.h"
#include "graphscene.h"
#include "stepview.h"

#include <QGraphicsScene>
#include <QPainter>
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

} // namespace

EdgeItem::EdgeItem(const QString &fromId, const QString &toId, QPointF from, QPointF to)
    : m_fromId(fromId)
    , m_toId(toId)
    , m_start(from.x() + kNodeWidth / 2, from.y())
    , m_end(to.x() - kNodeWidth / 2, to.y()) {
    setAcceptedMouseButtons(Qt::NoButton); // clicks on an edge pan the view like the background
    setZValue(0);

    // Horizontal tangents at both ends, as in a left-to-right layout; the curve ends where the
    // arrowhead starts.
    const QPointF curveEnd(m_end.x() - kArrowLength, m_end.y());
    const qreal pull = std::max(40.0, std::abs(curveEnd.x() - m_start.x()) / 2);
    m_path.moveTo(m_start);
    m_path.cubicTo(m_start + QPointF(pull, 0), curveEnd - QPointF(pull, 0), curveEnd);
    m_arrow << m_end << QPointF(curveEnd.x(), m_end.y() - kArrowHalfWidth)
            << QPointF(curveEnd.x(), m_end.y() + kArrowHalfWidth);
    m_bounds = m_path.boundingRect().united(m_arrow.boundingRect()).adjusted(-2, -2, 2, 2);
}

bool EdgeItem::isDashed() const {
    const auto *owner = qobject_cast<const GraphScene *>(scene());
    const StepView *downstream = owner ? owner->stepView(m_toId) : nullptr;
    return downstream && downstream->state == StepState::Blocked;
}

QRectF EdgeItem::boundingRect() const {
    return m_bounds;
}

void EdgeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *) {
    QColor color = scene() ? scene()->palette().color(QPalette::WindowText) : QColor(Qt::black);
    color.setAlpha(150);
    const qreal lod = option->levelOfDetailFromTransform(painter->worldTransform());
    QPen pen(color, kPenWidth);
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
