// Semantic validation of flows: one row per class of error, each with the exact position the
// diagnostic must point at and the message it must say.

#include "model/flowfile.h"

#include <QJsonArray>
#include <QTest>

using namespace keepflow;

namespace {

QList<Diagnostic> errorsOf(const FlowLoad &load) {
    QList<Diagnostic> errors;
    for (const Diagnostic &d : load.diagnostics) {
        if (d.severity == Diagnostic::Severity::Error)
            errors.append(d);
    }
    return errors;
}

QString describe(const QList<Diagnostic> &diagnostics) {
    QStringList lines;
    for (const Diagnostic &d : diagnostics)
        lines.append(d.toString());
    return lines.join(QLatin1Char('\n'));
}

Step noopStep(const QString &id, const QStringList &after = {}) {
    Step s;
    s.id = id;
    s.kind = QStringLiteral("noop");
    s.after = after;
    return s;
}

/// A flow with param x whose only step (line 4) is stepJson.
QByteArray flowWithStep(const QByteArray &stepJson) {
    return "{\"keepflow\": 1, \"name\": \"t\",\n\"params\": {\"x\": {}},\n\"steps\": [\n  " +
           stepJson + "\n]}";
}

Flow minimalFlow() {
    Flow flow;
    flow.name = QStringLiteral("t");
    flow.steps.append(noopStep(QStringLiteral("a")));
    return flow;
}

} // namespace

class TestValidation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void errorIsReportedAtItsPosition_data();
    void errorIsReportedAtItsPosition();
    void validFlowHasNoDiagnostics();
    void unknownKeysAreWarningsAtTheKey();
    void warningsDoNotFailTheLoad();
    void diagnosticsAreSortedByPosition();
    void cycleIsReportedOnce();
    void templatesMayReadTransitiveUpstream();
    void itemIsAvailableInForeachSteps();
    void wholeTemplatesStandInForTypedValues();
    void inMemoryFlowGetsPathsWithoutPositions();
    void inMemoryDurationWithoutTextIsChecked();
    void missingVersionInMemoryIsReported();
    void longChainValidatesUpstreamReferences();
    void templatesNeverBecomeCode_data();
    void templatesNeverBecomeCode();
    void valuesOutsideCodeAreAllowed_data();
    void valuesOutsideCodeAreAllowed();
    void numbersOutsideTheirRange_data();
    void numbersOutsideTheirRange();
};

