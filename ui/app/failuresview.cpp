#include "failuresview.h"

#include "api/monitor.h"

#include <algorithm>

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSet>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

constexpr int kGroupIndexRole = Qt::UserRole + 1; ///< on group rows: index into m_groups
constexpr int kRunIdRole = Qt::UserRole + 2;      ///< on run rows

/// What identifies a group from one reload to the next.
QString groupKey(const FailureGroup &group) {
    return QStringList{group.flow, group.stepId, errorClassName(group.errorClass), group.signature}
        .join(QChar(0x1f));
}

QString timeText(qint64 ms) {
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                  : QString();
}

struct ActionEntry {
    OperatorAction::Kind kind;
    const char *text;
};

// What a whole group can be asked for; each opens the bulk dialog with its dry run first.
constexpr ActionEntry kGroupActions[] = {
    {OperatorAction::Kind::Retry, "&Retry failed steps…"},
    {OperatorAction::Kind::RetryFailedItems, "Retry failed &items…"},
    {OperatorAction::Kind::Skip, "&Skip with output…"},
    {OperatorAction::Kind::CancelRun, "&Cancel runs…"},
};

} // namespace

FailuresView::FailuresView(Monitor &monitor, QWidget *parent)
    : QWidget(parent)
    , m_monitor(monitor)
    , m_tree(new QTreeWidget(this))
    , m_summary(new QLabel(this))
    , m_refresh(new QTimer(this)) {
    m_refresh->setSingleShot(true);
    m_refresh->setInterval(kRefreshIntervalMs);
    connect(m_refresh, &QTimer::timeout, this, [this] {
        if (isVisible())
            reload();
    });
    m_tree->setAccessibleName(tr("Failure groups"));
    m_tree->setColumnCount(7);
    m_tree->setHeaderLabels({tr("Flow"), tr("Step"), tr("Class"), tr("Signature"), tr("Count"),
                             tr("Runs"), tr("Last seen")});
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true); // a group of thousands of runs unfolds at once
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setWordWrap(false);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(SignatureColumn, QHeaderView::Stretch);
    const int widths[] = {110, 100, 75, 0, 50, 45, 115};
    for (int column = 0; column < 7; ++column) {
        if (widths[column] > 0)
            m_tree->setColumnWidth(column, widths[column]);
    }

    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setAccessibleName(tr("Failures summary"));

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(4, 0, 4, 0);
    bar->addWidget(m_summary, 1);
    // One button with the group's actions: the tab shares the window's width with the graph.
    auto *actions = new QPushButton(tr("&Act on group"), this);
    actions->setAccessibleName(tr("Act on group"));
    actions->setAccessibleDescription(tr("Act on every run of the selected failure group"));
    actions->setToolTip(tr("An action for every run of the selected group; what it would do is "
                           "shown first"));
    auto *menu = new QMenu(actions);
    for (const ActionEntry &entry : kGroupActions) {
        QAction *action =
            menu->addAction(tr(entry.text), this, [this, kind = entry.kind] { requestBulk(kind); });
        action->setData(static_cast<int>(entry.kind));
        m_actions << action;
    }
    actions->setMenu(menu);
    m_actionButton = actions;
    bar->addWidget(actions);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 2, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(bar);
    layout->addWidget(m_tree, 1);

    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        const QString runId = item->data(0, kRunIdRole).toString();
        if (!runId.isEmpty())
            Q_EMIT runActivated(runId);
    });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, &FailuresView::updateButtons);
    connect(m_tree, &QWidget::customContextMenuRequested, this, &FailuresView::showMenu);
    updateButtons();
}

void FailuresView::setFilter(const QString &flowName, qint64 since, qint64 until) {
    if (flowName == m_flowName && since == m_since && until == m_until)
        return;
    m_flowName = flowName;
    m_since = since;
    m_until = until;
    m_stale = true;
    if (isVisible())
        reload();
}

void FailuresView::noteRunsChanged() {
    m_stale = true;
    if (!m_refresh->isActive())
        m_refresh->start();
}

void FailuresView::flushNow() {
    if (m_stale)
        reload();
}

void FailuresView::showEvent(QShowEvent *event) {
    QWidget::showEvent(event);
    flushNow();
}

