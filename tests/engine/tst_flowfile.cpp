// Reading and writing flow files: the positioned JSON reader, canonical serialization, the
// shipped examples, atomic saves, durations and the effective*() policies of the flow model.

#include "model/flowfile.h"
#include "model/jsonpositions.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace keepflow;

namespace {

QByteArray readAll(const QString &path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

Flow parsedOrFail(const QByteArray &text) {
    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    if (!load.ok())
        qWarning("%s", qPrintable(load.errorText()));
    return load.flow.value_or(Flow());
}

// A flow that touches every key the serializer writes, built in code.
Flow everyKeyFlow() {
    Flow f;
    f.name = QStringLiteral("demo");
    f.description = QStringLiteral("Every key once.");
    f.params.append(
        {QStringLiteral("date"), QStringLiteral("2026-11-26"), QStringLiteral("business day"), {}});
    f.params.append({QStringLiteral("count"), QJsonValue(QJsonValue::Undefined), QString(),
                     QJsonObject{{QStringLiteral("x-hint"), QStringLiteral("required")}}});
    f.defaultRetry = QJsonObject{{QStringLiteral("max_attempts"), 4}};
    f.defaultTimeout = Duration{60000, QString()};
    f.resources.append({QStringLiteral("crm"), QJsonObject{{QStringLiteral("concurrency"), 2}}});

    Step a;
    a.id = QStringLiteral("a");
    a.kind = QStringLiteral("shell");
    a.with.insert(QStringLiteral("argv"),
                  QJsonArray{QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("exit 1")});
    a.timeout = Duration{1500, QString()};
    a.retry = QJsonObject();
    a.fallback.kind = Fallback::Kind::Value;
    a.fallback.value = QJsonObject{{QStringLiteral("ok"), true}};
    a.ui = QJsonObject{{QStringLiteral("x"), 0}, {QStringLiteral("y"), 0}};

    Step b;
    b.id = QStringLiteral("b");
    b.kind = QStringLiteral("noop");
    b.description = QStringLiteral("Fan out.");
    b.after = {QStringLiteral("a")};
    b.join = JoinRule::AllDone;
    b.resource = QStringLiteral("crm");
    b.idempotency = Idempotency::None;
    b.foreach = QStringLiteral("{{steps.a.output.items}}");
    b.itemKey = QStringLiteral("{{item.id}}");
    b.concurrency = 2;
    b.tolerate = Tolerate{1, std::nullopt};
    b.with.insert(
        QStringLiteral("output"),
        QJsonObject{{QStringLiteral("nested"),
                     QJsonArray{1, QJsonObject{{QStringLiteral("k"), QStringLiteral("v")}}}}});
    b.deadline = Duration{0, QStringLiteral("2h")};
    b.delay = Duration{250, QString()};
    b.notBefore = QStringLiteral("2026-11-26T06:00:00Z");
    b.extra.insert(QStringLiteral("zeta"), 1);
    b.extra.insert(QStringLiteral("alpha"), QJsonArray{1, 2});

    Step c;
    c.id = QStringLiteral("c");
    c.kind = QStringLiteral("noop");
    c.fallback.kind = Fallback::Kind::Step;
    c.fallback.step = QStringLiteral("a");

    f.steps = {a, b, c};
    f.extra.insert(QStringLiteral("x-owner"), QStringLiteral("team"));
    return f;
}

const char *const kEveryKeyText = R"json({
  "keepflow": 1,
  "name": "demo",
  "description": "Every key once.",
  "params": {
    "count": { "x-hint": "required" },
    "date": { "default": "2026-11-26", "description": "business day" }
  },
  "defaults": {
    "retry": { "max_attempts": 4 },
    "timeout": "1m"
  },
  "resources": {
    "crm": { "concurrency": 2 }
  },
  "steps": [
    {
      "id": "a",
      "kind": "shell",
      "with": {
        "argv": ["sh", "-c", "exit 1"]
      },
      "retry": {},
      "timeout": "1500ms",
      "fallback": {
        "value": { "ok": true }
      },
      "ui": { "x": 0, "y": 0 }
    },
    {
      "id": "b",
      "kind": "noop",
      "description": "Fan out.",
      "after": ["a"],
      "join": "all_done",
      "resource": "crm",
      "idempotency": "none",
      "foreach": "{{steps.a.output.items}}",
      "item_key": "{{item.id}}",
      "concurrency": 2,
      "tolerate": { "max_failed": 1 },
      "with": {
        "output": {
          "nested": [
            1,
            { "k": "v" }
          ]
        }
      },
      "deadline": "2h",
      "delay": "250ms",
      "not_before": "2026-11-26T06:00:00Z",
      "alpha": [1, 2],
      "zeta": 1
    },
    {
      "id": "c",
      "kind": "noop",
      "fallback": { "step": "a" }
    }
  ],
  "x-owner": "team"
}
)json";

} // namespace

