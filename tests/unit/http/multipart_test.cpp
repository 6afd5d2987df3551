#include "http/multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace threatd::http {
namespace {

using ::testing::HasSubstr;

// Hands the body out in pieces of at most `chunk` bytes per Read.
class ChunkedBodyReader final : public BodyReader {
 public:
  ChunkedBodyReader(std::string_view body, size_t chunk) : body_(body), chunk_(chunk) {}
  Result<size_t> Read(char* out, size_t n) override {
    const size_t take = std::min({n, chunk_, body_.size() - offset_});
    std::memcpy(out, body_.data() + offset_, take);
    offset_ += take;
    return take;
  }
  size_t BytesReceived() const override { return offset_; }
  size_t BufferedBytes() const override { return 0; }
  size_t Capacity() const override { return chunk_; }

 private:
  std::string_view body_;
  size_t chunk_;
  size_t offset_ = 0;
};

// Serves `prefix`, then the bytes, then an error (a client that went away).
class FailingBodyReader final : public BodyReader {
 public:
  explicit FailingBodyReader(std::string prefix) : prefix_(std::move(prefix)) {}
  Result<size_t> Read(char* out, size_t n) override {
    if (offset_ == prefix_.size()) return Status::Timeout("client stalled");
    const size_t take = std::min(n, prefix_.size() - offset_);
    std::memcpy(out, prefix_.data() + offset_, take);
    offset_ += take;
    return take;
  }
  size_t BytesReceived() const override { return offset_; }
  size_t BufferedBytes() const override { return 0; }
  size_t Capacity() const override { return 0; }

 private:
  std::string prefix_;
  size_t offset_ = 0;
};

struct Parsed {
  std::vector<MultipartPart> parts;
  std::vector<std::string> data;
  Status status;  // OK when the closing boundary was reached
};

// Reads every part with Read() in `read_size` pieces.
Parsed ParseAll(BodyReader& body, const std::string& boundary, size_t read_size = 4096, MultipartLimits limits = {}) {
  Parsed out;
  MultipartReader reader(body, boundary, limits);
  std::vector<char> buf(read_size);
  while (true) {
    auto part = reader.NextPart();
    if (!part.ok()) {
      out.status = part.status();
      return out;
    }
    if (!*part) return out;
    out.parts.push_back(**part);
    out.data.emplace_back();
    while (true) {
      auto n = reader.Read(buf.data(), buf.size());
      if (!n.ok()) {
        out.status = n.status();
        return out;
      }
      if (*n == 0) break;
      out.data.back().append(buf.data(), *n);
    }
  }
}

Parsed ParseString(std::string_view body, const std::string& boundary, MultipartLimits limits = {}) {
  StringBodyReader reader(body);
  return ParseAll(reader, boundary, 4096, limits);
}

// NextPart that reports an error as a test failure (and returns nullopt).
std::optional<MultipartPart> Next(MultipartReader& reader) {
  auto part = reader.NextPart();
  if (!part.ok()) {
    ADD_FAILURE() << part.status().ToString();
    return std::nullopt;
  }
  return *part;
}

std::string Part(const std::string& boundary, const std::string& headers, const std::string& data) {
  return "--" + boundary + "\r\n" + headers + "\r\n\r\n" + data + "\r\n";
}

const std::string kB = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

std::string ThreePartBody() {
  return Part(kB, "Content-Disposition: form-data; name=\"file\"; filename=\"flows.csv\"\r\nContent-Type: text/csv",
              "Flow Duration,Label\r\n1,BENIGN\r\n--" + kB.substr(0, 20) + "\r\n\r\n--" + kB + "X\r\n2,DDoS") +
         Part(kB, "Content-Disposition: form-data; name=\"empty\"", "") +
         Part(kB, "content-disposition: form-data; name=description", "line one\r\nline two") + "--" + kB + "--\r\n";
}

TEST(MultipartBoundary, AcceptsPlainQuotedAndCaseInsensitiveTypes) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc").value(), "abc");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b:c\"").value(), "a b:c");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + kB).value(), kB);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'x')).value(), std::string(70, 'x'));
}

