#include "api/operatorapi.h"

#include "api/changefeed.h"
#include "api/reports.h"
#include "model/flowfile.h"
#include "operator/actionplan.h"
#include "steps/stepkind.h"
#include "store/store.h"

#include <QThread>

namespace keepflow {

namespace {

/// A run as its rows hold it, with the flow of its version: what status, previews and plans
/// start from.
struct StoredRun {
    RunRow run;
    QList<StepRunRow> steps;
    QList<ItemRow> items;
    FlowVersionRow version;   ///< unread when the caller holds the flow
    std::optional<Flow> flow; ///< parsed from version; empty when the caller holds it
    QString flowProblem;      ///< why flow is empty otherwise: unreadable, or no longer loads
};

/// Reads the run, its steps and items in that order, then its flow version and parses it,
/// unless flowHeld (the caller holds the flow of the run's version parsed already).
Result<StoredRun> readStoredRun(Store &store, const QString &runId, bool flowHeld = false) {
    StoredRun stored;
    auto run = store.run(runId);
    if (!run)
        return run.status();
    stored.run = std::move(*run);
    auto steps = store.stepRuns(runId);
    if (!steps)
        return steps.status();
    stored.steps = std::move(*steps);
    auto items = store.items(runId);
    if (!items)
        return items.status();
    stored.items = std::move(*items);
    if (flowHeld)
        return stored;
    auto version = store.flowVersion(stored.run.flowId);
    if (!version) {
        stored.flowProblem = version.error();
        return stored;
    }
    stored.version = std::move(*version);
    FlowLoad load = parseFlow(stored.version.definition, stored.version.sourcePath);
    if (load.ok())
        stored.flow = std::move(load.flow);
    else
        stored.flowProblem = QStringLiteral("run %1: its stored flow %2 v%3 no longer loads: %4")
                                 .arg(runId, stored.version.name)
                                 .arg(stored.version.version)
                                 .arg(load.errorText());
    return stored;
}

} // namespace

Result<std::unique_ptr<OperatorApi>> OperatorApi::open(const QString &path,
                                                       const Options &options) {
    auto store = Store::open(path, options.store);
    if (!store)
        return store.status();
    return std::make_unique<OperatorApi>(std::move(*store), options);
}

OperatorApi::OperatorApi(std::unique_ptr<Store> store, Options options)
    : m_store(std::move(store))
    , m_options(std::move(options)) {
    if (m_options.clock) {
        m_clock = m_options.clock;
    } else {
        m_ownClock = std::make_unique<SystemClock>();
        m_clock = m_ownClock.get();
    }
    if (!m_options.ownerIsDead)
        m_options.ownerIsDead = isLocalOwnerDead;
}

OperatorApi::~OperatorApi() = default;

const QString &OperatorApi::databasePath() const {
    return m_store->path();
}

const Clock &OperatorApi::clock() const {
    return *m_clock;
}

bool OperatorApi::isReadOnly() const {
    return m_store->isReadOnly();
}

const QString &OperatorApi::readOnlyReason() const {
    return m_store->readOnlyReason();
}

const QStringList &OperatorApi::warnings() const {
    return m_store->warnings();
}

std::unique_ptr<Engine> OperatorApi::createEngine(Engine::Options options, QObject *parent) {
    if (!options.ownerIsDead)
        options.ownerIsDead = m_options.ownerIsDead;
    return std::make_unique<Engine>(*m_store, *m_clock, StepKindRegistry::withBuiltins(),
                                    std::move(options), parent);
}

void OperatorApi::setExecutor(Engine *engine) {
    m_executor = engine;
}

ChangeFeed *OperatorApi::createChangeFeed(int pageSize, QObject *parent) {
    return new ChangeFeed(*m_store, pageSize, parent);
}

Result<ActionOutcome> OperatorApi::actOnce(const OperatorAction &action) {
    if (m_executor)
        return m_executor->act(action);
    // Nobody here executes runs: a short-lived engine takes the run (when no live worker holds
    // it), applies the action and gives the run back.
    std::unique_ptr<Engine> oneShot = createEngine();
    auto outcome = oneShot->act(action);
    const Status released = oneShot->shutdown();
    if (outcome && !released)
        outcome->warning = released.message();
    return outcome;
}

bool OperatorApi::holderLetGo(const RunRow &holder, const QString &worker) const {
    // The worker may let go of the run (it finished or waits) before it answers, or die, or
    // stop renewing its lease: then nobody will answer.
    return holder.owner != worker || holder.leaseUntil < m_clock->nowMs() ||
           m_options.ownerIsDead(worker);
}

Result<QString> OperatorApi::recordedActor(const QString &claimed) const {
    if (!m_store->isPostgres())
        return claimed.isEmpty() ? currentUserName() : claimed;
    // On a shared database the actor is who the server authenticated, not a claimed name.
    const QString &role = m_store->databaseRole();
    if (!claimed.isEmpty() && claimed != role)
        return Status::error(QStringLiteral("on a shared PostgreSQL database an action is "
                                            "recorded as the database role you connect as "
                                            "(%1), not as \"%2\": connect as that role instead")
                                 .arg(role, claimed));
    return role;
}

Result<ActionOutcome> OperatorApi::act(const OperatorAction &request, HandOver policy) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): actions need write access")
                                 .arg(databasePath(), readOnlyReason()));
    OperatorAction action = request;
    auto actor = recordedActor(request.actor);
    if (!actor)
        return actor.status();
    action.actor = *actor;
    auto outcome = actOnce(action);
    if (!outcome || outcome->requestId == 0 || policy == HandOver::Leave)
        return outcome;
    QString warning = outcome->warning;
    for (int handover = 0; outcome->requestId != 0 && handover < m_options.handOvers; ++handover) {
        // The worker that executes the run applies it; wait for its answer.
        const qint64 since = m_clock->nowMs();
        for (;;) {
            auto answer = m_store->request(outcome->requestId);
            if (!answer)
                return answer.status();
            if (answer->state == QLatin1String("refused"))
                return Status::error(answer->result);
            if (answer->state == QLatin1String("done")) {
                outcome->message =
                    answer->result + QStringLiteral(" (applied by %1)").arg(outcome->worker);
                outcome->warning = warning;
                return outcome;
            }
            auto holder = m_store->run(action.runId);
            if (holder && holderLetGo(*holder, outcome->worker)) {
                // Take the request back and act directly.
                auto withdrawn = m_store->withdrawRequest(outcome->requestId, m_clock->nowMs());
                if (!withdrawn)
                    return withdrawn.status();
                if (!*withdrawn)
                    continue; // answered meanwhile
                outcome = actOnce(action);
                if (!outcome)
                    return outcome;
                if (!outcome->warning.isEmpty())
                    warning = outcome->warning;
                break; // applied, or left for the run's new holder
            }
            if (m_clock->nowMs() - since > m_options.answerTimeoutMs)
                return Status::error(
                    QStringLiteral("worker %1 executes run %2 and has not answered request %3 "
                                   "within %4 s; it applies it when it does")
                        .arg(outcome->worker, action.runId)
                        .arg(outcome->requestId)
                        .arg(m_options.answerTimeoutMs / 1000));
            if (m_options.whileWaiting)
                m_options.whileWaiting();
            else
                QThread::msleep(50); // polling another process's answer, not waiting for time
        }
    }
    if (outcome->requestId != 0 && outcome->message.isEmpty())
        outcome->message = QStringLiteral("left for worker %1 as request %2; it applies it when "
                                          "it gets to run %3")
                               .arg(outcome->worker)
                               .arg(outcome->requestId)
                               .arg(action.runId);
    outcome->warning = warning;
    return outcome;
}

