// Random flows, random failures, random operator actions and random crashes, with invariants
// checked after every round:
//  - no step or item succeeds twice in one generation (retries never duplicate an effect);
//  - replaying a run's events gives the step states the tables hold;
//  - a running run always has something in motion, and no valid flow ever stalls;
//  - in the end every run is finished or waits for an operator.
// KEEPFLOW_RANDOM_SEEDS scales it; KEEPFLOW_RANDOM_SEED replays one seed.

#include "../engine/harness.h"
#include "api/replay.h"

#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

using namespace keepflow;

namespace {

QByteArray randomFlow(QRandomGenerator &random) {
    const int count = 4 + static_cast<int>(random.bounded(7));
    auto chance = [&random](double p) { return random.generateDouble() < p; };
    QStringList steps;
    QStringList spares; // fallback steps, listed after the rest
    for (int i = 0; i < count; ++i) {
        QStringList fields{QStringLiteral("\"id\": \"s%1\"").arg(i)};
        QStringList after;
        for (int u = 0; u < i; ++u) {
            if (chance(0.3))
                after << QStringLiteral("\"s%1\"").arg(u);
        }
        if (!after.isEmpty())
            fields << QStringLiteral("\"after\": [%1]").arg(after.join(QStringLiteral(", ")));
        if (chance(0.2)) {
            static const char *joins[] = {"all_done", "any_succeeded", "none_failed"};
            fields
                << QStringLiteral("\"join\": \"%1\"").arg(QLatin1String(joins[random.bounded(3)]));
        }
        const double kind = random.generateDouble();
        if (kind < 0.06) {
            fields << QStringLiteral("\"kind\": \"approval\", \"with\": { \"prompt\": \"go?\" }");
            steps << QStringLiteral("{ %1 }").arg(fields.join(QStringLiteral(", ")));
            continue;
        }
        if (kind < 0.25) {
            fields << QStringLiteral("\"kind\": \"noop\"");
            steps << QStringLiteral("{ %1 }").arg(fields.join(QStringLiteral(", ")));
            continue;
        }
        static const char *errors[] = {"transient", "transient", "transient",
                                       "permanent", "timeout",   "garbage"};
        static const char *idempotency[] = {"keyed", "keyed", "idempotent", "none"};
        static const char *latencies[] = {"0ms", "100ms", "1s"};
        fields << QStringLiteral("\"kind\": \"fault\"")
               << QStringLiteral("\"idempotency\": \"%1\"")
                      .arg(QLatin1String(idempotency[random.bounded(4)]))
               << QStringLiteral("\"timeout\": \"2s\"")
               << QStringLiteral(
                      "\"retry\": { \"max_attempts\": %1, \"initial_interval\": \"%2ms\" }")
                      .arg(1 + random.bounded(4))
                      .arg(100 + random.bounded(900));
        const QString failFirst = QString::number(random.bounded(4));
        if (chance(0.2)) {
            QStringList items;
            const int itemCount = 1 + static_cast<int>(random.bounded(5));
            for (int k = 0; k < itemCount; ++k)
                items << QString::number(random.bounded(3));
            fields << QStringLiteral("\"foreach\": [%1], \"concurrency\": 2")
                          .arg(items.join(QStringLiteral(", ")));
            if (chance(0.5))
                fields << QStringLiteral("\"tolerate\": { \"max_failed\": 1 }");
        }
        const bool isForeach = fields.last().startsWith(QLatin1String("\"foreach\"")) ||
                               fields.last().startsWith(QLatin1String("\"tolerate\""));
        fields << QStringLiteral(
                      "\"with\": { \"fail_first\": %1, \"error\": \"%2\", \"latency\": \"%3\", "
                      "\"fail_rate\": %4, \"seed\": %5 }")
                      .arg(isForeach ? QStringLiteral("\"{{item}}\"") : failFirst,
                           QLatin1String(errors[random.bounded(6)]),
                           QLatin1String(latencies[random.bounded(3)]))
                      .arg(chance(0.2) ? 0.3 : 0.0)
                      .arg(random.bounded(1000));
        if (chance(0.3))
            fields << QStringLiteral("\"resource\": \"dep\"");
        const double fallback = random.generateDouble();
        if (fallback < 0.15) {
            fields << QStringLiteral("\"fallback\": { \"value\": { \"fallback\": true } }");
        } else if (fallback < 0.35) {
            // A fallback step, itself failing sometimes, sometimes with a fallback of its own.
            const int depth = chance(0.3) ? 2 : 1;
            fields << QStringLiteral("\"fallback\": { \"step\": \"f%1_1\" }").arg(i);
            for (int d = 1; d <= depth; ++d) {
                QString spare =
                    QStringLiteral("{ \"id\": \"f%1_%2\", \"kind\": \"fault\", "
                                   "\"idempotency\": \"keyed\", \"retry\": { \"max_attempts\": "
                                   "%3, \"initial_interval\": \"200ms\" }, \"with\": { "
                                   "\"fail_first\": %4, \"latency\": \"100ms\" }")
                        .arg(i)
                        .arg(d)
                        .arg(1 + random.bounded(2))
                        .arg(random.bounded(3));
                if (d < depth)
                    spare += QStringLiteral(", \"fallback\": { \"step\": \"f%1_%2\" }")
                                 .arg(i)
                                 .arg(d + 1);
                spares << spare + QStringLiteral(" }");
            }
        }
        steps << QStringLiteral("{ %1 }").arg(fields.join(QStringLiteral(", ")));
    }
    steps << spares;
    return QStringLiteral(
               R"({ "keepflow": 1, "name": "random", "resources": { "dep": { "concurrency": 2,
        "breaker": { "failure_rate": 0.75, "window": 4, "min_calls": 4, "open_for": "2s" } } },
        "steps": [%1] })")
        .arg(steps.join(QStringLiteral(",\n")))
        .toUtf8();
}

