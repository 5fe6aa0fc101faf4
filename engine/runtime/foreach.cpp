#include "runtime/engineimpl.h"

// Foreach steps: the list and its item keys, expansion into items, scheduling the items up to
// the step's concurrency, finishing the step once every item is final (tolerance, partial
// success), reopening failed or uncertain items, and rebuilding all of it after a restart. The
// items' attempts are the attempt target's (attempts.cpp).

#include "model/flowfile.h"
#include "store/jsonbytes.h"
#include "store/store.h"

#include <QSet>

namespace keepflow {

Result<std::pair<QJsonArray, QStringList>> Engine::Impl::foreachList(const LiveRun &run,
                                                                     int i) const {
    const Step &def = run.def(i);
    TemplateScope scope = scopeFor(run, i, RunLedger::idempotencyKey(run, i));
    // foreach may name steps that `with` does not: give it every finished upstream output.
    for (qsizetype u = 0; u < run.plan->flow->steps.size(); ++u) {
        if (!run.step(u).output.isUndefined())
            scope.stepOutputs.insert(run.def(u).id, run.step(u).output);
    }
    const auto list = renderTemplates(def.foreach, scope);
    if (!list)
        return Status::error(QStringLiteral("foreach: ") + list.error());
    if (!list->isArray())
        return Status::error(QStringLiteral("foreach: expected a list, got %1")
                                 .arg(QString::fromUtf8(jsonBytes(*list).left(80))));
    const QJsonArray items = list->toArray();
    QStringList keys;
    QSet<QString> seen;
    for (qsizetype p = 0; p < items.size(); ++p) {
        QString key = QString::number(p);
        if (!def.itemKey.isEmpty()) {
            scope.item = items[p];
            const auto rendered = renderTemplates(QJsonValue(def.itemKey), scope);
            if (!rendered)
                return Status::error(
                    QStringLiteral("item_key of item %1: %2").arg(p).arg(rendered.error()));
            key = rendered->isString() ? rendered->toString()
                                       : QString::fromUtf8(jsonBytes(*rendered));
        }
        if (seen.contains(key))
            return Status::error(
                QStringLiteral("item_key \"%1\" is given to two items (%2 and an earlier one)")
                    .arg(key)
                    .arg(p));
        seen.insert(key);
        keys << key;
    }
    return std::make_pair(items, keys);
}

void Engine::Impl::expandForeach(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    const Step &def = run.def(i);
    ledger.transition(run, i, StepEvent::AttemptStarted);
    if (step.startedAt == 0)
        step.startedAt = now;
    step.notBefore = 0;
    auto list = foreachList(run, i);
    if (!list) {
        step.errorClass = ErrorClass::Permanent;
        step.error = list.error();
        failForGood(run, i, now);
        return;
    }
    auto fe = std::make_unique<ForeachProgress>();
    fe->items = list->first;
    fe->keys = list->second;
    const auto count = static_cast<size_t>(fe->items.size());
    fe->states.assign(count, StepState::Pending);
    fe->outputs.resize(count);
    fe->errors.resize(count);
    for (size_t p = 0; p < count; ++p)
        fe->pending.push_back(static_cast<int>(p));
    fe->concurrency = std::max(1, def.concurrency.value_or(4));
    step.foreach = std::move(fe);
    for (int p = 0; p < static_cast<int>(count); ++p)
        ledger.recordItem(run, i, p);
    ledger.recordStep(run, i);
    ledger.event(run, i, EventType::StepExpanded,
                 {{QStringLiteral("items"), static_cast<int>(count)},
                  {QStringLiteral("concurrency"), step.foreach->concurrency}},
                 now);
    scheduleItems(run, i, now);
}

/// Starts what may start (due retries first, then new items, up to the concurrency) and
/// finishes the step once every item is final.
void Engine::Impl::scheduleItems(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    ForeachProgress &fe = *step.foreach;
    if (draining || run.paused)
        return;
    // Waiting items first, in order: queued for the resource, then retries that are due.
    std::vector<int> waiting;
    for (auto &[pos, item] : fe.active) {
        if (item.state == StepState::Queued ||
            (item.state == StepState::Retrying && item.notBefore <= now))
            waiting.push_back(pos);
    }
    for (const int pos : waiting) {
        if (fe.running >= fe.concurrency)
            break;
        // Every waiting item gets its turn: the resource's queue, not position, orders them.
        tryStart(*AttemptTarget::item(run, i, pos), now);
    }
    while (step.foreach && fe.running < fe.concurrency && !fe.pending.empty()) {
        const int pos = fe.pending.front();
        fe.pending.pop_front();
        fe.active.emplace(pos, LiveItem{});
        if (!tryStart(*AttemptTarget::item(run, i, pos), now))
            break; // the resource takes no call now: the rest would only queue behind it
    }
    if (step.foreach && fe.active.empty() && fe.pending.empty())
        finishForeach(run, i, now);
}

void Engine::Impl::finishForeach(LiveRun &run, int i, qint64 now) {
    LiveStep &step = run.step(i);
    ForeachProgress &fe = *step.foreach;
    const Step &def = run.def(i);
    const int total = static_cast<int>(fe.states.size());
    QJsonArray succeeded;
    QJsonArray failed;
    QString firstError;
    for (size_t p = 0; p < fe.states.size(); ++p) {
        if (fe.states[p] == StepState::Succeeded) {
            succeeded.append(fe.outputs[p]);
        } else if (fe.states[p] == StepState::Failed || fe.states[p] == StepState::Uncertain) {
            failed.append(QJsonObject{{QStringLiteral("key"), fe.keys[static_cast<qsizetype>(p)]},
                                      {QStringLiteral("error"), fe.errors[p]}});
            if (firstError.isEmpty())
                firstError =
                    QStringLiteral("%1: %2").arg(fe.keys[static_cast<qsizetype>(p)], fe.errors[p]);
        }
    }
    step.output =
        QJsonObject{{QStringLiteral("succeeded"), succeeded}, {QStringLiteral("failed"), failed}};
    const QJsonObject counts{{QStringLiteral("total"), total},
                             {QStringLiteral("succeeded"), fe.succeeded},
                             {QStringLiteral("failed"), fe.failed + fe.uncertain}};
    if (fe.uncertain > 0) {
        ledger.transition(run, i, StepEvent::OutcomeUnknown);
        step.errorClass = ErrorClass::Uncertain;
        step.error = QStringLiteral("%1 of %2 items have an uncertain outcome; first: %3")
                         .arg(fe.uncertain)
                         .arg(total)
                         .arg(firstError);
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepUncertain,
                     {{QStringLiteral("error"), step.error}, {QStringLiteral("items"), counts}},
                     now);
        step.foreach.reset();
        ledger.markDirty(run);
        return;
    }
    if (fe.failed == 0) {
        ledger.transition(run, i, StepEvent::AttemptSucceeded);
        step.endedAt = now;
        step.error.clear();
        step.errorClass.reset();
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepSucceeded, {{QStringLiteral("items"), counts}}, now);
        step.foreach.reset();
        finalized(run, i, now);
        return;
    }
    bool tolerated = false;
    if (def.tolerate) {
        if (def.tolerate->maxFailed)
            tolerated = fe.failed <= *def.tolerate->maxFailed;
        if (def.tolerate->maxFailedRatio)
            tolerated = total > 0 &&
                        static_cast<double>(fe.failed) / total <= *def.tolerate->maxFailedRatio;
    }
    step.error = QStringLiteral("%1 of %2 items failed; first: %3")
                     .arg(fe.failed)
                     .arg(total)
                     .arg(firstError);
    step.errorClass = ErrorClass::Transient;
    step.foreach.reset();
    if (tolerated) {
        ledger.transition(run, i, StepEvent::ItemsPartlyFailed);
        step.endedAt = now;
        ledger.recordStep(run, i);
        ledger.event(run, i, EventType::StepPartiallySucceeded,
                     {{QStringLiteral("items"), counts}, {QStringLiteral("error"), step.error}},
                     now);
        finalized(run, i, now);
        return;
    }
    step.error += QStringLiteral(" (more than `tolerate` allows)");
    failForGood(run, i, now);
}

