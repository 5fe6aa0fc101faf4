#include "runtime/engine.h"

#include "model/flowfile.h"
#include "runtime/retrypolicy.h"
#include "store/sqlitewriter.h"
#include "store/store.h"
#include "model/template.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QHostInfo>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QUuid>

#include <cerrno>
#include <csignal>
#include <deque>
#include <exception>
#include <map>
#include <pwd.h>
#include <queue>
#include <unistd.h>

namespace keepflow {

Q_LOGGING_CATEGORY(lcEngine, "keepflow.engine")

namespace {

/// A resource's limits as the flow declares them; zero means "no limit".
struct ResourceConfig {
    int concurrency = 0;
    int rateLimit = 0;
    qint64 ratePerMs = 0;
    bool breaker = false;
    double failureRate = 0.5;
    int window = 20;
    int minCalls = 10;
    qint64 openForMs = 30'000;
    int halfOpenCalls = 1;
    qint64 maxQueueTimeMs = 0;
};

ResourceConfig parseResourceConfig(const QJsonObject &definition) {
    ResourceConfig config;
    config.concurrency = definition.value(QLatin1String("concurrency")).toInt(0);
    const QJsonObject rate = definition.value(QLatin1String("rate")).toObject();
    config.rateLimit = rate.value(QLatin1String("limit")).toInt(0);
    config.ratePerMs = parseDurationMs(rate.value(QLatin1String("per")).toString()).value_or(1000);
    const QJsonValue breaker = definition.value(QLatin1String("breaker"));
    if (breaker.isObject()) {
        const QJsonObject b = breaker.toObject();
        config.breaker = true;
        config.failureRate = b.value(QLatin1String("failure_rate")).toDouble(0.5);
        config.window = std::max(1, b.value(QLatin1String("window")).toInt(20));
        config.minCalls =
            std::max(1, b.value(QLatin1String("min_calls")).toInt(std::min(10, config.window)));
        config.openForMs =
            parseDurationMs(b.value(QLatin1String("open_for")).toString()).value_or(30'000);
        config.halfOpenCalls = std::max(1, b.value(QLatin1String("half_open_calls")).toInt(1));
    }
    config.maxQueueTimeMs =
        parseDurationMs(definition.value(QLatin1String("max_queue_time")).toString()).value_or(0);
    return config;
}

/// What the engine derives once per flow version: the graph and the resolved policies.
struct Plan {
    std::shared_ptr<const Flow> flow;
    qint64 flowId = 0;
    int version = 0;
    QString sourcePath;
    QList<QList<int>> upstream;
    QList<QList<int>> downstream;
    QList<int> fallbackStep; ///< step -> index of its fallback step, or -1
    QList<int> primaryOf;    ///< fallback step -> index of the step it stands in for, or -1
    QList<RetryPolicy> retry;
    QList<std::optional<qint64>> timeout;
    QList<std::optional<qint64>> deadline;
    QList<qint64> initialDelay;         ///< `delay` plus, for the delay kind, with.duration
    QList<qint64> notBeforeAt;          ///< absolute `not_before`, 0 when none
    QList<QStringList> referencedSteps; ///< steps whose outputs the step's templates read
    QList<bool> hasTemplates;
    QHash<QString, ResourceConfig> resources;
};

bool valueHasTemplate(const QJsonValue &value) {
    switch (value.type()) {
    case QJsonValue::String:
        return hasTemplate(value.toString());
    case QJsonValue::Array:
        for (const QJsonValue &element : value.toArray()) {
            if (valueHasTemplate(element))
                return true;
        }
        return false;
    case QJsonValue::Object: {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (valueHasTemplate(it.value()))
                return true;
        }
        return false;
    }
    default:
        return false;
    }
}

void collectStepRefs(const QJsonValue &value, QStringList &into) {
    if (value.isString()) {
        const auto refs = parseTemplates(value.toString());
        if (!refs)
            return;
        for (const TemplateRef &ref : *refs) {
            if (ref.root == QLatin1String("steps") && !ref.path.isEmpty() &&
                !into.contains(ref.path.first()))
                into << ref.path.first();
        }
    } else if (value.isArray()) {
        for (const QJsonValue &element : value.toArray())
            collectStepRefs(element, into);
    } else if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            collectStepRefs(it.value(), into);
    }
}

std::shared_ptr<Plan> makePlan(std::shared_ptr<const Flow> flow, qint64 flowId) {
    auto plan = std::make_shared<Plan>();
    plan->flow = flow;
    plan->flowId = flowId;
    const auto count = flow->steps.size();
    plan->upstream.resize(count);
    plan->downstream.resize(count);
    plan->fallbackStep.fill(-1, count);
    plan->primaryOf.fill(-1, count);
    for (qsizetype i = 0; i < count; ++i) {
        const Step &step = flow->steps[i];
        for (const QString &after : step.after) {
            const auto u = flow->indexOfStep(after);
            if (u < 0)
                continue;
            plan->upstream[i].append(static_cast<int>(u));
            plan->downstream[u].append(static_cast<int>(i));
        }
        if (step.fallback.kind == Fallback::Kind::Step) {
            const auto f = flow->indexOfStep(step.fallback.step);
            if (f >= 0) {
                plan->fallbackStep[i] = static_cast<int>(f);
                plan->primaryOf[f] = static_cast<int>(i);
            }
        }
        plan->retry.append(flow->effectiveRetry(step));
        plan->timeout.append(flow->effectiveTimeoutMs(step));
        plan->deadline.append(step.deadline ? std::optional<qint64>(step.deadline->ms)
                                            : std::nullopt);
        qint64 delay = step.delay ? step.delay->ms : 0;
        if (step.kind == QLatin1String("delay"))
            delay +=
                parseDurationMs(step.with.value(QLatin1String("duration")).toString()).value_or(0);
        plan->initialDelay.append(delay);
        qint64 notBefore = 0;
        if (!step.notBefore.isEmpty()) {
            const QDateTime at = QDateTime::fromString(step.notBefore, Qt::ISODateWithMs);
            notBefore = at.isValid() ? at.toMSecsSinceEpoch() : 0;
        }
        plan->notBeforeAt.append(notBefore);
        QStringList refs;
        collectStepRefs(step.with, refs);
        plan->referencedSteps.append(refs);
        plan->hasTemplates.append(valueHasTemplate(step.with));
    }
    for (const ResourceSpec &resource : flow->resources)
        plan->resources.insert(resource.name, parseResourceConfig(resource.definition));
    return plan;
}

/// A started, not yet final item of a foreach step.
struct ItemRt {
    StepState state = StepState::Pending;
    int attempts = 0;
    int failures = 0;
    qint64 notBefore = 0;
    qint64 attemptStartedAt = 0;
    qint64 attemptDeadline = 0;
    quint32 timerStamp = 0;
    QString errorClass;
    QString error;
    bool inFlight = false;
    bool holdsSlot = false;
    bool isProbe = false;
    bool inQueue = false;
    qint64 queuedAt = 0;
    std::unique_ptr<Execution> execution;
};

/// A running foreach step: the list, what is left to start, and the live items. Items that
/// finished keep only their state and output (or error); the rest stays in the items table.
struct ForeachRt {
    QJsonArray items;
    QStringList keys;
    std::vector<StepState> states;
    std::vector<QJsonValue> outputs;
    std::vector<QString> errors;
    std::deque<int> pending;      ///< positions not started yet, in order
    std::map<int, ItemRt> active; ///< running or waiting to retry
    int running = 0;
    int succeeded = 0;
    int failed = 0;
    int uncertain = 0;
    int concurrency = 4;
};

struct StepRt {
    StepState state = StepState::Pending;
    int attempts = 0;
    int failures = 0;
    int generation = 1;
    qint64 notBefore = 0;
    qint64 startedAt = 0;
    qint64 endedAt = 0;
    qint64 attemptStartedAt = 0;
    qint64 attemptDeadline = 0; ///< 0: no timeout for the running attempt
    bool attemptDeadlineIsStepDeadline = false;
    QString errorClass;
    QString error;
    bool viaFallback = false;
    bool candidate = false;
    bool fallbackActive = false;
    bool inFlight = false;  ///< its action was started and has not been recorded as ended
    bool holdsSlot = false; ///< counted in its resource's in-flight calls
    bool isProbe = false;   ///< a half-open breaker's trial call
    bool inQueue = false;   ///< listed in its resource's queue
    qint64 queuedAt = 0;
    quint32 timerStamp = 0;
    QJsonValue output{QJsonValue::Undefined};
    std::unique_ptr<Execution> execution;
    std::unique_ptr<ForeachRt> foreach;
    QJsonValue inputOverride{QJsonValue::Undefined}; ///< set-input: replaces `with`
};

struct RunRt {
    QString id;
    QString flowName;
    std::shared_ptr<Plan> plan;
    QJsonObject params;
    RunState state = RunState::Running;
    qint64 createdAt = 0;
    qint64 endedAt = 0;
    std::vector<StepRt> steps;
    StepStateCounts counts{};
    std::vector<int> candidates;
    bool dirty = false;
    bool paused = false; ///< held by an operator: nothing new starts
    QString parentRun;   ///< a sub-run: the run and step that started it
    QString parentStep;
};

struct Completion {
    QString runId;
    int step = 0;
    int attempt = 0;
    int generation = 0;
    AttemptResult result;
    int item = -1; ///< foreach item position, -1 for the step itself
};

struct Launch {
    QString runId;
    int step = 0;
    AttemptRequest request;
    int item = -1;
};

/// A due time in a min-heap, with what it refers to.
struct Due {
    qint64 at = 0;
    QString runId;
    int step = 0;
    quint32 stamp = 0;
    int item = -1; ///< foreach item position, -1 for the step itself
    bool operator>(const Due &other) const { return at > other.at; }
};

using DueHeap = std::priority_queue<Due, std::vector<Due>, std::greater<Due>>;

enum class Breaker { Closed, Open, HalfOpen };

/// A call waiting for a resource: a step, or one item of a foreach step.
struct QueueEntry {
    QString runId;
    int step = 0;
    int item = -1;
    bool operator==(const QueueEntry &) const = default;
};

QString breakerName(Breaker state) {
    switch (state) {
    case Breaker::Closed:
        return QStringLiteral("closed");
    case Breaker::Open:
        return QStringLiteral("open");
    case Breaker::HalfOpen:
        return QStringLiteral("half_open");
    }
    return {};
}

/// A resource as the engine sees it: limits, the durable pause and breaker, the live counters.
struct ResourceRt {
    QString name;
    ResourceConfig config;
    bool paused = false;
    Breaker breaker = Breaker::Closed;
    qint64 openedAt = 0;
    QString window; ///< latest call outcomes, oldest first: '1' failed
    int inFlight = 0;
    int probesInFlight = 0;
    int probeSuccesses = 0;
    double tokens = -1; ///< rate-limit tokens; -1 until first use (the bucket starts full)
    qint64 refilledAt = 0;
    std::deque<QueueEntry> queue; ///< calls waiting for it, oldest first
};

QString newRunId() {
    return QUuid::createUuid().toString(QUuid::Id128).left(12);
}

QJsonObject withAttempt(QJsonObject detail, int attempt) {
    detail.insert(QStringLiteral("attempt"), attempt);
    return detail;
}

} // namespace

struct Engine::Impl final : StepContext {
    Engine *q = nullptr;
    Store &store;
    const Clock &clockRef;
    StepKindRegistry actions;
    Options options;

    QHash<qint64, std::shared_ptr<Plan>> plans;
    std::map<QString, std::unique_ptr<RunRt>> runs;
    std::vector<RunRt *> dirtyRuns;
    std::vector<Completion> completions;
    std::vector<std::unique_ptr<Execution>> retired;
    DueHeap stepTimers;
    DueHeap attemptTimeouts;
    std::map<quint64, std::pair<qint64, std::function<void()>>> calls;
    std::priority_queue<std::pair<qint64, quint64>, std::vector<std::pair<qint64, quint64>>,
                        std::greater<>>
        callHeap;
    quint64 nextCallId = 1;
    std::map<QString, ResourceRt> resourceStates;
    std::vector<std::pair<QString, int>> subflowChecks; ///< (run, step) to look at after a load
    bool resourcesLoaded = false;

    bool inPump = false;
    bool stopped = false;
    bool draining = false;
    QString fatal;
    QTimer *driveTimer = nullptr;
    QTimer *leaseTimer = nullptr;
    int pollMs = 500;

    Impl(Engine *engine, Store &s, const Clock &c, StepKindRegistry a, Options o)
        : q(engine)
        , store(s)
        , clockRef(c)
        , actions(std::move(a))
        , options(std::move(o)) {}

    ~Impl() override {
        for (auto &[id, run] : runs) {
            for (StepRt &step : run->steps)
                cancelExecutions(step);
        }
        retired.clear();
    }

    /// Stops the step's running work (and its items'); their completions never arrive.
    void cancelExecutions(StepRt &step) {
        if (step.execution) {
            step.execution->cancel();
            retired.push_back(std::move(step.execution));
        }
        step.inFlight = false;
        if (!step.foreach)
            return;
        for (auto &[pos, item] : step.foreach->active) {
            if (item.execution) {
                item.execution->cancel();
                retired.push_back(std::move(item.execution));
            }
            item.inFlight = false;
        }
    }

    // StepContext
    const Clock &clock() const override { return clockRef; }
    quint64 callAt(qint64 atMs, std::function<void()> callback) override {
        const quint64 id = nextCallId++;
        calls.emplace(id, std::make_pair(atMs, std::move(callback)));
        callHeap.emplace(atMs, id);
        schedulePump();
        return id;
    }
    void cancelCall(quint64 id) override { calls.erase(id); }

    void schedulePump() {
        if (driveTimer && !stopped)
            driveTimer->start(0);
    }

    EventRow event(const RunRt &run, int step, const QString &type, QJsonObject detail,
                   qint64 now) const {
        EventRow row;
        row.at = now;
        row.runId = run.id;
        if (step >= 0)
            row.stepId = run.plan->flow->steps[step].id;
        row.type = type;
        row.actor = options.actor;
        row.detail = std::move(detail);
        return row;
    }

    StepRunRow stepRow(const RunRt &run, int i) const {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        StepRunRow row;
        row.runId = run.id;
        row.stepId = run.plan->flow->steps[i].id;
        row.position = i;
        row.state = stateName(step.state);
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
        row.resource = run.plan->flow->steps[i].resource;
        row.queuedAt = step.queuedAt;
        row.inputOverride = step.inputOverride;
        return row;
    }

