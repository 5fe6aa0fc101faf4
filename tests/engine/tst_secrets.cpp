// {{secrets.NAME}}: where values come from (environment, owner-only file, an injected source),
// where validation allows them, and that a value reaches the server or the command but never
// the database or anything keepflowctl prints.

#include "harness.h"
#include "httptestserver.h"
#include "model/flowfile.h"
#include "model/secrets.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace keepflow;
using keepflow::test::HttpTestServer;
using keepflow::test::HttpTestServerThread;

namespace {

/// A random 32-character token: found in a byte dump only if it leaked.
QString randomToken() {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString token;
    for (int i = 0; i < 32; ++i)
        token += QLatin1Char(alphabet[QRandomGenerator::global()->bounded(62)]);
    return token;
}

bool writeFile(const QString &path, const QByteArray &text, QFileDevice::Permissions mode) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    file.write(text);
    file.close();
    return file.setPermissions(mode);
}

QByteArray readAll(const QString &path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

const auto kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

struct Outcome {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

} // namespace

class TestSecrets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void environmentNameIsUpperCased();
    void fileIsReadWhenOwnerOnly();
    void fileReadableByOthersIsRefused();
    void environmentComesBeforeTheFile();
    void missingSecretNamesEveryPlace();
    void maskHidesEveryForm();
    void validationAllowsSecretsWhereValuesAreSent();
    void validationRefusesSecretsElsewhere_data();
    void validationRefusesSecretsElsewhere();
    void secretIsResolvedWhenTheAttemptStarts();
    void missingSecretFailsTheAttemptWithoutRetry();
    void valueReachesServerAndCommandButNeverTheRecord();

private:
    QTemporaryDir m_dir;
};

void TestSecrets::environmentNameIsUpperCased() {
    qputenv("KEEPFLOW_SECRET_DEPLOY_TOKEN", "from-env");
    const EnvSecretSource env;
    const auto found = env.lookup(QStringLiteral("deploy_token"));
    qunsetenv("KEEPFLOW_SECRET_DEPLOY_TOKEN");
    QVERIFY(found);
    QCOMPARE(found->value_or(QString()), QStringLiteral("from-env"));
    QVERIFY(!env.lookup(QStringLiteral("deploy_token"))->has_value());
}

void TestSecrets::fileIsReadWhenOwnerOnly() {
    const QString path = m_dir.filePath(QStringLiteral("owner-only"));
    QVERIFY(writeFile(path, "# tokens\n\nother=1\ndeploy_token=a=b c\r\n", kOwnerOnly));
    const FileSecretSource file(path);
    const auto found = file.lookup(QStringLiteral("DEPLOY_TOKEN"));
    QVERIFY2(found, qPrintable(found.error()));
    QCOMPARE(found->value_or(QString()), QStringLiteral("a=b c"));
    QVERIFY(!file.lookup(QStringLiteral("absent"))->has_value());
    // A file that does not exist has nothing, and is no error.
    QVERIFY(!FileSecretSource(m_dir.filePath(QStringLiteral("none")))
                 .lookup(QStringLiteral("x"))
                 ->has_value());
}

void TestSecrets::fileReadableByOthersIsRefused() {
    const QString path = m_dir.filePath(QStringLiteral("shared"));
    QVERIFY(writeFile(path, "deploy_token=x\n", kOwnerOnly | QFileDevice::ReadGroup));
    const auto found = FileSecretSource(path).lookup(QStringLiteral("deploy_token"));
    QVERIFY(!found);
    QVERIFY2(found.error().contains(path), qPrintable(found.error()));
    QVERIFY2(found.error().contains(QStringLiteral("chmod 600")), qPrintable(found.error()));
}

void TestSecrets::environmentComesBeforeTheFile() {
    const QString path = m_dir.filePath(QStringLiteral("precedence"));
    QVERIFY(writeFile(path, "token=from-file\nonly_file=f\n", kOwnerOnly));
    SecretChain chain;
    chain.append(std::make_shared<EnvSecretSource>());
    chain.append(std::make_shared<FileSecretSource>(path));
    qputenv("KEEPFLOW_SECRET_TOKEN", "from-env");
    const auto token = chain.resolve(QStringLiteral("token"));
    qunsetenv("KEEPFLOW_SECRET_TOKEN");
    QCOMPARE(*token, QStringLiteral("from-env"));
    QCOMPARE(*chain.resolve(QStringLiteral("token")), QStringLiteral("from-file"));
    QCOMPARE(*chain.resolve(QStringLiteral("only_file")), QStringLiteral("f"));
}

