#include "storage/postgres/pg_database.h"

#include <random>

#include <fmt/format.h>

#include <algorithm>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/micros.h"
#include "storage/postgres/pg_change_feed.h"
#include "storage/postgres/pg_migrator.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_repositories.h"
#include "storage/storage_stats.h"

namespace threatd::storage {
namespace {

using pg::MicrosOf;
using pg::TimeParam;

const std::string kApiKeyColumns =
    fmt::format("id, name, prefix, salt, key_hash, role, {}, created_by, {}, {}", MicrosOf("created_at"),
                MicrosOf("last_used_at"), MicrosOf("revoked_at"));
const std::string kAuditColumns = fmt::format(
    "id, {}, actor, action, target_type, target_id, details::text, request_id", MicrosOf("created_at"));
const std::string kSourceColumns = fmt::format(
    "id, source_name, is_enabled, COALESCE(description, ''), config_params::text, {}", MicrosOf("updated_at"));

std::optional<std::string> OptionalText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}
std::optional<WallTime> OptionalTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return FromMicros(f.as<int64_t>());
}
std::string TextOrEmpty(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

Result<ApiKeyRecord> ApiKeyFromRow(const pqxx::row& r) {
  ApiKeyRecord k;
  k.id = r[0].as<int64_t>();
  k.name = r[1].as<std::string>();
  k.prefix = r[2].as<std::string>();
  k.salt = r[3].as<std::string>();
  k.key_hash = r[4].as<std::string>();
  const auto role = ParseRole(r[5].as<std::string>());
  if (!role) return Status::Internal(fmt::format("api key {} has unknown role '{}'", k.id, r[5].c_str()));
  k.role = *role;
  k.created_at = FromMicros(r[6].as<int64_t>());
  k.created_by = OptionalText(r[7]);
  k.last_used_at = OptionalTime(r[8]);
  k.revoked_at = OptionalTime(r[9]);
  return k;
}

DataSource SourceFromRow(const pqxx::row& r) {
  return {r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<bool>(), r[3].as<std::string>(),
          OptionalText(r[4]), FromMicros(r[5].as<int64_t>())};
}

// "threatd-" and 8 random hex digits: one per process, so the change feed
// can tell this instance's notifications from other instances'.
std::string InstanceName() {
  std::random_device rd;
  return fmt::format("threatd-{:08x}", rd());
}

class PgDatabase final : public Database {
 public:
  PgDatabase(const DatabaseUrl& url, const StorageOptions& options, metrics::Registry& registry, Clock& clock)
      : url_(url.url),
        clock_(clock),
        stats_(registry, "postgresql"),
        pool_(pg::PgPoolOptions{url.url, RedactUrl(url.url), options.pool_size, options.acquire_timeout,
                                options.connect_timeout, options.statement_timeout, InstanceName()},
              stats_),
        traffic_(pg::MakeTrafficRepository(pool_, clock_)),
        models_(pg::MakeModelRepository(pool_, clock_)),
        whitelist_(pg::MakeWhitelistRepository(pool_, clock_)),
        decisions_(pg::MakeDecisionRepository(pool_, clock_)) {}
  ~PgDatabase() override { Close(); }

  std::string_view Dialect() const override { return "postgresql"; }
  std::string RedactedUrl() const override { return RedactUrl(url_); }

  TrafficRepository& Traffic() override { return *traffic_; }
  ModelRepository& Models() override { return *models_; }
  WhitelistRepository& Whitelist() override { return *whitelist_; }
  DecisionRepository& Decisions() override { return *decisions_; }
  std::unique_ptr<ChangeFeed> OpenChangeFeed() override { return pg::MakePgChangeFeed(pool_); }

  Result<MigrationReport> Migrate(const std::vector<Migration>& migrations) override {
    std::optional<Result<MigrationReport>> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      out = pg::ApplyPgMigrations(c, migrations, clock_);
      return out->ok() ? Status::Ok() : out->status();
    }));
    return std::move(*out);
  }

  Result<std::vector<AppliedMigration>> MigrationStatus() override {
    std::vector<AppliedMigration> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      auto rows = pg::ReadPgMigrations(c);
      if (!rows.ok()) return rows.status();
      out = std::move(rows).value();
      return Status::Ok();
    }));
    return out;
  }

  Result<double> Ping() override {
    const auto start = std::chrono::steady_clock::now();
    THREATD_RETURN_IF_ERROR(pool_.Run([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT 1");
      return Status::Ok();
    }));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  // --- API keys ---
  Result<ApiKeyRecord> InsertApiKey(const NewApiKey& key) override {
    if (key.role == Role::kPublic) return Status::InvalidArgument("an API key needs a role: viewer, operator or admin");
    std::optional<Result<ApiKeyRecord>> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params1(
          fmt::format("INSERT INTO api_keys(name, prefix, salt, key_hash, role, created_at, created_by) "
                      "VALUES ($1, $2, $3, $4, $5, {}, $7) RETURNING {}",
                      TimeParam(6), kApiKeyColumns),
          key.name, key.prefix, key.salt, key.key_hash, std::string(RoleName(key.role)), ToMicros(key.created_at),
          key.created_by);
      tx.commit();
      out = ApiKeyFromRow(r);
      return out->status();
    }));
    return std::move(*out);
  }

  Result<std::optional<ApiKeyRecord>> FindApiKeyByPrefix(std::string_view prefix) override {
    std::optional<ApiKeyRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows =
          tx.exec_params(fmt::format("SELECT {} FROM api_keys WHERE prefix = $1", kApiKeyColumns), std::string(prefix));
      if (rows.empty()) return Status::Ok();
      auto k = ApiKeyFromRow(rows[0]);
      if (!k.ok()) return k.status();
      out = std::move(k).value();
      return Status::Ok();
    }));
    return out;
  }

  Result<std::vector<ApiKeyRecord>> ListApiKeys() override {
    std::vector<ApiKeyRecord> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      for (const auto& row : tx.exec(fmt::format("SELECT {} FROM api_keys ORDER BY id", kApiKeyColumns))) {
        auto k = ApiKeyFromRow(row);
        if (!k.ok()) return k.status();
        out.push_back(std::move(k).value());
      }
      return Status::Ok();
    }));
    return out;
  }

  Status RevokeApiKey(int64_t id, WallTime at) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params(
          fmt::format("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, {}) WHERE id = $2", TimeParam(1)),
          ToMicros(at), id);
      tx.commit();
      if (r.affected_rows() == 0) return Status::NotFound(fmt::format("API key {} does not exist", id));
      return Status::Ok();
    });
  }

  Result<int64_t> CountActiveApiKeys() override {
    int64_t n = 0;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      n = tx.exec("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")[0][0].as<int64_t>();
      return Status::Ok();
    }));
    return n;
  }

  // Synchronous here (one short UPDATE); the SQLite backend coalesces.
  Status TouchApiKey(int64_t id, WallTime at) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(fmt::format("UPDATE api_keys SET last_used_at = GREATEST(last_used_at, {0}) WHERE id = $2",
                                 TimeParam(1)),
                     ToMicros(at), id);
      return Status::Ok();
    });
  }

  // --- Audit ---
  Status AppendAudit(const AuditEntry& e) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(fmt::format("INSERT INTO audit_log(created_at, actor, action, target_type, target_id, details, "
                                 "request_id) VALUES ({}, $2, $3, $4, $5, $6::jsonb, $7)",
                                 TimeParam(1)),
                     ToMicros(e.created_at), e.actor, e.action, e.target_type, e.target_id, e.details_json,
                     e.request_id);
      return Status::Ok();
    });
  }

  Result<std::vector<AuditEntry>> ListAudit(const AuditQuery& query) override {
    if (query.limit < 1 || query.limit > 1000 || query.offset < 0) {
      return Status::InvalidArgument("audit limit must be 1..1000 and offset non-negative");
    }
    std::vector<AuditEntry> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM audit_log ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2", kAuditColumns),
          query.limit, query.offset);
      for (const auto& r : rows) {
        out.push_back({r[0].as<int64_t>(), FromMicros(r[1].as<int64_t>()), TextOrEmpty(r[2]), TextOrEmpty(r[3]),
                       TextOrEmpty(r[4]), TextOrEmpty(r[5]), OptionalText(r[6]), TextOrEmpty(r[7])});
      }
      return Status::Ok();
    }));
    return out;
  }

  // --- Data sources ---
  Result<std::vector<DataSource>> ListDataSources() override {
    std::vector<DataSource> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      for (const auto& r :
           tx.exec(fmt::format("SELECT {} FROM data_source_config ORDER BY source_name", kSourceColumns))) {
        out.push_back(SourceFromRow(r));
      }
      return Status::Ok();
    }));
    return out;
  }

  Result<std::optional<DataSource>> GetDataSource(std::string_view name) override {
    std::optional<DataSource> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM data_source_config WHERE source_name = $1", kSourceColumns), std::string(name));
      if (!rows.empty()) out = SourceFromRow(rows[0]);
      return Status::Ok();
    }));
    return out;
  }

  Result<DataSource> UpdateDataSource(std::string_view name, bool enabled,
                                      std::optional<std::string> config_json) override {
    std::optional<DataSource> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_params(
          fmt::format("UPDATE data_source_config SET is_enabled = $1, "
                      "config_params = COALESCE($2::jsonb, config_params), updated_at = {} "
                      "WHERE source_name = $4 RETURNING {}",
                      TimeParam(3), kSourceColumns),
          enabled, config_json, ToMicros(clock_.Now()), std::string(name));
      tx.commit();
      if (rows.empty()) return Status::NotFound(fmt::format("data source '{}' does not exist", name));
      out = SourceFromRow(rows[0]);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  // Every write is committed before its call returns.
  Status Flush() override { return Status::Ok(); }
  void Close() override { pool_.Close(); }

 private:
  const std::string url_;
  Clock& clock_;
  StorageStats stats_;
  pg::PgPool pool_;
  std::unique_ptr<TrafficRepository> traffic_;
  std::unique_ptr<ModelRepository> models_;
  std::unique_ptr<WhitelistRepository> whitelist_;
  std::unique_ptr<DecisionRepository> decisions_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPgDatabase(const DatabaseUrl& url, const StorageOptions& options,
                                                 metrics::Registry& registry, Clock& clock) {
  return std::unique_ptr<Database>(std::make_unique<PgDatabase>(url, options, registry, clock));
}

}  // namespace threatd::storage
