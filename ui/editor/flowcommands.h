#pragma once

// The undo commands of FlowDocument (private to ui/editor). Each acts on the document's flow by
// step id or steps-list index and keeps only what it needs to go both ways exactly: the removed
// steps with their indexes, the references it rewrote, the positions before and after. Every
// command is pushed when the flow is in the state it was built for, and the undo stack replays
// them in order, so an index recorded at construction is valid in redo() and undo().

#include "model/flow.h"

#include <QHash>
#include <QList>
#include <QPointF>
#include <QStringList>
#include <QUndoCommand>

#include <optional>

namespace keepflow::ui {

class FlowDocument;

/// Base of the document's commands: the one friend of FlowDocument, so that commands reach the
/// flow and announce their changes only through these few functions.
class FlowEditCommand : public QUndoCommand {
public:
    FlowEditCommand(FlowDocument *document, const QString &text);

protected:
    Flow &flow() const;
    /// The step with id, or nullptr (id lookup through the document's cache).
    Step *step(const QString &id) const;
    /// Signals the change; structural when steps were added, removed or renamed.
    void edited(bool structural, const QStringList &moved = {}) const;

private:
    FlowDocument *m_document;
};

/// How one step's references (its `after` and fallback) read before and after an edit.
struct ReferenceChange {
    QString stepId;
    QStringList oldAfter;
    QStringList newAfter;
    Fallback oldFallback;
    Fallback newFallback;
};

/// Appends steps at the end of the list (add, paste, duplicate).
class AddStepsCommand : public FlowEditCommand {
public:
    AddStepsCommand(FlowDocument *document, QList<Step> steps, const QString &text);
    void redo() override;
    void undo() override;

private:
    QList<Step> m_steps;
    qsizetype m_firstIndex;
};

/// Removes steps and rewrites the references others had to them.
class RemoveStepsCommand : public FlowEditCommand {
public:
    struct Removed {
        qsizetype index; ///< in the steps list before the removal, ascending
        Step step;
    };
    RemoveStepsCommand(FlowDocument *document, QList<Removed> removed,
                       QList<ReferenceChange> references, const QString &text);
    void redo() override;
    void undo() override;

private:
    QList<Removed> m_removed;
    QList<ReferenceChange> m_references;
};

/// Sets the `ui` object of steps (moves, auto-layout). A move absorbs the moves of the same steps
/// that continue its drag (QUndoStack merges them), so a drag is one command.
class PositionsCommand : public FlowEditCommand {
public:
    static constexpr int kMoveId = 0x4b660001;
    struct Change {
        QString stepId;
        std::optional<QJsonObject> oldUi; ///< as it was, absent when the step had none
        QJsonObject newUi;
    };
    /// isMove: a drag step (may absorb later moves); continuesDrag: may be absorbed by the move
    /// before it.
    PositionsCommand(FlowDocument *document, QList<Change> changes, const QString &text,
                     bool isMove, bool continuesDrag);
    void redo() override;
    void undo() override;
    int id() const override { return m_isMove ? kMoveId : -1; }
    bool mergeWith(const QUndoCommand *other) override;

private:
    QList<Change> m_changes;
    bool m_isMove;
    bool m_continuesDrag;
};

/// Adds or removes one id in the `after` list of a step.
class EdgeCommand : public FlowEditCommand {
public:
    EdgeCommand(FlowDocument *document, const QString &from, const QString &to, qsizetype index,
                bool add, const QString &text);
    void redo() override;
    void undo() override;

private:
    void insert();
    void remove();

    QString m_from;
    QString m_to;
    qsizetype m_index; ///< where from sits (or will sit) in to's `after`
    bool m_add;
};

/// Replaces one step (property editing); a changed id comes with the references it renames.
class ReplaceStepCommand : public FlowEditCommand {
public:
    ReplaceStepCommand(FlowDocument *document, qsizetype index, Step oldStep, Step newStep,
                       QList<ReferenceChange> references, const QString &text);
    void redo() override;
    void undo() override;

private:
    qsizetype m_index;
    Step m_old;
    Step m_new;
    QList<ReferenceChange> m_references;
};

/// Replaces the flow-level fields, keeping the steps.
class FlowSettingsCommand : public FlowEditCommand {
public:
    /// Both flows are used for their settings only (their steps are ignored).
    FlowSettingsCommand(FlowDocument *document, Flow oldSettings, Flow newSettings,
                        const QString &text);
    void redo() override;
    void undo() override;

    /// Copies every flow-level field of from into to (not the steps).
    static void copySettings(Flow &to, const Flow &from);

private:
    Flow m_old;
    Flow m_new;
};

} // namespace keepflow::ui
