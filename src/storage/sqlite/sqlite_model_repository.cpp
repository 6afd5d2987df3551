// SQLite implementation of ModelRepository (ml_models). Times are INTEGER
// epoch microseconds; writes run on the writer thread, each in its own
// SAVEPOINT, so Activate's two UPDATEs commit or roll back together.
#include <fmt/format.h>

#include "storage/micros.h"
#include "storage/sqlite/sqlite_repositories.h"

namespace threatd::storage::sqlite {
namespace {

constexpr const char* kColumns =
    "id, model_type, version, file_path, file_format, original_filename, is_active, model_metadata, "
    "validation_results, file_size_bytes, expected_features, class_labels, preprocessing_notes, created_at, "
    "uploaded_by, description, sha256, activated_at";

ModelRecord FromRow(const SqliteStatement& q) {
  ModelRecord r;
  r.id = q.Int64(0);
  r.model_type = q.Text(1);
  r.version = q.Text(2);
  r.file_path = q.Text(3);
  r.file_format = q.Text(4);
  r.original_filename = q.Text(5);
  r.is_active = q.Int64(6) != 0;
  r.model_metadata = q.OptionalText(7);
  r.validation_results = q.OptionalText(8);
  r.file_size_bytes = q.OptionalInt64(9);
  r.expected_features = q.OptionalText(10);
  r.class_labels = q.OptionalText(11);
  r.preprocessing_notes = q.OptionalText(12);
  r.created_at = FromMicros(q.Int64(13));
  r.uploaded_by = q.OptionalText(14);
  r.description = q.OptionalText(15);
  r.sha256 = q.OptionalText(16);
  if (auto t = q.OptionalInt64(17)) r.activated_at = FromMicros(*t);
  return r;
}

Status Collect(SqliteStatement& q, std::vector<ModelRecord>* out) {
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    out->push_back(FromRow(q));
  }
}

Status NotFound(int64_t id) {
  return Status::NotFound(fmt::format("model {} does not exist", id),
                          "list the registered models with GET /api/v1/models");
}

// Selects one row by id into *out; NotFound when absent.
Status SelectById(SqliteConnection& c, int64_t id, ModelRecord* out) {
  auto q = c.Prepare(fmt::format("SELECT {} FROM ml_models WHERE id = ?", kColumns));
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  std::vector<ModelRecord> rows;
  THREATD_RETURN_IF_ERROR(Collect(*q, &rows));
  if (rows.empty()) return NotFound(id);
  *out = std::move(rows.front());
  return Status::Ok();
}

class SqliteModelRepository final : public ModelRepository {
 public:
  explicit SqliteModelRepository(SqliteAccess& access) : access_(access) {}

  Result<ModelRecord> Insert(const NewModelRecord& m) override {
    ModelRecord out;
    if (Status s = access_.Write([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "INSERT INTO ml_models(model_type, version, file_path, file_format, original_filename, is_active, "
          "model_metadata, validation_results, file_size_bytes, expected_features, class_labels, "
          "preprocessing_notes, created_at, uploaded_by, description, sha256) "
          "VALUES (?,?,?,?,?,0,?,?,?,?,?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      q->Bind(1, std::string_view(m.model_type))
          .Bind(2, std::string_view(m.version))
          .Bind(3, std::string_view(m.file_path))
          .Bind(4, std::string_view(m.file_format))
          .Bind(5, std::string_view(m.original_filename))
          .Bind(6, m.model_metadata)
          .Bind(7, m.validation_results)
          .Bind(9, m.expected_features)
          .Bind(10, m.class_labels)
          .Bind(11, m.preprocessing_notes)
          .Bind(12, ToMicros(m.created_at))
          .Bind(13, m.uploaded_by)
          .Bind(14, m.description)
          .Bind(15, m.sha256);
      if (m.file_size_bytes) {
        q->Bind(8, *m.file_size_bytes);
      } else {
        q->BindNull(8);
      }
      Status run = q->Run();
      if (run.code() == ErrorCode::kConflict) {
        return Status::Conflict(fmt::format("a {} with version '{}' already exists", m.model_type, m.version),
                                "upload it with another version");
      }
      THREATD_RETURN_IF_ERROR(run);
      return SelectById(c, c.LastInsertRowId(), &out);
    }); !s.ok()) {
      return s;
    }
    return out;
  }

