#include "steps/httpstep.h"

#include "model/limits.h"
#include "model/template.h"

#include "core/clock.h"
#include "core/messagetext.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QNetworkAccessManager>
#include <QNetworkCookie>
#include <QNetworkCookieJar>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QThread>
#include <QTimeZone>
#include <QUrl>

#include <exception>
#include <limits>

namespace keepflow {

namespace {

/// Cookies would carry state from one step (or run) to the next: every attempt stands alone.
class NoCookieJar final : public QNetworkCookieJar {
public:
    using QNetworkCookieJar::QNetworkCookieJar;
    QList<QNetworkCookie> cookiesForUrl(const QUrl &) const override { return {}; }
    bool setCookiesFromUrl(const QList<QNetworkCookie> &, const QUrl &) override { return false; }
};

} // namespace

/// A network manager shared by the pool and the attempts it carries; deleted (closing its
/// connections) when the last of them lets go.
struct HttpStep::Manager {
    QPointer<QNetworkAccessManager> manager;
    ~Manager() {
        if (manager)
            manager->deleteLater(); // may be inside a signal of one of its replies
    }
};

/// Managers filled in order: Qt opens 6 connections per host and manager, and a manager takes up
/// to twice that (the rest wait briefly inside Qt for a free connection) before another manager,
/// with its own network thread, is made. Few calls in flight stay on one thread (thread hops cost
/// more than they give on a small machine); many spread over up to `size` managers.
struct HttpStep::Pool {
    explicit Pool(int size)
        : managers(static_cast<size_t>(std::max(1, size))) {}

    std::shared_ptr<Manager> acquire() {
        if (thread == nullptr)
            thread = QThread::currentThread();
        if (thread != QThread::currentThread())
            return nullptr;
        constexpr long kAttemptsPerManager = 2 * 6;
        std::shared_ptr<Manager> *chosen = nullptr;
        std::shared_ptr<Manager> *empty = nullptr;
        std::shared_ptr<Manager> *leastBusy = nullptr;
        for (std::shared_ptr<Manager> &candidate : managers) {
            if (!candidate || !candidate->manager) {
                empty = empty ? empty : &candidate;
                continue;
            }
            const long busy = candidate.use_count() - 1; // the attempts that hold it
            if (busy < kAttemptsPerManager) {
                chosen = &candidate;
                break;
            }
            if (!leastBusy || busy < leastBusy->use_count() - 1)
                leastBusy = &candidate;
        }
        if (!chosen)
            chosen = empty ? empty : leastBusy;
        std::shared_ptr<Manager> &slot = *chosen;
        if (!slot || !slot->manager) {
            slot = std::make_shared<Manager>();
            slot->manager = new QNetworkAccessManager;
            slot->manager->setCookieJar(new NoCookieJar(slot->manager));
            slot->manager->setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
        }
        return slot;
    }

    /// Takes a manager out of rotation; it goes when its last attempt ends.
    void retire(const std::shared_ptr<Manager> &manager) {
        for (std::shared_ptr<Manager> &slot : managers) {
            if (slot == manager)
                slot.reset();
        }
    }

