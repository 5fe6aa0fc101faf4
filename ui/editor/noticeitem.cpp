#include "noticeitem.h"

#include <QFontMetricsF>
#include <QPainter>

namespace keepflow::ui {

namespace {

constexpr qreal kPad = 8.0;
constexpr qreal kIcon = 16.0;
constexpr qreal kMaxTextWidth = 360.0;

QFont noticeFont() {
    QFont font;
    font.setPixelSize(13);
    return font;
}

} // namespace

NoticeItem::NoticeItem(const QString &text, QPointF pos)
    : m_text(text) {
    setFlag(ItemIgnoresTransformations); // readable at any zoom
    setAcceptedMouseButtons(Qt::NoButton);
    setZValue(10);
    setPos(pos);
    const QFontMetricsF metrics(noticeFont());
    const QRectF textRect =
        metrics.boundingRect(QRectF(0, 0, kMaxTextWidth, 1000), Qt::TextWordWrap, m_text);
    m_bounds = QRectF(0, 0, textRect.width() + kIcon + 3 * kPad,
                      std::max(textRect.height(), kIcon) + 2 * kPad);
}

QRectF NoticeItem::boundingRect() const {
    return m_bounds.adjusted(-1, -1, 1, 1);
}

void NoticeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) {
    const QColor red(0xc6, 0x28, 0x28);
    painter->setPen(QPen(red, 2));
    painter->setBrush(QColor(0xff, 0xf4, 0xf4));
    painter->drawRoundedRect(m_bounds, 6, 6);
    // A round "!" sign before the text: the message is not told by its color alone.
    const QRectF icon(kPad, kPad, kIcon, kIcon);
    painter->setPen(Qt::NoPen);
    painter->setBrush(red);
    painter->drawEllipse(icon);
    QFont font = noticeFont();
    font.setBold(true);
    painter->setFont(font);
    painter->setPen(Qt::white);
    painter->drawText(icon, Qt::AlignCenter, QStringLiteral("!"));
    painter->setFont(noticeFont());
    painter->setPen(QColor(0x3a, 0x0d, 0x0d));
    const QRectF text(kIcon + 2 * kPad, kPad, m_bounds.width() - kIcon - 3 * kPad,
                      m_bounds.height() - 2 * kPad);
    painter->drawText(text, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, m_text);
}

} // namespace keepflow::ui
