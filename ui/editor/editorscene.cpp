#include "editorscene.h"

#include "edgeitem.h"
#include "flowdocument.h"
#include "graphlayout.h"
#include "noticeitem.h"
#include "portitem.h"
#include "stepnodeitem.h"
#include "wireitem.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneDragDropEvent>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsView>
#include <QKeyEvent>
#include <QMenu>
#include <QMimeData>
#include <QUndoStack>

#include <cmath>
#include <utility>

namespace keepflow::ui {

namespace {

// Where the first paste of copied steps lands relative to them: two grid steps down and right,
// so that the copy is visibly a copy; each further paste one more such step.
constexpr qreal kPasteStep = 2 * EditorScene::kGridSize;

bool isArrowKey(int key) {
    return key == Qt::Key_Left || key == Qt::Key_Right || key == Qt::Key_Up || key == Qt::Key_Down;
}

Qt::KeyboardModifiers plainModifiers(const QKeyEvent *event) {
    return event->modifiers() & ~Qt::KeypadModifier;
}

bool isDuplicateKey(const QKeyEvent *event) {
    return event->key() == Qt::Key_D && plainModifiers(event) == Qt::ControlModifier;
}

bool isDeleteKey(const QKeyEvent *event) {
    return (event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) &&
           plainModifiers(event) == Qt::NoModifier;
}

} // namespace

EditorScene::EditorScene(FlowDocument *document, QObject *parent)
    : GraphScene(parent)
    , m_document(document) {
    setEditable(true);
    m_noticeTimer.setSingleShot(true);
    m_noticeTimer.setInterval(kNoticeMs);
    connect(&m_noticeTimer, &QTimer::timeout, this, &EditorScene::clearNotice);

    auto makeAction = [this](const QString &text, const QKeySequence &keys, auto slot) {
        auto *action = new QAction(text, this);
        action->setShortcut(keys);
        // The canvas handles the keys itself while it has the focus (GraphView::event); the
        // shortcut here is for display in menus and must not fire elsewhere in the window.
        action->setShortcutContext(Qt::WidgetShortcut);
        connect(action, &QAction::triggered, this, slot);
        return action;
    };
    m_deleteAction = makeAction(tr("Delete"), QKeySequence::Delete, [this] { deleteSelection(); });
    m_cutAction = makeAction(tr("Cut"), QKeySequence::Cut, [this] { cutSelection(); });
    m_copyAction = makeAction(tr("Copy"), QKeySequence::Copy, [this] { copySelection(); });
    m_pasteAction = makeAction(tr("Paste"), QKeySequence::Paste, [this] { paste(); });
    m_duplicateAction = makeAction(tr("Duplicate"), QKeySequence(Qt::CTRL | Qt::Key_D),
                                   [this] { duplicateSelection(); });
    m_selectAllAction =
        makeAction(tr("Select all"), QKeySequence::SelectAll, [this] { selectAll(); });
    m_autoLayoutAction = makeAction(tr("Auto-layout"), QKeySequence(), [this] { autoLayout(); });
    m_autoLayoutAction->setToolTip(tr("Arrange all steps from left to right"));

    connect(this, &QGraphicsScene::selectionChanged, this, &EditorScene::updateActions);
    if (m_document) {
        connect(m_document, &FlowDocument::structureChanged, this, [this] {
            rebuild();
            m_refreshed = true;
        });
        connect(m_document, &FlowDocument::positionsChanged, this,
                &EditorScene::onPositionsChanged);
        connect(m_document, &FlowDocument::changed, this, &EditorScene::onChanged);
    }
    rebuild();
}

EditorScene::~EditorScene() {
    disconnect(this, &QGraphicsScene::selectionChanged, this, &EditorScene::updateActions);
}

FlowDocument *EditorScene::document() const {
    return m_document;
}

QPointF EditorScene::snapToGrid(QPointF pos) {
    return QPointF(std::round(pos.x() / kGridSize) * kGridSize,
                   std::round(pos.y() / kGridSize) * kGridSize);
}

// ---- Following the document ----

QPointF EditorScene::displayPosition(const QString &id) const {
    if (m_document && m_document->hasPosition(id))
        return m_document->stepPosition(id);
    return m_fallbackPositions.value(id);
}

void EditorScene::rebuild() {
    cancelWire();
    const Flow flow = m_document ? m_document->flow() : Flow();
    // Steps without a saved position (a hand-written file) are shown where dot puts them; once
    // computed, those places are kept, so that other edits do not shuffle them.
    QHash<QString, QPointF> fallback;
    bool needLayout = false;
    for (const Step &step : flow.steps) {
        if (m_document->hasPosition(step.id))
            continue;
        const auto known = m_fallbackPositions.constFind(step.id);
        if (known == m_fallbackPositions.cend())
            needLayout = true;
        else
            fallback.insert(step.id, *known);
    }
    if (needLayout) {
        const QHash<QString, QPointF> layout = dotLayout(flow);
        for (const Step &step : flow.steps) {
            if (!m_document->hasPosition(step.id) && !fallback.contains(step.id))
                fallback.insert(step.id, layout.value(step.id));
        }
    }
    m_fallbackPositions = fallback;

    QHash<QString, QPointF> positions;
    positions.reserve(flow.steps.size());
    for (const Step &step : flow.steps)
        positions.insert(step.id, displayPosition(step.id));
    // A rename (or its undo) replaces ids in their places: the renamed steps stay selected, so
    // the property editor keeps showing the step (and the focus) the author is editing.
    const QStringList oldIds = stepIds();
    const QStringList oldSelected = selectedSteps();
    QStringList renamedSelection;
    bool renamed = false;
    if (oldIds.size() == flow.steps.size() && !oldSelected.isEmpty()) {
        for (const QString &id : oldSelected) {
            const QString now = flow.steps.at(oldIds.indexOf(id)).id;
            renamed = renamed || (now != id && !oldIds.contains(now));
            renamedSelection.append(now);
        }
    }
    // setFlow deletes every item; the notice survives a rebuild.
    if (m_notice)
        removeItem(m_notice);
    m_followingRename = renamed;
    setFlow(flow, positions);
    m_followingRename = false;
    if (renamed)
        selectSteps(renamedSelection);
    if (m_notice)
        addItem(m_notice);
    updateActions();
}

void EditorScene::onPositionsChanged(const QStringList &ids) {
    QHash<QString, QPointF> positions;
    positions.reserve(ids.size());
    for (const QString &id : ids)
        positions.insert(id, displayPosition(id));
    moveSteps(positions);
    m_refreshed = true;
}

void EditorScene::onChanged() {
    // changed() follows structureChanged() and positionsChanged() (FlowDocument emits them in
    // that order): after those the items are up to date, and a drag skips a pass over the edges.
    if (std::exchange(m_refreshed, false))
        return;
    if (m_document)
        refreshFlow(m_document->flow());
}

void EditorScene::decorateNode(StepNodeItem *node) {
    new PortItem(node->stepId(), PortItem::Side::Input, node);
    new PortItem(node->stepId(), PortItem::Side::Output, node);
}

PortItem *EditorScene::port(const QString &id, bool output) const {
    StepNodeItem *node = nodeItem(id);
    if (!node)
        return nullptr;
    const PortItem::Side side = output ? PortItem::Side::Output : PortItem::Side::Input;
    for (QGraphicsItem *child : node->childItems()) {
        if (child->type() == PortItem::Type && static_cast<PortItem *>(child)->side() == side)
            return static_cast<PortItem *>(child);
    }
    return nullptr;
}

// ---- Edits ----

void EditorScene::refuse(const QString &reason, std::optional<QPointF> pos) {
    m_lastRefusal = reason;
    clearNotice();
    QPointF at = sceneRect().topLeft();
    if (pos) {
        at = *pos + QPointF(12, 12); // beside the pointer, not under it
    } else if (!views().isEmpty()) {
        at = views().first()->mapToScene(QPoint(12, 12)); // top left of what the user sees
    }
    m_notice = new NoticeItem(reason, at);
    addItem(m_notice);
    m_noticeTimer.start();
    Q_EMIT editRefused(reason);
}

void EditorScene::setNoticeDuration(int ms) {
    m_noticeTimer.setInterval(ms);
    if (m_noticeTimer.isActive())
        m_noticeTimer.start();
}

void EditorScene::clearNotice() {
    m_noticeTimer.stop();
    if (!m_notice)
        return;
    removeItem(m_notice);
    delete m_notice;
    m_notice = nullptr;
}

Result<QString> EditorScene::addStep(const QString &kind, QPointF pos) {
    if (!m_document)
        return Status::error(tr("No flow is open."));
    Result<QString> added = m_document->requestStepAdd(kind, snapToGrid(pos));
    if (!added) {
        refuse(added.error(), pos);
        return added;
    }
    selectStep(*added);
    return added;
}

Status EditorScene::addEdge(const QString &from, const QString &to) {
    if (!m_document)
        return Status::error(tr("No flow is open."));
    Status status = m_document->requestEdgeAdd(from, to);
    if (!status) {
        const StepNodeItem *target = nodeItem(to);
        refuse(status.message(), target ? std::optional<QPointF>(target->pos()) : std::nullopt);
    }
    return status;
}

Status EditorScene::requestMove(const QStringList &ids, QPointF delta) {
    // Steps shown at a layout position have none in the document yet: place them where they are
    // seen before moving them, or they would jump from (0, 0).
    QHash<QString, QPointF> unplaced;
    for (const QString &id : ids) {
        if (!m_document->hasPosition(id))
            unplaced.insert(id, displayPosition(id));
    }
    if (!unplaced.isEmpty()) {
        const Status placed = m_document->requestPositions(unplaced, tr("Place steps"));
        if (!placed)
            return placed;
    }
    return m_document->requestStepsMove(ids, delta);
}

Status EditorScene::moveSelection(QPointF delta) {
    const QStringList ids = selectedSteps();
    if (!m_document || ids.isEmpty())
        return Status::ok();
    Status status = requestMove(ids, delta);
    if (!status)
        refuse(status.message());
    return status;
}

QList<std::pair<QString, QString>> EditorScene::selectedEdges() const {
    QList<std::pair<QString, QString>> edges;
    const QList<QGraphicsItem *> selected = selectedItems();
    for (const QGraphicsItem *item : selected) {
        if (item->type() == EdgeItem::Type) {
            const auto *edge = static_cast<const EdgeItem *>(item);
            edges.append({edge->fromId(), edge->toId()});
        }
    }
    return edges;
}

Status EditorScene::deleteSelection() {
    if (!m_document)
        return Status::ok();
    const QStringList ids = selectedSteps();
    if (!ids.isEmpty()) {
        // Their wires go with them; selected wires elsewhere stay (a rubber band picks up wires
        // the user did not mean).
        Status status = m_document->requestStepsRemove(ids);
        if (!status)
            refuse(status.message());
        return status;
    }
    const QList<std::pair<QString, QString>> edges = selectedEdges();
    if (edges.isEmpty())
        return Status::ok();
    QUndoStack *undo = m_document->undoStack();
    if (edges.size() > 1)
        undo->beginMacro(tr("Delete %n wire(s)", nullptr, int(edges.size())));
    Status result;
    for (const auto &[from, to] : edges) {
        Status status = m_document->requestEdgeRemove(from, to);
        if (!status && result)
            result = status;
    }
    if (edges.size() > 1)
        undo->endMacro();
    if (!result)
        refuse(result.message());
    return result;
}

bool EditorScene::copySelection() {
    const QStringList ids = selectedSteps();
    if (!m_document || ids.isEmpty())
        return false;
    const QByteArray fragment = m_document->copySteps(ids);
    auto *mime = new QMimeData;
    mime->setData(QString::fromLatin1(kStepsMimeType), fragment);
    mime->setText(QString::fromUtf8(fragment));
    QGuiApplication::clipboard()->setMimeData(mime);
    m_lastCopied = fragment;
    m_pasteCount = 0;
    return true;
}

Status EditorScene::cutSelection() {
    if (!copySelection())
        return Status::ok();
    Status status = deleteSelection();
    m_pasteCount = -1; // a cut pastes back where it was
    return status;
}

Status EditorScene::paste() {
    if (!m_document)
        return Status::ok();
    const QMimeData *mime = QGuiApplication::clipboard()->mimeData();
    QByteArray fragment;
    if (mime && mime->hasFormat(QString::fromLatin1(kStepsMimeType)))
        fragment = mime->data(QString::fromLatin1(kStepsMimeType));
    else if (mime && mime->hasText())
        fragment = mime->text().toUtf8();
    if (fragment.isEmpty()) {
        const QString reason = tr("The clipboard holds no steps to paste.");
        refuse(reason);
        return Status::error(reason);
    }
    QPointF offset(kPasteStep, kPasteStep);
    if (fragment == m_lastCopied)
        offset *= ++m_pasteCount;
    Result<QStringList> pasted = m_document->requestPaste(fragment, offset);
    if (!pasted) {
        refuse(pasted.error());
        return pasted.status();
    }
    selectSteps(*pasted);
    return Status::ok();
}

Status EditorScene::duplicateSelection() {
    const QStringList ids = selectedSteps();
    if (!m_document || ids.isEmpty())
        return Status::ok();
    Result<QStringList> copies = m_document->requestDuplicate(ids);
    if (!copies) {
        refuse(copies.error());
        return copies.status();
    }
    selectSteps(*copies);
    return Status::ok();
}

void EditorScene::selectAll() {
    selectSteps(stepIds());
}

Status EditorScene::autoLayout() {
    if (!m_document || m_document->flow().steps.isEmpty())
        return Status::ok();
    // dotLayout, not layoutFlow: the saved positions are what is being replaced.
    QHash<QString, QPointF> positions = dotLayout(m_document->flow());
    for (QPointF &pos : positions)
        pos = snapToGrid(pos);
    Status status = m_document->requestPositions(positions, tr("Auto-layout"));
    if (!status) {
        refuse(status.message());
        return status;
    }
    m_fallbackPositions.clear();
    Q_EMIT fitRequested();
    return status;
}

void EditorScene::updateActions() {
    const bool steps = !selectedSteps().isEmpty();
    m_deleteAction->setEnabled(steps || !selectedEdges().isEmpty());
    m_cutAction->setEnabled(steps);
    m_copyAction->setEnabled(steps);
    m_duplicateAction->setEnabled(steps);
    m_autoLayoutAction->setEnabled(!stepIds().isEmpty());
}

// ---- Keys ----

bool EditorScene::isEditKey(const QKeyEvent *event) const {
    if (isArrowKey(event->key()))
        return !(plainModifiers(event) & (Qt::ControlModifier | Qt::AltModifier)) &&
               !selectedSteps().isEmpty();
    return isDeleteKey(event) || isDuplicateKey(event) || event->matches(QKeySequence::Copy) ||
           event->matches(QKeySequence::Cut) || event->matches(QKeySequence::Paste) ||
           event->matches(QKeySequence::SelectAll);
}

bool EditorScene::editKeyPress(QKeyEvent *event) {
    if (!isEditKey(event))
        return false;
    if (isArrowKey(event->key())) {
        const qreal step =
            kGridSize * ((plainModifiers(event) & Qt::ShiftModifier) ? kLargeStep : 1);
        QPointF delta;
        switch (event->key()) {
        case Qt::Key_Left:
            delta = QPointF(-step, 0);
            break;
        case Qt::Key_Right:
            delta = QPointF(step, 0);
            break;
        case Qt::Key_Up:
            delta = QPointF(0, -step);
            break;
        default:
            delta = QPointF(0, step);
            break;
        }
        m_keyMoved = moveSelection(delta).isOk();
    } else if (isDeleteKey(event)) {
        deleteSelection();
    } else if (isDuplicateKey(event)) {
        duplicateSelection();
    } else if (event->matches(QKeySequence::Copy)) {
        copySelection();
    } else if (event->matches(QKeySequence::Cut)) {
        cutSelection();
    } else if (event->matches(QKeySequence::Paste)) {
        paste();
    } else {
        selectAll();
    }
    event->accept();
    return true;
}

void EditorScene::editKeyRelease(QKeyEvent *event) {
    // Auto-repeat while a key is held merges into one move; letting go ends it.
    if (isArrowKey(event->key()) && !event->isAutoRepeat() && m_keyMoved) {
        m_keyMoved = false;
        if (m_document)
            m_document->finishMove();
    }
}

// ---- Mouse ----

PortItem *EditorScene::portAt(QPointF scenePos, bool output) const {
    const PortItem::Side side = output ? PortItem::Side::Output : PortItem::Side::Input;
    const QList<QGraphicsItem *> found = items(scenePos);
    for (QGraphicsItem *item : found) {
        if (item->type() == PortItem::Type && static_cast<PortItem *>(item)->side() == side)
            return static_cast<PortItem *>(item);
    }
    return nullptr;
}

PortItem *EditorScene::wireTargetAt(QPointF scenePos) const {
    // The input port itself, or anywhere on the step's box: a generous target.
    PortItem *target = portAt(scenePos, false);
    if (!target) {
        if (StepNodeItem *node = nodeAt(scenePos))
            target = port(node->stepId(), false);
    }
    return target;
}

void EditorScene::cancelWire() {
    if (m_wireTarget)
        m_wireTarget->setHighlighted(false);
    m_wireTarget = nullptr;
    if (m_wire) {
        removeItem(m_wire);
        delete m_wire;
        m_wire = nullptr;
    }
    m_wireFrom.clear();
}

void EditorScene::finishWire(QPointF scenePos) {
    const QString from = m_wireFrom;
    PortItem *target = wireTargetAt(scenePos);
    const QString to = target ? target->stepId() : QString();
    cancelWire();
    if (!to.isEmpty())
        addEdge(from, to); // a wire dropped on the background is simply dropped
}

void EditorScene::mousePressEvent(QGraphicsSceneMouseEvent *event) {
    if (event->button() == Qt::LeftButton && m_document) {
        if (PortItem *output = portAt(event->scenePos(), true)) {
            cancelWire();
            m_wireFrom = output->stepId();
            m_wire = new WireItem(output->scenePos());
            addItem(m_wire);
            event->accept();
            return;
        }
    }
    GraphScene::mousePressEvent(event);
    // A press on a selected step (the item's own handling selected it unless Ctrl was held)
    // may start dragging the whole selection.
    QGraphicsItem *grabber = mouseGrabberItem();
    if (event->button() == Qt::LeftButton && m_document && grabber &&
        grabber->type() == StepNodeItem::Type && grabber->isSelected()) {
        m_dragIds = selectedSteps();
        m_dragAnchor = static_cast<StepNodeItem *>(grabber)->stepId();
        m_dragAnchorStart = grabber->pos();
        m_dragPress = event->scenePos();
        m_dragging = true;
        m_dragMoved = false;
    }
}

void EditorScene::mouseMoveEvent(QGraphicsSceneMouseEvent *event) {
    if (m_wire) {
        m_wire->setEnd(event->scenePos());
        PortItem *target = wireTargetAt(event->scenePos());
        if (target && target->stepId() == m_wireFrom)
            target = nullptr;
        if (target != m_wireTarget) {
            if (m_wireTarget)
                m_wireTarget->setHighlighted(false);
            m_wireTarget = target;
            if (target)
                target->setHighlighted(true);
        }
        event->accept();
        return;
    }
    if (m_dragging && (event->buttons() & Qt::LeftButton)) {
        event->accept();
        if (!m_dragMoved &&
            (event->screenPos() - event->buttonDownScreenPos(Qt::LeftButton)).manhattanLength() <
                QApplication::startDragDistance())
            return;
        m_dragMoved = true;
        const StepNodeItem *anchor = nodeItem(m_dragAnchor);
        if (!anchor) {
            m_dragging = false;
            return;
        }
        // The pressed step follows the pointer on the grid; the others keep their offsets.
        const QPointF target = snapToGrid(m_dragAnchorStart + event->scenePos() - m_dragPress);
        const QPointF delta = target - anchor->pos();
        if (delta.isNull())
            return;
        const Status status = requestMove(m_dragIds, delta);
        if (!status) {
            m_dragging = false;
            refuse(status.message(), event->scenePos());
        }
        return;
    }
    GraphScene::mouseMoveEvent(event);
}

void EditorScene::mouseReleaseEvent(QGraphicsSceneMouseEvent *event) {
    if (m_wire && event->button() == Qt::LeftButton) {
        finishWire(event->scenePos());
        event->accept();
        return;
    }
    if (event->button() == Qt::LeftButton && m_dragging) {
        m_dragging = false;
        if (m_dragMoved && m_document)
            m_document->finishMove(); // the drag is one undo step
    }
    GraphScene::mouseReleaseEvent(event);
}

void EditorScene::contextMenuEvent(QGraphicsSceneContextMenuEvent *event) {
    QString stepId;
    if (StepNodeItem *node = nodeAt(event->scenePos())) {
        stepId = node->stepId();
        if (!node->isSelected())
            selectStep(stepId); // a menu on a step outside the selection acts on that step
    } else {
        const QList<QGraphicsItem *> found = items(event->scenePos());
        for (QGraphicsItem *item : found) {
            if (item->type() == EdgeItem::Type) {
                if (!item->isSelected()) {
                    clearSelection();
                    item->setSelected(true);
                }
                break;
            }
        }
    }
    updateActions();
    QMenu menu(event->widget());
    menu.addAction(m_cutAction);
    menu.addAction(m_copyAction);
    menu.addAction(m_pasteAction);
    menu.addAction(m_duplicateAction);
    menu.addAction(m_deleteAction);
    menu.addSeparator();
    menu.addAction(m_selectAllAction);
    menu.addAction(m_autoLayoutAction);
    Q_EMIT contextMenuOpening(&menu, stepId);
    menu.exec(event->screenPos());
    event->accept();
}

// ---- Drops from the palette ----

void EditorScene::dragEnterEvent(QGraphicsSceneDragDropEvent *event) {
    const bool ours = m_document && event->mimeData() &&
                      event->mimeData()->hasFormat(QString::fromLatin1(kStepKindMimeType));
    event->setAccepted(ours);
    if (ours)
        event->setDropAction(Qt::CopyAction);
}

void EditorScene::dragMoveEvent(QGraphicsSceneDragDropEvent *event) {
    dragEnterEvent(event);
}

void EditorScene::dragLeaveEvent(QGraphicsSceneDragDropEvent *event) {
    event->accept();
}

void EditorScene::dropEvent(QGraphicsSceneDragDropEvent *event) {
    const QMimeData *mime = event->mimeData();
    const QString kind =
        mime ? QString::fromUtf8(mime->data(QString::fromLatin1(kStepKindMimeType))) : QString();
    if (!m_document || kind.isEmpty()) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    addStep(kind, event->scenePos());
}

} // namespace keepflow::ui