/// No step or item succeeded twice in one generation; replaying events gives the table states
/// (step and item states, attempts and failures, the run's state);
/// a running run has something in motion and never stalled.
QString brokenInvariant(Harness &h, const QString &runId) {
    const auto attempts = h.store->attempts(runId);
    QSet<QString> succeeded;
    for (const AttemptRow &attempt : *attempts) {
        if (attempt.outcome != AttemptOutcome::Succeeded)
            continue;
        const QString key =
            QStringLiteral("%1/%2/%3").arg(attempt.stepId, attempt.itemKey).arg(attempt.generation);
        if (succeeded.contains(key))
            return QStringLiteral("%1 succeeded twice in one generation").arg(key);
        succeeded.insert(key);
    }
    const auto steps = h.store->stepRuns(runId);
    QStringList ids;
    for (const StepRunRow &step : *steps)
        ids << step.stepId;
    const auto events = h.store->events(runId);
    for (const EventRow &event : *events) {
        if (event.type == EventType::RunStalled)
            return QStringLiteral("a valid flow stalled: %1")
                .arg(event.detail.value(QLatin1String("reason")).toString());
    }
    if (h.runState(runId) == RunState::Running) {
        const bool moving = std::any_of(steps->begin(), steps->end(), [](const StepRunRow &s) {
            return s.state == StepState::Queued || s.state == StepState::Scheduled ||
                   s.state == StepState::Running || s.state == StepState::Retrying;
        });
        if (!moving)
            return QStringLiteral("the run is running with nothing in motion");
    }
    const QHash<QString, StepState> replayed = replayStepStates(ids, *events);
    for (const StepRunRow &step : *steps) {
        if (replayed.value(step.stepId) != step.state)
            return QStringLiteral("step %1 is %2 in the table but %3 by its events")
                .arg(step.stepId, stateName(step.state), stateName(replayed.value(step.stepId)));
    }
    // The cursor gives the same at the end, also after moving back through its checkpoints
    // (an interval of 3 events makes every round cross several).
    const auto run = h.store->run(runId);
    const auto items = h.store->items(runId);
    RunReplay replay(*run, *steps, *items, *events, 3);
    QSet<QString> foreachSteps;
    for (const EventRow &event : *events) {
        if (event.type == EventType::StepExpanded)
            foreachSteps.insert(event.stepId);
    }
    for (const qsizetype at :
         {replay.eventCount() - 1, replay.eventCount() / 2, replay.eventCount() - 1}) {
        replay.seek(at);
        if (at != replay.eventCount() - 1)
            continue;
        const ReplayedRun &past = replay.state();
        if (past.run.state != run->state)
            return QStringLiteral("the run is %1 in the table but %2 by its events")
                .arg(stateName(run->state), stateName(past.run.state));
        for (qsizetype i = 0; i < steps->size(); ++i) {
            const StepRunRow &stored = (*steps)[i];
            const StepRunRow &replayedRow = past.steps[i];
            if (replayedRow.state != stored.state)
                return QStringLiteral("step %1 is %2 in the table but %3 by the cursor")
                    .arg(stored.stepId, stateName(stored.state), stateName(replayedRow.state));
            // A foreach step's row counts its items' attempts when an item settles, so while
            // items run it lags the events; its items' rows are compared below instead.
            if (!foreachSteps.contains(stored.stepId) && replayedRow.attempts != stored.attempts)
                return QStringLiteral("step %1 made %2 attempts by the table but %3 by its events")
                    .arg(stored.stepId)
                    .arg(stored.attempts)
                    .arg(replayedRow.attempts);
            if (!foreachSteps.contains(stored.stepId) && replayedRow.failures != stored.failures)
                return QStringLiteral("step %1 counts %2 failures by the table but %3 by its "
                                      "events")
                    .arg(stored.stepId)
                    .arg(stored.failures)
                    .arg(replayedRow.failures);
        }
        const QList<ItemRow> pastItems = past.existingItems();
        if (pastItems.size() != items->size())
            return QStringLiteral("%1 items in the table but %2 by the events")
                .arg(items->size())
                .arg(pastItems.size());
        for (qsizetype i = 0; i < items->size(); ++i) {
            const ItemRow &stored = (*items)[i];
            // An item waiting for its resource writes no event (a step does: step_queued), so
            // by the events it is still in the state it asked from.
            const bool queueWait =
                stored.state == StepState::Queued && (pastItems[i].state == StepState::Pending ||
                                                      pastItems[i].state == StepState::Retrying);
            if (pastItems[i].state != stored.state && !queueWait)
                return QStringLiteral("item %1 of step %2 is %3 in the table but %4 by its events")
                    .arg(stored.itemKey, stored.stepId, stateName(stored.state),
                         stateName(pastItems[i].state));
            if (pastItems[i].attempts != stored.attempts)
                return QStringLiteral("item %1 of step %2 made %3 attempts by the table but %4 by "
                                      "its events")
                    .arg(stored.itemKey, stored.stepId)
                    .arg(stored.attempts)
                    .arg(pastItems[i].attempts);
            if (pastItems[i].failures != stored.failures)
                return QStringLiteral("item %1 of step %2 counts %3 failures by the table but %4 "
                                      "by its events")
                    .arg(stored.itemKey, stored.stepId)
                    .arg(stored.failures)
                    .arg(pastItems[i].failures);
        }
    }
    return {};
}

} // namespace

