// HTTP step throughput against a loopback server (issue 3). Prints figures; not a pass/fail test.
//
//   bench_http [--requests N] [--managers M] [--latency MS]
//
// The server runs in its own thread with its own event loop and answers 200 {"ok":true} at once
// (or after --latency milliseconds, which shows the limit of 6 connections per host and manager).
// Baseline: a plain Qt Network client keeping 8 POSTs in flight. Then Keepflow with the real clock
// and a durable store (WAL, synchronous=FULL): one run of N independent keyed http POST steps, and
// N/8 runs of 8 such steps.

#include "httptestserver.h"
#include "runtime/engine.h"
#include "steps/httpstep.h"
#include "store/store.h"

#include <QJsonArray>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTemporaryDir>

#include <cstdio>

using namespace keepflow;

namespace {

/// Requests per second of a bare QNetworkAccessManager loop with `inFlight` POSTs outstanding.
double rawRate(const QString &url, const QByteArray &keyPrefix, int requests, int inFlight) {
    QNetworkAccessManager manager;
    QEventLoop loop;
    int sent = 0;
    int done = 0;
    int failed = 0;
    std::function<void()> sendOne = [&] {
        QNetworkRequest request{QUrl(url)};
        request.setRawHeader("Content-Type", "application/json");
        request.setRawHeader("Idempotency-Key", keyPrefix + QByteArray::number(sent));
        QNetworkReply *reply = manager.post(
            request,
            QJsonDocument(QJsonObject{{QStringLiteral("n"), sent}}).toJson(QJsonDocument::Compact));
        ++sent;
        QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply] {
            failed += reply->error() == QNetworkReply::NoError ? 0 : 1;
            reply->readAll();
            reply->deleteLater();
            if (++done == requests)
                loop.quit();
            else if (sent < requests)
                sendOne();
        });
    };
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < inFlight && i < requests; ++i)
        sendOne();
    loop.exec();
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    if (failed > 0)
        std::fprintf(stderr, "raw: %d requests failed\n", failed);
    return requests / seconds;
}

Flow httpFlow(const QString &name, const QString &url, int steps) {
    Flow flow;
    flow.name = name;
    for (int i = 0; i < steps; ++i) {
        Step step;
        step.id = QStringLiteral("post%1").arg(i);
        step.kind = QStringLiteral("http");
        step.idempotency = Idempotency::Keyed;
        step.with = QJsonObject{{QStringLiteral("method"), QStringLiteral("POST")},
                                {QStringLiteral("url"), url},
                                {QStringLiteral("body"), QJsonObject{{QStringLiteral("n"), i}}}};
        flow.steps.append(step);
    }
    return flow;
}

struct Throughput {
    double createSeconds = 0;
    double stepsPerSecond = 0;
    int failedRuns = 0;
    int peakInFlight = 0;
    int commits = 0; ///< transactions the engine committed while running them
};