    std::vector<std::shared_ptr<Manager>> managers;
    QThread *thread = nullptr;
};

namespace {

constexpr qsizetype kQuotedBytes = 60;
constexpr qsizetype kQuotedErrorBody = 160;

/// The first bytes of a payload as a quoted, escaped string, for error messages.
QString quotedBytes(const QByteArray &bytes, qsizetype limit) {
    QString text = QStringLiteral("\"");
    for (qsizetype i = 0; i < std::min(bytes.size(), limit); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '"' || c == '\\') {
            text += QLatin1Char('\\');
            text += QLatin1Char(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            text += QLatin1Char(static_cast<char>(c));
        } else if (c == '\n') {
            text += QLatin1String("\\n");
        } else if (c == '\r') {
            text += QLatin1String("\\r");
        } else if (c == '\t') {
            text += QLatin1String("\\t");
        } else {
            text += QStringLiteral("\\x%1").arg(c, 2, 16, QLatin1Char('0'));
        }
    }
    text += QLatin1Char('"');
    if (bytes.size() > limit)
        text += QStringLiteral("… (%1 bytes)").arg(bytes.size());
    return text;
}

/// Any JSON value (not only objects and arrays), or nullopt with the parser's complaint.
std::optional<QJsonValue> parseJsonValue(const QByteArray &bytes, QString *why) {
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson("[" + bytes + "]", &error);
    if (error.error == QJsonParseError::NoError && document.isArray() &&
        document.array().size() == 1)
        return document.array().first();
    if (why) {
        *why = error.error == QJsonParseError::NoError ? QStringLiteral("more than one JSON value")
                                                       : QStringLiteral("%1 at byte %2")
                                                             .arg(error.errorString())
                                                             .arg(std::max(0, error.offset - 1));
    }
    return std::nullopt;
}

QByteArray serializedScalar(const QJsonValue &value) {
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.mid(1, wrapped.size() - 2);
}

bool claimsJson(const QByteArray &contentType) {
    const QByteArray mediaType = contentType.split(';').first().trimmed().toLower();
    return mediaType == "application/json" || mediaType.endsWith("+json");
}

bool isToken(const QByteArray &text) {
    if (text.isEmpty())
        return false;
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
        if (!ok)
            return false;
    }
    return true;
}

bool isTransientStatus(int status) {
    return status >= 500 || status == 408 || status == 429;
}

QString networkFailureText(QNetworkReply::NetworkError error, const QString &qtText) {
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection refused");
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("the server closed the connection before the response was complete");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host not found");
    case QNetworkReply::TimeoutError:
        return QStringLiteral("network timeout");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("TLS handshake failed (%1)").arg(qtText);
    case QNetworkReply::TooManyRedirectsError:
        return QStringLiteral("too many redirects");
    case QNetworkReply::InsecureRedirectError:
        return QStringLiteral("refused a redirect to a less safe URL (%1)").arg(qtText);
    default:
        return qtText;
    }
}

ErrorClass networkFailureClass(QNetworkReply::NetworkError error) {
    switch (error) {
    case QNetworkReply::SslHandshakeFailedError: // retrying does not fix a certificate
    case QNetworkReply::TooManyRedirectsError:
    case QNetworkReply::InsecureRedirectError:
    case QNetworkReply::ProtocolUnknownError:
    case QNetworkReply::ProtocolInvalidOperationError:
    case QNetworkReply::ProxyAuthenticationRequiredError:
        return ErrorClass::Permanent;
    case QNetworkReply::ProtocolFailure:
        return ErrorClass::Garbage; // a malformed HTTP response
    default:
        return ErrorClass::Transient; // refused, reset, host not found, timeouts, proxy trouble
    }
}

std::optional<QDateTime> parseHttpDate(const QByteArray &value) {
    QString text = QString::fromLatin1(value).simplified();
    // The weekday adds nothing and a wrong one would make Qt refuse the date: drop it.
    const qsizetype comma = text.indexOf(QLatin1Char(','));
    const bool asctime = comma < 0;
    text = asctime ? text.section(QLatin1Char(' '), 1) : text.mid(comma + 1).trimmed();
    // IMF-fixdate, then the obsolete RFC 850 and asctime forms (RFC 9110, 5.6.7).
    const QStringList formats = asctime ? QStringList{QStringLiteral("MMM d hh:mm:ss yyyy")}
                                        : QStringList{QStringLiteral("dd MMM yyyy hh:mm:ss 'GMT'"),
                                                      QStringLiteral("dd-MMM-yy hh:mm:ss 'GMT'")};
    for (const QString &format : formats) {
        QDateTime parsed = QLocale::c().toDateTime(text, format);
        if (parsed.isValid()) {
            if (parsed.date().year() < 1970)
                parsed = parsed.addYears(100); // two-digit years of RFC 850
            parsed.setTimeZone(QTimeZone::utc());
            return parsed;
        }
    }
    return std::nullopt;
}

/// The response headers by lowercased name; repeated headers joined with ", ".
QJsonObject headersOf(const QNetworkReply &reply) {
    QJsonObject headers;
    for (const auto &[name, value] : reply.rawHeaderPairs()) {
        const QString key = QString::fromLatin1(name).toLower();
        const QString text = QString::fromUtf8(value);
        const QString previous = headers.value(key).toString();
        headers.insert(key, previous.isEmpty() ? text : previous + QStringLiteral(", ") + text);
    }
    return headers;
}

/// with.expect: the statuses that succeed; empty for the default (any 2xx).
Result<QList<int>> expectedStatuses(const QJsonObject &in) {
    QList<int> expect;
    const QJsonValue expectValue = in.value(QLatin1String("expect"));
    if (!expectValue.isUndefined() && !expectValue.isNull()) {
        if (!expectValue.isArray())
            return Status::error(QStringLiteral("with.expect must be an array of statuses"));
        for (const QJsonValue &status : expectValue.toArray()) {
            const int code = status.toInt(-1);
            if (code < 100 || code > 599)
                return Status::error(QStringLiteral("with.expect holds %1, not an HTTP status")
                                         .arg(templateText(status)));
            expect.append(code);
        }
    }
    return expect;
}

