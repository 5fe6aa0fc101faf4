#include "attemptbars.h"

namespace keepflow::ui {

AttemptBars::AttemptBars(QCPAxis *keyAxis, QCPAxis *valueAxis)
    : QCPAbstractPlottable(keyAxis, valueAxis) {
    setPen(Qt::NoPen);
}

void AttemptBars::setBars(const QVector<Bar> &bars) {
    m_bars = bars;
}

void AttemptBars::setBarEnd(int index, double end) {
    if (index >= 0 && index < m_bars.size())
        m_bars[index].end = end;
}

QRectF AttemptBars::pixelRect(const Bar &bar) const {
    const QCPAxis *keyAxis = mKeyAxis.data();
    const QCPAxis *valueAxis = mValueAxis.data();
    QRectF rect = QRectF(QPointF(keyAxis->coordToPixel(bar.start),
                                 valueAxis->coordToPixel(bar.center - bar.height / 2)),
                         QPointF(keyAxis->coordToPixel(bar.end),
                                 valueAxis->coordToPixel(bar.center + bar.height / 2)))
                      .normalized();
    // A 50 ms attempt on an hour-wide axis, or one lane of 500 items, still shows as a pixel.
    if (rect.width() < 1)
        rect.setWidth(1);
    if (rect.height() < 1)
        rect.setHeight(1);
    return rect;
}

double AttemptBars::selectTest(const QPointF &pos, bool onlySelectable, QVariant *details) const {
    Q_UNUSED(details)
    if ((onlySelectable && mSelectable == QCP::stNone) || !mKeyAxis || !mValueAxis)
        return -1;
    if (!mKeyAxis->axisRect()->rect().contains(pos.toPoint()))
        return -1;
    for (const Bar &bar : m_bars) {
        if (pixelRect(bar).contains(pos))
            return 0;
    }
    return -1;
}

QCPRange AttemptBars::getKeyRange(bool &foundRange, QCP::SignDomain inSignDomain) const {
    QCPRange range;
    foundRange = false;
    for (const Bar &bar : m_bars) {
        for (double key : {bar.start, bar.end}) {
            if ((inSignDomain == QCP::sdPositive && key <= 0) ||
                (inSignDomain == QCP::sdNegative && key >= 0))
                continue;
            if (!foundRange) {
                range = QCPRange(key, key);
                foundRange = true;
            } else {
                range.expand(key);
            }
        }
    }
    return range;
}

QCPRange AttemptBars::getValueRange(bool &foundRange, QCP::SignDomain inSignDomain,
                                    const QCPRange &inKeyRange) const {
    Q_UNUSED(inKeyRange)
    QCPRange range;
    foundRange = false;
    for (const Bar &bar : m_bars) {
        for (double value : {bar.center - bar.height / 2, bar.center + bar.height / 2}) {
            if ((inSignDomain == QCP::sdPositive && value <= 0) ||
                (inSignDomain == QCP::sdNegative && value >= 0))
                continue;
            if (!foundRange) {
                range = QCPRange(value, value);
                foundRange = true;
            } else {
                range.expand(value);
            }
        }
    }
    return range;
}

void AttemptBars::draw(QCPPainter *painter) {
    if (!mKeyAxis || !mValueAxis || m_bars.isEmpty())
        return;
    const QCPRange visible = mKeyAxis->range();
    const QRectF clip = mKeyAxis->axisRect()->rect();
    // One drawRects call with one brush: the cost per bar is a coordinate conversion.
    QVector<QRectF> rects;
    rects.reserve(m_bars.size());
    for (const Bar &bar : m_bars) {
        if (bar.end < visible.lower || bar.start > visible.upper)
            continue;
        const QRectF rect = pixelRect(bar).intersected(clip);
        if (!rect.isEmpty())
            rects.append(rect);
    }
    applyDefaultAntialiasingHint(painter);
    painter->setPen(mPen);
    painter->setBrush(mBrush);
    painter->drawRects(rects);
}

void AttemptBars::drawLegendIcon(QCPPainter *painter, const QRectF &rect) const {
    painter->setPen(mPen);
    painter->setBrush(mBrush);
    painter->drawRect(rect.adjusted(0, rect.height() * 0.2, 0, -rect.height() * 0.2));
}

} // namespace keepflow::ui
