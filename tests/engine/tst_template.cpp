// Templates: parsing {{...}} references and rendering them against a run's values.

#include "core/messagetext.h"
#include "model/template.h"
#include "model/urltemplate.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace keepflow;

namespace {

QJsonValue json(const QByteArray &text) {
    // Wrapped so that scalars parse too.
    return QJsonDocument::fromJson("[" + text + "]").array().at(0);
}

QString refsText(const QList<TemplateRef> &refs) {
    QStringList parts;
    for (const TemplateRef &r : refs)
        parts.append(QStringLiteral("%1[%2]@%3+%4")
                         .arg(r.root, r.path.join(QLatin1Char('.')))
                         .arg(r.offset)
                         .arg(r.length));
    return parts.join(QLatin1Char(' '));
}

TemplateScope sampleScope() {
    TemplateScope scope;
    scope.params = json(R"({"date": "2026-11-26", "n": 3, "ratio": 0.25, "big": 12345678901,
                            "flag": true, "none": null, "obj": {"a": 1, "b": [true, "x"]},
                            "list": [10, 20, 30]})")
                       .toObject();
    scope.stepOutputs.insert(QStringLiteral("fetch"),
                             json(R"({"status": 200, "body": {"orders": [{"id": "o1"},
                                     {"id": "o2", "customer": {"email": "c@example.com"}}]}})"));
    scope.stepOutputs.insert(QStringLiteral("dash-ed_id"), json("\"plain\""));
    scope.item = json(R"({"id": 7, "name": "seven", "tags": ["a", "b"]})");
    scope.runId = QStringLiteral("run-1");
    scope.idempotencyKey = QStringLiteral("run-1/notify/7");
    return scope;
}

} // namespace

class TestTemplate : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parseFindsReferences_data();
    void parseFindsReferences();
    void parseRejectsBadSyntax_data();
    void parseRejectsBadSyntax();
    void hasTemplateSeesOpeningBraces();
    void renderWholeTemplateKeepsJsonValue_data();
    void renderWholeTemplateKeepsJsonValue();
    void renderInsideTextWritesText_data();
    void renderInsideTextWritesText();
    void renderReportsWhatIsMissing_data();
    void renderReportsWhatIsMissing();
    void renderWalksObjectsAndArraysButNotKeys();
    void renderLeavesPlainValuesAlone();
    void renderUrlEncodesEachPart_data();
    void renderUrlEncodesEachPart();
    void renderUrlRefuses_data();
    void renderUrlRefuses();
    void quotedForMessageEscapesControlCharacters();
};

void TestTemplate::parseFindsReferences_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("refs");

    QTest::newRow("none") << "plain text"
                          << "";
    QTest::newRow("single braces") << "{a} } {"
                                   << "";
    QTest::newRow("param") << "{{params.date}}"
                           << "params[date]@0+15";
    QTest::newRow("inner spaces") << "{{ params.date }}"
                                  << "params[date]@0+17";
    QTest::newRow("tab inside") << "{{\tparams.date}}"
                                << "params[date]@0+16";
    QTest::newRow("step path") << "x={{steps.fetch.output.body.orders}}"
                               << "steps[fetch.output.body.orders]@2+34";
    QTest::newRow("array index") << "{{steps.a.output.rows.0.name}}"
                                 << "steps[a.output.rows.0.name]@0+30";
    QTest::newRow("dash and underscore") << "{{steps.my-step_2.output}}"
                                         << "steps[my-step_2.output]@0+26";
    QTest::newRow("item alone") << "{{item}}"
                                << "item[]@0+8";
    QTest::newRow("item path") << "{{item.customer.email}}"
                               << "item[customer.email]@0+23";
    QTest::newRow("run id") << "{{run.id}}"
                            << "run[id]@0+10";
    QTest::newRow("idempotency key") << "k-{{idempotency_key}}"
                                     << "idempotency_key[]@2+19";
    QTest::newRow("two") << "{{params.a}}/{{params.b}}"
                         << "params[a]@0+12 params[b]@13+12";
    QTest::newRow("non-ASCII around") << "é {{item}} ü"
                                      << "item[]@2+8";
}

