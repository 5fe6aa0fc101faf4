#pragma once

// What the run views show of one step run: its state and its badges ("attempt
// 2/5", "next retry in 12 s", "37/40 items", "fallback used", "uncertain", "breaker open").
// Built from the engine's rows by the main window; graph, table and inspector only read it.

#include "core/states.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow::ui {

struct StepView {
    QString stepId;
    QString kind;
    StepState state = StepState::Pending;
    int attempts = 0;         ///< attempts started
    int maxAttempts = 0;      ///< the retry policy's, plus the attempts before an operator's retry
    qint64 nextAttemptAt = 0; ///< retrying or scheduled: when the next attempt may start; 0 none
    int itemsTotal = -1;      ///< -1: not a foreach step
    int itemsSucceeded = 0;
    int itemsFailed = 0;
    bool viaFallback = false;
    bool uncertain = false;
    bool breakerOpen = false; ///< the step's resource has its circuit breaker open
    bool resourcePaused = false;
    QString resource;
    qint64 startedAt = 0;
    qint64 endedAt = 0;
    QString lastError;
    /// A subflow step: the child run its latest attempt started, and that run's state (read
    /// while the step runs; a child that waits for an operator holds its parent up).
    QString childRunId;
    std::optional<RunState> childState;
    /// A root cause: a step only an operator gets going again, that others may wait on
    /// (api/rootcause.h); waitingOnIt counts the steps that do.
    bool rootCause = false;
    int waitingOnIt = 0;
    /// The root causes this step waits on, in flow order; empty when it waits on none.
    QStringList blockedBy;
    /// How many times its p95 across the flow's runs the step took (or, while it runs, has
    /// taken so far); 0 unless that is slow (api/stepstats.h, slowFactor()).
    double slowFactor = 0;

    bool operator==(const StepView &) const = default;
};

/// A running subflow step whose child run waits for an operator or is paused: the parent's
/// progress stops there, though the step itself reads "running".
inline bool childHoldsUp(const StepView &step) {
    return step.state == StepState::Running && step.childState &&
           (*step.childState == RunState::WaitingForOperator ||
            *step.childState == RunState::Paused);
}

/// "child waits for an operator", "child paused": what holds the step up, for badges and rows.
inline QString childHoldUpBadge(const StepView &step) {
    if (!childHoldsUp(step))
        return {};
    return *step.childState == RunState::Paused ? QStringLiteral("child paused")
                                                : QStringLiteral("child waits for an operator");
}

/// "slow: 3.1× p95" for a step slower than its history; empty otherwise.
inline QString slowBadge(const StepView &step) {
    return step.slowFactor > 0 ? QStringLiteral("slow: %1× p95").arg(step.slowFactor, 0, 'f', 1)
                               : QString();
}

/// Whether an operator should look at the step: failed (wholly or some items), retrying,
/// uncertain, or waiting for an operator. The graph keeps these visible when zoomed out, and
/// "next problem" walks them.
inline bool needsAttention(const StepView &step) {
    switch (step.state) {
    case StepState::Failed:
    case StepState::PartiallySucceeded:
    case StepState::Retrying:
    case StepState::Uncertain:
    case StepState::WaitingForOperator:
        return true;
    default:
        return step.uncertain || childHoldsUp(step);
    }
}

} // namespace keepflow::ui
