#include "minimapview.h"

#include "edgeitem.h"
#include "graphscene.h"
#include "graphview.h"
#include "statestyle.h"
#include "stepnodeitem.h"
#include "stepview.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

namespace keepflow::ui {

MinimapView::MinimapView(GraphView *mainView)
    : QGraphicsView(mainView)
    , m_mainView(mainView)
    , m_mirror(new QGraphicsScene(this)) {
    setAccessibleName(tr("Run graph overview"));
    setInteractive(false);
    setFocusPolicy(Qt::NoFocus); // the main view offers the same from the keyboard
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setFrameShape(QFrame::Box);
    setCursor(Qt::PointingHandCursor);
    setOptimizationFlags(DontSavePainterState);
    // Scene changes do not repaint the overview by themselves: refreshes are throttled below.
    setViewportUpdateMode(NoViewportUpdate);
    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(kRefreshIntervalMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, [this] { viewport()->update(); });
    setScene(m_mirror);
}

void MinimapView::setSourceScene(GraphScene *scene) {
    m_source = scene;
    refit();
}

void MinimapView::refit() {
    m_mirror->setSceneRect(m_source ? m_source->sceneRect() : QRectF());
    if (!m_source)
        return;
    fitInView(sceneRect(), Qt::KeepAspectRatio);
    viewport()->update();
}

void MinimapView::drawBackground(QPainter *painter, const QRectF &rect) {
    painter->fillRect(rect, palette().color(QPalette::Base));
    if (!m_source)
        return;
    // The edges as straight lines and the boxes in their state's color, as they are now.
    QPen edgePen(palette().color(QPalette::Mid), 1);
    edgePen.setCosmetic(true);
    painter->setPen(edgePen);
    for (const EdgeItem *edge : m_source->edgeItems()) {
        const StepNodeItem *from = m_source->nodeItem(edge->fromId());
        const StepNodeItem *to = m_source->nodeItem(edge->toId());
        if (from && to)
            painter->drawLine(from->pos(), to->pos());
    }
    const QRectF box = StepNodeItem::boxRect();
    for (const QString &id : m_source->stepIds()) {
        const StepNodeItem *node = m_source->nodeItem(id);
        const QRectF shown = box.translated(node->pos());
        if (!shown.intersects(rect))
            continue;
        const StepView *step = m_source->stepView(id);
        painter->fillRect(shown, stateColor(step ? step->state : StepState::Pending));
    }
}

void MinimapView::scheduleRefresh() {
    if (!m_refreshTimer.isActive())
        m_refreshTimer.start();
}

void MinimapView::updateVisibleArea() {
    if (isVisible())
        viewport()->update();
}

void MinimapView::resizeEvent(QResizeEvent *event) {
    QGraphicsView::resizeEvent(event);
    refit();
}

void MinimapView::drawForeground(QPainter *painter, const QRectF &) {
    const QRectF visible = m_mainView->mapToScene(m_mainView->viewport()->rect())
                               .boundingRect()
                               .intersected(sceneRect());
    QColor color = palette().color(QPalette::Highlight);
    QPen pen(color, 2);
    pen.setCosmetic(true);
    painter->setPen(pen);
    color.setAlpha(40);
    painter->setBrush(color);
    painter->drawRect(visible);
}

void MinimapView::centerMainViewAt(QPoint pos) {
    m_mainView->centerOn(mapToScene(pos));
}

void MinimapView::mousePressEvent(QMouseEvent *event) {
    if (event->button() == Qt::LeftButton)
        centerMainViewAt(event->position().toPoint());
    event->accept();
}

void MinimapView::mouseMoveEvent(QMouseEvent *event) {
    if (event->buttons() & Qt::LeftButton)
        centerMainViewAt(event->position().toPoint());
    event->accept();
}

void MinimapView::mouseReleaseEvent(QMouseEvent *event) {
    event->accept();
}

void MinimapView::wheelEvent(QWheelEvent *event) {
    event->ignore(); // the overview has nothing to scroll
}

} // namespace keepflow::ui
