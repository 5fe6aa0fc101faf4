#pragma once

// "Apply to run…": moves a run of the edited flow to the flow as it is in the editor, keeping
// what the run already did. The operator picks one of the flow's runs that can still go on, sees
// the plan (steps kept, replaced, added, removed; refusals first, each with its reason), gives a
// reason, and applies it. Apply is disabled while anything refuses the plan.

#include "api/operatorapi.h"
#include "model/flow.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace keepflow {
class Monitor;
}

namespace keepflow::ui {

class UpgradeDialog : public QDialog {
    Q_OBJECT
public:
    /// flow: the new version (valid); preferredRun is selected when it is one of the choices.
    UpgradeDialog(Monitor &monitor, Flow flow, QString sourcePath, const QString &preferredRun,
                  QWidget *parent = nullptr);

    /// Selects runId among the choices and plans for it; false when it is not one of them.
    bool selectRun(const QString &runId);
    QString selectedRun() const;
    /// The plan shown, when a run is selected and it could be read.
    const std::optional<UpgradeOutcome> &plan() const { return m_plan; }
    /// What applying did (set once Apply succeeded).
    const QString &appliedMessage() const { return m_applied; }

    QComboBox *runChoice() const { return m_runs; }
    QTreeWidget *planView() const { return m_tree; }
    QLabel *verdict() const { return m_verdict; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QPushButton *applyButton() const { return m_apply; }

private:
    void loadRuns(const QString &preferredRun);
    void replan();
    void apply();

    Monitor &m_monitor;
    Flow m_flow;
    QString m_sourcePath;
    std::optional<UpgradeOutcome> m_plan;
    QString m_applied;
    QComboBox *m_runs = nullptr;
    QLabel *m_verdict = nullptr;
    QTreeWidget *m_tree = nullptr;
    QLineEdit *m_reason = nullptr;
    QPushButton *m_apply = nullptr;
};

} // namespace keepflow::ui
