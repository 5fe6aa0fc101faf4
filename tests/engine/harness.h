#pragma once

// A test engine on a temporary database (SQLite, or PostgreSQL when the suite runs on it: see
// testdatabase.h) with a manual clock. restart simulates a crash.

#include "model/flowfile.h"
#include "runtime/engine.h"
#include "store/store.h"
#include "testdatabase.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

namespace {

using namespace keepflow;

/// One engine on one database with a manual clock; restart() simulates a crash and a new process.
struct Harness {
    QTemporaryDir dir;
    ManualClock clock;
    std::unique_ptr<Store> store;
    std::unique_ptr<Engine> engine;
    StepKindRegistry actions = StepKindRegistry::withBuiltins();

    /// secrets: where {{secrets.NAME}} is looked up (unset: the engine's default).
    explicit Harness(std::shared_ptr<const SecretChain> secretChain = {})
        : secrets(std::move(secretChain))
        , database(newTestDatabase(dir, QStringLiteral("engine.db"))) {
        open();
    }
    std::shared_ptr<const SecretChain> secrets;
    const QString database;
    /// The SQLite file, or the PostgreSQL URL.
    QString dbPath() const { return database; }

    void open() {
        auto opened = Store::open(dbPath());
        QVERIFY2(opened, qPrintable(opened.error()));
        store = std::move(*opened);
        Engine::Options options;
        options.workerId = QStringLiteral("test-worker-%1").arg(++generation);
        options.leaseMs = leaseMs;
        options.ownerIsDead = [](const QString &) { return true; };
        options.secrets = secrets;
        engine = std::make_unique<Engine>(*store, clock, actions, options);
    }

    /// Drops the engine without a shutdown: as if the process died.
    void crashAndRestart() {
        engine.reset();
        store.reset();
        open();
    }

    /// The process dies while run is executing; a new one takes the run up again.
    void crashAndAdopt(const QString &run) {
        crashAndRestart();
        const auto adopted = engine->adopt(run);
        QVERIFY2(adopted && *adopted,
                 qPrintable(adopted ? QStringLiteral("not adopted") : adopted.error()));
        pump();
    }

    QString start(const QByteArray &flowText, const QJsonObject &params = {}) {
        FlowLoad load = parseFlow(flowText, QStringLiteral("test.flow.json"));
        if (!load.ok()) {
            qWarning().noquote() << load.errorText();
            return {};
        }
        auto id = engine->createRun(*load.flow, {}, params, true);
        if (!id) {
            qWarning().noquote() << id.error();
            return {};
        }
        pump();
        return *id;
    }

    void pump() {
        const Status status = engine->pump();
        QVERIFY2(status, qPrintable(status.message()));
    }

    /// Pumps until no attempt is in flight (real processes finish on their own time).
    bool settleProcesses(int timeoutMs = 10000) {
        QElapsedTimer timer;
        timer.start();
        while (engine->runningAttemptCount() > 0 || engine->hasPendingCompletions()) {
            if (timer.elapsed() > timeoutMs)
                return false;
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            pump();
        }
        return true;
    }

    void advance(qint64 ms) {
        clock.advance(ms);
        pump();
    }

    /// Pumps until no attempt is in flight (network and processes finish on their own time).
    bool settle(int timeoutMs = 5000) { return settleProcesses(timeoutMs); }

    /// Moves the manual clock, starts what fell due, and lets it finish.
    bool advanceAndSettle(qint64 ms) {
        advance(ms);
        return settle();
    }

    StepRunRow step(const QString &run, const QString &id) {
        const auto rows = store->stepRuns(run);
        for (const StepRunRow &row : *rows) {
            if (row.stepId == id)
                return row;
        }
        return {};
    }

    QList<AttemptRow> attempts(const QString &run, const QString &id) {
        QList<AttemptRow> rows;
        const auto all = store->attempts(run);
        for (const AttemptRow &row : *all) {
            if (row.stepId == id)
                rows.append(row);
        }
        std::sort(rows.begin(), rows.end(),
                  [](const AttemptRow &a, const AttemptRow &b) { return a.number < b.number; });
        return rows;
    }

    RunState runState(const QString &run) { return store->run(run)->state; }

    int generation = 0;
    qint64 leaseMs = 30'000; ///< for the engines open() makes
};

[[maybe_unused]] QByteArray flow(const QByteArray &steps, const QByteArray &extra = {}) {
    return "{ \"keepflow\": 1, \"name\": \"t\", " + extra + " \"steps\": [" + steps + "] }";
}

} // namespace