Result<qint64> maxResponseBytes(const QJsonObject &in) {
    qint64 maxBytes = HttpStep::kDefaultMaxResponseBytes;
    if (const QJsonValue limit = in.value(QLatin1String("max_response_bytes")); limit.isDouble()) {
        // Checked before converting: 1e300 cast to an integer is undefined (it came out negative).
        const auto bytes = integerInRange(limit.toDouble(), 1, kMaxResponseBytes);
        if (!bytes)
            return Status::error(QStringLiteral("with.max_response_bytes must be an integer "
                                                "between 1 and %1, not %2")
                                     .arg(kMaxResponseBytes)
                                     .arg(templateText(limit)));
        maxBytes = *bytes;
    }
    return maxBytes;
}

/// with.headers, then the idempotency key header; *hasContentType tells whether headers set
/// Content-Type.
Status setHeaders(const QJsonObject &in, const QString &idempotencyKey,
                  QNetworkRequest &networkRequest, bool *hasContentType) {
    const QJsonObject headers = in.value(QLatin1String("headers")).toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        const QByteArray name = it.key().toLatin1();
        const QByteArray value = templateText(it.value()).toUtf8();
        if (!isToken(name))
            return Status::error(
                QStringLiteral("header name %1 is not valid").arg(quotedForMessage(it.key())));
        // A value rendered from a template must not smuggle in further headers.
        if (value.contains('\r') || value.contains('\n') || value.contains('\0'))
            return Status::error(QStringLiteral("header %1 contains a line break: %2")
                                     .arg(escapeControlCharacters(it.key()),
                                          quotedForMessage(QString::fromUtf8(value))));
        networkRequest.setRawHeader(name, value);
        *hasContentType = *hasContentType || name.compare("content-type", Qt::CaseInsensitive) == 0;
    }
    const QString keyHeader =
        in.value(QLatin1String("idempotency_header")).toString(QStringLiteral("Idempotency-Key"));
    if (!keyHeader.isEmpty() && !idempotencyKey.isEmpty()) {
        if (!isToken(keyHeader.toLatin1()))
            return Status::error(QStringLiteral("with.idempotency_header %1 is not a header name")
                                     .arg(quotedForMessage(keyHeader)));
        networkRequest.setRawHeader(keyHeader.toLatin1(), idempotencyKey.toUtf8());
    }
    return Status::ok();
}

/// with.body as bytes in *payload, with a Content-Type unless the headers set one; false when
/// there is no body.
bool setPayload(const QJsonValue &body, bool hasContentType, QNetworkRequest &networkRequest,
                QByteArray *payload) {
    if (body.isObject() || body.isArray()) {
        *payload = body.isObject() ? QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact)
                                   : QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact);
        if (!hasContentType)
            networkRequest.setRawHeader("Content-Type", "application/json");
    } else if (body.isString()) {
        *payload = body.toString().toUtf8();
        if (!hasContentType)
            networkRequest.setRawHeader("Content-Type", "text/plain; charset=utf-8");
    } else if (body.isDouble() || body.isBool()) {
        *payload = serializedScalar(body);
        if (!hasContentType)
            networkRequest.setRawHeader("Content-Type", "application/json");
    } else {
        return false;
    }
    return true;
}

QNetworkReply *sendRequest(QNetworkAccessManager &manager, const QString &method,
                           const QNetworkRequest &networkRequest, const QByteArray &payload,
                           bool hasPayload) {
    if (method == QLatin1String("GET") && !hasPayload)
        return manager.get(networkRequest);
    if (method == QLatin1String("HEAD") && !hasPayload)
        return manager.head(networkRequest);
    if (method == QLatin1String("POST"))
        return manager.post(networkRequest, payload);
    if (method == QLatin1String("PUT"))
        return manager.put(networkRequest, payload);
    if (method == QLatin1String("DELETE") && !hasPayload)
        return manager.deleteResource(networkRequest);
    return manager.sendCustomRequest(networkRequest, method.toLatin1(), payload);
}

