#pragma once

// The flow editor's canvas: the run graph's scene (GraphScene) in editable mode, showing a
// FlowDocument, so that a flow is edited, run and watched in one place (live state still arrives
// through updateSteps while editing).
//
// Every edit goes through the document's request functions (one undo command each); the items
// follow the document's signals: positionsChanged moves them, structureChanged rebuilds them,
// changed refreshes edges and kinds. Nothing here moves or creates an item as an edit.
//
// Mouse: drag steps (snapped to the grid, one undo step per drag), rubber band and Ctrl+click to
// select several, drag from a step's output port (right) to another step's input (left) to wire
// them, click a wire to select it, drop a palette entry to add a step. Keys (GraphView passes
// them): arrows move the selection one grid step (Shift: five), Delete removes, Ctrl+C / X / V /
// D copy, cut, paste and duplicate, Ctrl+A selects all. A refused edit changes nothing: its reason
// is shown on the canvas for a few seconds (noticeItem) and emitted as editRefused.
//
// Threading: GUI thread. Ownership: the document is not owned and must outlive the scene's use.

#include "core/status.h"
#include "graphscene.h"

#include <QPointer>
#include <QTimer>

#include <optional>
#include <utility>

class QAction;
class QMenu;

namespace keepflow::ui {

class FlowDocument;
class NoticeItem;
class PortItem;
class WireItem;

class EditorScene : public GraphScene {
    Q_OBJECT
public:
    /// Steps snap to this grid (scene units); an arrow key moves them by one step of it.
    static constexpr qreal kGridSize = 20.0;
    /// Shift+arrow moves this many grid steps.
    static constexpr int kLargeStep = 5;
    /// How long a refusal stays on the canvas.
    static constexpr int kNoticeMs = 4000;
    /// Clipboard format of copied steps (FlowDocument::copySteps); the text is the same JSON.
    static constexpr const char *kStepsMimeType = "application/x-keepflow-steps";
    /// Drag format of palette entries: the step kind, UTF-8.
    static constexpr const char *kStepKindMimeType = "application/x-keepflow-step-kind";

    explicit EditorScene(FlowDocument *document, QObject *parent = nullptr);
    ~EditorScene() override;

    FlowDocument *document() const;

    /// The nearest grid point.
    static QPointF snapToGrid(QPointF pos);

    // ---- Edits (also behind the keys, the context menu and the actions) ----
    /// Adds a step of kind centered at pos snapped to the grid, and selects it.
    Result<QString> addStep(const QString &kind, QPointF pos);
    /// Wires from -> to (to runs after from).
    Status addEdge(const QString &from, const QString &to);
    /// Moves the selected steps by delta (one undo step per call unless moves continue).
    Status moveSelection(QPointF delta);
    /// Removes the selected steps; with no step selected, the selected wires.
    Status deleteSelection();
    /// Puts the selected steps on the clipboard; false when nothing is selected.
    bool copySelection();
    Status cutSelection();
    /// Pastes steps from the clipboard next to where they were copied, and selects them.
    Status paste();
    Status duplicateSelection();
    void selectAll();
    /// Lays the whole flow out with Graphviz dot (saved positions ignored), applies it as one
    /// undo command and asks the views to fit it.
    Status autoLayout();

    /// The selected wires as (from, to) pairs.
    QList<std::pair<QString, QString>> selectedEdges() const;
    /// The output or input port of a step, or nullptr.
    PortItem *port(const QString &id, bool output) const;
    /// The refusal currently shown on the canvas, or nullptr.
    NoticeItem *noticeItem() const { return m_notice; }
    /// The reason of the last refused edit.
    const QString &lastRefusal() const { return m_lastRefusal; }
    /// While a rebuild follows a rename: the selection that goes empty for a moment comes back
    /// on the renamed step (views keep showing it instead of reacting to the empty one).
    bool isFollowingRename() const { return m_followingRename; }
    /// How long a refusal stays (kNoticeMs unless set); a shown notice restarts with it, so that
    /// tests see it go without waiting for the real time to pass.
    void setNoticeDuration(int ms);
    int noticeDuration() const { return m_noticeTimer.interval(); }

