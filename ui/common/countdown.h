#pragma once

#include <QString>

namespace keepflow::ui {

/// Time left until something is due, rounded up so that it reads "1 s" until it is due:
/// "12 s", "3 min", "2 h". The graph's badges, the step table and the inspector agree on it.
QString formatCountdown(qint64 ms);

} // namespace keepflow::ui