void TestSecrets::missingSecretNamesEveryPlace() {
    const QString path = m_dir.filePath(QStringLiteral("empty"));
    SecretChain chain;
    chain.append(std::make_shared<EnvSecretSource>());
    chain.append(std::make_shared<FileSecretSource>(path));
    const auto missing = chain.resolve(QStringLiteral("api_key"));
    QVERIFY(!missing);
    QVERIFY2(missing.error().contains(QStringLiteral("\"api_key\"")), qPrintable(missing.error()));
    QVERIFY2(missing.error().contains(QStringLiteral("KEEPFLOW_SECRET_API_KEY")),
             qPrintable(missing.error()));
    QVERIFY2(missing.error().contains(path), qPrintable(missing.error()));
}

void TestSecrets::maskHidesEveryForm() {
    SecretMask mask;
    mask.add(QStringLiteral("s3cr/t"));
    mask.add(QStringLiteral("s3cr/t-longer"));
    QCOMPARE(mask.apply(QStringLiteral("a s3cr/t b s3cr%2Ft c s3cr/t-longer")),
             QStringLiteral("a *** b *** c ***"));
    const QJsonValue masked = mask.apply(QJsonValue(
        QJsonObject{{QStringLiteral("s3cr/t"), QJsonArray{QStringLiteral("x s3cr/t"), 5}}}));
    QCOMPARE(masked, QJsonValue(QJsonObject{
                         {QStringLiteral("***"), QJsonArray{QStringLiteral("x ***"), 5}}}));
}

void TestSecrets::validationAllowsSecretsWhereValuesAreSent() {
    const QByteArray steps = R"json(
        { "id": "call", "kind": "http", "with": { "method": "POST",
          "url": "https://example.org/{{secrets.path_token}}",
          "headers": { "Authorization": "Bearer {{secrets.deploy_token}}" },
          "body": { "nested": ["{{secrets.body_token}}"] } } },
        { "id": "cmd", "kind": "shell", "with": { "argv": ["true"],
          "env": { "TOKEN": "{{ secrets.cmd_token }}" } } },
        { "id": "db", "kind": "sql", "with": { "connection": "app",
          "statement": "insert into t values (?)", "bind": ["{{secrets.db_token}}"] } })json";
    const FlowLoad load = parseFlow(flow(steps), QStringLiteral("ok.flow.json"));
    QVERIFY2(load.ok(), qPrintable(load.errorText()));
    QCOMPARE(secretNamesIn(*load.flow),
             (QStringList{QStringLiteral("body_token"), QStringLiteral("cmd_token"),
                          QStringLiteral("db_token"), QStringLiteral("deploy_token"),
                          QStringLiteral("path_token")}));
}

