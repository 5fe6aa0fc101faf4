#include "historyscrubber.h"

#include "api/reports.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace keepflow::ui {

HistoryScrubber::HistoryScrubber(QWidget *parent)
    : QWidget(parent) {
    // The controls on one line, what the position is on the next: the bar stays narrow.
    auto *rows = new QVBoxLayout(this);
    rows->setContentsMargins(4, 0, 4, 0);
    rows->setSpacing(0);
    auto *layout = new QHBoxLayout;
    layout->setSpacing(4);
    rows->addLayout(layout);

    m_back = new QToolButton;
    m_back->setArrowType(Qt::LeftArrow);
    m_back->setAccessibleName(QStringLiteral("Previous event"));
    m_back->setToolTip(QStringLiteral("Show the run as it was one event earlier (Left)"));
    m_forward = new QToolButton;
    m_forward->setArrowType(Qt::RightArrow);
    m_forward->setAccessibleName(QStringLiteral("Next event"));
    m_forward->setToolTip(QStringLiteral("One event later (Right)"));
    m_play = new QPushButton(QStringLiteral("Play"));
    m_play->setAccessibleName(QStringLiteral("Play"));
    m_play->setToolTip(QStringLiteral("Play the run's history at the chosen speed"));
    m_speed = new QComboBox;
    m_speed->setAccessibleName(QStringLiteral("Playback speed"));
    m_speed->setToolTip(QStringLiteral("How fast Play goes: a multiple of real time, or events "
                                       "per second"));
    for (const Speed &speed : speeds())
        m_speed->addItem(speed.label);
    m_speed->setCurrentIndex(1);
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setAccessibleName(QStringLiteral("Run history"));
    m_slider->setToolTip(QStringLiteral("Drag to see the run as it was after any of its events; "
                                        "Left/Right step one event, PageUp/PageDown ten, Home "
                                        "the first, End returns to live"));
    m_slider->setSingleStep(1);
    m_slider->setPageStep(10);
    m_slider->setMinimumWidth(60);
    m_now = new QPushButton(QStringLiteral("Now"));
    m_now->setAccessibleName(QStringLiteral("Now"));
    m_now->setToolTip(QStringLiteral("Back to the run as it is now: live updates resume"));
    m_label = new QLabel;
    m_label->setAccessibleName(QStringLiteral("History position"));
    m_label->setTextFormat(Qt::PlainText);
    // Long positions are cut at the pane's edge rather than widening the window.
    m_label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    layout->addWidget(m_back);
    layout->addWidget(m_slider, 2);
    layout->addWidget(m_forward);
    layout->addWidget(m_play);
    layout->addWidget(m_speed);
    layout->addWidget(m_now);
    rows->addWidget(m_label);

    m_timer = new QTimer(this);
    m_timer->setInterval(33);
    connect(m_timer, &QTimer::timeout, this, [this] { advancePlayback(m_sinceTick.restart()); });
    connect(m_back, &QToolButton::clicked, this, [this] { stepBy(-1); });
    connect(m_forward, &QToolButton::clicked, this, [this] { stepBy(1); });
    connect(m_now, &QPushButton::clicked, this, &HistoryScrubber::goLive);
    connect(m_play, &QPushButton::clicked, this, [this] { isPlaying() ? pause() : play(); });
    connect(m_speed, &QComboBox::currentIndexChanged, this, &HistoryScrubber::setSpeed);
    connect(m_slider, &QSlider::valueChanged, this, [this](int value) {
        if (!m_settingSlider)
            scrubTo(value);
    });
    updateRange();
}

const QList<HistoryScrubber::Speed> &HistoryScrubber::speeds() {
    // Real time for a run that moves every second or so; faster multiples for retries that wait
    // minutes; events per second to walk a history whose gaps are hours long.
    static const QList<Speed> all{
        {QStringLiteral("1×"), 1, 0},         {QStringLiteral("10×"), 10, 0},
        {QStringLiteral("100×"), 100, 0},     {QStringLiteral("1000×"), 1000, 0},
        {QStringLiteral("5 events/s"), 0, 5}, {QStringLiteral("50 events/s"), 0, 50}};
    return all;
}

void HistoryScrubber::setEvents(const QList<EventRow> &events) {
    pause();
    m_events = events;
    m_index = -1;
    updateRange();
}

void HistoryScrubber::appendEvents(const QList<EventRow> &events) {
    if (events.isEmpty())
        return;
    m_events.append(events);
    updateRange();
}

