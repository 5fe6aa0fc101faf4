#pragma once

// A QCustomPlot plottable that draws many horizontal bars [start, end] on rows in one pass with
// one brush. The timeline uses one per outcome, so 1,000 attempts cost a handful of plottables
// (and legend entries for free) instead of 1,000 QCPItemRects with an item each.
//
// Internal to ui/charts: include it from .cpp files only (it pulls in qcustomplot.h).

#include "qcp.h"

#include <QVector>

namespace keepflow::ui {

class AttemptBars : public QCPAbstractPlottable {
public:
    struct Bar {
        double start = 0; ///< key (x) coordinates
        double end = 0;
        double center = 0; ///< value (y) coordinate of the bar's middle
        double height = 0; ///< in value coordinates
    };

    /// Registers itself with the plot of keyAxis (which owns it), like every plottable.
    AttemptBars(QCPAxis *keyAxis, QCPAxis *valueAxis);

    void setBars(const QVector<Bar> &bars);
    const QVector<Bar> &bars() const { return m_bars; }
    /// Changes one bar's end (a running attempt growing) without rebuilding the others.
    void setBarEnd(int index, double end);

    double selectTest(const QPointF &pos, bool onlySelectable,
                      QVariant *details = nullptr) const override;
    QCPRange getKeyRange(bool &foundRange, QCP::SignDomain inSignDomain) const override;
    QCPRange getValueRange(bool &foundRange, QCP::SignDomain inSignDomain,
                           const QCPRange &inKeyRange) const override;

protected:
    void draw(QCPPainter *painter) override;
    void drawLegendIcon(QCPPainter *painter, const QRectF &rect) const override;

private:
    QRectF pixelRect(const Bar &bar) const;

    QVector<Bar> m_bars;
};

} // namespace keepflow::ui
