#include "runtime/engineimpl.h"

// Operator actions on a loaded run: each is applied in one transaction with its event, or
// refused with the reason, changing nothing.

#include "operator/actionplan.h"
#include "store/store.h"

namespace keepflow {

namespace {

/// What a step's last way to a final state left: its end, timer, output and fallback.
void clearOutcome(LiveStep &step) {
    step.endedAt = 0;
    step.notBefore = 0;
    step.viaFallback = false;
    step.fallbackActive = false;
    step.output = QJsonValue(QJsonValue::Undefined);
}

/// A step's next generation: new idempotency keys, no attempts yet, a fresh budget.
void beginGeneration(LiveStep &step) {
    ++step.generation;
    step.attempts = 0;
    step.failures = 0;
    step.startedAt = 0;
    step.error.clear();
    step.errorClass.reset();
    step.foreach.reset();
}

/// Where an attempt target stands, for a policy change's preview and its retry timer.
StepProgress progressOf(const AttemptTarget &target) {
    const AttemptState &state = target.state();
    return StepProgress{state.state, state.attempts, state.failures, state.notBefore,
                        RunLedger::idempotencyKey(target)};
}

/// The event that records an action of kind.
EventType operatorEventType(OperatorAction::Kind kind) {
    // Appended after alert_fired: the order of the enum is the order names were added.
    if (kind == OperatorAction::Kind::SetPolicy)
        return EventType::OperatorSetPolicy;
    if (kind == OperatorAction::Kind::Upgrade)
        return EventType::OperatorUpgrade;
    // The other operator event kinds follow the action kinds, in the same order.
    return static_cast<EventType>(static_cast<int>(EventType::OperatorRetry) +
                                  static_cast<int>(kind));
}

} // namespace

void Engine::Impl::retimeRetries(LiveRun &run, int i, const StepPolicy &before,
                                 const StepPolicy &after, qint64 now) {
    auto retime = [&](const AttemptTarget &target) {
        AttemptState &state = target.state();
        const qint64 at = recomputedRetryAt(before, after, progressOf(target), now);
        if (at == state.notBefore)
            return;
        state.notBefore = at;
        ledger.armTimer(target); // the earlier timer no longer counts
        ledger.recordTarget(target);
    };
    retime(AttemptTarget::step(run, i));
    if (!run.step(i).foreach)
        return;
    std::vector<int> waiting;
    for (const auto &[pos, item] : run.step(i).foreach->active) {
        if (item.state == StepState::Retrying)
            waiting.push_back(pos);
    }
    for (int pos : waiting) {
        if (const auto target = AttemptTarget::item(run, i, pos))
            retime(*target);
    }
}

void Engine::Impl::resetStep(LiveRun &run, int i, bool freshBudget) {
    LiveStep &step = run.step(i);
    if (!ledger.transition(run, i, StepEvent::Reset))
        return;
    if (freshBudget)
        step.failures = 0;
    clearOutcome(step);
    ledger.recordStep(run, i);
    ledger.addCandidate(run, i);
    ledger.unblockDownstream(run, i);
}

Result<RunSnapshot> Engine::Impl::snapshotOf(const LiveRun &run, const QString &stepId) {
    RunSnapshot snapshot;
    snapshot.flow = run.plan->flow.get();
    snapshot.state = run.state;
    snapshot.paused = run.paused;
    for (const LiveStep &step : run.steps)
        snapshot.steps.append(StepSnapshot{step.state, 0, 0, step.policyOverride});
    const qsizetype i = run.plan->flow->indexOfStep(stepId);
    if (i >= 0 && !run.def(static_cast<int>(i)).foreach.isUndefined()) {
        // Finished items live in the items table only.
        auto items = store.items(run.id);
        if (!items)
            return items.status();
        snapshot.countItems(*items);
    }
    return snapshot;
}

Status Engine::Impl::applyPlan(LiveRun &run, const OperatorAction &action, const ActionPlan &plan,
                               qint64 now) {
    using Change = StepChange::Kind;
    for (const StepChange &change : plan.changes) {
        const int i = change.step;
        LiveStep &step = run.step(i);
        switch (change.kind) {
        case Change::RetryNow:
            step.notBefore = now; // instead of after the backoff
            ledger.recordStep(run, i);
            ledger.addCandidate(run, i);
            break;
        case Change::Rerun:
            resetStep(run, i, change.freshBudget);
            break;
        case Change::ReopenItems: {
            auto reopened = reopenItems(run, i, change.reopenFailedItems, change.uncertainItemsTo,
                                        change.output);
            if (!reopened)
                return reopened.status();
            break;
        }
        case Change::Settle:
            ledger.transition(run, i, change.settleAs);
            step.output = change.output;
            step.endedAt = now;
            step.viaFallback = false;
            step.foreach.reset();
            ledger.recordStep(run, i);
            finalized(run, i, now);
            ledger.unblockDownstream(run, i);
            break;
        case Change::Reject:
            ledger.transition(run, i, StepEvent::FailedForGood);
            step.endedAt = now;
            step.errorClass = ErrorClass::Permanent;
            step.error = change.error;
            ledger.recordStep(run, i);
            finalized(run, i, now);
            break;
        case Change::NewGeneration:
            startNewGeneration(run, i);
            break;
        case Change::Hold:
            ledger.transition(run, i, StepEvent::Held);
            step.inQueue = false;
            ++step.timerStamp; // its timer no longer applies
            ledger.recordStep(run, i);
            break;
        case Change::Release:
            ledger.transition(run, i, StepEvent::Reset);
            step.notBefore = 0;
            ledger.recordStep(run, i);
            ledger.addCandidate(run, i);
            break;
        case Change::ReplaceInput:
            step.inputOverride = action.input;
            ledger.recordStep(run, i);
            break;
        case Change::Cancel:
            cancelStep(run, i, action.actor, now);
            break;
        case Change::SetPolicy: {
            // From the next attempt on; a waiting retry is due by the new intervals.
            const StepPolicy before = run.policy(i);
            run.setPolicyOverride(i, change.policy);
            retimeRetries(run, i, before, run.policy(i), now);
            ledger.recordStep(run, i);
            break;
        }
        }
    }
    if (plan.runChange == ActionPlan::RunChange::Pause) {
        run.paused = true;
    } else if (plan.runChange == ActionPlan::RunChange::Unpause) {
        run.paused = false;
        run.adoptions = 0; // the operator looked: the adoption limit counts afresh
        for (int s = 0; s < static_cast<int>(run.steps.size()); ++s)
            ledger.addCandidate(run, s);
    }
    return Status::ok();
}

void Engine::Impl::startNewGeneration(LiveRun &run, int s) {
    // The operator asks for the effects again: a new generation, so new keys.
    LiveStep &target = run.step(s);
    beginGeneration(target);
    if (target.state != StepState::Pending)
        ledger.transition(run, s, StepEvent::Reset);
    clearOutcome(target);
    ledger.recordStep(run, s);
    ledger.clearItems(run, s);
    ledger.addCandidate(run, s);
    // A fallback that stood in for it (or failed to) stands by again, as a step that has not
    // run: should it be needed, it gets its whole budget.
    const int f = run.plan->fallbackStep[s];
    if (f >= 0 && run.step(f).state != StepState::Pending &&
        run.step(f).state != StepState::Running) {
        ledger.transition(run, f, StepEvent::Reset);
        beginGeneration(run.step(f));
        clearOutcome(run.step(f));
        ledger.recordStep(run, f);
        ledger.clearItems(run, f);
    }
}

void Engine::Impl::cancelStep(LiveRun &run, int s, const QString &actor, qint64 now) {
    LiveStep &target = run.step(s);
    const bool wasRunning = target.state == StepState::Running;
    abandonExecutions(run, s, now);
    target.foreach.reset();
    ledger.transition(run, s, StepEvent::Cancel);
    target.endedAt = now;
    ledger.recordStep(run, s);
    if (!wasRunning || target.attempts == 0)
        return;
    AttemptRow attempt;
    attempt.runId = run.id;
    attempt.stepId = run.def(s).id;
    attempt.number = target.attempts;
    attempt.generation = target.generation;
    attempt.idempotencyKey = RunLedger::idempotencyKey(run, s);
    attempt.startedAt = target.attemptStartedAt > 0 ? target.attemptStartedAt : now;
    attempt.endedAt = now;
    attempt.outcome = AttemptOutcome::FailedPermanent;
    attempt.errorClass = ErrorClass::Permanent;
    attempt.error = QStringLiteral("cancelled by %1").arg(actor);
    ledger.recordAttempt(attempt);
}

Result<QString> Engine::Impl::act(const OperatorAction &request, bool executing, qint64 requestId) {
    auto applied = applyAction(request, requestId);
    if (!applied)
        return applied.status();
    if (Status s = commit(); !s)
        return s;
    if (request.kind == OperatorAction::Kind::Upgrade) {
        if (Status s = reloadUpgraded(request.runId); !s)
            return s;
    }
    settleAfterAction(request.runId, applied->stateBefore, executing);
    return applied->message;
}

Result<Engine::Impl::AppliedAction> Engine::Impl::applyAction(const OperatorAction &request,
                                                              qint64 requestId) {
    OperatorAction action = request;
    if (action.actor.isEmpty())
        action.actor = currentUserName();
    LiveRun *run = findRun(action.runId);
    const qint64 now = clockRef.nowMs();
    if (!run)
        return Status::error(QStringLiteral("run %1 is not loaded").arg(action.runId));
    const RunState before = run->state;
    // By id: an upgrade moves, adds and removes steps.
    QHash<QString, StepState> statesBefore;
    QHash<QString, int> attemptsBefore;
    QHash<QString, int> failuresBefore;
    for (int s = 0; s < static_cast<int>(run->steps.size()); ++s) {
        statesBefore.insert(run->def(s).id, run->step(s).state);
        attemptsBefore.insert(run->def(s).id, run->step(s).attempts);
        failuresBefore.insert(run->def(s).id, run->step(s).failures);
    }
    QString done;
    QJsonObject detail{{QStringLiteral("action"), actionName(action.kind)}};
    if (action.kind == OperatorAction::Kind::Upgrade) {
        auto upgraded = applyUpgrade(*run, action);
        if (!upgraded)
            return upgraded.status(); // refused: nothing was changed
        done = upgraded->message;
        for (auto it = upgraded->detail.begin(); it != upgraded->detail.end(); ++it)
            detail.insert(it.key(), it.value());
    } else {
        auto snapshot = snapshotOf(*run, action.stepId);
        if (!snapshot)
            return snapshot.status();
        auto plan = planAction(*snapshot, action);
        if (!plan)
            return plan.status(); // refused: nothing was changed
        done = plan->message;
        if (action.kind == OperatorAction::Kind::SetPolicy && !plan->changes.isEmpty()) {
            // What it means for the step as it stands, before the change moves its timer.
            const int stepIndex = static_cast<int>(run->plan->flow->indexOfStep(action.stepId));
            const StepPolicy was = run->policy(stepIndex);
            const StepPolicy will = PolicyOverride::fromJson(plan->changes.first().policy)
                                        ->appliedTo(run->flowPolicy(stepIndex));
            const PolicyPreview preview = previewPolicyChange(
                was, will, progressOf(AttemptTarget::step(*run, stepIndex)), now);
            done = QStringLiteral("step %1: %2").arg(action.stepId, preview.text());
            detail.insert(QStringLiteral("before"), was.toJson());
            detail.insert(QStringLiteral("after"), will.toJson());
            detail.insert(QStringLiteral("changed"), plan->changes.first().policy);
        }
        if (Status s = applyPlan(*run, action, *plan, now); !s)
            return s;
    }
    // The event says which steps it moved, so that the history replays to the same states.
    QJsonObject moved;
    for (int s = 0; s < static_cast<int>(run->steps.size()); ++s) {
        const auto was = statesBefore.constFind(run->def(s).id);
        if (was == statesBefore.cend() || run->step(s).state != *was)
            moved.insert(run->def(s).id, stateName(run->step(s).state));
    }
    detail.insert(QStringLiteral("result"), done);
    detail.insert(QStringLiteral("steps"), moved);
    // And whose counts it changed: a new generation starts from no attempts, a retry from a
    // fresh budget (the attempt budget shown is derived from the failures).
    const auto changedCounts = [&run](const QHash<QString, int> &counted, int LiveStep::*count) {
        QJsonObject changed;
        for (int s = 0; s < static_cast<int>(run->steps.size()); ++s) {
            const auto was = counted.constFind(run->def(s).id);
            if (was == counted.cend() || run->step(s).*count != *was)
                changed.insert(run->def(s).id, run->step(s).*count);
        }
        return changed;
    };
    if (const QJsonObject attempts = changedCounts(attemptsBefore, &LiveStep::attempts);
        !attempts.isEmpty())
        detail.insert(QStringLiteral("attempts"), attempts);
    if (const QJsonObject failures = changedCounts(failuresBefore, &LiveStep::failures);
        !failures.isEmpty())
        detail.insert(QStringLiteral("failures"), failures);
    if (!action.reason.isEmpty())
        detail.insert(QStringLiteral("reason"), action.reason);
    if (!action.output.isUndefined())
        detail.insert(QStringLiteral("output"), action.output);
    if (action.kind == OperatorAction::Kind::SetInput)
        detail.insert(QStringLiteral("input"), action.input);
    const int stepIndex = action.stepId.isEmpty()
                              ? -1
                              : static_cast<int>(run->plan->flow->indexOfStep(action.stepId));
    ledger.event(*run, stepIndex, operatorEventType(action.kind), detail, now).actor = action.actor;
    // An action on a finished run makes it run again.
    if (isFinal(run->state) && action.kind != OperatorAction::Kind::CancelRun) {
        run->state = RunState::Running;
        run->endedAt = 0;
    }
    RunState next = deriveRunState(run->counts);
    // The counts cannot tell a pending step behind the waiting one from one the action has just
    // freed (a skip that unblocks another branch while an approval still waits): the latter
    // makes the run run, so that it keeps its lease or a worker adopts it.
    // The same for a run that only a held step pauses (not an operator's pause of the run).
    if ((next == RunState::WaitingForOperator || (next == RunState::Paused && !run->paused)) &&
        hasStepReadyToStart(*run))
        next = RunState::Running;
    if (run->paused && next == RunState::Running)
        next = hasWorkInFlight(*run) ? RunState::Running : RunState::Paused;
    if (next != run->state || before != next || action.kind == OperatorAction::Kind::PauseRun ||
        action.kind == OperatorAction::Kind::UnpauseRun) {
        run->state = next;
        run->endedAt = isFinal(next) ? now : 0;
        ledger.event(*run, -1, isFinal(next) ? EventType::RunFinished : EventType::RunStateChanged,
                     {{QStringLiteral("state"), stateName(next)}}, now);
    }
    ledger.recordRun(*run);
    if (run->state != RunState::Running)
        ledger.releaseLease(*run); // nothing to execute now
    if (requestId != 0) {
        RequestRow answer;
        answer.id = requestId;
        answer.runId = run->id;
        answer.state = QStringLiteral("done");
        answer.result = done;
        answer.answeredAt = now;
        ledger.recordAnswer(answer);
    }
    return AppliedAction{done, before};
}

void Engine::Impl::settleAfterAction(const QString &runId, RunState before, bool executing) {
    LiveRun *run = findRun(runId);
    if (!run)
        return; // another worker took it over as it was committed
    if (isFinal(run->state) && !run->parentRun.isEmpty())
        notifyParent(*run, run->state);
    if (executing) {
        const RunState state = run->state;
        if (state != RunState::Running && state != before) {
            // The action itself settled the run (cancel, pause, ...): announce it the way
            // pump() does, so that whoever waits for the run learns it.
            if (isFinal(state) || state == RunState::WaitingForOperator ||
                state == RunState::Paused)
                unload(runId);
            Q_EMIT q->runSettled(runId, state);
        } else {
            ledger.markDirty(*run);
            schedulePump();
        }
    }
}

} // namespace keepflow
