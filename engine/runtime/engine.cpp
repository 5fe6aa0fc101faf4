#include "runtime/engineimpl.h"

#include "model/flowfile.h"
#include "store/store.h"

#include <QHostInfo>
#include <QTimer>
#include <QUuid>

#include <cerrno>
#include <csignal>
#include <pwd.h>
#include <unistd.h>

namespace keepflow {

Q_LOGGING_CATEGORY(lcEngine, "keepflow.engine")

namespace {

QString newRunId() {
    return QUuid::createUuid().toString(QUuid::Id128).left(12);
}

Engine::Options withDefaults(Engine::Options options) {
    if (options.workerId.isEmpty())
        options.workerId = makeWorkerId();
    if (options.actor.isEmpty())
        options.actor = QStringLiteral("engine");
    if (!options.ownerIsDead)
        options.ownerIsDead = isLocalOwnerDead;
    if (!options.secrets)
        options.secrets = SecretChain::standard();
    return options;
}

} // namespace

Engine::Impl::Impl(Engine *engine, Store &s, const Clock &c, StepKindRegistry k, Options o)
    : q(engine)
    , store(s)
    , clockRef(c)
    , kinds(std::move(k))
    , options(withDefaults(std::move(o)))
    , ledger(s, RunLedger::Identity{options.workerId, options.actor})
    , resources(ledger, ResourceGate::Callbacks{
                            [this](const QueueEntry &entry) { return stillWaiting(entry); },
                            [this](const QueueEntry &entry) {
                                LiveRun *run = findRun(entry.runId);
                                if (run && hasStep(*run, entry.step))
                                    ledger.addCandidate(*run, entry.step);
                            }}) {}

Engine::Impl::~Impl() {
    for (auto &[id, run] : runs) {
        for (LiveStep &step : run->steps)
            cancelExecutions(step);
    }
    retired.clear();
}

quint64 Engine::Impl::callAt(qint64 atMs, std::function<void()> callback) {
    const quint64 id = nextCallId++;
    calls.emplace(id, std::make_pair(atMs, std::move(callback)));
    callHeap.emplace(atMs, id);
    schedulePump();
    return id;
}

void Engine::Impl::cancelCall(quint64 id) {
    calls.erase(id);
}

void Engine::Impl::schedulePump() {
    if (driveTimer && !stopped)
        driveTimer->start(0);
}

LiveRun *Engine::Impl::findRun(const QString &id) {
    const auto it = runs.find(id);
    return it == runs.end() ? nullptr : it->second.get();
}

Result<std::shared_ptr<Plan>> Engine::Impl::planFor(qint64 flowId) {
    if (auto it = plans.find(flowId); it != plans.end())
        return *it;
    auto version = store.flowVersion(flowId);
    if (!version)
        return version.status();
    FlowLoad load = parseFlow(version->definition,
                              QStringLiteral("%1 v%2").arg(version->name).arg(version->version));
    if (!load.ok())
        return Status::error(QStringLiteral("stored flow %1 v%2 no longer loads: %3")
                                 .arg(version->name)
                                 .arg(version->version)
                                 .arg(load.errorText()));
    auto plan = makePlan(std::make_shared<const Flow>(std::move(*load.flow)), flowId);
    plan->version = version->version;
    plan->sourcePath = version->sourcePath;
    plans.insert(flowId, plan);
    return plan;
}

Status Engine::Impl::ensureResourcesLoaded() {
    return resources.loaded() ? Status::ok() : syncResources();
}

Status Engine::Impl::syncResources() {
    auto rows = store.resources();
    if (!rows)
        return rows.status();
    resources.sync(*rows);
    return Status::ok();
}

Result<std::unique_ptr<LiveRun>> Engine::Impl::newRun(const std::shared_ptr<Plan> &plan,
                                                      const QJsonObject &params, const QString &id,
                                                      const std::pair<QString, QString> &parent,
                                                      bool execute) {
    const Flow &flow = *plan->flow;
    QJsonObject resolved;
    for (auto it = params.begin(); it != params.end(); ++it) {
        if (!flow.param(it.key())) {
            QStringList declared;
            for (const ParamSpec &spec : flow.params)
                declared << spec.name;
            return Status::error(QStringLiteral("unknown parameter \"%1\" (flow %2 declares: %3)")
                                     .arg(it.key(), flow.name,
                                          declared.isEmpty()
                                              ? QStringLiteral("none")
                                              : declared.join(QStringLiteral(", "))));
        }
        resolved.insert(it.key(), it.value());
    }
    for (const ParamSpec &spec : flow.params) {
        if (resolved.contains(spec.name))
            continue;
        if (spec.defaultValue.isUndefined())
            return Status::error(
                QStringLiteral("parameter \"%1\" is required (flow %2)").arg(spec.name, flow.name));
        resolved.insert(spec.name, spec.defaultValue);
    }
    const qint64 now = clockRef.nowMs();
    auto run = std::make_unique<LiveRun>();
    run->id = id;
    run->flowName = flow.name;
    run->plan = plan;
    run->params = resolved;
    run->createdAt = now;
    run->parentRun = parent.first;
    run->parentStep = parent.second;
    run->steps.resize(static_cast<size_t>(flow.steps.size()));
    run->counts[static_cast<int>(StepState::Pending)] = static_cast<int>(flow.steps.size());
    run->leaseEpoch = execute ? 1 : 0;
    qint64 leaseUntil = 0;
    if (execute) {
        // Leases run by the database's clock (PostgreSQL's server), like every claim's.
        auto databaseNow = store.databaseNow(now);
        if (!databaseNow)
            return databaseNow.status();
        leaseUntil = *databaseNow + options.leaseMs;
    }
    ledger.recordRun(*run, leaseUntil);
    for (int i = 0; i < static_cast<int>(flow.steps.size()); ++i)
        ledger.recordStep(*run, i);
    QJsonObject detail{{QStringLiteral("flow"), flow.name},
                       {QStringLiteral("version"), plan->version},
                       {QStringLiteral("source"), plan->sourcePath},
                       {QStringLiteral("params"), resolved},
                       {QStringLiteral("actor"), currentUserName()}};
    if (!parent.first.isEmpty())
        detail.insert(QStringLiteral("parent"),
                      QStringLiteral("%1/%2").arg(parent.first, parent.second));
    ledger.event(*run, -1, EventType::RunCreated, detail, now);
    return run;
}

void Engine::Impl::fireDueCalls(qint64 now) {
    while (!callHeap.empty() && callHeap.top().first <= now) {
        const quint64 id = callHeap.top().second;
        callHeap.pop();
        const auto it = calls.find(id);
        if (it == calls.end())
            continue;
        auto callback = std::move(it->second.second);
        calls.erase(it);
        callback();
    }
}

void Engine::Impl::popDueTimers(qint64 now) {
    DueHeap &timers = ledger.timers();
    while (!timers.empty() && timers.top().at <= now) {
        const Due due = timers.top();
        timers.pop();
        LiveRun *run = findRun(due.runId);
        if (!run || !hasStep(*run, due.step))
            continue;
        // Only the target's latest timer counts; an item's due retry has its step look again.
        const auto target = AttemptTarget::of(*run, due.step, due.item);
        if (target && target->state().timerStamp == due.stamp)
            ledger.addCandidate(*run, due.step);
    }
}

Status Engine::Impl::commit() {
    if (ledger.isEmpty())
        return Status::ok();
    auto committed = ledger.commit();
    if (!committed) {
        stop(committed.error());
        return committed.status();
    }
    for (const QString &runId : committed->lostRuns)
        dropLostRun(runId);
    if (!committed->events.isEmpty())
        Q_EMIT q->eventsCommitted(committed->events);
    return Status::ok();
}

void Engine::Impl::dropLostRun(const QString &runId) {
    if (!findRun(runId))
        return;
    qCWarning(lcEngine).noquote()
        << QStringLiteral("run %1: another worker took it over (this worker's lease lapsed); "
                          "dropping it")
               .arg(runId);
    unload(runId);
    std::erase_if(launches, [&runId](const Launch &launch) { return launch.runId == runId; });
    Q_EMIT q->runLost(runId);
}

void Engine::Impl::renewLeases() {
    if (stopped)
        return;
    WorkerRow worker;
    worker.id = options.workerId;
    const QStringList parts = options.workerId.split(QLatin1Char(':'));
    worker.host = parts.value(0);
    worker.pid = parts.value(1).toLongLong();
    worker.startedAt = startedAt;
    auto held = store.renewLeases(worker, options.leaseMs, clockRef.nowMs());
    if (!held) {
        qCWarning(lcEngine) << held.error();
        return;
    }
    QStringList lost;
    for (const auto &[id, run] : runs) {
        if (!run->leaseReleased && held->value(id, -1) != run->leaseEpoch)
            lost << id;
    }
    for (const QString &id : lost)
        dropLostRun(id);
}

void Engine::Impl::stop(const QString &message) {
    if (stopped)
        return;
    stopped = true;
    fatal = message;
    for (auto &[id, run] : runs) {
        for (LiveStep &step : run->steps)
            cancelExecutions(step);
    }
    if (driveTimer)
        driveTimer->stop();
    Q_EMIT q->fatalError(message);
}

Status Engine::Impl::pump() {
    if (stopped)
        return Status::error(fatal);
    if (inPump)
        return Status::ok();
    inPump = true;
    Status status;
    while (true) {
        const qint64 now = clockRef.nowMs();
        retired.clear();
        if (!subflowChecks.empty())
            checkSubflows();
        fireDueCalls(now);
        expireAttempts(now);
        popDueTimers(now);
        if (completions.empty() && !ledger.hasDirtyRuns())
            break;
        std::vector<Completion> ready = std::move(completions);
        completions.clear();
        for (Completion &completion : ready)
            complete(completion, now);
        // advance() may dirty other runs only through completions, never through dirty runs.
        std::vector<std::pair<QString, RunState>> settled;
        for (LiveRun *run : ledger.takeDirtyRuns()) {
            const RunState before = run->state;
            advance(*run, now);
            if (run->state != before && run->state != RunState::Running)
                settled.emplace_back(run->id, run->state);
        }
        status = commit();
        if (!status)
            break;
        std::vector<Launch> started = std::move(launches);
        launches.clear();
        for (Launch &item : started)
            launch(item);
        for (const auto &[runId, state] : settled) {
            if (!findRun(runId))
                continue; // lost to another worker in this commit
            if (LiveRun *settledRun = findRun(runId);
                settledRun && isFinal(state) && !settledRun->parentRun.isEmpty())
                notifyParent(*settledRun, state);
            if (isFinal(state) || state == RunState::WaitingForOperator ||
                state == RunState::Paused)
                unload(runId);
            Q_EMIT q->runSettled(runId, state);
        }
    }
    inPump = false;
    rearm();
    return status;
}

void Engine::Impl::unload(const QString &runId) {
    const auto it = runs.find(runId);
    if (it == runs.end())
        return;
    LiveRun &run = *it->second;
    const qint64 now = clockRef.nowMs();
    for (int s = 0; s < static_cast<int>(run.steps.size()); ++s)
        abandonExecutions(run, s, now);
    ledger.forget(run);
    runs.erase(it);
}

std::optional<qint64> Engine::Impl::nextDueAt() const {
    std::optional<qint64> next;
    auto consider = [&next](qint64 at) {
        if (!next || at < *next)
            next = at;
    };
    if (!ledger.timers().empty())
        consider(ledger.timers().top().at);
    if (!attemptTimeouts.empty())
        consider(attemptTimeouts.top().at);
    if (!callHeap.empty())
        consider(callHeap.top().first);
    return next;
}

void Engine::Impl::rearm() {
    if (!driveTimer || stopped)
        return;
    if (!completions.empty() || ledger.hasDirtyRuns()) {
        driveTimer->start(0);
        return;
    }
    qint64 wait = pollMs;
    if (const auto next = nextDueAt())
        wait = std::clamp<qint64>(*next - clockRef.nowMs(), 0, pollMs);
    driveTimer->start(static_cast<int>(wait));
}

// ---- the public API --------------------------------------------------------------------------

Engine::Engine(Store &store, const Clock &clock, StepKindRegistry kinds, Options options,
               QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Impl>(this, store, clock, std::move(kinds), std::move(options))) {}

Engine::~Engine() = default;

Result<QString> Engine::createRun(const Flow &flow, const QString &sourcePath,
                                  const QJsonObject &params, bool execute) {
    auto version = registerFlow(flow, sourcePath);
    if (!version)
        return version.status();
    return createRun(*version, params, execute);
}

Result<QString> Engine::createRun(const FlowLoad &load, const QString &sourcePath,
                                  const QJsonObject &params, bool execute) {
    if (!load.ok())
        return Status::error(load.errorText());
    auto version = d->registerFlow(*load.flow, sourcePath, Impl::FlowChecked::WhenRead);
    if (!version)
        return version.status();
    return createRun(*version, params, execute);
}

Result<qint64> Engine::registerFlow(const Flow &flow, const QString &sourcePath) {
    return d->registerFlow(flow, sourcePath, Impl::FlowChecked::No);
}

Result<qint64> Engine::Impl::registerFlow(const Flow &flow, const QString &sourcePath,
                                          FlowChecked checked) {
    if (stopped)
        return Status::error(fatal);
    for (const Step &step : flow.steps) {
        if (!kinds.find(step.kind) && step.kind != QLatin1String("approval") &&
            step.kind != QLatin1String("subflow"))
            return Status::error(
                QStringLiteral("step \"%1\": kind \"%2\" is not supported by this build yet "
                               "(supported: %3)")
                    .arg(step.id, step.kind, kinds.kinds().join(QStringLiteral(", "))));
    }
    // A flow built in memory may break rules a flow file is held to: unless it was checked
    // when read, the semantic checks run here, so nothing invalid is stored or planned.
    QStringList problems;
    if (checked == FlowChecked::No) {
        for (const Diagnostic &diagnostic : validateFlow(flow)) {
            if (diagnostic.severity == Diagnostic::Severity::Error)
                problems << diagnostic.toString();
        }
    }
    if (!problems.isEmpty())
        return Status::error(QStringLiteral("flow %1 is not valid:\n%2")
                                 .arg(flow.name, problems.join(QLatin1Char('\n'))));
    auto version = store.saveFlowVersion(flow.name, serializeFlow(flow), sourcePath);
    if (!version)
        return version.status();
    if (!plans.contains(version->id)) {
        // The flow in hand is the one its stored text reads back as: planning it now spares
        // parsing that text again.
        auto plan = makePlan(std::make_shared<const Flow>(flow), version->id);
        plan->version = version->version;
        plan->sourcePath = version->sourcePath;
        plans.insert(version->id, plan);
    }
    // Each resource with the limits this flow declares (what a live change is shown against).
    QList<ResourceRow> declared;
    for (const ResourceSpec &resource : flow.resources) {
        const ResourceConfig config = parseResourceConfig(resource.definition);
        ResourceRow row;
        row.name = resource.name;
        if (config.concurrency > 0)
            row.declaredConcurrency = config.concurrency;
        if (config.rateLimit > 0)
            row.declaredRate = ResourceLimits::rateText(config.rateLimit, config.ratePerMs);
        declared << row;
    }
    if (Status s = store.declareResources(declared, clockRef.nowMs()); !s)
        return s;
    return version->id;
}

Result<QString> Engine::createRun(qint64 flowVersionId, const QJsonObject &params, bool execute) {
    if (d->stopped)
        return Status::error(d->fatal);
    if (Status s = d->ensureResourcesLoaded(); !s)
        return s;
    auto plan = d->planFor(flowVersionId);
    if (!plan)
        return plan.status();
    auto run = d->newRun(*plan, params, newRunId(), {}, execute);
    if (!run)
        return run.status();
    const QString id = (*run)->id;
    if (Status s = d->commit(); !s)
        return s;
    if (execute) {
        LiveRun &r = **run;
        d->runs[id] = std::move(*run);
        for (int i = 0; i < static_cast<int>(r.steps.size()); ++i)
            d->ledger.addCandidate(r, i);
        d->schedulePump();
    }
    return id;
}

Result<bool> Engine::adopt(const QString &runId) {
    if (d->stopped)
        return Status::error(d->fatal);
    return d->adopt(runId, false);
}

Result<ActionOutcome> Engine::act(const OperatorAction &request) {
    if (d->stopped)
        return Status::error(d->fatal);
    OperatorAction action = request;
    if (action.actor.isEmpty())
        action.actor = currentUserName();
    if (LiveRun *kept = d->findRun(action.runId); kept && kept->leaseReleased) {
        // Still in memory after this engine let go of it: take it again (a new epoch), or leave
        // it to whoever took it meanwhile.
        auto row = d->store.claimRun(action.runId, d->leaseRequest(d->clockRef.nowMs()));
        if (!row)
            return row.status();
        if (*row) {
            kept->leaseEpoch = (*row)->leaseEpoch;
            kept->leaseReleased = false;
            // What was left unstarted while it was let go is looked at again.
            for (int i = 0; i < static_cast<int>(kept->steps.size()); ++i) {
                if (!isFinal(kept->step(i).state))
                    d->ledger.addCandidate(*kept, i);
            }
        } else {
            d->unload(action.runId);
        }
    }
    if (!d->findRun(action.runId)) {
        auto row = d->store.run(action.runId);
        if (!row)
            return row.status();
        auto taken = d->adopt(action.runId, true);
        if (!taken)
            return taken.status();
        if (!*taken) {
            // A live worker executes it: leave the action for that worker (single writer per run).
            auto holder = d->store.run(action.runId);
            auto id = d->store.submitRequest(action.runId, actionToJson(action), action.actor,
                                             d->clockRef.nowMs());
            if (!id)
                return id.status();
            ActionOutcome outcome;
            outcome.requestId = *id;
            outcome.worker = holder ? holder->owner : QString();
            return outcome;
        }
    }
    auto done = d->act(action, d->driveTimer != nullptr, 0);
    if (!done)
        return done.status();
    ActionOutcome outcome;
    outcome.message = *done;
    return outcome;
}

Result<QList<Result<ActionOutcome>>> Engine::actOnMany(const QList<OperatorAction> &requests) {
    if (d->stopped)
        return Status::error(d->fatal);
    auto notTaken = d->claimForActions(requests);
    if (!notTaken)
        return notTaken.status();
    const bool executing = d->driveTimer != nullptr;
    QList<Result<ActionOutcome>> outcomes;
    QList<std::pair<QString, RunState>> applied; // run, its state before
    for (const OperatorAction &request : requests) {
        OperatorAction action = request;
        if (action.actor.isEmpty())
            action.actor = currentUserName();
        if (notTaken->contains(action.runId)) {
            // A live worker executes it: leave the action for that worker, as act() does.
            outcomes.append(act(action));
            continue;
        }
        auto done = d->applyAction(action, 0);
        if (!done) {
            outcomes.append(done.status());
            continue;
        }
        ActionOutcome outcome;
        outcome.message = done->message;
        outcomes.append(outcome);
        applied.append({action.runId, done->stateBefore});
    }
    if (!executing) {
        // Nobody here drives these runs: the commit that changes them also gives them back,
        // for a worker to take.
        for (const auto &[runId, before] : applied) {
            if (LiveRun *run = d->findRun(runId); run && !run->leaseReleased)
                d->ledger.releaseLease(*run);
        }
    }
    if (Status s = d->commit(); !s)
        return s;
    QSet<QString> lost; // taken over by another worker as the commit was made
    for (const auto &[runId, before] : applied) {
        if (!d->findRun(runId))
            lost.insert(runId);
        else
            d->settleAfterAction(runId, before, executing);
    }
    if (!lost.isEmpty()) {
        QList<Result<ActionOutcome>> settled;
        for (qsizetype i = 0; i < requests.size(); ++i) {
            const QString &runId = requests[i].runId;
            if (lost.contains(runId) && outcomes[i])
                settled.append(Status::error(
                    QStringLiteral("another worker took run %1 over meanwhile; nothing was changed")
                        .arg(runId)));
            else
                settled.append(outcomes[i]);
        }
        outcomes = settled;
    }
    if (!executing) {
        for (const auto &[runId, before] : applied)
            d->unload(runId);
    }
    return outcomes;
}

Status Engine::syncResourcesNow() {
    if (d->stopped)
        return Status::error(d->fatal);
    if (Status s = d->syncResources(); !s)
        return s;
    d->schedulePump();
    return Status::ok();
}

Status Engine::answerRequests() {
    if (d->stopped)
        return Status::error(d->fatal);
    auto pending = d->store.pendingRequests(d->options.workerId);
    if (!pending)
        return pending.status();
    for (const RequestRow &request : *pending) {
        auto action = actionFromJson(request.action);
        Result<QString> done =
            action ? Result<QString>(QString()) : Result<QString>(action.status());
        if (action) {
            if (!d->findRun(request.runId)) {
                auto taken = d->adopt(request.runId, true);
                if (!taken)
                    return taken.status();
            }
            done = d->act(*action, true, request.id);
        }
        if (!done && !d->stopped) {
            RequestRow answer = request; // refused: only the answer is written
            answer.state = QStringLiteral("refused");
            answer.result = done.error();
            answer.answeredAt = d->clockRef.nowMs();
            d->ledger.recordAnswer(answer);
            if (Status s = d->commit(); !s)
                return s;
        }
    }
    return Status::ok();
}

Status Engine::pump() {
    return d->pump();
}

Status Engine::syncResources() {
    if (d->stopped)
        return Status::error(d->fatal);
    return d->syncResources();
}
std::optional<qint64> Engine::nextDueAt() const {
    return d->nextDueAt();
}
bool Engine::hasPendingCompletions() const {
    return !d->completions.empty();
}

void Engine::startDriving(int pollMs) {
    d->pollMs = pollMs;
    if (!d->driveTimer) {
        d->driveTimer = new QTimer(this);
        d->driveTimer->setSingleShot(true);
        connect(d->driveTimer, &QTimer::timeout, this, [this] { d->pump(); });
        d->leaseTimer = new QTimer(this);
        connect(d->leaseTimer, &QTimer::timeout, this, [this] { d->renewLeases(); });
        d->leaseTimer->start(static_cast<int>(std::max<qint64>(d->options.leaseMs / 3, 1)));
        d->renewLeases(); // the worker's heartbeat row, at once
        // PostgreSQL: new runs, requests and commits elsewhere wake this worker at once.
        d->store.listen(Store::Channel::Work, this, [this] {
            if (d->stopped)
                return;
            if (Status s = answerRequests(); !s)
                qCWarning(lcEngine) << s.message();
            d->schedulePump();
            Q_EMIT workArrived();
        });
        // Operators pause, unpause and reset resources from other processes: look every poll.
        auto *resourceTimer = new QTimer(this);
        connect(resourceTimer, &QTimer::timeout, this, [this] {
            if (d->stopped)
                return;
            if (Status s = d->syncResources(); !s)
                qCWarning(lcEngine) << s.message();
            if (Status s = answerRequests(); !s)
                qCWarning(lcEngine) << s.message();
            d->schedulePump();
        });
        resourceTimer->start(pollMs);
    }
    d->driveTimer->start(0);
}

void Engine::drain() {
    d->draining = true;
}

Status Engine::shutdown() {
    d->draining = true;
    for (auto &[id, run] : d->runs) {
        for (LiveStep &step : run->steps)
            d->cancelExecutions(step);
    }
    if (d->driveTimer)
        d->driveTimer->stop();
    if (d->leaseTimer)
        d->leaseTimer->stop();
    if (d->stopped)
        return Status::ok();
    return d->store.releaseLeases(d->options.workerId);
}

bool Engine::stopped() const {
    return d->stopped;
}
int Engine::runningAttemptCount() const {
    int count = 0;
    for (const auto &[id, run] : d->runs) {
        for (const LiveStep &step : run->steps) {
            count += step.inFlight ? 1 : 0;
            if (step.foreach) {
                for (const auto &[pos, item] : step.foreach->active)
                    count += item.inFlight ? 1 : 0;
            }
        }
    }
    return count;
}

std::optional<RunState> Engine::runState(const QString &runId) const {
    const auto it = d->runs.find(runId);
    if (it == d->runs.end())
        return std::nullopt;
    return it->second->state;
}

QStringList Engine::loadedRunIds() const {
    QStringList ids;
    for (const auto &[id, run] : d->runs)
        ids << id;
    return ids;
}

QString makeWorkerId() {
    return QStringLiteral("%1:%2:%3")
        .arg(QHostInfo::localHostName())
        .arg(::getpid())
        .arg(QUuid::createUuid().toString(QUuid::Id128).left(6));
}

bool isLocalOwnerDead(const QString &owner) {
    const QStringList parts = owner.split(QLatin1Char(':'));
    if (parts.size() != 3 || parts[0] != QHostInfo::localHostName())
        return false; // another machine: only its lease expiry tells
    bool ok = false;
    const qint64 pid = parts[1].toLongLong(&ok);
    if (!ok || pid <= 0)
        return false;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

QString currentUserName() {
    if (const passwd *entry = ::getpwuid(::getuid()); entry && entry->pw_name)
        return QString::fromLocal8Bit(entry->pw_name);
    const QByteArray user = qgetenv("USER");
    return user.isEmpty() ? QStringLiteral("uid%1").arg(::getuid()) : QString::fromLocal8Bit(user);
}

} // namespace keepflow
