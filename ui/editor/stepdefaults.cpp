#include "stepdefaults.h"

#include <QJsonArray>

namespace keepflow::ui {

QJsonObject defaultStepWith(const QString &kind) {
    // Placeholders that validate yet cannot do harm when run by mistake: an echo, a reserved
    // host name (RFC 2606), a read-only statement.
    if (kind == QLatin1String("shell"))
        return {
            {QStringLiteral("argv"), QJsonArray{QStringLiteral("echo"), QStringLiteral("hello")}}};
    if (kind == QLatin1String("http"))
        return {{QStringLiteral("method"), QStringLiteral("GET")},
                {QStringLiteral("url"), QStringLiteral("https://example.invalid/")}};
    if (kind == QLatin1String("sql"))
        return {{QStringLiteral("connection"), QStringLiteral("main")},
                {QStringLiteral("statement"), QStringLiteral("SELECT 1")}};
    if (kind == QLatin1String("delay"))
        return {{QStringLiteral("duration"), QStringLiteral("1s")}};
    if (kind == QLatin1String("approval"))
        return {{QStringLiteral("prompt"), QStringLiteral("Continue?")}};
    if (kind == QLatin1String("subflow"))
        return {{QStringLiteral("flow"), QStringLiteral("subflow.flow.json")}};
    if (kind == QLatin1String("fault"))
        return {{QStringLiteral("fail_first"), 1}};
    return {};
}

Step defaultStep(const QString &kind, const QString &id) {
    Step step;
    step.id = id;
    step.kind = kind;
    step.with = defaultStepWith(kind);
    return step;
}

} // namespace keepflow::ui
