#pragma once

// The desktop's keyring (Secret Service, KWallet… through QtKeychain) as a source of
// {{secrets.NAME}}.
//
// QtKeychain answers asynchronously over D-Bus, and the engine must have a value the moment an
// attempt starts, on the GUI thread that also delivers those answers. So the engine never asks
// the keyring: the app reads every secret it stored before (their names, not values, are kept
// in QSettings) into an in-memory source before it starts its worker, and updates that copy
// whenever the user stores a value. The environment and the secrets file come first.

#include "core/status.h"
#include "model/secrets.h"

#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>

namespace keepflow::ui {

class KeyringSecrets : public QObject {
    Q_OBJECT
public:
    explicit KeyringSecrets(QObject *parent = nullptr);

    /// The source the engine reads: values loaded from or stored into the keyring.
    std::shared_ptr<MemorySecretSource> source() const { return m_source; }
    /// The names stored through this app (QSettings), sorted.
    QStringList storedNames() const;
    /// Reads every stored name from the keyring, then calls done (also when some failed: their
    /// lookups then report them missing).
    void load(std::function<void()> done);
    /// Stores (or replaces) name's value in the keyring and in source(); done gets the outcome.
    void store(const QString &name, const QString &value, std::function<void(Status)> done);

private:
    std::shared_ptr<MemorySecretSource> m_source;
};

} // namespace keepflow::ui
