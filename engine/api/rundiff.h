#pragma once

// A run compared with another run of its flow (by default the last one that succeeded before
// it): what an operator reads to see what changed between a failed run and the last good one.
// One implementation for `keepflowctl diff` and the desktop's comparison view. diffRuns() reads
// the two runs' rows through the OperatorApi; compareRuns() and the formatting are pure.
//
// What is compared: the run parameters, the flow versions (and, when they differ, which steps
// the newer definition added, removed or changed), and per step its state, attempts, duration,
// last error and output (a JSON comparison that names the paths where the outputs differ).
// Durations are measured, so they always differ a little: two count as different only when
// they are at least kDurationToleranceMs apart and the longer is at least
// kDurationToleranceRatio times the shorter.

#include "core/records.h"
#include "core/status.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace keepflow {

class OperatorApi;

/// The JSON paths where a and b differ, in document order ("$" when they differ as a whole: a
/// different type or scalar; "$.rows[2].id", "$[\"odd key\"]" inside; an element or key present
/// on one side only is named once). At most limit paths; an undefined value counts as null.
QStringList jsonDifferences(const QJsonValue &a, const QJsonValue &b, int limit = 50);

/// A step's duration: its first attempt's start to its end; nullopt while it has not ended.
std::optional<qint64> stepDurationMs(const StepRunRow &row);

/// Whether two step durations count as different (see the top of this file).
bool durationsDiffer(std::optional<qint64> a, std::optional<qint64> b);

/// One step of either run and what differs about it.
struct StepDiff {
    QString stepId;
    std::optional<StepRunRow> run;   ///< its row in the run; empty when the run has no such step
    std::optional<StepRunRow> other; ///< its row in the other run
    bool stateDiffers = false;
    bool attemptsDiffer = false;
    bool durationDiffers = false;
    bool errorDiffers = false;
    QStringList outputPaths; ///< where the outputs differ (jsonDifferences); empty when equal
    /// The flow versions differ and this step's definition does: the paths inside the step
    /// ("$.with.url"); a step only one version has is named by definitionAdded/Removed.
    QStringList definitionPaths;
    bool definitionAdded = false;   ///< only the run's flow version has this step
    bool definitionRemoved = false; ///< only the other run's flow version has it

    bool outputDiffers() const { return !outputPaths.isEmpty(); }
    /// The step's rows differ (what `keepflowctl diff --json` lists under "steps").
    bool rowsDiffer() const {
        return stateDiffers || attemptsDiffer || durationDiffers || errorDiffers || outputDiffers();
    }
    bool definitionDiffers() const {
        return definitionAdded || definitionRemoved || !definitionPaths.isEmpty();
    }
    bool differs() const { return rowsDiffer() || definitionDiffers(); }
    /// What differs, one line each, for a person: "state: failed, other run: succeeded".
    QStringList describe() const;
};

struct RunDiff {
    static constexpr qint64 kDurationToleranceMs = 1000;
    static constexpr double kDurationToleranceRatio = 1.5;

    RunRow run;           ///< the run looked at
    RunRow other;         ///< what it is compared with
    int version = 0;      ///< the run's flow version
    int otherVersion = 0; ///< the other run's
    /// Parameters that differ, by name: (the run's value, the other's), null when absent.
    QList<std::pair<QString, std::pair<QJsonValue, QJsonValue>>> params;
    /// Every step that differs in its rows or its definition: the run's steps in flow order,
    /// then those only the other run has.
    QList<StepDiff> steps;

    bool versionsDiffer() const { return run.flowId != other.flowId; }
    bool isEmpty() const { return params.isEmpty() && !versionsDiffer() && steps.isEmpty(); }
    /// The step's differences; null when it does not differ.
    const StepDiff *step(const QString &stepId) const;
};

/// What compareRuns() needs of one run.
struct RunDiffSide {
    RunRow run;
    QList<StepRunRow> steps;
    FlowVersionRow flow; ///< the version the run executes
};

/// Compares run with other (pure: the rows are given).
RunDiff compareRuns(const RunDiffSide &run, const RunDiffSide &other);

/// Reads both runs and compares them. otherId empty: the last succeeded run of the flow before
/// runId (OperatorApi::lastSucceededRunBefore), an error naming the flow when there is none. An
/// unknown run is an error naming it; so are runs of two different flows.
Result<RunDiff> diffRuns(OperatorApi &api, const QString &runId, const QString &otherId = {});

/// `diff --json`: { "run", "other", "params": {NAME: [A, B]}, "flow_versions": [A, B],
/// "steps": [{ "id", "state", "attempts", "duration_ms", "error", "output_differs" }] }, with
/// only what differs besides run and other: params and steps only when some differ,
/// flow_versions only when they differ, within a step only the keys that differ (each [A, B],
/// null for a step one run does not have; output_differs is true or absent).
QJsonObject runDiffJson(const RunDiff &diff);

/// The `diff` text: a header naming both runs, then a table of the differences.
QString runDiffText(const RunDiff &diff);

} // namespace keepflow
