#include "stepnodeitem.h"

#include "countdown.h"
#include "graphlayout.h"
#include "graphscene.h"
#include "statestyle.h"
#include "stepview.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

namespace {

constexpr qreal kRingGap = 5.0;   // selection ring distance from the box
constexpr qreal kRingWidth = 3.0; // thick enough to read without color
constexpr qreal kRadius = 8.0;
constexpr qreal kProblemGap = 2.0;   // dashed problem outline, inside the selection ring
constexpr qreal kProblemBadge = 9.0; // radius of the "!" badge on the top-right corner
constexpr qreal kRootOutline = 3.5;  // the root-cause outline: solid, thicker than the dashes
constexpr int kGlyphSize = 20;
// Below this scale a box is a few pixels: a plain fill is all that can be seen.
constexpr qreal kBoxOnlyLod = 0.25;
// The compact box (between kNameLod and kFullLod), in screen pixels: padding, glyph, gap.
constexpr qreal kCompactPad = 3.0;
constexpr qreal kCompactGlyph = 12.0;
constexpr qreal kCompactGap = 3.0;
constexpr int kCompactNameLines = 2;

bool isBreakAfter(QChar c) {
    return c == QLatin1Char('-') || c == QLatin1Char('_') || c == QLatin1Char('.') ||
           c == QLatin1Char(' ') || c == QLatin1Char('/') || c == QLatin1Char(':');
}

// The compact box's font: at least kMinNamePixels on screen at this scale.
QFont compactFont(qreal lod, bool bold) {
    QFont font;
    font.setPixelSize(std::max(13, int(std::ceil(StepNodeItem::kMinNamePixels / lod))));
    font.setBold(bold);
    return font;
}

const QFont &titleFont() {
    static const QFont font = [] {
        QFont f;
        f.setPixelSize(13);
        f.setBold(true);
        return f;
    }();
    return font;
}

const QFont &smallFont() {
    static const QFont font = [] {
        QFont f;
        f.setPixelSize(11);
        return f;
    }();
    return font;
}

} // namespace

StepNodeItem::StepNodeItem(const QString &stepId)
    : m_stepId(stepId) {
    setFlags(ItemIsSelectable | ItemIsFocusable);
}

QRectF StepNodeItem::boxRect() {
    return QRectF(-kNodeWidth / 2, -kNodeHeight / 2, kNodeWidth, kNodeHeight);
}

GraphScene *StepNodeItem::graphScene() const {
    return qobject_cast<GraphScene *>(scene());
}

const StepView *StepNodeItem::view() const {
    const GraphScene *owner = graphScene();
    return owner ? owner->stepView(m_stepId) : nullptr;
}

QStringList StepNodeItem::badges() const {
    const StepView *step = view();
    if (!step)
        return {};
    QStringList out;
    // First: the badge line is elided from the end, and these say where to look (in a run
    // comparison, that the step differs).
    if (differs())
        out << QStringLiteral("differs");
    if (step->rootCause)
        out << (step->waitingOnIt > 0
                    ? QStringLiteral("root cause, %1 waiting").arg(step->waitingOnIt)
                    : QStringLiteral("root cause"));
    else if (!step->blockedBy.isEmpty())
        out << QStringLiteral("waits on %1").arg(step->blockedBy.join(QStringLiteral(", ")));
    if (const QString slow = slowBadge(*step); !slow.isEmpty())
        out << slow;
    const bool attempting = step->state == StepState::Running || step->state == StepState::Retrying;
    if (step->attempts > 1 || (attempting && step->attempts > 0)) {
        out << (step->maxAttempts > 0
                    ? QStringLiteral("attempt %1/%2").arg(step->attempts).arg(step->maxAttempts)
                    : QStringLiteral("attempt %1").arg(step->attempts));
    }
    if (step->nextAttemptAt > 0 &&
        (step->state == StepState::Retrying || step->state == StepState::Scheduled)) {
        const QString what =
            step->state == StepState::Retrying ? QStringLiteral("retry") : QStringLiteral("starts");
        const qint64 left = step->nextAttemptAt - graphScene()->now();
        out << (left > 0 ? QStringLiteral("%1 in %2").arg(what, formatCountdown(left))
                         : QStringLiteral("%1 due").arg(what));
    }
    if (step->itemsTotal >= 0) {
        out << QStringLiteral("%1/%2 items").arg(step->itemsSucceeded).arg(step->itemsTotal);
        if (step->itemsFailed > 0)
            out << QStringLiteral("%1 failed").arg(step->itemsFailed);
    }
    if (step->viaFallback)
        out << QStringLiteral("fallback");
    if (step->uncertain)
        out << QStringLiteral("uncertain");
    if (step->breakerOpen)
        out << QStringLiteral("breaker open");
    if (step->resourcePaused)
        out << QStringLiteral("paused resource");
    if (const QString held = childHoldUpBadge(*step); !held.isEmpty())
        out << held;
    return out;
}

