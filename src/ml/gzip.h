// Gzip helpers for bundle files (zlib). Compression is deterministic (no
// timestamp in the header). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace threatd::ml {

bool LooksGzipped(std::string_view bytes);
std::string GzipCompress(std::string_view bytes);
// Fails on corrupt input or when the output would exceed max_bytes.
Result<std::string> GzipDecompress(std::string_view bytes, size_t max_bytes);

}  // namespace threatd::ml
