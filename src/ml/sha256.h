// Sha256Hex: lower-case hex SHA-256 of a byte string (OpenSSL EVP).
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace threatd::ml {

std::string Sha256Hex(std::string_view bytes);

}  // namespace threatd::ml
