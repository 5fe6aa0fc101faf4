#include "runtime/engineimpl.h"

#include "model/urltemplate.h"

// The attempt target: a step, or one item of a foreach step. Admission to its resource, the
// start of an attempt (its intent committed before its action runs), its completion (retry,
// uncertain, failed, succeeded), its timeout, and the launch of its action are written once for
// both; where a step and an item differ, the code asks target.isItem().

namespace keepflow {

namespace {

/// with rendered for one attempt, each key as the step's kind asks (StepKind::renderingOf).
Result<QJsonObject> renderInput(const StepKind *kind, const QJsonObject &with,
                                const TemplateScope &scope) {
    QJsonObject input;
    for (auto it = with.begin(); it != with.end(); ++it) {
        const auto how = kind ? kind->renderingOf(it.key()) : StepKind::InputRendering::Values;
        const QJsonValue &value = it.value();
        if (how == StepKind::InputRendering::Values) {
            const Result<QJsonValue> rendered = renderTemplates(value, scope);
            if (!rendered)
                return rendered.status();
            input.insert(it.key(), *rendered);
        } else if (how == StepKind::InputRendering::Url && value.isString() &&
                   hasTemplate(value.toString())) {
            const Result<QUrl> url = renderUrl(value.toString(), scope);
            if (!url)
                return Status::error(QStringLiteral("with.%1: %2").arg(it.key(), url.error()));
            input.insert(it.key(), url->toString(QUrl::FullyEncoded));
        } else {
            input.insert(it.key(), value); // never rendered, or a URL without a template
        }
    }
    return input;
}

/// What a failed attempt leads to.
struct AfterFailure {
    enum class Verdict { Retry, Uncertain, FailForGood } verdict = Verdict::FailForGood;
    qint64 nextAt = 0;
    qint64 delayMs = 0;
    QString stopReason; ///< why no retry follows, when the policy said so
};

/// What a failed attempt of target leads to: an uncertain outcome (a call that is not
/// idempotent may have happened), a retry after its backoff, or failing for good. Counts the
/// failure against the budget.
AfterFailure afterFailure(const AttemptTarget &target, const AttemptResult &result, qint64 now) {
    AttemptState &state = target.state();
    const LiveRun &run = target.run();
    const int i = target.stepIndex();
    state.error = result.error;
    state.errorClass = result.errorClass;
    const RetryPolicy &policy = run.retry(i);
    AfterFailure after;
    if ((result.errorClass == ErrorClass::Timeout || result.errorClass == ErrorClass::Uncertain) &&
        target.def().effectiveIdempotency() == Idempotency::None) {
        after.verdict = AfterFailure::Verdict::Uncertain;
        return after;
    }
    ++state.failures;
    const bool retryable = isRetryable(policy, result.errorClass, result.errorDetail);
    after.verdict = retryable && state.failures < policy.maxAttempts &&
                            result.errorDetail != QLatin1String("deadline")
                        ? AfterFailure::Verdict::Retry
                        : AfterFailure::Verdict::FailForGood;
    if (!retryable)
        after.stopReason =
            QStringLiteral("not retried: %1 error").arg(errorClassName(state.errorClass));
    else if (state.failures >= policy.maxAttempts)
        after.stopReason = QStringLiteral("no attempts left (%1 of %2)")
                               .arg(state.failures)
                               .arg(policy.maxAttempts);
    after.delayMs =
        result.retryAfterMs >= 0
            ? result.retryAfterMs
            : backoffDelayMs(policy, state.failures,
                             jitterUnit(RunLedger::idempotencyKey(target), state.attempts));
    after.nextAt = now + after.delayMs;
    // A step's deadline bounds its retries (items have none of their own).
    const auto deadline = run.deadlineMs(i);
    if (!target.isItem() && after.verdict == AfterFailure::Verdict::Retry && deadline &&
        after.nextAt >= target.liveStep().startedAt + *deadline) {
        after.verdict = AfterFailure::Verdict::FailForGood;
        after.stopReason =
            QStringLiteral("the step deadline of %1 leaves no time for another attempt")
                .arg(formatDuration(*deadline));
    }
    return after;
}

/// result with every secret the attempt was given replaced by "***": outputs, errors and the
/// captured stdout and stderr inside them are recorded only after this. Credentials written
/// into a URL or an Authorization header are masked in its texts too, secrets or not.
AttemptResult masked(AttemptResult result, const SecretMask &mask) {
    result.error = redactCredentials(result.error);
    result.errorDetail = redactCredentials(result.errorDetail);
    result.captured.stdoutTail = redactCredentials(result.captured.stdoutTail);
    result.captured.stderrTail = redactCredentials(result.captured.stderrTail);
    if (mask.isEmpty())
        return result;
    result.output = mask.apply(result.output);
    result.error = mask.apply(result.error);
    result.errorDetail = mask.apply(result.errorDetail);
    result.captured.stdoutTail = mask.apply(result.captured.stdoutTail);
    result.captured.stderrTail = mask.apply(result.captured.stderrTail);
    return result;
}

} // namespace

ResourceGate::Resource &Engine::Impl::resourceOf(const LiveRun &run, int i) {
    const QString &name = run.def(i).resource;
    return resources.resource(name, run.plan->resources.value(name));
}

bool Engine::Impl::stillWaiting(const QueueEntry &entry) {
    LiveRun *run = findRun(entry.runId);
    if (!run || !hasStep(*run, entry.step))
        return false;
    const auto target = AttemptTarget::of(*run, entry.step, entry.item);
    return target && target->state().state == StepState::Queued && target->state().inQueue;
}

bool Engine::Impl::tryStart(const AttemptTarget &target, qint64 now) {
    LiveRun &run = target.run();
    const int i = target.stepIndex();
    if (draining || run.paused)
        return false; // left as it is: the next engine to adopt the run, or unpause, starts it
    if (run.leaseReleased)
        return false; // let go: its attempt could not be recorded before it ran (write-ahead)
    const Step &def = target.def();
    // A foreach step is not one call: its items are (the step only expands the list).
    if (def.resource.isEmpty() || (!target.isItem() && !def.foreach.isUndefined())) {
        target.isItem() ? startAttempt(target, now) : startStep(run, i, now);
        return true;
    }
    AttemptState &state = target.state();
    ResourceGate::Resource &res = resourceOf(run, i);
    const qint64 maxQueue = res.config.maxQueueTimeMs;
    if (state.state == StepState::Queued && maxQueue > 0 && now >= state.queuedAt + maxQueue) {
        state.inQueue = false;
        const QString waited =
            QStringLiteral("waited %1 for resource %2, longer than its max_queue_time of %3")
                .arg(formatDuration(now - state.queuedAt), res.name, formatDuration(maxQueue));
        if (target.isItem()) {
            // Recorded as a failed attempt that never reached the dependency: its retry
            // policy decides what follows.
            ledger.transition(target, StepEvent::AttemptStarted);
            ++state.attempts;
            ++target.progress().running;
            state.attemptStartedAt = now;
            ledger.recordAttemptStarted(target, now);
            completions.push_back(
                Completion{run.id, i, state.attempts, target.liveStep().generation,
                           AttemptResult::failure(ErrorClass::Timeout, waited), target.itemPos()});
        } else {
            state.errorClass = ErrorClass::Timeout;
            state.error = waited + (state.error.isEmpty()
                                        ? QString()
                                        : QStringLiteral(" (last error: %1)").arg(state.error));
            failForGood(run, i, now);
        }
        resources.wakeQueue(res);
        return true;
    }
    const QueueEntry entry{run.id, i, target.itemPos()};
    QString why;
    qint64 wakeAt = 0;
    if (!resources.admit(res, entry, now, why, wakeAt)) {
        const bool newlyQueued = state.state != StepState::Queued;
        if (newlyQueued) {
            ledger.transition(target, StepEvent::Enqueued);
            state.queuedAt = now;
            if (!target.isItem())
                ledger.event(
                    run, i, EventType::StepQueued,
                    {{QStringLiteral("resource"), res.name}, {QStringLiteral("reason"), why}}, now);
        }
        if (!state.inQueue) {
            state.inQueue = true;
            resources.enqueue(res, entry);
        }
        qint64 timer = wakeAt;
        if (maxQueue > 0 && (timer == 0 || state.queuedAt + maxQueue < timer))
            timer = state.queuedAt + maxQueue;
        const bool timerChanged = timer != state.notBefore;
        state.notBefore = timer; // when it looks again (0: when a slot frees)
        if (timer > 0)
            ledger.armTimer(target); // also after a restart, when the heap starts empty
        if (newlyQueued || timerChanged)
            ledger.recordTarget(target);
        return false;
    }
    state.isProbe = resources.takeSlot(res, std::exchange(state.inQueue, false));
    state.holdsSlot = true;
    const int attemptsBefore = state.attempts;
    target.isItem() ? startAttempt(target, now) : startStep(run, i, now);
    if (state.attempts == attemptsBefore && state.holdsSlot) {
        // No call went out after all (deadline passed, an approval, draining): give it back.
        state.holdsSlot = false;
        resources.release(res, std::exchange(state.isProbe, false), std::nullopt, now);
    }
    if (!res.queue.empty())
        resources.wakeQueue(res); // capacity may remain for the next in line
    return true;
}

void Engine::Impl::startStep(LiveRun &run, int i, qint64 now) {
    if (draining)
        return; // left as it is; the next engine to adopt the run starts it
    LiveStep &step = run.step(i);
    const Step &def = run.def(i);
    const auto deadline = run.deadlineMs(i);
    if (deadline && step.startedAt != 0 && now >= step.startedAt + *deadline) {
        step.error =
            QStringLiteral("deadline of %1 passed before attempt %2 could start; last error: %3")
                .arg(formatDuration(*deadline))
                .arg(step.attempts + 1)
                .arg(step.error);
        failForGood(run, i, now);
        return;
    }
    if (!def.foreach.isUndefined()) {
        expandForeach(run, i, now);
        return;
    }
    if (def.kind == QLatin1String("approval")) {
        awaitApproval(run, i, now);
        return;
    }
    startAttempt(AttemptTarget::step(run, i), now);
}

void Engine::Impl::startAttempt(const AttemptTarget &target, qint64 now) {
    if (!ledger.transition(target, StepEvent::AttemptStarted))
        return;
    LiveRun &run = target.run();
    const int i = target.stepIndex();
    LiveStep &step = target.liveStep();
    AttemptState &state = target.state();
    const Step &def = target.def();
    ++state.attempts;
    if (target.isItem()) {
        ++step.attempts; // the step counts its items' attempts
        ++target.progress().running;
    } else if (step.startedAt == 0) {
        step.startedAt = now;
    }
    state.notBefore = 0;
    state.attemptStartedAt = now;
    const auto timeout = run.timeoutMs(i);
    state.attemptDeadline = timeout ? now + *timeout : 0;
    if (!target.isItem()) {
        // The step's deadline bounds every attempt of it.
        const auto deadline = run.deadlineMs(i);
        step.attemptDeadlineIsStepDeadline = false;
        if (deadline &&
            (step.attemptDeadline == 0 || step.startedAt + *deadline < step.attemptDeadline)) {
            step.attemptDeadline = step.startedAt + *deadline;
            step.attemptDeadlineIsStepDeadline = true;
        }
    }
    const QString key = RunLedger::idempotencyKey(target);
    ledger.recordAttemptStarted(target, now);
    ledger.recordTarget(target);
    ledger.targetEvent(target, EventType::AttemptStarted,
                       {{QStringLiteral("attempt"), state.attempts},
                        {QStringLiteral("max_attempts"), run.retry(i).maxAttempts},
                        {QStringLiteral("attempt_budget"),
                         attemptBudget(StepState::Running, state.attempts, state.failures,
                                       run.retry(i).maxAttempts)},
                        {QStringLiteral("key"), key}},
                       now);

    Launch launch;
    launch.runId = run.id;
    launch.step = i;
    launch.item = target.itemPos();
    launch.request.runId = run.id;
    launch.request.stepId = def.id;
    launch.request.itemKey = target.itemKey();
    launch.request.attempt = state.attempts;
    launch.request.idempotencyKey = key;
    launch.request.step = &def;
    launch.request.timeoutMs = timeout;
    const QJsonObject with = withOf(run, i);
    launch.request.input = with;
    if (target.isItem() || run.plan->hasTemplates[i] || !step.inputOverride.isUndefined()) {
        TemplateScope scope = scopeFor(run, i, key);
        if (target.isItem())
            scope.item = target.progress().items[target.itemPos()];
        // Looked up now, not when the run was created: the value lives only in this attempt's
        // request, and its mask hides it in what the attempt reports before that is recorded.
        scope.secret = [this, &launch](const QString &name) {
            Result<QString> value = options.secrets->resolve(name);
            if (value)
                launch.mask.add(*value);
            return value;
        };
        const auto rendered = renderInput(kinds.find(def.kind), with, scope);
        if (!rendered) {
            // The input cannot be built: nothing runs, and retrying would not help.
            completions.push_back(
                Completion{run.id, i, state.attempts, step.generation,
                           AttemptResult::failure(ErrorClass::Permanent,
                                                  QStringLiteral("input: ") + rendered.error()),
                           target.itemPos()});
            return;
        }
        launch.request.input = *rendered;
    }
    if (!target.isItem() && def.kind == QLatin1String("subflow")) {
        startSubflow(run, i, launch.request.input, now);
        return;
    }
    if (state.attemptDeadline != 0)
        attemptTimeouts.push(Due{state.attemptDeadline, run.id, i,
                                 static_cast<quint32>(state.attempts), target.itemPos()});
    launches.push_back(std::move(launch));
}

void Engine::Impl::releaseSlot(const AttemptTarget &target, std::optional<AttemptResult> result,
                               qint64 now) {
    AttemptState &state = target.state();
    if (!state.holdsSlot)
        return;
    state.holdsSlot = false;
    const bool probe = std::exchange(state.isProbe, false);
    resources.release(resourceOf(target.run(), target.stepIndex()), probe, result, now);
}

void Engine::Impl::complete(Completion &completion, qint64 now) {
    LiveRun *run = findRun(completion.runId);
    if (!run || !hasStep(*run, completion.step))
        return;
    const int i = completion.step;
    LiveStep &step = run->step(i);
    if (completion.item >= 0 && (step.state != StepState::Running || !step.foreach))
        return;
    const auto found = AttemptTarget::of(*run, i, completion.item);
    if (!found)
        return;
    const AttemptTarget &target = *found;
    AttemptState &state = target.state();
    if (state.state != StepState::Running || state.attempts != completion.attempt ||
        step.generation != completion.generation || (!target.isItem() && step.fallbackActive))
        return; // stale: the attempt was already ended (timeout, cancel)
    if (state.execution)
        retired.push_back(std::move(state.execution));
    state.inFlight = false;
    state.attemptDeadline = 0;
    if (target.isItem())
        --target.progress().running;
    releaseSlot(target, completion.result, now);
    const AttemptResult &result = completion.result;
    ledger.recordAttemptEnded(target, result, outcomeOf(result), now);
    if (result.succeeded)
        attemptSucceeded(target, result, now);
    else
        attemptFailed(target, result, now);
}

void Engine::Impl::settleItem(const AttemptTarget &target, StepEvent event, EventType type,
                              QJsonObject detail, qint64 now) {
    LiveRun &run = target.run();
    ledger.transition(target, event);
    ledger.recordTarget(target);
    ledger.targetEvent(target, type, std::move(detail), now);
    if (event != StepEvent::AttemptFailed)
        target.progress().active.erase(target.itemPos()); // it left the live set
    ledger.recordStep(run, target.stepIndex());           // its attempt count moved
    ledger.addCandidate(run, target.stepIndex());
}

void Engine::Impl::attemptSucceeded(const AttemptTarget &target, const AttemptResult &result,
                                    qint64 now) {
    LiveRun &run = target.run();
    const int i = target.stepIndex();
    if (target.isItem()) {
        ForeachProgress &progress = target.progress();
        progress.outputs[static_cast<size_t>(target.itemPos())] = result.output;
        ++progress.succeeded;
        settleItem(target, StepEvent::AttemptSucceeded, EventType::ItemSucceeded, {}, now);
        return;
    }
    LiveStep &step = target.liveStep();
    ledger.transition(target, StepEvent::AttemptSucceeded);
    step.output = result.output;
    step.endedAt = now;
    step.error.clear();
    step.errorClass.reset();
    ledger.recordStep(run, i);
    ledger.event(run, i, EventType::StepSucceeded,
                 {{QStringLiteral("attempt"), step.attempts},
                  {QStringLiteral("duration_ms"), now - step.attemptStartedAt}},
                 now);
    finalized(run, i, now);
}

void Engine::Impl::attemptFailed(const AttemptTarget &target, const AttemptResult &result,
                                 qint64 now) {
    LiveRun &run = target.run();
    const int i = target.stepIndex();
    LiveStep &step = target.liveStep();
    AttemptState &state = target.state();
    const auto pos = static_cast<size_t>(target.itemPos());
    const AfterFailure after = afterFailure(target, result, now);
    switch (after.verdict) {
    case AfterFailure::Verdict::Uncertain:
        if (target.isItem()) {
            target.progress().errors[pos] = result.error;
            ++target.progress().uncertain;
            settleItem(target, StepEvent::OutcomeUnknown, EventType::ItemUncertain,
                       {{QStringLiteral("error"), result.error}}, now);
            return;
        }
        ledger.transition(target, StepEvent::OutcomeUnknown);
        step.errorClass = ErrorClass::Uncertain;
        ledger.recordStep(run, i);
        ledger.event(
            run, i, EventType::StepUncertain,
            {{QStringLiteral("error"), step.error}, {QStringLiteral("attempt"), step.attempts}},
            now);
        ledger.markDirty(run);
        return;
    case AfterFailure::Verdict::Retry: {
        const QJsonObject detail{{QStringLiteral("attempt"), state.attempts},
                                 {QStringLiteral("max_attempts"), run.retry(i).maxAttempts},
                                 {QStringLiteral("attempt_budget"),
                                  attemptBudget(StepState::Retrying, state.attempts, state.failures,
                                                run.retry(i).maxAttempts)},
                                 {QStringLiteral("error_class"), errorClassName(state.errorClass)},
                                 {QStringLiteral("error"), state.error},
                                 {QStringLiteral("failures"), state.failures},
                                 {QStringLiteral("next_attempt_at"), after.nextAt},
                                 {QStringLiteral("delay_ms"), after.delayMs}};
        state.notBefore = after.nextAt;
        ledger.armTimer(target);
        if (target.isItem()) {
            settleItem(target, StepEvent::AttemptFailed, EventType::ItemRetrying, detail, now);
            return;
        }
        ledger.transition(target, StepEvent::AttemptFailed);
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepRetrying, detail, now);
        ledger.markDirty(run);
        return;
    }
    case AfterFailure::Verdict::FailForGood:
        if (target.isItem()) {
            target.progress().errors[pos] = result.error;
            ++target.progress().failed;
            settleItem(target, StepEvent::FailedForGood, EventType::ItemFailed,
                       {{QStringLiteral("error"), result.error},
                        {QStringLiteral("error_class"), errorClassName(state.errorClass)},
                        {QStringLiteral("failures"), state.failures}},
                       now);
            return;
        }
        if (!after.stopReason.isEmpty())
            ledger.event(run, i, EventType::AttemptFailed,
                         {{QStringLiteral("attempt"), step.attempts},
                          {QStringLiteral("error_class"), errorClassName(step.errorClass)},
                          {QStringLiteral("error"), step.error},
                          {QStringLiteral("failures"), step.failures},
                          {QStringLiteral("reason"), after.stopReason}},
                         now);
        failForGood(run, i, now);
        return;
    }
}

