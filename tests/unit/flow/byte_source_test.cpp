#include "flow/byte_source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "flow/csv_reader.h"

namespace threatd::flow {
namespace {

std::string Gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Drain(ByteSource& src, size_t chunk = 5) {
  std::string out;
  std::vector<char> buf(chunk);
  for (;;) {
    auto r = src.Read(buf.data(), buf.size());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || *r == 0) return out;
    out.append(buf.data(), *r);
  }
}

TEST(ByteSource, GzipRoundTripInSmallChunks) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + ",x\n";
  auto src = MakeGzipSource(MakeOwnedMemorySource(Gzip(text)));
  EXPECT_EQ(Drain(*src, 7), text);
}

TEST(ByteSource, ConcatenatedGzipMembers) {
  auto src = MakeGzipSource(MakeOwnedMemorySource(Gzip("a,b\n") + Gzip("1,2\n")));
  EXPECT_EQ(Drain(*src), "a,b\n1,2\n");
}

TEST(ByteSource, TruncatedGzipIsAnError) {
  std::string gz = Gzip(std::string(10000, 'a'));
  auto src = MakeGzipSource(MakeOwnedMemorySource(gz.substr(0, gz.size() / 2)));
  std::vector<char> buf(1 << 16);
  Status last;
  for (int i = 0; i < 100; ++i) {
    auto r = src->Read(buf.data(), buf.size());
    if (!r.ok()) {
      last = r.status();
      break;
    }
    if (*r == 0) break;
  }
  EXPECT_FALSE(last.ok());
  EXPECT_NE(last.message().find("truncated"), std::string::npos);
}

TEST(ByteSource, FileSourceDetectsGzipByMagic) {
  auto dir = std::filesystem::temp_directory_path();
  auto plain = dir / ("threatd_flow_plain_" + std::to_string(::getpid()) + ".csv");
  auto packed = dir / ("threatd_flow_packed_" + std::to_string(::getpid()) + ".dat");
  std::ofstream(plain) << "a,b\n1,2\n";
  std::ofstream(packed, std::ios::binary) << Gzip("a,b\n1,2\n");
  for (const auto& p : {plain, packed}) {
    auto src = OpenFileSource(p.string());
    ASSERT_TRUE(src.ok());
    EXPECT_EQ(Drain(**src), "a,b\n1,2\n") << p;
  }
  std::filesystem::remove(plain);
  std::filesystem::remove(packed);
}

TEST(ByteSource, MissingFileIsNotFound) {
  auto src = OpenFileSource("/nonexistent/flows.csv");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(src.status().message().find("/nonexistent/flows.csv"), std::string::npos);
}

}  // namespace
}  // namespace threatd::flow
