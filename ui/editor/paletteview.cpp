#include "paletteview.h"

#include "editorscene.h"

#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace keepflow::ui {

namespace {

constexpr int kIconSize = 32;

QColor kindColor(const QString &kind) {
    // Distinct hues, and a distinct shape drawn on each (paintGlyph): not color alone.
    static const QHash<QString, QColor> colors{
        {QStringLiteral("noop"), QColor(0x75, 0x75, 0x75)},
        {QStringLiteral("delay"), QColor(0x00, 0x83, 0x8f)},
        {QStringLiteral("shell"), QColor(0x37, 0x47, 0x4f)},
        {QStringLiteral("http"), QColor(0x15, 0x65, 0xc0)},
        {QStringLiteral("sql"), QColor(0x6a, 0x1b, 0x9a)},
        {QStringLiteral("approval"), QColor(0x2e, 0x7d, 0x32)},
        {QStringLiteral("subflow"), QColor(0xef, 0x6c, 0x00)},
        {QStringLiteral("fault"), QColor(0xc6, 0x28, 0x28)},
    };
    return colors.value(kind, QColor(0x54, 0x6e, 0x7a));
}

// A white glyph in a 32 x 32 square (the tile leaves a 4 px border).
void paintGlyph(QPainter &p, const QString &kind) {
    QPen pen(Qt::white, 2.2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    if (kind == QLatin1String("noop")) {
        p.drawEllipse(QPointF(16, 16), 7, 7); // an empty circle: does nothing
    } else if (kind == QLatin1String("delay")) {
        p.drawEllipse(QPointF(16, 16), 9, 9); // a clock
        p.drawLine(QPointF(16, 16), QPointF(16, 10));
        p.drawLine(QPointF(16, 16), QPointF(20.5, 18.5));
    } else if (kind == QLatin1String("shell")) {
        p.drawPolyline(QPolygonF{QPointF(9, 10), QPointF(15, 16), QPointF(9, 22)}); // ">_"
        p.drawLine(QPointF(17, 23), QPointF(24, 23));
    } else if (kind == QLatin1String("http")) {
        p.drawEllipse(QPointF(16, 16), 9, 9); // a globe
        p.drawEllipse(QRectF(12, 7, 8, 18));
        p.drawLine(QPointF(7, 16), QPointF(25, 16));
    } else if (kind == QLatin1String("sql")) {
        p.drawEllipse(QRectF(9, 7, 14, 5)); // a database cylinder
        p.drawLine(QPointF(9, 9.5), QPointF(9, 22.5));
        p.drawLine(QPointF(23, 9.5), QPointF(23, 22.5));
        p.drawArc(QRectF(9, 20, 14, 5), 180 * 16, 180 * 16);
        p.drawArc(QRectF(9, 14, 14, 5), 180 * 16, 180 * 16);
    } else if (kind == QLatin1String("approval")) {
        p.drawPolyline(QPolygonF{QPointF(9, 16.5), QPointF(14, 21.5), QPointF(23, 10.5)}); // check
    } else if (kind == QLatin1String("subflow")) {
        p.drawRect(QRectF(7, 8, 11, 9)); // nested boxes
        p.drawRect(QRectF(14, 15, 11, 9));
    } else if (kind == QLatin1String("fault")) {
        p.setPen(Qt::NoPen); // a lightning bolt
        p.setBrush(Qt::white);
        p.drawPolygon(QPolygonF{QPointF(18, 6), QPointF(10, 18), QPointF(15, 18), QPointF(13, 26),
                                QPointF(22, 13), QPointF(17, 13), QPointF(19, 6)});
    } else {
        QFont font;
        font.setPixelSize(16);
        font.setBold(true);
        p.setFont(font);
        p.drawText(QRectF(0, 0, 32, 32), Qt::AlignCenter,
                   kind.isEmpty() ? QStringLiteral("?") : kind.left(1).toUpper());
    }
}

} // namespace

QIcon PaletteView::kindIcon(const QString &kind) {
    static QHash<QString, QIcon> cache;
    const auto found = cache.constFind(kind);
    if (found != cache.cend())
        return *found;
    QIcon icon;
    for (const int scale : {1, 2}) {
        QPixmap pixmap(kIconSize * scale, kIconSize * scale);
        pixmap.setDevicePixelRatio(scale);
        pixmap.fill(Qt::transparent);
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(Qt::NoPen);
        painter.setBrush(kindColor(kind));
        painter.drawRoundedRect(QRectF(1, 1, kIconSize - 2, kIconSize - 2), 7, 7);
        paintGlyph(painter, kind);
        painter.end();
        icon.addPixmap(pixmap);
    }
    cache.insert(kind, icon);
    return icon;
}

PaletteView::PaletteView(QWidget *parent)
    : QListWidget(parent) {
    setAccessibleName(tr("Palette"));
    setToolTip(tr("Drag a step kind onto the canvas"));
    setIconSize(QSize(kIconSize, kIconSize));
    setSpacing(2);
    setSelectionMode(SingleSelection);
    setDragEnabled(true);
    setDragDropMode(DragOnly);
    setDefaultDropAction(Qt::CopyAction);
    for (const QString &kind : knownStepKinds()) {
        auto *item = new QListWidgetItem(kindIcon(kind), kind, this);
        item->setData(KindRole, kind);
        item->setData(Qt::AccessibleTextRole, kind);
        item->setToolTip(tr("%1 step: drag onto the canvas, or press Enter").arg(kind));
    }

    // The search field sits in the list's top margin, so that the palette is one widget.
    m_search = new QLineEdit(this);
    m_search->setAccessibleName(tr("Search step kinds"));
    m_search->setPlaceholderText(tr("Search step kinds"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, this, &PaletteView::setFilterText);
    setViewportMargins(0, m_search->sizeHint().height() + 4, 0, 0);
    setTabOrder(m_search, this);
    placeSearchField();

    connect(this, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        Q_EMIT kindActivated(item->data(KindRole).toString());
    });
}

void PaletteView::setFilterText(const QString &text) {
    if (m_search->text() != text)
        m_search->setText(text); // comes back here through textChanged
    const QString needle = text.trimmed();
    for (int i = 0; i < count(); ++i) {
        QListWidgetItem *entry = item(i);
        entry->setHidden(!needle.isEmpty() &&
                         !entry->data(KindRole).toString().contains(needle, Qt::CaseInsensitive));
    }
}

QStringList PaletteView::visibleKinds() const {
    QStringList kinds;
    for (int i = 0; i < count(); ++i) {
        if (!item(i)->isHidden())
            kinds.append(item(i)->data(KindRole).toString());
    }
    return kinds;
}

QListWidgetItem *PaletteView::itemForKind(const QString &kind) const {
    for (int i = 0; i < count(); ++i) {
        if (item(i)->data(KindRole).toString() == kind)
            return item(i);
    }
    return nullptr;
}

QStringList PaletteView::mimeTypes() const {
    return {QString::fromLatin1(EditorScene::kStepKindMimeType)};
}

QMimeData *PaletteView::mimeData(const QList<QListWidgetItem *> &items) const {
    if (items.isEmpty())
        return nullptr;
    const QString kind = items.first()->data(KindRole).toString();
    auto *mime = new QMimeData;
    mime->setData(QString::fromLatin1(EditorScene::kStepKindMimeType), kind.toUtf8());
    mime->setText(kind);
    return mime;
}

void PaletteView::resizeEvent(QResizeEvent *event) {
    QListWidget::resizeEvent(event);
    placeSearchField();
}

void PaletteView::placeSearchField() {
    const int height = m_search->sizeHint().height();
    const QRect frame = contentsRect();
    m_search->setGeometry(frame.left() + 2, frame.top() + 2, frame.width() - 4, height);
}

} // namespace keepflow::ui
