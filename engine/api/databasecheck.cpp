#include "api/databasecheck.h"

#include "api/operatorapi.h"
#include "api/replay.h"
#include "store/store.h"

#include <QJsonArray>
#include <QSet>

#include <algorithm>

namespace keepflow {

namespace {

CheckProblem problem(const QString &message, const QString &run = {}, const QString &step = {}) {
    return CheckProblem{run, step, message};
}

QString located(const CheckProblem &problem) {
    QStringList where;
    if (!problem.run.isEmpty())
        where << QStringLiteral("run %1").arg(problem.run);
    if (!problem.step.isEmpty())
        where << QStringLiteral("step %1").arg(problem.step);
    return where.isEmpty()
               ? problem.message
               : QStringLiteral("%1: %2").arg(where.join(QStringLiteral(", ")), problem.message);
}

/// The engine's invariants over one run; appends what is wrong to problems.
void checkRunRows(Store &store, const RunRow &run, QList<CheckProblem> &problems) {
    if (run.state == RunState::Running && run.owner.isEmpty() != (run.leaseUntil == 0)) {
        // A worker takes a run with both and lets go of it with both; half a lease is neither.
        problems << problem(run.owner.isEmpty()
                                ? QStringLiteral("running with a lease time but no owner")
                                : QStringLiteral("running, owned by %1 but without a lease "
                                                 "time, so no other worker can ever take it over")
                                      .arg(run.owner),
                            run.id);
    }
    auto attempts = store.attempts(run.id);
    if (!attempts) {
        problems << problem(attempts.error(), run.id);
    } else {
        QSet<QString> succeeded;
        for (const AttemptRow &attempt : *attempts) {
            if (attempt.outcome != AttemptOutcome::Succeeded)
                continue;
            const QString key = QStringLiteral("%1\n%2\n%3")
                                    .arg(attempt.stepId, attempt.itemKey)
                                    .arg(attempt.generation);
            if (succeeded.contains(key)) {
                problems << problem(
                    attempt.itemKey.isEmpty()
                        ? QStringLiteral("succeeded twice in generation %1 (attempt %2 again)")
                              .arg(attempt.generation)
                              .arg(attempt.number)
                        : QStringLiteral("item %1 succeeded twice in generation %2 (attempt %3 "
                                         "again)")
                              .arg(attempt.itemKey)
                              .arg(attempt.generation)
                              .arg(attempt.number),
                    run.id, attempt.stepId);
            }
            succeeded.insert(key);
        }
    }
    auto steps = store.stepRuns(run.id);
    auto events = store.events(run.id);
    if (!steps || !events) {
        problems << problem(!steps ? steps.error() : events.error(), run.id);
        return;
    }
    QStringList ids;
    for (const StepRunRow &step : *steps)
        ids << step.stepId;
    const QHash<QString, StepState> replayed = replayStepStates(ids, *events);
    for (const StepRunRow &step : *steps) {
        const StepState byEvents = replayed.value(step.stepId);
        if (byEvents != step.state)
            problems << problem(QStringLiteral("is %1 in the step table but %2 by its events")
                                    .arg(stateName(step.state), stateName(byEvents)),
                                run.id, step.stepId);
    }
}

/// checkRunRows over one snapshot of the run's rows: a worker may be committing to it meanwhile.
void checkRun(Store &store, const RunRow &run, QList<CheckProblem> &problems) {
    if (Status s = store.beginRead(); !s) {
        problems << problem(s.message(), run.id);
        return;
    }
    checkRunRows(store, run, problems);
    store.endRead();
}

} // namespace

bool DatabaseCheck::ok() const {
    return std::all_of(checks.begin(), checks.end(),
                       [](const CheckResult &check) { return check.ok(); });
}

QJsonObject DatabaseCheck::toJson() const {
    QJsonArray list;
    for (const CheckResult &check : checks) {
        QJsonArray problems;
        for (const CheckProblem &problem : check.problems) {
            QJsonObject entry{{QStringLiteral("message"), problem.message}};
            if (!problem.run.isEmpty())
                entry.insert(QStringLiteral("run"), problem.run);
            if (!problem.step.isEmpty())
                entry.insert(QStringLiteral("step"), problem.step);
            problems.append(entry);
        }
        list.append(QJsonObject{{QStringLiteral("name"), check.name},
                                {QStringLiteral("ok"), check.ok()},
                                {QStringLiteral("problems"), problems}});
    }
    return QJsonObject{{QStringLiteral("ok"), ok()}, {QStringLiteral("checks"), list}};
}

QString DatabaseCheck::toText() const {
    QString text;
    for (const CheckResult &check : checks) {
        if (check.ok()) {
            text += QStringLiteral("%1: ok\n").arg(check.name);
            continue;
        }
        text += QStringLiteral("%1: %2 problem(s)\n").arg(check.name).arg(check.problems.size());
        for (const CheckProblem &problem : check.problems)
            text += QStringLiteral("  %1\n").arg(located(problem));
    }
    return text;
}

QStringList DatabaseCheck::problemLines() const {
    QStringList lines;
    for (const CheckResult &check : checks) {
        for (const CheckProblem &problem : check.problems)
            lines << QStringLiteral("%1: %2").arg(check.name, located(problem));
    }
    return lines;
}

DatabaseCheck OperatorApi::check(DatabaseCheck::Depth depth) {
    DatabaseCheck report;
    CheckResult integrity{QStringLiteral("integrity"), {}};
    auto found = m_store->integrityProblems(depth == DatabaseCheck::Depth::Quick
                                                ? Store::IntegrityDepth::Quick
                                                : Store::IntegrityDepth::Full);
    if (!found)
        integrity.problems << problem(found.error());
    else
        for (const QString &line : *found)
            integrity.problems << problem(line);
    report.checks << integrity;

    CheckResult schema{QStringLiteral("schema"), {}};
    if (Status s = m_store->checkSchema(); !s)
        schema.problems << problem(s.message());
    report.checks << schema;
    if (depth == DatabaseCheck::Depth::Quick)
        return report;

    CheckResult invariants{QStringLiteral("invariants"), {}};
    auto runs = m_store->runs();
    if (!runs) {
        invariants.problems << problem(runs.error());
    } else {
        for (const RunRow &run : *runs)
            checkRun(*m_store, run, invariants.problems);
    }
    report.checks << invariants;
    return report;
}

DatabaseCheck checkDatabaseFile(const QString &path, DatabaseCheck::Depth depth,
                                StoreOptions options) {
    options.readOnly = true; // a check changes nothing, and creates no file
    OperatorApi::Options apiOptions;
    apiOptions.store = options;
    auto api = OperatorApi::open(path, apiOptions);
    if (!api) {
        DatabaseCheck report;
        report.checks << CheckResult{QStringLiteral("open"), {problem(api.error())}};
        return report;
    }
    return (*api)->check(depth);
}

} // namespace keepflow
