#include "graphview.h"

#include "graphscene.h"
#include "minimapview.h"
#include "stepnodeitem.h"

#include <QAccessible>
#include <QAction>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QScrollBar>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keepflow::ui {

namespace {

constexpr qreal kZoomStep = 1.25;
constexpr int kMinimapMargin = 8;

} // namespace

GraphView::GraphView(QWidget *parent)
    : QGraphicsView(parent) {
    init();
}

GraphView::GraphView(GraphScene *scene, QWidget *parent)
    : QGraphicsView(parent) {
    init();
    setGraphScene(scene);
}

GraphView::~GraphView() = default;

void GraphView::init() {
    setAccessibleName(tr("Run graph"));
    setFocusPolicy(Qt::StrongFocus);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing |
                   QPainter::SmoothPixmapTransform);
    setViewportUpdateMode(SmartViewportUpdate);
    // Items set every pen, brush and font they use (stepnodeitem.cpp, edgeitem.cpp).
    setOptimizationFlags(DontSavePainterState);
    setDragMode(ScrollHandDrag);
    setTransformationAnchor(AnchorViewCenter);
    setResizeAnchor(AnchorViewCenter);

    m_fitAction = new QAction(tr("Fit"), this);
    m_fitAction->setToolTip(tr("Show the whole graph (F)"));
    connect(m_fitAction, &QAction::triggered, this, &GraphView::fitAll);
    m_zoomInAction = new QAction(tr("Zoom in"), this);
    m_zoomInAction->setToolTip(tr("Zoom in (+, Ctrl+wheel)"));
    connect(m_zoomInAction, &QAction::triggered, this, &GraphView::zoomIn);
    m_zoomOutAction = new QAction(tr("Zoom out"), this);
    m_zoomOutAction->setToolTip(tr("Zoom out (-, Ctrl+wheel)"));
    connect(m_zoomOutAction, &QAction::triggered, this, &GraphView::zoomOut);
    m_minimapAction = new QAction(tr("Minimap"), this);
    m_minimapAction->setCheckable(true);
    m_minimapAction->setChecked(true);
    connect(m_minimapAction, &QAction::toggled, this, &GraphView::setMinimapVisible);

    m_minimap = new MinimapView(this);
}

void GraphView::setGraphScene(GraphScene *scene) {
    if (m_scene)
        disconnect(m_scene, nullptr, this, nullptr);
    m_scene = scene;
    setScene(scene);
    m_minimap->setScene(scene);
    const bool editable = scene && scene->isEditable();
    setAccessibleName(editable ? tr("Flow canvas") : tr("Run graph"));
    // The editor selects with a rubber band; the monitor pans by dragging the background.
    setDragMode(editable ? RubberBandDrag : ScrollHandDrag);
    if (scene) {
        connect(scene, &QGraphicsScene::sceneRectChanged, this, [this] {
            m_minimap->refit();
            placeMinimap();
            // The editor's rect grows while steps are dragged: refitting would pull the view away.
            if (!m_scene->isEditable() || m_fitPending)
                fitAll();
        });
        connect(scene, &GraphScene::fitRequested, this, &GraphView::fitAll);
        connect(scene, &GraphScene::stepSelected, this, [this](const QString &id) {
            if (!id.isEmpty())
                revealStep(id);
            updateAccessibleDescription();
        });
        connect(scene, &GraphScene::updatesFlushed, this, [this] {
            m_minimap->scheduleRefresh();
            updateAccessibleDescription();
        });
    }
    m_fitPending = true;
    if (isVisible())
        fitAll();
    placeMinimap();
}

GraphScene *GraphView::graphScene() const {
    return m_scene;
}

qreal GraphView::zoom() const {
    return transform().m11();
}

qreal GraphView::fitZoom() const {
    const QRectF rect = m_scene ? m_scene->contentRect() : sceneRect();
    const QSize area = viewport()->size();
    if (rect.isEmpty() || area.isEmpty())
        return 1.0;
    // A few pixels to spare, as fitInView does: scroll positions are whole pixels.
    const qreal width = std::max(1, area.width() - 4);
    const qreal height = std::max(1, area.height() - 4);
    return std::min(width / rect.width(), height / rect.height());
}

void GraphView::setZoom(qreal zoom) {
    applyZoom(zoom);
}

void GraphView::applyZoom(qreal zoom) {
    const qreal lowest = std::min(kMinZoom, fitZoom());
    zoom = std::clamp(zoom, lowest, kMaxZoom);
    if (qFuzzyCompare(zoom, this->zoom()))
        return;
    setTransform(QTransform::fromScale(zoom, zoom));
    viewChanged();
    Q_EMIT zoomChanged(zoom);
}