void HistoryScrubber::scrubTo(qsizetype index) {
    if (m_events.isEmpty())
        return;
    index = std::max<qsizetype>(index, 0);
    if (index >= m_events.size() - 1) {
        goLive(); // the latest event is the present
        return;
    }
    if (index == m_index)
        return;
    m_index = index;
    m_playAt = static_cast<double>(m_events[index].at);
    updateRange();
    Q_EMIT scrubbed(index);
}

void HistoryScrubber::stepBy(qsizetype events) {
    const qsizetype from = m_index >= 0 ? m_index : m_events.size() - 1;
    scrubTo(from + events);
}

void HistoryScrubber::goLive() {
    pause();
    const bool wasScrubbed = m_index >= 0;
    m_index = -1;
    updateRange();
    if (wasScrubbed)
        Q_EMIT wentLive();
}

void HistoryScrubber::setSpeed(int speedIndex) {
    if (m_speed->currentIndex() != speedIndex)
        m_speed->setCurrentIndex(speedIndex);
    m_playEvents = 0;
}

void HistoryScrubber::play() {
    if (m_events.size() < 2)
        return;
    if (m_index < 0)
        scrubTo(0); // from live, play the history from its start
    m_playAt = static_cast<double>(m_events[m_index].at);
    m_playEvents = 0;
    m_sinceTick.start();
    m_timer->start();
    m_play->setText(QStringLiteral("Pause"));
    m_play->setAccessibleName(QStringLiteral("Pause"));
}

void HistoryScrubber::pause() {
    m_timer->stop();
    m_play->setText(QStringLiteral("Play"));
    m_play->setAccessibleName(QStringLiteral("Play"));
}

bool HistoryScrubber::isPlaying() const {
    return m_timer->isActive();
}

void HistoryScrubber::advancePlayback(qint64 elapsedMs) {
    if (m_index < 0)
        return;
    const Speed &speed = speeds().value(m_speed->currentIndex(), speeds().first());
    qsizetype target = m_index;
    if (speed.timeFactor > 0) {
        m_playAt += static_cast<double>(elapsedMs) * speed.timeFactor;
        const auto later = std::upper_bound(
            m_events.cbegin(), m_events.cend(), m_playAt,
            [](double at, const EventRow &event) { return at < static_cast<double>(event.at); });
        target = std::max<qsizetype>(m_index, (later - m_events.cbegin()) - 1);
    } else {
        m_playEvents += static_cast<double>(elapsedMs) * speed.eventsPerSecond / 1000.0;
        const double whole = std::floor(m_playEvents);
        m_playEvents -= whole;
        target = m_index + static_cast<qsizetype>(whole);
    }
    if (target == m_index)
        return;
    const double playAt = m_playAt;
    scrubTo(target); // the latest event ends playback: live
    if (speed.timeFactor > 0)
        m_playAt = playAt; // between two events, history time goes on from where it was
}

void HistoryScrubber::updateRange() {
    m_settingSlider = true;
    m_slider->setRange(0, static_cast<int>(std::max<qsizetype>(m_events.size() - 1, 0)));
    m_slider->setValue(m_index >= 0 ? static_cast<int>(m_index) : m_slider->maximum());
    m_settingSlider = false;
    const bool any = m_events.size() > 1;
    m_slider->setEnabled(any);
    m_back->setEnabled(any && m_index != 0);
    m_forward->setEnabled(m_index >= 0);
    m_play->setEnabled(any);
    m_now->setEnabled(m_index >= 0);
    updateLabel();
}

void HistoryScrubber::updateLabel() {
    if (m_index < 0) {
        m_label->setText(m_events.isEmpty()
                             ? QStringLiteral("Live")
                             : QStringLiteral("Live · %L1 events").arg(m_events.size()));
        m_label->setToolTip(QStringLiteral("The run as it is now; drag the slider or press Left "
                                           "in it to look back"));
        return;
    }
    const EventRow &event = m_events[m_index];
    const QString when = QDateTime::fromMSecsSinceEpoch(event.at).toString(
        QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    QString text = QStringLiteral("As of %1 · %2").arg(when, eventTypeName(event.type));
    if (!event.stepId.isEmpty())
        text += QStringLiteral(" · step ") + event.stepId;
    text += QStringLiteral(" · event %L1 of %L2").arg(m_index + 1).arg(m_events.size());
    m_label->setText(text);
    m_label->setToolTip(QStringLiteral("%1\n%2").arg(text, describeEvent(event)));
}

} // namespace keepflow::ui