TEST(MultipartBoundary, RejectsWithAHint) {
  const std::vector<std::string> bad = {"application/json", "multipart/form-data", "multipart/form-data; boundary=",
                               "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=\"ab \"",
                               "multipart/form-data; boundary=a\x01z", "multipart/form-data; boundary=\"unterminated",
                               "multipart/mixed; boundary=abc", "multipart/form-data; boundary=" + std::string(71, 'x')};
  for (const std::string& ct : bad) {
    SCOPED_TRACE(ct);
    auto b = MultipartBoundary(ct);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(b.status().hint(), HasSubstr("multipart/form-data with a field named 'file'"));
  }
}

class MultipartChunking : public ::testing::TestWithParam<size_t> {};

TEST_P(MultipartChunking, ParsesPartsWhateverTheReadSizes) {
  const std::string body = ThreePartBody();
  ChunkedBodyReader reader(body, GetParam());
  const Parsed p = ParseAll(reader, kB, GetParam() == 1 ? 3 : 4096);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(p.parts[0].name, "file");
  EXPECT_EQ(p.parts[0].filename, "flows.csv");
  EXPECT_EQ(p.parts[0].content_type, "text/csv");
  // Boundary look-alikes inside the data stay data.
  EXPECT_EQ(p.data[0], "Flow Duration,Label\r\n1,BENIGN\r\n--" + kB.substr(0, 20) + "\r\n\r\n--" + kB + "X\r\n2,DDoS");
  EXPECT_EQ(p.parts[1].name, "empty");
  EXPECT_FALSE(p.parts[1].filename.has_value());
  EXPECT_EQ(p.parts[1].content_type, "text/plain");
  EXPECT_EQ(p.data[1], "");
  EXPECT_EQ(p.parts[2].name, "description");
  EXPECT_EQ(p.data[2], "line one\r\nline two");
}

// Sizes around the internal buffer so the delimiter straddles its edge.
TEST_P(MultipartChunking, DelimiterAcrossTheBufferEdge) {
  for (size_t size : {MultipartReader::kBufferBytes - kB.size() - 8, MultipartReader::kBufferBytes - 3,
                      MultipartReader::kBufferBytes, MultipartReader::kBufferBytes + 5, 3 * MultipartReader::kBufferBytes - 41}) {
    SCOPED_TRACE(size);
    std::string data(size, 'a');
    for (size_t i = 50; i + 2 < size; i += 97) data.replace(i, 2, "\r\n");
    const std::string body = Part(kB, "Content-Disposition: form-data; name=file", data) +
                             Part(kB, "Content-Disposition: form-data; name=x", "y") + "--" + kB + "--";
    ChunkedBodyReader reader(body, GetParam());
    const Parsed p = ParseAll(reader, kB, 65536);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    ASSERT_EQ(p.data.size(), 2u);
    EXPECT_TRUE(p.data[0] == data);
    EXPECT_EQ(p.data[1], "y");
  }
}

INSTANTIATE_TEST_SUITE_P(ReadSizes, MultipartChunking, ::testing::Values(1, 7, 1 << 20));

TEST(MultipartReader, SkipsPreambleAndNeverReadsTheEpilogue) {
  const std::string body = "This is a preamble.\r\n" + Part("b", "Content-Disposition: form-data; name=a", "1") + "--b--\r\nepilogue";
  StringBodyReader reader(body);
  const Parsed p = ParseAll(reader, "b");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.data.size(), 1u);
  EXPECT_EQ(p.data[0], "1");
}

TEST(MultipartReader, QuotedBoundaryWithSpacesAndTransportPadding) {
  const std::string boundary = MultipartBoundary("multipart/form-data; boundary=\"a b:c\"").value();
  const std::string body = "--a b:c \t\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--a b:c--";
  const Parsed p = ParseString(body, boundary);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.data.size(), 1u);
  EXPECT_EQ(p.data[0], "v");
}