void TestValidation::errorIsReportedAtItsPosition_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");

    QTest::newRow("keepflow missing")
        << QByteArray(R"json({"name": "t", "steps": [{"id": "a", "kind": "noop"}]})json") << 1 << 1
        << QStringLiteral("missing \"keepflow\": 1");
    QTest::newRow("keepflow not 1")
        << QByteArray(
               R"json({"keepflow": 2, "name": "t", "steps": [{"id": "a", "kind": "noop"}]})json")
        << 1 << 14 << QStringLiteral("unsupported \"keepflow\" version 2");
    QTest::newRow("keepflow wrong type")
        << QByteArray(
               R"json({"keepflow": "1", "name": "t", "steps": [{"id": "a", "kind": "noop"}]})json")
        << 1 << 14 << QStringLiteral("\"keepflow\" must be the number 1");
    QTest::newRow("name missing")
        << QByteArray(R"json({"keepflow": 1, "steps": [{"id": "a", "kind": "noop"}]})json") << 1
        << 1 << QStringLiteral("the flow needs a \"name\"");
    QTest::newRow("name empty")
        << QByteArray(
               R"json({"keepflow": 1, "name": "", "steps": [{"id": "a", "kind": "noop"}]})json")
        << 1 << 25 << QStringLiteral("the flow needs a \"name\"");
    QTest::newRow("name wrong type")
        << QByteArray(
               R"json({"keepflow": 1, "name": 7, "steps": [{"id": "a", "kind": "noop"}]})json")
        << 1 << 25 << QStringLiteral("\"name\" must be a string");
    QTest::newRow("no steps") << QByteArray(R"json({"keepflow": 1, "name": "t",
  "steps": []})json") << 2 << 12
                              << QStringLiteral("the flow has no steps");
    QTest::newRow("steps missing") << QByteArray(R"json({"keepflow": 1, "name": "t"})json") << 1
                                   << 1 << QStringLiteral("the flow has no steps");
    QTest::newRow("steps not an array")
        << QByteArray(R"json({"keepflow": 1, "name": "t", "steps": {}})json") << 1 << 39
        << QStringLiteral("\"steps\" must be an array");
    QTest::newRow("step not an object") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  "a"
]})json") << 3 << 3 << QStringLiteral("steps[0] must be an object");
    QTest::newRow("id missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"kind": "noop"}
]})json") << 3 << 3 << QStringLiteral("steps[0] has no \"id\"");
    QTest::newRow("id invalid")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "fetch orders", "kind": "noop"}
]})json")
        << 3 << 10
        << QStringLiteral("invalid step id \"fetch orders\": use letters, digits, \"-\" and \"_\"");
    QTest::newRow("id duplicate") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop"},
  {"id": "a", "kind": "noop"}
]})json") << 5 << 10 << QStringLiteral("duplicate step id \"a\" (first used by steps[0])");
    QTest::newRow("kind missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a"}
]})json") << 3 << 3
                                  << QStringLiteral(
                                         "step \"a\": missing \"kind\"; known kinds: noop, delay, "
                                         "shell, http, sql, approval, subflow, fault");
    QTest::newRow("kind unknown")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "htp"}
]})json")
        << 3 << 23
        << QStringLiteral("step \"a\": unknown kind \"htp\" (did you mean \"http\"?); known kinds: "
                          "noop, delay, shell, http, sql, approval, subflow, fault");
    QTest::newRow("after not an array") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": "a"}
]})json") << 4 << 40 << QStringLiteral("step \"b\": \"after\" must be an array of step ids");
    QTest::newRow("after element not a string") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["a", 3]}
]})json") << 4 << 46 << QStringLiteral("step \"b\": \"after\" must be an array of step ids");
    QTest::newRow("after unknown") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["a", "c"]}
]})json") << 4 << 46 << QStringLiteral("step \"b\": \"after\" names unknown step \"c\"");
    QTest::newRow("after typo")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "fetch", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["fetc"]}
]})json")
        << 4 << 41
        << QStringLiteral("\"after\" names unknown step \"fetc\" (did you mean \"fetch\"?)");
    QTest::newRow("after itself") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["a", "b"]}
]})json") << 4 << 46 << QStringLiteral("step \"b\": \"after\" names the step itself");
    QTest::newRow("after twice") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["a", "a"]}
]})json") << 4 << 46 << QStringLiteral("step \"b\": \"after\" lists \"a\" twice");
    QTest::newRow("cycle") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "after": ["c"]},
  {"id": "b", "kind": "noop", "after": ["a"]},
  {"id": "c", "kind": "noop", "after": ["b"]}
]})json") << 3 << 41 << QStringLiteral("cycle: a -> b -> c -> a");
    QTest::newRow("cycle of two") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "start", "kind": "noop"},
  {"id": "x", "kind": "noop", "after": ["start", "y"]},
  {"id": "y", "kind": "noop", "after": ["x"]}
]})json") << 4 << 50 << QStringLiteral("cycle: x -> y -> x");
    QTest::newRow("fallbacks falling back to each other")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "b"}},
  {"id": "b", "kind": "noop", "fallback": {"step": "a"}}
]})json")
        << 4 << 52
        << QStringLiteral("cycle through a fallback: a -> fallback b -> fallback a; none of these "
                          "steps can ever start");
    QTest::newRow("ring of three fallbacks")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "b"}},
  {"id": "b", "kind": "noop", "fallback": {"step": "c"}},
  {"id": "c", "kind": "noop", "fallback": {"step": "a"}}
]})json")
        << 5 << 52
        << QStringLiteral("cycle through a fallback: a -> fallback b -> fallback c -> fallback a; "
                          "none of these steps can ever start");
    QTest::newRow("fallback the step waits for")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "after": ["b"], "fallback": {"step": "b"}},
  {"id": "b", "kind": "noop"}
]})json")
        << 3 << 41
        << QStringLiteral("cycle through a fallback: a -> fallback b -> a; none of these steps can "
                          "ever start");
    QTest::newRow("fallback of two steps")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "spare"}},
  {"id": "b", "kind": "noop", "fallback": {"step": "spare"}},
  {"id": "spare", "kind": "noop"}
]})json")
        << 4 << 52
        << QStringLiteral("step \"b\": step \"spare\" is already the fallback of step \"a\": a "
                          "step can stand in for one step only");
    QTest::newRow("join unknown") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "join": "any"}
]})json") << 3 << 39
                                  << QStringLiteral(
                                         "step \"a\": unknown join rule \"any\": use "
                                         "all_succeeded, all_done, any_succeeded or none_failed");
    QTest::newRow("resource unknown") << QByteArray(R"json({"keepflow": 1, "name": "t",
"resources": {"crm": {"concurrency": 2}},
"steps": [
  {"id": "a", "kind": "noop", "resource": "crmm"}
]})json") << 4 << 43 << QStringLiteral("step \"a\": unknown resource \"crmm\"; declared: crm");
    QTest::newRow("resource without resources") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "resource": "db"}
]})json") << 3 << 43 << QStringLiteral("unknown resource \"db\" (the flow declares no resources)");
    QTest::newRow("idempotency unknown")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "idempotency": "maybe"}
]})json")
        << 3 << 46
        << QStringLiteral(
               "step \"a\": unknown idempotency \"maybe\": use idempotent, keyed or none");
    QTest::newRow("timeout invalid")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "timeout": "10 seconds"}
]})json")
        << 3 << 42
        << QStringLiteral("step \"a\": \"timeout\": invalid duration \"10 seconds\": use a number "
                          "and a unit (ms, s, m, h, d)");
    QTest::newRow("timeout not a string")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "timeout": 10}
]})json")
        << 3 << 42 << QStringLiteral("step \"a\": \"timeout\" must be a duration such as \"10s\"");
    QTest::newRow("timeout zero") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "timeout": "0s"}
]})json") << 3 << 42 << QStringLiteral("step \"a\": \"timeout\": must be longer than 0");
    QTest::newRow("deadline invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "deadline": "1.5h"}
]})json") << 3 << 43 << QStringLiteral("step \"a\": \"deadline\": invalid duration \"1.5h\"");
    QTest::newRow("delay invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "delay": "5 min"}
]})json") << 3 << 40 << QStringLiteral("step \"a\": \"delay\": invalid duration \"5 min\"");
    QTest::newRow("defaults timeout invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"defaults": {"timeout": "1 minute"},
"steps": [
{"id": "a", "kind": "noop"}
]})json") << 2 << 25 << QStringLiteral("defaults: \"timeout\": invalid duration \"1 minute\"");
    QTest::newRow("defaults retry max_interval invalid")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"defaults": {"retry": {"max_interval": "5min"}},
"steps": [
{"id": "a", "kind": "noop"}
]})json")
        << 2 << 40 << QStringLiteral("defaults: \"retry.max_interval\": invalid duration \"5min\"");
    QTest::newRow("retry initial_interval invalid")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"initial_interval": "1 s"}}
]})json")
        << 3 << 61
        << QStringLiteral("step \"a\": \"retry.initial_interval\": invalid duration \"1 s\"");
    QTest::newRow("resource max_queue_time invalid")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"resources": {"crm": {"max_queue_time": "ten minutes"}},
"steps": [
{"id": "a", "kind": "noop"}
]})json")
        << 2 << 41
        << QStringLiteral("resource \"crm\": \"max_queue_time\": invalid duration \"ten minutes\"");
    QTest::newRow("resource concurrency zero")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"resources": {"crm": {"concurrency": 0}},