QString StepNodeItem::badgeText() const {
    return badges().join(QStringLiteral(", "));
}

QString StepNodeItem::summaryText() const {
    const StepView *step = view();
    if (!step)
        return m_stepId;
    QString text =
        step->kind.isEmpty() ? m_stepId : QStringLiteral("%1 (%2)").arg(m_stepId, step->kind);
    text += QStringLiteral(": ") + stateLabel(step->state);
    const QString badgeLine = badgeText();
    if (!badgeLine.isEmpty())
        text += QStringLiteral(", ") + badgeLine;
    if (hasProblem())
        text += QStringLiteral(", has problems");
    if (differs()) {
        const QStringList notes = graphScene()->differenceNotes(m_stepId);
        text += notes.isEmpty() ? QStringLiteral(" (differs from the other run)")
                                : QStringLiteral("; differs from the other run: ") +
                                      notes.join(QStringLiteral("; "));
    }
    return text;
}

bool StepNodeItem::hasProblem() const {
    const GraphScene *owner = graphScene();
    return owner && owner->hasProblem(m_stepId);
}

bool StepNodeItem::differs() const {
    const GraphScene *owner = graphScene();
    return owner && owner->differs(m_stepId);
}

QRectF StepNodeItem::boundingRect() const {
    const qreal margin = std::max(kRingGap + kRingWidth, kProblemBadge + 1);
    return boxRect().adjusted(-margin, -margin, margin, margin);
}

QPainterPath StepNodeItem::shape() const {
    QPainterPath path;
    path.addRect(boxRect());
    return path;
}

void StepNodeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *) {
    const StepView *step = view();
    const StepState state = step ? step->state : StepState::Pending;
    const QColor fill = stateColor(state);
    const QRectF box = boxRect();
    const bool selected = option->state & QStyle::State_Selected;
    const QColor ring = scene() ? scene()->palette().color(QPalette::Highlight) : QColor(Qt::blue);
    const qreal lod = option->levelOfDetailFromTransform(painter->worldTransform());

    const bool problem = hasProblem();
    const bool rootCause = step && step->rootCause;
    const bool difference = differs();

    // The view does not save painter state per item (DontSavePainterState): set what we use.
    if (lod < kBoxOnlyLod) {
        painter->fillRect(box, fill);
        if (selected) {
            QPen pen(ring, 3);
            pen.setCosmetic(true);
            painter->setPen(pen);
            painter->setBrush(Qt::NoBrush);
            painter->drawRect(box.adjusted(-kRingGap, -kRingGap, kRingGap, kRingGap));
        }
        if (problem)
            paintProblemMarker(painter, box, true);
        if (rootCause)
            paintRootCauseMarker(painter, box, true);
        if (difference)
            paintDifferenceMarker(painter, box, true);
        return;
    }

    painter->setPen(QPen(fill.darker(140), 1));
    painter->setBrush(fill);
    painter->drawRoundedRect(box, kRadius, kRadius);
    if (selected) {
        painter->setPen(QPen(ring, kRingWidth));
        painter->setBrush(Qt::NoBrush);
        const qreal gap = kRingGap;
        painter->drawRoundedRect(box.adjusted(-gap, -gap, gap, gap), kRadius + gap, kRadius + gap);
    }

    if (problem)
        paintProblemMarker(painter, box, false);
    if (rootCause)
        paintRootCauseMarker(painter, box, false);
    if (difference)
        paintDifferenceMarker(painter, box, false);

    if (lod < kNameLod) {
        // Far out: the glyph alone, large, so the state reads without color.
        const int size = int(box.height() * 0.6);
        const QPixmap &glyph = stateGlyph(state, size);
        painter->drawPixmap(QPointF(-size / 2.0, -size / 2.0), glyph);
        return;
    }
    if (lod < kFullLod) {
        paintCompact(painter, box, state, lod);
        return;
    }

    const qreal pad = 10.0;
    painter->drawPixmap(QPointF(box.left() + pad, box.top() + pad - 2),
                        stateGlyph(state, kGlyphSize));
    painter->setPen(Qt::white);
    const qreal textLeft = box.left() + pad + kGlyphSize + 6;
    const qreal textWidth = box.right() - pad - textLeft;

    painter->setFont(titleFont());
    const QFontMetricsF titleMetrics(titleFont());
    const QRectF titleRect(textLeft, box.top() + pad - 3, textWidth, titleMetrics.height());
    painter->drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter,
                      titleMetrics.elidedText(m_stepId, Qt::ElideMiddle, textWidth));

    painter->setFont(smallFont());
    const QFontMetricsF smallMetrics(smallFont());
    const QString kindLine = step ? step->kind : QString();
    const QRectF kindRect(textLeft, titleRect.bottom(), textWidth, smallMetrics.height());
    painter->drawText(kindRect, Qt::AlignLeft | Qt::AlignVCenter,
                      smallMetrics.elidedText(kindLine, Qt::ElideRight, textWidth));

    const QString badgeLine = badges().join(QStringLiteral(" · "));
    if (!badgeLine.isEmpty()) {
        const qreal width = box.width() - 2 * pad;
        const QRectF badgeRect(box.left() + pad, box.bottom() - pad - smallMetrics.height(), width,
                               smallMetrics.height());
        painter->drawText(badgeRect, Qt::AlignLeft | Qt::AlignVCenter,
                          smallMetrics.elidedText(badgeLine, Qt::ElideRight, width));
    }
}

