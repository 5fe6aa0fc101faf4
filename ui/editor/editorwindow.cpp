#include "editorwindow.h"

#include "api/monitor.h"
#include "editorscene.h"
#include "flowdocument.h"
#include "flowsettingseditor.h"
#include "graphview.h"
#include "paletteview.h"
#include "propertyeditor.h"
#include "statestyle.h"
#include "steptablemodel.h"
#include "stepviews.h"
#include "upgradedialog.h"
#include "validationpanel.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QUndoStack>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

constexpr int kRunRefreshMs = 250;
constexpr int kMaxRecent = 8;

QJsonValue parseParamText(const QString &text) {
    // JSON when it parses as JSON (numbers, lists), a string otherwise, as keepflowctl does.
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text.toUtf8() + "]");
    return doc.isArray() && doc.array().size() == 1 ? doc.array().first() : QJsonValue(text);
}

} // namespace

EditorWindow::EditorWindow(Monitor &monitor, QWidget *parent)
    : QMainWindow(parent)
    , m_monitor(monitor)
    , m_document(new FlowDocument(this)) {
    buildViews();
    buildMenus();
    connect(m_document, &FlowDocument::modifiedChanged, this, &EditorWindow::updateTitle);
    connect(m_document, &FlowDocument::filePathChanged, this, &EditorWindow::updateTitle);
    // A drag changes the document on every mouse move: rebuild the step views once per tick.
    m_stepsTimer = new QTimer(this);
    m_stepsTimer->setSingleShot(true);
    m_stepsTimer->setInterval(GraphScene::kFlushIntervalMs);
    connect(m_stepsTimer, &QTimer::timeout, this, &EditorWindow::updateSteps);
    connect(m_document, &FlowDocument::changed, m_stepsTimer, [this] {
        if (!m_stepsTimer->isActive())
            m_stepsTimer->start();
    });
    m_runTimer = new QTimer(this);
    connect(m_runTimer, &QTimer::timeout, this, &EditorWindow::refreshRunNow);
    m_askToSave = [this] {
        return QMessageBox::question(
            this, QStringLiteral("Unsaved changes"),
            QStringLiteral("%1 has unsaved changes. Save them?").arg(m_document->flow().name),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    };
    newFlow();
    resize(1500, 920);
}

EditorWindow::~EditorWindow() = default;

void EditorWindow::buildViews() {
    m_palette = new PaletteView;
    m_scene = new EditorScene(m_document, this);
    m_canvas = new GraphView(m_scene);
    m_canvas->setAccessibleName(QStringLiteral("Flow canvas"));
    connect(m_scene, &EditorScene::editRefused, this,
            [this](const QString &reason) { showMessage(reason, true); });

    m_stepModel = new StepTableModel(this);
    m_stepTable = new QTableView;
    m_stepTable->setModel(m_stepModel);
    m_stepTable->setAccessibleName(QStringLiteral("Steps"));
    m_stepTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_stepTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_stepTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_stepTable->verticalHeader()->hide();
    m_stepTable->horizontalHeader()->setStretchLastSection(true);
    connect(m_stepTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (const StepView *step = m_stepModel->stepAt(current.row()))
                    m_scene->selectStep(step->stepId);
            });
    connect(m_scene, &GraphScene::stepSelected, this, [this](const QString &id) {
        if (id.isEmpty() && m_scene->isFollowingRename())
            return; // the renamed step is selected again at once
        m_properties->showStep(id);
        if (!id.isEmpty())
            m_sideTabs->setCurrentWidget(m_properties);
        const int row = m_stepModel->rowOfStep(id);
        if (row >= 0 && m_stepTable->currentIndex().row() != row)
            m_stepTable->setCurrentIndex(m_stepModel->index(row, StepTableModel::StepColumn));
    });

    m_properties = new PropertyEditor(m_document);
    m_settings = new FlowSettingsEditor(m_document);
    m_problems = new ValidationPanel(m_document);
    connect(m_properties, &PropertyEditor::editRefused, this,
            [this](const QString &reason) { showMessage(reason, true); });
    connect(m_settings, &FlowSettingsEditor::editRefused, this,
            [this](const QString &reason) { showMessage(reason, true); });
    connect(m_problems, &ValidationPanel::problemActivated, this,
            &EditorWindow::onProblemActivated);
    connect(m_problems, &ValidationPanel::problemStepsChanged, m_scene,
            &GraphScene::setProblemSteps);

    m_sideTabs = new QTabWidget;
    m_sideTabs->setAccessibleName(QStringLiteral("Properties"));
    m_sideTabs->addTab(m_properties, QStringLiteral("Step"));
    m_sideTabs->addTab(m_settings, QStringLiteral("Flow"));

    auto *center = new QSplitter(Qt::Vertical);
    center->addWidget(m_canvas);
    center->addWidget(m_stepTable);
    center->addWidget(m_problems);
    center->setSizes({560, 180, 140});
    auto *main = new QSplitter(Qt::Horizontal);
    main->addWidget(m_palette);
    main->addWidget(center);
    main->addWidget(m_sideTabs);
    main->setSizes({200, 860, 440});
    setCentralWidget(main);
    statusBar()->setAccessibleName(QStringLiteral("Status"));
}

