// The http step kind: directly through the StepKind interface against a loopback server, and end
// to end through the engine with a manual clock (retries, idempotency keys, Retry-After,
// timeouts). Network waits poll the event loop; time never passes by sleeping.

#include "core/clock.h"
#include "harness.h"
#include "httptestserver.h"
#include "model/flowfile.h"
#include "runtime/engine.h"
#include "steps/httpstep.h"
#include "store/store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

#include <algorithm>
#include <map>
#include <memory>

using namespace keepflow;
using keepflow::test::HttpTestServer;

namespace {

/// The services an action sees, with a manual clock and callbacks the test fires by hand.
class TestContext final : public StepContext {
public:
    ManualClock manualClock;
    const Clock &clock() const override { return manualClock; }
    quint64 callAt(qint64 atMs, std::function<void()> callback) override {
        m_calls.emplace(++m_nextId, std::make_pair(atMs, std::move(callback)));
        return m_nextId;
    }
    void cancelCall(quint64 id) override { m_calls.erase(id); }

private:
    std::map<quint64, std::pair<qint64, std::function<void()>>> m_calls;
    quint64 m_nextId = 0;
};

const QString kKey = QStringLiteral("run-1:call");

AttemptRequest attemptRequest(const QJsonObject &input) {
    AttemptRequest request;
    request.runId = QStringLiteral("run-1");
    request.stepId = QStringLiteral("call");
    request.attempt = 1;
    request.idempotencyKey = kKey;
    request.input = input;
    return request;
}

/// Runs one attempt to its end (or 5 s of waiting for the network).
std::optional<AttemptResult> perform(StepKind &action, const QJsonObject &input) {
    TestContext context;
    std::optional<AttemptResult> result;
    auto execution = action.start(attemptRequest(input), context,
                                  [&result](AttemptResult r) { result = std::move(r); });
    if (!QTest::qWaitFor([&result] { return result.has_value(); }, 5000))
        qWarning("the attempt did not finish within 5 s");
    return result;
}

QJsonObject object(const QByteArray &json) {
    return QJsonDocument::fromJson(json).object();
}

/// A flow with one keyed POST step "notify" to path; extra goes into the step.
QByteArray postStep(const HttpTestServer &server, const QString &path, const QByteArray &extra) {
    return flow(QStringLiteral(R"({ "id": "notify", "kind": "http", "idempotency": "keyed",
        "with": { "method": "POST", "url": "%1", "body": { "order": 7 } }%2 })")
                    .arg(server.url(path), QString::fromUtf8(extra))
                    .toUtf8());
}

} // namespace

class TestHttpStep : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void getParsesJsonBodyAndHeaders();
    void postSendsHeadersJsonBodyAndKey();
    void textBodyIsSentAsTextPlain();
    void notFoundIsPermanent();
    void expectedStatusSucceeds();
    void successOutsideExpectIsPermanent();
    void serverErrorIsTransientWithRetryAfter();
    void retryAfterAsHttpDate();
    void retryAfterParsing_data();
    void retryAfterParsing();
    void garbageJsonIsGarbage();
    void connectionRefusedIsTransient();
    void connectionResetIsTransient();
    void responseOverLimitIsAborted_data();
    void responseOverLimitIsAborted();
    void redirectIsFollowed();
    void invalidInputIsPermanentAtOnce_data();
    void invalidInputIsPermanentAtOnce();
    void cancelAbortsRequestAndNeverCompletes();
    void templateValuesAreEncodedForTheirPartOfTheUrl_data();
    void templateValuesAreEncodedForTheirPartOfTheUrl();
    void urlTemplateThatCannotBeEncodedFailsForGood_data();
    void urlTemplateThatCannotBeEncodedFailsForGood();

    void engineRetriesWithSameKeyAndAppliesOnce();
    void engineRetriesResetConnectionAndAppliesOnce();
    void engineHonoursRetryAfter();
    void engineDoesNotRetryNotFound();
    void engineNonRetryableStatusStopsRetries();
    void engineTimesOutHungRequest();
};

