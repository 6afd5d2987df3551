// Request bodies of HttpConnection: 100-continue, buffered bodies with the
// route's limit, and streamed bodies fed into a StreamedBody with back-pressure.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "http/http_connection.h"

namespace threatd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsDisconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

}  // namespace

void HttpConnection::AfterAuth() {
  if (header_parser_->is_done()) return Dispatch();
  if (EqualsIgnoreCase(req_.Header("Expect"), "100-continue")) {
    return asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->Close();
                               self->StartBody();
                             });
  }
  StartBody();
}

void HttpConnection::StartBody() {
  if (route_->options.stream_body) {
    StartStreaming();
    return Dispatch();
  }
  ReadBody();
}

void HttpConnection::ReadBody() {
  body_parser_.emplace(std::move(*header_parser_));
  body_parser_->body_limit(body_limit_);
  stream_.expires_after(state_.options.read_timeout);
  bhttp::async_read(stream_, buffer_, *body_parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void HttpConnection::OnBody(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec == bhttp::error::body_limit) {
    return RespondError(Status::PayloadTooLarge("request body exceeds the limit of " + std::to_string(body_limit_) +
                                                    " bytes for " + route_->pattern,
                                                "send a smaller body or split it into several requests"),
                        true);
  }
  if (ec == beast::error::timeout) {
    return RespondError(Status::InvalidArgument("request body not received within " +
                                                std::to_string(state_.options.read_timeout.count()) + " ms"),
                        true);
  }
  if (ec) {
    if (IsDisconnect(ec)) return Close();
    return RespondError(Status::InvalidArgument("malformed request body: " + ec.message()), true);
  }
  req_.body = std::move(body_parser_->get().body());
  Dispatch();
}

void HttpConnection::StartStreaming() {
  stream_parser_.emplace(std::move(*header_parser_));
  stream_parser_->body_limit(body_limit_);
  if (!chunk_) chunk_ = std::make_unique<char[]>(StreamedBody::kChunkBytes);
  chunk_filled_ = 0;
  // Beast reads at most the buffer's free capacity (at least 512 bytes) per
  // socket read, and the buffer was sized for the header: without room, a
  // large body arrives 512 bytes per read, each with its own wake-up.
  buffer_.reserve(buffer_.size() + kStreamReadBytes);
  std::weak_ptr<HttpConnection> weak = weak_from_this();
  streamed_ = std::make_shared<StreamedBody>([weak] {
    if (auto self = weak.lock()) self->Post([self] { self->ReadStreamChunk(); });
  });
  req_.body_reader = streamed_.get();
  ReadStreamChunk();
}

void HttpConnection::ReadStreamChunk() {
  if (phase_ == Phase::kClosed || stream_read_pending_ || !stream_parser_) return;
  if (!discarding_ && streamed_->Done()) return;
  auto& body = stream_parser_->get().body();
  body.data = chunk_.get() + chunk_filled_;
  body.size = StreamedBody::kChunkBytes - chunk_filled_;
  body.more = true;
  stream_read_pending_ = true;
  stream_.expires_after(discarding_ ? kLingerTime
                                    : state_.options.read_timeout);
  bhttp::async_read_some(stream_, buffer_, *stream_parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->OnStreamChunk(ec); });
}

void HttpConnection::OnStreamChunk(beast::error_code ec) {
  stream_read_pending_ = false;
  if (ec == bhttp::error::need_buffer) ec = {};
  if (phase_ == Phase::kClosed) return;
  if (discarding_) {
    // The response is out; drain what the client still sends, then close.
    if (ec || stream_parser_->is_done()) return Close();
    return ReadStreamChunk();
  }
  const size_t got = StreamedBody::kChunkBytes - chunk_filled_ - stream_parser_->get().body().size;
  if (ec) {
    keep_alive_ = false;
    if (ec == bhttp::error::body_limit) {
      linger_ = true;
      streamed_->Fail(Status::PayloadTooLarge("request body exceeds the limit of " + std::to_string(body_limit_) +
                                                  " bytes for " + route_->pattern,
                                              "send a smaller body or split it into several requests"));
    } else if (ec == beast::error::timeout) {
      streamed_->Fail(Status::Timeout("request body stalled for more than " +
                                      std::to_string(state_.options.read_timeout.count()) + " ms"));
    } else {
      streamed_->Fail(Status::Unavailable("reading the request body failed: " + ec.message()));
    }
    return;
  }
  chunk_filled_ += got;
  const bool done = stream_parser_->is_done();
  // Hand over full chunks only (and the last one): every hand-off may wake
  // the handler's thread, so a socket read's worth would cost a wake-up per
  // few kB.
  bool room = true;
  if (chunk_filled_ == StreamedBody::kChunkBytes || (done && chunk_filled_ > 0)) {
    room = streamed_->Push(chunk_.get(), chunk_filled_);
    chunk_filled_ = 0;
  }
  if (done) return streamed_->Finish();
  if (room) ReadStreamChunk();  // else the consumer's resume callback continues
}

}  // namespace threatd::http
