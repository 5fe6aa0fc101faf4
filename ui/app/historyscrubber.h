#pragma once

// The run page's time travel: a slider over the open run's events. Dragging it, or stepping
// with the keyboard (Left/Right one event, PageUp/PageDown ten, Home the first), shows the run as
// it was after that event; Play moves through the history at a chosen speed; Now (or End, or
// reaching the latest event) returns to live. The window does the showing: this bar only says
// where the user wants to be.

#include "core/records.h"

#include <QElapsedTimer>
#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;

namespace keepflow::ui {

class HistoryScrubber : public QWidget {
    Q_OBJECT
public:
    explicit HistoryScrubber(QWidget *parent = nullptr);

    /// The run's events, oldest first (a new run: back to live).
    void setEvents(const QList<EventRow> &events);
    /// Events committed since: the live end moves on, a scrubbed position stays.
    void appendEvents(const QList<EventRow> &events);

    const QList<EventRow> &events() const { return m_events; }
    /// Whether the run is shown as it was (false: live).
    bool isScrubbed() const { return m_index >= 0; }
    /// The event shown as the latest while scrubbed; -1 when live.
    qsizetype index() const { return m_index; }
    /// Moves to just after events[index]; the latest event (or beyond) is live.
    void scrubTo(qsizetype index);
    void stepBy(qsizetype events);
    void goLive();

    /// Playback speeds: a multiple of real time, or a number of events per second.
    struct Speed {
        QString label;
        double timeFactor = 0; ///< 10: ten seconds of history per second
        double eventsPerSecond = 0;
    };
    static const QList<Speed> &speeds();
    void setSpeed(int speedIndex);
    void play();
    void pause();
    bool isPlaying() const;
    /// Playback moved on by elapsedMs of wall time (the timer calls it; tests call it with
    /// figures of their own).
    void advancePlayback(qint64 elapsedMs);

    QSlider *slider() const { return m_slider; }
    QLabel *label() const { return m_label; }
    QPushButton *nowButton() const { return m_now; }
    QPushButton *playButton() const { return m_play; }
    QComboBox *speedBox() const { return m_speed; }

Q_SIGNALS:
    /// Show the run as it was after events[index].
    void scrubbed(qsizetype index);
    /// Show the run live again.
    void wentLive();

private:
    void updateLabel();
    void updateRange();

    QList<EventRow> m_events;
    qsizetype m_index = -1;
    double m_playAt = 0;     ///< playback's position in history time (ms since the epoch)
    double m_playEvents = 0; ///< events/s playback: fractional events carried over
    QSlider *m_slider = nullptr;
    QLabel *m_label = nullptr;
    QToolButton *m_back = nullptr;
    QToolButton *m_forward = nullptr;
    QPushButton *m_play = nullptr;
    QComboBox *m_speed = nullptr;
    QPushButton *m_now = nullptr;
    QTimer *m_timer = nullptr;
    QElapsedTimer m_sinceTick;
    bool m_settingSlider = false;
};

} // namespace keepflow::ui
