#include "flowcommands.h"

#include "flowdocument.h"

#include <utility>

namespace keepflow::ui {

// ---- FlowEditCommand ----

FlowEditCommand::FlowEditCommand(FlowDocument *document, const QString &text)
    : m_document(document) {
    setText(text);
}

Flow &FlowEditCommand::flow() const {
    return m_document->m_flow;
}

Step *FlowEditCommand::step(const QString &id) const {
    const qsizetype i = m_document->indexOf(id);
    return i < 0 ? nullptr : &m_document->m_flow.steps[i];
}

void FlowEditCommand::edited(bool structural, const QStringList &moved) const {
    m_document->notifyEdited(structural, moved);
}

namespace {

// Both directions of a ReferenceChange; the steps it names keep their ids during the command.
template <typename Lookup>
void applyReferences(const QList<ReferenceChange> &changes, bool forward, Lookup &&lookup) {
    for (const ReferenceChange &c : changes) {
        if (Step *s = lookup(c.stepId)) {
            s->after = forward ? c.newAfter : c.oldAfter;
            s->fallback = forward ? c.newFallback : c.oldFallback;
        }
    }
}

} // namespace

// ---- AddStepsCommand ----

AddStepsCommand::AddStepsCommand(FlowDocument *document, QList<Step> steps, const QString &text)
    : FlowEditCommand(document, text)
    , m_steps(std::move(steps))
    , m_firstIndex(flow().steps.size()) {}

void AddStepsCommand::redo() {
    flow().steps.append(m_steps);
    edited(true);
}

void AddStepsCommand::undo() {
    flow().steps.resize(m_firstIndex);
    edited(true);
}

// ---- RemoveStepsCommand ----

RemoveStepsCommand::RemoveStepsCommand(FlowDocument *document, QList<Removed> removed,
                                       QList<ReferenceChange> references, const QString &text)
    : FlowEditCommand(document, text)
    , m_removed(std::move(removed))
    , m_references(std::move(references)) {}

void RemoveStepsCommand::redo() {
    // References first, while the id cache still matches the list.
    applyReferences(m_references, true, [this](const QString &id) { return step(id); });
    // One pass instead of removeAt() per step: removing half of 1,000 steps stays linear.
    QList<Step> &steps = flow().steps;
    qsizetype next = 0; // next entry of m_removed
    qsizetype kept = 0;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        if (next < m_removed.size() && m_removed.at(next).index == i) {
            ++next;
            continue;
        }
        if (kept != i)
            steps[kept] = std::move(steps[i]);
        ++kept;
    }
    steps.resize(kept);
    edited(true);
}

void RemoveStepsCommand::undo() {
    applyReferences(m_references, false, [this](const QString &id) { return step(id); });
    QList<Step> &steps = flow().steps;
    QList<Step> merged;
    merged.reserve(steps.size() + m_removed.size());
    qsizetype next = 0;
    for (Step &s : steps) {
        while (next < m_removed.size() && m_removed.at(next).index == merged.size())
            merged.append(m_removed.at(next++).step);
        merged.append(std::move(s));
    }
    while (next < m_removed.size())
        merged.append(m_removed.at(next++).step);
    steps = std::move(merged);
    edited(true);
}

// ---- PositionsCommand ----

PositionsCommand::PositionsCommand(FlowDocument *document, QList<Change> changes,
                                   const QString &text, bool isMove, bool continuesDrag)
    : FlowEditCommand(document, text)
    , m_changes(std::move(changes))
    , m_isMove(isMove)
    , m_continuesDrag(continuesDrag) {}

void PositionsCommand::redo() {
    QStringList ids;
    ids.reserve(m_changes.size());
    for (const Change &c : std::as_const(m_changes)) {
        if (Step *s = step(c.stepId))
            s->ui = c.newUi;
        ids.append(c.stepId);
    }
    edited(false, ids);
}

void PositionsCommand::undo() {
    QStringList ids;
    ids.reserve(m_changes.size());
    for (const Change &c : std::as_const(m_changes)) {
        if (Step *s = step(c.stepId))
            s->ui = c.oldUi;
        ids.append(c.stepId);
    }
    edited(false, ids);
}

bool PositionsCommand::mergeWith(const QUndoCommand *other) {
    const auto *move = static_cast<const PositionsCommand *>(other); // same id(): same class
    if (!move->m_continuesDrag || move->m_changes.size() != m_changes.size())
        return false;
    for (qsizetype i = 0; i < m_changes.size(); ++i) {
        if (m_changes.at(i).stepId != move->m_changes.at(i).stepId)
            return false;
    }
    // Keep the oldest "before" and the newest "after": the drag undoes in one step.
    for (qsizetype i = 0; i < m_changes.size(); ++i)
        m_changes[i].newUi = move->m_changes.at(i).newUi;
    return true;
}

// ---- EdgeCommand ----

EdgeCommand::EdgeCommand(FlowDocument *document, const QString &from, const QString &to,
                         qsizetype index, bool add, const QString &text)
    : FlowEditCommand(document, text)
    , m_from(from)
    , m_to(to)
    , m_index(index)
    , m_add(add) {}

void EdgeCommand::insert() {
    if (Step *s = step(m_to))
        s->after.insert(m_index, m_from);
    edited(false);
}

void EdgeCommand::remove() {
    if (Step *s = step(m_to))
        s->after.removeAt(m_index);
    edited(false);
}

void EdgeCommand::redo() {
    m_add ? insert() : remove();
}

void EdgeCommand::undo() {
    m_add ? remove() : insert();
}

// ---- ReplaceStepCommand ----

ReplaceStepCommand::ReplaceStepCommand(FlowDocument *document, qsizetype index, Step oldStep,
                                       Step newStep, QList<ReferenceChange> references,
                                       const QString &text)
    : FlowEditCommand(document, text)
    , m_index(index)
    , m_old(std::move(oldStep))
    , m_new(std::move(newStep))
    , m_references(std::move(references)) {}

void ReplaceStepCommand::redo() {
    applyReferences(m_references, true, [this](const QString &id) { return step(id); });
    flow().steps[m_index] = m_new;
    edited(m_old.id != m_new.id);
}

void ReplaceStepCommand::undo() {
    applyReferences(m_references, false, [this](const QString &id) { return step(id); });
    flow().steps[m_index] = m_old;
    edited(m_old.id != m_new.id);
}

// ---- FlowSettingsCommand ----

FlowSettingsCommand::FlowSettingsCommand(FlowDocument *document, Flow oldSettings, Flow newSettings,
                                         const QString &text)
    : FlowEditCommand(document, text)
    , m_old(std::move(oldSettings))
    , m_new(std::move(newSettings)) {
    m_old.steps.clear();
    m_new.steps.clear();
}

void FlowSettingsCommand::copySettings(Flow &to, const Flow &from) {
    to.schema = from.schema;
    to.formatVersion = from.formatVersion;
    to.name = from.name;
    to.description = from.description;
    to.params = from.params;
    to.defaultRetry = from.defaultRetry;
    to.defaultTimeout = from.defaultTimeout;
    to.defaultsExtra = from.defaultsExtra;
    to.resources = from.resources;
    to.extra = from.extra;
}

void FlowSettingsCommand::redo() {
    copySettings(flow(), m_new);
    edited(false);
}

void FlowSettingsCommand::undo() {
    copySettings(flow(), m_old);
    edited(false);
}

} // namespace keepflow::ui