void TestTemplate::parseFindsReferences() {
    QFETCH(QString, text);
    QFETCH(QString, refs);
    const auto parsed = parseTemplates(text);
    QVERIFY2(parsed.isOk(), qPrintable(parsed.error()));
    QCOMPARE(refsText(*parsed), refs);
}

void TestTemplate::parseRejectsBadSyntax_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("error");

    QTest::newRow("unclosed") << "a {{params.x"
                              << "template at offset 2: \"{{\" is not closed by \"}}\"";
    QTest::newRow("single closing") << "{{params.x}"
                                    << "is not closed";
    QTest::newRow("empty") << "{{}}"
                           << "template at offset 0: empty template";
    QTest::newRow("only spaces") << "x{{   }}"
                                 << "template at offset 1: empty template";
    QTest::newRow("unknown root") << "{{param.x}}"
                                  << "unknown root \"param\": use params, steps, item, run, "
                                     "idempotency_key or secrets";
    QTest::newRow("empty part") << "{{params..x}}"
                                << "empty part in \"params..x\"";
    QTest::newRow("trailing dot") << "{{params.x.}}"
                                  << "empty part";
    QTest::newRow("space inside") << "{{params.a b}}"
                                  << "bad part \"a b\"";
    QTest::newRow("leading zero index") << "{{item.01}}"
                                        << "bad part \"01\"";
    QTest::newRow("negative index") << "{{item.-1}}"
                                    << "bad part \"-1\"";
    QTest::newRow("brackets") << "{{item[0]}}"
                              << "unknown root \"item[0]\"";
    QTest::newRow("second bad") << "{{item}} {{nope}}"
                                << "template at offset 9: unknown root";
}

void TestTemplate::parseRejectsBadSyntax() {
    QFETCH(QString, text);
    QFETCH(QString, error);
    const auto parsed = parseTemplates(text);
    QVERIFY(!parsed.isOk());
    QVERIFY2(parsed.error().contains(error), qPrintable(parsed.error()));
}

void TestTemplate::hasTemplateSeesOpeningBraces() {
    QVERIFY(hasTemplate(QStringLiteral("a {{b")));
    QVERIFY(!hasTemplate(QStringLiteral("a { {b }}")));
    QVERIFY(!hasTemplate(QString()));
}

void TestTemplate::renderWholeTemplateKeepsJsonValue_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("string") << "{{params.date}}" << QByteArray("\"2026-11-26\"");
    QTest::newRow("integer stays a number") << "{{params.n}}" << QByteArray("3");
    QTest::newRow("double") << "{{params.ratio}}" << QByteArray("0.25");
    QTest::newRow("bool") << "{{params.flag}}" << QByteArray("true");
    QTest::newRow("null") << "{{params.none}}" << QByteArray("null");
    QTest::newRow("object") << "{{params.obj}}" << QByteArray(R"({"a": 1, "b": [true, "x"]})");
    QTest::newRow("array") << "{{steps.fetch.output.body.orders}}"
                           << QByteArray(R"([{"id": "o1"}, {"id": "o2", "customer":
                                             {"email": "c@example.com"}}])");
    QTest::newRow("index") << "{{params.list.2}}" << QByteArray("30");
    QTest::newRow("deep") << "{{ steps.fetch.output.body.orders.1.customer.email }}"
                          << QByteArray("\"c@example.com\"");
    QTest::newRow("whole output") << "{{steps.dash-ed_id.output}}" << QByteArray("\"plain\"");
    QTest::newRow("item") << "{{item}}"
                          << QByteArray(R"({"id": 7, "name": "seven", "tags": ["a", "b"]})");
    QTest::newRow("item path") << "{{item.tags.1}}" << QByteArray("\"b\"");
    QTest::newRow("item number") << "{{item.id}}" << QByteArray("7");
    QTest::newRow("run id") << "{{run.id}}" << QByteArray("\"run-1\"");
    QTest::newRow("idempotency key") << "{{idempotency_key}}" << QByteArray("\"run-1/notify/7\"");
}

