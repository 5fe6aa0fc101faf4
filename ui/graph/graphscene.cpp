#include "graphscene.h"

#include "edgeitem.h"
#include "graphlayout.h"
#include "stepnodeitem.h"

#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneHelpEvent>
#include <QGraphicsSceneMouseEvent>
#include <QToolTip>

namespace keepflow::ui {

namespace {

constexpr qreal kSceneMargin = 40.0;

bool showsCountdown(const StepView &view) {
    return view.nextAttemptAt > 0 &&
           (view.state == StepState::Retrying || view.state == StepState::Scheduled);
}

} // namespace

GraphScene::GraphScene(QObject *parent)
    : QGraphicsScene(parent) {
    // Repeating while updates keep coming, so flushes keep a steady 25 Hz; it stops on the first
    // tick that finds nothing to do.
    m_flushTimer.setInterval(kFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, [this] {
        if (m_dirtySteps.isEmpty())
            m_flushTimer.stop();
        else
            flushUpdates();
    });
    connect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
}

GraphScene::~GraphScene() {
    // Removing selected items emits selectionChanged: do it while our members still live.
    disconnect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
    clear();
}

void GraphScene::setFlow(const Flow &flow) {
    m_adjustingSelection = true;
    m_flushTimer.stop();
    clear();
    m_nodes.clear();
    m_views.clear();
    m_incoming.clear();
    m_edges.clear();
    m_order.clear();
    m_dirtySteps.clear();
    m_dirtyEdges.clear();
    m_adjustingSelection = false;
    if (!m_selected.isEmpty()) {
        m_selected.clear();
        Q_EMIT stepSelected(QString());
    }

    const QHash<QString, QPointF> positions = layoutFlow(flow);
    m_nodes.reserve(flow.steps.size());
    m_views.reserve(flow.steps.size());
    for (const Step &step : flow.steps) {
        if (m_nodes.contains(step.id))
            continue; // validation rejects duplicates; never show one step twice
        auto *node = new StepNodeItem(step.id);
        node->setPos(positions.value(step.id));
        node->setZValue(1);
        node->setCacheMode(m_cacheMode);
        addItem(node);
        m_nodes.insert(step.id, node);
        m_order.append(step.id);
        StepView view;
        view.stepId = step.id;
        view.kind = step.kind;
        m_views.insert(step.id, view);
    }
    for (const Step &step : flow.steps) {
        for (const QString &upstream : step.after) {
            if (!m_nodes.contains(upstream) || edgeItem(upstream, step.id))
                continue;
            auto *edge = new EdgeItem(upstream, step.id, positions.value(upstream),
                                      positions.value(step.id));
            addItem(edge);
            m_edges.append(edge);
            m_incoming[step.id].append(edge);
        }
    }
    // A fixed rect: the scene never grows or recomputes its bounds while updates stream in.
    setSceneRect(
        itemsBoundingRect().adjusted(-kSceneMargin, -kSceneMargin, kSceneMargin, kSceneMargin));
}

void GraphScene::updateSteps(const QList<StepView> &steps) {
    for (const StepView &step : steps) {
        const auto found = m_views.find(step.stepId);
        if (found == m_views.end())
            continue;
        const bool wasBlocked = found->state == StepState::Blocked;
        const QString kind = found->kind;
        *found = step;
        if (found->kind.isEmpty())
            found->kind = kind;
        if (wasBlocked != (step.state == StepState::Blocked))
            m_dirtyEdges.insert(step.stepId);
        markDirty(step.stepId);
    }
}

void GraphScene::markDirty(const QString &id) {
    m_dirtySteps.insert(id);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void GraphScene::flushUpdates() {
    const int count = int(m_dirtySteps.size());
    for (const QString &id : std::as_const(m_dirtySteps)) {
        if (StepNodeItem *node = m_nodes.value(id))
            node->update();
    }
    for (const QString &id : std::as_const(m_dirtyEdges)) {
        for (EdgeItem *edge : m_incoming.value(id))
            edge->update();
    }
    m_dirtySteps.clear();
    m_dirtyEdges.clear();
    if (count > 0)
        Q_EMIT updatesFlushed(count);
}

void GraphScene::setNow(qint64 ms) {
    m_now = ms;
    for (const StepView &view : std::as_const(m_views)) {
        if (showsCountdown(view))
            markDirty(view.stepId);
    }
}

void GraphScene::selectStep(const QString &id) {
    StepNodeItem *node = m_nodes.value(id);
    m_adjustingSelection = true;
    clearSelection();
    if (node) {
        node->setSelected(true);
        setFocusItem(node);
    }
    m_adjustingSelection = false;
    onSelectionChanged();
}

QString GraphScene::selectedStep() const {
    return m_selected;
}

const StepView *GraphScene::stepView(const QString &id) const {
    const auto found = m_views.constFind(id);
    return found == m_views.cend() ? nullptr : &*found;
}

StepNodeItem *GraphScene::nodeItem(const QString &id) const {
    return m_nodes.value(id);
}

EdgeItem *GraphScene::edgeItem(const QString &from, const QString &to) const {
    for (EdgeItem *edge : m_incoming.value(to)) {
        if (edge->fromId() == from)
            return edge;
    }
    return nullptr;
}

void GraphScene::setNodeCacheMode(QGraphicsItem::CacheMode mode) {
    m_cacheMode = mode;
    for (StepNodeItem *node : std::as_const(m_nodes))
        node->setCacheMode(mode);
}

void GraphScene::onSelectionChanged() {
    if (m_adjustingSelection)
        return;
    // One step at a time: keep the newly selected node when a click added a second one.
    StepNodeItem *chosen = nullptr;
    const QList<QGraphicsItem *> selected = selectedItems();
    for (QGraphicsItem *item : selected) {
        if (item->type() != StepNodeItem::Type)
            continue;
        auto *node = static_cast<StepNodeItem *>(item);
        if (!chosen || chosen->stepId() == m_selected)
            chosen = node;
    }
    if (selected.size() > 1) {
        m_adjustingSelection = true;
        for (QGraphicsItem *item : selected) {
            if (item != chosen)
                item->setSelected(false);
        }
        m_adjustingSelection = false;
    }
    const QString id = chosen ? chosen->stepId() : QString();
    if (id != m_selected) {
        m_selected = id;
        Q_EMIT stepSelected(id);
    }
}

StepNodeItem *GraphScene::nodeAt(QPointF scenePos) const {
    const QList<QGraphicsItem *> found = items(scenePos);
    for (QGraphicsItem *item : found) {
        if (item->type() == StepNodeItem::Type)
            return static_cast<StepNodeItem *>(item);
    }
    return nullptr;
}

void GraphScene::contextMenuEvent(QGraphicsSceneContextMenuEvent *event) {
    StepNodeItem *node = nodeAt(event->scenePos());
    if (!node) {
        event->ignore();
        return;
    }
    selectStep(node->stepId());
    Q_EMIT stepContextMenuRequested(node->stepId(), event->screenPos());
    event->accept();
}

void GraphScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) {
    QGraphicsScene::mouseDoubleClickEvent(event);
    if (event->button() != Qt::LeftButton)
        return;
    if (StepNodeItem *node = nodeAt(event->scenePos()))
        Q_EMIT stepActivated(node->stepId());
}

void GraphScene::helpEvent(QGraphicsSceneHelpEvent *event) {
    // Tooltips are computed when asked, so items keep no text of their own.
    if (StepNodeItem *node = nodeAt(event->scenePos())) {
        QToolTip::showText(event->screenPos(), node->summaryText(), event->widget());
        event->accept();
    } else {
        QToolTip::hideText();
        event->ignore();
    }
}

} // namespace keepflow::ui
