// The SQLite implementation of Database (see storage/database.h for the
// behaviour). Only the factory is public; the class lives in the .cpp.
//
// Thread-safety: the returned Database is safe for concurrent use.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "storage/database.h"
#include "storage/database_url.h"
#include "storage/storage_options.h"

namespace threatd::storage {

// Opens (creating if needed) the database file and starts the writer thread.
// Unavailable when the file cannot be opened.
Result<std::unique_ptr<Database>> OpenSqliteDatabase(const DatabaseUrl& url, const StorageOptions& options,
                                                     metrics::Registry& registry, Clock& clock);

}  // namespace threatd::storage
