#pragma once

// Private to engine/model: the semantic checks behind validateFlow() and parseFlow().

#include "model/flowfile.h"
#include "model/withvalidation.h" // withKeysOf

#include <QList>
#include <QString>
#include <QStringList>

namespace keepflow {

/// A diagnostic before it has a position. atKey: point at the member's key rather than its value
/// (for unknown keys, where the key is what is wrong).
struct FlowProblem {
    Diagnostic::Severity severity = Diagnostic::Severity::Error;
    QString path;
    QString message;
    bool atKey = false;
};

/// Every semantic problem of flow, in the order found.
QList<FlowProblem> collectFlowProblems(const Flow &flow);

/// " (did you mean "after"?)" when key is a likely typo of one of candidates, else "".
QString didYouMean(const QString &key, const QStringList &candidates);

/// "step \"fetch\"" or, for a step without a usable id, "steps[3]".
QString stepLabel(const QString &id, qsizetype index);

/// Ids made of letters, digits, "-" and "_".
bool isValidStepId(const QString &id);

/// The integer value of v when it is a number without a fractional part.
std::optional<qint64> jsonInteger(const QJsonValue &v);

/// Keys Keepflow knows, for unknown-key warnings and the serializer.
const QStringList &knownTopLevelKeys();
const QStringList &knownStepKeys();
const QStringList &knownDefaultsKeys();
const QStringList &knownParamKeys();

} // namespace keepflow