void Engine::Impl::expire(const Due &due) {
    LiveRun *run = findRun(due.runId);
    if (!run || !hasStep(*run, due.step))
        return;
    LiveStep &step = run->step(due.step);
    if (due.item >= 0 && (step.state != StepState::Running || !step.foreach))
        return;
    const auto target = AttemptTarget::of(*run, due.step, due.item);
    if (!target)
        return;
    AttemptState &state = target->state();
    if (state.state != StepState::Running || (!target->isItem() && step.fallbackActive) ||
        state.attempts != static_cast<int>(due.stamp) || state.attemptDeadline != due.at)
        return;
    CapturedOutput printed;
    if (state.execution) {
        printed = state.execution->capturedSoFar();
        state.execution->cancel(); // kills the process group, aborts the request
        retired.push_back(std::move(state.execution));
    }
    state.inFlight = false;
    const QString limit = formatDuration(due.at - state.attemptStartedAt);
    AttemptResult result;
    if (target->isItem()) {
        result = AttemptResult::failure(ErrorClass::Timeout,
                                        QStringLiteral("attempt %1 of item %2 timed out after %3")
                                            .arg(state.attempts)
                                            .arg(target->itemKey(), limit));
    } else if (step.attemptDeadlineIsStepDeadline) {
        result = AttemptResult::failure(
            ErrorClass::Timeout, QStringLiteral("the step deadline of %1 passed during attempt %2")
                                     .arg(formatDuration(run->deadlineMs(due.step).value_or(0)))
                                     .arg(state.attempts));
        result.errorDetail = QStringLiteral("deadline");
    } else {
        result = AttemptResult::failure(
            ErrorClass::Timeout,
            QStringLiteral("attempt %1 timed out after %2").arg(state.attempts).arg(limit));
    }
    result.captured = std::move(printed);
    completions.push_back(Completion{run->id, due.step, state.attempts, step.generation,
                                     masked(std::move(result), state.mask), due.item});
}

