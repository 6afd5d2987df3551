// Status and Result<T>: how threatd reports expected failures.
//
// Parsing, validation, storage and inference return a Status (or a Result<T>
// carrying either a value or a non-OK Status) instead of throwing. Exceptions
// are reserved for start-up/configuration edges and never cross the I/O loop.
//
// A Status carries a machine-readable ErrorCode, a message that says what went
// wrong, and an optional hint that says what to do about it. The one mapping
// from ErrorCode to an HTTP response lives in http/error_mapping.h.
//
// Thread-safety: values; copy freely.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace threatd {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // the request is malformed (400)
  kValidation,         // well-formed but semantically invalid (422)
  kUnauthenticated,    // no or bad credentials (401)
  kPermissionDenied,   // credentials lack the role (403)
  kNotFound,           // (404)
  kMethodNotAllowed,   // (405)
  kConflict,           // duplicate or state conflict (409)
  kPayloadTooLarge,    // (413)
  kUnsupportedMediaType,  // (415)
  kTooManyRequests,    // back-pressure or connection cap (429)
  kUnavailable,        // a dependency is down; retryable (503)
  kTimeout,            // (504)
  kInternal,           // a bug or an unexpected failure (500)
};

// Stable snake_case name used in JSON error bodies ("not_found").
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message, std::string hint = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m, std::string h = {}) { return {ErrorCode::kInvalidArgument, std::move(m), std::move(h)}; }
  static Status Validation(std::string m, std::string h = {}) { return {ErrorCode::kValidation, std::move(m), std::move(h)}; }
  static Status Unauthenticated(std::string m, std::string h = {}) { return {ErrorCode::kUnauthenticated, std::move(m), std::move(h)}; }
  static Status PermissionDenied(std::string m, std::string h = {}) { return {ErrorCode::kPermissionDenied, std::move(m), std::move(h)}; }
  static Status NotFound(std::string m, std::string h = {}) { return {ErrorCode::kNotFound, std::move(m), std::move(h)}; }
  static Status Conflict(std::string m, std::string h = {}) { return {ErrorCode::kConflict, std::move(m), std::move(h)}; }
  static Status PayloadTooLarge(std::string m, std::string h = {}) { return {ErrorCode::kPayloadTooLarge, std::move(m), std::move(h)}; }
  static Status Unavailable(std::string m, std::string h = {}) { return {ErrorCode::kUnavailable, std::move(m), std::move(h)}; }
  static Status Timeout(std::string m, std::string h = {}) { return {ErrorCode::kTimeout, std::move(m), std::move(h)}; }
  static Status Internal(std::string m, std::string h = {}) { return {ErrorCode::kInternal, std::move(m), std::move(h)}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  // Retryable failures: the same request may succeed later.
  bool retryable() const { return code_ == ErrorCode::kUnavailable || code_ == ErrorCode::kTimeout || code_ == ErrorCode::kTooManyRequests; }

  // "not_found: model 7 does not exist (hint: ...)" for logs and CLI output.
  std::string ToString() const;

  // Prefixes the message with context: "loading config: " + message.
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string hint_;
};

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace threatd

// Returns early from a function returning Status or Result<T>.
#define THREATD_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::threatd::Status threatd_status_ = (expr);  \
    if (!threatd_status_.ok()) return threatd_status_; \
  } while (0)
