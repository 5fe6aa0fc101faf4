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
// Editable scenes leave this much room around the steps to drag them into.
constexpr qreal kEditMargin = 600.0;

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
    setFlow(flow, layoutFlow(flow));
}

void GraphScene::setFlow(const Flow &flow, const QHash<QString, QPointF> &positions) {
    // The editor rebuilds on every structural edit: keep what the user sees of surviving steps.
    const QStringList keepSelected = m_editable ? m_selectedIds : QStringList();
    const QHash<QString, StepView> oldViews = m_editable ? m_views : QHash<QString, StepView>();
    const bool hadSteps = !m_nodes.isEmpty();

    m_adjustingSelection = true;
    m_flushTimer.stop();
    clear();
    m_nodes.clear();
    m_views.clear();
    m_incoming.clear();
    m_outgoing.clear();
    m_edges.clear();
    m_order.clear();
    m_dirtySteps.clear();
    m_dirtyEdges.clear();

    m_nodes.reserve(flow.steps.size());
    m_views.reserve(flow.steps.size());
    for (const Step &step : flow.steps) {
        if (m_nodes.contains(step.id))
            continue; // validation rejects duplicates; never show one step twice
        auto *node = new StepNodeItem(step.id);
        node->setPos(positions.value(step.id));
        node->setZValue(1);
        node->setCacheMode(m_cacheMode);
        decorateNode(node);
        addItem(node);
        m_nodes.insert(step.id, node);
        m_order.append(step.id);
        StepView view = oldViews.value(step.id);
        view.stepId = step.id;
        view.kind = step.kind;
        m_views.insert(step.id, view);
    }
    for (const Step &step : flow.steps) {
        for (const QString &upstream : step.after)
            addEdge(upstream, step.id);
    }
    for (const QString &id : keepSelected) {
        if (StepNodeItem *node = m_nodes.value(id))
            node->setSelected(true);
    }
    m_adjustingSelection = false;
    onSelectionChanged();

    const QRectF needed =
        itemsBoundingRect().adjusted(-kSceneMargin, -kSceneMargin, kSceneMargin, kSceneMargin);
    if (m_editable) {
        // Room to drag steps into; a rect that only grows keeps the view still while editing.
        const QRectF roomy = needed.adjusted(-kEditMargin, -kEditMargin, kEditMargin, kEditMargin);
        setSceneRect(hadSteps ? sceneRect().united(roomy) : roomy);
    } else {
        // A fixed rect: the scene never grows or recomputes its bounds while updates stream in.
        setSceneRect(needed);
    }
}

void GraphScene::addEdge(const QString &from, const QString &to) {
    StepNodeItem *source = m_nodes.value(from);
    StepNodeItem *target = m_nodes.value(to);
    if (!source || !target || edgeItem(from, to))
        return;
    auto *edge = new EdgeItem(from, to, source->pos(), target->pos());
    edge->setEditable(m_editable);
    addItem(edge);
    m_edges.append(edge);
    m_incoming[to].append(edge);
    m_outgoing[from].append(edge);
}

void GraphScene::removeEdge(EdgeItem *edge) {
    m_edges.removeOne(edge);
    m_incoming[edge->toId()].removeOne(edge);
    m_outgoing[edge->fromId()].removeOne(edge);
    removeItem(edge);
    delete edge;
}

void GraphScene::refreshFlow(const Flow &flow) {
    QSet<std::pair<QString, QString>> wanted;
    for (const Step &step : flow.steps) {
        const auto view = m_views.find(step.id);
        if (view == m_views.end())
            continue;
        if (view->kind != step.kind) {
            view->kind = step.kind;
            markDirty(step.id);
        }
        for (const QString &upstream : step.after) {
            if (m_nodes.contains(upstream))
                wanted.insert({upstream, step.id});
        }
    }
    const QList<EdgeItem *> edges = m_edges;
    for (EdgeItem *edge : edges) {
        if (!wanted.remove({edge->fromId(), edge->toId()}))
            removeEdge(edge);
    }
    // What is left in wanted has no item yet; add in flow order so that z order is stable.
    if (wanted.isEmpty())
        return;
    for (const Step &step : flow.steps) {
        for (const QString &upstream : step.after) {
            if (wanted.contains({upstream, step.id}))
                addEdge(upstream, step.id);
        }
    }
}

void GraphScene::moveSteps(const QHash<QString, QPointF> &positions) {
    QSet<EdgeItem *> edges;
    QRectF moved;
    for (auto it = positions.cbegin(); it != positions.cend(); ++it) {
        StepNodeItem *node = m_nodes.value(it.key());
        if (!node)
            continue;
        node->setPos(*it);
        moved |= node->sceneBoundingRect();
        for (EdgeItem *edge : m_incoming.value(it.key()))
            edges.insert(edge);
        for (EdgeItem *edge : m_outgoing.value(it.key()))
            edges.insert(edge);
    }
    for (EdgeItem *edge : std::as_const(edges))
        edge->setEndpoints(m_nodes.value(edge->fromId())->pos(),
                           m_nodes.value(edge->toId())->pos());
    if (!moved.isNull())
        growSceneRect(moved.adjusted(-kSceneMargin, -kSceneMargin, kSceneMargin, kSceneMargin));
}

