#include "model/secrets.h"

#include "model/template.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

#include <algorithm>

namespace keepflow {

namespace {

const QString kMask = QStringLiteral("***");

void collectSecretNames(const QJsonValue &value, QSet<QString> &names) {
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            collectSecretNames(it.value(), names);
    } else if (value.isArray()) {
        for (const QJsonValue &v : value.toArray())
            collectSecretNames(v, names);
    } else if (value.isString() && hasTemplate(value.toString())) {
        const auto refs = parseTemplates(value.toString());
        if (!refs)
            return;
        for (const TemplateRef &ref : *refs) {
            if (ref.root == QLatin1String("secrets") && ref.path.size() == 1)
                names.insert(ref.path.at(0));
        }
    }
}

} // namespace

// --- environment ----------------------------------------------------------------------------

QString EnvSecretSource::variableFor(const QString &name) {
    return QStringLiteral("KEEPFLOW_SECRET_") + name.toUpper();
}

Result<std::optional<QString>> EnvSecretSource::lookup(const QString &name) const {
    const QByteArray variable = variableFor(name).toLocal8Bit();
    if (!qEnvironmentVariableIsSet(variable.constData()))
        return std::optional<QString>();
    return std::optional<QString>(qEnvironmentVariable(variable.constData()));
}

QString EnvSecretSource::where(const QString &name) const {
    return QStringLiteral("environment variable ") + variableFor(name);
}

// --- file -----------------------------------------------------------------------------------

FileSecretSource::FileSecretSource(QString path)
    : m_path(std::move(path)) {}

QString FileSecretSource::defaultPath() {
    const QString overridden = qEnvironmentVariable("KEEPFLOW_SECRETS_FILE");
    if (!overridden.isEmpty())
        return overridden;
    QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (config.isEmpty())
        config = QDir::homePath() + QStringLiteral("/.config");
    return config + QStringLiteral("/keepflow/secrets");
}

Result<std::optional<QString>> FileSecretSource::lookup(const QString &name) const {
    const QFileInfo info(m_path);
    if (!info.exists())
        return std::optional<QString>();
    // Like ssh with a private key: a file others can read is refused, not trusted.
    const auto shared = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
                        QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
    if (info.permissions() & shared)
        return Status::error(QStringLiteral("secrets file %1 is accessible by group or others: "
                                            "make it readable by its owner only (chmod 600 %1)")
                                 .arg(m_path));
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly))
        return Status::error(
            QStringLiteral("cannot read secrets file %1: %2").arg(m_path, file.errorString()));
    const QString wanted = name.toUpper();
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (QByteArray line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
        const qsizetype eq = line.indexOf('=');
        if (line.trimmed().startsWith('#') || eq < 0)
            continue;
        if (QString::fromUtf8(line.left(eq).trimmed()).toUpper() == wanted)
            return std::optional<QString>(QString::fromUtf8(line.mid(eq + 1)));
    }
    return std::optional<QString>();
}

QString FileSecretSource::where(const QString &) const {
    return QStringLiteral("secrets file ") + m_path;
}

// --- memory ---------------------------------------------------------------------------------

MemorySecretSource::MemorySecretSource(QString description)
    : m_description(std::move(description)) {}

void MemorySecretSource::set(const QString &name, const QString &value) {
    m_values.insert(name, value);
}

void MemorySecretSource::remove(const QString &name) {
    m_values.remove(name);
}

Result<std::optional<QString>> MemorySecretSource::lookup(const QString &name) const {
    const auto it = m_values.constFind(name);
    if (it == m_values.constEnd())
        return std::optional<QString>();
    return std::optional<QString>(*it);
}

QString MemorySecretSource::where(const QString &) const {
    return m_description;
}

// --- chain ----------------------------------------------------------------------------------

std::shared_ptr<SecretChain> SecretChain::standard() {
    auto chain = std::make_shared<SecretChain>();
    chain->append(std::make_shared<EnvSecretSource>());
    chain->append(std::make_shared<FileSecretSource>(FileSecretSource::defaultPath()));
    return chain;
}

void SecretChain::append(std::shared_ptr<const SecretSource> source) {
    m_sources.push_back(std::move(source));
}

Result<std::optional<QString>> SecretChain::lookup(const QString &name) const {
    for (const auto &source : m_sources) {
        Result<std::optional<QString>> found = source->lookup(name);
        if (!found || found->has_value())
            return found;
    }
    return std::optional<QString>();
}

QString SecretChain::where(const QString &name) const {
    QStringList places;
    for (const auto &source : m_sources)
        places.append(source->where(name));
    return places.join(QStringLiteral(", "));
}

