#pragma once

// Where a database is: a SQLite file (a path, the embedded default) or a PostgreSQL server
// (postgresql://USER@HOST[:PORT]/DB, or postgresql:///DB?host=/socket/dir). The password is never
// part of it: libpq reads PGPASSWORD or ~/.pgpass, so it is neither on a command line nor stored.

#include "core/status.h"

#include <QString>

namespace keepflow {

struct DatabaseAddress {
    enum class Kind { SqliteFile, Postgres };
    Kind kind = Kind::SqliteFile;
    QString path;     ///< SQLite: the file
    QString host;     ///< PostgreSQL: a host name or a socket folder (empty: libpq's default)
    int port = -1;    ///< -1: libpq's default (5432)
    QString user;     ///< empty: libpq's default (the OS user)
    QString database; ///< the database name
    QString display;  ///< how messages name it: the path, or the URL

    bool isPostgres() const { return kind == Kind::Postgres; }
};

/// True when text is a postgresql:// (or postgres://) URL rather than a file path.
bool isPostgresUrl(const QString &text);
/// Reads a path or a URL. A URL with a password, with no database, or with options Keepflow
/// does not know is an error naming what is wrong.
Result<DatabaseAddress> parseDatabaseAddress(const QString &text);

} // namespace keepflow
