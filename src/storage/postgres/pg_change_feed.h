// PostgreSQL ChangeFeed (storage/change_feed.h): one connection outside the
// pool LISTENs on kChangeChannel; its thread waits for notifications, coalesces
// them for `coalesce` and calls back with the changed tables. A lost
// connection is retried with backoff (1 s doubling to 30 s) and reported in
// HealthCheck; after reconnecting the callback gets kAllTables.
//
// Ownership: references the pool, which must outlive the feed (the Database
// that made it).
#pragma once

#include <chrono>
#include <memory>

#include "storage/change_feed.h"
#include "storage/postgres/pg_pool.h"

namespace threatd::storage::pg {

std::unique_ptr<ChangeFeed> MakePgChangeFeed(PgPool& pool,
                                             std::chrono::milliseconds coalesce = std::chrono::milliseconds(100));

}  // namespace threatd::storage::pg