void GraphView::fitAll() {
    m_fitPending = false;
    if (!scene())
        return;
    const QRectF rect = m_scene ? m_scene->contentRect() : sceneRect();
    // Not magnified beyond 100 %: a three-step flow would otherwise fill the screen.
    applyZoom(std::min(1.0, fitZoom()));
    centerOn(rect.center());
    viewChanged();
}

void GraphView::zoomIn() {
    applyZoom(zoom() * kZoomStep);
}

void GraphView::zoomOut() {
    applyZoom(zoom() / kZoomStep);
}

void GraphView::resetZoom() {
    applyZoom(1.0);
}

void GraphView::centerOnStep(const QString &id) {
    if (StepNodeItem *node = m_scene ? m_scene->nodeItem(id) : nullptr)
        centerOn(node);
}

void GraphView::revealStep(const QString &id) {
    if (StepNodeItem *node = m_scene ? m_scene->nodeItem(id) : nullptr)
        ensureVisible(node, 40, 40);
}

void GraphView::setMinimapVisible(bool visible) {
    m_minimap->setVisible(visible);
    m_minimapAction->setChecked(visible);
    placeMinimap();
}

bool GraphView::isMinimapVisible() const {
    return !m_minimap->isHidden();
}

void GraphView::wheelEvent(QWheelEvent *event) {
    if (!(event->modifiers() & Qt::ControlModifier)) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    // 120 units per notch: one notch is one kZoomStep, about the point under the mouse.
    const qreal notches = event->angleDelta().y() / 120.0;
    setTransformationAnchor(AnchorUnderMouse);
    applyZoom(zoom() * std::pow(kZoomStep, notches));
    setTransformationAnchor(AnchorViewCenter);
    event->accept();
}

bool GraphView::event(QEvent *event) {
    // Delete, arrows and the clipboard keys edit the flow while the canvas has the focus, even
    // when the window has shortcuts on the same keys.
    if (event->type() == QEvent::ShortcutOverride && m_scene && m_scene->isEditable() &&
        m_scene->isEditKey(static_cast<QKeyEvent *>(event))) {
        event->accept();
        return true;
    }
    return QGraphicsView::event(event);
}

void GraphView::keyReleaseEvent(QKeyEvent *event) {
    if (m_scene && m_scene->isEditable())
        m_scene->editKeyRelease(event);
    QGraphicsView::keyReleaseEvent(event);
}