class TestFlowFile : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void invalidButWellTypedFlowIsKeptAsADraft();
    // The positioned JSON reader.
    void jsonSyntaxErrorsHaveRealPositions_data();
    void jsonSyntaxErrorsHaveRealPositions();
    void jsonPositionsUseJsonPointers();
    void jsonValuesMatchQJsonDocument();
    void syntaxErrorBecomesOneDiagnostic();

    // Writing.
    void serializeWritesCanonicalLayout();
    void serializeKeepsShortArraysOnOneLine_data();
    void serializeKeepsShortArraysOnOneLine();
    void serializeWritesNumbersAndStrings();
    void serializeRoundTripIsStable_data();
    void serializeRoundTripIsStable();
    void examplesAreValidAndCanonical();
    void schemaKeyIsReadAndWrittenFirst();
    void schemaKeyMustBeAString();
    void saveFlowFileWritesAtomically();
    void loadFlowFileNamesUnreadableFile();

    // Diagnostics.
    void diagnosticToStringFollowsContract_data();
    void diagnosticToStringFollowsContract();

    // The flow model.
    void parseDurationAcceptsNumberAndUnit_data();
    void parseDurationAcceptsNumberAndUnit();
    void formatDurationUsesLargestExactUnit_data();
    void formatDurationUsesLargestExactUnit();
    void effectiveRetryMergesKeyByKey();
    void effectiveTimeoutPrefersStep();
    void namesRoundTrip();
    void lookupsFindById();
};

void TestFlowFile::jsonSyntaxErrorsHaveRealPositions_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");

    auto row = [](const char *name, const QByteArray &text, int line, int column,
                  const char *message) {
        QTest::newRow(name) << text << line << column << QString::fromUtf8(message);
    };
    row("empty", "", 1, 1, "unexpected end of file: expected a JSON value");
    row("only spaces", "  \n  ", 2, 3, "unexpected end of file: expected a JSON value");
    row("open object", "{", 1, 2, "unexpected end of file: expected a string key or '}'");
    row("missing comma", R"({"a": 1 "b": 2})", 1, 9, "expected ',' or '}' after object member");
    row("missing comma in array", "[1 2]", 1, 4, "expected ',' or ']' after array element");
    row("trailing comma in object", R"({"a": 1,})", 1, 9, "trailing comma before '}'");
    row("trailing comma in array", "[1,]", 1, 4, "trailing comma before ']'");
    row("unterminated string", R"({"a": "abc)", 1, 7, "unterminated string");
    row("line break in string", "{\"a\": \"ab\ncd\"}", 1, 7, "unterminated string (write a line");
    row("duplicate key", R"({"id": 1, "id": 2})", 1, 11, "duplicate key \"id\"");
    row("unquoted key", "{a: 1}", 1, 2, "object keys must be strings in double quotes");
    row("missing colon", R"({"a" 1})", 1, 6, "expected ':' after object key \"a\"");
    row("bad literal", R"({"a": tru})", 1, 7, "unexpected word \"tru\": expected a JSON value");
    row("capital literal", "[True]", 1, 2, "unexpected word \"True\"");
    row("single quotes", R"({"a": 'x'})", 1, 7, "strings must be in double quotes");
    row("leading zero", R"({"a": 01})", 1, 7, "invalid number: leading zeros are not allowed");
    row("bare dot", R"({"a": 1.})", 1, 9, "invalid number: expected a digit after '.'");
    row("bare minus", R"({"a": -})", 1, 8, "invalid number: expected a digit after '-'");
    row("bare exponent", R"({"a": 1e})", 1, 9, "expected a digit in the exponent");
    row("number out of range", "[1e999]", 1, 2, "number out of range");
    row("bad escape", R"({"a": "\x"})", 1, 8, "invalid escape \"\\x\" in string");
    row("bad unicode escape", R"({"a": "\u12G4"})", 1, 8, "expected four hex digits");
    row("lone surrogate", R"({"a": "\uD800"})", 1, 8, "unpaired surrogate");
    row("low surrogate first", R"(["\uDC00\uD800"])", 1, 3, "unpaired surrogate");
    row("raw tab in string", "{\"a\": \"x\ty\"}", 1, 9, "character U+0009 must be escaped");
    row("text after value", "{} x", 1, 4, "unexpected 'x' after the JSON value");
    row("comment", "// c\n{}", 1, 1, "unexpected '/': expected a JSON value");
    row("second line", "{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}", 3, 14,
        "unexpected ',': expected a JSON value");
    row("invalid UTF-8", "{\"a\": \"\xff\"}", 1, 8, "invalid UTF-8 byte 0xff in string");
    row("overlong UTF-8", "[\"\xc0\xaf\"]", 1, 3, "invalid UTF-8 byte 0xc0");
    row("columns count characters", "{\"\xc3\xa9\xc3\xa9\": 1 \"b\"}", 1, 10,
        "expected ',' or '}' after object member");
    row("CRLF lines", "{\r\n\"a\": 1\r\n,,}", 3, 2, "unexpected ',': expected a string key");
    row("byte order mark ignored", "\xEF\xBB\xBF{\"a\" 1}", 1, 6, "expected ':'");
    row("nesting too deep", QByteArray(600, '['), 1, 513, "nesting too deep (more than 512");
}

