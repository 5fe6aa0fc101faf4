#include "bulkdialog.h"

#include "api/monitor.h"

#include <algorithm>

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHash>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

QString titleOf(OperatorAction::Kind kind) {
    using Kind = OperatorAction::Kind;
    switch (kind) {
    case Kind::Retry:
        return QObject::tr("Retry failed steps");
    case Kind::RetryFailedItems:
        return QObject::tr("Retry failed items");
    case Kind::Skip:
        return QObject::tr("Skip failed steps with an output");
    case Kind::ResolveHappened:
        return QObject::tr("Resolve: it happened");
    case Kind::ResolveNotHappened:
        return QObject::tr("Resolve: it did not happen");
    case Kind::CancelRun:
        return QObject::tr("Cancel runs");
    default:
        return QObject::tr("Act on runs");
    }
}

QString outcomeText(BulkRunOutcome::Outcome outcome) {
    switch (outcome) {
    case BulkRunOutcome::Outcome::WouldApply:
        return QObject::tr("Would apply");
    case BulkRunOutcome::Outcome::Applied:
        return QObject::tr("Applied");
    case BulkRunOutcome::Outcome::Refused:
        return QObject::tr("Refused");
    }
    return {};
}

} // namespace

BulkDialog::BulkDialog(Monitor &monitor, const BulkRequest &request, const QString &description,
                       QWidget *parent)
    : QDialog(parent)
    , m_monitor(monitor)
    , m_request(request) {
    setWindowTitle(titleOf(request.kind));
    setAccessibleName(windowTitle());
    setMinimumWidth(480);

    auto *what = new QLabel(description, this);
    what->setTextFormat(Qt::PlainText);
    what->setWordWrap(true);
    what->setAccessibleName(tr("Runs acted on"));

    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);
    m_summary->setAccessibleName(tr("Dry run summary"));

    m_table = new QTableWidget(0, 4, this);
    m_table->setAccessibleName(tr("Runs and what the action does to each"));
    m_table->setHorizontalHeaderLabels({tr("Run"), tr("Steps"), tr("Outcome"), tr("Why")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setTabKeyNavigation(false); // Tab goes on to the reason, arrows move in the list
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(RunColumn, 110);
    m_table->setColumnWidth(StepsColumn, 120);
    m_table->setColumnWidth(OutcomeColumn, 90);

    m_reason = new QLineEdit(this);
    m_reason->setAccessibleName(tr("Reason"));
    m_reason->setPlaceholderText(tr("Recorded with every action, e.g. the incident"));
    auto *form = new QFormLayout;
    form->addRow(tr("&Reason:"), m_reason);
    if (request.kind == OperatorAction::Kind::Skip) {
        m_output = new QPlainTextEdit(this);
        m_output->setAccessibleName(tr("Output of the skipped steps (JSON)"));
        m_output->setPlaceholderText(tr("The output the next steps see, as JSON; empty: none"));
        m_output->setTabChangesFocus(true);
        m_output->setMaximumHeight(70);
        m_outputError = new QLabel(this);
        m_outputError->setTextFormat(Qt::PlainText);
        m_outputError->hide();
        form->addRow(tr("&Output:"), m_output);
        form->addRow(QString(), m_outputError);
    }

    m_progress = new QProgressBar(this);
    m_progress->setAccessibleName(tr("Runs handled"));
    m_progress->hide();
    m_progressText = new QLabel(this);
    m_progressText->setTextFormat(Qt::PlainText);
    m_progressText->setAccessibleName(tr("Progress"));
    m_progressText->hide();

    auto *buttons = new QDialogButtonBox(this);
    m_apply = buttons->addButton(tr("&Apply"), QDialogButtonBox::AcceptRole);
    m_apply->setAccessibleName(tr("Apply"));
    m_apply->setAccessibleDescription(tr("Apply the action to the runs listed"));
    m_cancel = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancel->setAccessibleName(tr("Cancel"));
    m_apply->setDefault(true);
    connect(m_apply, &QPushButton::clicked, this, &BulkDialog::apply);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_applying) {
            m_cancelRequested = true; // heard after the commit under way
            m_cancel->setEnabled(false);
            m_progressText->setText(m_progressText->text() + tr(" — stopping…"));
        } else {
            m_finished ? accept() : reject();
        }
    });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(what);
    layout->addWidget(m_summary);
    layout->addWidget(m_table, 1);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_progressText);
    layout->addWidget(buttons);
    resize(720, 480);

    plan();
}

void BulkDialog::plan() {
    auto dry = m_monitor.planBulk(m_request);
    if (!dry) {
        m_summary->setText(tr("The dry run failed: %1").arg(dry.error()));
        m_apply->setEnabled(false);
        return;
    }
    m_report = *dry;
    m_table->setRowCount(static_cast<int>(m_report.runs.size()));
    int steps = 0;
    for (int row = 0; row < m_report.runs.size(); ++row) {
        const BulkRunOutcome &run = m_report.runs[row];
        m_runIds << run.runId;
        steps += static_cast<int>(run.steps.size());
        m_table->setItem(row, RunColumn, new QTableWidgetItem(run.runId));
        showOutcome(row, run);
    }
    const int would = m_report.count(BulkRunOutcome::Outcome::WouldApply);
    const int refused = m_report.count(BulkRunOutcome::Outcome::Refused);
    const QLocale locale;
    if (m_report.runs.isEmpty())
        m_summary->setText(tr("Dry run: no run has a step this action is for. Nothing to do."));
    else
        m_summary->setText(
            tr("Dry run: it would act on %1 step(s) in %2 run(s); %3 run(s) would be refused "
               "(why is listed). Nothing has changed yet.")
                .arg(locale.toString(steps), locale.toString(would), locale.toString(refused)));
    m_apply->setEnabled(would > 0 && !m_monitor.isReadOnly());
    if (m_monitor.isReadOnly())
        m_apply->setToolTip(m_monitor.readOnlyReason());
}