Result<int> Engine::Impl::reopenItems(LiveRun &run, int i, bool failedToo,
                                      std::optional<StepEvent> uncertainTo,
                                      const QJsonValue &output) {
    auto rows = store.items(run.id);
    if (!rows)
        return rows.status();
    QList<ItemRow> mine;
    for (const ItemRow &row : *rows) {
        if (row.stepId == run.def(i).id)
            mine.append(row);
    }
    QList<ItemRow> changed;
    for (ItemRow &row : mine) {
        const StepState state = row.state;
        std::optional<StepEvent> event;
        if (state == StepState::Failed && failedToo)
            event = StepEvent::Reopen;
        else if (state == StepState::Uncertain)
            event = uncertainTo;
        const auto next = event ? nextItemState(state, *event) : std::nullopt;
        if (!next)
            continue;
        row.state = *next;
        if (*event == StepEvent::Reopen) {
            // A retry that is due now: its attempt numbers go on, its key stays.
            row.notBefore = 0;
            row.failures = 0;
            row.error.clear();
            row.errorClass.reset();
        } else {
            row.output = output.isUndefined() ? QJsonValue(QJsonObject()) : output;
        }
        changed.append(row);
    }
    if (changed.isEmpty())
        return 0;
    for (const ItemRow &row : changed)
        ledger.recordItemRow(row);
    LiveStep &step = run.step(i);
    ledger.transition(run, i, StepEvent::Reopen); // it goes on with its items
    step.endedAt = 0;
    step.error.clear();
    step.output = QJsonValue(QJsonValue::Undefined);
    rebuildForeach(run, mine);
    ledger.recordStep(run, i);
    ledger.addCandidate(run, i);
    ledger.unblockDownstream(run, i);
    return static_cast<int>(changed.size());
}