QStringList StepNodeItem::wrapName(const QString &name, const QFontMetricsF &metrics, qreal width,
                                   int maxLines) {
    if (maxLines <= 0 || name.isEmpty())
        return {};
    if (maxLines == 1 || metrics.horizontalAdvance(name) <= width)
        return {metrics.elidedText(name, Qt::ElideMiddle, width)};
    // The longest head that fits, cut after a separator when there is one in its second half.
    qsizetype fits = 1;
    while (fits < name.size() && metrics.horizontalAdvance(name.left(fits + 1)) <= width)
        ++fits;
    qsizetype cut = fits;
    for (qsizetype at = fits; at > fits / 2; --at) {
        if (isBreakAfter(name.at(at - 1))) {
            cut = at;
            break;
        }
    }
    return QStringList{name.left(cut)} + wrapName(name.mid(cut), metrics, width, maxLines - 1);
}

StepNodeItem::NameLayout StepNodeItem::nameLayout(qreal lod) const {
    NameLayout layout;
    if (lod < kNameLod)
        return layout;
    const QRectF box = boxRect();
    if (lod >= kFullLod) {
        const qreal pad = 10.0;
        const qreal width = box.right() - pad - (box.left() + pad + kGlyphSize + 6);
        layout.pixelSize = titleFont().pixelSize();
        layout.lines = {QFontMetricsF(titleFont()).elidedText(m_stepId, Qt::ElideMiddle, width)};
        return layout;
    }
    const QFont font = compactFont(lod, true);
    const QFontMetricsF metrics(font);
    const qreal pad = kCompactPad / lod;
    const qreal textLeft = box.left() + pad + (kCompactGlyph + kCompactGap) / lod;
    const int room = std::max(1, int((box.height() - 2 * pad) / metrics.height()));
    layout.pixelSize = font.pixelSize();
    layout.lines = wrapName(m_stepId, metrics, box.right() - pad - textLeft,
                            std::min(room, kCompactNameLines));
    return layout;
}

void StepNodeItem::paintCompact(QPainter *painter, const QRectF &box, StepState state,
                                qreal lod) const {
    // The glyph on the left, the name beside it in a font of at least kMinNamePixels on screen,
    // and the badges on a last line when there is room for one.
    const qreal pad = kCompactPad / lod;
    const qreal glyph = kCompactGlyph / lod;
    painter->drawPixmap(QRectF(box.left() + pad, -glyph / 2, glyph, glyph),
                        stateGlyph(state, kGlyphSize), QRectF(0, 0, kGlyphSize, kGlyphSize));
    const QFont bold = compactFont(lod, true);
    const QFont font = compactFont(lod, false);
    const QFontMetricsF metrics(bold);
    const qreal textLeft = box.left() + pad + glyph + kCompactGap / lod;
    const qreal width = box.right() - pad - textLeft;
    const int room = std::max(1, int((box.height() - 2 * pad) / metrics.height()));
    const QStringList lines = nameLayout(lod).lines;
    const QString badgeLine =
        qsizetype(room) > lines.size() ? badges().join(QStringLiteral(" · ")) : QString();
    const qsizetype count = lines.size() + (badgeLine.isEmpty() ? 0 : 1);
    qreal y = -count * metrics.height() / 2;
    painter->setPen(Qt::white);
    for (const QString &line : lines) {
        painter->setFont(bold);
        painter->drawText(QRectF(textLeft, y, width, metrics.height()),
                          Qt::AlignLeft | Qt::AlignVCenter, line);
        y += metrics.height();
    }
    if (!badgeLine.isEmpty()) {
        painter->setFont(font);
        painter->drawText(QRectF(textLeft, y, width, metrics.height()),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          QFontMetricsF(font).elidedText(badgeLine, Qt::ElideRight, width));
    }
}

