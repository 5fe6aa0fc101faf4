#include "operator/actionplan.h"

#include "core/records.h"
#include "model/flow.h"
#include "model/flowfile.h"
#include "operator/policychange.h"

#include <vector>

namespace keepflow {

namespace {

using K = OperatorAction::Kind;
using S = StepState;

/// The run's graph and states, and the questions the rules ask of them.
class RunView {
public:
    explicit RunView(const RunSnapshot &snapshot)
        : m_run(snapshot)
        , m_flow(*snapshot.flow)
        , m_downstream(m_flow.steps.size()) {
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
            m_states.append(i < snapshot.steps.size() ? snapshot.steps[i].state : S::Pending);
            for (const QString &up : m_flow.steps[i].after) {
                const qsizetype u = m_flow.indexOfStep(up);
                if (u >= 0)
                    m_downstream[u].append(static_cast<int>(i));
            }
        }
    }

    const Flow &flow() const { return m_flow; }
    StepState state(int i) const { return m_states[i]; }
    void assume(int i, StepState state) { m_states[i] = state; }
    const StepSnapshot &snapshot(int i) const { return m_run.steps[i]; }
    int stepCount() const { return static_cast<int>(m_flow.steps.size()); }

    /// Every step reachable from i through `after`, i first (breadth first).
    std::vector<int> stepAndDownstream(int i) const {
        std::vector<int> order{i};
        std::vector<bool> seen(static_cast<size_t>(stepCount()), false);
        seen[static_cast<size_t>(i)] = true;
        for (size_t k = 0; k < order.size(); ++k) {
            for (int d : m_downstream[order[k]]) {
                if (!seen[static_cast<size_t>(d)]) {
                    seen[static_cast<size_t>(d)] = true;
                    order.push_back(d);
                }
            }
        }
        return order;
    }

