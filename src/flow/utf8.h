// UTF-8 validation and cp1252 repair for CSV text fields.
//
// The original CIC-IDS2017 CSVs were written in Windows-1252: the label
// `Web Attack \x96 Brute Force` carries a bare 0x96 (en dash). Text handed out
// by threatd is always valid UTF-8: valid UTF-8 sequences pass through, and
// every byte that does not start a valid sequence is decoded as cp1252 (the
// five bytes cp1252 leaves undefined become U+FFFD).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace threatd::flow {

// True when `text` is well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Appends `text` to `out` with invalid bytes decoded as cp1252 (see above).
// Returns the number of bytes that were repaired.
size_t AppendNormalisedUtf8(std::string_view text, std::string* out);

// Convenience wrapper returning the normalised copy.
std::string NormaliseUtf8(std::string_view text);

}  // namespace threatd::flow
