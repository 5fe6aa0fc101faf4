#pragma once

// Gantt chart of a run's attempts: one row per step (flow order, labels on the y axis), one bar
// per attempt from its start to its end, colored by outcome (outcomeColor, shared with the rest
// of the UI) with a legend of outcomes. A running attempt's bar reaches "now" and grows as now
// advances (setNow). Backoff waits between attempts stay empty space. The time axis shows clock
// times. Attempts of foreach items are drawn in lanes inside their step's row, one lane per item
// and thinner bars, so that concurrent items do not hide each other; with hundreds of items the
// lanes shrink to a pixel and the row reads as a density strip.
//
// Bars are drawn by one plottable per outcome (AttemptBars), not one item per attempt, and
// updates request a queued replot, so several calls in one event loop pass repaint once.
// Clicking a row (a bar, the empty space or its label) or pressing Enter on the highlighted
// row emits stepClicked; Up/Down move the highlight. The time axis follows the run live until
// the user drags or zooms it (wheel); a double click returns to following.
//
// Threading: GUI thread.

#include "core/records.h"

#include <QColor>
#include <QHash>
#include <QList>
#include <QPair>
#include <QPoint>
#include <QStringList>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPItemRect;
class QMouseEvent;

namespace keepflow::ui {

class AttemptBars;

/// A moment on a step's row that is not an attempt: an operator's action (retry, skip, approve,
/// resolve...) or the start of a wait for one (an approval, an uncertain outcome).
struct TimelineMark {
    enum class Kind { OperatorAction, Wait };
    QString stepId;
    qint64 at = 0;
    Kind kind = Kind::OperatorAction;
    QString label; ///< "skip by alice: upstream data is bad"
};

class TimelinePlot : public QWidget {
    Q_OBJECT
public:
    explicit TimelinePlot(QWidget *parent = nullptr);
    ~TimelinePlot() override;

    /// One row per step, top to bottom in this order. Attempts of other steps are not drawn.
    void setSteps(const QStringList &stepIds);
    QStringList steps() const { return m_steps; }
    /// Replaces the bars. Running attempts (endedAt 0) end at now (ms since the epoch).
    void setAttempts(const QList<AttemptRow> &attempts, qint64 now);
    /// Replaces the marks of operator actions and waits (diamonds and triangles on the rows).
    void setMarks(const QList<TimelineMark> &marks);
    /// The step's marks, ordered by time (for tests and tooltips).
    QList<TimelineMark> marksForStep(const QString &stepId) const;
    /// Moves "now": running bars grow to it; nothing else is rebuilt (call it from a 1 Hz timer).
    void setNow(qint64 now);
    /// The left edge of the time axis (ms); without it the earliest attempt's start.
    void setRunStart(qint64 runStart);
    /// Marks a row with a band (empty: none).
    void highlightStep(const QString &stepId);
    QString highlightedStep() const { return m_highlighted; }

    /// x coordinate of a time in the plot: seconds since the epoch (QCPAxisTickerDateTime).
    static double plotTime(qint64 ms) { return static_cast<double>(ms) / 1000.0; }

    // Queries, for tests and tooltips.
    int barCount() const;
    /// (start, end) in plot coordinates (plotTime) of the step's bars, ordered by start.
    QList<QPair<double, double>> barsForStep(const QString &stepId) const;
    /// Fill color of the step's index-th bar (ordered by start); invalid when there is none.
    QColor barColor(const QString &stepId, int index) const;
    /// Where the step's row is, at time ms, in plotWidget() coordinates (valid after a replot).
    QPoint pixelFor(const QString &stepId, qint64 ms) const;
    /// The QCustomPlot inside (mouse events go there).
    QCustomPlot *plotWidget() const { return m_plot; }

Q_SIGNALS:
    void stepClicked(const QString &stepId);

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    /// Legend entries side by side when there is room; fewer on a narrow pane.
    static constexpr int kLegendColumns = 4;
    static constexpr int kLegendRowMargin = 5;
    /// The plot's own minimum: axes and a few bars (the legend folds to fit).
    static constexpr int kMinimumWidth = 280;
    // Plottable groups: one per AttemptOutcome, then running, then an unknown outcome name.
    static constexpr int kOutcomeGroups = 6;
    static constexpr int kRunningGroup = kOutcomeGroups;
    static constexpr int kUnknownGroup = kOutcomeGroups + 1;
    static constexpr int kGroupCount = kOutcomeGroups + 2;

    struct BarRef {
        int group = 0;
        int index = 0; ///< in the group's plottable
        double start = 0;
    };

    static QString groupLabel(int group);
    static QColor groupColor(int group);
    void onMousePress(QMouseEvent *event);
    void onMouseRelease(QMouseEvent *event);
    void onMouseDoubleClick(QMouseEvent *event);
    int rowAt(const QPoint &pos) const;
    void updateRanges();
    void updateHighlight();
    void applyPalette();
    void replotSoon();

    QCustomPlot *m_plot = nullptr;
    QList<AttemptBars *> m_groups;     ///< indexed by group, owned by m_plot
    QCPGraph *m_actionMarks = nullptr; ///< owned by m_plot
    QCPGraph *m_waitMarks = nullptr;
    QList<TimelineMark> m_marks;
    QCPItemRect *m_highlightBand = nullptr;
    QStringList m_steps;
    QHash<QString, int> m_rowOf;
    QHash<QString, QList<BarRef>> m_barsOf; ///< step id → its bars, ordered by start
    QString m_highlighted;
    qint64 m_runStart = 0;
    qint64 m_now = 0;
    QPoint m_pressPos;
    bool m_pressed = false;
    bool m_followLive = true;
};

} // namespace keepflow::ui
