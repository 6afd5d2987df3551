#include "storage/sqlite/sqlite_connection.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <functional>
#include <map>
#include <optional>

namespace threatd::storage::sqlite {

namespace {

Status FromSqlite(int rc, sqlite3* db, std::string_view what) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("sqlite: {}: {}", what, detail);
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::Conflict(std::move(message));
      }
      return Status::Validation(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(message), "the database is locked by another process; retry later");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::Unavailable(std::move(message), "check the database file, its directory and free disk space");
    default:
      return Status::Internal(std::move(message));
  }
}

}  // namespace

// Prepared statements a connection keeps for reuse, by SQL text. Compiling
// a statement costs more than running a small one: the writer prepares the
// same few statements for every batch and every decision, and compiling them
// was a fifth of its time when batches are small (Kafka at a few thousand
// flows/s). Bounded, so queries built at run time cannot grow it. Entries
// move in and out as map nodes: no allocation once a statement is cached.
class StatementCache {
 public:
  using Map = std::multimap<std::string, sqlite3_stmt*, std::less<>>;
  using Node = Map::node_type;
  static constexpr size_t kCapacity = 64;

  ~StatementCache() {
    for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
  }
  // An idle statement prepared from exactly `sql`, or an empty node.
  Node Take(std::string_view sql) {
    const auto it = idle_.find(sql);
    return it == idle_.end() ? Node() : idle_.extract(it);
  }
  static Node MakeNode(std::string_view sql, sqlite3_stmt* stmt) {
    Map one;
    one.emplace(std::string(sql), stmt);
    return one.extract(one.begin());
  }
  // Takes the statement back, rewound and without bindings; finalizes it when full.
  void Give(Node node) {
    sqlite3_reset(node.mapped());
    sqlite3_clear_bindings(node.mapped());
    if (idle_.size() >= kCapacity) {
      sqlite3_finalize(node.mapped());
      return;
    }
    idle_.insert(std::move(node));
  }

 private:
  Map idle_;
};

struct SqliteStatement::Impl {
  sqlite3* db = nullptr;         // not owned
  sqlite3_stmt* stmt = nullptr;  // owned: finalized, or given back to `cache`, in the destructor
  StatementCache* cache = nullptr;  // the connection's (it outlives its statements); null = not kept
  StatementCache::Node node;        // when kept: its text and `stmt`
  Status bind_error;
  ~Impl() {
    if (cache != nullptr) {
      cache->Give(std::move(node));
    } else {
      sqlite3_finalize(stmt);
    }
  }
  void Check(int rc, int index) {
    if (rc != SQLITE_OK && bind_error.ok()) bind_error = FromSqlite(rc, db, fmt::format("binding parameter {}", index));
  }
};

SqliteStatement::SqliteStatement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStatement::SqliteStatement(SqliteStatement&&) noexcept = default;
SqliteStatement& SqliteStatement::operator=(SqliteStatement&&) noexcept = default;
SqliteStatement::~SqliteStatement() = default;

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  impl_->Check(sqlite3_bind_int64(impl_->stmt, index, value), index);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, double value) {
  impl_->Check(sqlite3_bind_double(impl_->stmt, index, value), index);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  impl_->Check(sqlite3_bind_text64(impl_->stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
               index);
  return *this;
}
SqliteStatement& SqliteStatement::BindView(int index, std::string_view text) {
  impl_->Check(sqlite3_bind_text64(impl_->stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8), index);
  return *this;
}
SqliteStatement& SqliteStatement::BindBlobView(int index, std::string_view bytes) {
  impl_->Check(sqlite3_bind_blob64(impl_->stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC), index);
  return *this;
}
SqliteStatement& SqliteStatement::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}
SqliteStatement& SqliteStatement::BindNull(int index) {
  impl_->Check(sqlite3_bind_null(impl_->stmt, index), index);
  return *this;
}

Result<bool> SqliteStatement::Step() {
  if (!impl_->bind_error.ok()) return impl_->bind_error;
  const int rc = sqlite3_step(impl_->stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return FromSqlite(rc, impl_->db, "executing statement");
}

void SqliteStatement::Reset() {
  sqlite3_reset(impl_->stmt);
  sqlite3_clear_bindings(impl_->stmt);
  impl_->bind_error = Status::Ok();
}

Status SqliteStatement::Run() {
  while (true) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

bool SqliteStatement::IsNull(int c) const { return sqlite3_column_type(impl_->stmt, c) == SQLITE_NULL; }
int64_t SqliteStatement::Int64(int c) const { return sqlite3_column_int64(impl_->stmt, c); }
double SqliteStatement::Double(int c) const { return sqlite3_column_double(impl_->stmt, c); }
std::string SqliteStatement::Text(int c) const {
  const auto* p = sqlite3_column_text(impl_->stmt, c);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(impl_->stmt, c)));
}
std::optional<std::string> SqliteStatement::OptionalText(int c) const {
  if (IsNull(c)) return std::nullopt;
  return Text(c);
}
std::optional<int64_t> SqliteStatement::OptionalInt64(int c) const {
  if (IsNull(c)) return std::nullopt;
  return Int64(c);
}

struct SqliteConnection::Impl {
  sqlite3* db = nullptr;  // owned; closed in the destructor
  int busy_timeout_ms = 0;
  SqliteConnection* owner = nullptr;
  std::function<void(SqliteConnection&, int64_t)> wal_hook;
  std::optional<StatementCache> statements{std::in_place};  // finalized before the connection closes
  ~Impl() {
    statements.reset();
    sqlite3_close_v2(db);
  }
};