void TestFlowFile::jsonSyntaxErrorsHaveRealPositions() {
    QFETCH(QByteArray, text);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);
    // The same error at the same place whether or not positions are recorded.
    for (const JsonPositions positions : {JsonPositions::Recorded, JsonPositions::NotRecorded}) {
        const JsonParseResult r = parseJson(text, positions);
        QVERIFY(!r.ok);
        QVERIFY2(r.errorMessage.contains(message), qPrintable(r.errorMessage));
        QCOMPARE(r.errorPosition.line, line);
        QCOMPARE(r.errorPosition.column, column);
    }
}

void TestFlowFile::jsonPositionsUseJsonPointers() {
    const QByteArray text = "{\n  \"a/b\": [10, {\"x~y\": \"\xc3\xa9\"}],\n  \"c\": true\n}";
    const JsonParseResult r = parseJsonWithPositions(text);
    QVERIFY(r.ok);
    const auto at = [&](const QString &pointer) {
        const TextPosition p = r.json.valuePositions.value(pointer);
        return QStringLiteral("%1:%2").arg(p.line).arg(p.column);
    };
    QCOMPARE(at(QString()), QStringLiteral("1:1"));
    QCOMPARE(at(QStringLiteral("/a~1b")), QStringLiteral("2:10"));
    QCOMPARE(at(QStringLiteral("/a~1b/0")), QStringLiteral("2:11"));
    QCOMPARE(at(QStringLiteral("/a~1b/1")), QStringLiteral("2:15"));
    QCOMPARE(at(QStringLiteral("/a~1b/1/x~0y")), QStringLiteral("2:23"));
    QCOMPARE(at(QStringLiteral("/c")), QStringLiteral("3:8"));
    QCOMPARE(r.json.valuePositions.size(), 6);

    const TextPosition key = r.json.keyPositions.value(QStringLiteral("/a~1b/1/x~0y"));
    QCOMPARE(key.line, 2);
    QCOMPARE(key.column, 16);
    QCOMPARE(r.json.keyPositions.value(QStringLiteral("/c")).column, 3);

    // Missing paths fall back to their nearest ancestor.
    const TextPosition near = r.json.nearestValuePosition(QStringLiteral("/a~1b/1/nope/0"));
    QCOMPARE(near.line, 2);
    QCOMPARE(near.column, 15);

    QCOMPARE(escapeJsonPointerToken(QStringLiteral("a~/b")), QStringLiteral("a~0~1b"));
    QCOMPARE(parentJsonPointer(QStringLiteral("/a/b")), QStringLiteral("/a"));
    QCOMPARE(parentJsonPointer(QStringLiteral("/a")), QString());
}

