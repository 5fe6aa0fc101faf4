#include "runtime/replay.h"

#include <QJsonObject>

namespace keepflow {

QHash<QString, QString> replayStepStates(const QStringList &stepIds,
                                         const QList<EventRow> &events) {
    static const QHash<QString, QString> stateOfEvent = {
        {QStringLiteral("step_scheduled"), QStringLiteral("scheduled")},
        {QStringLiteral("step_queued"), QStringLiteral("queued")},
        {QStringLiteral("attempt_started"), QStringLiteral("running")},
        {QStringLiteral("step_expanded"), QStringLiteral("running")},
        {QStringLiteral("step_falling_back"), QStringLiteral("running")},
        {QStringLiteral("step_retrying"), QStringLiteral("retrying")},
        {QStringLiteral("attempt_crashed"), QStringLiteral("retrying")},
        {QStringLiteral("step_uncertain"), QStringLiteral("uncertain")},
        {QStringLiteral("step_failed"), QStringLiteral("failed")},
        {QStringLiteral("step_succeeded"), QStringLiteral("succeeded")},
        {QStringLiteral("step_succeeded_via_fallback"), QStringLiteral("succeeded_via_fallback")},
        {QStringLiteral("step_partially_succeeded"), QStringLiteral("partially_succeeded")},
        {QStringLiteral("step_blocked"), QStringLiteral("blocked")},
        {QStringLiteral("step_skipped"), QStringLiteral("skipped")},
        {QStringLiteral("step_waiting_for_approval"), QStringLiteral("waiting_for_operator")},
    };
    QHash<QString, QString> states;
    for (const QString &id : stepIds)
        states.insert(id, QStringLiteral("pending"));
    for (const EventRow &event : events) {
        if (event.type.startsWith(QLatin1String("operator_"))) {
            const QJsonObject moved = event.detail.value(QLatin1String("steps")).toObject();
            for (auto it = moved.begin(); it != moved.end(); ++it)
                states.insert(it.key(), it.value().toString());
            continue;
        }
        if (event.stepId.isEmpty() || event.detail.contains(QLatin1String("item")))
            continue; // run and item events
        const auto it = stateOfEvent.constFind(event.type);
        if (it != stateOfEvent.constEnd())
            states.insert(event.stepId, it.value());
    }
    return states;
}

} // namespace keepflow
