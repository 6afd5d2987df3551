#include "storage/sqlite/sqlite_traffic_queries.h"

#include <fmt/format.h>

#include <variant>

namespace threatd::storage::sqlite {

std::optional<int64_t> FeatureSchemaCache::IdOf(const std::string& checksum) const {
  std::lock_guard lock(mu_);
  auto it = ids_.find(checksum);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void FeatureSchemaCache::Remember(int64_t id, const std::string& checksum, std::vector<std::string> names) {
  std::lock_guard lock(mu_);
  ids_[checksum] = id;
  names_[id] = std::make_shared<const std::vector<std::string>>(std::move(names));
}

Result<std::shared_ptr<const std::vector<std::string>>> FeatureSchemaCache::Names(SqliteConnection& c, int64_t id) {
  {
    std::lock_guard lock(mu_);
    auto it = names_.find(id);
    if (it != names_.end()) return it->second;
  }
  auto q = c.Prepare("SELECT checksum, names FROM feature_schemas WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal(fmt::format("feature schema {} does not exist", id));
  std::vector<std::string> names = traffic_sql::ParseNamesJson(q->Text(1));
  const std::string checksum = q->Text(0);
  std::lock_guard lock(mu_);
  ids_[checksum] = id;
  auto& slot = names_[id];
  if (!slot) slot = std::make_shared<const std::vector<std::string>>(std::move(names));
  return slot;
}

Result<SqliteStatement> PrepareQuery(SqliteConnection& c, const traffic_sql::SqlQuery& query) {
  auto q = c.Prepare(query.sql);
  if (!q.ok()) return q.status();
  int i = 1;
  for (const auto& p : query.params) {
    if (const auto* v = std::get_if<int64_t>(&p)) {
      q->Bind(i++, *v);
    } else {
      q->Bind(i++, std::string_view(std::get<std::string>(p)));
    }
  }
  return std::move(q).value();
}

Status QueryComplete(SqliteConnection& c, FeatureSchemaCache& schemas, const traffic_sql::SqlQuery& query,
                     std::vector<CompletePrediction>* out) {
  std::vector<int64_t> schema_ids;
  THREATD_RETURN_IF_ERROR(QueryRows(c, query, out, [&](const SqliteRow& r) {
    int64_t schema = 0;
    auto p = traffic_sql::CompleteFromRow(r, &schema);
    schema_ids.push_back(schema);
    return p;
  }));
  for (size_t i = 0; i < out->size(); ++i) {
    auto names = schemas.Names(c, schema_ids[i]);
    if (!names.ok()) return names.status();
    (*out)[i].traffic_data.feature_names = *names;
  }
  return Status::Ok();
}

Status QueryDistribution(SqliteConnection& c, const traffic_sql::SqlQuery& query, Distribution* out) {
  THREATD_RETURN_IF_ERROR(QueryRows(c, query, &out->counts, [](const SqliteRow& r) {
    return std::pair<std::string, int64_t>(r.Text(0), r.Int64(1));
  }));
  out->total = 0;
  for (const auto& [name, n] : out->counts) out->total += n;
  return Status::Ok();
}

}  // namespace threatd::storage::sqlite