class HttpExecution final : public Execution {
public:
    HttpExecution(std::weak_ptr<HttpStep::Pool> pool, std::shared_ptr<HttpStep::Manager> manager,
                  const Clock &clock, CompletionCallback done, QString what, QList<int> expect,
                  qint64 maxBytes)
        : m_pool(std::move(pool))
        , m_manager(std::move(manager))
        , m_clock(clock)
        , m_done(std::move(done))
        , m_what(std::move(what))
        , m_expect(std::move(expect))
        , m_maxBytes(maxBytes) {}

    ~HttpExecution() override { cancel(); }

    void setUncertainOnLostResponse(bool uncertain) { m_uncertainOnLostResponse = uncertain; }

    void cancel() override {
        m_done = nullptr;
        dropReply();
    }

    void attach(QNetworkReply *reply) {
        m_reply = reply;
        QObject::connect(reply, &QNetworkReply::metaDataChanged, reply,
                         [this] { guarded([this] { onMetaData(); }); });
        QObject::connect(reply, &QNetworkReply::readyRead, reply,
                         [this] { guarded([this] { onReadyRead(); }); });
        QObject::connect(reply, &QNetworkReply::finished, reply,
                         [this] { guarded([this] { onFinished(); }); });
    }

private:
    /// Exceptions must not cross Qt's signal delivery: they end the attempt instead.
    template <typename F> void guarded(F &&body) {
        try {
            body();
        } catch (const std::exception &error) {
            fail(ErrorClass::Transient,
                 QStringLiteral("internal error: %1").arg(QString::fromUtf8(error.what())));
        } catch (...) {
            fail(ErrorClass::Transient, QStringLiteral("internal error"));
        }
    }

    void onMetaData() {
        if (!m_reply)
            return;
        const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
        if (length.isValid() && length.toLongLong() > m_maxBytes)
            failTooLarge(
                QStringLiteral("the response announces %1 bytes").arg(length.toLongLong()));
    }

    void onReadyRead() {
        if (!m_reply)
            return;
        m_body += m_reply->read(m_maxBytes + 1 - m_body.size());
        if (m_body.size() > m_maxBytes)
            failTooLarge(QStringLiteral("more than %1 bytes arrived").arg(m_maxBytes));
    }

    void failTooLarge(const QString &how) {
        fail(ErrorClass::Transient,
             QStringLiteral("%1: response too large: %2, over max_response_bytes (%3); download "
                            "aborted")
                 .arg(m_what, how)
                 .arg(m_maxBytes));
    }

    void onFinished() {
        if (!m_reply)
            return;
        onReadyRead();
        if (!m_reply)
            return; // over the limit
        QNetworkReply *reply = m_reply;
        const QNetworkReply::NetworkError error = reply->error();
        const QVariant statusValue = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        const int status = statusValue.isValid() ? statusValue.toInt() : 0;

        // Network-level failures (1-199) win over a status: the response did not arrive whole.
        const bool networkFailure =
            (error > QNetworkReply::NoError && error < QNetworkReply::ContentAccessDenied) ||
            (status <= 0 && error != QNetworkReply::NoError);
        if (networkFailure) {
            failNetwork(error, reply->errorString(), status);
            return;
        }
        if (status <= 0) {
            fail(ErrorClass::Garbage,
                 QStringLiteral("%1: the response has no HTTP status").arg(m_what));
            return;
        }

        const QString phrase =
            reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        const QString statusText = phrase.isEmpty()
                                       ? QStringLiteral("HTTP %1").arg(status)
                                       : QStringLiteral("HTTP %1 %2").arg(status).arg(phrase);
        const bool expected =
            m_expect.isEmpty() ? (status >= 200 && status < 300) : m_expect.contains(status);
        if (!expected) {
            failUnexpectedStatus(*reply, status, statusText);
            return;
        }
        finishWithResponse(*reply, status, statusText);
    }

    /// The response did not arrive whole (refused, reset, timed out, TLS...).
    void failNetwork(QNetworkReply::NetworkError error, const QString &qtText, int status) {
        QString why = networkFailureText(error, qtText);
        if (status > 0)
            why += QStringLiteral(" (HTTP %1 after %2 bytes)").arg(status).arg(m_body.size());
        const bool lostAfterSending = error == QNetworkReply::RemoteHostClosedError ||
                                      error == QNetworkReply::TimeoutError ||
                                      error == QNetworkReply::UnknownNetworkError;
        if (m_uncertainOnLostResponse && lostAfterSending) {
            fail(ErrorClass::Uncertain,
                 QStringLiteral("%1: %2; the request may have taken effect").arg(m_what, why));
            return;
        }
        fail(networkFailureClass(error), QStringLiteral("%1: %2").arg(m_what, why));
    }