void TestHttpStep::getParsesJsonBodyAndHeaders() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.body = R"({"orders":[{"id":1},{"id":2}]})";
    route.headers = {{"X-Trace", "abc"}};
    server.setRoute(QStringLiteral("/orders"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/orders?day=1"))}});
    QVERIFY(result);
    QVERIFY2(result->succeeded, qPrintable(result->error));
    const QJsonObject output = result->output.toObject();
    QCOMPARE(output.value(QStringLiteral("status")).toInt(), 200);
    QCOMPARE(output.value(QStringLiteral("body"))
                 .toObject()
                 .value(QStringLiteral("orders"))
                 .toArray()
                 .size(),
             2);
    const QJsonObject headers = output.value(QStringLiteral("headers")).toObject();
    QCOMPARE(headers.value(QStringLiteral("x-trace")).toString(), QStringLiteral("abc"));
    QCOMPARE(headers.value(QStringLiteral("content-type")).toString(),
             QStringLiteral("application/json"));
    const auto requests = server.requests(QStringLiteral("/orders"));
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().method, QByteArray("GET"));
    QCOMPARE(requests.first().target, QByteArray("/orders?day=1"));
    QCOMPARE(server.effects(QStringLiteral("/orders")), 0); // a GET applies nothing
}

void TestHttpStep::postSendsHeadersJsonBodyAndKey() {
    HttpTestServer server;
    QVERIFY(server.listen());
    server.setRoute(QStringLiteral("/notify"), {});
    HttpStep action;
    QJsonObject input = object(R"({ "method": "post", "headers": { "X-Tenant": "acme" },
        "body": { "order": 7, "tags": ["a", null] } })");
    input.insert(QStringLiteral("url"), server.url(QStringLiteral("/notify")));
    auto result = perform(action, input);
    QVERIFY(result);
    QVERIFY2(result->succeeded, qPrintable(result->error));
    auto request = server.requests(QStringLiteral("/notify")).first();
    QCOMPARE(request.method, QByteArray("POST"));
    QCOMPARE(request.header("content-type"), QByteArray("application/json"));
    QCOMPARE(request.header("x-tenant"), QByteArray("acme"));
    QCOMPARE(request.header("idempotency-key"), kKey.toUtf8());
    QCOMPARE(QJsonDocument::fromJson(request.body).object(),
             object(R"({ "order": 7, "tags": ["a", null] })"));
    QCOMPARE(server.effectsForKey(kKey.toUtf8()), 1);

    // Another header name carries the key when asked to; an explicit content type is kept.
    input.insert(QStringLiteral("idempotency_header"), QStringLiteral("X-Request-Id"));
    input.insert(QStringLiteral("headers"), QJsonObject{{QStringLiteral("Content-Type"),
                                                         QStringLiteral("application/vnd+json")}});
    result = perform(action, input);
    QVERIFY(result && result->succeeded);
    request = server.requests(QStringLiteral("/notify")).last();
    QCOMPARE(request.header("x-request-id"), kKey.toUtf8());
    QVERIFY(request.header("idempotency-key").isEmpty());
    QCOMPARE(request.header("content-type"), QByteArray("application/vnd+json"));
}

void TestHttpStep::textBodyIsSentAsTextPlain() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.contentType = "text/plain";
    route.body = "plain words";
    server.setRoute(QStringLiteral("/echo"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("method"), QStringLiteral("PUT")},
                         {QStringLiteral("url"), server.url(QStringLiteral("/echo"))},
                         {QStringLiteral("body"), QStringLiteral("hello")}});
    QVERIFY(result && result->succeeded);
    const auto request = server.requests(QStringLiteral("/echo")).first();
    QCOMPARE(request.method, QByteArray("PUT"));
    QCOMPARE(request.body, QByteArray("hello"));
    QVERIFY(request.header("content-type").startsWith("text/plain"));
    QCOMPARE(result->output.toObject().value(QStringLiteral("body")).toString(),
             QStringLiteral("plain words"));
}

void TestHttpStep::notFoundIsPermanent() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.status = 404;
    route.body = R"({"error":"no such order"})";
    server.setRoute(QStringLiteral("/missing"), route);
    HttpStep action;
    const QString url = server.url(QStringLiteral("/missing"));
    const auto result = perform(
        action, {{QStringLiteral("method"), QStringLiteral("POST")}, {QStringLiteral("url"), url}});
    QVERIFY(result);
    QVERIFY(!result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Permanent);
    QCOMPARE(result->errorDetail, QStringLiteral("404"));
    QVERIFY2(result->error.startsWith(QStringLiteral("POST %1: HTTP 404 Not Found").arg(url)),
             qPrintable(result->error));
    QVERIFY2(result->error.contains(QStringLiteral("no such order")), qPrintable(result->error));
    QCOMPARE(server.effects(QStringLiteral("/missing")), 0);
}