void TestSecrets::validationRefusesSecretsElsewhere_data() {
    QTest::addColumn<QByteArray>("steps");
    QTest::newRow("shell argument") << QByteArray(
        R"({ "id": "a", "kind": "shell", "with": { "argv": ["curl", "{{secrets.t}}"] } })");
    QTest::newRow("sql statement") << QByteArray(
        R"({ "id": "a", "kind": "sql", "with": { "connection": "c", "statement": "{{secrets.t}}" } })");
    QTest::newRow("http method") << QByteArray(
        R"({ "id": "a", "kind": "http", "with": { "url": "http://x", "method": "{{secrets.t}}" } })");
    QTest::newRow("foreach") << QByteArray(
        R"({ "id": "a", "kind": "noop", "foreach": "{{secrets.t}}" })");
    QTest::newRow("item key") << QByteArray(
        R"({ "id": "a", "kind": "noop", "foreach": [1], "item_key": "{{secrets.t}}" })");
    QTest::newRow("noop output") << QByteArray(
        R"({ "id": "a", "kind": "noop", "with": { "output": "{{secrets.t}}" } })");
}

void TestSecrets::validationRefusesSecretsElsewhere() {
    QFETCH(QByteArray, steps);
    const auto column = steps.indexOf("\"{{secrets") + 1; // the string holding the template
    const FlowLoad load =
        parseFlow("{ \"keepflow\": 1, \"name\": \"t\", \"steps\": [\n" + steps + "\n] }",
                  QStringLiteral("bad.flow.json"));
    QVERIFY(!load.ok());
    QVERIFY2(load.errorText().contains(QStringLiteral("bad.flow.json:2:%1: error:").arg(column)),
             qPrintable(load.errorText()));
    QVERIFY2(load.errorText().contains(QStringLiteral("secrets are allowed only in values that "
                                                      "are sent")),
             qPrintable(load.errorText()));
}

void TestSecrets::secretIsResolvedWhenTheAttemptStarts() {
    auto memory = std::make_shared<MemorySecretSource>(QStringLiteral("the test's source"));
    auto chain = std::make_shared<SecretChain>();
    chain->append(memory);
    Harness h(chain);
    // Held back by a delay: the secret exists only once the run was created.
    const QString run = h.start(flow(R"({ "id": "cmd", "kind": "shell", "delay": "1s",
        "with": { "argv": ["sh", "-c", "printf '%s' \"$TOKEN\""],
                  "env": { "TOKEN": "{{secrets.late}}" } } })"));
    QVERIFY(!run.isEmpty());
    const QString token = randomToken();
    memory->set(QStringLiteral("late"), token);
    QVERIFY(h.advanceAndSettle(1000));
    QCOMPARE(h.runState(run), RunState::Succeeded);
    // The command saw the value; the record holds the mask.
    QCOMPARE(h.step(run, QStringLiteral("cmd")).output.toObject().value(QStringLiteral("stdout")),
             QJsonValue(QStringLiteral("***")));
}

void TestSecrets::missingSecretFailsTheAttemptWithoutRetry() {
    auto chain = std::make_shared<SecretChain>();
    chain->append(std::make_shared<MemorySecretSource>(QStringLiteral("the test's source")));
    Harness h(chain);
    const QString run = h.start(flow(R"({ "id": "cmd", "kind": "shell",
        "retry": { "max_attempts": 3, "initial_interval": "1s" },
        "with": { "argv": ["true"], "env": { "TOKEN": "{{secrets.absent}}" } } })"));
    QVERIFY(h.settle());
    QCOMPARE(h.runState(run), RunState::Failed);
    QCOMPARE(h.attempts(run, QStringLiteral("cmd")).size(), 1);
    const QString error = h.step(run, QStringLiteral("cmd")).error;
    QVERIFY2(error.contains(QStringLiteral("secret \"absent\" not found")), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("the test's source")), qPrintable(error));
}