Result<UpgradeOutcome> OperatorApi::planUpgrade(const QString &runId, const Flow &to) {
    auto stored = readStoredRun(*m_store, runId);
    if (!stored)
        return stored.status();
    if (!stored->flow)
        return Status::error(stored->flowProblem);
    const FlowVersionRow &version = stored->version;
    const RunSnapshot snapshot = RunSnapshot::of(*stored->flow, stored->run.state,
                                                 stored->run.paused, stored->steps, stored->items);
    UpgradeOutcome outcome;
    outcome.plan = keepflow::planUpgrade(snapshot, to);
    outcome.flowName = version.name;
    outcome.fromVersion = version.version;
    if (to.name == version.name && serializeFlow(to) == version.definition)
        outcome.plan.refusals.prepend(
            UpgradeRefusal{{},
                           QStringLiteral("the run already follows this version (%1 v%2)")
                               .arg(version.name)
                               .arg(version.version)});
    return outcome;
}

Result<UpgradeOutcome> OperatorApi::upgrade(const QString &runId, const Flow &to,
                                            const QString &sourcePath, const QString &reason,
                                            const QString &actor, HandOver policy) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): actions need write access")
                                 .arg(databasePath(), readOnlyReason()));
    auto outcome = planUpgrade(runId, to);
    if (!outcome || outcome->plan.refused())
        return outcome;
    // The new version is stored first: the action (and a request for a live worker) names it.
    std::unique_ptr<Engine> engine = createEngine();
    auto version = engine->registerFlow(to, sourcePath);
    engine.reset();
    if (!version)
        return version.status();
    auto stored = m_store->flowVersion(*version);
    if (!stored)
        return stored.status();
    outcome->toVersion = stored->version;
    OperatorAction action;
    action.kind = OperatorAction::Kind::Upgrade;
    action.runId = runId;
    action.flowVersion = *version;
    action.reason = reason;
    action.actor = actor;
    auto applied = act(action, policy);
    if (!applied)
        return applied.status();
    outcome->applied = true;
    outcome->action = *applied;
    return outcome;
}

