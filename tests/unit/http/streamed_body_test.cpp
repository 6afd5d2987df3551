#include "http/streamed_body.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace threatd::http {
namespace {

TEST(StreamedBody, ReadsAcrossChunksThenEnd) {
  StreamedBody body(nullptr);
  EXPECT_TRUE(body.Push("hello ", 6));
  EXPECT_TRUE(body.Push("world", 5));
  body.Finish();
  char buf[4];
  std::string got;
  while (true) {
    auto n = body.Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, "hello world");
  EXPECT_EQ(body.BytesReceived(), 11u);
  EXPECT_EQ(body.BufferedBytes(), 0u);
}

TEST(StreamedBody, FullQueuePausesProducerUntilConsumerMakesRoom) {
  std::atomic<int> resumes{0};
  StreamedBody body([&] { resumes.fetch_add(1); });
  const std::string chunk(100, 'x');
  for (size_t i = 0; i + 1 < StreamedBody::kMaxChunks; ++i) EXPECT_TRUE(body.Push(chunk.data(), chunk.size()));
  EXPECT_FALSE(body.Push(chunk.data(), chunk.size()));  // now full: producer must pause
  EXPECT_EQ(resumes.load(), 0);
  char buf[100];
  // Not at the first chunk read: only once the queue is down to half.
  for (size_t i = 0; i < StreamedBody::kMaxChunks - StreamedBody::kResumeAt; ++i) {
    EXPECT_EQ(resumes.load(), 0) << "resumed with " << StreamedBody::kMaxChunks - i << " chunks queued";
    ASSERT_TRUE(body.Read(buf, sizeof(buf)).ok());
  }
  EXPECT_EQ(resumes.load(), 1);
  ASSERT_TRUE(body.Read(buf, sizeof(buf)).ok());
  EXPECT_EQ(resumes.load(), 1);  // resumed once per pause
}

TEST(StreamedBody, ErrorReachesBlockedReader) {
  StreamedBody body(nullptr);
  std::thread producer([&] { body.Fail(Status::PayloadTooLarge("too big")); });
  char buf[8];
  auto n = body.Read(buf, sizeof(buf));  // blocks until Fail
  producer.join();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(body.Done());
}

}  // namespace
}  // namespace threatd::http