/// Rebuilds the live state of every running foreach step from its item rows.
void Engine::Impl::rebuildForeach(LiveRun &run, const QList<ItemRow> &itemRows) {
    const Flow &flow = *run.plan->flow;
    QHash<int, QList<const ItemRow *>> byStep;
    for (const ItemRow &row : itemRows) {
        const auto i = flow.indexOfStep(row.stepId);
        if (i >= 0)
            byStep[static_cast<int>(i)].append(&row);
    }
    for (auto it = byStep.begin(); it != byStep.end(); ++it) {
        const int i = it.key();
        LiveStep &step = run.step(i);
        if (step.state != StepState::Running)
            continue;
        auto fe = std::make_unique<ForeachProgress>();
        const QList<const ItemRow *> &rows = it.value();
        const auto list = foreachList(run, i); // the same inputs give the same list
        fe->items = list && list->first.size() == rows.size() ? list->first : QJsonArray();
        const auto count = static_cast<size_t>(rows.size());
        fe->states.assign(count, StepState::Pending);
        fe->outputs.resize(count);
        fe->errors.resize(count);
        fe->concurrency = std::max(1, flow.steps[i].concurrency.value_or(4));
        for (const ItemRow *row : rows) {
            const int pos = row->position;
            if (pos < 0 || static_cast<size_t>(pos) >= count)
                continue;
            while (fe->keys.size() <= pos)
                fe->keys.append(QString());
            fe->keys[pos] = row->itemKey;
            const StepState state = row->state;
            fe->states[static_cast<size_t>(pos)] = state;
            switch (state) {
            case StepState::Succeeded:
                fe->outputs[static_cast<size_t>(pos)] = row->output;
                ++fe->succeeded;
                break;
            case StepState::Failed:
                fe->errors[static_cast<size_t>(pos)] = row->error;
                ++fe->failed;
                break;
            case StepState::Uncertain:
                fe->errors[static_cast<size_t>(pos)] = row->error;
                ++fe->uncertain;
                break;
            case StepState::Pending:
                fe->pending.push_back(pos);
                break;
            default: { // running or retrying: live again
                LiveItem item;
                item.state = state;
                item.attempts = row->attempts;
                item.failures = row->failures;
                item.notBefore = row->notBefore;
                item.errorClass = row->errorClass;
                item.error = row->error;
                if (item.notBefore > 0) {
                    // The timer heap of a new engine starts empty: arm the retry again.
                    item.timerStamp = 1;
                    ledger.timers().push(Due{item.notBefore, run.id, i, item.timerStamp, pos});
                }
                fe->active.emplace(pos, std::move(item));
            }
            }
        }
        std::sort(fe->pending.begin(), fe->pending.end());
        if (fe->items.isEmpty() && count > 0) {
            for (size_t p = 0; p < count; ++p)
                fe->items.append(
                    QJsonValue::Null); // the list no longer renders; keys still identify
        }
        step.foreach = std::move(fe);
    }
}

} // namespace keepflow
