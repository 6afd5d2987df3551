#include "http/method.h"

#include <array>

namespace threatd::http {
namespace {
constexpr std::array<std::string_view, kMethodCount> kNames = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
}  // namespace

std::string_view MethodName(Method m) { return kNames[static_cast<size_t>(m)]; }

std::optional<Method> ParseMethod(std::string_view s) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == s) return static_cast<Method>(i);
  return std::nullopt;
}

}  // namespace threatd::http
