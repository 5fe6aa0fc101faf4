#pragma once

// A run beside another run of its flow, by default the last one that succeeded before it
// (Run → Compare with last good run): both graphs side by side with their boxes in the same
// places, the steps that differ marked on both (an outline, a "≠" badge, "differs" among the
// badges, and in the tooltip what differs), and below a table of every difference (parameters,
// flow version and each step's changed definition, state, attempts, duration, error, output).
// Selecting a step in a graph or a row of the table selects it in both graphs. What differs is
// engine/api/rundiff.h's comparison, read through the Monitor; the window shows it as it was
// when opened (Refresh reads it again).
//
// Threading: GUI thread.

#include "api/rundiff.h"
#include "core/status.h"

#include <QDialog>

class QLabel;
class QTableWidget;

namespace keepflow {
class Monitor;
} // namespace keepflow

namespace keepflow::ui {

class GraphScene;
class GraphView;

class RunDiffView : public QDialog {
    Q_OBJECT
public:
    /// Compares runId with otherId (empty: the last succeeded run of its flow before it). Check
    /// status() before showing: an error (no such run, no good run to compare with) says why.
    RunDiffView(Monitor &monitor, const QString &runId, const QString &otherId = {},
                QWidget *parent = nullptr);
    ~RunDiffView() override;

    const Status &status() const { return m_status; }
    const RunDiff &diff() const { return m_diff; }
    /// The run's graph (left) and the other run's (right).
    GraphScene *runScene() const { return m_runScene; }
    GraphScene *otherScene() const { return m_otherScene; }
    GraphView *runGraph() const { return m_runGraph; }
    GraphView *otherGraph() const { return m_otherGraph; }
    /// One row per difference: what (a parameter, the flow, a step), which field, the run's
    /// value, the other run's.
    QTableWidget *table() const { return m_table; }

public Q_SLOTS:
    /// Reads both runs and compares them again.
    void refresh();

private:
    void showDiff();
    void fillTable();
    void selectStep(const QString &stepId);

    Monitor &m_monitor;
    QString m_runId;
    QString m_otherId; ///< as asked: empty follows the last good run
    Status m_status;
    RunDiff m_diff;
    QLabel *m_header = nullptr;
    QLabel *m_runTitle = nullptr;
    QLabel *m_otherTitle = nullptr;
    GraphScene *m_runScene = nullptr;
    GraphScene *m_otherScene = nullptr;
    GraphView *m_runGraph = nullptr;
    GraphView *m_otherGraph = nullptr;
    QTableWidget *m_table = nullptr;
    bool m_selecting = false;
};

} // namespace keepflow::ui
