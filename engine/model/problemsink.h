#pragma once

// Private to engine/model: where the flow validator and the per-kind `with` checks
// (withvalidation.h) report problems, and the value checks they share.

#include "model/flowvalidation.h"
#include "model/limits.h"

#include <QJsonValue>
#include <QList>
#include <QString>

namespace keepflow {

/// The hint of every "invalid duration" message.
inline const QString kDurationHint = QStringLiteral("use a number and a unit (ms, s, m, h, d)");

/// "\"s\"", for names in messages.
QString quoted(const QString &s);

/// The JSON pointer of a member or element of the value at path.
QString child(const QString &path, const QString &key);
QString child(const QString &path, qsizetype index);

/// A string that is exactly one template: its type is only known when the run renders it.
bool isWholeTemplate(const QJsonValue &v);

/// Collects problems in the order reported. path is a JSON pointer into the flow; what names the
/// value in the message (e.g. "step \"x\": \"with.url\"").
class ProblemSink {
public:
    void error(const QString &path, const QString &message, bool atKey = false);
    void warning(const QString &path, const QString &message, bool atKey = false);

    const QList<FlowProblem> &problems() const { return m_problems; }

    // --- value checks shared by several keys ------------------------------------------------

    void checkDuration(const Duration &d, const QString &path, const QString &what,
                       bool mustBePositive);
    /// A duration held in JSON ("max_queue_time", "with.duration"); templates are rendered later.
    void checkJsonDuration(const QJsonValue &v, const QString &path, const QString &what);
    /// Numbers may also be given as one whole template, checked when rendered.
    void checkInteger(const QJsonValue &v, const QString &path, const QString &what, qint64 min,
                      qint64 max);
    /// An integer already read into the flow (a step's "concurrency").
    void checkIntegerRange(qint64 n, const QString &path, const QString &what, qint64 min,
                           qint64 max);
    void checkNumber(const QJsonValue &v, const QString &path, const QString &what, double min,
                     double max);
    void checkString(const QJsonValue &v, const QString &path, const QString &what);
    /// An object whose values are all strings ("env", "headers").
    void checkStringMap(const QJsonValue &v, const QString &path, const QString &what);

private:
    QList<FlowProblem> m_problems;
};

} // namespace keepflow