  Result<std::vector<ModelRecord>> List(const std::optional<std::string>& model_type,
                                        bool include_inactive) override {
    std::vector<ModelRecord> rows;
    if (Status s = access_.Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format(
          "SELECT {} FROM ml_models WHERE (?1 IS NULL OR model_type = ?1) AND (?2 = 1 OR is_active = 1) "
          "ORDER BY created_at DESC, id DESC",
          kColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, model_type).Bind(2, int64_t{include_inactive});
      return Collect(*q, &rows);
    }); !s.ok()) {
      return s;
    }
    return rows;
  }

  Result<ModelRecord> Get(int64_t id) override {
    ModelRecord out;
    if (Status s = access_.Read([&](SqliteConnection& c) { return SelectById(c, id, &out); }); !s.ok()) return s;
    return out;
  }

  Result<ModelRecord> Activate(int64_t id) override {
    ModelRecord out;
    const int64_t now = ToMicros(access_.clock().Now());
    if (Status s = access_.Write([&](SqliteConnection& c) {
      THREATD_RETURN_IF_ERROR(SelectById(c, id, &out));
      auto off = c.Prepare("UPDATE ml_models SET is_active = 0 WHERE model_type = ? AND is_active = 1 AND id <> ?");
      if (!off.ok()) return off.status();
      THREATD_RETURN_IF_ERROR(off->Bind(1, std::string_view(out.model_type)).Bind(2, id).Run());
      // activated_at strictly increases per type, so "previously active" is
      // well defined even when the clock stands still or steps back.
      auto on = c.Prepare(
          "UPDATE ml_models SET is_active = 1, activated_at = max(?1, COALESCE((SELECT max(activated_at) + 1 "
          "FROM ml_models WHERE model_type = ?2), ?1)) WHERE id = ?3");
      if (!on.ok()) return on.status();
      THREATD_RETURN_IF_ERROR(on->Bind(1, now).Bind(2, std::string_view(out.model_type)).Bind(3, id).Run());
      return SelectById(c, id, &out);
    }); !s.ok()) {
      return s;
    }
    return out;
  }

  Result<ModelRecord> Deactivate(int64_t id) override {
    ModelRecord out;
    if (Status s = access_.Write([&](SqliteConnection& c) {
      auto q = c.Prepare("UPDATE ml_models SET is_active = 0 WHERE id = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, id).Run());
      return SelectById(c, id, &out);
    }); !s.ok()) {
      return s;
    }
    return out;
  }

  Result<std::optional<ModelRecord>> PreviouslyActive(const std::string& model_type) override {
    std::vector<ModelRecord> rows;
    if (Status s = access_.Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format(
          "SELECT {} FROM ml_models WHERE model_type = ? AND is_active = 0 AND activated_at IS NOT NULL "
          "ORDER BY activated_at DESC, id DESC LIMIT 1",
          kColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, std::string_view(model_type));
      return Collect(*q, &rows);
    }); !s.ok()) {
      return s;
    }
    if (rows.empty()) return std::optional<ModelRecord>();
    return std::optional<ModelRecord>(std::move(rows.front()));
  }

  Status Delete(int64_t id) override {
    return access_.Write([&](SqliteConnection& c) {
      ModelRecord row;
      THREATD_RETURN_IF_ERROR(SelectById(c, id, &row));
      if (row.is_active) {
        return Status::Conflict(fmt::format("cannot delete model {}: it is the active {}", id, row.model_type),
                                "deactivate it first or activate another version");
      }
      auto q = c.Prepare("DELETE FROM ml_models WHERE id = ?");
      if (!q.ok()) return q.status();
      return q->Bind(1, id).Run();
    });
  }

  Result<ModelStorageStats> StorageStats() override {
    ModelStorageStats out;
    if (Status s = access_.Read([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "SELECT model_type, count(*), COALESCE(sum(file_size_bytes), 0), sum(is_active) FROM ml_models "
          "GROUP BY model_type ORDER BY model_type");
      if (!q.ok()) return q.status();
      while (true) {
        auto row = q->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        ModelTypeStats t{q->Int64(1), q->Int64(2), q->Int64(3)};
        out.total_models += t.count;
        out.total_size_bytes += t.size_bytes;
        out.by_type[q->Text(0)] = t;
      }
      auto a = c.Prepare("SELECT model_type, version, id FROM ml_models WHERE is_active = 1 ORDER BY model_type");
      if (!a.ok()) return a.status();
      while (true) {
        auto row = a->Step();
        if (!row.ok()) return row.status();
        if (!*row) return Status::Ok();
        out.active_models.push_back({a->Text(0), a->Text(1), a->Int64(2)});
      }
    }); !s.ok()) {
      return s;
    }
    return out;
  }

 private:
  SqliteAccess& access_;
};

}  // namespace

std::unique_ptr<ModelRepository> MakeModelRepository(SqliteAccess& access) {
  return std::make_unique<SqliteModelRepository>(access);
}

}  // namespace threatd::storage::sqlite
