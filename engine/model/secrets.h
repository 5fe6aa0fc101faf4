#pragma once

// Secrets: {{secrets.NAME}} templates take their value, when an attempt starts, from the first
// source that has it. The value is never stored: the flow and the database keep the template
// text, and whatever the attempt produces is masked before it is recorded.

#include "core/status.h"
#include "model/flow.h"

#include <QHash>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

namespace keepflow {

/// Where secret values come from. Implementations must answer at once (they are asked on the
/// engine's thread when an attempt starts).
class SecretSource {
public:
    virtual ~SecretSource() = default;
    /// The value of secret name; nullopt when this source does not have it; an error when the
    /// source cannot be read (e.g. a secrets file others can read).
    virtual Result<std::optional<QString>> lookup(const QString &name) const = 0;
    /// Where this source looks for name, for "not found" messages.
    virtual QString where(const QString &name) const = 0;
};

/// The environment variable KEEPFLOW_SECRET_<NAME> (NAME upper-cased).
class EnvSecretSource : public SecretSource {
public:
    static QString variableFor(const QString &name);
    Result<std::optional<QString>> lookup(const QString &name) const override;
    QString where(const QString &name) const override;
};

/// A file of NAME=value lines (blank lines and lines starting with # ignored) that only its
/// owner may read. Read on every lookup, so an edit applies to the next attempt.
class FileSecretSource : public SecretSource {
public:
    explicit FileSecretSource(QString path);
    /// $KEEPFLOW_SECRETS_FILE, else $XDG_CONFIG_HOME/keepflow/secrets (~/.config when unset).
    static QString defaultPath();
    const QString &path() const { return m_path; }
    Result<std::optional<QString>> lookup(const QString &name) const override;
    QString where(const QString &name) const override;

private:
    QString m_path;
};

/// Values held in memory, e.g. read from the desktop's keyring before the engine needed them.
class MemorySecretSource : public SecretSource {
public:
    explicit MemorySecretSource(QString description);
    void set(const QString &name, const QString &value);
    void remove(const QString &name);
    Result<std::optional<QString>> lookup(const QString &name) const override;
    QString where(const QString &name) const override;

private:
    QString m_description;
    QHash<QString, QString> m_values;
};

/// Sources asked in order; the first that has a name wins.
class SecretChain : public SecretSource {
public:
    /// The environment, then the secrets file at FileSecretSource::defaultPath().
    static std::shared_ptr<SecretChain> standard();
    void append(std::shared_ptr<const SecretSource> source);
    /// A missing secret is an error naming it and every place it was looked for.
    Result<QString> resolve(const QString &name) const;
    Result<std::optional<QString>> lookup(const QString &name) const override;
    QString where(const QString &name) const override;

private:
    std::vector<std::shared_ptr<const SecretSource>> m_sources;
};

/// Replaces every occurrence of each value (and its percent-encoded form) with "***".
class SecretMask {
public:
    void add(const QString &value);
    bool isEmpty() const { return m_values.isEmpty(); }
    QString apply(QString text) const;
    /// Strings and object keys, recursively.
    QJsonValue apply(const QJsonValue &value) const;

private:
    QStringList m_values;
};

/// text with credentials written into it masked, whether or not they came from a secret: the
/// password of a URL ("https://user:***@host/") and the value of an Authorization or
/// Proxy-Authorization header ("Authorization: ***"), as a dependency's error or a step's
/// output may echo them.
QString redactCredentials(QString text);

/// A secret name: letters, digits and "_", not starting with a digit.
bool isSecretName(const QString &name);
/// The `with` keys of kind where {{secrets.NAME}} may appear (values that are sent somewhere).
QStringList secretKeysOf(const QString &kind);
/// Where secrets are allowed, for messages.
QString secretsAllowedHint();
/// The secret names the flow's steps reference, sorted, each once.
QStringList secretNamesIn(const Flow &flow);

} // namespace keepflow
