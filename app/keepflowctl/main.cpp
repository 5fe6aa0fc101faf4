// keepflowctl: the headless command line. Argument parsing, calls and printing
// only: every command goes through the database's OperatorApi (and run, resume and worker through
// an Engine it creates); the behaviour lives in the engine library.

#include "api/alerts.h"
#include "api/databasecheck.h"
#include "api/loglines.h"
#include "api/operatorapi.h"
#include "api/replay.h"
#include "api/reports.h"
#include "api/rootcause.h"
#include "api/rundiff.h"
#include "api/triage.h"
#include "core/databaseaddress.h"
#include "model/flowfile.h"
#include "model/secrets.h"
#include "operator/policychange.h"
#include "runtime/engine.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QSocketNotifier>
#include <QStandardPaths>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>
#include <variant>

using namespace keepflow;

namespace {

enum ExitCode { Ok = 0, UsageOrError = 1 };

void printOut(const QString &text) {
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stdout);
    std::fflush(stdout);
}

void printErr(const QString &text) {
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stderr);
    std::fflush(stderr);
}

int fail(const QString &message) {
    printErr(QStringLiteral("keepflowctl: %1\n").arg(message));
    return UsageOrError;
}

void printJson(const QJsonValue &value) {
    const QJsonDocument document =
        value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    printOut(QString::fromUtf8(document.toJson(QJsonDocument::Indented)));
}

// What the overview says after the commands: the database, the environment, the exit codes.
const char *const kOverviewTail =
    R"(--db PATH defaults to $KEEPFLOW_DB, else ~/.local/share/keepflow/keepflow.db. A PostgreSQL
database is named by URL: postgresql://USER@HOST[:PORT]/DB or postgresql:///DB?host=/socket/dir;
its password comes from PGPASSWORD or ~/.pgpass, never from the command line.
--read-only opens it for reading only; list, status, events, resources and check do so by
themselves when the file or its folder is not writable.
KEEPFLOW_SYNCHRONOUS=normal trades the last commits on power loss for speed (default: full).
exit codes: 0 succeeded, 1 usage/invalid input/infrastructure error, 2 completed with failures,
3 failed, 4 waiting for an operator or paused, 5 cancelled.
`keepflowctl COMMAND --help` lists a command's options; man keepflowctl is the reference.
)";

QString defaultDatabasePath() {
    const QByteArray fromEnv = qgetenv("KEEPFLOW_DB");
    if (!fromEnv.isEmpty())
        return QString::fromLocal8Bit(fromEnv);
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/keepflow/keepflow.db");
}

/// SIGTERM and SIGINT, delivered into the event loop through a socket pair.
class SignalWatcher {
public:
    static int s_fds[2];
    static void handler(int) {
        const char byte = 1;
        [[maybe_unused]] const ssize_t n = ::write(s_fds[0], &byte, 1);
    }
    explicit SignalWatcher(std::function<void()> onSignal) {
        ::socketpair(AF_UNIX, SOCK_STREAM, 0, s_fds);
        m_notifier = std::make_unique<QSocketNotifier>(s_fds[1], QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, [onSignal] {
            char byte = 0;
            [[maybe_unused]] const ssize_t n = ::read(s_fds[1], &byte, 1);
            onSignal();
        });
        struct sigaction action {};
        action.sa_handler = handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(SIGTERM, &action, nullptr);
        sigaction(SIGINT, &action, nullptr);
    }

    ~SignalWatcher() {
        m_notifier.reset();
        ::close(s_fds[0]);
        ::close(s_fds[1]);
    }
    SignalWatcher(const SignalWatcher &) = delete;
    SignalWatcher &operator=(const SignalWatcher &) = delete;

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};
int SignalWatcher::s_fds[2] = {-1, -1};

struct Context {
    const QCommandLineParser &parser;
    QString command;       ///< the command's name ("retry")
    QSet<QString> options; ///< the options the command takes (the global ones included)
    QStringList args;      ///< positional arguments after the command
    bool json = false;
    QString dbPath;

    /// Whether the option was given; false for one the command does not take.
    bool isSet(const QString &name) const { return options.contains(name) && parser.isSet(name); }
    QString value(const QString &name) const {
        return options.contains(name) ? parser.value(name) : QString();
    }
    QStringList values(const QString &name) const {
        return options.contains(name) ? parser.values(name) : QStringList();
    }
};

/// How a command opens the database: to change it, or only to look at it.
enum class Access { Write, Read };

Result<StoreOptions> storeOptions(const Context &context, Access access) {
    StoreOptions options;
    // KEEPFLOW_SYNCHRONOUS=normal trades the last commits on power loss (never on a crash of
    // the process) for speed; the default FULL loses nothing.
    const QString sync = qEnvironmentVariable("KEEPFLOW_SYNCHRONOUS").toLower();
    if (sync == QLatin1String("normal"))
        options.sync = StoreOptions::Sync::Normal;
    else if (!sync.isEmpty() && sync != QLatin1String("full"))
        return Status::error(
            QStringLiteral("KEEPFLOW_SYNCHRONOUS must be \"full\" or \"normal\", not \"%1\"")
                .arg(sync));
    options.readOnly = context.isSet(QStringLiteral("read-only"));
    options.readOnlyWhenNotWritable = access == Access::Read;
    return options;
}

Result<std::unique_ptr<OperatorApi>> openApi(const Context &context,
                                             Access access = Access::Write) {
    auto store = storeOptions(context, access);
    if (!store)
        return store.status();
    // Looking must not leave an empty database behind where none was.
    if (access == Access::Read && !isPostgresUrl(context.dbPath) &&
        !QFileInfo::exists(context.dbPath))
        return Status::error(QStringLiteral("no Keepflow database at %1 yet (run a flow first, or "
                                            "choose one with --db or KEEPFLOW_DB)")
                                 .arg(context.dbPath));
    OperatorApi::Options options;
    options.store = *store;
    auto api = OperatorApi::open(context.dbPath, options);
    if (!api)
        return api;
    for (const QString &warning : (*api)->warnings())
        printErr(QStringLiteral("keepflowctl: warning: %1\n").arg(warning));
    if ((*api)->isReadOnly() && !options.store.readOnly)
        printErr(QStringLiteral("keepflowctl: %1 opened read-only: %2\n")
                     .arg(context.dbPath, (*api)->readOnlyReason()));
    return api;
}

int commandValidate(const Context &context) {
    if (context.args.isEmpty())
        return fail(QStringLiteral("validate needs at least one FILE"));
    bool anyError = false;
    QJsonArray report;
    for (const QString &file : context.args) {
        const FlowLoad load = loadFlowFile(file);
        QJsonArray problems;
        for (const Diagnostic &diagnostic : load.diagnostics) {
            if (!context.json)
                printErr(diagnostic.toString() + QLatin1Char('\n'));
            problems.append(QJsonObject{
                {QStringLiteral("severity"), diagnostic.severity == Diagnostic::Severity::Error
                                                 ? QStringLiteral("error")
                                                 : QStringLiteral("warning")},
                {QStringLiteral("line"), diagnostic.line},
                {QStringLiteral("column"), diagnostic.column},
                {QStringLiteral("path"), diagnostic.path},
                {QStringLiteral("message"), diagnostic.message}});
        }
        anyError = anyError || !load.ok();
        if (!context.json && load.ok())
            printOut(QStringLiteral("%1: ok (%2 steps)\n").arg(file).arg(load.flow->steps.size()));
        report.append(QJsonObject{{QStringLiteral("file"), file},
                                  {QStringLiteral("ok"), load.ok()},
                                  {QStringLiteral("problems"), problems}});
    }
    if (context.json)
        printJson(report);
    return anyError ? UsageOrError : Ok;
}

/// --param NAME=VALUE: JSON when the parameter's default is not a string and VALUE parses as
/// JSON, text otherwise.
Result<QJsonObject> parseParams(const Flow &flow, const QStringList &assignments) {
    QJsonObject params;
    for (const QString &assignment : assignments) {
        const auto equals = assignment.indexOf(QLatin1Char('='));
        if (equals <= 0)
            return Status::error(
                QStringLiteral("--param needs NAME=VALUE, got \"%1\"").arg(assignment));
        const QString name = assignment.left(equals);
        const QString text = assignment.mid(equals + 1);
        QJsonValue value = text;
        const ParamSpec *spec = flow.param(name);
        if (spec && !spec->defaultValue.isString() && !spec->defaultValue.isUndefined()) {
            const QJsonDocument document = QJsonDocument::fromJson("[" + text.toUtf8() + "]");
            if (document.isArray() && document.array().size() == 1)
                value = document.array().first();
        }
        params.insert(name, value);
    }
    return params;
}

