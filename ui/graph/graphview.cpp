#include "graphview.h"

#include "graphscene.h"
#include "minimapview.h"
#include "statestyle.h"
#include "stepnodeitem.h"
#include "stepview.h"

#include <QAccessible>
#include <QAccessibleWidget>
#include <QAction>
#include <QFontMetricsF>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keepflow::ui {

namespace {

constexpr qreal kZoomStep = 1.25;
constexpr int kMinimapMargin = 8;
// Attention labels, in screen pixels.
constexpr int kLabelFontPixels = 11;
constexpr int kLabelGlyph = 14;
constexpr int kLabelPad = 3;
constexpr int kLabelMaxText = 180;

QFont labelFont() {
    QFont font;
    font.setPixelSize(kLabelFontPixels);
    font.setBold(true);
    return font;
}

// One step of the graph for assistive technologies: a list item of the view's interface.
class StepNodeAccessible : public QAccessibleInterface, public QAccessibleActionInterface {
public:
    StepNodeAccessible(GraphView *view, const QString &id)
        : m_view(view)
        , m_id(id) {}

    const QString &stepId() const { return m_id; }

    bool isValid() const override { return node() != nullptr; }
    QObject *object() const override { return nullptr; }
    QWindow *window() const override { return m_view ? m_view->window()->windowHandle() : nullptr; }
    QAccessibleInterface *childAt(int, int) const override { return nullptr; }
    QAccessibleInterface *parent() const override {
        return m_view ? QAccessible::queryAccessibleInterface(m_view) : nullptr;
    }
    QAccessibleInterface *child(int) const override { return nullptr; }
    int childCount() const override { return 0; }
    int indexOfChild(const QAccessibleInterface *) const override { return -1; }

    QString text(QAccessible::Text t) const override {
        const StepNodeItem *item = node();
        if (!item)
            return {};
        switch (t) {
        case QAccessible::Name:
            return m_id;
        case QAccessible::Description:
            return item->summaryText();
        case QAccessible::Value: {
            const StepView *view = m_view->graphScene()->stepView(m_id);
            return view ? stateLabel(view->state) : QString();
        }
        default:
            return {};
        }
    }
    void setText(QAccessible::Text, const QString &) override {}

    QRect rect() const override {
        const StepNodeItem *item = node();
        if (!item)
            return {};
        const QRect local = m_view->mapFromScene(item->sceneBoundingRect()).boundingRect();
        return QRect(m_view->viewport()->mapToGlobal(local.topLeft()), local.size());
    }
    QAccessible::Role role() const override { return QAccessible::ListItem; }
    QAccessible::State state() const override {
        QAccessible::State state;
        const StepNodeItem *item = node();
        if (!item) {
            state.invalid = true;
            return state;
        }
        state.selectable = true;
        state.focusable = true;
        state.selected = item->isSelected();
        state.focused = item->isSelected() && m_view->hasFocus();
        const QRect local = m_view->mapFromScene(item->sceneBoundingRect()).boundingRect();
        state.offscreen = !m_view->viewport()->rect().intersects(local);
        return state;
    }
    void *interface_cast(QAccessible::InterfaceType type) override {
        return type == QAccessible::ActionInterface
                   ? static_cast<QAccessibleActionInterface *>(this)
                   : nullptr;
    }

    QStringList actionNames() const override {
        return {pressAction(), setFocusAction(), toggleAction()};
    }
    void doAction(const QString &name) override {
        if (!isValid() || !actionNames().contains(name))
            return;
        // As a click: the scene's selection drives the table and the inspector.
        m_view->graphScene()->selectStep(m_id);
    }
    QStringList keyBindingsForAction(const QString &) const override { return {}; }

private:
    StepNodeItem *node() const {
        GraphScene *scene = m_view ? m_view->graphScene() : nullptr;
        return scene ? scene->nodeItem(m_id) : nullptr;
    }

