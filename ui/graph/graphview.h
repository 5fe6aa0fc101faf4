#pragma once

// The run graph's view: zoom (Ctrl+wheel, + and -, 0 for 100 %), pan (drag the background,
// arrow keys), F to fit everything, a minimap in the bottom-right corner, and keyboard access to
// the steps: Tab / Shift+Tab walk them in flow order, Ctrl+arrows move to the nearest step in
// that direction, Enter activates, the Menu key (or Shift+F10) asks for the context menu, Escape
// clears the selection. The selected step's summary is the view's accessible description.
//
// Reading at a glance: fitting never shrinks a flow of up to kReadableFitMaxSteps steps below
// kReadableZoom, where every box shows its name (StepNodeItem's compact box); a larger flow is
// fitted whole and, while its boxes are too small for names, the steps that need attention
// (failed, retrying, uncertain, waiting: needsAttention) get a label of screen-sized glyph and
// name over their box. The minimap only shows while the graph does not fit in the view.
//
// Accessibility: the view's QAccessibleInterface (role List) has one child per step (ListItem,
// in flow order) named by the step id, described by its summary ("fetch (http): Failed, ..."),
// selected like the node, with the press and setFocus actions selecting the step as a click
// does.
//
// On an editable scene (EditorScene) it is the editor's canvas, "Flow canvas": dragging the
// background draws a rubber band instead of panning (the middle button pans), editing keys go to
// the scene first, and the view fits the steps rather than the scene rect, which grows as steps
// are dragged out.
//
// Threading: GUI thread.

#include <QGraphicsView>
#include <QPointer>
#include <QRegion>

class QAction;

namespace keepflow::ui {

class GraphScene;
class MinimapView;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    static constexpr qreal kMaxZoom = 4.0;
    /// Zooming out stops here, or at the fit-all scale when that is smaller.
    static constexpr qreal kMinZoom = 0.05;
    /// Fitting shows names (StepNodeItem::kNameLod and up): it stops at this scale and lets the
    /// view scroll, for flows of up to kReadableFitMaxSteps steps.
    static constexpr qreal kReadableZoom = 0.5;
    static constexpr int kReadableFitMaxSteps = 50;
    /// At most this many attention labels are drawn (the first ones in flow order).
    static constexpr int kMaxAttentionLabels = 100;

    /// A label over a step that needs attention, while the boxes are too small for names.
    struct AttentionLabel {
        QString stepId;
        QRect rect; ///< in viewport coordinates
    };
    /// The labels drawn now (empty when the boxes show names themselves).
    QList<AttentionLabel> attentionLabels() const;

    explicit GraphView(QWidget *parent = nullptr);
    explicit GraphView(GraphScene *scene, QWidget *parent = nullptr);
    ~GraphView() override;

    /// Shows scene (not owned) and fits it in the view once it is shown.
    void setGraphScene(GraphScene *scene);
    GraphScene *graphScene() const;

    /// Scale of the view: 1 is 100 %.
    qreal zoom() const;
    /// Sets the scale, clamped to [min(kMinZoom, fit-all scale), kMaxZoom], about the view center.
    void setZoom(qreal zoom);

    MinimapView *minimap() const { return m_minimap; }
    void setMinimapVisible(bool visible);
    bool isMinimapVisible() const;

    /// "Fit", "Zoom in", "Zoom out", "Minimap" (checkable), for toolbars and menus.
    QAction *fitAction() const { return m_fitAction; }
    QAction *zoomInAction() const { return m_zoomInAction; }
    QAction *zoomOutAction() const { return m_zoomOutAction; }
    QAction *minimapAction() const { return m_minimapAction; }

public Q_SLOTS:
    /// Shows the whole scene, never magnified beyond 100 %.
    void fitAll();
    void zoomIn();
    void zoomOut();
    void resetZoom();
    /// Scrolls so that the step's box is in the middle of the view.
    void centerOnStep(const QString &id);

Q_SIGNALS:
    void zoomChanged(qreal zoom);

protected:
    void wheelEvent(QWheelEvent *event) override;
    bool event(QEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void keyReleaseEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;
    void drawForeground(QPainter *painter, const QRectF &rect) override;
    bool focusNextPrevChild(bool next) override;

private:
    void init();
    qreal fitZoom() const;
    void applyZoom(qreal zoom);
    bool selectInOrder(bool next);
    void selectTowards(int key);
    void revealStep(const QString &id);
    void updateAccessibleDescription();
    void placeMinimap();
    void viewChanged();
    /// Repaints where attention labels were and where they are now (after a flush).
    void updateAttentionLabels();
    void announceSelection();

    QPointer<GraphScene> m_scene;
    MinimapView *m_minimap = nullptr;
    QAction *m_fitAction = nullptr;
    QAction *m_zoomInAction = nullptr;
    QAction *m_zoomOutAction = nullptr;
    QAction *m_minimapAction = nullptr;
    bool m_fitPending = true;
    bool m_panning = false; ///< middle-button pan on the editable canvas
    QPoint m_panFrom;
    QRegion m_labelRegion; ///< where attention labels were last drawn (viewport coordinates)
};

} // namespace keepflow::ui
