#include "inspectorwidget.h"

#include "actionavailability.h"
#include "api/rootcause.h"
#include "attemptoutputview.h"
#include "countdown.h"
#include "statestyle.h"
#include "stepviews.h"

#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QResizeEvent>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace keepflow::ui {

namespace {

QString jsonText(const QJsonValue &value) {
    if (value.isUndefined() || value.isNull())
        return QStringLiteral("(none)");
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented));
    // A scalar: wrap it so QJsonDocument formats it, then unwrap.
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

QString clockTime(qint64 ms) {
    return ms == 0 ? QString()
                   : QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss"));
}

QTableView *makeTable(QStandardItemModel *model, const QString &name) {
    auto *table = new QTableView;
    table->setModel(model);
    table->setAccessibleName(name);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(true);
    return table;
}

} // namespace

InspectorWidget::InspectorWidget(QWidget *parent)
    : QWidget(parent) {
    setAccessibleName(QStringLiteral("Inspector"));
    auto *layout = new QVBoxLayout(this);
    m_title = new QLabel;
    m_title->setTextFormat(Qt::PlainText);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.2);
    m_title->setFont(titleFont);
    m_state = new QLabel;
    m_why = new QLabel;
    m_why->setWordWrap(true);
    m_why->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_why->setAccessibleName(QStringLiteral("Why"));
    // Room for three lines: a wrapped label in a splitter does not always get its height.
    m_why->setMinimumHeight(m_why->fontMetrics().lineSpacing() * 3 + 4);
    m_why->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    layout->addWidget(m_title);
    layout->addWidget(m_state);
    layout->addWidget(m_why);
    m_policy = new QLabel;
    m_policy->setWordWrap(true);
    m_policy->setTextFormat(Qt::PlainText);
    m_policy->setAccessibleName(QStringLiteral("Policy"));
    layout->addWidget(m_policy);

    m_buttonGrid = new QGridLayout;
    for (OperatorAction::Kind kind : stepActionKinds()) {
        auto *button = new QPushButton(actionLabel(kind));
        button->setAccessibleName(actionLabel(kind));
        const QString shortcut = actionShortcut(kind);
        if (!shortcut.isEmpty()) {
            button->setShortcut(QKeySequence(shortcut));
            button->setToolTip(QStringLiteral("%1 (%2)").arg(actionLabel(kind), shortcut));
        }
        button->setProperty("usualTip", button->toolTip());
        connect(button, &QPushButton::clicked, this, [this, kind] {
            if (m_hasStep)
                Q_EMIT actionRequested(kind, m_data.view.stepId);
        });
        m_buttons.insert(static_cast<int>(kind), button);
        m_buttonOrder.append(button);
    }
    layOutButtons(3);
    layout->addLayout(m_buttonGrid);
    m_openChild = new QPushButton;
    m_openChild->setVisible(false);
    connect(m_openChild, &QPushButton::clicked, this, [this] {
        if (const QString child = m_openChild->property("runId").toString(); !child.isEmpty())
            Q_EMIT runRequested(child);
    });
    layout->addWidget(m_openChild);
    m_rootCause = new QLabel;
    m_rootCause->setWordWrap(true);
    m_rootCause->setTextFormat(Qt::PlainText);
    m_rootCause->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_rootCause->setAccessibleName(QStringLiteral("Root cause"));
    layout->addWidget(m_rootCause);
    m_goToRootRow = new QHBoxLayout;
    m_goToRootRow->addStretch(1);
    layout->addLayout(m_goToRootRow);

    m_tabs = new QTabWidget;
    m_attemptsModel = new QStandardItemModel(this);
    m_attemptsModel->setHorizontalHeaderLabels(
        {QStringLiteral("#"), QStringLiteral("Item"), QStringLiteral("Started"),
         QStringLiteral("Duration"), QStringLiteral("Outcome"), QStringLiteral("Error"),
         QStringLiteral("Idempotency key")});
    m_attempts = makeTable(m_attemptsModel, QStringLiteral("Attempts"));
    m_tabs->addTab(m_attempts, QStringLiteral("Attempts"));
    m_input = new QPlainTextEdit;
    m_input->setReadOnly(true);
    m_input->setAccessibleName(QStringLiteral("Input"));
    m_input->setFont(QFont(QStringLiteral("monospace")));
    m_tabs->addTab(m_input, QStringLiteral("Input"));
    m_output = new QPlainTextEdit;
    m_output->setReadOnly(true);
    m_output->setAccessibleName(QStringLiteral("Output"));
    m_output->setFont(QFont(QStringLiteral("monospace")));
    m_tabs->addTab(m_output, QStringLiteral("Output"));
    m_logs = new AttemptOutputView;
    m_tabs->addTab(m_logs, QStringLiteral("Logs"));
    m_itemsModel = new QStandardItemModel(this);
    m_itemsModel->setHorizontalHeaderLabels({QStringLiteral("Item"), QStringLiteral("State"),
                                             QStringLiteral("Attempts"), QStringLiteral("Error"),
                                             QStringLiteral("Output")});
    m_items = makeTable(m_itemsModel, QStringLiteral("Items"));
    m_items->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *retryItems = new QAction(actionLabel(OperatorAction::Kind::RetryFailedItems), m_items);
    connect(retryItems, &QAction::triggered, this, [this] {
        if (m_hasStep)
            Q_EMIT actionRequested(OperatorAction::Kind::RetryFailedItems, m_data.view.stepId);
    });
    m_items->addAction(retryItems);
    m_itemsTab = m_tabs->addTab(m_items, QStringLiteral("Items"));
    layout->addWidget(m_tabs, 1);
    clear();
}

