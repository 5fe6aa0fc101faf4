#include "timelineplot.h"

#include "attemptbars.h"
#include "statestyle.h"

#include "qcp.h"

#include <QApplication>
#include <QKeyEvent>
#include <QResizeEvent>
#include <QVBoxLayout>

#include <algorithm>

namespace keepflow::ui {

namespace {

constexpr double kBarHeight = 0.7;   // of a row, for step-level attempts
constexpr double kLanesHeight = 0.8; // of a row, shared by the lanes of foreach items

} // namespace

QString TimelinePlot::groupLabel(int group) {
    // One bar group per outcome: a new outcome needs its group (and legend entry).
    static_assert(static_cast<int>(AttemptOutcome::Uncertain) + 1 == kOutcomeGroups);
    if (group < kOutcomeGroups)
        return outcomeLabel(static_cast<AttemptOutcome>(group));
    return group == kRunningGroup ? QStringLiteral("Running") : QStringLiteral("Unknown outcome");
}

QColor TimelinePlot::groupColor(int group) {
    if (group < kOutcomeGroups)
        return outcomeColor(static_cast<AttemptOutcome>(group));
    return group == kRunningGroup ? outcomeColor(std::nullopt) : stateColor(StepState::Pending);
}

TimelinePlot::TimelinePlot(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this)) {
    setAccessibleName(QStringLiteral("Timeline"));
    setAccessibleDescription(QStringLiteral("Attempts of each step over time, by outcome"));
    setFocusPolicy(Qt::StrongFocus);
    m_plot->setFocusPolicy(Qt::NoFocus);
    m_plot->setAccessibleName(QStringLiteral("Timeline"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);

    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setDateTimeFormat(QStringLiteral("HH:mm:ss"));
    m_plot->xAxis->setTicker(ticker);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    m_plot->yAxis->setRangeReversed(true); // the flow's first step on top
    m_plot->yAxis->setSubTicks(false);
    m_plot->yAxis->setTickLength(0);
    m_plot->yAxis->grid()->setVisible(false);
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    // The highlight band lies under the bars: on the grid layer, the full width of the plot.
    m_highlightBand = new QCPItemRect(m_plot);
    m_highlightBand->setLayer(QStringLiteral("grid"));
    m_highlightBand->topLeft->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_highlightBand->bottomRight->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_highlightBand->setPen(Qt::NoPen);
    m_highlightBand->setSelectable(false);
    m_highlightBand->setVisible(false);

    for (int group = 0; group < kGroupCount; ++group) {
        auto *bars = new AttemptBars(m_plot->xAxis, m_plot->yAxis);
        bars->setName(groupLabel(group));
        bars->setBrush(groupColor(group));
        bars->setSelectable(QCP::stNone);
        m_groups.append(bars);
    }
    // Operator actions and waits: points on the step's row, drawn over the bars.
    const auto addMarks = [this](QCPScatterStyle::ScatterShape shape, const QString &name) {
        QCPGraph *marks = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis);
        marks->setName(name);
        marks->setLineStyle(QCPGraph::lsNone);
        marks->setScatterStyle(QCPScatterStyle(shape, 11));
        return marks;
    };
    m_actionMarks = addMarks(QCPScatterStyle::ssDiamond, QStringLiteral("Operator action"));
    m_waitMarks =
        addMarks(QCPScatterStyle::ssTriangleInverted, QStringLiteral("Waits for an operator"));
    // The legend sits below the plot in rows, so it never covers bars.
    m_plot->legend->setVisible(true);
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_plot->legend->setWrap(kLegendColumns);
    m_plot->legend->setSelectableParts(QCPLegend::spNone);
    auto *legendRow = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(1, 0, legendRow);
    legendRow->setMargins(QMargins(kLegendRowMargin, 0, kLegendRowMargin, kLegendRowMargin));
    legendRow->addElement(0, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
    // The legend's rows fold to fewer columns on a narrow pane (resizeEvent) instead of setting
    // the window's minimum width by four entries side by side.
    m_plot->setMinimumWidth(kMinimumWidth);
    m_groups[kUnknownGroup]->removeFromLegend(); // shown only when such attempts exist

    connect(m_plot, &QCustomPlot::mousePress, this, &TimelinePlot::onMousePress);
    connect(m_plot, &QCustomPlot::mouseRelease, this, &TimelinePlot::onMouseRelease);
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, &TimelinePlot::onMouseDoubleClick);
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_followLive = false; });

    applyPalette();
    updateRanges();
}

