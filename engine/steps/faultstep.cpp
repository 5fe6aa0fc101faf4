#include "steps/faultstep.h"

#include "core/clock.h"
#include "core/messagetext.h"
#include "model/limits.h"
#include "model/retrypolicy.h"

#include <QCryptographicHash>

#include <algorithm>
#include <cstring>

namespace keepflow {

namespace {

class PendingFault final : public Execution {
public:
    PendingFault(StepContext &context, quint64 callId)
        : m_context(context)
        , m_callId(callId) {}
    ~PendingFault() override { cancel(); }
    void cancel() override {
        if (m_callId != 0)
            m_context.cancelCall(m_callId);
        m_callId = 0;
    }

private:
    StepContext &m_context;
    quint64 m_callId;
};

/// Hangs forever: the engine's timeout ends the attempt.
class HangingFault final : public Execution {
public:
    void cancel() override {}
};

double faultUnit(qint64 seed, const QString &key, int attempt) {
    return jitterUnit(QString::number(seed) + QLatin1Char('|') + key, attempt);
}

} // namespace

std::unique_ptr<Execution> FaultStep::start(const AttemptRequest &request, StepContext &context,
                                            CompletionCallback done) {
    const QJsonObject &in = request.input;
    const int failFirst = in.value(QLatin1String("fail_first")).toInt(0);
    const double failRate = in.value(QLatin1String("fail_rate")).toDouble(0.0);
    const QString errorName =
        in.value(QLatin1String("error")).toString(QStringLiteral("transient"));
    // A seed rendered from a template is not range-checked by validation: no UB on 1e300.
    const qint64 seed = integerInRange(in.value(QLatin1String("seed")).toDouble(0),
                                       -kMaxSafeInteger, kMaxSafeInteger)
                            .value_or(0);
    // Bounded like a validated duration: a rendered one is added to the clock's time.
    const qint64 latencyMs = std::min(
        parseDurationMs(in.value(QLatin1String("latency")).toString()).value_or(0), kMaxDurationMs);
    const QJsonValue output = in.value(QLatin1String("output"));

    const bool fails =
        request.attempt <= failFirst ||
        (failRate > 0 && faultUnit(seed, request.idempotencyKey, request.attempt) < failRate);

    AttemptResult result =
        AttemptResult::success(output.isUndefined() ? QJsonValue(QJsonObject()) : output);
    if (fails) {
        const QString why = request.attempt <= failFirst
                                ? QStringLiteral("injected fault: attempt %1 of the first %2 fails")
                                      .arg(request.attempt)
                                      .arg(failFirst)
                                : QStringLiteral("injected fault (fail_rate %1)").arg(failRate);
        const ErrorClass errorClass = errorClassFromName(errorName).value_or(ErrorClass::Transient);
        if (errorClass == ErrorClass::Timeout && request.timeoutMs && latencyMs == 0)
            return std::make_unique<HangingFault>();
        if (errorClass == ErrorClass::Garbage)
            result = AttemptResult::failure(
                errorClass,
                why + QStringLiteral(": garbage response, first bytes \"\\x8f\\x00<htm\""));
        else if (errorClass == ErrorClass::Timeout)
            result = AttemptResult::failure(errorClass, why + QStringLiteral(": timed out"));
        else
            result = AttemptResult::failure(errorClass, why);
    }
    if (latencyMs <= 0) {
        done(std::move(result));
        return nullptr;
    }
    const quint64 callId =
        context.callAt(context.clock().nowMs() + latencyMs, [done, result]() { done(result); });
    return std::make_unique<PendingFault>(context, callId);
}

} // namespace keepflow
