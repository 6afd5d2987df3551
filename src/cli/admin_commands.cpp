// `threatd migrate`, `config show`, `keys create|list|revoke`, `version`.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/opensslv.h>
#include <pqxx/version.hxx>
#include <librdkafka/rdkafka.h>
#include <spdlog/version.h>
#include <sqlite3.h>
#include <xgboost/c_api.h>
#include <yaml-cpp/yaml.h>

#include <boost/version.hpp>
#include <filesystem>

#include "api/build_info.h"
#include "auth/api_key_service.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "cli/report.h"
#include "common/log.h"
#include "storage/database.h"

namespace threatd::cli {
namespace {

// Opens the configured database for an administrative command.
Result<std::unique_ptr<storage::Database>> OpenDb(const config::Options& o, metrics::Registry& registry) {
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  storage::StorageOptions so;
  so.url = o.EffectiveDatabaseUrl();
  so.pool_size = 1;
  return storage::OpenDatabase(so, registry);
}

int Migrate(const ConfigFlags& flags) {
  auto o = flags.Load();
  if (!o.ok()) return ReportError(o.status(), 2);
  metrics::Registry registry;
  auto db = OpenDb(*o, registry);
  if (!db.ok()) return ReportError(db.status(), 1);
  auto report = (*db)->Migrate();
  if (!report.ok()) return ReportError(report.status(), 1);
  auto applied = (*db)->MigrationStatus();
  if (!applied.ok()) return ReportError(applied.status(), 1);
  fmt::print("database: {}\n", (*db)->RedactedUrl());
  for (const auto& m : *applied) fmt::print("  {:04} {}  applied {}\n", m.version, m.name, FormatIso8601(m.applied_at));
  fmt::print("{} migration(s) applied now, schema at version {}\n", report->applied.size(),
             applied->empty() ? 0 : applied->back().version);
  return 0;
}

int ConfigShow(const ConfigFlags& flags) {
  config::Sources sources;
  auto o = flags.Load(&sources);
  if (!o.ok()) return ReportError(o.status(), 2);
  fmt::print("{}", config::Render(*o, sources));
  return 0;
}

// Runs `fn` with a migrated database and an ApiKeyService.
template <typename Fn>
int WithKeys(const ConfigFlags& flags, Fn fn) {
  auto o = flags.Load();
  if (!o.ok()) return ReportError(o.status(), 2);
  metrics::Registry registry;
  auto db = OpenDb(*o, registry);
  if (!db.ok()) return ReportError(db.status(), 1);
  if (auto m = (*db)->Migrate(); !m.ok()) return ReportError(m.status(), 1);
  auth::ApiKeyService keys(**db, Clock::System(), registry);
  const int rc = fn(keys, **db);
  (void)(*db)->Flush();
  return rc;
}

void Audit(storage::Database& db, std::string_view action, std::string target_id, nlohmann::json details) {
  storage::AuditEntry e;
  e.created_at = Clock::System().Now();
  e.actor = "cli";
  e.action = std::string(action);
  e.target_type = "api_key";
  e.target_id = std::move(target_id);
  e.details_json = details.dump();
  if (Status s = db.AppendAudit(e); !s.ok()) fmt::print(stderr, "threatd: audit entry not written: {}\n", s.message());
}

std::string LibraryVersions() {
  int xgb_major = 0, xgb_minor = 0, xgb_patch = 0;
  XGBoostVersion(&xgb_major, &xgb_minor, &xgb_patch);
  return fmt::format(
      "  boost {}.{}.{}\n  sqlite {}\n  libpqxx {}\n  librdkafka {}\n  xgboost {}.{}.{}\n  openssl {}\n"
      "  nlohmann-json {}.{}.{}\n  spdlog {}.{}.{}\n  fmt {}\n",
      BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, sqlite3_libversion(), PQXX_VERSION,
      rd_kafka_version_str(), xgb_major, xgb_minor, xgb_patch, OPENSSL_VERSION_TEXT, NLOHMANN_JSON_VERSION_MAJOR,
      NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH,
      FMT_VERSION);
}

}  // namespace

void RegisterAdminCommands(CLI::App& root, int& exit_code) {
  {
    auto* cmd = root.add_subcommand("migrate", "Apply pending database migrations and show the schema version");
    auto flags = std::make_shared<ConfigFlags>();
    flags->AddTo(*cmd);
    cmd->callback([flags, &exit_code] { exit_code = Migrate(*flags); });
  }
  {
    auto* config = root.add_subcommand("config", "Inspect the configuration");
    config->require_subcommand(1);
    auto* show = config->add_subcommand("show", "Print the effective configuration (secrets redacted) and sources");
    auto flags = std::make_shared<ConfigFlags>();
    flags->AddTo(*show);
    show->callback([flags, &exit_code] { exit_code = ConfigShow(*flags); });
  }
  {
    auto* keys = root.add_subcommand("keys", "Manage API keys");
    keys->require_subcommand(1);
    auto flags = std::make_shared<ConfigFlags>();

    auto* create = keys->add_subcommand("create", "Create an API key and print it once");
    auto name = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>("viewer");
    create->add_option("--name", *name, "a name for the key (who or what uses it)")->required();
    create->add_option("--role", *role, "viewer, operator or admin")
        ->check(CLI::IsMember({"viewer", "operator", "admin"}));
    flags->AddTo(*create);
    create->callback([flags, name, role, &exit_code] {
      exit_code = WithKeys(*flags, [&](auth::ApiKeyService& svc, storage::Database& db) {
        auto created = svc.Create(*name, *ParseRole(*role), std::string("cli"));
        if (!created.ok()) return ReportError(created.status(), 1);
        Audit(db, "api_key.create", std::to_string(created->record.id), {{"name", *name}, {"role", *role}});
        fmt::print("Created {} key {} (id {}). Store it now, it is not shown again:\n{}\n", *role,
                   created->record.name, created->record.id, created->plaintext);
        return 0;
      });
    });

    auto* list = keys->add_subcommand("list", "List API keys (never their secrets)");
    flags->AddTo(*list);
    list->callback([flags, &exit_code] {
      exit_code = WithKeys(*flags, [](auth::ApiKeyService& svc, storage::Database&) {
        auto all = svc.List();
        if (!all.ok()) return ReportError(all.status(), 1);
        fmt::print("{:>4}  {:<24} {:<9} {:<14} {:<25} {}\n", "id", "name", "role", "prefix", "created", "state");
        for (const auto& k : *all)
          fmt::print("{:>4}  {:<24} {:<9} {:<14} {:<25} {}\n", k.id, k.name, RoleName(k.role), k.prefix,
                     FormatIso8601(k.created_at), k.active() ? "active" : "revoked");
        return 0;
      });
    });

    auto* revoke = keys->add_subcommand("revoke", "Revoke an API key by id");
    auto id = std::make_shared<int64_t>(0);
    revoke->add_option("id", *id, "the key's id (see `threatd keys list`)")->required();
    flags->AddTo(*revoke);
    revoke->callback([flags, id, &exit_code] {
      exit_code = WithKeys(*flags, [&](auth::ApiKeyService& svc, storage::Database& db) {
        if (Status s = svc.Revoke(*id); !s.ok()) return ReportError(s, 1);
        Audit(db, "api_key.revoke", std::to_string(*id), nullptr);
        fmt::print("Revoked API key {}\n", *id);
        return 0;
      });
    });
  }
  {
    auto* version = root.add_subcommand("version", "Print version, git commit, build type and library versions");
    version->callback([&exit_code] {
      fmt::print("threatd {}\ncommit {}\nbuild {} ({}{}{})\nlibraries:\n{}", build::kVersion, build::kGitCommit,
                 build::kBuildType, build::kCompiler, *build::kSanitizers ? ", sanitizers " : "",
                 build::kSanitizers, LibraryVersions());
      exit_code = 0;
    });
  }
}

}  // namespace threatd::cli
