#include "attemptoutputview.h"

#include "core/states.h"
#include "statestyle.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBlock>
#include <QTextDocument>
#include <QVBoxLayout>

namespace keepflow::ui {

namespace {

QString attemptLabel(const AttemptRow &attempt, bool latest) {
    QString label =
        attempt.itemKey.isEmpty()
            ? QStringLiteral("Attempt %1").arg(attempt.number)
            : QStringLiteral("Item %1, attempt %2").arg(attempt.itemKey).arg(attempt.number);
    label += attempt.outcome ? QStringLiteral(" · ") + outcomeLabel(*attempt.outcome)
                             : QStringLiteral(" · running");
    if (latest)
        label += QStringLiteral(" (latest)");
    return label;
}

/// One stream under a header that says how much of it is shown.
QString streamSection(const char *name, const QString &tail, qint64 bytes, bool cut) {
    const QLocale locale;
    QString header = QStringLiteral("── %1").arg(QLatin1String(name));
    header += cut ? QStringLiteral(": the last %1 of %2 ──")
                        .arg(locale.formattedDataSize(CapturedOutput::kCapturedTailBytes),
                             locale.formattedDataSize(bytes))
                  : QStringLiteral(" (%1) ──").arg(locale.formattedDataSize(bytes));
    QString text = header + QLatin1Char('\n') + tail;
    if (!text.endsWith(QLatin1Char('\n')))
        text += QLatin1Char('\n');
    return text;
}

} // namespace

AttemptOutputView::AttemptOutputView(QWidget *parent)
    : QWidget(parent) {
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    auto *bar = new QHBoxLayout;
    m_attempt = new QComboBox;
    m_attempt->setAccessibleName(QStringLiteral("Attempt whose output is shown"));
    m_attempt->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    bar->addWidget(m_attempt);
    m_search = new QLineEdit;
    m_search->setPlaceholderText(QStringLiteral("Find in output (Enter: next, Shift+Enter: back)"));
    m_search->setAccessibleName(QStringLiteral("Find in output"));
    m_search->setClearButtonEnabled(true);
    bar->addWidget(m_search, 1);
    m_matches = new QLabel;
    bar->addWidget(m_matches);
    m_copy = new QPushButton(QStringLiteral("Copy"));
    m_copy->setAccessibleName(m_copy->text());
    m_copy->setToolTip(QStringLiteral("Copy the shown output to the clipboard"));
    bar->addWidget(m_copy);
    layout->addLayout(bar);
    m_text = new QPlainTextEdit;
    m_text->setReadOnly(true);
    m_text->setAccessibleName(QStringLiteral("Printed output"));
    m_text->setFont(QFont(QStringLiteral("monospace")));
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    layout->addWidget(m_text, 1);

    connect(m_attempt, &QComboBox::currentIndexChanged, this, &AttemptOutputView::showAttempt);
    connect(m_search, &QLineEdit::textChanged, this, [this] {
        highlightMatches();
        findNext(false);
    });
    connect(m_search, &QLineEdit::returnPressed, this,
            [this] { findNext(QApplication::keyboardModifiers().testFlag(Qt::ShiftModifier)); });
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(shownText()); });
    clear();
}

void AttemptOutputView::setLoader(Loader loader) {
    m_loader = std::move(loader);
}

void AttemptOutputView::clear() {
    m_runId.clear();
    m_stepId.clear();
    m_progress = -1;
    m_attempts.clear();
    const QSignalBlocker blocker(m_attempt);
    m_attempt->clear();
    m_attempt->setEnabled(false);
    m_text->setPlainText(QStringLiteral("No step selected."));
    m_copy->setEnabled(false);
    highlightMatches();
}