void TestSecrets::valueReachesServerAndCommandButNeverTheRecord() {
    HttpTestServerThread serverThread;
    QVERIFY(serverThread.isListening());
    auto &server = serverThread.server();
    const QString headerToken = randomToken();
    const QString fileToken = randomToken();
    // The server answers with the token, as a careless API might: the output must hide it.
    HttpTestServer::Route echo;
    echo.body = QStringLiteral(R"({"you_sent":"%1"})").arg(headerToken).toUtf8();
    server.setRoute(QStringLiteral("/deploy"), echo);

    const QString secretsFile = m_dir.filePath(QStringLiteral("e2e-secrets"));
    QVERIFY(writeFile(secretsFile, "file_token=" + fileToken.toUtf8() + "\n", kOwnerOnly));
    const QString flowPath = m_dir.filePath(QStringLiteral("secret.flow.json"));
    QVERIFY(writeFile(flowPath,
                      QStringLiteral(R"({ "keepflow": 1, "name": "secret", "steps": [
        { "id": "deploy", "kind": "http", "idempotency": "keyed", "with": { "method": "POST",
          "url": "%1?t={{secrets.file_token}}",
          "headers": { "Authorization": "Bearer {{secrets.deploy_token}}" },
          "body": { "token": "{{secrets.file_token}}" } } },
        { "id": "echo", "kind": "shell", "after": ["deploy"],
          "with": { "argv": ["sh", "-c", "echo \"out $TOKEN\"; echo \"err $TOKEN\" >&2"],
                    "env": { "TOKEN": "{{secrets.deploy_token}}" } } },
        { "id": "leak", "kind": "shell", "after": ["echo"],
          "with": { "argv": ["sh", "-c", "echo \"failed with $TOKEN\" >&2; exit 3"],
                    "env": { "TOKEN": "{{secrets.file_token}}" } } } ] })")
                          .arg(server.url(QStringLiteral("/deploy")))
                          .toUtf8(),
                      kOwnerOnly));

    const QString db = m_dir.filePath(QStringLiteral("secret.db"));
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("KEEPFLOW_SECRET_DEPLOY_TOKEN"), headerToken);
    environment.insert(QStringLiteral("KEEPFLOW_SECRETS_FILE"), secretsFile);
    auto ctl = [&](const QStringList &arguments) {
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(QStringLiteral(KEEPFLOWCTL_PATH),
                      arguments + QStringList{QStringLiteral("--db"), db});
        Outcome outcome;
        if (process.waitForFinished(60000))
            outcome.exitCode = process.exitCode();
        outcome.out = process.readAllStandardOutput();
        outcome.err = process.readAllStandardError();
        return outcome;
    };

    const Outcome run = ctl({QStringLiteral("run"), flowPath, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 2, run.err.constData()); // "leak" fails, the others succeed
    const QString runId = QJsonDocument::fromJson(run.out)
                              .object()
                              .value(QStringLiteral("run"))
                              .toObject()
                              .value(QStringLiteral("id"))
                              .toString();
    QVERIFY2(!runId.isEmpty(), run.out.constData());
    const Outcome status = ctl({QStringLiteral("status"), runId, QStringLiteral("--json")});
    const Outcome events = ctl({QStringLiteral("events"), runId, QStringLiteral("--json")});
    const Outcome text = ctl({QStringLiteral("status"), runId});
    const Outcome echoLogs = ctl({QStringLiteral("logs"), runId, QStringLiteral("echo")});
    const Outcome leakLogs =
        ctl({QStringLiteral("logs"), runId, QStringLiteral("leak"), QStringLiteral("--json")});

    // The server received both values.
    const auto requests = server.requests(QStringLiteral("/deploy"));
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().header("Authorization"), "Bearer " + headerToken.toUtf8());
    QVERIFY(requests.first().target.contains(fileToken.toUtf8()));
    QVERIFY(requests.first().body.contains(fileToken.toUtf8()));

    // What was recorded and printed holds the mask where the values were.
    const QJsonArray steps =
        QJsonDocument::fromJson(status.out).object().value(QStringLiteral("steps")).toArray();
    QVERIFY2(status.out.contains("out ***") && status.out.contains("err ***"),
             status.out.constData());
    QVERIFY2(status.out.contains("failed with ***"), status.out.constData());
    QVERIFY2(status.out.contains(R"("you_sent": "***")"), status.out.constData());
    // What the commands printed is kept, masked the same way.
    QCOMPARE(echoLogs.out, QByteArray("out ***\nerr ***\n"));
    QVERIFY2(leakLogs.out.contains(R"("stderr": "failed with ***\n")"), leakLogs.out.constData());
    QVERIFY(!steps.isEmpty());

    QByteArray everything = run.out + run.err + status.out + status.err + events.out + events.err +
                            text.out + text.err + echoLogs.out + echoLogs.err + leakLogs.out +
                            leakLogs.err + readAll(db) + readAll(db + QStringLiteral("-wal"));
    for (const QString &token : {headerToken, fileToken}) {
        QVERIFY2(!everything.contains(token.toUtf8()), qPrintable(token));
        QVERIFY(!everything.contains(QUrl::toPercentEncoding(token)));
    }
    // The stored flow keeps the template text.
    QVERIFY(readAll(db).contains("{{secrets.deploy_token}}") ||
            readAll(db + QStringLiteral("-wal")).contains("{{secrets.deploy_token}}"));
}

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
