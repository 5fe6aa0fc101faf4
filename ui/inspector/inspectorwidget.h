#pragma once

// The inspector for the selected step: its state and why, the action buttons (enabled only where
// they apply), its attempts with keys, input and output as formatted JSON, and for foreach steps
// the items table. It shows data and reports requests; the main window acts on them.

#include "core/records.h"
#include "model/flow.h"
#include "operator/operatoraction.h"
#include "stepview.h"

#include <QHash>
#include <QWidget>

class QGridLayout;
class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QStandardItemModel;
class QTabWidget;
class QTableView;

namespace keepflow::ui {

/// Everything the inspector shows of one step.
struct InspectorData {
    QString runId;
    StepView view;
    Step step;         ///< the step as the flow defines it
    RetryPolicy retry; ///< effective policy (an operator's live change applied)
    std::optional<qint64> timeoutMs;
    std::optional<qint64> deadlineMs;
    bool policyChangedLive = false; ///< an operator changed it on this run (set-policy)
    StepRunRow row;
    QList<AttemptRow> attempts; ///< of this step (items too), oldest first
    QList<ItemRow> items;       ///< foreach only
    QHash<QString, StepState> upstreamStates;
    /// The states of the root causes the step waits on (view.blockedBy).
    QHash<QString, StepState> rootStates;
    /// An approval's prompt as the engine rendered it for this run (its waiting event), the
    /// template's {{...}} filled in; empty when unknown (the template is shown then).
    QString approvalPrompt;
    qint64 now = 0;
    /// The latest operator action on this step (who, why, when), if any.
    std::optional<EventRow> decision;
};

class AttemptOutputView;

class InspectorWidget : public QWidget {
    Q_OBJECT
public:
    explicit InspectorWidget(QWidget *parent = nullptr);

    void showStep(const InspectorData &shown);
    void clear();
    /// Moves countdowns ("next attempt in 12 s") without new data.
    void setNow(qint64 now);
    /// A database opened read-only: every action disabled, the reason in its tooltip.
    void setReadOnly(const QString &reason);
    /// While the run is shown as it was in the past: every action is disabled with tip as its
    /// tooltip (empty: actions follow the step again).
    void setActionsUnavailable(const QString &tip);

    const QString &stepId() const { return m_data.view.stepId; }
    /// What the inspector shows now.
    const InspectorData &shown() const { return m_data; }
    /// The "why" line shown under the state (for tests and screen readers).
    QString explanation() const;
    /// The step's effective policy in words, "(changed live)" when an operator changed it.
    QString policyText() const;
    QPushButton *button(OperatorAction::Kind kind) const;
    QPushButton *openChildButton() const { return m_openChild; }
    /// The root causes the step waits on, in words ("Waits on the root cause: charge has an
    /// uncertain outcome."), or for a root cause how many steps wait on it; empty otherwise.
    QString rootCauseText() const;
    /// "Go to charge": one per root cause the step waits on; each selects its step.
    const QList<QPushButton *> &goToRootButtons() const { return m_goToRoot; }
    QTableView *itemsTable() const { return m_items; }
    QTableView *attemptsTable() const { return m_attempts; }
    /// The "Logs" tab: what the step's attempts printed. Give it the monitor's attemptOutputs.
    AttemptOutputView *outputView() const { return m_logs; }
    /// Brings the Logs tab to the front (the "open its output" of an operator or a test).
    void showLogs();
    /// Columns the action buttons are laid out in: three when they fit, else two.
    int buttonColumns() const { return m_buttonColumns; }

Q_SIGNALS:
    void actionRequested(keepflow::OperatorAction::Kind kind, const QString &stepId);
    /// "Open child run" of a subflow step.
    void runRequested(const QString &runId);
    /// A "Go to" button of a root cause: select that step.
    void stepRequested(const QString &stepId);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void updateButtons();
    /// Width the buttons need in this many columns (their widest label per column).
    int buttonsWidth(int columns) const;
    void layOutButtons(int columns);
    /// The root-cause line and its "Go to" buttons for m_data.
    void showRootCause();
    QString why() const;
    /// What the state alone says.
    QString stateWhy() const;
    /// For a state an operator decided (approved, skipped, resolved...): who, when, why.
    QString decidedWhy() const;

    InspectorData m_data;
    bool m_hasStep = false;
    QString m_readOnlyReason; ///< empty unless the database is open read-only
    QString m_unavailableTip; ///< empty unless the run is shown as it was in the past
    QLabel *m_title = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_why = nullptr;
    QLabel *m_policy = nullptr;
    QHash<int, QPushButton *> m_buttons;
    QList<QPushButton *> m_buttonOrder; ///< in the order they are laid out
    QGridLayout *m_buttonGrid = nullptr;
    int m_buttonColumns = 0;
    QPushButton *m_openChild = nullptr; ///< a subflow step's child run, shown once it started
    QLabel *m_rootCause = nullptr;      ///< what the step waits on at the root; hidden when none
    QHBoxLayout *m_goToRootRow = nullptr;
    QList<QPushButton *> m_goToRoot;
    QTabWidget *m_tabs = nullptr;
    QTableView *m_attempts = nullptr;
    QStandardItemModel *m_attemptsModel = nullptr;
    QPlainTextEdit *m_input = nullptr;
    QPlainTextEdit *m_output = nullptr;
    AttemptOutputView *m_logs = nullptr;
    QTableView *m_items = nullptr;
    QStandardItemModel *m_itemsModel = nullptr;
    int m_itemsTab = -1;
};

} // namespace keepflow::ui