QList<QKeySequence> EditorWindow::redoShortcuts(const QList<QKeySequence> &platformRedo) {
    // The platform's redo keys plus both that authors expect (Ctrl+Shift+Z and Ctrl+Y), each
    // once: the same sequence twice makes the shortcut ambiguous and neither works.
    QList<QKeySequence> keys = platformRedo;
    for (const QKeySequence &key :
         {QKeySequence(QStringLiteral("Ctrl+Shift+Z")), QKeySequence(QStringLiteral("Ctrl+Y"))}) {
        if (!keys.contains(key))
            keys.append(key);
    }
    return keys;
}

void EditorWindow::buildMenus() {
    QMenu *file = menuBar()->addMenu(QStringLiteral("&File"));
    file->addAction(QStringLiteral("&New"), QKeySequence::New, this, [this] {
        if (maybeSave())
            newFlow();
    });
    file->addAction(QStringLiteral("&Open…"), QKeySequence::Open, this, &EditorWindow::openDialog);
    m_recentMenu = file->addMenu(QStringLiteral("Open &Recent"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &EditorWindow::fillRecentMenu);
    file->addAction(QStringLiteral("&Save"), QKeySequence::Save, this, [this] { save(); });
    file->addAction(QStringLiteral("Save &As…"), QKeySequence(QStringLiteral("Ctrl+Shift+S")), this,
                    [this] {
                        const QString path = QFileDialog::getSaveFileName(
                            this, QStringLiteral("Save flow as"), m_document->filePath(),
                            QStringLiteral("Flow files (*.flow.json)"));
                        if (!path.isEmpty())
                            saveAs(path);
                    });
    file->addSeparator();
    file->addAction(QStringLiteral("&Close"), QKeySequence::Close, this, &QWidget::close);

    QMenu *edit = menuBar()->addMenu(QStringLiteral("&Edit"));
    QAction *undo = m_document->undoStack()->createUndoAction(this, QStringLiteral("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction *redo = m_document->undoStack()->createRedoAction(this, QStringLiteral("&Redo"));
    redo->setShortcuts(redoShortcuts(QKeySequence::keyBindings(QKeySequence::Redo)));
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    for (QAction *action :
         {m_scene->cutAction(), m_scene->copyAction(), m_scene->pasteAction(),
          m_scene->duplicateAction(), m_scene->deleteAction(), m_scene->selectAllAction()})
        edit->addAction(action);
    edit->addSeparator();
    edit->addAction(QStringLiteral("&Auto-layout"), QKeySequence(QStringLiteral("Ctrl+Shift+L")),
                    this, [this] {
                        if (Status s = m_scene->autoLayout(); !s)
                            showMessage(s.message(), true);
                    });

    QMenu *view = menuBar()->addMenu(QStringLiteral("&View"));
    view->addAction(m_canvas->fitAction());
    view->addAction(m_canvas->zoomInAction());
    view->addAction(m_canvas->zoomOutAction());
    view->addAction(m_canvas->minimapAction());

    QMenu *run = menuBar()->addMenu(QStringLiteral("&Run"));
    run->addAction(QStringLiteral("&Run…"), QKeySequence(QStringLiteral("F5")), this,
                   [this] { runDialog(false); });
    run->addAction(QStringLiteral("Run as a &drill…"), QKeySequence(QStringLiteral("Shift+F5")),
                   this, [this] { runDialog(true); });
    run->addAction(QStringLiteral("Open the run in the &monitor"), this,
                   &EditorWindow::openInMonitor);
    run->addAction(QStringLiteral("&Apply to run…"), QKeySequence(QStringLiteral("Ctrl+Shift+U")),
                   this, &EditorWindow::applyToRun);
    run->addAction(QStringLiteral("&Stop showing the run"), this, [this] {
        m_watchedRun.clear();
        m_runTimer->stop();
        m_runRows.clear();
        m_runItems.clear();
        updateSteps();
    });
}

Status EditorWindow::openFile(const QString &path) {
    if (!QFileInfo::exists(path)) {
        // A new flow named after the file, saved at once so that the file exists.
        QString name = QFileInfo(path).fileName();
        name = name.left(name.indexOf(QLatin1Char('.')));
        m_document->newFlow(name.isEmpty() ? QStringLiteral("new-flow") : name);
        if (Status s = m_document->save(path); !s)
            return s;
    } else if (Status s = m_document->load(path); !s) {
        return s;
    }
    addRecent(path);
    m_scene->selectStep({});
    m_canvas->fitAll();
    QTimer::singleShot(0, m_canvas, [this] { m_canvas->fitAll(); }); // once the window has its size
    updateTitle();
    updateSteps();
    return Status::ok();
}

void EditorWindow::newFlow() {
    m_document->newFlow(QStringLiteral("new-flow"));
    updateTitle();
    updateSteps();
}

bool EditorWindow::save() {
    if (m_document->filePath().isEmpty()) {
        const QString path =
            QFileDialog::getSaveFileName(this, QStringLiteral("Save flow"), QString(),
                                         QStringLiteral("Flow files (*.flow.json)"));
        return !path.isEmpty() && saveAs(path);
    }
    return saveAs(m_document->filePath());
}

bool EditorWindow::saveAs(const QString &path) {
    if (Status s = m_document->save(path); !s) {
        showMessage(s.message(), true);
        return false;
    }
    addRecent(path);
    showMessage(QStringLiteral("saved %1").arg(path));
    return true;
}

void EditorWindow::updateTitle() {
    const QString file = m_document->filePath().isEmpty()
                             ? QStringLiteral("unsaved")
                             : QFileInfo(m_document->filePath()).fileName();
    setWindowTitle(
        QStringLiteral("%1 — %2[*] — Keepflow editor").arg(m_document->flow().name, file));
    setWindowModified(m_document->isModified());
}

void EditorWindow::updateSteps() {
    m_stepsTimer->stop();
    // Breakers and pauses matter only for the run being shown.
    QList<ResourceRow> resources;
    if (!m_watchedRun.isEmpty()) {
        if (auto rows = m_monitor.resources())
            resources = *rows;
    }
    const QList<StepView> views =
        buildStepViews(m_document->flow(), m_runRows, m_runItems, resources);
    m_stepModel->setSteps(views, m_monitor.now());
    m_scene->updateSteps(views);
}

void EditorWindow::showMessage(const QString &message, bool error) {
    m_message = message;
    statusBar()->showMessage(error ? QStringLiteral("⚠ ") + message : message, 15000);
}

bool EditorWindow::maybeSave() {
    if (!m_document->isModified())
        return true;
    switch (m_askToSave()) {
    case QMessageBox::Save:
        return save();
    case QMessageBox::Discard:
        return true;
    default:
        return false;
    }
}

void EditorWindow::closeEvent(QCloseEvent *event) {
    if (maybeSave())
        event->accept();
    else
        event->ignore();
}

void EditorWindow::openDialog() {
    if (!maybeSave())
        return;
    const QString path =
        QFileDialog::getOpenFileName(this, QStringLiteral("Open flow"), QString(),
                                     QStringLiteral("Flow files (*.flow.json *.json)"));
    if (path.isEmpty())
        return;
    if (Status s = openFile(path); !s)
        QMessageBox::warning(this, QStringLiteral("Cannot open %1").arg(path), s.message());
}

void EditorWindow::addRecent(const QString &path) {
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("editor/recent")).toStringList();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent.removeAll(absolute);
    recent.prepend(absolute);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(QStringLiteral("editor/recent"), recent);
}

void EditorWindow::fillRecentMenu() {
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("editor/recent")).toStringList();
    for (const QString &path : recent) {
        m_recentMenu->addAction(path, this, [this, path] {
            if (!maybeSave())
                return;
            if (Status s = openFile(path); !s)
                QMessageBox::warning(this, QStringLiteral("Cannot open %1").arg(path), s.message());
        });
    }
    if (recent.isEmpty())
        m_recentMenu->addAction(QStringLiteral("(none)"))->setEnabled(false);
}

void EditorWindow::onProblemActivated(const QString &stepId, const QString &jsonPath) {
    if (stepId.isEmpty()) {
        m_sideTabs->setCurrentWidget(m_settings);
        m_settings->focusField(jsonPath);
        return;
    }
    m_scene->selectStep(stepId);
    m_canvas->centerOnStep(stepId);
    m_sideTabs->setCurrentWidget(m_properties);
    m_properties->showStep(stepId);
    m_properties->focusField(jsonPath);
}

Result<QString> EditorWindow::startRun(const QJsonObject &params,
                                       const QHash<QString, QJsonObject> &drill) {
    Flow flow = m_document->flow();
    for (Step &step : flow.steps) {
        if (drill.contains(step.id))
            step.drill = drill.value(step.id);
    }
    const QList<Diagnostic> problems = validateFlow(flow);
    QStringList errors;
    for (const Diagnostic &d : problems) {
        if (d.severity == Diagnostic::Severity::Error)
            errors << d.path + QStringLiteral(": ") + d.message;
    }
    if (!errors.isEmpty())
        return Status::error(QStringLiteral("the flow has problems; fix them first:\n") +
                             errors.join(QLatin1Char('\n')));
    auto run = m_monitor.startRun(flow, m_document->filePath(), params);
    if (!run)
        return run;
    m_watchedRun = *run;
    m_runTimer->start(kRunRefreshMs);
    refreshRunNow();
    showMessage(
        QStringLiteral("%1 %2 started: its states show on the canvas")
            .arg(drill.isEmpty() ? QStringLiteral("run") : QStringLiteral("drill run"), *run));
    return run;
}

void EditorWindow::refreshRunNow() {
    if (m_watchedRun.isEmpty())
        return;
    auto rows = m_monitor.stepRuns(m_watchedRun);
    auto items = m_monitor.items(m_watchedRun);
    if (!rows || !items) {
        showMessage(!rows ? rows.error() : items.error(), true);
        return;
    }
    m_runRows = *rows;
    m_runItems = *items;
    updateSteps();
}

void EditorWindow::runDialog(bool drill) {
    const Flow &flow = m_document->flow();
    QDialog dialog(this);
    dialog.setWindowTitle(drill ? QStringLiteral("Run %1 as a drill").arg(flow.name)
                                : QStringLiteral("Run %1").arg(flow.name));
    auto *layout = new QVBoxLayout(&dialog);
    auto *form = new QFormLayout;
    QHash<QString, QLineEdit *> paramEdits;
    for (const ParamSpec &param : flow.params) {
        auto *edit = new QLineEdit;
        edit->setAccessibleName(param.name);
        edit->setToolTip(param.description);
        if (!param.defaultValue.isUndefined())
            edit->setText(param.defaultValue.isString()
                              ? param.defaultValue.toString()
                              : QString::fromUtf8(QJsonDocument(QJsonArray{param.defaultValue})
                                                      .toJson(QJsonDocument::Compact))
                                    .mid(1)
                                    .chopped(1));
        form->addRow(param.name, edit);
        paramEdits.insert(param.name, edit);
    }
    layout->addLayout(form);

    // Drill: which steps get which fault; a resource row ticks every step that calls it.
    QTableWidget *faults = nullptr;
    if (drill) {
        layout->addWidget(new QLabel(QStringLiteral(
            "Inject faults into chosen steps (or every step of a resource). Attempts that are not "
            "failed run the real action.")));
        faults = new QTableWidget(static_cast<int>(flow.steps.size()), 5);
        faults->setAccessibleName(QStringLiteral("Faults"));
        faults->setHorizontalHeaderLabels({QStringLiteral("Step"), QStringLiteral("Error"),
                                           QStringLiteral("Fail first"),
                                           QStringLiteral("Fail rate"), QStringLiteral("Latency")});
        faults->verticalHeader()->hide();
        for (int row = 0; row < flow.steps.size(); ++row) {
            const Step &step = flow.steps[row];
            auto *name = new QTableWidgetItem(step.id);
            name->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
            name->setCheckState(Qt::Unchecked);
            name->setData(Qt::UserRole, step.resource);
            faults->setItem(row, 0, name);
            auto *error = new QComboBox;
            error->addItems({QStringLiteral("transient"), QStringLiteral("permanent"),
                             QStringLiteral("timeout"), QStringLiteral("garbage")});
            error->setAccessibleName(QStringLiteral("Error of %1").arg(step.id));
            faults->setCellWidget(row, 1, error);
            auto *first = new QSpinBox;
            first->setRange(0, 100);
            first->setValue(1);
            first->setAccessibleName(QStringLiteral("Fail first of %1").arg(step.id));
            faults->setCellWidget(row, 2, first);
            auto *rate = new QLineEdit(QStringLiteral("0"));
            rate->setAccessibleName(QStringLiteral("Fail rate of %1").arg(step.id));
            faults->setCellWidget(row, 3, rate);
            auto *latency = new QLineEdit;
            latency->setPlaceholderText(QStringLiteral("e.g. 2s"));
            latency->setAccessibleName(QStringLiteral("Latency of %1").arg(step.id));
            faults->setCellWidget(row, 4, latency);
        }
        layout->addWidget(faults, 1);
        if (!flow.resources.isEmpty()) {
            auto *resourceRow = new QHBoxLayout;
            resourceRow->addWidget(new QLabel(QStringLiteral("Every step of resource:")));
            for (const ResourceSpec &resource : flow.resources) {
                auto *box = new QCheckBox(resource.name);
                box->setAccessibleName(resource.name);
                connect(box, &QCheckBox::toggled, faults, [faults, resource](bool on) {
                    for (int row = 0; row < faults->rowCount(); ++row) {
                        if (faults->item(row, 0)->data(Qt::UserRole).toString() == resource.name)
                            faults->item(row, 0)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
                    }
                });
                resourceRow->addWidget(box);
            }
            resourceRow->addStretch();
            layout->addLayout(resourceRow);
        }
        dialog.resize(760, 480);
    }
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)
        ->setText(drill ? QStringLiteral("Run drill") : QStringLiteral("Run"));
    buttons->button(QDialogButtonBox::Ok)
        ->setAccessibleName(buttons->button(QDialogButtonBox::Ok)->text());
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    if (dialog.exec() != QDialog::Accepted)
        return;

    QJsonObject params;
    for (auto it = paramEdits.cbegin(); it != paramEdits.cend(); ++it)
        params.insert(it.key(), parseParamText(it.value()->text()));
    QHash<QString, QJsonObject> injected;
    for (int row = 0; faults && row < faults->rowCount(); ++row) {
        if (faults->item(row, 0)->checkState() != Qt::Checked)
            continue;
        QJsonObject fault{{QStringLiteral("error"),
                           qobject_cast<QComboBox *>(faults->cellWidget(row, 1))->currentText()},
                          {QStringLiteral("fail_first"),
                           qobject_cast<QSpinBox *>(faults->cellWidget(row, 2))->value()}};
        const double rate =
            qobject_cast<QLineEdit *>(faults->cellWidget(row, 3))->text().toDouble();
        if (rate > 0)
            fault.insert(QStringLiteral("fail_rate"), rate);
        const QString latency =
            qobject_cast<QLineEdit *>(faults->cellWidget(row, 4))->text().trimmed();
        if (!latency.isEmpty())
            fault.insert(QStringLiteral("latency"), latency);
        injected.insert(faults->item(row, 0)->text(), fault);
    }
    if (drill && injected.isEmpty()) {
        showMessage(QStringLiteral("no fault chosen: tick the steps to drill"), true);
        return;
    }
    auto run = startRun(params, injected);
    if (!run)
        QMessageBox::warning(this, QStringLiteral("Cannot start the run"), run.error());
}

