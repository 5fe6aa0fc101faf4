#pragma once

// One step of the run graph: a rounded box in its state's color with the state glyph, the step
// id, its kind and badges ("attempt 2/5", "retry in 12 s", "37/40 items", "fallback", ...).
// Steps with validation problems get a dashed red outline and a "!" badge (GraphScene::
// setProblemSteps). A root cause (StepView::rootCause) gets a solid amber outline and a target
// badge, and says so in its badges and summary. Holds only the step id: everything it shows is read
// from its GraphScene's StepView map, so a state change repaints it and never recreates it.
//
// Threading: GUI thread.

#include "core/states.h"

#include <QColor>
#include <QFontMetricsF>
#include <QGraphicsItem>
#include <QString>
#include <QStringList>

namespace keepflow::ui {

class GraphScene;
struct StepView;

class StepNodeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 1 };

    explicit StepNodeItem(const QString &stepId);

    const QString &stepId() const { return m_stepId; }
    /// The badges shown under the kind, in display order ("attempt 2/3", "retry in 12 s").
    QStringList badges() const;
    /// The badges joined with ", "; empty when there are none.
    QString badgeText() const;
    /// "fetch (http): Retrying, attempt 2/3, retry in 12 s": for tooltips and screen readers.
    QString summaryText() const;
    /// Whether the scene marks this step as having validation problems.
    bool hasProblem() const;
    /// Whether the scene marks this step as differing from another run's (run comparison).
    bool differs() const;
    /// The box (without the selection ring) in item coordinates, centered on the origin.
    static QRectF boxRect();
    /// Color of the problem marker (outline and badge).
    static QColor problemColor();

    /// Names are drawn at kMinNamePixels or more on screen: from kNameLod up, a small box shows
    /// the glyph and the name, wrapped on two lines (elided past that), in a font that grows in
    /// scene units as the view zooms out; below kNameLod only the glyph (GraphView labels the
    /// steps that need attention instead).
    static constexpr qreal kMinNamePixels = 11.0;
    static constexpr qreal kNameLod = 0.4;
    /// From here up the full box: title, kind and badges in their own fonts (13 and 11 px).
    static constexpr qreal kFullLod = 0.85;
    /// The name as drawn at this scale: its lines (empty below kNameLod) and the font's pixel
    /// size in scene units (times lod: on screen).
    struct NameLayout {
        QStringList lines;
        qreal pixelSize = 0;
    };
    NameLayout nameLayout(qreal lod) const;
    /// Splits name into at most maxLines lines of at most width (breaking after '-', '_', '.'
    /// or ' ' where it can), the last one elided in the middle when the name does not fit.
    static QStringList wrapName(const QString &name, const QFontMetricsF &metrics, qreal width,
                                int maxLines);

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option,
               QWidget *widget = nullptr) override;

private:
    const StepView *view() const;
    void paintProblemMarker(QPainter *painter, const QRectF &box, bool coarse) const;
    void paintRootCauseMarker(QPainter *painter, const QRectF &box, bool coarse) const;
    void paintDifferenceMarker(QPainter *painter, const QRectF &box, bool coarse) const;
    void paintCompact(QPainter *painter, const QRectF &box, StepState state, qreal lod) const;
    GraphScene *graphScene() const;

    QString m_stepId;
};

} // namespace keepflow::ui
