#include "operator/upgradeplan.h"

#include "model/flow.h"
#include "model/flowfile.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace keepflow {

namespace {

/// The step's definition as the canonical writer spells it, without editor data.
QJsonObject stepDefinition(const Flow &flow, const Step &step) {
    Flow one;
    one.name = flow.name;
    one.steps = {step};
    QJsonObject json = QJsonDocument::fromJson(serializeFlow(one))
                           .object()
                           .value(QLatin1String("steps"))
                           .toArray()
                           .first()
                           .toObject();
    json.remove(QStringLiteral("ui"));
    return json;
}

bool sameRetry(const RetryPolicy &a, const RetryPolicy &b) {
    return a.maxAttempts == b.maxAttempts && a.initialIntervalMs == b.initialIntervalMs &&
           a.backoff == b.backoff && a.maxIntervalMs == b.maxIntervalMs && a.jitter == b.jitter &&
           a.nonRetryable == b.nonRetryable;
}

/// Kept whatever the new version says: what it did has happened.
bool isSettledSuccess(StepState state) {
    return countsAsSuccess(state);
}

} // namespace

bool stepDefinitionChanged(const Flow &from, const Step &a, const Flow &to, const Step &b) {
    return stepDefinition(from, a) != stepDefinition(to, b) ||
           !sameRetry(from.effectiveRetry(a), to.effectiveRetry(b)) ||
           from.effectiveTimeoutMs(a) != to.effectiveTimeoutMs(b);
}

QString UpgradePlan::refusalText() const {
    QStringList lines;
    for (const UpgradeRefusal &refusal : refusals)
        lines << (refusal.step.isEmpty()
                      ? refusal.reason
                      : QStringLiteral("step %1: %2").arg(refusal.step, refusal.reason));
    return lines.join(QLatin1Char('\n'));
}

QString UpgradePlan::summary() const {
    return QStringLiteral("keeps %1 step(s), replaces %2, adds %3, removes %4")
        .arg(keep.size())
        .arg(replace.size())
        .arg(add.size())
        .arg(remove.size());
}