"steps": [
{"id": "a", "kind": "noop"}
]})json")
        << 2 << 38
        << QStringLiteral(
               "resource \"crm\": \"concurrency\" must be an integer between 1 and 1000000");
    QTest::newRow("delay kind duration invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "delay", "with": {"duration": "soon"}}
]})json") << 3 << 53 << QStringLiteral("step \"a\": \"with.duration\": invalid duration \"soon\"");
    QTest::newRow("delay kind duration missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "delay", "with": {}}
]})json") << 3 << 40 << QStringLiteral("step \"a\": \"with.duration\" is required");
    QTest::newRow("fault latency invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "fault", "with": {"latency": "fast"}}
]})json") << 3 << 52 << QStringLiteral("step \"a\": \"with.latency\": invalid duration \"fast\"");
    QTest::newRow("retry max_attempts zero")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"max_attempts": 0}}
]})json")
        << 3 << 57
        << QStringLiteral(
               "step \"a\": \"retry.max_attempts\" must be an integer between 1 and 10000");
    QTest::newRow("retry max_attempts fraction")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"max_attempts": 2.5}}
]})json")
        << 3 << 57
        << QStringLiteral("\"retry.max_attempts\" must be an integer between 1 and 10000");
    QTest::newRow("retry backoff below 1")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"backoff": 0.5}}
]})json")
        << 3 << 52
        << QStringLiteral("step \"a\": \"retry.backoff\" must be a number between 1 and 100");
    QTest::newRow("retry jitter above 1")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"jitter": 1.5}}
]})json")
        << 3 << 51
        << QStringLiteral("step \"a\": \"retry.jitter\" must be a number between 0 and 1");
    QTest::newRow("retry non_retryable not strings")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"non_retryable": [true]}}
]})json")
        << 3 << 58 << QStringLiteral("\"retry.non_retryable\" must be an array of strings");
    QTest::newRow("retry unknown key")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": {"max_attempt": 3}}
]})json")
        << 3 << 41
        << QStringLiteral(
               "unknown retry key \"max_attempt\" in step \"a\" (did you mean \"max_attempts\"?)");
    QTest::newRow("retry not an object") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "retry": 3}
]})json") << 3 << 40 << QStringLiteral("step \"a\": \"retry\" must be an object");
    QTest::newRow("not_before not ISO") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "not_before": "tomorrow"}
]})json") << 3 << 45 << QStringLiteral("step \"a\": \"not_before\" must be an ISO 8601 date-time");
    QTest::newRow("not_before date only") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "not_before": "2026-11-26"}
]})json") << 3 << 45 << QStringLiteral("\"not_before\" must be an ISO 8601 date-time");
    QTest::newRow("fallback both keys")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"value": 1, "step": "b"}}
]})json")
        << 3 << 43
        << QStringLiteral(
               "step \"a\": \"fallback\" must be { \"value\": JSON } or { \"step\": \"ID\" }");
    QTest::newRow("fallback unknown key")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"val": 1}}
]})json")
        << 3 << 43
        << QStringLiteral("\"fallback\" must be { \"value\": JSON } or { \"step\": \"ID\" }");
    QTest::newRow("fallback step unknown") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "backup"}}
]})json") << 3 << 52 << QStringLiteral("step \"a\": fallback step \"backup\" does not exist");
    QTest::newRow("fallback step itself") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "a"}}
]})json") << 3 << 52 << QStringLiteral("step \"a\": a step cannot be its own fallback");
    QTest::newRow("fallback step with after") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "fallback": {"step": "b"}},
  {"id": "z", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["z"]}
]})json") << 5 << 40 << QStringLiteral("step \"b\": a fallback step must not have \"after\"");
    QTest::newRow("foreach a number") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": 3}
]})json") << 3 << 42 << QStringLiteral("step \"a\": \"foreach\" must be a template string");
    QTest::newRow("foreach not one template") << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"hosts": {}},
"steps": [
  {"id": "a", "kind": "noop", "foreach": "hosts: {{params.hosts}}"}
]})json") << 4 << 42 << QStringLiteral("\"foreach\" must be one template");
    QTest::newRow("foreach uses item") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": "{{item.list}}"}
]})json") << 3 << 42 << QStringLiteral("template {{item.list}}: \"foreach\" cannot use {{item}}");
    QTest::newRow("tolerate both")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max_failed": 1, "max_failed_ratio": 0.5}}
]})json")
        << 3 << 59
        << QStringLiteral(
               "\"tolerate\" must be { \"max_failed\": N } or { \"max_failed_ratio\": R }");
    QTest::newRow("tolerate ratio above 1") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max_failed_ratio": 2}}
]})json") << 3 << 80 << QStringLiteral("\"tolerate.max_failed_ratio\" must be between 0 and 1");
    QTest::newRow("tolerate negative")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max_failed": -1}}
]})json")
        << 3 << 74
        << QStringLiteral("\"tolerate.max_failed\" must be an integer between 0 and 1000000");
    QTest::newRow("tolerate unknown key") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max": 1}}
]})json") << 3 << 60 << QStringLiteral("(unknown key \"max\")");
    QTest::newRow("concurrency zero")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "concurrency": 0}
]})json")
        << 3 << 62
        << QStringLiteral("step \"a\": \"concurrency\" must be an integer between 1 and 1000000");
    QTest::newRow("concurrency not an integer") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "concurrency": "4"}
]})json") << 3 << 62 << QStringLiteral("step \"a\": \"concurrency\" must be an integer");
    QTest::newRow("item_key not a string") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "item_key": 1}
]})json") << 3 << 59 << QStringLiteral("step \"a\": \"item_key\" must be a string");
    QTest::newRow("with not an object") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": []}
]})json") << 3 << 39 << QStringLiteral("step \"a\": \"with\" must be an object");
    QTest::newRow("shell argv missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"cwd": "/tmp"}}
]})json") << 3 << 40 << QStringLiteral("step \"a\": \"with.argv\" is required");
    QTest::newRow("shell without with") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell"}
]})json") << 3 << 3 << QStringLiteral("step \"a\": \"with.argv\" is required");
    QTest::newRow("shell argv empty")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": []}}
]})json")
        << 3 << 49
        << QStringLiteral("step \"a\": \"with.argv\" must be a non-empty array of strings");
    QTest::newRow("shell argv not strings")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls", 1]}}
]})json")
        << 3 << 56
        << QStringLiteral("\"with.argv\" must be an array of strings: element 1 is not a string");
    QTest::newRow("shell cwd not a string") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls"], "cwd": 5}}
]})json") << 3 << 64 << QStringLiteral("\"with.cwd\" must be a string");
    QTest::newRow("shell env not strings")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls"], "env": {"A": 1}}}
]})json")
        << 3 << 70
        << QStringLiteral("\"with.env\" must be an object of strings: \"A\" is not a string");
    QTest::newRow("shell shell not bool") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls"], "shell": "yes"}}
]})json") << 3 << 66 << QStringLiteral("\"with.shell\" must be true or false");
    QTest::newRow("shell exit codes")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls"], "permanent_exit_codes": ["2"]}}
]})json")
        << 3 << 81
        << QStringLiteral("\"with.permanent_exit_codes\" must be an array of exit codes");
    QTest::newRow("shell output") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "shell", "with": {"argv": ["ls"], "output": "xml"}}
]})json") << 3 << 67 << QStringLiteral("\"with.output\" must be \"text\" or \"json\"");
    QTest::newRow("shell script with template")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"p": {}},