/// Runs the event loop until every run in `waitFor` has settled; prints progress.
int driveUntilSettled(Engine &engine, QSet<QString> waitFor, bool json) {
    int worstExit = Ok;
    QString fatal;
    QObject::connect(&engine, &Engine::eventsCommitted, [json](const QList<EventRow> &events) {
        // One write for the lines of a commit, not one per event.
        QString lines;
        for (const EventRow &event : events) {
            lines += describeEvent(event);
            lines += QLatin1Char('\n');
        }
        json ? printErr(lines) : printOut(lines);
    });
    QObject::connect(&engine, &Engine::runSettled, [&](const QString &runId, RunState state) {
        if (!waitFor.remove(runId))
            return;
        worstExit = std::max(worstExit, exitCodeFor(state));
        if (waitFor.isEmpty())
            QCoreApplication::quit();
    });
    QObject::connect(&engine, &Engine::fatalError, [&fatal](const QString &message) {
        fatal = message;
        QCoreApplication::quit();
    });
    // Runs that settled while being adopted are already done.
    for (const QString &id : QSet<QString>(waitFor)) {
        const auto state = engine.runState(id);
        if (state && *state != RunState::Running) {
            waitFor.remove(id);
            worstExit = std::max(worstExit, exitCodeFor(*state));
        }
    }
    if (!waitFor.isEmpty()) {
        SignalWatcher signals_([&engine] {
            printErr(
                QStringLiteral("keepflowctl: interrupted; the run continues on the next resume\n"));
            engine.drain();
            QCoreApplication::exit(130);
        });
        engine.startDriving();
        const int loopExit = QCoreApplication::exec();
        if (loopExit == 130) {
            engine.shutdown();
            return 130;
        }
    }
    const Status released = engine.shutdown();
    if (!fatal.isEmpty())
        return fail(fatal);
    if (!released)
        printErr(QStringLiteral("keepflowctl: %1\n").arg(released.message()));
    return worstExit;
}

int printRunOutcome(OperatorApi &api, const QString &runId, bool json, int exitCode,
                    const Flow *flowOfRun = nullptr) {
    auto status = api.status(runId, flowOfRun);
    if (!status)
        return fail(status.error());
    const QJsonObject report = runStatusJson(status->run, status->steps, status->items,
                                             status->maxAttempts, status->rootCauses);
    if (json)
        printJson(report);
    else
        printOut(runStatusText(report));
    return exitCode;
}

/// The flow file that is the command's one argument, valid, with its --param values.
struct FlowArgument {
    QString file;
    FlowLoad load;
    QJsonObject params;
};

/// Reads the command's flow file and parameters; on a problem prints every one (FILE:LINE:COLUMN)
/// and returns the exit code, saying that nothing was done (nothingDone: "run", "submitted").
std::variant<FlowArgument, int> flowArgument(const Context &context, const QString &command,
                                             const QString &nothingDone) {
    if (context.args.size() != 1)
        return fail(QStringLiteral("%1 needs exactly one FILE").arg(command));
    FlowArgument argument;
    argument.file = context.args.first();
    argument.load = loadFlowFile(argument.file);
    if (!argument.load.ok()) {
        for (const Diagnostic &diagnostic : argument.load.diagnostics)
            printErr(diagnostic.toString() + QLatin1Char('\n'));
        return fail(QStringLiteral("%1 is not a valid flow; nothing was %2")
                        .arg(argument.file, nothingDone));
    }
    auto params = parseParams(*argument.load.flow, context.values(QStringLiteral("param")));
    if (!params)
        return fail(params.error());
    argument.params = *params;
    return argument;
}

int commandRun(const Context &context) {
    auto read = flowArgument(context, QStringLiteral("run"), QStringLiteral("run"));
    if (const int *code = std::get_if<int>(&read))
        return *code;
    const auto &[file, load, params] = std::get<FlowArgument>(read);
    auto api = openApi(context);
    if (!api)
        return fail(api.error());
    const std::unique_ptr<Engine> executor = (*api)->createEngine();
    Engine &engine = *executor;
    const bool detach = context.isSet(QStringLiteral("detach"));
    auto runId = engine.createRun(load, QFileInfo(file).absoluteFilePath(), params, !detach);
    if (!runId)
        return fail(runId.error());
    if (detach) {
        // A background keepflowctl executes it (or a worker, whichever claims it first).
        QProcess background;
        background.setProgram(QCoreApplication::applicationFilePath());
        background.setArguments(
            {QStringLiteral("resume"), *runId, QStringLiteral("--db"), context.dbPath});
        background.setStandardOutputFile(QProcess::nullDevice());
        background.setStandardErrorFile(QProcess::nullDevice());
        background.setStandardInputFile(QProcess::nullDevice());
        if (!background.startDetached())
            printErr(QStringLiteral(
                         "keepflowctl: run %1 created, but no background process could start; "
                         "`keepflowctl resume %1` or a worker will run it\n")
                         .arg(*runId));
        if (context.json)
            printJson(QJsonObject{{QStringLiteral("id"), *runId},
                                  {QStringLiteral("state"), QStringLiteral("running")}});
        else
            printOut(*runId + QLatin1Char('\n'));
        return Ok;
    }
    const QString header = QStringLiteral("run %1 of %2 started (%3 steps, database %4)\n")
                               .arg(*runId, load.flow->name)
                               .arg(load.flow->steps.size())
                               .arg(context.dbPath);
    context.json ? printErr(header) : printOut(header);
    const int code = driveUntilSettled(engine, {*runId}, context.json);
    if (code == UsageOrError || code == 130)
        return code;
    return printRunOutcome(**api, *runId, context.json, code, &*load.flow);
}

int commandResume(const Context &context) {
    if (context.args.size() > 1)
        return fail(QStringLiteral("resume takes at most one RUN"));
    auto api = openApi(context);
    if (!api)
        return fail(api.error());
    const std::unique_ptr<Engine> executor = (*api)->createEngine();
    Engine &engine = *executor;
    QSet<QString> adopted;
    if (context.args.size() == 1) {
        const QString runId = context.args.first();
        auto row = (*api)->run(runId);
        if (!row)
            return fail(row.error());
        if (isFinal(row->state))
            return printRunOutcome(**api, runId, context.json, exitCodeFor(row->state));
        auto taken = engine.adopt(runId);
        if (!taken)
            return fail(taken.error());
        if (!*taken)
            return fail(QStringLiteral("run %1 is being executed by %2 (lease until %3)")
                            .arg(runId, row->owner, isoTime(row->leaseUntil).toString()));
        adopted.insert(runId);
    } else {
        auto count = engine.adoptAvailable();
        if (!count)
            return fail(count.error());
        for (const QString &id : engine.loadedRunIds())
            adopted.insert(id);
        if (adopted.isEmpty()) {
            printErr(QStringLiteral("keepflowctl: no interrupted run to resume\n"));
            return Ok;
        }
    }
    const int code = driveUntilSettled(engine, adopted, context.json);
    if (context.args.size() == 1 && code != UsageOrError && code != 130)
        return printRunOutcome(**api, context.args.first(), context.json, code);
    return code;
}

int commandSubmit(const Context &context) {
    auto read = flowArgument(context, QStringLiteral("submit"), QStringLiteral("submitted"));
    if (const int *code = std::get_if<int>(&read))
        return *code;
    const auto &[file, load, params] = std::get<FlowArgument>(read);
    auto api = openApi(context);
    if (!api)
        return fail(api.error());
    const std::unique_ptr<Engine> engine = (*api)->createEngine();
    // Not executed here: the run waits, unclaimed, for whichever worker takes it first.
    auto runId = engine->createRun(load, QFileInfo(file).absoluteFilePath(), params, false);
    if (!runId)
        return fail(runId.error());
    if (context.json)
        printJson(QJsonObject{{QStringLiteral("id"), *runId},
                              {QStringLiteral("state"), QStringLiteral("running")}});
    else
        printOut(*runId + QLatin1Char('\n'));
    return Ok;
}

int commandWorkers(const Context &context) {
    if (!context.args.isEmpty())
        return fail(QStringLiteral("workers takes no arguments"));
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto workers = (*api)->workers();
    if (!workers)
        return fail(workers.error());
    if (context.json) {
        printJson(workersJson(*workers));
        return Ok;
    }
    if (workers->isEmpty())
        printOut(QStringLiteral("no worker is running on %1\n").arg(context.dbPath));
    for (const WorkerRow &worker : *workers)
        printOut(QStringLiteral("%1  heartbeat %2  %3 run(s)%4\n")
                     .arg(worker.id, isoTime(worker.heartbeatAt).toString())
                     .arg(worker.runs.size())
                     .arg(worker.runs.isEmpty()
                              ? QString()
                              : QStringLiteral(": ") + worker.runs.join(QStringLiteral(" "))));
    return Ok;
}

/// The worker's log on stderr: one line per event at or above a level, as text or JSON; under
/// journald (JOURNAL_STREAM set) text lines carry the syslog priority instead of a time.
struct WorkerLog {
    LogFormat format = LogFormat::Text;
    LogLevel least = LogLevel::Info;
    bool journal = false;

    void event(const EventRow &row) const {
        if (eventLevel(row) >= least)
            printErr(eventLogLine(row, format, journal));
    }
    /// The lines of a commit's events, written at once.
    void events(const QList<EventRow> &rows) const {
        QString lines;
        for (const EventRow &row : rows) {
            if (eventLevel(row) >= least)
                lines += eventLogLine(row, format, journal);
        }
        if (!lines.isEmpty())
            printErr(lines);
    }
    void notice(LogLevel level, const QString &message) const {
        if (level >= least)
            printErr(noticeLogLine(level, message, QDateTime::currentMSecsSinceEpoch(), format,
                                   journal));
    }
};

/// How one worker session ended.
enum class WorkerEnd { Stopped, Failed, ConnectionLost };