void TestFlowFile::jsonValuesMatchQJsonDocument() {
    const QByteArray text = R"json({
  "ints": [0, 7, -42, 9007199254740993, 12345678901234567890],
  "doubles": [0.5, -1.25e-3, 1E3, 2.0, 6.02e23, 277777777773e7, -9.2e18, 9.3e18],
  "strings": ["", "a\"b\\c\/d", "\b\f\n\r\t", "\u00e9\u65e5", "\ud83d\ude00", "日本 é"],
  "literals": [true, false, null],
  "nested": {"a": {"b": [[], {}]}}
})json";
    const JsonParseResult r = parseJsonWithPositions(text);
    QVERIFY2(r.ok, qPrintable(r.errorMessage));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(r.json.value.toObject(), doc.object());
    const JsonParseResult bare = parseJson(text, JsonPositions::NotRecorded);
    QVERIFY2(bare.ok, qPrintable(bare.errorMessage));
    QCOMPARE(bare.json.value.toObject(), doc.object());
    QVERIFY(bare.json.valuePositions.isEmpty());
    QVERIFY(bare.json.keyPositions.isEmpty());
    QCOMPARE(r.json.value[QStringLiteral("ints")][3].toInteger(), 9007199254740993LL);
    QCOMPARE(r.json.value[QStringLiteral("strings")][4].toString(),
             QString::fromUtf8("\xF0\x9F\x98\x80"));
}

void TestFlowFile::syntaxErrorBecomesOneDiagnostic() {
    const FlowLoad load = parseFlow("{\n  \"keepflow\": 1,\n  \"name\": \"x\"\n  \"steps\": []\n}",
                                    QStringLiteral("bad.flow.json"));
    QVERIFY(!load.ok());
    QCOMPARE(load.diagnostics.size(), 1);
    QCOMPARE(load.errorText(), QStringLiteral("bad.flow.json:4:3: error: expected ',' or '}' "
                                              "after object member"));
}

