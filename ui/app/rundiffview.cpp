#include "rundiffview.h"

#include "api/monitor.h"
#include "graphlayout.h"
#include "graphscene.h"
#include "graphview.h"
#include "statestyle.h"
#include "stepviews.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

enum Column { Subject, What, ThisRun, OtherRun, ColumnCount };

QString jsonText(const QJsonValue &value) {
    if (value.isNull() || value.isUndefined())
        return QStringLiteral("—");
    // As JSON, so that "1" and 1 read differently.
    const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2));
}

QString stateText(const std::optional<StepRunRow> &row) {
    return row ? stateLabel(row->state) : QStringLiteral("(no such step)");
}

QString attemptsText(const std::optional<StepRunRow> &row) {
    return row ? QString::number(row->attempts) : QStringLiteral("—");
}

QString durationText(const std::optional<StepRunRow> &row) {
    const auto ms = row ? stepDurationMs(*row) : std::nullopt;
    return ms ? formatSpan(*ms) : QStringLiteral("—");
}

QString errorText(const std::optional<StepRunRow> &row) {
    return row && !row->error.isEmpty() ? row->error : QStringLiteral("—");
}

/// The run's flow with the steps only the other's has added: one layout places both graphs'
/// boxes, so that a step is in the same place on both sides.
Flow unionOf(const Flow &flow, const Flow &other) {
    Flow both = flow;
    for (const Step &step : other.steps) {
        if (!both.step(step.id))
            both.steps.append(step);
    }
    return both;
}

} // namespace

