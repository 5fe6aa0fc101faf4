#include "mainwindow.h"

#include "actionavailability.h"
#include "actiondialog.h"
#include "api/monitor.h"
#include "api/replay.h"
#include "api/reports.h"
#include "attemptoutputview.h"
#include "bulkdialog.h"
#include "eventlogmodel.h"
#include "failuresview.h"
#include "graphscene.h"
#include "graphview.h"
#include "historyscrubber.h"
#include "inspectorwidget.h"
#include "latencytracker.h"
#include "legendwidget.h"
#include "model/flowfile.h"
#include "model/secrets.h"
#include "policydialog.h"
#include "resourcelimitsdialog.h"
#include "resourcesample.h"
#include "resourcesview.h"
#include "rundiffview.h"
#include "runsmodel.h"
#include "runsview.h"
#include "statestyle.h"
#include "stepstatsview.h"
#include "steptablemodel.h"
#include "stepviews.h"
#include "timelineplot.h"
#include "workersview.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFormLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace keepflow::ui {

using K = OperatorAction::Kind;

namespace {

// 33 Hz: coalesces bursts of events into one refresh while staying above 30 frames/s.
constexpr int kFlushIntervalMs = 30;
constexpr int kTickIntervalMs = 1000;

/// The prompt of the step's approval as the engine rendered it when the step began to wait (its
/// StepWaitingForApproval event); empty when the log has none.
QString renderedPrompt(const EventLogModel *log, const QString &stepId) {
    for (int row = log->rowCount() - 1; row >= 0; --row) {
        const EventRow *event = log->eventAt(row);
        if (event->stepId == stepId && event->type == EventType::StepWaitingForApproval)
            return event->detail.value(QLatin1String("prompt")).toString();
    }
    return {};
}

QTableView *makeTable(QAbstractItemModel *model, const QString &name) {
    auto *table = new QTableView;
    table->setModel(model);
    table->setAccessibleName(name);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(true);
    table->setWordWrap(false);
    return table;
}

} // namespace

namespace {

/// A view under a bar of a search field (stretched) and a toggle: the step table and the log.
QWidget *underFilterBar(QWidget *view, QWidget *search, QWidget *toggle) {
    auto *pane = new QWidget;
    auto *layout = new QVBoxLayout(pane);
    layout->setContentsMargins(0, 2, 0, 0);
    layout->setSpacing(2);
    auto *bar = new QHBoxLayout;
    bar->addWidget(search, 1);
    bar->addWidget(toggle);
    layout->addLayout(bar);
    layout->addWidget(view, 1);
    return pane;
}

} // namespace

MainWindow::MainWindow(Monitor &monitor, QWidget *parent)
    : QMainWindow(parent)
    , m_monitor(monitor)
    , m_latency(std::make_unique<LatencyTracker>()) {
    // The platform adds the application's name ("— Keepflow") itself.
    setWindowTitle(monitor.databasePath());
    buildViews();
    buildMenus();
    connectMonitor();
    m_flushTimer = new QTimer(this);
    connect(m_flushTimer, &QTimer::timeout, this, [this] { flush(false); });
    m_sinceReload.start();
    m_flushTimer->start(kFlushIntervalMs);
    m_tickTimer = new QTimer(this);
    connect(m_tickTimer, &QTimer::timeout, this, &MainWindow::tick);
    m_tickTimer->start(kTickIntervalMs);
    reloadFlowNames();
    restoreLayout();
    sampleResources();
    showDatabaseNotices();
}