Result<RequestRow> OperatorApi::request(qint64 requestId) {
    return m_store->request(requestId);
}

Status OperatorApi::changeResource(const QString &name, std::optional<bool> paused,
                                   bool resetBreaker, const QString &actor) {
    QString who = actor.isEmpty() ? currentUserName() : actor;
    if (m_store->isPostgres()) {
        if (!actor.isEmpty() && actor != m_store->databaseRole())
            return Status::error(QStringLiteral("on a shared PostgreSQL database a change is "
                                                "recorded as the database role you connect as "
                                                "(%1), not as \"%2\"")
                                     .arg(m_store->databaseRole(), actor));
        who = m_store->databaseRole();
    }
    return m_store->changeResource(name, paused, resetBreaker, who, m_clock->nowMs());
}

Result<PolicyPreview> OperatorApi::previewPolicy(const QString &runId, const QString &stepId,
                                                 const QJsonObject &change) {
    auto stored = readStoredRun(*m_store, runId);
    if (!stored)
        return stored.status();
    if (!stored->flow)
        return Status::error(stored->flowProblem);
    const Flow &flow = *stored->flow;
    const QList<StepRunRow> &steps = stored->steps;
    OperatorAction action;
    action.kind = OperatorAction::Kind::SetPolicy;
    action.runId = runId;
    action.stepId = stepId;
    action.policy = change;
    // The same rules as the action itself: what it would refuse, the preview refuses.
    const RunSnapshot snapshot =
        RunSnapshot::of(flow, stored->run.state, stored->run.paused, steps, stored->items);
    auto plan = planAction(snapshot, action);
    if (!plan)
        return plan.status();
    const Step &step = *flow.step(stepId);
    StepRunRow row;
    row.state = StepState::Pending;
    for (const StepRunRow &r : steps) {
        if (r.stepId == stepId)
            row = r;
    }
    const StepPolicy before = effectiveStepPolicy(flow, step, row.policyOverride);
    const StepPolicy after = PolicyOverride::fromJson(plan->changes.first().policy)
                                 ->appliedTo(flowStepPolicy(flow, step));
    const StepProgress progress{row.state, row.attempts, row.failures, row.notBefore,
                                stepIdempotencyKey(runId, stepId, row.generation)};
    return previewPolicyChange(before, after, progress, m_clock->nowMs());
}

