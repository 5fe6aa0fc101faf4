#include "runtime/engineimpl.h"

// Operator actions on a loaded run: each is applied in one transaction with its event, or
// refused with the reason, changing nothing.

#include "store/store.h"

namespace keepflow {

/// Every step reachable from i through `after`, i first.
std::vector<int> Engine::Impl::stepAndDownstream(const LiveRun &run, int i) const {
    std::vector<int> order{i};
    std::vector<bool> seen(run.steps.size(), false);
    seen[static_cast<size_t>(i)] = true;
    for (size_t k = 0; k < order.size(); ++k) {
        for (int d : run.plan->downstream[order[k]]) {
            if (!seen[static_cast<size_t>(d)]) {
                seen[static_cast<size_t>(d)] = true;
                order.push_back(d);
            }
        }
    }
    return order;
}

/// Puts a finished step back to pending so that it runs again (same generation: same key).
void Engine::Impl::resetStep(LiveRun &run, int i, bool freshBudget) {
    LiveStep &step = run.step(i);
    if (!ledger.transition(run, i, StepEvent::Reset))
        return;
    if (freshBudget)
        step.failures = 0;
    step.endedAt = 0;
    step.notBefore = 0;
    step.viaFallback = false;
    step.fallbackActive = false;
    step.output = QJsonValue(QJsonValue::Undefined);
    ledger.recordStep(run, i);
    ledger.addCandidate(run, i);
    ledger.unblockDownstream(run, i);
}

/// Applies action to the loaded run; on refusal nothing has been changed.
Result<QString> Engine::Impl::applyAction(LiveRun &run, const OperatorAction &action, qint64 now) {
    using K = OperatorAction::Kind;
    const Flow &flow = *run.plan->flow;
    const bool stepLevel =
        action.kind != K::PauseRun && action.kind != K::UnpauseRun && action.kind != K::CancelRun;
    int i = -1;
    if (stepLevel) {
        i = static_cast<int>(flow.indexOfStep(action.stepId));
        if (i < 0)
            return Status::error(
                QStringLiteral("run %1 has no step \"%2\"").arg(run.id, action.stepId));
    }
    LiveStep *step = i >= 0 ? &run.step(i) : nullptr;
    const QString name = i >= 0 ? flow.steps[i].id : QString();
    const QString state = step ? stateName(step->state) : QString();
    const bool isForeach = i >= 0 && !flow.steps[i].foreach.isUndefined();

    switch (action.kind) {
    case K::Retry:
    case K::RetryFailedItems: {
        if (action.kind == K::RetryFailedItems && !isForeach)
            return Status::error(
                QStringLiteral("step %1 has no foreach: there are no items to retry").arg(name));
        if (step->state == StepState::Retrying && action.kind == K::Retry) {
            step->notBefore = now; // retry now instead of after the backoff
            ledger.recordStep(run, i);
            ledger.addCandidate(run, i);
            return QStringLiteral("step %1 retries now").arg(name);
        }
        if (step->state == StepState::Uncertain)
            return Status::error(
                QStringLiteral("step %1 has an uncertain outcome: resolve it with --happened or "
                               "--not-happened")
                    .arg(name));
        if (step->state == StepState::WaitingForOperator)
            return Status::error(
                QStringLiteral("step %1 waits for approval: approve or reject it").arg(name));
        const bool failedState =
            step->state == StepState::Failed || step->state == StepState::Blocked ||
            step->state == StepState::Cancelled || step->state == StepState::PartiallySucceeded;
        if (!failedState)
            return Status::error(QStringLiteral("step %1 is %2: there is nothing to retry%3")
                                     .arg(name, state,
                                          step->state == StepState::Succeeded ||
                                                  step->state == StepState::Skipped ||
                                                  step->state == StepState::SucceededViaFallback
                                              ? QStringLiteral(" (rerun-from runs it again)")
                                              : QString()));
        if (isForeach &&
            (step->state == StepState::PartiallySucceeded || step->state == StepState::Failed)) {
            auto reopened = reopenItems(run, i, true, std::nullopt, {});
            if (!reopened)
                return reopened.status();
            if (*reopened > 0)
                return QStringLiteral(
                           "step %1: %2 failed item(s) run again; succeeded items are kept")
                    .arg(name)
                    .arg(*reopened);
            if (action.kind == K::RetryFailedItems)
                return Status::error(QStringLiteral("step %1 has no failed items").arg(name));
        }
        resetStep(run, i, true);
        return QStringLiteral("step %1 runs again with a fresh budget of %2 attempts")
            .arg(name)
            .arg(run.plan->retry[i].maxAttempts);
    }
    case K::Skip:
    case K::MarkSucceeded:
    case K::ResolveHappened:
    case K::Approve: {
        if (action.kind == K::ResolveHappened && step->state != StepState::Uncertain)
            return Status::error(
                QStringLiteral("step %1 is %2, not uncertain: there is nothing to resolve")
                    .arg(name, state));
        if (action.kind == K::Approve && (step->state != StepState::WaitingForOperator ||
                                          flow.steps[i].kind != QLatin1String("approval")))
            return Status::error(QStringLiteral("step %1 is %2%3: there is nothing to approve")
                                     .arg(name, state,
                                          flow.steps[i].kind != QLatin1String("approval")
                                              ? QStringLiteral(", not an approval")
                                              : QString()));
        if (action.kind == K::ResolveHappened && isForeach) {
            auto reopened = reopenItems(run, i, false, StepEvent::OperatorSucceeded, action.output);
            if (!reopened)
                return reopened.status();
            return QStringLiteral("step %1: %2 uncertain item(s) recorded as done")
                .arg(name)
                .arg(*reopened);
        }
        const StepEvent stepEvent =
            action.kind == K::Skip ? StepEvent::OperatorSkipped : StepEvent::OperatorSucceeded;
        if (!nextStepState(step->state, stepEvent))
            return Status::error(QStringLiteral("step %1 is %2: it cannot be %3")
                                     .arg(name, state,
                                          action.kind == K::Skip
                                              ? QStringLiteral("skipped")
                                              : QStringLiteral("marked succeeded")));
        ledger.transition(run, i, stepEvent);
        QJsonValue output = action.output;
        if (action.kind == K::Approve)
            output = QJsonObject{{QStringLiteral("approved_by"), action.actor},
                                 {QStringLiteral("comment"), action.reason}};
        step->output = output.isUndefined() ? QJsonValue(QJsonObject()) : output;
        step->endedAt = now;
        step->viaFallback = false;
        step->foreach.reset();
        ledger.recordStep(run, i);
        finalized(run, i, now);
        ledger.unblockDownstream(run, i);
        return QStringLiteral("step %1 is %2").arg(name, stateName(step->state));
    }
    case K::Reject: {
        if (step->state != StepState::WaitingForOperator ||
            flow.steps[i].kind != QLatin1String("approval"))
            return Status::error(
                QStringLiteral("step %1 is %2: there is nothing to reject").arg(name, state));
        ledger.transition(run, i, StepEvent::FailedForGood);
        step->endedAt = now;
        step->errorClass = ErrorClass::Permanent;
        step->error =
            QStringLiteral("rejected by %1%2")
                .arg(action.actor,
                     action.reason.isEmpty() ? QString() : QStringLiteral(": ") + action.reason);
        ledger.recordStep(run, i);
        finalized(run, i, now);
        return QStringLiteral("step %1 is rejected").arg(name);
    }
    case K::ResolveNotHappened: {
        if (step->state != StepState::Uncertain)
            return Status::error(
                QStringLiteral("step %1 is %2, not uncertain: there is nothing to resolve")
                    .arg(name, state));
        if (isForeach) {
            auto reopened = reopenItems(run, i, false, StepEvent::Reopen, {});
            if (!reopened)
                return reopened.status();
            return QStringLiteral("step %1: %2 uncertain item(s) run again with the same keys")
                .arg(name)
                .arg(*reopened);
        }
        resetStep(run, i, false);
        return QStringLiteral("step %1 runs again with the same idempotency key").arg(name);
    }
    case K::SetInput: {
        if (step->state == StepState::Running)
            return Status::error(
                QStringLiteral("step %1 is running: its input can change once the attempt ends")
                    .arg(name));
        if (step->state == StepState::Succeeded || step->state == StepState::SucceededViaFallback ||
            step->state == StepState::Skipped)
            return Status::error(
                QStringLiteral("step %1 is %2: use rerun-from to run it again").arg(name, state));
        step->inputOverride = action.input;
        if (step->state == StepState::Pending || step->state == StepState::Queued ||
            step->state == StepState::Scheduled || step->state == StepState::Paused) {
            ledger.recordStep(run, i);
            return QStringLiteral("step %1 will use the new input").arg(name);
        }
        if (step->state == StepState::Retrying) {
            step->notBefore = now;
            ledger.recordStep(run, i);
            ledger.addCandidate(run, i);
            return QStringLiteral("step %1 retries now with the new input").arg(name);
        }
        resetStep(run, i, true);
        return QStringLiteral("step %1 runs again with the new input").arg(name);
    }
    case K::RerunFrom: {
        const std::vector<int> steps = stepAndDownstream(run, i);
        for (int s : steps) {
            const StepState st = run.step(s).state;
            if (st == StepState::Running)
                return Status::error(
                    QStringLiteral("step %1 is running: rerun-from waits until nothing in it runs")
                        .arg(flow.steps[s].id));
        }
        QStringList names;
        for (int s : steps) {
            LiveStep &target = run.step(s);
            // The operator asks for the effects again: a new generation, so new keys.
            ++target.generation;
            target.attempts = 0;
            target.failures = 0;
            target.startedAt = 0;
            target.error.clear();
            target.errorClass.reset();
            target.foreach.reset();
            if (target.state != StepState::Pending)
                ledger.transition(run, s, StepEvent::Reset);
            target.endedAt = 0;
            target.notBefore = 0;
            target.viaFallback = false;
            target.fallbackActive = false;
            target.output = QJsonValue(QJsonValue::Undefined);
            ledger.recordStep(run, s);
            ledger.clearItems(run, s);
            ledger.addCandidate(run, s);
            names << flow.steps[s].id;
            const int f = run.plan->fallbackStep[s];
            if (f >= 0 && run.step(f).state != StepState::Pending &&
                run.step(f).state != StepState::Running) {
                ledger.transition(run, f, StepEvent::Reset);
                ++run.step(f).generation;
                run.step(f).output = QJsonValue(QJsonValue::Undefined);
                ledger.recordStep(run, f);
            }
        }
        return QStringLiteral("rerun from %1: %2 run again with new idempotency keys")
            .arg(name, names.join(QStringLiteral(", ")));
    }
    case K::PauseStep: {
        if (!nextStepState(step->state, StepEvent::Held))
            return Status::error(
                QStringLiteral(
                    "step %1 is %2: only a step that has not started (or waits to retry) "
                    "can be held")
                    .arg(name, state));
        ledger.transition(run, i, StepEvent::Held);
        step->inQueue = false;
        ++step->timerStamp; // its timer no longer applies
        ledger.recordStep(run, i);
        return QStringLiteral("step %1 is held: it does not start until unpaused").arg(name);
    }
    case K::UnpauseStep: {
        if (step->state != StepState::Paused)
            return Status::error(QStringLiteral("step %1 is %2, not paused").arg(name, state));
        ledger.transition(run, i, StepEvent::Reset);
        step->notBefore = 0;
        ledger.recordStep(run, i);
        ledger.addCandidate(run, i);
        return QStringLiteral("step %1 is released").arg(name);
    }
    case K::PauseRun: {
        if (isFinal(run.state))
            return Status::error(QStringLiteral("run %1 is %2: there is nothing to pause")
                                     .arg(run.id, stateName(run.state)));
        if (run.paused)
            return Status::error(QStringLiteral("run %1 is already paused").arg(run.id));
        run.paused = true;
        return QStringLiteral("run %1 is paused: running attempts finish, nothing new starts")
            .arg(run.id);
    }
    case K::UnpauseRun: {
        if (!run.paused)
            return Status::error(QStringLiteral("run %1 is not paused").arg(run.id));
        run.paused = false;
        for (int s = 0; s < static_cast<int>(run.steps.size()); ++s)
            ledger.addCandidate(run, s);
        return QStringLiteral("run %1 goes on").arg(run.id);
    }
    case K::CancelRun: {
        if (isFinal(run.state))
            return Status::error(
                QStringLiteral("run %1 is already %2").arg(run.id, stateName(run.state)));
        for (int s = 0; s < static_cast<int>(run.steps.size()); ++s) {
            LiveStep &target = run.step(s);
            if (isFinal(target.state))
                continue;
            const bool wasRunning = target.state == StepState::Running;
            cancelExecutions(target);
            releaseSlot(AttemptTarget::step(run, s), std::nullopt, now);
            target.foreach.reset();
            ledger.transition(run, s, StepEvent::Cancel);
            target.endedAt = now;
            ledger.recordStep(run, s);
            if (wasRunning && target.attempts > 0) {
                AttemptRow attempt;
                attempt.runId = run.id;
                attempt.stepId = flow.steps[s].id;
                attempt.number = target.attempts;
                attempt.generation = target.generation;
                attempt.idempotencyKey = RunLedger::idempotencyKey(run, s);
                attempt.startedAt = target.attemptStartedAt > 0 ? target.attemptStartedAt : now;
                attempt.endedAt = now;
                attempt.outcome = AttemptOutcome::FailedPermanent;
                attempt.errorClass = ErrorClass::Permanent;
                attempt.error = QStringLiteral("cancelled by %1").arg(action.actor);
                ledger.recordAttempt(attempt);
            }
        }
        return QStringLiteral("run %1 is cancelled").arg(run.id);
    }
    }
    return Status::error(QStringLiteral("unknown action"));
}

Result<QString> Engine::Impl::act(const OperatorAction &request, bool executing, qint64 requestId) {
    OperatorAction action = request;
    if (action.actor.isEmpty())
        action.actor = currentUserName();
    LiveRun *run = findRun(action.runId);
    const qint64 now = clockRef.nowMs();
    if (!run)
        return Status::error(QStringLiteral("run %1 is not loaded").arg(action.runId));
    const RunState before = run->state;
    std::vector<StepState> statesBefore;
    for (const LiveStep &step : run->steps)
        statesBefore.push_back(step.state);
    auto done = applyAction(*run, action, now);
    if (!done)
        return done.status(); // refused before anything was changed
    // The event says which steps it moved, so that the history replays to the same states.
    QJsonObject moved;
    for (size_t s = 0; s < run->steps.size(); ++s) {
        if (run->steps[s].state != statesBefore[s])
            moved.insert(run->def(static_cast<qsizetype>(s)).id, stateName(run->steps[s].state));
    }
    QJsonObject detail{{QStringLiteral("action"), actionName(action.kind)},
                       {QStringLiteral("result"), *done},
                       {QStringLiteral("steps"), moved}};
    if (!action.reason.isEmpty())
        detail.insert(QStringLiteral("reason"), action.reason);
    if (!action.output.isUndefined())
        detail.insert(QStringLiteral("output"), action.output);
    if (action.kind == OperatorAction::Kind::SetInput)
        detail.insert(QStringLiteral("input"), action.input);
    const int stepIndex = action.stepId.isEmpty()
                              ? -1
                              : static_cast<int>(run->plan->flow->indexOfStep(action.stepId));
    // The operator event kinds follow the action kinds, in the same order.
    const auto type = static_cast<EventType>(static_cast<int>(EventType::OperatorRetry) +
                                             static_cast<int>(action.kind));
    ledger.event(*run, stepIndex, type, detail, now).actor = action.actor;
    // An action on a finished run makes it run again.
    if (isFinal(run->state) && action.kind != OperatorAction::Kind::CancelRun) {
        run->state = RunState::Running;
        run->endedAt = 0;
    }
    RunState next = deriveRunState(run->counts);
    if (run->paused && next == RunState::Running)
        next = run->counts[static_cast<int>(StepState::Running)] > 0 ? RunState::Running
                                                                     : RunState::Paused;
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
        answer.state = QStringLiteral("done");
        answer.result = *done;
        answer.answeredAt = now;
        ledger.recordAnswer(answer);
    }
    if (Status s = commit(); !s)
        return s;
    if (isFinal(run->state) && !run->parentRun.isEmpty())
        notifyParent(*run, run->state);
    if (executing) {
        const RunState state = run->state;
        const QString runId = run->id;
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
    return *done;
}

} // namespace keepflow
