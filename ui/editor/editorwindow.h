#pragma once

// The flow editor window (`keepflow --edit FILE`): palette, the canvas (the run graph's scene in
// editable mode), a step table, the property and flow settings editors and the problems panel,
// on one FlowDocument with one undo stack. A flow is edited, run (or run as a drill with injected
// faults) and watched on the same canvas: the run's step states arrive on it live.

#include "core/records.h"
#include "operator/operatoraction.h"

#include <QKeySequence>
#include <QMainWindow>

#include <functional>
#include <memory>

class QLabel;
class QMenu;
class QTabWidget;
class QTableView;
class QTimer;

namespace keepflow {
class Monitor;
}

namespace keepflow::ui {

class EditorScene;
class FlowDocument;
class FlowSettingsEditor;
class GraphView;
class PaletteView;
class PropertyEditor;
class StepTableModel;
class UpgradeDialog;
class ValidationPanel;

class EditorWindow : public QMainWindow {
    Q_OBJECT
public:
    /// monitor executes and reports the runs started from the editor (it is not owned).
    explicit EditorWindow(Monitor &monitor, QWidget *parent = nullptr);
    ~EditorWindow() override;

    /// Opens path; a path that does not exist yet becomes a new, empty flow saved there.
    Status openFile(const QString &path);
    void newFlow();
    /// Saves to the current file (Save As when there is none). Returns whether it was saved.
    bool save();
    bool saveAs(const QString &path);

    /// Starts a run of the flow as it is now (params NAME=VALUE, defaults otherwise) and shows
    /// its states on the canvas. drill: step id -> its `drill` object (faults to inject).
    Result<QString> startRun(const QJsonObject &params, const QHash<QString, QJsonObject> &drill);
    /// The run shown on the canvas, or empty.
    const QString &watchedRun() const { return m_watchedRun; }
    /// Reads the watched run's states now (tests; otherwise on a timer).
    void refreshRunNow();

    /// "Apply to run…": the dialog that moves a run of this flow to the flow as edited (the
    /// watched run preselected); null, with the reason in lastMessage(), when the flow has
    /// problems. The caller shows it (exec) and owns it.
    std::unique_ptr<UpgradeDialog> makeApplyToRunDialog();

    /// Asked when closing with unsaved changes: Save, Discard or Cancel. Tests replace it.
    void setUnsavedChangesQuestion(std::function<int()> ask) { m_askToSave = std::move(ask); }

    /// Edit → Redo's keys from the platform's (QKeySequence::keyBindings): those, Ctrl+Shift+Z
    /// and Ctrl+Y, each once (X11's is Ctrl+Shift+Z alone, Windows' Ctrl+Y first).
    static QList<QKeySequence> redoShortcuts(const QList<QKeySequence> &platformRedo);

    FlowDocument *document() const { return m_document; }
    EditorScene *scene() const { return m_scene; }
    GraphView *canvas() const { return m_canvas; }
    PaletteView *palette() const { return m_palette; }
    PropertyEditor *propertyEditor() const { return m_properties; }
    FlowSettingsEditor *flowSettings() const { return m_settings; }
    ValidationPanel *problems() const { return m_problems; }
    QTableView *stepTable() const { return m_stepTable; }
    QString lastMessage() const { return m_message; }

Q_SIGNALS:
    /// "Open the run in the monitor": the application shows its monitor window on runId.
    void monitorRequested(const QString &runId);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildViews();
    void buildMenus();
    void updateTitle();
    void updateSteps();
    void showMessage(const QString &message, bool error = false);
    bool maybeSave();
    void openDialog();
    void addRecent(const QString &path);
    void fillRecentMenu();
    void runDialog(bool drill);
    void openInMonitor();
    void applyToRun();
    void onProblemActivated(const QString &stepId, const QString &jsonPath);

    Monitor &m_monitor;
    FlowDocument *m_document = nullptr;
    EditorScene *m_scene = nullptr;
    GraphView *m_canvas = nullptr;
    PaletteView *m_palette = nullptr;
    PropertyEditor *m_properties = nullptr;
    FlowSettingsEditor *m_settings = nullptr;
    ValidationPanel *m_problems = nullptr;
    QTabWidget *m_sideTabs = nullptr;
    QTableView *m_stepTable = nullptr;
    StepTableModel *m_stepModel = nullptr;
    QMenu *m_recentMenu = nullptr;
    QTimer *m_runTimer = nullptr;
    QTimer *m_stepsTimer = nullptr;
    QString m_watchedRun;
    QList<StepRunRow> m_runRows;
    QList<ItemRow> m_runItems;
    QString m_message;
    std::function<int()> m_askToSave;
};

} // namespace keepflow::ui
