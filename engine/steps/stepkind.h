#pragma once

// One small interface behind every step kind. Adding a kind means one new file pair and one line
// in StepKindRegistry::withBuiltins().

#include "core/records.h"
#include "core/states.h"
#include "model/flow.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace keepflow {

class Clock;

/// What one attempt is asked to do. input is the step's `with`, templates already rendered.
struct AttemptRequest {
    QString runId;
    QString stepId;
    QString itemKey; ///< empty outside foreach
    int attempt = 1;
    QString idempotencyKey;
    QJsonObject input;
    const Step *step = nullptr;
    std::optional<qint64> timeoutMs; ///< the engine kills the attempt after this long
};

/// How an attempt ended, as reported by its action.
struct AttemptResult {
    bool succeeded = false;
    QJsonValue output;
    ErrorClass errorClass = ErrorClass::Transient;
    QString error;       ///< human-readable reason naming what failed
    QString errorDetail; ///< matched against non_retryable (e.g. an HTTP status), may be empty
    qint64 retryAfterMs = -1;
    CapturedOutput captured; ///< what the attempt printed, whether it succeeded or not

    static AttemptResult success(QJsonValue output) {
        AttemptResult r;
        r.succeeded = true;
        r.output = std::move(output);
        return r;
    }
    static AttemptResult failure(ErrorClass errorClass, QString error) {
        AttemptResult r;
        r.errorClass = errorClass;
        r.error = std::move(error);
        return r;
    }
};

/// Services an action may use while it runs. Owned by the engine; single-threaded.
class StepContext {
public:
    virtual ~StepContext() = default;
    virtual const Clock &clock() const = 0;
    /// Calls callback once the engine's clock reaches atMs (driven by the engine, so tests with a
    /// manual clock stay in control). The returned id can be cancelled.
    virtual quint64 callAt(qint64 atMs, std::function<void()> callback) = 0;
    virtual void cancelCall(quint64 id) = 0;
};

/// One running attempt. Destroying it or calling cancel() stops the work; after cancel() the
/// completion callback is never called.
class Execution {
public:
    virtual ~Execution() = default;
    virtual void cancel() = 0;
    /// What the attempt printed until now: the engine keeps it when it cuts the attempt off
    /// (a timeout), where the output says most about why.
    virtual CapturedOutput capturedSoFar() { return {}; }
};

using CompletionCallback = std::function<void(AttemptResult)>;

class StepKind {
public:
    /// How the engine renders one key of the step's `with` before start().
    enum class InputRendering {
        Values, ///< templates replaced by their values (renderTemplates)
        Url,    ///< each value percent-encoded for the part of the URL it lands in (renderUrl)
        Never,  ///< passed as written: the kind refuses templates there (sql's statement)
    };

    virtual ~StepKind() = default;
    virtual InputRendering renderingOf(const QString &withKey) const {
        Q_UNUSED(withKey);
        return InputRendering::Values;
    }
    /// Starts the attempt; done is called exactly once unless the execution is cancelled, and
    /// may be called before start() returns. May return nullptr when the work completed at once.
    virtual std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                             CompletionCallback done) = 0;
};

class StepKindRegistry {
public:
    /// noop, delay, shell, fault, http and sql (approval is the engine's own).
    static StepKindRegistry withBuiltins();

    void add(const QString &kind, std::shared_ptr<StepKind> action);
    StepKind *find(const QString &kind) const;
    QStringList kinds() const;

private:
    std::map<QString, std::shared_ptr<StepKind>> m_actions;
};

} // namespace keepflow
