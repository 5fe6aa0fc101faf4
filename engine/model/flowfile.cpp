#include "model/flowfile.h"

#include "model/flowvalidation.h"
#include "model/jsonpositions.h"
#include "model/problemsink.h"

#include <QFile>
#include <QJsonArray>
#include <QSaveFile>
#include <QSet>

#include <algorithm>
#include <limits>

namespace keepflow {

namespace {

int clampToInt(qint64 v) {
    return int(
        std::clamp<qint64>(v, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

// Builds the typed Flow from the JSON tree, reporting wrong types and unknown keys. A value of
// the wrong type is left out of the Flow and its path is remembered, so that validation does not
// report the same problem a second time in other words.
class FlowReader {
public:
    Flow read(const QJsonValue &rootValue) {
        Flow flow;
        if (!rootValue.isObject()) {
            typeError(QString(), QStringLiteral("a flow file must be a JSON object"));
            return flow;
        }
        const QJsonObject root = rootValue.toObject();
        if (!root.contains(QLatin1String("keepflow"))) {
            typeError(QStringLiteral("/keepflow"),
                      QStringLiteral("missing \"keepflow\": 1 (the flow file format version)"));
            flow.formatVersion = 0;
        }
        for (auto it = root.begin(); it != root.end(); ++it) {
            const QString key = it.key();
            const QJsonValue v = it.value();
            const QString path = child(QString(), key);
            if (key == QLatin1String("$schema")) {
                if (v.isString())
                    flow.schema = v.toString();
                else
                    typeError(path, QStringLiteral("\"$schema\" must be a string: the URL of the "
                                                   "flow file's JSON Schema"));
            } else if (key == QLatin1String("keepflow")) {
                if (const auto n = jsonInteger(v)) {
                    flow.formatVersion = clampToInt(*n);
                } else {
                    typeError(path, QStringLiteral("\"keepflow\" must be the number 1"));
                    flow.formatVersion = 0;
                }
            } else if (key == QLatin1String("name")) {
                flow.name = readString(v, path, QStringLiteral("\"name\""));
            } else if (key == QLatin1String("description")) {
                flow.description = readString(v, path, QStringLiteral("\"description\""));
            } else if (key == QLatin1String("params")) {
                readParams(flow, v, path);
            } else if (key == QLatin1String("defaults")) {
                readDefaults(flow, v, path);
            } else if (key == QLatin1String("resources")) {
                readResources(flow, v, path);
            } else if (key == QLatin1String("steps")) {
                readSteps(flow, v, path);
            } else {
                flow.extra.insert(key, v);
                unknownKey(path, QStringLiteral("unknown key %1 at the top level%2")
                                     .arg(quoted(key), didYouMean(key, knownTopLevelKeys())));
            }
        }
        return flow;
    }

    QList<FlowProblem> problems;
    QStringList suppressed; ///< paths whose value had the wrong type

private:
    void typeError(const QString &path, const QString &message) {
        problems.append({Diagnostic::Severity::Error, path, message, false});
        suppressed.append(path);
    }
    void unknownKey(const QString &path, const QString &message) {
        problems.append({Diagnostic::Severity::Warning, path, message, true});
    }

    QString readString(const QJsonValue &v, const QString &path, const QString &what) {
        if (v.isString())
            return v.toString();
        typeError(path, QStringLiteral("%1 must be a string").arg(what));
        return {};
    }

    std::optional<QJsonObject> readObject(const QJsonValue &v, const QString &path,
                                          const QString &what) {
        if (v.isObject())
            return v.toObject();
        typeError(path, QStringLiteral("%1 must be an object").arg(what));
        return std::nullopt;
    }

    std::optional<Duration> readDuration(const QJsonValue &v, const QString &path,
                                         const QString &what) {
        if (!v.isString()) {
            typeError(path, QStringLiteral("%1 must be a duration such as \"10s\"").arg(what));
            return std::nullopt;
        }
        Duration d;
        d.text = v.toString();
        d.ms = parseDurationMs(d.text).value_or(0); // an invalid text is reported by validation
        return d;
    }

    void readParams(Flow &flow, const QJsonValue &v, const QString &path) {
        const auto params = readObject(v, path, QStringLiteral("\"params\""));
        if (!params)
            return;
        for (auto it = params->begin(); it != params->end(); ++it) {
            const QString paramPath = child(path, it.key());
            ParamSpec p;
            p.name = it.key();
            if (!it.value().isObject()) {
                typeError(paramPath, QStringLiteral("param %1 must be an object such as "
                                                    "{ \"default\": \"x\", \"description\": "
                                                    "\"...\" }")
                                         .arg(quoted(p.name)));
                flow.params.append(p);
                continue;
            }
            const QJsonObject o = it.value().toObject();
            for (auto m = o.begin(); m != o.end(); ++m) {
                const QString memberPath = child(paramPath, m.key());
                if (m.key() == QLatin1String("default")) {
                    p.defaultValue = m.value();
                } else if (m.key() == QLatin1String("description")) {
                    p.description =
                        readString(m.value(), memberPath,
                                   QStringLiteral("param %1: \"description\"").arg(quoted(p.name)));
                } else {
                    p.extra.insert(m.key(), m.value());
                    unknownKey(memberPath, QStringLiteral("unknown key %1 in param %2%3")
                                               .arg(quoted(m.key()), quoted(p.name),
                                                    didYouMean(m.key(), knownParamKeys())));
                }
            }
            flow.params.append(p);
        }
    }

    void readDefaults(Flow &flow, const QJsonValue &v, const QString &path) {
        const auto defaults = readObject(v, path, QStringLiteral("\"defaults\""));
        if (!defaults)
            return;
        for (auto it = defaults->begin(); it != defaults->end(); ++it) {
            const QString memberPath = child(path, it.key());
            if (it.key() == QLatin1String("retry")) {
                flow.defaultRetry =
                    readObject(it.value(), memberPath, QStringLiteral("defaults: \"retry\""));
            } else if (it.key() == QLatin1String("timeout")) {
                flow.defaultTimeout =
                    readDuration(it.value(), memberPath, QStringLiteral("defaults: \"timeout\""));
            } else {
                flow.defaultsExtra.insert(it.key(), it.value());
                unknownKey(memberPath,
                           QStringLiteral("unknown key %1 in \"defaults\"%2")
                               .arg(quoted(it.key()), didYouMean(it.key(), knownDefaultsKeys())));
            }
        }
    }

    void readResources(Flow &flow, const QJsonValue &v, const QString &path) {
        const auto resources = readObject(v, path, QStringLiteral("\"resources\""));
        if (!resources)
            return;
        for (auto it = resources->begin(); it != resources->end(); ++it) {
            ResourceSpec r;
            r.name = it.key();
            if (const auto d = readObject(it.value(), child(path, it.key()),
                                          QStringLiteral("resource %1").arg(quoted(r.name))))
                r.definition = *d;
            flow.resources.append(r);
        }
    }

    void readSteps(Flow &flow, const QJsonValue &v, const QString &path) {
        if (!v.isArray()) {
            typeError(path, QStringLiteral("\"steps\" must be an array of step objects"));
            return;
        }
        const QJsonArray steps = v.toArray();
        for (qsizetype i = 0; i < steps.size(); ++i) {
            const QString stepPath = child(path, i);
            if (!steps.at(i).isObject()) {
                // Keep a placeholder so that step indexes still match the file's.
                typeError(stepPath, QStringLiteral("steps[%1] must be an object").arg(i));
                flow.steps.append(Step());
                continue;
            }
            flow.steps.append(readStep(steps.at(i).toObject(), stepPath, i));
        }
    }

    Step readStep(const QJsonObject &o, const QString &path, qsizetype index) {
        Step s;
        const QJsonValue idValue = o.value(QLatin1String("id"));
        if (idValue.isString())
            s.id = idValue.toString();
        const QString prefix = stepLabel(s.id, index) + QStringLiteral(": ");
        auto what = [&](const QString &key) { return prefix + quoted(key); };

        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString key = it.key();
            const QJsonValue v = it.value();
            const QString p = child(path, key);
            if (key == QLatin1String("id")) {
                if (!v.isString())
                    typeError(p, what(key) + QStringLiteral(" must be a string"));
            } else if (key == QLatin1String("kind")) {
                s.kind = readString(v, p, what(key));
            } else if (key == QLatin1String("description")) {
                s.description = readString(v, p, what(key));
            } else if (key == QLatin1String("after")) {
                readAfter(s, v, p, what(key));
            } else if (key == QLatin1String("join")) {
                s.join = joinRuleFromName(v.toString());
                if (!s.join)
                    typeError(p,
                              prefix + QStringLiteral("unknown join rule %1: use all_succeeded, "
                                                      "all_done, any_succeeded or none_failed")
                                           .arg(v.isString() ? quoted(v.toString())
                                                             : QStringLiteral("(not a string)")));
            } else if (key == QLatin1String("resource")) {
                s.resource = readString(v, p, what(key));
            } else if (key == QLatin1String("idempotency")) {
                s.idempotency = idempotencyFromName(v.toString());
                if (!s.idempotency)
                    typeError(p,
                              prefix + QStringLiteral("unknown idempotency %1: use idempotent, "
                                                      "keyed or none")
                                           .arg(v.isString() ? quoted(v.toString())
                                                             : QStringLiteral("(not a string)")));
            } else if (key == QLatin1String("foreach")) {
                s.foreach = v;
            } else if (key == QLatin1String("item_key")) {
                s.itemKey = readString(v, p, what(key));
            } else if (key == QLatin1String("concurrency")) {
                if (const auto n = jsonInteger(v))
                    s.concurrency = clampToInt(*n); // the range is checked by validation
                else
                    typeError(
                        p,
                        what(key) +
                            QStringLiteral(" must be an integer between 1 and %1").arg(kMaxCount));
            } else if (key == QLatin1String("tolerate")) {
                readTolerate(s, v, p, prefix);
            } else if (key == QLatin1String("with")) {
                if (const auto with = readObject(v, p, what(key)))
                    s.with = *with;
            } else if (key == QLatin1String("retry")) {
                s.retry = readObject(v, p, what(key));
            } else if (key == QLatin1String("timeout")) {
                s.timeout = readDuration(v, p, what(key));
            } else if (key == QLatin1String("deadline")) {
                s.deadline = readDuration(v, p, what(key));
            } else if (key == QLatin1String("delay")) {
                s.delay = readDuration(v, p, what(key));
            } else if (key == QLatin1String("not_before")) {
                s.notBefore = readString(v, p, what(key));
            } else if (key == QLatin1String("fallback")) {
                readFallback(s, v, p, prefix);
            } else if (key == QLatin1String("drill")) {
                s.drill = readObject(v, p, what(key));
            } else if (key == QLatin1String("ui")) {
                s.ui = readObject(v, p, what(key));
            } else {
                s.extra.insert(key, v);
                unknownKey(p, QStringLiteral("unknown key %1 in %2%3")
                                  .arg(quoted(key), stepLabel(s.id, index),
                                       didYouMean(key, knownStepKeys())));
            }
        }
        return s;
    }

    void readAfter(Step &s, const QJsonValue &v, const QString &path, const QString &what) {
        const QString message = what + QStringLiteral(" must be an array of step ids");
        if (!v.isArray()) {
            typeError(path, message);
            return;
        }
        const QJsonArray a = v.toArray();
        s.after.reserve(a.size());
        qsizetype k = 0;
        // Through references: a.at(k) would build a QJsonValue (and allocate) for every id.
        for (auto it = a.begin(); it != a.end(); ++it, ++k) {
            if (const QJsonValueConstRef id = *it; id.isString())
                s.after.append(shared(id.toString()));
            else
                typeError(child(path, k), message);
        }
    }

    /// One copy of each step id named in "after": a step waiting for all 1,500 before it would
    /// otherwise hold a million copies of a few thousand names.
    QString shared(const QString &id) {
        auto it = m_afterIds.constFind(id);
        if (it == m_afterIds.cend())
            it = m_afterIds.insert(id);
        return *it;
    }

    void readTolerate(Step &s, const QJsonValue &v, const QString &path, const QString &prefix) {
        const QString shape = prefix + QStringLiteral("\"tolerate\" must be { \"max_failed\": N } "
                                                      "or { \"max_failed_ratio\": R }");
        if (!v.isObject()) {
            typeError(path, shape);
            return;
        }
        Tolerate t;
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString p = child(path, it.key());
            if (it.key() == QLatin1String("max_failed")) {
                if (const auto n = jsonInteger(it.value()))
                    t.maxFailed = clampToInt(*n);
                else
                    typeError(p, prefix + QStringLiteral("\"tolerate.max_failed\" must be an "
                                                         "integer between 0 and %1")
                                              .arg(kMaxCount));
            } else if (it.key() == QLatin1String("max_failed_ratio")) {
                if (it.value().isDouble())
                    t.maxFailedRatio = it.value().toDouble();
                else
                    typeError(p, prefix + QStringLiteral("\"tolerate.max_failed_ratio\" must be "
                                                         "a number between 0 and 1"));
            } else {
                // The whole "tolerate" is wrong then: validation need not add that it is empty.
                problems.append({Diagnostic::Severity::Error, p,
                                 QStringLiteral("%1 (unknown key %2)").arg(shape, quoted(it.key())),
                                 true});
                suppressed.append(path);
            }
        }
        // A member of the wrong type is reported already: "tolerate" is not empty, only wrong.
        if (!t.maxFailed && !t.maxFailedRatio && !o.isEmpty())
            suppressed.append(path);
        s.tolerate = t;
    }

    void readFallback(Step &s, const QJsonValue &v, const QString &path, const QString &prefix) {
        const QString shape = prefix + QStringLiteral("\"fallback\" must be { \"value\": JSON } "
                                                      "or { \"step\": \"ID\" }");
        const QJsonObject o = v.toObject();
        if (!v.isObject() || o.size() != 1) {
            typeError(path, shape);
            return;
        }
        if (o.contains(QLatin1String("value"))) {
            s.fallback.kind = Fallback::Kind::Value;
            s.fallback.value = o.value(QLatin1String("value"));
        } else if (o.contains(QLatin1String("step"))) {
            const QJsonValue step = o.value(QLatin1String("step"));
            if (!step.isString()) {
                typeError(child(path, QStringLiteral("step")),
                          prefix + QStringLiteral("\"fallback.step\" must be a step id"));
                return;
            }
            s.fallback.kind = Fallback::Kind::Step;
            s.fallback.step = step.toString();
        } else {
            typeError(path, shape);
        }
    }

    QSet<QString> m_afterIds; ///< see shared()
};

bool isSuppressed(const QString &path, const QStringList &suppressed) {
    for (const QString &s : suppressed) {
        if (path == s || path.startsWith(s + QLatin1Char('/')) || s.isEmpty())
            return true;
    }
    return false;
}

} // namespace

QString Diagnostic::toString() const {
    QString where = file;
    if (line > 0)
        where += QStringLiteral(":%1:%2").arg(line).arg(column);
    QString s;
    if (!where.isEmpty())
        s = where + QStringLiteral(": ");
    s += severity == Severity::Error ? QStringLiteral("error: ") : QStringLiteral("warning: ");
    s += message;
    // In-memory diagnostics have no position; the JSON path still says where.
    if (line == 0 && !path.isEmpty())
        s += QStringLiteral(" (at %1)").arg(path);
    return s;
}

QString FlowLoad::errorText() const {
    QStringList lines;
    for (const Diagnostic &d : diagnostics) {
        if (d.severity == Diagnostic::Severity::Error)
            lines.append(d.toString());
    }
    return lines.join(QLatin1Char('\n'));
}

FlowLoad parseFlow(const QByteArray &text, const QString &fileName) {
    FlowLoad load;
    JsonParseResult json = parseJson(text, JsonPositions::NotRecorded);
    if (!json.ok) {
        Diagnostic d;
        d.file = fileName;
        d.line = json.errorPosition.line;
        d.column = json.errorPosition.column;
        d.message = json.errorMessage;
        load.diagnostics.append(d);
        return load;
    }

    FlowReader reader;
    Flow flow = reader.read(json.json.value);
    json.json.value = QJsonValue(); // the document is read: free it before validation runs
    QList<FlowProblem> problems = reader.problems;
    const bool wellTyped =
        std::none_of(reader.problems.cbegin(), reader.problems.cend(), [](const FlowProblem &p) {
            return p.severity == Diagnostic::Severity::Error;
        });
    for (const FlowProblem &p : collectFlowProblems(flow)) {
        if (!isSuppressed(p.path, reader.suppressed))
            problems.append(p);
    }

    // Positions are worked out only when there is something to point at.
    const PositionedJson positioned =
        problems.isEmpty() ? PositionedJson() : parseJsonWithPositions(text).json;
    bool hasError = false;
    for (const FlowProblem &p : problems) {
        Diagnostic d;
        d.severity = p.severity;
        d.file = fileName;
        d.path = p.path;
        d.message = p.message;
        TextPosition pos;
        if (p.atKey)
            pos = positioned.keyPositions.value(p.path);
        if (!pos.isValid())
            pos = positioned.nearestValuePosition(p.path);
        d.line = pos.line;
        d.column = pos.column;
        hasError = hasError || d.severity == Diagnostic::Severity::Error;
        load.diagnostics.append(d);
    }
    std::stable_sort(load.diagnostics.begin(), load.diagnostics.end(),
                     [](const Diagnostic &a, const Diagnostic &b) {
                         return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    if (wellTyped)
        load.draft = flow;
    if (!hasError)
        load.flow = std::move(flow);
    return load;
}

FlowLoad loadFlowFile(const QString &path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        FlowLoad load;
        Diagnostic d;
        d.file = path;
        d.message = QStringLiteral("cannot read the file: %1").arg(file.errorString());
        load.diagnostics.append(d);
        return load;
    }
    return parseFlow(file.readAll(), path);
}

Status saveFlowFile(const Flow &flow, const QString &path) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Status::error(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    const QByteArray text = serializeFlow(flow);
    if (file.write(text) != text.size()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return Status::error(QStringLiteral("cannot write %1: %2").arg(path, why));
    }
    if (!file.commit())
        return Status::error(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return Status::ok();
}

} // namespace keepflow