RunDiffView::RunDiffView(Monitor &monitor, const QString &runId, const QString &otherId,
                         QWidget *parent)
    : QDialog(parent)
    , m_monitor(monitor)
    , m_runId(runId)
    , m_otherId(otherId) {
    setSizeGripEnabled(true);
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto graphPane = [this](QLabel *&title, GraphScene *&scene, GraphView *&view,
                            const QString &name) {
        auto *pane = new QWidget;
        auto *layout = new QVBoxLayout(pane);
        layout->setContentsMargins(0, 0, 0, 0);
        title = new QLabel(pane);
        title->setTextInteractionFlags(Qt::TextSelectableByMouse);
        scene = new GraphScene(this);
        view = new GraphView(scene, pane);
        view->setAccessibleName(name);
        view->setMinimapVisible(false);
        layout->addWidget(title);
        layout->addWidget(view, 1);
        return pane;
    };
    auto *graphs = new QSplitter(Qt::Horizontal);
    graphs->addWidget(
        graphPane(m_runTitle, m_runScene, m_runGraph, QStringLiteral("This run's graph")));
    graphs->addWidget(
        graphPane(m_otherTitle, m_otherScene, m_otherGraph, QStringLiteral("Other run's graph")));

    m_table = new QTableWidget(0, ColumnCount);
    m_table->setAccessibleName(QStringLiteral("Differences"));
    m_table->setHorizontalHeaderLabels({QStringLiteral("Difference"), QStringLiteral("What"),
                                        QStringLiteral("This run"), QStringLiteral("Other run")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(graphs);
    split->addWidget(m_table);
    // The graphs lead: three fifths of the height (the table scrolls).
    split->setSizes({3000, 2000});

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    QPushButton *refreshButton =
        buttons->addButton(QStringLiteral("&Refresh"), QDialogButtonBox::ActionRole);
    connect(refreshButton, &QPushButton::clicked, this, &RunDiffView::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    layout->addWidget(split, 1);
    layout->addWidget(buttons);

    // Either side's selection shows on both graphs and in the table.
    for (GraphScene *scene : {m_runScene, m_otherScene})
        connect(scene, &GraphScene::stepSelected, this, &RunDiffView::selectStep);
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (row < 0)
            return;
        const QString stepId = m_table->item(row, Subject)->data(Qt::UserRole).toString();
        if (!stepId.isEmpty())
            selectStep(stepId);
    });

    refresh();
}

RunDiffView::~RunDiffView() = default;

void RunDiffView::refresh() {
    auto diff = m_monitor.diffRuns(m_runId, m_otherId);
    if (!diff) {
        m_status = diff.status();
        m_diff = RunDiff();
        m_header->setText(m_status.message());
        setWindowTitle(QStringLiteral("Compare run %1").arg(m_runId));
        return;
    }
    m_status = Status::ok();
    m_diff = *diff;
    showDiff();
}

void RunDiffView::showDiff() {
    const RunRow &run = m_diff.run;
    const RunRow &other = m_diff.other;
    setWindowTitle(
        QStringLiteral("Run %1 compared with %2 · %3").arg(run.id, other.id, run.flowName));
    auto flow = m_monitor.flowOfRun(run.id);
    auto otherFlow = m_monitor.flowOfRun(other.id);
    auto steps = m_monitor.stepRuns(run.id);
    auto otherSteps = m_monitor.stepRuns(other.id);
    auto items = m_monitor.items(run.id);
    auto otherItems = m_monitor.items(other.id);
    auto resources = m_monitor.resources();
    for (const Status &status :
         {flow.status(), otherFlow.status(), steps.status(), otherSteps.status(), items.status(),
          otherItems.status(), resources.status()}) {
        if (!status) {
            m_status = status;
            m_header->setText(status.message());
            return;
        }
    }
    const qsizetype differing = m_diff.steps.size(); // every step listed differs
    QString summary =
        m_diff.isEmpty()
            ? QStringLiteral("No differences.")
            : QStringLiteral("%1 step(s) differ, %2 parameter(s)%3.")
                  .arg(differing)
                  .arg(m_diff.params.size())
                  .arg(m_diff.versionsDiffer() ? QStringLiteral(", flow version %1 against %2")
                                                     .arg(m_diff.version)
                                                     .arg(m_diff.otherVersion)
                                               : QString());
    m_header->setText(QStringLiteral("<b>Run %1</b> (%2) compared with <b>run %3</b> (%4), "
                                     "flow %5. %6 Marked steps (≠) differ; hover one for what.")
                          .arg(run.id.toHtmlEscaped(), stateLabel(run.state),
                               other.id.toHtmlEscaped(), stateLabel(other.state),
                               run.flowName.toHtmlEscaped(), summary));
    m_runTitle->setText(QStringLiteral("This run: %1 · %2 · version %3")
                            .arg(run.id, stateLabel(run.state))
                            .arg(m_diff.version));
    m_otherTitle->setText(QStringLiteral("Other run: %1 · %2 · version %3")
                              .arg(other.id, stateLabel(other.state))
                              .arg(m_diff.otherVersion));

    const QHash<QString, QPointF> positions = layoutFlow(unionOf(*flow, *otherFlow));
    QHash<QString, QStringList> notes;
    for (const StepDiff &step : m_diff.steps)
        notes.insert(step.stepId, step.describe());
    const qint64 now = m_monitor.now();
    struct Side {
        GraphScene *scene;
        GraphView *view;
        const Flow &flow;
        const QList<StepRunRow> &rows;
        const QList<ItemRow> &items;
    };
    for (const Side &side :
         {Side{m_runScene, m_runGraph, *flow, *steps, *items},
          Side{m_otherScene, m_otherGraph, *otherFlow, *otherSteps, *otherItems}}) {
        side.scene->setFlow(side.flow, positions);
        side.scene->setNow(now);
        side.scene->updateSteps(buildStepViews(side.flow, side.rows, side.items, *resources));
        side.scene->flushUpdates();
        QHash<QString, QStringList> shown;
        for (auto it = notes.cbegin(); it != notes.cend(); ++it) {
            if (side.flow.step(it.key()))
                shown.insert(it.key(), it.value());
        }
        side.scene->setDifferences(shown);
        side.view->fitAll();
    }
    fillTable();
}

void RunDiffView::fillTable() {
    m_table->setRowCount(0);
    auto addRow = [this](const QString &subject, const QString &what, const QString &mine,
                         const QString &theirs, const QString &stepId) {
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        const QStringList texts{subject, what, mine, theirs};
        for (int column = 0; column < ColumnCount; ++column) {
            auto *item = new QTableWidgetItem(texts[column]);
            item->setToolTip(texts[column]);
            item->setData(Qt::UserRole, stepId);
            m_table->setItem(row, column, item);
        }
    };
    for (const auto &[name, values] : m_diff.params)
        addRow(QStringLiteral("Parameter %1").arg(name), QStringLiteral("value"),
               jsonText(values.first), jsonText(values.second), {});
    if (m_diff.versionsDiffer())
        addRow(QStringLiteral("Flow"), QStringLiteral("version"), QString::number(m_diff.version),
               QString::number(m_diff.otherVersion), {});
    for (const StepDiff &step : m_diff.steps) {
        const QString subject = QStringLiteral("Step %1").arg(step.stepId);
        const QString &id = step.stepId;
        if (step.definitionAdded)
            addRow(subject, QStringLiteral("definition"), QStringLiteral("added"),
                   QStringLiteral("(not in this version)"), id);
        if (step.definitionRemoved)
            addRow(subject, QStringLiteral("definition"), QStringLiteral("(not in this version)"),
                   QStringLiteral("present"), id);
        if (!step.definitionPaths.isEmpty())
            addRow(subject, QStringLiteral("definition"),
                   QStringLiteral("changed at %1")
                       .arg(step.definitionPaths.join(QStringLiteral(", "))),
                   QString(), id);
        if (step.stateDiffers)
            addRow(subject, QStringLiteral("state"), stateText(step.run), stateText(step.other),
                   id);
        if (step.attemptsDiffer)
            addRow(subject, QStringLiteral("attempts"), attemptsText(step.run),
                   attemptsText(step.other), id);
        if (step.durationDiffers)
            addRow(subject, QStringLiteral("duration"), durationText(step.run),
                   durationText(step.other), id);
        if (step.errorDiffers)
            addRow(subject, QStringLiteral("error"), errorText(step.run), errorText(step.other),
                   id);
        if (step.outputDiffers())
            addRow(subject, QStringLiteral("output"),
                   QStringLiteral("differs at %1").arg(step.outputPaths.join(QStringLiteral(", "))),
                   QString(), id);
    }
    if (m_table->rowCount() == 0)
        addRow(QStringLiteral("No differences"), QString(), QString(), QString(), {});
    m_table->resizeColumnsToContents();
    // Long errors and paths keep to a readable width; the tooltip has them whole.
    for (int column = Subject; column < OtherRun; ++column)
        m_table->setColumnWidth(column, std::min(m_table->columnWidth(column), 420));
}

void RunDiffView::selectStep(const QString &stepId) {
    if (m_selecting)
        return;
    m_selecting = true;
    for (GraphScene *scene : {m_runScene, m_otherScene}) {
        if (scene->selectedStep() != stepId)
            scene->selectStep(stepId);
    }
    for (GraphView *view : {m_runGraph, m_otherGraph}) {
        if (!stepId.isEmpty() && view->graphScene()->nodeItem(stepId))
            view->centerOnStep(stepId);
    }
    const int current = m_table->currentRow();
    const bool rowShowsIt =
        current >= 0 && m_table->item(current, Subject)->data(Qt::UserRole).toString() == stepId;
    if (!rowShowsIt) {
        for (int row = 0; row < m_table->rowCount(); ++row) {
            if (m_table->item(row, Subject)->data(Qt::UserRole).toString() == stepId) {
                m_table->setCurrentCell(row, Subject);
                break;
            }
        }
    }
    m_selecting = false;
}

} // namespace keepflow::ui
