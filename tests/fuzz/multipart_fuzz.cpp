// libFuzzer target for the streaming multipart/form-data parser.
//
// Input: a Content-Type value, '\n', then the body. The body is parsed twice,
// once handed over in one piece and once one byte per BodyReader::Read, with
// small limits; both runs must produce the same transcript (parts, bytes,
// final status), so boundary handling across buffer edges is checked on every
// input, not just "no crash".
//
// Built with clang as `multipart_fuzzer` when THREATD_FUZZ=ON
// (cmake/ThreatdFuzz.cmake):
//   ./build/fuzz/bin/multipart_fuzzer -max_total_time=60 build/fuzz/corpus-mp tests/fuzz/corpus/multipart
// multipart_test (tests/unit/http) replays tests/fuzz/corpus/multipart/ through
// this entry point in every build, so kept crashers stay regression tests.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/multipart.h"

namespace {

using threatd::http::BodyReader;
using threatd::http::MultipartReader;

// Hands out at most one byte per Read.
class ByteAtATimeReader final : public BodyReader {
 public:
  explicit ByteAtATimeReader(std::string_view body) : body_(body) {}
  threatd::Result<size_t> Read(char* out, size_t n) override {
    if (n == 0 || offset_ == body_.size()) return size_t{0};
    *out = body_[offset_++];
    return size_t{1};
  }
  size_t BytesReceived() const override { return offset_; }
  size_t BufferedBytes() const override { return 0; }
  size_t Capacity() const override { return 1; }

 private:
  std::string_view body_;
  size_t offset_ = 0;
};

std::string Transcript(BodyReader& body, const std::string& boundary, size_t read_size) {
  threatd::http::MultipartLimits limits;
  limits.max_header_bytes = 256;
  limits.max_parts = 8;
  limits.preamble_bytes = 64;
  MultipartReader reader(body, boundary, limits);
  std::string out;
  char buf[4096];
  for (int parts = 0;; ++parts) {
    if (parts > 16) std::abort();  // max_parts must stop the loop
    auto part = reader.NextPart();
    if (!part.ok()) return out + "error " + part.status().ToString();
    if (!*part) break;
    out += "part " + (*part)->name + "|" + (*part)->filename.value_or("<none>") + "|" + (*part)->content_type + "\n";
    if (parts % 2 == 1) {  // exercise both Read and ReadAll
      auto all = reader.ReadAll(512);
      if (!all.ok()) return out + "error " + all.status().ToString();
      out += *all;
      continue;
    }
    while (true) {
      auto n = reader.Read(buf, read_size);
      if (!n.ok()) return out + "error " + n.status().ToString();
      if (*n > read_size) std::abort();
      if (*n == 0) break;
      out.append(buf, *n);
    }
  }
  // After the closing boundary the reader stays at the end.
  auto again = reader.NextPart();
  if (!again.ok() || again->has_value()) std::abort();
  return out + "end";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) {
    (void)threatd::http::MultipartBoundary(input);
    return 0;
  }
  auto boundary = threatd::http::MultipartBoundary(input.substr(0, nl));
  const std::string b = boundary.ok() ? *boundary : std::string("b");
  if (b.empty() || b.size() > 70) std::abort();
  const std::string_view body = input.substr(nl + 1);

  threatd::http::StringBodyReader whole(body);
  ByteAtATimeReader bytes(body);
  const std::string a = Transcript(whole, b, 4096);
  const std::string c = Transcript(bytes, b, 3);
  if (a != c) std::abort();  // chunking must not change the result
  return 0;
}
