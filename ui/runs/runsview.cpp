#include "runsview.h"

#include "runsmodel.h"
#include "statestyle.h"

#include <QComboBox>
#include <QDateTime>
#include <QDateTimeEdit>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QScrollBar>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace keepflow::ui {

namespace {

// Every query scans the runs; typing a word should cost one query, not one per key.
constexpr int kSearchDelayMs = 200;
// The counts per state follow live changes, at most this often (one GROUP BY query).
constexpr int kCountsDelayMs = 1000;

constexpr qint64 kHourMs = 3600 * 1000;
enum TimeRange { AnyTime, LastHour, LastDay, LastWeek, Custom };

} // namespace

RunsView::RunsView(QWidget *parent)
    : QWidget(parent)
    , m_model(new RunsModel(this))
    , m_search(new QLineEdit(this))
    , m_stateCombo(new QComboBox(this))
    , m_flowCombo(new QComboBox(this))
    , m_table(new QTableView(this))
    , m_searchDelay(new QTimer(this)) {
    m_search->setPlaceholderText(tr("Search runs"));
    m_search->setAccessibleName(tr("Search runs"));
    m_search->setClearButtonEnabled(true);

    m_stateCombo->setAccessibleName(tr("State filter"));
    m_stateCombo->addItem(tr("All states"), QVariant());
    for (RunState state :
         {RunState::Running, RunState::Paused, RunState::WaitingForOperator, RunState::Succeeded,
          RunState::CompletedWithFailures, RunState::Failed, RunState::Cancelled})
        m_stateCombo->addItem(stateIcon(state), stateLabel(state), static_cast<int>(state));

    m_flowCombo->setAccessibleName(tr("Flow filter"));
    // The filters share the pane's width instead of setting it by their longest entry.
    for (QComboBox *combo : {m_stateCombo, m_flowCombo}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(8);
    }
    m_flowCombo->addItem(tr("All flows"), QString());

    m_table->setAccessibleName(tr("Runs"));
    m_table->setModel(m_model);
    // Tab leaves the list for the next pane (a list of runs is one stop, not one per cell);
    // the arrow keys move between runs.
    m_table->setTabKeyNavigation(false);
    m_table->installEventFilter(this);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setSortingEnabled(false);
    m_table->setWordWrap(false);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    // Fixed row heights: the view never asks 100,000 rows for their size hints.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setStretchLastSection(true);
    // Widths from the text they hold, so that every column shows in a pane a third of a
    // 1280 px screen wide; the state column folds to its icon when the pane is narrower still.
    const QFontMetrics metrics = m_table->fontMetrics();
    const QFontMetrics headerMetrics = m_table->horizontalHeader()->fontMetrics();
    const auto fit = [&](int column, const QString &sample) {
        const QString header = m_model->headerData(column, Qt::Horizontal).toString();
        return std::max(metrics.horizontalAdvance(sample),
                        headerMetrics.horizontalAdvance(header) + kHeaderPadding) +
               2 * kCellPadding;
    };
    // Longer flow names elide; the whole name is in the row's tooltip.
    m_table->setColumnWidth(RunsModel::FlowColumn,
                            fit(RunsModel::FlowColumn, QStringLiteral("release-train")));
    m_table->setColumnWidth(RunsModel::RunColumn,
                            fit(RunsModel::RunColumn, QStringLiteral("0123456789ab")));
    m_table->setColumnWidth(RunsModel::StartedColumn,
                            fit(RunsModel::StartedColumn, QStringLiteral("00:00:00")));
    m_table->setColumnWidth(RunsModel::DurationColumn,
                            fit(RunsModel::DurationColumn, QStringLiteral("59m 59s")));
    m_table->setColumnWidth(RunsModel::StepsColumn,
                            fit(RunsModel::StepsColumn, QStringLiteral("10/10")));
    const int icon = m_table->iconSize().width();
    // The icon, the gap the style leaves after it, and the longest label.
    m_stateLabelWidth = icon + kCellPadding * 2 +
                        fit(RunsModel::StateColumn, stateLabel(RunState::CompletedWithFailures));
    m_stateIconWidth = fit(RunsModel::StateColumn, QString());
    m_table->setColumnWidth(RunsModel::StateColumn, m_stateLabelWidth);
    m_table->viewport()->installEventFilter(this);

    buildTriageFilters();
    // The search gets a line of its own: the runs pane is narrow beside the graph.
    auto *filters = new QHBoxLayout;
    filters->addWidget(m_stateCombo, 1);
    filters->addWidget(m_flowCombo, 1);
    auto *triage = new QHBoxLayout;
    triage->addWidget(m_timeCombo, 1);
    triage->addWidget(m_stepFiltersToggle);
    triage->addWidget(m_retryFailed);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_search);
    layout->addLayout(filters);
    layout->addLayout(triage);
    layout->addWidget(m_customRange);
    layout->addWidget(m_stepFilters);
    layout->addWidget(m_table, 1);
    // Tab walks the filters top to bottom, then the list (the rest of the window follows it).
    const QList<QWidget *> order{
        m_search,      m_stateCombo, m_flowCombo, m_timeCombo, m_stepFiltersToggle,
        m_retryFailed, m_since,      m_until,     m_stepState, m_stepId,
        m_error,       m_resource,   m_table};
    for (qsizetype i = 1; i < order.size(); ++i)
        QWidget::setTabOrder(order[i - 1], order[i]);

    // Guidance where the rows would be: an empty database, or filters that match nothing.
    m_empty = new QLabel(m_table->viewport());
    m_empty->setAccessibleName(tr("No runs"));
    m_empty->setTextFormat(Qt::PlainText);
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    auto *emptyLayout = new QVBoxLayout(m_table->viewport());
    emptyLayout->setContentsMargins(12, 12, 12, 12);
    emptyLayout->addWidget(m_empty);
    m_empty->hide();

    m_searchDelay->setSingleShot(true);
    m_searchDelay->setInterval(kSearchDelayMs);
    connect(m_search, &QLineEdit::textChanged, m_searchDelay, qOverload<>(&QTimer::start));
    connect(m_searchDelay, &QTimer::timeout, this,
            [this] { m_model->setSearch(m_search->text().trimmed()); });
    // Enter searches at once instead of waiting for typing to pause.
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        m_searchDelay->stop();
        m_model->setSearch(m_search->text().trimmed());
    });
    connect(m_stateCombo, &QComboBox::currentIndexChanged, this, [this] {
        const QVariant state = m_stateCombo->currentData();
        m_model->setStateFilter(state.isValid()
                                    ? QList<RunState>{static_cast<RunState>(state.toInt())}
                                    : QList<RunState>());
    });
    connect(m_flowCombo, &QComboBox::currentIndexChanged, this,
            [this] { m_model->setFlowFilter(m_flowCombo->currentData().toString()); });
    connect(m_table, &QWidget::customContextMenuRequested, this, &RunsView::showContextMenu);
    // A filter change resets the model; the selection is gone with the rows it named.
    connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this,
            [this] { m_loadError.clear(); });
    connect(m_model, &RunsModel::loadFailed, this, [this](const QString &message) {
        m_loadError = message;
        updateEmptyNotice();
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        updateEmptyNotice();
        Q_EMIT selectionChanged(selectedRunIds());
        // Nothing matches: nothing is open (the run shown before is not what was asked for).
        if (m_model->rowCount() == 0)
            openRun(QString());
    });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &RunsView::updateEmptyNotice);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &RunsView::updateEmptyNotice);
    // Counts per state: at once when the filters change, throttled while runs change.
    connect(m_model, &QAbstractItemModel::modelReset, this, &RunsView::refreshStateCounts);
    // Started only when idle: restarting it on every change would put the counts off for as
    // long as durations tick (dataChanged several times a second).
    const auto countSoon = [this] {
        if (!m_countsDelay->isActive())
            m_countsDelay->start();
    };
    connect(m_model, &QAbstractItemModel::rowsInserted, m_countsDelay, countSoon);
    connect(m_model, &QAbstractItemModel::rowsRemoved, m_countsDelay, countSoon);
    connect(m_model, &QAbstractItemModel::dataChanged, m_countsDelay, countSoon);
    connectSelection();
    updateEmptyNotice();
}