"steps": [
  {"id": "a", "kind": "shell", "with": {"shell": true, "argv": ["echo {{params.p}}"]}}
]})json")
        << 4 << 65
        << QStringLiteral("must not contain templates: pass values as further argv elements and "
                          "refer to them as \"$1\"");
    QTest::newRow("http method unknown") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "http", "with": {"method": "FETCH", "url": "http://x"}}
]})json") << 3 << 50 << QStringLiteral("must be one of GET, POST");
    QTest::newRow("http url missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "http", "with": {"method": "GET"}}
]})json") << 3 << 39 << QStringLiteral("step \"a\": \"with.url\" is required");
    QTest::newRow("http url scheme") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "http", "with": {"method": "GET", "url": "ftp://x"}}
]})json") << 3 << 64 << QStringLiteral("\"with.url\" must start with http:// or https://");
    QTest::newRow("http expect") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "http", "with": {"method": "GET", "url": "http://x", "expect": [99]}}
]})json") << 3 << 86 << QStringLiteral("\"with.expect\" must be an array of HTTP statuses");
    QTest::newRow("sql connection missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "sql", "with": {"statement": "select 1"}}
]})json") << 3 << 38 << QStringLiteral("\"with.connection\" is required");
    QTest::newRow("sql statement missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "sql", "with": {"connection": "main"}}
]})json") << 3 << 38 << QStringLiteral("\"with.statement\" is required");
    QTest::newRow("approval prompt") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "approval", "with": {"prompt": 5}}
]})json") << 3 << 54 << QStringLiteral("\"with.prompt\" must be a string");
    QTest::newRow("subflow flow missing") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "subflow", "with": {}}
]})json") << 3 << 42 << QStringLiteral("\"with.flow\" is required");
    QTest::newRow("fault fail_first negative")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "fault", "with": {"fail_first": -1}}
]})json")
        << 3 << 55
        << QStringLiteral("\"with.fail_first\" must be an integer between 0 and 1000000");
    QTest::newRow("fault fail_rate") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "fault", "with": {"fail_rate": 1.5}}
]})json") << 3 << 54 << QStringLiteral("\"with.fail_rate\" must be a number between 0 and 1");
    QTest::newRow("fault error")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "fault", "with": {"error": "flaky"}}
]})json")
        << 3 << 50
        << QStringLiteral("\"with.error\" must be one of: transient, permanent, timeout, garbage");
    QTest::newRow("fault seed") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "fault", "with": {"seed": "x"}}
]})json") << 3 << 49 << QStringLiteral("\"with.seed\" must be an integer");
    QTest::newRow("template syntax")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"p": {}},
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{params.p"}}
]})json")
        << 4 << 50
        << QStringLiteral("step \"a\": template at offset 0: \"{{\" is not closed by \"}}\"");
    QTest::newRow("template unknown root")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{ foo.bar }}"}}
]})json")
        << 3 << 50
        << QStringLiteral(
               "unknown root \"foo\": use params, steps, item, run, idempotency_key or secrets");
    QTest::newRow("template unknown param")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"date": {}},
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": ["x {{params.dte}}"]}}
]})json")
        << 4 << 51
        << QStringLiteral("step \"a\": template {{params.dte}}: unknown param \"dte\" (did you "
                          "mean \"date\"?)");
    QTest::newRow("template unknown step") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{steps.zz.output}}"}}
]})json") << 3 << 50 << QStringLiteral("template {{steps.zz.output}}: unknown step \"zz\"");
    QTest::newRow("template step not upstream")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "with": {"output": "{{steps.a.output}}"}}
]})json")
        << 4 << 50
        << QStringLiteral("step \"b\": template {{steps.a.output}}: step \"a\" is not upstream of "
                          "\"b\": add it to \"after\"");
    QTest::newRow("template step without output") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
{"id": "a", "kind": "noop"},
  {"id": "b", "kind": "noop", "after": ["a"], "with": {"output": "{{steps.a.result}}"}}
]})json") << 4 << 66 << QStringLiteral("use {{steps.a.output...}} to read the step's output");
    QTest::newRow("template own output") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{steps.a.output}}"}}
]})json") << 3 << 50 << QStringLiteral("a step cannot read its own output");
    QTest::newRow("template item without foreach") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{item.id}}"}}
]})json") << 3 << 50 << QStringLiteral("{{item}} is only available in a step with \"foreach\"");
    QTest::newRow("template run part") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "with": {"output": "{{run.name}}"}}
]})json") << 3 << 50 << QStringLiteral("only {{run.id}} is available under run");
    QTest::newRow("template in item_key") << QByteArray(R"json({"keepflow": 1, "name": "t",
"steps": [
  {"id": "a", "kind": "noop", "foreach": [1], "item_key": "{{params.k}}"}
]})json") << 3 << 59 << QStringLiteral("unknown param \"k\" (the flow declares no params)");
    QTest::newRow("template in param default")
        << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"p": {"default": "{{steps.a.output}}"}},
"steps": [
{"id": "a", "kind": "noop"}
]})json")
        << 2 << 29
        << QStringLiteral(
               "param \"p\": template {{steps.a.output}}: param defaults cannot read step outputs");
    QTest::newRow("param not an object") << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"p": "x"},
"steps": [
{"id": "a", "kind": "noop"}
]})json") << 2 << 17 << QStringLiteral("param \"p\" must be an object");
    QTest::newRow("param name invalid") << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": {"my date": {}},
"steps": [
{"id": "a", "kind": "noop"}
]})json") << 2 << 12 << QStringLiteral("invalid param name \"my date\"");
    QTest::newRow("params not an object") << QByteArray(R"json({"keepflow": 1, "name": "t",
"params": [],
"steps": [
{"id": "a", "kind": "noop"}
]})json") << 2 << 11 << QStringLiteral("\"params\" must be an object");
    QTest::newRow("json syntax error") << QByteArray(R"json({"keepflow": 1,
  "name": "t" "steps": []})json") << 2 << 15
                                       << QStringLiteral("expected ',' or '}' after object member");
}

void TestValidation::errorIsReportedAtItsPosition() {
    QFETCH(QByteArray, text);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);

    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    QVERIFY(!load.ok());
    const QList<Diagnostic> errors = errorsOf(load);
    // One problem, one message: a wrong type is not reported again by the semantic checks.
    QVERIFY2(errors.size() == 1, qPrintable(describe(load.diagnostics)));
    const Diagnostic &d = errors.first();
    QVERIFY2(d.message.contains(message), qPrintable(d.toString()));
    QCOMPARE(d.line, line);
    QCOMPARE(d.column, column);
    QCOMPARE(d.file, QStringLiteral("t.flow.json"));
}