TEST(MultipartReader, ContentDispositionParameters) {
  const std::string body =
      Part("b", "CONTENT-DISPOSITION: Form-Data; NAME=\"file\"; filename=\"C:\\dir\\a \\\"q\\\".csv\"", "") +
      Part("b", "Content-Disposition: form-data; name=\"m\"; filename=\"fallback.json\"; filename*=UTF-8''%e2%82%ac%20rates.json\r\n"
                "content-TYPE:  application/json ", "") +
      Part("b", "Content-Disposition: form-data;\r\n name=\"folded\"; filename=\"\"", "") + "--b--";
  const Parsed p = ParseString(body, "b");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(p.parts[0].name, "file");
  EXPECT_EQ(p.parts[0].filename, "C:\\dir\\a \"q\".csv");  // Windows paths keep their backslashes
  EXPECT_EQ(p.parts[1].filename, "\xe2\x82\xac rates.json");
  EXPECT_EQ(p.parts[1].content_type, "application/json");
  EXPECT_EQ(p.parts[2].name, "folded");
  EXPECT_EQ(p.parts[2].filename, "");
}

TEST(MultipartReader, BareLfHeaderLinesAreAccepted) {
  const Parsed p = ParseString("--b\nContent-Disposition: form-data; name=a\n\nv\r\n--b--", "b");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.data.at(0), "v");
}