void StepNodeItem::paintProblemMarker(QPainter *painter, const QRectF &box, bool coarse) const {
    // A dashed outline and a "!" badge: the problem shows by shape, not by red alone.
    const QColor red = problemColor();
    QPen pen(red, coarse ? 2 : 2.5, Qt::DashLine);
    pen.setCosmetic(coarse);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    const QRectF outline = box.adjusted(-kProblemGap, -kProblemGap, kProblemGap, kProblemGap);
    if (coarse) {
        painter->drawRect(outline);
        painter->fillRect(
            QRectF(box.right() - box.height() / 2, box.top(), box.height() / 2, box.height() / 2),
            red);
        return;
    }
    painter->drawRoundedRect(outline, kRadius + kProblemGap, kRadius + kProblemGap);
    const QPointF center(box.right(), box.top());
    painter->setPen(QPen(Qt::white, 1.5));
    painter->setBrush(red);
    painter->drawEllipse(center, kProblemBadge, kProblemBadge);
    painter->setPen(Qt::white);
    painter->setFont(titleFont());
    painter->drawText(QRectF(center.x() - kProblemBadge, center.y() - kProblemBadge,
                             2 * kProblemBadge, 2 * kProblemBadge),
                      Qt::AlignCenter, QStringLiteral("!"));
}

void StepNodeItem::paintRootCauseMarker(QPainter *painter, const QRectF &box, bool coarse) const {
    // A solid amber outline and a target badge on the top-left corner (the problem badge takes
    // the top-right one): the step the others wait on, by shape as well as color.
    const QColor amber = rootCauseColor();
    QPen pen(amber, coarse ? 3 : kRootOutline);
    pen.setCosmetic(coarse);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    const qreal gap = kProblemGap + 0.5;
    const QRectF outline = box.adjusted(-gap, -gap, gap, gap);
    if (coarse) {
        painter->drawRect(outline);
        painter->fillRect(QRectF(box.left(), box.top(), box.height() / 2, box.height() / 2), amber);
        return;
    }
    painter->drawRoundedRect(outline, kRadius + gap, kRadius + gap);
    paintRootCauseBadge(painter, box.topLeft(), kProblemBadge);
}

void StepNodeItem::paintDifferenceMarker(QPainter *painter, const QRectF &box, bool coarse) const {
    // A solid outline and a "≠" badge on the top-left corner (the problem badge takes the
    // top-right one): a difference shows by shape and text, not by color alone. In the text
    // color of the palette, which stands out from the background and from every state's fill.
    const QPalette palette = scene() ? scene()->palette() : QPalette();
    const QColor mark = palette.color(QPalette::WindowText);
    QPen pen(mark, coarse ? 3 : 3.5);
    pen.setCosmetic(coarse);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    const QRectF outline = box.adjusted(-kProblemGap, -kProblemGap, kProblemGap, kProblemGap);
    if (coarse) {
        painter->drawRect(outline);
        return;
    }
    painter->drawRoundedRect(outline, kRadius + kProblemGap, kRadius + kProblemGap);
    const QPointF center(box.left(), box.top());
    painter->setPen(QPen(palette.color(QPalette::Window), 1.5));
    painter->setBrush(mark);
    painter->drawEllipse(center, kProblemBadge, kProblemBadge);
    painter->setPen(palette.color(QPalette::Window));
    painter->setFont(titleFont());
    painter->drawText(QRectF(center.x() - kProblemBadge, center.y() - kProblemBadge,
                             2 * kProblemBadge, 2 * kProblemBadge),
                      Qt::AlignCenter, QStringLiteral("≠"));
}

QColor StepNodeItem::problemColor() {
    return QColor(0xc6, 0x28, 0x28);
}

} // namespace keepflow::ui
