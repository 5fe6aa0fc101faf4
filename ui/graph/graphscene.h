#pragma once

// The run graph's scene: one StepNodeItem per step and one EdgeItem per dependency, built once
// by setFlow() and kept by id. Live data arrives through updateSteps(): the scene stores the
// StepViews, marks their ids dirty and repaints them together on one coalescing timer (~25 Hz),
// so a burst of thousands of state changes costs one repaint per visible step per tick. Items
// read their data from stepView(); nothing is rebuilt on a state change.
//
// Threading: GUI thread.

#include "flow.h"
#include "stepview.h"

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QTimer>

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
    /// The selected step's id, or an empty string.
    QString selectedStep() const;

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

Q_SIGNALS:
    /// The selection changed to this step; an empty id when nothing is selected.
    void stepSelected(const QString &id);
    void stepContextMenuRequested(const QString &id, const QPoint &screenPos);
    /// Double click (or Enter in GraphView) on a step.
    void stepActivated(const QString &id);
    /// A flush repainted count steps.
    void updatesFlushed(int count);

protected:
    void contextMenuEvent(QGraphicsSceneContextMenuEvent *event) override;
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) override;
    void helpEvent(QGraphicsSceneHelpEvent *event) override;

private:
    void onSelectionChanged();
    StepNodeItem *nodeAt(QPointF scenePos) const;
    void markDirty(const QString &id);

    QHash<QString, StepNodeItem *> m_nodes;
    QHash<QString, StepView> m_views;
    QHash<QString, QList<EdgeItem *>> m_incoming;
    QList<EdgeItem *> m_edges;
    QStringList m_order;
    QSet<QString> m_dirtySteps;
    QSet<QString> m_dirtyEdges; ///< steps whose incoming edges change style (blocked or not)
    QTimer m_flushTimer;
    qint64 m_now = 0;
    QString m_selected;
    bool m_adjustingSelection = false;
    QGraphicsItem::CacheMode m_cacheMode = QGraphicsItem::DeviceCoordinateCache;
};

} // namespace keepflow::ui
