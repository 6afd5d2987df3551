// ByteSource: where the CSV reader pulls its bytes from.
//
// A ByteSource hands out the bytes of one stream in order, in chunks of the
// caller's choosing, so readers above it run in constant memory whatever the
// stream's size. Implementations: an in-memory buffer, a file (transparently
// gunzipped when it starts with the gzip magic), a gzip decoder over any other
// source, and a pull callback (the HTTP upload feeds request-body chunks).
//
// Ownership: a source owns what it reads from, except MemorySource over a
// string_view, which borrows (the caller keeps the bytes alive).
// Thread-safety: none; one reader at a time. Read() blocks on the underlying
// file or callback.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::flow {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Copies up to `capacity` (> 0) bytes into `buffer`; returns the count, 0
  // only at end of stream, or an error (I/O, corrupt gzip).
  virtual Result<size_t> Read(char* buffer, size_t capacity) = 0;
};

// Borrows `bytes`; they must outlive the source.
std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes);
// Owns a copy of `bytes`.
std::unique_ptr<ByteSource> MakeOwnedMemorySource(std::string bytes);

// Pulls from `pull(buffer, capacity)`, which follows the Read() contract
// (0 = end of stream). Used by streaming uploads.
using PullFunction = std::function<Result<size_t>(char* buffer, size_t capacity)>;
std::unique_ptr<ByteSource> MakeCallbackSource(PullFunction pull);

// Decompresses a gzip (or zlib) stream read from `compressed`; concatenated
// gzip members are read one after the other.
std::unique_ptr<ByteSource> MakeGzipSource(std::unique_ptr<ByteSource> compressed);

// Opens `path` for reading; a file starting with the gzip magic (1f 8b) is
// decompressed on the fly whatever its name. NotFound/InvalidArgument when the
// file cannot be opened.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

}  // namespace threatd::flow