class TestRandomized : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void randomRunsKeepTheirInvariants();
};

void TestRandomized::randomRunsKeepTheirInvariants() {
    const int seeds = qEnvironmentVariableIntValue("KEEPFLOW_RANDOM_SEEDS") > 0
                          ? qEnvironmentVariableIntValue("KEEPFLOW_RANDOM_SEEDS")
                          : 30;
    // Seeds are unsigned 32-bit: read as an int, half of them would replay seed 0.
    bool replayed = false;
    const quint32 asked = qEnvironmentVariable("KEEPFLOW_RANDOM_SEED").toUInt(&replayed);
    const quint32 base = replayed ? asked : QRandomGenerator::global()->generate();
    qInfo("base seed %u (KEEPFLOW_RANDOM_SEED replays it)", base);
    // Seeds that once broke an invariant run first, every time (unless one seed is replayed):
    // failures miscounted by the replay, a fallback kept its spent budget across rerun-from,
    // a held fallback taken for a running one after a restart, a resumed run's row left waiting.
    const QList<quint32> found =
        replayed ? QList<quint32>{}
                 : QList<quint32>{2192074398u, 2534013381u, 3339721766u, 2763577853u};
    int crashes = 0;
    int actions = 0;
    int refused = 0;
    for (qsizetype n = 0; n < found.size() + seeds; ++n) {
        const quint32 seed =
            n < found.size() ? found[n] : base + static_cast<quint32>(n - found.size());
        QRandomGenerator random(seed);
        Harness h;
        QStringList runs;
        for (int r = 0; r < 2; ++r) {
            const QByteArray text = randomFlow(random);
            const QString run = h.start(text);
            QVERIFY2(!run.isEmpty(), text.constData());
            runs << run;
        }
        using K = OperatorAction::Kind;
        static const K kinds[] = {K::Retry,         K::RetryFailedItems, K::Skip,
                                  K::MarkSucceeded, K::ResolveHappened,  K::ResolveNotHappened,
                                  K::Approve,       K::Reject,           K::RerunFrom,
                                  K::PauseStep,     K::UnpauseStep};
        for (int round = 0; round < 40; ++round) {
            const double roll = random.generateDouble();
            if (roll < 0.6) {
                h.advance(50 + random.bounded(3000));
            } else if (roll < 0.72) {
                h.crashAndRestart(); // the engine dies mid-flight: attempts in flight are cut off
                QVERIFY(h.engine->adoptAvailable());
                h.pump();
                ++crashes;
            } else {
                OperatorAction action;
                action.kind = kinds[random.bounded(static_cast<int>(std::size(kinds)))];
                action.runId = runs[static_cast<int>(random.bounded(2))];
                const auto steps = h.store->stepRuns(action.runId);
                action.stepId =
                    (*steps)[static_cast<int>(random.bounded(static_cast<int>(steps->size())))]
                        .stepId;
                action.output = QJsonObject{{QStringLiteral("by"), QStringLiteral("operator")}};
                action.actor = QStringLiteral("chaos");
                const auto done = h.engine->act(action);
                ++actions;
                refused += done ? 0 : 1;
                h.pump();
            }
            for (const QString &run : runs) {
                const QString broken = brokenInvariant(h, run);
                if (!broken.isEmpty() && qEnvironmentVariableIsSet("KEEPFLOW_RANDOM_DEBUG")) {
                    qDebug().noquote()
                        << h.store->flowVersion(h.store->run(run)->flowId)->definition;
                    const auto events = h.store->events(run);
                    for (const EventRow &e : *events)
                        qDebug().noquote()
                            << e.at << e.stepId << e.type
                            << QJsonDocument(e.detail).toJson(QJsonDocument::Compact);
                }
                QVERIFY2(broken.isEmpty(), qPrintable(QStringLiteral("seed %1 round %2 run %3: %4")
                                                          .arg(seed)
                                                          .arg(round)
                                                          .arg(run, broken)));
            }
        }
        // Settle: an operator answers what waits for one; time passes.
        for (int round = 0; round < 60; ++round) {
            for (const QString &run : runs) {
                if (const auto row = h.store->run(run); row->paused) {
                    // Crashed and taken over more often than the adoption limit.
                    QVERIFY(row->adoptions > 3);
                    OperatorAction unpause;
                    unpause.kind = K::UnpauseRun;
                    unpause.runId = run;
                    unpause.actor = QStringLiteral("closer");
                    QVERIFY(h.engine->act(unpause));
                    QCOMPARE(h.store->run(run)->adoptions, 0);
                }
                const auto steps = h.store->stepRuns(run);
                for (const StepRunRow &step : *steps) {
                    OperatorAction action;
                    action.runId = run;
                    action.stepId = step.stepId;
                    action.actor = QStringLiteral("closer");
                    if (step.state == StepState::Paused)
                        action.kind = K::UnpauseStep;
                    else if (step.state == StepState::Uncertain)
                        action.kind = K::ResolveHappened;
                    else if (step.state == StepState::WaitingForOperator)
                        action.kind = K::Approve;
                    else
                        continue;
                    QVERIFY2(h.engine->act(action), qPrintable(step.stepId));
                }
            }
            h.advance(5000);
        }
        for (const QString &run : runs) {
            const RunState state = h.runState(run);
            QString detail;
            const auto rows = h.store->stepRuns(run);
            for (const StepRunRow &step : *rows)
                detail += QStringLiteral(" %1=%2").arg(step.stepId, stateName(step.state));
            if (qEnvironmentVariableIsSet("KEEPFLOW_RANDOM_DEBUG") &&
                (state == RunState::Running || !brokenInvariant(h, run).isEmpty())) {
                qDebug().noquote() << h.store->flowVersion(h.store->run(run)->flowId)->definition;
                const auto events = *h.store->events(run);
                for (const EventRow &e : events)
                    qDebug().noquote() << e.at << e.stepId << e.type
                                       << QJsonDocument(e.detail).toJson(QJsonDocument::Compact);
                const auto items = *h.store->items(run);
                for (const ItemRow &item : items)
                    qDebug().noquote()
                        << "item" << item.stepId << item.itemKey << stateName(item.state)
                        << item.attempts << item.failures << item.generation << item.notBefore;
                const auto resources = *h.store->resources();
                for (const ResourceRow &r : resources)
                    qDebug() << r.name << r.breakerState << r.openedAt << r.window << r.paused;
            }
            QVERIFY2(isFinal(state), qPrintable(QStringLiteral("seed %1: run %2 ended %3:%4")
                                                    .arg(seed)
                                                    .arg(run, stateName(state), detail)));
            const QString broken = brokenInvariant(h, run);
            QVERIFY2(broken.isEmpty(),
                     qPrintable(QStringLiteral("seed %1 run %2: %3").arg(seed).arg(run, broken)));
        }
    }
    qInfo("%d seeds, %d crashes, %d operator actions (%d refused with a reason)", seeds, crashes,
          actions, refused);
}

QTEST_GUILESS_MAIN(TestRandomized)
#include "tst_randomized.moc"