TimelinePlot::~TimelinePlot() = default;

void TimelinePlot::setSteps(const QStringList &stepIds) {
    m_steps = stepIds;
    m_rowOf.clear();
    auto ticker = qSharedPointerCast<QCPAxisTickerText>(m_plot->yAxis->ticker());
    ticker->clear();
    for (int row = 0; row < m_steps.size(); ++row) {
        m_rowOf.insert(m_steps[row], row);
        ticker->addTick(row, m_steps[row]);
    }
    // Bars of removed steps would sit on rows that now mean something else.
    for (AttemptBars *bars : std::as_const(m_groups))
        bars->setBars({});
    m_barsOf.clear();
    updateHighlight();
    updateRanges();
    replotSoon();
}

void TimelinePlot::setAttempts(const QList<AttemptRow> &attempts, qint64 now) {
    m_now = now;
    // Order by start so that each step's bars, and each foreach item's lane, come in time order.
    QList<const AttemptRow *> ordered;
    ordered.reserve(attempts.size());
    for (const AttemptRow &attempt : attempts) {
        if (m_rowOf.contains(attempt.stepId))
            ordered.append(&attempt);
    }
    std::stable_sort(ordered.begin(), ordered.end(), [](const AttemptRow *a, const AttemptRow *b) {
        return a->startedAt < b->startedAt;
    });
    QHash<QString, QHash<QString, int>> laneOf; // step → item key → lane, by first attempt
    for (const AttemptRow *attempt : std::as_const(ordered)) {
        if (attempt->itemKey.isEmpty())
            continue;
        QHash<QString, int> &lanes = laneOf[attempt->stepId];
        if (!lanes.contains(attempt->itemKey))
            lanes.insert(attempt->itemKey, static_cast<int>(lanes.size()));
    }

    QList<QVector<AttemptBars::Bar>> groupBars(kGroupCount);
    m_barsOf.clear();
    for (const AttemptRow *attempt : std::as_const(ordered)) {
        int group = kRunningGroup;
        if (attempt->endedAt != 0) {
            group = attempt->outcome ? static_cast<int>(*attempt->outcome) : kUnknownGroup;
        }
        const int row = m_rowOf.value(attempt->stepId);
        AttemptBars::Bar bar;
        bar.start = plotTime(attempt->startedAt);
        bar.end =
            plotTime(attempt->endedAt != 0 ? attempt->endedAt : std::max(now, attempt->startedAt));
        if (attempt->itemKey.isEmpty()) {
            bar.center = row;
            bar.height = kBarHeight;
        } else {
            const QHash<QString, int> &lanes = laneOf[attempt->stepId];
            const double laneHeight = kLanesHeight / lanes.size();
            bar.center =
                row - kLanesHeight / 2 + laneHeight * (lanes.value(attempt->itemKey) + 0.5);
            // A hairline between lanes while they are tall enough to afford one.
            bar.height = laneHeight > 0.1 ? laneHeight * 0.85 : laneHeight;
        }
        m_barsOf[attempt->stepId].append(
            BarRef{group, static_cast<int>(groupBars[group].size()), bar.start});
        groupBars[group].append(bar);
    }
    for (int group = 0; group < kGroupCount; ++group)
        m_groups[group]->setBars(groupBars[group]);
    if (groupBars[kUnknownGroup].isEmpty())
        m_groups[kUnknownGroup]->removeFromLegend();
    else
        m_groups[kUnknownGroup]->addToLegend();
    updateRanges();
    replotSoon();
}

