#include "upgradedialog.h"

#include "api/monitor.h"
#include "statestyle.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

/// One group of the plan: its title, what happens to its steps, and its colour.
struct Group {
    QString title;
    QString what;
    StepState look; ///< the state whose colour and glyph mark the group
};

} // namespace

UpgradeDialog::UpgradeDialog(Monitor &monitor, Flow flow, QString sourcePath,
                             const QString &preferredRun, QWidget *parent)
    : QDialog(parent)
    , m_monitor(monitor)
    , m_flow(std::move(flow))
    , m_sourcePath(std::move(sourcePath)) {
    setWindowTitle(QStringLiteral("Apply %1 to a run").arg(m_flow.name));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(QStringLiteral(
        "The run moves to the flow as it is in the editor. Steps that succeeded keep their "
        "state and output; the others follow the new definition."));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto *form = new QFormLayout;
    m_runs = new QComboBox;
    m_runs->setAccessibleName(QStringLiteral("Run"));
    form->addRow(QStringLiteral("&Run:"), m_runs);
    layout->addLayout(form);

    m_verdict = new QLabel;
    m_verdict->setWordWrap(true);
    m_verdict->setAccessibleName(QStringLiteral("Verdict"));
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_verdict);

    m_tree = new QTreeWidget;
    m_tree->setAccessibleName(QStringLiteral("Plan"));
    m_tree->setColumnCount(3);
    m_tree->setHeaderLabels(
        {QStringLiteral("Step"), QStringLiteral("Now"), QStringLiteral("What happens")});
    m_tree->setRootIsDecorated(true);
    // A refusal's reason is a sentence: it wraps in its column instead of ending in "…".
    m_tree->setUniformRowHeights(false);
    m_tree->setWordWrap(true);
    m_tree->setTextElideMode(Qt::ElideNone);
    m_tree->header()->setStretchLastSection(true);
    layout->addWidget(m_tree, 1);

    auto *reasonForm = new QFormLayout;
    m_reason = new QLineEdit;
    m_reason->setAccessibleName(QStringLiteral("Reason"));
    m_reason->setPlaceholderText(QStringLiteral("why: recorded in the run's event log"));
    reasonForm->addRow(QStringLiteral("R&eason:"), m_reason);
    layout->addLayout(reasonForm);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_apply = buttons->addButton(QStringLiteral("&Apply"), QDialogButtonBox::AcceptRole);
    m_apply->setAccessibleName(QStringLiteral("Apply"));
    connect(m_apply, &QPushButton::clicked, this, &UpgradeDialog::apply);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(m_runs, &QComboBox::currentIndexChanged, this, [this] { replan(); });
    loadRuns(preferredRun);
    resize(760, 520);
}

