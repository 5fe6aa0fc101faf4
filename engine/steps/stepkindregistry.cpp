#include "steps/drillstep.h"
#include "steps/faultstep.h"
#include "steps/httpstep.h"
#include "steps/noopstep.h"
#include "steps/shellstep.h"
#include "steps/sqlstep.h"
#include "steps/stepkind.h"

namespace keepflow {

StepKindRegistry StepKindRegistry::withBuiltins() {
    StepKindRegistry registry;
    auto noop = std::make_shared<NoopStep>();
    registry.add(QStringLiteral("noop"), noop);
    registry.add(QStringLiteral("delay"), noop); // the wait itself is the engine's durable timer
    registry.add(QStringLiteral("shell"), std::make_shared<ShellStep>());
    registry.add(QStringLiteral("fault"), std::make_shared<FaultStep>());
    registry.add(QStringLiteral("http"), std::make_shared<HttpStep>());
    registry.add(QStringLiteral("sql"), std::make_shared<SqlStep>());
    // Every kind honours a step's `drill` (faults injected for a drill run).
    StepKindRegistry drilled;
    for (const auto &[kind, action] : registry.m_actions)
        drilled.add(kind, std::make_shared<DrillStep>(action));
    return drilled;
}

void StepKindRegistry::add(const QString &kind, std::shared_ptr<StepKind> action) {
    m_actions[kind] = std::move(action);
}

StepKind *StepKindRegistry::find(const QString &kind) const {
    const auto it = m_actions.find(kind);
    return it == m_actions.end() ? nullptr : it->second.get();
}

QStringList StepKindRegistry::kinds() const {
    QStringList names;
    for (const auto &entry : m_actions)
        names << entry.first;
    return names;
}

} // namespace keepflow
