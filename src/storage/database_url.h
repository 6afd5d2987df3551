// DatabaseUrl: parsing and redaction of StorageOptions::url.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::storage {

enum class DatabaseKind { kSqlite, kPostgresql };

struct DatabaseUrl {
  DatabaseKind kind = DatabaseKind::kSqlite;
  std::string url;          // as given (PostgreSQL: handed to libpq as is)
  std::string sqlite_path;  // SQLite: file path, or ":memory:"
  bool sqlite_memory = false;
};

// InvalidArgument naming the accepted forms for anything else.
Result<DatabaseUrl> ParseDatabaseUrl(std::string_view url);

// Replaces the password of scheme://user:password@host with "***" (also a
// password=... query parameter).
std::string RedactUrl(std::string_view url);

}  // namespace threatd::storage