UpgradePlan planUpgrade(const RunSnapshot &run, const Flow &to) {
    UpgradePlan plan;
    const Flow &from = *run.flow;
    const auto refuse = [&plan](const QString &step, const QString &reason) {
        plan.refusals.append(UpgradeRefusal{step, reason});
    };
    if (to.name != from.name) {
        // Nothing else compares: the steps of two flows only share names by chance.
        refuse({}, QStringLiteral("the file is flow \"%1\" but the run is of flow \"%2\"")
                       .arg(to.name, from.name));
        return plan;
    }
    if (run.state == RunState::Succeeded || run.state == RunState::Cancelled)
        refuse({},
               QStringLiteral("the run is %1: nothing of it runs again").arg(stateName(run.state)));

    const auto stateOf = [&](qsizetype fromIndex) {
        return fromIndex < run.steps.size() ? run.steps[fromIndex].state : StepState::Pending;
    };
    // Where each step of `to` stands once the upgrade is applied: kept steps as they are,
    // replaced and added ones pending.
    QHash<QString, StepState> after;
    for (const Step &step : to.steps) {
        const qsizetype o = from.indexOfStep(step.id);
        if (o < 0) {
            plan.add << step.id;
            after.insert(step.id, StepState::Pending);
            continue;
        }
        const StepState state = stateOf(o);
        const bool changed = stepDefinitionChanged(from, from.steps[o], to, step);
        if (isSettledSuccess(state) || !changed) {
            plan.keep << step.id;
            after.insert(step.id, state);
            if (changed)
                plan.keptChanged << step.id;
            if (state == StepState::Running)
                refuse(step.id, QStringLiteral("an attempt is in flight; a run moves to a new "
                                               "version only when nothing is under way (pause "
                                               "the run, let the attempt end, then upgrade)"));
            continue;
        }
        plan.replace << step.id;
        after.insert(step.id, StepState::Pending);
        const bool foreach = !from.steps[o].foreach.isUndefined();
        if (state == StepState::Running && foreach)
            refuse(step.id, QStringLiteral("foreach step part way through its items; its "
                                           "definition changes (let it finish first)"));
        else if (state == StepState::Running)
            refuse(step.id, QStringLiteral("an attempt is in flight (started, outcome not known "
                                           "yet) and its definition changes; upgrade once it "
                                           "ended (pause the run to let it finish)"));
        else if (state == StepState::Uncertain)
            refuse(step.id, QStringLiteral("its outcome is uncertain; replacing it would forget "
                                           "that: resolve it first (--happened or "
                                           "--not-happened)"));
        else if (state == StepState::Paused)
            refuse(step.id, QStringLiteral("an operator holds it (paused); unpause it first, "
                                           "or leave its definition as it is"));
        else if (foreach && (run.steps[o].uncertainItems > 0))
            refuse(step.id, QStringLiteral("%1 item(s) have an uncertain outcome; resolve them "
                                           "first")
                                .arg(run.steps[o].uncertainItems));
    }
    for (qsizetype o = 0; o < from.steps.size(); ++o) {
        const Step &step = from.steps[o];
        if (to.indexOfStep(step.id) >= 0)
            continue;
        plan.remove << step.id;
        const StepState state = stateOf(o);
        if (isSettledSuccess(state) && state != StepState::Skipped)
            refuse(step.id, QStringLiteral("it %1 and the new version removes it; what it did "
                                           "stays done (keep the step in the new version)")
                                .arg(state == StepState::Succeeded ? QStringLiteral("succeeded")
                                                                   : stateName(state)));
        else if (state == StepState::Running)
            refuse(step.id, QStringLiteral("an attempt is in flight (started, outcome not known "
                                           "yet) and the new version removes it"));
        else if (state == StepState::Uncertain)
            refuse(step.id, QStringLiteral("its outcome is uncertain and the new version removes "
                                           "it: resolve it first"));
    }
    // A kept success cannot run again, so what the new version makes it wait for must have
    // succeeded already. An upstream it waited for before (a join that let it run after a
    // failure, say) is no new dependency: it ran with that one as it was.
    for (const Step &step : to.steps) {
        if (!plan.keep.contains(step.id) || !isSettledSuccess(after.value(step.id)))
            continue;
        const QStringList before = from.step(step.id)->after;
        for (const QString &upstream : step.after) {
            if (before.contains(upstream))
                continue;
            if (plan.add.contains(upstream))
                refuse(step.id, QStringLiteral("it %1 already and would depend on new step %2, "
                                               "which has not run")
                                    .arg(stateName(after.value(step.id)), upstream));
            else if (!isSettledSuccess(after.value(upstream, StepState::Pending)))
                refuse(step.id,
                       QStringLiteral("it %1 already and would depend on step %2, which has not "
                                      "succeeded (%3)")
                           .arg(stateName(after.value(step.id)), upstream,
                                plan.replace.contains(upstream)
                                    ? QStringLiteral("it is replaced and runs again")
                                    : stateName(after.value(upstream))));
        }
    }
    return plan;
}

QJsonObject upgradePlanJson(const UpgradePlan &plan) {
    QJsonArray refusals;
    for (const UpgradeRefusal &refusal : plan.refusals)
        refusals.append(QJsonObject{{QStringLiteral("step"), refusal.step.isEmpty()
                                                                 ? QJsonValue(QJsonValue::Null)
                                                                 : QJsonValue(refusal.step)},
                                    {QStringLiteral("reason"), refusal.reason}});
    return QJsonObject{{QStringLiteral("keep"), QJsonArray::fromStringList(plan.keep)},
                       {QStringLiteral("replace"), QJsonArray::fromStringList(plan.replace)},
                       {QStringLiteral("add"), QJsonArray::fromStringList(plan.add)},
                       {QStringLiteral("remove"), QJsonArray::fromStringList(plan.remove)},
                       {QStringLiteral("refusals"), refusals}};
}

} // namespace keepflow