void MainWindow::showDatabaseNotices() {
    QStringList notices = m_monitor.warnings();
    if (m_monitor.isReadOnly()) {
        notices.prepend(QStringLiteral("Read-only: %1").arg(m_monitor.readOnlyReason()));
        m_inspector->setReadOnly(m_monitor.readOnlyReason());
        m_resources->setReadOnly(readOnlyActionTip(m_monitor.readOnlyReason()));
    }
    const DatabaseCheck check = m_monitor.check(DatabaseCheck::Depth::Quick);
    if (!check.ok())
        notices << QStringLiteral("The database failed its quick check (`keepflowctl check` "
                                  "tells more): %1")
                       .arg(check.problemLines().join(QStringLiteral("; ")));
    m_databaseNotice->setText(notices.join(QStringLiteral(" · ")));
    m_databaseNotice->setToolTip(notices.join(QLatin1Char('\n')));
    m_databaseNotice->setVisible(!notices.isEmpty());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildViews() {
    m_runs = new RunsView;
    RunsSource source;
    source.page = [this](const RunQuery &query) { return m_monitor.runSummaries(query); };
    source.count = [this](const RunQuery &query) { return m_monitor.countRuns(query); };
    source.countByState = [this](const RunQuery &query) {
        return m_monitor.countRunsByState(query);
    };
    m_runs->model()->setSource(source);
    m_runs->setClock([this] { return m_monitor.now(); });
    connect(m_runs, &RunsView::runSelected, this, &MainWindow::selectRun);
    connect(m_runs, &RunsView::runContextMenuRequested, this, &MainWindow::showRunsMenu);
    connect(m_runs, &RunsView::bulkRetryRequested, this, [this](const RunQuery &query) {
        BulkRequest request;
        request.query = query;
        requestBulk(request, QStringLiteral("The runs the runs list's filters select (%L1)")
                                 .arg(m_runs->model()->rowCount()));
    });

    m_runHeader = new QLabel(QStringLiteral("No run open: select one in the runs list."));
    m_runHeader->setTextFormat(Qt::PlainText);
    m_runHeader->setAccessibleName(QStringLiteral("Run"));
    // On a narrow window the header takes two lines rather than widening the window.
    m_runHeader->setWordWrap(true);

    m_scene = new GraphScene(this);
    m_graph = new GraphView(m_scene);
    connect(m_scene, &GraphScene::stepSelected, this, &MainWindow::selectStep);
    connect(m_scene, &GraphScene::stepContextMenuRequested, this, &MainWindow::showStepMenu);

    m_stepModel = new StepTableModel(this);
    m_stepTable = makeTable(m_stepModel, QStringLiteral("Steps"));
    m_stepTable->setContextMenuPolicy(Qt::CustomContextMenu);
    const int widths[] = {170, 160, 70, 90, 80};
    for (int column = 0; column < StepTableModel::ErrorColumn; ++column)
        m_stepTable->setColumnWidth(column, widths[column]);
    // Sorted by a header click (a third click is the flow's order again); flow order at first.
    m_stepTable->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    m_stepTable->horizontalHeader()->setSortIndicatorClearable(true);
    m_stepTable->setSortingEnabled(true);
    connect(m_stepTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (const StepView *step = m_stepModel->stepAt(current.row()))
                    selectStep(step->stepId);
            });
    // Accessibility clients (AT-SPI) select rows without moving the current index.
    connect(m_stepTable->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this](const QItemSelection &selected) {
                if (selected.isEmpty())
                    return;
                if (const StepView *step = m_stepModel->stepAt(selected.indexes().first().row()))
                    selectStep(step->stepId);
            });
    connect(m_stepTable, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (const StepView *step = m_stepModel->stepAt(m_stepTable->indexAt(pos).row()))
            showStepMenu(step->stepId, m_stepTable->viewport()->mapToGlobal(pos));
    });

    m_inspector = new InspectorWidget;
    connect(m_inspector, &InspectorWidget::actionRequested, this, &MainWindow::requestAction);
    connect(m_inspector, &InspectorWidget::runRequested, this, &MainWindow::selectRun);
    connect(m_inspector, &InspectorWidget::stepRequested, this, &MainWindow::selectStep);
    m_inspector->outputView()->setLoader([this](const QString &runId, const QString &stepId) {
        return m_monitor.attemptOutputs(runId, stepId);
    });

    m_eventModel = new EventLogModel(this);
    m_eventFilter = new EventLogFilter(this);
    m_eventFilter->setSourceModel(m_eventModel);
    m_eventView = makeTable(m_eventFilter, QStringLiteral("Event log"));
    m_eventView->horizontalHeader()->setStretchLastSection(false);
    m_eventView->horizontalHeader()->setSectionResizeMode(EventLogModel::EventColumn,
                                                          QHeaderView::Stretch);
    m_eventView->setColumnWidth(EventLogModel::TimeColumn, 100);
    m_eventView->setColumnWidth(EventLogModel::StepColumn, 120);
    // Workers taking runs up ("resumed by vm:…") are folded; the context menu shows them.
    m_eventView->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *showResumes = new QAction(m_eventView);
    showResumes->setCheckable(true);
    showResumes->setObjectName(QStringLiteral("showResumes"));
    m_eventView->addAction(showResumes);
    connect(showResumes, &QAction::toggled, m_eventModel, &EventLogModel::setShowResumes);
    connect(m_eventModel, &EventLogModel::hiddenCountChanged, showResumes, [this, showResumes] {
        const int resumes = m_eventModel->showsResumes() ? -1 : m_eventModel->hiddenCount();
        showResumes->setText(resumes < 0
                                 ? QStringLiteral("Show worker resumes")
                                 : QStringLiteral("Show worker resumes (%1 folded)").arg(resumes));
        m_eventView->setToolTip(resumes > 0 ? QStringLiteral("%1 \"resumed by\" event(s) of "
                                                             "workers are folded: right-click to "
                                                             "show them")
                                                  .arg(resumes)
                                            : QString());
    });
    showResumes->setText(QStringLiteral("Show worker resumes"));
    m_timeline = new TimelinePlot;
    connect(m_timeline, &TimelinePlot::stepClicked, this, &MainWindow::selectStep);
    m_resources = new ResourcesView;
    auto resourceChange = [this](const QString &name, std::optional<bool> paused, bool reset) {
        if (Status s = m_monitor.changeResource(name, paused, reset); !s)
            showMessage(s.message(), true);
        else
            showMessage(QStringLiteral("resource %1: %2")
                            .arg(name, reset     ? QStringLiteral("breaker reset")
                                       : *paused ? QStringLiteral("paused")
                                                 : QStringLiteral("unpaused")));
        sampleResources(); // show the change now, not at the next tick
    };
    connect(m_resources, &ResourcesView::pauseRequested, this,
            [resourceChange](const QString &name) { resourceChange(name, true, false); });
    connect(m_resources, &ResourcesView::unpauseRequested, this,
            [resourceChange](const QString &name) { resourceChange(name, false, false); });
    connect(m_resources, &ResourcesView::resetRequested, this,
            [resourceChange](const QString &name) { resourceChange(name, std::nullopt, true); });
    connect(m_resources, &ResourcesView::limitsRequested, this, &MainWindow::requestResourceLimits);

    m_bottomTabs = new QTabWidget;
    m_bottomTabs->setAccessibleName(QStringLiteral("Details"));
    // The log follows the selected step, as the step's history; "All events" shows the run's.
    m_allEvents = new QCheckBox(QStringLiteral("&All events"));
    m_allEvents->setAccessibleName(QStringLiteral("All events"));
    m_allEvents->setToolTip(QStringLiteral("Show the events of every step of the run, not only "
                                           "those of the selected step"));
    connect(m_allEvents, &QCheckBox::toggled, this, [this](bool all) {
        m_eventFilter->setAllEvents(all);
        m_eventView->scrollToBottom();
    });
    m_eventSearch = new QLineEdit;
    m_eventSearch->setPlaceholderText(QStringLiteral("Search events"));
    m_eventSearch->setAccessibleName(QStringLiteral("Search events"));
    m_eventSearch->setClearButtonEnabled(true);
    connect(m_eventSearch, &QLineEdit::textChanged, this,
            [this](const QString &text) { m_eventFilter->setSearch(text.trimmed()); });
    QWidget *eventPane = underFilterBar(m_eventView, m_eventSearch, m_allEvents);
    m_bottomTabs->addTab(eventPane, QStringLiteral("Event log"));
    m_bottomTabs->addTab(m_timeline, QStringLiteral("Timeline"));
    m_bottomTabs->addTab(m_resources, QStringLiteral("Resources"));
    m_workers = new WorkersView;
    m_bottomTabs->addTab(m_workers, QStringLiteral("Workers"));
    m_failures = new FailuresView(m_monitor);
    m_bottomTabs->addTab(m_failures, QStringLiteral("Failures"));
    connect(m_failures, &FailuresView::runActivated, this, &MainWindow::selectRun);
    connect(m_failures, &FailuresView::bulkRequested, this, &MainWindow::requestBulk);
    // The groups follow the runs list's flow and time range.
    connect(m_runs->model(), &RunsModel::filtersChanged, m_failures, [this] {
        const RunQuery query = m_runs->model()->query();
        m_failures->setFilter(query.flowName, query.since, query.until);
    });
    connect(&m_monitor, &Monitor::runsChanged, m_failures, &FailuresView::noteRunsChanged);
    connect(m_bottomTabs, &QTabWidget::currentChanged, this, &MainWindow::refreshWorkers);

    m_nextProblem = new QAction(QStringLiteral("Next problem"), this);
    m_nextProblem->setShortcut(QKeySequence(Qt::Key_F8));
    m_nextProblem->setToolTip(QStringLiteral("Select the next failed, retrying, uncertain or "
                                             "waiting step (F8)"));
    connect(m_nextProblem, &QAction::triggered, this, [this] { selectNextProblem(true); });
    m_previousProblem = new QAction(QStringLiteral("Previous problem"), this);
    m_previousProblem->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F8));
    m_previousProblem->setToolTip(QStringLiteral("Select the previous failed, retrying, "
                                                 "uncertain or waiting step (Shift+F8)"));
    connect(m_previousProblem, &QAction::triggered, this, [this] { selectNextProblem(false); });
    for (QAction *action : {m_nextProblem, m_previousProblem})
        action->setShortcutContext(Qt::WindowShortcut);
    auto *headerBar = new QHBoxLayout;
    headerBar->setContentsMargins(4, 0, 4, 0);
    headerBar->addWidget(m_runHeader, 1);
    m_openParent = new QPushButton;
    m_openParent->setVisible(false);
    connect(m_openParent, &QPushButton::clicked, this, [this] {
        const QString parent = m_openParent->property("runId").toString();
        const QString step = m_openParent->property("stepId").toString();
        if (parent.isEmpty())
            return;
        selectRun(parent);
        selectStep(step);
    });
    headerBar->addWidget(m_openParent);
    for (QAction *action : {m_previousProblem, m_nextProblem}) {
        auto *button = new QToolButton;
        button->setDefaultAction(action);
        button->setAccessibleName(action->text());
        headerBar->addWidget(button);
    }
    auto *graphPane = new QWidget;
    auto *graphLayout = new QVBoxLayout(graphPane);
    graphLayout->setContentsMargins(0, 0, 0, 0);
    graphLayout->setSpacing(2);
    graphLayout->addLayout(headerBar);
    m_scrubber = new HistoryScrubber;
    connect(m_scrubber, &HistoryScrubber::scrubbed, this, &MainWindow::showHistoryAt);
    connect(m_scrubber, &HistoryScrubber::wentLive, this, &MainWindow::leaveHistory);
    graphLayout->addWidget(m_scrubber);
    graphLayout->addWidget(m_graph, 1);

    m_stepFilter = new QLineEdit;
    m_stepFilter->setPlaceholderText(QStringLiteral("Filter steps (name, kind, state, error)"));
    m_stepFilter->setAccessibleName(QStringLiteral("Filter steps"));
    m_stepFilter->setClearButtonEnabled(true);
    connect(m_stepFilter, &QLineEdit::textChanged, this,
            [this](const QString &text) { m_stepModel->setFilterText(text.trimmed()); });
    m_attentionOnly = new QCheckBox(QStringLiteral("&Problems only"));
    m_attentionOnly->setAccessibleName(QStringLiteral("Problems only"));
    m_attentionOnly->setToolTip(
        QStringLiteral("Only the failed, retrying, uncertain and waiting steps"));
    connect(m_attentionOnly, &QCheckBox::toggled, m_stepModel, &StepTableModel::setAttentionOnly);
    QWidget *stepPane = underFilterBar(m_stepTable, m_stepFilter, m_attentionOnly);

    // The graph and the step table lead; the log below follows the selected step.
    auto *center = new QSplitter(Qt::Vertical);
    center->setObjectName(QStringLiteral("centerSplitter"));
    center->addWidget(graphPane);
    center->addWidget(stepPane);
    center->addWidget(m_bottomTabs);
    center->setStretchFactor(0, 5);
    center->setStretchFactor(1, 3);
    center->setStretchFactor(2, 2);
    // The charts of the lower tabs ask for more height than they need: the graph and the steps
    // come first, and the tabs take what is left.
    m_bottomTabs->setMinimumHeight(110);
    graphPane->setMinimumHeight(160);
    stepPane->setMinimumHeight(110);
    center->setSizes({500, 280, 190});
    center->setChildrenCollapsible(false);

    auto *main = new QSplitter(Qt::Horizontal);
    main->setObjectName(QStringLiteral("mainSplitter"));
    main->addWidget(m_runs);
    main->addWidget(center);
    main->addWidget(m_inspector);
    main->setStretchFactor(0, 2);
    main->setStretchFactor(1, 6);
    main->setStretchFactor(2, 3);
    main->setSizes({360, 860, 380});
    setCentralWidget(main);

    m_legend = new LegendWidget;
    auto *legendDock = new QDockWidget(QStringLiteral("Legend"), this);
    legendDock->setObjectName(QStringLiteral("legendDock"));
    legendDock->setWidget(m_legend);
    addDockWidget(Qt::RightDockWidgetArea, legendDock);
    legendDock->hide();

    m_stepStats = new StepStatsView(m_monitor);
    connect(m_stepStats, &StepStatsView::statsRead, this, &MainWindow::onStepStatsRead);
    auto *statsDock = new QDockWidget(QStringLiteral("Step statistics"), this);
    statsDock->setObjectName(QStringLiteral("stepStatsDock"));
    statsDock->setWidget(m_stepStats);
    addDockWidget(Qt::BottomDockWidgetArea, statsDock);
    statsDock->hide();

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(stateIcon(StepState::WaitingForOperator), this);
        m_tray->setToolTip(QStringLiteral("Keepflow"));
        m_tray->show();
        connect(m_tray, &QSystemTrayIcon::activated, this, [this] {
            showNormal();
            raise();
            activateWindow();
        });
    }
    statusBar()->setAccessibleName(QStringLiteral("Status"));
    m_databaseNotice = new QLabel;
    m_databaseNotice->setAccessibleName(QStringLiteral("Database notice"));
    m_databaseNotice->setTextFormat(Qt::PlainText);
    m_databaseNotice->setVisible(false);
    statusBar()->addPermanentWidget(m_databaseNotice);
    m_connectionNotice = new QLabel;
    m_connectionNotice->setAccessibleName(QStringLiteral("Database connection"));
    m_connectionNotice->setTextFormat(Qt::PlainText);
    m_connectionNotice->setVisible(false);
    statusBar()->addPermanentWidget(m_connectionNotice);
}

