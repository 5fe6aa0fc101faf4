#pragma once

// An overview of the run graph in a corner of GraphView: the same scene, scaled to fit, with the
// main view's visible area outlined. Clicking or dragging in it centers the main view there.
// It repaints at most a few times a second (live updates need not reach it at 25 Hz).
//
// Threading: GUI thread.

#include <QGraphicsView>
#include <QTimer>

namespace keepflow::ui {

class GraphView;

class MinimapView : public QGraphicsView {
    Q_OBJECT
public:
    static constexpr int kRefreshIntervalMs = 250;

    /// A child of mainView showing mainView's scene.
    explicit MinimapView(GraphView *mainView);

    /// Scales the scene to fit the minimap again (after a resize or a new scene rect).
    void refit();
    /// Repaints the steps on the next refresh tick.
    void scheduleRefresh();
    /// Repaints the outline of the main view's visible area now.
    void updateVisibleArea();

protected:
    void drawForeground(QPainter *painter, const QRectF &rect) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void centerMainViewAt(QPoint pos);

    GraphView *m_mainView;
    QTimer m_refreshTimer;
};

} // namespace keepflow::ui
