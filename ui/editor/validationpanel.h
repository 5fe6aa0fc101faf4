#pragma once

// The editor's list of problems: FlowDocument::problems() (the engine's validator) with a severity
// icon, the message and the JSON path, and a count ("2 problems"). Activating a row (click or
// Enter) reports the step and path so the editor can select the step and focus the field. The
// set of steps with problems is published for the canvas to mark.
//
// The list follows the document: a change starts a short single-shot timer, so a burst of changes
// (a drag reports every mouse move) validates once.
//
// Threading: GUI thread. Ownership: does not own the document, which must outlive it.

#include "model/flowfile.h"

#include <QList>
#include <QSet>
#include <QWidget>

class QLabel;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;

namespace keepflow::ui {

class FlowDocument;

class ValidationPanel : public QWidget {
    Q_OBJECT
public:
    explicit ValidationPanel(FlowDocument *document, QWidget *parent = nullptr);

    /// Milliseconds from a document change to the refreshed list.
    static constexpr int kRefreshDelayMs = 40;

    /// The step id a diagnostic path points into ("/steps/2/retry" -> id of flow.steps[2]);
    /// empty for flow-level paths or an index out of range.
    static QString stepIdForPath(const Flow &flow, const QString &path);

    /// The problems shown, in the validator's order.
    const QList<Diagnostic> &problems() const { return m_problems; }
    /// Ids of the steps that have at least one problem.
    QSet<QString> problemSteps() const { return m_problemSteps; }
    /// "No problems", "1 problem", "2 problems".
    QString countText() const;
    QTreeWidget *problemList() const { return m_list; }

    /// Validates and refreshes now instead of after the coalescing delay.
    void refreshNow();

Q_SIGNALS:
    /// A problem was clicked or Enter was pressed on it. stepId is empty for flow-level problems.
    void problemActivated(const QString &stepId, const QString &jsonPath);
    /// The set of steps with problems changed.
    void problemStepsChanged(const QSet<QString> &steps);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void activate(QTreeWidgetItem *item);

    FlowDocument *m_document = nullptr;
    QList<Diagnostic> m_problems;
    QSet<QString> m_problemSteps;
    QTreeWidget *m_list = nullptr;
    QLabel *m_count = nullptr;
    QTimer *m_timer = nullptr;
};

} // namespace keepflow::ui
