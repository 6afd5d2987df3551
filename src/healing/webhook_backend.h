// WebhookBackend: enforces decisions by POSTing them to an HTTP(S) endpoint
// (a SOAR, a firewall manager, a chat bridge).
//
// Each Apply/Remove/Reconcile batch is ONE POST of the hook event (see
// hook_event.h) as application/json, with the configured extra headers
// (e.g. Authorization; their values are never logged) and
// "X-Threatd-Event: apply|remove|reconcile". One connection per attempt
// ("Connection: close"); redirects are not followed.
//
// Outcome of an attempt:
//   2xx                         success
//   429, 5xx, connection errors, retried with exponential backoff and
//   timeouts                    jitter (initial_backoff, x2, capped by
//                               max_backoff; Retry-After is honoured up to
//                               max_backoff) until max_attempts, and never
//                               past total_timeout after the first attempt
//   other statuses (4xx, 3xx)   fail at once with the status and the first
//                               bytes of the body
//   TLS errors (verification)   fail at once (retrying cannot fix them)
// A failed batch fails every item with the same message. Measure() returns
// an empty Drift. Shutdown(cleanup = true) POSTs a "remove" event with what
// the receiver accepted (AcceptedDecisions).
//
// TLS (https://): peer verification is ON by default against the system CA
// store, or against `ca_file` alone when it is set (like curl --cacert); the
// certificate must match the URL's host name or IP address. SNI is sent for
// host names. tls_verify = false disables verification and logs a warning
// at Start() (Health() shows it).
//
// Ownership: owns its TLS context (created by Start()) and counters.
// Errors: Start() fails, saying what to fix, for a malformed URL, a
// forbidden/malformed header, an unreadable CA file or out-of-range options.
// Thread-safety: as EnforcementBackend - calls from one thread at a time;
// Health() from any thread. A call blocks for at most about total_timeout
// plus one attempt_timeout (DNS resolution can add the resolver's own
// timeout: getaddrinfo cannot be cancelled).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "healing/backend.h"
#include "healing/hook_event.h"

namespace threatd::healing {

struct WebhookBackendOptions {
  // http://host[:port]/path or https://... (see webhook_url.h).
  std::string url;
  // Extra request headers, e.g. {"Authorization", "Bearer ..."}. Host,
  // Content-Length, Content-Type, Transfer-Encoding and Connection are set by
  // the backend and refused here.
  std::vector<std::pair<std::string, std::string>> headers;
  // Actions the receiver enforces; others are only recorded. Default: all.
  std::vector<ActionType> actions = AllActionTypes();
  // One attempt: resolve, connect, TLS handshake, send and read the response.
  std::chrono::milliseconds attempt_timeout{std::chrono::seconds(5)};
  // Attempts per batch (1 = no retries).
  int max_attempts = 3;
  // Wait before the 2nd attempt; doubled for each further one, capped by max_backoff.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(8)};
  // Each wait is multiplied by a random factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  // No retry starts later than this after the first attempt began.
  std::chrono::milliseconds total_timeout{std::chrono::seconds(30)};
  // Verify the server certificate (https). false: anyone on the path can
  // impersonate the receiver - for tests and lab setups only.
  bool tls_verify = true;
  // PEM file with the CA certificate(s) to trust instead of the system store.
  std::string ca_file;
  // Bytes of a response body read (the rest is ignored); error messages
  // quote the first 256.
  size_t max_response_body = 64 * 1024;
};

class WebhookBackend final : public EnforcementBackend {
 public:
  explicit WebhookBackend(WebhookBackendOptions options);
  ~WebhookBackend() override;
  WebhookBackend(const WebhookBackend&) = delete;
  WebhookBackend& operator=(const WebhookBackend&) = delete;

  std::string_view Name() const override { return "webhook"; }
  bool Supports(ActionType action) const override;
  Status Start() override;
  Status Apply(const std::vector<Enforcement>& items, std::vector<std::pair<int64_t, std::string>>* failed) override;
  Status Remove(const std::vector<Enforcement>& items) override;
  Status Reconcile(const std::vector<Enforcement>& active) override;
  Result<Drift> Measure(const std::vector<Enforcement>& active) override;
  Status Shutdown(bool cleanup) override;
  // {"backend": "webhook", "status": "ok"|"degraded"|"error", "url"
  //  (scheme://host:port only), "tls_verify", "deliveries", "failures",
  //  "attempts", "retries", "last_status" (HTTP status of the last response,
  //  null if none), "last_error" (null after a success)}.
  // "error": the last batch (or Start) failed; "degraded": it succeeded
  // after retries.
  nlohmann::json Health() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::healing
