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
    // OperatorUpgrade came after AlertFired, which is no operator's action.
    return (type >= EventType::OperatorRetry && type <= EventType::OperatorCancel) ||
           type == EventType::OperatorUpgrade;
}

bool isResourceEvent(EventType type) {
    return type >= EventType::ResourceOpened && type <= EventType::ResourceReset;
}

} // namespace keepflow
