// ApiSession: one real `threatd serve` for the e2e API suite, on SQLite (a
// fresh data directory) or on PostgreSQL (a fresh database created on the
// CTest `postgres` fixture server and dropped afterwards).
//
// Every call goes through Call(), which checks the response against the
// OpenAPI document the service serves (OpenApiContract) - a mismatch is a
// test failure - and records the operation it exercised, so a test can fail
// when a documented route was never called (Uncovered()).
//
// Keys: admin (printed at first start), operator and viewer (created here).
// Thread-safety: one test thread. Calls block on HTTP with a 60 s timeout.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/openapi_contract.h"

namespace threatd::testing {

class ThreatdProcess;

enum class Backend { kSqlite, kPostgres };
std::string BackendName(Backend backend);

// Who calls: kAnonymous sends no Authorization header.
enum class As { kAnonymous, kViewer, kOperator, kAdmin };

class ApiSession {
 public:
  ~ApiSession();

  // Starts the service; on failure returns nullptr with the reason in `error`
  // (`skip` set when the backend is unavailable rather than broken).
  static std::unique_ptr<ApiSession> Start(Backend backend, std::string* error, bool* skip);

  // One request; body sent as is (JSON when `content_type` is the default).
  TestResponse Call(const std::string& method, const std::string& target, As who, const std::string& body = {},
                    const std::string& content_type = "application/json");
  TestResponse Get(const std::string& target, As who = As::kViewer) { return Call("GET", target, who); }
  TestResponse Post(const std::string& target, const nlohmann::json& body, As who = As::kOperator) {
    return Call("POST", target, who, body.is_null() ? std::string() : body.dump());
  }
  TestResponse Patch(const std::string& target, const nlohmann::json& body, As who = As::kOperator) {
    return Call("PATCH", target, who, body.dump());
  }
  TestResponse Delete(const std::string& target, As who = As::kOperator) { return Call("DELETE", target, who); }

  // Anonymous -> 401; and, for `min` above viewer, a viewer -> 403 (and an
  // operator -> 403 for admin routes). Nothing is changed by these calls.
  void ExpectRoles(const std::string& method, const std::string& target, As min, const std::string& body = "{}");

  // A multipart/form-data body with the given text fields and one file part.
  static std::string Multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                               const std::string& file_field, const std::string& filename, const std::string& content);
  static std::string MultipartType();

  // `threatd simulate` output: `count` flows with the given mix and seed.
  std::string SimulateCsv(int count, const std::string& mix, int seed);
  // POST /upload/csv as operator; returns the parsed response (status 200 asserted by the caller).
  TestResponse UploadCsv(const std::string& filename, const std::string& csv);

  // Polls `probe` every 20 ms until it returns true or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& probe, std::chrono::milliseconds timeout);

  // Operations of the document never called (or only with 401/403).
  std::vector<std::string> Uncovered() const;

  const OpenApiContract& contract() const { return *contract_; }
  const std::string& key(As who) const;
  uint16_t port() const;
  Backend backend() const { return backend_; }
  ThreatdProcess& process() { return *process_; }
  // A string unique to this session (for names that must not collide in a shared database).
  const std::string& unique() const { return unique_; }

 private:
  ApiSession() = default;

  Backend backend_ = Backend::kSqlite;
  std::unique_ptr<ThreatdProcess> process_;
  std::unique_ptr<OpenApiContract> contract_;
  std::string viewer_key_, operator_key_;
  std::string pg_admin_url_, pg_database_;
  std::string unique_;
  std::set<std::string> exercised_;
};

}  // namespace threatd::testing
