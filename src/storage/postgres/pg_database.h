// The PostgreSQL implementation of Database (see storage/database.h for the
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

// Never connects: the first call does, so a down server yields Unavailable
// per call rather than a failure to open.
Result<std::unique_ptr<Database>> OpenPgDatabase(const DatabaseUrl& url, const StorageOptions& options,
                                                 metrics::Registry& registry, Clock& clock);

}  // namespace threatd::storage