void MainWindow::buildMenus() {
    QMenu *file = menuBar()->addMenu(QStringLiteral("&File"));
    QAction *start = file->addAction(QStringLiteral("&Start run from flow file…"), this,
                                     &MainWindow::startRunDialog);
    start->setShortcut(QKeySequence::New);
    QAction *open =
        file->addAction(QStringLiteral("&Open database…"), this, &MainWindow::openDatabase);
    open->setShortcut(QKeySequence::Open);
    file->addAction(QStringLiteral("S&ecrets…"), this, [this] {
        QStringList runs = m_runs->selectedRunIds();
        if (!m_runId.isEmpty())
            runs.append(m_runId);
        QStringList names;
        for (const QString &run : runs) {
            if (const Result<Flow> flow = m_monitor.flowOfRun(run))
                names += secretNamesIn(*flow);
        }
        names.removeDuplicates();
        Q_EMIT secretsRequested(names);
    });
    file->addSeparator();
    QAction *quit = file->addAction(QStringLiteral("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *run = menuBar()->addMenu(QStringLiteral("&Run"));
    QAction *retryAll =
        run->addAction(QStringLiteral("Retry all failed steps of the selected runs"), this, [this] {
            bool ok = false;
            const QString reason =
                QInputDialog::getText(this, QStringLiteral("Retry failed steps"),
                                      QStringLiteral("Reason"), QLineEdit::Normal, QString(), &ok);
            if (ok)
                retryFailedInSelectedRuns(reason);
        });
    retryAll->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+A")));
    m_runWriteActions << retryAll;
    for (K kind : {K::PauseRun, K::UnpauseRun, K::CancelRun}) {
        QAction *action = run->addAction(
            actionLabel(kind) + (kind == K::CancelRun ? QStringLiteral("…") : QString()), this,
            [this, kind] {
                QStringList ids = m_runs->selectedRunIds();
                if (ids.isEmpty() && !m_runId.isEmpty())
                    ids << m_runId;
                actOnRuns(kind, ids);
            });
        if (!actionShortcut(kind).isEmpty())
            action->setShortcut(QKeySequence(actionShortcut(kind)));
        m_runWriteActions << action;
    }
    run->setToolTipsVisible(true);
    if (m_monitor.isReadOnly()) {
        // A monitor only: nothing here can be written.
        file->setToolTipsVisible(true);
        for (QAction *action : run->actions() + QList<QAction *>{start}) {
            action->setEnabled(false);
            action->setToolTip(readOnlyActionTip(m_monitor.readOnlyReason()));
        }
    }

    // Reads only: stays enabled on a read-only database.
    run->addSeparator();
    QAction *compare = run->addAction(QStringLiteral("&Compare with last good run…"), this,
                                      &MainWindow::compareWithLastGoodRun);
    compare->setShortcut(QKeySequence(QStringLiteral("Ctrl+D")));

    QMenu *view = menuBar()->addMenu(QStringLiteral("&View"));
    QAction *fit = view->addAction(QStringLiteral("&Fit graph"), m_graph, &GraphView::fitAll);
    fit->setShortcut(QKeySequence(QStringLiteral("Ctrl+0")));
    view->addAction(m_nextProblem);
    view->addAction(m_previousProblem);
    QAction *legend = findChild<QDockWidget *>(QStringLiteral("legendDock"))->toggleViewAction();
    legend->setShortcut(QKeySequence(QStringLiteral("Ctrl+L")));
    view->addAction(legend);
    QAction *stats = findChild<QDockWidget *>(QStringLiteral("stepStatsDock"))->toggleViewAction();
    stats->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+T")));
    view->addAction(stats);
    const QStringList tabs{QStringLiteral("Event log"), QStringLiteral("Timeline"),
                           QStringLiteral("Resources"), QStringLiteral("Workers"),
                           QStringLiteral("Failures")};
    for (int i = 0; i < tabs.size(); ++i) {
        QAction *tab =
            view->addAction(tabs[i], this, [this, i] { m_bottomTabs->setCurrentIndex(i); });
        tab->setShortcut(QKeySequence(QStringLiteral("Alt+%1").arg(i + 1)));
    }
    QAction *findRuns = view->addAction(QStringLiteral("Search runs"), this, [this] {
        if (auto *search = m_runs->findChild<QLineEdit *>())
            search->setFocus();
    });
    findRuns->setShortcut(QKeySequence::Find);
}

void MainWindow::connectMonitor() {
    connect(&m_monitor, &Monitor::eventsArrived, this, &MainWindow::onEvents);
    connect(&m_monitor, &Monitor::runsChanged, this, &MainWindow::onRunsChanged);
    connect(&m_monitor, &Monitor::runNeedsOperator, this,
            [this](const QString &runId, const QString &flowName, const QString &why) {
                const QString text =
                    QStringLiteral("Run %1 of %2 needs an operator: %3").arg(runId, flowName, why);
                showMessage(text);
                if (m_tray)
                    m_tray->showMessage(QStringLiteral("Keepflow: %1 waits").arg(flowName), text,
                                        stateIcon(StepState::WaitingForOperator));
            });
    connect(&m_monitor, &Monitor::actionAnswered, this,
            [this](qint64, bool applied, const QString &message) {
                showMessage(message, !applied);
                Q_EMIT actionFinished(applied, message);
            });
    connect(&m_monitor, &Monitor::failed, this,
            [this](const QString &message) { showMessage(message, true); });
    // The monitor reconnects by itself; the window only says so and reads again once back.
    connect(&m_monitor, &Monitor::connectionLost, this, &MainWindow::showConnectionLost);
    connect(&m_monitor, &Monitor::reconnectFailed, this, &MainWindow::showConnectionLost);
    connect(&m_monitor, &Monitor::connectionRestored, this, &MainWindow::onReconnected);
}

void MainWindow::showConnectionLost(const QString &reason) {
    // The notice says why in short: libpq's "connection to server on socket … failed: WHY" as
    // WHY, and at most a line's worth; the whole reason is in its tip.
    constexpr int kShownReason = 100;
    QString shown = reason;
    if (const qsizetype failed = shown.lastIndexOf(QLatin1String("failed: ")); failed >= 0)
        shown = shown.mid(failed + 8);
    if (shown.size() > kShownReason)
        shown = shown.left(kShownReason - 1) + QStringLiteral("…");
    if (m_connectionNotice->isHidden())
        statusBar()->clearMessage(); // what it said before no longer holds
    m_connectionNotice->setText(
        QStringLiteral("⚠ connection to DB lost (%1); reconnecting…").arg(shown));
    const QString full =
        QStringLiteral("The connection to %1 was lost: %2\nReconnecting: trying again every "
                       "second. Windows, filters and what you typed are kept; actions are "
                       "refused until the connection is back.")
            .arg(m_monitor.databasePath(), reason);
    m_connectionNotice->setToolTip(full);
    m_connectionNotice->setAccessibleDescription(full);
    m_connectionNotice->setVisible(true);
}

void MainWindow::onReconnected() {
    m_connectionNotice->setVisible(false);
    m_connectionNotice->clear();
    showMessage(QStringLiteral("reconnected to DB"));
    // Once, every open view: what changed meanwhile, and what failed to load while away.
    m_runs->model()->reload();
    if (!m_runId.isEmpty())
        m_runs->selectRun(m_runId);
    reloadFlowNames();
    m_runDirty = true;
    m_inspectorDirty = true;
    reloadRun();
    sampleResources(); // and the workers, when their tab is shown
}

void MainWindow::onEvents(const QList<EventRow> &events) {
    m_eventModel->appendEvents(events);
    // The open run's history grows; a scrubbed position stays where the user put it.
    QList<EventRow> ofOpenRun;
    const qint64 lastKnown = m_scrubber->events().isEmpty() ? 0 : m_scrubber->events().last().id;
    for (const EventRow &event : events) {
        if (!m_runId.isEmpty() && event.runId == m_runId && event.id > lastKnown)
            ofOpenRun.append(event);
    }
    m_scrubber->appendEvents(ofOpenRun);
    if (m_replay)
        m_replay->append(ofOpenRun);
    const Step *selected = m_flow && !m_stepId.isEmpty() ? m_flow->step(m_stepId) : nullptr;
    for (const EventRow &event : events) {
        if (event.runId == m_runId) {
            m_runDirty = true;
            // The inspector shows the step and, for pending and blocked ones, its upstreams.
            if (selected && (event.stepId == m_stepId || selected->after.contains(event.stepId)))
                m_inspectorDirty = true;
        }
        if (event.type == EventType::RunCreated)
            m_flowNamesDirty = true; // perhaps a flow the filter does not list yet
        if (event.type == EventType::AlertFired)
            notifyAlert(event);
        if (!event.stepId.isEmpty())
            m_latency->addEvent(event, resourceOf(event.runId, event.stepId));
    }
}

void MainWindow::notifyAlert(const EventRow &alert) {
    // Whoever fired it (this process or a worker elsewhere), it reaches every window here.
    const QString message = alert.detail.value(QLatin1String("message")).toString();
    showMessage(QStringLiteral("Alert: %1").arg(message), true);
    if (m_tray)
        m_tray->showMessage(QStringLiteral("Keepflow alert"), message,
                            stateIcon(StepState::Failed));
    QApplication::alert(this); // the taskbar entry asks for attention
}

QString MainWindow::resourceOf(const QString &runId, const QString &stepId) {
    const QString key = runId + QLatin1Char('|') + stepId;
    auto found = m_resourceOfStep.constFind(key);
    if (found == m_resourceOfStep.cend()) {
        auto flow = m_monitor.flowOfRun(runId);
        const Step *step = flow ? flow->step(stepId) : nullptr;
        found = m_resourceOfStep.insert(key, step ? step->resource : QString());
    }
    return *found;
}

void MainWindow::onRunsChanged(const QStringList &runIds) {
    for (const QString &id : runIds)
        m_dirtyRuns.insert(id);
    if (runIds.contains(m_runId))
        m_runDirty = true;
    // A child run of the open run's subflow steps: its state shows on the parent's step.
    for (const StepView &step : std::as_const(m_stepViews)) {
        if (!step.childRunId.isEmpty() && runIds.contains(step.childRunId))
            m_runDirty = true;
    }
}

void MainWindow::flushNow() {
    flush(true);
}

void MainWindow::flush(bool force) {
    if (!m_dirtyRuns.isEmpty()) {
        const QStringList ids(m_dirtyRuns.begin(), m_dirtyRuns.end());
        m_dirtyRuns.clear();
        m_runs->model()->refreshRuns(ids);
    }
    if (m_flowNamesDirty)
        reloadFlowNames();
    // A huge run (thousands of items) costs more to read: refresh it less often, so that the
    // window stays responsive; a small run refreshes on every tick.
    if (m_runDirty &&
        (force || m_sinceReload.elapsed() >= std::min<qint64>(1000, 4 * m_reloadCostMs)))
        reloadRun();
}

void MainWindow::tick() {
    const qint64 now = m_monitor.now();
    if (!m_scrubber->isScrubbed()) {
        // The past stands still: only the live view counts on.
        m_scene->setNow(now);
        m_stepModel->setNow(now);
        m_inspector->setNow(now);
        m_timeline->setNow(now); // running bars grow
    }
    m_runs->model()->setNow(now);
    sampleResources();
}

void MainWindow::sampleResources() {
    auto rows = m_monitor.resources();
    auto load = m_monitor.resourceLoad();
    if (!rows || !load)
        return;
    const qint64 now = m_monitor.now();
    QList<ResourceSample> samples;
    for (const ResourceRow &row : *rows) {
        const QPair<int, int> counts = load->value(row.name);
        samples.append(ResourceSample::fromRow(row, now, counts.first, counts.second,
                                               m_latency->takeAverage(row.name)));
    }
    m_resources->addSamples(samples);
    refreshWorkers();
}

void MainWindow::refreshWorkers() {
    // Two queries per tick: only while someone looks at the tab.
    if (m_bottomTabs->currentWidget() != m_workers)
        return;
    if (auto workers = m_monitor.workers())
        m_workers->setWorkers(*workers, m_monitor.now());
}

void MainWindow::reloadFlowNames() {
    m_flowNamesDirty = false;
    if (auto names = m_monitor.flowNames())
        m_runs->setFlowNames(*names);
}

void MainWindow::selectRun(const QString &runId) {
    if (runId.isEmpty()) {
        // An empty list while the database is away is a list that could not be read.
        if (m_monitor.isConnected())
            closeRun();
        return;
    }
    if (runId == m_runId && m_flow)
        return;
    auto flow = m_monitor.flowOfRun(runId);
    if (!flow) {
        showQueryError(flow.error());
        return;
    }
    m_runId = runId;
    m_stepId.clear();
    m_flow = std::make_unique<Flow>(*flow);
    m_scene->setFlow(*m_flow);
    QStringList ids;
    for (const Step &step : m_flow->steps)
        ids << step.id;
    m_timeline->setSteps(ids);
    auto events = m_monitor.events(runId);
    m_eventModel->setEvents(runId, events ? *events : QList<EventRow>{});
    resetHistory();
    m_scrubber->setEvents(events ? *events : QList<EventRow>{});
    m_eventFilter->setStep(QString());
    m_eventView->scrollToBottom();
    m_inspector->clear();
    reloadRun();
    m_graph->fitAll();
    m_runs->selectRun(runId);
}

namespace {

/// The timeline's marks: every operator action on a step, and every wait for one.
QList<TimelineMark> timelineMarks(const QList<EventRow> &events) {
    QList<TimelineMark> marks;
    for (const EventRow &event : events) {
        if (event.stepId.isEmpty())
            continue;
        if (isOperatorEvent(event.type))
            marks.append(
                {event.stepId, event.at, TimelineMark::Kind::OperatorAction, describeEvent(event)});
        else if (event.type == EventType::StepWaitingForApproval ||
                 event.type == EventType::StepUncertain)
            marks.append({event.stepId, event.at, TimelineMark::Kind::Wait, describeEvent(event)});
    }
    return marks;
}

} // namespace

void MainWindow::closeRun() {
    if (m_runId.isEmpty())
        return;
    m_runId.clear();
    m_stepId.clear();
    m_flow.reset();
    m_stepViews.clear();
    m_stepRows.clear();
    m_attempts.clear();
    m_items.clear();
    m_scene->setFlow(Flow());
    m_stepModel->setSteps({}, m_monitor.now());
    m_timeline->setSteps({});
    m_timeline->setAttempts({}, m_monitor.now());
    m_eventModel->setEvents(QString(), {});
    resetHistory();
    m_scrubber->setEvents({});
    m_inspector->clear();
    m_runHeader->setText(QStringLiteral("No run open: select one in the runs list."));
    setWindowTitle(m_monitor.databasePath());
}

void MainWindow::reloadRun() {
    QElapsedTimer cost;
    cost.start();
    const auto measure = qScopeGuard([this, &cost] {
        m_reloadCostMs = cost.elapsed();
        m_sinceReload.restart();
    });
    m_runDirty = false;
    if (m_runId.isEmpty() || !m_flow)
        return;
    if (m_scrubber->isScrubbed()) {
        // The views show the past; the attempts are read for positions the user moves on to.
        if (auto attempts = m_monitor.attempts(m_runId))
            m_historyAttempts = *attempts;
        return;
    }
    auto steps = m_monitor.stepRuns(m_runId);
    auto items = m_monitor.items(m_runId);
    auto attempts = m_monitor.attempts(m_runId);
    auto resources = m_monitor.resources();
    auto run = m_monitor.run(m_runId);
    if (!steps || !items || !attempts || !resources || !run) {
        showQueryError(QStringLiteral("cannot read run %1: %2")
                           .arg(m_runId, !steps       ? steps.error()
                                         : !items     ? items.error()
                                         : !attempts  ? attempts.error()
                                         : !resources ? resources.error()
                                                      : run.error()));
        return;
    }
    m_stepRows = *steps;
    m_items = *items;
    m_attempts = *attempts;
    const qint64 now = m_monitor.now();
    m_stepViews = buildStepViews(*m_flow, m_stepRows, m_items, *resources);
    m_stepStats->showFlow(run->flowName);
    // The figures read last, maybe none yet: onStepStatsRead() marks the steps again when new
    // ones arrive from the reading thread.
    if (const FlowStepStats *stats = m_stepStats->statsFor(run->flowName))
        markSlowSteps(m_stepViews, *stats, now);
    readChildRuns();
    m_scene->setNow(now);
    m_scene->updateSteps(m_stepViews);
    m_stepModel->setSteps(m_stepViews, now);
    m_timeline->setAttempts(m_attempts, now);
    m_timeline->setMarks(timelineMarks(m_eventModel->events()));
    m_runHeader->setText(QStringLiteral("Run %1 · %2 · %3%4%5")
                             .arg(m_runId, run->flowName, stateLabel(run->state),
                                  rootCauseText(m_stepViews), childHoldUpText(m_stepViews)));
    m_openParent->setVisible(!run->parentRun.isEmpty());
    if (!run->parentRun.isEmpty()) {
        m_openParent->setProperty("runId", run->parentRun);
        m_openParent->setProperty("stepId", run->parentStep);
        m_openParent->setText(
            QStringLiteral("↑ Parent run %1 (step %2)").arg(run->parentRun, run->parentStep));
        m_openParent->setAccessibleName(m_openParent->text());
    }
    setWindowTitle(
        QStringLiteral("%1 · %2 — %3").arg(m_runId, run->flowName, m_monitor.databasePath()));
    // Rebuilding the inspector (attempts, items) only when its step or an upstream changed.
    if (!m_stepId.isEmpty() && m_inspectorDirty)
        showInspector();
    m_inspectorDirty = false;
}

void MainWindow::onStepStatsRead(const QString &flowName) {
    // Scrubbed, the views show the past: reloadRun() marks the steps when back to live.
    if (m_runId.isEmpty() || !m_flow || m_scrubber->isScrubbed() ||
        flowName != m_stepStats->flowName())
        return;
    const FlowStepStats *stats = m_stepStats->cachedStats(flowName);
    if (!stats)
        return;
    const qint64 now = m_monitor.now();
    markSlowSteps(m_stepViews, *stats, now);
    m_scene->updateSteps(m_stepViews);
    m_stepModel->setSteps(m_stepViews, now);
}

namespace {

/// The attempts as they were at `at`: those started by then, the ones still under way then
/// without their outcome.
QList<AttemptRow> attemptsAsOf(const QList<AttemptRow> &attempts, qint64 at) {
    QList<AttemptRow> then;
    for (const AttemptRow &attempt : attempts) {
        if (attempt.startedAt == 0 || attempt.startedAt > at)
            continue;
        AttemptRow shown = attempt;
        if (shown.endedAt > at) {
            shown.endedAt = 0;
            shown.outcome.reset();
            shown.errorClass.reset();
            shown.error.clear();
        }
        then.append(shown);
    }
    return then;
}

} // namespace

QString MainWindow::pastShownNotice() {
    return QStringLiteral("The run is shown as it was in the past: press Now to act on it as it "
                          "is");
}

void MainWindow::enableRunWriteActions() {
    // While the open run shows its past, actions on runs would act on what is not shown.
    const bool pastShown = m_replay != nullptr;
    for (QAction *action : std::as_const(m_runWriteActions)) {
        action->setEnabled(!m_monitor.isReadOnly() && !pastShown);
        if (m_monitor.isReadOnly())
            action->setToolTip(readOnlyActionTip(m_monitor.readOnlyReason()));
        else
            action->setToolTip(pastShown ? pastShownNotice() : QString());
    }
}

qint64 MainWindow::shownTime() const {
    if (m_replay && m_replay->currentEvent())
        return m_replay->currentEvent()->at;
    return m_monitor.now();
}

void MainWindow::showHistoryAt(qsizetype index) {
    if (!m_flow || m_runId.isEmpty())
        return;
    if (!m_replay) {
        auto run = m_monitor.run(m_runId);
        if (!run) {
            showQueryError(run.error());
            return;
        }
        // The rows read last give the run's shape (steps, the items' keys).
        m_replay = std::make_unique<RunReplay>(*run, m_stepRows, m_items, m_scrubber->events());
        m_historyAttempts = m_attempts;
    }
    m_replay->seek(index);
    enableRunWriteActions();
    const EventRow *event = m_replay->currentEvent();
    if (!event)
        return;
    const ReplayedRun &past = m_replay->state();
    const qint64 at = event->at;
    m_stepRows = past.steps;
    m_items = past.existingItems();
    m_attempts = attemptsAsOf(m_historyAttempts, at);
    // No resources: their breakers and pauses now are not what they were then.
    m_stepViews = buildStepViews(*m_flow, m_stepRows, m_items, {});
    m_scene->setNow(at);
    m_scene->updateSteps(m_stepViews);
    m_stepModel->setSteps(m_stepViews, at);
    m_timeline->setAttempts(m_attempts, at);
    QList<EventRow> sofar = m_scrubber->events().mid(0, index + 1);
    m_timeline->setMarks(timelineMarks(sofar));
    const QString when =
        QDateTime::fromMSecsSinceEpoch(at).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    m_runHeader->setText(QStringLiteral("Run %1 · %2 · %3%4 · as it was at %5 (event %6)")
                             .arg(m_runId, past.run.flowName, stateLabel(past.run.state),
                                  rootCauseText(m_stepViews), when)
                             .arg(event->id));
    m_eventModel->setHighlightedEvent(event->id);
    const QModelIndex shownRow =
        m_eventFilter->mapFromSource(m_eventModel->index(m_eventModel->rowOfEvent(event->id), 0));
    if (shownRow.isValid())
        m_eventView->scrollTo(shownRow, QAbstractItemView::PositionAtCenter);
    m_inspector->setActionsUnavailable(
        QStringLiteral("Showing the run as it was at %1 (event %2): actions act on the run as it "
                       "is now. Press Now to return to live.")
            .arg(when)
            .arg(event->id));
    if (!m_stepId.isEmpty())
        showInspector();
}

void MainWindow::leaveHistory() {
    resetHistory();
    m_runDirty = true;
    m_inspectorDirty = true;
    reloadRun();
}

void MainWindow::resetHistory() {
    m_replay.reset();
    enableRunWriteActions();
    m_historyAttempts.clear();
    m_eventModel->setHighlightedEvent(0);
    m_inspector->setActionsUnavailable(QString());
}

RunDiffView *MainWindow::compareWithLastGoodRun() {
    if (m_runId.isEmpty()) {
        showMessage(QStringLiteral("Select a run to compare it with its last good run"), true);
        return nullptr;
    }
    auto *view = new RunDiffView(m_monitor, m_runId, {}, this);
    view->setAttribute(Qt::WA_DeleteOnClose);
    if (!view->status()) {
        showMessage(view->status().message(), true);
        delete view;
        return nullptr;
    }
    view->resize(size() * 0.9);
    view->show();
    return view;
}

QString MainWindow::runHeaderText() const {
    return m_runHeader->text();
}

void MainWindow::readChildRuns() {
    for (StepView &view : m_stepViews) {
        if (view.kind != QLatin1String("subflow") || view.attempts == 0)
            continue;
        const auto row = std::find_if(m_stepRows.cbegin(), m_stepRows.cend(),
                                      [&](const StepRunRow &r) { return r.stepId == view.stepId; });
        if (row == m_stepRows.cend())
            continue;
        view.childRunId = subflowRunId(m_runId, view.stepId, row->generation, row->attempts);
        if (view.state != StepState::Running)
            continue;
        // Unreadable (or not yet visible) child: the step reads as running, as before.
        if (auto child = m_monitor.run(view.childRunId))
            view.childState = child->state;
    }
}

void MainWindow::selectStep(const QString &stepId) {
    if (!m_flow || !m_flow->step(stepId))
        return;
    // The graph, the table and the timeline echo a selection back: act once.
    if (stepId == m_stepId)
        return;
    m_stepId = stepId;
    m_scene->selectStep(stepId);
    const int row = m_stepModel->rowOfStep(stepId);
    if (row >= 0 && m_stepTable->currentIndex().row() != row)
        m_stepTable->setCurrentIndex(m_stepModel->index(row, StepTableModel::StepColumn));
    m_timeline->highlightStep(stepId);
    m_eventFilter->setStep(stepId);
    m_eventView->scrollToBottom();
    showInspector();
}

bool MainWindow::selectNextProblem(bool forward) {
    const QList<StepView> &steps = m_stepModel->allSteps();
    qsizetype current = -1;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        if (steps[i].stepId == m_stepId)
            current = i;
    }
    const qsizetype count = steps.size();
    for (qsizetype offset = 1; offset <= count; ++offset) {
        const qsizetype start = current < 0 ? (forward ? -1 : count) : current;
        const qsizetype at = ((start + (forward ? offset : -offset)) % count + count) % count;
        if (!needsAttention(steps[at]))
            continue;
        if (steps[at].stepId == m_stepId)
            return true; // the only one: it stays selected
        selectStep(steps[at].stepId);
        m_graph->centerOnStep(steps[at].stepId);
        if (const int row = m_stepModel->rowOfStep(m_stepId); row >= 0)
            m_stepTable->scrollTo(m_stepModel->index(row, 0));
        return true;
    }
    showMessage(QStringLiteral("no step needs attention"));
    return false;
}

void MainWindow::showInspector() {
    const Step *step = m_flow ? m_flow->step(m_stepId) : nullptr;
    if (!step) {
        m_inspector->clear();
        return;
    }
    InspectorData shown;
    shown.runId = m_runId;
    shown.step = *step;
    QJsonValue policyChange;
    for (const StepRunRow &row : std::as_const(m_stepRows)) {
        if (row.stepId == m_stepId)
            policyChange = row.policyOverride;
    }
    const StepPolicy policy = effectiveStepPolicy(*m_flow, *step, policyChange);
    shown.retry = policy.retry;
    shown.timeoutMs = policy.timeoutMs;
    shown.deadlineMs = policy.deadlineMs;
    shown.policyChangedLive = policyChange.isObject();
    shown.now = shownTime();
    for (const StepView &view : std::as_const(m_stepViews)) {
        if (view.stepId == m_stepId)
            shown.view = view;
    }
    QHash<QString, StepState> stateOf;
    for (const StepView &view : std::as_const(m_stepViews))
        stateOf.insert(view.stepId, view.state);
    for (const QString &up : step->after)
        shown.upstreamStates.insert(up, stateOf.value(up));
    for (const QString &root : std::as_const(shown.view.blockedBy))
        shown.rootStates.insert(root, stateOf.value(root));
    for (const StepRunRow &row : std::as_const(m_stepRows)) {
        if (row.stepId == m_stepId)
            shown.row = row;
    }
    for (const AttemptRow &attempt : std::as_const(m_attempts)) {
        if (attempt.stepId == m_stepId)
            shown.attempts.append(attempt);
    }
    for (const ItemRow &item : std::as_const(m_items)) {
        if (item.stepId == m_stepId)
            shown.items.append(item);
    }
    const QList<EventRow> &events = m_eventModel->events();
    for (auto it = events.crbegin(); it != events.crend(); ++it) {
        if (it->stepId == m_stepId && isOperatorEvent(it->type) && it->at <= shown.now) {
            shown.decision = *it;
            break;
        }
    }
    if (step->kind == QLatin1String("approval"))
        shown.approvalPrompt = renderedPrompt(m_eventModel, m_stepId);
    m_inspector->showStep(shown);
}

void MainWindow::requestPolicyChange(const QString &stepId) {
    if (m_runId.isEmpty() || !m_flow)
        return;
    QJsonValue stored;
    for (const StepRunRow &row : std::as_const(m_stepRows)) {
        if (row.stepId == stepId)
            stored = row.policyOverride;
    }
    if (m_policyDialog)
        m_policyDialog->deleteLater();
    const QString runId = m_runId;
    m_policyDialog = new PolicyDialog(
        *m_flow, runId, stepId, stored,
        [this, runId, stepId](const QJsonObject &change) {
            return m_monitor.previewPolicy(runId, stepId, change);
        },
        this);
    m_policyDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_policyDialog, &PolicyDialog::confirmed, this, [this, runId, stepId] {
        OperatorAction action;
        action.kind = K::SetPolicy;
        action.runId = runId;
        action.stepId = stepId;
        action.policy = m_policyDialog->change();
        action.reason = m_policyDialog->reason();
        if (!runAction(action))
            m_policyDialog->refuse(lastMessage());
    });
    m_policyDialog->open();
}

