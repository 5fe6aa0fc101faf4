#pragma once

// <qcustomplot.h> for a build with QT_NO_KEYWORDS: the header declares its signals with
// `signals:` and loops with `foreach`, so both are defined for the include only. Include this
// instead of <qcustomplot.h>, from .cpp files (and the tests).

#if defined(signals) || defined(foreach)
#include <qcustomplot.h>
#else
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef foreach
#endif
