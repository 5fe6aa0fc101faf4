#include "runtime/preview.h"

#include "core/states.h"

#include <QHash>

#include <vector>

namespace keepflow {

namespace {

using K = OperatorAction::Kind;

struct RunView {
    const Flow &flow;
    QList<StepState> states;
    QList<QList<int>> downstream;

    RunView(const Flow &f, const QList<StepRunRow> &rows)
        : flow(f) {
        states.fill(StepState::Pending, flow.steps.size());
        downstream.resize(flow.steps.size());
        for (const StepRunRow &row : rows) {
            const qsizetype i = flow.indexOfStep(row.stepId);
            if (i >= 0)
                states[i] = row.state;
        }
        for (qsizetype i = 0; i < flow.steps.size(); ++i) {
            for (const QString &up : flow.steps[i].after) {
                const qsizetype u = flow.indexOfStep(up);
                if (u >= 0)
                    downstream[u].append(static_cast<int>(i));
            }
        }
    }

    /// Blocked steps behind i that are blocked only through it come back (Engine's
    /// unblockDownstream: a blocked step whose transition Reset applies, transitively).
    void addUnblocked(int i, std::vector<bool> &again) const {
        std::vector<int> stack(downstream[i].begin(), downstream[i].end());
        while (!stack.empty()) {
            const int d = stack.back();
            stack.pop_back();
            if (again[static_cast<size_t>(d)] || states[d] != StepState::Blocked ||
                !joinCanBeMet(d, again))
                continue;
            again[static_cast<size_t>(d)] = true;
            stack.insert(stack.end(), downstream[d].begin(), downstream[d].end());
        }
    }

    /// Whether step d could start once the steps in again have run and succeeded, the others
    /// keeping their states (a step blocked by another failed upstream stays blocked).
    bool joinCanBeMet(int d, const std::vector<bool> &again) const {
        int failed = 0;
        int hopeful = 0;
        const QStringList &after = flow.steps[d].after;
        for (const QString &up : after) {
            const qsizetype u = flow.indexOfStep(up);
            if (u < 0)
                continue;
            const StepState st = states[u];
            if (again[static_cast<size_t>(u)] || countsAsSuccess(st) || !isFinal(st))
                ++hopeful;
            else
                ++failed;
        }
        switch (flow.steps[d].effectiveJoin()) {
        case JoinRule::AllSucceeded:
        case JoinRule::NoneFailed:
            return failed == 0;
        case JoinRule::AllDone:
            return true;
        case JoinRule::AnySucceeded:
            return hopeful > 0 || after.isEmpty();
        }
        return true;
    }

    void addStepAndDownstream(int i, std::vector<bool> &again) const {
        std::vector<int> stack{i};
        while (!stack.empty()) {
            const int s = stack.back();
            stack.pop_back();
            if (again[static_cast<size_t>(s)])
                continue;
            again[static_cast<size_t>(s)] = true;
            stack.insert(stack.end(), downstream[s].begin(), downstream[s].end());
        }
    }
};

bool retryable(StepState state) {
    return state == StepState::Failed || state == StepState::Blocked ||
           state == StepState::Cancelled || state == StepState::PartiallySucceeded;
}

} // namespace

QStringList stepsRunAgainBy(const OperatorAction &action, const Flow &flow,
                            const QList<StepRunRow> &steps) {
    const qsizetype index = flow.indexOfStep(action.stepId);
    if (index < 0)
        return {};
    const int i = static_cast<int>(index);
    RunView run(flow, steps);
    const StepState state = run.states[i];
    const bool isForeach = !flow.steps[i].foreach.isUndefined();
    std::vector<bool> again(static_cast<size_t>(flow.steps.size()), false);

    switch (action.kind) {
    case K::Retry:
        if (state == StepState::Retrying) {
            again[static_cast<size_t>(i)] = true; // retry now: only the step itself
            break;
        }
        if (!retryable(state) || (state == StepState::Blocked && !run.joinCanBeMet(i, again)))
            break; // a step still blocked by another upstream would be blocked again at once
        again[static_cast<size_t>(i)] = true;
        run.addUnblocked(i, again);
        break;
    case K::RetryFailedItems:
        if (!isForeach || (state != StepState::Failed && state != StepState::PartiallySucceeded))
            break;
        again[static_cast<size_t>(i)] = true;
        run.addUnblocked(i, again);
        break;
    case K::Skip:
    case K::MarkSucceeded:
        if (!nextStepState(state, action.kind == K::Skip ? StepEvent::OperatorSkipped
                                                         : StepEvent::OperatorSucceeded))
            break;
        run.states[i] = StepState::Skipped; // counts as done for its downstream
        run.addUnblocked(i, again);
        break;
    case K::ResolveHappened:
    case K::Approve:
        if ((action.kind == K::ResolveHappened && state != StepState::Uncertain) ||
            (action.kind == K::Approve && state != StepState::WaitingForOperator))
            break;
        run.states[i] = StepState::Succeeded;
        run.addUnblocked(i, again);
        break;
    case K::ResolveNotHappened:
        if (state != StepState::Uncertain)
            break;
        again[static_cast<size_t>(i)] = true;
        run.addUnblocked(i, again);
        break;
    case K::SetInput:
        if (state == StepState::Retrying) {
            again[static_cast<size_t>(i)] = true;
        } else if (retryable(state) || state == StepState::Uncertain) {
            again[static_cast<size_t>(i)] = true;
            run.addUnblocked(i, again);
        }
        break;
    case K::RerunFrom:
        run.addStepAndDownstream(i, again);
        break;
    case K::Reject:
    case K::PauseRun:
    case K::UnpauseRun:
    case K::PauseStep:
    case K::UnpauseStep:
    case K::CancelRun:
        break;
    }
    QStringList ids;
    for (qsizetype s = 0; s < flow.steps.size(); ++s) {
        if (again[static_cast<size_t>(s)])
            ids << flow.steps[s].id;
    }
    return ids;
}

} // namespace keepflow