void MainWindow::requestResourceLimits(const QString &name) {
    if (name.isEmpty())
        return;
    if (m_limitsDialog)
        m_limitsDialog->deleteLater();
    m_limitsDialog = new ResourceLimitsDialog(
        name,
        [this, name](std::optional<int> concurrency, const QString &rate) {
            return m_monitor.previewResourceLimits(name, concurrency, rate);
        },
        this);
    m_limitsDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_limitsDialog, &ResourceLimitsDialog::confirmed, this, [this, name] {
        auto done = m_monitor.setResourceLimits(name, m_limitsDialog->concurrency(),
                                                m_limitsDialog->rate(), m_limitsDialog->reason());
        if (!done) {
            showMessage(done.error(), true);
            m_limitsDialog->refuse(done.error());
            return;
        }
        showMessage(*done);
        sampleResources(); // show the change now, not at the next tick
    });
    m_limitsDialog->open();
}

ResourceLimitsDialog *MainWindow::resourceLimitsDialog() const {
    return m_limitsDialog;
}

PolicyDialog *MainWindow::policyDialog() const {
    return m_policyDialog;
}

void MainWindow::requestAction(K kind, const QString &stepId) {
    if (m_runId.isEmpty())
        return;
    if (m_scrubber->isScrubbed()) {
        showMessage(pastShownNotice(), true);
        return;
    }
    if (kind == K::SetPolicy) {
        requestPolicyChange(stepId);
        return;
    }
    OperatorAction action;
    action.kind = kind;
    action.runId = m_runId;
    action.stepId = stepId;
    QStringList preview;
    const bool previewed = actionRunsStepsAgain(kind);
    if (previewed) {
        auto steps = m_monitor.stepsRunAgainBy(action);
        if (!steps) {
            showMessage(steps.error(), true);
            return;
        }
        preview = *steps;
    }
    QString initial;
    if (kind == K::SetInput && m_flow) {
        QJsonValue input = QJsonObject(m_flow->step(stepId)->with);
        for (const StepRunRow &row : std::as_const(m_stepRows)) {
            if (row.stepId == stepId && !row.inputOverride.isUndefined())
                input = row.inputOverride;
        }
        initial =
            QString::fromUtf8(QJsonDocument(input.toObject()).toJson(QJsonDocument::Indented));
    }
    if (m_dialog)
        m_dialog->deleteLater();
    m_dialog = new ActionDialog(kind, QStringLiteral("step %1 of run %2").arg(stepId, m_runId),
                                previewed ? &preview : nullptr, initial, this);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (kind == K::Approve || kind == K::Reject)
        m_dialog->setPrompt(renderedPrompt(m_eventModel, stepId));
    if (kind == K::RetryFailedItems || kind == K::Retry) {
        // The items that run again: a foreach step's failed ones (the engine's rule).
        QStringList failedItems;
        for (const ItemRow &item : std::as_const(m_items)) {
            if (item.stepId == stepId && item.state == StepState::Failed)
                failedItems << item.itemKey;
        }
        m_dialog->setItemsPreview(failedItems);
    }
    connect(m_dialog, &ActionDialog::confirmed, this, [this, action]() mutable {
        action.reason = m_dialog->reason();
        const QJsonValue json = m_dialog->json();
        if (action.kind == K::SetInput)
            action.input = json.toObject();
        else
            action.output = json;
        // Refused for want of a connection: the dialog stays, with what was typed, for later.
        if (!runAction(action) && !m_monitor.isConnected())
            m_dialog->refuse(lastMessage() + QStringLiteral("; confirm again once reconnected"));
    });
    m_dialog->open();
}

