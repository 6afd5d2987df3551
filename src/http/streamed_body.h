// StreamedBody: the BodyReader behind stream_body routes.
//
// A bounded queue of chunks between the connection's I/O strand (producer)
// and the handler's worker thread (consumer). Push() reports when the queue
// is full; the producer then stops reading the socket and the consumer calls
// the resume callback once it has drained the queue to half (back-pressure).
// The half-way hysteresis and large chunks keep thread hand-offs rare: one
// wake-up per several hundred kB, not one per socket read.
//
// Ownership: shared by the connection and the handler task (shared_ptr).
// Thread-safety: all members are safe for concurrent use; Read() blocks.
// Internal to the http component.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "http/body_reader.h"

namespace threatd::http {

class StreamedBody final : public BodyReader {
 public:
  static constexpr size_t kChunkBytes = 256 * 1024;
  static constexpr size_t kMaxChunks = 8;
  static constexpr size_t kResumeAt = kMaxChunks / 2;  // a paused producer resumes at this many chunks

  // `resume` is called (from the consumer thread, without locks held) when
  // the queue had been full and is down to kResumeAt chunks.
  explicit StreamedBody(std::function<void()> resume);

  Result<size_t> Read(char* out, size_t n) override;
  size_t BytesReceived() const override;
  size_t BufferedBytes() const override;
  size_t Capacity() const override { return kChunkBytes * kMaxChunks; }

  // Producer side. Push returns false when the queue is now full: stop
  // reading until resume is called.
  bool Push(const char* data, size_t n);
  void Finish();                // body complete
  void Fail(Status status);     // error; Read() returns it (first failure wins)
  bool Done() const;            // finished or failed
  bool ProducerPaused() const;  // queue full, socket reads paused (tests observe back-pressure)

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;  // guarded by mu_
  size_t offset_ = 0;               // read position in chunks_.front()
  size_t buffered_ = 0;
  size_t received_ = 0;
  bool finished_ = false;
  bool producer_paused_ = false;
  Status error_;
  std::function<void()> resume_;
};

}  // namespace threatd::http
