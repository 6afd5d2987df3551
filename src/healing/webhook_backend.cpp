#include "healing/webhook_backend.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/ascii.h"
#include "healing/webhook_url.h"

namespace threatd::healing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kBodyExcerpt = 256;

// What one attempt ended with.
struct Attempt {
  enum class Kind {
    kResponse,   // an HTTP response (status)
    kTransport,  // resolve/connect/send/read failed: retryable
    kTimeout,    // attempt_timeout passed: retryable
    kFatal,      // e.g. TLS verification: retrying cannot help
  };
  Kind kind = Kind::kTransport;
  int status = 0;
  std::string message;  // errors and non-2xx responses
  std::optional<std::chrono::milliseconds> retry_after;

  bool success() const { return kind == Kind::kResponse && status >= 200 && status < 300; }
  bool retryable() const {
    if (kind == Kind::kResponse) return status == 429 || status >= 500;
    return kind == Kind::kTransport || kind == Kind::kTimeout;
  }
};

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  static constexpr std::string_view kReserved[] = {"host", "content-length", "content-type", "transfer-encoding",
                                                   "connection", "x-threatd-event"};
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Status::InvalidArgument("webhook header name '" + name + "' is not a valid HTTP header name",
                                     "use letters, digits and '-' (e.g. Authorization)");
    }
    for (const std::string_view r : kReserved) {
      if (EqualsIgnoreCase(name, r)) {
        return Status::InvalidArgument("webhook header '" + name + "' is set by threatd itself",
                                       "remove it from the webhook headers");
      }
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return Status::InvalidArgument("webhook header '" + name + "' has a line break or NUL in its value",
                                     "remove the control characters from the value");
    }
  }
  return Status::Ok();
}

// First bytes of a response body, printable, for error messages.
std::string Excerpt(std::string_view body) {
  std::string out(body.substr(0, kBodyExcerpt));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > kBodyExcerpt) out += "...";
  return out.empty() ? "(empty body)" : out;
}

// Runs the io_context until the operation started by `start` completes; the
// stream's expiry (tcp_stream::expires_at) bounds it.
template <typename Start>
beast::error_code RunOp(asio::io_context& ioc, Start&& start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

}  // namespace

struct WebhookBackend::Impl {
  explicit Impl(WebhookBackendOptions o) : options(std::move(o)), rng(std::random_device{}()) {}

  const WebhookBackendOptions options;
  WebhookUrl url;
  std::optional<ssl::context> tls;  // https only; created by Start()
  bool started = false;
  std::mt19937_64 rng;
  AcceptedDecisions accepted;  // the caller's thread only

  mutable std::mutex mu;  // guards the health fields below
  uint64_t deliveries = 0;
  uint64_t failures = 0;
  uint64_t attempts = 0;
  uint64_t retries = 0;
  int last_retries = 0;
  std::optional<int> last_status;
  std::optional<std::string> last_error;
  std::string health_url;  // url.Redacted() once started

  Status Start();
  Status Deliver(HookEvent event, const std::vector<Enforcement>& items);
  Attempt AttemptOnce(const bhttp::request<bhttp::string_body>& req);
  template <typename Stream>
  Attempt Exchange(asio::io_context& ioc, Stream& stream, const bhttp::request<bhttp::string_body>& req);
  std::chrono::milliseconds Backoff(int retry, const Attempt& last);
};

