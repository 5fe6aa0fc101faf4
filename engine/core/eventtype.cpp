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
    return type >= EventType::OperatorRetry && type <= EventType::OperatorCancel;
}

bool isResourceEvent(EventType type) {
    return type >= EventType::ResourceOpened && type <= EventType::ResourceReset;
}

} // namespace keepflow