/// Creates `runs` runs of flow (timed apart), then drives the engine from the event loop with the
/// real clock until every run settled.
Throughput runAll(const QString &dbPath, const Flow &flow, int runs, int managers) {
    Throughput result;
    auto opened = Store::open(dbPath);
    if (!opened) {
        std::fprintf(stderr, "%s\n", qPrintable(opened.error()));
        return result;
    }
    std::unique_ptr<Store> store = std::move(*opened);
    SystemClock clock;
    StepKindRegistry actions = StepKindRegistry::withBuiltins();
    if (managers > 0)
        actions.add(QStringLiteral("http"), std::make_shared<HttpStep>(managers));
    Engine engine(*store, clock, std::move(actions), {});
    QEventLoop loop;
    int settled = 0;
    QObject::connect(&engine, &Engine::runSettled, &loop, [&](const QString &, RunState state) {
        result.failedRuns += state == RunState::Succeeded ? 0 : 1;
        if (++settled == runs)
            loop.quit();
    });
    QObject::connect(&engine, &Engine::fatalError, &loop, [&](const QString &message) {
        std::fprintf(stderr, "engine: %s\n", qPrintable(message));
        loop.quit();
    });
    QElapsedTimer timer;
    timer.start();
    const auto version = engine.registerFlow(flow, {});
    if (!version) {
        std::fprintf(stderr, "registerFlow: %s\n", qPrintable(version.error()));
        return result;
    }
    for (int r = 0; r < runs; ++r) {
        if (auto id = engine.createRun(*version, {}, true); !id) {
            std::fprintf(stderr, "createRun: %s\n", qPrintable(id.error()));
            return result;
        }
    }
    result.createSeconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    timer.restart();
    // Sampled on every engine event: how many requests the engine had outstanding at most.
    QObject::connect(&engine, &Engine::eventsCommitted, &loop, [&](const QList<EventRow> &) {
        result.peakInFlight = std::max(result.peakInFlight, engine.runningAttemptCount());
        ++result.commits;
    });
    engine.startDriving();
    loop.exec();
    const double seconds = static_cast<double>(timer.nsecsElapsed()) / 1e9;
    result.stepsPerSecond =
        static_cast<double>(runs) * static_cast<double>(flow.steps.size()) / seconds;
    (void)engine.shutdown();
    return result;
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    auto option = [&args](const char *name, int fallback) {
        const auto at = args.indexOf(QLatin1String(name));
        return at > 0 && at + 1 < args.size() ? args[at + 1].toInt() : fallback;
    };
    const int requests = option("--requests", 1000);
    const int managers = option("--managers", 0); // 0: HttpStep's default
    const int latencyMs = option("--latency", 0);

    keepflow::test::HttpTestServerThread server;
    if (!server.isListening()) {
        std::fprintf(stderr, "the loopback server could not listen\n");
        return 1;
    }
    keepflow::test::HttpTestServer::Route route; // 200 {"ok":true}
    route.latencyMs = latencyMs;
    server.server().setRoute(QStringLiteral("/notify"), route);
    const QString url = server.server().url(QStringLiteral("/notify"));
    QTemporaryDir dir;

    rawRate(url, "warm-up-", 200, 8); // connections, allocator, caches
    const double raw = rawRate(url, "raw-", requests, 8);
    std::printf("raw Qt Network client, 8 POSTs in flight, %d requests: %.0f requests/s\n",
                requests, raw);
    if (latencyMs > 0)
        std::printf("server latency: %d ms per request\n", latencyMs);

    // Like for like: the steps call a resource that allows 8 calls in flight, as the raw client.
    Flow bounded = httpFlow(QStringLiteral("bounded"), url, requests);
    bounded.resources.append(
        ResourceSpec{QStringLiteral("api"), QJsonObject{{QStringLiteral("concurrency"), 8}}});
    for (Step &step : bounded.steps)
        step.resource = QStringLiteral("api");
    const Throughput eight = runAll(dir.filePath(QStringLiteral("eight.db")), bounded, 1, managers);
    std::printf(
        "keepflow, 1 run of %d keyed POSTs through a resource with concurrency 8 (peak %d in "
        "flight): %.0f steps/s\n",
        requests, eight.peakInFlight, eight.stepsPerSecond);
    std::printf(
        "keepflow, concurrency 8: ratio to raw %.2f (target >= 0.5); failed runs %d; %d commits\n",
        eight.stepsPerSecond / raw, eight.failedRuns, eight.commits);

    // The same as one foreach step: 1,000 items, 8 at a time, each with its own key.
    Flow fanout;
    fanout.name = QStringLiteral("foreach");
    Step each;
    each.id = QStringLiteral("notify");
    each.kind = QStringLiteral("http");
    each.idempotency = Idempotency::Keyed;
    QJsonArray items;
    for (int i = 0; i < requests; ++i)
        items.append(i);
    each.foreach = items;
    each.concurrency = 8;
    each.with = QJsonObject{
        {QStringLiteral("method"), QStringLiteral("POST")},
        {QStringLiteral("url"), url},
        {QStringLiteral("body"), QJsonObject{{QStringLiteral("n"), QStringLiteral("{{item}}")}}}};
    fanout.steps.append(each);
    const Throughput foreachRate =
        runAll(dir.filePath(QStringLiteral("foreach.db")), fanout, 1, managers);
    std::printf("keepflow, 1 foreach step of %d keyed POSTs, concurrency 8: %.0f items/s; ratio to "
                "raw %.2f "
                "(target >= 0.5); failed runs %d\n",
                requests, foreachRate.stepsPerSecond * requests,
                foreachRate.stepsPerSecond * requests / raw, foreachRate.failedRuns);

    const Throughput one = runAll(dir.filePath(QStringLiteral("one.db")),
                                  httpFlow(QStringLiteral("fan"), url, requests), 1, managers);
    std::printf("keepflow, 1 run of %d independent http steps (unbounded concurrency, peak %d in "
                "flight): %.0f steps/s\n",
                requests, one.peakInFlight, one.stepsPerSecond);
    std::printf("keepflow, 1 run: ratio to raw %.2f (target >= 0.5); creating the run took %.3f s; "
                "failed runs %d\n",
                one.stepsPerSecond / raw, one.createSeconds, one.failedRuns);

    const int runs = std::max(1, requests / 8);
    const Throughput many = runAll(dir.filePath(QStringLiteral("many.db")),
                                   httpFlow(QStringLiteral("eight"), url, 8), runs, managers);
    std::printf("keepflow, %d runs of 8 http steps (peak %d in flight): %.0f steps/s\n", runs,
                many.peakInFlight, many.stepsPerSecond);
    std::printf("keepflow, %d runs: ratio to raw %.2f (target >= 0.5); creating the runs took %.3f "
                "s; failed runs %d\n",
                runs, many.stepsPerSecond / raw, many.createSeconds, many.failedRuns);
    std::printf("server calls: %d; effects applied: %d\n",
                server.server().calls(QStringLiteral("/notify")),
                server.server().effects(QStringLiteral("/notify")));
    return 0;
}
