// Request bodies: limits (Content-Length and chunked), 100-continue, and
// streamed bodies read through BodyReader with back-pressure.
#include <atomic>

#include "http/streamed_body.h"
#include "integration/http/server_fixture.h"

namespace threatd::http {
namespace {

#define ASSERT_RESPONSE(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

constexpr uint64_t kFiftyMiB = 50ull * 1024 * 1024;

uint8_t PatternByte(uint64_t pos) { return static_cast<uint8_t>(pos * 31 + 7); }

class HttpBodyTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    router_.Add(Method::kPost, "/stream", [this](Request& req) { return ConsumeStream(req); },
                {.body_limit = 64ull * 1024 * 1024, .stream_body = true});
    router_.Add(Method::kPost, "/stream-small", [](Request& req) {
      std::vector<char> buf(8192);
      size_t total = 0;
      while (true) {
        auto n = req.body_reader->Read(buf.data(), buf.size());
        if (!n.ok()) return Response::FromStatus(n.status());
        if (*n == 0) break;
        total += *n;
      }
      return Response::Json({{"bytes", total}});
    }, {.body_limit = 1024 * 1024, .stream_body = true});
    router_.Add(Method::kPost, "/stream-ignore", [](Request&) { return Response::Json({{"ignored", true}}); },
                {.body_limit = 64ull * 1024 * 1024, .stream_body = true});
  }

  // Waits until the server has paused reading (queue full) before consuming,
  // proving back-pressure; checks every byte against the pattern.
  Response ConsumeStream(Request& req) {
    auto* body = dynamic_cast<StreamedBody*>(req.body_reader);
    if (!body) return Response::Text("no streamed body", 500);
    paused_seen_ = Eventually([&] { return body->ProducerPaused() || body->Done(); }) && body->ProducerPaused();
    received_when_paused_ = body->BytesReceived();
    std::vector<char> buf(100 * 1024);
    uint64_t pos = 0;
    bool pattern_ok = true;
    while (true) {
      max_buffered_ = std::max<size_t>(max_buffered_, body->BufferedBytes());
      auto n = body->Read(buf.data(), buf.size());
      if (!n.ok()) return Response::FromStatus(n.status());
      if (*n == 0) break;
      for (size_t i = 0; i < *n; ++i) pattern_ok = pattern_ok && static_cast<uint8_t>(buf[i]) == PatternByte(pos + i);
      pos += *n;
    }
    capacity_ = body->Capacity();
    return Response::Json({{"bytes", pos}, {"pattern_ok", pattern_ok}});
  }

  std::atomic<bool> paused_seen_{false};
  std::atomic<size_t> received_when_paused_{0};
  std::atomic<size_t> max_buffered_{0};
  std::atomic<size_t> capacity_{0};
};

TEST_F(HttpBodyTest, ContentLengthOverLimitIs413BeforeReading) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("POST", "/echo", std::string(4096, 'x'));
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->json()["error"]["code"], "payload_too_large");
  EXPECT_EQ(Requests("/echo", "POST", 413), 1u);
  auto after = client.Request("POST", "/echo", "small");  // reconnects: that connection was closed
  ASSERT_RESPONSE(after);
  EXPECT_EQ(after->body, "small");
}

TEST_F(HttpBodyTest, ChunkedOverLimitIs413WhileReading) {
  StartServer();
  HttpClient client = Client();
  auto r = client.RequestChunked("POST", "/echo", std::string(4096, 'x'), 512);
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->json()["error"]["code"], "payload_too_large");
}

TEST_F(HttpBodyTest, ChunkedUnderLimitIsReassembled) {
  StartServer();
  HttpClient client = Client();
  const std::string body(1000, 'q');
  auto r = client.RequestChunked("POST", "/echo", body, 100);
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body);
  auto again = client.Request("PUT", "/echo", "kept-alive");
  ASSERT_RESPONSE(again);
  EXPECT_EQ(again->body, "kept-alive");
  EXPECT_EQ(client.connects(), 1);
}

TEST_F(HttpBodyTest, ExpectContinueGets100ThenTheResponse) {
  StartServer();
  HttpClient client = Client();
  ASSERT_TRUE(client.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n").ok());
  auto cont = client.ReadResponse();
  ASSERT_RESPONSE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(client.SendRaw("hello").ok());
  auto r = client.ReadResponse();
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(HttpBodyTest, FiftyMegabyteBodyStreamsWithBoundedMemory) {
  StartServer();
  HttpClient client = Client();
  auto r = client.RequestStreamed("POST", "/stream", kFiftyMiB, [](char* out, size_t n, uint64_t offset) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(PatternByte(offset + i));
  });
  ASSERT_RESPONSE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->json()["bytes"], kFiftyMiB);
  EXPECT_EQ(r->json()["pattern_ok"], true);
  EXPECT_TRUE(paused_seen_.load()) << "the server never paused reading: no back-pressure";
  EXPECT_LT(received_when_paused_.load(), kFiftyMiB / 4);
  EXPECT_LE(max_buffered_.load(), capacity_.load());
}

TEST_F(HttpBodyTest, StreamedChunkedBodyOverLimitIs413) {
  StartServer();
  HttpClient client = Client();
  auto r = client.RequestChunked("POST", "/stream-small", std::string(2 * 1024 * 1024, 'z'), 64 * 1024);
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpBodyTest, StreamedRouteWithoutBodyGetsAnEmptyReader) {
  StartServer();
  HttpClient client = Client();
  auto r = client.Request("POST", "/stream-small");
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->json()["bytes"], 0);
}

TEST_F(HttpBodyTest, StreamedHandlerMayAnswerWithoutReading) {
  StartServer();
  HttpClient client = Client();
  // Several times what the server queues before it stops reading, so the
  // body cannot have been received in full when the handler answers.
  auto r = client.Request("POST", "/stream-ignore", std::string(8 * StreamedBody::kChunkBytes * StreamedBody::kMaxChunks, 'i'));
  ASSERT_RESPONSE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Connection"), "close");
  auto next = client.Request("GET", "/health");
  ASSERT_RESPONSE(next);
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace threatd::http
