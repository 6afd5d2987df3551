// A SQLite database file for one test: under the temp directory, named after
// the running test, removed with its -wal and -shm companions when created
// and when destroyed. Declare it before the connections that use it, so it
// outlives them.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace threatd::storage::sqlite {

class SqliteTestFile {
 public:
  explicit SqliteTestFile(std::string_view prefix)
      : path_((std::filesystem::temp_directory_path() /
               (std::string(prefix) + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                  .string()) {
    Remove();
  }
  ~SqliteTestFile() { Remove(); }
  SqliteTestFile(const SqliteTestFile&) = delete;
  SqliteTestFile& operator=(const SqliteTestFile&) = delete;

  const std::string& path() const { return path_; }
  void Remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

 private:
  std::string path_;
};

}  // namespace threatd::storage::sqlite
