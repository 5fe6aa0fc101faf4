#pragma once

// The Failures tab: what went wrong across runs, grouped by cause (flow, step, error class and
// masked signature; see api/triage.h), biggest group first. A group unfolds to its runs;
// activating a run (double-click, Enter) opens it. A group can be acted on as a whole: its
// context menu and buttons ask for a bulk action over exactly its runs and its step.
//
// It reads through the Monitor only, with the runs list's flow and time window. Threading: GUI
// thread.

#include "api/triage.h"
#include "operator/operatoraction.h"

#include <QWidget>

class QAction;
class QLabel;
class QPushButton;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;

namespace keepflow {
class Monitor;
} // namespace keepflow

namespace keepflow::ui {

class FailuresView : public QWidget {
    Q_OBJECT
public:
    enum Column {
        FlowColumn,
        StepColumn,
        ClassColumn,
        SignatureColumn,
        CountColumn,
        RunsColumn,
        LastSeenColumn
    };
    /// Runs listed under a group at most (the group's count says how many there are).
    static constexpr int kRunsShown = 500;

    explicit FailuresView(Monitor &monitor, QWidget *parent = nullptr);

    /// The runs list's filters the groups follow: the flow (empty: every flow) and the time
    /// window (0: open). Reloads when they changed.
    void setFilter(const QString &flowName, qint64 since, qint64 until);
    /// Reads the groups again, keeping which groups are unfolded and the selected one.
    void reload();
    /// Runs changed (the change feed): the groups are read again at most once per
    /// kRefreshIntervalMs, and only while the view is shown (else when it is shown next).
    void noteRunsChanged();
    /// Reads the groups now when runs changed since the last read (tests).
    void flushNow();
    static constexpr int kRefreshIntervalMs = 2000;

    QTreeWidget *tree() const { return m_tree; }
    /// The group's bulk actions; each one's data is its OperatorAction::Kind.
    const QList<QAction *> &groupActions() const { return m_actions; }
    const QList<FailureGroup> &groups() const { return m_groups; }
    /// The group of the selected row (a group or one of its runs); null when none.
    const FailureGroup *selectedGroup() const;
    /// The request a bulk action of this kind over the group would make: its runs (by id) and
    /// its step. CancelRun acts on the runs, the others on the group's step.
    static BulkRequest requestFor(const FailureGroup &group, OperatorAction::Kind kind);

Q_SIGNALS:
    void runActivated(const QString &runId);
    /// The operator asked for a bulk action over the group (the dialog comes next).
    void bulkRequested(const keepflow::BulkRequest &request, const QString &description);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void requestBulk(OperatorAction::Kind kind);
    void showMenu(const QPoint &pos);
    void updateButtons();

    Monitor &m_monitor;
    QTreeWidget *m_tree = nullptr;
    QLabel *m_summary = nullptr;
    QPushButton *m_actionButton = nullptr;
    QList<QAction *> m_actions; ///< the group's bulk actions (button menu, context menu)
    QList<FailureGroup> m_groups;
    QTimer *m_refresh = nullptr;
    bool m_stale = true; ///< runs changed since the groups were read
    QString m_flowName;
    qint64 m_since = 0;
    qint64 m_until = 0;
};

} // namespace keepflow::ui