void InspectorWidget::clear() {
    m_hasStep = false;
    m_data = {};
    m_title->setText(QStringLiteral("No step selected"));
    m_state->clear();
    m_why->setText(QStringLiteral("Select a step in the graph or the step table."));
    m_policy->clear();
    m_openChild->setVisible(false);
    showRootCause();
    m_attemptsModel->setRowCount(0);
    m_itemsModel->setRowCount(0);
    m_input->clear();
    m_output->clear();
    m_logs->clear();
    updateButtons();
}

void InspectorWidget::showLogs() {
    m_tabs->setCurrentWidget(m_logs);
}

void InspectorWidget::showStep(const InspectorData &shown) {
    const bool sameStep =
        m_hasStep && shown.view.stepId == m_data.view.stepId && shown.runId == m_data.runId;
    m_data = shown;
    m_hasStep = true;
    m_title->setText(QStringLiteral("%1  (%2)").arg(shown.view.stepId, shown.step.kind));
    const QIcon icon = stateIcon(shown.view.state);
    m_state->setText(stateLabel(shown.view.state));
    m_state->setAccessibleName(QStringLiteral("State: ") + stateLabel(shown.view.state));
    m_state->setPixmap({});
    m_state->setText(stateLabel(shown.view.state));
    m_why->setText(why());
    {
        const RetryPolicy &r = shown.retry;
        QString policy = QStringLiteral("Policy: %1 attempts, retry after %2 ×%3 up to %4")
                             .arg(r.maxAttempts)
                             .arg(formatDuration(r.initialIntervalMs))
                             .arg(r.backoff)
                             .arg(formatDuration(r.maxIntervalMs));
        if (shown.timeoutMs)
            policy += QStringLiteral(", timeout %1").arg(formatDuration(*shown.timeoutMs));
        if (shown.deadlineMs)
            policy += QStringLiteral(", deadline %1").arg(formatDuration(*shown.deadlineMs));
        if (shown.policyChangedLive)
            policy += QStringLiteral(" — changed live on this run");
        m_policy->setText(policy);
        QFont font = m_policy->font();
        font.setItalic(shown.policyChangedLive);
        m_policy->setFont(font);
        m_policy->setVisible(shown.step.kind != QLatin1String("approval"));
    }
    showRootCause();
    // A subflow step links to the run its latest attempt started.
    const bool startedChild = shown.step.kind == QLatin1String("subflow") && shown.row.attempts > 0;
    m_openChild->setVisible(startedChild);
    if (startedChild) {
        const QString child =
            subflowRunId(shown.runId, shown.view.stepId, shown.row.generation, shown.row.attempts);
        m_openChild->setProperty("runId", child);
        m_openChild->setText(QStringLiteral("Open child run %1").arg(child));
        m_openChild->setAccessibleName(m_openChild->text());
    }

    // Rows only: the columns (and the widths the operator gave them) stay across live updates.
    m_attemptsModel->setRowCount(0);
    for (const AttemptRow &attempt : shown.attempts) {
        const std::optional<AttemptOutcome> &outcome = attempt.outcome;
        auto *outcomeItem =
            new QStandardItem(outcome ? outcomeLabel(*outcome) : QStringLiteral("Running"));
        outcomeItem->setIcon(
            stateIcon(!outcome                                      ? StepState::Running
                      : *outcome == AttemptOutcome::Succeeded       ? StepState::Succeeded
                      : *outcome == AttemptOutcome::Uncertain       ? StepState::Uncertain
                      : *outcome == AttemptOutcome::FailedTransient ? StepState::Retrying
                                                                    : StepState::Failed));
        const qint64 end = attempt.endedAt > 0 ? attempt.endedAt : shown.now;
        m_attemptsModel->appendRow(
            {new QStandardItem(QString::number(attempt.number)), new QStandardItem(attempt.itemKey),
             new QStandardItem(clockTime(attempt.startedAt)),
             new QStandardItem(formatSpan(end - attempt.startedAt)), outcomeItem,
             new QStandardItem(!attempt.errorClass ? attempt.error
                                                   : errorClassName(*attempt.errorClass) +
                                                         QStringLiteral(": ") + attempt.error),
             new QStandardItem(attempt.idempotencyKey)});
    }

    const QJsonValue input = shown.row.inputOverride.isUndefined() ? QJsonValue(shown.step.with)
                                                                   : shown.row.inputOverride;
    QString inputText = jsonText(input);
    if (!shown.row.inputOverride.isUndefined())
        inputText = QStringLiteral("// set by an operator\n") + inputText;
    m_input->setPlainText(inputText);
    m_output->setPlainText(jsonText(shown.row.output));
    const auto ended = std::count_if(shown.attempts.begin(), shown.attempts.end(),
                                     [](const AttemptRow &attempt) { return attempt.endedAt > 0; });
    m_logs->showStep(shown.runId, shown.view.stepId, shown.attempts.size() + ended);

    const bool isForeach = shown.view.itemsTotal >= 0;
    m_tabs->setTabVisible(m_itemsTab, isForeach);
    m_itemsModel->setRowCount(0);
    if (isForeach) {
        for (const ItemRow &item : shown.items) {
            const StepState state = item.state;
            auto *stateItem = new QStandardItem(stateIcon(state), stateLabel(state));
            m_itemsModel->appendRow(
                {new QStandardItem(item.itemKey), stateItem,
                 new QStandardItem(QStringLiteral("%1/%2")
                                       .arg(item.attempts)
                                       .arg(attemptBudget(item.state, item.attempts, item.failures,
                                                          shown.retry.maxAttempts))),
                 new QStandardItem(item.error),
                 new QStandardItem(
                     item.output.isUndefined() ? QString() : jsonText(item.output).simplified())});
        }
    }
    if (!sameStep) {
        m_attempts->resizeColumnsToContents();
        m_items->resizeColumnsToContents();
    }
    if (!sameStep && shown.view.state == StepState::Failed && !shown.attempts.isEmpty())
        m_tabs->setCurrentWidget(m_attempts);
    updateButtons();
}