void TestFlowFile::serializeWritesCanonicalLayout() {
    const Flow flow = everyKeyFlow();
    const QByteArray text = serializeFlow(flow);
    QCOMPARE(QString::fromUtf8(text), QString::fromUtf8(kEveryKeyText));

    // What was written reads back to the same flow, unknown keys and editor data included.
    const FlowLoad load = parseFlow(text, QStringLiteral("every.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    QCOMPARE(serializeFlow(*load.flow), text);
    const Step &b = load.flow->steps.at(1);
    QCOMPARE(b.extra.value(QStringLiteral("zeta")).toInt(), 1);
    QCOMPARE(b.delay->ms, 250);
    QCOMPARE(b.delay->text, QStringLiteral("250ms"));
    QCOMPARE(load.flow->steps.at(0).ui->value(QStringLiteral("x")).toInt(), 0);
    QVERIFY(load.flow->param(QStringLiteral("count"))->defaultValue.isUndefined());
}

void TestFlowFile::serializeKeepsShortArraysOnOneLine_data() {
    QTest::addColumn<QString>("argument");
    QTest::addColumn<bool>("oneLine");

    // `        "argv": ["` + argument + `"]` is 20 + length columns; the limit is 100.
    QTest::newRow("fits exactly") << QString(80, QLatin1Char('x')) << true;
    QTest::newRow("one too long") << QString(81, QLatin1Char('x')) << false;
    QTest::newRow("characters, not bytes") << QString(80, QChar(0xE9)) << true;
}

void TestFlowFile::serializeKeepsShortArraysOnOneLine() {
    QFETCH(QString, argument);
    QFETCH(bool, oneLine);
    Flow flow;
    flow.name = QStringLiteral("t");
    Step s;
    s.id = QStringLiteral("a");
    s.kind = QStringLiteral("shell");
    s.with.insert(QStringLiteral("argv"), QJsonArray{argument});
    flow.steps.append(s);
    const QString text = QString::fromUtf8(serializeFlow(flow));
    const QString compact = QStringLiteral("        \"argv\": [\"%1\"]\n").arg(argument);
    const QString expanded =
        QStringLiteral("        \"argv\": [\n          \"%1\"\n        ]\n").arg(argument);
    QVERIFY2(text.contains(oneLine ? compact : expanded), qPrintable(text));
}

void TestFlowFile::serializeWritesNumbersAndStrings() {
    Flow flow;
    flow.name = QStringLiteral("t");
    Step s;
    s.id = QStringLiteral("a");
    s.kind = QStringLiteral("noop");
    const QJsonObject output{
        {QStringLiteral("int"), 42},
        {QStringLiteral("neg"), -7},
        {QStringLiteral("integral double"), 3.0},
        {QStringLiteral("tenth"), 0.1},
        {QStringLiteral("third"), 1.0 / 3.0},
        {QStringLiteral("huge"), 1e300},
        {QStringLiteral("tiny"), -2.5e-8},
        {QStringLiteral("big int"), qint64(9007199254740993LL)},
        {QStringLiteral("text"),
         QString::fromUtf8("q\" b\\ n\n t\t c\x01 / \xc3\xa9 \xf0\x9f\x98\x80")},
    };
    s.with.insert(QStringLiteral("output"), output);
    flow.steps.append(s);
    const QByteArray text = serializeFlow(flow);
    for (const char *fragment :
         {"\"int\": 42,", "\"neg\": -7,", "\"integral double\": 3,", "\"tenth\": 0.1,",
          "\"third\": 0.3333333333333333,", "\"huge\": 1e+300,", "\"tiny\": -2.5e-08\n",
          "\"big int\": 9007199254740993,",
          "\"text\": \"q\\\" b\\\\ n\\n t\\t c\\u0001 / \xc3\xa9 \xf0\x9f\x98\x80\",",
          "\"keepflow\": 1,\n"}) {
        QVERIFY2(text.contains(fragment), fragment);
    }
    const FlowLoad load = parseFlow(text, QString());
    QVERIFY(load.ok());
    QCOMPARE(load.flow->steps.at(0).with.value(QStringLiteral("output")).toObject(), output);
    QVERIFY(text.endsWith("}\n"));
}

void TestFlowFile::serializeRoundTripIsStable_data() {
    QTest::addColumn<QByteArray>("text");

    const QDir examples(QStringLiteral(KEEPFLOW_EXAMPLES_DIR));
    for (const QString &name : examples.entryList({QStringLiteral("*.flow.json")}, QDir::Files))
        QTest::newRow(qPrintable(name)) << readAll(examples.filePath(name));
    QTest::newRow("unknown keys and ui")
        << QByteArray(R"json({"zz": {"b": 1, "a": [1, {"c": null}]},
        "keepflow": 1, "name": "x", "x-tags": ["a"],
        "defaults": {"timeout": "90s", "later": true},
        "params": {"p": {"default": {"deep": [1, 2.5]}, "note": "kept"}},
        "steps": [{"ui": {"y": 120.5, "x": -40, "collapsed": false}, "kind": "noop", "id": "s",
                   "owner": "ops", "with": {"output": "{{params.p}}"}, "timeout": "0100ms"}]})json");
    QTest::newRow("every key") << QByteArray(kEveryKeyText);
}

void TestFlowFile::serializeRoundTripIsStable() {
    QFETCH(QByteArray, text);
    const Flow first = parsedOrFail(text);
    const QByteArray once = serializeFlow(first);
    const QByteArray twice = serializeFlow(parsedOrFail(once));
    QCOMPARE(QString::fromUtf8(twice), QString::fromUtf8(once));
    // Durations keep the text as written, even when not the shortest form.
    if (text.contains("0100ms"))
        QVERIFY(once.contains("\"timeout\": \"0100ms\""));
}

void TestFlowFile::examplesAreValidAndCanonical() {
    const QDir examples(QStringLiteral(KEEPFLOW_EXAMPLES_DIR));
    const QStringList names = examples.entryList({QStringLiteral("*.flow.json")}, QDir::Files);
    QVERIFY2(names.size() >= 3, qPrintable(examples.absolutePath()));
    const QStringList executable{QStringLiteral("noop"), QStringLiteral("delay"),
                                 QStringLiteral("shell"), QStringLiteral("fault")};
    int runnable = 0;
    for (const QString &name : names) {
        const QString path = examples.filePath(name);
        const FlowLoad load = loadFlowFile(path);
        QVERIFY2(load.ok(), qPrintable(load.errorText()));
        QStringList problems;
        for (const Diagnostic &d : load.diagnostics)
            problems.append(d.toString());
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QVERIFY2(serializeFlow(*load.flow) == readAll(path),
                 qPrintable(name + QStringLiteral(" is not in canonical form")));
        bool allExecutable = true;
        for (const Step &s : load.flow->steps)
            allExecutable = allExecutable && executable.contains(s.kind);
        runnable += allExecutable ? 1 : 0;
    }
    QVERIFY(runnable >= 2);
}

// "$schema" names the JSON Schema for editors: accepted without a warning, kept as written and
// written first, where editors look for it; a file without one is written without one.
void TestFlowFile::schemaKeyIsReadAndWrittenFirst() {
    const QByteArray text = R"json({"keepflow": 1, "name": "x",
        "steps": [{"id": "a", "kind": "noop"}],
        "$schema": "https://keepflow.io/schema/flow-1.json"})json";
    const FlowLoad load = parseFlow(text, QStringLiteral("t.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    QVERIFY(load.diagnostics.isEmpty()); // no "unknown key" warning
    QCOMPARE(load.flow->schema, QStringLiteral("https://keepflow.io/schema/flow-1.json"));
    QVERIFY(load.flow->extra.isEmpty());
    const QByteArray saved = serializeFlow(*load.flow);
    QVERIFY2(saved.startsWith("{\n  \"$schema\": \"https://keepflow.io/schema/flow-1.json\",\n"
                              "  \"keepflow\": 1,\n"),
             saved.constData());
    QCOMPARE(saved.count("$schema"), 1);
    QCOMPARE(serializeFlow(parsedOrFail(saved)), saved);

    // An empty string is what the file said: kept too.
    const Flow empty = parsedOrFail(R"json({"$schema": "", "keepflow": 1, "name": "x",
        "steps": [{"id": "a", "kind": "noop"}]})json");
    QCOMPARE(empty.schema, QString());
    QVERIFY(serializeFlow(empty).contains("\"$schema\": \"\""));

    const Flow without = parsedOrFail(
        R"json({"keepflow": 1, "name": "x", "steps": [{"id": "a", "kind": "noop"}]})json");
    QVERIFY(!without.schema);
    QVERIFY(!serializeFlow(without).contains("$schema"));
}