    /// Whether step d could start once the steps in again have run and succeeded, the others
    /// keeping their states (a step blocked by another failed upstream stays blocked).
    bool joinCanBeMet(int d, const std::vector<bool> &again) const {
        int failed = 0;
        int hopeful = 0;
        const QStringList &after = m_flow.steps[d].after;
        for (const QString &up : after) {
            const qsizetype u = m_flow.indexOfStep(up);
            if (u < 0)
                continue;
            const StepState st = m_states[u];
            if (again[static_cast<size_t>(u)] || countsAsSuccess(st) || !isFinal(st))
                ++hopeful;
            else
                ++failed;
        }
        switch (m_flow.steps[d].effectiveJoin()) {
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

    /// Blocked steps behind i that are blocked only through it come back (the engine unblocks
    /// them and the join decides again).
    void addUnblocked(int i, std::vector<bool> &again) const {
        std::vector<int> stack(m_downstream[i].begin(), m_downstream[i].end());
        while (!stack.empty()) {
            const int d = stack.back();
            stack.pop_back();
            if (again[static_cast<size_t>(d)] || m_states[d] != S::Blocked ||
                !joinCanBeMet(d, again))
                continue;
            again[static_cast<size_t>(d)] = true;
            stack.insert(stack.end(), m_downstream[d].begin(), m_downstream[d].end());
        }
    }

private:
    const RunSnapshot &m_run;
    const Flow &m_flow;
    QList<StepState> m_states;
    QList<QList<int>> m_downstream;
};

/// A step that failed, was blocked or cancelled, or partly succeeded: it can be retried.
bool retryable(StepState state) {
    return state == S::Failed || state == S::Blocked || state == S::Cancelled ||
           state == S::PartiallySucceeded;
}

bool succeededAlready(StepState state) {
    return state == S::Succeeded || state == S::SucceededViaFallback || state == S::Skipped;
}

StepChange change(StepChange::Kind kind, int step) {
    StepChange c;
    c.kind = kind;
    c.step = step;
    return c;
}

/// The planner for one action on one run; each rule is one method.
class Planner {
public:
    Planner(const RunSnapshot &run, const OperatorAction &action)
        : m_view(run)
        , m_run(run)
        , m_action(action)
        , m_again(static_cast<size_t>(m_view.stepCount()), false) {}

    Result<ActionPlan> plan() {
        if (m_action.kind == K::PauseRun || m_action.kind == K::UnpauseRun ||
            m_action.kind == K::CancelRun)
            return finish(planRunAction());
        m_step = static_cast<int>(m_view.flow().indexOfStep(m_action.stepId));
        if (m_step < 0)
            return Status::error(
                QStringLiteral("run %1 has no step \"%2\"").arg(m_action.runId, m_action.stepId));
        m_name = m_view.flow().steps[m_step].id;
        m_state = m_view.state(m_step);
        m_stateName = stateName(m_state);
        m_isForeach = !m_view.flow().steps[m_step].foreach.isUndefined();
        m_isApproval = m_view.flow().steps[m_step].kind == QLatin1String("approval");
        switch (m_action.kind) {
        case K::Retry:
        case K::RetryFailedItems:
            return finish(planRetry());
        case K::Skip:
        case K::MarkSucceeded:
        case K::ResolveHappened:
        case K::Approve:
            return finish(planSettle());
        case K::Reject:
            return finish(planReject());
        case K::ResolveNotHappened:
            return finish(planResolveNotHappened());
        case K::SetInput:
            return finish(planSetInput());
        case K::RerunFrom:
            return finish(planRerunFrom());
        case K::PauseStep:
        case K::UnpauseStep:
            return finish(planHold());
        case K::SetPolicy:
            return finish(planSetPolicy());
        default:
            break;
        }
        return Status::error(QStringLiteral("unknown action"));
    }

private:
    Result<ActionPlan> finish(Status status) {
        if (!status)
            return status;
        for (int s = 0; s < m_view.stepCount(); ++s) {
            if (m_again[static_cast<size_t>(s)])
                m_plan.runAgain << m_view.flow().steps[s].id;
        }
        return m_plan;
    }

    Status refuse(const QString &why) const { return Status::error(why); }

    /// A new input obeys the rules a flow file's does (no template in a statement or in an
    /// interpreter's code, secrets only where a value is sent, numbers in range): the flow
    /// with it in place must validate.
    Status checkNewInput() const {
        Flow edited = m_view.flow();
        edited.steps[m_step].with = m_action.input;
        const QString within = QStringLiteral("/steps/%1/with").arg(m_step);
        for (const Diagnostic &problem : validateFlow(edited)) {
            // Only what the new input brings: the rest of the flow was checked when it ran.
            if (problem.severity == Diagnostic::Severity::Error &&
                (problem.path == within || problem.path.startsWith(within + QLatin1Char('/'))))
                return refuse(QStringLiteral("the new input of step %1 is refused: %2")
                                  .arg(m_name, problem.message));
        }
        return Status::ok();
    }
    Status refuseNotUncertain() const {
        return refuse(QStringLiteral("step %1 is %2, not uncertain: there is nothing to resolve")
                          .arg(m_name, m_stateName));
    }
    void add(StepChange c) { m_plan.changes.append(std::move(c)); }
    void runsAgain(int step) { m_again[static_cast<size_t>(step)] = true; }
    /// The step runs again, and what was blocked only through it with it.
    void runsAgainAndUnblocks() {
        runsAgain(m_step);
        m_view.addUnblocked(m_step, m_again);
    }

    /// The step runs again from pending (downstream blocked only by it comes back), unless it
    /// would be blocked again at once by another upstream.
    void rerun(bool freshBudget) {
        StepChange c = change(StepChange::Kind::Rerun, m_step);
        c.freshBudget = freshBudget;
        add(c);
        if (m_state == S::Blocked && !m_view.joinCanBeMet(m_step, m_again))
            return;
        runsAgainAndUnblocks();
    }

    Status planRetry() {
        const bool failedItemsOnly = m_action.kind == K::RetryFailedItems;
        if (failedItemsOnly && !m_isForeach)
            return refuse(
                QStringLiteral("step %1 has no foreach: there are no items to retry").arg(m_name));
        if (m_state == S::Retrying && !failedItemsOnly) {
            add(change(StepChange::Kind::RetryNow, m_step));
            runsAgain(m_step);
            m_plan.message = QStringLiteral("step %1 retries now").arg(m_name);
            return Status::ok();
        }
        if (m_state == S::Uncertain)
            return refuse(QStringLiteral("step %1 has an uncertain outcome: resolve it with "
                                         "--happened or --not-happened")
                              .arg(m_name));
        if (m_state == S::WaitingForOperator)
            return refuse(
                QStringLiteral("step %1 waits for approval: approve or reject it").arg(m_name));
        if (!retryable(m_state))
            return refuse(QStringLiteral("step %1 is %2: there is nothing to retry%3")
                              .arg(m_name, m_stateName,
                                   succeededAlready(m_state)
                                       ? QStringLiteral(" (rerun-from runs it again)")
                                       : QString()));
        const int failedItems = m_run.steps[m_step].failedItems;
        const bool itemsStep =
            m_isForeach && (m_state == S::PartiallySucceeded || m_state == S::Failed);
        if (itemsStep && failedItems > 0) {
            StepChange c = change(StepChange::Kind::ReopenItems, m_step);
            c.reopenFailedItems = true;
            add(c);
            runsAgainAndUnblocks();
            m_plan.message =
                QStringLiteral("step %1: %2 failed item(s) run again; succeeded items are kept")
                    .arg(m_name)
                    .arg(failedItems);
            return Status::ok();
        }
        if (failedItemsOnly)
            return refuse(QStringLiteral("step %1 has no failed items").arg(m_name));
        rerun(true);
        m_plan.message =
            QStringLiteral("step %1 runs again with a fresh budget of %2 attempts")
                .arg(m_name)
                .arg(m_view.flow().effectiveRetry(m_view.flow().steps[m_step]).maxAttempts);
        return Status::ok();
    }

    Status planSettle() {
        const K kind = m_action.kind;
        if (kind == K::ResolveHappened && m_state != S::Uncertain)
            return refuseNotUncertain();
        if (kind == K::Approve && (m_state != S::WaitingForOperator || !m_isApproval))
            return refuse(QStringLiteral("step %1 is %2%3: there is nothing to approve")
                              .arg(m_name, m_stateName,
                                   m_isApproval ? QString() : QStringLiteral(", not an approval")));
        if (kind == K::MarkSucceeded && m_state == S::Uncertain)
            return refuse(QStringLiteral("step %1 has an uncertain outcome: resolve it with "
                                         "--happened or --not-happened")
                              .arg(m_name));
        if (kind == K::MarkSucceeded && m_state == S::WaitingForOperator)
            return refuse(
                QStringLiteral("step %1 waits for approval: approve or reject it").arg(m_name));
        if (kind == K::ResolveHappened && m_isForeach) {
            StepChange c = change(StepChange::Kind::ReopenItems, m_step);
            c.uncertainItemsTo = StepEvent::OperatorSucceeded;
            c.output = m_action.output;
            add(c);
            m_view.assume(m_step, S::Succeeded);
            m_view.addUnblocked(m_step, m_again);
            m_plan.message = QStringLiteral("step %1: %2 uncertain item(s) recorded as done")
                                 .arg(m_name)
                                 .arg(m_run.steps[m_step].uncertainItems);
            return Status::ok();
        }
        const StepEvent event =
            kind == K::Skip ? StepEvent::OperatorSkipped : StepEvent::OperatorSucceeded;
        const auto next = nextStepState(m_state, event);
        if (!next)
            return refuse(QStringLiteral("step %1 is %2: it cannot be %3")
                              .arg(m_name, m_stateName,
                                   kind == K::Skip ? QStringLiteral("skipped")
                                                   : QStringLiteral("marked succeeded")));
        StepChange c = change(StepChange::Kind::Settle, m_step);
        c.settleAs = event;
        c.output = kind == K::Approve
                       ? QJsonValue(QJsonObject{{QStringLiteral("approved_by"), m_action.actor},
                                                {QStringLiteral("comment"), m_action.reason}})
                       : m_action.output;
        if (c.output.isUndefined())
            c.output = QJsonObject();
        add(c);
        m_view.assume(m_step, *next);
        m_view.addUnblocked(m_step, m_again);
        m_plan.message = QStringLiteral("step %1 is %2").arg(m_name, stateName(*next));
        return Status::ok();
    }

    Status planReject() {
        if (m_state != S::WaitingForOperator || !m_isApproval)
            return refuse(QStringLiteral("step %1 is %2: there is nothing to reject")
                              .arg(m_name, m_stateName));
        StepChange c = change(StepChange::Kind::Reject, m_step);
        c.error = QStringLiteral("rejected by %1%2")
                      .arg(m_action.actor, m_action.reason.isEmpty()
                                               ? QString()
                                               : QStringLiteral(": ") + m_action.reason);
        add(c);
        m_plan.message = QStringLiteral("step %1 is rejected").arg(m_name);
        return Status::ok();
    }

    Status planResolveNotHappened() {
        if (m_state != S::Uncertain)
            return refuseNotUncertain();
        if (m_isForeach) {
            StepChange c = change(StepChange::Kind::ReopenItems, m_step);
            c.uncertainItemsTo = StepEvent::Reopen;
            add(c);
            runsAgainAndUnblocks();
            m_plan.message =
                QStringLiteral("step %1: %2 uncertain item(s) run again with the same keys")
                    .arg(m_name)
                    .arg(m_run.steps[m_step].uncertainItems);
            return Status::ok();
        }
        rerun(false);
        m_plan.message =
            QStringLiteral("step %1 runs again with the same idempotency key").arg(m_name);
        return Status::ok();
    }

    Status planSetInput() {
        if (Status s = checkNewInput(); !s)
            return s;
        if (m_state == S::Running)
            return refuse(
                QStringLiteral("step %1 is running: its input can change once the attempt ends")
                    .arg(m_name));
        if (succeededAlready(m_state))
            return refuse(QStringLiteral("step %1 is %2: use rerun-from to run it again")
                              .arg(m_name, m_stateName));
        add(change(StepChange::Kind::ReplaceInput, m_step));
        if (m_state == S::Pending || m_state == S::Queued || m_state == S::Scheduled ||
            m_state == S::Paused) {
            m_plan.message = QStringLiteral("step %1 will use the new input").arg(m_name);
            return Status::ok();
        }
        if (m_state == S::Retrying) {
            add(change(StepChange::Kind::RetryNow, m_step));
            runsAgain(m_step);
            m_plan.message = QStringLiteral("step %1 retries now with the new input").arg(m_name);
            return Status::ok();
        }
        rerun(true);
        m_plan.message = QStringLiteral("step %1 runs again with the new input").arg(m_name);
        return Status::ok();
    }

    Status planRerunFrom() {
        if (m_state == S::Pending)
            return refuse(QStringLiteral("step %1 is pending: it has not run yet, nothing to rerun")
                              .arg(m_name));
        const std::vector<int> steps = m_view.stepAndDownstream(m_step);
        for (int s : steps) {
            if (m_view.state(s) == S::Running)
                return refuse(
                    QStringLiteral("step %1 is running: rerun-from waits until nothing in it runs")
                        .arg(m_view.flow().steps[s].id));
        }
        QStringList names;
        for (int s : steps) {
            add(change(StepChange::Kind::NewGeneration, s));
            runsAgain(s);
            names << m_view.flow().steps[s].id;
        }
        m_plan.message = QStringLiteral("rerun from %1: %2 run again with new idempotency keys")
                             .arg(m_name, names.join(QStringLiteral(", ")));
        return Status::ok();
    }

    Status planHold() {
        if (m_action.kind == K::PauseStep) {
            if (!nextStepState(m_state, StepEvent::Held))
                return refuse(QStringLiteral("step %1 is %2: only a step that has not started (or "
                                             "waits to retry) can be held")
                                  .arg(m_name, m_stateName));
            add(change(StepChange::Kind::Hold, m_step));
            m_plan.message =
                QStringLiteral("step %1 is held: it does not start until unpaused").arg(m_name);
            return Status::ok();
        }
        if (m_state != S::Paused)
            return refuse(QStringLiteral("step %1 is %2, not paused").arg(m_name, m_stateName));
        add(change(StepChange::Kind::Release, m_step));
        m_plan.message = QStringLiteral("step %1 is released").arg(m_name);
        return Status::ok();
    }

    /// A policy change applies to a run under way, from the step's next attempt on; the values
    /// are checked on the policy they make together with the flow's and earlier changes.
    Status planSetPolicy() {
        if (isFinal(m_run.state))
            return refuse(QStringLiteral("run %1 is %2: a policy change applies to a run under "
                                         "way (retry the step first)")
                              .arg(m_action.runId, stateName(m_run.state)));
        if (m_action.policy.isEmpty())
            return refuse(QStringLiteral("set-policy needs at least one value to change"));
        auto requested = PolicyOverride::fromJson(m_action.policy);
        if (!requested)
            return refuse(QStringLiteral("policy of step %1: %2").arg(m_name, requested.error()));
        const QJsonValue stored = m_run.steps[m_step].policyOverride;
        PolicyOverride earlier;
        if (stored.isObject()) {
            if (auto parsed = PolicyOverride::fromJson(stored.toObject()))
                earlier = *parsed;
        }
        const PolicyOverride merged = earlier.mergedWith(*requested);
        const Step &step = m_view.flow().steps[m_step];
        const StepPolicy before = effectiveStepPolicy(m_view.flow(), step, stored);
        const StepPolicy after = merged.appliedTo(flowStepPolicy(m_view.flow(), step));
        if (Status s = checkStepPolicy(after); !s)
            return refuse(QStringLiteral("policy of step %1: %2").arg(m_name, s.message()));
        if (after == before)
            return refuse(
                QStringLiteral("step %1 already has that policy: nothing changes").arg(m_name));
        StepChange c = change(StepChange::Kind::SetPolicy, m_step);
        c.policy = merged.toJson();
        add(std::move(c));
        // The engine says what it means for the step as it stands (previewPolicyChange).
        m_plan.message =
            QStringLiteral("step %1: %2")
                .arg(m_name,
                     previewPolicyChange(before, after, {}, 0).changes.join(QStringLiteral("; ")));
        return Status::ok();
    }

    Status planRunAction() {
        const QString &id = m_action.runId;
        switch (m_action.kind) {
        case K::PauseRun:
            if (isFinal(m_run.state))
                return refuse(QStringLiteral("run %1 is %2: there is nothing to pause")
                                  .arg(id, stateName(m_run.state)));
            if (m_run.paused)
                return refuse(QStringLiteral("run %1 is already paused").arg(id));
            m_plan.runChange = ActionPlan::RunChange::Pause;
            m_plan.message =
                QStringLiteral("run %1 is paused: running attempts finish, nothing new starts")
                    .arg(id);
            return Status::ok();
        case K::UnpauseRun:
            if (!m_run.paused)
                return refuse(QStringLiteral("run %1 is not paused").arg(id));
            m_plan.runChange = ActionPlan::RunChange::Unpause;
            m_plan.message = QStringLiteral("run %1 goes on").arg(id);
            return Status::ok();
        default:
            if (isFinal(m_run.state))
                return refuse(
                    QStringLiteral("run %1 is already %2").arg(id, stateName(m_run.state)));
            m_plan.runChange = ActionPlan::RunChange::Cancel;
            for (int s = 0; s < m_view.stepCount(); ++s) {
                if (!isFinal(m_view.state(s)))
                    add(change(StepChange::Kind::Cancel, s));
            }
            m_plan.message = QStringLiteral("run %1 is cancelled").arg(id);
            return Status::ok();
        }
    }

    RunView m_view;
    const RunSnapshot &m_run;
    const OperatorAction &m_action;
    std::vector<bool> m_again;
    ActionPlan m_plan;
    int m_step = -1;
    QString m_name;
    StepState m_state = S::Pending;
    QString m_stateName;
    bool m_isForeach = false;
    bool m_isApproval = false;
};

} // namespace

RunSnapshot RunSnapshot::of(const Flow &flow, RunState state, bool paused,
                            const QList<StepRunRow> &steps, const QList<ItemRow> &items) {
    RunSnapshot run;
    run.flow = &flow;
    run.state = state;
    run.paused = paused;
    run.steps.resize(flow.steps.size());
    for (const StepRunRow &row : steps) {
        const qsizetype i = flow.indexOfStep(row.stepId);
        if (i >= 0) {
            run.steps[i].state = row.state;
            run.steps[i].policyOverride = row.policyOverride;
        }
    }
    run.countItems(items);
    return run;
}

void RunSnapshot::countItems(const QList<ItemRow> &items) {
    for (const ItemRow &row : items) {
        const qsizetype i = flow->indexOfStep(row.stepId);
        if (i < 0 || i >= steps.size())
            continue;
        if (row.state == StepState::Failed)
            ++steps[i].failedItems;
        else if (row.state == StepState::Uncertain)
            ++steps[i].uncertainItems;
    }
}

Result<ActionPlan> planAction(const RunSnapshot &run, const OperatorAction &action) {
    if (action.kind == OperatorAction::Kind::Upgrade) // it needs the new flow: planUpgrade()
        return Status::error(QStringLiteral("an upgrade is planned with its new flow version"));
    return Planner(run, action).plan();
}

QStringList stepsRunAgainBy(const OperatorAction &action, const RunSnapshot &run) {
    const auto plan = planAction(run, action);
    return plan ? plan->runAgain : QStringList();
}

} // namespace keepflow
