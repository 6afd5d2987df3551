#include "flow/byte_source.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace threatd::flow {
namespace {

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = std::min(capacity, bytes_.size() - pos_);
    std::memcpy(buffer, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

class OwnedMemorySource final : public ByteSource {
 public:
  explicit OwnedMemorySource(std::string bytes) : bytes_(std::move(bytes)), view_(bytes_) {}
  Result<size_t> Read(char* buffer, size_t capacity) override { return view_.Read(buffer, capacity); }

 private:
  std::string bytes_;
  MemorySource view_;  // borrows bytes_, declared after it
};

class CallbackSource final : public ByteSource {
 public:
  explicit CallbackSource(PullFunction pull) : pull_(std::move(pull)) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (done_) return size_t{0};
    auto r = pull_(buffer, capacity);
    if (r.ok() && *r == 0) done_ = true;
    return r;
  }

 private:
  PullFunction pull_;
  bool done_ = false;
};

// RAII over a stdio FILE*; the handle never leaves this file.
class FileSource final : public ByteSource {
 public:
  FileSource(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  ~FileSource() override { std::fclose(file_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = std::fread(buffer, 1, capacity, file_);
    if (n == 0 && std::ferror(file_)) {
      return Status::Internal("reading '" + path_ + "': " + std::strerror(errno));
    }
    return n;
  }

 private:
  std::FILE* file_;
  std::string path_;
};

}  // namespace

std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes) {
  return std::make_unique<MemorySource>(bytes);
}

std::unique_ptr<ByteSource> MakeOwnedMemorySource(std::string bytes) {
  return std::make_unique<OwnedMemorySource>(std::move(bytes));
}

std::unique_ptr<ByteSource> MakeCallbackSource(PullFunction pull) {
  return std::make_unique<CallbackSource>(std::move(pull));
}

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string msg = "cannot open '" + path + "': " + std::strerror(err);
    if (err == ENOENT) return Status::NotFound(msg, "check the path");
    return Status::InvalidArgument(msg);
  }
  unsigned char magic[2] = {0, 0};
  size_t n = std::fread(magic, 1, 2, f);
  bool gzip = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(f);
  std::unique_ptr<ByteSource> file = std::make_unique<FileSource>(f, path);
  if (gzip) return MakeGzipSource(std::move(file));
  return file;
}

}  // namespace threatd::flow