void InspectorWidget::setNow(qint64 now) {
    if (!m_hasStep)
        return;
    m_data.now = now;
    m_why->setText(why());
}

QString InspectorWidget::explanation() const {
    return m_why->text();
}

void InspectorWidget::setReadOnly(const QString &reason) {
    m_readOnlyReason = reason;
    updateButtons();
}

void InspectorWidget::setActionsUnavailable(const QString &tip) {
    m_unavailableTip = tip;
    updateButtons();
}

int InspectorWidget::buttonsWidth(int columns) const {
    QList<int> widest(columns, 0);
    for (qsizetype i = 0; i < m_buttonOrder.size(); ++i)
        widest[i % columns] = std::max(widest[i % columns], m_buttonOrder[i]->sizeHint().width());
    const int spacing = std::max(m_buttonGrid->horizontalSpacing(), 0);
    return std::accumulate(widest.cbegin(), widest.cend(), 0) + spacing * (columns - 1);
}

void InspectorWidget::layOutButtons(int columns) {
    if (columns == m_buttonColumns)
        return;
    m_buttonColumns = columns;
    for (QPushButton *button : std::as_const(m_buttonOrder))
        m_buttonGrid->removeWidget(button);
    for (qsizetype i = 0; i < m_buttonOrder.size(); ++i)
        m_buttonGrid->addWidget(m_buttonOrder[i], static_cast<int>(i / columns),
                                static_cast<int>(i % columns));
    // The narrow layout sets how far the pane may shrink, whichever is shown.
    const QMargins margins = layout()->contentsMargins();
    setMinimumWidth(buttonsWidth(2) + margins.left() + margins.right());
}