    RunRow runRow(const RunRt &run) const {
        RunRow row;
        row.id = run.id;
        row.flowId = run.plan->flowId;
        row.flowName = run.flowName;
        row.state = stateName(run.state);
        row.params = run.params;
        row.createdAt = run.createdAt;
        row.endedAt = run.endedAt;
        row.paused = run.paused;
        row.parentRun = run.parentRun;
        row.parentStep = run.parentStep;
        return row;
    }

    QString idempotencyKey(const RunRt &run, int i) const {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        return QStringLiteral("%1/%2/%3")
            .arg(run.id, run.plan->flow->steps[i].id)
            .arg(step.generation);
    }

    void markDirty(RunRt &run) {
        if (!run.dirty) {
            run.dirty = true;
            dirtyRuns.push_back(&run);
        }
    }

    void addCandidate(RunRt &run, int i) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (!step.candidate) {
            step.candidate = true;
            run.candidates.push_back(i);
        }
        markDirty(run);
    }

    /// Applies event to step i through the one transition function.
    bool transition(RunRt &run, int i, StepEvent stepEvent) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        const auto next = nextStepState(step.state, stepEvent);
        if (!next) {
            qCWarning(lcEngine) << "transition refused:" << run.plan->flow->steps[i].id
                                << stateName(step.state) << stepEvent;
            return false;
        }
        --run.counts[static_cast<int>(step.state)];
        step.state = *next;
        ++run.counts[static_cast<int>(step.state)];
        return true;
    }

    void pushTimer(RunRt &run, int i) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        ++step.timerStamp;
        stepTimers.push(Due{step.notBefore, run.id, i, step.timerStamp});
    }

    RunRt *findRun(const QString &id) {
        const auto it = runs.find(id);
        return it == runs.end() ? nullptr : it->second.get();
    }

    Result<std::shared_ptr<Plan>> planFor(qint64 flowId) {
        if (auto it = plans.find(flowId); it != plans.end())
            return *it;
        auto version = store.flowVersion(flowId);
        if (!version)
            return version.status();
        FlowLoad load = parseFlow(
            version->definition, QStringLiteral("%1 v%2").arg(version->name).arg(version->version));
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

    // ---- scheduling -------------------------------------------------------------------------

    enum class JoinDecision { Wait, Ready, Blocked };

    JoinDecision evaluateJoin(const RunRt &run, int i, QString &blockedBy) const {
        const QList<int> &ups = run.plan->upstream[i];
        if (ups.isEmpty())
            return JoinDecision::Ready;
        int done = 0;
        int succeeded = 0;
        int failed = 0;
        for (int u : ups) {
            const StepState s = run.steps[static_cast<size_t>(u)].state;
            if (!isFinal(s))
                continue;
            ++done;
            if (countsAsSuccess(s)) {
                ++succeeded;
            } else {
                ++failed;
                if (blockedBy.isEmpty())
                    blockedBy = run.plan->flow->steps[u].id;
            }
        }
        const int total = static_cast<int>(ups.size());
        switch (run.plan->flow->steps[i].effectiveJoin()) {
        case JoinRule::AllSucceeded:
        case JoinRule::NoneFailed:
            if (failed > 0)
                return JoinDecision::Blocked;
            return done == total ? JoinDecision::Ready : JoinDecision::Wait;
        case JoinRule::AllDone:
            return done == total ? JoinDecision::Ready : JoinDecision::Wait;
        case JoinRule::AnySucceeded:
            if (succeeded > 0)
                return JoinDecision::Ready;
            return done == total ? JoinDecision::Blocked : JoinDecision::Wait;
        }
        return JoinDecision::Wait;
    }

    void advance(RunRt &run, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        // run.dirty stays true until the end: candidates added meanwhile join this same pass.
        // Candidates may add more candidates (a blocked step blocks its downstream at once).
        for (size_t k = 0; k < run.candidates.size(); ++k) {
            const int i = run.candidates[k];
            StepRt &step = run.steps[static_cast<size_t>(i)];
            step.candidate = false;
            switch (step.state) {
            case StepState::Pending: {
                if (run.plan->primaryOf[i] >= 0)
                    break; // a fallback step starts only when its primary fails for good
                QString blockedBy;
                const JoinDecision decision = evaluateJoin(run, i, blockedBy);
                if (decision == JoinDecision::Ready) {
                    makeReady(run, i, now, batch, launches);
                } else if (decision == JoinDecision::Blocked) {
                    transition(run, i, StepEvent::UpstreamFailed);
                    step.endedAt = now;
                    step.error = QStringLiteral("upstream step %1 did not succeed").arg(blockedBy);
                    batch.steps.append(stepRow(run, i));
                    batch.events.append(event(run, i, QStringLiteral("step_blocked"),
                                              {{QStringLiteral("upstream"), blockedBy}}, now));
                    finalized(run, i, now, batch, launches);
                }
                break;
            }
            case StepState::Queued:
                // Its timer is only a reminder; whenever it is woken, admission decides.
                tryStart(run, i, now, batch, launches);
                break;
            case StepState::Running:
                if (step.foreach)
                    scheduleItems(run, i, now, batch, launches);
                break;
            case StepState::Scheduled:
            case StepState::Retrying:
                if (step.notBefore <= now)
                    tryStart(run, i, now, batch, launches);
                else
                    pushTimer(run, i);
                break;
            default:
                break;
            }
        }
        run.candidates.clear();
        run.dirty = false;
        updateRunState(run, now, batch);
    }

    void makeReady(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        const qint64 at = std::max(now + run.plan->initialDelay[i], run.plan->notBeforeAt[i]);
        if (at > now) {
            transition(run, i, StepEvent::Delayed);
            step.notBefore = at;
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(run, i, QStringLiteral("step_scheduled"),
                                      {{QStringLiteral("until"), at}}, now));
            pushTimer(run, i);
            return;
        }
        tryStart(run, i, now, batch, launches);
    }

    // ---- resources ----------------------------------------------------------------------------

    ResourceRt &resourceFor(const RunRt &run, int i) {
        const QString &name = run.plan->flow->steps[i].resource;
        ResourceRt &res = resourceStates[name];
        res.name = name;
        res.config = run.plan->resources.value(name);
        return res;
    }

    ResourceRow resourceRow(const ResourceRt &res, qint64 now) const {
        ResourceRow row;
        row.name = res.name;
        row.paused = res.paused;
        row.breakerState = breakerName(res.breaker);
        row.openedAt = res.openedAt;
        row.window = res.window;
        row.updatedAt = now;
        return row;
    }

    EventRow resourceEvent(const ResourceRt &res, const QString &type, QJsonObject detail,
                           qint64 now) const {
        EventRow row;
        row.at = now;
        row.type = type;
        row.actor = options.actor;
        detail.insert(QStringLiteral("resource"), res.name);
        row.detail = std::move(detail);
        return row;
    }

    /// Whether a call to res may start now; if not, why and (when known) when to look again.
    bool admit(ResourceRt &res, const QueueEntry &entry, qint64 now, Batch &batch, QString &why,
               qint64 &wakeAt) {
        const ResourceConfig &config = res.config;
        if (res.paused) {
            why = QStringLiteral("resource %1 is paused").arg(res.name);
            return false;
        }
        if (res.breaker == Breaker::Open) {
            if (now < res.openedAt + config.openForMs) {
                why = QStringLiteral("the circuit of %1 is open").arg(res.name);
                wakeAt = res.openedAt + config.openForMs;
                return false;
            }
            res.breaker = Breaker::HalfOpen; // time to probe
            res.probesInFlight = 0;
            res.probeSuccesses = 0;
            batch.resources.append(resourceRow(res, now));
            batch.events.append(resourceEvent(res, QStringLiteral("resource_half_open"), {}, now));
        }
        if (res.breaker == Breaker::HalfOpen && res.probesInFlight >= config.halfOpenCalls) {
            why = QStringLiteral("the circuit of %1 is half-open and its probes are out")
                      .arg(res.name);
            return false;
        }
        if (config.concurrency > 0 && res.inFlight >= config.concurrency) {
            why = QStringLiteral("%1 has %2 of %2 calls in flight")
                      .arg(res.name)
                      .arg(config.concurrency);
            return false;
        }
        dropStaleQueueHeads(res);
        if (!res.queue.empty() && !(res.queue.front() == entry)) {
            why = QStringLiteral("%1 calls wait before it for %2")
                      .arg(res.queue.size())
                      .arg(res.name);
            return false;
        }
        if (config.rateLimit > 0) {
            const double perMs = static_cast<double>(config.rateLimit) /
                                 static_cast<double>(std::max<qint64>(1, config.ratePerMs));
            if (res.tokens < 0) {
                res.tokens = config.rateLimit;
            } else {
                res.tokens = std::min<double>(
                    config.rateLimit,
                    res.tokens + static_cast<double>(now - res.refilledAt) * perMs);
            }
            res.refilledAt = now;
            if (res.tokens < 1.0) {
                why = QStringLiteral("rate limit of %1: %2 per %3")
                          .arg(res.name)
                          .arg(config.rateLimit)
                          .arg(formatDuration(config.ratePerMs));
                wakeAt = now + static_cast<qint64>(std::ceil((1.0 - res.tokens) / perMs));
                return false;
            }
            res.tokens -= 1.0;
        }
        return true;
    }

    /// The queued item of entry, or nullptr when the entry is a step or no longer waits.
    ItemRt *queuedItem(RunRt &run, const QueueEntry &entry) {
        StepRt &step = run.steps[static_cast<size_t>(entry.step)];
        if (entry.item < 0 || !step.foreach)
            return nullptr;
        const auto it = step.foreach->active.find(entry.item);
        return it == step.foreach->active.end() ? nullptr : &it->second;
    }

    bool stillWaiting(const QueueEntry &entry) {
        RunRt *run = findRun(entry.runId);
        if (!run)
            return false;
        if (entry.item < 0) {
            const StepRt &step = run->steps[static_cast<size_t>(entry.step)];
            return step.state == StepState::Queued && step.inQueue;
        }
        const ItemRt *item = queuedItem(*run, entry);
        return item && item->state == StepState::Queued && item->inQueue;
    }

    void dropStaleQueueHeads(ResourceRt &res) {
        while (!res.queue.empty() && !stillWaiting(res.queue.front()))
            res.queue.pop_front();
    }

    /// Lets the oldest waiting call of res try again.
    void wakeQueue(ResourceRt &res) {
        dropStaleQueueHeads(res);
        if (res.queue.empty())
            return;
        if (RunRt *run = findRun(res.queue.front().runId))
            addCandidate(*run, res.queue.front().step);
    }

    /// Starts step i now if its resource lets it, otherwise queues it in order.
    void tryStart(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        if (draining || run.paused)
            return; // left as it is: the next engine to adopt the run, or unpause, starts it
        const Step &def = run.plan->flow->steps[i];
        // A foreach step is not one call: its items are (the step only expands the list).
        if (def.resource.isEmpty() || !def.foreach.isUndefined()) {
            startAttempt(run, i, now, batch, launches);
            return;
        }
        StepRt &step = run.steps[static_cast<size_t>(i)];
        ResourceRt &res = resourceFor(run, i);
        const qint64 maxQueue = res.config.maxQueueTimeMs;
        if (step.state == StepState::Queued && maxQueue > 0 && now >= step.queuedAt + maxQueue) {
            step.inQueue = false;
            step.errorClass = errorClassName(ErrorClass::Timeout);
            step.error =
                QStringLiteral("waited %1 for resource %2, longer than its max_queue_time of %3%4")
                    .arg(formatDuration(now - step.queuedAt), res.name, formatDuration(maxQueue),
                         step.error.isEmpty()
                             ? QString()
                             : QStringLiteral(" (last error: %1)").arg(step.error));
            failForGood(run, i, now, batch, launches);
            wakeQueue(res);
            return;
        }
        QString why;
        qint64 wakeAt = 0;
        if (!admit(res, QueueEntry{run.id, i, -1}, now, batch, why, wakeAt)) {
            const bool newlyQueued = step.state != StepState::Queued;
            if (newlyQueued) {
                transition(run, i, StepEvent::Enqueued);
                step.queuedAt = now;
                batch.events.append(
                    event(run, i, QStringLiteral("step_queued"),
                          {{QStringLiteral("resource"), res.name}, {QStringLiteral("reason"), why}},
                          now));
            }
            if (!step.inQueue) {
                step.inQueue = true;
                res.queue.push_back(QueueEntry{run.id, i, -1});
            }
            qint64 timer = wakeAt;
            if (maxQueue > 0 && (timer == 0 || step.queuedAt + maxQueue < timer))
                timer = step.queuedAt + maxQueue;
            const bool timerChanged = timer != step.notBefore;
            step.notBefore = timer; // when it looks again (0: when a slot frees)
            if (timer > 0)
                pushTimer(run, i); // also after a restart, when the heap starts empty
            if (newlyQueued || timerChanged)
                batch.steps.append(stepRow(run, i));
            return;
        }
        if (step.inQueue) {
            step.inQueue = false;
            res.queue.pop_front(); // admit() lets only the head through
        }
        ++res.inFlight;
        step.holdsSlot = true;
        step.isProbe = res.breaker == Breaker::HalfOpen;
        if (step.isProbe)
            ++res.probesInFlight;
        const int attemptsBefore = step.attempts;
        startAttempt(run, i, now, batch, launches);
        if (step.attempts == attemptsBefore && step.holdsSlot) {
            // No call went out after all (deadline passed, an approval, draining): give it back.
            step.holdsSlot = false;
            releaseCall(res, std::exchange(step.isProbe, false), std::nullopt, now, batch);
        }
        if (!res.queue.empty())
            wakeQueue(res); // capacity may remain for the next in line
    }

    /// Step i's call ended: give back its slot and teach the breaker what happened.
    void releaseSlot(RunRt &run, int i, std::optional<AttemptResult> result, qint64 now,
                     Batch &batch) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (!step.holdsSlot)
            return;
        step.holdsSlot = false;
        const bool probe = std::exchange(step.isProbe, false);
        releaseCall(resourceFor(run, i), probe, result, now, batch);
    }

    /// A call to res ended: one slot is free again, and the breaker learns how it went.
    void releaseCall(ResourceRt &res, bool probe, const std::optional<AttemptResult> &result,
                     qint64 now, Batch &batch) {
        res.inFlight = std::max(0, res.inFlight - 1);
        if (probe)
            res.probesInFlight = std::max(0, res.probesInFlight - 1);
        if (result && res.config.breaker) {
            // The dependency's health: an error it caused (not a permanent one of the caller's).
            const bool failed = !result->succeeded && result->errorClass != ErrorClass::Permanent;
            if (res.breaker == Breaker::HalfOpen && probe) {
                if (failed) {
                    res.breaker = Breaker::Open;
                    res.openedAt = now;
                    batch.events.append(resourceEvent(
                        res, QStringLiteral("resource_opened"),
                        {{QStringLiteral("reason"), QStringLiteral("a probe failed")}}, now));
                } else if (++res.probeSuccesses >= res.config.halfOpenCalls) {
                    res.breaker = Breaker::Closed;
                    res.window.clear();
                    batch.events.append(
                        resourceEvent(res, QStringLiteral("resource_closed"), {}, now));
                }
            } else if (res.breaker == Breaker::Closed) {
                res.window += failed ? QLatin1Char('1') : QLatin1Char('0');
                if (res.window.size() > res.config.window)
                    res.window.remove(0, res.window.size() - res.config.window);
                const auto failures = res.window.count(QLatin1Char('1'));
                const double rate =
                    static_cast<double>(failures) / static_cast<double>(res.window.size());
                // Only a failure can push the rate over the threshold.
                if (failed && res.window.size() >= res.config.minCalls &&
                    rate >= res.config.failureRate) {
                    res.breaker = Breaker::Open;
                    res.openedAt = now;
                    batch.events.append(resourceEvent(
                        res, QStringLiteral("resource_opened"),
                        {{QStringLiteral("failure_rate"), rate},
                         {QStringLiteral("calls"), static_cast<int>(res.window.size())}},
                        now));
                }
            }
            batch.resources.append(resourceRow(res, now));
        }
        wakeQueue(res);
    }

    Status ensureResourcesLoaded() { return resourcesLoaded ? Status::ok() : syncResources(); }

    /// A new run of plan with params checked against the flow and defaults applied; its rows and
    /// its run_created event go into batch. parent links a sub-run to the step that started it.
    Result<std::unique_ptr<RunRt>> newRun(const std::shared_ptr<Plan> &plan,
                                          const QJsonObject &params, const QString &id,
                                          const std::pair<QString, QString> &parent, bool execute,
                                          Batch &batch) {
        const Flow &flow = *plan->flow;
        QJsonObject resolved;
        for (auto it = params.begin(); it != params.end(); ++it) {
            if (!flow.param(it.key())) {
                QStringList declared;
                for (const ParamSpec &spec : flow.params)
                    declared << spec.name;
                return Status::error(
                    QStringLiteral("unknown parameter \"%1\" (flow %2 declares: %3)")
                        .arg(it.key(), flow.name,
                             declared.isEmpty() ? QStringLiteral("none")
                                                : declared.join(QStringLiteral(", "))));
            }
            resolved.insert(it.key(), it.value());
        }
        for (const ParamSpec &spec : flow.params) {
            if (resolved.contains(spec.name))
                continue;
            if (spec.defaultValue.isUndefined())
                return Status::error(QStringLiteral("parameter \"%1\" is required (flow %2)")
                                         .arg(spec.name, flow.name));
            resolved.insert(spec.name, spec.defaultValue);
        }
        const qint64 now = clockRef.nowMs();
        auto run = std::make_unique<RunRt>();
        run->id = id;
        run->flowName = flow.name;
        run->plan = plan;
        run->params = resolved;
        run->createdAt = now;
        run->parentRun = parent.first;
        run->parentStep = parent.second;
        run->steps.resize(static_cast<size_t>(flow.steps.size()));
        run->counts[static_cast<int>(StepState::Pending)] = static_cast<int>(flow.steps.size());
        RunRow row = runRow(*run);
        if (execute) {
            row.owner = options.workerId;
            row.leaseUntil = now + options.leaseMs;
        }
        batch.runs.append(row);
        for (int i = 0; i < static_cast<int>(flow.steps.size()); ++i)
            batch.steps.append(stepRow(*run, i));
        QJsonObject detail{{QStringLiteral("flow"), flow.name},
                           {QStringLiteral("version"), plan->version},
                           {QStringLiteral("source"), plan->sourcePath},
                           {QStringLiteral("params"), resolved},
                           {QStringLiteral("actor"), currentUserName()}};
        if (!parent.first.isEmpty())
            detail.insert(QStringLiteral("parent"),
                          QStringLiteral("%1/%2").arg(parent.first, parent.second));
        batch.events.append(event(*run, -1, QStringLiteral("run_created"), detail, now));
        return run;
    }

    // ---- subflows ------------------------------------------------------------------------------

    QString childRunId(const RunRt &run, int i) const {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        return QStringLiteral("%1.%2.%3.%4")
            .arg(run.id, run.plan->flow->steps[i].id)
            .arg(step.generation)
            .arg(step.attempts);
    }

    /// Starts the child run of a subflow step in the transaction that records the attempt, so the
    /// link is never lost or made twice. The step's attempt ends when the child run finishes.
    void startSubflow(RunRt &run, int i, const QJsonObject &input, qint64 now, Batch &batch) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
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
                            {run.id, run.plan->flow->steps[i].id}, true, batch);
        if (!child) {
            fail(child.error());
            return;
        }
        RunRt &r = **child;
        runs[childId] = std::move(*child);
        for (int s = 0; s < static_cast<int>(r.steps.size()); ++s)
            addCandidate(r, s);
        batch.events.append(event(
            run, i, QStringLiteral("subflow_started"),
            {{QStringLiteral("run"), childId}, {QStringLiteral("flow"), load.flow->name}}, now));
    }

    /// What a finished child run tells its parent step.
    AttemptResult subflowResult(const QString &childId, RunState state,
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
    void notifyParent(const RunRt &child, RunState state) {
        RunRt *parent = findRun(child.parentRun);
        if (!parent)
            return; // the parent's next engine asks at load (checkSubflows)
        const auto i = parent->plan->flow->indexOfStep(child.parentStep);
        if (i < 0)
            return;
        const StepRt &step = parent->steps[static_cast<size_t>(i)];
        if (step.state != StepState::Running ||
            childRunId(*parent, static_cast<int>(i)) != child.id)
            return;
        QJsonObject outputs;
        for (size_t s = 0; s < child.steps.size(); ++s) {
            if (!child.steps[s].output.isUndefined())
                outputs.insert(child.plan->flow->steps[static_cast<qsizetype>(s)].id,
                               child.steps[s].output);
        }
        completions.push_back(Completion{parent->id, static_cast<int>(i), step.attempts,
                                         step.generation, subflowResult(child.id, state, outputs)});
    }

    /// After a restart: subflow steps still running learn whether their child finished meanwhile,
    /// and the child is taken up again when it did not.
    void checkSubflows() {
        auto pending = std::move(subflowChecks);
        subflowChecks.clear();
        for (const auto &[runId, i] : pending) {
            RunRt *run = findRun(runId);
            if (!run || run->steps[static_cast<size_t>(i)].state != StepState::Running)
                continue;
            const QString childId = childRunId(*run, i);
            if (RunRt *child = findRun(childId)) {
                if (isFinal(child->state))
                    notifyParent(*child, child->state);
                continue;
            }
            auto row = store.run(childId);
            if (!row) {
                completions.push_back(Completion{
                    run->id, i, run->steps[static_cast<size_t>(i)].attempts,
                    run->steps[static_cast<size_t>(i)].generation,
                    AttemptResult::failure(ErrorClass::Crashed,
                                           QStringLiteral("sub-run %1 is missing").arg(childId))});
                continue;
            }
            const RunState state = runStateFromName(row->state).value_or(RunState::Running);
            if (isFinal(state)) {
                QJsonObject outputs;
                if (auto rows = store.stepRuns(childId)) {
                    for (const StepRunRow &stepRow : *rows) {
                        if (!stepRow.output.isUndefined())
                            outputs.insert(stepRow.stepId, stepRow.output);
                    }
                }
                completions.push_back(Completion{run->id, i,
                                                 run->steps[static_cast<size_t>(i)].attempts,
                                                 run->steps[static_cast<size_t>(i)].generation,
                                                 subflowResult(childId, state, outputs)});
            } else {
                adopt(childId, false);
            }
        }
    }

    /// Claims and loads a run (finished ones too when allowFinal, for operator actions).
    Result<bool> adopt(const QString &runId, bool allowFinal);

    /// Takes in what an operator changed in the resources table (pause, unpause, reset).
    Status syncResources() {
        auto rows = store.resources();
        if (!rows)
            return rows.status();
        resourcesLoaded = true;
        for (const ResourceRow &row : *rows) {
            ResourceRt &res = resourceStates[row.name];
            res.name = row.name;
            const Breaker breaker = row.breakerState == QLatin1String("open") ? Breaker::Open
                                    : row.breakerState == QLatin1String("half_open")
                                        ? Breaker::HalfOpen
                                        : Breaker::Closed;
            bool wake = false;
            if (row.paused != res.paused) {
                res.paused = row.paused;
                wake = !res.paused;
            }
            if (breaker != res.breaker || row.window != res.window ||
                row.openedAt != res.openedAt) {
                res.breaker = breaker;
                res.window = row.window;
                res.openedAt = row.openedAt;
                res.probesInFlight = 0;
                res.probeSuccesses = 0;
                wake = wake || breaker == Breaker::Closed;
            }
            if (wake)
                wakeQueue(res);
        }
        return Status::ok();
    }

    void startAttempt(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        if (draining)
            return; // left as it is; the next engine to adopt the run starts it
        StepRt &step = run.steps[static_cast<size_t>(i)];
        const Step &def = run.plan->flow->steps[i];
        const auto deadline = run.plan->deadline[i];
        if (deadline && step.startedAt != 0 && now >= step.startedAt + *deadline) {
            step.error = QStringLiteral(
                             "deadline of %1 passed before attempt %2 could start; last error: %3")
                             .arg(formatDuration(*deadline))
                             .arg(step.attempts + 1)
                             .arg(step.error);
            failForGood(run, i, now, batch, launches);
            return;
        }
        if (!def.foreach.isUndefined()) {
            expandForeach(run, i, now, batch, launches);
            return;
        }
        if (def.kind == QLatin1String("approval")) {
            awaitApproval(run, i, now, batch);
            return;
        }
        if (!transition(run, i, StepEvent::AttemptStarted))
            return;
        ++step.attempts;
        if (step.startedAt == 0)
            step.startedAt = now;
        step.notBefore = 0;
        step.attemptStartedAt = now;
        const auto timeout = run.plan->timeout[i];
        step.attemptDeadline = timeout ? now + *timeout : 0;
        step.attemptDeadlineIsStepDeadline = false;
        if (deadline &&
            (step.attemptDeadline == 0 || step.startedAt + *deadline < step.attemptDeadline)) {
            step.attemptDeadline = step.startedAt + *deadline;
            step.attemptDeadlineIsStepDeadline = true;
        }
        const QString key = idempotencyKey(run, i);

        AttemptRow attempt;
        attempt.runId = run.id;
        attempt.stepId = def.id;
        attempt.number = step.attempts;
        attempt.generation = step.generation;
        attempt.idempotencyKey = key;
        attempt.worker = options.workerId;
        attempt.startedAt = now;
        batch.attempts.append(attempt);
        batch.steps.append(stepRow(run, i));
        batch.events.append(event(run, i, QStringLiteral("attempt_started"),
                                  {{QStringLiteral("attempt"), step.attempts},
                                   {QStringLiteral("max_attempts"), run.plan->retry[i].maxAttempts},
                                   {QStringLiteral("key"), key}},
                                  now));

        Launch launch;
        launch.runId = run.id;
        launch.step = i;
        launch.request.runId = run.id;
        launch.request.stepId = def.id;
        launch.request.attempt = step.attempts;
        launch.request.idempotencyKey = key;
        launch.request.step = &def;
        launch.request.timeoutMs = timeout;
        const QJsonObject with = withOf(run, i);
        launch.request.input = with;
        if (run.plan->hasTemplates[i] || !step.inputOverride.isUndefined()) {
            TemplateScope scope;
            scope.params = run.params;
            scope.runId = run.id;
            scope.idempotencyKey = key;
            for (const QString &ref : run.plan->referencedSteps[i]) {
                const auto u = run.plan->flow->indexOfStep(ref);
                if (u >= 0 && !run.steps[static_cast<size_t>(u)].output.isUndefined())
                    scope.stepOutputs.insert(ref, run.steps[static_cast<size_t>(u)].output);
            }
            const auto rendered = renderTemplates(with, scope);
            if (!rendered) {
                // The input cannot be built: nothing runs, and retrying would not help.
                completions.push_back(Completion{
                    run.id, i, step.attempts, step.generation,
                    AttemptResult::failure(ErrorClass::Permanent,
                                           QStringLiteral("input: ") + rendered.error())});
                return;
            }
            launch.request.input = rendered->toObject();
        }
        if (def.kind == QLatin1String("subflow")) {
            startSubflow(run, i, launch.request.input, now, batch);
            return;
        }
        if (step.attemptDeadline != 0)
            attemptTimeouts.push(
                Due{step.attemptDeadline, run.id, i, static_cast<quint32>(step.attempts)});
        launches.push_back(std::move(launch));
    }

    /// The step's input as the operator last set it, else as the flow says.
    QJsonObject withOf(const RunRt &run, int i) const {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        return step.inputOverride.isObject() ? step.inputOverride.toObject()
                                             : run.plan->flow->steps[i].with;
    }

    // ---- approvals and operator actions --------------------------------------------------------

    void awaitApproval(RunRt &run, int i, qint64 now, Batch &batch) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (!transition(run, i, StepEvent::AwaitOperator))
            return;
        if (step.startedAt == 0)
            step.startedAt = now;
        step.notBefore = 0;
        TemplateScope scope = scopeFor(run, i, idempotencyKey(run, i));
        const QJsonValue prompt = withOf(run, i).value(QLatin1String("prompt"));
        const auto rendered =
            renderTemplates(prompt.isUndefined() ? QJsonValue(QString()) : prompt, scope);
        const QString text = rendered ? rendered->toString() : prompt.toString();
        batch.steps.append(stepRow(run, i));
        batch.events.append(event(run, i, QStringLiteral("step_waiting_for_approval"),
                                  {{QStringLiteral("prompt"), text}}, now));
        markDirty(run);
    }

    /// Steps that are blocked only because of step i may run after all: back to pending.
    void unblockDownstream(RunRt &run, int i, Batch &batch) {
        std::vector<int> stack(run.plan->downstream[i].begin(), run.plan->downstream[i].end());
        while (!stack.empty()) {
            const int d = stack.back();
            stack.pop_back();
            StepRt &step = run.steps[static_cast<size_t>(d)];
            if (step.state != StepState::Blocked || !transition(run, d, StepEvent::Reset))
                continue;
            step.endedAt = 0;
            step.error.clear();
            batch.steps.append(stepRow(run, d));
            addCandidate(run, d);
            stack.insert(stack.end(), run.plan->downstream[d].begin(),
                         run.plan->downstream[d].end());
        }
    }

    /// Every step reachable from i through `after`, i first.
    std::vector<int> stepAndDownstream(const RunRt &run, int i) const {
        std::vector<int> order{i};
        std::vector<bool> seen(run.steps.size(), false);
        seen[static_cast<size_t>(i)] = true;
        for (size_t k = 0; k < order.size(); ++k) {
            for (int d : run.plan->downstream[order[k]]) {
                if (!seen[static_cast<size_t>(d)]) {
                    seen[static_cast<size_t>(d)] = true;
                    order.push_back(d);
                }
            }
        }
        return order;
    }

    /// Puts a finished step back to pending so that it runs again (same generation: same key).
    void resetStep(RunRt &run, int i, Batch &batch, bool freshBudget) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (!transition(run, i, StepEvent::Reset))
            return;
        if (freshBudget)
            step.failures = 0;
        step.endedAt = 0;
        step.notBefore = 0;
        step.viaFallback = false;
        step.fallbackActive = false;
        step.output = QJsonValue(QJsonValue::Undefined);
        batch.steps.append(stepRow(run, i));
        addCandidate(run, i);
        unblockDownstream(run, i, batch);
    }

    /// A foreach step goes on with the items that did not succeed (fresh budget); succeeded items
    /// keep their output and are never sent again. uncertainTo decides uncertain items: pending
    /// (did not happen), succeeded (happened, with output) or left alone (nullopt).
    Result<int> reopenItems(RunRt &run, int i, bool failedToo, std::optional<StepState> uncertainTo,
                            const QJsonValue &output, Batch &batch) {
        auto rows = store.items(run.id);
        if (!rows)
            return rows.status();
        QList<ItemRow> mine;
        for (const ItemRow &row : *rows) {
            if (row.stepId == run.plan->flow->steps[i].id)
                mine.append(row);
        }
        int reopened = 0;
        for (ItemRow &row : mine) {
            const bool failed = row.state == QLatin1String("failed");
            const bool uncertain = row.state == QLatin1String("uncertain");
            if ((failed && failedToo) || (uncertain && uncertainTo == StepState::Pending)) {
                // A retry that is due now: its attempt numbers go on, its key stays.
                row.state = stateName(StepState::Retrying);
                row.notBefore = 0;
                row.failures = 0;
                row.error.clear();
                row.errorClass.clear();
                ++reopened;
            } else if (uncertain && uncertainTo == StepState::Succeeded) {
                row.state = stateName(StepState::Succeeded);
                row.output = output.isUndefined() ? QJsonValue(QJsonObject()) : output;
                ++reopened;
            } else {
                continue;
            }
            batch.items.append(row);
        }
        if (reopened == 0)
            return 0;
        StepRt &step = run.steps[static_cast<size_t>(i)];
        QHash<int, QHash<QString, int>> positions;
        transition(run, i, StepEvent::Reset);
        transition(run, i, StepEvent::AttemptStarted); // it goes on with its items
        step.endedAt = 0;
        step.error.clear();
        step.output = QJsonValue(QJsonValue::Undefined);
        rebuildForeach(run, mine, positions);
        batch.steps.append(stepRow(run, i));
        addCandidate(run, i);
        unblockDownstream(run, i, batch);
        return reopened;
    }

    Status refuse(const QString &why) const { return Status::error(why); }

    /// Applies action to the loaded run; on refusal nothing has been changed.
    Result<QString> applyAction(RunRt &run, const OperatorAction &action, qint64 now,
                                Batch &batch) {
        using K = OperatorAction::Kind;
        const Flow &flow = *run.plan->flow;
        const bool stepLevel = action.kind != K::PauseRun && action.kind != K::UnpauseRun &&
                               action.kind != K::CancelRun;
        int i = -1;
        if (stepLevel) {
            i = static_cast<int>(flow.indexOfStep(action.stepId));
            if (i < 0)
                return refuse(
                    QStringLiteral("run %1 has no step \"%2\"").arg(run.id, action.stepId));
        }
        StepRt *step = i >= 0 ? &run.steps[static_cast<size_t>(i)] : nullptr;
        const QString name = i >= 0 ? flow.steps[i].id : QString();
        const QString state = step ? stateName(step->state) : QString();
        const bool isForeach = i >= 0 && !flow.steps[i].foreach.isUndefined();

        switch (action.kind) {
        case K::Retry:
        case K::RetryFailedItems: {
            if (action.kind == K::RetryFailedItems && !isForeach)
                return refuse(QStringLiteral("step %1 has no foreach: there are no items to retry")
                                  .arg(name));
            if (step->state == StepState::Retrying && action.kind == K::Retry) {
                step->notBefore = now; // retry now instead of after the backoff
                batch.steps.append(stepRow(run, i));
                addCandidate(run, i);
                return QStringLiteral("step %1 retries now").arg(name);
            }
            if (step->state == StepState::Uncertain)
                return refuse(QStringLiteral(
                                  "step %1 has an uncertain outcome: resolve it with --happened or "
                                  "--not-happened")
                                  .arg(name));
            if (step->state == StepState::WaitingForOperator)
                return refuse(
                    QStringLiteral("step %1 waits for approval: approve or reject it").arg(name));
            const bool failedState =
                step->state == StepState::Failed || step->state == StepState::Blocked ||
                step->state == StepState::Cancelled || step->state == StepState::PartiallySucceeded;
            if (!failedState)
                return refuse(QStringLiteral("step %1 is %2: there is nothing to retry%3")
                                  .arg(name, state,
                                       step->state == StepState::Succeeded ||
                                               step->state == StepState::Skipped ||
                                               step->state == StepState::SucceededViaFallback
                                           ? QStringLiteral(" (rerun-from runs it again)")
                                           : QString()));
            if (isForeach && (step->state == StepState::PartiallySucceeded ||
                              step->state == StepState::Failed)) {
                auto reopened = reopenItems(run, i, true, std::nullopt, {}, batch);
                if (!reopened)
                    return reopened.status();
                if (*reopened > 0)
                    return QStringLiteral(
                               "step %1: %2 failed item(s) run again; succeeded items are kept")
                        .arg(name)
                        .arg(*reopened);
                if (action.kind == K::RetryFailedItems)
                    return refuse(QStringLiteral("step %1 has no failed items").arg(name));
            }
            resetStep(run, i, batch, true);
            return QStringLiteral("step %1 runs again with a fresh budget of %2 attempts")
                .arg(name)
                .arg(run.plan->retry[i].maxAttempts);
        }
        case K::Skip:
        case K::MarkSucceeded:
        case K::ResolveHappened:
        case K::Approve: {
            if (action.kind == K::ResolveHappened && step->state != StepState::Uncertain)
                return refuse(
                    QStringLiteral("step %1 is %2, not uncertain: there is nothing to resolve")
                        .arg(name, state));
            if (action.kind == K::Approve && (step->state != StepState::WaitingForOperator ||
                                              flow.steps[i].kind != QLatin1String("approval")))
                return refuse(QStringLiteral("step %1 is %2%3: there is nothing to approve")
                                  .arg(name, state,
                                       flow.steps[i].kind != QLatin1String("approval")
                                           ? QStringLiteral(", not an approval")
                                           : QString()));
            if (action.kind == K::ResolveHappened && isForeach) {
                auto reopened =
                    reopenItems(run, i, false, StepState::Succeeded, action.output, batch);
                if (!reopened)
                    return reopened.status();
                return QStringLiteral("step %1: %2 uncertain item(s) recorded as done")
                    .arg(name)
                    .arg(*reopened);
            }
            const StepEvent stepEvent =
                action.kind == K::Skip ? StepEvent::OperatorSkipped : StepEvent::OperatorSucceeded;
            if (!nextStepState(step->state, stepEvent))
                return refuse(QStringLiteral("step %1 is %2: it cannot be %3")
                                  .arg(name, state,
                                       action.kind == K::Skip
                                           ? QStringLiteral("skipped")
                                           : QStringLiteral("marked succeeded")));
            transition(run, i, stepEvent);
            QJsonValue output = action.output;
            if (action.kind == K::Approve)
                output = QJsonObject{{QStringLiteral("approved_by"), action.actor},
                                     {QStringLiteral("comment"), action.reason}};
            step->output = output.isUndefined() ? QJsonValue(QJsonObject()) : output;
            step->endedAt = now;
            step->viaFallback = false;
            step->foreach.reset();
            batch.steps.append(stepRow(run, i));
            std::vector<Launch> none;
            finalized(run, i, now, batch, none);
            unblockDownstream(run, i, batch);
            return QStringLiteral("step %1 is %2").arg(name, stateName(step->state));
        }
        case K::Reject: {
            if (step->state != StepState::WaitingForOperator ||
                flow.steps[i].kind != QLatin1String("approval"))
                return refuse(
                    QStringLiteral("step %1 is %2: there is nothing to reject").arg(name, state));
            transition(run, i, StepEvent::FailedForGood);
            step->endedAt = now;
            step->errorClass = errorClassName(ErrorClass::Permanent);
            step->error = QStringLiteral("rejected by %1%2")
                              .arg(action.actor, action.reason.isEmpty()
                                                     ? QString()
                                                     : QStringLiteral(": ") + action.reason);
            batch.steps.append(stepRow(run, i));
            std::vector<Launch> none;
            finalized(run, i, now, batch, none);
            return QStringLiteral("step %1 is rejected").arg(name);
        }
        case K::ResolveNotHappened: {
            if (step->state != StepState::Uncertain)
                return refuse(
                    QStringLiteral("step %1 is %2, not uncertain: there is nothing to resolve")
                        .arg(name, state));
            if (isForeach) {
                auto reopened = reopenItems(run, i, false, StepState::Pending, {}, batch);
                if (!reopened)
                    return reopened.status();
                return QStringLiteral("step %1: %2 uncertain item(s) run again with the same keys")
                    .arg(name)
                    .arg(*reopened);
            }
            resetStep(run, i, batch, false);
            return QStringLiteral("step %1 runs again with the same idempotency key").arg(name);
        }
        case K::SetInput: {
            if (step->state == StepState::Running)
                return refuse(
                    QStringLiteral("step %1 is running: its input can change once the attempt ends")
                        .arg(name));
            if (step->state == StepState::Succeeded ||
                step->state == StepState::SucceededViaFallback || step->state == StepState::Skipped)
                return refuse(QStringLiteral("step %1 is %2: use rerun-from to run it again")
                                  .arg(name, state));
            step->inputOverride = action.input;
            if (step->state == StepState::Pending || step->state == StepState::Queued ||
                step->state == StepState::Scheduled || step->state == StepState::Paused) {
                batch.steps.append(stepRow(run, i));
                return QStringLiteral("step %1 will use the new input").arg(name);
            }
            if (step->state == StepState::Retrying) {
                step->notBefore = now;
                batch.steps.append(stepRow(run, i));
                addCandidate(run, i);
                return QStringLiteral("step %1 retries now with the new input").arg(name);
            }
            resetStep(run, i, batch, true);
            return QStringLiteral("step %1 runs again with the new input").arg(name);
        }
        case K::RerunFrom: {
            const std::vector<int> steps = stepAndDownstream(run, i);
            for (int s : steps) {
                const StepState st = run.steps[static_cast<size_t>(s)].state;
                if (st == StepState::Running)
                    return refuse(
                        QStringLiteral(
                            "step %1 is running: rerun-from waits until nothing in it runs")
                            .arg(flow.steps[s].id));
            }
            QStringList names;
            for (int s : steps) {
                StepRt &target = run.steps[static_cast<size_t>(s)];
                // The operator asks for the effects again: a new generation, so new keys.
                ++target.generation;
                target.attempts = 0;
                target.failures = 0;
                target.startedAt = 0;
                target.error.clear();
                target.errorClass.clear();
                target.foreach.reset();
                if (target.state != StepState::Pending)
                    transition(run, s, StepEvent::Reset);
                target.endedAt = 0;
                target.notBefore = 0;
                target.viaFallback = false;
                target.fallbackActive = false;
                target.output = QJsonValue(QJsonValue::Undefined);
                batch.steps.append(stepRow(run, s));
                batch.clearedItems.append({run.id, flow.steps[s].id});
                addCandidate(run, s);
                names << flow.steps[s].id;
                const int f = run.plan->fallbackStep[s];
                if (f >= 0 && run.steps[static_cast<size_t>(f)].state != StepState::Pending &&
                    run.steps[static_cast<size_t>(f)].state != StepState::Running) {
                    transition(run, f, StepEvent::Reset);
                    ++run.steps[static_cast<size_t>(f)].generation;
                    run.steps[static_cast<size_t>(f)].output = QJsonValue(QJsonValue::Undefined);
                    batch.steps.append(stepRow(run, f));
                }
            }
            return QStringLiteral("rerun from %1: %2 run again with new idempotency keys")
                .arg(name, names.join(QStringLiteral(", ")));
        }
        case K::PauseStep: {
            if (!nextStepState(step->state, StepEvent::Held))
                return refuse(
                    QStringLiteral(
                        "step %1 is %2: only a step that has not started (or waits to retry) "
                        "can be held")
                        .arg(name, state));
            transition(run, i, StepEvent::Held);
            step->inQueue = false;
            ++step->timerStamp; // its timer no longer applies
            batch.steps.append(stepRow(run, i));
            return QStringLiteral("step %1 is held: it does not start until unpaused").arg(name);
        }
        case K::UnpauseStep: {
            if (step->state != StepState::Paused)
                return refuse(QStringLiteral("step %1 is %2, not paused").arg(name, state));
            transition(run, i, StepEvent::Reset);
            step->notBefore = 0;
            batch.steps.append(stepRow(run, i));
            addCandidate(run, i);
            return QStringLiteral("step %1 is released").arg(name);
        }
        case K::PauseRun: {
            if (isFinal(run.state))
                return refuse(QStringLiteral("run %1 is %2: there is nothing to pause")
                                  .arg(run.id, stateName(run.state)));
            if (run.paused)
                return refuse(QStringLiteral("run %1 is already paused").arg(run.id));
            run.paused = true;
            return QStringLiteral("run %1 is paused: running attempts finish, nothing new starts")
                .arg(run.id);
        }
        case K::UnpauseRun: {
            if (!run.paused)
                return refuse(QStringLiteral("run %1 is not paused").arg(run.id));
            run.paused = false;
            for (int s = 0; s < static_cast<int>(run.steps.size()); ++s)
                addCandidate(run, s);
            return QStringLiteral("run %1 goes on").arg(run.id);
        }
        case K::CancelRun: {
            if (isFinal(run.state))
                return refuse(
                    QStringLiteral("run %1 is already %2").arg(run.id, stateName(run.state)));
            for (int s = 0; s < static_cast<int>(run.steps.size()); ++s) {
                StepRt &target = run.steps[static_cast<size_t>(s)];
                if (isFinal(target.state))
                    continue;
                const bool wasRunning = target.state == StepState::Running;
                cancelExecutions(target);
                releaseSlot(run, s, std::nullopt, now, batch);
                target.foreach.reset();
                transition(run, s, StepEvent::Cancel);
                target.endedAt = now;
                batch.steps.append(stepRow(run, s));
                if (wasRunning && target.attempts > 0) {
                    AttemptRow attempt;
                    attempt.runId = run.id;
                    attempt.stepId = flow.steps[s].id;
                    attempt.number = target.attempts;
                    attempt.generation = target.generation;
                    attempt.idempotencyKey = idempotencyKey(run, s);
                    attempt.startedAt = target.attemptStartedAt > 0 ? target.attemptStartedAt : now;
                    attempt.endedAt = now;
                    attempt.outcome = outcomeName(AttemptOutcome::FailedPermanent);
                    attempt.errorClass = errorClassName(ErrorClass::Permanent);
                    attempt.error = QStringLiteral("cancelled by %1").arg(action.actor);
                    batch.attempts.append(attempt);
                }
            }
            return QStringLiteral("run %1 is cancelled").arg(run.id);
        }
        }
        return refuse(QStringLiteral("unknown action"));
    }

    Result<QString> act(const OperatorAction &request, bool executing, qint64 requestId) {
        OperatorAction action = request;
        if (action.actor.isEmpty())
            action.actor = currentUserName();
        RunRt *run = findRun(action.runId);
        const qint64 now = clockRef.nowMs();
        if (!run)
            return Status::error(QStringLiteral("run %1 is not loaded").arg(action.runId));
        Batch batch;
        const RunState before = run->state;
        std::vector<StepState> statesBefore;
        for (const StepRt &step : run->steps)
            statesBefore.push_back(step.state);
        auto done = applyAction(*run, action, now, batch);
        if (!done)
            return done.status(); // refused before anything was changed
        // The event says which steps it moved, so that the history replays to the same states.
        QJsonObject moved;
        for (size_t s = 0; s < run->steps.size(); ++s) {
            if (run->steps[s].state != statesBefore[s])
                moved.insert(run->plan->flow->steps[static_cast<qsizetype>(s)].id,
                             stateName(run->steps[s].state));
        }
        QJsonObject detail{{QStringLiteral("action"), actionName(action.kind)},
                           {QStringLiteral("result"), *done},
                           {QStringLiteral("steps"), moved}};
        if (!action.reason.isEmpty())
            detail.insert(QStringLiteral("reason"), action.reason);
        if (!action.output.isUndefined())
            detail.insert(QStringLiteral("output"), action.output);
        if (action.kind == OperatorAction::Kind::SetInput)
            detail.insert(QStringLiteral("input"), action.input);
        EventRow record = event(
            *run,
            action.stepId.isEmpty() ? -1
                                    : static_cast<int>(run->plan->flow->indexOfStep(action.stepId)),
            QStringLiteral("operator_") +
                actionName(action.kind).replace(QLatin1Char('-'), QLatin1Char('_')),
            detail, now);
        record.actor = action.actor;
        batch.events.append(record);
        // An action on a finished run makes it run again.
        if (isFinal(run->state) && action.kind != OperatorAction::Kind::CancelRun) {
            run->state = RunState::Running;
            run->endedAt = 0;
        }
        RunState next = deriveRunState(run->counts);
        if (run->paused && next == RunState::Running)
            next = run->counts[static_cast<int>(StepState::Running)] > 0 ? RunState::Running
                                                                         : RunState::Paused;
        if (next != run->state || before != next || action.kind == OperatorAction::Kind::PauseRun ||
            action.kind == OperatorAction::Kind::UnpauseRun) {
            run->state = next;
            run->endedAt = isFinal(next) ? now : 0;
            batch.events.append(event(*run, -1,
                                      isFinal(next) ? QStringLiteral("run_finished")
                                                    : QStringLiteral("run_state_changed"),
                                      {{QStringLiteral("state"), stateName(next)}}, now));
        }
        batch.runs.append(runRow(*run));
        if (run->state != RunState::Running)
            batch.releasedLeases.append({run->id, options.workerId}); // nothing to execute now
        if (requestId != 0) {
            RequestRow answer;
            answer.id = requestId;
            answer.state = QStringLiteral("done");
            answer.result = *done;
            answer.answeredAt = now;
            batch.answers.append(answer);
        }
        if (Status s = commit(batch); !s)
            return s;
        if (isFinal(run->state) && !run->parentRun.isEmpty())
            notifyParent(*run, run->state);
        if (executing) {
            const RunState state = run->state;
            const QString runId = run->id;
            if (state != RunState::Running && state != before) {
                // The action itself settled the run (cancel, pause, ...): announce it the way
                // pump() does, so that whoever waits for the run learns it.
                if (isFinal(state) || state == RunState::WaitingForOperator ||
                    state == RunState::Paused)
                    unload(runId);
                Q_EMIT q->runSettled(runId, state);
            } else {
                markDirty(*run);
                schedulePump();
            }
        }
        return *done;
    }

    // ---- foreach ------------------------------------------------------------------------------

    TemplateScope scopeFor(const RunRt &run, int i, const QString &key) const {
        TemplateScope scope;
        scope.params = run.params;
        scope.runId = run.id;
        scope.idempotencyKey = key;
        for (const QString &ref : run.plan->referencedSteps[i]) {
            const auto u = run.plan->flow->indexOfStep(ref);
            if (u >= 0 && !run.steps[static_cast<size_t>(u)].output.isUndefined())
                scope.stepOutputs.insert(ref, run.steps[static_cast<size_t>(u)].output);
        }
        return scope;
    }

    /// The list a foreach step runs over, and each item's key, from its templates.
    Result<std::pair<QJsonArray, QStringList>> foreachList(const RunRt &run, int i) const {
        const Step &def = run.plan->flow->steps[i];
        TemplateScope scope = scopeFor(run, i, idempotencyKey(run, i));
        // foreach may name steps that `with` does not: give it every finished upstream output.
        for (qsizetype u = 0; u < run.plan->flow->steps.size(); ++u) {
            if (!run.steps[static_cast<size_t>(u)].output.isUndefined())
                scope.stepOutputs.insert(run.plan->flow->steps[u].id,
                                         run.steps[static_cast<size_t>(u)].output);
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

    ItemRow itemRow(const RunRt &run, int i, int pos) const {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        const ForeachRt &fe = *step.foreach;
        ItemRow row;
        row.runId = run.id;
        row.stepId = run.plan->flow->steps[i].id;
        row.itemKey = fe.keys[pos];
        row.position = pos;
        row.state = stateName(fe.states[static_cast<size_t>(pos)]);
        row.generation = step.generation;
        if (const auto it = fe.active.find(pos); it != fe.active.end()) {
            row.attempts = it->second.attempts;
            row.failures = it->second.failures;
            row.notBefore = it->second.notBefore;
            row.errorClass = it->second.errorClass;
            row.error = it->second.error;
        }
        if (fe.states[static_cast<size_t>(pos)] == StepState::Succeeded)
            row.output = fe.outputs[static_cast<size_t>(pos)];
        if (fe.states[static_cast<size_t>(pos)] == StepState::Failed ||
            fe.states[static_cast<size_t>(pos)] == StepState::Uncertain)
            row.error = fe.errors[static_cast<size_t>(pos)];
        return row;
    }

    void expandForeach(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        const Step &def = run.plan->flow->steps[i];
        transition(run, i, StepEvent::AttemptStarted);
        if (step.startedAt == 0)
            step.startedAt = now;
        step.notBefore = 0;
        auto list = foreachList(run, i);
        if (!list) {
            step.errorClass = errorClassName(ErrorClass::Permanent);
            step.error = list.error();
            failForGood(run, i, now, batch, launches);
            return;
        }
        auto fe = std::make_unique<ForeachRt>();
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
            batch.items.append(itemRow(run, i, p));
        batch.steps.append(stepRow(run, i));
        batch.events.append(event(run, i, QStringLiteral("step_expanded"),
                                  {{QStringLiteral("items"), static_cast<int>(count)},
                                   {QStringLiteral("concurrency"), step.foreach->concurrency}},
                                  now));
        scheduleItems(run, i, now, batch, launches);
    }

    /// Starts what may start (due retries first, then new items, up to the concurrency) and
    /// finishes the step once every item is final.
    void scheduleItems(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        ForeachRt &fe = *step.foreach;
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
            tryStartItem(run, i, pos, now, batch, launches);
        }
        while (step.foreach && fe.running < fe.concurrency && !fe.pending.empty()) {
            const int pos = fe.pending.front();
            fe.pending.pop_front();
            fe.active.emplace(pos, ItemRt{});
            if (!tryStartItem(run, i, pos, now, batch, launches))
                break; // the resource takes no call now: the rest would only queue behind it
        }
        if (step.foreach && fe.active.empty() && fe.pending.empty())
            finishForeach(run, i, now, batch, launches);
    }

    /// Starts item pos if the step's resource admits a call now; otherwise queues it.
    bool tryStartItem(RunRt &run, int i, int pos, qint64 now, Batch &batch,
                      std::vector<Launch> &launches) {
        const Step &def = run.plan->flow->steps[i];
        if (def.resource.isEmpty()) {
            startItemAttempt(run, i, pos, now, batch, launches);
            return true;
        }
        ForeachRt &fe = *run.steps[static_cast<size_t>(i)].foreach;
        ItemRt &item = fe.active.at(pos);
        ResourceRt &res = resourceFor(run, i);
        const QueueEntry entry{run.id, i, pos};
        const qint64 maxQueue = res.config.maxQueueTimeMs;
        if (item.state == StepState::Queued && maxQueue > 0 && now >= item.queuedAt + maxQueue) {
            item.inQueue = false;
            completions.push_back(Completion{
                run.id, i, item.attempts + 1, run.steps[static_cast<size_t>(i)].generation,
                AttemptResult::failure(
                    ErrorClass::Timeout,
                    QStringLiteral(
                        "waited %1 for resource %2, longer than its max_queue_time of %3")
                        .arg(formatDuration(now - item.queuedAt), res.name,
                             formatDuration(maxQueue))),
                pos});
            // Recorded as a failed attempt that never reached the dependency.
            item.state = StepState::Running;
            ++item.attempts;
            ++fe.running;
            item.attemptStartedAt = now;
            AttemptRow attempt;
            attempt.runId = run.id;
            attempt.stepId = def.id;
            attempt.itemKey = fe.keys[pos];
            attempt.number = item.attempts;
            attempt.generation = run.steps[static_cast<size_t>(i)].generation;
            attempt.idempotencyKey = itemKey(run, i, pos);
            attempt.worker = options.workerId;
            attempt.startedAt = now;
            batch.attempts.append(attempt);
            wakeQueue(res);
            return true;
        }
        QString why;
        qint64 wakeAt = 0;
        if (!admit(res, entry, now, batch, why, wakeAt)) {
            const bool newlyQueued = item.state != StepState::Queued;
            if (newlyQueued) {
                item.state =
                    nextStepState(item.state, StepEvent::Enqueued).value_or(StepState::Queued);
                fe.states[static_cast<size_t>(pos)] = item.state;
                item.queuedAt = now;
            }
            if (!item.inQueue) {
                item.inQueue = true;
                res.queue.push_back(entry);
            }
            qint64 timer = wakeAt;
            if (maxQueue > 0 && (timer == 0 || item.queuedAt + maxQueue < timer))
                timer = item.queuedAt + maxQueue;
            const bool timerChanged = timer != item.notBefore;
            item.notBefore = timer;
            if (timer > 0) {
                ++item.timerStamp;
                stepTimers.push(Due{timer, run.id, i, item.timerStamp, pos});
            }
            if (newlyQueued || timerChanged)
                batch.items.append(itemRow(run, i, pos));
            return false;
        }
        if (item.inQueue) {
            item.inQueue = false;
            res.queue.pop_front(); // admit() lets only the head through
        }
        ++res.inFlight;
        item.holdsSlot = true;
        item.isProbe = res.breaker == Breaker::HalfOpen;
        if (item.isProbe)
            ++res.probesInFlight;
        startItemAttempt(run, i, pos, now, batch, launches);
        if (!res.queue.empty())
            wakeQueue(res); // capacity may remain for the next in line
        return true;
    }

    QString itemKey(const RunRt &run, int i, int pos) const {
        return idempotencyKey(run, i) + QLatin1Char('/') +
               run.steps[static_cast<size_t>(i)].foreach->keys[pos];
    }

    void startItemAttempt(RunRt &run, int i, int pos, qint64 now, Batch &batch,
                          std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        ForeachRt &fe = *step.foreach;
        ItemRt &item = fe.active.at(pos);
        const auto next = nextStepState(item.state, StepEvent::AttemptStarted);
        if (!next)
            return;
        item.state = *next;
        fe.states[static_cast<size_t>(pos)] = item.state;
        ++item.attempts;
        ++step.attempts;
        ++fe.running;
        item.notBefore = 0;
        item.attemptStartedAt = now;
        const Step &def = run.plan->flow->steps[i];
        const auto timeout = run.plan->timeout[i];
        item.attemptDeadline = timeout ? now + *timeout : 0;
        const QString key = itemKey(run, i, pos);

        AttemptRow attempt;
        attempt.runId = run.id;
        attempt.stepId = def.id;
        attempt.itemKey = fe.keys[pos];
        attempt.number = item.attempts;
        attempt.generation = step.generation;
        attempt.idempotencyKey = key;
        attempt.worker = options.workerId;
        attempt.startedAt = now;
        batch.attempts.append(attempt);
        batch.items.append(itemRow(run, i, pos));
        batch.events.append(event(run, i, QStringLiteral("attempt_started"),
                                  {{QStringLiteral("item"), fe.keys[pos]},
                                   {QStringLiteral("attempt"), item.attempts},
                                   {QStringLiteral("max_attempts"), run.plan->retry[i].maxAttempts},
                                   {QStringLiteral("key"), key}},
                                  now));
        Launch launch;
        launch.runId = run.id;
        launch.step = i;
        launch.item = pos;
        launch.request.runId = run.id;
        launch.request.stepId = def.id;
        launch.request.itemKey = fe.keys[pos];
        launch.request.attempt = item.attempts;
        launch.request.idempotencyKey = key;
        launch.request.step = &def;
        launch.request.timeoutMs = timeout;
        TemplateScope scope = scopeFor(run, i, key);
        scope.item = fe.items[pos];
        const auto rendered = renderTemplates(withOf(run, i), scope);
        if (!rendered) {
            completions.push_back(
                Completion{run.id, i, item.attempts, step.generation,
                           AttemptResult::failure(ErrorClass::Permanent,
                                                  QStringLiteral("input: ") + rendered.error()),
                           pos});
            return;
        }
        launch.request.input = rendered->toObject();
        if (item.attemptDeadline != 0)
            attemptTimeouts.push(
                Due{item.attemptDeadline, run.id, i, static_cast<quint32>(item.attempts), pos});
        launches.push_back(std::move(launch));
    }

    void applyItemCompletion(RunRt &run, Completion &completion, qint64 now, Batch &batch) {
        const int i = completion.step;
        const int pos = completion.item;
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (step.state != StepState::Running || !step.foreach ||
            step.generation != completion.generation)
            return;
        ForeachRt &fe = *step.foreach;
        const auto it = fe.active.find(pos);
        if (it == fe.active.end() || it->second.state != StepState::Running ||
            it->second.attempts != completion.attempt)
            return; // stale
        ItemRt &item = it->second;
        if (item.execution)
            retired.push_back(std::move(item.execution));
        item.inFlight = false;
        item.attemptDeadline = 0;
        --fe.running;
        if (item.holdsSlot) {
            item.holdsSlot = false;
            releaseCall(resourceFor(run, i), std::exchange(item.isProbe, false), completion.result,
                        now, batch);
        }
        const AttemptResult &result = completion.result;
        const Step &def = run.plan->flow->steps[i];

        AttemptRow attempt;
        attempt.runId = run.id;
        attempt.stepId = def.id;
        attempt.itemKey = fe.keys[pos];
        attempt.number = item.attempts;
        attempt.generation = step.generation;
        attempt.idempotencyKey = itemKey(run, i, pos);
        attempt.worker = options.workerId;
        attempt.startedAt = item.attemptStartedAt;
        attempt.endedAt = now;
        const AttemptOutcome outcome =
            result.succeeded                             ? AttemptOutcome::Succeeded
            : result.errorClass == ErrorClass::Timeout   ? AttemptOutcome::TimedOut
            : result.errorClass == ErrorClass::Permanent ? AttemptOutcome::FailedPermanent
                                                         : AttemptOutcome::FailedTransient;
        attempt.outcome = outcomeName(outcome);
        if (!result.succeeded) {
            attempt.errorClass = errorClassName(result.errorClass);
            attempt.error = result.error;
        }
        batch.attempts.append(attempt);

        const QString &key = fe.keys[pos];
        auto settle = [&](StepState state, const QString &type, QJsonObject detail) {
            item.state = state;
            fe.states[static_cast<size_t>(pos)] = state;
            detail.insert(QStringLiteral("item"), key);
            detail.insert(QStringLiteral("attempt"), item.attempts);
            batch.items.append(itemRow(run, i, pos));
            batch.events.append(event(run, i, type, detail, now));
        };
        if (result.succeeded) {
            fe.outputs[static_cast<size_t>(pos)] = result.output;
            ++fe.succeeded;
            settle(StepState::Succeeded, QStringLiteral("item_succeeded"), {});
            fe.active.erase(it);
        } else {
            item.error = result.error;
            item.errorClass = errorClassName(result.errorClass);
            const RetryPolicy &policy = run.plan->retry[i];
            if ((result.errorClass == ErrorClass::Timeout ||
                 result.errorClass == ErrorClass::Uncertain) &&
                def.effectiveIdempotency() == Idempotency::None) {
                fe.errors[static_cast<size_t>(pos)] = result.error;
                ++fe.uncertain;
                settle(StepState::Uncertain, QStringLiteral("item_uncertain"),
                       {{QStringLiteral("error"), result.error}});
                fe.active.erase(it);
            } else if (++item.failures < policy.maxAttempts &&
                       isRetryable(policy, result.errorClass, result.errorDetail)) {
                const qint64 delay =
                    result.retryAfterMs >= 0
                        ? result.retryAfterMs
                        : backoffDelayMs(policy, item.failures,
                                         jitterUnit(itemKey(run, i, pos), item.attempts));
                item.notBefore = now + delay;
                settle(StepState::Retrying, QStringLiteral("item_retrying"),
                       {{QStringLiteral("error"), result.error},
                        {QStringLiteral("error_class"), item.errorClass},
                        {QStringLiteral("max_attempts"), policy.maxAttempts},
                        {QStringLiteral("next_attempt_at"), item.notBefore},
                        {QStringLiteral("delay_ms"), delay}});
                ++item.timerStamp;
                stepTimers.push(Due{item.notBefore, run.id, i, item.timerStamp, pos});
            } else {
                fe.errors[static_cast<size_t>(pos)] = result.error;
                ++fe.failed;
                settle(StepState::Failed, QStringLiteral("item_failed"),
                       {{QStringLiteral("error"), result.error},
                        {QStringLiteral("error_class"), item.errorClass}});
                fe.active.erase(it);
            }
        }
        batch.steps.append(stepRow(run, i)); // its attempt count moved
        addCandidate(run, i);
    }

    void finishForeach(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        ForeachRt &fe = *step.foreach;
        const Step &def = run.plan->flow->steps[i];
        const int total = static_cast<int>(fe.states.size());
        QJsonArray succeeded;
        QJsonArray failed;
        QString firstError;
        for (size_t p = 0; p < fe.states.size(); ++p) {
            if (fe.states[p] == StepState::Succeeded) {
                succeeded.append(fe.outputs[p]);
            } else if (fe.states[p] == StepState::Failed || fe.states[p] == StepState::Uncertain) {
                failed.append(
                    QJsonObject{{QStringLiteral("key"), fe.keys[static_cast<qsizetype>(p)]},
                                {QStringLiteral("error"), fe.errors[p]}});
                if (firstError.isEmpty())
                    firstError = QStringLiteral("%1: %2").arg(fe.keys[static_cast<qsizetype>(p)],
                                                              fe.errors[p]);
            }
        }
        step.output = QJsonObject{{QStringLiteral("succeeded"), succeeded},
                                  {QStringLiteral("failed"), failed}};
        const QJsonObject counts{{QStringLiteral("total"), total},
                                 {QStringLiteral("succeeded"), fe.succeeded},
                                 {QStringLiteral("failed"), fe.failed + fe.uncertain}};
        if (fe.uncertain > 0) {
            transition(run, i, StepEvent::OutcomeUnknown);
            step.errorClass = errorClassName(ErrorClass::Uncertain);
            step.error = QStringLiteral("%1 of %2 items have an uncertain outcome; first: %3")
                             .arg(fe.uncertain)
                             .arg(total)
                             .arg(firstError);
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(
                run, i, QStringLiteral("step_uncertain"),
                {{QStringLiteral("error"), step.error}, {QStringLiteral("items"), counts}}, now));
            step.foreach.reset();
            markDirty(run);
            return;
        }
        if (fe.failed == 0) {
            transition(run, i, StepEvent::AttemptSucceeded);
            step.endedAt = now;
            step.error.clear();
            step.errorClass.clear();
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(run, i, QStringLiteral("step_succeeded"),
                                      {{QStringLiteral("items"), counts}}, now));
            step.foreach.reset();
            finalized(run, i, now, batch, launches);
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
        step.errorClass = errorClassName(ErrorClass::Transient);
        step.foreach.reset();
        if (tolerated) {
            transition(run, i, StepEvent::ItemsPartlyFailed);
            step.endedAt = now;
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(
                run, i, QStringLiteral("step_partially_succeeded"),
                {{QStringLiteral("items"), counts}, {QStringLiteral("error"), step.error}}, now));
            finalized(run, i, now, batch, launches);
            return;
        }
        step.error += QStringLiteral(" (more than `tolerate` allows)");
        failForGood(run, i, now, batch, launches);
    }

    void launch(Launch &item) {
        RunRt *run = findRun(item.runId);
        if (!run)
            return;
        StepRt &step = run->steps[static_cast<size_t>(item.step)];
        StepKind *action = actions.find(item.request.step->kind);
        const int attemptNumber = item.request.attempt;
        const int generation = step.generation;
        const QString runId = item.runId;
        const int stepIndex = item.step;
        const int itemPos = item.item;
        ItemRt *itemRt = nullptr;
        if (itemPos >= 0) {
            if (!step.foreach || !step.foreach->active.count(itemPos))
                return;
            itemRt = &step.foreach->active.at(itemPos);
        }
        if (!action) {
            completions.push_back(
                Completion{runId, stepIndex, attemptNumber, generation,
                           AttemptResult::failure(
                               ErrorClass::Permanent,
                               QStringLiteral("step kind \"%1\" is not supported by this build")
                                   .arg(item.request.step->kind)),
                           itemPos});
            return;
        }
        (itemRt ? itemRt->inFlight : step.inFlight) = true;
        auto done = [this, runId, stepIndex, attemptNumber, generation,
                     itemPos](AttemptResult result) {
            completions.push_back(Completion{runId, stepIndex, attemptNumber, generation,
                                             std::move(result), itemPos});
            schedulePump();
        };
        try {
            (itemRt ? itemRt->execution : step.execution) =
                action->start(item.request, *this, done);
        } catch (const std::exception &error) {
            completions.push_back(Completion{
                runId, stepIndex, attemptNumber, generation,
                AttemptResult::failure(
                    ErrorClass::Transient,
                    QStringLiteral("the action threw: %1").arg(QString::fromUtf8(error.what()))),
                itemPos});
        } catch (...) {
            completions.push_back(Completion{
                runId, stepIndex, attemptNumber, generation,
                AttemptResult::failure(ErrorClass::Transient,
                                       QStringLiteral("the action threw an unknown exception")),
                itemPos});
        }
    }

    void finishAttemptRow(RunRt &run, int i, const AttemptResult &result, AttemptOutcome outcome,
                          qint64 now, Batch &batch) {
        const StepRt &step = run.steps[static_cast<size_t>(i)];
        AttemptRow attempt;
        attempt.runId = run.id;
        attempt.stepId = run.plan->flow->steps[i].id;
        attempt.number = step.attempts;
        attempt.generation = step.generation;
        attempt.idempotencyKey = idempotencyKey(run, i);
        attempt.worker = options.workerId;
        attempt.startedAt = step.attemptStartedAt;
        attempt.endedAt = now;
        attempt.outcome = outcomeName(outcome);
        if (!result.succeeded) {
            attempt.errorClass = errorClassName(result.errorClass);
            attempt.error = result.error;
        }
        batch.attempts.append(attempt);
    }

    void applyCompletion(Completion &completion, qint64 now, Batch &batch,
                         std::vector<Launch> &launches) {
        RunRt *run = findRun(completion.runId);
        if (!run)
            return;
        if (completion.item >= 0) {
            applyItemCompletion(*run, completion, now, batch);
            return;
        }
        const int i = completion.step;
        StepRt &step = run->steps[static_cast<size_t>(i)];
        if (step.state != StepState::Running || step.attempts != completion.attempt ||
            step.generation != completion.generation || step.fallbackActive)
            return; // stale: the attempt was already ended (timeout, cancel)
        if (step.execution)
            retired.push_back(std::move(step.execution));
        step.inFlight = false;
        step.attemptDeadline = 0;
        releaseSlot(*run, i, completion.result, now, batch);
        const AttemptResult &result = completion.result;
        if (result.succeeded) {
            finishAttemptRow(*run, i, result, AttemptOutcome::Succeeded, now, batch);
            transition(*run, i, StepEvent::AttemptSucceeded);
            step.output = result.output;
            step.endedAt = now;
            step.error.clear();
            step.errorClass.clear();
            batch.steps.append(stepRow(*run, i));
            batch.events.append(
                event(*run, i, QStringLiteral("step_succeeded"),
                      {{QStringLiteral("attempt"), step.attempts},
                       {QStringLiteral("duration_ms"), now - step.attemptStartedAt}},
                      now));
            finalized(*run, i, now, batch, launches);
            return;
        }

        const AttemptOutcome outcome =
            result.errorClass == ErrorClass::Timeout     ? AttemptOutcome::TimedOut
            : result.errorClass == ErrorClass::Permanent ? AttemptOutcome::FailedPermanent
            : result.errorClass == ErrorClass::Uncertain ? AttemptOutcome::Uncertain
                                                         : AttemptOutcome::FailedTransient;
        finishAttemptRow(*run, i, result, outcome, now, batch);
        step.error = result.error;
        step.errorClass = errorClassName(result.errorClass);
        const Step &def = run->plan->flow->steps[i];
        if ((result.errorClass == ErrorClass::Timeout ||
             result.errorClass == ErrorClass::Uncertain) &&
            def.effectiveIdempotency() == Idempotency::None) {
            // It may have happened: a non-idempotent step is never repeated without a decision.
            transition(*run, i, StepEvent::OutcomeUnknown);
            step.errorClass = errorClassName(ErrorClass::Uncertain);
            batch.steps.append(stepRow(*run, i));
            batch.events.append(
                event(*run, i, QStringLiteral("step_uncertain"),
                      withAttempt({{QStringLiteral("error"), step.error}}, step.attempts), now));
            markDirty(*run);
            return;
        }
        ++step.failures;
        const RetryPolicy &policy = run->plan->retry[i];
        bool retry = isRetryable(policy, result.errorClass, result.errorDetail) &&
                     step.failures < policy.maxAttempts &&
                     result.errorDetail != QLatin1String("deadline");
        QString stopReason;
        if (!isRetryable(policy, result.errorClass, result.errorDetail))
            stopReason = QStringLiteral("not retried: %1 error").arg(step.errorClass);
        else if (step.failures >= policy.maxAttempts)
            stopReason = QStringLiteral("no attempts left (%1 of %2)")
                             .arg(step.failures)
                             .arg(policy.maxAttempts);
        qint64 delay = result.retryAfterMs >= 0
                           ? result.retryAfterMs
                           : backoffDelayMs(policy, step.failures,
                                            jitterUnit(idempotencyKey(*run, i), step.attempts));
        const qint64 nextAt = now + delay;
        const auto deadline = run->plan->deadline[i];
        if (retry && deadline && nextAt >= step.startedAt + *deadline) {
            retry = false;
            stopReason =
                QStringLiteral("the step deadline of %1 leaves no time for another attempt")
                    .arg(formatDuration(*deadline));
        }
        if (retry) {
            transition(*run, i, StepEvent::AttemptFailed);
            step.notBefore = nextAt;
            batch.steps.append(stepRow(*run, i));
            batch.events.append(event(*run, i, QStringLiteral("step_retrying"),
                                      {{QStringLiteral("attempt"), step.attempts},
                                       {QStringLiteral("max_attempts"), policy.maxAttempts},
                                       {QStringLiteral("error_class"), step.errorClass},
                                       {QStringLiteral("error"), step.error},
                                       {QStringLiteral("next_attempt_at"), nextAt},
                                       {QStringLiteral("delay_ms"), delay}},
                                      now));
            pushTimer(*run, i);
            markDirty(*run);
            return;
        }
        if (!stopReason.isEmpty())
            batch.events.append(event(*run, i, QStringLiteral("attempt_failed"),
                                      {{QStringLiteral("attempt"), step.attempts},
                                       {QStringLiteral("error_class"), step.errorClass},
                                       {QStringLiteral("error"), step.error},
                                       {QStringLiteral("reason"), stopReason}},
                                      now));
        failForGood(*run, i, now, batch, launches);
    }

    void failForGood(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        const Step &def = run.plan->flow->steps[i];
        if (def.fallback.kind == Fallback::Kind::Value) {
            transition(run, i, StepEvent::FallbackUsed);
            step.output = def.fallback.value;
            step.viaFallback = true;
            step.endedAt = now;
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(run, i, QStringLiteral("step_succeeded_via_fallback"),
                                      {{QStringLiteral("fallback"), QStringLiteral("value")},
                                       {QStringLiteral("error"), step.error}},
                                      now));
            finalized(run, i, now, batch, launches);
            return;
        }
        const int f = run.plan->fallbackStep[i];
        if (f >= 0 && run.steps[static_cast<size_t>(f)].state == StepState::Pending) {
            if (step.state != StepState::Running)
                transition(run, i, StepEvent::AttemptStarted); // it is "running" its fallback
            step.fallbackActive = true;
            batch.steps.append(stepRow(run, i));
            batch.events.append(event(run, i, QStringLiteral("step_falling_back"),
                                      {{QStringLiteral("fallback"), run.plan->flow->steps[f].id},
                                       {QStringLiteral("error"), step.error}},
                                      now));
            makeReady(run, f, now, batch, launches);
            markDirty(run);
            return;
        }
        transition(run, i, StepEvent::FailedForGood);
        step.endedAt = now;
        batch.steps.append(stepRow(run, i));
        batch.events.append(event(run, i, QStringLiteral("step_failed"),
                                  {{QStringLiteral("attempts"), step.attempts},
                                   {QStringLiteral("error_class"), step.errorClass},
                                   {QStringLiteral("error"), step.error}},
                                  now));
        finalized(run, i, now, batch, launches);
    }

    /// Step i reached a final state: wake its downstream, settle fallback relations.
    void finalized(RunRt &run, int i, qint64 now, Batch &batch, std::vector<Launch> &launches) {
        StepRt &step = run.steps[static_cast<size_t>(i)];
        for (int d : run.plan->downstream[i])
            addCandidate(run, d);
        const int f = run.plan->fallbackStep[i];
        if (f >= 0 && run.steps[static_cast<size_t>(f)].state == StepState::Pending) {
            transition(run, f, StepEvent::NotNeeded);
            run.steps[static_cast<size_t>(f)].endedAt = now;
            batch.steps.append(stepRow(run, f));
            batch.events.append(event(
                run, f, QStringLiteral("step_skipped"),
                {{QStringLiteral("reason"),
                  QStringLiteral("fallback of %1, not needed").arg(run.plan->flow->steps[i].id)}},
                now));
            finalized(run, f, now, batch, launches);
        }
        const int p = run.plan->primaryOf[i];
        if (p >= 0 && run.steps[static_cast<size_t>(p)].fallbackActive) {
            StepRt &primary = run.steps[static_cast<size_t>(p)];
            primary.fallbackActive = false;
            primary.endedAt = now;
            if (step.state == StepState::Succeeded ||
                step.state == StepState::SucceededViaFallback) {
                transition(run, p, StepEvent::FallbackUsed);
                primary.output = step.output;
                primary.viaFallback = true;
                batch.steps.append(stepRow(run, p));
                batch.events.append(
                    event(run, p, QStringLiteral("step_succeeded_via_fallback"),
                          {{QStringLiteral("fallback"), run.plan->flow->steps[i].id},
                           {QStringLiteral("error"), primary.error}},
                          now));
            } else {
                transition(run, p, StepEvent::FailedForGood);
                primary.error = QStringLiteral("%1; its fallback %2 did not succeed either: %3")
                                    .arg(primary.error, run.plan->flow->steps[i].id, step.error);
                batch.steps.append(stepRow(run, p));
                batch.events.append(event(run, p, QStringLiteral("step_failed"),
                                          {{QStringLiteral("attempts"), primary.attempts},
                                           {QStringLiteral("error_class"), primary.errorClass},
                                           {QStringLiteral("error"), primary.error}},
                                          now));
            }
            finalized(run, p, now, batch, launches);
        }
        markDirty(run);
    }

    void updateRunState(RunRt &run, qint64 now, Batch &batch) {
        if (isFinal(run.state))
            return;
        RunState next = deriveRunState(run.counts);
        if (run.paused && next == RunState::Running)
            next = run.counts[static_cast<int>(StepState::Running)] > 0 ? RunState::Running
                                                                        : RunState::Paused;
        if (next == run.state)
            return;
        run.state = next;
        QJsonObject detail{{QStringLiteral("state"), stateName(next)}};
        QString type = QStringLiteral("run_state_changed");
        if (isFinal(next)) {
            run.endedAt = now;
            type = QStringLiteral("run_finished");
            QJsonObject counts;
            for (int s = 0; s < kStepStateCount; ++s) {
                if (run.counts[s] > 0)
                    counts.insert(stateName(static_cast<StepState>(s)), run.counts[s]);
            }
            detail.insert(QStringLiteral("steps"), counts);
            batch.releasedLeases.append({run.id, options.workerId});
        } else if (next == RunState::WaitingForOperator || next == RunState::Paused) {
            type = QStringLiteral("run_waiting");
            batch.releasedLeases.append({run.id, options.workerId});
        }
        batch.runs.append(runRow(run));
        batch.events.append(event(run, -1, type, detail, now));
    }

    // ---- the loop ---------------------------------------------------------------------------

    void fireDueCalls(qint64 now) {
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

    void expireAttempts(qint64 now) {
        while (!attemptTimeouts.empty() && attemptTimeouts.top().at <= now) {
            const Due due = attemptTimeouts.top();
            attemptTimeouts.pop();
            RunRt *run = findRun(due.runId);
            if (!run)
                continue;
            StepRt &step = run->steps[static_cast<size_t>(due.step)];
            if (due.item >= 0) {
                expireItem(*run, due);
                continue;
            }
            if (step.state != StepState::Running || step.fallbackActive ||
                step.attempts != static_cast<int>(due.stamp) || step.attemptDeadline != due.at)
                continue;
            if (step.execution) {
                step.execution->cancel(); // kills the process group, aborts the request
                retired.push_back(std::move(step.execution));
            }
            step.inFlight = false;
            const qint64 limit = due.at - step.attemptStartedAt;
            AttemptResult result = AttemptResult::failure(
                ErrorClass::Timeout,
                step.attemptDeadlineIsStepDeadline
                    ? QStringLiteral("the step deadline of %1 passed during attempt %2")
                          .arg(formatDuration(*run->plan->deadline[due.step]))
                          .arg(step.attempts)
                    : QStringLiteral("attempt %1 timed out after %2")
                          .arg(step.attempts)
                          .arg(formatDuration(limit)));
            if (step.attemptDeadlineIsStepDeadline)
                result.errorDetail = QStringLiteral("deadline");
            completions.push_back(
                Completion{run->id, due.step, step.attempts, step.generation, result});
        }
    }

    void expireItem(RunRt &run, const Due &due) {
        StepRt &step = run.steps[static_cast<size_t>(due.step)];
        if (step.state != StepState::Running || !step.foreach)
            return;
        const auto it = step.foreach->active.find(due.item);
        if (it == step.foreach->active.end())
            return;
        ItemRt &item = it->second;
        if (item.state != StepState::Running || item.attempts != static_cast<int>(due.stamp) ||
            item.attemptDeadline != due.at)
            return;
        if (item.execution) {
            item.execution->cancel();
            retired.push_back(std::move(item.execution));
        }
        item.inFlight = false;
        completions.push_back(Completion{
            run.id, due.step, item.attempts, step.generation,
            AttemptResult::failure(ErrorClass::Timeout,
                                   QStringLiteral("attempt %1 of item %2 timed out after %3")
                                       .arg(item.attempts)
                                       .arg(step.foreach->keys[due.item])
                                       .arg(formatDuration(due.at - item.attemptStartedAt))),
            due.item});
    }

    void popDueTimers(qint64 now) {
        while (!stepTimers.empty() && stepTimers.top().at <= now) {
            const Due due = stepTimers.top();
            stepTimers.pop();
            RunRt *run = findRun(due.runId);
            if (!run)
                continue;
            StepRt &step = run->steps[static_cast<size_t>(due.step)];
            if (due.item >= 0) {
                // An item's retry is due: the step looks at its items again.
                if (step.foreach && step.foreach->active.count(due.item) &&
                    step.foreach->active.at(due.item).timerStamp == due.stamp)
                    addCandidate(*run, due.step);
                continue;
            }
            if (step.timerStamp != due.stamp)
                continue;
            addCandidate(*run, due.step);
        }
    }

    Status commit(Batch &batch) {
        if (batch.isEmpty())
            return Status::ok();
        auto lastId = store.commit(batch);
        if (!lastId) {
            stop(lastId.error());
            return lastId.status();
        }
        if (!batch.events.isEmpty()) {
            qint64 id = *lastId - batch.events.size() + 1;
            for (EventRow &row : batch.events)
                row.id = id++;
            Q_EMIT q->eventsCommitted(batch.events);
        }
        return Status::ok();
    }

    void stop(const QString &message) {
        if (stopped)
            return;
        stopped = true;
        fatal = message;
        for (auto &[id, run] : runs) {
            for (StepRt &step : run->steps)
                cancelExecutions(step);
        }
        if (driveTimer)
            driveTimer->stop();
        Q_EMIT q->fatalError(message);
    }

    Status pump() {
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
            if (completions.empty() && dirtyRuns.empty())
                break;
            Batch batch;
            std::vector<Launch> launches;
            std::vector<Completion> ready = std::move(completions);
            completions.clear();
            for (Completion &completion : ready)
                applyCompletion(completion, now, batch, launches);
            // advance() may dirty other runs only through completions, never through dirtyRuns.
            std::vector<RunRt *> dirty = std::move(dirtyRuns);
            dirtyRuns.clear();
            std::vector<std::pair<QString, RunState>> settled;
            for (RunRt *run : dirty) {
                const RunState before = run->state;
                advance(*run, now, batch, launches);
                if (run->state != before && run->state != RunState::Running)
                    settled.emplace_back(run->id, run->state);
            }
            status = commit(batch);
            if (!status)
                break;
            for (Launch &item : launches)
                launch(item);
            for (const auto &[runId, state] : settled) {
                if (RunRt *settledRun = findRun(runId);
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

    void unload(const QString &runId) {
        const auto it = runs.find(runId);
        if (it == runs.end())
            return;
        for (StepRt &step : it->second->steps)
            cancelExecutions(step);
        std::erase(dirtyRuns, it->second.get());
        runs.erase(it);
    }

    std::optional<qint64> nextDueAt() const {
        std::optional<qint64> next;
        auto consider = [&next](qint64 at) {
            if (!next || at < *next)
                next = at;
        };
        if (!stepTimers.empty())
            consider(stepTimers.top().at);
        if (!attemptTimeouts.empty())
            consider(attemptTimeouts.top().at);
        if (!callHeap.empty())
            consider(callHeap.top().first);
        return next;
    }

    void rearm() {
        if (!driveTimer || stopped)
            return;
        if (!completions.empty() || !dirtyRuns.empty()) {
            driveTimer->start(0);
            return;
        }
        qint64 wait = pollMs;
        if (const auto next = nextDueAt())
            wait = std::clamp<qint64>(*next - clockRef.nowMs(), 0, pollMs);
        driveTimer->start(static_cast<int>(wait));
    }

    // ---- loading ----------------------------------------------------------------------------

    /// Rebuilds the live state of every running foreach step from its item rows.
    void rebuildForeach(RunRt &run, const QList<ItemRow> &itemRows,
                        QHash<int, QHash<QString, int>> &positions) {
        const Flow &flow = *run.plan->flow;
        QHash<int, QList<const ItemRow *>> byStep;
        for (const ItemRow &row : itemRows) {
            const auto i = flow.indexOfStep(row.stepId);
            if (i >= 0)
                byStep[static_cast<int>(i)].append(&row);
        }
        for (auto it = byStep.begin(); it != byStep.end(); ++it) {
            const int i = it.key();
            StepRt &step = run.steps[static_cast<size_t>(i)];
            if (step.state != StepState::Running)
                continue;
            auto fe = std::make_unique<ForeachRt>();
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
                positions[i].insert(row->itemKey, pos);
                const StepState state = stepStateFromName(row->state).value_or(StepState::Pending);
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
                    ItemRt item;
                    item.state = state;
                    item.attempts = row->attempts;
                    item.failures = row->failures;
                    item.notBefore = row->notBefore;
                    item.errorClass = row->errorClass;
                    item.error = row->error;
                    if (item.notBefore > 0) {
                        // The timer heap of a new engine starts empty: arm the retry again.
                        item.timerStamp = 1;
                        stepTimers.push(Due{item.notBefore, run.id, i, item.timerStamp, pos});
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

    /// An item's attempt was cut off by a crash: retry it (same key), or uncertain for `none`.
    void recoverItemAttempt(RunRt &run, int i, const AttemptRow &attempt, int pos, qint64 now,
                            Batch &batch) {
        AttemptRow ended = attempt;
        ended.endedAt = now;
        ended.outcome = outcomeName(AttemptOutcome::Crashed);
        ended.errorClass = errorClassName(ErrorClass::Crashed);
        ended.error = QStringLiteral("the engine stopped while attempt %1 of item %2 ran")
                          .arg(attempt.number)
                          .arg(attempt.itemKey);
        batch.attempts.append(ended);
        StepRt &step = run.steps[static_cast<size_t>(i)];
        if (!step.foreach || pos < 0 || !step.foreach->active.count(pos))
            return;
        ForeachRt &fe = *step.foreach;
        ItemRt &item = fe.active.at(pos);
        if (item.state != StepState::Running || item.attempts != attempt.number)
            return;
        item.error = ended.error;
        if (run.plan->flow->steps[i].effectiveIdempotency() == Idempotency::None) {
            item.state = StepState::Uncertain;
            fe.errors[static_cast<size_t>(pos)] =
                QStringLiteral("attempt %1 was cut off by a crash; whether it took effect is "
                               "unknown (idempotency: none)")
                    .arg(attempt.number);
            ++fe.uncertain;
            fe.states[static_cast<size_t>(pos)] = item.state;
            batch.items.append(itemRow(run, i, pos));
            fe.active.erase(pos);
            batch.events.append(event(
                run, i, QStringLiteral("item_uncertain"),
                {{QStringLiteral("item"), attempt.itemKey}, {QStringLiteral("error"), ended.error}},
                now));
            return;
        }
        item.state = StepState::Retrying;
        item.errorClass = errorClassName(ErrorClass::Crashed);
        item.notBefore = now;
        fe.states[static_cast<size_t>(pos)] = item.state;
        batch.items.append(itemRow(run, i, pos));
        batch.events.append(event(run, i, QStringLiteral("attempt_crashed"),
                                  {{QStringLiteral("item"), attempt.itemKey},
                                   {QStringLiteral("attempt"), attempt.number},
                                   {QStringLiteral("error"), ended.error}},
                                  now));
    }

    /// Loads one run from its rows into memory and records, in batch, what recovery decides
    /// about attempts that were cut off (openAttempts: attempts with no outcome).
    Status load(const RunRow &row, const QList<StepRunRow> &stepRows,
                const QList<AttemptRow> &openAttempts, const QList<ItemRow> &itemRows, qint64 now,
                Batch &batch) {
        auto plan = planFor(row.flowId);
        if (!plan)
            return plan.status();
        auto run = std::make_unique<RunRt>();
        run->id = row.id;
        run->flowName = row.flowName;
        run->plan = *plan;
        run->params = row.params;
        run->state = runStateFromName(row.state).value_or(RunState::Running);
        run->createdAt = row.createdAt;
        run->endedAt = row.endedAt;
        run->paused = row.paused;
        run->parentRun = row.parentRun;
        run->parentStep = row.parentStep;
        const Flow &flow = *run->plan->flow;
        run->steps.resize(static_cast<size_t>(flow.steps.size()));
        for (const StepRunRow &stepRow : stepRows) {
            const auto i = flow.indexOfStep(stepRow.stepId);
            if (i < 0)
                return Status::error(QStringLiteral("run %1: step %2 is not in its flow")
                                         .arg(row.id, stepRow.stepId));
            StepRt &step = run->steps[static_cast<size_t>(i)];
            step.state = stepStateFromName(stepRow.state).value_or(StepState::Pending);
            step.attempts = stepRow.attempts;
            step.failures = stepRow.failures;
            step.generation = stepRow.generation;
            step.notBefore = stepRow.notBefore;
            step.startedAt = stepRow.startedAt;
            step.endedAt = stepRow.endedAt;
            step.errorClass = stepRow.errorClass;
            step.error = stepRow.error;
            step.viaFallback = stepRow.viaFallback;
            step.output = stepRow.output;
            step.inputOverride = stepRow.inputOverride;
        }
        for (const StepRt &step : run->steps)
            ++run->counts[static_cast<int>(step.state)];
        for (qsizetype i = 0; i < flow.steps.size(); ++i) {
            const int f = run->plan->fallbackStep[i];
            StepRt &step = run->steps[static_cast<size_t>(i)];
            if (f >= 0 && step.state == StepState::Running &&
                run->steps[static_cast<size_t>(f)].state != StepState::Pending)
                step.fallbackActive = true;
        }

        RunRt &r = *run;
        runs[row.id] = std::move(run);
        QHash<int, QHash<QString, int>> itemPositions; // step -> item key -> position
        rebuildForeach(r, itemRows, itemPositions);
        // Write-ahead says: an attempt with a start and no outcome was cut off by a crash.
        for (const AttemptRow &attempt : openAttempts) {
            if (attempt.endedAt != 0)
                continue;
            const auto i = flow.indexOfStep(attempt.stepId);
            if (i < 0)
                continue;
            StepRt &step = r.steps[static_cast<size_t>(i)];
            if (flow.steps[i].kind == QLatin1String("subflow") &&
                step.state == StepState::Running && attempt.number == step.attempts) {
                // Its attempt is the child run, which survives a crash: look at it, do not redo it.
                subflowChecks.emplace_back(r.id, static_cast<int>(i));
                step.attemptStartedAt = attempt.startedAt;
                continue;
            }
            if (!attempt.itemKey.isEmpty()) {
                recoverItemAttempt(
                    r, static_cast<int>(i), attempt,
                    itemPositions.value(static_cast<int>(i)).value(attempt.itemKey, -1), now,
                    batch);
                continue;
            }
            AttemptRow ended = attempt;
            ended.endedAt = now;
            ended.outcome = outcomeName(AttemptOutcome::Crashed);
            ended.errorClass = errorClassName(ErrorClass::Crashed);
            ended.error =
                QStringLiteral("the engine stopped while attempt %1 ran").arg(attempt.number);
            batch.attempts.append(ended);
            if (step.state != StepState::Running || attempt.number != step.attempts ||
                attempt.generation != step.generation)
                continue;
            step.attemptStartedAt = attempt.startedAt;
            if (flow.steps[i].effectiveIdempotency() == Idempotency::None) {
                transition(r, static_cast<int>(i), StepEvent::OutcomeUnknown);
                step.errorClass = errorClassName(ErrorClass::Uncertain);
                step.error =
                    QStringLiteral("attempt %1 was cut off by a crash; whether it took effect is "
                                   "unknown (idempotency: none)")
                        .arg(attempt.number);
                batch.steps.append(stepRow(r, static_cast<int>(i)));
                batch.events.append(event(
                    r, static_cast<int>(i), QStringLiteral("step_uncertain"),
                    withAttempt({{QStringLiteral("error"), step.error}}, attempt.number), now));
            } else {
                transition(r, static_cast<int>(i), StepEvent::AttemptFailed);
                step.errorClass = errorClassName(ErrorClass::Crashed);
                step.error = ended.error;
                step.notBefore =
                    now; // a crash is not the dependency's fault: no backoff, no budget
                batch.steps.append(stepRow(r, static_cast<int>(i)));
                batch.events.append(event(
                    r, static_cast<int>(i), QStringLiteral("attempt_crashed"),
                    withAttempt({{QStringLiteral("error"), step.error}}, attempt.number), now));
            }
        }
        for (size_t i = 0; i < r.steps.size(); ++i) {
            StepRt &step = r.steps[i];
            if (step.state == StepState::Running && step.foreach) {
                addCandidate(r, static_cast<int>(i)); // its items go on
                continue;
            }
            if (step.state == StepState::Running &&
                flow.steps[static_cast<qsizetype>(i)].kind == QLatin1String("subflow")) {
                continue; // waits for its child run (checkSubflows)
            }
            if (step.state == StepState::Running && !step.fallbackActive) {
                // Running without an open attempt is not something a commit leaves behind; treat
                // it like a cut-off attempt rather than leave the step stuck.
                transition(r, static_cast<int>(i), StepEvent::AttemptFailed);
                step.notBefore = now;
                batch.steps.append(stepRow(r, static_cast<int>(i)));
                batch.events.append(
                    event(r, static_cast<int>(i), QStringLiteral("attempt_crashed"),
                          {{QStringLiteral("attempt"), step.attempts},
                           {QStringLiteral("error"), QStringLiteral("no open attempt")}},
                          now));
            }
            if (step.state == StepState::Pending || step.state == StepState::Scheduled ||
                step.state == StepState::Retrying || step.state == StepState::Queued)
                addCandidate(r, static_cast<int>(i));
        }
        if (isFinal(r.state))
            return Status::ok(); // loaded for an operator action, which decides what follows
        // Look at the run afresh: advance() announces whatever state it is really in.
        const RunState stored = r.state;
        r.state = RunState::Running;
        if (stored != RunState::Running && deriveRunState(r.counts) == RunState::Running)
            batch.runs.append(runRow(r));
        batch.events.append(event(r, -1, QStringLiteral("run_resumed"),
                                  {{QStringLiteral("worker"), options.workerId}}, now));
        markDirty(r);
        return Status::ok();
    }
};

Engine::Engine(Store &store, const Clock &clock, StepKindRegistry actions, Options options,
               QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Impl>(this, store, clock, std::move(actions), std::move(options))) {
    if (d->options.workerId.isEmpty())
        d->options.workerId = makeWorkerId();
    if (d->options.actor.isEmpty())
        d->options.actor = QStringLiteral("engine");
    if (!d->options.ownerIsDead)
        d->options.ownerIsDead = isLocalOwnerDead;
}

Engine::~Engine() = default;

Result<QString> Engine::createRun(const Flow &flow, const QString &sourcePath,
                                  const QJsonObject &params, bool execute) {
    auto version = registerFlow(flow, sourcePath);
    if (!version)
        return version.status();
    return createRun(*version, params, execute);
}

Result<qint64> Engine::registerFlow(const Flow &flow, const QString &sourcePath) {
    if (d->stopped)
        return Status::error(d->fatal);
    for (const Step &step : flow.steps) {
        if (!d->actions.find(step.kind) && step.kind != QLatin1String("approval") &&
            step.kind != QLatin1String("subflow"))
            return Status::error(
                QStringLiteral("step \"%1\": kind \"%2\" is not supported by this build yet "
                               "(supported: %3)")
                    .arg(step.id, step.kind, d->actions.kinds().join(QStringLiteral(", "))));
    }
    auto version = d->store.saveFlowVersion(flow.name, serializeFlow(flow), sourcePath);
    if (!version)
        return version.status();
    QStringList resources;
    for (const ResourceSpec &resource : flow.resources)
        resources << resource.name;
    if (Status s = d->store.declareResources(resources, d->clockRef.nowMs()); !s)
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
    Batch batch;
    auto run = d->newRun(*plan, params, newRunId(), {}, execute, batch);
    if (!run)
        return run.status();
    const QString id = (*run)->id;
    if (Status s = d->commit(batch); !s)
        return s;
    if (execute) {
        RunRt &r = **run;
        d->runs[id] = std::move(*run);
        for (int i = 0; i < static_cast<int>(r.steps.size()); ++i)
            d->addCandidate(r, i);
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
            Batch batch; // refused: only the answer is written
            RequestRow answer = request;
            answer.state = QStringLiteral("refused");
            answer.result = done.error();
            answer.answeredAt = d->clockRef.nowMs();
            batch.answers.append(answer);
            if (Status s = d->commit(batch); !s)
                return s;
        }
    }
    return Status::ok();
}

Result<bool> Engine::Impl::adopt(const QString &runId, bool allowFinal) {
    Impl *d = this;
    if (Status s = d->ensureResourcesLoaded(); !s)
        return s;
    if (d->findRun(runId))
        return true;
    const qint64 now = d->clockRef.nowMs();
    auto claimed = d->store.claimRun(runId, d->options.workerId, now + d->options.leaseMs, now,
                                     d->options.ownerIsDead);
    if (!claimed)
        return claimed.status();
    if (!*claimed)
        return false;
    auto row = d->store.run(runId);
    if (!row)
        return row.status();
    if (!allowFinal && isFinal(runStateFromName(row->state).value_or(RunState::Running)))
        return Status::error(QStringLiteral("run %1 already finished (%2)").arg(runId, row->state));
    auto steps = d->store.stepRuns(runId);
    if (!steps)
        return steps.status();
    auto attempts = d->store.attempts(runId);
    if (!attempts)
        return attempts.status();
    Batch batch;
    auto items = d->store.items(runId);
    if (!items)
        return items.status();
    if (Status s = d->load(*row, *steps, *attempts, *items, now, batch); !s)
        return s;
    if (Status s = d->commit(batch); !s)
        return s;
    d->schedulePump();
    return true;
}

Result<int> Engine::adoptAvailable() {
    if (d->stopped)
        return Status::error(d->fatal);
    if (Status s = d->ensureResourcesLoaded(); !s)
        return s;
    // Runs waiting for an operator are not taken: nothing runs until an action wakes them.
    const qint64 now = d->clockRef.nowMs();
    auto claimed = d->store.claimRunnable(d->options.workerId, now + d->options.leaseMs, now,
                                          d->options.ownerIsDead);
    if (!claimed)
        return claimed.status();
    QList<RunRow> fresh;
    for (const RunRow &row : *claimed) {
        if (!d->findRun(row.id))
            fresh.append(row);
    }
    if (fresh.isEmpty())
        return 0;
    auto steps = d->store.stepRunsOwnedBy(d->options.workerId);
    if (!steps)
        return steps.status();
    auto attempts = d->store.unfinishedAttemptsOwnedBy(d->options.workerId);
    if (!attempts)
        return attempts.status();
    auto items = d->store.itemsOwnedBy(d->options.workerId);
    if (!items)
        return items.status();
    Batch batch; // all recoveries in one transaction
    for (const RunRow &row : fresh) {
        if (Status s = d->load(row, steps->value(row.id), attempts->value(row.id),
                               items->value(row.id), now, batch);
            !s)
            return s;
    }
    if (Status s = d->commit(batch); !s)
        return s;
    d->schedulePump();
    return static_cast<int>(fresh.size());
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
        connect(d->leaseTimer, &QTimer::timeout, this, [this] {
            if (d->stopped)
                return;
            if (Status s = d->store.renewLeases(d->options.workerId,
                                                d->clockRef.nowMs() + d->options.leaseMs);
                !s)
                qCWarning(lcEngine) << s.message();
        });
        d->leaseTimer->start(static_cast<int>(d->options.leaseMs / 3));
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
        for (StepRt &step : run->steps)
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
        for (const StepRt &step : run->steps) {
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
