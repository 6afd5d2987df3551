// SqliteAccess: what a SQLite repository uses - group-committed writes on the
// writer thread, reads on the read pool (or on the writer for :memory:), and
// the clock. SqliteDatabase owns the pieces and hands each repository one.
// PRIVATE to src/storage/sqlite.
//
// Ownership: references only; the SqliteDatabase outlives its repositories.
// Thread-safety: as SqliteWriter and SqliteReadPool (thread-safe, blocking).
#pragma once

#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_read_pool.h"
#include "storage/sqlite/sqlite_writer.h"

namespace threatd::storage::sqlite {

class SqliteAccess {
 public:
  using Fn = std::function<Status(SqliteConnection&)>;

  SqliteAccess(SqliteWriter& writer, SqliteReadPool* readers, Clock& clock)
      : writer_(writer), readers_(readers), clock_(clock) {}

  // A read on a pooled read-only connection (the writer thread for :memory:).
  Status Read(const Fn& fn) { return readers_ ? readers_->Read(fn) : writer_.RunExclusive(fn); }
  // A write in the next group commit, inside its own SAVEPOINT: when `fn`
  // fails, everything it wrote is rolled back. Returns after COMMIT.
  Status Write(Fn fn) { return writer_.Run(std::move(fn)); }

  SqliteWriter& writer() { return writer_; }
  Clock& clock() { return clock_; }

 private:
  SqliteWriter& writer_;
  SqliteReadPool* readers_;  // null for :memory:
  Clock& clock_;
};

}  // namespace threatd::storage::sqlite