void TestHttpStep::expectedStatusSucceeds() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.status = 404;
    route.body = R"({"error":"gone already"})";
    server.setRoute(QStringLiteral("/delete"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("method"), QStringLiteral("DELETE")},
                         {QStringLiteral("url"), server.url(QStringLiteral("/delete"))},
                         {QStringLiteral("expect"), QJsonArray{200, 204, 404}}});
    QVERIFY(result);
    QVERIFY2(result->succeeded, qPrintable(result->error));
    QCOMPARE(result->output.toObject().value(QStringLiteral("status")).toInt(), 404);
    QCOMPARE(server.requests(QStringLiteral("/delete")).first().method, QByteArray("DELETE"));
}

void TestHttpStep::successOutsideExpectIsPermanent() {
    HttpTestServer server;
    QVERIFY(server.listen());
    server.setRoute(QStringLiteral("/create"), {});
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("method"), QStringLiteral("POST")},
                         {QStringLiteral("url"), server.url(QStringLiteral("/create"))},
                         {QStringLiteral("expect"), QJsonArray{201}}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Permanent);
    QVERIFY2(result->error.contains(QStringLiteral("HTTP 200 OK, not one of the expected statuses "
                                                   "[201]")),
             qPrintable(result->error));
}

void TestHttpStep::serverErrorIsTransientWithRetryAfter() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.failFirst = 1;
    route.retryAfter = "7";
    server.setRoute(QStringLiteral("/busy"), route);
    HttpStep action;
    const QString url = server.url(QStringLiteral("/busy"));
    const auto result = perform(
        action, {{QStringLiteral("method"), QStringLiteral("POST")}, {QStringLiteral("url"), url}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Transient);
    QCOMPARE(result->errorDetail, QStringLiteral("503"));
    QCOMPARE(result->retryAfterMs, 7000);
    QVERIFY2(
        result->error.startsWith(QStringLiteral("POST %1: HTTP 503 Service Unavailable").arg(url)),
        qPrintable(result->error));
    QCOMPARE(server.effects(QStringLiteral("/busy")), 0);
}

