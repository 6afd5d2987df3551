// Helpers shared by the script and webhook backend tests: a per-test
// temporary directory and Enforcement items that look like real decisions.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "healing/backend.h"

namespace threatd::healing::testing {

namespace fs = std::filesystem;

// A directory removed after the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("threatd-hooks-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    const std::string path = File(name);
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An item as the Enforcer passes it: fields plus the decision as the API shows it.
inline Enforcement Item(int64_t id, const std::string& target, ActionType action = ActionType::kBlockIp) {
  Enforcement e;
  e.decision_id = id;
  e.target = *IpNetwork::Parse(target);
  e.action = action;
  e.expires_at = Clock::WallTime(std::chrono::seconds(1798761600));  // 2027-01-01T00:00:00Z
  e.decision = {{"id", id},
                {"target", target},
                {"action_type", std::string(ToString(action))},
                {"status", "pending"},
                {"expires_at", "2027-01-01T00:00:00.000Z"},
                {"action_description", "DDoS from " + target}};
  return e;
}

}  // namespace threatd::healing::testing
