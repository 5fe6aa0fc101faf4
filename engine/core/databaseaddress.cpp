#include "core/databaseaddress.h"

#include <QUrl>
#include <QUrlQuery>

namespace keepflow {

bool isPostgresUrl(const QString &text) {
    return text.startsWith(QLatin1String("postgresql://")) ||
           text.startsWith(QLatin1String("postgres://"));
}

Result<DatabaseAddress> parseDatabaseAddress(const QString &text) {
    DatabaseAddress address;
    if (!isPostgresUrl(text)) {
        address.path = text;
        address.display = text;
        return address;
    }
    address.kind = DatabaseAddress::Kind::Postgres;
    const QUrl url(text, QUrl::StrictMode);
    const auto wrong = [&text](const QString &what) {
        return Status::error(QStringLiteral("database URL %1: %2 (expected "
                                            "postgresql://USER@HOST[:PORT]/DB or "
                                            "postgresql:///DB?host=/socket/dir)")
                                 .arg(text, what));
    };
    if (!url.isValid())
        return wrong(url.errorString());
    if (!url.password().isEmpty())
        return Status::error(
            QStringLiteral("database URL %1 holds a password: give it in PGPASSWORD or "
                           "~/.pgpass instead, never on the command line")
                .arg(url.toDisplayString(QUrl::RemovePassword)));
    address.user = url.userName();
    address.host = url.host();
    address.port = url.port(-1);
    address.database = url.path().mid(1);
    if (address.database.isEmpty() || address.database.contains(QLatin1Char('/')))
        return wrong(QStringLiteral("no database name after the host"));
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        if (key == QLatin1String("host") && address.host.isEmpty())
            address.host = value;
        else
            return wrong(QStringLiteral("unknown option \"%1\"").arg(key));
    }
    address.display = url.toDisplayString(QUrl::RemovePassword);
    return address;
}

} // namespace keepflow
