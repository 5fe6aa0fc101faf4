#include "api/rundiff.h"

#include "api/operatorapi.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <algorithm>

namespace keepflow {

namespace {

QJsonValue nullWhenUndefined(const QJsonValue &value) {
    return value.isUndefined() ? QJsonValue(QJsonValue::Null) : value;
}

/// ".name" for a plain key, else ["key"] with the key as a JSON string.
QString keyPath(const QString &key) {
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    if (plain.match(key).hasMatch())
        return QLatin1Char('.') + key;
    const QByteArray quoted = QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(quoted); // ["key"]
}

void collectDifferences(const QJsonValue &a, const QJsonValue &b, const QString &path,
                        QStringList &paths, int limit) {
    if (paths.size() >= limit)
        return;
    if (a.isObject() && b.isObject()) {
        const QJsonObject left = a.toObject();
        const QJsonObject right = b.toObject();
        QStringList keys = left.keys() + right.keys();
        keys.sort();
        keys.removeDuplicates();
        for (const QString &key : keys) {
            if (!left.contains(key) || !right.contains(key)) {
                if (paths.size() < limit)
                    paths.append(path + keyPath(key));
                continue;
            }
            collectDifferences(left.value(key), right.value(key), path + keyPath(key), paths,
                               limit);
        }
        return;
    }
    if (a.isArray() && b.isArray()) {
        const QJsonArray left = a.toArray();
        const QJsonArray right = b.toArray();
        const qsizetype common = std::min(left.size(), right.size());
        for (qsizetype i = 0; i < common; ++i)
            collectDifferences(left.at(i), right.at(i), QStringLiteral("%1[%2]").arg(path).arg(i),
                               paths, limit);
        for (qsizetype i = common; i < std::max(left.size(), right.size()); ++i) {
            if (paths.size() >= limit)
                return;
            paths.append(QStringLiteral("%1[%2]").arg(path).arg(i));
        }
        return;
    }
    if (nullWhenUndefined(a) != nullWhenUndefined(b))
        paths.append(path);
}

/// The steps of a stored flow definition, by id, without their editor data ("ui": positions on
/// the canvas are no change to what the step does).
QHash<QString, QJsonObject> stepDefinitions(const FlowVersionRow &flow) {
    QHash<QString, QJsonObject> steps;
    const QJsonArray list =
        QJsonDocument::fromJson(flow.definition).object().value(QLatin1String("steps")).toArray();
    for (const QJsonValue &value : list) {
        QJsonObject step = value.toObject();
        step.remove(QStringLiteral("ui"));
        steps.insert(step.value(QLatin1String("id")).toString(), step);
    }
    return steps;
}

QJsonValue textOrNull(const QString &text) {
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonValue durationJson(const std::optional<StepRunRow> &row) {
    if (!row)
        return QJsonValue::Null;
    const auto duration = stepDurationMs(*row);
    return duration ? QJsonValue(*duration) : QJsonValue(QJsonValue::Null);
}

QJsonArray pair(const QJsonValue &a, const QJsonValue &b) {
    return QJsonArray{a, b};
}

QString durationText(std::optional<qint64> ms) {
    if (!ms)
        return QStringLiteral("-");
    if (*ms < 1000)
        return QStringLiteral("%1ms").arg(*ms);
    return QStringLiteral("%1s").arg(static_cast<double>(*ms) / 1000.0, 0, 'f', 1);
}

QString valueText(const QJsonValue &value) {
    if (value.isNull() || value.isUndefined())
        return QStringLiteral("-");
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    // A scalar, as JSON: a string keeps its quotes, so "1" and 1 read differently.
    const QByteArray inArray = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(inArray.mid(1, inArray.size() - 2));
}

QString stateText(const std::optional<StepRunRow> &row) {
    return row ? stateName(row->state) : QStringLiteral("(no such step)");
}

QString attemptsText(const std::optional<StepRunRow> &row) {
    return row ? QString::number(row->attempts) : QStringLiteral("-");
}

QString errorText(const std::optional<StepRunRow> &row) {
    return row && !row->error.isEmpty() ? row->error : QStringLiteral("-");
}

QString pathsText(const QStringList &paths) {
    return paths.join(QStringLiteral(", "));
}

/// At most width characters of text on one line, with "…" where it was cut.
QString cell(QString text, int width) {
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (text.size() > width)
        text = text.left(width - 1) + QChar(0x2026);
    return text;
}

} // namespace

QStringList jsonDifferences(const QJsonValue &a, const QJsonValue &b, int limit) {
    QStringList paths;
    collectDifferences(a, b, QStringLiteral("$"), paths, limit);
    return paths;
}

std::optional<qint64> stepDurationMs(const StepRunRow &row) {
    if (row.startedAt == 0 || row.endedAt == 0)
        return std::nullopt;
    return row.endedAt - row.startedAt;
}

bool durationsDiffer(std::optional<qint64> a, std::optional<qint64> b) {
    if (!a || !b)
        return a.has_value() != b.has_value();
    const qint64 shorter = std::min(*a, *b);
    const qint64 longer = std::max(*a, *b);
    return longer - shorter >= RunDiff::kDurationToleranceMs &&
           static_cast<double>(longer) >=
               static_cast<double>(shorter) * RunDiff::kDurationToleranceRatio;
}

QStringList StepDiff::describe() const {
    QStringList lines;
    if (definitionAdded)
        lines << QStringLiteral("added in this run's flow version");
    if (definitionRemoved)
        lines << QStringLiteral("removed from this run's flow version");
    if (!definitionPaths.isEmpty())
        lines << QStringLiteral("definition changed at %1").arg(pathsText(definitionPaths));
    if (stateDiffers)
        lines << QStringLiteral("state: %1, other run: %2").arg(stateText(run), stateText(other));
    if (attemptsDiffer)
        lines << QStringLiteral("attempts: %1, other run: %2")
                     .arg(attemptsText(run), attemptsText(other));
    if (durationDiffers)
        lines << QStringLiteral("duration: %1, other run: %2")
                     .arg(durationText(run ? stepDurationMs(*run) : std::nullopt),
                          durationText(other ? stepDurationMs(*other) : std::nullopt));
    if (errorDiffers)
        lines << QStringLiteral("error: %1, other run: %2").arg(errorText(run), errorText(other));
    if (outputDiffers())
        lines << QStringLiteral("output differs at %1").arg(pathsText(outputPaths));
    return lines;
}

const StepDiff *RunDiff::step(const QString &stepId) const {
    for (const StepDiff &step : steps) {
        if (step.stepId == stepId)
            return &step;
    }
    return nullptr;
}

RunDiff compareRuns(const RunDiffSide &run, const RunDiffSide &other) {
    RunDiff diff;
    diff.run = run.run;
    diff.other = other.run;
    diff.version = run.flow.version;
    diff.otherVersion = other.flow.version;

    QStringList names = run.run.params.keys() + other.run.params.keys();
    names.sort();
    names.removeDuplicates();
    for (const QString &name : names) {
        const QJsonValue a = nullWhenUndefined(run.run.params.value(name));
        const QJsonValue b = nullWhenUndefined(other.run.params.value(name));
        if (a != b)
            diff.params.append({name, {a, b}});
    }

    QHash<QString, QJsonObject> definitions;
    QHash<QString, QJsonObject> otherDefinitions;
    if (diff.versionsDiffer()) {
        definitions = stepDefinitions(run.flow);
        otherDefinitions = stepDefinitions(other.flow);
    }
    QHash<QString, StepRunRow> otherRows;
    for (const StepRunRow &row : other.steps)
        otherRows.insert(row.stepId, row);
    QHash<QString, StepRunRow> rows;
    QStringList order;
    for (const StepRunRow &row : run.steps) {
        rows.insert(row.stepId, row);
        order << row.stepId;
    }
    for (const StepRunRow &row : other.steps) {
        if (!rows.contains(row.stepId))
            order << row.stepId;
    }

    for (const QString &id : order) {
        StepDiff step;
        step.stepId = id;
        if (auto found = rows.constFind(id); found != rows.cend())
            step.run = *found;
        if (auto found = otherRows.constFind(id); found != otherRows.cend())
            step.other = *found;
        const auto a = step.run;
        const auto b = step.other;
        step.stateDiffers = !a || !b || a->state != b->state;
        step.attemptsDiffer = (a ? a->attempts : -1) != (b ? b->attempts : -1);
        step.durationDiffers = durationsDiffer(a ? stepDurationMs(*a) : std::nullopt,
                                               b ? stepDurationMs(*b) : std::nullopt);
        step.errorDiffers = (a ? a->error : QString()) != (b ? b->error : QString());
        step.outputPaths =
            jsonDifferences(a ? a->output : QJsonValue(), b ? b->output : QJsonValue());
        if (diff.versionsDiffer()) {
            const bool defined = definitions.contains(id);
            const bool otherDefined = otherDefinitions.contains(id);
            step.definitionAdded = defined && !otherDefined;
            step.definitionRemoved = !defined && otherDefined;
            if (defined && otherDefined)
                step.definitionPaths =
                    jsonDifferences(definitions.value(id), otherDefinitions.value(id));
        }
        if (step.differs())
            diff.steps.append(step);
    }
    return diff;
}

Result<RunDiff> diffRuns(OperatorApi &api, const QString &runId, const QString &otherId) {
    auto run = api.run(runId);
    if (!run)
        return run.status();
    RunRow otherRun;
    if (otherId.isEmpty()) {
        auto last = api.lastSucceededRunBefore(runId);
        if (!last)
            return last.status();
        if (!*last)
            return Status::error(
                QStringLiteral("flow \"%1\" has no succeeded run before run %2 to compare it with")
                    .arg(run->flowName, runId));
        otherRun = **last;
    } else {
        auto found = api.run(otherId);
        if (!found)
            return found.status();
        otherRun = *found;
    }
    if (otherRun.flowName != run->flowName)
        return Status::error(QStringLiteral("run %1 is of flow \"%2\" and run %3 of flow \"%4\": "
                                            "only runs of one flow are compared")
                                 .arg(runId, run->flowName, otherRun.id, otherRun.flowName));
    RunDiffSide sides[2];
    sides[0].run = *run;
    sides[1].run = otherRun;
    for (RunDiffSide &side : sides) {
        auto steps = api.stepRuns(side.run.id);
        if (!steps)
            return steps.status();
        side.steps = *steps;
        auto flow = api.flowVersion(side.run.flowId);
        if (!flow)
            return flow.status();
        side.flow = *flow;
    }
    return compareRuns(sides[0], sides[1]);
}

QJsonObject runDiffJson(const RunDiff &diff) {
    QJsonObject json{{QStringLiteral("run"), diff.run.id},
                     {QStringLiteral("other"), diff.other.id}};
    if (!diff.params.isEmpty()) {
        QJsonObject params;
        for (const auto &[name, values] : diff.params)
            params.insert(name, pair(values.first, values.second));
        json.insert(QStringLiteral("params"), params);
    }
    if (diff.versionsDiffer())
        json.insert(QStringLiteral("flow_versions"), pair(diff.version, diff.otherVersion));
    QJsonArray steps;
    for (const StepDiff &step : diff.steps) {
        if (!step.rowsDiffer())
            continue; // its definition alone changed: the rows are the same
        const auto &a = step.run;
        const auto &b = step.other;
        QJsonObject entry{{QStringLiteral("id"), step.stepId}};
        if (step.stateDiffers)
            entry.insert(QStringLiteral("state"),
                         pair(a ? QJsonValue(stateName(a->state)) : QJsonValue::Null,
                              b ? QJsonValue(stateName(b->state)) : QJsonValue::Null));
        if (step.attemptsDiffer)
            entry.insert(QStringLiteral("attempts"),
                         pair(a ? QJsonValue(a->attempts) : QJsonValue::Null,
                              b ? QJsonValue(b->attempts) : QJsonValue::Null));
        if (step.durationDiffers)
            entry.insert(QStringLiteral("duration_ms"), pair(durationJson(a), durationJson(b)));
        if (step.errorDiffers)
            entry.insert(QStringLiteral("error"), pair(textOrNull(a ? a->error : QString()),
                                                       textOrNull(b ? b->error : QString())));
        if (step.outputDiffers())
            entry.insert(QStringLiteral("output_differs"), true);
        steps.append(entry);
    }
    if (!steps.isEmpty())
        json.insert(QStringLiteral("steps"), steps);
    return json;
}

QString runDiffText(const RunDiff &diff) {
    QString text = QStringLiteral("run %1 (%2) compared with run %3 (%4), flow %5\n")
                       .arg(diff.run.id, stateName(diff.run.state), diff.other.id,
                            stateName(diff.other.state), diff.run.flowName);
    if (diff.isEmpty())
        return text + QStringLiteral("no differences\n");

    // One table: what (a parameter, the flow version, a step's field), this run, the other.
    constexpr int kCellWidth = 48;
    struct Line {
        QString subject;
        QString what;
        QString mine;
        QString theirs;
    };
    QList<Line> lines;
    for (const auto &[name, values] : diff.params)
        lines.append(
            {QStringLiteral("param"), name, valueText(values.first), valueText(values.second)});
    if (diff.versionsDiffer())
        lines.append({QStringLiteral("flow"), QStringLiteral("version"),
                      QString::number(diff.version), QString::number(diff.otherVersion)});
    for (const StepDiff &step : diff.steps) {
        QList<Line> rows;
        if (step.definitionAdded)
            rows.append({{}, QStringLiteral("definition"), QStringLiteral("added"), {}});
        if (step.definitionRemoved)
            rows.append({{}, QStringLiteral("definition"), {}, QStringLiteral("(removed)")});
        if (!step.definitionPaths.isEmpty())
            rows.append({{},
                         QStringLiteral("definition"),
                         QStringLiteral("changed at %1").arg(pathsText(step.definitionPaths)),
                         {}});
        if (step.stateDiffers)
            rows.append({{}, QStringLiteral("state"), stateText(step.run), stateText(step.other)});
        if (step.attemptsDiffer)
            rows.append(
                {{}, QStringLiteral("attempts"), attemptsText(step.run), attemptsText(step.other)});
        if (step.durationDiffers)
            rows.append({{},
                         QStringLiteral("duration"),
                         durationText(step.run ? stepDurationMs(*step.run) : std::nullopt),
                         durationText(step.other ? stepDurationMs(*step.other) : std::nullopt)});
        if (step.errorDiffers)
            rows.append({{}, QStringLiteral("error"), errorText(step.run), errorText(step.other)});
        if (step.outputDiffers())
            rows.append({{},
                         QStringLiteral("output"),
                         QStringLiteral("differs at %1").arg(pathsText(step.outputPaths)),
                         {}});
        rows.first().subject = QStringLiteral("step ") + step.stepId;
        lines += rows;
    }
    Line header{QString(), QStringLiteral("WHAT"), QStringLiteral("THIS RUN"),
                QStringLiteral("OTHER RUN")};
    int widths[3] = {0, 0, 0};
    for (const Line &line : lines + QList<Line>{header}) {
        widths[0] = std::max(widths[0], int(line.subject.size()));
        widths[1] = std::max(widths[1], int(line.what.size()));
        widths[2] = std::max(widths[2], int(cell(line.mine, kCellWidth).size()));
    }
    auto format = [&widths](const Line &line) {
        QString row =
            QStringLiteral("%1  %2  %3  %4")
                .arg(line.subject.leftJustified(widths[0]), line.what.leftJustified(widths[1]),
                     cell(line.mine, kCellWidth).leftJustified(widths[2]),
                     cell(line.theirs, kCellWidth));
        while (row.endsWith(QLatin1Char(' ')))
            row.chop(1);
        return row + QLatin1Char('\n');
    };
    text += QLatin1Char('\n') + format(header);
    for (const Line &line : lines)
        text += format(line);
    return text;
}

} // namespace keepflow
