#include "http/streamed_body.h"

#include <algorithm>
#include <cstring>

namespace threatd::http {

StreamedBody::StreamedBody(std::function<void()> resume) : resume_(std::move(resume)) {}

Result<size_t> StreamedBody::Read(char* out, size_t n) {
  bool resume = false;
  size_t copied = 0;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || finished_ || !error_.ok(); });
    if (chunks_.empty()) {
      if (!error_.ok()) return error_;
      return size_t{0};
    }
    while (copied < n && !chunks_.empty()) {
      const std::string& front = chunks_.front();
      const size_t take = std::min(n - copied, front.size() - offset_);
      std::memcpy(out + copied, front.data() + offset_, take);
      copied += take;
      offset_ += take;
      buffered_ -= take;
      if (offset_ == front.size()) {
        chunks_.pop_front();
        offset_ = 0;
      }
    }
    if (producer_paused_ && chunks_.size() <= kResumeAt) {
      producer_paused_ = false;
      resume = true;
    }
  }
  if (resume && resume_) resume_();
  return copied;
}

bool StreamedBody::Push(const char* data, size_t n) {
  std::lock_guard lock(mu_);
  if (n > 0) {
    chunks_.emplace_back(data, n);
    buffered_ += n;
    received_ += n;
    cv_.notify_one();
  }
  if (chunks_.size() >= kMaxChunks) {
    producer_paused_ = true;
    return false;
  }
  return true;
}

void StreamedBody::Finish() {
  std::lock_guard lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

void StreamedBody::Fail(Status status) {
  std::lock_guard lock(mu_);
  if (error_.ok() && !finished_) error_ = std::move(status);
  cv_.notify_all();
}

bool StreamedBody::Done() const {
  std::lock_guard lock(mu_);
  return finished_ || !error_.ok();
}

bool StreamedBody::ProducerPaused() const {
  std::lock_guard lock(mu_);
  return producer_paused_;
}

size_t StreamedBody::BytesReceived() const {
  std::lock_guard lock(mu_);
  return received_;
}

size_t StreamedBody::BufferedBytes() const {
  std::lock_guard lock(mu_);
  return buffered_;
}

}  // namespace threatd::http
