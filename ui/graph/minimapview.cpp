#include "minimapview.h"

#include "graphscene.h"
#include "graphview.h"

#include <QMouseEvent>
#include <QWheelEvent>

namespace keepflow::ui {

MinimapView::MinimapView(GraphView *mainView)
    : QGraphicsView(mainView)
    , m_mainView(mainView) {
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
}

void MinimapView::refit() {
    if (!scene())
        return;
    fitInView(sceneRect(), Qt::KeepAspectRatio);
    viewport()->update();
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