void TestFlowFile::schemaKeyMustBeAString() {
    const FlowLoad load = parseFlow(R"json({"keepflow": 1, "name": "x",
  "$schema": 1,
  "steps": [{"id": "a", "kind": "noop"}]})json",
                                    QStringLiteral("t.flow.json"));
    QVERIFY(!load.ok());
    QCOMPARE(load.diagnostics.size(), 1);
    const Diagnostic &d = load.diagnostics.first();
    QCOMPARE(d.path, QStringLiteral("/$schema"));
    QCOMPARE(d.line, 2);
    QCOMPARE(d.column, 14);
    QVERIFY2(d.message.contains(QLatin1String("\"$schema\" must be a string")),
             qPrintable(d.message));
}

void TestFlowFile::saveFlowFileWritesAtomically() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("demo.flow.json"));
    Flow flow = everyKeyFlow();
    QVERIFY(saveFlowFile(flow, path).isOk());
    QCOMPARE(readAll(path), serializeFlow(flow));

    flow.name = QStringLiteral("renamed");
    QVERIFY(saveFlowFile(flow, path).isOk());
    const FlowLoad load = loadFlowFile(path);
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    QCOMPARE(load.flow->name, QStringLiteral("renamed"));
    // No temporary file is left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
             QStringList{QStringLiteral("demo.flow.json")});

    const QString badPath = dir.filePath(QStringLiteral("missing/folder/x.flow.json"));
    const Status failed = saveFlowFile(flow, badPath);
    QVERIFY(!failed.isOk());
    QVERIFY(failed.message().contains(badPath));
    QVERIFY(!QFile::exists(badPath));
}

void TestFlowFile::loadFlowFileNamesUnreadableFile() {
    const QString path = QStringLiteral("/nonexistent/keepflow/x.flow.json");
    const FlowLoad load = loadFlowFile(path);
    QVERIFY(!load.ok());
    QCOMPARE(load.diagnostics.size(), 1);
    QVERIFY(load.errorText().startsWith(path + QStringLiteral(": error: cannot read the file")));
}

void TestFlowFile::diagnosticToStringFollowsContract_data() {
    QTest::addColumn<int>("severity");
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("expected");

    QTest::newRow("error") << 0 << "f.flow.json" << 3 << "/steps/0"
                           << "f.flow.json:3:7: error: m";
    QTest::newRow("warning") << 1 << "f.flow.json" << 3 << ""
                             << "f.flow.json:3:7: warning: m";
    QTest::newRow("no position") << 0 << "f.flow.json" << 0 << ""
                                 << "f.flow.json: error: m";
    QTest::newRow("in memory") << 0 << "" << 0 << "/name"
                               << "error: m (at /name)";
}

void TestFlowFile::diagnosticToStringFollowsContract() {
    QFETCH(int, severity);
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(QString, path);
    QFETCH(QString, expected);
    Diagnostic d;
    d.severity = severity == 0 ? Diagnostic::Severity::Error : Diagnostic::Severity::Warning;
    d.file = file;
    d.line = line;
    d.column = line > 0 ? 7 : 0;
    d.path = path;
    d.message = QStringLiteral("m");
    QCOMPARE(d.toString(), expected);
}

