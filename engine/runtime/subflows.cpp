#include "runtime/engineimpl.h"

// Subflow steps: the attempt of a subflow step is a child run, started in the transaction that
// records the attempt (so the link is never lost or made twice); the step's attempt ends when
// the child run finishes, in this engine or, after a restart, as the store tells.

#include "model/flowfile.h"
#include "store/store.h"

#include <QDir>
#include <QFileInfo>

namespace keepflow {

QString Engine::Impl::childRunId(const LiveRun &run, int i) const {
    const LiveStep &step = run.step(i);
    return subflowRunId(run.id, run.def(i).id, step.generation, step.attempts);
}

/// Starts the child run of a subflow step in the transaction that records the attempt, so the
/// link is never lost or made twice. The step's attempt ends when the child run finishes.
void Engine::Impl::startSubflow(LiveRun &run, int i, const QJsonObject &input, qint64 now) {
    LiveStep &step = run.step(i);
    auto fail = [&](const QString &why) {
        completions.push_back(Completion{
            run.id, i, step.attempts, step.generation,
            AttemptResult::failure(ErrorClass::Permanent, QStringLiteral("subflow: ") + why)});
    };
    QString path = input.value(QLatin1String("flow")).toString();
    if (QFileInfo(path).isRelative() && !run.plan->sourcePath.isEmpty())
        path = QFileInfo(run.plan->sourcePath).absoluteDir().filePath(path);
    const FlowLoad load = loadFlowFile(path);
    if (!load.ok()) {
        fail(load.errorText());
        return;
    }
    auto version = store.saveFlowVersion(load.flow->name, serializeFlow(*load.flow),
                                         QFileInfo(path).absoluteFilePath());
    if (!version) {
        fail(version.error());
        return;
    }
    auto plan = planFor(version->id);
    if (!plan) {
        fail(plan.error());
        return;
    }
    const QString childId = childRunId(run, i);
    auto child = newRun(*plan, input.value(QLatin1String("params")).toObject(), childId,
                        {run.id, run.def(i).id}, true);
    if (!child) {
        fail(child.error());
        return;
    }
    LiveRun &r = **child;
    runs[childId] = std::move(*child);
    for (int s = 0; s < static_cast<int>(r.steps.size()); ++s)
        ledger.addCandidate(r, s);
    ledger.event(run, i, EventType::SubflowStarted,
                 {{QStringLiteral("run"), childId}, {QStringLiteral("flow"), load.flow->name}},
                 now);
}

AttemptResult Engine::Impl::subflowResult(const QString &childId, RunState state,
                                          const QJsonObject &outputs) const {
    if (state == RunState::Succeeded)
        return AttemptResult::success(QJsonObject{{QStringLiteral("run"), childId},
                                                  {QStringLiteral("state"), stateName(state)},
                                                  {QStringLiteral("outputs"), outputs}});
    AttemptResult result = AttemptResult::failure(
        ErrorClass::Permanent,
        QStringLiteral("sub-run %1 ended %2").arg(childId, stateName(state)));
    result.errorDetail = stateName(state);
    return result;
}

/// A child run finished: its parent step's attempt ends with it.
void Engine::Impl::notifyParent(const LiveRun &child, RunState state) {
    LiveRun *parent = findRun(child.parentRun);
    if (!parent)
        return; // the parent's next engine asks at load (checkSubflows)
    const auto i = parent->plan->flow->indexOfStep(child.parentStep);
    if (i < 0)
        return;
    const LiveStep &step = parent->step(i);
    if (step.state != StepState::Running || childRunId(*parent, static_cast<int>(i)) != child.id)
        return;
    QJsonObject outputs;
    for (size_t s = 0; s < child.steps.size(); ++s) {
        if (!child.steps[s].output.isUndefined())
            outputs.insert(child.def(static_cast<qsizetype>(s)).id, child.steps[s].output);
    }
    completions.push_back(Completion{parent->id, static_cast<int>(i), step.attempts,
                                     step.generation, subflowResult(child.id, state, outputs)});
}

/// After a restart: subflow steps still running learn whether their child finished meanwhile,

void Engine::Impl::checkSubflows() {
    auto pending = std::move(subflowChecks);
    subflowChecks.clear();
    for (const auto &[runId, i] : pending) {
        LiveRun *run = findRun(runId);
        if (!run || run->step(i).state != StepState::Running)
            continue;
        const QString childId = childRunId(*run, i);
        if (LiveRun *child = findRun(childId)) {
            if (isFinal(child->state))
                notifyParent(*child, child->state);
            continue;
        }
        auto row = store.run(childId);
        if (!row) {
            completions.push_back(Completion{
                run->id, i, run->step(i).attempts, run->step(i).generation,
                AttemptResult::failure(ErrorClass::Crashed,
                                       QStringLiteral("sub-run %1 is missing").arg(childId))});
            continue;
        }
        const RunState state = row->state;
        if (isFinal(state)) {
            QJsonObject outputs;
            if (auto rows = store.stepRuns(childId)) {
                for (const StepRunRow &stepRow : *rows) {
                    if (!stepRow.output.isUndefined())
                        outputs.insert(stepRow.stepId, stepRow.output);
                }
            }
            completions.push_back(Completion{run->id, i, run->step(i).attempts,
                                             run->step(i).generation,
                                             subflowResult(childId, state, outputs)});
        } else {
            adopt(childId, false);
        }
    }
}

} // namespace keepflow