void TimelinePlot::setMarks(const QList<TimelineMark> &marks) {
    m_marks.clear();
    QVector<double> actionX, actionY, waitX, waitY;
    for (const TimelineMark &mark : marks) {
        if (!m_rowOf.contains(mark.stepId))
            continue;
        m_marks.append(mark);
        const bool action = mark.kind == TimelineMark::Kind::OperatorAction;
        (action ? actionX : waitX).append(plotTime(mark.at));
        (action ? actionY : waitY).append(m_rowOf.value(mark.stepId));
    }
    m_actionMarks->setData(actionX, actionY);
    m_waitMarks->setData(waitX, waitY);
    replotSoon();
}

QList<TimelineMark> TimelinePlot::marksForStep(const QString &stepId) const {
    QList<TimelineMark> found;
    for (const TimelineMark &mark : m_marks) {
        if (mark.stepId == stepId)
            found.append(mark);
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const TimelineMark &a, const TimelineMark &b) { return a.at < b.at; });
    return found;
}

void TimelinePlot::setNow(qint64 now) {
    m_now = now;
    // Only running attempts depend on now, and they all live in one group.
    AttemptBars *running = m_groups[kRunningGroup];
    const QVector<AttemptBars::Bar> &bars = running->bars();
    for (int i = 0; i < bars.size(); ++i)
        running->setBarEnd(i, std::max(plotTime(now), bars[i].start));
    updateRanges();
    replotSoon();
}

void TimelinePlot::setRunStart(qint64 runStart) {
    m_runStart = runStart;
    updateRanges();
    replotSoon();
}

void TimelinePlot::highlightStep(const QString &stepId) {
    m_highlighted = stepId;
    updateHighlight();
    replotSoon();
}

int TimelinePlot::barCount() const {
    int count = 0;
    for (const AttemptBars *bars : m_groups)
        count += bars->bars().size();
    return count;
}

QList<QPair<double, double>> TimelinePlot::barsForStep(const QString &stepId) const {
    QList<QPair<double, double>> spans;
    for (const BarRef &ref : m_barsOf.value(stepId)) {
        const AttemptBars::Bar &bar = m_groups[ref.group]->bars().at(ref.index);
        spans.append({bar.start, bar.end});
    }
    return spans;
}

QColor TimelinePlot::barColor(const QString &stepId, int index) const {
    const QList<BarRef> refs = m_barsOf.value(stepId);
    if (index < 0 || index >= refs.size())
        return {};
    return m_groups[refs[index].group]->brush().color();
}

QPoint TimelinePlot::pixelFor(const QString &stepId, qint64 ms) const {
    const int row = m_rowOf.value(stepId, -1);
    if (row < 0)
        return {};
    return QPointF(m_plot->xAxis->coordToPixel(plotTime(ms)), m_plot->yAxis->coordToPixel(row))
        .toPoint();
}

