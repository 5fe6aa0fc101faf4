#include "countdown.h"

#include <algorithm>

namespace keepflow::ui {

QString formatCountdown(qint64 ms) {
    const qint64 seconds = (std::max<qint64>(ms, 0) + 999) / 1000;
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 2 * 3600)
        return QStringLiteral("%1 min").arg((seconds + 59) / 60);
    return QStringLiteral("%1 h").arg((seconds + 3599) / 3600);
}

} // namespace keepflow::ui
