#pragma once

// A loopback HTTP/1.1 server for tests and benchmarks: keep-alive, Content-Length bodies, and
// per-path behaviour (statuses, failures, Retry-After, hangs, connection resets, garbage). It
// counts calls per path and applied effects per idempotency key, so that a test can assert that
// retries applied each logical effect once.

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMap>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>
#include <random>
#include <utility>

class QTcpServer;
class QTcpSocket;

namespace keepflow::test {

/// Listens on 127.0.0.1 at an ephemeral port. Sockets live in the server's thread; the setters
/// and counters are thread-safe, so a server running in another thread (HttpTestServerThread) can
/// be configured and inspected from the test's thread.
class HttpTestServer : public QObject {
    Q_OBJECT
public:
    enum class Fault {
        None,
        Hang,              ///< read the request, never answer (until releaseHung())
        ResetBeforeEffect, ///< abort the connection without applying the effect
        ResetAfterEffect,  ///< apply the effect, then abort the connection without answering
        Garbage,           ///< apply the effect, answer 200 with bytes that are not JSON
    };

    /// What a path answers. The effect of a call (anything but GET, HEAD and OPTIONS) is applied
    /// once per Idempotency-Key: a later call with the same key answers without applying again.
    struct Route {
        int status = 200;
        QByteArray body = R"({"ok":true})";
        QByteArray contentType = "application/json";
        QList<std::pair<QByteArray, QByteArray>> headers;
        /// No Content-Length: the body ends when the connection closes.
        bool closeDelimited = false;
        int latencyMs = 0;   ///< answers (and failures) are sent this much later
        int failFirst = 0;   ///< the first failFirst calls answer failStatus, no effect
        double failRate = 0; ///< later calls fail with this probability (seeded)
        quint32 seed = 1;
        int failStatus = 503;
        QByteArray retryAfter; ///< sent as Retry-After with failures when not empty
        Fault fault = Fault::None;
        int faultCalls = -1; ///< the fault hits only the first faultCalls calls; -1: every call
    };

    struct Request {
        QByteArray method;
        QByteArray target;                    ///< path and query
        QMap<QByteArray, QByteArray> headers; ///< lowercased names
        QByteArray body;
        QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
    };

    explicit HttpTestServer(QObject *parent = nullptr);
    ~HttpTestServer() override;

    /// Must be called in the thread the server lives in.
    bool listen();
    quint16 port() const { return m_port.load(); }
    QString url(const QString &path) const;

    void setRoute(const QString &path, const Route &route);
    /// Forgets routes, counters, recorded requests and effects.
    void reset();
    /// Aborts the connections of hung calls.
    void releaseHung();

    int calls(const QString &path) const;
    QList<Request> requests(const QString &path) const;
    /// Effects applied on path (every call without a key counts, a key counts once).
    int effects(const QString &path) const;
    /// Effects applied for idempotency key (0 or 1).
    int effectsForKey(const QByteArray &key) const;
    /// The Idempotency-Key of every call on path, in order (empty when absent).
    QList<QByteArray> keys(const QString &path) const;
    int openConnections() const;
    int hungCalls() const;

private:
    struct Connection {
        QByteArray buffer;
        bool hung = false;
    };

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void onDisconnected(QTcpSocket *socket);
    /// Answers one parsed request; false when the connection is gone or hung.
    bool handle(QTcpSocket *socket, Request request);
    void respond(QTcpSocket *socket, const Request &request, int status,
                 const QByteArray &contentType, const QByteArray &body,
                 const QList<std::pair<QByteArray, QByteArray>> &headers, bool closeDelimited);

    QTcpServer *m_server;
    std::atomic<quint16> m_port{0};
    QHash<QTcpSocket *, Connection> m_connections; ///< server thread only

    mutable QMutex m_mutex; ///< guards everything below
    QHash<QString, Route> m_routes;
    QHash<QString, std::mt19937> m_random;
    QHash<QString, int> m_calls;
    QHash<QString, QList<Request>> m_requests;
    QHash<QString, int> m_effects;
    QSet<QByteArray> m_appliedKeys;
    int m_open = 0;
    int m_hung = 0;
};

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for Date and Retry-After headers.
QByteArray httpDate(const QDateTime &time);

/// A server with its own thread and event loop, so that a client and the server do not share
/// one event loop (benchmarks).
class HttpTestServerThread {
public:
    HttpTestServerThread();
    ~HttpTestServerThread();
    HttpTestServerThread(const HttpTestServerThread &) = delete;
    HttpTestServerThread &operator=(const HttpTestServerThread &) = delete;

    bool isListening() const { return m_server->port() != 0; }
    HttpTestServer &server() { return *m_server; }

private:
    QThread m_thread;
    HttpTestServer *m_server;
};

} // namespace keepflow::test
