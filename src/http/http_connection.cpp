#include "http/http_connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <limits>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/log.h"
#include "http/error_mapping.h"
#include "http/request_id.h"
#include "http/ws_connection.h"

namespace threatd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {


std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

bool IsDisconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::broken_pipe ||
         ec == bhttp::error::partial_message;
}

// Extracts the key from "Authorization: Bearer <key>" (scheme case-insensitive).
std::string_view BearerToken(const Request& req) {
  std::string_view auth = req.Header("Authorization");
  if (!StartsWithIgnoreCase(auth, "Bearer ")) return {};
  auth.remove_prefix(7);
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  while (!auth.empty() && auth.back() == ' ') auth.remove_suffix(1);
  return auth;
}

// Keeps a rejected socket alive while the 503 is written and the client's
// request drained, so the client reads the answer instead of a reset.
class RejectedConnection : public std::enable_shared_from_this<RejectedConnection> {
 public:
  RejectedConnection(tcp::socket socket, std::string response)
      : stream_(std::move(socket)), response_(std::move(response)) {}
  void Start() {
    stream_.expires_after(HttpConnection::kLingerTime);
    asio::async_write(stream_, asio::buffer(response_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->Drain();
    });
  }

 private:
  void Drain() {
    stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->Drain();
    });
  }
  beast::tcp_stream stream_;
  std::string response_;
  std::array<char, 4096> scratch_{};
};

}  // namespace

