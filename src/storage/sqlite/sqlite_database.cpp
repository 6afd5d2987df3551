#include "storage/sqlite/sqlite_database.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "storage/micros.h"
#include "storage/sqlite/sqlite_checkpointer.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_migrator.h"
#include "storage/sqlite/sqlite_read_pool.h"
#include "storage/sqlite/sqlite_repositories.h"
#include "storage/sqlite/sqlite_writer.h"
#include "storage/storage_stats.h"

namespace threatd::storage {
namespace {

using sqlite::SqliteConnection;
using sqlite::SqliteStatement;
using Fn = std::function<Status(SqliteConnection&)>;

constexpr const char* kApiKeyColumns =
    "id, name, prefix, salt, key_hash, role, created_at, created_by, last_used_at, revoked_at";
constexpr const char* kAuditColumns =
    "id, created_at, actor, action, target_type, target_id, details, request_id";
constexpr const char* kSourceColumns = "id, source_name, is_enabled, description, config_params, updated_at";

std::optional<WallTime> OptionalTime(const SqliteStatement& q, int c) {
  if (q.IsNull(c)) return std::nullopt;
  return FromMicros(q.Int64(c));
}

Result<ApiKeyRecord> ApiKeyFromRow(const SqliteStatement& q) {
  ApiKeyRecord r;
  r.id = q.Int64(0);
  r.name = q.Text(1);
  r.prefix = q.Text(2);
  r.salt = q.Text(3);
  r.key_hash = q.Text(4);
  const auto role = ParseRole(q.Text(5));
  if (!role) return Status::Internal(fmt::format("api key {} has unknown role '{}'", r.id, q.Text(5)));
  r.role = *role;
  r.created_at = FromMicros(q.Int64(6));
  r.created_by = q.OptionalText(7);
  r.last_used_at = OptionalTime(q, 8);
  r.revoked_at = OptionalTime(q, 9);
  return r;
}

DataSource SourceFromRow(const SqliteStatement& q) {
  return {q.Int64(0), q.Text(1), q.Int64(2) != 0, q.Text(3), q.OptionalText(4), FromMicros(q.Int64(5))};
}

// Runs `q` and collects every row through `map`.
template <typename T, typename Map>
Status CollectRows(SqliteStatement& q, std::vector<T>* out, Map map) {
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    auto v = map(q);
    if constexpr (std::is_same_v<decltype(v), T>) {
      out->push_back(std::move(v));
    } else {
      if (!v.ok()) return v.status();
      out->push_back(std::move(v).value());
    }
  }
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const DatabaseUrl& url, const StorageOptions& options, metrics::Registry& registry, Clock& clock,
                 std::unique_ptr<SqliteConnection> write_conn)
      : url_(url), clock_(clock), stats_(registry, "sqlite") {
    if (!url.sqlite_memory) {
      auto checkpointer = sqlite::SqliteCheckpointer::Open(url.sqlite_path, {}, stats_);
      if (checkpointer.ok()) {
        checkpointer_ = std::move(checkpointer).value();
        write_conn->OnWalCommit(checkpointer_->CommitHook());
      } else {  // the writer keeps SQLite's automatic checkpoint
        spdlog::warn("storage: no background checkpoints: {}", checkpointer.status().ToString());
      }
    }
    writer_ = std::make_unique<sqlite::SqliteWriter>(
        std::move(write_conn),
        sqlite::SqliteWriter::Options{options.write_queue_capacity, options.group_commit_max_jobs,
                                      options.acquire_timeout},
        stats_);
    if (!url.sqlite_memory) {
      readers_ = std::make_unique<sqlite::SqliteReadPool>(url.sqlite_path, options.pool_size, options.acquire_timeout,
                                                          options.busy_timeout, stats_);
    }
    // The gauge holds the shared counter, not the writer, so a scrape after
    // this database is gone reads a harmless stale value.
    registry.AddCallbackGauge("threatd_storage_write_queue_depth", "Write jobs waiting for the SQLite writer.",
                              {{"dialect", "sqlite"}},
                              [depth = writer_->DepthCounter()] { return static_cast<double>(depth->load()); });
    access_ = std::make_unique<sqlite::SqliteAccess>(*writer_, readers_.get(), clock_);
    traffic_ = sqlite::MakeTrafficRepository(*access_);
    models_ = sqlite::MakeModelRepository(*access_);
    whitelist_ = sqlite::MakeWhitelistRepository(*access_);
    decisions_ = sqlite::MakeDecisionRepository(*access_);
  }
  ~SqliteDatabase() override { Close(); }

  std::string_view Dialect() const override { return "sqlite"; }
  std::string RedactedUrl() const override { return RedactUrl(url_.url); }

