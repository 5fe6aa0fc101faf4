#include "model/problemsink.h"

#include "model/jsonpositions.h"
#include "model/template.h"

#include <QJsonObject>

#include <cmath>

namespace keepflow {

QString quoted(const QString &s) {
    return QLatin1Char('"') + s + QLatin1Char('"');
}

QString child(const QString &path, const QString &key) {
    return path + QLatin1Char('/') + escapeJsonPointerToken(key);
}
QString child(const QString &path, qsizetype index) {
    return path + QLatin1Char('/') + QString::number(index);
}

bool isWholeTemplate(const QJsonValue &v) {
    if (!v.isString())
        return false;
    const QString s = v.toString();
    const auto refs = parseTemplates(s);
    return refs && refs->size() == 1 && refs->at(0).offset == 0 && refs->at(0).length == s.size();
}

void ProblemSink::error(const QString &path, const QString &message, bool atKey) {
    m_problems.append({Diagnostic::Severity::Error, path, message, atKey});
}

void ProblemSink::warning(const QString &path, const QString &message, bool atKey) {
    m_problems.append({Diagnostic::Severity::Warning, path, message, atKey});
}

void ProblemSink::checkDuration(const Duration &d, const QString &path, const QString &what,
                                bool mustBePositive) {
    qint64 ms = d.ms;
    if (!d.text.isEmpty()) {
        const auto parsed = parseDurationMs(d.text);
        if (!parsed) {
            error(path, QStringLiteral("%1: invalid duration %2: %3")
                            .arg(what, quoted(d.text), kDurationHint));
            return;
        }
        ms = *parsed;
    }
    if (ms < 0)
        error(path, QStringLiteral("%1: a duration cannot be negative").arg(what));
    else if (ms > kMaxDurationMs)
        error(path, QStringLiteral("%1: a duration must be at most %2")
                        .arg(what, formatDuration(kMaxDurationMs)));
    else if (mustBePositive && ms == 0)
        error(path, QStringLiteral("%1: must be longer than 0").arg(what));
}

void ProblemSink::checkJsonDuration(const QJsonValue &v, const QString &path, const QString &what) {
    if (v.isString()) {
        const QString s = v.toString();
        if (hasTemplate(s))
            return;
        const auto ms = parseDurationMs(s);
        if (!ms)
            error(
                path,
                QStringLiteral("%1: invalid duration %2: %3").arg(what, quoted(s), kDurationHint));
        else if (*ms > kMaxDurationMs)
            error(path, QStringLiteral("%1: a duration must be at most %2, not %3")
                            .arg(what, formatDuration(kMaxDurationMs), quoted(s)));
        return;
    }
    error(path, QStringLiteral("%1 must be a duration such as \"10s\"").arg(what));
}

void ProblemSink::checkInteger(const QJsonValue &v, const QString &path, const QString &what,
                               qint64 min, qint64 max) {
    if (isWholeTemplate(v))
        return;
    const auto n = jsonInteger(v);
    if (!n || *n < min || *n > max)
        error(path,
              QStringLiteral("%1 must be an integer between %2 and %3%4")
                  .arg(what)
                  .arg(min)
                  .arg(max)
                  .arg(v.isDouble() ? QStringLiteral(", not ") + templateText(v) : QString()));
}

void ProblemSink::checkIntegerRange(qint64 n, const QString &path, const QString &what, qint64 min,
                                    qint64 max) {
    if (n < min || n > max)
        error(
            path,
            QStringLiteral("%1 must be an integer between %2 and %3").arg(what).arg(min).arg(max));
}

void ProblemSink::checkNumber(const QJsonValue &v, const QString &path, const QString &what,
                              double min, double max) {
    if (isWholeTemplate(v))
        return;
    if (!v.isDouble() || !(v.toDouble() >= min && v.toDouble() <= max))
        error(path,
              QStringLiteral("%1 must be a number between %2 and %3%4")
                  .arg(what)
                  .arg(min)
                  .arg(max)
                  .arg(v.isDouble() ? QStringLiteral(", not ") + templateText(v) : QString()));
}

void ProblemSink::checkString(const QJsonValue &v, const QString &path, const QString &what) {
    if (!v.isString())
        error(path, QStringLiteral("%1 must be a string").arg(what));
}

void ProblemSink::checkStringMap(const QJsonValue &v, const QString &path, const QString &what) {
    if (!v.isObject()) {
        error(path, QStringLiteral("%1 must be an object of strings").arg(what));
        return;
    }
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!it.value().isString())
            error(child(path, it.key()),
                  QStringLiteral("%1 must be an object of strings: %2 is not a string")
                      .arg(what, quoted(it.key())));
    }
}

} // namespace keepflow
