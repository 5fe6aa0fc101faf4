#pragma once

// What a command prints on one stream, kept two ways: its beginning (up to kMaxOutputBytes),
// which becomes the step's output, and its end (CapturedOutput::kCapturedTailBytes), which is
// kept for the attempt's log. Used by the shell step; chunks arrive as the pipe delivers them.

#include "core/records.h"

#include <QByteArray>
#include <QString>

#include <algorithm>

namespace keepflow {

/// One stream of a command: its beginning for the step's output, its end for the attempt's log.
class CapturedStream {
public:
    /// How much becomes the step's output (its beginning: JSON is read from the start).
    static constexpr qsizetype kMaxOutputBytes = 1024 * 1024;

    void append(const QByteArray &chunk) {
        m_total += chunk.size();
        const qsizetype room = kMaxOutputBytes - m_head.size();
        if (chunk.size() > room)
            m_headCut = true;
        m_head.append(chunk.left(std::max<qsizetype>(0, room)));
        m_tail.append(chunk);
        // Trimmed in big steps, so that a chatty command costs no quadratic copying.
        if (m_tail.size() > 2 * CapturedOutput::kCapturedTailBytes)
            m_tail.remove(0, m_tail.size() - CapturedOutput::kCapturedTailBytes);
    }
    const QByteArray &head() const { return m_head; }
    bool headCut() const { return m_headCut; }
    qint64 total() const { return m_total; }

    /// The last kCapturedTailBytes as text: starting at a character boundary, with NUL bytes
    /// (which no database text column takes) shown as U+FFFD.
    QString tailText() const {
        qsizetype start =
            std::max<qsizetype>(0, m_tail.size() - CapturedOutput::kCapturedTailBytes);
        const bool cut = start > 0 || m_total > m_tail.size(); // (trimming may have cut it)
        for (int skipped = 0; cut && start < m_tail.size() && skipped < 3 &&
                              (static_cast<unsigned char>(m_tail[start]) & 0xC0) == 0x80;
             ++skipped)
            ++start; // inside a multi-byte character: begin with the next one
        QString text = QString::fromUtf8(m_tail.constData() + start, m_tail.size() - start);
        text.replace(QChar(0), QChar(QChar::ReplacementCharacter));
        return text;
    }

private:
    QByteArray m_head;
    QByteArray m_tail;
    qint64 m_total = 0;
    bool m_headCut = false;
};

} // namespace keepflow
