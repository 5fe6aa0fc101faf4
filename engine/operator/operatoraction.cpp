#include "operator/operatoraction.h"

#include <array>
#include <utility>

namespace keepflow {

namespace {

using K = OperatorAction::Kind;

/// Every kind with its name, once.
constexpr std::array<std::pair<K, const char *>, 17> kKindNames = {{
    {K::Retry, "retry"},
    {K::RetryFailedItems, "retry-failed-items"},
    {K::Skip, "skip"},
    {K::MarkSucceeded, "mark-succeeded"},
    {K::ResolveHappened, "resolve-happened"},
    {K::ResolveNotHappened, "resolve-not-happened"},
    {K::Approve, "approve"},
    {K::Reject, "reject"},
    {K::SetInput, "set-input"},
    {K::RerunFrom, "rerun-from"},
    {K::PauseRun, "pause"},
    {K::UnpauseRun, "unpause"},
    {K::PauseStep, "pause-step"},
    {K::UnpauseStep, "unpause-step"},
    {K::CancelRun, "cancel"},
    {K::SetPolicy, "set-policy"},
    {K::Upgrade, "upgrade"},
}};

static_assert(kKindNames.size() == static_cast<size_t>(K::Upgrade) + 1,
              "every OperatorAction::Kind has a name");

} // namespace

QString actionName(OperatorAction::Kind kind) {
    for (const auto &[k, name] : kKindNames) {
        if (k == kind)
            return QString::fromLatin1(name);
    }
    return {};
}

std::optional<OperatorAction::Kind> actionKindFromName(const QString &name) {
    for (const auto &[kind, text] : kKindNames) {
        if (name == QLatin1String(text))
            return kind;
    }
    return std::nullopt;
}

QJsonObject actionToJson(const OperatorAction &action) {
    QJsonObject json{{QStringLiteral("action"), actionName(action.kind)},
                     {QStringLiteral("run"), action.runId},
                     {QStringLiteral("actor"), action.actor}};
    if (!action.stepId.isEmpty())
        json.insert(QStringLiteral("step"), action.stepId);
    if (!action.output.isUndefined())
        json.insert(QStringLiteral("output"), action.output);
    if (!action.input.isEmpty())
        json.insert(QStringLiteral("input"), action.input);
    if (!action.policy.isEmpty())
        json.insert(QStringLiteral("policy"), action.policy);
    if (!action.reason.isEmpty())
        json.insert(QStringLiteral("reason"), action.reason);
    if (action.flowVersion != 0)
        json.insert(QStringLiteral("flow_version"), action.flowVersion);
    return json;
}

Result<OperatorAction> actionFromJson(const QJsonObject &json) {
    OperatorAction action;
    const QString name = json.value(QLatin1String("action")).toString();
    const auto kind = actionKindFromName(name);
    if (!kind)
        return Status::error(QStringLiteral("unknown action \"%1\"").arg(name));
    action.kind = *kind;
    action.runId = json.value(QLatin1String("run")).toString();
    action.stepId = json.value(QLatin1String("step")).toString();
    action.output = json.value(QLatin1String("output"));
    action.input = json.value(QLatin1String("input")).toObject();
    action.policy = json.value(QLatin1String("policy")).toObject();
    action.reason = json.value(QLatin1String("reason")).toString();
    action.actor = json.value(QLatin1String("actor")).toString();
    action.flowVersion = json.value(QLatin1String("flow_version")).toInteger(0);
    return action;
}

} // namespace keepflow
