#pragma once

#include "steps/stepkind.h"

#include <memory>

namespace keepflow {

/// `http`: one request per attempt through Qt Network. `with`: method (GET), url, headers, body
/// (object/array as JSON, string as text), expect (statuses that succeed; default any 2xx),
/// idempotency_header (Idempotency-Key; carries the attempt's idempotency key, the same on every
/// retry) and max_response_bytes (10 MiB). Output: {status, headers (lowercased names), body
/// (parsed when JSON)}.
///
/// Classification: network failures, 5xx, 408 and 429 are transient (Retry-After becomes
/// retryAfterMs); other statuses outside expect are permanent; a body that claims JSON and is not
/// is garbage. errorDetail holds the HTTP status. TLS is verified; redirects are followed only when
/// they are no less safe (never https to http). The engine enforces the attempt timeout by
/// cancelling, which aborts the request.
///
/// Threading: the network managers are created on the first attempt, in the calling thread, and
/// every attempt must start in that thread (the engine's). Qt opens at most 6 HTTP/1.1 connections
/// per host and manager (each manager also runs one network thread), so attempts fill one manager
/// (up to 12 in flight) before the next is made: the default of at most 4 allows 24 parallel
/// requests per host (bench_http --latency 20 --managers N: about 270 steps/s per manager).
///
/// Cancelling aborts the request. Qt 6.4 keeps the connection of a request aborted before its
/// response arrived open and counts it busy, so six abandoned requests would block a host for good:
/// a manager that had a request aborted therefore takes no new attempts and is deleted (closing its
/// connections) once its last attempt has ended.
///
/// Qt itself resends a request, even a POST, when the connection closes before any byte of the
/// response arrived; the resend is part of the same attempt and carries the same idempotency key.
class HttpStep final : public StepKind {
public:
    static constexpr qint64 kDefaultMaxResponseBytes = 10 * 1024 * 1024;

    explicit HttpStep(int managers = 4);
    ~HttpStep() override;
    HttpStep(const HttpStep &) = delete;
    HttpStep &operator=(const HttpStep &) = delete;

    /// with.url is rendered with renderUrl: each value encoded for its part of the URL.
    InputRendering renderingOf(const QString &withKey) const override;
    std::unique_ptr<Execution> start(const AttemptRequest &request, StepContext &context,
                                     CompletionCallback done) override;

    struct Manager; ///< implementation details, shared with the running attempts
    struct Pool;

private:
    std::unique_ptr<Execution> startRequest(const AttemptRequest &request, StepContext &context,
                                            CompletionCallback done);

    std::shared_ptr<Pool> m_pool;
};

/// Parses a Retry-After value: delay in seconds, or an HTTP date taken relative to nowMs.
/// Returns -1 when the value is neither. Exposed for tests.
qint64 retryAfterMs(const QByteArray &value, qint64 nowMs);

} // namespace keepflow
