// keepflow: the desktop monitor. Argument parsing and wiring only; the behaviour lives in the
// engine (Monitor) and ui (MainWindow) libraries.

#include "api/monitor.h"
#include "core/databaseaddress.h"
#include "demo.h"
#include "editorwindow.h"
#include "keyringsecrets.h"
#include "mainwindow.h"
#include "model/flowfile.h"
#include "screenshots.h"
#include "secretsdialog.h"
#include "theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>
#include <QStyleFactory>
#include <QTimer>

#include <cstdio>

using namespace keepflow;

namespace {

/// --db, else $KEEPFLOW_DB, else the database used last time, else keepflowctl's default.
QString databasePath(const QCommandLineParser &parser) {
    if (parser.isSet(QStringLiteral("db")))
        return parser.value(QStringLiteral("db"));
    const QByteArray fromEnv = qgetenv("KEEPFLOW_DB");
    if (!fromEnv.isEmpty())
        return QString::fromLocal8Bit(fromEnv);
    const QString last = QSettings().value(QStringLiteral("lastDatabase")).toString();
    if (!last.isEmpty() && QFileInfo::exists(last))
        return last;
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/keepflow/keepflow.db");
}

int fail(const QString &message) {
    QMessageBox::critical(nullptr, QStringLiteral("Keepflow"), message);
    return 1;
}

/// Every option of keepflow, declared once: parsed, and listed by --help.
QList<QCommandLineOption> commandLineOptions() {
    return {
        {QStringLiteral("db"), QStringLiteral("Database to open: a file, or a postgresql:// URL."),
         QStringLiteral("PATH")},
        {QStringLiteral("demo"),
         QStringLiteral("Open a fresh demo database with runs that fail, retry, fall back, "
                        "partially succeed and wait for an operator.")},
        {QStringLiteral("param"), QStringLiteral("A parameter of the run of FLOW (repeatable)."),
         QStringLiteral("NAME=VALUE")},
        {QStringLiteral("edit"),
         QStringLiteral("Open FILE in the flow editor (a new flow when it does not exist yet)."),
         QStringLiteral("FILE")},
        {QStringLiteral("screenshots"),
         QStringLiteral("With --demo or --edit: grab the main screens into DIR, then quit."),
         QStringLiteral("DIR")},
        {QStringLiteral("worker"),
         QStringLiteral("Execute runs too, as a worker for the database (the default on a SQLite "
                        "file; on a shared PostgreSQL database the desktop only watches and acts "
                        "unless this is given).")},
        {QStringLiteral("read-only"),
         QStringLiteral("Open the database read-only: a monitor that changes nothing (automatic "
                        "when the file or its folder is not writable).")},
        {{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Print this help.")},
        {QStringLiteral("version"), QStringLiteral("Print the version.")},
    };
}

/// --help: written here rather than by QCommandLineParser, which needs the application object
/// (and so a display) for the program's name.
QString helpText() {
    QString text = QStringLiteral(
        "usage: keepflow [--db PATH] [--param NAME=VALUE]... [FLOW.json]\n"
        "       keepflow --demo | --edit FILE | --read-only [--db PATH]\n\n"
        "Keepflow desktop monitor: runs, live graphs and recovery actions, and the flow "
        "editor.\n\noptions:\n");
    for (const QCommandLineOption &option : commandLineOptions()) {
        QStringList names;
        for (const QString &name : option.names())
            names.append((name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + name);
        QString left = QStringLiteral("  ") + names.join(QStringLiteral(", "));
        if (!option.valueName().isEmpty())
            left += QLatin1Char(' ') + option.valueName();
        // The description from column 26, its words wrapped before column 100.
        constexpr qsizetype kColumn = 26;
        constexpr qsizetype kWidth = 100;
        QString line = left.size() < kColumn
                           ? left.leftJustified(kColumn)
                           : left + QLatin1Char('\n') + QString(kColumn, QLatin1Char(' '));
        qsizetype lineStart = line.lastIndexOf(QLatin1Char('\n')) + 1;
        for (const QString &word : option.description().split(QLatin1Char(' '))) {
            if (line.size() - lineStart > kColumn &&
                line.size() - lineStart + 1 + word.size() > kWidth) {
                line += QLatin1Char('\n') + QString(kColumn, QLatin1Char(' '));
                lineStart = line.size() - kColumn;
            } else if (line.size() - lineStart > kColumn) {
                line += QLatin1Char(' ');
            }
            line += word;
        }
        text += line + QLatin1Char('\n');
    }
    return text + QStringLiteral("\nFLOW.json: a flow file to start a run of. man keepflow is "
                                 "the reference.\n");
}

void printTo(FILE *stream, const QString &text) {
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stream);
}

} // namespace

int main(int argc, char *argv[]) {
    // --help and --version are answered before the application object exists: they need no
    // display. Qt's own options (-platform, -style...) are known only to it: with one of them,
    // the arguments are parsed again once QApplication has taken its own.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    QCommandLineParser parser;
    parser.addOptions(commandLineOptions());
    parser.addPositionalArgument(QStringLiteral("FLOW"),
                                 QStringLiteral("A flow file to start a run of."),
                                 QStringLiteral("[FLOW.json]"));
    // --help or --version: answered, true.
    const auto answered = [&parser] {
        if (parser.isSet(QStringLiteral("help")))
            printTo(stdout, helpText());
        else if (parser.isSet(QStringLiteral("version")))
            printTo(stdout, QStringLiteral("keepflow %1\n").arg(QStringLiteral(KEEPFLOW_VERSION)));
        else
            return false;
        return true;
    };
    const bool parsedEarly = parser.parse(arguments);
    if (parsedEarly && answered())
        return 0;

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("keepflow"));
    QApplication::setApplicationVersion(QStringLiteral(KEEPFLOW_VERSION));
    QApplication::setOrganizationName(QStringLiteral("keepflow"));
    QApplication::setApplicationDisplayName(QStringLiteral("Keepflow"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/io.keepflow.Keepflow.svg")));
    QGuiApplication::setDesktopFileName(QStringLiteral("io.keepflow.Keepflow"));
    // Fusion draws the desktop's palette (light or dark) consistently on every platform theme.
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    ui::applyDesktopTheme(app);
    if (!parsedEarly && !parser.parse(QApplication::arguments())) {
        printTo(stderr, QStringLiteral("keepflow: %1\n\n%2").arg(parser.errorText(), helpText()));
        return 1;
    }
    if (!parsedEarly && answered())
        return 0;

    const bool demo = parser.isSet(QStringLiteral("demo"));
    const QString path = demo ? ui::demoDatabasePath() : databasePath(parser);
    if (demo) {
        if (Status s = ui::resetDemoDatabase(path); !s)
            return fail(s.message());
    }
    // Secrets: the environment, the secrets file, then the keyring's values read before the
    // worker starts (see keyringsecrets.h).
    ui::KeyringSecrets keyring;
    auto secrets = SecretChain::standard();
    secrets->append(keyring.source());
    Monitor::Options options;
    options.secrets = secrets;
    // A database the user cannot write can still be watched; the window says why it is read-only.
    options.store.readOnlyWhenNotWritable = true;
    options.store.readOnly = parser.isSet(QStringLiteral("read-only"));
    // On a shared database the workers execute; the desktop watches and acts (an action on a
    // run no live worker holds is applied by the desktop itself, fenced like a worker's).
    options.execute = !isPostgresUrl(path) || parser.isSet(QStringLiteral("worker"));
    auto monitor = Monitor::open(path, options);
    if (!monitor)
        return fail(monitor.error());
    if (!demo)
        QSettings().setValue(QStringLiteral("lastDatabase"), path);

    if (parser.isSet(QStringLiteral("edit"))) {
        ui::EditorWindow editor(**monitor);
        const QString file = parser.value(QStringLiteral("edit"));
        if (Status s = editor.openFile(file); !s)
            return fail(s.message());
        std::unique_ptr<ui::MainWindow> monitorWindow;
        QObject::connect(&editor, &ui::EditorWindow::monitorRequested, &editor,
                         [&monitorWindow, &monitor](const QString &runId) {
                             if (!monitorWindow)
                                 monitorWindow = std::make_unique<ui::MainWindow>(**monitor);
                             monitorWindow->show();
                             monitorWindow->flushNow();
                             monitorWindow->selectRun(runId);
                             monitorWindow->raise();
                         });
        editor.show();
        keyring.load([&monitor] { (*monitor)->start(); });
        if (parser.isSet(QStringLiteral("screenshots"))) {
            ui::takeEditorScreenshot(
                editor, parser.value(QStringLiteral("screenshots")), [](const Status &status) {
                    if (!status)
                        qCritical("keepflow: %s", qPrintable(status.message()));
                    QApplication::exit(status ? 0 : 1);
                });
        }
        const int code = QApplication::exec();
        (void)(*monitor)->shutdown();
        return code;
    }

    ui::MainWindow window(**monitor);
    QObject::connect(&window, &ui::MainWindow::secretsRequested, &window,
                     [&window, &keyring](const QStringList &names) {
                         ui::SecretsDialog dialog(
                             names, keyring.storedNames(),
                             [&keyring](const QString &name, const QString &value,
                                        std::function<void(Status)> done) {
                                 keyring.store(name, value, std::move(done));
                             },
                             &window);
                         dialog.exec();
                     });
    window.show();
    // The demo's runs need a running worker at once (their flows reference no secrets), and a
    // read-only monitor executes nothing: neither waits for the keyring.
    if (demo || (*monitor)->isReadOnly())
        (*monitor)->start();
    else
        keyring.load([&monitor] { (*monitor)->start(); });

    if (demo) {
        auto runs = ui::startDemoRuns(**monitor);
        if (!runs)
            return fail(runs.error());
        window.flushNow();
        window.selectRun(runs->first());
        if (parser.isSet(QStringLiteral("screenshots"))) {
            ui::takeDemoScreenshots(window, *runs, parser.value(QStringLiteral("screenshots")),
                                    [](const Status &status) {
                                        if (!status)
                                            qCritical("keepflow: %s", qPrintable(status.message()));
                                        QApplication::exit(status ? 0 : 1);
                                    });
        }
    }
    const QStringList flows = parser.positionalArguments();
    if (!flows.isEmpty()) {
        const QString flowPath = flows.first();
        QStringList params = parser.values(QStringLiteral("param"));
        QTimer::singleShot(
            0, &window, [&window, flowPath, params] { window.startRunFromFile(flowPath, params); });
    }
    const int code = QApplication::exec();
    (void)(*monitor)->shutdown();
    return code;
}
