// SqliteCheckpointer: with the writer's automatic checkpoint replaced by the
// background thread, the write-ahead log stays bounded under a continuous
// stream of commits, nothing committed is lost, and the database file is
// complete once the log is gone.
#include "storage/sqlite/sqlite_checkpointer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/metrics.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_writer.h"

namespace threatd::storage::sqlite {
namespace {

constexpr int kCommits = 6000;
constexpr int kRowBytes = 3000;  // about one 4 kB page of log per commit

TEST(SqliteCheckpointerTest, KeepsTheLogBoundedUnderContinuousCommitsAndLosesNothing) {
  const std::string path = (std::filesystem::temp_directory_path() / "threatd_checkpointer_test.db").string();
  const auto remove_files = [&] {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  };
  remove_files();
  metrics::Registry registry;
  StorageStats stats(registry, "sqlite-checkpointer-test");

  auto conn = SqliteConnection::Open(path, false, std::chrono::milliseconds(5000));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)").ok());
  auto checkpointer = SqliteCheckpointer::Open(path, {.wal_pages = 64}, stats);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
  (*conn)->OnWalCommit((*checkpointer)->CommitHook());
  SqliteWriter writer(std::move(conn).value(), SqliteWriter::Options{}, stats);

  uintmax_t largest_log = 0;
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(writer
                    .Run([](SqliteConnection& c) {
                      auto q = c.Prepare("INSERT INTO t(payload) VALUES (zeroblob(?))");
                      return q.ok() ? q->Bind(1, int64_t{kRowBytes}).Run() : q.status();
                    })
                    .ok());
    std::error_code ec;
    largest_log = std::max(largest_log, std::filesystem::file_size(path + "-wal", ec));
  }
  // Without checkpoints the log would hold every commit: > kCommits pages.
  // How often it starts over depends on the disk (a slow sync lets the
  // writer run ahead), so only that it does is checked.
  const uintmax_t everything = uintmax_t{kCommits} * 4096;
  EXPECT_GE(stats.checkpoint_seconds.Count(), 1u);
  EXPECT_GE(stats.wal_restarts.Value(), 1u);
  EXPECT_LT(largest_log, everything) << "the log was not restarted";

  writer.Stop();
  (*checkpointer)->Stop();
  auto reader = SqliteConnection::Open(path, true, std::chrono::milliseconds(1000));
  ASSERT_TRUE(reader.ok());
  auto count = (*reader)->Prepare("SELECT count(*), sum(length(payload)) FROM t");
  ASSERT_TRUE(count.ok() && *count->Step());
  EXPECT_EQ(count->Int64(0), kCommits);
  EXPECT_EQ(count->Int64(1), int64_t{kCommits} * kRowBytes);
  EXPECT_EQ(stats.checkpoint_failures.Value(), 0u);  // no reader held the log
  reader->reset();
  remove_files();
}

}  // namespace
}  // namespace threatd::storage::sqlite
