#include "api/rootcause.h"

#include <algorithm>

namespace keepflow {

bool isRootCauseState(StepState state) {
    switch (state) {
    case StepState::Failed:
    case StepState::Uncertain:
    case StepState::WaitingForOperator:
    case StepState::Paused:
        return true;
    default:
        return false;
    }
}

namespace {

/// The run's steps as a graph: the flow's steps, then rows of steps the flow lacks (no edges).
struct Graph {
    QStringList ids;
    QList<StepState> states;
    QList<QList<int>> upstream;
    QList<QList<int>> downstream;
    QList<JoinRule> join;
    QList<int> fallbackStep; ///< step -> its fallback step, or -1
    QList<int> primaryOf;    ///< fallback step -> the step it stands in for, or -1
};

Graph makeGraph(const Flow &flow, const QList<StepRunRow> &rows) {
    Graph g;
    const auto count = flow.steps.size();
    QHash<QString, int> index;
    index.reserve(count);
    for (qsizetype i = count - 1; i >= 0; --i) // the first of a repeated id wins, as in the engine
        index.insert(flow.steps[i].id, static_cast<int>(i));
    for (const Step &step : flow.steps) {
        g.ids.append(step.id);
        g.states.append(StepState::Pending); // a step without a row has not been reached
        g.join.append(step.effectiveJoin());
    }
    for (const StepRunRow &row : rows) {
        const int i = index.value(row.stepId, -1);
        if (i >= 0) {
            g.states[i] = row.state;
            continue;
        }
        index.insert(row.stepId, static_cast<int>(g.ids.size()));
        g.ids.append(row.stepId);
        g.states.append(row.state);
        g.join.append(JoinRule::AllSucceeded);
    }
    const auto n = g.ids.size();
    g.upstream.resize(n);
    g.downstream.resize(n);
    g.fallbackStep.fill(-1, n);
    g.primaryOf.fill(-1, n);
    for (qsizetype i = 0; i < count; ++i) {
        const Step &step = flow.steps[i];
        for (const QString &after : step.after) {
            const int u = index.value(after, -1);
            if (u < 0 || u >= count)
                continue;
            g.upstream[i].append(u);
            g.downstream[u].append(static_cast<int>(i));
        }
        if (step.fallback.kind == Fallback::Kind::Step) {
            const int f = index.value(step.fallback.step, -1);
            if (f >= 0 && f < count && f != i) {
                g.fallbackStep[i] = f;
                g.primaryOf[f] = static_cast<int>(i);
            }
        }
    }
    return g;
}

/// Steps so that each comes after its upstreams and after its fallback step (a step running its
/// fallback waits on what the fallback waits on). Steps on a cycle, which validation refuses,
/// come last in flow order: what they wait on is then only partly known.
QList<int> evaluationOrder(const Graph &g) {
    const auto n = g.ids.size();
    QList<int> pending(n, 0);
    for (qsizetype i = 0; i < n; ++i)
        pending[i] = static_cast<int>(g.upstream[i].size()) + (g.fallbackStep[i] >= 0 ? 1 : 0);
    QList<int> order;
    order.reserve(n);
    for (qsizetype i = 0; i < n; ++i) {
        if (pending[i] == 0)
            order.append(static_cast<int>(i));
    }
    const auto release = [&](int j) {
        if (--pending[j] == 0)
            order.append(j);
    };
    for (qsizetype k = 0; k < order.size(); ++k) {
        const int i = order[k];
        for (int d : g.downstream[i])
            release(d);
        if (g.primaryOf[i] >= 0)
            release(g.primaryOf[i]);
    }
    if (order.size() < n) {
        for (qsizetype i = 0; i < n; ++i) {
            if (pending[i] > 0)
                order.append(static_cast<int>(i));
        }
    }
    return order;
}

} // namespace

RootCauses findRootCauses(const Flow &flow, const QList<StepRunRow> &steps) {
    const Graph g = makeGraph(flow, steps);
    const auto n = g.ids.size();
    // held[i]: the roots that keep step i from succeeding (itself when it is one), by index.
    QList<QList<int>> held(n);
    QList<bool> evaluated(n, false);
    // Marks the roots already taken into the set being built (by the step building it).
    QList<int> takenBy(n, -1);

    // Whether upstream u may still succeed without an operator: it is in motion, or pending on
    // steps in motion.
    const auto canStillSucceed = [&](int u) {
        return !isFinal(g.states[u]) && !isRootCauseState(g.states[u]) && held[u].isEmpty();
    };

    for (const int i : evaluationOrder(g)) {
        evaluated[i] = true;
        const StepState state = g.states[i];
        if (isRootCauseState(state)) {
            held[i] = {i};
            continue;
        }
        if (state == StepState::Running && g.fallbackStep[i] >= 0) {
            // Running its fallback (once that has started): its outcome is the fallback's.
            const int f = g.fallbackStep[i];
            if (evaluated[f] && g.states[f] != StepState::Pending)
                held[i] = held[f];
            continue;
        }
        const bool waiting = state == StepState::Pending || state == StepState::Blocked ||
                             state == StepState::Cancelled;
        if (!waiting || g.primaryOf[i] >= 0)
            continue; // in motion or done; a fallback step starts with its primary, not its afters
        const QList<int> &ups = g.upstream[i];
        const JoinRule join = g.join[i];
        if (join == JoinRule::AnySucceeded) {
            const bool satisfiable = std::any_of(ups.cbegin(), ups.cend(), [&](int u) {
                return countsAsSuccess(g.states[u]) || canStillSucceed(u);
            });
            if (satisfiable)
                continue;
        }
        QList<int> holders; // the upstreams whose roots hold i
        for (const int u : ups) {
            if (held[u].isEmpty())
                continue;
            // all_done waits only for upstreams to finish: a failed or blocked one has.
            if (join == JoinRule::AllDone && isFinal(g.states[u]))
                continue;
            holders.append(u);
        }
        if (holders.size() == 1) {
            held[i] = held[holders.front()]; // shared, not copied: a chain costs nothing per step
            continue;
        }
        QList<int> roots;
        for (const int u : std::as_const(holders)) {
            for (const int r : held[u]) {
                if (takenBy[r] == i)
                    continue;
                takenBy[r] = i;
                roots.append(r);
            }
        }
        std::sort(roots.begin(), roots.end());
        held[i] = roots;
    }

    RootCauses result;
    for (qsizetype i = 0; i < n; ++i) {
        if (isRootCauseState(g.states[i])) {
            result.roots.append(g.ids[i]);
            result.waitingCount.insert(g.ids[i], 0);
            continue;
        }
        // Only a step that waits reports what it waits on: a running primary's wait is its
        // fallback step's, which says so itself.
        const StepState state = g.states[i];
        if (held[i].isEmpty() || state == StepState::Running)
            continue;
        QStringList ids;
        ids.reserve(held[i].size());
        for (const int r : held[i]) {
            ids.append(g.ids[r]);
            ++result.waitingCount[g.ids[r]];
        }
        result.blockedBy.insert(g.ids[i], ids);
    }
    return result;
}

QString rootCauseReason(const QString &stepId, StepState state) {
    switch (state) {
    case StepState::Failed:
        return QStringLiteral("%1 failed").arg(stepId);
    case StepState::Uncertain:
        return QStringLiteral("%1 has an uncertain outcome").arg(stepId);
    case StepState::WaitingForOperator:
        return QStringLiteral("%1 waits for an operator's approval").arg(stepId);
    case StepState::Paused:
        return QStringLiteral("%1 is paused").arg(stepId);
    default:
        return QStringLiteral("%1 is %2").arg(stepId, stateName(state));
    }
}

QString describeRootCause(const QString &stepId, StepState state, int waiting) {
    const QString reason = rootCauseReason(stepId, state);
    if (waiting <= 0)
        return reason;
    return waiting == 1 ? QStringLiteral("%1; 1 step waits on it").arg(reason)
                        : QStringLiteral("%1; %2 steps wait on it").arg(reason).arg(waiting);
}

} // namespace keepflow
