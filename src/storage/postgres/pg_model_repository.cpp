// PostgreSQL implementation of ModelRepository (ml_models). Timestamps move
// as int8 epoch microseconds (TimeParam/MicrosOf); JSON columns as text cast
// to/from jsonb. Activate runs in one transaction; the type's rows are locked
// (FOR UPDATE) so two concurrent activations of one type serialise.
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/micros.h"
#include "storage/postgres/pg_repositories.h"

namespace threatd::storage::pg {
namespace {

const std::string kColumns = fmt::format(
    "id, model_type, version, file_path, file_format, original_filename, is_active, model_metadata::text, "
    "validation_results::text, file_size_bytes, expected_features::text, class_labels::text, preprocessing_notes, "
    "{}, uploaded_by, description, sha256, {}",
    MicrosOf("created_at"), MicrosOf("activated_at"));

std::optional<std::string> OptText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

ModelRecord FromRow(const pqxx::row& r) {
  ModelRecord m;
  m.id = r[0].as<int64_t>();
  m.model_type = r[1].as<std::string>();
  m.version = r[2].as<std::string>();
  m.file_path = r[3].as<std::string>();
  m.file_format = r[4].as<std::string>();
  m.original_filename = r[5].as<std::string>();
  m.is_active = r[6].as<bool>();
  m.model_metadata = OptText(r[7]);
  m.validation_results = OptText(r[8]);
  if (!r[9].is_null()) m.file_size_bytes = r[9].as<int64_t>();
  m.expected_features = OptText(r[10]);
  m.class_labels = OptText(r[11]);
  m.preprocessing_notes = OptText(r[12]);
  m.created_at = FromMicros(r[13].as<int64_t>());
  m.uploaded_by = OptText(r[14]);
  m.description = OptText(r[15]);
  m.sha256 = OptText(r[16]);
  if (!r[17].is_null()) m.activated_at = FromMicros(r[17].as<int64_t>());
  return m;
}

Status NotFound(int64_t id) {
  return Status::NotFound(fmt::format("model {} does not exist", id),
                          "list the registered models with GET /api/v1/models");
}

class PgModelRepository final : public ModelRepository {
 public:
  PgModelRepository(PgPool& pool, Clock& clock) : pool_(pool), clock_(clock) {}

  Result<ModelRecord> Insert(const NewModelRecord& m) override {
    std::optional<ModelRecord> out;
    Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params1(
          fmt::format("INSERT INTO ml_models(model_type, version, file_path, file_format, original_filename, "
                      "is_active, model_metadata, validation_results, file_size_bytes, expected_features, "
                      "class_labels, preprocessing_notes, created_at, uploaded_by, description, sha256) "
                      "VALUES ($1, $2, $3, $4, $5, false, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10::jsonb, $11, {}, "
                      "$13, $14, $15) RETURNING {}",
                      TimeParam(12), kColumns),
          m.model_type, m.version, m.file_path, m.file_format, m.original_filename, m.model_metadata,
          m.validation_results, m.file_size_bytes, m.expected_features, m.class_labels, m.preprocessing_notes,
          ToMicros(m.created_at), m.uploaded_by, m.description, m.sha256);
      tx.commit();
      out = FromRow(r);
      return Status::Ok();
    });
    if (s.code() == ErrorCode::kConflict) {
      return Status::Conflict(fmt::format("a {} with version '{}' already exists", m.model_type, m.version),
                              "upload it with another version");
    }
    THREATD_RETURN_IF_ERROR(s);
    return std::move(*out);
  }

