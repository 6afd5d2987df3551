// Method: the HTTP methods threatd routes on.
//
// A closed enum so routes can be stored in fixed arrays indexed by method.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace threatd::http {

enum class Method { kGet = 0, kHead, kPost, kPut, kPatch, kDelete, kOptions };
inline constexpr size_t kMethodCount = 7;

std::string_view MethodName(Method m);                  // "GET"
std::optional<Method> ParseMethod(std::string_view s);  // case-sensitive, as on the wire

}  // namespace threatd::http
