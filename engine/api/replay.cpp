#include "api/replay.h"

#include <QJsonObject>

#include <algorithm>
#include <optional>

namespace keepflow {

namespace {

/// The state a step event leaves its step in; nullopt for events that do not move a step (run,
/// item, resource and operator events, and step events that only report).
std::optional<StepState> stateAfter(EventType type) {
    switch (type) {
    case EventType::StepScheduled:
        return StepState::Scheduled;
    case EventType::StepQueued:
        return StepState::Queued;
    case EventType::AttemptStarted:
    case EventType::StepExpanded:
    case EventType::StepFallingBack:
        return StepState::Running;
    case EventType::StepRetrying:
    case EventType::AttemptCrashed:
        return StepState::Retrying;
    case EventType::StepUncertain:
        return StepState::Uncertain;
    case EventType::StepFailed:
        return StepState::Failed;
    case EventType::StepSucceeded:
        return StepState::Succeeded;
    case EventType::StepSucceededViaFallback:
        return StepState::SucceededViaFallback;
    case EventType::StepPartiallySucceeded:
        return StepState::PartiallySucceeded;
    case EventType::StepBlocked:
        return StepState::Blocked;
    case EventType::StepSkipped:
        return StepState::Skipped;
    case EventType::StepWaitingForApproval:
        return StepState::WaitingForOperator;
    case EventType::RunCreated:
    case EventType::RunResumed:
    case EventType::RunStateChanged:
    case EventType::RunWaiting:
    case EventType::RunStalled:
    case EventType::RunAdoptionLimitReached:
    case EventType::RunFinished:
    case EventType::AttemptFailed:
    case EventType::ItemSucceeded:
    case EventType::ItemRetrying:
    case EventType::ItemFailed:
    case EventType::ItemUncertain:
    case EventType::SubflowStarted:
    case EventType::ResourceOpened:
    case EventType::ResourceHalfOpen:
    case EventType::ResourceClosed:
    case EventType::ResourcePaused:
    case EventType::ResourceUnpaused:
    case EventType::ResourceReset:
    case EventType::OperatorRetry:
    case EventType::OperatorRetryFailedItems:
    case EventType::OperatorSkip:
    case EventType::OperatorMarkSucceeded:
    case EventType::OperatorResolveHappened:
    case EventType::OperatorResolveNotHappened:
    case EventType::OperatorApprove:
    case EventType::OperatorReject:
    case EventType::OperatorSetInput:
    case EventType::OperatorRerunFrom:
    case EventType::OperatorPause:
    case EventType::OperatorUnpause:
    case EventType::OperatorPauseStep:
    case EventType::OperatorUnpauseStep:
    case EventType::OperatorCancel:
    case EventType::AlertFired:
    case EventType::OperatorSetPolicy:
    case EventType::ResourceLimitsChanged:
    case EventType::OperatorUpgrade:
        return std::nullopt;
    }
    return std::nullopt;
}

/// The failures an attempt's start event implies. Its attempt_budget is
/// attemptBudget(running, attempt, failures, max_attempts), which gives the failures back when
/// the budget is above the attempt number or the attempt is the last the policy allows; nullopt
/// otherwise (attempts beyond a lowered budget, events written before the budget was).
std::optional<int> failuresAtStart(const QJsonObject &detail) {
    const int attempt = detail.value(QLatin1String("attempt")).toInt(0);
    const int budget = detail.value(QLatin1String("attempt_budget")).toInt(0);
    const int maxAttempts = detail.value(QLatin1String("max_attempts")).toInt(0);
    if (attempt < 1 || maxAttempts < 1 || budget < attempt ||
        (budget == attempt && attempt != maxAttempts))
        return std::nullopt;
    const int failures = attempt - 1 - (budget - maxAttempts);
    if (failures < 0 || attemptBudget(StepState::Running, attempt, failures, maxAttempts) != budget)
        return std::nullopt;
    return failures;
}

/// Whether an event ends an attempt, and whether as a failure that counts against the budget:
/// the engine counts every retry and cut-off, and a failure for good once (an attempt_failed
/// when the policy stopped the retries, else the step_failed or fallback it leads to).
enum class AttemptEnd { None, Outcome, CountedFailure, FailureIfOpen };

AttemptEnd attemptEndOf(EventType type) {
    switch (type) {
    case EventType::StepSucceeded:
    case EventType::StepUncertain:
    case EventType::ItemSucceeded:
    case EventType::ItemUncertain:
        return AttemptEnd::Outcome;
    case EventType::StepRetrying:
    case EventType::ItemRetrying:
    case EventType::AttemptCrashed:
        return AttemptEnd::CountedFailure;
    case EventType::AttemptFailed:
    case EventType::StepFailed:
    case EventType::StepFallingBack:
    case EventType::StepSucceededViaFallback:
    case EventType::ItemFailed:
        return AttemptEnd::FailureIfOpen;
    default:
        return AttemptEnd::None;
    }
}

/// Applies the end of an attempt to its failure count and open flag: the count the event
/// carries, or for a history written before events carried it, the engine's rule.
void endAttempt(EventType type, const QJsonObject &detail, int &failures,
                std::vector<bool>::reference open) {
    const AttemptEnd end = attemptEndOf(type);
    if (end == AttemptEnd::None)
        return;
    if (const QJsonValue counted = detail.value(QLatin1String("failures")); counted.isDouble()) {
        failures = counted.toInt();
        open = false;
        return;
    }
    switch (end) {
    case AttemptEnd::None:
        return;
    case AttemptEnd::Outcome:
        break;
    case AttemptEnd::CountedFailure:
        ++failures;
        break;
    case AttemptEnd::FailureIfOpen:
        failures += open ? 1 : 0;
        break;
    }
    open = false;
}

} // namespace

QHash<QString, StepState> replayStepStates(const QStringList &stepIds,
                                           const QList<EventRow> &events) {
    QHash<QString, StepState> states;
    for (const QString &id : stepIds)
        states.insert(id, StepState::Pending);
    for (const EventRow &event : events) {
        if (isOperatorEvent(event.type)) {
            // The detail lists the steps the action moved, by state name (it is JSON).
            const QJsonObject moved = event.detail.value(QLatin1String("steps")).toObject();
            for (auto it = moved.begin(); it != moved.end(); ++it) {
                if (const auto state = stepStateFromName(it.value().toString()))
                    states.insert(it.key(), *state);
            }
            continue;
        }
        if (event.stepId.isEmpty() || event.detail.contains(QLatin1String("item")))
            continue; // run and item events
        if (const auto state = stateAfter(event.type))
            states.insert(event.stepId, *state);
    }
    return states;
}

QList<ItemRow> ReplayedRun::existingItems() const {
    QList<ItemRow> shown;
    for (qsizetype i = 0; i < items.size(); ++i) {
        if (expanded[static_cast<size_t>(i)])
            shown.append(items[i]);
    }
    return shown;
}

RunReplay::RunReplay(const RunRow &run, const QList<StepRunRow> &steps, const QList<ItemRow> &items,
                     QList<EventRow> events, int checkpointInterval)
    : m_events(std::move(events)) {
    RunRow &r = m_initial.run;
    r.id = run.id;
    r.flowId = run.flowId;
    r.flowName = run.flowName;
    r.params = run.params;
    r.createdAt = run.createdAt;
    r.parentRun = run.parentRun;
    r.parentStep = run.parentStep;
    for (const StepRunRow &stored : steps) {
        StepRunRow row;
        row.runId = stored.runId;
        row.stepId = stored.stepId;
        row.position = stored.position;
        row.resource = stored.resource;
        m_stepIndex.insert(row.stepId, static_cast<int>(m_initial.steps.size()));
        m_initial.steps.append(row);
    }
    for (const ItemRow &stored : items) {
        ItemRow row;
        row.runId = stored.runId;
        row.stepId = stored.stepId;
        row.itemKey = stored.itemKey;
        row.position = stored.position;
        m_itemIndex[row.stepId].insert(row.itemKey, static_cast<int>(m_initial.items.size()));
        m_initial.items.append(row);
    }
    m_initial.expanded.assign(static_cast<size_t>(m_initial.items.size()), false);
    m_initial.itemAttemptOpen.assign(static_cast<size_t>(m_initial.items.size()), false);
    m_initial.stepAttemptOpen.assign(static_cast<size_t>(m_initial.steps.size()), false);
    m_interval = checkpointInterval > 0 ? checkpointInterval
                                        : std::max(64, static_cast<int>(m_initial.steps.size()));
    m_state = m_initial;
    m_changedMark.assign(static_cast<size_t>(m_initial.steps.size()), false);
}

void RunReplay::append(const QList<EventRow> &events) {
    m_events.append(events);
}

const EventRow *RunReplay::currentEvent() const {
    return m_position >= 0 ? &m_events[m_position] : nullptr;
}

qsizetype RunReplay::indexOfEvent(qint64 eventId) const {
    // Ids grow with the history (on PostgreSQL not strictly in commit order, so search all).
    for (qsizetype i = m_events.size() - 1; i >= 0; --i) {
        if (m_events[i].id == eventId)
            return i;
    }
    return -1;
}

qsizetype RunReplay::indexAtTime(qint64 atMs) const {
    // Times never decrease along a run's history: the first event later than atMs, minus one.
    const auto later = std::upper_bound(m_events.cbegin(), m_events.cend(), atMs,
                                        [](qint64 at, const EventRow &e) { return at < e.at; });
    return static_cast<qsizetype>(later - m_events.cbegin()) - 1;
}

int RunReplay::stepIndex(const QString &stepId) const {
    return m_stepIndex.value(stepId, -1);
}

void RunReplay::markChanged(int step) {
    if (step < 0 || m_allChanged || m_changedMark[static_cast<size_t>(step)])
        return;
    m_changedMark[static_cast<size_t>(step)] = true;
    m_changed.append(step);
}

void RunReplay::seek(qsizetype index) {
    index = std::clamp<qsizetype>(index, -1, m_events.size() - 1);
    for (int step : std::as_const(m_changed))
        m_changedMark[static_cast<size_t>(step)] = false;
    m_changed.clear();
    m_allChanged = false;
    // From the latest checkpoint at or before index when that is nearer than where the cursor
    // is (a move back, or a jump far ahead); checkpoints are taken on the way forward, so every
    // one up to the furthest position reached exists.
    const qsizetype k =
        std::min<qsizetype>((index + 1) / m_interval, static_cast<qsizetype>(m_checkpoints.size()));
    const qsizetype checkpointAt = k * m_interval - 1; // -1: the run as created
    if (index < m_position || checkpointAt > m_position) {
        if (k == 0)
            m_state = m_initial;
        else
            m_state = m_checkpoints[static_cast<size_t>(k - 1)];
        m_position = checkpointAt;
        m_allChanged = true;
    }
    while (m_position < index) {
        ++m_position;
        apply(m_events[m_position]);
        if ((m_position + 1) % m_interval == 0 &&
            static_cast<qsizetype>(m_checkpoints.size()) == (m_position + 1) / m_interval - 1)
            m_checkpoints.push_back(m_state);
    }
    if (m_allChanged) {
        m_changed.clear();
        for (int i = 0; i < static_cast<int>(m_state.steps.size()); ++i)
            m_changed.append(i);
    }
}

void RunReplay::apply(const EventRow &event) {
    const QJsonObject &detail = event.detail;
    const QString error = detail.value(QLatin1String("error")).toString();
    const auto errorClass =
        errorClassFromName(detail.value(QLatin1String("error_class")).toString());
    RunRow &run = m_state.run;

    if (isOperatorEvent(event.type)) {
        if (event.type == EventType::OperatorPause)
            run.paused = true;
        else if (event.type == EventType::OperatorUnpause)
            run.paused = false;
        const int target = stepIndex(event.stepId);
        if (event.type == EventType::OperatorSetInput && target >= 0)
            m_state.steps[target].inputOverride = detail.value(QLatin1String("input"));
        if (event.type == EventType::OperatorSetPolicy && target >= 0) {
            // "changed" is the step's whole override after this change, as stored.
            m_state.steps[target].policyOverride = detail.value(QLatin1String("changed"));
            markChanged(target);
        }
        // The detail lists the steps the action moved, by state name.
        const QJsonObject moved = detail.value(QLatin1String("steps")).toObject();
        for (auto it = moved.begin(); it != moved.end(); ++it) {
            const int s = stepIndex(it.key());
            const auto state = stepStateFromName(it.value().toString());
            if (s < 0 || !state)
                continue;
            StepRunRow &step = m_state.steps[s];
            // An attempt cut short by the action reports nothing that counts any more.
            m_state.stepAttemptOpen[static_cast<size_t>(s)] = false;
            if (step.state == StepState::Blocked && !isFinal(*state))
                step.error.clear(); // unblocked: what blocked it no longer holds
            step.state = *state;
            step.endedAt = isFinal(*state) ? event.at : 0;
            if (!isFinal(*state)) {
                step.viaFallback = false;
                step.notBefore = 0;
            }
            if (event.type == EventType::OperatorReject)
                step.errorClass = ErrorClass::Permanent;
            if (event.type == EventType::OperatorRerunFrom) {
                // A new generation: its attempts, error and items start afresh.
                ++step.generation;
                step.failures = 0;
                step.startedAt = 0;
                step.error.clear();
                step.errorClass.reset();
                const auto keys = m_itemIndex.constFind(step.stepId);
                if (keys != m_itemIndex.cend()) {
                    for (int item : *keys)
                        m_state.expanded[static_cast<size_t>(item)] = false;
                }
            }
            markChanged(s);
        }
        // The items an action reopens or settles, by the engine's rule for items: failed ones
        // run again (retry), uncertain ones took effect (resolved as happened) or run again
        // (resolved as not happened).
        bool failedToo = false;
        std::optional<StepEvent> uncertainTo;
        if (event.type == EventType::OperatorRetryFailedItems ||
            event.type == EventType::OperatorRetry)
            failedToo = true;
        else if (event.type == EventType::OperatorResolveNotHappened)
            uncertainTo = StepEvent::Reopen;
        else if (event.type == EventType::OperatorResolveHappened)
            uncertainTo = StepEvent::OperatorSucceeded;
        const auto keys = m_itemIndex.constFind(event.stepId);
        if ((failedToo || uncertainTo) && target >= 0 && keys != m_itemIndex.cend() &&
            moved.contains(event.stepId)) {
            for (int item : *keys) {
                ItemRow &row = m_state.items[item];
                if (!m_state.expanded[static_cast<size_t>(item)])
                    continue;
                std::optional<StepEvent> itemEvent;
                if (row.state == StepState::Failed && failedToo)
                    itemEvent = StepEvent::Reopen;
                else if (row.state == StepState::Uncertain)
                    itemEvent = uncertainTo;
                const auto next = itemEvent ? nextItemState(row.state, *itemEvent) : std::nullopt;
                if (!next)
                    continue;
                row.state = *next;
                m_state.itemAttemptOpen[static_cast<size_t>(item)] = false;
                if (*itemEvent == StepEvent::Reopen) {
                    row.notBefore = 0;
                    row.failures = 0;
                    row.error.clear();
                    row.errorClass.reset();
                }
                m_state.steps[target].error.clear(); // the step goes on with its items
            }
        }
        // Steps whose attempt count or failures the action changed (a new generation starts
        // from none; a retry gives a fresh budget).
        const QJsonObject attempts = detail.value(QLatin1String("attempts")).toObject();
        for (auto it = attempts.begin(); it != attempts.end(); ++it) {
            if (const int s = stepIndex(it.key()); s >= 0) {
                m_state.steps[s].attempts = it.value().toInt();
                markChanged(s);
            }
        }
        const QJsonObject failures = detail.value(QLatin1String("failures")).toObject();
        for (auto it = failures.begin(); it != failures.end(); ++it) {
            if (const int s = stepIndex(it.key()); s >= 0) {
                m_state.steps[s].failures = it.value().toInt();
                markChanged(s);
            }
        }
        return;
    }

    if (event.stepId.isEmpty()) {
        switch (event.type) {
        case EventType::RunStateChanged:
        case EventType::RunWaiting:
        case EventType::RunFinished:
            if (const auto state =
                    runStateFromName(detail.value(QLatin1String("state")).toString()))
                run.state = *state;
            run.endedAt = event.type == EventType::RunFinished ? event.at : 0;
            break;
        case EventType::RunResumed:
            // A worker takes a run up as running and says so only if it turns out otherwise.
            run.state = RunState::Running;
            run.endedAt = 0;
            break;
        case EventType::RunAdoptionLimitReached:
            run.paused = true;
            break;
        default:
            break;
        }
        return;
    }

    const int s = stepIndex(event.stepId);
    if (s < 0)
        return;
    StepRunRow &step = m_state.steps[s];
    markChanged(s);

    if (detail.contains(QLatin1String("item"))) {
        const auto keys = m_itemIndex.constFind(event.stepId);
        const int item = keys == m_itemIndex.cend()
                             ? -1
                             : keys->value(detail.value(QLatin1String("item")).toString(), -1);
        if (event.type == EventType::AttemptStarted)
            ++step.attempts; // the step counts its items' attempts
        if (item < 0)
            return;
        ItemRow &row = m_state.items[item];
        m_state.expanded[static_cast<size_t>(item)] = true;
        auto open = m_state.itemAttemptOpen[static_cast<size_t>(item)];
        endAttempt(event.type, detail, row.failures, open);
        switch (event.type) {
        case EventType::AttemptStarted:
            row.state = StepState::Running;
            row.attempts = detail.value(QLatin1String("attempt")).toInt(row.attempts + 1);
            row.failures = failuresAtStart(detail).value_or(row.failures);
            open = true;
            break;
        case EventType::ItemSucceeded:
            row.state = StepState::Succeeded;
            row.error.clear();
            row.errorClass.reset();
            break;
        case EventType::ItemRetrying:
        case EventType::AttemptCrashed:
            row.state = StepState::Retrying;
            row.error = error;
            row.errorClass =
                event.type == EventType::AttemptCrashed ? ErrorClass::Crashed : errorClass;
            row.notBefore =
                static_cast<qint64>(detail.value(QLatin1String("next_attempt_at")).toDouble(0));
            break;
        case EventType::ItemFailed:
            row.state = StepState::Failed;
            row.error = error;
            row.errorClass = errorClass;
            break;
        case EventType::ItemUncertain:
            row.state = StepState::Uncertain;
            row.error = error;
            row.errorClass = ErrorClass::Uncertain;
            break;
        default:
            break;
        }
        return;
    }

    if (const auto state = stateAfter(event.type))
        step.state = *state;
    endAttempt(event.type, detail, step.failures, m_state.stepAttemptOpen[static_cast<size_t>(s)]);
    switch (event.type) {
    case EventType::StepScheduled:
        step.notBefore = static_cast<qint64>(detail.value(QLatin1String("until")).toDouble(0));
        break;
    case EventType::StepQueued:
        step.queuedAt = event.at;
        break;
    case EventType::AttemptStarted:
        step.attempts = detail.value(QLatin1String("attempt")).toInt(step.attempts + 1);
        step.failures = failuresAtStart(detail).value_or(step.failures);
        m_state.stepAttemptOpen[static_cast<size_t>(s)] = true;
        if (step.startedAt == 0)
            step.startedAt = event.at;
        step.notBefore = 0;
        step.queuedAt = 0;
        break;
    case EventType::StepExpanded: {
        if (step.startedAt == 0)
            step.startedAt = event.at;
        const auto keys = m_itemIndex.constFind(event.stepId);
        if (keys != m_itemIndex.cend()) {
            for (int item : *keys) {
                ItemRow fresh = m_initial.items[item];
                fresh.generation = step.generation;
                m_state.items[item] = fresh;
                m_state.itemAttemptOpen[static_cast<size_t>(item)] = false;
                m_state.expanded[static_cast<size_t>(item)] = true;
            }
        }
        break;
    }
    case EventType::StepWaitingForApproval:
        if (step.startedAt == 0)
            step.startedAt = event.at;
        break;
    case EventType::StepRetrying:
        step.error = error;
        step.errorClass = errorClass;
        step.notBefore =
            static_cast<qint64>(detail.value(QLatin1String("next_attempt_at")).toDouble(0));
        break;
    case EventType::AttemptCrashed:
        step.error = error;
        step.errorClass = ErrorClass::Crashed;
        break;
    case EventType::AttemptFailed:
    case EventType::StepFallingBack:
        step.error = error;
        if (errorClass)
            step.errorClass = errorClass;
        break;
    case EventType::StepUncertain:
        step.error = error;
        step.errorClass = ErrorClass::Uncertain;
        break;
    case EventType::StepFailed:
        step.error = error;
        if (errorClass)
            step.errorClass = errorClass;
        step.endedAt = event.at;
        break;
    case EventType::StepSucceeded:
        step.error.clear();
        step.errorClass.reset();
        step.endedAt = event.at;
        break;
    case EventType::StepSucceededViaFallback:
        step.viaFallback = true;
        step.endedAt = event.at;
        break;
    case EventType::StepPartiallySucceeded:
        step.error = error;
        step.errorClass = ErrorClass::Transient;
        step.endedAt = event.at;
        break;
    case EventType::StepBlocked: {
        const QString upstream = detail.value(QLatin1String("upstream")).toString();
        step.error = upstream.isEmpty()
                         ? detail.value(QLatin1String("reason")).toString()
                         : QStringLiteral("upstream step %1 did not succeed").arg(upstream);
        step.endedAt = event.at;
        break;
    }
    case EventType::StepSkipped:
        step.endedAt = event.at;
        break;
    default:
        break;
    }
}

} // namespace keepflow