    /// "Delete", "Cut", "Copy", "Paste", "Duplicate", "Select all", "Auto-layout", for menus
    /// and toolbars. Their shortcuts are shown but act only while the canvas has the focus.
    QAction *deleteAction() const { return m_deleteAction; }
    QAction *cutAction() const { return m_cutAction; }
    QAction *copyAction() const { return m_copyAction; }
    QAction *pasteAction() const { return m_pasteAction; }
    QAction *duplicateAction() const { return m_duplicateAction; }
    QAction *selectAllAction() const { return m_selectAllAction; }
    QAction *autoLayoutAction() const { return m_autoLayoutAction; }

    bool editKeyPress(QKeyEvent *event) override;
    void editKeyRelease(QKeyEvent *event) override;
    bool isEditKey(const QKeyEvent *event) const override;

Q_SIGNALS:
    /// An edit was refused; nothing changed. For the window's status bar.
    void editRefused(const QString &reason);
    /// The canvas's context menu is about to open on stepId (empty: on a wire or the background),
    /// holding the edit actions; the window may add its own (run actions) before it shows.
    void contextMenuOpening(QMenu *menu, const QString &stepId);

protected:
    void decorateNode(StepNodeItem *node) override;
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent *event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override;
    void contextMenuEvent(QGraphicsSceneContextMenuEvent *event) override;
    void dragEnterEvent(QGraphicsSceneDragDropEvent *event) override;
    void dragMoveEvent(QGraphicsSceneDragDropEvent *event) override;
    void dragLeaveEvent(QGraphicsSceneDragDropEvent *event) override;
    void dropEvent(QGraphicsSceneDragDropEvent *event) override;

private:
    void rebuild();
    void onPositionsChanged(const QStringList &ids);
    void onChanged();
    QPointF displayPosition(const QString &id) const;
    Status requestMove(const QStringList &ids, QPointF delta);
    /// Shows status's reason on the canvas (near pos, or the view's center) and emits it.
    void refuse(const QString &reason, std::optional<QPointF> pos = std::nullopt);
    void clearNotice();
    PortItem *portAt(QPointF scenePos, bool output) const;
    /// The input port a wire from m_wireFrom would end at if released at scenePos.
    PortItem *wireTargetAt(QPointF scenePos) const;
    void finishWire(QPointF scenePos);
    void cancelWire();
    void updateActions();

    QPointer<FlowDocument> m_document;
    /// Layout positions of steps the flow has no position for (a file written by hand).
    QHash<QString, QPointF> m_fallbackPositions;
    /// Set when a structure or positions signal already updated the items for the coming
    /// changed() signal.
    bool m_refreshed = false;

    // A drag of selected steps.
    QStringList m_dragIds;
    QString m_dragAnchor;
    QPointF m_dragAnchorStart;
    QPointF m_dragPress;
    bool m_dragging = false;
    bool m_dragMoved = false;
    bool m_keyMoved = false;

    // A wire being drawn from an output port.
    WireItem *m_wire = nullptr;
    QString m_wireFrom;
    PortItem *m_wireTarget = nullptr;

    NoticeItem *m_notice = nullptr;
    QTimer m_noticeTimer;
    QString m_lastRefusal;
    bool m_followingRename = false;

    QByteArray m_lastCopied;
    int m_pasteCount = 0;

    QAction *m_deleteAction = nullptr;
    QAction *m_cutAction = nullptr;
    QAction *m_copyAction = nullptr;
    QAction *m_pasteAction = nullptr;
    QAction *m_duplicateAction = nullptr;
    QAction *m_selectAllAction = nullptr;
    QAction *m_autoLayoutAction = nullptr;
};

} // namespace keepflow::ui
