// StorageStats: the storage component's counters, gauges and histograms,
// registered once per Database at construction (series are shared by label
// set, so two databases of one dialect add to the same series).
//
//   threatd_storage_queries_total{dialect}          statements/jobs run
//   threatd_storage_errors_total{dialect}           calls that failed
//   threatd_storage_unavailable_total{dialect}      failures because the DB was unreachable/busy
//   threatd_storage_query_seconds{dialect}          call latency
//   threatd_storage_write_batches_total{dialect}    SQLite group commits
//   threatd_storage_write_batch_jobs{dialect}       jobs per group commit
//   threatd_storage_write_rejected_total{dialect}   SQLite writes refused (queue full/closed)
//   threatd_storage_pool_acquire_timeouts_total{dialect}
//   threatd_storage_connect_failures_total{dialect}
//   threatd_storage_checkpoint_seconds{dialect}     SQLite background WAL checkpoints
//   threatd_storage_checkpoint_failures_total{dialect}
//   threatd_storage_wal_restarts_total{dialect}     times the SQLite log started over
//   threatd_storage_wal_restart_seconds{dialect}    the writer's share of a round (commits wait)
//
// Thread-safety: the members are atomics owned by the Registry.
#pragma once

#include <string>

#include "common/metrics.h"

namespace threatd::storage {

struct StorageStats {
  StorageStats(metrics::Registry& registry, const std::string& dialect);

  metrics::Counter& queries;
  metrics::Counter& errors;
  metrics::Counter& unavailable;
  metrics::Histogram& query_seconds;
  metrics::Counter& write_batches;
  metrics::Histogram& write_batch_jobs;
  metrics::Counter& write_rejected;
  metrics::Counter& pool_acquire_timeouts;
  metrics::Counter& connect_failures;
  metrics::Histogram& checkpoint_seconds;
  metrics::Counter& checkpoint_failures;
  metrics::Counter& wal_restarts;
  metrics::Histogram& wal_restart_seconds;
};

}  // namespace threatd::storage
