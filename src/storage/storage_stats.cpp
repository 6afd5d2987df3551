#include "storage/storage_stats.h"

namespace threatd::storage {

StorageStats::StorageStats(metrics::Registry& r, const std::string& dialect)
    : queries(r.GetCounter("threatd_storage_queries_total", "Database calls made.", {{"dialect", dialect}})),
      errors(r.GetCounter("threatd_storage_errors_total", "Database calls that failed.", {{"dialect", dialect}})),
      unavailable(r.GetCounter("threatd_storage_unavailable_total",
                               "Database calls that failed because the database was unreachable or exhausted.",
                               {{"dialect", dialect}})),
      query_seconds(r.GetHistogram("threatd_storage_query_seconds", "Database call latency.", {{"dialect", dialect}})),
      write_batches(r.GetCounter("threatd_storage_write_batches_total", "SQLite group commits.", {{"dialect", dialect}})),
      write_batch_jobs(r.GetHistogram("threatd_storage_write_batch_jobs", "Write jobs per SQLite group commit.",
                                      {{"dialect", dialect}}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      write_rejected(r.GetCounter("threatd_storage_write_rejected_total",
                                  "Writes refused because the write queue was full or closed.",
                                  {{"dialect", dialect}})),
      pool_acquire_timeouts(r.GetCounter("threatd_storage_pool_acquire_timeouts_total",
                                         "Calls that found every pooled connection busy until acquire_timeout.",
                                         {{"dialect", dialect}})),
      connect_failures(r.GetCounter("threatd_storage_connect_failures_total", "Failed attempts to connect.",
                                    {{"dialect", dialect}})),
      checkpoint_seconds(r.GetHistogram("threatd_storage_checkpoint_seconds",
                                        "SQLite write-ahead log checkpoints run in the background.",
                                        {{"dialect", dialect}})),
      checkpoint_failures(r.GetCounter("threatd_storage_checkpoint_failures_total",
                                       "Background checkpoint steps that failed or could not restart the log.",
                                       {{"dialect", dialect}})),
      wal_restarts(r.GetCounter("threatd_storage_wal_restarts_total",
                                "Times the SQLite write-ahead log was fully copied and started over.",
                                {{"dialect", dialect}})),
      wal_restart_seconds(r.GetHistogram("threatd_storage_wal_restart_seconds",
                                         "Time the SQLite writer spent copying the rest of the write-ahead log and "
                                         "starting it over; commits wait for it.",
                                         {{"dialect", dialect}})) {}

}  // namespace threatd::storage
