#include "steps/shellstep.h"

#include "steps/capturedstream.h"

#include "model/template.h"

#include "core/messagetext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QProcess>

#include <csignal>
#include <unistd.h>

namespace keepflow {

namespace {

class ShellExecution final : public Execution {
public:
    ShellExecution(const AttemptRequest &request, CompletionCallback done)
        : m_done(std::move(done))
        , m_process(new QProcess) {
        const QJsonObject &in = request.input;
        const QJsonArray argv = in.value(QLatin1String("argv")).toArray();
        m_jsonOutput = in.value(QLatin1String("output")).toString() == QLatin1String("json");
        for (const QJsonValue &code : in.value(QLatin1String("permanent_exit_codes")).toArray())
            m_permanentCodes.append(code.toInt());

        QStringList arguments;
        for (const QJsonValue &argument : argv)
            arguments << templateText(argument);
        if (arguments.isEmpty()) {
            finish(AttemptResult::failure(ErrorClass::Permanent, QStringLiteral("argv is empty")));
            return;
        }
        if (in.value(QLatin1String("shell")).toBool(false)) {
            // The script is fixed text; values reach it only as positional parameters.
            const QString script = arguments.takeFirst();
            arguments =
                QStringList{QStringLiteral("-c"), script, QStringLiteral("keepflow")} + arguments;
            m_program = QStringLiteral("/bin/sh");
        } else {
            m_program = arguments.takeFirst();
        }

        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        // A command gets only the secrets its `env` names, not every one the engine can read.
        for (const QString &name : environment.keys()) {
            if (name.startsWith(QLatin1String("KEEPFLOW_SECRET")))
                environment.remove(name);
        }
        const QJsonObject env = in.value(QLatin1String("env")).toObject();
        for (auto it = env.begin(); it != env.end(); ++it)
            environment.insert(it.key(), templateText(it.value()));
        environment.insert(QStringLiteral("KEEPFLOW_RUN_ID"), request.runId);
        environment.insert(QStringLiteral("KEEPFLOW_STEP_ID"), request.stepId);
        environment.insert(QStringLiteral("KEEPFLOW_ATTEMPT"), QString::number(request.attempt));
        environment.insert(QStringLiteral("KEEPFLOW_IDEMPOTENCY_KEY"), request.idempotencyKey);
        if (!request.itemKey.isEmpty())
            environment.insert(QStringLiteral("KEEPFLOW_ITEM_KEY"), request.itemKey);
        m_process->setProcessEnvironment(environment);
        const QString cwd = in.value(QLatin1String("cwd")).toString();
        if (!cwd.isEmpty())
            m_process->setWorkingDirectory(cwd);
        m_process->setProgram(m_program);
        m_process->setArguments(arguments);
        // Its own session and process group, so that a timeout can kill the whole tree.
        m_process->setChildProcessModifier([] { ::setsid(); });

        QObject::connect(m_process, &QProcess::readyReadStandardOutput, m_process,
                         [this] { m_stdout.append(m_process->readAllStandardOutput()); });
        QObject::connect(m_process, &QProcess::readyReadStandardError, m_process,
                         [this] { m_stderr.append(m_process->readAllStandardError()); });
        QObject::connect(
            m_process, &QProcess::finished, m_process,
            [this](int exitCode, QProcess::ExitStatus status) { onFinished(exitCode, status); });
        QObject::connect(m_process, &QProcess::errorOccurred, m_process,
                         [this](QProcess::ProcessError error) {
                             if (error == QProcess::FailedToStart)
                                 finish(AttemptResult::failure(ErrorClass::Permanent,
                                                               QStringLiteral("cannot start %1: %2")
                                                                   .arg(quotedForMessage(m_program),
                                                                        m_process->errorString())));
                         });
        m_process->start();
    }

    ~ShellExecution() override { cancel(); }

    void cancel() override {
        m_done = nullptr;
        if (!m_process)
            return;
        QProcess *process = m_process;
        m_process = nullptr;
        process->disconnect();
        const qint64 pid = process->processId();
        if (pid > 0)
            ::kill(-static_cast<pid_t>(pid), SIGKILL); // the whole process group
        process->kill();
        process->waitForFinished(2000);
        process->deleteLater();
    }

