// HttpClient: a small synchronous HTTP/1.1 client for tests (Beast inside).
//
// One kept-alive TCP connection, opened on first use and re-opened when the
// server closed it; connects() tells how many times it connected, so tests
// can assert keep-alive. Every operation has a timeout (constructor) and
// returns an error Status instead of hanging or throwing.
//
//   HttpClient client("127.0.0.1", server.Port());
//   auto r = client.Request("GET", "/health");
//   ASSERT_TRUE(r.ok()) << r.status().ToString();
//   EXPECT_EQ(r->status, 200);
//   EXPECT_EQ(r->json()["status"], "ok");
//
// Thread-safety: one thread per client. Move-only.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace threatd::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TestResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // Case-insensitive; empty when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The body parsed as JSON (a discarded value when it is not JSON).
  nlohmann::json json() const;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request (Content-Length body) and reads the response.
  Result<TestResponse> Request(std::string_view method, std::string_view target, std::string_view body = {},
                               const Headers& headers = {});
  // Same, with the body sent using chunked transfer encoding in `chunk_size` pieces.
  Result<TestResponse> RequestChunked(std::string_view method, std::string_view target, std::string_view body,
                                      size_t chunk_size = 16 * 1024, const Headers& headers = {});
  // Streams `total` bytes with Content-Length, produced piecewise by `fill`
  // (buffer, size, offset) so the body is never held in memory.
  Result<TestResponse> RequestStreamed(std::string_view method, std::string_view target, uint64_t total,
                                       const std::function<void(char*, size_t, uint64_t)>& fill,
                                       const Headers& headers = {});

  // Low level: connect now (a fresh connection), write raw bytes, read one response.
  Status Connect();
  Status SendRaw(std::string_view bytes);
  Result<TestResponse> ReadResponse(bool head = false);
  // Waits until the server closes the connection: true if it did within `timeout`.
  bool WaitForClose(std::chrono::milliseconds timeout);
  void Disconnect();

  bool connected() const;
  int connects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::testing
