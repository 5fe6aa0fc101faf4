#include "stepviews.h"

#include "api/rootcause.h"
#include "operator/policychange.h"
#include "statestyle.h"

#include <QHash>

namespace keepflow::ui {

QList<StepView> buildStepViews(const Flow &flow, const QList<StepRunRow> &steps,
                               const QList<ItemRow> &items, const QList<ResourceRow> &resources) {
    QHash<QString, const StepRunRow *> rowOf;
    for (const StepRunRow &row : steps)
        rowOf.insert(row.stepId, &row);
    QHash<QString, const ResourceRow *> resourceOf;
    for (const ResourceRow &row : resources)
        resourceOf.insert(row.name, &row);
    struct ItemCounts {
        int total = 0;
        int succeeded = 0;
        int failed = 0;
        bool uncertain = false;
    };
    QHash<QString, ItemCounts> itemCounts;
    for (const ItemRow &item : items) {
        ItemCounts &counts = itemCounts[item.stepId];
        ++counts.total;
        const StepState state = item.state;
        if (countsAsSuccess(state))
            ++counts.succeeded;
        else if (state == StepState::Failed)
            ++counts.failed;
        else if (state == StepState::Uncertain)
            counts.uncertain = true;
    }

    const RootCauses causes = findRootCauses(flow, steps);

    QList<StepView> views;
    views.reserve(flow.steps.size());
    for (const Step &step : flow.steps) {
        StepView view;
        view.stepId = step.id;
        view.kind = step.kind;
        view.maxAttempts = flow.effectiveRetry(step).maxAttempts;
        view.resource = step.resource;
        if (const StepRunRow *row = rowOf.value(step.id)) {
            view.state = row->state;
            view.attempts = row->attempts;
            // An operator's live policy change counts from its next attempt on.
            if (row->policyOverride.isObject())
                view.maxAttempts =
                    effectiveStepPolicy(flow, step, row->policyOverride).retry.maxAttempts;
            view.maxAttempts =
                attemptBudget(row->state, row->attempts, row->failures, view.maxAttempts);
            if (view.state == StepState::Retrying || view.state == StepState::Scheduled)
                view.nextAttemptAt = row->notBefore;
            view.viaFallback = row->viaFallback;
            view.startedAt = row->startedAt;
            view.endedAt = row->endedAt;
            // A step that ended well shows no error: a resolved or approved step's old
            // failure stays in its attempts, not on its row.
            if (view.state != StepState::Succeeded && view.state != StepState::Skipped)
                view.lastError = row->error;
            if (!row->resource.isEmpty())
                view.resource = row->resource;
        }
        view.uncertain = view.state == StepState::Uncertain;
        if (!step.foreach.isUndefined() && itemCounts.contains(step.id)) {
            // Before its items exist (not started yet) a foreach step shows like any other.
            const ItemCounts counts = itemCounts.value(step.id);
            view.attempts = 0; // its attempts are per item: the item counts tell the story
            view.itemsTotal = counts.total;
            view.itemsSucceeded = counts.succeeded;
            view.itemsFailed = counts.failed;
            view.uncertain = view.uncertain || counts.uncertain;
        }
        if (const ResourceRow *resource = resourceOf.value(view.resource)) {
            view.breakerOpen = resource->breakerState == QLatin1String("open");
            view.resourcePaused = resource->paused;
        }
        view.rootCause = causes.isRoot(step.id);
        view.waitingOnIt = causes.waitingCount.value(step.id);
        view.blockedBy = causes.blockedBy.value(step.id);
        views.append(view);
    }
    return views;
}

void markSlowSteps(QList<StepView> &steps, const FlowStepStats &stats, qint64 now, SlowRule rule) {
    for (StepView &step : steps) {
        step.slowFactor = 0;
        const StepStats *history = stats.step(step.stepId);
        // Waiting for an operator or paused is not slowness: only time spent finishing or trying.
        const bool trying = step.state == StepState::Running || step.state == StepState::Retrying;
        if (!history || (step.endedAt == 0 && !trying))
            continue;
        const auto elapsed = stepElapsedMs(step.startedAt, step.endedAt, now);
        if (const auto factor = elapsed ? slowFactor(*history, *elapsed, rule) : std::nullopt)
            step.slowFactor = *factor;
    }
}

QString formatSpan(qint64 ms) {
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    const qint64 seconds = ms / 1000;
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    const qint64 minutes = seconds / 60;
    if (minutes < 60)
        return QStringLiteral("%1 min %2 s").arg(minutes).arg(seconds % 60);
    const qint64 hours = minutes / 60;
    if (hours < 48)
        return QStringLiteral("%1 h %2 min").arg(hours).arg(minutes % 60);
    return QStringLiteral("%1 d %2 h").arg(hours / 24).arg(hours % 24);
}

QString rootCauseText(const QList<StepView> &steps) {
    QStringList roots;
    for (const StepView &step : steps) {
        if (step.rootCause)
            roots << describeRootCause(step.stepId, step.state, step.waitingOnIt);
    }
    // A run with many roots names the first ones; the graph and the table show them all.
    constexpr int kNamed = 2;
    if (roots.size() > kNamed + 1) {
        const qsizetype more = roots.size() - kNamed;
        roots = roots.first(kNamed);
        roots << QStringLiteral("%1 more root causes").arg(more);
    }
    QString text;
    for (const QString &root : std::as_const(roots))
        text += QStringLiteral(" · root cause: ") + root;
    return text;
}

QString childHoldUpText(const QList<StepView> &steps) {
    QStringList held;
    for (const StepView &step : steps) {
        if (childHoldsUp(step))
            held << QStringLiteral("step %1 waits on child run %2 (%3)")
                        .arg(step.stepId, step.childRunId, stateLabel(*step.childState));
    }
    return held.isEmpty() ? QString()
                          : QStringLiteral(" · held up: ") + held.join(QStringLiteral("; "));
}

} // namespace keepflow::ui