void TestValidation::validFlowHasNoDiagnostics() {
    const QByteArray text = R"json({
  "keepflow": 1,
  "name": "ok",
  "params": { "date": { "default": "2026-11-26" }, "hosts": { "default": ["a", "b"] } },
  "defaults": { "retry": { "max_attempts": 5, "non_retryable": ["permanent", 404] },
                "timeout": "30s" },
  "resources": { "crm": { "concurrency": 2, "rate": { "limit": 5, "per": "1s" },
                          "breaker": { "failure_rate": 0.5, "open_for": "30s" },
                          "max_queue_time": "10m" } },
  "steps": [
    { "id": "fetch", "kind": "http", "resource": "crm",
      "with": { "method": "GET", "url": "http://127.0.0.1/x?d={{params.date}}" },
      "fallback": { "value": { "body": [] } }, "not_before": "2026-11-26T06:00:00Z" },
    { "id": "each", "kind": "shell", "after": ["fetch"], "foreach": "{{steps.fetch.output.body}}",
      "item_key": "{{item.id}}", "concurrency": 3, "tolerate": { "max_failed": 0 },
      "with": { "argv": ["printf", "%s\n", "{{item.name}}", "{{run.id}}", "{{idempotency_key}}"],
                "env": { "DAY": "{{params.date}}" }, "output": "text" },
      "timeout": "250ms", "deadline": "1h", "delay": "0s",
      "retry": { "backoff": 1.5, "jitter": 0, "initial_interval": "1s", "max_interval": "1d" } },
    { "id": "script", "kind": "shell", "after": ["each"], "join": "all_done",
      "with": { "shell": true, "argv": ["printf '%s' \"$1\"", "{{params.date}}"] } },
    { "id": "wait", "kind": "delay", "after": ["script"], "with": { "duration": "2s" } },
    { "id": "flaky", "kind": "fault", "after": ["wait"], "fallback": { "step": "spare" },
      "with": { "fail_first": 2, "fail_rate": 0.5, "error": "transient", "latency": "10ms",
                "seed": 1, "output": { "ok": true } } },
    { "id": "spare", "kind": "noop", "with": { "output": "{{params.hosts}}" } }
  ]
})json";
    const FlowLoad load = parseFlow(text, QStringLiteral("ok.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    QVERIFY2(load.diagnostics.isEmpty(), qPrintable(describe(load.diagnostics)));
    QVERIFY(validateFlow(*load.flow).isEmpty());
}

void TestValidation::unknownKeysAreWarningsAtTheKey() {
    const QByteArray text = "{\"keepflow\": 1, \"name\": \"t\", \"stpes\": 1,\n"
                            "\"params\": {\"p\": {\"deflt\": 1}},\n"
                            "\"defaults\": {\"timeout\": \"1s\", \"retries\": 2},\n"
                            "\"steps\": [\n"
                            "  {\"id\": \"a\", \"kind\": \"noop\", \"afer\": []},\n"
                            "  {\"id\": \"b\", \"kind\": \"shell\", \"with\": {\"argv\": [\"ls\"], "
                            "\"shel\": true}}\n"
                            "]}";
    const FlowLoad load = parseFlow(text, QStringLiteral("w.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    const QStringList expected{
        QStringLiteral("w.flow.json:1:30: warning: unknown key \"stpes\" at the top level (did "
                       "you mean \"steps\"?)"),
        QStringLiteral("w.flow.json:2:18: warning: unknown key \"deflt\" in param \"p\" (did you "
                       "mean \"default\"?)"),
        QStringLiteral("w.flow.json:3:31: warning: unknown key \"retries\" in \"defaults\""),
        QStringLiteral("w.flow.json:5:31: warning: unknown key \"afer\" in step \"a\" (did you "
                       "mean \"after\"?)"),
        QStringLiteral("w.flow.json:6:57: warning: unknown key \"shel\" in \"with\" of step \"b\" "
                       "(did you mean \"shell\"?); shell steps take: argv, cwd, env, shell, "
                       "permanent_exit_codes, output"),
    };
    QStringList actual;
    for (const Diagnostic &d : load.diagnostics)
        actual.append(d.toString());
    QCOMPARE(actual, expected);
    // Kept as written, so that saving does not lose them.
    QCOMPARE(load.flow->extra.value(QStringLiteral("stpes")).toInt(), 1);
    QCOMPARE(load.flow->param(QStringLiteral("p"))->extra.value(QStringLiteral("deflt")).toInt(),
             1);
    QCOMPARE(load.flow->defaultsExtra.value(QStringLiteral("retries")).toInt(), 2);
    QVERIFY(load.flow->steps.at(0).extra.contains(QStringLiteral("afer")));
}

void TestValidation::warningsDoNotFailTheLoad() {
    const QByteArray text = R"json({"keepflow": 1, "name": "t", "steps": [
  {"id": "a", "kind": "noop", "item_key": "x", "colour": "red"}
]})json";
    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    QVERIFY(load.ok());
    QCOMPARE(load.diagnostics.size(), 2);
    for (const Diagnostic &d : load.diagnostics)
        QCOMPARE(d.severity, Diagnostic::Severity::Warning);
    QVERIFY(load.errorText().isEmpty());
    QVERIFY(load.diagnostics.at(0).message.contains(
        QStringLiteral("\"item_key\" has no effect without \"foreach\"")));
    QVERIFY(load.diagnostics.at(1).message.contains(QStringLiteral("unknown key \"colour\"")));
}

void TestValidation::diagnosticsAreSortedByPosition() {
    // The cycle is found last but sits first in the file; the type error comes from the reader.
    const QByteArray text = R"json({"keepflow": 1, "name": "t", "steps": [
  {"id": "a", "kind": "noop", "after": ["b"]},
  {"id": "b", "kind": "noop", "after": ["a"], "timeout": 5},
  {"id": "c", "kind": "nope"}
]})json";
    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    QVERIFY(!load.ok());
    QStringList actual;
    for (const Diagnostic &d : load.diagnostics)
        actual.append(d.toString());
    const QStringList expected{
        QStringLiteral("t.flow.json:2:41: error: cycle: a -> b -> a"),
        QStringLiteral("t.flow.json:3:58: error: step \"b\": \"timeout\" must be a duration such "
                       "as \"10s\""),
        QStringLiteral("t.flow.json:4:23: error: step \"c\": unknown kind \"nope\"; known kinds: "
                       "noop, delay, shell, http, sql, approval, subflow, fault"),
    };
    QCOMPARE(actual, expected);
    QCOMPARE(load.errorText(), expected.join(QLatin1Char('\n')));
}