void BulkDialog::showOutcome(int row, const BulkRunOutcome &outcome) {
    auto *steps = new QTableWidgetItem(outcome.steps.join(QStringLiteral(", ")));
    auto *result = new QTableWidgetItem(outcomeText(outcome.outcome));
    auto *reason = new QTableWidgetItem(outcome.reason);
    reason->setToolTip(outcome.reason);
    m_table->setItem(row, StepsColumn, steps);
    m_table->setItem(row, OutcomeColumn, result);
    m_table->setItem(row, ReasonColumn, reason);
}

void BulkDialog::apply() {
    if (m_applying || m_finished || !m_apply->isEnabled())
        return;
    if (m_output) {
        const QString text = m_output->toPlainText().trimmed();
        m_request.output = QJsonValue(QJsonValue::Undefined);
        if (!text.isEmpty()) {
            QJsonParseError error;
            // Wrapped so that a bare value ("42", "\"done\"") is JSON too.
            const QJsonDocument doc =
                QJsonDocument::fromJson(QStringLiteral("[%1]").arg(text).toUtf8(), &error);
            if (error.error != QJsonParseError::NoError || doc.array().size() != 1) {
                m_outputError->setText(tr("The output is not JSON: %1").arg(error.errorString()));
                m_outputError->show();
                m_output->setFocus();
                return;
            }
            m_request.output = doc.array().first();
        }
        m_outputError->hide();
    }
    m_request.reason = m_reason->text().trimmed();
    m_applying = true;
    m_apply->setEnabled(false);
    m_reason->setEnabled(false);
    if (m_output)
        m_output->setEnabled(false);
    m_progress->setRange(0, static_cast<int>(m_runIds.size()));
    m_progress->setValue(0);
    m_progress->show();
    m_progressText->show();
    updateProgressText();
    QTimer::singleShot(0, this, &BulkDialog::applyNextChunk);
}

void BulkDialog::applyNextChunk() {
    if (m_cancelRequested) {
        finish(tr("Cancelled: %1 of %2 runs handled; the rest were not touched.")
                   .arg(m_next)
                   .arg(m_runIds.size()));
        return;
    }
    const int perCommit = std::max(1, m_request.runsPerCommit);
    BulkRequest chunk = m_request;
    chunk.query.runIds = m_runIds.mid(m_next, perCommit);
    chunk.query.offset = 0;
    chunk.query.limit = 0;
    auto done = m_monitor.applyBulk(chunk);
    if (!done) {
        finish(tr("Applying failed after %1 runs: %2").arg(m_next).arg(done.error()));
        return;
    }
    QHash<QString, BulkRunOutcome> byRun;
    for (const BulkRunOutcome &outcome : std::as_const(done->runs))
        byRun.insert(outcome.runId, outcome);
    const qsizetype end = std::min(m_runIds.size(), m_next + perCommit);
    for (qsizetype row = m_next; row < end; ++row) {
        BulkRunOutcome outcome;
        if (auto it = byRun.constFind(m_runIds[row]); it != byRun.cend()) {
            outcome = *it;
        } else {
            // It no longer has a step the action is for (someone acted on it meanwhile).
            outcome.runId = m_runIds[row];
            outcome.outcome = BulkRunOutcome::Outcome::Refused;
            outcome.reason = tr("no longer has a step this action is for");
        }
        (outcome.outcome == BulkRunOutcome::Outcome::Applied ? m_applied : m_refused) += 1;
        m_report.runs[row] = outcome;
        showOutcome(static_cast<int>(row), outcome);
    }
    m_next = end;
    m_progress->setValue(static_cast<int>(m_next));
    updateProgressText();
    Q_EMIT progressed(static_cast<int>(m_next), static_cast<int>(m_runIds.size()));
    if (m_next >= m_runIds.size()) {
        finish(tr("Done: %1 run(s) applied, %2 refused (why is listed).")
                   .arg(m_applied)
                   .arg(m_refused));
        return;
    }
    QTimer::singleShot(0, this, &BulkDialog::applyNextChunk);
}

void BulkDialog::updateProgressText() {
    m_progressText->setText(tr("%1 of %2 runs: %3 applied, %4 refused")
                                .arg(m_next)
                                .arg(m_runIds.size())
                                .arg(m_applied)
                                .arg(m_refused));
}

void BulkDialog::finish(const QString &message) {
    m_applying = false;
    m_finished = true;
    m_report.dryRun = false;
    m_report.cancelled = m_cancelRequested && m_next < m_runIds.size();
    m_summary->setText(message);
    for (qsizetype row = m_next; row < m_runIds.size(); ++row)
        m_table->item(static_cast<int>(row), OutcomeColumn)->setText(tr("Not applied (stopped)"));
    m_progressText->setText(m_progressText->text().remove(tr(" — stopping…")));
    m_cancel->setEnabled(true);
    m_cancel->setText(tr("&Close"));
    m_cancel->setAccessibleName(tr("Close"));
    m_cancel->setFocus();
    Q_EMIT applyFinished(message);
}

} // namespace keepflow::ui
