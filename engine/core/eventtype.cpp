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
    // set-policy came after alert_fired: the order of the enum is the order names were added.
    return (type >= EventType::OperatorRetry && type <= EventType::OperatorCancel) ||
           type == EventType::OperatorSetPolicy;
}

bool isResourceEvent(EventType type) {
    return (type >= EventType::ResourceOpened && type <= EventType::ResourceReset) ||
           type == EventType::ResourceLimitsChanged;
}

} // namespace keepflow