void GraphScene::growSceneRect(const QRectF &needed) {
    if (sceneRect().contains(needed))
        return;
    // Grow by a generous step, so that a drag towards the edge does not resize on every move.
    setSceneRect(
        sceneRect().united(needed.adjusted(-kEditMargin, -kEditMargin, kEditMargin, kEditMargin)));
}

QRectF GraphScene::contentRect() const {
    if (!m_editable || m_nodes.isEmpty())
        return sceneRect();
    QRectF bounds;
    for (const StepNodeItem *node : m_nodes)
        bounds |= node->sceneBoundingRect();
    return bounds.adjusted(-kSceneMargin, -kSceneMargin, kSceneMargin, kSceneMargin);
}

void GraphScene::setEditable(bool editable) {
    m_editable = editable;
    for (EdgeItem *edge : std::as_const(m_edges))
        edge->setEditable(editable);
}

void GraphScene::decorateNode(StepNodeItem *) {}

void GraphScene::setProblemSteps(const QSet<QString> &ids) {
    const QSet<QString> changed = (ids - m_problems) + (m_problems - ids);
    m_problems = ids;
    for (const QString &id : changed) {
        if (StepNodeItem *node = m_nodes.value(id))
            node->update();
    }
}

void GraphScene::setDifferences(const QHash<QString, QStringList> &notes) {
    QSet<QString> changed;
    for (auto it = notes.cbegin(); it != notes.cend(); ++it)
        changed.insert(it.key());
    for (auto it = m_differences.cbegin(); it != m_differences.cend(); ++it)
        changed.insert(it.key());
    m_differences = notes;
    for (const QString &id : changed) {
        if (StepNodeItem *node = m_nodes.value(id))
            node->update();
    }
}

bool GraphScene::editKeyPress(QKeyEvent *) {
    return false;
}

void GraphScene::editKeyRelease(QKeyEvent *) {}

bool GraphScene::isEditKey(const QKeyEvent *) const {
    return false;
}

void GraphScene::updateSteps(const QList<StepView> &steps) {
    for (const StepView &step : steps) {
        const auto found = m_views.find(step.stepId);
        if (found == m_views.end())
            continue;
        StepView next = step;
        if (next.kind.isEmpty())
            next.kind = found->kind;
        // Owners pass every step each time; only a step that changed is repainted.
        if (next == *found)
            continue;
        const bool wasBlocked = found->state == StepState::Blocked;
        *found = next;
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

void GraphScene::selectSteps(const QStringList &ids) {
    m_adjustingSelection = true;
    clearSelection();
    for (const QString &id : ids) {
        if (StepNodeItem *node = m_nodes.value(id))
            node->setSelected(true);
    }
    if (StepNodeItem *first = ids.isEmpty() ? nullptr : m_nodes.value(ids.first()))
        setFocusItem(first);
    m_adjustingSelection = false;
    onSelectionChanged();
}

QString GraphScene::selectedStep() const {
    return m_selected;
}

QStringList GraphScene::selectedSteps() const {
    return m_selectedIds;
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
    StepNodeItem *chosen = nullptr;
    QSet<QString> selectedIds;
    const QList<QGraphicsItem *> selected = selectedItems();
    for (QGraphicsItem *item : selected) {
        if (item->type() != StepNodeItem::Type)
            continue;
        auto *node = static_cast<StepNodeItem *>(item);
        selectedIds.insert(node->stepId());
        if (!chosen || (!m_editable && chosen->stepId() == m_selected) ||
            (m_editable && node->stepId() == m_selected))
            chosen = node;
    }
    if (!m_editable && selected.size() > 1) {
        // One step at a time: keep the newly selected node when a click added a second one.
        m_adjustingSelection = true;
        for (QGraphicsItem *item : selected) {
            if (item != chosen)
                item->setSelected(false);
        }
        m_adjustingSelection = false;
        selectedIds = chosen ? QSet<QString>{chosen->stepId()} : QSet<QString>();
    }
    QStringList ids;
    if (selectedIds.size() == 1) {
        ids.append(*selectedIds.cbegin());
    } else if (!selectedIds.isEmpty()) {
        for (const QString &id : std::as_const(m_order)) {
            if (selectedIds.contains(id))
                ids.append(id);
        }
    }
    const QString id = chosen ? chosen->stepId() : QString();
    const bool primaryChanged = id != m_selected;
    const bool setChanged = ids != m_selectedIds;
    m_selected = id;
    m_selectedIds = ids;
    if (primaryChanged)
        Q_EMIT stepSelected(id);
    if (setChanged)
        Q_EMIT stepSelectionChanged(ids);
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
