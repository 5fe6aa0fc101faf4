#pragma once

// Alerts without code: rules in the database (alert_rules) that watch what every process
// commits (the change feed) and fire once per condition: an alert_fired event with the run, a
// signal for the desktop's notification, and the rule's command if it has one (its argv run
// directly, never through a shell, with the alert as JSON on stdin). Each condition fires once
// database-wide (alert_firings), across processes and restarts; the feed position looked at is
// kept in the database (alert_cursor), so a restarted watcher goes on where it stopped.
//
// Threading: the thread that owns the store.

#include "core/clock.h"
#include "core/records.h"
#include "core/status.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <optional>

class QTimer;

namespace keepflow {

class Store;

enum class AlertKind {
    RunFailed,                ///< a run finished failed
    RunCompletedWithFailures, ///< a run finished with some steps failed
    WaitingForOperator,       ///< a run waits for an approval or a decision
    BreakerOpened,            ///< a resource's circuit breaker opened
    StepSlow,                 ///< a step is slow by factor (slowFactor() in api/stepstats.h)
    FailureBurst,             ///< threshold failures of one failure group within window
};

QString alertKindName(AlertKind kind);
std::optional<AlertKind> alertKindFromName(const QString &name);
/// Every kind's name, in order (for help and errors).
QStringList alertKindNames();

/// A rule from words: KIND then KEY=VALUE words (flow=, step=, resource=, factor=, count=,
/// window=); command is the argv given the alert (may be empty). An error names the word.
Result<AlertRuleRow> alertRuleFromWords(const QStringList &words, const QStringList &command);
/// { "id", "kind", "flow", "step", "resource", "factor", "count", "window_ms", "command",
/// "created_by", "created_at" } (the optional ones only when set).
QJsonObject alertRuleJson(const AlertRuleRow &rule);
/// One line: "3  run_failed flow=orders -> /usr/local/bin/page-oncall --team pay".
QString describeAlertRule(const AlertRuleRow &rule);

/// An alert that fired: its event as stored, and what its command receives on stdin.
struct AlertFiring {
    AlertRuleRow rule;
    EventRow event; ///< the alert_fired event (id set)
    QJsonObject
        alert; ///< { "id", "at", "rule", "kind", "message", "run", "flow", "step", "trigger" }
};

class AlertWatcher : public QObject {
    Q_OBJECT
public:
    AlertWatcher(Store &store, const Clock &clock, QObject *parent = nullptr);
    ~AlertWatcher() override;

    /// Looks at everything committed since the cursor and fires what the rules say; returns
    /// how many alerts fired here. An error changes nothing the next poll would not redo.
    Result<int> poll();
    /// Polls every intervalMs from the event loop; failures are reported through failed().
    void follow(int intervalMs = 1000);
    /// Whether fired alerts run their rules' commands (default: yes).
    void setRunCommands(bool run) { m_runCommands = run; }

Q_SIGNALS:
    void alertFired(const keepflow::AlertFiring &firing);
    /// A rule's command ended: its exit code, or the error when it could not run or was killed.
    void commandFinished(qint64 ruleId, int exitCode, const QString &error);
    void failed(const QString &message);

private:
    struct Condition {
        QString key;
        QString message;
    };
    std::optional<Condition> evaluate(const AlertRuleRow &rule, const EventRow &event,
                                      const QString &flow);
    Result<QString> flowOf(const QString &runId);
    void runCommand(const AlertFiring &firing);

    Store &m_store;
    const Clock &m_clock;
    bool m_runCommands = true;
    QHash<QString, QString> m_flowOfRun;
    QTimer *m_timer = nullptr;
};

} // namespace keepflow

Q_DECLARE_METATYPE(keepflow::AlertFiring)
