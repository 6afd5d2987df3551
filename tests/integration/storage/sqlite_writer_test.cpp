// SqliteWriter group commit: jobs queued together commit in one transaction,
// and a failing job rolls back alone (its SAVEPOINT), not its neighbours.
#include "storage/sqlite/sqlite_writer.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <vector>

#include "common/metrics.h"
#include "integration/storage/sqlite_test_file.h"
#include "storage/sqlite/sqlite_connection.h"

namespace threatd::storage::sqlite {
namespace {

class SqliteWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = SqliteConnection::Open(file_.path(), false, std::chrono::milliseconds(1000));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)").ok());
    writer_ = std::make_unique<SqliteWriter>(std::move(conn).value(), SqliteWriter::Options{}, stats_);
  }
  void TearDown() override { writer_.reset(); }

  static SqliteWriter::Job Insert(int v) {
    return [v](SqliteConnection& c) {
      auto q = c.Prepare("INSERT INTO t(v) VALUES (?)");
      return q.ok() ? q->Bind(1, int64_t{v}).Run() : q.status();
    };
  }
  std::vector<int64_t> Values() {
    auto conn = SqliteConnection::Open(file_.path(), true, std::chrono::milliseconds(1000));
    std::vector<int64_t> out;
    auto q = (*conn)->Prepare("SELECT v FROM t ORDER BY v");
    while (*q->Step()) out.push_back(q->Int64(0));
    return out;
  }

  SqliteTestFile file_{"threatd_writer_"};
  metrics::Registry registry_;
  StorageStats stats_{registry_, "sqlite-writer-test"};
  std::unique_ptr<SqliteWriter> writer_;
};

TEST_F(SqliteWriterTest, AFailingJobRollsBackAloneInsideOneGroupCommit) {
  // Hold the writer thread so the next jobs queue up and form one batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> gate_done;
  ASSERT_TRUE(writer_->Submit([released](SqliteConnection&) { released.wait(); return Status::Ok(); },
                              [&](const Status& s) { gate_done.set_value(s); })
                  .ok());
  std::vector<std::promise<Status>> results(4);
  const std::vector<SqliteWriter::Job> jobs = {
      Insert(1), Insert(2),
      [](SqliteConnection& c) {  // inserts, then fails: must leave nothing behind
        auto q = c.Prepare("INSERT INTO t(v) VALUES (3)");
        if (!q.ok() || !q->Run().ok()) return Status::Internal("setup");
        return Status::Conflict("job 3 fails after writing");
      },
      Insert(4)};
  for (size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(writer_->Submit(jobs[i], [&, i](const Status& s) { results[i].set_value(s); }).ok());
  }
  const uint64_t batches_before = stats_.write_batches.Value();
  release.set_value();
  EXPECT_TRUE(gate_done.get_future().get().ok());
  EXPECT_TRUE(results[0].get_future().get().ok());
  EXPECT_TRUE(results[1].get_future().get().ok());
  EXPECT_EQ(results[2].get_future().get().code(), ErrorCode::kConflict);
  EXPECT_TRUE(results[3].get_future().get().ok());
  // The four queued jobs were committed by one transaction.
  EXPECT_EQ(stats_.write_batches.Value() - batches_before, 1u);
  EXPECT_EQ(Values(), (std::vector<int64_t>{1, 2, 4}));
}

// A job alone in its group runs without a savepoint: its failure must roll
// back the whole transaction, and the next job commit as usual.
TEST_F(SqliteWriterTest, AFailingJobAloneLeavesNothingBehind) {
  const Status failed = writer_->Run([](SqliteConnection& c) {
    auto q = c.Prepare("INSERT INTO t(v) VALUES (7)");
    if (!q.ok() || !q->Run().ok()) return Status::Internal("setup");
    return Status::Conflict("fails after writing");
  });
  EXPECT_EQ(failed.code(), ErrorCode::kConflict);
  EXPECT_TRUE(Values().empty());
  EXPECT_TRUE(writer_->Run(Insert(8)).ok());
  EXPECT_EQ(Values(), (std::vector<int64_t>{8}));
  // A job that throws is a failure too, and rolls back the same way.
  const Status thrown = writer_->Run([](SqliteConnection& c) -> Status {
    auto q = c.Prepare("INSERT INTO t(v) VALUES (9)");
    if (!q.ok() || !q->Run().ok()) return Status::Internal("setup");
    throw std::runtime_error("job throws after writing");
  });
  EXPECT_FALSE(thrown.ok());
  EXPECT_EQ(Values(), (std::vector<int64_t>{8}));
}

TEST_F(SqliteWriterTest, ConstraintViolationsAreConflictsAndFlushWaitsForQueuedWrites) {
  for (int v = 0; v < 100; ++v) ASSERT_TRUE(writer_->Submit(Insert(v)).ok());
  ASSERT_TRUE(writer_->Flush().ok());
  EXPECT_EQ(Values().size(), 100u);
  EXPECT_EQ(writer_->Run(Insert(5)).code(), ErrorCode::kConflict);
  EXPECT_EQ(writer_->QueueDepth(), 0u);
}

TEST_F(SqliteWriterTest, StopRunsQueuedJobsThenRefusesNewOnes) {
  for (int v = 0; v < 10; ++v) ASSERT_TRUE(writer_->Submit(Insert(v)).ok());
  writer_->Stop();
  writer_->Stop();
  EXPECT_EQ(Values().size(), 10u);
  EXPECT_EQ(writer_->Run(Insert(99)).code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace threatd::storage::sqlite