void TestTemplate::renderWholeTemplateKeepsJsonValue() {
    QFETCH(QString, text);
    QFETCH(QByteArray, expected);
    const auto rendered = renderTemplates(QJsonValue(text), sampleScope());
    QVERIFY2(rendered.isOk(), qPrintable(rendered.error()));
    QCOMPARE(*rendered, json(expected));
}

void TestTemplate::renderInsideTextWritesText_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("string") << "day={{params.date}}"
                            << "day=2026-11-26";
    QTest::newRow("integer without .0") << "n={{params.n}}"
                                        << "n=3";
    QTest::newRow("large integer") << "{{params.big}}!"
                                   << "12345678901!";
    QTest::newRow("double") << "r={{params.ratio}}"
                            << "r=0.25";
    QTest::newRow("bool") << "{{params.flag}} "
                          << "true ";
    QTest::newRow("null is empty") << "[{{params.none}}]"
                                   << "[]";
    QTest::newRow("object as compact JSON") << "o={{params.obj}}"
                                            << R"(o={"a":1,"b":[true,"x"]})";
    QTest::newRow("array as compact JSON") << "l={{params.list}}"
                                           << "l=[10,20,30]";
    QTest::newRow("several") << "{{run.id}}:{{item.id}}:{{item.name}}"
                             << "run-1:7:seven";
    QTest::newRow("spaces kept outside") << "  {{item.id}}  "
                                         << "  7  ";
    QTest::newRow("no shell quoting") << "echo {{params.date}}; rm"
                                      << "echo 2026-11-26; rm";
}

void TestTemplate::renderInsideTextWritesText() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const auto rendered = renderTemplates(QJsonValue(text), sampleScope());
    QVERIFY2(rendered.isOk(), qPrintable(rendered.error()));
    QCOMPARE(rendered->toString(), expected);
    QVERIFY(rendered->isString());
}

void TestTemplate::renderReportsWhatIsMissing_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("withItem");
    QTest::addColumn<QString>("error");

    QTest::newRow("missing key") << "{{steps.fetch.output.body.orders_}}" << true
                                 << "template {{steps.fetch.output.body.orders_}}: \"orders_\" "
                                    "not found in steps.fetch.output.body";
    QTest::newRow("missing param")
        << "x {{params.day}}" << true << "template {{params.day}}: \"day\" not found in params";
    QTest::newRow("index out of range") << "{{params.list.3}}" << true
                                        << "template {{params.list.3}}: index 3 not found in "
                                           "params.list (it has 3 elements)";
    QTest::newRow("name on array")
        << "{{params.list.first}}" << true << "\"first\" not found in params.list: it is an array";
    QTest::newRow("part of a scalar")
        << "{{params.date.year}}" << true << "\"year\" not found in params.date: it is a string";
    QTest::newRow("step without output") << "{{steps.later.output}}" << true
                                         << "template {{steps.later.output}}: step \"later\" has "
                                            "no output";
    QTest::newRow("step without .output")
        << "{{steps.fetch.status}}" << true << "use steps.fetch.output";
    QTest::newRow("no item") << "{{item.id}}" << false << "template {{item.id}}: there is no item";
    QTest::newRow("run part") << "{{run.name}}" << true << "only {{run.id}} is available";
    QTest::newRow("syntax") << "{{params.x" << true << "is not closed";
}

void TestTemplate::renderReportsWhatIsMissing() {
    QFETCH(QString, text);
    QFETCH(bool, withItem);
    QFETCH(QString, error);
    TemplateScope scope = sampleScope();
    if (!withItem)
        scope.item.reset();
    // Deep inside a value, so that the error is seen through the recursion.
    const QJsonValue value = QJsonObject{{QStringLiteral("a"), QJsonArray{1, text}}};
    const auto rendered = renderTemplates(value, scope);
    QVERIFY(!rendered.isOk());
    QVERIFY2(rendered.error().contains(error), qPrintable(rendered.error()));
}