std::unique_ptr<UpgradeDialog> EditorWindow::makeApplyToRunDialog() {
    const Flow &flow = m_document->flow();
    QStringList errors;
    for (const Diagnostic &d : validateFlow(flow)) {
        if (d.severity == Diagnostic::Severity::Error)
            errors << d.path + QStringLiteral(": ") + d.message;
    }
    if (!errors.isEmpty()) {
        showMessage(
            QStringLiteral("the flow has problems; fix them before applying it to a run: ") +
                errors.join(QStringLiteral("; ")),
            true);
        return nullptr;
    }
    return std::make_unique<UpgradeDialog>(m_monitor, flow, m_document->filePath(), m_watchedRun,
                                           this);
}

void EditorWindow::applyToRun() {
    const std::unique_ptr<UpgradeDialog> dialog = makeApplyToRunDialog();
    if (!dialog)
        return;
    if (dialog->exec() != QDialog::Accepted)
        return;
    const QString runId = dialog->selectedRun();
    showMessage(dialog->appliedMessage());
    // Watch the upgraded run on the canvas: its steps follow the flow as edited now.
    m_watchedRun = runId;
    m_runTimer->start(kRunRefreshMs);
    refreshRunNow();
}

void EditorWindow::openInMonitor() {
    if (m_watchedRun.isEmpty()) {
        showMessage(QStringLiteral("no run is shown: start one with Run (F5)"), true);
        return;
    }
    Q_EMIT monitorRequested(m_watchedRun);
}

} // namespace keepflow::ui
