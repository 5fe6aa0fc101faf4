#pragma once

// The flow being edited: a Flow value, one QUndoStack, and request
// functions that either change the flow completely (one QUndoCommand acting on the model by step
// id, never on graphics items) or refuse with a reason and change nothing. The canvas, property
// editor and validation panel all edit through it and redraw from its signals.
//
// Threading: GUI thread. Ownership: owns its undo stack.

#include "core/status.h"
#include "model/flow.h"
#include "model/flowfile.h"

#include <QHash>
#include <QObject>
#include <QPointF>
#include <QSet>
#include <QStringList>

class QUndoStack;

namespace keepflow::ui {

class FlowDocument : public QObject {
    Q_OBJECT
public:
    explicit FlowDocument(QObject *parent = nullptr);
    ~FlowDocument() override;

    const Flow &flow() const { return m_flow; }
    QUndoStack *undoStack() const { return m_undo; }

    // ---- Files ----
    /// A new, empty flow named name (steps: none); clears the undo stack; not modified.
    void newFlow(const QString &name);
    /// Reads path; on failure (the diagnostics' text) nothing changes. Clears the undo stack.
    /// A draft (validation errors but every value well typed) opens; problems() lists them.
    Status load(const QString &path);
    /// Writes the canonical file (with editor positions) atomically; marks clean.
    Status save(const QString &path);
    /// The canonical text of the flow as it is now (what save() writes).
    QByteArray serialized() const;
    const QString &filePath() const { return m_path; }
    /// Whether the flow differs from what was loaded or saved last (undo back to it: false).
    bool isModified() const;

    // ---- Queries ----
    /// Center of the step's box on the canvas (from its `ui.x`/`ui.y`); (0, 0) when unset.
    QPointF stepPosition(const QString &id) const;
    bool hasPosition(const QString &id) const;
    /// base, or base-2, base-3, ... : an id no step has (and a valid one).
    QString uniqueStepId(const QString &base) const;
    /// Whether adding the edge from -> to would close a cycle; path gets the cycle's step ids.
    bool wouldCreateCycle(const QString &from, const QString &to,
                          QStringList *path = nullptr) const;
    /// The engine's validator on the flow as it is now.
    QList<Diagnostic> problems() const;

    // ---- Mutations: one undo command each; on refusal nothing changes ----
    /// A step of kind at pos with sensible defaults for the kind; returns its new id.
    Result<QString> requestStepAdd(const QString &kind, const QPointF &pos);
    /// Removes the steps and every reference to them (`after` of others, fallback steps); undo
    /// restores all of it exactly (same positions in the steps list, same references).
    Status requestStepsRemove(const QStringList &ids);
    /// Moves the steps by delta. Consecutive moves of the same steps merge into one command
    /// (a drag that reports every mouse move is one undo step) unless finishMove() came between.
    Status requestStepsMove(const QStringList &ids, const QPointF &delta);
    /// Ends the current merging of moves (mouse released).
    void finishMove();
    /// Sets positions of several steps in one command (auto-layout).
    Status requestPositions(const QHash<QString, QPointF> &positions, const QString &text);
    /// Adds `from` to `after` of `to`. Refused with a reason for a self-wire, a duplicate, an
    /// unknown step or a cycle (the reason names the cycle: "a -> b -> a").
    Status requestEdgeAdd(const QString &from, const QString &to);
    Status requestEdgeRemove(const QString &from, const QString &to);
    /// Replaces the step with id by step (property editing). A changed step.id renames it
    /// everywhere (`after` lists, fallback steps). Refused when the new id is taken or invalid.
    Status requestStepReplace(const QString &id, const Step &step, const QString &text = {});
    /// Replaces the flow-level fields (name, description, params, defaults, resources) keeping the
    /// steps as they are.
    Status requestFlowSettings(const Flow &settings, const QString &text = {});

    /// The steps and the wires between them, as JSON (clipboard); wires to outside steps dropped.
    QByteArray copySteps(const QStringList &ids) const;
    /// Adds the steps of a copySteps() fragment moved by offset, with ids made unique (inner wires
    /// follow the renames). Returns the new ids. Refused for text that is not such a fragment.
    Result<QStringList> requestPaste(const QByteArray &fragment, const QPointF &offset);
    /// requestPaste(copySteps(ids)) in one command, next to the originals.
    Result<QStringList> requestDuplicate(const QStringList &ids);

Q_SIGNALS:
    /// Anything changed (after the change; views coalesce).
    void changed();
    /// Steps were added or removed, or ids renamed (views rebuild their items).
    void structureChanged();
    /// Only these steps' positions changed (views move items, no rebuild).
    void positionsChanged(const QStringList &ids);
    void modifiedChanged(bool modified);
    void filePathChanged(const QString &path);

private:
    friend class FlowEditCommand;
    /// Takes a whole new flow value and signals it (load, newFlow; commands change only what
    /// they need, through FlowEditCommand).
    void apply(const Flow &flow, bool structural, const QStringList &moved);
    /// Emits the signals of an edit; forgets the id cache when steps were added, removed or
    /// renamed.
    void notifyEdited(bool structural, const QStringList &moved);
    /// Index of the step with id in m_flow.steps, or -1 (cached: commands look up by id).
    qsizetype indexOf(const QString &id) const;
    /// base, or base-2, ..., valid and in neither the flow nor also.
    QString uniqueId(const QString &base, const QSet<QString> &also) const;
    Result<QStringList> paste(const QByteArray &fragment, const QPointF &offset,
                              const QString &text);

    Flow m_flow;
    QUndoStack *m_undo = nullptr;
    QString m_path;
    bool m_merging = false;
    bool m_pushingMove = false; ///< the stack index changes because of a move (keep merging)
    mutable QHash<QString, qsizetype> m_indexById;
    mutable bool m_indexValid = false;
};

} // namespace keepflow::ui
