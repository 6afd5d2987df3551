// NameThisThread: names the calling thread for `top -H`, `ps -L`, perf and
// gdb (Linux keeps at most 15 bytes; longer names are cut). Best effort: a
// failure leaves the inherited name.
#pragma once

#include <string_view>

namespace threatd {

void NameThisThread(std::string_view name);

}  // namespace threatd
