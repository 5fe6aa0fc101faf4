#include "steps/noopstep.h"

namespace keepflow {

std::unique_ptr<Execution> NoopStep::start(const AttemptRequest &request, StepContext &,
                                           CompletionCallback done) {
    const QJsonValue output = request.input.value(QLatin1String("output"));
    done(AttemptResult::success(output.isUndefined() ? QJsonValue(QJsonObject()) : output));
    return nullptr;
}

} // namespace keepflow
