#include "wireitem.h"

#include <QPen>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

WireItem::WireItem(QPointF start)
    : m_start(start)
    , m_end(start) {
    setZValue(3); // above the steps it passes over
    setAcceptedMouseButtons(Qt::NoButton);
    QPen pen(QColor(0x1e, 0x63, 0xb4), 2, Qt::DashLine);
    pen.setCosmetic(true);
    setPen(pen);
    setEnd(start);
}

void WireItem::setEnd(QPointF end) {
    m_end = end;
    // The same horizontal tangents as EdgeItem, so the wire looks like the edge it will become.
    const qreal pull = std::max(40.0, std::abs(end.x() - m_start.x()) / 2);
    QPainterPath path(m_start);
    path.cubicTo(m_start + QPointF(pull, 0), end - QPointF(pull, 0), end);
    setPath(path);
}

} // namespace keepflow::ui
