#include "runtime/engineimpl.h"

// Recovery: loading a run from its rows into live state, and what write-ahead says about an
// attempt that started and has no outcome (it was cut off by a crash): retried with the same
// key when the step is idempotent or keyed, uncertain otherwise. Adopting runs no live worker
// holds, one by one or all at once.

#include "store/store.h"

#include <QSet>

namespace keepflow {

namespace {

/// The attempt row ended as write-ahead says: cut off by a crash.
AttemptRow crashed(const AttemptRow &attempt, qint64 now) {
    AttemptRow ended = attempt;
    ended.endedAt = now;
    ended.outcome = AttemptOutcome::Crashed;
    ended.errorClass = ErrorClass::Crashed;
    ended.error =
        attempt.itemKey.isEmpty()
            ? QStringLiteral("the engine stopped while attempt %1 ran").arg(attempt.number)
            : QStringLiteral("the engine stopped while attempt %1 of item %2 ran")
                  .arg(attempt.number)
                  .arg(attempt.itemKey);
    return ended;
}

} // namespace

bool Engine::Impl::recoverCutOffAttempt(const AttemptTarget &target, const AttemptRow &attempt,
                                        qint64 now) {
    const AttemptRow ended = crashed(attempt, now);
    ledger.recordAttempt(ended);
    AttemptState &state = target.state();
    if (state.state != StepState::Running || attempt.number != state.attempts ||
        attempt.generation != target.liveStep().generation)
        return false;
    state.attemptStartedAt = attempt.startedAt;
    if (target.def().effectiveIdempotency() == Idempotency::None) {
        const QString unknown =
            QStringLiteral("attempt %1 was cut off by a crash; whether it took effect is unknown "
                           "(idempotency: none)")
                .arg(attempt.number);
        ledger.transition(target, StepEvent::OutcomeUnknown);
        if (target.isItem()) {
            ForeachProgress &progress = target.progress();
            state.error = ended.error;
            progress.errors[static_cast<size_t>(target.itemPos())] = unknown;
            ++progress.uncertain;
            ledger.recordTarget(target);
            ledger.targetEvent(target, EventType::ItemUncertain,
                               {{QStringLiteral("error"), ended.error}}, now);
            progress.active.erase(target.itemPos());
            return false;
        }
        state.errorClass = ErrorClass::Uncertain;
        state.error = unknown;
        ledger.recordTarget(target);
        ledger.event(
            target.run(), target.stepIndex(), EventType::StepUncertain,
            {{QStringLiteral("error"), unknown}, {QStringLiteral("attempt"), attempt.number}}, now);
        return false;
    }
    // A cut-off attempt counts against the budget: a step whose process keeps being killed
    // must end, where an operator sees it, instead of looping through restarts for ever.
    ++state.failures;
    state.errorClass = ErrorClass::Crashed;
    state.error = ended.error;
    ledger.targetEvent(target, EventType::AttemptCrashed,
                       {{QStringLiteral("attempt"), attempt.number},
                        {QStringLiteral("error"), ended.error},
                        {QStringLiteral("failures"), state.failures}},
                       now);
    const int budget = target.run().retry(target.stepIndex()).maxAttempts;
    if (state.failures < budget) {
        ledger.transition(target, StepEvent::AttemptFailed);
        state.notBefore = now; // a crash is not the dependency's fault: no backoff
        ledger.recordTarget(target);
        return false;
    }
    state.error = cutOffReason(target, attempt, state.failures, budget);
    if (target.isItem()) {
        ForeachProgress &progress = target.progress();
        progress.errors[static_cast<size_t>(target.itemPos())] = state.error;
        ++progress.failed;
        settleItem(target, StepEvent::FailedForGood, EventType::ItemFailed,
                   {{QStringLiteral("error"), state.error},
                    {QStringLiteral("error_class"), errorClassName(ErrorClass::Crashed)},
                    {QStringLiteral("failures"), state.failures}},
                   now);
        return false;
    }
    // The step fails for good once the whole run is loaded: its fallback may start then.
    return true;
}

QString Engine::Impl::cutOffReason(const AttemptTarget &target, const AttemptRow &attempt,
                                   int failures, int budget) {
    // The earlier cut-offs of this generation are in the attempts table; this one is not yet.
    int cutOffs = 1;
    if (const auto attempts = store.attempts(target.run().id)) {
        for (const AttemptRow &row : *attempts) {
            cutOffs += row.stepId == attempt.stepId && row.itemKey == attempt.itemKey &&
                               row.generation == attempt.generation &&
                               row.number != attempt.number &&
                               row.outcome == AttemptOutcome::Crashed
                           ? 1
                           : 0;
        }
    }
    const QString lost = QStringLiteral("the process running it was killed or lost");
    if (cutOffs >= failures)
        return cutOffs == 1 ? QStringLiteral("cut off once: %1").arg(lost)
                            : QStringLiteral("cut off %1 times: %2").arg(cutOffs).arg(lost);
    return QStringLiteral("no attempts left (%1 of %2): attempt %3 was cut off: %4")
        .arg(failures)
        .arg(budget)
        .arg(attempt.number)
        .arg(lost);
}

/// Loads one run from its rows into memory and records, in the ledger, what recovery decides
/// about attempts that were cut off (openAttempts: attempts with no outcome).
Status Engine::Impl::load(const RunRow &row, const QList<StepRunRow> &stepRows,
                          const QList<AttemptRow> &openAttempts, const QList<ItemRow> &itemRows,
                          qint64 now) {
    auto plan = planFor(row.flowId);
    if (!plan)
        return plan.status();
    auto run = std::make_unique<LiveRun>();
    run->id = row.id;
    run->flowName = row.flowName;
    run->plan = *plan;
    run->params = row.params;
    run->state = row.state;
    run->createdAt = row.createdAt;
    run->endedAt = row.endedAt;
    run->paused = row.paused;
    run->leaseEpoch = row.leaseEpoch;
    run->adoptions = row.adoptions;
    run->parentRun = row.parentRun;
    run->parentStep = row.parentStep;
    const Flow &flow = *run->plan->flow;
    run->steps.resize(static_cast<size_t>(flow.steps.size()));
    for (const StepRunRow &stepRow : stepRows) {
        const auto i = flow.indexOfStep(stepRow.stepId);
        if (i < 0)
            return Status::error(
                QStringLiteral("run %1: step %2 is not in its flow").arg(row.id, stepRow.stepId));
        LiveStep &step = run->step(i);
        step.state = stepRow.state;
        step.attempts = stepRow.attempts;
        step.failures = stepRow.failures;
        step.generation = stepRow.generation;
        step.notBefore = stepRow.notBefore;
        step.startedAt = stepRow.startedAt;
        step.endedAt = stepRow.endedAt;
        step.errorClass = stepRow.errorClass;
        step.error = stepRow.error;
        step.viaFallback = stepRow.viaFallback;
        step.output = stepRow.output;
        step.inputOverride = stepRow.inputOverride;
        run->setPolicyOverride(static_cast<int>(i), stepRow.policyOverride);
    }
    for (const LiveStep &step : run->steps)
        ++run->counts[static_cast<int>(step.state)];
    // A step with an attempt of its own under way is not running its fallback: falling back
    // records the step's last attempt as ended in the same commit.
    QSet<QString> ownAttemptOpen;
    for (const AttemptRow &attempt : openAttempts) {
        if (attempt.endedAt == 0)
            ownAttemptOpen.insert(attempt.stepId);
    }
    for (qsizetype i = 0; i < flow.steps.size(); ++i) {
        // A running step runs its fallback while that fallback is under way. A fallback that
        // ended (an operator skipped it before it was needed) leaves the step running its own
        // attempt: finishing the fallback would have settled the step in the same commit. So
        // does one an operator held before it was needed.
        const int f = run->plan->fallbackStep[i];
        LiveStep &step = run->step(i);
        if (f >= 0 && step.state == StepState::Running &&
            run->step(f).state != StepState::Pending && !isFinal(run->step(f).state) &&
            !ownAttemptOpen.contains(flow.steps[i].id))
            step.fallbackActive = true;
    }

    LiveRun &r = *run;
    runs[row.id] = std::move(run);
    rebuildForeach(r, itemRows);
    const QList<int> spent = recoverOpenAttempts(r, openAttempts, now);
    restartSteps(r, now, spent);
    for (int i : spent)
        failForGood(r, i, now);
    if (isFinal(r.state))
        return Status::ok(); // loaded for an operator action, which decides what follows
    // Look at the run afresh: advance() announces whatever state it is really in. The row says
    // running too, as run_resumed does, even when the steps as loaded would wait: an action or
    // what advance() starts can make it run without a state change to write.
    const RunState stored = r.state;
    r.state = RunState::Running;
    if (stored != RunState::Running)
        ledger.recordRun(r);
    ledger.event(r, -1, EventType::RunResumed,
                 {{QStringLiteral("worker"), options.workerId},
                  {QStringLiteral("lease_epoch"), r.leaseEpoch}},
                 now);
    pauseIfAdoptedTooOften(r, now);
    ledger.markDirty(r);
    return Status::ok();
}

void Engine::Impl::pauseIfAdoptedTooOften(LiveRun &run, qint64 now) {
    if (run.adoptions <= options.adoptionLimit || run.paused)
        return;
    // Its workers keep stopping while they execute it (a step that kills its worker, a host
    // that keeps failing): taking it over again would repeat that. An operator looks first.
    run.paused = true;
    ledger.recordRun(run);
    ledger.event(run, -1, EventType::RunAdoptionLimitReached,
                 {{QStringLiteral("adoptions"), run.adoptions},
                  {QStringLiteral("limit"), options.adoptionLimit},
                  {QStringLiteral("reason"),
                   QStringLiteral("taken over %1 times after the workers executing it stopped "
                                  "(limit %2); paused until an operator unpauses it")
                       .arg(run.adoptions)
                       .arg(options.adoptionLimit)}},
                 now);
}

LeaseRequest Engine::Impl::leaseRequest(qint64 now) const {
    LeaseRequest lease;
    lease.owner = options.workerId;
    lease.leaseMs = options.leaseMs;
    lease.now = now;
    lease.ownerIsDead = options.ownerIsDead;
    return lease;
}

QList<int> Engine::Impl::recoverOpenAttempts(LiveRun &r, const QList<AttemptRow> &openAttempts,
                                             qint64 now) {
    QList<int> spent;
    const Flow &flow = *r.plan->flow;
    // Write-ahead says: an attempt with a start and no outcome was cut off by a crash.
    for (const AttemptRow &attempt : openAttempts) {
        if (attempt.endedAt != 0)
            continue;
        const auto i = flow.indexOfStep(attempt.stepId);
        if (i < 0)
            continue;
        LiveStep &step = r.step(i);
        if (flow.steps[i].kind == QLatin1String("subflow") && step.state == StepState::Running &&
            attempt.number == step.attempts) {
            // Its attempt is the child run, which survives a crash: look at it, do not redo it.
            subflowChecks.emplace_back(r.id, static_cast<int>(i));
            step.attemptStartedAt = attempt.startedAt;
            continue;
        }
        std::optional<AttemptTarget> target = AttemptTarget::step(r, static_cast<int>(i));
        if (!attempt.itemKey.isEmpty()) {
            const qsizetype pos = step.foreach ? step.foreach->keys.indexOf(attempt.itemKey) : -1;
            target = AttemptTarget::item(r, static_cast<int>(i), static_cast<int>(pos));
            if (!target) {
                ledger.recordAttempt(crashed(attempt, now)); // its item is no longer live
                continue;
            }
        }
        if (recoverCutOffAttempt(*target, attempt, now))
            spent.append(static_cast<int>(i));
    }
    return spent;
}

void Engine::Impl::restartSteps(LiveRun &r, qint64 now, const QList<int> &spent) {
    const Flow &flow = *r.plan->flow;
    for (size_t i = 0; i < r.steps.size(); ++i) {
        LiveStep &step = r.steps[i];
        if (step.state == StepState::Running && step.foreach && !step.fallbackActive) {
            ledger.addCandidate(r, static_cast<int>(i)); // its items go on
            continue;
        }
        if (step.state == StepState::Running &&
            flow.steps[static_cast<qsizetype>(i)].kind == QLatin1String("subflow")) {
            continue; // waits for its child run (checkSubflows)
        }
        if (step.state == StepState::Running && !step.fallbackActive &&
            !spent.contains(static_cast<int>(i))) {
            // Running without an open attempt is not something a commit leaves behind; treat
            // it like a cut-off attempt rather than leave the step stuck.
            ledger.transition(r, static_cast<int>(i), StepEvent::AttemptFailed);
            step.notBefore = now;
            ledger.recordStep(r, static_cast<int>(i));
            ledger.event(r, static_cast<int>(i), EventType::AttemptCrashed,
                         {{QStringLiteral("attempt"), step.attempts},
                          {QStringLiteral("error"), QStringLiteral("no open attempt")}},
                         now);
        }
        if (step.state == StepState::Pending || step.state == StepState::Scheduled ||
            step.state == StepState::Retrying || step.state == StepState::Queued)
            ledger.addCandidate(r, static_cast<int>(i));
    }
}

Result<bool> Engine::Impl::adopt(const QString &runId, bool allowFinal) {
    if (Status s = ensureResourcesLoaded(); !s)
        return s;
    if (findRun(runId))
        return true;
    const qint64 now = clockRef.nowMs();
    auto row = store.claimRun(runId, leaseRequest(now));
    if (!row)
        return row.status();
    if (!*row)
        return false;
    if (!allowFinal && isFinal((*row)->state))
        return Status::error(
            QStringLiteral("run %1 already finished (%2)").arg(runId, stateName((*row)->state)));
    auto steps = store.stepRuns(runId);
    if (!steps)
        return steps.status();
    auto attempts = store.attempts(runId);
    if (!attempts)
        return attempts.status();
    auto items = store.items(runId);
    if (!items)
        return items.status();
    if (Status s = load(**row, *steps, *attempts, *items, now); !s)
        return s;
    if (Status s = commit(); !s)
        return s;
    schedulePump();
    return true;
}

Result<QSet<QString>> Engine::Impl::claimForActions(const QList<OperatorAction> &actions) {
    if (Status s = ensureResourcesLoaded(); !s)
        return s;
    const qint64 now = clockRef.nowMs();
    QStringList wanted;
    QSet<QString> seen;
    for (const OperatorAction &action : actions) {
        if (seen.contains(action.runId))
            continue;
        seen.insert(action.runId);
        const LiveRun *kept = findRun(action.runId);
        if (!kept || kept->leaseReleased)
            wanted << action.runId;
    }
    auto claimed = store.claimRuns(wanted, leaseRequest(now));
    if (!claimed)
        return claimed.status();
    QSet<QString> notTaken(wanted.cbegin(), wanted.cend());
    QList<RunRow> fresh;
    for (const RunRow &row : *claimed) {
        notTaken.remove(row.id);
        if (LiveRun *kept = findRun(row.id)) {
            // Let go of, still in memory, and taken again: what was left unstarted meanwhile
            // is looked at again.
            kept->leaseEpoch = row.leaseEpoch;
            kept->leaseReleased = false;
            for (int i = 0; i < static_cast<int>(kept->steps.size()); ++i) {
                if (!isFinal(kept->step(i).state))
                    ledger.addCandidate(*kept, i);
            }
        } else {
            fresh.append(row);
        }
    }
    if (fresh.isEmpty())
        return notTaken;
    QStringList freshIds;
    for (const RunRow &row : fresh)
        freshIds << row.id;
    auto steps = store.stepRunsOf(freshIds);
    if (!steps)
        return steps.status();
    auto attempts = store.unfinishedAttemptsOf(freshIds);
    if (!attempts)
        return attempts.status();
    auto items = store.itemsOf(freshIds);
    if (!items)
        return items.status();
    for (const RunRow &row : fresh) {
        if (Status s =
                load(row, steps->value(row.id), attempts->value(row.id), items->value(row.id), now);
            !s)
            return s;
    }
    return notTaken;
}

Result<int> Engine::adoptAvailable() {
    if (d->stopped)
        return Status::error(d->fatal);
    if (Status s = d->ensureResourcesLoaded(); !s)
        return s;
    // Runs waiting for an operator are not taken: nothing runs until an action wakes them.
    const qint64 now = d->clockRef.nowMs();
    // As many as there is room for, a batch at a time: the other workers get the rest.
    const int room = d->options.maxLoadedRuns - static_cast<int>(d->runs.size());
    auto claimed =
        d->store.claimRunnable(d->leaseRequest(now), std::min(room, d->options.claimBatch));
    if (!claimed)
        return claimed.status();
    QList<RunRow> fresh;
    for (const RunRow &row : *claimed) {
        if (LiveRun *kept = d->findRun(row.id)) {
            kept->leaseEpoch = row.leaseEpoch; // let go of, still in memory, and taken again
            kept->leaseReleased = false;
        } else {
            fresh.append(row);
        }
    }
    if (fresh.isEmpty())
        return 0;
    // The rows of the runs just claimed, not of every run this worker holds: loading batch
    // after batch would otherwise read the loaded runs again each time.
    QStringList freshIds;
    for (const RunRow &row : fresh)
        freshIds << row.id;
    auto steps = d->store.stepRunsOf(freshIds);
    if (!steps)
        return steps.status();
    auto attempts = d->store.unfinishedAttemptsOf(freshIds);
    if (!attempts)
        return attempts.status();
    auto items = d->store.itemsOf(freshIds);
    if (!items)
        return items.status();
    // All recoveries go into one transaction.
    for (const RunRow &row : fresh) {
        if (Status s = d->load(row, steps->value(row.id), attempts->value(row.id),
                               items->value(row.id), now);
            !s)
            return s;
    }
    if (Status s = d->commit(); !s)
        return s;
    d->schedulePump();
    return static_cast<int>(fresh.size());
}

} // namespace keepflow