void UpgradeDialog::loadRuns(const QString &preferredRun) {
    // The flow's runs that can still go on (a failed one too: the fix makes it go on).
    RunQuery query;
    query.flowName = m_flow.name;
    query.states = {RunState::Running, RunState::Paused, RunState::WaitingForOperator,
                    RunState::Failed, RunState::CompletedWithFailures};
    query.limit = 200;
    const QSignalBlocker quiet(m_runs);
    m_runs->clear();
    if (auto runs = m_monitor.runSummaries(query)) {
        for (const RunSummary &run : *runs) {
            m_runs->addItem(stateIcon(run.state),
                            QStringLiteral("%1   %2   started %3")
                                .arg(run.id, stateLabel(run.state),
                                     QDateTime::fromMSecsSinceEpoch(run.createdAt)
                                         .toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
                            run.id);
        }
    } else {
        m_verdict->setText(runs.error());
    }
    const int preferred = m_runs->findData(preferredRun);
    m_runs->setCurrentIndex(preferred >= 0 ? preferred : (m_runs->count() > 0 ? 0 : -1));
    replan();
}

bool UpgradeDialog::selectRun(const QString &runId) {
    const int index = m_runs->findData(runId);
    if (index < 0)
        return false;
    m_runs->setCurrentIndex(index);
    replan();
    return true;
}

QString UpgradeDialog::selectedRun() const {
    return m_runs->currentData().toString();
}

void UpgradeDialog::replan() {
    m_tree->clear();
    m_plan.reset();
    m_apply->setEnabled(false);
    const QString runId = selectedRun();
    if (runId.isEmpty()) {
        m_verdict->setText(
            QStringLiteral("No run of %1 can go on: every run of it succeeded or was cancelled.")
                .arg(m_flow.name));
        return;
    }
    auto planned = m_monitor.planUpgrade(runId, m_flow);
    if (!planned) {
        m_verdict->setText(QStringLiteral("Cannot plan: %1").arg(planned.error()));
        return;
    }
    m_plan = *planned;
    const UpgradePlan &plan = m_plan->plan;
    QHash<QString, StepState> states;
    if (auto rows = m_monitor.stepRuns(runId)) {
        for (const StepRunRow &row : *rows)
            states.insert(row.stepId, row.state);
    }

    QFont bold = m_tree->font();
    bold.setBold(true);
    const auto addGroup = [&](const Group &group, const QStringList &ids) {
        if (ids.isEmpty())
            return;
        auto *top = new QTreeWidgetItem(
            m_tree, {QStringLiteral("%1 (%2)").arg(group.title).arg(ids.size())});
        top->setIcon(0, stateIcon(group.look));
        top->setFont(0, bold);
        top->setFirstColumnSpanned(true);
        for (const QString &id : ids) {
            auto *item = new QTreeWidgetItem(top, {id});
            if (states.contains(id)) {
                item->setIcon(1, stateIcon(states.value(id)));
                item->setText(1, stateLabel(states.value(id)));
            } else {
                item->setText(1, QStringLiteral("(new)"));
            }
            QString what = group.what;
            if (group.look == StepState::Succeeded && plan.keptChanged.contains(id))
                what = QStringLiteral("kept: it succeeded before its definition changed; it does "
                                      "not run again");
            item->setText(2, what);
            item->setToolTip(2, what);
        }
        top->setExpanded(true);
    };

    if (plan.refused()) {
        auto *top =
            new QTreeWidgetItem(m_tree, {QStringLiteral("Refused (%1)").arg(plan.refusals.size())});
        top->setIcon(0, stateIcon(StepState::Failed));
        top->setFont(0, bold);
        top->setForeground(0, stateColor(StepState::Failed));
        top->setFirstColumnSpanned(true);
        for (const UpgradeRefusal &refusal : plan.refusals) {
            auto *item = new QTreeWidgetItem(
                top, {refusal.step.isEmpty() ? QStringLiteral("(the run)") : refusal.step});
            if (states.contains(refusal.step)) {
                item->setIcon(1, stateIcon(states.value(refusal.step)));
                item->setText(1, stateLabel(states.value(refusal.step)));
            }
            item->setText(2, refusal.reason);
            item->setToolTip(2, refusal.reason);
            item->setForeground(2, stateColor(StepState::Failed));
        }
        top->setExpanded(true);
    }
    addGroup({QStringLiteral("Replaced"),
              QStringLiteral("starts over under the new definition (new keys, attempts from 0)"),
              StepState::Retrying},
             plan.replace);
    addGroup({QStringLiteral("Added"), QStringLiteral("new step: runs when its upstream is done"),
              StepState::Pending},
             plan.add);
    addGroup({QStringLiteral("Removed"), QStringLiteral("not in the new version: its row goes"),
              StepState::Skipped},
             plan.remove);
    addGroup({QStringLiteral("Kept"), QStringLiteral("kept as it is, with its output"),
              StepState::Succeeded},
             plan.keep);
    m_tree->resizeColumnToContents(0);
    m_tree->resizeColumnToContents(1);

    if (plan.refused()) {
        m_verdict->setText(
            QStringLiteral("<b>Cannot apply:</b> %1 refusal(s), listed first below. Nothing "
                           "changes until they are dealt with.")
                .arg(plan.refusals.size()));
    } else {
        m_verdict->setText(QStringLiteral("<b>Ready:</b> run %1 moves from %2 v%3; it %4.")
                               .arg(runId, m_plan->flowName)
                               .arg(m_plan->fromVersion)
                               .arg(plan.summary().toHtmlEscaped()));
        m_apply->setEnabled(true);
    }
}

void UpgradeDialog::apply() {
    const QString runId = selectedRun();
    if (runId.isEmpty() || !m_plan || m_plan->plan.refused())
        return;
    auto outcome = m_monitor.upgrade(runId, m_flow, m_sourcePath, m_reason->text().trimmed());
    if (!outcome) {
        QMessageBox::warning(this, QStringLiteral("Cannot apply"), outcome.error());
        replan();
        return;
    }
    if (!outcome->applied) { // something changed since the plan was shown
        m_plan = *outcome;
        replan();
        return;
    }
    m_applied =
        outcome->action.requestId != 0
            ? QStringLiteral("left for worker %1, which applies it").arg(outcome->action.worker)
            : outcome->action.message;
    accept();
}

} // namespace keepflow::ui
