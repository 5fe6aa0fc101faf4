#include "runtime/engineimpl.h"

// Upgrading a run to another version of its flow: planUpgrade() (operator/upgradeplan.h) decides
// what is kept, replaced, added and removed; here the loaded run takes the new version's shape
// in the ledger, and after the commit its live state is built again from the rows.

#include "operator/upgradeplan.h"
#include "store/store.h"

#include <QJsonArray>

namespace keepflow {

namespace {

/// A replaced step (or a fallback standing by again) starts over as the new version's step:
/// pending in a new generation, so its attempts get new idempotency keys.
void startOver(LiveStep &step) {
    ++step.generation;
    step.state = StepState::Pending;
    step.attempts = 0;
    step.failures = 0;
    step.startedAt = 0;
    step.endedAt = 0;
    step.notBefore = 0;
    step.error.clear();
    step.errorClass.reset();
    step.viaFallback = false;
    step.fallbackActive = false;
    step.output = QJsonValue(QJsonValue::Undefined);
    step.inputOverride = QJsonValue(QJsonValue::Undefined); // set for the old definition
    step.foreach.reset();
}

} // namespace

Result<Engine::Impl::AppliedUpgrade> Engine::Impl::applyUpgrade(LiveRun &run,
                                                                const OperatorAction &action) {
    if (action.flowVersion <= 0)
        return Status::error(
            QStringLiteral("upgrade of run %1: no flow version to move to").arg(run.id));
    auto target = planFor(action.flowVersion);
    if (!target)
        return target.status();
    const std::shared_ptr<Plan> from = run.plan;
    const std::shared_ptr<Plan> to = *target;
    if (to->flowId == from->flowId)
        return Status::error(QStringLiteral("run %1 already follows %2 v%3")
                                 .arg(run.id, from->flow->name)
                                 .arg(from->version));
    auto snapshot = snapshotOf(run, QString());
    if (!snapshot)
        return snapshot.status();
    auto items = store.items(run.id);
    if (!items)
        return items.status();
    snapshot->countItems(*items);
    const UpgradePlan upgrade = planUpgrade(*snapshot, *to->flow);
    if (upgrade.refused())
        return Status::error(QStringLiteral("run %1 cannot move to %2 v%3:\n%4")
                                 .arg(run.id, to->flow->name)
                                 .arg(to->version)
                                 .arg(upgrade.refusalText()));

    // Nothing is in flight (planUpgrade refuses otherwise): the steps move to their new
    // positions; what refers to old positions in memory (queues, timers) is dropped here and
    // rebuilt by reloadUpgraded() after the commit.
    const Flow &newFlow = *to->flow;
    std::vector<LiveStep> old = std::move(run.steps);
    run.steps = std::vector<LiveStep>(static_cast<size_t>(newFlow.steps.size()));
    run.plan = to;
    run.candidates.clear(); // old positions; every step that can move is listed again below
    for (int j = 0; j < static_cast<int>(newFlow.steps.size()); ++j) {
        const QString &id = newFlow.steps[j].id;
        const qsizetype o = from->flow->indexOfStep(id);
        LiveStep &step = run.step(j);
        if (o >= 0)
            step = std::move(old[static_cast<size_t>(o)]);
        step.inQueue = false;
        step.candidate = false;
        ++step.timerStamp;
        if (upgrade.replace.contains(id)) {
            startOver(step);
            ledger.clearItems(run, j);
        }
    }
    for (const QString &id : upgrade.remove)
        ledger.removeStep(run, id);
    // A fallback that stood in for a replaced step stands by again for the new one.
    for (const QString &id : upgrade.replace) {
        const int f = to->fallbackStep[static_cast<int>(newFlow.indexOfStep(id))];
        if (f >= 0 && run.step(f).state != StepState::Pending &&
            !upgrade.replace.contains(newFlow.steps[f].id))
            startOver(run.step(f));
    }
    run.counts = {};
    for (const LiveStep &step : run.steps)
        ++run.counts[static_cast<int>(step.state)];
    // Steps blocked behind one that runs again (or a new one) may run after all.
    for (const QStringList *ids : {&upgrade.replace, &upgrade.add}) {
        for (const QString &id : *ids)
            ledger.unblockDownstream(run, static_cast<int>(newFlow.indexOfStep(id)));
    }
    for (int j = 0; j < static_cast<int>(run.steps.size()); ++j) {
        ledger.recordStep(run, j); // every position may have moved
        if (!isFinal(run.step(j).state))
            ledger.addCandidate(run, j);
    }

    QJsonObject detail = upgradePlanJson(upgrade);
    detail.remove(QStringLiteral("refusals"));
    detail.insert(QStringLiteral("kept_changed"), QJsonArray::fromStringList(upgrade.keptChanged));
    detail.insert(QStringLiteral("from_version"), from->version);
    detail.insert(QStringLiteral("to_version"), to->version);
    detail.insert(QStringLiteral("from_flow_id"), from->flowId);
    detail.insert(QStringLiteral("to_flow_id"), to->flowId);
    const QString message = QStringLiteral("run %1 moves from %2 v%3 to v%4: %5")
                                .arg(run.id, newFlow.name)
                                .arg(from->version)
                                .arg(to->version)
                                .arg(upgrade.summary());
    return AppliedUpgrade{message, detail};
}

Status Engine::Impl::reloadUpgraded(const QString &runId) {
    LiveRun *run = findRun(runId);
    if (!run)
        return Status::ok(); // another worker took it as it was committed
    const bool held = !run->leaseReleased;
    unload(runId);
    if (!held)
        return Status::ok(); // whoever takes it next loads it from its rows
    auto taken = adopt(runId, true);
    if (!taken)
        return taken.status();
    return Status::ok();
}

} // namespace keepflow
