#pragma once

// The monitor's main window: runs list, the selected run's graph with its step table, the
// inspector with the action buttons, and the event log, timeline and resources below. It is an
// adapter between the engine's Monitor facade and the views: changes from the feed mark runs
// dirty and one timer (25 Hz) refreshes what is shown, so a burst of events costs one repaint.

#include "api/triage.h"
#include "core/records.h"
#include "operator/operatoraction.h"
#include "stepview.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QSet>

#include <functional>
#include <memory>

class QAction;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSystemTrayIcon;
class QTableView;
class QTabWidget;
class QTimer;

namespace keepflow {
class Monitor;
class RunReplay;
struct Flow;
} // namespace keepflow

namespace keepflow::ui {

class ActionDialog;
class PolicyDialog;
class ResourceLimitsDialog;
class BulkDialog;
class EventLogFilter;
class EventLogModel;
class FailuresView;
class HistoryScrubber;
class GraphScene;
class GraphView;
class InspectorWidget;
class LatencyTracker;
class LegendWidget;
class ResourcesView;
class StepStatsView;
class RunDiffView;
class WorkersView;
class RunsView;
class StepTableModel;
class TimelinePlot;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(Monitor &monitor, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows run (graph, steps, events, timeline) and selects it in the runs list.
    void selectRun(const QString &runId);
    /// Selects the step in the graph and the table and shows it in the inspector.
    void selectStep(const QString &stepId);
    const QString &currentRun() const { return m_runId; }
    /// The monitor the window shows (dialogs of other parts of the app use it too).
    Monitor &monitor() const { return m_monitor; }
    const QString &currentStep() const { return m_stepId; }
    /// The line above the graph: run, flow, state, and what holds it up.
    QString runHeaderText() const;

    /// Asks for what the action needs (reason, output, preview) in a dialog; confirming it acts.
    void requestAction(OperatorAction::Kind kind, const QString &stepId);
    /// The open action dialog, if any (tests fill and confirm it as a person would).
    ActionDialog *actionDialog() const;
    /// "Change policy…" of a step of the open run: the dialog with the engine's preview.
    void requestPolicyChange(const QString &stepId);
    PolicyDialog *policyDialog() const;
    /// "Set limits…" of a resource: concurrency and rate live, with the engine's preview.
    void requestResourceLimits(const QString &name);
    ResourceLimitsDialog *resourceLimitsDialog() const;
    /// Pauses or resumes the runs at once; cancelling asks first, for a reason, in a dialog
    /// (actionDialog()) and cancels them all when it is confirmed.
    void actOnRuns(OperatorAction::Kind kind, const QStringList &runIds);
    /// Retries every failed step of the selected runs (one action per step, same reason).
    void retryFailedInSelectedRuns(const QString &reason);
    /// Starts a run of the flow file. Without params ("NAME=VALUE") a flow that has parameters
    /// asks for them in a dialog (defaults filled in).
    void startRunFromFile(const QString &path, const QStringList &params = {});

    /// Run → Compare with last good run: opens the current run beside the last succeeded run
    /// of its flow before it; null (the status bar says why) when there is none to compare.
    RunDiffView *compareWithLastGoodRun();

    /// Refreshes everything that is dirty now instead of on the next tick (tests).
    void flushNow();
    /// Keeps the window on its screen's available area (a geometry saved on a bigger screen, or
    /// the default size on a small one); done when the layout is restored.
    void fitToScreen();
    /// First start (no saved layout): runs list, graph and inspector shares of the width.
    void apportionPanes();

    RunsView *runsView() const { return m_runs; }
    /// The Failures tab: failure groups across the runs the list's flow and time range select.
    FailuresView *failuresView() const { return m_failures; }
    /// Opens the bulk dialog (dry run first) for the request; description says which runs.
    void requestBulk(const keepflow::BulkRequest &request, const QString &description);
    /// The open bulk dialog, if any.
    BulkDialog *bulkDialog() const;
    GraphScene *graphScene() const { return m_scene; }
    GraphView *graphView() const { return m_graph; }
    QTableView *stepTable() const { return m_stepTable; }
    StepTableModel *stepModel() const { return m_stepModel; }
    InspectorWidget *inspector() const { return m_inspector; }
    EventLogModel *eventLog() const { return m_eventModel; }
    /// What the event log table shows: the selected step's events unless "All events" is on.
    EventLogFilter *eventLogFilter() const { return m_eventFilter; }
    QTableView *eventTable() const { return m_eventView; }
    QCheckBox *allEventsToggle() const { return m_allEvents; }
    QLineEdit *eventSearch() const { return m_eventSearch; }
    QLineEdit *stepFilter() const { return m_stepFilter; }
    QCheckBox *attentionOnlyToggle() const { return m_attentionOnly; }
    /// F8 / Shift+F8: the next (previous) step that needs attention, in the flow's order.
    QAction *nextProblemAction() const { return m_nextProblem; }
    QAction *previousProblemAction() const { return m_previousProblem; }
    /// Selects the next (or previous) step that needs attention after the selected one, wrapping
    /// around; false when there is none.
    bool selectNextProblem(bool forward = true);
    TimelinePlot *timeline() const { return m_timeline; }
    /// The bar above the graph that shows the open run as it was after any of its events.
    HistoryScrubber *historyScrubber() const { return m_scrubber; }
    ResourcesView *resourcesView() const { return m_resources; }
    StepStatsView *stepStatsView() const { return m_stepStats; }
    /// The status bar's notice while the connection to the database is lost (hidden otherwise).
    QLabel *connectionNotice() const { return m_connectionNotice; }
    /// Shown on a sub-run: back to the parent run and its subflow step.
    QPushButton *openParentButton() const { return m_openParent; }
    /// The last message shown in the status bar (action results and refusals).
    QString lastMessage() const;

Q_SIGNALS:
    /// An action was applied (applied) or refused; message says what happened or why not.
    void actionFinished(bool applied, const QString &message);
    /// File → Secrets…: names are the secrets the flows of the selected runs reference (the
    /// app owns the keyring and opens the dialog).
    void secretsRequested(const QStringList &names);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildViews();
    void buildMenus();
    void connectMonitor();
    void onEvents(const QList<keepflow::EventRow> &events);
    /// An alert fired: said in the status bar, and the window asks for attention.
    void notifyAlert(const keepflow::EventRow &alert);
    void onRunsChanged(const QStringList &runIds);
    void flush(bool force);
    void tick();
    void sampleResources();
    /// The Workers tab, when it is the one shown.
    void refreshWorkers();
    void reloadRun();
    /// New step statistics of flowName arrived: the open run's steps of that flow are judged
    /// slow or not against them.
    void onStepStatsRead(const QString &flowName);
    /// The open run as it was after its event at index (the scrubber moved there): graph, step
    /// table, inspector, timeline and header from the replayed events, the event highlighted,
    /// actions disabled.
    void showHistoryAt(qsizetype index);
    /// Back to live: the run's rows are read again and actions follow them.
    void leaveHistory();
    /// Forgets the replay of the open run (another run opened, or none).
    void resetHistory();
    /// The time the run views show: the scrubbed event's, else now.
    qint64 shownTime() const;
    /// Why actions are off while the open run shows its past.
    static QString pastShownNotice();
    /// The Run menu's actions on runs: off on a read-only database and while the past is shown.
    void enableRunWriteActions();
    /// Subflow steps: their child run's id, and its state while they run.
    void readChildRuns();
    /// Shows no run (the runs list has none to show): empty panes that say so.
    void closeRun();
    void reloadFlowNames();
    /// The resource the step of the run calls (cached: a run's flow never changes).
    QString resourceOf(const QString &runId, const QString &stepId);
    void showInspector();
    /// Acts; false when the action was refused (the status bar says why).
    bool runAction(const OperatorAction &action);
    void showMessage(const QString &message, bool error = false);
    /// A query of a view failed: said in the status bar, unless the connection is lost (the
    /// connection notice says so once, instead of every view at every refresh).
    void showQueryError(const QString &message);
    /// The connection to the database is lost (or the last try to reconnect failed: reason).
    void showConnectionLost(const QString &reason);
    /// Connected again: the notice goes and every open view reads the database once.
    void onReconnected();
    /// Read-only, a file mode others can read, a failed quick check: said once, on open.
    void showDatabaseNotices();
    void showStepMenu(const QString &stepId, const QPoint &globalPos);
    void showRunsMenu(const QStringList &runIds, const QPoint &globalPos);
    void actOnRun(OperatorAction::Kind kind, const QString &runId);
    void openDatabase();
    void startRunDialog();
    void restoreLayout();

    Monitor &m_monitor;
    RunsView *m_runs = nullptr;
    GraphScene *m_scene = nullptr;
    GraphView *m_graph = nullptr;
    LegendWidget *m_legend = nullptr;
    QTableView *m_stepTable = nullptr;
    StepTableModel *m_stepModel = nullptr;
    InspectorWidget *m_inspector = nullptr;
    QTabWidget *m_bottomTabs = nullptr;
    QTableView *m_eventView = nullptr;
    EventLogModel *m_eventModel = nullptr;
    EventLogFilter *m_eventFilter = nullptr;
    QCheckBox *m_allEvents = nullptr;
    QLineEdit *m_eventSearch = nullptr;
    QLineEdit *m_stepFilter = nullptr;
    QCheckBox *m_attentionOnly = nullptr;
    QAction *m_nextProblem = nullptr;
    QAction *m_previousProblem = nullptr;
    TimelinePlot *m_timeline = nullptr;
    HistoryScrubber *m_scrubber = nullptr;
    QList<QAction *> m_runWriteActions;  ///< the Run menu's retry-all, pause, unpause and cancel
    std::unique_ptr<RunReplay> m_replay; ///< while scrubbed: the open run's events replayed
    QList<AttemptRow> m_historyAttempts; ///< while scrubbed: every attempt, as read when it began
    ResourcesView *m_resources = nullptr;
    StepStatsView *m_stepStats = nullptr; ///< also keeps the statistics for the "slow" badges
    WorkersView *m_workers = nullptr;
    FailuresView *m_failures = nullptr;
    QPointer<BulkDialog> m_bulkDialog;
    QLabel *m_runHeader = nullptr;
    QPushButton *m_openParent = nullptr;  ///< a sub-run's way back to its parent run and step
    QLabel *m_databaseNotice = nullptr;   ///< permanent in the status bar; hidden when all is well
    QLabel *m_connectionNotice = nullptr; ///< permanent while the connection is lost
    QSystemTrayIcon *m_tray = nullptr;
    QPointer<ActionDialog> m_dialog;
    QPointer<PolicyDialog> m_policyDialog;
    QPointer<ResourceLimitsDialog> m_limitsDialog;
    std::unique_ptr<LatencyTracker> m_latency;
    QTimer *m_flushTimer = nullptr;
    QTimer *m_tickTimer = nullptr;

    QString m_runId;
    QString m_stepId;
    std::unique_ptr<Flow> m_flow;
    QList<StepView> m_stepViews;
    QList<StepRunRow> m_stepRows;
    QList<AttemptRow> m_attempts;
    QList<ItemRow> m_items;
    bool m_runDirty = false;
    QElapsedTimer m_sinceReload;
    qint64 m_reloadCostMs = 0;
    QSet<QString> m_dirtyRuns;
    bool m_inspectorDirty = false;
    bool m_flowNamesDirty = false;
    QHash<QString, QString> m_resourceOfStep; ///< "run|step" -> the resource it calls
    QString m_message;
};

} // namespace keepflow::ui