  Result<std::vector<ModelRecord>> List(const std::optional<std::string>& model_type,
                                        bool include_inactive) override {
    std::vector<ModelRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM ml_models WHERE ($1::text IS NULL OR model_type = $1) AND ($2 OR is_active) "
                      "ORDER BY created_at DESC, id DESC",
                      kColumns),
          model_type, include_inactive);
      for (const auto& r : rows) out.push_back(FromRow(r));
      return Status::Ok();
    }));
    return out;
  }

  Result<ModelRecord> Get(int64_t id) override {
    std::optional<ModelRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(fmt::format("SELECT {} FROM ml_models WHERE id = $1", kColumns), id);
      if (rows.empty()) return NotFound(id);
      out = FromRow(rows[0]);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  Result<ModelRecord> Activate(int64_t id) override {
    std::optional<ModelRecord> out;
    const int64_t now = ToMicros(clock_.Now());
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto found = tx.exec_params("SELECT model_type FROM ml_models WHERE id = $1", id);
      if (found.empty()) return NotFound(id);
      const auto type = found[0][0].as<std::string>();
      tx.exec_params("SELECT id FROM ml_models WHERE model_type = $1 FOR UPDATE", type);
      tx.exec_params("UPDATE ml_models SET is_active = false WHERE model_type = $1 AND is_active AND id <> $2", type,
                     id);
      // activated_at strictly increases per type (see the SQLite backend).
      const auto r = tx.exec_params1(
          fmt::format("UPDATE ml_models SET is_active = true, activated_at = GREATEST({0}, "
                      "(SELECT max(activated_at) + interval '1 microsecond' FROM ml_models WHERE model_type = $2)) "
                      "WHERE id = $3 RETURNING {1}",
                      TimeParam(1), kColumns),
          now, type, id);
      tx.commit();
      out = FromRow(r);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  Result<ModelRecord> Deactivate(int64_t id) override {
    std::optional<ModelRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_params(
          fmt::format("UPDATE ml_models SET is_active = false WHERE id = $1 RETURNING {}", kColumns), id);
      tx.commit();
      if (rows.empty()) return NotFound(id);
      out = FromRow(rows[0]);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  Result<std::optional<ModelRecord>> PreviouslyActive(const std::string& model_type) override {
    std::optional<ModelRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM ml_models WHERE model_type = $1 AND NOT is_active AND activated_at IS NOT NULL "
                      "ORDER BY activated_at DESC, id DESC LIMIT 1",
                      kColumns),
          model_type);
      if (!rows.empty()) out = FromRow(rows[0]);
      return Status::Ok();
    }));
    return out;
  }

  Status Delete(int64_t id) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_params("SELECT is_active, model_type FROM ml_models WHERE id = $1 FOR UPDATE", id);
      if (rows.empty()) return NotFound(id);
      if (rows[0][0].as<bool>()) {
        return Status::Conflict(
            fmt::format("cannot delete model {}: it is the active {}", id, rows[0][1].as<std::string>()),
            "deactivate it first or activate another version");
      }
      tx.exec_params("DELETE FROM ml_models WHERE id = $1", id);
      tx.commit();
      return Status::Ok();
    });
  }

  Result<ModelStorageStats> StorageStats() override {
    ModelStorageStats out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      for (const auto& r : tx.exec("SELECT model_type, count(*), COALESCE(sum(file_size_bytes), 0)::int8, "
                                   "count(*) FILTER (WHERE is_active) FROM ml_models GROUP BY model_type "
                                   "ORDER BY model_type")) {
        ModelTypeStats t{r[1].as<int64_t>(), r[2].as<int64_t>(), r[3].as<int64_t>()};
        out.total_models += t.count;
        out.total_size_bytes += t.size_bytes;
        out.by_type[r[0].as<std::string>()] = t;
      }
      for (const auto& r :
           tx.exec("SELECT model_type, version, id FROM ml_models WHERE is_active ORDER BY model_type")) {
        out.active_models.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>()});
      }
      return Status::Ok();
    }));
    return out;
  }

 private:
  PgPool& pool_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<ModelRepository> MakeModelRepository(PgPool& pool, Clock& clock) {
  return std::make_unique<PgModelRepository>(pool, clock);
}

}  // namespace threatd::storage::pg