bool MainWindow::runAction(const OperatorAction &action) {
    auto outcome = m_monitor.act(action);
    if (!outcome) {
        showMessage(outcome.error(), true);
        Q_EMIT actionFinished(false, outcome.error());
        return false;
    }
    if (outcome->requestId != 0) {
        showMessage(QStringLiteral("worker %1 executes run %2: it applies the action within a "
                                   "second")
                        .arg(outcome->worker, action.runId));
        return true;
    }
    showMessage(outcome->message);
    m_dirtyRuns.insert(action.runId);
    if (action.runId == m_runId)
        m_runDirty = true;
    Q_EMIT actionFinished(true, outcome->message);
    return true;
}

void MainWindow::actOnRun(K kind, const QString &runId) {
    OperatorAction action;
    action.kind = kind;
    action.runId = runId;
    runAction(action);
}

void MainWindow::actOnRuns(K kind, const QStringList &runIds) {
    if (runIds.isEmpty())
        return;
    if (kind != K::CancelRun) {
        for (const QString &id : runIds)
            actOnRun(kind, id);
        return;
    }
    // Cancelling ends runs: asked first, with the reason that goes into each run's event.
    if (m_dialog)
        m_dialog->deleteLater();
    const QString target = runIds.size() == 1 ? QStringLiteral("run %1").arg(runIds.first())
                                              : QStringLiteral("%1 runs").arg(runIds.size());
    m_dialog = new ActionDialog(kind, target, nullptr, {}, this);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_dialog->setPrompt(
        QStringLiteral("Cancel %1? Steps that have not finished end cancelled and nothing more "
                       "of %2 starts.%3")
            .arg(target, runIds.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"),
                 runIds.size() == 1 ? QString()
                                    : QStringLiteral("\n") + runIds.join(QStringLiteral(", "))));
    connect(m_dialog, &ActionDialog::confirmed, this, [this, runIds] {
        QStringList refused;
        for (const QString &id : runIds) {
            OperatorAction action;
            action.kind = K::CancelRun;
            action.runId = id;
            action.reason = m_dialog->reason();
            if (!runAction(action))
                refused << id;
        }
        if (!refused.isEmpty() && !m_monitor.isConnected())
            m_dialog->refuse(lastMessage() + QStringLiteral("; confirm again once reconnected"));
    });
    m_dialog->open();
}