TEST(MultipartReader, MissingClosingBoundarySaysTruncated) {
  for (const std::string_view tail : {"", "\r\n", "\r\n--b", "\r\n--b-", "\r\n--b\r\n"}) {
    SCOPED_TRACE(tail);
    const Parsed p = ParseString("--b\r\nContent-Disposition: form-data; name=file\r\n\r\nabc" + std::string(tail), "b");
    EXPECT_EQ(p.status.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(p.status.message(), HasSubstr("ended before the closing boundary --b--: the upload was truncated"));
  }
}

TEST(MultipartReader, MalformedBodiesAreInvalidArgument) {
  const std::string cd = "Content-Disposition: form-data; name=a";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no boundary at all", "no boundary --b"},
      {"--b\r\n" + cd + "\r\n\r\nv\r\n--b-x", "single '-'"},
      {"--b junk\r\n" + cd + "\r\n\r\nv\r\n--b--", "instead of a line break"},
      {"--b\r\n\r\nv\r\n--b--", "no Content-Disposition"},
      {"--b\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--b--", "Content-Disposition 'attachment"},
      {"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--", "Content-Disposition 'form-data'"},
      {"--b\r\nno colon here\r\n\r\nv\r\n--b--", "malformed header line 'no colon here'"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    const Parsed p = ParseString(body, "b");
    EXPECT_EQ(p.status.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(p.status.message(), HasSubstr(message));
    EXPECT_FALSE(p.status.hint().empty());
  }
}

TEST(MultipartReader, PreambleLimit) {
  MultipartLimits limits;
  limits.preamble_bytes = 10;
  const std::string part = Part("b", "Content-Disposition: form-data; name=a", "v") + "--b--";
  EXPECT_TRUE(ParseString(std::string(10, 'p') + "\r\n" + part, "b", limits).status.ok());
  const Parsed p = ParseString(std::string(11, 'p') + "\r\n" + part, "b", limits);
  EXPECT_THAT(p.status.message(), HasSubstr("no boundary --b in its first 10 bytes"));
}

TEST(MultipartReader, HeaderTooLarge) {
  MultipartLimits limits;
  limits.max_header_bytes = 100;
  const std::string small = Part("b", "Content-Disposition: form-data; name=a", "v") + "--b--";
  EXPECT_TRUE(ParseString(small, "b", limits).status.ok());
  const std::string big = Part("b", "Content-Disposition: form-data; name=a\r\nX-Pad: " + std::string(100, 'x'), "v") + "--b--";
  for (size_t chunk : {1, 1 << 20}) {
    ChunkedBodyReader reader(big, chunk);
    const Parsed p = ParseAll(reader, "b", 4096, limits);
    EXPECT_EQ(p.status.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(p.status.message(), HasSubstr("multipart part 1 has more than 100 bytes of headers"));
  }
  // Unbounded padding after a boundary is cut off too.
  const Parsed p = ParseString("--b" + std::string(200, ' ') + "\r\n", "b", limits);
  EXPECT_THAT(p.status.message(), HasSubstr("more than 100 bytes of padding"));
}

TEST(MultipartReader, TooManyParts) {
  MultipartLimits limits;
  limits.max_parts = 3;
  std::string body;
  for (int i = 0; i < 3; ++i) body += Part("b", "Content-Disposition: form-data; name=f" + std::to_string(i), "v");
  EXPECT_TRUE(ParseString(body + "--b--", "b", limits).status.ok());
  body += Part("b", "Content-Disposition: form-data; name=f3", "v") + "--b--";
  const Parsed p = ParseString(body, "b", limits);
  EXPECT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(p.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(p.status.message(), HasSubstr("more than 3 parts"));
}

TEST(MultipartReader, NextPartSkipsUnreadDataAndReadAllEnforcesItsLimit) {
  const std::string body = Part("b", "Content-Disposition: form-data; name=file", std::string(200000, 'z')) +
                           Part("b", "Content-Disposition: form-data; name=model_type", "xgboost") +
                           Part("b", "Content-Disposition: form-data; name=description", std::string(65, 'd')) + "--b--";
  StringBodyReader body_reader(body);
  MultipartReader reader(body_reader, "b");
  char buf[10];
  EXPECT_EQ(reader.Read(buf, sizeof(buf)).value(), 0u);  // no part yet
  ASSERT_EQ(Next(reader).value_or(MultipartPart{}).name, "file");
  EXPECT_EQ(reader.Read(buf, sizeof(buf)).value(), 10u);
  ASSERT_EQ(Next(reader).value_or(MultipartPart{}).name, "model_type");  // the rest of "file" is skipped
  EXPECT_EQ(reader.ReadAll(7).value(), "xgboost");
  EXPECT_EQ(reader.Read(buf, sizeof(buf)).value(), 0u);
  ASSERT_EQ(Next(reader).value_or(MultipartPart{}).name, "description");
  auto too_big = reader.ReadAll(64);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_THAT(too_big.status().message(), HasSubstr("'description' is larger than 64 bytes"));
  // Errors are sticky.
  EXPECT_EQ(reader.NextPart().status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(reader.Read(buf, sizeof(buf)).status().code(), ErrorCode::kPayloadTooLarge);
}

TEST(MultipartReader, ClosingBoundaryIsFinal) {
  const std::string body = "--b--\r\n" + Part("b", "Content-Disposition: form-data; name=a", "v");
  StringBodyReader body_reader(body);
  MultipartReader reader(body_reader, "b");
  ASSERT_TRUE(reader.NextPart().ok());
  auto again = reader.NextPart();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(body_reader.BytesReceived(), body.size());  // one read; nothing after it is parsed
}

TEST(MultipartReader, BodyReaderErrorsPassThrough) {
  FailingBodyReader body("--b\r\nContent-Disposition: form-data; name=file\r\n\r\npartial data");
  MultipartReader reader(body, "b");
  ASSERT_TRUE(reader.NextPart().ok());
  std::string got;
  char buf[4];
  Result<size_t> n = size_t{0};
  while ((n = reader.Read(buf, sizeof(buf))).ok() && *n > 0) got.append(buf, *n);
  EXPECT_EQ(n.status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(got, "partial data");
  EXPECT_EQ(reader.NextPart().status().code(), ErrorCode::kTimeout);
}

// Streams a generated file part of `data_bytes` bytes: a repeating pattern
// with CRLFs and boundary look-alikes, never held in memory as a whole.
class GeneratorBodyReader final : public BodyReader {
 public:
  static constexpr std::string_view kBoundary = "gen-boundary-1234";

  explicit GeneratorBodyReader(size_t data_bytes) : data_bytes_(data_bytes) {
    head_ = "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n";
    tail_ = "\r\n--" + std::string(kBoundary) + "--\r\n";
    while (pattern_.size() < 4000) {
      pattern_ += "192.168.1.7,443,6,1234567,12,8,BENIGN\r\n--gen-boundary-12\r\n--gen-boundary-1234X\r\n";
    }
    pattern_ += "tail";  // an odd period so the pattern drifts over buffer edges
  }
  const std::string& pattern() const { return pattern_; }

  Result<size_t> Read(char* out, size_t n) override {
    max_request_ = std::max(max_request_, n);
    size_t done = 0;
    while (done < n && offset_ < head_.size() + data_bytes_ + tail_.size()) {
      size_t take = 0;
      if (offset_ < head_.size()) {
        take = std::min(n - done, head_.size() - offset_);
        std::memcpy(out + done, head_.data() + offset_, take);
      } else if (offset_ < head_.size() + data_bytes_) {
        const size_t pos = offset_ - head_.size();
        const size_t in_pattern = pos % pattern_.size();
        take = std::min({n - done, pattern_.size() - in_pattern, data_bytes_ - pos});
        std::memcpy(out + done, pattern_.data() + in_pattern, take);
      } else {
        const size_t pos = offset_ - head_.size() - data_bytes_;
        take = std::min(n - done, tail_.size() - pos);
        std::memcpy(out + done, tail_.data() + pos, take);
      }
      done += take;
      offset_ += take;
    }
    return done;
  }
  size_t BytesReceived() const override { return offset_; }
  size_t BufferedBytes() const override { return 0; }
  size_t Capacity() const override { return 0; }
  size_t max_request() const { return max_request_; }

 private:
  size_t data_bytes_;
  std::string head_, tail_, pattern_;
  size_t offset_ = 0;
  size_t max_request_ = 0;
};

TEST(MultipartReader, Streams200MBPartInConstantMemory) {
  constexpr size_t kDataBytes = 200u * 1024 * 1024;
  GeneratorBodyReader body(kDataBytes);
  MultipartReader reader(body, std::string(GeneratorBodyReader::kBoundary));
  ASSERT_EQ(Next(reader).value_or(MultipartPart{}).filename, "big.csv");
  const std::string& pattern = body.pattern();
  std::vector<char> buf(64 * 1024);
  size_t total = 0;
  bool same = true;
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    auto n = reader.Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    for (size_t done = 0; done < *n && same;) {  // compare with the pattern, piece by piece
      const size_t in_pattern = (total + done) % pattern.size();
      const size_t len = std::min(*n - done, pattern.size() - in_pattern);
      same = std::memcmp(buf.data() + done, pattern.data() + in_pattern, len) == 0;
      done += len;
    }
    ASSERT_TRUE(same) << "data differs near byte " << total;
    total += *n;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ multipart ] " << kDataBytes / (1024.0 * 1024.0) / seconds << " MB/s (read + verify; no assertion)\n";
  EXPECT_EQ(total, kDataBytes);
  auto end = reader.NextPart();
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_FALSE(end->has_value());
  // Constant memory: the reader never asks for more than its fixed buffer.
  EXPECT_LE(body.max_request(), MultipartReader::kBufferBytes + GeneratorBodyReader::kBoundary.size() + 5);
  EXPECT_GT(body.max_request(), 0u);
}

TEST(MultipartFuzzReplay, CorpusDoesNotCrashTheParser) {
  const char* src = std::getenv("THREATD_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "THREATD_SOURCE_DIR is set by threatd_add_test";
  const auto dir = std::filesystem::path(src) / "tests" / "fuzz" / "corpus" / "multipart";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes_stream;
    bytes_stream << in.rdbuf();
    const std::string bytes = bytes_stream.str();
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
    // Seeds named valid_* must parse to the closing boundary.
    if (entry.path().filename().string().rfind("valid_", 0) == 0) {
      const size_t nl = bytes.find('\n');
      auto boundary = MultipartBoundary(std::string_view(bytes).substr(0, nl));
      ASSERT_TRUE(boundary.ok()) << boundary.status().ToString();
      EXPECT_TRUE(ParseString(std::string_view(bytes).substr(nl + 1), *boundary).status.ok());
    }
    ++files;
  }
  EXPECT_GE(files, 3u) << "corpus at " << dir << " is missing";
}

}  // namespace
}  // namespace threatd::http
