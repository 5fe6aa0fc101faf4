#pragma once

// A bulk action over many runs (a failure group, or the runs list's filters), in three steps:
// the dry run (what it would touch: runs, steps, and the runs it would refuse with why), then on
// Apply the runs of that dry run a commit's worth at a time, with a progress bar, the counts so
// far and Cancel (which stops after the commit under way), then the outcome per run.
//
// Apply acts on exactly the runs the dry run listed (by id, with the request's other filters),
// so a run that started matching meanwhile is not touched without being shown first. Each chunk
// is one Monitor::applyBulk() call from the event loop (a zero-delay timer), so the window keeps
// painting and Cancel is heard between two commits. Threading: GUI thread.

#include "api/triage.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace keepflow {
class Monitor;
} // namespace keepflow

namespace keepflow::ui {

class BulkDialog : public QDialog {
    Q_OBJECT
public:
    enum Column { RunColumn, StepsColumn, OutcomeColumn, ReasonColumn };

    /// description: what the runs are, for people ("12 runs of orders that failed at fetch").
    BulkDialog(Monitor &monitor, const BulkRequest &request, const QString &description,
               QWidget *parent = nullptr);

    /// The dry run shown (after construction), and after Apply the outcomes so far.
    const BulkReport &report() const { return m_report; }
    bool isApplying() const { return m_applying; }
    bool isFinished() const { return m_finished; }
    int appliedCount() const { return m_applied; }
    int refusedCount() const { return m_refused; }

    QLabel *summaryLabel() const { return m_summary; }
    QTableWidget *runsTable() const { return m_table; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QPlainTextEdit *outputEdit() const { return m_output; }
    QProgressBar *progressBar() const { return m_progress; }
    QPushButton *applyButton() const { return m_apply; }
    /// Closes the dialog before Apply; stops applying after the current commit while applying.
    QPushButton *cancelButton() const { return m_cancel; }

    /// Starts applying (what the Apply button does); the chunks follow from the event loop.
    void apply();

Q_SIGNALS:
    /// A chunk was committed: done of total runs handled.
    void progressed(int done, int total);
    /// Applying ended: all runs handled, or cancelled (the report says so), or failed (message).
    void applyFinished(const QString &message);

private:
    void plan();
    void applyNextChunk();
    void finish(const QString &message);
    void showOutcome(int row, const BulkRunOutcome &outcome);
    void updateProgressText();

    Monitor &m_monitor;
    BulkRequest m_request;
    BulkReport m_report;
    QStringList m_runIds; ///< the dry run's runs, in its order
    qsizetype m_next = 0; ///< the first run of the next chunk
    int m_applied = 0;
    int m_refused = 0;
    bool m_applying = false;
    bool m_cancelRequested = false;
    bool m_finished = false;

    QLabel *m_summary = nullptr;
    QTableWidget *m_table = nullptr;
    QLineEdit *m_reason = nullptr;
    QPlainTextEdit *m_output = nullptr;
    QLabel *m_outputError = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_progressText = nullptr;
    QPushButton *m_apply = nullptr;
    QPushButton *m_cancel = nullptr;
};

} // namespace keepflow::ui