void TestFlowFile::parseDurationAcceptsNumberAndUnit_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ms"); // -1: invalid

    QTest::newRow("ms") << "250ms" << qint64(250);
    QTest::newRow("s") << "10s" << qint64(10000);
    QTest::newRow("m") << "5m" << qint64(300000);
    QTest::newRow("h") << "2h" << qint64(7200000);
    QTest::newRow("d") << "1d" << qint64(86400000);
    QTest::newRow("zero") << "0s" << qint64(0);
    QTest::newRow("leading zeros") << "007s" << qint64(7000);
    QTest::newRow("largest") << "106751991167d" << qint64(106751991167LL * 86400000);
    QTest::newRow("overflow") << "106751991168d" << qint64(-1);
    QTest::newRow("empty") << "" << qint64(-1);
    QTest::newRow("unit only") << "s" << qint64(-1);
    QTest::newRow("no unit") << "10" << qint64(-1);
    QTest::newRow("space") << "10 s" << qint64(-1);
    QTest::newRow("leading space") << " 10s" << qint64(-1);
    QTest::newRow("trailing space") << "10s " << qint64(-1);
    QTest::newRow("capital unit") << "10S" << qint64(-1);
    QTest::newRow("fraction") << "1.5s" << qint64(-1);
    QTest::newRow("negative") << "-1s" << qint64(-1);
    QTest::newRow("word unit") << "10sec" << qint64(-1);
    QTest::newRow("two units") << "1h30m" << qint64(-1);
    QTest::newRow("non-ASCII digit") << QString::fromUtf8("\xd9\xa1s") << qint64(-1);
    QTest::newRow("too many digits") << "0000000000000001s" << qint64(-1);
}

void TestFlowFile::parseDurationAcceptsNumberAndUnit() {
    QFETCH(QString, text);
    QFETCH(qint64, ms);
    const std::optional<qint64> parsed = parseDurationMs(text);
    QCOMPARE(parsed.value_or(-1), ms);
}

void TestFlowFile::formatDurationUsesLargestExactUnit_data() {
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");

    QTest::newRow("zero") << qint64(0) << "0s";
    QTest::newRow("ms") << qint64(250) << "250ms";
    QTest::newRow("not whole seconds") << qint64(1500) << "1500ms";
    QTest::newRow("s") << qint64(1000) << "1s";
    QTest::newRow("90s") << qint64(90000) << "90s";
    QTest::newRow("m") << qint64(60000) << "1m";
    QTest::newRow("90m") << qint64(5400000) << "90m";
    QTest::newRow("h") << qint64(7200000) << "2h";
    QTest::newRow("d") << qint64(86400000) << "1d";
    QTest::newRow("36h") << qint64(129600000) << "36h";
}

void TestFlowFile::formatDurationUsesLargestExactUnit() {
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(formatDuration(ms), text);
    QCOMPARE(parseDurationMs(text).value_or(-1), ms);
}

void TestFlowFile::effectiveRetryMergesKeyByKey() {
    Flow flow;
    Step s;
    s.id = QStringLiteral("a");

    const RetryPolicy builtIn = flow.effectiveRetry(s);
    QCOMPARE(builtIn.maxAttempts, 3);
    QCOMPARE(builtIn.initialIntervalMs, 1000);
    QCOMPARE(builtIn.backoff, 2.0);
    QCOMPARE(builtIn.maxIntervalMs, 300000);
    QCOMPARE(builtIn.jitter, 0.2);
    QCOMPARE(builtIn.nonRetryable, QStringList{QStringLiteral("permanent")});

    flow.defaultRetry =
        QJsonObject{{QStringLiteral("max_attempts"), 5},
                    {QStringLiteral("initial_interval"), QStringLiteral("2s")},
                    {QStringLiteral("non_retryable"), QJsonArray{QStringLiteral("garbage"), 409}}};
    s.retry = QJsonObject{{QStringLiteral("max_attempts"), 2},
                          {QStringLiteral("jitter"), 0},
                          {QStringLiteral("max_interval"), QStringLiteral("10s")}};
    const RetryPolicy merged = flow.effectiveRetry(s);
    QCOMPARE(merged.maxAttempts, 2);          // step
    QCOMPARE(merged.initialIntervalMs, 2000); // defaults
    QCOMPARE(merged.backoff, 2.0);            // built in
    QCOMPARE(merged.maxIntervalMs, 10000);    // step
    QCOMPARE(merged.jitter, 0.0);             // step
    // Permanent errors are never retried; non_retryable adds to them.
    QCOMPARE(merged.nonRetryable, (QStringList{QStringLiteral("permanent"),
                                               QStringLiteral("garbage"), QStringLiteral("409")}));

    // Invalid values are left to validation and do not change the policy.
    s.retry = QJsonObject{{QStringLiteral("max_attempts"), 0},
                          {QStringLiteral("backoff"), 0.5},
                          {QStringLiteral("initial_interval"), QStringLiteral("soon")}};
    const RetryPolicy kept = flow.effectiveRetry(s);
    QCOMPARE(kept.maxAttempts, 5);
    QCOMPARE(kept.backoff, 2.0);
    QCOMPARE(kept.initialIntervalMs, 2000);
}

