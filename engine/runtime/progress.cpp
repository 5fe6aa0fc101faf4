#include "runtime/engineimpl.h"
#include "runtime/stall.h"

// A step's way through its states outside its attempts: waiting for its upstreams (the join
// rule), delays, approval, failing for good (fallbacks), finishing (waking downstream), and the
// run's state that follows from its steps.

namespace keepflow {

Engine::Impl::JoinDecision Engine::Impl::evaluateJoin(const LiveRun &run, int i,
                                                      QString &blockedBy) const {
    const QList<int> &ups = run.plan->upstream[i];
    if (ups.isEmpty())
        return JoinDecision::Ready;
    int done = 0;
    int succeeded = 0;
    int failed = 0;
    for (int u : ups) {
        const StepState s = run.step(u).state;
        if (!isFinal(s))
            continue;
        ++done;
        if (countsAsSuccess(s)) {
            ++succeeded;
        } else {
            ++failed;
            if (blockedBy.isEmpty())
                blockedBy = run.def(u).id;
        }
    }
    const int total = static_cast<int>(ups.size());
    switch (run.def(i).effectiveJoin()) {
    case JoinRule::AllSucceeded:
    case JoinRule::NoneFailed:
        if (failed > 0)
            return JoinDecision::Blocked;
        return done == total ? JoinDecision::Ready : JoinDecision::Wait;
    case JoinRule::AllDone:
        return done == total ? JoinDecision::Ready : JoinDecision::Wait;
    case JoinRule::AnySucceeded:
        if (succeeded > 0)
            return JoinDecision::Ready;
        return done == total ? JoinDecision::Blocked : JoinDecision::Wait;
    }
    return JoinDecision::Wait;
}

bool Engine::Impl::hasStepReadyToStart(const LiveRun &run) const {
    for (int i = 0; i < static_cast<int>(run.steps.size()); ++i) {
        if (run.step(i).state != StepState::Pending || run.plan->primaryOf[i] >= 0)
            continue;
        QString blockedBy;
        if (evaluateJoin(run, i, blockedBy) == JoinDecision::Ready)
            return true;
    }
    return false;
}

void Engine::Impl::advance(LiveRun &run, qint64 now) {
    // run.dirty stays true until the end: candidates added meanwhile join this same pass.
    // Candidates may add more candidates (a blocked step blocks its downstream at once).
    for (size_t k = 0; k < run.candidates.size(); ++k) {
        const int i = run.candidates[k];
        LiveStep &step = run.step(i);
        step.candidate = false;
        switch (step.state) {
        case StepState::Pending: {
            if (const int primary = run.plan->primaryOf[i]; primary >= 0) {
                // A fallback step starts only when its primary fails for good. One that was
                // held while its primary finished is not needed any more once released; one
                // held while its primary failed for good runs in its stead once released.
                if (isFinal(run.step(primary).state))
                    skipUnneededFallback(run, primary, now);
                else if (run.step(primary).fallbackActive)
                    makeReady(run, i, now);
                break;
            }
            QString blockedBy;
            const JoinDecision decision = evaluateJoin(run, i, blockedBy);
            if (decision == JoinDecision::Ready) {
                makeReady(run, i, now);
            } else if (decision == JoinDecision::Blocked) {
                ledger.transition(run, i, StepEvent::UpstreamFailed);
                step.endedAt = now;
                step.error = QStringLiteral("upstream step %1 did not succeed").arg(blockedBy);
                ledger.recordStep(run, i);
                ledger.event(run, i, EventType::StepBlocked,
                             {{QStringLiteral("upstream"), blockedBy}}, now);
                finalized(run, i, now);
            }
            break;
        }
        case StepState::Queued:
            // Its timer is only a reminder; whenever it is woken, admission decides.
            tryStart(AttemptTarget::step(run, i), now);
            break;
        case StepState::Running:
            // A foreach step running its fallback has no items of its own left to schedule.
            if (step.foreach && !step.fallbackActive)
                scheduleItems(run, i, now);
            break;
        case StepState::Scheduled:
        case StepState::Retrying:
            if (step.notBefore <= now)
                tryStart(AttemptTarget::step(run, i), now);
            else
                ledger.armTimer(AttemptTarget::step(run, i));
            break;
        default:
            break;
        }
    }
    run.candidates.clear();
    run.dirty = false;
    updateRunState(run, now);
}

void Engine::Impl::makeReady(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    const qint64 at = std::max(now + run.plan->initialDelay[i], run.plan->notBeforeAt[i]);
    if (at > now) {
        ledger.transition(run, i, StepEvent::Delayed);
        step.notBefore = at;
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepScheduled, {{QStringLiteral("until"), at}}, now);
        ledger.armTimer(AttemptTarget::step(run, i));
        return;
    }
    tryStart(AttemptTarget::step(run, i), now);
}

