#include "httptestserver.h"

#include <QLocale>
#include <QMutexLocker>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimeZone>
#include <QTimer>

namespace keepflow::test {

namespace {

QByteArray reasonPhrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

bool hasEffect(const QByteArray &method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

} // namespace

QByteArray httpDate(const QDateTime &time) {
    return QLocale::c()
               .toString(time.toTimeZone(QTimeZone::utc()),
                         QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
               .toLatin1() +
           " GMT";
}

HttpTestServer::HttpTestServer(QObject *parent)
    : QObject(parent)
    , m_server(new QTcpServer(this)) {
    connect(m_server, &QTcpServer::newConnection, this, &HttpTestServer::onNewConnection);
}

HttpTestServer::~HttpTestServer() {
    const QList<QTcpSocket *> sockets = m_connections.keys();
    m_connections.clear();
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
    }
}

bool HttpTestServer::listen() {
    if (!m_server->listen(QHostAddress::LocalHost, 0))
        return false;
    m_port = m_server->serverPort();
    return true;
}

QString HttpTestServer::url(const QString &path) const {
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path);
}

void HttpTestServer::setRoute(const QString &path, const Route &route) {
    QMutexLocker lock(&m_mutex);
    m_routes.insert(path, route);
    m_random.insert(path, std::mt19937(route.seed));
}

void HttpTestServer::reset() {
    QMutexLocker lock(&m_mutex);
    m_routes.clear();
    m_random.clear();
    m_calls.clear();
    m_requests.clear();
    m_effects.clear();
    m_appliedKeys.clear();
    m_hung = 0;
}

void HttpTestServer::releaseHung() {
    QMetaObject::invokeMethod(this, [this] {
        QList<QTcpSocket *> hung;
        for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
            if (it->hung)
                hung << it.key();
        }
        for (QTcpSocket *socket : hung)
            socket->abort();
    });
}

int HttpTestServer::calls(const QString &path) const {
    QMutexLocker lock(&m_mutex);
    return m_calls.value(path);
}

QList<HttpTestServer::Request> HttpTestServer::requests(const QString &path) const {
    QMutexLocker lock(&m_mutex);
    return m_requests.value(path);
}

int HttpTestServer::effects(const QString &path) const {
    QMutexLocker lock(&m_mutex);
    return m_effects.value(path);
}

int HttpTestServer::effectsForKey(const QByteArray &key) const {
    QMutexLocker lock(&m_mutex);
    return m_appliedKeys.contains(key) ? 1 : 0;
}

QList<QByteArray> HttpTestServer::keys(const QString &path) const {
    QMutexLocker lock(&m_mutex);
    QList<QByteArray> keys;
    for (const Request &request : m_requests.value(path))
        keys << request.header("idempotency-key");
    return keys;
}

int HttpTestServer::openConnections() const {
    QMutexLocker lock(&m_mutex);
    return m_open;
}

int HttpTestServer::hungCalls() const {
    QMutexLocker lock(&m_mutex);
    return m_hung;
}

void HttpTestServer::onNewConnection() {
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        m_connections.insert(socket, Connection{});
        {
            QMutexLocker lock(&m_mutex);
            ++m_open;
        }
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this,
                [this, socket] { onDisconnected(socket); });
    }
}

void HttpTestServer::onDisconnected(QTcpSocket *socket) {
    if (m_connections.remove(socket)) {
        QMutexLocker lock(&m_mutex);
        --m_open;
    }
    socket->deleteLater();
}

void HttpTestServer::onReadyRead(QTcpSocket *socket) {
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    if (it->hung) {
        socket->readAll();
        return;
    }
    it->buffer += socket->readAll();
    for (;;) {
        it = m_connections.find(socket);
        if (it == m_connections.end())
            return;
        QByteArray &buffer = it->buffer;
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return;
        const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
        const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
        Request request;
        request.method = requestLine.value(0);
        request.target = requestLine.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                request.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                       lines[i].mid(colon + 1).trimmed());
        }
        const qsizetype length = request.header("content-length").toLongLong();
        if (buffer.size() < headEnd + 4 + length)
            return;
        request.body = buffer.mid(headEnd + 4, length);
        buffer.remove(0, headEnd + 4 + length);
        if (!handle(socket, std::move(request)))
            return;
    }
}