void AttemptOutputView::showStep(const QString &runId, const QString &stepId, qsizetype progress) {
    if (runId == m_runId && stepId == m_stepId && progress == m_progress)
        return;
    const bool sameStep = runId == m_runId && stepId == m_stepId;
    const int chosen = m_attempt->currentIndex();
    const bool followLatest = !sameStep || chosen < 0 || chosen == m_attempt->count() - 1;
    m_runId = runId;
    m_stepId = stepId;
    m_progress = progress;
    m_attempts.clear();
    if (m_loader) {
        Result<QList<AttemptRow>> loaded = m_loader(runId, stepId);
        if (!loaded) {
            const QSignalBlocker blocker(m_attempt);
            m_attempt->clear();
            m_attempt->setEnabled(false);
            m_copy->setEnabled(false);
            m_text->setPlainText(QStringLiteral("Cannot read what the attempts printed: ") +
                                 loaded.error());
            m_progress = -1; // try again on the next update
            return;
        }
        m_attempts = std::move(*loaded);
    }
    const QSignalBlocker blocker(m_attempt);
    m_attempt->clear();
    for (qsizetype i = 0; i < m_attempts.size(); ++i)
        m_attempt->addItem(attemptLabel(m_attempts[i], i == m_attempts.size() - 1));
    m_attempt->setEnabled(m_attempts.size() > 1);
    // An operator reading an older attempt keeps it while new ones arrive.
    const int index = followLatest ? static_cast<int>(m_attempts.size()) - 1
                                   : std::min(chosen, static_cast<int>(m_attempts.size()) - 1);
    m_attempt->setCurrentIndex(index);
    showAttempt(index);
}

void AttemptOutputView::showAttempt(int index) {
    if (index < 0 || index >= m_attempts.size()) {
        m_text->setPlainText(m_attempts.isEmpty() ? QStringLiteral("No attempt yet.") : QString());
        m_copy->setEnabled(false);
        highlightMatches();
        return;
    }
    const AttemptRow &attempt = m_attempts[index];
    const CapturedOutput &captured = attempt.captured;
    if (captured.isEmpty()) {
        m_text->setPlainText(attempt.outcome ? QStringLiteral("This attempt printed nothing.")
                                             : QStringLiteral("Still running: what it prints "
                                                              "shows here when it ends."));
        m_copy->setEnabled(false);
    } else {
        m_text->setPlainText(streamSection("stdout", captured.stdoutTail, captured.stdoutBytes,
                                           captured.stdoutCut()) +
                             streamSection("stderr", captured.stderrTail, captured.stderrBytes,
                                           captured.stderrCut()));
        m_copy->setEnabled(true);
        // The end is where a failure says why.
        m_text->moveCursor(QTextCursor::End);
    }
    highlightMatches();
}

QString AttemptOutputView::shownText() const {
    const int index = m_attempt->currentIndex();
    if (index < 0 || index >= m_attempts.size() || m_attempts[index].captured.isEmpty())
        return {};
    return m_text->toPlainText();
}

QString AttemptOutputView::searchStatus() const {
    return m_matches->text();
}

void AttemptOutputView::highlightMatches() {
    QList<QTextEdit::ExtraSelection> selections;
    const QString needle = m_search->text();
    m_matchCount = 0;
    if (!needle.isEmpty()) {
        QTextCharFormat format;
        format.setBackground(palette().color(QPalette::Highlight).lighter(160));
        QTextCursor cursor(m_text->document());
        while (true) {
            cursor = m_text->document()->find(needle, cursor);
            if (cursor.isNull())
                break;
            ++m_matchCount;
            selections.append({cursor, format});
        }
    }
    m_text->setExtraSelections(selections);
    m_matches->setText(needle.isEmpty()    ? QString()
                       : m_matchCount == 0 ? QStringLiteral("no match")
                                           : QStringLiteral("%1 matches").arg(m_matchCount));
}

void AttemptOutputView::findNext(bool backwards) {
    const QString needle = m_search->text();
    if (needle.isEmpty() || m_matchCount == 0)
        return;
    const QTextDocument::FindFlags flags =
        backwards ? QTextDocument::FindBackward : QTextDocument::FindFlags();
    if (!m_text->find(needle, flags)) {
        // Wrap around, as editors do.
        m_text->moveCursor(backwards ? QTextCursor::End : QTextCursor::Start);
        m_text->find(needle, flags);
    }
    // Which match the cursor is on, counted from the start.
    int current = 0;
    QTextCursor cursor(m_text->document());
    const int at = m_text->textCursor().selectionStart();
    while (true) {
        cursor = m_text->document()->find(needle, cursor);
        if (cursor.isNull() || cursor.selectionStart() > at)
            break;
        ++current;
    }
    m_matches->setText(QStringLiteral("%1 of %2").arg(current).arg(m_matchCount));
}

} // namespace keepflow::ui