void InspectorWidget::resizeEvent(QResizeEvent *event) {
    const QMargins margins = layout()->contentsMargins();
    const int room = event->size().width() - margins.left() - margins.right();
    layOutButtons(buttonsWidth(3) <= room ? 3 : 2);
    QWidget::resizeEvent(event);
}

QString InspectorWidget::policyText() const {
    return m_policy->text();
}

QPushButton *InspectorWidget::button(OperatorAction::Kind kind) const {
    return m_buttons.value(static_cast<int>(kind));
}

void InspectorWidget::updateButtons() {
    const bool approval = m_data.step.kind == QLatin1String("approval");
    for (auto it = m_buttons.cbegin(); it != m_buttons.cend(); ++it) {
        const auto kind = static_cast<OperatorAction::Kind>(it.key());
        QPushButton *button = it.value();
        if (kind == OperatorAction::Kind::Retry) {
            // A step waiting for its backoff can be retried at once.
            const QString label = m_hasStep && m_data.view.state == StepState::Retrying
                                      ? QStringLiteral("Retry now")
                                      : actionLabel(kind);
            button->setText(label);
            button->setAccessibleName(label);
        }
        if (!m_readOnlyReason.isEmpty() || !m_unavailableTip.isEmpty()) {
            button->setEnabled(false);
            button->setToolTip(m_unavailableTip.isEmpty() ? readOnlyActionTip(m_readOnlyReason)
                                                          : m_unavailableTip);
            continue;
        }
        button->setToolTip(button->property("usualTip").toString());
        button->setEnabled(m_hasStep && actionApplies(kind, m_data.view, approval));
    }
}

namespace {

/// "Approved by alice at 14:03:12: “looks good”" for an operator event.
QString decisionSentence(const EventRow &decision) {
    QString verb;
    switch (decision.type) {
    case EventType::OperatorApprove:
        verb = QStringLiteral("Approved");
        break;
    case EventType::OperatorReject:
        verb = QStringLiteral("Rejected");
        break;
    case EventType::OperatorSkip:
        verb = QStringLiteral("Skipped");
        break;
    case EventType::OperatorMarkSucceeded:
        verb = QStringLiteral("Marked succeeded");
        break;
    case EventType::OperatorResolveHappened:
        verb = QStringLiteral("Resolved as happened");
        break;
    case EventType::OperatorResolveNotHappened:
        verb = QStringLiteral("Resolved as not happened");
        break;
    case EventType::OperatorRetry:
        verb = QStringLiteral("Retried");
        break;
    case EventType::OperatorRetryFailedItems:
        verb = QStringLiteral("Failed items retried");
        break;
    case EventType::OperatorSetInput:
        verb = QStringLiteral("Input replaced");
        break;
    case EventType::OperatorRerunFrom:
        verb = QStringLiteral("Run again from here");
        break;
    case EventType::OperatorPauseStep:
        verb = QStringLiteral("Held");
        break;
    case EventType::OperatorUnpauseStep:
        verb = QStringLiteral("Released");
        break;
    default:
        verb = QStringLiteral("Acted on");
        break;
    }
    QString text =
        QStringLiteral("%1 by %2 at %3").arg(verb, decision.actor, clockTime(decision.at));
    const QString reason = decision.detail.value(QLatin1String("reason")).toString();
    return reason.isEmpty() ? text + QLatin1Char('.')
                            : text + QStringLiteral(": “%1”.").arg(reason);
}

} // namespace

QString InspectorWidget::why() const {
    if (QString decided = decidedWhy(); !decided.isEmpty())
        return decided;
    QString text = stateWhy();
    // A step an operator set going again says so under its state.
    if (m_data.decision && !isFinal(m_data.view.state))
        text += QLatin1Char(' ') + decisionSentence(*m_data.decision);
    return text;
}

QString InspectorWidget::rootCauseText() const {
    return m_rootCause->text();
}

