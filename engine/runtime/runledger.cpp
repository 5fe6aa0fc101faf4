#include "runtime/runledger.h"

#include "store/store.h"

#include <QLoggingCategory>

namespace keepflow {

Q_LOGGING_CATEGORY(lcLedger, "keepflow.ledger")

RunLedger::RunLedger(Store &store, Identity identity)
    : m_store(store)
    , m_identity(std::move(identity)) {}

bool RunLedger::transition(const AttemptTarget &target, StepEvent event) {
    AttemptState &state = target.state();
    const auto next =
        target.isItem() ? nextItemState(state.state, event) : nextStepState(state.state, event);
    if (!next) {
        qCWarning(lcLedger) << "transition refused:" << target.def().id << target.itemKey()
                            << stateName(state.state) << event;
        return false;
    }
    if (target.isItem()) {
        target.progress().states[static_cast<size_t>(target.itemPos())] = *next;
    } else {
        StepStateCounts &counts = target.run().counts;
        --counts[static_cast<int>(state.state)];
        ++counts[static_cast<int>(*next)];
    }
    state.state = *next;
    return true;
}

StepRunRow RunLedger::stepRow(const LiveRun &run, int i) const {
    const LiveStep &step = run.step(i);
    StepRunRow row;
    row.runId = run.id;
    row.stepId = run.def(i).id;
    row.position = i;
    row.state = step.state;
    row.attempts = step.attempts;
    row.failures = step.failures;
    row.generation = step.generation;
    row.notBefore = step.notBefore;
    row.startedAt = step.startedAt;
    row.endedAt = step.endedAt;
    row.errorClass = step.errorClass;
    row.error = step.error;
    row.viaFallback = step.viaFallback;
    row.output = step.output;
    row.resource = run.def(i).resource;
    row.queuedAt = step.queuedAt;
    row.inputOverride = step.inputOverride;
    row.policyOverride = step.policyOverride;
    return row;
}

ItemRow RunLedger::itemRow(const LiveRun &run, int i, int pos) const {
    const LiveStep &step = run.step(i);
    const ForeachProgress &progress = *step.foreach;
    const auto p = static_cast<size_t>(pos);
    ItemRow row;
    row.runId = run.id;
    row.stepId = run.def(i).id;
    row.itemKey = progress.keys[pos];
    row.position = pos;
    row.state = progress.states[p];
    row.generation = step.generation;
    if (const auto it = progress.active.find(pos); it != progress.active.end()) {
        row.attempts = it->second.attempts;
        row.failures = it->second.failures;
        row.notBefore = it->second.notBefore;
        row.errorClass = it->second.errorClass;
        row.error = it->second.error;
    }
    if (progress.states[p] == StepState::Succeeded)
        row.output = progress.outputs[p];
    if (progress.states[p] == StepState::Failed || progress.states[p] == StepState::Uncertain)
        row.error = progress.errors[p];
    return row;
}

void RunLedger::fence(const LiveRun &run) {
    if (run.leaseEpoch > 0 && !m_createdRuns.contains(run.id))
        m_batch.fencedRuns.insert(run.id, run.leaseEpoch);
}

void RunLedger::recordRun(const LiveRun &run, qint64 leaseUntil) {
    RunRow row;
    row.id = run.id;
    row.flowId = run.plan->flowId;
    row.flowName = run.flowName;
    row.state = run.state;
    row.params = run.params;
    row.createdAt = run.createdAt;
    row.endedAt = run.endedAt;
    row.paused = run.paused;
    row.parentRun = run.parentRun;
    row.parentStep = run.parentStep;
    row.leaseEpoch = run.leaseEpoch;
    row.adoptions = run.adoptions;
    if (leaseUntil > 0) {
        // A new run this worker executes: inserted already held, so nothing to fence.
        row.owner = m_identity.workerId;
        row.leaseUntil = leaseUntil;
        m_createdRuns.insert(run.id);
        m_batch.fencedRuns.remove(run.id);
    }
    fence(run);
    m_batch.runs.append(row);
}

void RunLedger::recordStep(const LiveRun &run, int step) {
    fence(run);
    m_batch.steps.append(stepRow(run, step));
}

void RunLedger::recordItem(const LiveRun &run, int step, int pos) {
    fence(run);
    m_batch.items.append(itemRow(run, step, pos));
}

void RunLedger::recordItemRow(const ItemRow &row) {
    m_batch.items.append(row);
}

void RunLedger::recordTarget(const AttemptTarget &target) {
    if (target.isItem())
        recordItem(target.run(), target.stepIndex(), target.itemPos());
    else
        recordStep(target.run(), target.stepIndex());
}

AttemptRow RunLedger::attemptRow(const AttemptTarget &target) const {
    const AttemptState &state = target.state();
    AttemptRow row;
    row.runId = target.run().id;
    row.stepId = target.def().id;
    row.itemKey = target.itemKey();
    row.number = state.attempts;
    row.generation = target.liveStep().generation;
    row.idempotencyKey = idempotencyKey(target);
    row.worker = m_identity.workerId;
    row.leaseEpoch = target.run().leaseEpoch;
    row.startedAt = state.attemptStartedAt;
    return row;
}

void RunLedger::recordAttemptStarted(const AttemptTarget &target, qint64 now) {
    AttemptRow row = attemptRow(target);
    row.startedAt = now;
    fence(target.run());
    m_batch.attempts.append(row);
}

void RunLedger::recordAttemptEnded(const AttemptTarget &target, const AttemptResult &result,
                                   AttemptOutcome outcome, qint64 now) {
    AttemptRow row = attemptRow(target);
    row.endedAt = now;
    row.outcome = outcome;
    if (!result.succeeded) {
        row.errorClass = result.errorClass;
        row.error = result.error;
    }
    row.captured = result.captured;
    fence(target.run());
    m_batch.attempts.append(row);
}

void RunLedger::recordAttempt(const AttemptRow &row) {
    m_batch.attempts.append(row);
}

void RunLedger::recordResource(const ResourceRow &row) {
    m_batch.resources.append(row);
}

void RunLedger::recordAnswer(const RequestRow &answer) {
    m_batch.answers.append(answer);
}

void RunLedger::clearItems(const LiveRun &run, int step) {
    fence(run);
    m_batch.clearedItems.append({run.id, run.def(step).id});
}

void RunLedger::removeStep(const LiveRun &run, const QString &stepId) {
    fence(run);
    m_batch.clearedItems.append({run.id, stepId});
    m_batch.removedSteps.append({run.id, stepId});
}

void RunLedger::releaseLease(LiveRun &run) {
    fence(run);
    run.leaseReleased = true;
    m_batch.releasedLeases.append({run.id, m_identity.workerId});
}

EventRow &RunLedger::event(const LiveRun &run, int step, EventType type, QJsonObject detail,
                           qint64 now) {
    fence(run);
    EventRow row;
    row.at = now;
    row.runId = run.id;
    if (step >= 0)
        row.stepId = run.def(step).id;
    row.type = type;
    row.actor = m_identity.actor;
    row.detail = std::move(detail);
    m_batch.events.append(std::move(row));
    return m_batch.events.last();
}

EventRow &RunLedger::targetEvent(const AttemptTarget &target, EventType type, QJsonObject detail,
                                 qint64 now) {
    if (target.isItem()) {
        detail.insert(QStringLiteral("item"), target.itemKey());
        detail.insert(QStringLiteral("attempt"), target.state().attempts);
    }
    return event(target.run(), target.stepIndex(), type, std::move(detail), now);
}

void RunLedger::resourceEvent(const QString &resource, EventType type, QJsonObject detail,
                              qint64 now) {
    EventRow row;
    row.at = now;
    row.type = type;
    row.actor = m_identity.actor;
    detail.insert(QStringLiteral("resource"), resource);
    row.detail = std::move(detail);
    m_batch.events.append(std::move(row));
}

QString RunLedger::idempotencyKey(const LiveRun &run, int step) {
    return stepIdempotencyKey(run.id, run.def(step).id, run.step(step).generation);
}

QString RunLedger::idempotencyKey(const AttemptTarget &target) {
    const QString key = idempotencyKey(target.run(), target.stepIndex());
    return target.isItem() ? key + QLatin1Char('/') + target.itemKey() : key;
}

void RunLedger::armTimer(const AttemptTarget &target) {
    AttemptState &state = target.state();
    ++state.timerStamp;
    m_timers.push(Due{state.notBefore, target.run().id, target.stepIndex(), state.timerStamp,
                      target.itemPos()});
}

void RunLedger::markDirty(LiveRun &run) {
    if (!run.dirty) {
        run.dirty = true;
        m_dirtyRuns.push_back(&run);
    }
}

void RunLedger::addCandidate(LiveRun &run, int i) {
    LiveStep &step = run.step(i);
    if (!step.candidate) {
        step.candidate = true;
        run.candidates.push_back(i);
    }
    markDirty(run);
}

void RunLedger::unblockDownstream(LiveRun &run, int i) {
    std::vector<int> stack(run.plan->downstream[i].begin(), run.plan->downstream[i].end());
    while (!stack.empty()) {
        const int d = stack.back();
        stack.pop_back();
        LiveStep &step = run.step(d);
        if (step.state != StepState::Blocked || !transition(run, d, StepEvent::Reset))
            continue;
        step.endedAt = 0;
        step.error.clear();
        recordStep(run, d);
        addCandidate(run, d);
        stack.insert(stack.end(), run.plan->downstream[d].begin(), run.plan->downstream[d].end());
    }
}

std::vector<LiveRun *> RunLedger::takeDirtyRuns() {
    std::vector<LiveRun *> dirty = std::move(m_dirtyRuns);
    m_dirtyRuns.clear();
    return dirty;
}

void RunLedger::forget(const LiveRun &run) {
    std::erase(m_dirtyRuns, &run);
}

Result<RunLedger::Committed> RunLedger::commit() {
    Batch batch = std::move(m_batch);
    m_batch = Batch();
    m_createdRuns.clear();
    Committed committed;
    batch.fenceOwner = m_identity.workerId;
    // Each refusal takes at least one run out of the batch, so this ends.
    while (!batch.isEmpty()) {
        auto result = m_store.commit(batch);
        if (!result)
            return result.status();
        if (result->lostRuns.isEmpty()) {
            for (qsizetype i = 0; i < batch.events.size() && i < result->eventIds.size(); ++i)
                batch.events[i].id = result->eventIds[i];
            committed.events = std::move(batch.events);
            break;
        }
        qCWarning(lcLedger).noquote()
            << QStringLiteral("another worker holds %1 now: their rows are not written")
                   .arg(result->lostRuns.join(QStringLiteral(", ")));
        committed.lostRuns << result->lostRuns;
        batch = withoutRuns(batch, result->lostRuns);
    }
    return committed;
}

AttemptOutcome outcomeOf(const AttemptResult &result) {
    if (result.succeeded)
        return AttemptOutcome::Succeeded;
    switch (result.errorClass) {
    case ErrorClass::Timeout:
        return AttemptOutcome::TimedOut;
    case ErrorClass::Permanent:
        return AttemptOutcome::FailedPermanent;
    case ErrorClass::Uncertain:
        return AttemptOutcome::Uncertain;
    default:
        return AttemptOutcome::FailedTransient;
    }
}

} // namespace keepflow
