#include "storage/migration.h"

#include "common/sha256.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace threatd::storage {

Result<Migration> MakeMigration(std::string name, std::string sql) {
  const auto digits = std::find_if(name.begin(), name.end(), [](char c) { return c < '0' || c > '9'; }) - name.begin();
  int64_t version = 0;
  if (digits == 0 || std::from_chars(name.data(), name.data() + digits, version).ec != std::errc() || version <= 0) {
    return Status::InvalidArgument(fmt::format("migration file '{}' does not start with a version number", name),
                                   "name migration files NNNN_description.sql, e.g. 0002_add_models.sql");
  }
  Migration m;
  m.version = version;
  m.name = std::move(name);
  m.checksum = Sha256Hex(sql);
  m.sql = std::move(sql);
  return m;
}

const std::vector<Migration>& EmbeddedMigrations(std::string_view dialect) {
  static const std::map<std::string, std::vector<Migration>, std::less<>> kByDialect = [] {
    std::map<std::string, std::vector<Migration>, std::less<>> by;
    for (std::size_t i = 0; i < internal::kEmbeddedMigrationFileCount; ++i) {
      const auto& f = internal::kEmbeddedMigrationFiles[i];
      auto m = MakeMigration(f.name, f.sql);
      // The build only embeds files matching *.sql; a misnamed one is a
      // packaging bug caught by the migration tests, so it is skipped here.
      if (m.ok()) by[f.dialect].push_back(std::move(m).value());
    }
    for (auto& [d, list] : by) {
      std::sort(list.begin(), list.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    }
    return by;
  }();
  static const std::vector<Migration> kNone;
  const auto it = kByDialect.find(dialect);
  return it == kByDialect.end() ? kNone : it->second;
}

Result<std::vector<Migration>> PlanMigrations(const std::vector<Migration>& available,
                                              const std::vector<AppliedMigration>& applied) {
  std::map<int64_t, const Migration*> by_version;
  for (const auto& m : available) {
    if (!by_version.emplace(m.version, &m).second) {
      return Status::Internal(fmt::format("two migrations share version {} ('{}')", m.version, m.name),
                              "give every migration file a distinct NNNN prefix");
    }
  }
  std::map<int64_t, const AppliedMigration*> done;
  for (const auto& a : applied) {
    done.emplace(a.version, &a);
    const auto it = by_version.find(a.version);
    if (it == by_version.end()) {
      return Status::Conflict(
          fmt::format("the database has migration {} ('{}') that this threatd build does not know", a.version, a.name),
          "run a threatd version at least as new as the one that migrated this database");
    }
    if (it->second->checksum != a.checksum) {
      return Status::Conflict(
          fmt::format("migration {} was changed after it was applied (checksum {} in the database, {} in this build)",
                      a.name, a.checksum.substr(0, 12), it->second->checksum.substr(0, 12)),
          "never edit an applied migration; add a new NNNN_*.sql file instead");
    }
  }
  std::vector<Migration> pending;
  for (const auto& [version, m] : by_version) {
    if (!done.count(version)) pending.push_back(*m);
  }
  return pending;
}

Result<MigrationReport> RunMigrations(const std::vector<Migration>& available,
                                      const std::vector<AppliedMigration>& applied, Clock& clock,
                                      const ApplyMigrationFn& apply_one) {
  auto plan = PlanMigrations(available, applied);
  if (!plan.ok()) return plan.status();
  MigrationReport report;
  for (const auto& a : applied) report.current_version = std::max(report.current_version, a.version);
  for (const auto& m : *plan) {
    const auto now = clock.Now();
    auto ran = apply_one(m, now);
    if (!ran.ok()) {
      const Status& s = ran.status();
      return Status(s.code() == ErrorCode::kUnavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                    fmt::format("migration {} failed and was rolled back ({}); the database stays at version {}",
                                m.name, s.message(), report.current_version),
                    "fix the migration or the database, then run `threatd migrate` again");
    }
    if (*ran) report.applied.push_back({m.version, m.name, m.checksum, now});
    report.current_version = m.version;
  }
  return report;
}

}  // namespace threatd::storage