void TestHttpStep::retryAfterAsHttpDate() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.failFirst = 1;
    route.failStatus = 429;
    // Measured against the server's Date header, not the (manual) clock of the engine.
    route.retryAfter = keepflow::test::httpDate(QDateTime::currentDateTimeUtc().addSecs(30));
    server.setRoute(QStringLiteral("/limited"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/limited"))}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Transient);
    QCOMPARE(result->errorDetail, QStringLiteral("429"));
    QVERIFY2(result->retryAfterMs >= 28'000 && result->retryAfterMs <= 31'000,
             qPrintable(QString::number(result->retryAfterMs)));
}

void TestHttpStep::retryAfterParsing_data() {
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("expected");
    // Relative to 2026-11-26 12:00:00 UTC (see retryAfterParsing).
    QTest::newRow("seconds") << QByteArray("120") << qint64(120'000);
    QTest::newRow("zero") << QByteArray(" 0 ") << qint64(0);
    QTest::newRow("imf-fixdate") << QByteArray("Thu, 26 Nov 2026 12:00:45 GMT") << qint64(45'000);
    QTest::newRow("rfc850") << QByteArray("Thursday, 26-Nov-26 12:01:00 GMT") << qint64(60'000);
    QTest::newRow("asctime") << QByteArray("Thu Nov 26 12:00:05 2026") << qint64(5'000);
    QTest::newRow("past date") << QByteArray("Thu, 26 Nov 2026 11:00:00 GMT") << qint64(0);
    QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
    QTest::newRow("nonsense") << QByteArray("soon") << qint64(-1);
}

void TestHttpStep::retryAfterParsing() {
    QFETCH(QByteArray, value);
    QFETCH(qint64, expected);
    const qint64 now =
        QDateTime(QDate(2026, 11, 26), QTime(12, 0), QTimeZone::utc()).toMSecsSinceEpoch();
    QCOMPARE(retryAfterMs(value, now), expected);
}

void TestHttpStep::garbageJsonIsGarbage() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.fault = HttpTestServer::Fault::Garbage;
    server.setRoute(QStringLiteral("/garbage"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/garbage"))}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Garbage);
    QVERIFY2(result->error.contains(QStringLiteral(R"("\x8f\x00<html>oops</html>")")),
             qPrintable(result->error));
    QVERIFY2(result->error.contains(QStringLiteral("not JSON")), qPrintable(result->error));
}

void TestHttpStep::connectionRefusedIsTransient() {
    quint16 port = 0;
    {
        QTcpServer probe; // a port that was free a moment ago and has nobody listening now
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    const QString url = QStringLiteral("http://127.0.0.1:%1/notify").arg(port);
    HttpStep action;
    const auto result = perform(
        action, {{QStringLiteral("method"), QStringLiteral("POST")}, {QStringLiteral("url"), url}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Transient);
    QCOMPARE(result->error, QStringLiteral("POST %1: connection refused").arg(url));
}

void TestHttpStep::connectionResetIsTransient() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.fault = HttpTestServer::Fault::ResetBeforeEffect;
    server.setRoute(QStringLiteral("/reset"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("method"), QStringLiteral("POST")},
                         {QStringLiteral("url"), server.url(QStringLiteral("/reset"))}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Transient);
    QVERIFY2(result->error.contains(QStringLiteral("closed the connection")),
             qPrintable(result->error));
    // Qt itself resends a request (even a POST) once or twice when the connection closes before
    // any response arrived; it is still one attempt, and it carries the same key.
    const QList<QByteArray> keys = server.keys(QStringLiteral("/reset"));
    QVERIFY2(keys.size() >= 1 && keys.size() <= 3, qPrintable(QString::number(keys.size())));
    for (const QByteArray &key : keys)
        QCOMPARE(key, kKey.toUtf8());
}

void TestHttpStep::responseOverLimitIsAborted_data() {
    QTest::addColumn<bool>("closeDelimited");
    QTest::newRow("announced by Content-Length") << false;
    QTest::newRow("streamed until close") << true;
}

void TestHttpStep::responseOverLimitIsAborted() {
    QFETCH(bool, closeDelimited);
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.body = "\"" + QByteArray(300'000, 'x') + "\"";
    route.closeDelimited = closeDelimited;
    server.setRoute(QStringLiteral("/big"), route);
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/big"))},
                         {QStringLiteral("max_response_bytes"), 1000}});
    QVERIFY(result && !result->succeeded);
    QCOMPARE(result->errorClass, ErrorClass::Transient);
    QVERIFY2(result->error.contains(QStringLiteral("over max_response_bytes (1000)")),
             qPrintable(result->error));
    QTRY_COMPARE(server.openConnections(), 0); // the download was aborted

    // Within the limit the same body is fine.
    const auto fits = perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/big"))},
                                       {QStringLiteral("max_response_bytes"), 400'000}});
    QVERIFY(fits);
    QVERIFY2(fits->succeeded, qPrintable(fits->error));
    QCOMPARE(fits->output.toObject().value(QStringLiteral("body")).toString().size(), 300'000);
}

void TestHttpStep::redirectIsFollowed() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route moved;
    moved.status = 302;
    moved.headers = {{"Location", server.url(QStringLiteral("/new")).toUtf8()}};
    server.setRoute(QStringLiteral("/old"), moved);
    server.setRoute(QStringLiteral("/new"), {});
    HttpStep action;
    const auto result =
        perform(action, {{QStringLiteral("url"), server.url(QStringLiteral("/old"))}});
    QVERIFY(result);
    QVERIFY2(result->succeeded, qPrintable(result->error));
    QCOMPARE(server.calls(QStringLiteral("/new")), 1);
}

void TestHttpStep::invalidInputIsPermanentAtOnce_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no url") << QByteArray(R"({ "method": "GET" })")
                            << QStringLiteral("with.url is required");
    QTest::newRow("not http") << QByteArray(R"({ "url": "ftp://example.com/x" })")
                              << QStringLiteral("must be an http:// or https:// URL");
    QTest::newRow("header injection")
        << QByteArray(R"({ "url": "http://127.0.0.1:1/", "headers": { "X-A": "1\r\nX-B: 2" } })")
        << QStringLiteral("header X-A contains a line break: \"1\\r\\nX-B: 2\"");
    QTest::newRow("bad expect") << QByteArray(
                                       R"({ "url": "http://127.0.0.1:1/", "expect": [2000] })")
                                << QStringLiteral("not an HTTP status");
}

void TestHttpStep::invalidInputIsPermanentAtOnce() {
    QFETCH(QByteArray, input);
    QFETCH(QString, reason);
    HttpStep action;
    TestContext context;
    std::optional<AttemptResult> result;
    auto execution = action.start(attemptRequest(object(input)), context,
                                  [&result](AttemptResult r) { result = std::move(r); });
    QVERIFY(result); // synchronously
    QCOMPARE(result->errorClass, ErrorClass::Permanent);
    QVERIFY2(result->error.contains(reason), qPrintable(result->error));
    // A refused value is quoted with its control characters escaped: it cannot forge log lines.
    QVERIFY2(!result->error.contains(QLatin1Char('\r')) &&
                 !result->error.contains(QLatin1Char('\n')),
             qPrintable(result->error));
}

void TestHttpStep::cancelAbortsRequestAndNeverCompletes() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.fault = HttpTestServer::Fault::Hang;
    server.setRoute(QStringLiteral("/hang"), route);
    HttpStep action;
    TestContext context;
    bool called = false;
    auto execution =
        action.start(attemptRequest({{QStringLiteral("method"), QStringLiteral("POST")},
                                     {QStringLiteral("url"), server.url(QStringLiteral("/hang"))}}),
                     context, [&called](AttemptResult) { called = true; });
    QVERIFY(execution);
    QTRY_COMPARE(server.hungCalls(), 1);
    QCOMPARE(server.openConnections(), 1);
    execution->cancel();
    QTRY_COMPARE(server.openConnections(), 0); // the connection was closed, not left open
    execution.reset();
    QTest::qWait(50); // turns of the event loop in which a late completion would show up
    QVERIFY(!called);
}

void TestHttpStep::engineRetriesWithSameKeyAndAppliesOnce() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.failFirst = 2;
    server.setRoute(QStringLiteral("/notify"), route);
    Harness h;
    const QString run = h.start(postStep(
        server, QStringLiteral("/notify"),
        R"(, "retry": { "max_attempts": 3, "initial_interval": "1s", "backoff": 2.0, "jitter": 0 })"));
    QVERIFY(!run.isEmpty());
    QVERIFY(h.settle());
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Retrying);
    QVERIFY2(h.step(run, QStringLiteral("notify")).error.contains(QStringLiteral("HTTP 503")),
             qPrintable(h.step(run, QStringLiteral("notify")).error));
    QVERIFY(h.advanceAndSettle(1000));
    QCOMPARE(h.step(run, QStringLiteral("notify")).attempts, 2);
    QVERIFY(h.advanceAndSettle(2000));
    const StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.attempts, 3);
    QCOMPARE(step.output.toObject().value(QStringLiteral("status")).toInt(), 200);

    const QList<QByteArray> keys = server.keys(QStringLiteral("/notify"));
    QCOMPARE(keys.size(), 3);
    const QByteArray key =
        h.attempts(run, QStringLiteral("notify")).first().idempotencyKey.toUtf8();
    QVERIFY(!key.isEmpty());
    QCOMPARE(keys, QList<QByteArray>({key, key, key}));
    QCOMPARE(server.effects(QStringLiteral("/notify")), 1);
    QCOMPARE(server.effectsForKey(key), 1);
}

void TestHttpStep::engineRetriesResetConnectionAndAppliesOnce() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.fault = HttpTestServer::Fault::ResetAfterEffect; // it happened, but nobody heard back
    server.setRoute(QStringLiteral("/charge"), route);
    Harness h;
    const QString run =
        h.start(postStep(server, QStringLiteral("/charge"),
                         R"(, "retry": { "initial_interval": "1s", "jitter": 0 })"));
    QVERIFY(h.settle());
    StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Retrying);
    QCOMPARE(step.errorClass, ErrorClass::Transient);
    QVERIFY2(step.error.contains(QStringLiteral("POST ") + server.url(QStringLiteral("/charge"))),
             qPrintable(step.error));
    QCOMPARE(server.effects(QStringLiteral("/charge")), 1);

    server.setRoute(QStringLiteral("/charge"), {}); // the network recovers
    QVERIFY(h.advanceAndSettle(1000));
    step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.attempts, 2);
    const QList<QByteArray> keys = server.keys(QStringLiteral("/charge"));
    QVERIFY(keys.size() >= 2); // Qt may resend within an attempt (see connectionResetIsTransient)
    for (const QByteArray &key : keys)
        QCOMPARE(key, keys.first());
    QCOMPARE(server.effects(QStringLiteral("/charge")), 1); // applied once for every call
}

void TestHttpStep::engineHonoursRetryAfter() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.failFirst = 1;
    route.failStatus = 429;
    route.retryAfter = "7";
    server.setRoute(QStringLiteral("/limited"), route);
    Harness h;
    const qint64 t0 = h.clock.nowMs();
    const QString run =
        h.start(postStep(server, QStringLiteral("/limited"),
                         R"(, "retry": { "initial_interval": "1s", "jitter": 0 })"));
    QVERIFY(h.settle());
    StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Retrying);
    QCOMPARE(step.notBefore, t0 + 7000); // not the 1 s backoff
    QVERIFY(h.advanceAndSettle(6999));
    QCOMPARE(h.step(run, QStringLiteral("notify")).attempts, 1);
    QVERIFY(h.advanceAndSettle(1));
    step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Succeeded);
    QCOMPARE(step.attempts, 2);
}

