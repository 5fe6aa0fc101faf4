#include "core/eventtype.h"

#include "core/enumnames.h"

namespace keepflow {

QString eventTypeName(EventType type) {
    return EnumNames<EventType>::instance().name(type);
}

std::optional<EventType> eventTypeFromName(QStringView name) {
    return EnumNames<EventType>::instance().value(name);
}

bool isOperatorEvent(EventType type) {
    // Operator events added after alert_fired (the enum's order is the order names were added;
    // alert_fired is no operator's action).
    return (type >= EventType::OperatorRetry && type <= EventType::OperatorCancel) ||
           type == EventType::OperatorSetPolicy || type == EventType::OperatorUpgrade;
}

bool isResourceEvent(EventType type) {
    return (type >= EventType::ResourceOpened && type <= EventType::ResourceReset) ||
           type == EventType::ResourceLimitsChanged;
}

} // namespace keepflow