/// One worker session on one connection: adopts and executes runs until a signal stops it, or
/// the database fails. fatal says why it failed.
WorkerEnd workUntilStopped(const Context &context, OperatorApi &api,
                           const Engine::Options &engineOptions, const WorkerLog &log,
                           bool &stopping, QString &fatal) {
    const std::unique_ptr<Engine> executor = api.createEngine(engineOptions);
    Engine &engine = *executor;
    QObject::connect(&engine, &Engine::eventsCommitted,
                     [&log](const QList<EventRow> &events) { log.events(events); });
    QObject::connect(&engine, &Engine::runLost, [&log](const QString &runId) {
        log.notice(LogLevel::Warning,
                   QStringLiteral("run %1 was taken over by another worker (this one's lease "
                                  "lapsed); nothing more of it is written here")
                       .arg(runId));
    });
    QObject::connect(&engine, &Engine::fatalError, [&fatal](const QString &message) {
        fatal = message;
        QCoreApplication::quit();
    });
    // Alerts: this worker looks at what every process commits and fires what the rules say
    // (each condition once, whichever worker sees it first).
    const std::unique_ptr<AlertWatcher> alerts(api.createAlertWatcher());
    QObject::connect(alerts.get(), &AlertWatcher::alertFired,
                     [&log](const AlertFiring &firing) { log.event(firing.event); });
    QObject::connect(alerts.get(), &AlertWatcher::commandFinished,
                     [&log](qint64 rule, int exitCode, const QString &error) {
                         if (exitCode == 0 && error.isEmpty())
                             log.notice(
                                 LogLevel::Debug,
                                 QStringLiteral("alert rule %1: its command succeeded").arg(rule));
                         else
                             log.notice(LogLevel::Warning,
                                        QStringLiteral("alert rule %1: its command %2")
                                            .arg(rule)
                                            .arg(error.isEmpty() ? QStringLiteral("exited with "
                                                                                  "code %1")
                                                                       .arg(exitCode)
                                                                 : error));
                     });
    QObject::connect(alerts.get(), &AlertWatcher::failed, [&log](const QString &message) {
        log.notice(LogLevel::Warning, QStringLiteral("alerts: %1").arg(message));
    });
    alerts->follow(1000);
    QTimer poll;
    std::function<void()> adoptNewRuns = [&engine, &fatal, &engineOptions, &adoptNewRuns] {
        auto adopted = engine.adoptAvailable();
        if (!adopted) {
            fatal = adopted.error();
            QCoreApplication::quit();
        } else if (*adopted >= engineOptions.claimBatch) {
            // A full batch: there may be more. Claim again once this batch got going, so that
            // other workers claiming meanwhile take their share.
            QTimer::singleShot(0, &engine, adoptNewRuns);
        }
    };
    QObject::connect(&poll, &QTimer::timeout, adoptNewRuns);
    // PostgreSQL tells of new runs and released leases at once; the poll stays as a safety net.
    QObject::connect(&engine, &Engine::workArrived, adoptNewRuns);
    QTimer drainCheck;
    SignalWatcher watcher([&] {
        if (stopping) {
            QCoreApplication::quit(); // a second signal: stop waiting for attempts
            return;
        }
        stopping = true;
        log.notice(LogLevel::Info,
                   QStringLiteral("stopping: no new attempts; waiting for %1 running")
                       .arg(engine.runningAttemptCount()));
        poll.stop();
        engine.drain();
        QObject::connect(&drainCheck, &QTimer::timeout, [&engine] {
            if (engine.runningAttemptCount() == 0)
                QCoreApplication::quit();
        });
        drainCheck.start(50);
    });
    poll.start(500);
    QTimer::singleShot(0, &poll, adoptNewRuns);
    engine.startDriving();
    log.notice(LogLevel::Info, QStringLiteral("worker on %1").arg(context.dbPath));
    QCoreApplication::exec();
    const Status released = engine.shutdown();
    if (fatal.isEmpty() && !released)
        fatal = released.message();
    if (fatal.isEmpty())
        return WorkerEnd::Stopped;
    // A server that went away (restarted, the connection cut) comes back: everything this
    // worker held is in the database, and its leases lapse for whoever claims next, itself too.
    return api.isPostgres() && !stopping ? WorkerEnd::ConnectionLost : WorkerEnd::Failed;
}

