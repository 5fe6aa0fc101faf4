#include "flowdocument.h"

#include "flowcommands.h"
#include "model/flowvalidation.h"
#include "stepdefaults.h"

#include <QRegularExpression>
#include <QUndoStack>

#include <utility>

namespace keepflow::ui {

namespace {

// Where a duplicate lands relative to its original: down and to the right, visibly apart.
constexpr qreal kDuplicateOffset = 40;

QString quoted(const QString &s) {
    return QLatin1Char('"') + s + QLatin1Char('"');
}

bool hasPoint(const std::optional<QJsonObject> &ui) {
    return ui && ui->value(QLatin1String("x")).isDouble() &&
           ui->value(QLatin1String("y")).isDouble();
}

QPointF pointOf(const std::optional<QJsonObject> &ui) {
    if (!ui)
        return {};
    return {ui->value(QLatin1String("x")).toDouble(), ui->value(QLatin1String("y")).toDouble()};
}

// The other keys of `ui` are someone else's (the format keeps them as written).
QJsonObject withPoint(const std::optional<QJsonObject> &ui, const QPointF &pos) {
    QJsonObject o = ui.value_or(QJsonObject());
    o.insert(QStringLiteral("x"), pos.x());
    o.insert(QStringLiteral("y"), pos.y());
    return o;
}

QByteArray settingsText(const Flow &flow) {
    Flow settings;
    FlowSettingsCommand::copySettings(settings, flow);
    return serializeFlow(settings);
}

QByteArray stepText(const Step &step) {
    Flow one;
    one.steps.append(step);
    return serializeFlow(one);
}

// Letters, digits, "-" and "_"; anything else becomes "-".
QString sanitizedId(const QString &base) {
    QString id = base;
    for (QChar &c : id) {
        if (!isValidStepId(QString(c)))
            c = QLatin1Char('-');
    }
    return id.isEmpty() ? QStringLiteral("step") : id;
}

} // namespace

FlowDocument::FlowDocument(QObject *parent)
    : QObject(parent)
    , m_undo(new QUndoStack(this)) {
    connect(m_undo, &QUndoStack::cleanChanged, this,
            [this](bool clean) { Q_EMIT modifiedChanged(!clean); });
    // Any other push, an undo or a redo ends the drag: the next move must not merge into an
    // older command that happens to be on top again.
    connect(m_undo, &QUndoStack::indexChanged, this, [this] {
        if (!m_pushingMove)
            m_merging = false;
    });
}

FlowDocument::~FlowDocument() = default;

// ---- Files ----

void FlowDocument::newFlow(const QString &name) {
    Flow flow;
    flow.name = name;
    m_undo->clear();
    m_merging = false;
    apply(flow, true, {});
    if (!m_path.isEmpty()) {
        m_path.clear();
        Q_EMIT filePathChanged(m_path);
    }
}

Status FlowDocument::load(const QString &path) {
    // A draft (validation errors, every value well typed) opens too: the editor is where it gets
    // fixed, and saving it writes back what was read. problems() lists its errors.
    FlowLoad loaded = loadFlowFile(path);
    if (!loaded.draft)
        return Status::error(loaded.errorText());
    m_undo->clear();
    m_merging = false;
    apply(*loaded.draft, true, {});
    if (m_path != path) {
        m_path = path;
        Q_EMIT filePathChanged(m_path);
    }
    return Status::ok();
}

Status FlowDocument::save(const QString &path) {
    const Status status = saveFlowFile(m_flow, path);
    if (!status)
        return status;
    m_undo->setClean();
    if (m_path != path) {
        m_path = path;
        Q_EMIT filePathChanged(m_path);
    }
    return status;
}

QByteArray FlowDocument::serialized() const {
    return serializeFlow(m_flow);
}

bool FlowDocument::isModified() const {
    return !m_undo->isClean();
}

// ---- Queries ----

QPointF FlowDocument::stepPosition(const QString &id) const {
    const qsizetype i = indexOf(id);
    return i < 0 ? QPointF() : pointOf(m_flow.steps.at(i).ui);
}

bool FlowDocument::hasPosition(const QString &id) const {
    const qsizetype i = indexOf(id);
    return i >= 0 && hasPoint(m_flow.steps.at(i).ui);
}

QString FlowDocument::uniqueStepId(const QString &base) const {
    return uniqueId(base, {});
}

QString FlowDocument::uniqueId(const QString &base, const QSet<QString> &also) const {
    const QString id = sanitizedId(base);
    auto taken = [&](const QString &candidate) {
        return indexOf(candidate) >= 0 || also.contains(candidate);
    };
    if (!taken(id))
        return id;
    // Copying "fetch-2" gives "fetch-3", not "fetch-2-2".
    static const QRegularExpression numbered(QStringLiteral("^(.+)-(\\d+)$"));
    QString stem = id;
    qint64 n = 2;
    if (const QRegularExpressionMatch m = numbered.match(id); m.hasMatch()) {
        stem = m.captured(1);
        n = m.captured(2).toLongLong() + 1;
    }
    for (;; ++n) {
        const QString candidate = stem + QLatin1Char('-') + QString::number(n);
        if (!taken(candidate))
            return candidate;
    }
}

bool FlowDocument::wouldCreateCycle(const QString &from, const QString &to,
                                    QStringList *path) const {
    // The edge from -> to closes a cycle when to is upstream of from: search from `from` up its
    // `after` lists, breadth first so that the cycle named is a shortest one.
    if (from == to) {
        if (path)
            *path = {from, to};
        return true;
    }
    QHash<QString, QString> downstream; // visited id -> the step it was reached from
    QList<QString> queue{from};
    downstream.insert(from, QString());
    for (qsizetype head = 0; head < queue.size(); ++head) {
        const qsizetype i = indexOf(queue.at(head));
        if (i < 0)
            continue;
        for (const QString &up : m_flow.steps.at(i).after) {
            if (downstream.contains(up))
                continue;
            downstream.insert(up, queue.at(head));
            if (up == to) {
                if (path) {
                    path->clear();
                    for (QString id = to; !id.isEmpty(); id = downstream.value(id))
                        path->append(id);
                    path->append(to);
                }
                return true;
            }
            queue.append(up);
        }
    }
    return false;
}

QList<Diagnostic> FlowDocument::problems() const {
    return validateFlow(m_flow);
}

// ---- Mutations ----

Result<QString> FlowDocument::requestStepAdd(const QString &kind, const QPointF &pos) {
    if (!knownStepKinds().contains(kind))
        return Status::error(tr("unknown step kind %1").arg(quoted(kind)));
    Step step = defaultStep(kind, uniqueStepId(kind));
    step.ui = withPoint(std::nullopt, pos);
    const QString id = step.id;
    m_undo->push(new AddStepsCommand(this, {step}, tr("Add %1").arg(id)));
    return id;
}

Status FlowDocument::requestStepsRemove(const QStringList &ids) {
    if (ids.isEmpty())
        return Status::error(tr("no steps to remove"));
    const QSet<QString> gone(ids.begin(), ids.end());
    for (const QString &id : gone) {
        if (indexOf(id) < 0)
            return Status::error(tr("no step %1").arg(quoted(id)));
    }
    QList<RemoveStepsCommand::Removed> removed;
    removed.reserve(gone.size());
    QList<ReferenceChange> references;
    for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
        const Step &s = m_flow.steps.at(i);
        if (gone.contains(s.id)) {
            removed.append({i, s});
            continue;
        }
        ReferenceChange change{s.id, s.after, s.after, s.fallback, s.fallback};
        change.newAfter.removeIf([&](const QString &up) { return gone.contains(up); });
        if (s.fallback.kind == Fallback::Kind::Step && gone.contains(s.fallback.step))
            change.newFallback = Fallback();
        if (change.newAfter.size() != s.after.size() || change.newFallback.kind != s.fallback.kind)
            references.append(std::move(change));
    }
    const QString text = removed.size() == 1 ? tr("Remove %1").arg(removed.first().step.id)
                                             : tr("Remove %n steps", nullptr, removed.size());
    m_undo->push(new RemoveStepsCommand(this, std::move(removed), std::move(references), text));
    return Status::ok();
}

