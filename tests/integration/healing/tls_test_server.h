// TlsTestServer: a minimal HTTPS endpoint for webhook tests - accepts TLS
// connections on 127.0.0.1 (ephemeral port) with the given PEM certificate
// and key, answers every request with 200 {"ok": true} and records the
// request bodies. Counts accepted connections separately from requests, so
// a test can tell "the client gave up in the handshake" from "it never
// connected".
//
// Thread-safety: Start/Stop from the test thread; the accessors from any
// thread. The destructor stops the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace threatd::healing::testing {

class TlsTestServer {
 public:
  TlsTestServer(std::string cert_file, std::string key_file);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  Status Start();
  void Stop();
  uint16_t Port() const;

  int Connections() const;  // TCP connections accepted
  int Requests() const;     // HTTP requests answered (after a TLS handshake)
  std::vector<std::string> Bodies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::healing::testing