void TestHttpStep::engineDoesNotRetryNotFound() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.status = 404;
    server.setRoute(QStringLiteral("/missing"), route);
    Harness h;
    const QString run = h.start(postStep(server, QStringLiteral("/missing"), {}));
    QVERIFY(h.settle());
    const StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.errorClass, ErrorClass::Permanent);
    QVERIFY2(step.error.contains(QStringLiteral("HTTP 404 Not Found")), qPrintable(step.error));
    QCOMPARE(server.calls(QStringLiteral("/missing")), 1);
}

void TestHttpStep::engineNonRetryableStatusStopsRetries() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.failFirst = 9;
    server.setRoute(QStringLiteral("/busy"), route);
    Harness h;
    const QString run = h.start(
        postStep(server, QStringLiteral("/busy"), R"(, "retry": { "non_retryable": ["503"] })"));
    QVERIFY(h.settle());
    const StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.errorClass, ErrorClass::Transient);
}

void TestHttpStep::engineTimesOutHungRequest() {
    HttpTestServer server;
    QVERIFY(server.listen());
    HttpTestServer::Route route;
    route.fault = HttpTestServer::Fault::Hang;
    server.setRoute(QStringLiteral("/hang"), route);
    Harness h;
    const QString run = h.start(postStep(server, QStringLiteral("/hang"),
                                         R"(, "timeout": "2s", "retry": { "max_attempts": 1 })"));
    QTRY_COMPARE(server.hungCalls(), 1);
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Running);
    h.advance(1999);
    QCOMPARE(h.step(run, QStringLiteral("notify")).state, StepState::Running);
    h.advance(1);
    const StepRunRow step = h.step(run, QStringLiteral("notify"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.errorClass, ErrorClass::Timeout);
    QCOMPARE(h.attempts(run, QStringLiteral("notify")).first().outcome, AttemptOutcome::TimedOut);
    QTRY_COMPARE(server.openConnections(), 0); // the request was aborted, not left hanging
}