Status FlowDocument::requestStepsMove(const QStringList &selection, const QPointF &delta) {
    if (selection.isEmpty())
        return Status::error(tr("no steps to move"));
    QStringList ids = selection;
    ids.removeDuplicates();
    QList<PositionsCommand::Change> changes;
    changes.reserve(ids.size());
    for (const QString &id : ids) {
        const qsizetype i = indexOf(id);
        if (i < 0)
            return Status::error(tr("no step %1").arg(quoted(id)));
        const std::optional<QJsonObject> &ui = m_flow.steps.at(i).ui;
        changes.append({id, ui, withPoint(ui, pointOf(ui) + delta)});
    }
    // A move continues the drag when nothing was pushed, undone or finished since the last one.
    const bool continues = m_merging;
    const QString text =
        ids.size() == 1 ? tr("Move %1").arg(ids.first()) : tr("Move %n steps", nullptr, ids.size());
    m_pushingMove = true;
    m_undo->push(new PositionsCommand(this, std::move(changes), text, true, continues));
    m_pushingMove = false;
    m_merging = true;
    return Status::ok();
}

void FlowDocument::finishMove() {
    m_merging = false;
}

Status FlowDocument::requestPositions(const QHash<QString, QPointF> &positions,
                                      const QString &text) {
    for (auto it = positions.begin(); it != positions.end(); ++it) {
        if (indexOf(it.key()) < 0)
            return Status::error(tr("no step %1").arg(quoted(it.key())));
    }
    // In steps order, so that the command does not depend on the hash's order.
    QList<PositionsCommand::Change> changes;
    for (const Step &s : m_flow.steps) {
        const auto it = positions.constFind(s.id);
        if (it == positions.constEnd() || (hasPoint(s.ui) && pointOf(s.ui) == *it))
            continue;
        changes.append({s.id, s.ui, withPoint(s.ui, *it)});
    }
    if (changes.isEmpty())
        return Status::ok(); // nothing to undo: no command
    m_undo->push(new PositionsCommand(this, std::move(changes),
                                      text.isEmpty() ? tr("Arrange steps") : text, false, false));
    return Status::ok();
}

