#pragma once

// The inspector's "Logs" tab: what an attempt printed on stdout and stderr (the kept tail of
// each), one attempt at a time, with a search and a copy button. It reads through a loader (the
// main window hands it the monitor's attemptOutputs) and only when the step or its number of
// attempts changes: live updates do not re-read up to 128 KiB per attempt.

#include "core/records.h"
#include "core/status.h"

#include <QWidget>

#include <functional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace keepflow::ui {

class AttemptOutputView : public QWidget {
    Q_OBJECT
public:
    using Loader =
        std::function<Result<QList<AttemptRow>>(const QString &runId, const QString &stepId)>;

    explicit AttemptOutputView(QWidget *parent = nullptr);

    void setLoader(Loader loader);
    /// Shows the step's latest attempt. progress counts its attempts started plus those ended:
    /// the view reads again only when it moved.
    void showStep(const QString &runId, const QString &stepId, qsizetype progress);
    void clear();

    /// The text shown for the chosen attempt (what Copy copies).
    QString shownText() const;
    QComboBox *attemptChooser() const { return m_attempt; }
    QLineEdit *searchField() const { return m_search; }
    /// "2 of 5", "no match" or empty: where the search stands.
    QString searchStatus() const;
    QPushButton *copyButton() const { return m_copy; }

private:
    void showAttempt(int index);
    void highlightMatches();
    void findNext(bool backwards);

    Loader m_loader;
    QString m_runId;
    QString m_stepId;
    qsizetype m_progress = -1;
    QList<AttemptRow> m_attempts;
    QComboBox *m_attempt = nullptr;
    QLineEdit *m_search = nullptr;
    QLabel *m_matches = nullptr;
    QPushButton *m_copy = nullptr;
    QPlainTextEdit *m_text = nullptr;
    int m_matchCount = 0;
};

} // namespace keepflow::ui