SqliteConnection::SqliteConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteConnection::~SqliteConnection() = default;

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path, bool read_only,
                                                                 std::chrono::milliseconds busy_timeout) {
  // SQLite's allocation statistics take a process-wide mutex on every
  // malloc; threatd never reads them. Only possible before SQLite starts.
  static const int memstatus_off [[maybe_unused]] = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  auto impl = std::make_unique<Impl>();
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    return FromSqlite(rc, impl->db, fmt::format("opening '{}'", path))
        .WithContext("cannot open the SQLite database");
  }
  impl->busy_timeout_ms = static_cast<int>(busy_timeout.count());
  sqlite3_busy_timeout(impl->db, impl->busy_timeout_ms);
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(std::move(impl)));
  conn->impl_->owner = conn.get();
  THREATD_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON"));
  if (!read_only) {
    // A database is created with 16 kB pages (SQLite's default is 4 kB): a
    // flow's rows and index entries are appended to fewer, fuller pages, which
    // costs the writer and the checkpointer about 0.9 us less per flow
    // (docs/benchmarks.md). Only a new database takes it; an existing one
    // keeps the page size it has.
    // journal_mode=WAL is persistent in the file; in-memory databases ignore it.
    THREATD_RETURN_IF_ERROR(
        conn->Exec(fmt::format("PRAGMA page_size = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
                               kNewDatabasePageSize)));
    // The one writer inserts batches into several B-trees: a 64 MB page cache
    // (default 2 MB) keeps their hot interior pages, and checkpointing every
    // 16 MB of WAL (default 4 MB) copies each page back less often (when no
    // SqliteCheckpointer does it in the background).
    auto page_size = conn->PageSize();
    if (!page_size.ok()) return page_size.status();
    THREATD_RETURN_IF_ERROR(conn->Exec(fmt::format("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = {}",
                                                   kWalCheckpointBytes / *page_size)));
    // A job's savepoint journals the pages it changes; past 64 kB SQLite
    // spills that journal to a temporary file, written and deleted in every
    // group commit. Kept in memory instead (bounded by what one commit
    // changes; only writing connections, whose statements do not sort).
    THREATD_RETURN_IF_ERROR(conn->Exec("PRAGMA temp_store = MEMORY"));
  }
  return conn;
}

Status SqliteConnection::Exec(std::string_view sql) {
  // One statement (BEGIN, SAVEPOINT, COMMIT... on every write) runs as a
  // cached prepared statement; a script of several through sqlite3_exec.
  bool single = false;
  if (auto first = Prepare(sql, &single); first.ok() && single) return first->Run();
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(impl_->db, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // sqlite3_errmsg still holds the message
  if (rc != SQLITE_OK) return FromSqlite(rc, impl_->db, "executing SQL");
  return Status::Ok();
}

Result<SqliteStatement> SqliteConnection::Prepare(std::string_view sql) { return Prepare(sql, nullptr); }

Result<SqliteStatement> SqliteConnection::Prepare(std::string_view sql, bool* single) {
  auto impl = std::make_unique<SqliteStatement::Impl>();
  impl->db = impl_->db;
  if (auto node = impl_->statements->Take(sql)) {
    impl->stmt = node.mapped();
    impl->node = std::move(node);
    impl->cache = &*impl_->statements;
    if (single != nullptr) *single = true;
    return SqliteStatement(std::move(impl));
  }
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(impl_->db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &impl->stmt, &tail);
  if (rc != SQLITE_OK) return FromSqlite(rc, impl_->db, "preparing statement");
  if (impl->stmt == nullptr) return Status::InvalidArgument("sqlite: no SQL statement to prepare");
  // Only a text that is one whole statement is kept (the text is the key).
  const std::string_view rest = sql.substr(static_cast<size_t>(tail - sql.data()));
  const bool one = rest.find_first_not_of(" \t\r\n;") == std::string_view::npos;
  if (single != nullptr) *single = one;
  if (one) {
    impl->node = StatementCache::MakeNode(sql, impl->stmt);
    impl->cache = &*impl_->statements;
  }
  return SqliteStatement(std::move(impl));
}

void SqliteConnection::OnWalCommit(std::function<void(SqliteConnection&, int64_t)> hook) {
  impl_->wal_hook = std::move(hook);
  sqlite3_wal_hook(
      impl_->db,
      [](void* self, sqlite3*, const char*, int pages) {
        auto* impl = static_cast<Impl*>(self);
        impl->wal_hook(*impl->owner, pages);
        return SQLITE_OK;
      },
      impl_.get());
}

Result<SqliteConnection::CheckpointResult> SqliteConnection::Checkpoint(CheckpointMode mode) {
  int log = 0;
  int copied = 0;
  int rc = SQLITE_OK;
  if (mode == CheckpointMode::kPassive) {
    rc = sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  } else {
    sqlite3_busy_timeout(impl_->db, 0);
    rc = sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied);
    sqlite3_busy_timeout(impl_->db, impl_->busy_timeout_ms);
  }
  if (rc != SQLITE_OK) return FromSqlite(rc, impl_->db, "checkpointing the write-ahead log");
  return CheckpointResult{log, copied};
}

Result<int64_t> SqliteConnection::PageSize() {
  auto q = Prepare("PRAGMA page_size");
  if (!q.ok()) return q.status();
  auto row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("PRAGMA page_size returned no row");
  return q->Int64(0);
}

int64_t SqliteConnection::LastInsertRowId() const { return sqlite3_last_insert_rowid(impl_->db); }
int64_t SqliteConnection::Changes() const { return sqlite3_changes64(impl_->db); }
bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(impl_->db) == 0; }

}  // namespace threatd::storage::sqlite