Status FlowDocument::requestEdgeAdd(const QString &from, const QString &to) {
    for (const QString &id : {from, to}) {
        if (indexOf(id) < 0)
            return Status::error(tr("no step %1").arg(quoted(id)));
    }
    if (from == to)
        return Status::error(tr("step %1 cannot wait for itself").arg(quoted(from)));
    const Step &target = m_flow.steps.at(indexOf(to));
    if (target.after.contains(from))
        return Status::error(tr("%1 already waits for %2").arg(quoted(to), quoted(from)));
    QStringList cycle;
    if (wouldCreateCycle(from, to, &cycle))
        return Status::error(tr("adding %1 -> %2 would close the cycle %3")
                                 .arg(from, to, cycle.join(QLatin1String(" -> "))));
    m_undo->push(new EdgeCommand(this, from, to, target.after.size(), true,
                                 tr("Connect %1 -> %2").arg(from, to)));
    return Status::ok();
}

Status FlowDocument::requestEdgeRemove(const QString &from, const QString &to) {
    const qsizetype i = indexOf(to);
    if (i < 0)
        return Status::error(tr("no step %1").arg(quoted(to)));
    const qsizetype at = m_flow.steps.at(i).after.indexOf(from);
    if (at < 0)
        return Status::error(tr("%1 does not wait for %2").arg(quoted(to), quoted(from)));
    m_undo->push(
        new EdgeCommand(this, from, to, at, false, tr("Disconnect %1 -> %2").arg(from, to)));
    return Status::ok();
}

Status FlowDocument::requestStepReplace(const QString &id, const Step &step, const QString &text) {
    const qsizetype index = indexOf(id);
    if (index < 0)
        return Status::error(tr("no step %1").arg(quoted(id)));
    const bool renamed = step.id != id;
    if (renamed && !isValidStepId(step.id))
        return Status::error(tr("%1 is not a valid step id: use letters, digits, \"-\" and \"_\"")
                                 .arg(quoted(step.id)));
    if (renamed && indexOf(step.id) >= 0)
        return Status::error(tr("another step is already called %1").arg(quoted(step.id)));
    const Step &old = m_flow.steps.at(index);
    if (!renamed && stepText(old) == stepText(step))
        return Status::ok(); // nothing to undo: no command

    QList<ReferenceChange> references;
    if (renamed) {
        for (qsizetype i = 0; i < m_flow.steps.size(); ++i) {
            const Step &s = m_flow.steps.at(i);
            if (i == index)
                continue;
            ReferenceChange change{s.id, s.after, s.after, s.fallback, s.fallback};
            qsizetype replaced = 0; // in place: the order of `after` is kept
            for (QString &up : change.newAfter) {
                if (up == id) {
                    up = step.id;
                    ++replaced;
                }
            }
            const bool fallback = s.fallback.kind == Fallback::Kind::Step && s.fallback.step == id;
            if (fallback)
                change.newFallback.step = step.id;
            if (replaced > 0 || fallback)
                references.append(std::move(change));
        }
    }
    const QString label = !text.isEmpty() ? text
                          : renamed       ? tr("Rename %1 to %2").arg(id, step.id)
                                          : tr("Edit %1").arg(id);
    m_undo->push(new ReplaceStepCommand(this, index, old, step, std::move(references), label));
    return Status::ok();
}

