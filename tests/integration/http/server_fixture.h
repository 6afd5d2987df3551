// HttpServerTest: a real Server on an ephemeral port with a handful of test
// routes and a fake Authenticator, plus verbs that keep each test a short story.
//
// Keys: "viewer-key", "operator-key", "admin-key"; "down-key" makes the fake
// key store report Unavailable; anything else is an unknown key.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "http/error_mapping.h"
#include "http/server.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/ws_client.h"

namespace threatd::http {

using testing::HttpClient;
using testing::TestResponse;
using testing::Eventually;
using testing::WsClient;

// A door a handler waits at until the test opens it.
class Gate {
 public:
  void Enter() {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  bool WaitEntered(int n = 1, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

inline Result<Principal> FakeAuthenticate(std::string_view token) {
  if (token == "viewer-key") return Principal{1, "vera", Role::kViewer};
  if (token == "operator-key") return Principal{2, "otto", Role::kOperator};
  if (token == "admin-key") return Principal{3, "ada", Role::kAdmin};
  if (token == "down-key") return Status::Unavailable("key store is down");
  return Status::Unauthenticated("unknown key");
}


class HttpServerTest : public ::testing::Test {
 protected:
  static ServerOptions TestOptions() {
    ServerOptions o;
    o.port = 0;
    o.io_threads = 2;
    o.worker_threads = 4;
    o.shutdown_grace = std::chrono::seconds(5);
    o.cors_origins = {"https://console.example"};
    return o;
  }

  void SetUp() override {
    router_.Add(Method::kGet, "/health", [](Request&) { return Response::Json({{"status", "ok"}}); },
                {.inline_handler = true});
    router_.Add(Method::kGet, "/items/{id}", [](Request& req) {
      nlohmann::json q = nlohmann::json::object();
      for (const auto& [k, v] : req.query) q[k] = v;
      return Response::Json({{"id", req.PathParam("id")}, {"query", q}});
    });
    router_.Add(Method::kGet, "/whoami", [](Request& req) {
      return Response::Json({{"name", req.principal ? req.principal->name : "anonymous"}});
    }, {.min_role = Role::kViewer});
    router_.Add(Method::kPost, "/admin", [](Request& req) { return Response::Text(req.body); },
                {.min_role = Role::kAdmin});
    router_.Add(Method::kPost, "/echo", [](Request& req) { return Response::Text(req.body); },
                {.body_limit = 1024});
    router_.Add(Method::kPut, "/echo", [](Request& req) { return Response::Text(req.body); }, {.body_limit = 1024});
    router_.Add(Method::kPost, "/json", [](Request& req) {
      auto body = ParseJsonBody(req);
      if (!body.ok()) return Response::FromStatus(body.status());
      return Response::Json(*body);
    });
    router_.Add(Method::kGet, "/throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
    router_.Add(Method::kGet, "/request-id", [](Request&) { return Response::Text(log::CurrentRequestId()); });
    router_.Add(Method::kGet, "/slow", [this](Request&) {
      slow_gate_.Enter();
      return Response::Json({{"slow", "done"}});
    });
  }

  void TearDown() override {
    slow_gate_.Open();  // never leave a handler blocked
    if (server_) server_->Stop();
  }

  void StartServer(ServerOptions options = TestOptions()) {
    server_ = std::make_unique<Server>(std::move(options), router_, registry_, FakeAuthenticate);
    const Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  HttpClient Client() { return HttpClient("127.0.0.1", server_->Port()); }

  static testing::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

  uint64_t Requests(const std::string& route, const std::string& method, int status) {
    return registry_
        .GetCounter("http_requests_total", "", {{"route", route}, {"method", method}, {"status", std::to_string(status)}})
        .Value();
  }
  uint64_t CounterValue(const std::string& name) { return registry_.GetCounter(name, "").Value(); }

  Router router_;
  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
  Gate slow_gate_;
};

}  // namespace threatd::http