    /// A whole response whose status is not among the expected ones.
    void failUnexpectedStatus(const QNetworkReply &reply, int status, const QString &statusText) {
        const bool transient = isTransientStatus(status);
        QString why = QStringLiteral("%1: %2").arg(m_what, statusText);
        if (!m_expect.isEmpty() && status >= 200 && status < 300) {
            QStringList statuses;
            for (int s : m_expect)
                statuses << QString::number(s);
            why += QStringLiteral(", not one of the expected statuses [%1]")
                       .arg(statuses.join(QLatin1String(", ")));
        }
        if (!m_body.isEmpty())
            why += QStringLiteral("; body ") + quotedBytes(m_body, kQuotedErrorBody);
        AttemptResult result =
            AttemptResult::failure(transient ? ErrorClass::Transient : ErrorClass::Permanent, why);
        result.errorDetail = QString::number(status);
        if (transient && reply.hasRawHeader("retry-after")) {
            // A date is measured against the server's own Date when it sends one, so that
            // clock skew does not matter; otherwise against the engine's clock.
            const auto serverDate = parseHttpDate(reply.rawHeader("date"));
            const qint64 now = serverDate ? serverDate->toMSecsSinceEpoch() : m_clock.nowMs();
            result.retryAfterMs = retryAfterMs(reply.rawHeader("retry-after"), now);
        }
        finish(std::move(result));
    }

    /// An expected status: the output, unless the body claims JSON and is not (garbage).
    void finishWithResponse(const QNetworkReply &reply, int status, const QString &statusText) {
        const QByteArray contentType = reply.rawHeader("content-type");
        QJsonValue body;
        if (m_body.isEmpty()) {
            body = QString();
        } else if (claimsJson(contentType)) {
            QString why;
            const auto parsed = parseJsonValue(m_body, &why);
            if (!parsed) {
                AttemptResult result = AttemptResult::failure(
                    ErrorClass::Garbage,
                    QStringLiteral("%1: %2 with Content-Type %3 but the body is not JSON (%4); "
                                   "first bytes %5")
                        .arg(m_what, statusText, QString::fromLatin1(contentType), why,
                             quotedBytes(m_body, kQuotedBytes)));
                result.errorDetail = QString::number(status);
                finish(std::move(result));
                return;
            }
            body = *parsed;
        } else if (auto parsed = parseJsonValue(m_body, nullptr)) {
            body = *parsed;
        } else {
            body = QString::fromUtf8(m_body);
        }
        finish(AttemptResult::success(QJsonObject{{QStringLiteral("status"), status},
                                                  {QStringLiteral("headers"), headersOf(reply)},
                                                  {QStringLiteral("body"), body}}));
    }

    void fail(ErrorClass errorClass, QString why) {
        finish(AttemptResult::failure(errorClass, std::move(why)));
    }

    /// Disconnects first so that abort() cannot re-enter; the reply goes at the next loop turn.
    void dropReply() {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        if (reply) {
            reply->disconnect();
            if (reply->isRunning()) {
                reply->abort();
                // Its connection stays open and busy (see the header): the manager must go.
                if (auto pool = m_pool.lock())
                    pool->retire(m_manager);
            }
            reply->deleteLater();
        }
        m_manager.reset();
    }

    void finish(AttemptResult result) {
        dropReply();
        m_body.clear();
        // Last: done may destroy this execution.
        if (auto done = std::exchange(m_done, nullptr))
            done(std::move(result));
    }

    std::weak_ptr<HttpStep::Pool> m_pool;
    std::shared_ptr<HttpStep::Manager> m_manager;
    const Clock &m_clock;
    CompletionCallback m_done;
    QString m_what; ///< "METHOD URL", the prefix of every failure
    QList<int> m_expect;
    qint64 m_maxBytes;
    QPointer<QNetworkReply> m_reply;
    QByteArray m_body;
    bool m_uncertainOnLostResponse = false;
};

} // namespace

qint64 retryAfterMs(const QByteArray &value, qint64 nowMs) {
    const QByteArray trimmed = value.trimmed();
    bool isNumber = false;
    const qint64 seconds = trimmed.toLongLong(&isNumber);
    if (isNumber) {
        if (seconds < 0)
            return -1;
        constexpr qint64 kMaxSeconds = std::numeric_limits<qint64>::max() / 1000;
        return std::min(seconds, kMaxSeconds) * 1000;
    }
    const auto date = parseHttpDate(trimmed);
    if (!date)
        return -1;
    return std::max<qint64>(0, date->toMSecsSinceEpoch() - nowMs);
}

