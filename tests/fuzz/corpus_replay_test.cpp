// Replays every file of tests/fuzz/corpus/THREATD_FUZZ_CORPUS/ through the
// fuzz entry point linked beside it (g++ builds have no libFuzzer). A crash
// fails the test binary.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include <gtest/gtest.h>

#include "ml/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(FuzzReplayTest, CorpusDoesNotCrashTheLoader) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "THREATD_SOURCE_DIR is set by threatd_add_test";
  const auto dir = std::filesystem::path(src) / "tests" / "fuzz" / "corpus" / THREATD_FUZZ_CORPUS;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
    // Seeds named valid_* must load: keeps the corpus meaningful as the format evolves.
    if (std::string_view(THREATD_FUZZ_CORPUS) == "bundle" && entry.path().filename().string().rfind("valid_", 0) == 0) {
      EXPECT_TRUE(threatd::ml::ParseBundle(bytes).ok()) << threatd::ml::ParseBundle(bytes).status().ToString();
    }
    ++files;
  }
  EXPECT_GE(files, 3u) << "corpus at " << dir << " is missing";
}

}  // namespace
