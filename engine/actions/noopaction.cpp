#include "noopaction.h"

namespace keepflow {

std::unique_ptr<Execution> NoopAction::start(const AttemptRequest &request, ActionContext &,
                                             CompletionCallback done) {
    const QJsonValue output = request.input.value(QLatin1String("output"));
    done(AttemptResult::success(output.isUndefined() ? QJsonValue(QJsonObject()) : output));
    return nullptr;
}

} // namespace keepflow
