#pragma once

// Time is injected so that backoff, delays and timeouts can be tested without sleeping.

#include <QDateTime>
#include <QtGlobal>

namespace keepflow {

/// Milliseconds since the Unix epoch. Implementations are used from one thread.
class Clock {
public:
    virtual ~Clock() = default;
    virtual qint64 nowMs() const = 0;
};

class SystemClock final : public Clock {
public:
    qint64 nowMs() const override { return QDateTime::currentMSecsSinceEpoch(); }
};

/// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
public:
    explicit ManualClock(qint64 startMs = 1'780'000'000'000)
        : m_now(startMs) {}
    qint64 nowMs() const override { return m_now; }
    void advance(qint64 ms) { m_now += ms; }
    void set(qint64 ms) { m_now = ms; }

private:
    qint64 m_now;
};

} // namespace keepflow