void FailuresView::reload() {
    m_stale = false;
    m_refresh->stop();
    RunQuery query;
    query.flowName = m_flowName;
    query.since = m_since;
    query.until = m_until;
    auto groups = m_monitor.failureGroups(query);
    if (!groups) {
        m_summary->setText(tr("The failures could not be read: %1").arg(groups.error()));
        return;
    }
    // What the operator unfolded and selected stays so across a refresh.
    QSet<QString> expanded;
    QString selectedKey, selectedRun;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = m_tree->topLevelItem(i);
        const QString key = groupKey(m_groups.value(item->data(0, kGroupIndexRole).toInt()));
        if (item->isExpanded())
            expanded.insert(key);
    }
    if (const FailureGroup *group = selectedGroup()) {
        selectedKey = groupKey(*group);
        selectedRun = m_tree->currentItem()->data(0, kRunIdRole).toString();
    }
    m_groups = *groups;

    m_tree->setUpdatesEnabled(false);
    m_tree->clear();
    QTreeWidgetItem *current = nullptr;
    QSet<QString> runs; ///< a run failing at two steps is in two groups, counted once
    for (int i = 0; i < m_groups.size(); ++i) {
        const FailureGroup &group = m_groups[i];
        for (const QString &run : group.runs)
            runs.insert(run);
        auto *item = new QTreeWidgetItem(m_tree);
        item->setText(FlowColumn, group.flow);
        item->setText(StepColumn, group.stepId);
        item->setText(ClassColumn, errorClassName(group.errorClass));
        item->setText(SignatureColumn, group.signature);
        item->setToolTip(SignatureColumn, tr("Newest: %1").arg(group.example));
        item->setText(CountColumn, QString::number(group.count));
        item->setText(RunsColumn, QString::number(group.runs.size()));
        item->setText(LastSeenColumn, timeText(group.lastAt));
        item->setToolTip(LastSeenColumn, tr("First seen %1").arg(timeText(group.firstAt)));
        for (int column : {CountColumn, RunsColumn})
            item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
        item->setData(0, kGroupIndexRole, i);
        const QString key = groupKey(group);
        const int shown = std::min(static_cast<int>(group.runs.size()), kRunsShown);
        for (int r = 0; r < shown; ++r) {
            auto *run = new QTreeWidgetItem(item);
            run->setText(FlowColumn, group.runs[r]);
            run->setFirstColumnSpanned(true);
            run->setToolTip(FlowColumn, tr("Double-click or Enter opens the run"));
            run->setData(0, kGroupIndexRole, i);
            run->setData(0, kRunIdRole, group.runs[r]);
            if (key == selectedKey && group.runs[r] == selectedRun)
                current = run;
        }
        if (group.runs.size() > shown) {
            auto *more = new QTreeWidgetItem(item);
            more->setText(FlowColumn, tr("… and %1 more runs (the group's actions cover them all)")
                                          .arg(group.runs.size() - shown));
            more->setFirstColumnSpanned(true);
            more->setData(0, kGroupIndexRole, i);
        }
        if (expanded.contains(key))
            item->setExpanded(true);
        if (!current && key == selectedKey && selectedRun.isEmpty())
            current = item;
    }
    m_tree->setUpdatesEnabled(true);
    if (current)
        m_tree->setCurrentItem(current);
    m_summary->setText(m_groups.isEmpty()
                           ? tr("No failures with these filters.")
                           : tr("%n group(s)", nullptr, static_cast<int>(m_groups.size())) +
                                 tr(" in %n run(s)", nullptr, static_cast<int>(runs.size())));
    updateButtons();
}

const FailureGroup *FailuresView::selectedGroup() const {
    const QTreeWidgetItem *item = m_tree->currentItem();
    if (!item)
        return nullptr;
    const QVariant index = item->data(0, kGroupIndexRole);
    if (!index.isValid() || index.toInt() < 0 || index.toInt() >= m_groups.size())
        return nullptr;
    return &m_groups[index.toInt()];
}

BulkRequest FailuresView::requestFor(const FailureGroup &group, OperatorAction::Kind kind) {
    BulkRequest request;
    request.kind = kind;
    // The group's runs by id: its signature masks what varies, so no text filter selects
    // exactly them. The step narrows the action to the group's step in each of them.
    request.query.runIds = group.runs;
    request.query.flowName = group.flow;
    request.query.step.stepId = group.stepId;
    return request;
}

void FailuresView::requestBulk(OperatorAction::Kind kind) {
    const FailureGroup *group = selectedGroup();
    if (!group)
        return;
    const QString description = tr("%n run(s) of %1 that failed at step %2: %3", nullptr,
                                   static_cast<int>(group->runs.size()))
                                    .arg(group->flow, group->stepId, group->signature);
    Q_EMIT bulkRequested(requestFor(*group, kind), description);
}

void FailuresView::showMenu(const QPoint &pos) {
    QTreeWidgetItem *item = m_tree->itemAt(pos);
    if (!item)
        return;
    m_tree->setCurrentItem(item);
    QMenu menu(this);
    const QString runId = item->data(0, kRunIdRole).toString();
    if (!runId.isEmpty())
        menu.addAction(tr("&Open run %1").arg(runId), this,
                       [this, runId] { Q_EMIT runActivated(runId); });
    menu.addSection(tr("Every run of the group"));
    menu.addActions(m_actions);
    menu.exec(m_tree->viewport()->mapToGlobal(pos));
}

void FailuresView::updateButtons() {
    const bool enabled = selectedGroup() != nullptr && !m_monitor.isReadOnly();
    m_actionButton->setEnabled(enabled);
}

} // namespace keepflow::ui