void TestTemplate::renderWalksObjectsAndArraysButNotKeys() {
    const QJsonValue input = json(R"({"{{params.date}}": "{{params.n}}",
                                      "list": ["{{item.id}}", {"deep": "id {{item.id}}"}, 5, null],
                                      "url": "http://h/o?d={{params.date}}"})");
    const auto rendered = renderTemplates(input, sampleScope());
    QVERIFY2(rendered.isOk(), qPrintable(rendered.error()));
    const QJsonValue expected = json(R"({"{{params.date}}": 3,
                                         "list": [7, {"deep": "id 7"}, 5, null],
                                         "url": "http://h/o?d=2026-11-26"})");
    QCOMPARE(*rendered, expected);
}

void TestTemplate::renderLeavesPlainValuesAlone() {
    const QJsonValue input = json(R"({"a": "no templates { here }", "b": [1.5, false]})");
    const auto rendered = renderTemplates(input, TemplateScope());
    QVERIFY(rendered.isOk());
    QCOMPARE(*rendered, input);
}

void TestTemplate::renderUrlEncodesEachPart_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("value"); ///< params.x
    QTest::addColumn<QString>("rendered");

    QTest::newRow("no template") << QStringLiteral("https://h/a?b=c#d") << QString()
                                 << QStringLiteral("https://h/a?b=c#d");
    QTest::newRow("query value") << QStringLiteral("https://h/o?date={{params.x}}&limit=1")
                                 << QStringLiteral("2026&admin=true#frag")
                                 << QStringLiteral(
                                        "https://h/o?date=2026%26admin%3Dtrue%23frag&limit=1");
    QTest::newRow("query key") << QStringLiteral("https://h/o?{{params.x}}=1")
                               << QStringLiteral("a=b&c+d%")
                               << QStringLiteral("https://h/o?a%3Db%26c%2Bd%25=1");
    QTest::newRow("value after =, then a key")
        << QStringLiteral("https://h/o?a=1&{{params.x}}") << QStringLiteral("=")
        << QStringLiteral("https://h/o?a=1&%3D");
    QTest::newRow("path segment") << QStringLiteral("https://h/users/{{params.x}}/profile")
                                  << QStringLiteral("../../admin?")
                                  << QStringLiteral("https://h/users/..%2F..%2Fadmin%3F/profile");
    QTest::newRow("dots inside a segment")
        << QStringLiteral("https://h/f/v{{params.x}}") << QStringLiteral("..")
        << QStringLiteral("https://h/f/v..");
    QTest::newRow("unicode and space")
        << QStringLiteral("https://h/{{params.x}}") << QStringLiteral("ä b")
        << QStringLiteral("https://h/%C3%A4%20b");
    QTest::newRow("fragment") << QStringLiteral("https://h/p#{{params.x}}")
                              << QStringLiteral("a#b c") << QStringLiteral("https://h/p#a%23b%20c");
    QTest::newRow("host") << QStringLiteral("http://{{params.x}}/v1")
                          << QStringLiteral("api.local:8080")
                          << QStringLiteral("http://api.local:8080/v1");
    QTest::newRow("base URL") << QStringLiteral("{{params.x}}/users/{{params.x}}")
                              << QStringLiteral("https://api.example/v1")
                              << QStringLiteral(
                                     "https://api.example/v1/users/https%3A%2F%2Fapi.example%2Fv1");
    QTest::newRow("whole URL") << QStringLiteral("{{params.x}}")
                               << QStringLiteral("https://h/a%2Fb?c=d#e")
                               << QStringLiteral("https://h/a%2Fb?c=d#e");
}