    CapturedOutput capturedSoFar() override {
        // What is still in the pipes too: the last lines before a hang say most. (Reading may
        // find that the process just ended: then finish() ran and m_process is gone.)
        for (const auto channel : {QProcess::StandardOutput, QProcess::StandardError}) {
            if (m_process)
                m_process->setReadChannel(channel);
            while (m_process && m_process->waitForReadyRead(0)) {
            }
        }
        if (m_process) {
            m_stdout.append(m_process->readAllStandardOutput());
            m_stderr.append(m_process->readAllStandardError());
        }
        return captured();
    }

private:
    CapturedOutput captured() const {
        return CapturedOutput{m_stdout.tailText(), m_stderr.tailText(), m_stdout.total(),
                              m_stderr.total()};
    }

    void onFinished(int exitCode, QProcess::ExitStatus status) {
        m_stdout.append(m_process->readAllStandardOutput());
        m_stderr.append(m_process->readAllStandardError());
        const QString stderrText = QString::fromUtf8(m_stderr.head());
        if (status == QProcess::CrashExit) {
            finish(AttemptResult::failure(
                ErrorClass::Transient,
                QStringLiteral("%1 was killed by a signal").arg(quotedForMessage(m_program))));
            return;
        }
        if (exitCode != 0) {
            const ErrorClass errorClass =
                m_permanentCodes.contains(exitCode) ? ErrorClass::Permanent : ErrorClass::Transient;
            QString why = QStringLiteral("%1 exited with code %2")
                              .arg(quotedForMessage(m_program))
                              .arg(exitCode);
            // The error is printed on operators' terminals: a step's stderr must not move their
            // cursor, colour their screen or forge log lines there (the output keeps it as it is).
            const QString tail = m_stderr.tailText().trimmed().right(300);
            if (!tail.isEmpty())
                why += QStringLiteral(": ") + escapeControlCharacters(tail, 300);
            AttemptResult result = AttemptResult::failure(errorClass, why);
            result.errorDetail = QString::number(exitCode);
            finish(std::move(result));
            return;
        }
        if (m_jsonOutput) {
            QJsonParseError error{};
            // Wrapping accepts any JSON value (not only objects and arrays) on stdout.
            const QJsonDocument document =
                QJsonDocument::fromJson("[" + m_stdout.head() + "]", &error);
            if (error.error != QJsonParseError::NoError || m_stdout.headCut() ||
                !document.isArray() || document.array().size() != 1) {
                finish(AttemptResult::failure(
                    ErrorClass::Garbage,
                    QStringLiteral("%1 printed output that is not one JSON value: %2")
                        .arg(quotedForMessage(m_program),
                             quotedForMessage(QString::fromUtf8(m_stdout.head().left(80))))));
                return;
            }
            finish(AttemptResult::success(document.array().first()));
            return;
        }
        QJsonObject output{{QStringLiteral("exit_code"), exitCode},
                           {QStringLiteral("stdout"), QString::fromUtf8(m_stdout.head())},
                           {QStringLiteral("stderr"), stderrText}};
        if (m_stdout.headCut() || m_stderr.headCut())
            output.insert(QStringLiteral("truncated"), true);
        finish(AttemptResult::success(output));
    }

    void finish(AttemptResult result) {
        result.captured = captured();
        if (m_process) {
            m_process->disconnect();
            m_process->deleteLater();
            m_process = nullptr;
        }
        if (auto done = std::exchange(m_done, nullptr))
            done(std::move(result));
    }

    CompletionCallback m_done;
    QProcess *m_process;
    QString m_program;
    CapturedStream m_stdout;
    CapturedStream m_stderr;
    bool m_jsonOutput = false;
    QList<int> m_permanentCodes;
};

} // namespace

std::unique_ptr<Execution> ShellStep::start(const AttemptRequest &request, StepContext &,
                                            CompletionCallback done) {
    return std::make_unique<ShellExecution>(request, std::move(done));
}

} // namespace keepflow