int commandWorker(const Context &context) {
    Engine::Options engineOptions;
    if (context.isSet(QStringLiteral("lease"))) {
        bool ok = false;
        const int seconds = context.value(QStringLiteral("lease")).toInt(&ok);
        if (!ok || seconds < 1 || seconds > 86'400)
            return fail(QStringLiteral("--lease takes whole seconds from 1 to 86400, not \"%1\"")
                            .arg(context.value(QStringLiteral("lease"))));
        engineOptions.leaseMs = seconds * qint64{1000};
    }
    WorkerLog log;
    log.journal = !qEnvironmentVariableIsEmpty("JOURNAL_STREAM");
    if (context.isSet(QStringLiteral("log-format"))) {
        const auto format = logFormatFromName(context.value(QStringLiteral("log-format")));
        if (!format)
            return fail(QStringLiteral("--log-format is text or json, not \"%1\"")
                            .arg(context.value(QStringLiteral("log-format"))));
        log.format = *format;
    }
    if (context.isSet(QStringLiteral("log-level"))) {
        const auto level = logLevelFromName(context.value(QStringLiteral("log-level")));
        if (!level)
            return fail(QStringLiteral("--log-level is debug, info, warning or error, not \"%1\"")
                            .arg(context.value(QStringLiteral("log-level"))));
        log.least = *level;
    }
    bool stopping = false;
    for (int reconnects = 0;; ++reconnects) {
        auto api = openApi(context);
        if (!api) {
            if (reconnects == 0 || !isPostgresUrl(context.dbPath))
                return fail(redactCredentials(api.error()));
            log.notice(LogLevel::Warning,
                       QStringLiteral("%1; trying again in 1 s").arg(api.error()));
        } else {
            QString fatal;
            switch (workUntilStopped(context, **api, engineOptions, log, stopping, fatal)) {
            case WorkerEnd::Stopped:
                return Ok;
            case WorkerEnd::Failed:
                return fail(redactCredentials(fatal));
            case WorkerEnd::ConnectionLost:
                log.notice(LogLevel::Warning, QStringLiteral("%1; reconnecting in 1 s").arg(fatal));
                break;
            }
        }
        // Waits for the server without spinning; a signal meanwhile stops the worker.
        QTimer::singleShot(1000, QCoreApplication::instance(), &QCoreApplication::quit);
        SignalWatcher watcher([&stopping] {
            stopping = true;
            QCoreApplication::quit();
        });
        QCoreApplication::exec();
        if (stopping)
            return Ok;
    }
}

/// The runs a command's filter options select (list, failures, retry-failed); an error names
/// the option and what it accepts.
Result<RunQuery> runQueryOf(const Context &context, qint64 nowMs) {
    RunQuery query;
    if (const QString text = context.value(QStringLiteral("state")); !text.isEmpty()) {
        const std::optional<RunState> state = runStateFromName(text);
        if (!state)
            return Status::error(
                QStringLiteral("--state: unknown run state \"%1\" (running, paused, "
                               "waiting_for_operator, succeeded, completed_with_failures, failed, "
                               "cancelled)")
                    .arg(text));
        query.states = {*state};
    }
    if (const QString text = context.value(QStringLiteral("step-state")); !text.isEmpty()) {
        query.step.state = stepStateFromName(text);
        if (!query.step.state)
            return Status::error(
                QStringLiteral("--step-state: unknown step state \"%1\" (pending, queued, "
                               "scheduled, running, retrying, succeeded, succeeded_via_fallback, "
                               "partially_succeeded, failed, uncertain, waiting_for_operator, "
                               "paused, skipped, blocked, cancelled)")
                    .arg(text));
    }
    query.flowName = context.value(QStringLiteral("flow"));
    query.step.stepId = context.value(QStringLiteral("step"));
    query.step.error = context.value(QStringLiteral("error"));
    query.step.resource = context.value(QStringLiteral("resource"));
    for (const char *bound : {"since", "until"}) {
        const QString text = context.value(QLatin1String(bound));
        if (text.isEmpty())
            continue;
        auto at = parseTimeBound(text, nowMs);
        if (!at)
            return Status::error(QStringLiteral("--%1: %2").arg(QLatin1String(bound), at.error()));
        (qstrcmp(bound, "since") == 0 ? query.since : query.until) = *at;
    }
    return query;
}

int commandList(const Context &context) {
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto query = runQueryOf(context, (*api)->clock().nowMs());
    if (!query)
        return fail(query.error());
    auto runs = (*api)->runList(*query);
    if (!runs)
        return fail(runs.error());
    if (context.json) {
        printJson(runListJson(*runs));
        return Ok;
    }
    printOut(QStringLiteral("%1 %2 %3 %4\n")
                 .arg(QStringLiteral("ID").leftJustified(13),
                      QStringLiteral("FLOW").leftJustified(24),
                      QStringLiteral("STATE").leftJustified(24), QStringLiteral("CREATED")));
    for (const RunListRow &run : *runs)
        printOut(QStringLiteral("%1 %2 %3 %4\n")
                     .arg(run.id.leftJustified(13), run.flowName.leftJustified(24),
                          stateName(run.state).leftJustified(24),
                          QDateTime::fromMSecsSinceEpoch(run.createdAt)
                              .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));
    return Ok;
}

int commandFailures(const Context &context) {
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto query = runQueryOf(context, (*api)->clock().nowMs());
    if (!query)
        return fail(query.error());
    auto groups = (*api)->failureGroups(*query);
    if (!groups)
        return fail(groups.error());
    if (context.json) {
        printJson(failureGroupsJson(*groups));
        return Ok;
    }
    if (groups->isEmpty()) {
        printOut(QStringLiteral("no failures\n"));
        return Ok;
    }
    printOut(QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                 .arg(QStringLiteral("COUNT").rightJustified(6),
                      QStringLiteral("RUNS").rightJustified(6),
                      QStringLiteral("FLOW / STEP").leftJustified(32),
                      QStringLiteral("CLASS").leftJustified(10),
                      QStringLiteral("LAST").leftJustified(16), QStringLiteral("SIGNATURE")));
    for (const FailureGroup &group : *groups)
        printOut(QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                     .arg(QString::number(group.count).rightJustified(6),
                          QString::number(group.runs.size()).rightJustified(6),
                          (group.flow + QStringLiteral(" / ") + group.stepId).leftJustified(32),
                          errorClassName(group.errorClass).leftJustified(10),
                          QDateTime::fromMSecsSinceEpoch(group.lastAt)
                              .toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                              .leftJustified(16),
                          group.signature));
    return Ok;
}

int commandRetryFailed(const Context &context) {
    const bool dryRun = context.isSet(QStringLiteral("dry-run"));
    auto api = openApi(context, dryRun ? Access::Read : Access::Write);
    if (!api)
        return fail(api.error());
    auto query = runQueryOf(context, (*api)->clock().nowMs());
    if (!query)
        return fail(query.error());
    BulkRequest request;
    request.kind = context.isSet(QStringLiteral("failed-items"))
                       ? OperatorAction::Kind::RetryFailedItems
                       : OperatorAction::Kind::Retry;
    request.query = *query;
    request.reason = context.value(QStringLiteral("reason"));
    request.actor = context.value(QStringLiteral("actor"));
    auto report = dryRun ? (*api)->planBulk(request) : (*api)->applyBulk(request);
    if (!report)
        return fail(report.error());
    const int refused = report->count(BulkRunOutcome::Outcome::Refused);
    if (context.json) {
        printJson(bulkReportJson(*report));
        return refused > 0 ? UsageOrError : Ok;
    }
    int steps = 0;
    for (const BulkRunOutcome &run : report->runs) {
        if (run.outcome != BulkRunOutcome::Outcome::Refused)
            steps += static_cast<int>(run.steps.size());
        printOut(QStringLiteral("%1 %2 %3%4\n")
                     .arg(run.runId.leftJustified(13),
                          bulkOutcomeName(run.outcome).leftJustified(12),
                          run.steps.join(QLatin1Char(',')),
                          run.reason.isEmpty() ? QString() : QStringLiteral("  ") + run.reason));
    }
    const int acting = static_cast<int>(report->runs.size()) - refused;
    printOut(QStringLiteral("%1 %2 step(s) in %3 run(s); %4 run(s) refused\n")
                 .arg(dryRun ? QStringLiteral("would retry") : QStringLiteral("retried"))
                 .arg(steps)
                 .arg(acting)
                 .arg(refused));
    return refused > 0 ? UsageOrError : Ok;
}

int commandAlerts(const Context &context) {
    const QString verb = context.args.value(0, QStringLiteral("list"));
    // The rule's command: everything after "--", run as given (never through a shell).
    const QStringList raw = QCoreApplication::arguments();
    const auto dashes = raw.indexOf(QStringLiteral("--"));
    const QStringList command = dashes < 0 ? QStringList() : raw.mid(dashes + 1);
    const QStringList words = context.args.mid(1, context.args.size() - 1 - command.size());
    if (verb == QLatin1String("list")) {
        if (context.args.size() > 1)
            return fail(QStringLiteral("alerts list takes no arguments"));
        auto api = openApi(context, Access::Read);
        if (!api)
            return fail(api.error());
        auto rules = (*api)->alertRules();
        if (!rules)
            return fail(rules.error());
        if (context.json) {
            QJsonArray array;
            for (const AlertRuleRow &rule : *rules)
                array.append(alertRuleJson(rule));
            printJson(array);
        } else if (rules->isEmpty()) {
            printOut(QStringLiteral("no alert rules\n"));
        } else {
            for (const AlertRuleRow &rule : *rules)
                printOut(describeAlertRule(rule) + QLatin1Char('\n'));
        }
        return Ok;
    }
    if (verb == QLatin1String("add")) {
        auto rule = alertRuleFromWords(words, command);
        if (!rule)
            return fail(rule.error());
        auto api = openApi(context, Access::Write);
        if (!api)
            return fail(api.error());
        auto added = (*api)->addAlertRule(*rule, context.value(QStringLiteral("actor")));
        if (!added)
            return fail(added.error());
        if (context.json)
            printJson(alertRuleJson(*added));
        else
            printOut(QStringLiteral("added alert rule %1\n").arg(added->id));
        return Ok;
    }
    if (verb == QLatin1String("remove")) {
        bool ok = false;
        const qint64 id = context.args.value(1).toLongLong(&ok);
        if (context.args.size() != 2 || !ok)
            return fail(
                QStringLiteral("alerts remove takes one rule id (keepflowctl alerts list)"));
        auto api = openApi(context, Access::Write);
        if (!api)
            return fail(api.error());
        if (Status removed = (*api)->removeAlertRule(id); !removed)
            return fail(removed.message());
        printOut(QStringLiteral("removed alert rule %1\n").arg(id));
        return Ok;
    }
    return fail(QStringLiteral("unknown alerts command \"%1\" (list, add, remove)").arg(verb));
}

/// `status RUN --at TIME|EVENT_ID`: the run as its events left it then, in the shape of
/// `status`, said to be as of that event.
int printStatusAt(OperatorApi &api, const QString &runId, const QString &at, bool json) {
    auto status = api.status(runId);
    if (!status)
        return fail(status.error());
    auto events = api.events(runId);
    if (!events)
        return fail(events.error());
    RunReplay replay(status->run, status->steps, status->items, *events);
    qsizetype index = -1;
    bool isEventId = false;
    const qint64 eventId = at.toLongLong(&isEventId);
    if (isEventId) {
        index = replay.indexOfEvent(eventId);
        if (index < 0)
            return fail(QStringLiteral("--at %1: run %2 has no event %1 (its events are %3 to %4; "
                                       "keepflowctl events %2 lists them)")
                            .arg(at, runId)
                            .arg(events->isEmpty() ? 0 : events->first().id)
                            .arg(events->isEmpty() ? 0 : events->last().id));
    } else {
        auto time = parseTimeBound(at, api.clock().nowMs());
        if (!time)
            return fail(QStringLiteral("--at: %1").arg(time.error()));
        index = replay.indexAtTime(*time);
        if (index < 0)
            return fail(QStringLiteral("--at %1: run %2 did not exist yet then (it was created at "
                                       "%3)")
                            .arg(at, runId, isoTime(status->run.createdAt).toString()));
    }
    replay.seek(index);
    const ReplayedRun &past = replay.state();
    Flow flow;
    if (auto version = api.flowVersion(status->run.flowId)) {
        if (FlowLoad load = parseFlow(version->definition, version->sourcePath); load.ok())
            flow = std::move(*load.flow);
    }
    // The budget as it was then: a live policy change counts from its event on.
    QJsonObject report =
        runStatusJson(past.run, past.steps, past.existingItems(),
                      effectiveMaxAttempts(flow, past.steps), findRootCauses(flow, past.steps));
    const EventRow &event = *replay.currentEvent();
    QJsonObject asOf{
        {QStringLiteral("event"), event.id},
        {QStringLiteral("at"), isoTime(event.at)},
        {QStringLiteral("type"), eventTypeName(event.type)},
        {QStringLiteral("step"), event.stepId.isEmpty() ? QJsonValue() : QJsonValue(event.stepId)}};
    report.insert(QStringLiteral("as_of"), asOf);
    if (json) {
        printJson(report);
        return Ok;
    }
    printOut(QStringLiteral("as of event %1 (%2 of %3) at %4: %5\n")
                 .arg(event.id)
                 .arg(index + 1)
                 .arg(replay.eventCount())
                 .arg(isoTime(event.at).toString(), describeEvent(event)));
    printOut(runStatusText(report));
    return Ok;
}

int commandStatus(const Context &context) {
    if (context.args.size() != 1)
        return fail(QStringLiteral("status needs exactly one RUN"));
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    if (context.isSet(QStringLiteral("at")))
        return printStatusAt(**api, context.args.first(), context.value(QStringLiteral("at")),
                             context.json);
    return printRunOutcome(**api, context.args.first(), context.json, Ok);
}

int commandDiff(const Context &context) {
    if (context.args.isEmpty() || context.args.size() > 2)
        return fail(QStringLiteral("diff needs a RUN and at most one OTHER run"));
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto diff = diffRuns(**api, context.args.first(), context.args.value(1));
    if (!diff)
        return fail(diff.error());
    if (context.json)
        printJson(runDiffJson(*diff));
    else
        printOut(runDiffText(*diff));
    return Ok;
}

int commandEvents(const Context &context) {
    if (context.args.size() != 1)
        return fail(QStringLiteral("events needs exactly one RUN"));
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    if (auto run = (*api)->run(context.args.first()); !run)
        return fail(run.error());
    auto events = (*api)->events(context.args.first());
    if (!events)
        return fail(events.error());
    if (context.json) {
        printJson(eventsJson(*events));
        return Ok;
    }
    for (const EventRow &event : *events)
        printOut(QStringLiteral("%1 %2 %3\n")
                     .arg(event.id, 6)
                     .arg(event.actor.leftJustified(10), describeEvent(event)));
    return Ok;
}

/// The captured stdout, then stderr, of one attempt of a step or of one of its items (the latest
/// unless --attempt). What was kept goes to stdout as it is; what was cut off is said on stderr.
int commandLogs(const Context &context) {
    if (context.args.size() != 2)
        return fail(QStringLiteral("usage: keepflowctl logs RUN STEP [--attempt N] [--item KEY]"));
    const QString &runId = context.args[0];
    const QString &stepId = context.args[1];
    const QString itemKey = context.value(QStringLiteral("item"));
    int wanted = 0; // the latest
    if (context.isSet(QStringLiteral("attempt"))) {
        bool ok = false;
        wanted = context.value(QStringLiteral("attempt")).toInt(&ok);
        if (!ok || wanted < 1)
            return fail(QStringLiteral("--attempt needs a positive number, not \"%1\"")
                            .arg(context.value(QStringLiteral("attempt"))));
    }
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto steps = (*api)->stepRuns(runId);
    if (!steps)
        return fail(steps.error());
    if (steps->isEmpty())
        return fail(QStringLiteral("no run %1").arg(runId));
    if (std::none_of(steps->begin(), steps->end(),
                     [&](const StepRunRow &step) { return step.stepId == stepId; }))
        return fail(QStringLiteral("run %1 has no step \"%2\"").arg(runId, stepId));
    auto all = (*api)->attemptOutputs(runId, stepId);
    if (!all)
        return fail(all.error());
    QList<AttemptRow> attempts;
    for (AttemptRow &attempt : *all) {
        if (attempt.itemKey == itemKey)
            attempts.append(std::move(attempt));
    }
    const QString target = itemKey.isEmpty()
                               ? QStringLiteral("step %1").arg(stepId)
                               : QStringLiteral("item %1 of step %2").arg(itemKey, stepId);
    if (attempts.isEmpty() && !itemKey.isEmpty()) {
        QStringList keys;
        for (const AttemptRow &attempt : *all) {
            if (!attempt.itemKey.isEmpty() && !keys.contains(attempt.itemKey))
                keys.append(attempt.itemKey);
        }
        return fail(QStringLiteral("step %1 of run %2 has no attempt of an item \"%3\"%4")
                        .arg(stepId, runId, itemKey,
                             keys.isEmpty()
                                 ? QString()
                                 : QStringLiteral(" (items that made attempts: %1)")
                                       .arg(keys.mid(0, 10).join(QStringLiteral(", ")))));
    }
    if (attempts.isEmpty()) {
        const bool hasItems = std::any_of(all->begin(), all->end(),
                                          [](const AttemptRow &a) { return !a.itemKey.isEmpty(); });
        return fail(QStringLiteral("%1 of run %2 has made no attempt%3")
                        .arg(target, runId,
                             hasItems && itemKey.isEmpty()
                                 ? QStringLiteral(" (its items did: name one with --item KEY)")
                                 : QString()));
    }
    // Attempt numbers start again after an operator's retry: the latest generation's N wins.
    auto chosen = std::find_if(attempts.rbegin(), attempts.rend(), [wanted](const AttemptRow &a) {
        return wanted == 0 || a.number == wanted;
    });
    if (chosen == attempts.rend())
        return fail(QStringLiteral("%1 of run %2 has no attempt %3 (it made %4)")
                        .arg(target, runId)
                        .arg(wanted)
                        .arg(attempts.size()));
    const CapturedOutput &captured = chosen->captured;
    if (context.json) {
        printJson(QJsonObject{
            {QStringLiteral("run"), runId},
            {QStringLiteral("step"), stepId},
            {QStringLiteral("item"), itemKey.isEmpty() ? QJsonValue() : QJsonValue(itemKey)},
            {QStringLiteral("attempt"), chosen->number},
            {QStringLiteral("generation"), chosen->generation},
            {QStringLiteral("stdout"), captured.stdoutTail},
            {QStringLiteral("stderr"), captured.stderrTail},
            {QStringLiteral("stdout_bytes"), captured.stdoutBytes},
            {QStringLiteral("stderr_bytes"), captured.stderrBytes}});
        return Ok;
    }
    const auto cutNote = [&](const char *stream, qint64 bytes) {
        printErr(QStringLiteral("(%1 printed %2 bytes on %3; only its last %4 KiB are kept)\n")
                     .arg(QStringLiteral("attempt %1").arg(chosen->number))
                     .arg(bytes)
                     .arg(QLatin1String(stream))
                     .arg(CapturedOutput::kCapturedTailBytes / 1024));
    };
    if (captured.isEmpty()) {
        printErr(
            QStringLiteral("(attempt %1 of %2 printed nothing)\n").arg(chosen->number).arg(target));
        return Ok;
    }
    if (captured.stdoutCut())
        cutNote("stdout", captured.stdoutBytes);
    printOut(captured.stdoutTail);
    if (captured.stderrCut())
        cutNote("stderr", captured.stderrBytes);
    printOut(captured.stderrTail);
    return Ok;
}

Result<QJsonValue> jsonOption(const Context &context, const QString &name) {
    if (!context.isSet(name))
        return QJsonValue(QJsonValue::Undefined);
    const QByteArray text = context.value(name).toUtf8();
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson("[" + text + "]", &error);
    if (error.error != QJsonParseError::NoError || document.array().size() != 1)
        return Status::error(
            QStringLiteral("--%1 is not valid JSON: %2").arg(name, error.errorString()));
    return document.array().first();
}

/// retry, skip, mark-succeeded, resolve, approve, reject, set-input, rerun-from, pause, unpause,
/// cancel: one transaction plus an event with who and why, or a refusal that changes nothing.
int commandAction(const Context &context) {
    using K = OperatorAction::Kind;
    const QString &command = context.command;
    OperatorAction action;
    const QStringList &args = context.args;
    const bool runLevel =
        command == QLatin1String("cancel") ||
        ((command == QLatin1String("pause") || command == QLatin1String("unpause")) &&
         args.size() == 1);
    const qsizetype expected = runLevel ? 1 : command == QLatin1String("set-input") ? 3 : 2;
    if (args.size() != expected)
        return fail(QStringLiteral("%1 needs %2")
                        .arg(command, runLevel        ? QStringLiteral("RUN")
                                      : expected == 3 ? QStringLiteral("RUN STEP JSON")
                                                      : QStringLiteral("RUN STEP")));
    action.runId = args[0];
    if (!runLevel)
        action.stepId = args[1];
    action.reason = context.value(QStringLiteral("reason"));
    if (context.isSet(QStringLiteral("comment")))
        action.reason = context.value(QStringLiteral("comment"));
    action.actor = context.value(QStringLiteral("actor"));
    auto output = jsonOption(context, QStringLiteral("output"));
    if (!output)
        return fail(output.error());
    action.output = *output;
    if (command == QLatin1String("retry")) {
        action.kind =
            context.isSet(QStringLiteral("failed-items")) ? K::RetryFailedItems : K::Retry;
    } else if (command == QLatin1String("skip")) {
        action.kind = K::Skip;
    } else if (command == QLatin1String("mark-succeeded")) {
        if (action.output.isUndefined())
            return fail(QStringLiteral(
                "mark-succeeded needs --output JSON (the output downstream receives)"));
        action.kind = K::MarkSucceeded;
    } else if (command == QLatin1String("resolve")) {
        const bool happened = context.isSet(QStringLiteral("happened"));
        const bool notHappened = context.isSet(QStringLiteral("not-happened"));
        if (happened == notHappened)
            return fail(
                QStringLiteral("resolve needs exactly one of --happened and --not-happened"));
        action.kind = happened ? K::ResolveHappened : K::ResolveNotHappened;
    } else if (command == QLatin1String("approve")) {
        action.kind = K::Approve;
    } else if (command == QLatin1String("reject")) {
        action.kind = K::Reject;
    } else if (command == QLatin1String("set-input")) {
        const QJsonDocument input = QJsonDocument::fromJson(args[2].toUtf8());
        if (!input.isObject())
            return fail(QStringLiteral("set-input needs the step's new `with` as a JSON object"));
        action.kind = K::SetInput;
        action.input = input.object();
    } else if (command == QLatin1String("rerun-from")) {
        action.kind = K::RerunFrom;
    } else if (command == QLatin1String("pause")) {
        action.kind = runLevel ? K::PauseRun : K::PauseStep;
    } else if (command == QLatin1String("unpause")) {
        action.kind = runLevel ? K::UnpauseRun : K::UnpauseStep;
    } else {
        action.kind = K::CancelRun;
    }
    auto api = openApi(context);
    if (!api)
        return fail(api.error());
    // Applied here, or by the live worker that executes the run (waiting for its answer).
    auto outcome = (*api)->act(action, OperatorApi::HandOver::Wait);
    if (!outcome)
        return fail(outcome.error());
    if (!outcome->warning.isEmpty())
        printErr(QStringLiteral("keepflowctl: %1\n").arg(outcome->warning));
    const QString done = outcome->message;
    auto run = (*api)->run(action.runId);
    const QString state = run ? stateName(run->state) : QString();
    if (context.json) {
        printJson(QJsonObject{{QStringLiteral("run"), action.runId},
                              {QStringLiteral("result"), done},
                              {QStringLiteral("state"), state}});
    } else {
        printOut(done + QLatin1Char('\n'));
        if (run && run->state == RunState::Running && outcome->requestId == 0)
            printOut(QStringLiteral(
                         "run %1 is running again: `keepflowctl resume %1` continues it here, or a "
                         "worker takes it\n")
                         .arg(action.runId));
    }
    return Ok;
}

/// set-policy: a step's retry policy, timeout or deadline on a run under way, from its next
/// attempt on; the engine's preview of what that means says what changed.
int commandSetPolicy(const Context &context) {
    if (context.args.size() != 2)
        return fail(QStringLiteral("set-policy needs RUN STEP"));
    QJsonObject change;
    // Values go to the engine as written: it checks them and names the field that is wrong.
    if (context.isSet(QStringLiteral("max-attempts"))) {
        bool ok = false;
        const int n = context.value(QStringLiteral("max-attempts")).toInt(&ok);
        if (!ok)
            return fail(QStringLiteral("--max-attempts: \"%1\" is not a whole number")
                            .arg(context.value(QStringLiteral("max-attempts"))));
        change.insert(QStringLiteral("max_attempts"), n);
    }
    if (context.isSet(QStringLiteral("backoff"))) {
        bool ok = false;
        const double x = context.value(QStringLiteral("backoff")).toDouble(&ok);
        if (!ok)
            return fail(QStringLiteral("--backoff: \"%1\" is not a number")
                            .arg(context.value(QStringLiteral("backoff"))));
        change.insert(QStringLiteral("backoff"), x);
    }
    for (const char *option : {"initial-interval", "max-interval", "timeout", "deadline"}) {
        const QString name = QLatin1String(option);
        if (context.isSet(name))
            change.insert(QString(name).replace(QLatin1Char('-'), QLatin1Char('_')),
                          context.value(name));
    }
    if (context.isSet(QStringLiteral("non-retryable"))) {
        QJsonArray list;
        for (const QString &entry : context.value(QStringLiteral("non-retryable"))
                                        .split(QLatin1Char(','), Qt::SkipEmptyParts))
            list.append(entry.trimmed());
        change.insert(QStringLiteral("non_retryable"), list);
    }
    if (change.isEmpty())
        return fail(QStringLiteral("set-policy needs at least one of --max-attempts, "
                                   "--initial-interval, --backoff, --max-interval, "
                                   "--non-retryable, --timeout, --deadline"));
    OperatorAction action;
    action.kind = OperatorAction::Kind::SetPolicy;
    action.runId = context.args[0];
    action.stepId = context.args[1];
    action.policy = change;
    action.reason = context.value(QStringLiteral("reason"));
    action.actor = context.value(QStringLiteral("actor"));
    const bool dryRun = context.isSet(QStringLiteral("dry-run"));
    auto api = openApi(context, dryRun ? Access::Read : Access::Write);
    if (!api)
        return fail(api.error());
    auto preview = (*api)->previewPolicy(action.runId, action.stepId, change);
    if (!preview)
        return fail(preview.error());
    QString result = QStringLiteral("step %1: %2").arg(action.stepId, preview->text());
    if (!dryRun) {
        auto outcome = (*api)->act(action, OperatorApi::HandOver::Wait);
        if (!outcome)
            return fail(outcome.error());
        if (!outcome->warning.isEmpty())
            printErr(QStringLiteral("keepflowctl: %1\n").arg(outcome->warning));
        result = outcome->message;
    }
    if (context.json) {
        printJson(QJsonObject{{QStringLiteral("run"), action.runId},
                              {QStringLiteral("step"), action.stepId},
                              {QStringLiteral("dry_run"), dryRun},
                              {QStringLiteral("result"), result},
                              {QStringLiteral("before"), preview->before.toJson()},
                              {QStringLiteral("after"), preview->after.toJson()}});
    } else {
        printOut((dryRun ? QStringLiteral("would change ") : QString()) + result +
                 QLatin1Char('\n'));
    }
    return Ok;
}

/// The plan in text: one line per kind of change, then the refusals.
QString upgradePlanText(const UpgradeOutcome &outcome) {
    const UpgradePlan &plan = outcome.plan;
    const auto ids = [](const QStringList &list) {
        return list.isEmpty() ? QStringLiteral("-") : list.join(QStringLiteral(", "));
    };
    QString text;
    text += QStringLiteral("keep:    %1\n").arg(ids(plan.keep));
    if (!plan.keptChanged.isEmpty())
        text += QStringLiteral("         (succeeded before their definition changed, not run "
                               "again: %1)\n")
                    .arg(plan.keptChanged.join(QStringLiteral(", ")));
    text += QStringLiteral("replace: %1\n").arg(ids(plan.replace));
    text += QStringLiteral("add:     %1\n").arg(ids(plan.add));
    text += QStringLiteral("remove:  %1\n").arg(ids(plan.remove));
    for (const UpgradeRefusal &refusal : plan.refusals)
        text += refusal.step.isEmpty()
                    ? QStringLiteral("refused: %1\n").arg(refusal.reason)
                    : QStringLiteral("refused: step %1: %2\n").arg(refusal.step, refusal.reason);
    return text;
}

/// upgrade RUN FILE: the plan for moving the run to the file's version of its flow, applied
/// unless --dry-run; exit 1 when anything refuses it (then nothing is changed).
int commandUpgrade(const Context &context) {
    if (context.args.size() != 2)
        return fail(QStringLiteral("upgrade needs RUN FILE"));
    const QString runId = context.args[0];
    const QString file = context.args[1];
    const FlowLoad load = loadFlowFile(file);
    if (!load.ok()) {
        for (const Diagnostic &diagnostic : load.diagnostics)
            printErr(diagnostic.toString() + QLatin1Char('\n'));
        return fail(
            QStringLiteral("%1 is not a valid flow; run %2 was not changed").arg(file, runId));
    }
    const bool dryRun = context.isSet(QStringLiteral("dry-run"));
    auto api = openApi(context, dryRun ? Access::Read : Access::Write);
    if (!api)
        return fail(api.error());
    auto outcome = dryRun ? (*api)->planUpgrade(runId, *load.flow)
                          : (*api)->upgrade(runId, *load.flow, QFileInfo(file).absoluteFilePath(),
                                            context.value(QStringLiteral("reason")),
                                            context.value(QStringLiteral("actor")),
                                            OperatorApi::HandOver::Wait);
    if (!outcome)
        return fail(outcome.error());
    const bool refused = outcome->plan.refused();
    if (context.json) {
        QJsonObject json = upgradePlanJson(outcome->plan);
        if (!dryRun) {
            auto run = (*api)->run(runId);
            json.insert(QStringLiteral("applied"), outcome->applied);
            json.insert(QStringLiteral("result"), outcome->action.message);
            json.insert(QStringLiteral("state"), run ? stateName(run->state) : QString());
        }
        printJson(json);
    } else {
        printOut(QStringLiteral("run %1 of %2 v%3 to %4%5:\n")
                     .arg(runId, outcome->flowName)
                     .arg(outcome->fromVersion)
                     .arg(file, dryRun ? QStringLiteral(" (dry run)") : QString()));
        printOut(upgradePlanText(*outcome));
        if (!dryRun && outcome->applied)
            printOut(outcome->action.message + QLatin1Char('\n'));
    }
    if (!outcome->action.warning.isEmpty())
        printErr(QStringLiteral("keepflowctl: %1\n").arg(outcome->action.warning));
    if (refused) {
        printErr(QStringLiteral("keepflowctl: run %1 cannot move to %2: %3 refusal(s); nothing "
                                "was changed\n")
                     .arg(runId, file)
                     .arg(outcome->plan.refusals.size()));
        return UsageOrError;
    }
    return Ok;
}

int commandResources(const Context &context) {
    if (!context.args.isEmpty())
        return fail(QStringLiteral("resources takes no arguments"));
    auto api = openApi(context, Access::Read);
    if (!api)
        return fail(api.error());
    auto rows = (*api)->resources();
    if (!rows)
        return fail(rows.error());
    auto load = (*api)->resourceLoad();
    if (!load)
        return fail(load.error());
    const QJsonArray list = resourcesJson(*rows, *load);
    if (context.json) {
        printJson(list);
        return Ok;
    }
    printOut(QStringLiteral("%1 %2 %3 %4 %5\n")
                 .arg(QStringLiteral("RESOURCE").leftJustified(20),
                      QStringLiteral("STATE").leftJustified(10),
                      QStringLiteral("QUEUED").leftJustified(7),
                      QStringLiteral("IN FLIGHT").leftJustified(10),
                      QStringLiteral("FAILURE RATE")));
    for (const QJsonValue &value : list) {
        const QJsonObject r = value.toObject();
        printOut(
            QStringLiteral("%1 %2 %3 %4 %5\n")
                .arg(r.value(QLatin1String("name")).toString().leftJustified(20),
                     r.value(QLatin1String("state")).toString().leftJustified(10),
                     QString::number(r.value(QLatin1String("queued")).toInt()).leftJustified(7),
                     QString::number(r.value(QLatin1String("in_flight")).toInt()).leftJustified(10),
                     QString::number(r.value(QLatin1String("failure_rate")).toDouble(), 'f', 2)));
    }
    return Ok;
}

/// resource set NAME: concurrency and rate live, for every run and worker on the database.
int resourceSet(const Context &context, const QString &name) {
    std::optional<int> concurrency;
    if (context.isSet(QStringLiteral("concurrency"))) {
        bool ok = false;
        concurrency = context.value(QStringLiteral("concurrency")).toInt(&ok);
        if (!ok)
            return fail(QStringLiteral("--concurrency: \"%1\" is not a whole number")
                            .arg(context.value(QStringLiteral("concurrency"))));
    }
    const QString rate = context.value(QStringLiteral("rate"));
    if (context.isSet(QStringLiteral("rate")) && rate.isEmpty())
        return fail(QStringLiteral("--rate needs N/DURATION, e.g. 10/1s"));
    const bool dryRun = context.isSet(QStringLiteral("dry-run"));
    auto api = openApi(context, dryRun ? Access::Read : Access::Write);
    if (!api)
        return fail(api.error());
    auto result = dryRun ? (*api)->previewResourceLimits(name, concurrency, rate)
                         : (*api)->setResourceLimits(name, concurrency, rate,
                                                     context.value(QStringLiteral("reason")),
                                                     context.value(QStringLiteral("actor")));
    if (!result)
        return fail(result.error());
    auto rows = (*api)->resources();
    if (!rows)
        return fail(rows.error());
    if (context.json) {
        QJsonObject limits;
        for (const ResourceRow &row : *rows) {
            if (row.name == name)
                limits = QJsonObject{{QStringLiteral("concurrency"), effectiveConcurrencyText(row)},
                                     {QStringLiteral("rate"), effectiveRateText(row)}};
        }
        printJson(QJsonObject{{QStringLiteral("resource"), name},
                              {QStringLiteral("dry_run"), dryRun},
                              {QStringLiteral("result"), *result},
                              {QStringLiteral("limits"), limits}});
    } else {
        printOut(dryRun ? QStringLiteral("would change %1: %2\n").arg(name, *result)
                        : *result + QLatin1Char('\n'));
    }
    return Ok;
}

int commandResource(const Context &context) {
    const bool set = !context.args.isEmpty() && context.args[0] == QLatin1String("set");
    if (context.args.size() != 2)
        return fail(QStringLiteral("usage: keepflowctl resource (pause|unpause|reset) NAME  |  "
                                   "keepflowctl resource set NAME [--concurrency N] "
                                   "[--rate N/DURATION]"));
    const QString action = context.args[0];
    const QString name = context.args[1];
    if (set)
        return resourceSet(context, name);
    for (const char *option : {"concurrency", "rate", "dry-run"}) {
        if (context.isSet(QLatin1String(option)))
            return fail(
                QStringLiteral("--%1 goes with `resource set NAME`").arg(QLatin1String(option)));
    }
    std::optional<bool> paused;
    bool reset = false;
    if (action == QLatin1String("pause"))
        paused = true;
    else if (action == QLatin1String("unpause"))
        paused = false;
    else if (action == QLatin1String("reset"))
        reset = true;
    else
        return fail(QStringLiteral("unknown resource action \"%1\" (pause, unpause, reset, set)")
                        .arg(action));
    auto api = openApi(context);
    if (!api)
        return fail(api.error());
    if (Status s = (*api)->changeResource(name, paused, reset); !s)
        return fail(s.message());
    printOut(QStringLiteral("%1: %2\n")
                 .arg(name, reset     ? QStringLiteral("breaker reset to closed")
                            : *paused ? QStringLiteral("paused; its work waits in its queue")
                                      : QStringLiteral("unpaused")));
    return Ok;
}

int commandCheck(const Context &context) {
    if (!context.args.isEmpty())
        return fail(QStringLiteral("check takes no arguments"));
    auto options = storeOptions(context, Access::Read);
    if (!options)
        return fail(options.error());
    const DatabaseCheck report =
        checkDatabaseFile(context.dbPath, DatabaseCheck::Depth::Full, *options);
    if (context.json)
        printJson(report.toJson());
    else
        printOut(report.toText());
    return report.ok() ? Ok : UsageOrError;
}

// --- the command table: each command's synopsis and options, for parsing and for its help ---

/// One option of a command. value: the name of its value ("JSON"), nullptr for a flag.
struct OptionSpec {
    const char *name;
    const char *value;
    const char *help; ///< one line
};

/// One command. synopsis: its arguments as in the overview (options included where they are
/// part of its shape); summary: what it does, for the overview and its --help, lines broken
/// with "\n"; options: every option it takes besides the global ones.
struct CommandSpec {
    const char *name;
    const char *synopsis;
    const char *summary;
    QList<OptionSpec> options;
    int (*handler)(const Context &);
};

// Options several commands share.
const OptionSpec kJson{"json", nullptr, "machine-readable output (JSON) on stdout"};
const OptionSpec kParam{"param", "NAME=VALUE",
                        "a run parameter (repeatable); VALUE is JSON when the default is not a "
                        "string"};
const OptionSpec kReason{"reason", "TEXT", "why, recorded in the event log"};
const OptionSpec kActor{"actor", "NAME", "who acts (default: the OS user)"};
const OptionSpec kOutput{"output", "JSON", "the output downstream receives"};
const OptionSpec kComment{"comment", "TEXT", "a comment, recorded as the reason"};

/// The filter options (list, failures, retry-failed) followed by the command's own.
QList<OptionSpec> filterOptions(const QList<OptionSpec> &own) {
    QList<OptionSpec> options{
        {"flow", "NAME", "runs of this flow"},
        {"state", "STATE", "runs in this state"},
        {"step", "ID", "runs with this step (with the step conditions below: that step)"},
        {"step-state", "STATE", "runs having a step in this state (retrying: stuck retrying)"},
        {"error", "TEXT", "runs with a step whose last error contains TEXT"},
        {"resource", "NAME", "runs with a step that calls this resource"},
        {"since", "TIME", "runs under way since TIME (ISO 8601, or ago: 90s, 15m, 2h, 3d)"},
        {"until", "TIME", "runs under way until TIME"},
    };
    return options + own;
}

/// Options every command takes: the database, and help.
const QList<OptionSpec> &globalOptions() {
    static const QList<OptionSpec> options{
        {"db", "PATH|URL", "the database file, or a postgresql:// URL (default: $KEEPFLOW_DB)"},
        {"read-only", nullptr, "open the database for reading only"},
        {"help", nullptr, "this help"},
        {"version", nullptr, "print the version"},
    };
    return options;
}

const QList<CommandSpec> &commandTable() {
    static const QList<CommandSpec> table{
        {"validate",
         "FILE...",
         "check flow files; problems as FILE:LINE:COLUMN: error: MESSAGE",
         {kJson},
         commandValidate},
        {"run",
         "FILE [--param NAME=VALUE]... [--detach]",
         "start a run; in the foreground with live progress",
         {
             kParam,
             {"detach", nullptr, "return at once with the run's id; a background process runs it"},
             kJson,
         },
         commandRun},
        {"submit",
         "FILE [--param NAME=VALUE]...",
         "create a run for the workers; print its id, run nothing",
         {kParam, kJson},
         commandSubmit},
        {"resume",
         "[RUN]",
         "continue interrupted runs (or RUN) in the foreground",
         {kJson},
         commandResume},
        {"worker",
         "[--lease SECONDS] [--log-format text|json] [--log-level LEVEL]",
         "run everything in the database until SIGTERM; holds\neach run for SECONDS (30) between "
         "renewals; logs one line per event on stderr",
         {
             {"lease", "SECONDS", "how long a run is held between renewals, 1 to 86400 (30)"},
             {"log-format", "FORMAT", "text (default) or json: one JSON object per line"},
             {"log-level", "LEVEL",
              "the least level logged: debug, info (default), warning, error"},
         },
         commandWorker},
        {"workers",
         "",
         "workers sharing the database: heartbeat, runs held",
         {kJson},
         commandWorkers},
        {"list", "[FILTER...]", "runs, newest first", filterOptions({kJson}), commandList},
        {"failures", "[FILTER...]",
         "failed, uncertain and partially succeeded steps across runs,\ngrouped by flow, step, "
         "error class and signature; biggest first",
         filterOptions({kJson}), commandFailures},
        {"retry-failed", "[FILTER...] [--failed-items] [--dry-run]",
         "retry the failed steps of every run the filter selects\n(--dry-run: say what it would "
         "do); exit 1 when a run is refused",
         filterOptions({{"failed-items", nullptr, "only the failed items of foreach steps"},
                        {"dry-run", nullptr, "list the runs and steps, change nothing"},
                        kReason,
                        kActor,
                        kJson}),
         commandRetryFailed},
        {"alerts",
         "[list | add KIND [KEY=VALUE]... [-- COMMAND ARG...] | remove ID]",
         "alert rules: list them, add one, remove one; KIND is run_failed,\n"
         "completed_with_failures, waiting_for_operator, breaker_opened,\n"
         "step_slow [factor=X] or failure_burst count=N window=D;\n"
         "flow=NAME, step=ID, resource=NAME narrow it; a worker gives the\n"
         "alert as JSON on stdin to COMMAND",
         {kActor, kJson},
         commandAlerts},
        {"status",
         "RUN [--at TIME|EVENT_ID]",
         "a run and its steps (--at: as they were after that event,\nor at that time)",
         {{"at", "TIME|EVENT_ID", "the run as it was then: ISO 8601 (or ago: 15m), or an event id"},
          kJson},
         commandStatus},
        {"diff",
         "RUN [OTHER]",
         "what differs between a run and OTHER (default: the last\nsucceeded run of its flow "
         "before it)",
         {kJson},
         commandDiff},
        {"events", "RUN", "a run's events, oldest first", {kJson}, commandEvents},
        {"logs",
         "RUN STEP [--attempt N] [--item KEY]",
         "what an attempt printed: its stdout, then its stderr\n(the latest attempt unless N; the "
         "last 64 KiB of each)",
         {{"attempt", "N", "which attempt (default: the latest)"},
          {"item", "KEY", "an item of a foreach step"},
          kJson},
         commandLogs},
        {"retry",
         "RUN STEP [--failed-items]",
         "run a failed step again (or only its failed items)",
         {{"failed-items", nullptr, "only the failed items of a foreach step"},
          kReason,
          kActor,
          kJson},
         commandAction},
        {"skip",
         "RUN STEP [--output JSON]",
         "skip a step; downstream goes on with the output",
         {kOutput, kReason, kActor, kJson},
         commandAction},
        {"mark-succeeded",
         "RUN STEP --output JSON",
         "record a step as succeeded with the output given",
         {kOutput, kReason, kActor, kJson},
         commandAction},
        {"resolve",
         "RUN STEP (--happened [--output JSON] | --not-happened)",
         "decide an uncertain step: it took effect, or it did not",
         {{"happened", nullptr, "it took effect: the step succeeds (with --output)"},
          {"not-happened", nullptr, "it did not: it runs again with the same idempotency key"},
          kOutput,
          kReason,
          kActor,
          kJson},
         commandAction},
        {"approve",
         "RUN STEP [--comment TEXT]",
         "approve a step waiting for approval",
         {kComment, kReason, kActor, kJson},
         commandAction},
        {"reject",
         "RUN STEP [--comment TEXT]",
         "reject it: the step fails",
         {kComment, kReason, kActor, kJson},
         commandAction},
        {"set-input",
         "RUN STEP JSON",
         "replace the step's input, then retry it",
         {kReason, kActor, kJson},
         commandAction},
        {"rerun-from",
         "RUN STEP",
         "the step and everything downstream, with new keys",
         {kReason, kActor, kJson},
         commandAction},
        {"pause",
         "RUN [STEP]",
         "hold a run (or a step that has not started)",
         {kReason, kActor, kJson},
         commandAction},
        {"unpause",
         "RUN [STEP]",
         "release a held run or step",
         {kReason, kActor, kJson},
         commandAction},
        {"cancel", "RUN", "cancel a run", {kReason, kActor, kJson}, commandAction},
        {"set-policy",
         "RUN STEP [--max-attempts N] [--initial-interval D] [--backoff X] [--max-interval D] "
         "[--timeout D] [--deadline D]",
         "change a step's retry policy, timeout or deadline on a run\nunder way, from its next "
         "attempt on; says what that means now\n(attempt 3/5 instead of 3/3; next attempt in "
         "20 s instead of 80 s)",
         {{"max-attempts", "N", "attempts in all, at least 1"},
          {"initial-interval", "D", "wait after the first failure (20s, 5m)"},
          {"backoff", "X", "each wait is the previous one times X (at least 1)"},
          {"max-interval", "D", "the longest wait"},
          {"non-retryable", "LIST", "error classes or HTTP statuses not retried (a,b)"},
          {"timeout", "D", "per attempt; the attempt in flight keeps its own"},
          {"deadline", "D", "the whole step, from its first attempt"},
          {"dry-run", nullptr, "say what it would change, change nothing"},
          kReason,
          kActor,
          kJson},
         commandSetPolicy},
        {"upgrade",
         "RUN FILE [--dry-run]",
         "move a run to FILE's version of its flow, keeping what\nsucceeded; exit 1 when the "
         "plan has refusals",
         {{"dry-run", nullptr, "show the plan (keep, replace, add, remove), change nothing"},
          kReason,
          kActor,
          kJson},
         commandUpgrade},
        {"resources",
         "",
         "external dependencies: breaker, queue, in flight",
         {kJson},
         commandResources},
        {"resource",
         "(pause|unpause|reset) NAME | set NAME [--concurrency N] [--rate N/DURATION]",
         "hold or release a resource's work; close its breaker;\nset its concurrency or rate "
         "live for every run and worker",
         {{"concurrency", "N", "calls in flight at once, at least 1 (set)"},
          {"rate", "N/DURATION", "N calls per DURATION, e.g. 10/1s (set)"},
          {"dry-run", nullptr, "say what set would change, change nothing"},
          kReason,
          kActor,
          kJson},
         commandResource},
        {"check",
         "",
         "SQLite's integrity check, the schema version and the\nengine's invariants; exit 1 "
         "naming what is wrong",
         {kJson},
         commandCheck},
    };
    return table;
}

const CommandSpec *findCommand(const QString &name) {
    for (const CommandSpec &spec : commandTable()) {
        if (name == QLatin1String(spec.name))
            return &spec;
    }
    return nullptr;
}

QCommandLineOption toOption(const OptionSpec &spec) {
    QStringList names{QString::fromLatin1(spec.name)};
    if (names.first() == QLatin1String("help"))
        names.prepend(QStringLiteral("h"));
    return spec.value ? QCommandLineOption(names, QString::fromLatin1(spec.help),
                                           QString::fromLatin1(spec.value))
                      : QCommandLineOption(names, QString::fromLatin1(spec.help));
}

/// "--param NAME=VALUE", "-h, --help".
QString optionText(const OptionSpec &spec) {
    QString text = QStringLiteral("--") + QLatin1String(spec.name);
    if (text == QLatin1String("--help"))
        text.prepend(QStringLiteral("-h, "));
    if (spec.value)
        text += QLatin1Char(' ') + QLatin1String(spec.value);
    return text;
}

/// Lines of text in two columns: left, then right from column (on the next line when left does
/// not leave two spaces); right's own lines indented to that column.
QString twoColumns(const QString &left, const QString &right, int column) {
    const QString indent(column, QLatin1Char(' '));
    QString out = QStringLiteral("  ") + left;
    out += out.size() + 2 <= column ? QString(column - out.size(), QLatin1Char(' '))
                                    : QLatin1Char('\n') + indent;
    return out + QString(right).replace(QLatin1Char('\n'), QLatin1Char('\n') + indent) +
           QLatin1Char('\n');
}

constexpr int kCommandColumn = 40; ///< where the overview's summaries start
constexpr int kOptionColumn = 22;  ///< where a command's option descriptions start

QString commandLine(const CommandSpec &spec) {
    QString line = QLatin1String(spec.name);
    if (*spec.synopsis)
        line += QLatin1Char(' ') + QLatin1String(spec.synopsis);
    return line;
}

/// `keepflowctl --help`: every command, then the database, the environment and the exit codes.
QString overview() {
    QString text = QStringLiteral("usage: keepflowctl COMMAND [ARGS] [--db PATH|URL] [--json]\n"
                                  "       keepflowctl COMMAND --help\n\ncommands:\n");
    for (const CommandSpec &spec : commandTable())
        text += twoColumns(commandLine(spec), QLatin1String(spec.summary), kCommandColumn);
    return text + QLatin1Char('\n') + QLatin1String(kOverviewTail);
}

/// `keepflowctl COMMAND --help`: its synopsis, what it does and each option it takes.
QString commandHelp(const CommandSpec &spec) {
    QString text = QStringLiteral("usage: keepflowctl %1\n\n").arg(commandLine(spec));
    QString summary =
        QString::fromLatin1(spec.summary).replace(QLatin1Char('\n'), QLatin1Char(' '));
    summary[0] = summary[0].toUpper();
    text += summary + QStringLiteral(".\n");
    if (!spec.options.isEmpty()) {
        text += QStringLiteral("\noptions:\n");
        for (const OptionSpec &option : spec.options)
            text += twoColumns(optionText(option), QLatin1String(option.help), kOptionColumn);
    }
    text += QStringLiteral("\nglobal options:\n");
    for (const OptionSpec &option : globalOptions())
        text += twoColumns(optionText(option), QLatin1String(option.help), kOptionColumn);
    return text;
}

/// A parser that knows options: a command's with the global ones, or every command's (to find
/// the command among the arguments; names mean the same everywhere).
void addOptions(QCommandLineParser &parser, const QList<OptionSpec> &options,
                QSet<QString> &added) {
    for (const OptionSpec &option : options) {
        if (!added.contains(QLatin1String(option.name))) {
            added.insert(QLatin1String(option.name));
            parser.addOption(toOption(option));
        }
    }
}

} // namespace

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keepflowctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEEPFLOW_VERSION));
    const QStringList arguments = QCoreApplication::arguments();

    // First with every option of every command, to find the command.
    QCommandLineParser any;
    any.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    QSet<QString> added;
    addOptions(any, globalOptions(), added);
    for (const CommandSpec &spec : commandTable())
        addOptions(any, spec.options, added);
    if (!any.parse(arguments))
        return fail(any.errorText() + QStringLiteral("\n") + overview());
    if (any.isSet(QStringLiteral("version"))) {
        printOut(QStringLiteral("keepflowctl %1\n").arg(QStringLiteral(KEEPFLOW_VERSION)));
        return Ok;
    }
    QStringList positional = any.positionalArguments();
    if (positional.isEmpty()) {
        const bool help = any.isSet(QStringLiteral("help"));
        (help ? printOut : printErr)(overview());
        return help ? Ok : UsageOrError;
    }
    const QString command = positional.first();
    const CommandSpec *spec = findCommand(command);
    if (!spec)
        return fail(QStringLiteral("unknown command \"%1\"\n%2").arg(command, overview()));

    // Then with the command's own options: another command's is a mistake.
    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    added.clear();
    addOptions(parser, globalOptions(), added);
    addOptions(parser, spec->options, added);
    if (!parser.parse(arguments))
        return fail(
            QStringLiteral("%1: %2\n%3").arg(command, parser.errorText(), commandHelp(*spec)));
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(commandHelp(*spec));
        return Ok;
    }
    positional = parser.positionalArguments();
    positional.removeFirst();
    Context context{parser, command, added, positional, false, defaultDatabasePath()};
    context.json = context.isSet(QStringLiteral("json"));
    if (context.isSet(QStringLiteral("db")))
        context.dbPath = context.value(QStringLiteral("db"));
    return spec->handler(context);
}
