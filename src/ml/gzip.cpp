#include "ml/gzip.h"

#include <zlib.h>

#include <memory>

#include "flow/byte_source.h"

namespace threatd::ml {
namespace {

// Two's complement cast-free helpers: zlib wants non-const Bytef*.
Bytef* ToBytef(const char* p) { return reinterpret_cast<Bytef*>(const_cast<char*>(p)); }

}  // namespace

bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string GzipCompress(std::string_view bytes) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&zs, &deflateEnd);
  std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())) + 32, '\0');
  zs.next_in = ToBytef(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = ToBytef(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  return out;
}

Result<std::string> GzipDecompress(std::string_view bytes, size_t max_bytes) {
  // Decompression is flow's streaming gzip source; only compression lives here.
  auto source = flow::MakeGzipSource(flow::MakeMemorySource(bytes));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    auto n = source->Read(buf, sizeof buf);
    if (!n.ok())
      return Status::Validation("corrupt gzip data: " + n.status().message(),
                                "re-export the file or store it uncompressed");
    if (*n == 0) return out;
    out.append(buf, *n);
    if (out.size() > max_bytes)
      return Status::PayloadTooLarge("gzip content exceeds " + std::to_string(max_bytes) + " bytes");
  }
}

}  // namespace threatd::ml
