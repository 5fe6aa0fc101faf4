// The operator API's triage across runs: failure groups and bulk actions over a filter. A bulk
// action plans each run with the same rules as a single action (planAction) and applies a chunk
// of runs per commit through Engine::actOnMany.

#include "api/operatorapi.h"

#include "model/flowfile.h"
#include "operator/actionplan.h"
#include "store/store.h"

#include <algorithm>
#include <map>

namespace keepflow {

namespace {

/// How many runs one read of their steps and items covers, and the most run ids one query
/// binds.
constexpr int kBulkChunk = 500;

bool meets(const StepCondition &condition, const StepRunRow &step) {
    if (!condition.stepId.isEmpty() && step.stepId != condition.stepId)
        return false;
    if (condition.state && step.state != *condition.state)
        return false;
    if (!condition.error.isEmpty() && !step.error.contains(condition.error, Qt::CaseInsensitive))
        return false;
    return condition.resource.isEmpty() || step.resource == condition.resource;
}

/// Whether the bulk request acts on this step (beyond the query's step conditions).
bool isTarget(const BulkRequest &request, const StepRunRow &row, const StepSnapshot &step) {
    using Kind = OperatorAction::Kind;
    if (!meets(request.query.step, row))
        return false;
    switch (request.kind) {
    case Kind::Retry:
    case Kind::Skip:
        return request.query.step.state ? true : row.state == StepState::Failed;
    case Kind::RetryFailedItems:
        return step.failedItems > 0;
    case Kind::ResolveHappened:
    case Kind::ResolveNotHappened:
        return row.state == StepState::Uncertain || step.uncertainItems > 0;
    default:
        return false;
    }
}

/// The parsed flows of the runs, by flow version id, each read once.
class FlowCache {
public:
    explicit FlowCache(Store &store)
        : m_store(store) {}
    Result<const Flow *> flow(qint64 flowId) {
        auto known = m_flows.find(flowId);
        if (known == m_flows.end()) {
            auto version = m_store.flowVersion(flowId);
            if (!version)
                return version.status();
            FlowLoad load = parseFlow(version->definition, version->sourcePath);
            if (!load.ok())
                return Status::error(QStringLiteral("flow %1 version %2 cannot be read: %3")
                                         .arg(version->name)
                                         .arg(version->version)
                                         .arg(load.errorText()));
            known = m_flows.emplace(flowId, std::move(*load.flow)).first;
        }
        return &known->second;
    }

private:
    Store &m_store;
    std::map<qint64, Flow> m_flows;
};

/// The actions the request means for one run, each planned on the run as it stands; nothing
/// when the run has no step the request is about.
std::optional<OperatorApi::PlannedBulkRun> planRun(const BulkRequest &request, const RunRow &run,
                                                   const Flow &flow, const QList<StepRunRow> &steps,
                                                   const QList<ItemRow> &items) {
    const RunSnapshot snapshot = RunSnapshot::of(flow, run.state, run.paused, steps, items);
    OperatorApi::PlannedBulkRun planned;
    planned.report.runId = run.id;
    OperatorAction action;
    action.kind = request.kind;
    action.runId = run.id;
    action.output = request.output;
    action.reason = request.reason;
    action.actor = request.actor;
    QStringList refusals;
    auto consider = [&](const QString &stepId) {
        action.stepId = stepId;
        if (auto plan = planAction(snapshot, action); plan) {
            planned.actions.append(action);
            if (!stepId.isEmpty())
                planned.report.steps.append(stepId);
        } else {
            refusals << plan.error(); // it names the step
        }
    };
    bool anyTarget = false;
    if (request.kind == OperatorAction::Kind::CancelRun) {
        anyTarget = true;
        consider(QString());
    } else {
        // Rows in flow order (the store reads them by position).
        for (const StepRunRow &row : steps) {
            const qsizetype i = flow.indexOfStep(row.stepId);
            if (i >= 0 && i < snapshot.steps.size() && isTarget(request, row, snapshot.steps[i])) {
                anyTarget = true;
                consider(row.stepId);
            }
        }
    }
    if (!anyTarget)
        return std::nullopt; // nothing here the request is about: not listed
    if (planned.actions.isEmpty()) {
        planned.report.outcome = BulkRunOutcome::Outcome::Refused;
        planned.report.reason = refusals.join(QStringLiteral("; "));
    } else {
        planned.report.outcome = BulkRunOutcome::Outcome::WouldApply;
        if (!refusals.isEmpty())
            planned.report.reason = QStringLiteral("not: ") + refusals.join(QStringLiteral("; "));
    }
    return planned;
}

} // namespace

Result<QList<FailureGroup>> OperatorApi::failureGroups(const RunQuery &query) {
    auto failures = m_store->stepFailures(query);
    if (!failures)
        return failures.status();
    return groupFailures(*failures);
}

Result<BulkReport> OperatorApi::planBulk(const BulkRequest &request) {
    BulkReport report;
    report.dryRun = true;
    auto planned = planBulkRuns(request);
    if (!planned)
        return planned.status();
    for (const PlannedBulkRun &run : *planned)
        report.runs.append(run.report);
    return report;
}

Result<QList<OperatorApi::PlannedBulkRun>> OperatorApi::planBulkRuns(const BulkRequest &request) {
    RunQuery query = request.query;
    query.offset = 0;
    query.limit = 0;
    // Only runs with a step the request is about: retry and skip act on failed steps unless the
    // query names another step state.
    using Kind = OperatorAction::Kind;
    if (!query.step.state && (request.kind == Kind::Retry || request.kind == Kind::Skip))
        query.step.state = StepState::Failed;
    Result<QList<RunRow>> runs = QList<RunRow>();
    if (query.runIds.size() <= kBulkChunk) {
        runs = m_store->runs(query);
    } else {
        // A big set of ids is read a slice at a time (a query's binds are limited), then in the
        // store's order again: newest first.
        for (qsizetype from = 0; from < request.query.runIds.size() && runs; from += kBulkChunk) {
            query.runIds = request.query.runIds.mid(from, kBulkChunk);
            if (auto slice = m_store->runs(query))
                runs->append(*slice);
            else
                runs = slice.status();
        }
        if (runs)
            std::sort(runs->begin(), runs->end(), [](const RunRow &a, const RunRow &b) {
                return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id;
            });
    }
    if (!runs)
        return runs.status();
    FlowCache flows(*m_store);
    QList<PlannedBulkRun> planned;
    planned.reserve(runs->size());
    for (qsizetype from = 0; from < runs->size(); from += kBulkChunk) {
        QStringList ids;
        for (qsizetype i = from; i < std::min(runs->size(), from + kBulkChunk); ++i)
            ids << (*runs)[i].id;
        auto steps = m_store->stepRunsOf(ids);
        if (!steps)
            return steps.status();
        auto items = m_store->itemsOf(ids);
        if (!items)
            return items.status();
        for (qsizetype i = from; i < std::min(runs->size(), from + kBulkChunk); ++i) {
            const RunRow &run = (*runs)[i];
            auto flow = flows.flow(run.flowId);
            if (!flow) {
                PlannedBulkRun refused;
                refused.report.runId = run.id;
                refused.report.outcome = BulkRunOutcome::Outcome::Refused;
                refused.report.reason = flow.error();
                planned.append(refused);
                continue;
            }
            if (auto one =
                    planRun(request, run, **flow, steps->value(run.id), items->value(run.id)))
                planned.append(std::move(*one));
        }
    }
    return planned;
}

Result<BulkReport> OperatorApi::applyBulk(const BulkRequest &request,
                                          const std::function<bool(int, int)> &progress) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): actions need write access")
                                 .arg(databasePath(), readOnlyReason()));
    BulkRequest recorded = request;
    auto actor = recordedActor(request.actor);
    if (!actor)
        return actor.status();
    recorded.actor = *actor;
    auto planned = planBulkRuns(recorded);
    if (!planned)
        return planned.status();
    BulkReport report;
    report.dryRun = false;
    std::unique_ptr<Engine> oneShot;
    Engine *engine = m_executor;
    if (!engine) {
        oneShot = createEngine();
        engine = oneShot.get();
    }
    const int total = static_cast<int>(planned->size());
    const qsizetype perCommit = std::max(1, request.runsPerCommit);
    for (qsizetype from = 0; from < planned->size(); from += perCommit) {
        const qsizetype to = std::min(planned->size(), from + perCommit);
        QList<OperatorAction> actions;
        for (qsizetype i = from; i < to; ++i)
            actions << (*planned)[i].actions;
        auto outcomes = engine->actOnMany(actions);
        if (!outcomes)
            return outcomes.status();
        qsizetype next = 0;
        for (qsizetype i = from; i < to; ++i) {
            const PlannedBulkRun &run = (*planned)[i];
            BulkRunOutcome outcome = run.report;
            if (run.actions.isEmpty()) {
                report.runs.append(outcome); // refused when planned: nothing to apply
                continue;
            }
            QStringList applied, messages, refusals;
            for (const OperatorAction &action : run.actions) {
                const Result<ActionOutcome> &done = (*outcomes)[next++];
                // The messages name the step.
                if (done) {
                    if (!action.stepId.isEmpty())
                        applied << action.stepId;
                    messages << done->message;
                } else {
                    refusals << done.error();
                }
            }
            outcome.steps = applied;
            if (messages.isEmpty()) {
                outcome.outcome = BulkRunOutcome::Outcome::Refused;
                outcome.reason = refusals.join(QStringLiteral("; "));
            } else {
                outcome.outcome = BulkRunOutcome::Outcome::Applied;
                outcome.reason = messages.join(QStringLiteral("; "));
                if (!refusals.isEmpty())
                    outcome.reason +=
                        QStringLiteral("; not: ") + refusals.join(QStringLiteral("; "));
            }
            report.runs.append(outcome);
        }
        if (progress && !progress(static_cast<int>(to), total) && to < planned->size()) {
            report.cancelled = true;
            break;
        }
    }
    if (oneShot) {
        if (const Status released = oneShot->shutdown(); !released)
            return released;
    }
    return report;
}

} // namespace keepflow