void TestTemplate::renderUrlEncodesEachPart() {
    QFETCH(QString, url);
    QFETCH(QString, value);
    QFETCH(QString, rendered);
    TemplateScope scope;
    scope.params.insert(QStringLiteral("x"), value);
    const Result<QUrl> result = renderUrl(url, scope);
    QVERIFY2(result, qPrintable(result.error()));
    QCOMPARE(result->toString(QUrl::FullyEncoded), rendered);
}

void TestTemplate::renderUrlRefuses_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("error");

    QTest::newRow("whole URL: another scheme")
        << QStringLiteral("{{params.x}}") << QStringLiteral("file:///etc/passwd")
        << QStringLiteral("template {{params.x}} gave \"file:///etc/passwd\", which is not an "
                          "http:// or https:// URL with a host");
    QTest::newRow("whole URL: no host")
        << QStringLiteral("{{params.x}}") << QStringLiteral("https:///x")
        << QStringLiteral("not an http:// or https:// URL with a host");
    QTest::newRow("whole URL: not a URL")
        << QStringLiteral("{{params.x}}") << QStringLiteral("orders")
        << QStringLiteral("gave \"orders\", which is not");
    QTest::newRow("base with a query")
        << QStringLiteral("{{params.x}}/more") << QStringLiteral("https://h/?a=1")
        << QStringLiteral("a base URL followed by more text cannot "
                          "have a query or a fragment");
    QTest::newRow("inside the scheme")
        << QStringLiteral("http{{params.x}}://h/") << QStringLiteral("s")
        << QStringLiteral("cannot be part of the URL's scheme");
    QTest::newRow("host with user info")
        << QStringLiteral("https://{{params.x}}/") << QStringLiteral("good@evil")
        << QStringLiteral("gave \"good@evil\", which is not a host name");
    QTest::newRow("dot segment") << QStringLiteral("https://h/a/{{params.x}}/b")
                                 << QStringLiteral(".")
                                 << QStringLiteral("cannot be empty, \".\" or \"..\"");
    QTest::newRow("dot-dot at the end") << QStringLiteral("https://h/a/{{params.x}}")
                                        << QStringLiteral("..") << QStringLiteral("(got \"..\"");
    QTest::newRow("dot-dot before the query")
        << QStringLiteral("https://h/a/{{params.x}}?q=1") << QStringLiteral("..")
        << QStringLiteral("(got \"..\"");
    QTest::newRow("empty segment")
        << QStringLiteral("https://h/a/{{params.x}}/b") << QString() << QStringLiteral("(got \"\"");
    QTest::newRow("control characters are escaped")
        << QStringLiteral("{{params.x}}") << QStringLiteral("x\r\nInjected: 1")
        << QStringLiteral("gave \"x\\r\\nInjected: 1\"");
}

void TestTemplate::renderUrlRefuses() {
    QFETCH(QString, url);
    QFETCH(QString, value);
    QFETCH(QString, error);
    TemplateScope scope;
    scope.params.insert(QStringLiteral("x"), value);
    const Result<QUrl> result = renderUrl(url, scope);
    QVERIFY2(!result, qPrintable(result ? result->toString() : QString()));
    QVERIFY2(result.error().contains(error), qPrintable(result.error()));
}

void TestTemplate::quotedForMessageEscapesControlCharacters() {
    QCOMPARE(quotedForMessage(u"a\r\nb\t\x1b[31m\"\\"),
             QStringLiteral("\"a\\r\\nb\\t\\x1b[31m\\\"\\\\\""));
    QCOMPARE(quotedForMessage(u"\u2028\u0085"), QStringLiteral("\"\\u2028\\x85\""));
    QCOMPARE(quotedForMessage(u"abcdef", 3), QStringLiteral("\"abc…\""));
    QCOMPARE(escapeControlCharacters(u"GET http://h/\n"), QStringLiteral("GET http://h/\\n"));
}

QTEST_GUILESS_MAIN(TestTemplate)
#include "tst_template.moc"