void InspectorWidget::showRootCause() {
    const StepView &v = m_data.view;
    QString text;
    if (m_hasStep && v.rootCause) {
        text = v.waitingOnIt == 0 ? QStringLiteral("Root cause: no other step waits on it.")
               : v.waitingOnIt == 1
                   ? QStringLiteral("Root cause: 1 step waits on it.")
                   : QStringLiteral("Root cause: %1 steps wait on it.").arg(v.waitingOnIt);
    } else if (m_hasStep && !v.blockedBy.isEmpty()) {
        QStringList reasons;
        for (const QString &root : v.blockedBy)
            reasons << rootCauseReason(root, m_data.rootStates.value(root, StepState::Failed));
        text = (v.blockedBy.size() == 1 ? QStringLiteral("Waits on the root cause: %1.")
                                        : QStringLiteral("Waits on the root causes: %1."))
                   .arg(reasons.join(QStringLiteral("; ")));
    }
    m_rootCause->setText(text);
    m_rootCause->setVisible(!text.isEmpty());

    // A button per root, made again only when the roots change (live updates keep focus).
    QStringList shown;
    for (const QPushButton *button : std::as_const(m_goToRoot))
        shown << button->property("stepId").toString();
    const QStringList roots = m_hasStep ? v.blockedBy : QStringList();
    if (shown == roots)
        return;
    // Later, not now: the button clicked may be among them (its click selected another step).
    for (QPushButton *button : std::as_const(m_goToRoot)) {
        m_goToRootRow->removeWidget(button);
        button->hide();
        button->deleteLater();
    }
    m_goToRoot.clear();
    for (const QString &root : roots) {
        auto *button = new QPushButton(QStringLiteral("Go to %1").arg(root));
        button->setProperty("stepId", root);
        button->setAccessibleName(button->text());
        button->setToolTip(
            QStringLiteral("Select %1, the root cause this step waits on").arg(root));
        connect(button, &QPushButton::clicked, this, [this, root] { Q_EMIT stepRequested(root); });
        m_goToRootRow->insertWidget(static_cast<int>(m_goToRoot.size()), button);
        button->show(); // at once: a layout shows a widget added to a shown one only later
        m_goToRoot.append(button);
    }
}

QString InspectorWidget::decidedWhy() const {
    if (!m_data.decision)
        return {};
    const EventRow &decision = *m_data.decision;
    const StepState state = m_data.view.state;
    const QString sentence = decisionSentence(decision);
    switch (decision.type) {
    case EventType::OperatorApprove:
    case EventType::OperatorMarkSucceeded:
        return state == StepState::Succeeded ? sentence : QString();
    case EventType::OperatorSkip:
        return state == StepState::Skipped ? sentence : QString();
    case EventType::OperatorReject:
        return state == StepState::Failed ? sentence : QString();
    case EventType::OperatorResolveHappened: {
        if (state != StepState::Succeeded)
            return {};
        // Its attempt's outcome was unknown; the operator confirmed the effect took place.
        QString uncertain;
        for (auto it = m_data.attempts.crbegin(); it != m_data.attempts.crend(); ++it) {
            if (it->outcome == AttemptOutcome::Uncertain || !it->error.isEmpty()) {
                uncertain = QStringLiteral(" Attempt %1 had an unknown outcome (%2); its effect "
                                           "was confirmed.")
                                .arg(it->number)
                                .arg(it->error);
                break;
            }
        }
        return sentence + uncertain;
    }
    default:
        return {};
    }
}