Result<QString> OperatorApi::previewResourceLimits(const QString &name,
                                                   std::optional<int> concurrency,
                                                   const QString &rate) {
    auto stored = checkResourceLimits(concurrency, rate);
    if (!stored)
        return stored.status();
    auto all = m_store->resources();
    if (!all)
        return all.status();
    for (const ResourceRow &before : *all) {
        if (before.name != name)
            continue;
        ResourceRow after = before;
        if (concurrency)
            after.concurrencyOverride = concurrency;
        if (!stored->isEmpty())
            after.rateOverride = *stored;
        const QStringList changes = resourceLimitChanges(before, after);
        return changes.isEmpty() ? QStringLiteral("nothing changes")
                                 : changes.join(QStringLiteral("; "));
    }
    return Status::error(QStringLiteral("unknown resource \"%1\"").arg(name));
}

Result<QString> OperatorApi::setResourceLimits(const QString &name, std::optional<int> concurrency,
                                               const QString &rate, const QString &reason,
                                               const QString &actor) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): changes need write access")
                                 .arg(databasePath(), readOnlyReason()));
    auto stored = checkResourceLimits(concurrency, rate);
    if (!stored)
        return stored.status();
    auto who = recordedActor(actor);
    if (!who)
        return who.status();
    EventRow event;
    event.at = m_clock->nowMs();
    event.type = EventType::ResourceLimitsChanged;
    event.actor = *who;
    QString message;
    auto describe = [&](const ResourceRow &before, ResourceRow &after) -> Result<QJsonObject> {
        const QStringList changes = resourceLimitChanges(before, after);
        if (changes.isEmpty())
            return Status::error(
                QStringLiteral("resource %1 already has concurrency %2 and rate "
                               "%3: nothing changes")
                    .arg(name, effectiveConcurrencyText(before), effectiveRateText(before)));
        message = QStringLiteral("%1: %2").arg(name, changes.join(QStringLiteral("; ")));
        auto limits = [](const ResourceRow &row) {
            return QJsonObject{{QStringLiteral("concurrency"), effectiveConcurrencyText(row)},
                               {QStringLiteral("rate"), effectiveRateText(row)}};
        };
        QJsonObject detail{{QStringLiteral("resource"), name},
                           {QStringLiteral("before"), limits(before)},
                           {QStringLiteral("after"), limits(after)},
                           {QStringLiteral("result"), changes.join(QStringLiteral("; "))}};
        if (!reason.isEmpty())
            detail.insert(QStringLiteral("reason"), reason);
        return detail;
    };
    auto changed = m_store->setResourceLimits(name, concurrency, *stored, event, describe);
    if (!changed)
        return changed.status();
    if (m_executor)
        m_executor->syncResourcesNow(); // this process's own worker takes it in at once
    return message;
}

Result<QList<AlertRuleRow>> OperatorApi::alertRules() {
    return m_store->alertRules();
}

Result<AlertRuleRow> OperatorApi::addAlertRule(AlertRuleRow rule, const QString &actor) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): rules need write access")
                                 .arg(databasePath(), readOnlyReason()));
    auto who = recordedActor(actor);
    if (!who)
        return who.status();
    rule.createdBy = *who;
    rule.createdAt = m_clock->nowMs();
    // Alerts are about what happens from now on, not the history before the first rule.
    auto cursor = m_store->alertCursor();
    if (!cursor)
        return cursor.status();
    if (cursor->id == 0) {
        auto head = m_store->feedHead();
        if (!head)
            return head.status();
        if (Status s = m_store->setAlertCursor(*head); !s)
            return s;
    }
    auto id = m_store->addAlertRule(rule);
    if (!id)
        return id.status();
    rule.id = *id;
    return rule;
}

Status OperatorApi::removeAlertRule(qint64 id) {
    if (isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): rules need write access")
                                 .arg(databasePath(), readOnlyReason()));
    return m_store->removeAlertRule(id);
}

AlertWatcher *OperatorApi::createAlertWatcher(QObject *parent) {
    return new AlertWatcher(*m_store, *m_clock, parent);
}

Result<RunRow> OperatorApi::run(const QString &runId) {
    return m_store->run(runId);
}