void TestValidation::cycleIsReportedOnce() {
    // a -> b -> c -> a with a second way into the cycle (d) and a chord (c also waits for a):
    // one strongly connected component, one message, shortest cycle from the first step.
    Flow flow = minimalFlow();
    flow.steps = {noopStep(QStringLiteral("a"), {QStringLiteral("c")}),
                  noopStep(QStringLiteral("b"), {QStringLiteral("a"), QStringLiteral("d")}),
                  noopStep(QStringLiteral("c"), {QStringLiteral("b"), QStringLiteral("a")}),
                  noopStep(QStringLiteral("d")),
                  noopStep(QStringLiteral("x"), {QStringLiteral("y")}),
                  noopStep(QStringLiteral("y"), {QStringLiteral("x")})};
    QStringList cycles;
    for (const Diagnostic &d : validateFlow(flow)) {
        if (d.message.startsWith(QLatin1String("cycle:")))
            cycles.append(d.message + QLatin1Char('@') + d.path);
    }
    QCOMPARE(cycles, (QStringList{QStringLiteral("cycle: a -> c -> a@/steps/0/after/0"),
                                  QStringLiteral("cycle: x -> y -> x@/steps/4/after/0")}));
}

void TestValidation::templatesMayReadTransitiveUpstream() {
    Flow flow = minimalFlow();
    Step c = noopStep(QStringLiteral("c"), {QStringLiteral("b")});
    c.with.insert(QStringLiteral("output"), QStringLiteral("{{steps.a.output.rows.0}}"));
    flow.steps = {noopStep(QStringLiteral("a")),
                  noopStep(QStringLiteral("b"), {QStringLiteral("a")}), c};
    QVERIFY(validateFlow(flow).isEmpty());

    // Not upstream: a sibling branch.
    flow.steps[2].after = {QStringLiteral("d")};
    flow.steps.append(noopStep(QStringLiteral("d")));
    const QList<Diagnostic> diagnostics = validateFlow(flow);
    QCOMPARE(diagnostics.size(), 1);
    QCOMPARE(diagnostics.first().path, QStringLiteral("/steps/2/with/output"));
    QVERIFY(diagnostics.first().message.contains(
        QStringLiteral("step \"a\" is not upstream of \"c\"")));
}

void TestValidation::itemIsAvailableInForeachSteps() {
    Flow flow = minimalFlow();
    Step &s = flow.steps.first();
    s.foreach = QJsonArray{1, 2};
    s.itemKey = QStringLiteral("{{item}}");
    s.with.insert(QStringLiteral("output"),
                  QJsonObject{{QStringLiteral("n"), QStringLiteral("{{item}}")}});
    QVERIFY(validateFlow(flow).isEmpty());

    s.foreach = QJsonValue(QJsonValue::Undefined);
    const QList<Diagnostic> diagnostics = validateFlow(flow);
    QStringList paths;
    for (const Diagnostic &d : diagnostics)
        paths.append(d.path + QLatin1Char(' ') + d.message);
    QCOMPARE(paths.size(), 3);
    // A warning that item_key is pointless, and both {{item}} uses are errors.
    QVERIFY(paths.filter(QStringLiteral("/steps/0/item_key step \"a\": \"item_key\" has no effect"))
                .size() == 1);
    QVERIFY(paths.filter(QStringLiteral("/steps/0/with/output/n step \"a\": template {{item}}"))
                .size() == 1);
}

void TestValidation::wholeTemplatesStandInForTypedValues() {
    // A number given as one whole template is checked when rendered, not now; templates inside
    // a longer string are still text and fail the type check.
    const QByteArray text = R"json({"keepflow": 1, "name": "t",
"params": {"n": {"default": 2}, "wait": {"default": "1s"}},
"steps": [
  {"id": "f", "kind": "fault", "with": {"fail_first": "{{params.n}}", "latency": "{{params.wait}}"}},
  {"id": "d", "kind": "delay", "with": {"duration": "{{params.wait}}"}},
  {"id": "g", "kind": "fault", "with": {"fail_first": "n={{params.n}}"}}
]})json";
    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    QCOMPARE(load.diagnostics.size(), 1);
    QCOMPARE(load.diagnostics.first().line, 6);
    QCOMPARE(load.diagnostics.first().column, 55);
}

void TestValidation::inMemoryFlowGetsPathsWithoutPositions() {
    Flow flow = minimalFlow();
    flow.steps.append(noopStep(QStringLiteral("b"), {QStringLiteral("missing")}));
    const QList<Diagnostic> diagnostics = validateFlow(flow);
    QCOMPARE(diagnostics.size(), 1);
    const Diagnostic &d = diagnostics.first();
    QCOMPARE(d.path, QStringLiteral("/steps/1/after/0"));
    QCOMPARE(d.line, 0);
    QCOMPARE(d.toString(), QStringLiteral("error: step \"b\": \"after\" names unknown step "
                                          "\"missing\" (at /steps/1/after/0)"));
}

void TestValidation::inMemoryDurationWithoutTextIsChecked() {
    Flow flow = minimalFlow();
    flow.steps[0].timeout = Duration{-5, QString()};
    const QList<Diagnostic> diagnostics = validateFlow(flow);
    QCOMPARE(diagnostics.size(), 1);
    QCOMPARE(diagnostics.first().path, QStringLiteral("/steps/0/timeout"));
    QVERIFY(diagnostics.first().message.contains(QStringLiteral("cannot be negative")));

    flow.steps[0].timeout = Duration{1500, QString()};
    QVERIFY(validateFlow(flow).isEmpty());
}

void TestValidation::missingVersionInMemoryIsReported() {
    Flow flow = minimalFlow();
    flow.formatVersion = 3;
    flow.name.clear();
    flow.steps.clear();
    QStringList messages;
    for (const Diagnostic &d : validateFlow(flow))
        messages.append(d.path + QLatin1Char(' ') + d.message);
    QCOMPARE(messages,
             (QStringList{QStringLiteral("/keepflow unsupported \"keepflow\" version 3: this "
                                         "Keepflow reads version 1"),
                          QStringLiteral("/name the flow needs a \"name\""),
                          QStringLiteral("/steps the flow has no steps")}));
}

void TestValidation::longChainValidatesUpstreamReferences() {
    // Every step reads the first one, thousands of steps upstream: valid, and found without
    // walking the chain once per step.
    Flow flow = minimalFlow();
    for (int i = 1; i < 3000; ++i) {
        Step s = noopStep(QStringLiteral("s%1").arg(i),
                          {i == 1 ? QStringLiteral("a") : QStringLiteral("s%1").arg(i - 1)});
        s.with.insert(QStringLiteral("output"), QStringLiteral("{{steps.a.output}}"));
        flow.steps.append(s);
    }
    QVERIFY(validateFlow(flow).isEmpty());

    // Reading a step downstream is not allowed.
    flow.steps[10].with.insert(QStringLiteral("output"), QStringLiteral("{{steps.s20.output}}"));
    const QList<Diagnostic> diagnostics = validateFlow(flow);
    QCOMPARE(diagnostics.size(), 1);
    QCOMPARE(diagnostics.first().path, QStringLiteral("/steps/10/with/output"));
}

