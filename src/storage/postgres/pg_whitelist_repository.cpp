#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "storage/micros.h"
#include "storage/postgres/pg_repositories.h"

namespace threatd::storage::pg {
namespace {

const std::string kColumns =
    fmt::format("id, ip_address, description, {}, {}, is_active, created_by, {}", MicrosOf("created_at"),
                MicrosOf("updated_at"), MicrosOf("expires_at"));

std::optional<std::string> OptionalText(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

WhitelistEntry EntryFromRow(const pqxx::row& r) {
  WhitelistEntry e;
  e.id = r[0].as<int64_t>();
  e.ip_address = r[1].as<std::string>();
  e.description = OptionalText(r[2]);
  e.created_at = FromMicros(r[3].as<int64_t>());
  e.updated_at = FromMicros(r[4].as<int64_t>());
  e.is_active = r[5].as<bool>();
  e.created_by = OptionalText(r[6]);
  if (!r[7].is_null()) e.expires_at = FromMicros(r[7].as<int64_t>());
  return e;
}

std::optional<int64_t> OptionalMicros(const std::optional<Clock::WallTime>& t) {
  if (!t) return std::nullopt;
  return ToMicros(*t);
}

Status NotFound(int64_t id) {
  return Status::NotFound(fmt::format("IP whitelist entry not found: {}", id),
                          "list the entries with GET /api/v1/config/whitelist");
}

class PgWhitelistRepository final : public WhitelistRepository {
 public:
  PgWhitelistRepository(PgPool& pool, Clock& clock) : pool_(pool), clock_(clock) {}

  Result<std::vector<WhitelistEntry>> ListWhitelist(const WhitelistQuery& query) override {
    if (query.limit < 1 || query.limit > 1000 || query.offset < 0)
      return Status::InvalidArgument("whitelist limit must be 1..1000 and offset non-negative");
    std::vector<WhitelistEntry> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM ip_whitelist WHERE (NOT $1 OR (is_active AND (expires_at IS NULL OR "
                      "expires_at > {}))) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
                      kColumns, TimeParam(2)),
          query.active_only, ToMicros(clock_.Now()), query.limit, query.offset);
      for (const auto& r : rows) out.push_back(EntryFromRow(r));
      return Status::Ok();
    }));
    return out;
  }

  Result<std::vector<WhitelistEntry>> ListWhitelistInEffect() override {
    std::vector<WhitelistEntry> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(
          fmt::format("SELECT {} FROM ip_whitelist WHERE is_active AND (expires_at IS NULL OR expires_at > {}) "
                      "ORDER BY id",
                      kColumns, TimeParam(1)),
          ToMicros(clock_.Now()));
      for (const auto& r : rows) out.push_back(EntryFromRow(r));
      return Status::Ok();
    }));
    return out;
  }

  Result<std::optional<WhitelistEntry>> GetWhitelistEntry(int64_t id) override {
    std::optional<WhitelistEntry> out;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto rows = tx.exec_params(fmt::format("SELECT {} FROM ip_whitelist WHERE id = $1", kColumns), id);
      if (!rows.empty()) out = EntryFromRow(rows[0]);
      return Status::Ok();
    }));
    return out;
  }

  Result<WhitelistEntry> CreateWhitelistEntry(const NewWhitelistEntry& e) override {
    std::optional<WhitelistEntry> out;
    const Status s = pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params1(
          fmt::format("INSERT INTO ip_whitelist(ip_address, description, created_at, updated_at, is_active, "
                      "created_by, expires_at) VALUES ($1, $2, {0}, {0}, $4, $5, {1}) RETURNING {2}",
                      TimeParam(3), TimeParam(6), kColumns),
          e.ip_address, e.description, ToMicros(clock_.Now()), e.is_active, e.created_by,
          OptionalMicros(e.expires_at));
      tx.commit();
      out = EntryFromRow(r);
      return Status::Ok();
    });
    if (s.code() == ErrorCode::kConflict)
      return Status::Conflict(fmt::format("IP address already exists in whitelist: {}", e.ip_address),
                              "update the existing entry with PATCH instead");
    if (!s.ok()) return s;
    return std::move(*out);
  }

  Result<WhitelistEntry> UpdateWhitelistEntry(int64_t id, const WhitelistUpdate& u) override {
    std::optional<WhitelistEntry> out;
    const bool set_desc = u.description.has_value() || u.clear_description;
    const bool set_exp = u.expires_at.has_value() || u.clear_expires_at;
    THREATD_RETURN_IF_ERROR(pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto rows = tx.exec_params(
          fmt::format("UPDATE ip_whitelist SET description = CASE WHEN $1 THEN $2 ELSE description END, "
                      "is_active = CASE WHEN $3 THEN $4 ELSE is_active END, "
                      "expires_at = CASE WHEN $5 THEN {} ELSE expires_at END, updated_at = {} "
                      "WHERE id = $8 RETURNING {}",
                      TimeParam(6), TimeParam(7), kColumns),
          set_desc, u.clear_description ? std::nullopt : u.description, u.is_active.has_value(),
          u.is_active.value_or(true), set_exp, u.clear_expires_at ? std::nullopt : OptionalMicros(u.expires_at),
          ToMicros(clock_.Now()), id);
      tx.commit();
      if (rows.empty()) return NotFound(id);
      out = EntryFromRow(rows[0]);
      return Status::Ok();
    }));
    return std::move(*out);
  }

  Status DeleteWhitelistEntry(int64_t id) override {
    return pool_.Run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params("DELETE FROM ip_whitelist WHERE id = $1", id);
      tx.commit();
      return r.affected_rows() == 0 ? NotFound(id) : Status::Ok();
    });
  }

 private:
  PgPool& pool_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<WhitelistRepository> MakeWhitelistRepository(PgPool& pool, Clock& clock) {
  return std::make_unique<PgWhitelistRepository>(pool, clock);
}

}  // namespace threatd::storage::pg