// A value lands in its part of the URL and stays there: it cannot add a query parameter, cut the
// URL with a fragment, or climb the path.
void TestHttpStep::templateValuesAreEncodedForTheirPartOfTheUrl_data() {
    QTest::addColumn<QString>("url");   ///< after the server's origin
    QTest::addColumn<QString>("value"); ///< of params.x
    QTest::addColumn<QString>("path");  ///< where the server sees the call
    QTest::addColumn<QByteArray>("target");

    QTest::newRow("query value") << QStringLiteral("/orders?date={{params.x}}&limit=1")
                                 << QStringLiteral("2026&admin=true#frag")
                                 << QStringLiteral("/orders")
                                 << QByteArray("/orders?date=2026%26admin%3Dtrue%23frag&limit=1");
    QTest::newRow("query key") << QStringLiteral("/orders?{{params.x}}=1")
                               << QStringLiteral("a=b&c+d") << QStringLiteral("/orders")
                               << QByteArray("/orders?a%3Db%26c%2Bd=1");
    QTest::newRow("path segment") << QStringLiteral("/users/{{params.x}}/profile")
                                  << QStringLiteral("../../admin?")
                                  << QStringLiteral("/users/..%2F..%2Fadmin%3F/profile")
                                  << QByteArray("/users/..%2F..%2Fadmin%3F/profile");
    QTest::newRow("percent and space")
        << QStringLiteral("/files/{{params.x}}") << QStringLiteral("50% off")
        << QStringLiteral("/files/50%25%20off") << QByteArray("/files/50%25%20off");
    QTest::newRow("fragment is not sent")
        << QStringLiteral("/page#{{params.x}}") << QStringLiteral("a#b") << QStringLiteral("/page")
        << QByteArray("/page");
}

