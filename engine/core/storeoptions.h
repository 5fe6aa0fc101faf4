#pragma once

// How a database is opened (Store::open): a plain value that front ends pass through the operator
// API and the monitor without seeing the store.

#include <QtGlobal>

namespace keepflow {

struct StoreOptions {
    /// PRAGMA synchronous. FULL survives power loss; NORMAL (in WAL mode) may lose the last
    /// transactions on power loss (never on a process crash) in exchange for speed.
    enum class Sync { Full, Normal };
    Sync sync = Sync::Full;
    int busyTimeoutMs = 10000;
    /// Caps the database at this many pages (PRAGMA max_page_count); 0: no cap. A full database
    /// refuses a write exactly as a full disk does.
    qint64 maxPageCount = 0;
    /// Opens for reading only (SQLITE_OPEN_READONLY): no migration and every write refused.
    /// The database must exist and have the latest schema.
    bool readOnly = false;
    /// Opens read-only instead of failing when the file or its folder is not writable (the
    /// queries still work; Store::readOnlyReason() says why writes are refused).
    bool readOnlyWhenNotWritable = false;
};

} // namespace keepflow