void MainWindow::retryFailedInSelectedRuns(const QString &reason) {
    int retried = 0;
    QStringList refused;
    for (const QString &runId : m_runs->selectedRunIds()) {
        auto steps = m_monitor.stepRuns(runId);
        if (!steps)
            continue;
        for (const StepRunRow &step : *steps) {
            if (step.state != StepState::Failed && step.state != StepState::PartiallySucceeded)
                continue;
            OperatorAction action;
            action.kind = K::Retry;
            action.runId = runId;
            action.stepId = step.stepId;
            action.reason = reason;
            auto outcome = m_monitor.act(action);
            if (outcome)
                ++retried;
            else
                refused << QStringLiteral("%1/%2: %3").arg(runId, step.stepId, outcome.error());
            m_dirtyRuns.insert(runId);
        }
    }
    m_runDirty = true;
    QString message = QStringLiteral("retried %1 failed step(s)").arg(retried);
    if (!refused.isEmpty())
        message += QStringLiteral("; refused: ") + refused.join(QStringLiteral("; "));
    showMessage(message, !refused.isEmpty());
    Q_EMIT actionFinished(refused.isEmpty(), message);
}

void MainWindow::showStepMenu(const QString &stepId, const QPoint &globalPos) {
    selectStep(stepId);
    QMenu menu(this);
    menu.setAccessibleName(QStringLiteral("Step actions"));
    menu.setToolTipsVisible(true);
    const bool approval =
        m_flow && m_flow->step(stepId) && m_flow->step(stepId)->kind == QLatin1String("approval");
    StepView view;
    for (const StepView &candidate : std::as_const(m_stepViews)) {
        if (candidate.stepId == stepId)
            view = candidate;
    }
    for (K kind : stepActionKinds()) {
        QString label = actionLabel(kind);
        if (kind == K::Retry && view.state == StepState::Retrying)
            label = QStringLiteral("Retry now");
        QAction *action =
            menu.addAction(label, this, [this, kind, stepId] { requestAction(kind, stepId); });
        action->setEnabled(!m_monitor.isReadOnly() && !m_scrubber->isScrubbed() &&
                           actionApplies(kind, view, approval));
        if (m_monitor.isReadOnly())
            action->setToolTip(readOnlyActionTip(m_monitor.readOnlyReason()));
        else if (m_scrubber->isScrubbed())
            action->setToolTip(pastShownNotice());
        if (!actionShortcut(kind).isEmpty())
            action->setShortcut(QKeySequence(actionShortcut(kind)));
        action->setShortcutVisibleInContextMenu(true);
    }
    // A subflow step that started its child run leads there.
    const StepRunRow *row = nullptr;
    for (const StepRunRow &candidate : std::as_const(m_stepRows)) {
        if (candidate.stepId == stepId)
            row = &candidate;
    }
    if (m_flow && m_flow->step(stepId) && m_flow->step(stepId)->kind == QLatin1String("subflow") &&
        row && row->attempts > 0) {
        const QString child = subflowRunId(m_runId, stepId, row->generation, row->attempts);
        menu.addSeparator();
        menu.addAction(QStringLiteral("Open child run %1").arg(child), this,
                       [this, child] { selectRun(child); });
    }
    menu.exec(globalPos);
}

