// How CLI commands report a failed Status: "threatd: <message>" and an
// indented hint on stderr; returns the exit code to use.
#pragma once

#include <fmt/format.h>

#include <cstdio>

#include "common/status.h"

namespace threatd::cli {

inline int ReportError(const Status& s, int exit_code) {
  fmt::print(stderr, "threatd: {}\n", s.message());
  if (!s.hint().empty()) fmt::print(stderr, "  hint: {}\n", s.hint());
  return exit_code;
}

}  // namespace threatd::cli
