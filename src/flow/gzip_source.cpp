// A streaming gzip decoder over another ByteSource: the zlib z_stream stays in
// this file behind an RAII holder.
#include <zlib.h>

#include <vector>

#include "flow/byte_source.h"

namespace threatd::flow {
namespace {

constexpr size_t kInputChunk = 256 * 1024;

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), input_(kInputChunk) {
    // 15 + 32: any window size, detect gzip or zlib headers automatically.
    init_ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK;
  }
  ~GzipSource() override {
    if (init_ok_) inflateEnd(&zs_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (!init_ok_) return Status::Internal("zlib inflateInit2 failed");
    zs_.next_out = reinterpret_cast<Bytef*>(buffer);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(capacity, 1u << 30));
    while (zs_.avail_out > 0 && !finished_) {
      if (zs_.avail_in == 0 && !inner_eof_) {
        auto r = inner_->Read(reinterpret_cast<char*>(input_.data()), input_.size());
        if (!r.ok()) return r.status();
        if (*r == 0) {
          inner_eof_ = true;
        } else {
          zs_.next_in = input_.data();
          zs_.avail_in = static_cast<uInt>(*r);
        }
      }
      if (zs_.avail_in == 0 && inner_eof_) {
        if (in_member_) {
          return Status::InvalidArgument("truncated gzip stream: the compressed file ends early",
                                         "re-create or re-upload the .gz file");
        }
        finished_ = true;
        break;
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_member_ = true;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&zs_);  // concatenated members
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        std::string why = zs_.msg != nullptr ? zs_.msg : "error " + std::to_string(rc);
        return Status::InvalidArgument("corrupt gzip data: " + why, "re-create the .gz file");
      }
    }
    return capacity - zs_.avail_out;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<Bytef> input_;
  z_stream zs_{};
  bool init_ok_ = false;
  bool inner_eof_ = false;
  bool in_member_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> MakeGzipSource(std::unique_ptr<ByteSource> compressed) {
  return std::make_unique<GzipSource>(std::move(compressed));
}

}  // namespace threatd::flow