void TimelinePlot::resizeEvent(QResizeEvent *event) {
    QWidget::resizeEvent(event);
    QCPLegend *legend = m_plot->legend;
    const int room = event->size().width() - kLegendRowMargin * 2;
    for (int wrap = kLegendColumns; wrap >= 1; --wrap) {
        if (legend->wrap() != wrap) {
            legend->setWrap(wrap);
            legend->setFillOrder(legend->fillOrder(), true); // re-flows the entries
        }
        if (wrap == 1 || legend->minimumOuterSizeHint().width() <= room)
            break;
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void TimelinePlot::keyPressEvent(QKeyEvent *event) {
    const int row = m_rowOf.value(m_highlighted, -1);
    switch (event->key()) {
    case Qt::Key_Up:
    case Qt::Key_Down: {
        if (m_steps.isEmpty())
            break;
        const int step = event->key() == Qt::Key_Up ? -1 : 1;
        const int next =
            row < 0 ? 0 : std::clamp(row + step, 0, static_cast<int>(m_steps.size()) - 1);
        highlightStep(m_steps[next]);
        return;
    }
    case Qt::Key_Return:
    case Qt::Key_Enter:
    case Qt::Key_Space:
        if (row >= 0) {
            Q_EMIT stepClicked(m_highlighted);
            return;
        }
        break;
    default:
        break;
    }
    QWidget::keyPressEvent(event);
}

void TimelinePlot::changeEvent(QEvent *event) {
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
        replotSoon();
    }
    QWidget::changeEvent(event);
}

void TimelinePlot::onMousePress(QMouseEvent *event) {
    m_pressPos = event->position().toPoint();
    m_pressed = event->button() == Qt::LeftButton;
}

void TimelinePlot::onMouseRelease(QMouseEvent *event) {
    if (!m_pressed || event->button() != Qt::LeftButton)
        return;
    m_pressed = false;
    setFocus(Qt::MouseFocusReason);
    const QPoint pos = event->position().toPoint();
    if ((pos - m_pressPos).manhattanLength() >= QApplication::startDragDistance()) {
        m_followLive = false; // the user dragged the time axis: stop following now
        return;
    }
    const int row = rowAt(pos);
    if (row < 0)
        return;
    highlightStep(m_steps[row]);
    Q_EMIT stepClicked(m_steps[row]);
}

void TimelinePlot::onMouseDoubleClick(QMouseEvent *event) {
    Q_UNUSED(event)
    m_followLive = true;
    updateRanges();
    replotSoon();
}

int TimelinePlot::rowAt(const QPoint &pos) const {
    const QRect area = m_plot->axisRect()->rect();
    // The label column left of the plot area counts as the row too.
    if (pos.y() < area.top() || pos.y() > area.bottom() || pos.x() > area.right())
        return -1;
    const int row = qRound(m_plot->yAxis->pixelToCoord(pos.y()));
    return row >= 0 && row < m_steps.size() ? row : -1;
}

void TimelinePlot::updateRanges() {
    m_plot->yAxis->setRange(-0.5, std::max<qsizetype>(m_steps.size(), 1) - 0.5);
    if (!m_followLive)
        return;
    double lower = m_runStart > 0 ? plotTime(m_runStart) : 0;
    double upper = m_now > 0 ? plotTime(m_now) : 0;
    for (const AttemptBars *bars : std::as_const(m_groups)) {
        for (const AttemptBars::Bar &bar : bars->bars()) {
            if (m_runStart <= 0 && (lower == 0 || bar.start < lower))
                lower = bar.start;
            upper = std::max(upper, bar.end);
        }
    }
    if (lower == 0)
        lower = upper - 60; // nothing ran yet: the last minute
    if (upper - lower < 1)
        upper = lower + 1;
    const double margin = (upper - lower) * 0.02;
    m_plot->xAxis->setRange(lower - margin, upper + margin);
    // Runs that span days need the date on the ticks.
    auto ticker = qSharedPointerCast<QCPAxisTickerDateTime>(m_plot->xAxis->ticker());
    ticker->setDateTimeFormat(upper - lower > 86400 ? QStringLiteral("d MMM\nHH:mm")
                                                    : QStringLiteral("HH:mm:ss"));
}

void TimelinePlot::updateHighlight() {
    const int row = m_rowOf.value(m_highlighted, -1);
    m_highlightBand->setVisible(row >= 0);
    if (row >= 0) {
        m_highlightBand->topLeft->setCoords(0, row - 0.5);
        m_highlightBand->bottomRight->setCoords(1, row + 0.5);
    }
}

void TimelinePlot::applyPalette() {
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(isDarkPalette(pal) ? 60 : 40);
    m_plot->setBackground(pal.color(QPalette::Base));
    m_plot->legend->setBrush(pal.color(QPalette::Base));
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->legend->setTextColor(text);
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
    }
    QColor band = pal.color(QPalette::Highlight);
    band.setAlpha(50);
    m_highlightBand->setBrush(band);
    if (m_actionMarks) {
        // Outlined in the text color, so they read on every bar color.
        QCPScatterStyle action = m_actionMarks->scatterStyle();
        action.setPen(QPen(text, 1.5));
        action.setBrush(pal.color(QPalette::Base));
        m_actionMarks->setScatterStyle(action);
        QCPScatterStyle wait = m_waitMarks->scatterStyle();
        wait.setPen(QPen(text, 1.5));
        wait.setBrush(stateColor(StepState::WaitingForOperator));
        m_waitMarks->setScatterStyle(wait);
    }
}

void TimelinePlot::replotSoon() {
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace keepflow::ui
