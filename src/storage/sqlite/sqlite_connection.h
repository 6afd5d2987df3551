// SqliteConnection and SqliteStatement: move-only RAII wrappers around a
// sqlite3* connection and a sqlite3_stmt* (both hidden behind a pimpl, so
// sqlite3.h stays out of every header). Errors become Status values:
// UNIQUE/PRIMARY KEY violations -> Conflict, other constraint failures ->
// Validation, BUSY/LOCKED/CANTOPEN/IOERR/FULL -> Unavailable, else Internal.
//
// Ownership: a statement must not outlive its connection.
// Thread-safety: none; a connection and its statements belong to one thread
// at a time (the writer thread, or the holder of a read-pool lease).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::storage::sqlite {

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&&) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) noexcept;
  ~SqliteStatement();

  // Parameters are 1-based. A failed bind is reported by the next Step().
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, double value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& Bind(int index, const std::optional<std::string>& text);  // nullopt -> NULL
  SqliteStatement& BindNull(int index);
  // Without a copy: the bytes must stay alive and unchanged until the
  // statement is Reset() or destroyed (bulk inserts of a batch the caller
  // holds).
  SqliteStatement& BindView(int index, std::string_view text);
  SqliteStatement& BindBlobView(int index, std::string_view bytes);

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, for statements without results.
  Status Run();
  // Rewinds the statement and clears its bindings, so it can run again with
  // new parameters (a prepared statement reused within a job).
  void Reset();

  // Columns are 0-based; valid after Step() returned true.
  bool IsNull(int column) const;
  int64_t Int64(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::optional<int64_t> OptionalInt64(int column) const;

 private:
  friend class SqliteConnection;
  struct Impl;
  explicit SqliteStatement(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The page size a writable connection gives a database it creates.
inline constexpr int64_t kNewDatabasePageSize = 16384;
// How much write-ahead log a checkpoint waits for: the writer's automatic
// checkpoint, or a SqliteCheckpointer's round.
inline constexpr int64_t kWalCheckpointBytes = int64_t{16} << 20;

class SqliteConnection {
 public:
  // Opens `path` (":memory:" for a private in-memory database). A writable
  // connection creates the file (with kNewDatabasePageSize) and sets
  // journal_mode=WAL and synchronous=NORMAL; every connection gets
  // foreign_keys=ON and the busy timeout. Unavailable when the file cannot
  // be opened.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool read_only,
                                                        std::chrono::milliseconds busy_timeout);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // The first statement of `sql`. A statement is kept by the connection when
  // it is destroyed and handed out again for the same text (rewound, without
  // bindings), so preparing a constant text again costs a lookup.
  Result<SqliteStatement> Prepare(std::string_view sql);
  // The database's page size in bytes (kNewDatabasePageSize for one this
  // library created, whatever it was created with otherwise).
  Result<int64_t> PageSize();
  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  bool InTransaction() const;

  // Calls `hook` on this connection's thread after each commit, outside the
  // transaction, with the number of pages now in the write-ahead log; the
  // hook may checkpoint this connection. Replaces SQLite's automatic
  // checkpoint on this connection (whoever installs a hook checkpoints).
  void OnWalCommit(std::function<void(SqliteConnection&, int64_t wal_pages)> hook);

  enum class CheckpointMode {
    // Copies what it can; never waits and never holds the writer off.
    kPassive,
    // Copies the rest and makes the next commit start the log from its
    // beginning, if no other connection is writing or reading the log right
    // now: Unavailable at once otherwise (nothing waits on the busy timeout).
    kRestartIfIdle,
  };
  struct CheckpointResult {
    int64_t wal_pages = 0;     // pages in the log when the checkpoint ran
    int64_t copied_pages = 0;  // of them, how many are now in the database file
  };
  Result<CheckpointResult> Checkpoint(CheckpointMode mode);

 private:
  struct Impl;
  explicit SqliteConnection(std::unique_ptr<Impl> impl);
  // `single` (if set) tells whether `sql` is one statement.
  Result<SqliteStatement> Prepare(std::string_view sql, bool* single);
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::storage::sqlite
