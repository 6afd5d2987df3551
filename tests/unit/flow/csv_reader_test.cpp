#include "flow/csv_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace threatd::flow {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Reads everything; a chunked source exercises records split across reads.
Result<Rows> ReadAll(std::string text, size_t chunk = 0, CsvOptions options = {}) {
  std::unique_ptr<ByteSource> src;
  if (chunk == 0) {
    src = MakeOwnedMemorySource(std::move(text));
  } else {
    auto pos = std::make_shared<size_t>(0);
    auto data = std::make_shared<std::string>(std::move(text));
    src = MakeCallbackSource([pos, data, chunk](char* buf, size_t cap) -> Result<size_t> {
      size_t n = std::min({chunk, cap, data->size() - *pos});
      std::copy_n(data->data() + *pos, n, buf);
      *pos += n;
      return n;
    });
  }
  CsvReader reader(std::move(src), options);
  Rows rows;
  for (;;) {
    auto has = reader.Next();
    if (!has.ok()) return has.status();
    if (!*has) return rows;
    rows.emplace_back(reader.row().fields().begin(), reader.row().fields().end());
  }
}

class CsvChunks : public ::testing::TestWithParam<size_t> {};

TEST_P(CsvChunks, QuotingBomLineEndsAndTruncatedLastLine) {
  std::string text =
      "\xEF\xBB\xBF" "a,b,c\r\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
      "\n"
      "2,\"multi\nline\",\r\n"
      "3,,last";
  auto rows = ReadAll(text, GetParam());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  Rows want = {{"a", "b", "c"}, {"1", "x, y", "say \"hi\""}, {"2", "multi\nline", ""}, {"3", "", "last"}};
  EXPECT_EQ(*rows, want);
}

INSTANTIATE_TEST_SUITE_P(Chunked, CsvChunks, ::testing::Values(0, 1, 2, 3, 7, 64));

TEST(CsvReader, LineNumbersCountQuotedNewlinesAndBlankLines) {
  CsvReader reader(MakeOwnedMemorySource("h\n\"a\nb\"\n\nc\n"));
  ASSERT_TRUE(*reader.Next());
  EXPECT_EQ(reader.row().line(), 1u);
  ASSERT_TRUE(*reader.Next());
  EXPECT_EQ(reader.row().line(), 2u);
  ASSERT_TRUE(*reader.Next());
  EXPECT_EQ(reader.row().line(), 5u);
  EXPECT_EQ(reader.row().index(), 2u);
}

TEST(CsvReader, RepairsCp1252DashToUtf8) {
  auto rows = ReadAll("Label\nWeb Attack \x96 Brute Force\n\"Web Attack \x96 XSS\"\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[1][0], "Web Attack \xE2\x80\x93 Brute Force");
  EXPECT_EQ((*rows)[2][0], "Web Attack \xE2\x80\x93 XSS");
}

TEST(CsvReader, KeepsValidUtf8AndNeverPassesInvalidBytes) {
  auto rows = ReadAll("caf\xC3\xA9,\xFF\xC3\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][0], "caf\xC3\xA9");
  EXPECT_EQ((*rows)[0][1], "\xC3\xBF\xC3\x83");  // each bad byte decoded as cp1252
}

TEST(CsvReader, EmptyInputHasNoRows) {
  auto rows = ReadAll("");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  auto bom_only = ReadAll("\xEF\xBB\xBF");
  ASSERT_TRUE(bom_only.ok());
  EXPECT_TRUE(bom_only->empty());
}

TEST(CsvReader, HeaderOnly) {
  auto rows = ReadAll("a,b\n");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
}

TEST(CsvReader, UnterminatedQuoteNamesTheLine) {
  auto rows = ReadAll("a,b\n1,2\n3,\"open\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("line 3"), std::string::npos) << rows.status().message();
  EXPECT_NE(rows.status().message().find("never closed"), std::string::npos);
}

TEST(CsvReader, StrayCharacterAfterClosingQuote) {
  auto rows = ReadAll("a\n\"x\"y\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("line 2"), std::string::npos);
}

TEST(CsvReader, BinaryGarbageIsAClearError) {
  std::string garbage("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xed\xbd", 12);
  auto rows = ReadAll(garbage);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("binary data"), std::string::npos);
}

TEST(CsvReader, OverlongRecordIsAnErrorNotUnboundedMemory) {
  CsvOptions opts;
  opts.buffer_bytes = 64;
  opts.max_record_bytes = 1024;
  auto rows = ReadAll("a\n" + std::string(5000, 'x') + "\n", 0, opts);
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("record longer than"), std::string::npos);
}

TEST(CsvReader, SourceErrorsPropagateWithLine) {
  bool first = true;
  CsvReader reader(MakeCallbackSource([&](char* buf, size_t) -> Result<size_t> {
    if (!first) return Status::Unavailable("connection reset");
    first = false;
    std::copy_n("a\nb", 3, buf);
    return size_t{3};
  }));
  ASSERT_TRUE(*reader.Next());
  auto r = reader.Next();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(reader.Next().ok());  // sticky
}

// A 1 GB-class stream through a generator: memory stays at the buffer size.
// Sanitizer builds run 10x slower, so they stream 128 MiB: the buffer bound is
// the same property at any size.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr uint64_t kStreamBytes = uint64_t{1} << 27;
#else
constexpr uint64_t kStreamBytes = uint64_t{1} << 30;
#endif
TEST(CsvReader, StreamsAGigabyteInConstantMemory) {
  const std::string line = "443,6,120000,12,10,\"a,b\",1500.5,Infinity,BENIGN\n";
  const uint64_t total = (kStreamBytes / line.size()) * line.size();
  uint64_t produced = 0;
  size_t offset = 0;
  CsvOptions opts;
  opts.buffer_bytes = 1 << 16;
  CsvReader reader(MakeCallbackSource([&](char* buf, size_t cap) -> Result<size_t> {
    size_t n = 0;
    while (n < cap && produced < total) {
      size_t take = std::min(cap - n, line.size() - offset);
      std::copy_n(line.data() + offset, take, buf + n);
      n += take;
      offset = (offset + take) % line.size();
      produced += take;
    }
    return n;
  }), opts);
  uint64_t rows = 0;
  for (;;) {
    auto has = reader.Next();
    ASSERT_TRUE(has.ok()) << has.status().ToString();
    if (!*has) break;
    ++rows;
    if (reader.row().size() != 9u) FAIL() << "row " << rows << " has " << reader.row().size();
  }
  EXPECT_EQ(rows, total / line.size());
  EXPECT_LE(reader.buffer_bytes(), opts.buffer_bytes);
  EXPECT_EQ(reader.bytes_read(), total);
}

}  // namespace
}  // namespace threatd::flow