Status FlowDocument::requestFlowSettings(const Flow &settings, const QString &text) {
    if (settingsText(settings) == settingsText(m_flow))
        return Status::ok(); // nothing to undo: no command
    m_undo->push(new FlowSettingsCommand(this, m_flow, settings,
                                         text.isEmpty() ? tr("Edit flow settings") : text));
    return Status::ok();
}

QByteArray FlowDocument::copySteps(const QStringList &ids) const {
    // A flow file holding the copied steps (readable anywhere Keepflow flows are), with the
    // flow's settings so that the steps' params and resources still resolve in it.
    const QSet<QString> chosen(ids.begin(), ids.end());
    Flow fragment;
    FlowSettingsCommand::copySettings(fragment, m_flow);
    for (const Step &s : m_flow.steps) {
        if (!chosen.contains(s.id))
            continue;
        Step copy = s;
        // References out of the selection are dropped, so that a fragment stands on its own.
        copy.after.removeIf([&](const QString &up) { return !chosen.contains(up); });
        if (copy.fallback.kind == Fallback::Kind::Step && !chosen.contains(copy.fallback.step))
            copy.fallback = Fallback();
        fragment.steps.append(std::move(copy));
    }
    return serializeFlow(fragment);
}

Result<QStringList> FlowDocument::requestPaste(const QByteArray &fragment, const QPointF &offset) {
    return paste(fragment, offset, tr("Paste"));
}

Result<QStringList> FlowDocument::requestDuplicate(const QStringList &ids) {
    if (ids.isEmpty())
        return Status::error(tr("no steps to duplicate"));
    for (const QString &id : ids) {
        if (indexOf(id) < 0)
            return Status::error(tr("no step %1").arg(quoted(id)));
    }
    return paste(copySteps(ids), QPointF(kDuplicateOffset, kDuplicateOffset), tr("Duplicate"));
}

Result<QStringList> FlowDocument::paste(const QByteArray &fragment, const QPointF &offset,
                                        const QString &text) {
    // The fragment is a flow file (copySteps); its draft is read even when the copied steps do
    // not validate on their own (half-edited, a template naming a step left behind).
    FlowLoad parsed = parseFlow(fragment, QStringLiteral("clipboard"));
    if (!parsed.draft || parsed.draft->steps.isEmpty())
        return Status::error(tr("the clipboard holds no Keepflow steps"));
    QList<Step> steps = std::move(parsed.draft->steps);

    QHash<QString, QString> renamed; // id in the fragment -> id in the flow
    QSet<QString> taken;             // new ids given so far
    QStringList newIds;
    for (Step &s : steps) {
        const QString newId = uniqueId(s.id.isEmpty() ? s.kind : s.id, taken);
        if (!renamed.contains(s.id))
            renamed.insert(s.id, newId);
        taken.insert(newId);
        newIds.append(newId);
        s.id = newId;
    }
    for (Step &s : steps) {
        QStringList after;
        for (const QString &up : std::as_const(s.after)) {
            if (renamed.contains(up))
                after.append(renamed.value(up));
        }
        s.after = after;
        if (s.fallback.kind == Fallback::Kind::Step) {
            if (renamed.contains(s.fallback.step))
                s.fallback.step = renamed.value(s.fallback.step);
            else
                s.fallback = Fallback();
        }
        // A step without a position stays without one: the layout places it.
        if (hasPoint(s.ui))
            s.ui = withPoint(s.ui, pointOf(s.ui) + offset);
    }
    m_undo->push(new AddStepsCommand(this, std::move(steps), text));
    return newIds;
}

// ---- Private ----

void FlowDocument::apply(const Flow &flow, bool structural, const QStringList &moved) {
    m_flow = flow;
    notifyEdited(structural, moved);
}

void FlowDocument::notifyEdited(bool structural, const QStringList &moved) {
    if (structural) {
        m_indexValid = false;
        Q_EMIT structureChanged();
    }
    if (!moved.isEmpty())
        Q_EMIT positionsChanged(moved);
    Q_EMIT changed();
}

qsizetype FlowDocument::indexOf(const QString &id) const {
    if (!m_indexValid) {
        m_indexById.clear();
        m_indexById.reserve(m_flow.steps.size());
        // The first of duplicated ids wins, as in Flow::indexOfStep().
        for (qsizetype i = m_flow.steps.size() - 1; i >= 0; --i)
            m_indexById.insert(m_flow.steps.at(i).id, i);
        m_indexValid = true;
    }
    return m_indexById.value(id, -1);
}

} // namespace keepflow::ui