QTEST_GUILESS_MAIN(TestValidation)
#include "tst_validation.moc"

// SQL, shell scripts and inline code never contain templates: a value there would become code.
void TestValidation::templatesNeverBecomeCode_data() {
    QTest::addColumn<QByteArray>("step");
    QTest::addColumn<QByteArray>("at"); ///< the text the error points at (its first character)
    QTest::addColumn<QString>("message");

    const QString sqlHint = QStringLiteral("must not contain templates: a value spliced into SQL "
                                           "can change the statement (SQL injection); write a "
                                           "placeholder (? or :name) and put the template in "
                                           "\"with.bind\"");
    QTest::newRow("sql statement")
        << QByteArray(R"J({"id": "a", "kind": "sql", "with": {"connection": "main", "statement": )J"
                      R"J("select * from t where v = '{{params.x}}'"}})J")
        << QByteArray("\"select") << QStringLiteral("step \"a\": \"with.statement\" ") + sqlHint;

    const auto shell = [](const char *what) {
        return QStringLiteral(" is %1 and must not contain templates: a value there becomes code; "
                              "pass it in \"with.env\"")
            .arg(QLatin1String(what));
    };
    QTest::newRow("sh -c") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                         R"J(["sh", "-c", "echo {{params.x}}"]}})J")
                           << QByteArray("\"echo")
                           << QStringLiteral("step \"a\": \"with.argv[2]\"") + shell("a sh script");
    QTest::newRow("/usr/bin/bash -c")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                      R"J(["/usr/bin/bash", "-c", "echo {{params.x}}"]}})J")
        << QByteArray("\"echo") << QStringLiteral("\"with.argv[2]\"") + shell("a bash script");
    QTest::newRow("-ec") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                       R"J(["dash", "-ec", "echo {{params.x}}"]}})J")
                         << QByteArray("\"echo") << shell("a dash script");
    QTest::newRow("-xec") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                        R"J(["zsh", "-xec", "echo {{params.x}}", "zsh"]}})J")
                          << QByteArray("\"echo") << shell("a zsh script");
    QTest::newRow("-o pipefail -c")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                      R"J(["bash", "-o", "pipefail", "-c", "echo {{params.x}} | wc"]}})J")
        << QByteArray("\"echo") << QStringLiteral("\"with.argv[4]\"") + shell("a bash script");
    QTest::newRow("-c before options")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                      R"J(["ksh", "-c", "-e", "echo {{params.x}}"]}})J")
        << QByteArray("\"echo") << QStringLiteral("\"with.argv[3]\"") + shell("a ksh script");
    QTest::newRow("the whole script")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                      R"J(["sh", "-c", "{{params.x}}"]}})J")
        << QByteArray("\"{{") << shell("a sh script");
    QTest::newRow("env with options and assignments")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": ["/usr/bin/env", "-i", )J"
                      R"J("-u", "HOME", "A=1", "bash", "-c", "echo {{params.x}}"]}})J")
        << QByteArray("\"echo") << QStringLiteral("\"with.argv[7]\"") + shell("a bash script");
    QTest::newRow("env -S") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                          R"J(["env", "-S", "echo {{params.x}}"]}})J")
                            << QByteArray("\"echo") << shell("an env -S string");
    QTest::newRow("python3 -c") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                              R"J(["python3", "-c", "print('{{params.x}}')"]
}
})J") << QByteArray("\"print") << shell("python3 code");
    QTest::newRow("python3 -Ic attached")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                      R"J(["python3.11", "-Icprint('{{params.x}}')"]
    }
    })J")
        << QByteArray("\"-Ic") << shell("python3.11 code");
    QTest::newRow("perl -le") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                            R"J(["perl", "-le", "print '{{params.x}}'"]}})J")
                              << QByteArray("\"print") << shell("perl code");
    QTest::newRow("node -e") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                           R"J(["node", "-e", "console.log('{{params.x}}')"]
    }
    })J") << QByteArray("\"console")
                             << shell("node code");
    QTest::newRow("node --eval") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                               R"J(["node", "--eval", "console.log('{{params.x}}')"]
    }
    })J") << QByteArray("\"console")
                                 << shell("node code");
    QTest::newRow("ruby -e") << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": )J"
                                           R"J(["ruby", "-e", "puts '{{params.x}}'"]}})J")
                             << QByteArray("\"puts") << shell("ruby code");
}

/// The row's step (columns step, at, message) gives exactly one error, at the text `at` in
/// the step's line, saying message.
static void verifyTheOneErrorOfTheRow() {
    QFETCH(QByteArray, step);
    QFETCH(QByteArray, at);
    QFETCH(QString, message);

    const FlowLoad load = parseFlow(flowWithStep(step), QStringLiteral("t.flow.json"));
    QVERIFY(!load.ok());
    const QList<Diagnostic> errors = errorsOf(load);
    QVERIFY2(errors.size() == 1, qPrintable(describe(load.diagnostics)));
    const Diagnostic &d = errors.first();
    QVERIFY2(d.message.contains(message), qPrintable(d.toString()));
    QCOMPARE(d.line, 4);
    QCOMPARE(d.column, 3 + step.indexOf(at));
}

void TestValidation::templatesNeverBecomeCode() {
    verifyTheOneErrorOfTheRow();
}

void TestValidation::valuesOutsideCodeAreAllowed_data() {
    QTest::addColumn<QByteArray>("step");

    QTest::newRow("sql bind") << QByteArray(
        R"J({"id": "a", "kind": "sql", "with": {"connection": "main", "statement": )J"
        R"J("select * from t where v = ?", "bind": ["{{params.x}}"]}})J");
    QTest::newRow("sh -c with env") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["sh", "-c", "echo \"$X\""], )J"
        R"J("env": {"X": "{{params.x}}"}}})J");
    QTest::newRow("positional after the script") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["sh", "-c", "echo \"$1\"", "sh", )J"
        R"J("{{params.x}}"]}})J");
    QTest::newRow("-o pipefail -c, positional") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["bash", "-o", "pipefail", "-c", )J"
        R"J("echo \"$1\" | wc", "bash", "{{params.x}}"]}})J");
    QTest::newRow("script file with arguments") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["bash", "run.sh", "{{params.x}}"]}})J");
    QTest::newRow("env before a plain program") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["env", "A={{params.x}}", "printenv", )J"
        R"J("A"]}})J");
    QTest::newRow("python3 -c with argv")
        << QByteArray(R"J({"id": "a", "kind": "shell", "with": {"argv": ["python3", "-c", )J"
                      R"J("import sys; print(sys.argv[1])", "{{params.x}}"]}})J");
    QTest::newRow("a program that is no interpreter") << QByteArray(
        R"J({"id": "a", "kind": "shell", "with": {"argv": ["grep", "-c", "{{params.x}}"]}})J");
}

