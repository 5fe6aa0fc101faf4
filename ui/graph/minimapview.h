#pragma once

// An overview of the run graph in a corner of GraphView: the steps of the main view's scene,
// scaled to fit, with the main view's visible area outlined. Clicking or dragging in it centers
// the main view there. It repaints at most a few times a second (live updates need not reach it
// at 25 Hz).
//
// It paints the steps itself, as boxes in their state's color read from the scene's StepViews,
// instead of showing the scene's items: the items cache their pixmaps per view
// (DeviceCoordinateCache) but QGraphicsItem keeps one "exposed" flag for all views, so the main
// view's repaint consumed the invalidation and the overview kept the colors of its first paint.
// Its own QGraphicsScene is empty and only mirrors the scene rect, for mapping.
//
// Threading: GUI thread.

#include <QGraphicsView>
#include <QPointer>
#include <QTimer>

namespace keepflow::ui {

class GraphScene;
class GraphView;

class MinimapView : public QGraphicsView {
    Q_OBJECT
public:
    static constexpr int kRefreshIntervalMs = 250;

    /// A child of mainView showing mainView's scene.
    explicit MinimapView(GraphView *mainView);

    /// The scene whose steps are shown (not owned); nullptr shows nothing.
    void setSourceScene(GraphScene *scene);
    GraphScene *sourceScene() const { return m_source; }

    /// Scales the scene to fit the minimap again (after a resize or a new scene rect).
    void refit();
    /// Repaints the steps on the next refresh tick.
    void scheduleRefresh();
    /// Repaints the outline of the main view's visible area now.
    void updateVisibleArea();

protected:
    void drawBackground(QPainter *painter, const QRectF &rect) override;
    void drawForeground(QPainter *painter, const QRectF &rect) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void centerMainViewAt(QPoint pos);

    GraphView *m_mainView;
    QPointer<GraphScene> m_source;
    QGraphicsScene *m_mirror;
    QTimer m_refreshTimer;
};

} // namespace keepflow::ui