void TestFlowFile::effectiveTimeoutPrefersStep() {
    Flow flow;
    Step s;
    QVERIFY(!flow.effectiveTimeoutMs(s).has_value());
    flow.defaultTimeout = Duration{0, QStringLiteral("1m")};
    QCOMPARE(flow.effectiveTimeoutMs(s).value_or(-1), 60000);
    s.timeout = Duration{10000, QString()};
    QCOMPARE(flow.effectiveTimeoutMs(s).value_or(-1), 10000);
}

void TestFlowFile::namesRoundTrip() {
    for (JoinRule r :
         {JoinRule::AllSucceeded, JoinRule::AllDone, JoinRule::AnySucceeded, JoinRule::NoneFailed})
        QCOMPARE(joinRuleFromName(QString::fromLatin1(joinRuleName(r))), r);
    QCOMPARE(QByteArray(joinRuleName(JoinRule::NoneFailed)), QByteArray("none_failed"));
    QVERIFY(!joinRuleFromName(QStringLiteral("All_Done")));
    for (Idempotency i : {Idempotency::Idempotent, Idempotency::Keyed, Idempotency::None})
        QCOMPARE(idempotencyFromName(QString::fromLatin1(idempotencyName(i))), i);
    QVERIFY(!idempotencyFromName(QString()));
    QCOMPARE(knownStepKinds(),
             (QStringList{QStringLiteral("noop"), QStringLiteral("delay"), QStringLiteral("shell"),
                          QStringLiteral("http"), QStringLiteral("sql"), QStringLiteral("approval"),
                          QStringLiteral("subflow"), QStringLiteral("fault")}));
    Step s;
    QCOMPARE(s.effectiveJoin(), JoinRule::AllSucceeded);
    QCOMPARE(s.effectiveIdempotency(), Idempotency::Keyed);
    QVERIFY(s.foreach.isUndefined());
}

void TestFlowFile::lookupsFindById() {
    const Flow flow = everyKeyFlow();
    QCOMPARE(flow.indexOfStep(QStringLiteral("b")), 1);
    QCOMPARE(flow.indexOfStep(QStringLiteral("zz")), -1);
    QCOMPARE(flow.step(QStringLiteral("c"))->fallback.step, QStringLiteral("a"));
    QVERIFY(!flow.step(QStringLiteral("zz")));
    QCOMPARE(flow.resource(QStringLiteral("crm"))
                 ->definition.value(QStringLiteral("concurrency"))
                 .toInt(),
             2);
    QVERIFY(!flow.resource(QStringLiteral("db")));
    QCOMPARE(flow.param(QStringLiteral("date"))->description, QStringLiteral("business day"));
    QVERIFY(!flow.param(QStringLiteral("nope")));
}

void TestFlowFile::invalidButWellTypedFlowIsKeptAsADraft() {
    // Semantic errors (an unknown upstream, no steps yet): not runnable, but an editor opens it.
    const QByteArray unknownUpstream = R"({
  "keepflow": 1,
  "name": "draft",
  "steps": [
    {
      "id": "a",
      "kind": "noop",
      "after": ["missing"]
    }
  ]
}
)";
    FlowLoad load = parseFlow(unknownUpstream, QStringLiteral("draft.flow.json"));
    QVERIFY(!load.ok());
    QVERIFY(load.draft.has_value());
    QCOMPARE(serializeFlow(*load.draft), unknownUpstream);
    FlowLoad empty =
        parseFlow(R"({ "keepflow": 1, "name": "e", "steps": [] })", QStringLiteral("e"));
    QVERIFY(!empty.ok());
    QVERIFY(empty.draft.has_value());
    // A value of the wrong type would be lost on saving: no draft then.
    FlowLoad wrongType = parseFlow(R"({ "keepflow": 1, "name": "w", "steps": [
        { "id": "a", "kind": "noop", "timeout": 5 } ] })",
                                   QStringLiteral("w"));
    QVERIFY(!wrongType.ok());
    QVERIFY(!wrongType.draft.has_value());
}

QTEST_GUILESS_MAIN(TestFlowFile)
#include "tst_flowfile.moc"
