#include "model/withvalidation.h"

#include "model/problemsink.h"
#include "model/template.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <algorithm>

namespace keepflow {

namespace {

/// One step's `with` being checked, and where its problems go.
struct WithCheck {
    const QJsonObject &with;
    const QString &path;   ///< JSON pointer of `with`
    const QString &prefix; ///< "step \"x\": "
    ProblemSink &sink;

    /// How messages name a key: step "x": "with.url".
    QString what(const char *key) const {
        return prefix + quoted(QStringLiteral("with.") + QLatin1String(key));
    }
    QString at(const char *key) const { return child(path, QLatin1String(key)); }
    QJsonValue value(const char *key) const { return with.value(QLatin1String(key)); }
    bool has(const char *key) const { return with.contains(QLatin1String(key)); }

    /// Reports a missing key at `with` itself; true when it is there.
    bool required(const char *key, const QString &hint) const {
        if (!has(key)) {
            sink.error(path, QStringLiteral("%1 is required: %2").arg(what(key), hint));
            return false;
        }
        return true;
    }
    void requiredString(const char *key) const {
        if (required(key, QStringLiteral("a string")) && !value(key).isString())
            sink.error(at(key), QStringLiteral("%1 must be a string").arg(what(key)));
    }
    void optionalString(const char *key) const {
        if (has(key))
            sink.checkString(value(key), at(key), what(key));
    }
};

// --- one function per kind ------------------------------------------------------------------

void checkDelayWith(const WithCheck &w) {
    if (w.required("duration", QStringLiteral("a duration such as \"10s\"")))
        w.sink.checkJsonDuration(w.value("duration"), w.at("duration"), w.what("duration"));
}

// --- code in argv: sh -c SCRIPT, python3 -c CODE... -----------------------------------------

QString programName(const QString &path) {
    return path.mid(path.lastIndexOf(QLatin1Char('/')) + 1);
}

bool isShell(const QString &name) {
    static const QStringList shells{QStringLiteral("sh"),   QStringLiteral("bash"),
                                    QStringLiteral("dash"), QStringLiteral("zsh"),
                                    QStringLiteral("ksh"),  QStringLiteral("mksh"),
                                    QStringLiteral("ash")};
    return shells.contains(name);
}

/// The argv elements that an interpreter runs as code, and what it is ("a bash script").
struct CodeArgument {
    qsizetype index = -1;
    QString what;
};

// sh -c: "-c" is a flag (also inside "-ec", "-xec"); the script is the first operand after the
// options, whose "-o NAME" / "+O NAME" / "--rcfile FILE" take an argument. Operands after the
// script are its positional parameters ("$0", "$1"...) and safe.
QList<CodeArgument> shellCode(const QJsonArray &argv, qsizetype from, const QString &shell) {
    bool commandMode = false;
    qsizetype i = from;
    for (; i < argv.size(); ++i) {
        const QString a = argv.at(i).toString();
        if (a == QLatin1String("--") || a == QLatin1String("-")) {
            ++i;
            break;
        }
        if (a == QLatin1String("--rcfile") || a == QLatin1String("--init-file")) {
            ++i;
            continue;
        }
        if (a.startsWith(QLatin1String("--")))
            continue;
        if (a.size() < 2 || (a.front() != QLatin1Char('-') && a.front() != QLatin1Char('+')))
            break;
        for (qsizetype k = 1; k < a.size(); ++k) {
            if (a.at(k) == QLatin1Char('c') && a.front() == QLatin1Char('-'))
                commandMode = true;
            else if (a.at(k) == QLatin1Char('o') || a.at(k) == QLatin1Char('O'))
                ++i; // its argument follows
        }
    }
    if (!commandMode || i >= argv.size())
        return {};
    return {{i, QStringLiteral("a %1 script").arg(shell)}};
}

// python3 -c CODE, perl -e CODE, ruby -e CODE, node -e CODE: the code follows the option, in the
// same element ("-cCODE", "-le CODE") or the next one.
QList<CodeArgument> inlineCode(const QJsonArray &argv, qsizetype from, const QString &program,
                               QLatin1String codeLetters, const QStringList &longOptions,
                               QLatin1String lettersWithArgument) {
    QList<CodeArgument> code;
    const QString what = QStringLiteral("%1 code").arg(program);
    for (qsizetype i = from; i < argv.size(); ++i) {
        const QString a = argv.at(i).toString();
        if (a == QLatin1String("--"))
            break;
        if (longOptions.contains(a)) {
            if (i + 1 < argv.size())
                code.append({++i, what});
            continue;
        }
        if (a.startsWith(QLatin1String("--")))
            continue;
        if (a.size() < 2 || a.front() != QLatin1Char('-'))
            break; // a script file: the rest are its arguments
        for (qsizetype k = 1; k < a.size(); ++k) {
            if (codeLetters.contains(a.at(k))) {
                if (k + 1 < a.size())
                    code.append({i, what});
                else if (i + 1 < argv.size())
                    code.append({++i, what});
                break;
            }
            if (lettersWithArgument.contains(a.at(k))) {
                if (k + 1 == a.size())
                    ++i;
                break;
            }
        }
    }
    return code;
}

/// Where argv (all strings) holds code for an interpreter, looking through env and its options.
QList<CodeArgument> codeArguments(const QJsonArray &argv) {
    qsizetype i = 0;
    QString name = programName(argv.at(0).toString());
    if (name == QLatin1String("env")) {
        // env [-i] [-u NAME] [-C DIR] [NAME=VALUE]... PROGRAM ARGS; -S STRING is split like a
        // shell would: code itself.
        for (i = 1; i < argv.size(); ++i) {
            const QString a = argv.at(i).toString();
            if (a == QLatin1String("-S") || a == QLatin1String("--split-string"))
                return i + 1 < argv.size()
                           ? QList<CodeArgument>{{i + 1, QStringLiteral("an env -S string")}}
                           : QList<CodeArgument>{};
            if (a.startsWith(QLatin1String("-S")) || a.startsWith(QLatin1String("--split-string=")))
                return {{i, QStringLiteral("an env -S string")}};
            if (a == QLatin1String("-u") || a == QLatin1String("-C") ||
                a == QLatin1String("--unset") || a == QLatin1String("--chdir")) {
                ++i;
                continue;
            }
            if (a == QLatin1String("--")) {
                ++i;
                break;
            }
            if (a.startsWith(QLatin1Char('-')) || a.contains(QLatin1Char('=')))
                continue;
            break;
        }
        if (i >= argv.size())
            return {};
        name = programName(argv.at(i).toString());
    }
    const qsizetype from = i + 1;
    if (isShell(name))
        return shellCode(argv, from, name);
    static const QRegularExpression python(QStringLiteral("^python[0-9.]*$"));
    if (python.match(name).hasMatch())
        return inlineCode(argv, from, name, QLatin1String("c"), {}, QLatin1String("WXm"));
    if (name == QLatin1String("perl"))
        return inlineCode(argv, from, name, QLatin1String("eE"), {}, QLatin1String("IMmx"));
    if (name == QLatin1String("ruby"))
        return inlineCode(argv, from, name, QLatin1String("e"), {}, QLatin1String("Ir"));
    if (name == QLatin1String("node") || name == QLatin1String("nodejs"))
        return inlineCode(argv, from, name, QLatin1String("ep"),
                          {QStringLiteral("--eval"), QStringLiteral("--print")},
                          QLatin1String("r"));
    return {};
}

// A template in code would make the value code: "hi; touch FILE" runs touch.
void checkNoTemplatesInCode(const WithCheck &w, const QJsonArray &argv) {
    for (const CodeArgument &code : codeArguments(argv)) {
        if (!hasTemplate(argv.at(code.index).toString()))
            continue;
        w.sink.error(child(w.at("argv"), code.index),
                     QStringLiteral("%1 is %2 and must not contain templates: a value there "
                                    "becomes code; pass it in \"with.env\" (e.g. \"X\": "
                                    "\"{{params.x}}\") and read it quoted (\"$X\"), or as an "
                                    "argument after the script (\"$1\")")
                         .arg(w.prefix + quoted(QStringLiteral("with.argv[%1]").arg(code.index)),
                              code.what));
    }
}

void checkShellArgv(const WithCheck &w) {
    const QString argvPath = w.at("argv");
    const QJsonValue argv = w.value("argv");
    const bool viaShell = w.value("shell").toBool(false);
    if (!w.has("argv")) {
        w.sink.error(w.path, QStringLiteral("%1 is required: an array of strings such as "
                                            "[\"sh\", \"-c\", \"...\"]")
                                 .arg(w.what("argv")));
    } else if (!argv.isArray() || argv.toArray().isEmpty()) {
        w.sink.error(argvPath,
                     QStringLiteral("%1 must be a non-empty array of strings").arg(w.what("argv")));
    } else {
        const QJsonArray a = argv.toArray();
        for (qsizetype k = 0; k < a.size(); ++k) {
            if (!a.at(k).isString())
                w.sink.error(child(argvPath, k),
                             QStringLiteral("%1 must be an array of strings: element %2 is not a "
                                            "string")
                                 .arg(w.what("argv"))
                                 .arg(k));
        }
        const bool allStrings =
            std::all_of(a.begin(), a.end(), [](const QJsonValue &e) { return e.isString(); });
        if (!viaShell && allStrings)
            checkNoTemplatesInCode(w, a);
        if (viaShell && a.at(0).isString() && hasTemplate(a.at(0).toString()))
            w.sink.error(child(argvPath, 0),
                         QStringLiteral("%1 is a shell script and must not contain templates: "
                                        "pass values as further argv elements and refer to them "
                                        "as \"$1\", \"$2\"...")
                             .arg(w.what("argv[0]")));
    }
}

void checkShellWith(const WithCheck &w) {
    checkShellArgv(w);
    if (w.has("cwd"))
        w.sink.checkString(w.value("cwd"), w.at("cwd"), w.what("cwd"));
    if (w.has("env"))
        w.sink.checkStringMap(w.value("env"), w.at("env"), w.what("env"));
    if (w.has("shell") && !w.value("shell").isBool())
        w.sink.error(w.at("shell"),
                     QStringLiteral("%1 must be true or false").arg(w.what("shell")));
    if (w.has("permanent_exit_codes")) {
        bool ok = w.value("permanent_exit_codes").isArray();
        for (const QJsonValue &c : w.value("permanent_exit_codes").toArray()) {
            const auto n = jsonInteger(c);
            ok = ok && n && *n >= 0 && *n <= 255;
        }
        if (!ok)
            w.sink.error(w.at("permanent_exit_codes"),
                         QStringLiteral("%1 must be an array of exit codes (integers 0-255)")
                             .arg(w.what("permanent_exit_codes")));
    }
    if (w.has("output")) {
        const QString out = w.value("output").toString();
        if (out != QLatin1String("text") && out != QLatin1String("json"))
            w.sink.error(w.at("output"),
                         QStringLiteral("%1 must be \"text\" or \"json\"").arg(w.what("output")));
    }
}

void checkHttpWith(const WithCheck &w) {
    w.optionalString("method"); // GET when absent
    const QJsonValue method = w.value("method");
    static const QStringList methods = {QStringLiteral("GET"),    QStringLiteral("POST"),
                                        QStringLiteral("PUT"),    QStringLiteral("PATCH"),
                                        QStringLiteral("DELETE"), QStringLiteral("HEAD"),
                                        QStringLiteral("OPTIONS")};
    if (method.isString() && !hasTemplate(method.toString()) &&
        !methods.contains(method.toString().toUpper()))
        w.sink.error(w.at("method"), QStringLiteral("%1 must be one of %2, not \"%3\"")
                                         .arg(w.what("method"), methods.join(QStringLiteral(", ")),
                                              method.toString()));
    w.requiredString("url");
    const QJsonValue url = w.value("url");
    if (url.isString() && !hasTemplate(url.toString()) &&
        !url.toString().startsWith(QLatin1String("http://")) &&
        !url.toString().startsWith(QLatin1String("https://")))
        w.sink.error(w.at("url"),
                     QStringLiteral("%1 must start with http:// or https://").arg(w.what("url")));
    if (w.has("headers"))
        w.sink.checkStringMap(w.value("headers"), w.at("headers"), w.what("headers"));
    if (w.has("expect")) {
        bool ok = w.value("expect").isArray();
        for (const QJsonValue &e : w.value("expect").toArray()) {
            const auto n = jsonInteger(e);
            ok = ok && n && *n >= 100 && *n <= 599;
        }
        if (!ok)
            w.sink.error(w.at("expect"),
                         QStringLiteral("%1 must be an array of HTTP statuses such as [200, 201]")
                             .arg(w.what("expect")));
    }
    w.optionalString("idempotency_header");
    if (w.has("max_response_bytes"))
        w.sink.checkInteger(w.value("max_response_bytes"), w.at("max_response_bytes"),
                            w.what("max_response_bytes"), 1, kMaxResponseBytes);
}

void checkSqlWith(const WithCheck &w) {
    w.requiredString("connection");
    w.requiredString("statement");
    if (const QJsonValue statement = w.value("statement");
        statement.isString() && hasTemplate(statement.toString()))
        w.sink.error(w.at("statement"),
                     QStringLiteral("%1 must not contain templates: a value spliced into SQL can "
                                    "change the statement (SQL injection); write a placeholder "
                                    "(? or :name) and put the template in \"with.bind\"")
                         .arg(w.what("statement")));
    if (w.has("bind") && !w.value("bind").isArray() && !w.value("bind").isObject())
        w.sink.error(w.at("bind"),
                     QStringLiteral("%1 must be an array or an object").arg(w.what("bind")));
}

void checkApprovalWith(const WithCheck &w) {
    w.optionalString("prompt");
}

void checkSubflowWith(const WithCheck &w) {
    w.requiredString("flow");
    if (w.has("params") && !w.value("params").isObject())
        w.sink.error(w.at("params"), QStringLiteral("%1 must be an object").arg(w.what("params")));
}

void checkFaultWith(const WithCheck &w) {
    if (w.has("fail_first"))
        w.sink.checkInteger(w.value("fail_first"), w.at("fail_first"), w.what("fail_first"), 0,
                            kMaxCount);
    if (w.has("fail_rate"))
        w.sink.checkNumber(w.value("fail_rate"), w.at("fail_rate"), w.what("fail_rate"), 0.0, 1.0);
    if (w.has("error")) {
        static const QStringList errors{QStringLiteral("transient"), QStringLiteral("permanent"),
                                        QStringLiteral("timeout"), QStringLiteral("garbage")};
        const QJsonValue e = w.value("error");
        if (!isWholeTemplate(e) && !errors.contains(e.toString()))
            w.sink.error(w.at("error"),
                         QStringLiteral("%1 must be one of: %2")
                             .arg(w.what("error"), errors.join(QLatin1String(", "))));
    }
    if (w.has("latency"))
        w.sink.checkJsonDuration(w.value("latency"), w.at("latency"), w.what("latency"));
    if (w.has("seed"))
        w.sink.checkInteger(w.value("seed"), w.at("seed"), w.what("seed"), -kMaxSafeInteger,
                            kMaxSafeInteger);
}

// --- the table ------------------------------------------------------------------------------

struct WithSpec {
    QString kind;
    QStringList keys;
    void (*check)(const WithCheck &); ///< nullptr: nothing beyond unknown keys
};

const QList<WithSpec> &withSpecs() {
    static const QList<WithSpec> table{
        {QStringLiteral("noop"), {QStringLiteral("output")}, nullptr}, // output: any JSON value
        {QStringLiteral("delay"), {QStringLiteral("duration")}, &checkDelayWith},
        {QStringLiteral("shell"),
         {QStringLiteral("argv"), QStringLiteral("cwd"), QStringLiteral("env"),
          QStringLiteral("shell"), QStringLiteral("permanent_exit_codes"),
          QStringLiteral("output")},
         &checkShellWith},
        {QStringLiteral("http"),
         {QStringLiteral("method"), QStringLiteral("url"), QStringLiteral("headers"),
          QStringLiteral("body"), QStringLiteral("expect"), QStringLiteral("idempotency_header"),
          QStringLiteral("max_response_bytes")},
         &checkHttpWith},
        {QStringLiteral("sql"),
         {QStringLiteral("connection"), QStringLiteral("statement"), QStringLiteral("bind")},
         &checkSqlWith},
        {QStringLiteral("approval"), {QStringLiteral("prompt")}, &checkApprovalWith},
        {QStringLiteral("subflow"),
         {QStringLiteral("flow"), QStringLiteral("params")},
         &checkSubflowWith},
        {QStringLiteral("fault"),
         {QStringLiteral("fail_first"), QStringLiteral("fail_rate"), QStringLiteral("error"),
          QStringLiteral("latency"), QStringLiteral("seed"), QStringLiteral("output")},
         &checkFaultWith},
    };
    return table;
}

const WithSpec *withSpecOf(const QString &kind) {
    for (const WithSpec &spec : withSpecs()) {
        if (spec.kind == kind)
            return &spec;
    }
    return nullptr;
}

} // namespace

QStringList withKeysOf(const QString &kind) {
    const WithSpec *spec = withSpecOf(kind);
    return spec ? spec->keys : QStringList();
}

void checkStepWith(const Step &step, const QString &path, const QString &prefix,
                   ProblemSink &sink) {
    const WithSpec *spec = withSpecOf(step.kind);
    if (!spec)
        return; // unknown kind: reported already
    for (auto it = step.with.begin(); it != step.with.end(); ++it) {
        if (!spec->keys.contains(it.key()))
            sink.warning(
                child(path, it.key()),
                QStringLiteral("unknown key %1 in \"with\" of step %2%3; %4 steps take: %5")
                    .arg(quoted(it.key()), quoted(step.id), didYouMean(it.key(), spec->keys),
                         step.kind, spec->keys.join(QLatin1String(", "))),
                true);
    }
    if (spec->check)
        spec->check(WithCheck{step.with, path, prefix, sink});
}

} // namespace keepflow