    QPointer<GraphView> m_view;
    QString m_id;
};

// The run graph for assistive technologies: a list of its steps, in flow order.
class GraphViewAccessible : public QAccessibleWidget {
public:
    explicit GraphViewAccessible(GraphView *view)
        : QAccessibleWidget(view, QAccessible::List) {}
    ~GraphViewAccessible() override {
        for (QAccessible::Id id : std::as_const(m_children))
            QAccessible::deleteAccessibleInterface(id);
    }

    int childCount() const override {
        GraphScene *scene = view()->graphScene();
        return scene ? int(scene->stepIds().size()) : 0;
    }
    QAccessibleInterface *child(int index) const override {
        GraphScene *scene = view()->graphScene();
        if (!scene || index < 0 || index >= scene->stepIds().size())
            return nullptr;
        const QString &id = scene->stepIds().at(index);
        if (const auto found = m_children.constFind(id); found != m_children.cend()) {
            if (QAccessibleInterface *known = QAccessible::accessibleInterface(*found))
                return known;
        }
        auto *created = new StepNodeAccessible(view(), id);
        m_children.insert(id, QAccessible::registerAccessibleInterface(created));
        return created;
    }
    int indexOfChild(const QAccessibleInterface *child) const override {
        const auto *step = dynamic_cast<const StepNodeAccessible *>(child);
        GraphScene *scene = view()->graphScene();
        return step && scene ? int(scene->stepIds().indexOf(step->stepId())) : -1;
    }
    QAccessibleInterface *childAt(int x, int y) const override {
        GraphScene *scene = view()->graphScene();
        if (!scene)
            return nullptr;
        const QPoint local = view()->viewport()->mapFromGlobal(QPoint(x, y));
        for (QGraphicsItem *item : view()->items(local)) {
            if (item->type() == StepNodeItem::Type) {
                const int index =
                    int(scene->stepIds().indexOf(static_cast<StepNodeItem *>(item)->stepId()));
                return child(index);
            }
        }
        return nullptr;
    }

private:
    GraphView *view() const { return static_cast<GraphView *>(widget()); }

