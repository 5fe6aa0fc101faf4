#pragma once

// One step of one run as the step statistics read it (api/stepstats.h): only the columns they
// need, so that reading the steps of 100,000 runs stays cheap.

#include "core/states.h"

#include <QString>

namespace keepflow {

struct StepSample {
    QString stepId;
    int position = 0; ///< index in the flow's steps (of the run's flow version)
    StepState state = StepState::Pending;
    int attempts = 0; ///< attempts started
    int failures = 0;
    qint64 startedAt = 0; ///< first attempt; 0 when it never started
    qint64 endedAt = 0;   ///< 0 while not finished
    bool viaFallback = false;
    qint64 runCreatedAt = 0;
    qint64 runEndedAt = 0; ///< 0 while the run has not ended
};

} // namespace keepflow

// Moved in memory as bytes when a list of 500,000 of them grows (a QString is relocatable).
Q_DECLARE_TYPEINFO(keepflow::StepSample, Q_RELOCATABLE_TYPE);