Status WebhookBackend::Impl::Start() {
  Result<WebhookUrl> parsed = ParseWebhookUrl(options.url);
  THREATD_RETURN_IF_ERROR(parsed.status());
  url = std::move(*parsed);
  THREATD_RETURN_IF_ERROR(CheckHeaders(options.headers));
  if (options.max_attempts < 1 || options.attempt_timeout.count() <= 0 || options.total_timeout.count() <= 0 ||
      options.initial_backoff.count() < 0 || options.max_backoff < options.initial_backoff ||
      !(options.jitter >= 0 && options.jitter <= 1) || options.max_response_body == 0) {
    return Status::InvalidArgument(
        "webhook backend: max_attempts must be >= 1, attempt_timeout and total_timeout > 0, "
        "0 <= initial_backoff <= max_backoff, jitter in [0, 1] and max_response_body > 0",
        "fix the webhook backend options");
  }
  if (url.tls) {
    tls.emplace(ssl::context::tls_client);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (!options.tls_verify) {
      tls->set_verify_mode(ssl::verify_none);
      spdlog::warn("healing: webhook {}: TLS certificate verification is DISABLED (tls_verify: false); anyone on "
                   "the network path can impersonate the receiver",
                   url.Redacted());
    } else {
      tls->set_verify_mode(ssl::verify_peer);
      if (!options.ca_file.empty()) {
        tls->load_verify_file(options.ca_file, ec);
        if (ec) {
          return Status::InvalidArgument("webhook backend: cannot load the CA file " + options.ca_file + ": " +
                                             ec.message(),
                                         "point ca_file at a readable PEM file with the receiver's CA certificate");
        }
      } else {
        tls->set_default_verify_paths(ec);
        if (ec) {
          return Status::Unavailable("webhook backend: cannot load the system CA store: " + ec.message(),
                                     "install ca-certificates or set ca_file");
        }
      }
    }
  } else if (!options.ca_file.empty()) {
    spdlog::warn("healing: webhook {}: ca_file is ignored for an http:// URL", url.Redacted());
  }
  started = true;
  {
    std::lock_guard lock(mu);
    health_url = url.Redacted();
  }
  spdlog::info("healing: webhook backend ready: {} ({} extra header(s), {} attempt(s) of {} ms)", url.Redacted(),
               options.headers.size(), options.max_attempts, options.attempt_timeout.count());
  return Status::Ok();
}

