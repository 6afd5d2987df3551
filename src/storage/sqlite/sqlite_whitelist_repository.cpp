#include <fmt/format.h>

#include "storage/micros.h"
#include "storage/sqlite/sqlite_repositories.h"

namespace threatd::storage::sqlite {
namespace {

constexpr const char* kColumns =
    "id, ip_address, description, created_at, updated_at, is_active, created_by, expires_at";

WhitelistEntry EntryFromRow(const SqliteStatement& q) {
  WhitelistEntry e;
  e.id = q.Int64(0);
  e.ip_address = q.Text(1);
  e.description = q.OptionalText(2);
  e.created_at = FromMicros(q.Int64(3));
  e.updated_at = FromMicros(q.Int64(4));
  e.is_active = q.Int64(5) != 0;
  e.created_by = q.OptionalText(6);
  if (auto x = q.OptionalInt64(7)) e.expires_at = FromMicros(*x);
  return e;
}

Status Collect(SqliteStatement& q, std::vector<WhitelistEntry>* out) {
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    out->push_back(EntryFromRow(q));
  }
}

Status SelectById(SqliteConnection& c, int64_t id, std::vector<WhitelistEntry>* out) {
  auto q = c.Prepare(fmt::format("SELECT {} FROM ip_whitelist WHERE id = ?", kColumns));
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  return Collect(*q, out);
}

Status NotFound(int64_t id) {
  return Status::NotFound(fmt::format("IP whitelist entry not found: {}", id),
                          "list the entries with GET /api/v1/config/whitelist");
}

class SqliteWhitelistRepository final : public WhitelistRepository {
 public:
  explicit SqliteWhitelistRepository(SqliteAccess& access) : access_(access) {}

  Result<std::vector<WhitelistEntry>> ListWhitelist(const WhitelistQuery& query) override {
    if (query.limit < 1 || query.limit > 1000 || query.offset < 0)
      return Status::InvalidArgument("whitelist limit must be 1..1000 and offset non-negative");
    std::vector<WhitelistEntry> rows;
    const int64_t now = ToMicros(access_.clock().Now());
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format(
          "SELECT {} FROM ip_whitelist WHERE (? = 0 OR (is_active = 1 AND (expires_at IS NULL OR expires_at > ?))) "
          "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
          kColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, int64_t{query.active_only}).Bind(2, now).Bind(3, query.limit).Bind(4, query.offset);
      return Collect(*q, &rows);
    }));
    return rows;
  }

  Result<std::vector<WhitelistEntry>> ListWhitelistInEffect() override {
    std::vector<WhitelistEntry> rows;
    const int64_t now = ToMicros(access_.clock().Now());
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) {
      auto q = c.Prepare(fmt::format(
          "SELECT {} FROM ip_whitelist WHERE is_active = 1 AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
          kColumns));
      if (!q.ok()) return q.status();
      q->Bind(1, now);
      return Collect(*q, &rows);
    }));
    return rows;
  }

  Result<std::optional<WhitelistEntry>> GetWhitelistEntry(int64_t id) override {
    std::vector<WhitelistEntry> rows;
    THREATD_RETURN_IF_ERROR(access_.Read([&](SqliteConnection& c) { return SelectById(c, id, &rows); }));
    if (rows.empty()) return std::optional<WhitelistEntry>();
    return std::optional<WhitelistEntry>(std::move(rows.front()));
  }

  Result<WhitelistEntry> CreateWhitelistEntry(const NewWhitelistEntry& e) override {
    std::vector<WhitelistEntry> rows;
    const int64_t now = ToMicros(access_.clock().Now());
    const Status s = access_.Write([&](SqliteConnection& c) {
      auto q = c.Prepare(
          "INSERT INTO ip_whitelist(ip_address, description, created_at, updated_at, is_active, created_by, "
          "expires_at) VALUES (?,?,?,?,?,?,?)");
      if (!q.ok()) return q.status();
      q->Bind(1, std::string_view(e.ip_address))
          .Bind(2, e.description)
          .Bind(3, now)
          .Bind(4, now)
          .Bind(5, int64_t{e.is_active})
          .Bind(6, e.created_by);
      if (e.expires_at) {
        q->Bind(7, ToMicros(*e.expires_at));
      } else {
        q->BindNull(7);
      }
      if (Status run = q->Run(); !run.ok()) {
        if (run.code() != ErrorCode::kConflict) return run;
        return Status::Conflict(fmt::format("IP address already exists in whitelist: {}", e.ip_address),
                                "update the existing entry with PATCH instead");
      }
      return SelectById(c, c.LastInsertRowId(), &rows);
    });
    if (!s.ok()) return s;
    if (rows.empty()) return Status::Internal("whitelist entry vanished right after insert");
    return std::move(rows.front());
  }

  Result<WhitelistEntry> UpdateWhitelistEntry(int64_t id, const WhitelistUpdate& u) override {
    std::vector<WhitelistEntry> rows;
    const int64_t now = ToMicros(access_.clock().Now());
    const Status s = access_.Write([&](SqliteConnection& c) {
      // ?1/?2: description (set flag, value); ?3/?4: is_active; ?5/?6: expires_at.
      auto q = c.Prepare(
          "UPDATE ip_whitelist SET description = CASE WHEN ?1 THEN ?2 ELSE description END, "
          "is_active = CASE WHEN ?3 THEN ?4 ELSE is_active END, "
          "expires_at = CASE WHEN ?5 THEN ?6 ELSE expires_at END, updated_at = ?7 WHERE id = ?8");
      if (!q.ok()) return q.status();
      const bool set_desc = u.description.has_value() || u.clear_description;
      const bool set_exp = u.expires_at.has_value() || u.clear_expires_at;
      q->Bind(1, int64_t{set_desc}).Bind(2, u.clear_description ? std::nullopt : u.description);
      q->Bind(3, int64_t{u.is_active.has_value()}).Bind(4, int64_t{u.is_active.value_or(true)});
      q->Bind(5, int64_t{set_exp});
      if (u.expires_at && !u.clear_expires_at) {
        q->Bind(6, ToMicros(*u.expires_at));
      } else {
        q->BindNull(6);
      }
      THREATD_RETURN_IF_ERROR(q->Bind(7, now).Bind(8, id).Run());
      if (c.Changes() == 0) return NotFound(id);
      return SelectById(c, id, &rows);
    });
    if (!s.ok()) return s;
    if (rows.empty()) return NotFound(id);
    return std::move(rows.front());
  }

  Status DeleteWhitelistEntry(int64_t id) override {
    return access_.Write([&](SqliteConnection& c) {
      auto q = c.Prepare("DELETE FROM ip_whitelist WHERE id = ?");
      if (!q.ok()) return q.status();
      THREATD_RETURN_IF_ERROR(q->Bind(1, id).Run());
      return c.Changes() == 0 ? NotFound(id) : Status::Ok();
    });
  }

 private:
  SqliteAccess& access_;
};

}  // namespace

std::unique_ptr<WhitelistRepository> MakeWhitelistRepository(SqliteAccess& access) {
  return std::make_unique<SqliteWhitelistRepository>(access);
}

}  // namespace threatd::storage::sqlite
