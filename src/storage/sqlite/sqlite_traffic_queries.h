// Read helpers of the SQLite TrafficRepository: binding a traffic_sql query,
// mapping its rows, and the feature-schema cache shared by the write and the
// read side. PRIVATE to src/storage/sqlite.
//
// Thread-safety: FeatureSchemaCache is thread-safe; the functions take a
// connection owned by the calling thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_connection.h"
#include "storage/traffic_sql.h"

namespace threatd::storage::sqlite {

// feature_schemas rows are immutable, so ids and names are cached forever.
class FeatureSchemaCache {
 public:
  std::optional<int64_t> IdOf(const std::string& checksum) const;
  void Remember(int64_t id, const std::string& checksum, std::vector<std::string> names);
  // Names of `id`, loading the row on a miss. Internal when the id is unknown.
  Result<std::shared_ptr<const std::vector<std::string>>> Names(SqliteConnection& c, int64_t id);

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> ids_;                                    // guarded by mu_
  std::map<int64_t, std::shared_ptr<const std::vector<std::string>>> names_;  // guarded by mu_
};

// The row adapter traffic_sql's templates read through.
struct SqliteRow {
  const SqliteStatement& q;
  bool IsNull(int c) const { return q.IsNull(c); }
  int64_t Int64(int c) const { return q.Int64(c); }
  double Double(int c) const { return q.Double(c); }
  std::string Text(int c) const { return q.Text(c); }
  std::string Blob(int c) const { return q.Text(c); }
};

// Prepares `query` and binds its parameters.
Result<SqliteStatement> PrepareQuery(SqliteConnection& c, const traffic_sql::SqlQuery& query);

// Runs `query` and maps every row with `map(SqliteRow)`.
template <typename T, typename Map>
Status QueryRows(SqliteConnection& c, const traffic_sql::SqlQuery& query, std::vector<T>* out, Map map) {
  auto q = PrepareQuery(c, query);
  if (!q.ok()) return q.status();
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    out->push_back(map(SqliteRow{*q}));
  }
}

// Complete rows with their feature names resolved.
Status QueryComplete(SqliteConnection& c, FeatureSchemaCache& schemas, const traffic_sql::SqlQuery& query,
                     std::vector<CompletePrediction>* out);

// Name/count rows.
Status QueryDistribution(SqliteConnection& c, const traffic_sql::SqlQuery& query, Distribution* out);

}  // namespace threatd::storage::sqlite
