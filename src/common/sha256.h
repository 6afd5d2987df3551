// SHA-256 digests (OpenSSL), for model bundle checksums, migration checksums
// and API key hashes. Thread-safe; no state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace threatd {

std::array<uint8_t, 32> Sha256(std::string_view bytes);

// Lowercase hex of SHA-256(bytes), 64 characters.
std::string Sha256Hex(std::string_view bytes);

}  // namespace threatd
