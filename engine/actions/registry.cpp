#include "action.h"
#include "drillaction.h"
#include "faultaction.h"
#include "httpaction.h"
#include "noopaction.h"
#include "shellaction.h"
#include "sqlaction.h"

namespace keepflow {

ActionRegistry ActionRegistry::withBuiltins() {
    ActionRegistry registry;
    auto noop = std::make_shared<NoopAction>();
    registry.add(QStringLiteral("noop"), noop);
    registry.add(QStringLiteral("delay"), noop); // the wait itself is the engine's durable timer
    registry.add(QStringLiteral("shell"), std::make_shared<ShellAction>());
    registry.add(QStringLiteral("fault"), std::make_shared<FaultAction>());
    registry.add(QStringLiteral("http"), std::make_shared<HttpAction>());
    registry.add(QStringLiteral("sql"), std::make_shared<SqlAction>());
    // Every kind honours a step's `drill` (faults injected for a drill run).
    ActionRegistry drilled;
    for (const auto &[kind, action] : registry.m_actions)
        drilled.add(kind, std::make_shared<DrillAction>(action));
    return drilled;
}

void ActionRegistry::add(const QString &kind, std::shared_ptr<Action> action) {
    m_actions[kind] = std::move(action);
}

Action *ActionRegistry::find(const QString &kind) const {
    const auto it = m_actions.find(kind);
    return it == m_actions.end() ? nullptr : it->second.get();
}

QStringList ActionRegistry::kinds() const {
    QStringList names;
    for (const auto &entry : m_actions)
        names << entry.first;
    return names;
}

} // namespace keepflow