template <typename Stream>
Attempt WebhookBackend::Impl::Exchange(asio::io_context& ioc, Stream& stream,
                                       const bhttp::request<bhttp::string_body>& req) {
  Attempt a;
  beast::error_code ec = RunOp(ioc, [&](auto handler) { bhttp::async_write(stream, req, handler); });
  if (ec) {
    a.kind = ec == beast::error::timeout ? Attempt::Kind::kTimeout : Attempt::Kind::kTransport;
    a.message = "sending the request failed: " + ec.message();
    return a;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(options.max_response_body);
  ec = RunOp(ioc, [&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
  // A body over the limit still has a status: keep what was read.
  if (ec && !(ec == bhttp::error::body_limit && parser.is_header_done())) {
    a.kind = ec == beast::error::timeout ? Attempt::Kind::kTimeout : Attempt::Kind::kTransport;
    a.message = ec == beast::error::timeout ? "no response within " + std::to_string(options.attempt_timeout.count()) +
                                                  " ms (timed out)"
                                            : "reading the response failed: " + ec.message();
    return a;
  }
  const auto& res = parser.get();
  a.kind = Attempt::Kind::kResponse;
  a.status = static_cast<int>(res.result_int());
  if (a.status < 200 || a.status >= 300) {
    std::string reason(res.reason());
    if (reason.empty()) reason = std::string(bhttp::obsolete_reason(res.result()));
    a.message = fmt::format("answered {} {}: {}", a.status, reason, Excerpt(res.body()));
    if (a.status >= 300 && a.status < 400) a.message += " (redirects are not followed; configure the final URL)";
    const auto it = res.find(bhttp::field::retry_after);
    if (it != res.end()) {
      const std::string_view v(it->value().data(), it->value().size());
      unsigned seconds = 0;
      const auto [end, perr] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (perr == std::errc() && end == v.data() + v.size()) a.retry_after = std::chrono::seconds(seconds);
    }
  }
  return a;
}

Attempt WebhookBackend::Impl::AttemptOnce(const bhttp::request<bhttp::string_body>& req) {
  const auto deadline = SteadyClock::now() + options.attempt_timeout;
  const auto timeout_text = std::to_string(options.attempt_timeout.count()) + " ms";
  asio::io_context ioc;
  Attempt a;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  beast::error_code ec = asio::error::would_block;
  resolver.async_resolve(url.host, std::to_string(url.port),
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                         });
  ioc.run_until(deadline);
  if (ec == asio::error::would_block) {
    resolver.cancel();  // getaddrinfo itself cannot be interrupted; its own timeout bounds this
    ioc.restart();
    ioc.run();
    a.kind = Attempt::Kind::kTimeout;
    a.message = "resolving " + url.host + " took longer than " + timeout_text + " (timed out)";
    return a;
  }
  if (ec) {
    a.message = "cannot resolve " + url.host + ": " + ec.message();
    return a;
  }

  auto connect = [&](beast::tcp_stream& tcp_stream) -> bool {
    tcp_stream.expires_at(deadline);  // bounds every operation of this attempt
    ec = RunOp(ioc, [&](auto handler) { tcp_stream.async_connect(endpoints, handler); });
    if (!ec) return true;
    a.kind = ec == beast::error::timeout ? Attempt::Kind::kTimeout : Attempt::Kind::kTransport;
    a.message = ec == beast::error::timeout ? "connecting took longer than " + timeout_text + " (timed out)"
                                            : "connect failed: " + ec.message();
    return false;
  };

  if (!url.tls) {
    beast::tcp_stream stream(ioc);
    if (!connect(stream)) return a;
    a = Exchange(ioc, stream, req);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return a;
  }

  beast::ssl_stream<beast::tcp_stream> stream(ioc, *tls);
  SSL* handle = stream.native_handle();
  if (!url.host_is_ip) {  // SNI; SSL_set_tlsext_host_name() is a macro with a C cast
    SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(url.host.c_str()));
  }
  if (options.tls_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if (url.host_is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    }
  }
  if (!connect(beast::get_lowest_layer(stream))) return a;
  ec = RunOp(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec) {
    const long verify = SSL_get_verify_result(handle);
    if (options.tls_verify && verify != X509_V_OK) {
      a.kind = Attempt::Kind::kFatal;
      a.message = std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(verify) +
                  " (set ca_file to the CA that signed the receiver's certificate, or fix the certificate's "
                  "host names)";
    } else if (ec == beast::error::timeout) {
      a.kind = Attempt::Kind::kTimeout;
      a.message = "the TLS handshake took longer than " + timeout_text + " (timed out)";
    } else if (ec.category() == asio::error::get_ssl_category()) {
      a.kind = Attempt::Kind::kFatal;
      a.message = "TLS handshake failed: " + ec.message() + " (does the receiver speak https on this port?)";
    } else {
      a.message = "TLS handshake failed: " + ec.message();
    }
    return a;
  }
  a = Exchange(ioc, stream, req);
  // No TLS close_notify round trip: "Connection: close" ends the exchange.
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  return a;
}

std::chrono::milliseconds WebhookBackend::Impl::Backoff(int retry, const Attempt& last) {
  double ms = static_cast<double>(options.initial_backoff.count()) * std::pow(2.0, retry - 1);
  ms = std::min(ms, static_cast<double>(options.max_backoff.count()));
  if (options.jitter > 0) ms *= std::uniform_real_distribution<double>(1 - options.jitter, 1 + options.jitter)(rng);
  auto wait = std::chrono::milliseconds(static_cast<int64_t>(ms));
  if (last.retry_after) wait = std::max(wait, std::min(*last.retry_after, options.max_backoff));
  return wait;
}

Status WebhookBackend::Impl::Deliver(HookEvent event, const std::vector<Enforcement>& items) {
  if (!started) {
    return Status::Unavailable("webhook backend is not started", "call Start() and fix what it reports");
  }
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
  req.set(bhttp::field::host, url.HostHeader());
  req.set(bhttp::field::user_agent, "threatd");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::connection, "close");
  req.set("X-Threatd-Event", std::string(ToString(event)));
  for (const auto& [name, value] : options.headers) req.insert(name, value);
  req.body() = HookPayloadText(event, items);
  req.prepare_payload();

  const auto total_end = SteadyClock::now() + options.total_timeout;
  Attempt last;
  int attempt = 0;
  bool out_of_time = false;
  for (;;) {
    ++attempt;
    last = AttemptOnce(req);
    {
      std::lock_guard lock(mu);
      ++attempts;
      if (last.kind == Attempt::Kind::kResponse) last_status = last.status;
    }
    if (last.success() || !last.retryable() || attempt >= options.max_attempts) break;
    const auto wait = Backoff(attempt, last);
    if (SteadyClock::now() + wait > total_end) {
      out_of_time = true;
      break;
    }
    spdlog::info("healing: webhook {} {}; retrying in {} ms (attempt {} of {})", url.Redacted(), last.message,
                 wait.count(), attempt + 1, options.max_attempts);
    {
      std::lock_guard lock(mu);
      ++retries;
    }
    std::this_thread::sleep_for(wait);
  }

  if (last.success()) {
    std::lock_guard lock(mu);
    ++deliveries;
    last_retries = attempt - 1;
    last_error.reset();
    spdlog::info("healing: webhook {} accepted {} of {} decision(s) ({})", url.Redacted(), ToString(event),
                 items.size(), last.status);
    return Status::Ok();
  }
  std::string message = "webhook " + url.Redacted() + " " + last.message;
  if (attempt > 1 || out_of_time) {
    message += fmt::format(" (after {} attempt(s){})", attempt,
                           out_of_time ? fmt::format("; stopped: the next retry would pass total_timeout {} ms",
                                                     options.total_timeout.count())
                                       : "");
  }
  {
    std::lock_guard lock(mu);
    ++failures;
    last_error = message;
  }
  spdlog::warn("healing: {}", message);
  if (last.kind == Attempt::Kind::kTimeout) {
    return Status::Timeout(message, "check that the receiver answers within attempt_timeout, or raise it");
  }
  if (last.kind == Attempt::Kind::kResponse && !last.retryable()) {
    return Status::Unavailable(message, "the receiver rejected the event: check the URL and the headers "
                                        "(e.g. Authorization) against what the receiver expects");
  }
  return Status::Unavailable(message, "check that the receiver is running and reachable from threatd");
}

