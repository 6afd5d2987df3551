#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <array>
#include <random>

namespace threatd::log {
namespace {

thread_local std::string tls_request_id = "-";

class RequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.append(tls_request_id.data(), tls_request_id.data() + tls_request_id.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

constexpr std::array<std::string_view, 7> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

}  // namespace

bool IsValidLevel(std::string_view level) {
  for (auto l : kLevels)
    if (l == level) return true;
  return false;
}

Status Init(std::string_view level) {
  if (!IsValidLevel(level)) {
    return Status::InvalidArgument(std::string("unknown log level '") + std::string(level) + "'",
                                   "use one of trace, debug, info, warn, error, critical, off");
  }
  // Logs go to stderr so that CLI output on stdout stays machine-readable.
  auto logger = spdlog::stderr_color_mt("threatd");
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<RequestIdFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [req=%*] %v");
  logger->set_formatter(std::move(formatter));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  return Status::Ok();
}

ScopedRequestId::ScopedRequestId(std::string_view id) : previous_(std::move(tls_request_id)) {
  tls_request_id.assign(id);
}

ScopedRequestId::~ScopedRequestId() { tls_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return tls_request_id; }

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace threatd::log