void GraphView::mousePressEvent(QMouseEvent *event) {
    if (event->button() == Qt::MiddleButton && m_scene && m_scene->isEditable()) {
        m_panning = true;
        m_panFrom = event->position().toPoint();
        viewport()->setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent *event) {
    if (m_panning) {
        const QPoint pos = event->position().toPoint();
        const QPoint delta = pos - m_panFrom;
        m_panFrom = pos;
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
        event->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent *event) {
    if (m_panning && event->button() == Qt::MiddleButton) {
        m_panning = false;
        viewport()->unsetCursor();
        event->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::keyPressEvent(QKeyEvent *event) {
    if (m_scene && m_scene->isEditable() && m_scene->editKeyPress(event))
        return;
    const Qt::KeyboardModifiers mods = event->modifiers() & ~Qt::KeypadModifier;
    const QString selected = m_scene ? m_scene->selectedStep() : QString();
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomIn();
        return;
    case Qt::Key_Minus:
        zoomOut();
        return;
    case Qt::Key_0:
        resetZoom();
        return;
    case Qt::Key_F:
        if (mods == Qt::NoModifier) {
            fitAll();
            return;
        }
        break;
    case Qt::Key_Left:
    case Qt::Key_Right:
    case Qt::Key_Up:
    case Qt::Key_Down:
        if (mods & Qt::ControlModifier) {
            selectTowards(event->key());
        } else {
            // Pan by an eighth of the view per press.
            const bool horizontal = event->key() == Qt::Key_Left || event->key() == Qt::Key_Right;
            QScrollBar *bar = horizontal ? horizontalScrollBar() : verticalScrollBar();
            const int sign = (event->key() == Qt::Key_Left || event->key() == Qt::Key_Up) ? -1 : 1;
            const int page = horizontal ? viewport()->width() : viewport()->height();
            bar->setValue(bar->value() + sign * std::max(1, page / 8));
        }
        return;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (m_scene && !selected.isEmpty()) {
            Q_EMIT m_scene->stepActivated(selected);
            return;
        }
        break;
    case Qt::Key_Menu:
    case Qt::Key_F10:
        if (m_scene && !selected.isEmpty() &&
            (event->key() == Qt::Key_Menu || mods == Qt::ShiftModifier)) {
            const QPoint local = mapFromScene(m_scene->nodeItem(selected)->pos());
            Q_EMIT m_scene->stepContextMenuRequested(selected, viewport()->mapToGlobal(local));
            return;
        }
        break;
    case Qt::Key_Escape:
        if (m_scene && !selected.isEmpty()) {
            m_scene->selectStep(QString());
            return;
        }
        break;
    default:
        break;
    }
    QGraphicsView::keyPressEvent(event);
}

bool GraphView::focusNextPrevChild(bool next) {
    // Tab walks the steps; past the last (or before the first) focus leaves the view, so the
    // keyboard is never trapped here. QGraphicsView's own version is skipped on purpose: it would
    // cycle the scene's focus items forever.
    if (hasFocus() && selectInOrder(next))
        return true;
    return QAbstractScrollArea::focusNextPrevChild(next);
}

bool GraphView::selectInOrder(bool next) {
    if (!m_scene || m_scene->stepIds().isEmpty())
        return false;
    const QStringList &ids = m_scene->stepIds();
    const qsizetype current = ids.indexOf(m_scene->selectedStep());
    qsizetype target = 0;
    if (current < 0)
        target = next ? 0 : ids.size() - 1;
    else
        target = current + (next ? 1 : -1);
    if (target < 0 || target >= ids.size())
        return false;
    m_scene->selectStep(ids[target]);
    return true;
}

void GraphView::selectTowards(int key) {
    if (!m_scene)
        return;
    StepNodeItem *from = m_scene->nodeItem(m_scene->selectedStep());
    if (!from) {
        selectInOrder(true);
        return;
    }
    const QPointF origin = from->pos();
    QString best;
    qreal bestScore = std::numeric_limits<qreal>::max();
    for (const QString &id : m_scene->stepIds()) {
        const QPointF delta = m_scene->nodeItem(id)->pos() - origin;
        qreal along = 0;
        qreal across = 0;
        switch (key) {
        case Qt::Key_Right:
            along = delta.x(), across = delta.y();
            break;
        case Qt::Key_Left:
            along = -delta.x(), across = delta.y();
            break;
        case Qt::Key_Down:
            along = delta.y(), across = delta.x();
            break;
        default:
            along = -delta.y(), across = delta.x();
            break;
        }
        if (along <= 1.0)
            continue;
        // Prefer steps straight ahead over nearer ones off to the side.
        const qreal score = along + 2 * std::abs(across);
        if (score < bestScore) {
            bestScore = score;
            best = id;
        }
    }
    if (!best.isEmpty())
        m_scene->selectStep(best);
}

void GraphView::updateAccessibleDescription() {
    StepNodeItem *node = m_scene ? m_scene->nodeItem(m_scene->selectedStep()) : nullptr;
    const QString description = node ? node->summaryText() : QString();
    if (description == accessibleDescription())
        return;
    setAccessibleDescription(description);
    QAccessibleEvent event(this, QAccessible::DescriptionChanged);
    QAccessible::updateAccessibility(&event);
}

void GraphView::resizeEvent(QResizeEvent *event) {
    QGraphicsView::resizeEvent(event);
    m_minimap->refit();
    placeMinimap();
    viewChanged();
}

void GraphView::showEvent(QShowEvent *event) {
    QGraphicsView::showEvent(event);
    if (m_fitPending)
        fitAll();
}

void GraphView::scrollContentsBy(int dx, int dy) {
    QGraphicsView::scrollContentsBy(dx, dy);
    viewChanged();
}

void GraphView::viewChanged() {
    m_minimap->updateVisibleArea();
}

void GraphView::placeMinimap() {
    const QRect area = viewport()->geometry();
    const QRectF rect = sceneRect();
    if (!scene() || rect.isEmpty()) {
        m_minimap->hide();
        return;
    }
    if (!m_minimapAction->isChecked())
        return;
    // Follow the scene's aspect ratio within a box of at most 220 x 140 (a third of the view).
    const int maxWidth = std::min(220, area.width() / 3);
    const int maxHeight = std::min(140, area.height() / 3);
    const qreal aspect = rect.width() / rect.height();
    int width = maxWidth;
    int height = int(width / aspect);
    if (height > maxHeight) {
        height = maxHeight;
        width = int(height * aspect);
    }
    width = std::max(width, 24);
    height = std::max(height, 16);
    m_minimap->setGeometry(area.right() - width - kMinimapMargin,
                           area.bottom() - height - kMinimapMargin, width, height);
    m_minimap->setVisible(area.width() > 3 * 24 && area.height() > 3 * 16);
    m_minimap->raise();
}

} // namespace keepflow::ui