void Engine::Impl::failForGood(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    const Step &def = run.def(i);
    if (def.fallback.kind == Fallback::Kind::Value) {
        ledger.transition(run, i, StepEvent::FallbackUsed);
        step.output = def.fallback.value;
        step.viaFallback = true;
        step.endedAt = now;
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepSucceededViaFallback,
                     {{QStringLiteral("fallback"), QStringLiteral("value")},
                      {QStringLiteral("error"), step.error},
                      {QStringLiteral("failures"), step.failures}},
                     now);
        finalized(run, i, now);
        return;
    }
    const int f = run.plan->fallbackStep[i];
    if (f >= 0 && run.step(f).state == StepState::Pending) {
        if (step.state != StepState::Running)
            ledger.transition(run, i, StepEvent::AttemptStarted); // it is "running" its fallback
        step.fallbackActive = true;
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepFallingBack,
                     {{QStringLiteral("fallback"), run.def(f).id},
                      {QStringLiteral("error"), step.error},
                      {QStringLiteral("failures"), step.failures}},
                     now);
        makeReady(run, f, now);
        ledger.markDirty(run);
        return;
    }
    ledger.transition(run, i, StepEvent::FailedForGood);
    step.endedAt = now;
    ledger.recordStep(run, i);
    ledger.event(run, i, EventType::StepFailed,
                 {{QStringLiteral("attempts"), step.attempts},
                  {QStringLiteral("error_class"), errorClassName(step.errorClass)},
                  {QStringLiteral("error"), step.error},
                  {QStringLiteral("failures"), step.failures}},
                 now);
    finalized(run, i, now);
}

void Engine::Impl::finalized(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    for (int down : run.plan->downstream[i])
        ledger.addCandidate(run, down);
    skipUnneededFallback(run, i, now);
    const int p = run.plan->primaryOf[i];
    if (p >= 0 && run.step(p).fallbackActive) {
        LiveStep &primary = run.step(p);
        primary.fallbackActive = false;
        primary.endedAt = now;
        if (step.state == StepState::Succeeded || step.state == StepState::SucceededViaFallback) {
            ledger.transition(run, p, StepEvent::FallbackUsed);
            primary.output = step.output;
            primary.viaFallback = true;
            ledger.recordStep(run, p);
            ledger.event(run, p, EventType::StepSucceededViaFallback,
                         {{QStringLiteral("fallback"), run.def(i).id},
                          {QStringLiteral("error"), primary.error},
                          {QStringLiteral("failures"), primary.failures}},
                         now);
        } else {
            ledger.transition(run, p, StepEvent::FailedForGood);
            primary.error = QStringLiteral("%1; its fallback %2 did not succeed either: %3")
                                .arg(primary.error, run.def(i).id, step.error);
            ledger.recordStep(run, p);
            ledger.event(run, p, EventType::StepFailed,
                         {{QStringLiteral("attempts"), primary.attempts},
                          {QStringLiteral("error_class"), errorClassName(primary.errorClass)},
                          {QStringLiteral("error"), primary.error},
                          {QStringLiteral("failures"), primary.failures}},
                         now);
        }
        finalized(run, p, now);
    }
    ledger.markDirty(run);
}

