#include "keyringsecrets.h"

#include <QSettings>
#include <QtGlobal>

#include <qt6keychain/keychain.h>

namespace keepflow::ui {

namespace {

const QString kService = QStringLiteral("keepflow");
const QString kNamesKey = QStringLiteral("secrets/names");

} // namespace

KeyringSecrets::KeyringSecrets(QObject *parent)
    : QObject(parent)
    , m_source(std::make_shared<MemorySecretSource>(QStringLiteral("the desktop keyring"))) {}

QStringList KeyringSecrets::storedNames() const {
    QStringList names = QSettings().value(kNamesKey).toStringList();
    names.removeDuplicates();
    names.sort();
    return names;
}

void KeyringSecrets::load(std::function<void()> done) {
    const QStringList names = storedNames();
    if (names.isEmpty()) {
        done();
        return;
    }
    auto pending = std::make_shared<qsizetype>(names.size());
    for (const QString &name : names) {
        auto *job = new QKeychain::ReadPasswordJob(kService, this);
        job->setKey(name);
        connect(job, &QKeychain::Job::finished, this,
                [this, name, pending, done](QKeychain::Job *finished) {
                    if (finished->error() == QKeychain::NoError)
                        m_source->set(
                            name, static_cast<QKeychain::ReadPasswordJob *>(finished)->textData());
                    else
                        qWarning("keepflow: secret \"%s\" not read from the keyring: %s",
                                 qPrintable(name), qPrintable(finished->errorString()));
                    if (--*pending == 0)
                        done();
                });
        job->start();
    }
}

void KeyringSecrets::store(const QString &name, const QString &value,
                           std::function<void(Status)> done) {
    auto *job = new QKeychain::WritePasswordJob(kService, this);
    job->setKey(name);
    job->setTextData(value);
    connect(job, &QKeychain::Job::finished, this,
            [this, name, value, done](QKeychain::Job *finished) {
                if (finished->error() != QKeychain::NoError) {
                    done(Status::error(QStringLiteral("the keyring refused secret \"%1\": %2")
                                           .arg(name, finished->errorString())));
                    return;
                }
                m_source->set(name, value);
                QSettings settings;
                QStringList names = settings.value(kNamesKey).toStringList();
                if (!names.contains(name))
                    settings.setValue(kNamesKey, names << name);
                done(Status::ok());
            });
    job->start();
}

} // namespace keepflow::ui
