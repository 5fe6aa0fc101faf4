#pragma once

// The run graph's scene: one StepNodeItem per step and one EdgeItem per dependency, built once
// by setFlow() and kept by id. Live data arrives through updateSteps(): the scene stores the
// StepViews, marks their ids dirty and repaints them together on one coalescing timer (~25 Hz),
// so a burst of thousands of state changes costs one repaint per visible step per tick. Items
// read their data from stepView(); nothing is rebuilt on a state change.
//
// The editor's canvas is the same scene in editable mode (EditorScene): several steps may be
// selected, steps move (moveSteps) and edges follow, edges are added and removed without a
// rebuild (refreshFlow), and live run state keeps flowing through updateSteps meanwhile.
//
// Threading: GUI thread.

#include "model/flow.h"
#include "stepview.h"

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QTimer>

class QKeyEvent;

namespace keepflow::ui {

class EdgeItem;
class StepNodeItem;

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    /// Interval of the coalescing repaint timer: 33 Hz, so a stream of changes repaints above
    /// 30 frames/s while any number of changes between two ticks cost one repaint.
    static constexpr int kFlushIntervalMs = 30;

    explicit GraphScene(QObject *parent = nullptr);
    ~GraphScene() override;

    /// Replaces every item with the steps and edges of flow, laid out by layoutFlow(), and fixes
    /// the scene rect around them. Every step starts as Pending with its kind from the flow.
    void setFlow(const Flow &flow);
    /// The same with the box centers given (steps missing from positions go to (0, 0)). In
    /// editable mode, steps that stay keep their run data and selection, and the scene rect only
    /// grows, so that a rebuild does not make the view jump.
    void setFlow(const Flow &flow, const QHash<QString, QPointF> &positions);
    /// Brings kinds and edges up to date with flow, whose steps are those shown: edges are added
    /// and removed one by one, nothing else is recreated.
    void refreshFlow(const Flow &flow);
    /// Moves the boxes of these steps (centers) and the edges attached to them.
    void moveSteps(const QHash<QString, QPointF> &positions);

    /// Whether this is the editor's canvas (EditorScene): several steps can be selected.
    bool isEditable() const { return m_editable; }
    /// The part of the scene the view fits: the steps (editable) or the fixed scene rect.
    QRectF contentRect() const;

    /// Marks the steps with validation problems (dashed red outline and a "!" badge).
    void setProblemSteps(const QSet<QString> &ids);
    bool hasProblem(const QString &id) const { return m_problems.contains(id); }
    const QSet<QString> &problemSteps() const { return m_problems; }
    /// Marks the steps that differ from another run (the run comparison): a solid outline, a
    /// "≠" badge and a "differs" badge, and notes (what differs, one line each) in the tooltip.
    void setDifferences(const QHash<QString, QStringList> &notes);
    bool differs(const QString &id) const { return m_differences.contains(id); }
    QStringList differenceNotes(const QString &id) const { return m_differences.value(id); }
    /// Stores the views and schedules a repaint of their steps; ids not in the flow are ignored.
    void updateSteps(const QList<StepView> &steps);
    /// Repaints the steps marked dirty now instead of on the timer's next tick.
    void flushUpdates();
    /// Number of steps waiting for the next flush.
    int pendingUpdateCount() const { return int(m_dirtySteps.size()); }

    /// The time countdown badges ("retry in 12 s") are measured from, in ms since the epoch.
    /// Injected so that tests need no sleeping; the owner calls it about once a second.
    void setNow(qint64 ms);
    qint64 now() const { return m_now; }

    /// Selects the step's node alone (and gives it focus); an unknown or empty id clears it.
    void selectStep(const QString &id);
    /// The selected step's id, or an empty string. In editable mode, with several selected: the
    /// one selected first (the current step of inspectors).
    QString selectedStep() const;
    /// Selects exactly these steps (editable mode; the run graph keeps the first one only).
    void selectSteps(const QStringList &ids);
    /// The selected steps' ids in flow order.
    QStringList selectedSteps() const;

    /// The latest data of a step of the flow, or nullptr for an unknown id.
    const StepView *stepView(const QString &id) const;
    StepNodeItem *nodeItem(const QString &id) const;
    /// The edge from upstream to downstream, or nullptr.
    EdgeItem *edgeItem(const QString &from, const QString &to) const;
    const QList<EdgeItem *> &edgeItems() const { return m_edges; }
    /// Step ids in flow order (the order of keyboard navigation).
    const QStringList &stepIds() const { return m_order; }

    /// Cache mode of the step items. DeviceCoordinateCache by default: bench_graph measured it
    /// 20-30 % faster per frame at 100 % (text drawn), and 10-40 % slower with all 5,000 steps
    /// fitted in the view (thousands of tiny pixmaps); both stay well under a 33 ms frame.
    void setNodeCacheMode(QGraphicsItem::CacheMode mode);

    /// Editing keys of the editable scene (Delete, arrows, clipboard), offered first by GraphView.
    /// Returns true when handled. The run graph handles none.
    virtual bool editKeyPress(QKeyEvent *event);
    virtual void editKeyRelease(QKeyEvent *event);
    /// Whether the scene wants this key before window shortcuts do (ShortcutOverride).
    virtual bool isEditKey(const QKeyEvent *event) const;

Q_SIGNALS:
    /// The selection changed to this step; an empty id when nothing is selected.
    void stepSelected(const QString &id);
    void stepContextMenuRequested(const QString &id, const QPoint &screenPos);
    /// Double click (or Enter in GraphView) on a step.
    void stepActivated(const QString &id);
    /// A flush repainted count steps.
    void updatesFlushed(int count);
    /// The set of selected steps changed (ids in flow order).
    void stepSelectionChanged(const QStringList &ids);
    /// The content changed as a whole (auto-layout): views fit it again.
    void fitRequested();

protected:
    /// Editable mode (EditorScene's constructor).
    void setEditable(bool editable);
    /// Called for each node setFlow creates, before it is added (EditorScene adds ports).
    virtual void decorateNode(StepNodeItem *node);
    StepNodeItem *nodeAt(QPointF scenePos) const;

    void contextMenuEvent(QGraphicsSceneContextMenuEvent *event) override;
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) override;
    void helpEvent(QGraphicsSceneHelpEvent *event) override;

private:
    void onSelectionChanged();
    void markDirty(const QString &id);
    void addEdge(const QString &from, const QString &to);
    void removeEdge(EdgeItem *edge);
    void growSceneRect(const QRectF &needed);

    QHash<QString, StepNodeItem *> m_nodes;
    QHash<QString, StepView> m_views;
    QHash<QString, QList<EdgeItem *>> m_incoming;
    QHash<QString, QList<EdgeItem *>> m_outgoing;
    QList<EdgeItem *> m_edges;
    QStringList m_order;
    QSet<QString> m_dirtySteps;
    QSet<QString> m_dirtyEdges; ///< steps whose incoming edges change style (blocked or not)
    QTimer m_flushTimer;
    qint64 m_now = 0;
    QString m_selected;
    QStringList m_selectedIds;
    QSet<QString> m_problems;
    QHash<QString, QStringList> m_differences;
    bool m_adjustingSelection = false;
    bool m_editable = false;
    QGraphicsItem::CacheMode m_cacheMode = QGraphicsItem::DeviceCoordinateCache;
};

} // namespace keepflow::ui