void Engine::Impl::settleStalled(LiveRun &run, qint64 now) {
    QList<int> stuck;
    for (int i = 0; i < static_cast<int>(run.steps.size()); ++i) {
        if (run.step(i).state == StepState::Pending)
            stuck.append(i);
    }
    const QString reason = stallReason(run, stuck.front());
    QJsonArray ids;
    for (int i : stuck)
        ids.append(run.def(i).id);
    ledger.event(run, -1, EventType::RunStalled,
                 {{QStringLiteral("reason"), reason}, {QStringLiteral("steps"), ids}}, now);
    for (int i : stuck) {
        LiveStep &step = run.step(i);
        ledger.transition(run, i, StepEvent::UpstreamFailed);
        step.endedAt = now;
        step.error = QStringLiteral("could never start: %1").arg(reason);
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepBlocked, {{QStringLiteral("reason"), step.error}}, now);
    }
}

/// The pending fallback of a step that finished without it is skipped, as not needed.
void Engine::Impl::skipUnneededFallback(LiveRun &run, int primary, qint64 now) {
    const int f = run.plan->fallbackStep[primary];
    if (f < 0 || run.step(f).state != StepState::Pending)
        return;
    ledger.transition(run, f, StepEvent::NotNeeded);
    run.step(f).endedAt = now;
    ledger.recordStep(run, f);
    ledger.event(run, f, EventType::StepSkipped,
                 {{QStringLiteral("reason"),
                   QStringLiteral("fallback of %1, not needed").arg(run.def(primary).id)}},
                 now);
    finalized(run, f, now);
}

void Engine::Impl::updateRunState(LiveRun &run, qint64 now) {
    if (isFinal(run.state))
        return;
    // A draining engine starts nothing, so a step that is ready to start would look stuck: the
    // run is left as it is, for the next engine that adopts it to go on with.
    if (!draining && isStalled(run))
        settleStalled(run, now);
    RunState next = deriveRunState(run.counts);
    if (run.paused && next == RunState::Running)
        next = hasWorkInFlight(run) ? RunState::Running : RunState::Paused;
    if (next == run.state)
        return;
    run.state = next;
    QJsonObject detail{{QStringLiteral("state"), stateName(next)}};
    EventType type = EventType::RunStateChanged;
    if (isFinal(next)) {
        run.endedAt = now;
        type = EventType::RunFinished;
        QJsonObject counts;
        for (int s = 0; s < kStepStateCount; ++s) {
            if (run.counts[s] > 0)
                counts.insert(stateName(static_cast<StepState>(s)), run.counts[s]);
        }
        detail.insert(QStringLiteral("steps"), counts);
        ledger.releaseLease(run);
    } else if (next == RunState::WaitingForOperator || next == RunState::Paused) {
        type = EventType::RunWaiting;
        ledger.releaseLease(run);
    }
    ledger.recordRun(run);
    ledger.event(run, -1, type, detail, now);
}

void Engine::Impl::awaitApproval(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    if (!ledger.transition(run, i, StepEvent::AwaitOperator))
        return;
    if (step.startedAt == 0)
        step.startedAt = now;
    step.notBefore = 0;
    TemplateScope scope = scopeFor(run, i, RunLedger::idempotencyKey(run, i));
    const QJsonValue prompt = withOf(run, i).value(QLatin1String("prompt"));
    const auto rendered =
        renderTemplates(prompt.isUndefined() ? QJsonValue(QString()) : prompt, scope);
    const QString text = rendered ? rendered->toString() : prompt.toString();
    ledger.recordStep(run, i);
    ledger.event(run, i, EventType::StepWaitingForApproval, {{QStringLiteral("prompt"), text}},
                 now);
    ledger.markDirty(run);
}

/// The step's input as the operator last set it, else as the flow says.
QJsonObject Engine::Impl::withOf(const LiveRun &run, int i) const {
    const LiveStep &step = run.step(i);
    return step.inputOverride.isObject() ? step.inputOverride.toObject() : run.def(i).with;
}

TemplateScope Engine::Impl::scopeFor(const LiveRun &run, int i, const QString &key) const {
    TemplateScope scope;
    scope.params = run.params;
    scope.runId = run.id;
    scope.idempotencyKey = key;
    for (const QString &ref : run.plan->referencedSteps[i]) {
        const auto u = run.plan->flow->indexOfStep(ref);
        if (u >= 0 && !run.step(u).output.isUndefined())
            scope.stepOutputs.insert(ref, run.step(u).output);
    }
    return scope;
}

} // namespace keepflow