void MainWindow::showRunsMenu(const QStringList &runIds, const QPoint &globalPos) {
    if (runIds.isEmpty())
        return;
    QMenu menu(this);
    menu.setToolTipsVisible(true);
    QList<QAction *> actions;
    actions << menu.addAction(QStringLiteral("Retry all failed steps"), this,
                              [this] { retryFailedInSelectedRuns(QString()); });
    for (K kind : {K::PauseRun, K::UnpauseRun, K::CancelRun}) {
        actions << menu.addAction(actionLabel(kind) +
                                      (kind == K::CancelRun ? QStringLiteral("…") : QString()),
                                  this, [this, kind, runIds] { actOnRuns(kind, runIds); });
    }
    for (QAction *action : std::as_const(actions)) {
        if (!m_monitor.isReadOnly())
            break;
        action->setEnabled(false);
        action->setToolTip(readOnlyActionTip(m_monitor.readOnlyReason()));
    }
    menu.exec(globalPos);
}

void MainWindow::startRunFromFile(const QString &path, const QStringList &given) {
    FlowLoad load = loadFlowFile(path);
    if (!load.ok()) {
        QMessageBox::warning(this, QStringLiteral("Cannot start %1").arg(path), load.errorText());
        return;
    }
    QDialog dialog(this);
    dialog.setWindowTitle(QStringLiteral("Start %1").arg(load.flow->name));
    auto *form = new QFormLayout(&dialog);
    QHash<QString, QLineEdit *> edits;
    for (const ParamSpec &param : load.flow->params) {
        auto *edit = new QLineEdit;
        edit->setAccessibleName(param.name);
        edit->setToolTip(param.description);
        if (!param.defaultValue.isUndefined()) {
            const QJsonValue v = param.defaultValue;
            edit->setText(
                v.isString()
                    ? v.toString()
                    : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact))
                          .mid(1)
                          .chopped(1));
        }
        const bool required = param.defaultValue.isUndefined();
        if (required) {
            edit->setPlaceholderText(QStringLiteral("required"));
            edit->setAccessibleDescription(QStringLiteral("Required"));
        }
        form->addRow(required ? param.name + QStringLiteral(" (required)") : param.name, edit);
        edits.insert(param.name, edit);
    }
    // A required parameter left empty: said by name, and Start waits for it.
    auto missingParams = [&load, &edits] {
        QStringList missing;
        for (const ParamSpec &param : load.flow->params) {
            if (param.defaultValue.isUndefined() &&
                edits.value(param.name)->text().trimmed().isEmpty())
                missing << param.name;
        }
        return missing;
    };
    auto *missingLabel = new QLabel;
    missingLabel->setAccessibleName(QStringLiteral("Missing parameters"));
    missingLabel->setTextFormat(Qt::PlainText);
    missingLabel->setWordWrap(true);
    form->addRow(missingLabel);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(QStringLiteral("Start"));
    buttons->button(QDialogButtonBox::Ok)->setAccessibleName(QStringLiteral("Start"));
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    dialog.setMinimumWidth(420);
    auto checkMissing = [missingParams, missingLabel, buttons] {
        const QStringList missing = missingParams();
        missingLabel->setText(missing.isEmpty() ? QString()
                                                : QStringLiteral("Required, still empty: %1")
                                                      .arg(missing.join(QStringLiteral(", "))));
        missingLabel->setVisible(!missing.isEmpty());
        buttons->button(QDialogButtonBox::Ok)->setEnabled(missing.isEmpty());
    };
    for (QLineEdit *edit : std::as_const(edits))
        connect(edit, &QLineEdit::textChanged, &dialog, checkMissing);
    for (const QString &assignment : given) {
        const qsizetype eq = assignment.indexOf(QLatin1Char('='));
        QLineEdit *edit = edits.value(assignment.left(eq));
        if (eq <= 0 || !edit) {
            showMessage(QStringLiteral("%1: no parameter \"%2\" (use NAME=VALUE)")
                            .arg(path, assignment.left(eq)),
                        true);
            return;
        }
        edit->setText(assignment.mid(eq + 1));
    }
    checkMissing();
    if (given.isEmpty() && !load.flow->params.isEmpty() && dialog.exec() != QDialog::Accepted)
        return;
    if (const QStringList missing = missingParams(); !missing.isEmpty()) {
        showMessage(QStringLiteral("%1: required parameter(s) not given: %2 (use NAME=VALUE)")
                        .arg(path, missing.join(QStringLiteral(", "))),
                    true);
        return;
    }
    QJsonObject params;
    for (auto it = edits.cbegin(); it != edits.cend(); ++it) {
        const QString text = it.value()->text();
        // JSON when it parses as JSON (numbers, lists), a string otherwise, as keepflowctl does.
        const QJsonDocument doc = QJsonDocument::fromJson("[" + text.toUtf8() + "]");
        params.insert(it.key(), doc.isArray() && doc.array().size() == 1 ? doc.array().first()
                                                                         : QJsonValue(text));
    }
    auto runId = m_monitor.startRun(*load.flow, path, params);
    if (!runId) {
        showMessage(runId.error(), true);
        return;
    }
    showMessage(QStringLiteral("started run %1 of %2").arg(*runId, load.flow->name));
    m_dirtyRuns.insert(*runId);
    flush(true);
    selectRun(*runId);
}