void RunsView::connectSelection() {
    QItemSelectionModel *selection = m_table->selectionModel();
    // Selecting a row opens its run, whoever selected it: a click or a key (which also move the
    // current index) or an assistive client (AT-SPI selects rows and leaves the current index
    // alone). The current index then follows, so that the keyboard goes on from that row.
    connect(selection, &QItemSelectionModel::selectionChanged, this,
            [this](const QItemSelection &selected) {
                Q_EMIT selectionChanged(selectedRunIds());
                if (selected.isEmpty())
                    return;
                QItemSelectionModel *model = m_table->selectionModel();
                QModelIndex row = model->currentIndex();
                if (!row.isValid() || !selected.contains(row))
                    row = selected.indexes().constLast();
                openRun(m_model->runIdAt(row.row()));
                if (model->currentIndex().row() != row.row())
                    model->setCurrentIndex(row, QItemSelectionModel::NoUpdate);
            });
    connect(selection, &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                openRun(current.isValid() ? m_model->runIdAt(current.row()) : QString());
            });
}

void RunsView::openRun(const QString &runId) {
    if (runId == m_openedRun)
        return;
    m_openedRun = runId;
    Q_EMIT runSelected(runId);
}

void RunsView::updateEmptyNotice() {
    const bool empty = m_model->rowCount() == 0;
    m_empty->setVisible(empty);
    if (!empty)
        return;
    if (!m_loadError.isEmpty()) {
        m_empty->setText(tr("The runs could not be read: %1").arg(m_loadError));
        m_empty->setAccessibleDescription(m_empty->text());
        return;
    }
    if (!hasFilters())
        m_empty->setText(tr("No runs in this database yet.\n\nStart one with File → Start run from "
                            "flow file… (Ctrl+N), or with keepflowctl run FLOW."));
    else if (!m_model->search().isEmpty())
        m_empty->setText(tr("No run matches “%1” with these filters.\n\nClear the search or "
                            "choose All states and All flows.")
                             .arg(m_model->search()));
    else
        m_empty->setText(tr("No run matches these filters.\n\nChoose All states, All flows and "
                            "Any time, and clear the step filters, to see every run."));
    m_empty->setAccessibleDescription(m_empty->text());
}