WebhookBackend::WebhookBackend(WebhookBackendOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
WebhookBackend::~WebhookBackend() = default;

bool WebhookBackend::Supports(ActionType action) const {
  const auto& actions = impl_->options.actions;
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

Status WebhookBackend::Start() {
  Status s = impl_->Start();
  if (!s.ok()) {
    std::lock_guard lock(impl_->mu);
    impl_->last_error = s.message();
  }
  return s;
}

Status WebhookBackend::Apply(const std::vector<Enforcement>& items,
                             std::vector<std::pair<int64_t, std::string>>* failed) {
  if (items.empty()) return Status::Ok();
  Status s = impl_->Deliver(HookEvent::kApply, items);
  if (!s.ok()) {
    if (failed != nullptr)
      for (const Enforcement& e : items) failed->emplace_back(e.decision_id, s.message());
    return s;  // one request: every item is applied or none is
  }
  impl_->accepted.Add(items);
  return s;
}

Status WebhookBackend::Remove(const std::vector<Enforcement>& items) {
  if (items.empty()) return Status::Ok();
  THREATD_RETURN_IF_ERROR(impl_->Deliver(HookEvent::kRemove, items));
  impl_->accepted.Remove(items);
  return Status::Ok();
}

Status WebhookBackend::Reconcile(const std::vector<Enforcement>& active) {
  THREATD_RETURN_IF_ERROR(impl_->Deliver(HookEvent::kReconcile, active));
  impl_->accepted.Reset(active);
  return Status::Ok();
}

Result<Drift> WebhookBackend::Measure(const std::vector<Enforcement>& /*active*/) { return Drift{}; }

Status WebhookBackend::Shutdown(bool cleanup) {
  if (!cleanup || impl_->accepted.empty()) return Status::Ok();
  const std::vector<Enforcement> items = impl_->accepted.All();
  spdlog::info("healing: webhook backend cleanup: removing {} decision(s)", items.size());
  return Remove(items);
}

nlohmann::json WebhookBackend::Health() const {
  std::lock_guard lock(impl_->mu);
  const char* status = impl_->last_error ? "error" : impl_->last_retries > 0 ? "degraded" : "ok";
  return {{"backend", "webhook"},
          {"status", status},
          {"url", impl_->health_url},
          {"tls_verify", impl_->options.tls_verify},
          {"deliveries", impl_->deliveries},
          {"failures", impl_->failures},
          {"attempts", impl_->attempts},
          {"retries", impl_->retries},
          {"last_status", impl_->last_status ? nlohmann::json(*impl_->last_status) : nlohmann::json()},
          {"last_error", impl_->last_error ? nlohmann::json(*impl_->last_error) : nlohmann::json()}};
}

}  // namespace threatd::healing