void Engine::Impl::expireAttempts(qint64 now) {
    while (!attemptTimeouts.empty() && attemptTimeouts.top().at <= now) {
        const Due due = attemptTimeouts.top();
        attemptTimeouts.pop();
        expire(due);
    }
}

void Engine::Impl::launch(Launch &item) {
    LiveRun *run = findRun(item.runId);
    if (!run)
        return;
    const auto target = AttemptTarget::of(*run, item.step, item.item);
    if (!target)
        return;
    const Completion base{item.runId,           item.step,
                          item.request.attempt, run->step(item.step).generation,
                          AttemptResult(),      item.item};
    auto fail = [this, &base, mask = item.mask](AttemptResult result) {
        Completion completion = base;
        completion.result = masked(std::move(result), mask);
        completions.push_back(std::move(completion));
    };
    StepKind *kind = kinds.find(item.request.step->kind);
    if (!kind) {
        fail(AttemptResult::failure(
            ErrorClass::Permanent, QStringLiteral("step kind \"%1\" is not supported by this build")
                                       .arg(item.request.step->kind)));
        return;
    }
    AttemptState &state = target->state();
    state.inFlight = true;
    state.mask = item.mask;
    auto done = [this, base, mask = item.mask](AttemptResult result) {
        Completion completion = base;
        completion.result = masked(std::move(result), mask);
        completions.push_back(std::move(completion));
        schedulePump();
    };
    try {
        state.execution = kind->start(item.request, *this, done);
    } catch (const std::exception &error) {
        fail(AttemptResult::failure(
            ErrorClass::Transient,
            QStringLiteral("the action threw: %1").arg(QString::fromUtf8(error.what()))));
    } catch (...) {
        fail(AttemptResult::failure(ErrorClass::Transient,
                                    QStringLiteral("the action threw an unknown exception")));
    }
}

void Engine::Impl::abandonExecutions(LiveRun &run, int s, qint64 now) {
    LiveStep &step = run.step(s);
    cancelExecutions(step);
    releaseSlot(AttemptTarget::step(run, s), std::nullopt, now);
    if (!step.foreach)
        return;
    for (const auto &[pos, item] : step.foreach->active) {
        if (const auto target = AttemptTarget::item(run, s, pos))
            releaseSlot(*target, std::nullopt, now);
    }
}

void Engine::Impl::cancelExecutions(LiveStep &step) {
    auto cancel = [this](AttemptState &state) {
        if (state.execution) {
            state.execution->cancel();
            retired.push_back(std::move(state.execution));
        }
        state.inFlight = false;
    };
    cancel(step);
    if (step.foreach) {
        for (auto &[pos, item] : step.foreach->active)
            cancel(item);
    }
}

} // namespace keepflow