HttpStep::HttpStep(int managers)
    : m_pool(std::make_shared<Pool>(managers)) {}

HttpStep::~HttpStep() {
    for (const std::shared_ptr<Manager> &slot : m_pool->managers) {
        // Unused by any attempt and in this thread: delete now rather than at a later loop turn.
        if (slot && slot.use_count() == 1 && slot->manager &&
            slot->manager->thread() == QThread::currentThread())
            delete slot->manager.data();
    }
}

StepKind::InputRendering HttpStep::renderingOf(const QString &withKey) const {
    return withKey == QLatin1String("url") ? InputRendering::Url : InputRendering::Values;
}

std::unique_ptr<Execution> HttpStep::start(const AttemptRequest &request, StepContext &context,
                                           CompletionCallback done) {
    // Nothing calls done before a throw could happen, so the copy runs at most once.
    const CompletionCallback onError = done;
    auto internalError = [&onError](const QString &why) {
        onError(AttemptResult::failure(ErrorClass::Transient,
                                       QStringLiteral("http: internal error: %1").arg(why)));
        return nullptr;
    };
    try {
        return startRequest(request, context, std::move(done));
    } catch (const std::exception &error) {
        return internalError(QString::fromUtf8(error.what()));
    } catch (...) {
        return internalError(QStringLiteral("unknown exception"));
    }
}

std::unique_ptr<Execution> HttpStep::startRequest(const AttemptRequest &request,
                                                  StepContext &context, CompletionCallback done) {
    const QJsonObject &in = request.input;
    const QString method =
        in.value(QLatin1String("method")).toString(QStringLiteral("GET")).trimmed().toUpper();
    const QString urlText = in.value(QLatin1String("url")).toString();
    const QString what = QStringLiteral("%1 %2").arg(escapeControlCharacters(method),
                                                     escapeControlCharacters(urlText));
    auto refuse = [&done, &what](const QString &why) {
        done(
            AttemptResult::failure(ErrorClass::Permanent, QStringLiteral("%1: %2").arg(what, why)));
        return nullptr;
    };

    if (urlText.isEmpty())
        return refuse(QStringLiteral("with.url is required"));
    const QUrl url(urlText, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return refuse(QStringLiteral("with.url must be an http:// or https:// URL"));
    if (!isToken(method.toLatin1()))
        return refuse(QStringLiteral("with.method is not an HTTP method"));

    const Result<QList<int>> expect = expectedStatuses(in);
    if (!expect)
        return refuse(expect.error());
    const Result<qint64> maxBytes = maxResponseBytes(in);
    if (!maxBytes)
        return refuse(maxBytes.error());

    QNetworkRequest networkRequest(url);
    networkRequest.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                                QNetworkRequest::NoLessSafeRedirectPolicy);
    networkRequest.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Keepflow"));
    bool hasContentType = false;
    if (const Status headers =
            setHeaders(in, request.idempotencyKey, networkRequest, &hasContentType);
        !headers)
        return refuse(headers.message());
    QByteArray payload;
    const bool hasPayload =
        setPayload(in.value(QLatin1String("body")), hasContentType, networkRequest, &payload);

    std::shared_ptr<Manager> pooled = m_pool->acquire();
    if (!pooled) {
        done(AttemptResult::failure(
            ErrorClass::Permanent,
            QStringLiteral("%1: the http action was started from a second thread").arg(what)));
        return nullptr;
    }
    QNetworkAccessManager *manager = pooled->manager;
    auto execution = std::make_unique<HttpExecution>(m_pool, pooled, context.clock(),
                                                     std::move(done), what, *expect, *maxBytes);
    // A request that may change something, for a step that cannot be repeated safely: when the
    // connection dies after it was sent, nobody knows whether it took effect.
    const bool safeMethod = method == QLatin1String("GET") || method == QLatin1String("HEAD") ||
                            method == QLatin1String("OPTIONS");
    execution->setUncertainOnLostResponse(
        !safeMethod && request.step && request.step->effectiveIdempotency() == Idempotency::None);
    QNetworkReply *reply = sendRequest(*manager, method, networkRequest, payload, hasPayload);
    execution->attach(reply);
    return execution;
}

} // namespace keepflow
