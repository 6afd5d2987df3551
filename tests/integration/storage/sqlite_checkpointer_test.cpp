// SqliteCheckpointer: with the writer's automatic checkpoint replaced by the
// background thread, a log past the limit is copied in the background, it
// starts over at the writer's next commit (by itself when the copy caught up,
// else by the writer's restart), and nothing committed is lost.
#include "storage/sqlite/sqlite_checkpointer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/metrics.h"
#include "integration/storage/sqlite_test_file.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_writer.h"

namespace threatd::storage::sqlite {
namespace {

constexpr int64_t kRoundPages = 64;

class SqliteCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = SqliteConnection::Open(file_.path(), false, std::chrono::milliseconds(5000));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)").ok());
    const int64_t page_size = *(*conn)->PageSize();
    row_bytes_ = page_size * 3 / 4;  // a page of its own
    auto checkpointer = SqliteCheckpointer::Open(file_.path(), {.wal_bytes = kRoundPages * page_size}, stats_);
    ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
    checkpointer_ = std::move(checkpointer).value();
    // Observes the log's size as the writer reports it.
    (*conn)->OnWalCommit([this, hook = checkpointer_->CommitHook()](SqliteConnection& c, int64_t pages) {
      log_pages_ = pages;
      hook(c, pages);
    });
    writer_ = std::make_unique<SqliteWriter>(std::move(conn).value(), SqliteWriter::Options{}, stats_);
  }
  void TearDown() override {
    writer_.reset();
    checkpointer_.reset();
  }

  void Commit() {
    ++commits_;
    ASSERT_TRUE(writer_
                    ->Run([this](SqliteConnection& c) {
                      auto q = c.Prepare("INSERT INTO t(payload) VALUES (zeroblob(?))");
                      return q.ok() ? q->Bind(1, row_bytes_).Run() : q.status();
                    })
                    .ok());
  }
  // Waits for the background copy of round `n` (the disk may be slow).
  void WaitForCopies(uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (stats_.checkpoint_seconds.Count() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(stats_.checkpoint_seconds.Count(), n);
  }

  // Stops both threads and reads the file afresh.
  void ExpectEveryCommitStored() {
    writer_->Stop();
    checkpointer_->Stop();
    auto reader = SqliteConnection::Open(file_.path(), true, std::chrono::milliseconds(1000));
    ASSERT_TRUE(reader.ok());
    auto count = (*reader)->Prepare("SELECT count(*), sum(length(payload)) FROM t");
    ASSERT_TRUE(count.ok() && *count->Step());
    EXPECT_EQ(count->Int64(0), commits_);
    EXPECT_EQ(count->Int64(1), int64_t{commits_} * row_bytes_);
  }

  SqliteTestFile file_{"threatd_checkpointer_"};
  metrics::Registry registry_;
  StorageStats stats_{registry_, "sqlite-checkpointer-test"};
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  std::unique_ptr<SqliteWriter> writer_;
  std::atomic<int64_t> log_pages_{0};
  int64_t row_bytes_ = 0;
  int commits_ = 0;
};

TEST_F(SqliteCheckpointerTest, ALogPastTheLimitIsCopiedInTheBackgroundAndRestartedByTheNextCommit) {
  for (uint64_t round = 1; round <= 3; ++round) {
    while (log_pages_ < kRoundPages) Commit();  // this commit started the round
    WaitForCopies(round);
    Commit();  // the whole log is in the database file: SQLite starts it over
    EXPECT_EQ(stats_.wal_restarts.Value(), round);
    EXPECT_LE(log_pages_, 4) << "the log did not start over";  // this commit's pages only
    Commit();
    EXPECT_LE(log_pages_, 8);
  }
  EXPECT_EQ(stats_.checkpoint_failures.Value(), 0u);  // no reader held the log
  EXPECT_EQ(stats_.wal_restart_seconds.Count(), 0u) << "the writer copied and synced the log itself";
  ExpectEveryCommitStored();
}

// The writer commits on while a round's passes run; the log still starts
// over, round after round, and each of the writer's own restarts is timed.
TEST_F(SqliteCheckpointerTest, UnderAContinuousLoadTheLogStartsOverAndNothingIsLost) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t longest_log = 0;
  while (stats_.wal_restarts.Value() < 5 && std::chrono::steady_clock::now() < deadline) {
    Commit();
    longest_log = std::max<int64_t>(longest_log, log_pages_);
  }
  ASSERT_GE(stats_.wal_restarts.Value(), 5u) << "the log never started over under load";
  // The writer's own restarts (timed) are some of them, or failed for a reader.
  EXPECT_LE(stats_.wal_restart_seconds.Count(), stats_.wal_restarts.Value() + stats_.checkpoint_failures.Value());
  EXPECT_GE(longest_log, kRoundPages);
  ExpectEveryCommitStored();
}

}  // namespace
}  // namespace threatd::storage::sqlite
