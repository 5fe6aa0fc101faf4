#pragma once

// One step of the run graph: a rounded box in its state's color with the state glyph, the step
// id, its kind and badges ("attempt 2/5", "retry in 12 s", "37/40 items", "fallback", ...).
// Steps with validation problems get a dashed red outline and a "!" badge (GraphScene::
// setProblemSteps). Holds only the step id: everything it shows is read from its GraphScene's
// StepView map, so a state change repaints it and never recreates it.
//
// Threading: GUI thread.

#include <QColor>
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
    /// The box (without the selection ring) in item coordinates, centered on the origin.
    static QRectF boxRect();
    /// Color of the problem marker (outline and badge).
    static QColor problemColor();

    int type() const override { return Type; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option,
               QWidget *widget = nullptr) override;

private:
    const StepView *view() const;
    void paintProblemMarker(QPainter *painter, const QRectF &box, bool coarse) const;
    GraphScene *graphScene() const;

    QString m_stepId;
};

} // namespace keepflow::ui