void MainWindow::startRunDialog() {
    const QString path =
        QFileDialog::getOpenFileName(this, QStringLiteral("Start run from flow file"), QString(),
                                     QStringLiteral("Flow files (*.flow.json *.json)"));
    if (!path.isEmpty())
        startRunFromFile(path);
}

void MainWindow::openDatabase() {
    const QString path =
        QFileDialog::getOpenFileName(this, QStringLiteral("Open database"), QString(),
                                     QStringLiteral("Keepflow databases (*.db)"));
    if (path.isEmpty())
        return;
    // One window per database: the engine of this one keeps executing its runs.
    QProcess::startDetached(QCoreApplication::applicationFilePath(),
                            {QStringLiteral("--db"), path});
}

void MainWindow::showMessage(const QString &message, bool error) {
    m_message = message;
    statusBar()->showMessage(error ? QStringLiteral("⚠ ") + message : message, 15000);
}

void MainWindow::showQueryError(const QString &message) {
    if (m_monitor.isConnected())
        showMessage(message, true);
}

void MainWindow::requestBulk(const BulkRequest &request, const QString &description) {
    if (m_bulkDialog)
        m_bulkDialog->close();
    auto *dialog = new BulkDialog(m_monitor, request, description, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &BulkDialog::applyFinished, this, [this](const QString &message) {
        showMessage(message);
        m_failures->reload();
    });
    m_bulkDialog = dialog;
    dialog->show();
}

BulkDialog *MainWindow::bulkDialog() const {
    return m_bulkDialog;
}

ActionDialog *MainWindow::actionDialog() const {
    return m_dialog;
}

QString MainWindow::lastMessage() const {
    return m_message;
}

void MainWindow::restoreLayout() {
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1500, 920);
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    bool panesRestored = false;
    const auto splitters = findChildren<QSplitter *>();
    for (QSplitter *splitter : splitters) {
        const bool restored = splitter->restoreState(
            settings.value(QStringLiteral("window/") + splitter->objectName()).toByteArray());
        if (splitter->objectName() == QLatin1String("mainSplitter"))
            panesRestored = restored;
    }
    fitToScreen();
    if (!panesRestored)
        apportionPanes();
}

void MainWindow::apportionPanes() {
    auto *main = findChild<QSplitter *>(QStringLiteral("mainSplitter"));
    const int total = width();
    // The runs list as wide as its columns, the inspector a quarter, the graph the rest; on a
    // small screen the runs list gives way first (its states fold to icons), so that the graph
    // keeps two fifths.
    const int inspector = std::clamp(total / 4, m_inspector->minimumWidth(), 420);
    const int room = total - inspector - total * 2 / 5;
    const int runs = std::max(std::min(m_runs->sizeHint().width(), room),
                              std::min(m_runs->compactWidth(), total / 3));
    main->setSizes({runs, total - runs - inspector, inspector});
}

void MainWindow::fitToScreen() {
    // A geometry saved on a bigger screen (or the default size on a small one) would put the
    // inspector and its buttons off the right edge.
    const QScreen *shown = screen();
    if (!shown || isMaximized() || isFullScreen())
        return;
    const QRect available = shown->availableGeometry();
    const QRect frame = frameGeometry();
    const QSize decoration = frame.size() - geometry().size();
    const QSize size = this->size().boundedTo(available.size() - decoration);
    if (size != this->size())
        resize(size);
    QRect placed(frame.topLeft(), size + decoration);
    placed.moveRight(std::min(placed.right(), available.right()));
    placed.moveBottom(std::min(placed.bottom(), available.bottom()));
    placed.moveLeft(std::max(placed.left(), available.left()));
    placed.moveTop(std::max(placed.top(), available.top()));
    if (placed.topLeft() != frame.topLeft())
        move(placed.topLeft());
}

void MainWindow::closeEvent(QCloseEvent *event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    const auto splitters = findChildren<QSplitter *>();
    for (QSplitter *splitter : splitters)
        settings.setValue(QStringLiteral("window/") + splitter->objectName(),
                          splitter->saveState());
    QMainWindow::closeEvent(event);
}

} // namespace keepflow::ui
