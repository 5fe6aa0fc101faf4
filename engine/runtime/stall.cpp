#include "runtime/stall.h"

// The engine's guard against a run that can make no progress (see isStalled).

namespace keepflow {

bool isStalled(const LiveRun &run) {
    const auto count = [&run](StepState s) { return run.counts[static_cast<int>(s)]; };
    using S = StepState;
    return !run.paused && count(S::Pending) > 0 && count(S::Queued) == 0 &&
           count(S::Scheduled) == 0 && count(S::Running) == 0 && count(S::Retrying) == 0 &&
           count(S::Uncertain) == 0 && count(S::WaitingForOperator) == 0 && count(S::Paused) == 0;
}

namespace {

/// What a pending step waits for: its primary when it is a fallback, else an unfinished
/// upstream step; -1 when nothing (which a stalled run does not have).
int waitedFor(const LiveRun &run, int i) {
    if (run.plan->primaryOf[i] >= 0)
        return run.plan->primaryOf[i];
    for (int u : run.plan->upstream[i]) {
        if (!isFinal(run.step(u).state))
            return u;
    }
    return -1;
}

} // namespace

// Follows what the stuck steps wait for from the first one until a step repeats.
QString stallReason(const LiveRun &run, int first) {
    QList<int> path{first};
    for (int next = waitedFor(run, first); next >= 0 && path.size() <= run.plan->flow->steps.size();
         next = waitedFor(run, next)) {
        const qsizetype seen = path.indexOf(next);
        if (seen < 0) {
            path.append(next);
            continue;
        }
        // The cycle, in the order the work would flow: each waits for the one before it.
        QString text = run.def(next).id;
        for (qsizetype k = path.size() - 1; k >= seen; --k) {
            const int step = path.at(k);
            const int before = k == path.size() - 1 ? next : path.at(k + 1);
            text += (run.plan->primaryOf[step] == before ? QLatin1String(" -> fallback ")
                                                         : QLatin1String(" -> ")) +
                    run.def(step).id;
        }
        return QStringLiteral("its steps wait for each other in a cycle (%1)").arg(text);
    }
    return QStringLiteral("no step could start and nothing was in flight");
}

} // namespace keepflow