QString InspectorWidget::stateWhy() const {
    const StepView &v = m_data.view;
    const StepRunRow &row = m_data.row;
    const int left = std::max(0, m_data.retry.maxAttempts - row.failures);
    const QString error = !row.errorClass
                              ? row.error
                              : errorClassName(*row.errorClass) + QStringLiteral(": ") + row.error;
    auto nextAttempt = [&] {
        if (v.nextAttemptAt <= 0)
            return QString();
        return QStringLiteral("next attempt at %1 (in %2)")
            .arg(clockTime(v.nextAttemptAt), formatCountdown(v.nextAttemptAt - m_data.now));
    };
    auto timeoutText = [&] {
        return m_data.timeoutMs ? QStringLiteral("its %1 attempt timeout fired")
                                      .arg(formatSpan(*m_data.timeoutMs))
                                : QStringLiteral("its deadline passed");
    };
    switch (v.state) {
    case StepState::Pending: {
        QStringList waiting;
        for (auto it = m_data.upstreamStates.cbegin(); it != m_data.upstreamStates.cend(); ++it) {
            if (!isFinal(it.value()))
                waiting << QStringLiteral("%1 (%2)").arg(it.key(), stateLabel(it.value()));
        }
        return waiting.isEmpty()
                   ? QStringLiteral("Ready to start.")
                   : QStringLiteral("Waits for %1.").arg(waiting.join(QStringLiteral(", ")));
    }
    case StepState::Queued: {
        QString text = QStringLiteral("Waits for a slot of resource %1").arg(v.resource);
        if (row.queuedAt > 0)
            text += QStringLiteral(" since %1").arg(clockTime(row.queuedAt));
        if (v.resourcePaused)
            text += QStringLiteral("; the resource is paused");
        if (v.breakerOpen)
            text += QStringLiteral("; its circuit breaker is open");
        return text + QLatin1Char('.');
    }
    case StepState::Scheduled:
        return QStringLiteral("Delayed start: %1.").arg(nextAttempt());
    case StepState::Running:
        if (v.itemsTotal >= 0)
            return QStringLiteral(
                       "Working through its items: %1 of %2 succeeded, %3 failed so far.")
                .arg(v.itemsSucceeded)
                .arg(v.itemsTotal)
                .arg(v.itemsFailed);
        if (childHoldsUp(v))
            return QStringLiteral("Its child run %1 is %2: this run goes on only when an "
                                  "operator acts there (Open child run).")
                .arg(v.childRunId, stateLabel(*v.childState).toLower());
        return QStringLiteral("Attempt %1 of %2 is running.").arg(v.attempts).arg(v.maxAttempts);
    case StepState::Retrying:
        return QStringLiteral("Attempt %1 failed (%2)%3; %4 attempt(s) left, %5.")
            .arg(v.attempts)
            .arg(error)
            .arg(row.errorClass == ErrorClass::Timeout ? QStringLiteral(": ") + timeoutText()
                                                       : QString())
            .arg(left)
            .arg(nextAttempt());
    case StepState::Succeeded:
        if (v.itemsTotal >= 0)
            return QStringLiteral("All %1 items succeeded.").arg(v.itemsTotal);
        return QStringLiteral("Succeeded after %1 attempt(s).").arg(v.attempts);
    case StepState::SucceededViaFallback:
        return QStringLiteral("Failed for good (%1); its fallback supplied the output.").arg(error);
    case StepState::PartiallySucceeded:
        return QStringLiteral("%1 of %2 items succeeded, %3 failed (within tolerance); downstream "
                              "received the successful items.")
            .arg(v.itemsSucceeded)
            .arg(v.itemsTotal)
            .arg(v.itemsFailed);
    case StepState::Failed:
        if (row.errorClass == ErrorClass::Timeout)
            return QStringLiteral("Failed: %1 after %2 attempt(s): %3.")
                .arg(timeoutText())
                .arg(v.attempts)
                .arg(row.error);
        if (row.errorClass == ErrorClass::Permanent && v.attempts < m_data.retry.maxAttempts)
            return QStringLiteral("Failed with a permanent error, which is never retried: %1.")
                .arg(row.error);
        return QStringLiteral("Failed after %1 of %2 attempts: %3.")
            .arg(v.attempts)
            .arg(v.maxAttempts)
            .arg(error);
    case StepState::Uncertain:
        return QStringLiteral("The outcome of attempt %1 is unknown (%2); the step is not "
                              "idempotent, so an operator decides whether it happened.")
            .arg(v.attempts)
            .arg(error.isEmpty() ? QStringLiteral("the engine stopped during it") : error);
    case StepState::WaitingForOperator:
        return QStringLiteral("Waits for approval: %1")
            .arg(!m_data.approvalPrompt.isEmpty()
                     ? m_data.approvalPrompt
                     : m_data.step.with.value(QLatin1String("prompt")).toString());
    case StepState::Paused:
        return QStringLiteral("Held by an operator: it does not start until released.");
    case StepState::Skipped:
        return QStringLiteral("Skipped.");
    case StepState::Blocked: {
        QStringList failed;
        for (auto it = m_data.upstreamStates.cbegin(); it != m_data.upstreamStates.cend(); ++it) {
            if (isFinal(it.value()) && !countsAsSuccess(it.value()))
                failed << QStringLiteral("%1 (%2)").arg(it.key(), stateLabel(it.value()));
        }
        return QStringLiteral("Cannot run: upstream %1 did not succeed.")
            .arg(failed.join(QStringLiteral(", ")));
    }
    case StepState::Cancelled:
        return QStringLiteral("The run was cancelled before this step finished.");
    }
    return {};
}

} // namespace keepflow::ui