void TestHttpStep::templateValuesAreEncodedForTheirPartOfTheUrl() {
    QFETCH(QString, url);
    QFETCH(QString, value);
    QFETCH(QString, path);
    QFETCH(QByteArray, target);
    HttpTestServer server;
    QVERIFY(server.listen());
    server.setRoute(path, {});
    Harness h;
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "get", "kind": "http", "with": { "url": "%1" } })")
                         .arg(server.url(url))
                         .toUtf8(),
                     R"("params": { "x": {} },)"),
                {{QStringLiteral("x"), value}});
    QVERIFY(!run.isEmpty());
    QVERIFY(h.settle());
    const StepRunRow step = h.step(run, QStringLiteral("get"));
    QVERIFY2(step.state == StepState::Succeeded, qPrintable(step.error));
    const auto requests = server.requests(path);
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().target, target);
}

void TestHttpStep::urlTemplateThatCannotBeEncodedFailsForGood_data() {
    QTest::addColumn<QString>("url"); ///< %1 is the server's origin
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");

    QTest::newRow("whole URL not http")
        << QStringLiteral("{{params.x}}") << QStringLiteral("ftp://example.com/x")
        << QStringLiteral("with.url: template {{params.x}} gave "
                          "\"ftp://example.com/x\", which is not "
                          "an http:// or https:// URL with a host");
    QTest::newRow("whole URL without host")
        << QStringLiteral("{{params.x}}") << QStringLiteral("http:///x\r\nX-Evil: 1")
        << QStringLiteral("gave \"http:///x\\r\\nX-Evil: 1\", which is not an http://");
    QTest::newRow("dot-dot segment")
        << QStringLiteral("%1/users/{{params.x}}/profile") << QStringLiteral("..")
        << QStringLiteral("a path segment made by templates cannot "
                          "be empty, \".\" or \"..\"");
    QTest::newRow("empty segment") << QStringLiteral("%1/users/{{params.x}}/profile") << QString()
                                   << QStringLiteral("cannot be empty");
    QTest::newRow("host with a path")
        << QStringLiteral("http://{{params.x}}/orders") << QStringLiteral("evil.example/steal?")
        << QStringLiteral("which is not a host name");
}

void TestHttpStep::urlTemplateThatCannotBeEncodedFailsForGood() {
    QFETCH(QString, url);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    HttpTestServer server;
    QVERIFY(server.listen());
    const QString origin = server.url(QString());
    Harness h;
    const QString run =
        h.start(flow(QStringLiteral(R"({ "id": "get", "kind": "http", "with": { "url": "%1" } })")
                         .arg(url.contains(QLatin1String("%1")) ? url.arg(origin) : url)
                         .toUtf8(),
                     R"("params": { "x": {} },)"),
                {{QStringLiteral("x"), value}});
    QVERIFY(!run.isEmpty());
    QVERIFY(h.settle());
    const StepRunRow step = h.step(run, QStringLiteral("get"));
    QCOMPARE(step.state, StepState::Failed);
    QCOMPARE(step.attempts, 1);
    QCOMPARE(step.errorClass, ErrorClass::Permanent);
    QVERIFY2(step.error.contains(reason), qPrintable(step.error));
    QVERIFY2(!step.error.contains(QLatin1Char('\n')), qPrintable(step.error));
}

QTEST_GUILESS_MAIN(TestHttpStep)
#include "tst_httpstep.moc"