Result<QList<RunRow>> OperatorApi::runs(const RunQuery &query) {
    return m_store->runs(query);
}

Result<QList<RunListRow>> OperatorApi::runList(const RunQuery &query) {
    return m_store->runList(query);
}

Result<QList<RunSummary>> OperatorApi::runSummaries(const RunQuery &query) {
    return m_store->runSummaries(query);
}

Result<int> OperatorApi::countRuns(const RunQuery &query) {
    return m_store->countRuns(query);
}

Result<QMap<RunState, int>> OperatorApi::countRunsByState(const RunQuery &query) {
    return m_store->countRunsByState(query);
}

Result<QStringList> OperatorApi::flowNames() {
    return m_store->flowNames();
}

Result<FlowVersionRow> OperatorApi::flowVersion(qint64 id) {
    return m_store->flowVersion(id);
}

Result<std::optional<RunRow>> OperatorApi::lastSucceededRunBefore(const QString &runId) {
    auto run = m_store->run(runId);
    if (!run)
        return run.status();
    return m_store->previousRunOfFlow(*run, RunState::Succeeded);
}

Result<QList<StepSample>> OperatorApi::stepSamples(const QString &flowName, qint64 from,
                                                   qint64 to) {
    return m_store->stepSamples(flowName, from, to);
}

Result<std::optional<std::pair<qint64, qint64>>>
OperatorApi::stepSampleSpan(const QString &flowName, qint64 from, qint64 to) {
    return m_store->stepSampleSpan(flowName, from, to);
}

Result<StepSampleReduction> OperatorApi::reduceStepSamples(const QString &flowName, qint64 from,
                                                           qint64 to, qint64 bucketMs,
                                                           const QList<StepOutcome> &finished) {
    return m_store->reduceStepSamples(flowName, from, to, bucketMs, finished);
}

Result<QList<qint64>> OperatorApi::latestStepDurations(const QString &flowName,
                                                       const QString &stepId, int limit,
                                                       const QList<StepOutcome> &finished) {
    return m_store->latestStepDurations(flowName, stepId, limit, finished);
}

Result<RunStatus> OperatorApi::status(const QString &runId, const Flow *flowOfRun) {
    auto stored = readStoredRun(*m_store, runId, flowOfRun != nullptr);
    if (!stored)
        return stored.status();
    RunStatus status;
    status.run = std::move(stored->run);
    status.steps = std::move(stored->steps);
    status.items = std::move(stored->items);
    // The policies, so that reports can say "attempt 3/4" after an operator's retry, and the
    // graph, so that they can say what the stuck steps wait on. A flow version that cannot be
    // read gives neither.
    const Flow unknown;
    const Flow &flow = flowOfRun ? *flowOfRun : stored->flow ? *stored->flow : unknown;
    status.maxAttempts = effectiveMaxAttempts(flow, status.steps);
    status.rootCauses = findRootCauses(flow, status.steps);
    return status;
}

Result<QList<StepRunRow>> OperatorApi::stepRuns(const QString &runId) {
    return m_store->stepRuns(runId);
}

Result<QList<AttemptRow>> OperatorApi::attempts(const QString &runId) {
    return m_store->attempts(runId);
}

Result<QList<AttemptRow>> OperatorApi::attemptOutputs(const QString &runId, const QString &stepId) {
    return m_store->attemptOutputs(runId, stepId);
}

Result<QList<ItemRow>> OperatorApi::items(const QString &runId) {
    return m_store->items(runId);
}

Result<QList<EventRow>> OperatorApi::events(const QString &runId, qint64 afterId) {
    return m_store->events(runId, afterId);
}

Result<QList<ResourceRow>> OperatorApi::resources() {
    return m_store->resources();
}

Result<QList<WorkerRow>> OperatorApi::workers() {
    return m_store->workers();
}

bool OperatorApi::isPostgres() const {
    return m_store->isPostgres();
}

Status OperatorApi::checkConnection() {
    return m_store->checkConnection();
}

Result<QHash<QString, QPair<int, int>>> OperatorApi::resourceLoad() {
    return m_store->resourceLoad();
}

} // namespace keepflow