int RunsView::columnsWidth(int stateWidth) const {
    int width = stateWidth;
    for (int column = RunsModel::FlowColumn; column < RunsModel::kColumnCount; ++column)
        width += m_table->columnWidth(column);
    return width;
}

void RunsView::fitStateColumn() {
    // Labels when every column fits beside them; otherwise the icon alone.
    const bool compact = columnsWidth(m_stateLabelWidth) > m_table->viewport()->width();
    m_model->setCompactStates(compact);
    m_table->setColumnWidth(RunsModel::StateColumn, compact ? m_stateIconWidth : m_stateLabelWidth);
}

QSize RunsView::sizeHint() const {
    return {columnsWidth(m_stateLabelWidth) + tableFrameWidth(), QWidget::sizeHint().height()};
}

int RunsView::compactWidth() const {
    return columnsWidth(m_stateIconWidth) + tableFrameWidth();
}

int RunsView::tableFrameWidth() const {
    return 2 * m_table->frameWidth() + m_table->verticalScrollBar()->sizeHint().width();
}

bool RunsView::eventFilter(QObject *watched, QEvent *event) {
    if (watched == m_table->viewport() && event->type() == QEvent::Resize)
        fitStateColumn();
    // Ctrl+Tab, Ctrl+Shift+Tab: out of the list as well (the keys that leave a widget that keeps
    // Tab for itself), never a walk through its cells.
    if (watched == m_table && event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        if ((key->key() == Qt::Key_Tab || key->key() == Qt::Key_Backtab) &&
            (key->modifiers() & Qt::ControlModifier)) {
            focusNextPrevChild(key->key() == Qt::Key_Tab &&
                               !(key->modifiers() & Qt::ShiftModifier));
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void RunsView::setFlowNames(const QStringList &names) {
    const QString chosen = m_flowCombo->currentData().toString();
    {
        // Refilling is not a choice of the user's: no query until the chosen flow is restored.
        const QSignalBlocker blocker(m_flowCombo);
        m_flowCombo->clear();
        m_flowCombo->addItem(tr("All flows"), QString());
        for (const QString &name : names)
            m_flowCombo->addItem(name, name);
        m_flowCombo->setCurrentIndex(std::max(0, m_flowCombo->findData(chosen)));
    }
    // The chosen flow is gone: show every flow again.
    m_model->setFlowFilter(m_flowCombo->currentData().toString());
}

QStringList RunsView::selectedRunIds() const {
    QModelIndexList rows = m_table->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(),
              [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    QStringList ids;
    for (const QModelIndex &row : std::as_const(rows))
        ids << m_model->runIdAt(row.row());
    return ids;
}

void RunsView::selectRun(const QString &runId) {
    const int row = m_model->rowOfRun(runId);
    if (row < 0) {
        m_openedRun = runId; // open all the same (the window shows it)
        return;
    }
    const QModelIndex index = m_model->index(row, 0);
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                          QItemSelectionModel::Rows);
    m_table->scrollTo(index);
}

void RunsView::showContextMenu(const QPoint &pos) {
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    // Acting on the run under the pointer: make it part of the selection first, as file
    // managers do, so the menu's actions and the highlighted rows agree.
    if (!m_table->selectionModel()->isRowSelected(index.row(), {}))
        m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                              QItemSelectionModel::Rows);
    Q_EMIT runContextMenuRequested(selectedRunIds(), m_table->viewport()->mapToGlobal(pos));
}

void RunsView::buildTriageFilters() {
    m_timeCombo = new QComboBox(this);
    m_timeCombo->setAccessibleName(tr("Time range"));
    m_timeCombo->setToolTip(tr("Runs under way at some moment in this range"));
    m_timeCombo->addItem(tr("Any time"), AnyTime);
    m_timeCombo->addItem(tr("Last hour"), LastHour);
    m_timeCombo->addItem(tr("Last 24 hours"), LastDay);
    m_timeCombo->addItem(tr("Last 7 days"), LastWeek);
    m_timeCombo->addItem(tr("Custom…"), Custom);
    m_timeCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_timeCombo->setMinimumContentsLength(8);

    m_customRange = new QWidget(this);
    auto *range = new QFormLayout(m_customRange);
    range->setContentsMargins(0, 0, 0, 0);
    m_since = new QDateTimeEdit(m_customRange);
    m_until = new QDateTimeEdit(m_customRange);
    for (QDateTimeEdit *edit : {m_since, m_until}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    }
    m_since->setAccessibleName(tr("Since"));
    m_until->setAccessibleName(tr("Until"));
    range->addRow(tr("S&ince:"), m_since);
    range->addRow(tr("U&ntil:"), m_until);
    m_customRange->hide();

    m_stepFiltersToggle = new QToolButton(this);
    m_stepFiltersToggle->setText(tr("Ste&p filters"));
    m_stepFiltersToggle->setAccessibleName(tr("Step filters"));
    m_stepFiltersToggle->setToolTip(tr("Runs with a step in a given state, with a given id, "
                                       "error text or resource (one and the same step)"));
    m_stepFiltersToggle->setCheckable(true);

    m_stepFilters = new QWidget(this);
    auto *form = new QFormLayout(m_stepFilters);
    form->setContentsMargins(0, 0, 0, 0);
    m_stepState = new QComboBox(m_stepFilters);
    m_stepState->setAccessibleName(tr("Step state filter"));
    m_stepState->addItem(tr("Any step state"), QVariant());
    for (StepState state : allStepStates())
        m_stepState->addItem(stateIcon(state), tr("Has a %1 step").arg(stateLabel(state).toLower()),
                             static_cast<int>(state));
    m_stepState->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_stepState->setMinimumContentsLength(8);
    m_stepId = new QLineEdit(m_stepFilters);
    m_stepId->setAccessibleName(tr("Step id filter"));
    m_stepId->setPlaceholderText(tr("exact step id"));
    m_error = new QLineEdit(m_stepFilters);
    m_error->setAccessibleName(tr("Error text filter"));
    m_error->setPlaceholderText(tr("part of the step's last error"));
    m_resource = new QLineEdit(m_stepFilters);
    m_resource->setAccessibleName(tr("Resource filter"));
    m_resource->setPlaceholderText(tr("resource the step calls"));
    for (QLineEdit *field : {m_stepId, m_error, m_resource})
        field->setClearButtonEnabled(true);
    form->addRow(tr("&State:"), m_stepState);
    form->addRow(tr("Step &id:"), m_stepId);
    form->addRow(tr("&Error:"), m_error);
    form->addRow(tr("&Resource:"), m_resource);
    m_stepFilters->hide();

    m_retryFailed = new QPushButton(tr("Retr&y failed…"), this);
    m_retryFailed->setAccessibleName(tr("Retry failed…"));
    m_retryFailed->setAccessibleDescription(tr("Retry the failed steps of the runs listed"));
    m_retryFailed->setToolTip(tr("Retry the failed steps of every run these filters select "
                                 "(a dry run is shown first)"));

    m_stepFilterDelay = new QTimer(this);
    m_stepFilterDelay->setSingleShot(true);
    m_stepFilterDelay->setInterval(kSearchDelayMs);
    m_countsDelay = new QTimer(this);
    m_countsDelay->setSingleShot(true);
    m_countsDelay->setInterval(kCountsDelayMs);
    connect(m_countsDelay, &QTimer::timeout, this, &RunsView::refreshStateCounts);

    connect(m_timeCombo, &QComboBox::currentIndexChanged, this, [this] {
        if (m_timeCombo->currentData().toInt() == Custom && !m_customRange->isVisible()) {
            // Custom starts from the last day up to now, to be narrowed.
            const qint64 now = m_now ? m_now() : QDateTime::currentMSecsSinceEpoch();
            const QSignalBlocker blockSince(m_since), blockUntil(m_until);
            m_since->setDateTime(QDateTime::fromMSecsSinceEpoch(now - 24 * kHourMs));
            m_until->setDateTime(QDateTime::fromMSecsSinceEpoch(now));
        }
        m_customRange->setVisible(m_timeCombo->currentData().toInt() == Custom);
        applyTimeRange();
    });
    for (QDateTimeEdit *edit : {m_since, m_until})
        connect(edit, &QDateTimeEdit::dateTimeChanged, this, &RunsView::applyTimeRange);
    connect(m_stepFiltersToggle, &QToolButton::toggled, m_stepFilters, &QWidget::setVisible);
    connect(m_stepState, &QComboBox::currentIndexChanged, this, &RunsView::applyStepFiltersNow);
    for (QLineEdit *field : {m_stepId, m_error, m_resource}) {
        connect(field, &QLineEdit::textChanged, m_stepFilterDelay, qOverload<>(&QTimer::start));
        connect(field, &QLineEdit::returnPressed, this, &RunsView::applyStepFiltersNow);
    }
    connect(m_stepFilterDelay, &QTimer::timeout, this, &RunsView::applyStepFiltersNow);
    connect(m_retryFailed, &QPushButton::clicked, this,
            [this] { Q_EMIT bulkRetryRequested(m_model->query()); });
}

void RunsView::setClock(std::function<qint64()> now) {
    m_now = std::move(now);
}

void RunsView::applyTimeRange() {
    const qint64 now = m_now ? m_now() : QDateTime::currentMSecsSinceEpoch();
    // "The last hour": counted back from when it is chosen.
    switch (m_timeCombo->currentData().toInt()) {
    case LastHour:
        m_model->setTimeWindow(now - kHourMs, 0);
        break;
    case LastDay:
        m_model->setTimeWindow(now - 24 * kHourMs, 0);
        break;
    case LastWeek:
        m_model->setTimeWindow(now - 7 * 24 * kHourMs, 0);
        break;
    case Custom:
        m_model->setTimeWindow(m_since->dateTime().toMSecsSinceEpoch(),
                               m_until->dateTime().toMSecsSinceEpoch());
        break;
    default:
        m_model->setTimeWindow(0, 0);
    }
}

void RunsView::applyStepFiltersNow() {
    m_stepFilterDelay->stop();
    StepCondition condition;
    condition.stepId = m_stepId->text().trimmed();
    if (const QVariant state = m_stepState->currentData(); state.isValid())
        condition.state = static_cast<StepState>(state.toInt());
    condition.error = m_error->text().trimmed();
    condition.resource = m_resource->text().trimmed();
    m_model->setStepCondition(condition);
}

bool RunsView::hasFilters() const {
    const RunQuery query = m_model->query();
    return !query.search.isEmpty() || !query.states.isEmpty() || !query.flowName.isEmpty() ||
           !query.step.isEmpty() || query.since > 0 || query.until > 0;
}

void RunsView::refreshStateCounts() {
    m_countsDelay->stop();
    const RunsSource &source = m_model->source();
    if (!source.countByState)
        return;
    auto counts = source.countByState(m_model->query());
    if (!counts)
        return; // the list says why its own query failed
    const QLocale locale;
    int total = 0;
    for (int count : std::as_const(*counts))
        total += count;
    m_stateCombo->setItemText(0, tr("All states (%1)").arg(locale.toString(total)));
    for (int i = 1; i < m_stateCombo->count(); ++i) {
        const auto state = static_cast<RunState>(m_stateCombo->itemData(i).toInt());
        m_stateCombo->setItemText(
            i, tr("%1 (%2)").arg(stateLabel(state), locale.toString(counts->value(state))));
    }
}

} // namespace keepflow::ui
