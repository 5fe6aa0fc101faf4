#include "steps/drillstep.h"

#include "core/clock.h"
#include "model/flow.h"
#include "model/retrypolicy.h"

namespace keepflow {

namespace {

/// Waits on the engine's clock, then either reports the injected failure or starts the real
/// action; cancelling stops whichever is in progress.
class DrillExecution final : public Execution {
public:
    explicit DrillExecution(StepContext &context)
        : m_context(context) {}
    ~DrillExecution() override { cancel(); }
    void cancel() override {
        if (m_callId != 0)
            m_context.cancelCall(m_callId);
        m_callId = 0;
        if (m_real)
            m_real->cancel();
        m_real.reset();
    }
    quint64 m_callId = 0;
    std::unique_ptr<Execution> m_real;

private:
    StepContext &m_context;
};

/// Hangs until the engine's attempt timeout ends it.
class Hang final : public Execution {
public:
    void cancel() override {}
};

AttemptResult injectedFailure(const QString &errorName, const QString &why) {
    const ErrorClass errorClass = errorClassFromName(errorName).value_or(ErrorClass::Transient);
    if (errorClass == ErrorClass::Garbage)
        return AttemptResult::failure(
            errorClass, why + QStringLiteral(": garbage response, first bytes \"\\x8f\\x00<htm\""));
    if (errorClass == ErrorClass::Timeout)
        return AttemptResult::failure(errorClass, why + QStringLiteral(": timed out"));
    return AttemptResult::failure(errorClass, why);
}

} // namespace

DrillStep::DrillStep(std::shared_ptr<StepKind> real)
    : m_real(std::move(real)) {}

std::unique_ptr<Execution> DrillStep::start(const AttemptRequest &request, StepContext &context,
                                            CompletionCallback done) {
    if (!request.step || !request.step->drill || request.step->drill->isEmpty())
        return m_real->start(request, context, std::move(done));
    const QJsonObject &drill = *request.step->drill;
    const int failFirst = drill.value(QLatin1String("fail_first")).toInt(0);
    const double failRate = drill.value(QLatin1String("fail_rate")).toDouble(0.0);
    const QString errorName =
        drill.value(QLatin1String("error")).toString(QStringLiteral("transient"));
    const qint64 latencyMs =
        parseDurationMs(drill.value(QLatin1String("latency")).toString()).value_or(0);
    const bool fails =
        request.attempt <= failFirst ||
        (failRate > 0 &&
         jitterUnit(QStringLiteral("drill|") + request.idempotencyKey, request.attempt) < failRate);

    if (fails && errorName == QLatin1String("timeout") && request.timeoutMs && latencyMs == 0)
        return std::make_unique<Hang>();
    const QString why = request.attempt <= failFirst
                            ? QStringLiteral("drill: attempt %1 of the first %2 fails")
                                  .arg(request.attempt)
                                  .arg(failFirst)
                            : QStringLiteral("drill: failed at fail_rate %1").arg(failRate);
    if (latencyMs <= 0) {
        if (!fails)
            return m_real->start(request, context, std::move(done));
        done(injectedFailure(errorName, why));
        return nullptr;
    }
    auto execution = std::make_unique<DrillExecution>(context);
    DrillExecution *raw = execution.get();
    std::shared_ptr<StepKind> real = m_real;
    execution->m_callId =
        context.callAt(context.clock().nowMs() + latencyMs,
                       [raw, real, request, &context, done, fails, errorName, why]() {
                           raw->m_callId = 0;
                           if (fails)
                               done(injectedFailure(errorName, why));
                           else
                               raw->m_real = real->start(request, context, done);
                       });
    return execution;
}

} // namespace keepflow