  Result<MigrationReport> Migrate(const std::vector<Migration>& migrations) override {
    std::optional<Result<MigrationReport>> out;
    THREATD_RETURN_IF_ERROR(writer_->RunExclusive([&](SqliteConnection& c) {
      out = sqlite::ApplySqliteMigrations(c, migrations, clock_);
      return out->ok() ? Status::Ok() : out->status();
    }));
    return std::move(*out);
  }

  Result<std::vector<AppliedMigration>> MigrationStatus() override {
    std::vector<AppliedMigration> out;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto rows = sqlite::ReadSqliteMigrations(c);
      if (!rows.ok()) return rows.status();
      out = std::move(rows).value();
      return Status::Ok();
    }));
    return out;
  }

  TrafficRepository& Traffic() override { return *traffic_; }
  ModelRepository& Models() override { return *models_; }
  WhitelistRepository& Whitelist() override { return *whitelist_; }
  DecisionRepository& Decisions() override { return *decisions_; }

  Result<double> Ping() override {
    const auto start = std::chrono::steady_clock::now();
    THREATD_RETURN_IF_ERROR(Read([](SqliteConnection& c) {
      auto q = c.Prepare("SELECT 1");
      return q.ok() ? q->Run() : q.status();
    }));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  // --- API keys ---
  Result<ApiKeyRecord> InsertApiKey(const NewApiKey& key) override {
    if (key.role == Role::kPublic) return Status::InvalidArgument("an API key needs a role: viewer, operator or admin");
    ApiKeyRecord rec;
    const Status s = writer_->Run([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "INSERT INTO api_keys(name, prefix, salt, key_hash, role, created_at, created_by) VALUES (?,?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, std::string_view(key.name))
                                  .Bind(2, std::string_view(key.prefix))
                                  .Bind(3, std::string_view(key.salt))
                                  .Bind(4, std::string_view(key.key_hash))
                                  .Bind(5, RoleName(key.role))
                                  .Bind(6, ToMicros(key.created_at))
                                  .Bind(7, key.created_by)
                                  .Run());
      rec = {c.LastInsertRowId(), key.name, key.prefix, key.salt, key.key_hash, key.role,
             FromMicros(ToMicros(key.created_at)), key.created_by, std::nullopt, std::nullopt};
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return rec;
  }

  Result<std::optional<ApiKeyRecord>> FindApiKeyByPrefix(std::string_view prefix) override {
    std::vector<ApiKeyRecord> rows;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format("SELECT {} FROM api_keys WHERE prefix = ?", kApiKeyColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, prefix);
      return CollectRows(*q, &rows, ApiKeyFromRow);
    }));
    if (rows.empty()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(std::move(rows.front()));
  }

  Result<std::vector<ApiKeyRecord>> ListApiKeys() override {
    std::vector<ApiKeyRecord> rows;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format("SELECT {} FROM api_keys ORDER BY id", kApiKeyColumns));
      return q.ok() ? CollectRows(*q, &rows, ApiKeyFromRow) : q.status();
    }));
    return rows;
  }

  Status RevokeApiKey(int64_t id, WallTime at) override {
    return writer_->Run([&](SqliteConnection& c) {
      auto q = c.Prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, ToMicros(at)).Bind(2, id).Run());
      if (c.Changes() == 0) return Status::NotFound(fmt::format("API key {} does not exist", id));
      return Status::Ok();
    });
  }

  Result<int64_t> CountActiveApiKeys() override {
    int64_t n = 0;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto q = c.Prepare("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL");
      if (!q.ok()) return q.status();
      auto row = q->Step();
      if (!row.ok()) return row.status();
      n = q->Int64(0);
      return Status::Ok();
    }));
    return n;
  }

  Status TouchApiKey(int64_t id, WallTime at) override {
    // Coalesced: one queued job applies every touch recorded until it runs.
    {
      std::lock_guard lock(touch_mu_);
      auto [it, inserted] = pending_touches_.emplace(id, at);
      if (!inserted) it->second = std::max(it->second, at);
      if (touch_scheduled_) return Status::Ok();
      touch_scheduled_ = true;
    }
    Status s = writer_->Submit([this](SqliteConnection& c) { return ApplyTouches(c); });
    if (!s.ok()) {
      std::lock_guard lock(touch_mu_);
      touch_scheduled_ = false;
    }
    return s;
  }

  // --- Audit ---
  Status AppendAudit(const AuditEntry& e) override {
    return writer_->Run([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "INSERT INTO audit_log(created_at, actor, action, target_type, target_id, details, request_id) "
          "VALUES (?,?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      return q->Bind(1, ToMicros(e.created_at))
          .Bind(2, std::string_view(e.actor))
          .Bind(3, std::string_view(e.action))
          .Bind(4, std::string_view(e.target_type))
          .Bind(5, std::string_view(e.target_id))
          .Bind(6, e.details_json)
          .Bind(7, std::string_view(e.request_id))
          .Run();
    });
  }

  Result<std::vector<AuditEntry>> ListAudit(const AuditQuery& query) override {
    if (query.limit < 1 || query.limit > 1000 || query.offset < 0) {
      return Status::InvalidArgument("audit limit must be 1..1000 and offset non-negative");
    }
    std::vector<AuditEntry> rows;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format(
          "SELECT {} FROM audit_log ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", kAuditColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, query.limit).Bind(2, query.offset);
      return CollectRows(*q, &rows, [](const SqliteStatement& r) {
        return AuditEntry{r.Int64(0), FromMicros(r.Int64(1)), r.Text(2), r.Text(3), r.Text(4),
                          r.Text(5),  r.OptionalText(6),      r.Text(7)};
      });
    }));
    return rows;
  }

  // --- Data sources ---
  Result<std::vector<DataSource>> ListDataSources() override {
    std::vector<DataSource> rows;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format("SELECT {} FROM data_source_config ORDER BY source_name", kSourceColumns));
      return q.ok() ? CollectRows(*q, &rows, SourceFromRow) : q.status();
    }));
    return rows;
  }

  Result<std::optional<DataSource>> GetDataSource(std::string_view name) override {
    std::vector<DataSource> rows;
    THREATD_RETURN_IF_ERROR(Read([&](SqliteConnection& c) { return SelectSource(c, name, &rows); }));
    if (rows.empty()) return std::optional<DataSource>();
    return std::optional<DataSource>(std::move(rows.front()));
  }

  Result<DataSource> UpdateDataSource(std::string_view name, bool enabled,
                                      std::optional<std::string> config_json) override {
    std::vector<DataSource> rows;
    const Status s = writer_->Run([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "UPDATE data_source_config SET is_enabled = ?, config_params = COALESCE(?, config_params), "
          "updated_at = ? WHERE source_name = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(
          q->Bind(1, int64_t{enabled}).Bind(2, config_json).Bind(3, ToMicros(clock_.Now())).Bind(4, name).Run());
      if (c.Changes() == 0) return Status::NotFound(fmt::format("data source '{}' does not exist", name));
      return SelectSource(c, name, &rows);
    });
    if (!s.ok()) return s;
    if (rows.empty()) return Status::Internal(fmt::format("data source '{}' vanished during update", name));
    return std::move(rows.front());
  }

  Status Flush() override { return writer_->Flush(); }

  void Close() override {
    std::call_once(closed_, [this] {
      writer_->Stop();  // runs what is queued first
      if (checkpointer_) checkpointer_->Stop();
      if (readers_) readers_->Close();
    });
  }

 private:
  // Reads run on the read pool; an in-memory database exists only on the
  // write connection, so there they run on the writer thread.
  Status Read(const Fn& fn) {
    return readers_ ? readers_->Read(fn) : writer_->RunExclusive(fn);
  }

  static Status SelectSource(SqliteConnection& c, std::string_view name, std::vector<DataSource>* rows) {
    auto q = c.Prepare(fmt::format("SELECT {} FROM data_source_config WHERE source_name = ?", kSourceColumns));
    if (!q.ok()) return q.status();
    q->Bind(1, name);
    return CollectRows(*q, rows, SourceFromRow);
  }

  Status ApplyTouches(SqliteConnection& c) {
    std::map<int64_t, WallTime> touches;
    {
      std::lock_guard lock(touch_mu_);
      touches.swap(pending_touches_);
      touch_scheduled_ = false;
    }
    for (const auto& [id, at] : touches) {
      auto one = c.Prepare("UPDATE api_keys SET last_used_at = max(COALESCE(last_used_at, 0), ?) WHERE id = ?");
      if (!one.ok()) return one.status();
      THREATD_RETURN_IF_ERROR(one->Bind(1, ToMicros(at)).Bind(2, id).Run());
    }
    return Status::Ok();
  }

  const DatabaseUrl url_;
  Clock& clock_;
  StorageStats stats_;
  std::unique_ptr<sqlite::SqliteCheckpointer> checkpointer_;  // null for in-memory databases
  std::unique_ptr<sqlite::SqliteWriter> writer_;
  std::unique_ptr<sqlite::SqliteReadPool> readers_;  // null for :memory:
  std::unique_ptr<sqlite::SqliteAccess> access_;
  std::unique_ptr<TrafficRepository> traffic_;
  std::unique_ptr<ModelRepository> models_;
  std::unique_ptr<WhitelistRepository> whitelist_;
  std::unique_ptr<DecisionRepository> decisions_;
  std::once_flag closed_;

  std::mutex touch_mu_;
  std::map<int64_t, WallTime> pending_touches_;  // guarded by touch_mu_
  bool touch_scheduled_ = false;                 // guarded by touch_mu_
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const DatabaseUrl& url, const StorageOptions& options,
                                                     metrics::Registry& registry, Clock& clock) {
  auto conn = SqliteConnection::Open(url.sqlite_path, /*read_only=*/false, options.busy_timeout);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(url, options, registry, clock, std::move(conn).value()));
}

}  // namespace threatd::storage