Result<QString> SecretChain::resolve(const QString &name) const {
    const Result<std::optional<QString>> found = lookup(name);
    if (!found)
        return Status::error(QStringLiteral("secret \"%1\": %2").arg(name, found.error()));
    if (!found->has_value())
        return Status::error(
            QStringLiteral("secret \"%1\" not found; looked in: %2").arg(name, where(name)));
    return **found;
}

// --- masking --------------------------------------------------------------------------------

void SecretMask::add(const QString &value) {
    if (value.isEmpty())
        return;
    // The forms a value takes on its way out: as it is, in a URL, inside JSON text.
    const QString encoded = QString::fromLatin1(QUrl::toPercentEncoding(value));
    const QByteArray json = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    const QString escaped = QString::fromUtf8(json.mid(2, json.size() - 4));
    for (const QString &form : {value, encoded, escaped}) {
        if (!m_values.contains(form))
            m_values.append(form);
    }
    // Longest first, so a value that contains another is masked whole.
    std::sort(m_values.begin(), m_values.end(),
              [](const QString &a, const QString &b) { return a.size() > b.size(); });
}

QString SecretMask::apply(QString text) const {
    for (const QString &value : m_values)
        text.replace(value, kMask);
    return text;
}

QJsonValue SecretMask::apply(const QJsonValue &value) const {
    if (m_values.isEmpty())
        return value;
    if (value.isString())
        return apply(value.toString());
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        QJsonObject masked;
        for (auto it = o.begin(); it != o.end(); ++it)
            masked.insert(apply(it.key()), apply(it.value()));
        return masked;
    }
    if (value.isArray()) {
        QJsonArray masked;
        for (const QJsonValue &v : value.toArray())
            masked.append(apply(v));
        return masked;
    }
    return value;
}

// --- where secrets may appear ---------------------------------------------------------------

namespace {

/// Whether text may hold a URL or an Authorization value: false only when it holds neither
/// "://" nor "uthorization" in any case. One pass over ASCII; other text is left to Qt's
/// Unicode-aware tests below (a worker's log redacts every line).
bool mayHoldCredentials(QStringView text) {
    static constexpr char16_t kWord[] = u"uthorization";
    constexpr qsizetype kWordSize = 12;
    const char16_t *chars = text.utf16();
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t c = chars[i];
        if (c >= 0x80)
            return true;
        if (c == u':' && i + 2 < size && chars[i + 1] == u'/' && chars[i + 2] == u'/')
            return true;
        if ((c | 0x20) == u'u' && i + kWordSize <= size) {
            qsizetype matched = 1;
            while (matched < kWordSize && (chars[i + matched] | 0x20) == kWord[matched])
                ++matched;
            if (matched == kWordSize)
                return true;
        }
    }
    return false;
}

} // namespace

QString redactCredentials(QString text) {
    if (!mayHoldCredentials(text))
        return text;
    // Cheap tests first: most texts hold neither.
    if (text.contains(QLatin1String("://"))) {
        // scheme://user:password@ — the user stays (it names the account), the password goes.
        static const QRegularExpression urlPassword(
            QStringLiteral(R"(([A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)[^\s/@]+@)"));
        text.replace(urlPassword, QStringLiteral("\\1") + kMask + QLatin1Char('@'));
    }
    if (text.contains(QLatin1String("uthorization"), Qt::CaseInsensitive)) {
        // "Authorization: Bearer x", "authorization=x", "\"Authorization\": \"Basic x\"".
        static const QRegularExpression header(
            QStringLiteral(R"(((?:proxy-)?authorization"?\s*[:=]\s*"?)[^"\r\n,;}]+)"),
            QRegularExpression::CaseInsensitiveOption);
        text.replace(header, QStringLiteral("\\1") + kMask);
    }
    return text;
}

bool isSecretName(const QString &name) {
    static const QRegularExpression re(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    return re.match(name).hasMatch();
}

QStringList secretKeysOf(const QString &kind) {
    if (kind == QLatin1String("http"))
        return {QStringLiteral("url"), QStringLiteral("headers"), QStringLiteral("body")};
    if (kind == QLatin1String("shell"))
        return {QStringLiteral("env")};
    if (kind == QLatin1String("sql"))
        return {QStringLiteral("bind")};
    return {};
}

QString secretsAllowedHint() {
    return QStringLiteral("secrets are allowed only in values that are sent: an http step's "
                          "\"url\", \"headers\" and \"body\", a shell step's \"env\" values and "
                          "a sql step's \"bind\" values");
}

QStringList secretNamesIn(const Flow &flow) {
    QSet<QString> names;
    for (const Step &step : flow.steps)
        collectSecretNames(step.with, names);
    QStringList sorted(names.begin(), names.end());
    sorted.sort();
    return sorted;
}

} // namespace keepflow