bool HttpTestServer::handle(QTcpSocket *socket, Request request) {
    const QString path = QString::fromUtf8(request.target.split('?').first());
    const QByteArray key = request.header("idempotency-key");
    Route route;
    bool faulty = false;
    bool failing = false;
    {
        QMutexLocker lock(&m_mutex);
        const int call = ++m_calls[path];
        m_requests[path].append(request);
        if (auto found = m_routes.constFind(path); found != m_routes.constEnd()) {
            route = *found;
        } else {
            route.status = 404;
            route.body = R"({"error":"no route"})";
        }
        faulty = route.fault != Fault::None && (route.faultCalls < 0 || call <= route.faultCalls);
        if (!faulty) {
            failing = call <= route.failFirst;
            if (!failing && route.failRate > 0) {
                std::uniform_real_distribution<double> unit(0.0, 1.0);
                failing = unit(m_random[path]) < route.failRate;
            }
        }
        const bool applies = hasEffect(request.method) &&
                             ((faulty && (route.fault == Fault::ResetAfterEffect ||
                                          route.fault == Fault::Garbage)) ||
                              (!faulty && !failing && route.status >= 200 && route.status < 300));
        if (applies && (key.isEmpty() || !m_appliedKeys.contains(key))) {
            if (!key.isEmpty())
                m_appliedKeys.insert(key);
            ++m_effects[path];
        }
        if (faulty && route.fault == Fault::Hang)
            ++m_hung;
    }
    // Socket work happens unlocked: abort() emits disconnected() at once.
    if (faulty) {
        switch (route.fault) {
        case Fault::Hang:
            m_connections[socket].hung = true;
            return false;
        case Fault::ResetBeforeEffect:
        case Fault::ResetAfterEffect:
            socket->abort();
            return false;
        case Fault::Garbage:
            respond(socket, request, 200, "application/json",
                    QByteArray("\x8f\x00<html>oops</html>", 19), {}, false);
            return m_connections.contains(socket);
        case Fault::None:
            break;
        }
    }
    auto answer = [this, socket, request, route, failing] {
        if (failing) {
            QList<std::pair<QByteArray, QByteArray>> headers;
            if (!route.retryAfter.isEmpty())
                headers.append({"Retry-After", route.retryAfter});
            respond(socket, request, route.failStatus, "application/json",
                    R"({"error":"injected failure"})", headers, false);
        } else {
            respond(socket, request, route.status, route.contentType, route.body, route.headers,
                    route.closeDelimited);
        }
    };
    if (route.latencyMs > 0) {
        QTimer::singleShot(route.latencyMs, socket, answer); // dropped if the socket goes first
        return true;
    }
    answer();
    return m_connections.contains(socket);
}

void HttpTestServer::respond(QTcpSocket *socket, const Request &request, int status,
                             const QByteArray &contentType, const QByteArray &body,
                             const QList<std::pair<QByteArray, QByteArray>> &headers,
                             bool closeDelimited) {
    const bool close =
        closeDelimited || request.header("connection").compare("close", Qt::CaseInsensitive) == 0;
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
                          "\r\nDate: " + httpDate(QDateTime::currentDateTimeUtc()) + "\r\n";
    if (!contentType.isEmpty())
        response += "Content-Type: " + contentType + "\r\n";
    if (!closeDelimited)
        response += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    response += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    for (const auto &[name, value] : headers)
        response += name + ": " + value + "\r\n";
    response += "\r\n";
    if (request.method != "HEAD")
        response += body;
    socket->write(response);
    if (close)
        socket->disconnectFromHost();
}

HttpTestServerThread::HttpTestServerThread()
    : m_server(new HttpTestServer) {
    m_server->moveToThread(&m_thread);
    m_thread.start();
    QMetaObject::invokeMethod(
        m_server, [this] { m_server->listen(); }, Qt::BlockingQueuedConnection);
}

HttpTestServerThread::~HttpTestServerThread() {
    QMetaObject::invokeMethod(
        m_server, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

} // namespace keepflow::test
