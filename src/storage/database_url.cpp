#include "storage/database_url.h"

#include <fmt/format.h>

namespace threatd::storage {

namespace {
constexpr std::string_view kAcceptedForms =
    "use sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite::memory: or "
    "postgresql://user:password@host:5432/database";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
}  // namespace

Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url) {
  DatabaseUrl out;
  out.url = std::string(url);
  if (url == "sqlite::memory:") {
    out.kind = DatabaseKind::kSqlite;
    out.sqlite_path = ":memory:";
    out.sqlite_memory = true;
    return out;
  }
  if (StartsWith(url, "sqlite://")) {
    // sqlite:///abs -> "/abs"; sqlite://rel/x.db -> "rel/x.db".
    out.kind = DatabaseKind::kSqlite;
    out.sqlite_path = std::string(url.substr(std::string_view("sqlite://").size()));
    if (out.sqlite_path.empty() || out.sqlite_path == "/") {
      return Status::InvalidArgument(fmt::format("database url '{}' names no file", url), std::string(kAcceptedForms));
    }
    return out;
  }
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    out.kind = DatabaseKind::kPostgresql;
    return out;
  }
  return Status::InvalidArgument(fmt::format("unsupported database url '{}'", RedactUrl(url)),
                                 std::string(kAcceptedForms));
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  const auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const auto auth_begin = scheme_end + 3;
    const auto at = out.find('@', auth_begin);
    const auto slash = out.find('/', auth_begin);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = out.find(':', auth_begin);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  const auto pw = out.find("password=");
  if (pw != std::string::npos) {
    const auto value = pw + std::string_view("password=").size();
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

}  // namespace threatd::storage
