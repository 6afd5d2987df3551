// StorageOptions: how threatd reaches its database. The struct is the
// reference documentation for the `storage:` configuration section; every
// field has a documented default.
//
// Thread-safety: a plain value; copy freely.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "common/status.h"

namespace threatd::storage {

struct StorageOptions {
  // Which backend, chosen by scheme:
  //   sqlite:///absolute/path.db   sqlite://relative/path.db   sqlite::memory:
  //   postgresql://user:pass@host:port/db   (also postgres://)
  std::string url = "sqlite://data/threatd.db";

  // PostgreSQL: most connections open at once. SQLite: most read-only
  // connections (the single write connection is extra).
  int pool_size = 4;

  // How long a call waits for a free connection, or for room in the SQLite
  // write queue, before failing with Unavailable.
  std::chrono::milliseconds acquire_timeout{2000};

  // SQLite busy_timeout: how long a statement waits for a lock held by
  // another process (e.g. `threatd migrate` run while the service is up).
  std::chrono::milliseconds busy_timeout{5000};

  // SQLite: most write jobs queued for the writer thread.
  std::size_t write_queue_capacity = 4096;

  // SQLite: most jobs committed together in one BEGIN IMMEDIATE..COMMIT.
  std::size_t group_commit_max_jobs = 256;

  // PostgreSQL statement_timeout for every statement; 0 disables it.
  std::chrono::milliseconds statement_timeout{30000};

  // PostgreSQL connect_timeout (libpq rounds to whole seconds, minimum 2 s),
  // so that every call fails fast with Unavailable while the server is down.
  std::chrono::milliseconds connect_timeout{2000};
};

// InvalidArgument naming the offending field when a value is out of range.
Status ValidateStorageOptions(const StorageOptions& options);

}  // namespace threatd::storage