    mutable QHash<QString, QAccessible::Id> m_children;
};

QAccessibleInterface *graphViewAccessibleFactory(const QString &className, QObject *object) {
    if (className == QLatin1String(GraphView::staticMetaObject.className()) && object &&
        object->isWidgetType())
        return new GraphViewAccessible(static_cast<GraphView *>(object));
    return nullptr;
}

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
    static const bool factoryInstalled = [] {
        QAccessible::installFactory(graphViewAccessibleFactory);
        return true;
    }();
    Q_UNUSED(factoryInstalled);
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
    m_minimap->setSourceScene(scene);
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
            announceSelection();
        });
        connect(scene, &GraphScene::updatesFlushed, this, [this] {
            m_minimap->scheduleRefresh();
            updateAccessibleDescription();
            updateAttentionLabels();
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
    // Not magnified beyond 100 %: a three-step flow would otherwise fill the screen. Not shrunk
    // below names either, unless the flow is too big to read step by step anyway.
    qreal zoom = std::min(1.0, fitZoom());
    const qsizetype steps = m_scene ? m_scene->stepIds().size() : 0;
    if (zoom < kReadableZoom && steps <= kReadableFitMaxSteps)
        zoom = kReadableZoom;
    applyZoom(zoom);
    centerOn(rect.center());
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    if (!visible.adjusted(-2, -2, 2, 2).contains(rect)) {
        // It scrolls: show where the flow starts, then the selected step or the first one that
        // needs attention.
        const qreal x =
            rect.width() > visible.width() ? rect.left() + visible.width() / 2 : rect.center().x();
        const qreal y = rect.height() > visible.height() ? rect.top() + visible.height() / 2
                                                         : rect.center().y();
        centerOn(QPointF(x, y));
        QString shown = m_scene ? m_scene->selectedStep() : QString();
        for (qsizetype i = 0; shown.isEmpty() && i < steps; ++i) {
            const StepView *view = m_scene->stepView(m_scene->stepIds().at(i));
            if (view && needsAttention(*view))
                shown = view->stepId;
        }
        if (!shown.isEmpty())
            revealStep(shown);
    }
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
    m_labelRegion.translate(dx, dy); // the labels' pixels scrolled with the rest
    viewChanged();
}

void GraphView::viewChanged() {
    placeMinimap();
    m_minimap->updateVisibleArea();
}

QList<GraphView::AttentionLabel> GraphView::attentionLabels() const {
    QList<AttentionLabel> labels;
    if (!m_scene || zoom() >= StepNodeItem::kNameLod)
        return labels;
    const QRect area = viewport()->rect();
    const QFontMetricsF metrics(labelFont());
    const int height = std::max(kLabelGlyph, int(std::ceil(metrics.height()))) + 2 * kLabelPad;
    for (const QString &id : m_scene->stepIds()) {
        const StepView *step = m_scene->stepView(id);
        if (!step || !needsAttention(*step))
            continue;
        const QPoint center = mapFromScene(m_scene->nodeItem(id)->pos());
        const qreal text = std::min<qreal>(kLabelMaxText, metrics.horizontalAdvance(id));
        const int width = 3 * kLabelPad + kLabelGlyph + int(std::ceil(text)) + kLabelPad;
        const QRect rect(center.x() - width / 2, center.y() - height / 2, width, height);
        if (!rect.intersects(area))
            continue;
        labels.append({id, rect});
        if (labels.size() == kMaxAttentionLabels)
            break;
    }
    return labels;
}

void GraphView::updateAttentionLabels() {
    QRegion region = m_labelRegion;
    for (const AttentionLabel &label : attentionLabels())
        region += label.rect.adjusted(-1, -1, 1, 1);
    if (!region.isEmpty())
        viewport()->update(region);
}

void GraphView::drawForeground(QPainter *painter, const QRectF &rect) {
    QGraphicsView::drawForeground(painter, rect);
    const QList<AttentionLabel> labels = attentionLabels();
    m_labelRegion = QRegion();
    if (labels.isEmpty())
        return;
    // In screen pixels, whatever the zoom: a pill in the state's color with glyph and name.
    painter->save();
    painter->resetTransform();
    painter->setRenderHint(QPainter::Antialiasing);
    const QFont font = labelFont();
    const QFontMetricsF metrics(font);
    painter->setFont(font);
    for (const AttentionLabel &label : labels) {
        const StepState state = m_scene->stepView(label.stepId)->state;
        const QColor fill = stateColor(state);
        painter->setPen(QPen(fill.darker(160), 1));
        painter->setBrush(fill);
        painter->drawRoundedRect(QRectF(label.rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
        const QRect glyph(label.rect.left() + kLabelPad,
                          label.rect.center().y() - kLabelGlyph / 2 + 1, kLabelGlyph, kLabelGlyph);
        painter->drawPixmap(glyph, stateGlyph(state, kLabelGlyph));
        const QRectF textRect(glyph.right() + 1 + kLabelPad, label.rect.top(),
                              label.rect.right() - kLabelPad - glyph.right(), label.rect.height());
        painter->setPen(Qt::white);
        painter->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
                          metrics.elidedText(label.stepId, Qt::ElideMiddle, kLabelMaxText));
        m_labelRegion += label.rect.adjusted(-1, -1, 1, 1);
    }
    painter->restore();
}

void GraphView::announceSelection() {
    if (!m_scene || !QAccessible::isActive())
        return;
    const int index = int(m_scene->stepIds().indexOf(m_scene->selectedStep()));
    if (index < 0)
        return;
    QAccessibleEvent selection(this, QAccessible::Selection);
    selection.setChild(index);
    QAccessible::updateAccessibility(&selection);
    if (hasFocus()) {
        QAccessibleEvent focus(this, QAccessible::Focus);
        focus.setChild(index);
        QAccessible::updateAccessibility(&focus);
    }
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
    // Only while part of the graph is out of view: otherwise it would only cover steps.
    const QRectF content = m_scene ? m_scene->contentRect() : rect;
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    const bool needed = !visible.adjusted(-2, -2, 2, 2).contains(content);
    m_minimap->setVisible(needed && area.width() > 3 * 24 && area.height() > 3 * 16);
    m_minimap->raise();
}

} // namespace keepflow::ui
