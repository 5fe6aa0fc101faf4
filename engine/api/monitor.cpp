#include "api/monitor.h"

#include "api/changefeed.h"
#include "core/states.h"
#include "model/flowfile.h"
#include "operator/actionplan.h"
#include "store/store.h"

#include <QTimer>

namespace keepflow {

Result<std::unique_ptr<Monitor>> Monitor::open(const QString &path, const Options &options) {
    OperatorApi::Options apiOptions;
    apiOptions.store = options.store;
    apiOptions.clock = options.clock;
    auto api = OperatorApi::open(path, apiOptions);
    if (!api)
        return api.status();
    std::unique_ptr<Monitor> monitor(new Monitor(path, std::move(*api), options));
    // Only what happens from now on is news; the views read the current state on their own.
    if (Status s = monitor->m_feed->startFromNow(); !s)
        return s;
    return monitor;
}

Monitor::Monitor(const QString &path, std::unique_ptr<OperatorApi> api, const Options &options)
    : m_path(path)
    , m_api(std::move(api))
    , m_options(options) {
    m_reconnectTimer = new QTimer(this);
    connect(m_reconnectTimer, &QTimer::timeout, this, &Monitor::reconnect);
    attach();
}

Monitor::~Monitor() {
    if (m_engine) {
        (void)m_engine->shutdown();
        m_api->setExecutor(nullptr);
    }
    m_engine.reset();
    // The feed and the alert watcher read the API's store: they go first.
    delete m_alerts;
    m_alerts = nullptr;
    delete m_feed;
    m_feed = nullptr;
}

OperatorApi::Options Monitor::apiOptions() const {
    OperatorApi::Options options;
    options.store = m_options.store;
    options.clock = m_options.clock;
    // This monitor's engines of lost connections are gone, though this process lives on.
    options.ownerIsDead = [former = m_formerWorkers](const QString &owner) {
        return former.contains(owner) || isLocalOwnerDead(owner);
    };
    return options;
}

void Monitor::attach() {
    m_feed = m_api->createChangeFeed(500, this);
    connect(m_feed, &ChangeFeed::eventsArrived, this, &Monitor::onEvents);
    connect(m_feed, &ChangeFeed::runsChanged, this, &Monitor::runsChanged);
    connect(m_feed, &ChangeFeed::resourcesChanged, this, &Monitor::resourcesChanged);
    connect(m_feed, &ChangeFeed::failed, this, &Monitor::onFailure);
    // A read-only database is only watched: an engine would have to write every step it runs.
    if (m_options.execute && !m_api->isReadOnly()) {
        Engine::Options engineOptions;
        m_workerId = makeWorkerId();
        engineOptions.workerId = m_workerId;
        engineOptions.actor = QStringLiteral("engine");
        engineOptions.secrets = m_options.secrets;
        // ownerIsDead: the API's (see apiOptions()).
        m_engine = m_api->createEngine(engineOptions);
        connect(m_engine.get(), &Engine::fatalError, this, &Monitor::onFailure);
        // Actions on runs this engine executes (or nobody does) are applied through it.
        m_api->setExecutor(m_engine.get());
        // Executing runs, this process also looks out for alerts (as a keepflowctl worker
        // does); what fires reaches the window through the feed, as an alert_fired event.
        m_alerts = m_api->createAlertWatcher(this);
        connect(m_alerts, &AlertWatcher::failed, this,
                [](const QString &message) { qWarning().noquote() << "alerts:" << message; });
    }
}

void Monitor::start() {
    m_started = true;
    m_requestTimer = new QTimer(this);
    connect(m_requestTimer, &QTimer::timeout, this, &Monitor::checkRequests);
    m_requestTimer->start(m_options.feedIntervalMs);
    if (m_options.execute && !m_api->isReadOnly()) {
        m_adoptTimer = new QTimer(this);
        connect(m_adoptTimer, &QTimer::timeout, this, &Monitor::adoptAvailable);
        m_adoptTimer->start(m_options.adoptIntervalMs);
    }
    if (m_connected)
        drive();
}

void Monitor::drive() {
    m_feed->follow(m_options.feedIntervalMs);
    if (!m_engine)
        return;
    if (m_alerts)
        m_alerts->follow(1000);
    QTimer::singleShot(0, this, &Monitor::adoptAvailable);
    m_engine->startDriving();
}

void Monitor::detach() {
    if (m_engine) {
        // Its leases cannot be given back over a lost connection: the next engine takes its
        // runs over at once (see apiOptions()), and other workers once the leases lapse.
        (void)m_engine->shutdown();
        m_api->setExecutor(nullptr);
        m_formerWorkers << m_workerId;
        m_engine.reset();
    }
    delete m_alerts; // its store goes with the connection
    m_alerts = nullptr;
    if (m_feed) {
        m_feedPosition = m_feed->position();
        m_feedLastId = m_feed->lastSeenId();
        delete m_feed;
        m_feed = nullptr;
    }
}

bool Monitor::isConnected() const {
    return m_connected;
}

const QString &Monitor::connectionProblem() const {
    return m_connectionProblem;
}

QString Monitor::notConnectedMessage() {
    return QStringLiteral("not connected to DB; reconnecting");
}

bool Monitor::failureLostTheConnection() {
    if (!m_connected)
        return true;
    if (!m_api->isPostgres())
        return false; // a file does not disconnect
    const Status probe = m_api->checkConnection();
    if (probe)
        return false; // the failure was the statement's, not the connection's
    m_connected = false;
    m_connectionProblem = probe.message();
    // Nothing more goes to the dead connection; the engine and the feed are dropped by the first
    // try to reconnect, once whatever failed has returned.
    if (m_feed)
        m_feed->stop();
    if (m_engine)
        m_engine->drain();
    m_reconnectTimer->start(m_options.reconnectIntervalMs);
    QTimer::singleShot(0, this, &Monitor::reconnect);
    Q_EMIT connectionLost(m_connectionProblem);
    return true;
}

void Monitor::reconnect() {
    if (m_connected)
        return;
    detach();
    auto api = OperatorApi::open(m_path, apiOptions());
    if (!api) {
        // The store names the database first: the rest is what went wrong.
        QString why = api.error();
        const QString prefix = databasePath() + QStringLiteral(": ");
        if (why.startsWith(prefix))
            why = why.mid(prefix.size());
        m_connectionProblem = why.simplified();
        Q_EMIT reconnectFailed(m_connectionProblem);
        return;
    }
    m_reconnectTimer->stop();
    m_api = std::move(*api);
    attach();
    m_feed->continueFrom(m_feedPosition, m_feedLastId);
    m_connected = true;
    m_connectionProblem.clear();
    if (m_started)
        drive();
    Q_EMIT connectionRestored();
}

template <typename R, typename Call> R Monitor::onConnection(Call &&call) {
    if (!m_connected)
        return R(Status::error(notConnectedMessage()));
    R result = call();
    if (!result && failureLostTheConnection())
        return R(Status::error(notConnectedMessage()));
    return result;
}

void Monitor::onFailure(const QString &message) {
    if (!failureLostTheConnection())
        Q_EMIT failed(message);
}

Result<int> Monitor::pollNow() {
    return onConnection<Result<int>>([this]() -> Result<int> {
        if (m_engine) {
            if (auto adopted = m_engine->adoptAvailable(); !adopted)
                return adopted.status();
            if (Status s = m_engine->syncResources(); !s)
                return s;
            if (Status s = m_engine->answerRequests(); !s)
                return s;
            if (Status s = m_engine->pump(); !s)
                return s;
        }
        if (m_alerts) {
            if (auto fired = m_alerts->poll(); !fired)
                return fired.status();
        }
        checkRequests();
        if (!m_connected)
            return Status::error(notConnectedMessage());
        return m_feed->poll();
    });
}

Status Monitor::shutdown() {
    if (!m_engine)
        return Status::ok();
    return m_engine->shutdown();
}

const QString &Monitor::databasePath() const {
    return m_api->databasePath();
}

Monitor::ReaderOpener Monitor::readerOpener() const {
    OperatorApi::Options options;
    options.store = m_options.store;
    options.store.readOnly = true;
    // Copies: nothing of the monitor is touched from the reading thread.
    return [path = m_path, options] { return OperatorApi::open(path, options); };
}

qint64 Monitor::now() const {
    return m_api->clock().nowMs();
}

bool Monitor::executing() const {
    return m_engine && !m_engine->stopped();
}

void Monitor::adoptAvailable() {
    if (!m_connected || !m_engine || m_engine->stopped())
        return;
    if (auto adopted = m_engine->adoptAvailable(); !adopted)
        onFailure(adopted.error());
}

void Monitor::onEvents(const QList<EventRow> &events) {
    Q_EMIT eventsArrived(events);
    for (const EventRow &event : events) {
        if (event.type != EventType::RunWaiting ||
            runStateFromName(event.detail.value(QLatin1String("state")).toString()) !=
                RunState::WaitingForOperator)
            continue;
        auto row = m_api->run(event.runId);
        if (!row)
            continue;
        // Name what the operator is asked for: the steps that wait.
        QStringList waiting;
        if (auto steps = m_api->stepRuns(event.runId)) {
            for (const StepRunRow &step : *steps) {
                if (step.state == StepState::WaitingForOperator)
                    waiting << step.stepId + QStringLiteral(" waits for approval");
                else if (step.state == StepState::Uncertain)
                    waiting << step.stepId + QStringLiteral(" has an uncertain outcome");
            }
        }
        Q_EMIT runNeedsOperator(event.runId, row->flowName, waiting.join(QStringLiteral("; ")));
    }
}

void Monitor::checkRequests() {
    for (auto it = m_requests.begin(); m_connected && it != m_requests.end();) {
        auto answer = onConnection<Result<RequestRow>>([&] { return m_api->request(it.key()); });
        if (!answer || answer->state == QLatin1String("pending")) {
            ++it;
            continue;
        }
        Q_EMIT actionAnswered(it.key(), answer->state == QLatin1String("done"), answer->result);
        it = m_requests.erase(it);
    }
}

Result<QList<RunSummary>> Monitor::runSummaries(const RunQuery &query) {
    return onConnection<Result<QList<RunSummary>>>([&] { return m_api->runSummaries(query); });
}

Result<int> Monitor::countRuns(const RunQuery &query) {
    return onConnection<Result<int>>([&] { return m_api->countRuns(query); });
}

Result<QMap<RunState, int>> Monitor::countRunsByState(const RunQuery &query) {
    return onConnection<Result<QMap<RunState, int>>>(
        [&] { return m_api->countRunsByState(query); });
}

Result<QStringList> Monitor::flowNames() {
    return onConnection<Result<QStringList>>([&] { return m_api->flowNames(); });
}

Result<RunRow> Monitor::run(const QString &runId) {
    return onConnection<Result<RunRow>>([&] { return m_api->run(runId); });
}

Result<Flow> Monitor::flowOfRun(const QString &runId) {
    // A run's flow version never changes: after the first lookup no query is needed.
    if (const qint64 known = m_flowIdOfRun.value(runId); known != 0) {
        if (auto cached = m_flows.constFind(known); cached != m_flows.constEnd())
            return *cached;
    }
    return onConnection<Result<Flow>>([&]() -> Result<Flow> {
        qint64 flowId = m_flowIdOfRun.value(runId);
        if (flowId == 0) {
            auto row = m_api->run(runId);
            if (!row)
                return row.status();
            flowId = row->flowId;
            m_flowIdOfRun.insert(runId, flowId);
        }
        auto version = m_api->flowVersion(flowId);
        if (!version)
            return version.status();
        FlowLoad load = parseFlow(version->definition, version->sourcePath);
        if (!load.ok())
            return Status::error(QStringLiteral("the stored flow %1 of run %2 does not parse: %3")
                                     .arg(version->name, runId, load.errorText()));
        m_flows.insert(flowId, *load.flow);
        return *load.flow;
    });
}

Result<QList<StepRunRow>> Monitor::stepRuns(const QString &runId) {
    return onConnection<Result<QList<StepRunRow>>>([&] { return m_api->stepRuns(runId); });
}

Result<QList<AttemptRow>> Monitor::attempts(const QString &runId) {
    return onConnection<Result<QList<AttemptRow>>>([&] { return m_api->attempts(runId); });
}

Result<QList<AttemptRow>> Monitor::attemptOutputs(const QString &runId, const QString &stepId) {
    return onConnection<Result<QList<AttemptRow>>>(
        [&] { return m_api->attemptOutputs(runId, stepId); });
}

Result<RunDiff> Monitor::diffRuns(const QString &runId, const QString &otherId) {
    return onConnection<Result<RunDiff>>(
        [&] { return keepflow::diffRuns(*m_api, runId, otherId); });
}

Result<FlowStepStats> Monitor::stepStats(const QString &flowName, StepStatsWindow window) {
    return onConnection<Result<FlowStepStats>>(
        [&] { return keepflow::stepStats(*m_api, flowName, window); });
}

Result<QList<ItemRow>> Monitor::items(const QString &runId) {
    return onConnection<Result<QList<ItemRow>>>([&] { return m_api->items(runId); });
}

Result<QList<EventRow>> Monitor::events(const QString &runId, qint64 afterId) {
    return onConnection<Result<QList<EventRow>>>([&] { return m_api->events(runId, afterId); });
}

Result<QList<ResourceRow>> Monitor::resources() {
    return onConnection<Result<QList<ResourceRow>>>([&] { return m_api->resources(); });
}

Result<QHash<QString, QPair<int, int>>> Monitor::resourceLoad() {
    return onConnection<Result<QHash<QString, QPair<int, int>>>>(
        [&] { return m_api->resourceLoad(); });
}

bool Monitor::isReadOnly() const {
    return m_api->isReadOnly();
}

const QString &Monitor::readOnlyReason() const {
    return m_api->readOnlyReason();
}

const QStringList &Monitor::warnings() const {
    return m_api->warnings();
}

DatabaseCheck Monitor::check(DatabaseCheck::Depth depth) {
    return m_api->check(depth);
}

Result<QList<WorkerRow>> Monitor::workers() {
    return onConnection<Result<QList<WorkerRow>>>([&] { return m_api->workers(); });
}

Result<QString> Monitor::startRun(const Flow &flow, const QString &sourcePath,
                                  const QJsonObject &params) {
    if (m_api->isReadOnly())
        return Status::error(QStringLiteral("%1 is open read-only (%2): runs cannot be started")
                                 .arg(databasePath(), readOnlyReason()));
    return onConnection<Result<QString>>([&]() -> Result<QString> {
        if (!m_engine) {
            // A monitor that does not execute (the desktop on a shared database) leaves the run
            // for the workers, which hear of it at once.
            const std::unique_ptr<Engine> submitter = m_api->createEngine();
            return submitter->createRun(flow, sourcePath, params, false);
        }
        return m_engine->createRun(flow, sourcePath, params, true);
    });
}

Result<QStringList> Monitor::stepsRunAgainBy(const OperatorAction &action) {
    return onConnection<Result<QStringList>>([&]() -> Result<QStringList> {
        auto flow = flowOfRun(action.runId);
        if (!flow)
            return flow.status();
        auto status = m_api->status(action.runId);
        if (!status)
            return status.status();
        const RunSnapshot run = RunSnapshot::of(*flow, status->run.state, status->run.paused,
                                                status->steps, status->items);
        return keepflow::stepsRunAgainBy(action, run);
    });
}

Result<ActionOutcome> Monitor::act(const OperatorAction &action) {
    // Without an engine of our own the API applies it with a short-lived one, as keepflowctl does.
    auto outcome = onConnection<Result<ActionOutcome>>(
        [&] { return m_api->act(action, OperatorApi::HandOver::Leave); });
    if (outcome && outcome->requestId != 0)
        m_requests.insert(outcome->requestId, action.runId);
    return outcome;
}

Result<UpgradeOutcome> Monitor::planUpgrade(const QString &runId, const Flow &to) {
    return onConnection<Result<UpgradeOutcome>>([&] { return m_api->planUpgrade(runId, to); });
}

Result<UpgradeOutcome> Monitor::upgrade(const QString &runId, const Flow &to,
                                        const QString &sourcePath, const QString &reason) {
    auto outcome = onConnection<Result<UpgradeOutcome>>([&] {
        return m_api->upgrade(runId, to, sourcePath, reason, {}, OperatorApi::HandOver::Leave);
    });
    if (outcome && outcome->action.requestId != 0)
        m_requests.insert(outcome->action.requestId, runId);
    return outcome;
}

Status Monitor::changeResource(const QString &name, std::optional<bool> paused, bool resetBreaker) {
    if (m_api->isReadOnly())
        return Status::error(
            QStringLiteral("%1 is open read-only (%2): resources cannot be changed")
                .arg(databasePath(), readOnlyReason()));
    return onConnection<Status>([&] { return m_api->changeResource(name, paused, resetBreaker); });
}

Result<PolicyPreview> Monitor::previewPolicy(const QString &runId, const QString &stepId,
                                             const QJsonObject &change) {
    return onConnection<Result<PolicyPreview>>(
        [&] { return m_api->previewPolicy(runId, stepId, change); });
}

Result<QString> Monitor::setResourceLimits(const QString &name, std::optional<int> concurrency,
                                           const QString &rate, const QString &reason) {
    return onConnection<Result<QString>>(
        [&] { return m_api->setResourceLimits(name, concurrency, rate, reason); });
}

Result<QString> Monitor::previewResourceLimits(const QString &name, std::optional<int> concurrency,
                                               const QString &rate) {
    return onConnection<Result<QString>>(
        [&] { return m_api->previewResourceLimits(name, concurrency, rate); });
}

Result<QList<FailureGroup>> Monitor::failureGroups(const RunQuery &query) {
    return onConnection<Result<QList<FailureGroup>>>([&] { return m_api->failureGroups(query); });
}

Result<BulkReport> Monitor::planBulk(const BulkRequest &request) {
    return onConnection<Result<BulkReport>>([&] { return m_api->planBulk(request); });
}

Result<BulkReport> Monitor::applyBulk(const BulkRequest &request,
                                      const std::function<bool(int, int)> &progress) {
    // The API acts through the executor (m_engine) when there is one, a short-lived engine
    // otherwise, as act() does.
    return onConnection<Result<BulkReport>>([&] { return m_api->applyBulk(request, progress); });
}

} // namespace keepflow
