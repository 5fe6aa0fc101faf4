#include "runtime/plan.h"

#include "model/template.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>

namespace keepflow {

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

namespace {

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

} // namespace

std::shared_ptr<Plan> makePlan(std::shared_ptr<const Flow> flow, qint64 flowId) {
    auto plan = std::make_shared<Plan>();
    plan->flow = flow;
    plan->flowId = flowId;
    const auto count = flow->steps.size();
    plan->upstream.resize(count);
    plan->downstream.resize(count);
    plan->fallbackStep.fill(-1, count);
    plan->primaryOf.fill(-1, count);
    // Step ids to positions once: a search per "after" entry made a dense flow's plan cubic.
    QHash<QString, int> position;
    position.reserve(count);
    for (qsizetype i = count - 1; i >= 0; --i) // the first of a repeated id wins, as in a search
        position.insert(flow->steps[i].id, static_cast<int>(i));
    for (qsizetype i = 0; i < count; ++i) {
        const Step &step = flow->steps[i];
        for (const QString &after : step.after) {
            const int u = position.value(after, -1);
            if (u < 0)
                continue;
            plan->upstream[i].append(u);
            plan->downstream[u].append(static_cast<int>(i));
        }
        if (step.fallback.kind == Fallback::Kind::Step) {
            const int f = position.value(step.fallback.step, -1);
            if (f >= 0) {
                plan->fallbackStep[i] = f;
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

} // namespace keepflow