HttpConnection::HttpConnection(ServerState& state, tcp::socket socket, std::unique_ptr<ConnectionSlot> slot)
    : state_(state), stream_(std::move(socket)), slot_(std::move(slot)), id_(state.next_id.fetch_add(1)) {
  beast::error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

HttpConnection::~HttpConnection() { state_.Unregister(id_); }

void HttpConnection::Post(std::function<void()> fn) { asio::post(stream_.get_executor(), std::move(fn)); }

void HttpConnection::Start() {
  state_.Register(id_, weak_from_this());
  Post([self = shared_from_this()] { self->DoReadHeader(); });
}

void HttpConnection::Reject(ServerState& state, tcp::socket socket) {
  state.stats.connections_rejected.Inc();
  const Status status(ErrorCode::kUnavailable, "the server is at its connection limit",
                      "retry shortly; operators can raise http.max_connections");
  std::string out;
  SerializeResponse(ErrorResponse(status), {log::NewRequestId(), {}, false, false}, &out);
  std::make_shared<RejectedConnection>(std::move(socket), std::move(out))->Start();
}

void HttpConnection::Shutdown(bool force) {
  Post([self = shared_from_this(), force] {
    if (self->phase_ == Phase::kClosed) return;
    if (force) {
      self->Close();
      return;
    }
    self->stop_after_response_ = true;
    // Idle between requests (nothing buffered): nobody is waiting on us.
    if (self->phase_ == Phase::kIdle && self->buffer_.size() == 0) self->Close();
  });
}

void HttpConnection::DoReadHeader() {
  if (phase_ == Phase::kClosed) return;
  if (state_.stopping.load() || stop_after_response_) {
    if (buffer_.size() == 0) return Close();
  }
  phase_ = Phase::kIdle;
  header_parser_.emplace();
  header_parser_->header_limit(static_cast<uint32_t>(state_.options.max_header_bytes));
  // Checked per route after routing. Not boost::none: Beast 1.74 compares
  // Content-Length > none as true and rejects every body.
  header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  const bool waiting_for_next = requests_served_ > 0 && buffer_.size() == 0;
  stream_.expires_after(waiting_for_next ? state_.options.idle_timeout : state_.options.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *header_parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void HttpConnection::OnHeader(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (IsDisconnect(ec)) return Close();
    route_stats_ = &state_.stats.unmatched;
    req_.Clear();
    req_.request_id = log::NewRequestId();
    start_ = std::chrono::steady_clock::now();
    phase_ = Phase::kBusy;
    if (ec == bhttp::error::header_limit) {
      return RespondError(Status::InvalidArgument("request headers exceed " +
                                                  std::to_string(state_.options.max_header_bytes) + " bytes",
                                                  "send fewer or shorter headers"),
                          true);
    }
    return RespondError(Status::InvalidArgument("malformed HTTP request: " + ec.message()), true);
  }
  phase_ = Phase::kBusy;
  start_ = std::chrono::steady_clock::now();
  RouteRequest();
}

void HttpConnection::RouteRequest() {
  auto& msg = header_parser_->get();
  req_.Clear();
  route_ = nullptr;
  ws_route_ = nullptr;
  linger_ = false;
  route_stats_ = &state_.stats.unmatched;
  req_.request_id = RequestIdFor(Sv(msg["X-Request-Id"]));
  req_.remote_address = remote_;
  for (const auto& field : msg) req_.headers.emplace_back(Sv(field.name_string()), Sv(field.value()));
  keep_alive_ = header_parser_->keep_alive() && !stop_after_response_;
  const std::string_view origin = req_.Header("Origin");
  cors_origin_.assign(state_.cors.Allows(origin) ? origin : std::string_view{});

  const auto method = ParseMethod(Sv(msg.method_string()));
  req_.method = method.value_or(Method::kGet);
  head_ = method == Method::kHead;
  req_.target.assign(Sv(msg.target()));
  std::string_view path, query;
  SplitTarget(req_.target, &path, &query);
  req_.path.assign(path);
  if (!method) {
    return RespondError(Status::InvalidArgument("unsupported HTTP method '" + std::string(Sv(msg.method_string())) + "'",
                                                "use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"),
                        !header_parser_->is_done());
  }
  if (!query.empty()) {
    auto parsed = ParseQuery(query);
    if (!parsed.ok()) return RespondError(parsed.status(), !header_parser_->is_done());
    req_.query = std::move(parsed).value();
  }
  if (beast::websocket::is_upgrade(msg)) return HandleUpgrade();

  // CORS preflight from an allowed origin: answer for the path's methods.
  if (*method == Method::kOptions && !cors_origin_.empty() && req_.HasHeader("Access-Control-Request-Method")) {
    state_.router.Match(Method::kOptions, req_.path, &match_);
    if (match_.kind == RouteMatch::Kind::kMethodNotAllowed) {
      return Write(PreflightResponse(match_.allow));
    }
  }

  state_.router.Match(*method, req_.path, &match_);
  const bool unread_body = !header_parser_->is_done();
  switch (match_.kind) {
    case RouteMatch::Kind::kFound: break;
    case RouteMatch::Kind::kBadPath:
      return RespondError(Status::InvalidArgument("malformed percent-encoding in path '" + req_.path + "'",
                                                  "encode reserved characters as %XX with two hex digits"),
                          unread_body);
    case RouteMatch::Kind::kNotFound:
      return RespondError(Status::NotFound("no endpoint at " + req_.path, "see /docs for the list of endpoints"),
                          unread_body);
    case RouteMatch::Kind::kMethodNotAllowed: {
      Response r = ErrorResponse(Status(ErrorCode::kMethodNotAllowed,
                                        std::string(*method == Method::kHead ? "GET" : MethodName(*method)) +
                                            " is not allowed on " + req_.path,
                                        "allowed methods: " + match_.allow));
      r.WithHeader("Allow", match_.allow);
      if (unread_body) {
        keep_alive_ = false;
        linger_ = true;
      }
      return Write(std::move(r));
    }
  }
  route_ = match_.route;
  route_stats_ = state_.stats.routes[route_->index].get();
  std::swap(req_.path_params, match_.params);
  body_limit_ = route_->options.body_limit ? route_->options.body_limit : state_.options.default_body_limit;
  if (unread_body) {
    const auto length = header_parser_->content_length();
    if (length && *length > body_limit_) {
      return RespondError(Status::PayloadTooLarge("request body of " + std::to_string(*length) +
                                                      " bytes exceeds the limit of " + std::to_string(body_limit_) +
                                                      " bytes for " + route_->pattern,
                                                  "send a smaller body or split it into several requests"),
                          true);
    }
  }

  if (route_->options.stream_body && !unread_body) {
    // No body at all: the handler still gets a reader, which reports the end at once.
    streamed_ = std::make_shared<StreamedBody>(nullptr);
    streamed_->Finish();
    req_.body_reader = streamed_.get();
  }
  const bool needs_auth = route_->options.min_role > Role::kPublic;
  if (!needs_auth) return AfterAuth();
  asio::post(state_.workers, [self = shared_from_this(), unread_body] {
    Status s = self->Authenticate(self->route_->options.min_role, false);
    if (s.ok() && !unread_body) {
      // No body: authenticate and run the handler in one worker hop.
      Response r = self->RunHandler();
      return self->Post([self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    }
    self->Post([self, s = std::move(s)] {
      if (!s.ok()) return self->RespondError(s, !self->header_parser_->is_done());
      self->AfterAuth();
    });
  });
}

Status HttpConnection::Authenticate(Role min_role, bool allow_query_key) {
  std::string_view token = BearerToken(req_);
  if (token.empty() && allow_query_key) {
    if (auto key = req_.Query("api_key")) token = *key;
  }
  if (token.empty()) {
    if (min_role == Role::kPublic) return Status::Ok();
    return Status::Unauthenticated("this endpoint needs an API key",
                                   "send 'Authorization: Bearer <key>'; create keys with 'threatd keys create'");
  }
  Result<Principal> principal = Status::Internal("authenticator not called");
  try {
    principal = state_.authenticator(token);
  } catch (const std::exception& e) {
    spdlog::error("authenticator threw: {}", e.what());
    return Status::Internal("authentication failed unexpectedly (request id " + req_.request_id + ")");
  }
  if (!principal.ok()) {
    if (principal.status().code() == ErrorCode::kUnauthenticated) {
      return Status::Unauthenticated("invalid API key", "check the key; revoked or expired keys are rejected");
    }
    return principal.status();
  }
  if (!HasRole(*principal, min_role)) {
    return Status::PermissionDenied("this endpoint needs role '" + std::string(RoleName(min_role)) + "'; key '" +
                                        principal->name + "' has role '" +
                                        std::string(RoleName(principal->role)) + "'",
                                    "use a key with a higher role");
  }
  req_.principal = std::move(principal).value();
  return Status::Ok();
}

void HttpConnection::Dispatch() {
  if (route_->options.inline_handler && route_->options.min_role == Role::kPublic) return Write(RunHandler());
  asio::post(state_.workers, [self = shared_from_this()] {
    Response r = self->RunHandler();
    self->Post([self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
  });
}

Response HttpConnection::RunHandler() {
  log::ScopedRequestId scoped(req_.request_id);
  try {
    return route_->handler(req_);
  } catch (const std::exception& e) {
    spdlog::error("handler for {} {} threw: {}", MethodName(req_.method), route_->pattern, e.what());
  } catch (...) {
    spdlog::error("handler for {} {} threw a non-standard exception", MethodName(req_.method), route_->pattern);
  }
  return ErrorResponse(Status::Internal("internal error while handling the request (request id " + req_.request_id + ")",
                                        "retry later; if it persists report the request id"));
}

void HttpConnection::RespondError(const Status& status, bool close) {
  if (close) {
    keep_alive_ = false;
    linger_ = true;
  }
  Write(ErrorResponse(status));
}

void HttpConnection::Write(Response response) {
  if (phase_ == Phase::kClosed) return;
  if (streamed_ && !streamed_->Done()) {
    // The handler answered before reading the whole body: the connection
    // cannot be reused; drain the rest after the response.
    streamed_->Fail(Status::Unavailable("the response was already sent"));
    keep_alive_ = false;
  }
  if (stop_after_response_ || state_.stopping.load()) keep_alive_ = false;

  const auto elapsed = std::chrono::steady_clock::now() - start_;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  route_stats_->Record(req_.method, response.status, seconds);
  if (spdlog::should_log(spdlog::level::debug)) {
    log::ScopedRequestId scoped(req_.request_id);
    spdlog::debug("{} {} {} {}us", MethodName(req_.method), req_.path, response.status,
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
  }
  SerializeResponse(response, {req_.request_id, cors_origin_, head_, keep_alive_}, &out_);
  stream_.expires_after(state_.options.write_timeout);
  asio::async_write(stream_, asio::buffer(out_),
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void HttpConnection::OnWrite(beast::error_code ec) {
  if (ec) return Close();
  if (!keep_alive_) {
    if (stream_read_pending_) {
      // A streamed-body read is in flight: let it (and its successors) drain.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      discarding_ = true;
      return;
    }
    if (linger_ || (stream_parser_ && !stream_parser_->is_done())) return Linger();
    return Close();
  }
  ++requests_served_;
  body_parser_.reset();
  stream_parser_.reset();
  streamed_.reset();
  DoReadHeader();
}

void HttpConnection::Linger() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (!chunk_) chunk_ = std::make_unique<char[]>(StreamedBody::kChunkBytes);
  stream_.expires_after(kLingerTime);
  stream_.async_read_some(asio::buffer(chunk_.get(), StreamedBody::kChunkBytes),
                          [self = shared_from_this()](beast::error_code e, size_t) {
                            if (e) return self->Close();
                            self->Linger();
                          });
}

void HttpConnection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (streamed_) streamed_->Fail(Status::Unavailable("the connection was closed"));
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  slot_.reset();
}

void HttpConnection::HandleUpgrade() {
  state_.router.MatchWebSocket(req_.path, &match_);
  if (match_.kind != RouteMatch::Kind::kFound) {
    return RespondError(Status::NotFound("no WebSocket endpoint at " + req_.path, "see /docs for the endpoints"),
                        false);
  }
  ws_route_ = match_.websocket;
  std::swap(req_.path_params, match_.params);
  const bool has_key = !BearerToken(req_).empty() || req_.Query("api_key").has_value();
  if (ws_route_->min_role == Role::kPublic && !has_key) return Upgrade();
  asio::post(state_.workers, [self = shared_from_this()] {
    Status s = self->Authenticate(self->ws_route_->min_role, true);
    self->Post([self, s = std::move(s)] {
      if (!s.ok()) return self->RespondError(s, false);
      self->Upgrade();
    });
  });
}

void HttpConnection::Upgrade() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;  // the socket now belongs to the WebSocket session
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  state_.stats.websocket_routes[ws_route_->index]->Record(Method::kGet, 101, seconds);
  auto session = std::make_shared<WsConnection>(state_, std::move(stream_), std::move(slot_), std::move(req_),
                                                ws_route_->handler);
  session->Start(header_parser_->release());
}

}  // namespace threatd::http