void TestValidation::valuesOutsideCodeAreAllowed() {
    QFETCH(QByteArray, step);
    const FlowLoad load = parseFlow(flowWithStep(step), QStringLiteral("t.flow.json"));
    QVERIFY2(load.ok(), qPrintable(describe(load.diagnostics)));
}

// Every number of the flow format has a range; beyond it a value is refused where it is
// written.
void TestValidation::numbersOutsideTheirRange_data() {
    QTest::addColumn<QByteArray>("step");
    QTest::addColumn<QByteArray>("at");
    QTest::addColumn<QString>("message");

    struct Field {
        const char *name;    ///< row name
        const char *json;    ///< the step (or resource), with %1 where the number goes
        const char *message; ///< the allowed range
        QList<const char *> values;
    };
    const QList<const char *> integerBad{"1e300", "9.3e18", "-1", "2.5"};
    const QList<const char *> ratioBad{"1e300", "-0.1", "1.5"};
    const QList<Field> fields{
        {"http max_response_bytes",
         R"J({"id": "a", "kind": "http", "with": {"url": "http://h/", "max_response_bytes": %1}})J",
         "\"with.max_response_bytes\" must be an integer between 1 and 1073741824",
         {"1e300", "9.3e18", "0", "-5", "10.5"}},
        {"fault fail_first", R"J({"id": "a", "kind": "fault", "with": {"fail_first": %1}})J",
         "\"with.fail_first\" must be an integer between 0 and 1000000", integerBad},
        {"fault fail_rate", R"J({"id": "a", "kind": "fault", "with": {"fail_rate": %1}})J",
         "\"with.fail_rate\" must be a number between 0 and 1", ratioBad},
        {"fault seed",
         R"J({"id": "a", "kind": "fault", "with": {"seed": %1}})J",
         "\"with.seed\" must be an integer between -9007199254740991 and 9007199254740991",
         {"1e300", "-1e300", "9.3e18", "0.5"}},
        {"drill fail_first", R"J({"id": "a", "kind": "noop", "drill": {"fail_first": %1}})J",
         "\"drill.fail_first\" must be an integer between 0 and 1000000", integerBad},
        {"drill fail_rate", R"J({"id": "a", "kind": "noop", "drill": {"fail_rate": %1}})J",
         "\"drill.fail_rate\" must be a number between 0 and 1", ratioBad},
        {"retry max_attempts",
         R"J({"id": "a", "kind": "noop", "retry": {"max_attempts": %1}})J",
         "\"retry.max_attempts\" must be an integer between 1 and 10000",
         {"1e300", "9.3e18", "0", "-1", "2.5", "10001"}},
        {"retry backoff",
         R"J({"id": "a", "kind": "noop", "retry": {"backoff": %1}})J",
         "\"retry.backoff\" must be a number between 1 and 100",
         {"1e300", "0.5", "-2", "101"}},
        {"retry jitter", R"J({"id": "a", "kind": "noop", "retry": {"jitter": %1}})J",
         "\"retry.jitter\" must be a number between 0 and 1", ratioBad},
        {"foreach concurrency",
         R"J({"id": "a", "kind": "noop", "foreach": [1], "concurrency": %1})J",
         "\"concurrency\" must be an integer between 1 and 1000000",
         {"1e300", "9.3e18", "0", "-1", "1000001"}},
        {"tolerate max_failed",
         R"J({"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max_failed": %1}})J",
         "\"tolerate.max_failed\" must be an integer between 0 and 1000000",
         {"1e300", "9.3e18", "-1", "1000001"}},
        {"tolerate max_failed_ratio",
         R"J({"id": "a", "kind": "noop", "foreach": [1], "tolerate": {"max_failed_ratio": %1}})J",
         "\"tolerate.max_failed_ratio\" must be between 0 and 1", ratioBad},
        {"timeout",
         R"J({"id": "a", "kind": "noop", "timeout": %1})J",
         "\"timeout\": a duration must be at most 36500d",
         {"\"36501d\"", "\"999999999999999s\""}},
        {"deadline",
         R"J({"id": "a", "kind": "noop", "deadline": %1})J",
         "\"deadline\": a duration must be at most 36500d",
         {"\"876001h\""}},
        {"delay",
         R"J({"id": "a", "kind": "noop", "delay": %1})J",
         "\"delay\": a duration must be at most 36500d",
         {"\"106751991167d\""}},
        {"retry initial_interval",
         R"J({"id": "a", "kind": "noop", "retry": {"initial_interval": %1}})J",
         "\"retry.initial_interval\": a duration must be at most 36500d",
         {"\"36501d\""}},
        {"retry max_interval",
         R"J({"id": "a", "kind": "noop", "retry": {"max_interval": %1}})J",
         "\"retry.max_interval\": a duration must be at most 36500d",
         {"\"36501d\""}},
        {"delay duration",
         R"J({"id": "a", "kind": "delay", "with": {"duration": %1}})J",
         "\"with.duration\": a duration must be at most 36500d",
         {"\"36501d\""}},
        {"fault latency",
         R"J({"id": "a", "kind": "fault", "with": {"latency": %1}})J",
         "\"with.latency\": a duration must be at most 36500d",
         {"\"36501d\""}},
        {"drill latency",
         R"J({"id": "a", "kind": "noop", "drill": {"latency": %1}})J",
         "\"drill.latency\": a duration must be at most 36500d",
         {"\"36501d\""}},
    };
    for (const Field &f : fields) {
        for (const char *value : f.values) {
            const QByteArray step = QString::fromLatin1(f.json).arg(QLatin1String(value)).toUtf8();
            QTest::addRow("%s %s", f.name, value)
                << step << QByteArray(value) << QString::fromLatin1(f.message);
        }
    }
}

void TestValidation::numbersOutsideTheirRange() {
    verifyTheOneErrorOfTheRow();
}
