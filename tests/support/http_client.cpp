#include "support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>

namespace threatd::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
}  // namespace

std::string TestResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return v;
  return {};
}

bool TestResponse::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return true;
  return false;
}

nlohmann::json TestResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  int connects = 0;

  // Runs one asynchronous operation to completion (tcp_stream enforces the timeout).
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  Status Connect() {
    stream.reset();
    buffer.clear();
    stream.emplace(ioc);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return Status::InvalidArgument("bad host " + host);
    stream->expires_after(timeout);
    ec = Run([&](auto handler) { stream->async_connect(tcp::endpoint(address, port), handler); });
    if (ec) {
      stream.reset();
      return Status::Unavailable("connect to " + host + ":" + std::to_string(port) + " failed: " + ec.message());
    }
    ++connects;
    return Status::Ok();
  }

  Status EnsureConnected() {
    if (stream && stream->socket().is_open()) return Status::Ok();
    return Connect();
  }

  Status Write(asio::const_buffer bytes) {
    stream->expires_after(timeout);
    auto ec = Run([&](auto handler) { asio::async_write(*stream, bytes, handler); });
    if (ec) return Status::Unavailable("write failed: " + ec.message());
    return Status::Ok();
  }

  Result<TestResponse> Read(bool head) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // not none: Beast 1.74 bug
    parser.skip(head);
    stream->expires_after(timeout);
    auto ec = Run([&](auto handler) { bhttp::async_read(*stream, buffer, parser, handler); });
    if (ec) {
      stream.reset();
      return Status::Unavailable("reading the response failed: " + ec.message());
    }
    TestResponse out;
    auto& msg = parser.get();
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(msg.body());
    if (!parser.keep_alive()) stream.reset();
    return out;
  }

  std::string Head(std::string_view method, std::string_view target, const Headers& headers) {
    std::string out;
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
    for (const auto& [k, v] : headers) out.append(k).append(": ").append(v).append("\r\n");
    return out;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Result<TestResponse> HttpClient::Request(std::string_view method, std::string_view target, std::string_view body,
                                         const Headers& headers) {
  THREATD_RETURN_IF_ERROR(impl_->EnsureConnected());
  std::string msg = impl_->Head(method, target, headers);
  if (!body.empty() || (method != "GET" && method != "HEAD")) {
    msg.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  msg.append("\r\n").append(body);
  THREATD_RETURN_IF_ERROR(impl_->Write(asio::buffer(msg)));
  return impl_->Read(method == "HEAD");
}

Result<TestResponse> HttpClient::RequestChunked(std::string_view method, std::string_view target,
                                                std::string_view body, size_t chunk_size, const Headers& headers) {
  THREATD_RETURN_IF_ERROR(impl_->EnsureConnected());
  std::string msg = impl_->Head(method, target, headers);
  msg.append("Transfer-Encoding: chunked\r\n\r\n");
  for (size_t off = 0; off < body.size(); off += chunk_size) {
    const std::string_view piece = body.substr(off, chunk_size);
    char size_line[32];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
    msg.append(size_line).append(piece).append("\r\n");
  }
  msg.append("0\r\n\r\n");
  THREATD_RETURN_IF_ERROR(impl_->Write(asio::buffer(msg)));
  return impl_->Read(false);
}

Result<TestResponse> HttpClient::RequestStreamed(std::string_view method, std::string_view target, uint64_t total,
                                                 const std::function<void(char*, size_t, uint64_t)>& fill,
                                                 const Headers& headers) {
  THREATD_RETURN_IF_ERROR(impl_->EnsureConnected());
  std::string head = impl_->Head(method, target, headers);
  head.append("Content-Length: ").append(std::to_string(total)).append("\r\n\r\n");
  THREATD_RETURN_IF_ERROR(impl_->Write(asio::buffer(head)));
  std::vector<char> piece(256 * 1024);
  for (uint64_t off = 0; off < total;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(piece.size(), total - off));
    fill(piece.data(), n, off);
    THREATD_RETURN_IF_ERROR(impl_->Write(asio::buffer(piece.data(), n)));
    off += n;
  }
  return impl_->Read(false);
}

Status HttpClient::Connect() { return impl_->Connect(); }

Status HttpClient::SendRaw(std::string_view bytes) {
  THREATD_RETURN_IF_ERROR(impl_->EnsureConnected());
  return impl_->Write(asio::buffer(bytes.data(), bytes.size()));
}

Result<TestResponse> HttpClient::ReadResponse(bool head) {
  if (!impl_->stream) return Status::Unavailable("not connected");
  return impl_->Read(head);
}

bool HttpClient::WaitForClose(std::chrono::milliseconds timeout) {
  if (!impl_->stream) return true;
  char byte;
  impl_->stream->expires_after(timeout);
  size_t got = 0;
  beast::error_code ec = asio::error::would_block;
  impl_->stream->async_read_some(asio::buffer(&byte, 1), [&](beast::error_code e, size_t n) {
    ec = e;
    got = n;
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  const bool closed = ec && ec != beast::error::timeout;
  if (ec) impl_->stream.reset();
  return closed;
}

void HttpClient::Disconnect() { impl_->stream.reset(); }

bool HttpClient::connected() const { return impl_->stream.has_value(); }

int HttpClient::connects() const { return impl_->connects; }

}  // namespace threatd::testing
