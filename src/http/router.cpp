#include "http/router.h"

#include <stdexcept>

#include "http/url.h"

namespace threatd::http {

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;
  std::string param_name;
  std::array<const Route*, kMethodCount> routes{};
  const WebSocketRoute* websocket = nullptr;

  bool HasAny() const {
    if (websocket) return true;
    for (const Route* r : routes)
      if (r) return true;
    return false;
  }
};

namespace {

constexpr size_t kMaxSegments = 32;

struct Segments {
  std::array<std::string_view, kMaxSegments> items;
  size_t count = 0;
};

// Splits "/a/b/c" (leading slash required, one trailing slash ignored).
bool Split(std::string_view path, Segments* out) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out->count = 0;
  if (path.empty()) return true;
  while (true) {
    if (out->count == kMaxSegments) return false;
    const size_t slash = path.find('/');
    out->items[out->count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool IsParamName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Router::Node* Router::Insert(std::string_view pattern) {
  Segments segs;
  if (pattern.size() > 1 && pattern.back() == '/') {
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must not end with '/'");
  }
  if (!Split(pattern, &segs)) throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must start with '/'");
  Node* node = root_.get();
  for (size_t i = 0; i < segs.count; ++i) {
    const std::string_view seg = segs.items[i];
    if (seg.empty()) throw std::invalid_argument("route pattern '" + std::string(pattern) + "' has an empty segment");
    if (seg.front() == '{') {
      const std::string_view name = seg.substr(1, seg.size() - 2);
      if (seg.back() != '}' || !IsParamName(name)) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) + "': bad parameter segment '" +
                                    std::string(seg) + "', use {name} with [A-Za-z0-9_]");
      }
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = std::string(name);
      } else if (node->param_name != name) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) + "': parameter {" + std::string(name) +
                                    "} conflicts with {" + node->param_name + "} at the same position");
      }
      node = node->param.get();
      continue;
    }
    if (seg.find_first_of("{}%") != std::string_view::npos) {
      throw std::invalid_argument("route pattern '" + std::string(pattern) + "': literal segment '" +
                                  std::string(seg) + "' may not contain '{', '}' or '%'");
    }
    Node* next = nullptr;
    for (auto& [lit, child] : node->literals)
      if (lit == seg) next = child.get();
    if (!next) {
      node->literals.emplace_back(std::string(seg), std::make_unique<Node>());
      next = node->literals.back().second.get();
    }
    node = next;
  }
  return node;
}

void Router::Add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
  Node* node = Insert(pattern);
  const Route*& slot = node->routes[static_cast<size_t>(method)];
  if (slot) {
    throw std::invalid_argument("duplicate route " + std::string(MethodName(method)) + " " + std::string(pattern) +
                                " (already registered as " + slot->pattern + ")");
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->options = std::move(options);
  route->index = routes_.size();
  slot = route.get();
  routes_.push_back(std::move(route));
}

void Router::SetFallback(Handler handler, RouteOptions options, std::string label) {
  if (fallback_) throw std::invalid_argument("duplicate fallback route (already " + fallback_->pattern + ")");
  auto route = std::make_unique<Route>();
  route->method = Method::kGet;
  route->pattern = std::move(label);
  route->handler = std::move(handler);
  route->options = std::move(options);
  route->index = routes_.size();
  fallback_ = route.get();
  routes_.push_back(std::move(route));
}

void Router::AddWebSocket(std::string_view pattern, std::shared_ptr<WebSocketHandler> handler, Role min_role) {
  Node* node = Insert(pattern);
  if (node->websocket) throw std::invalid_argument("duplicate WebSocket route " + std::string(pattern));
  auto route = std::make_unique<WebSocketRoute>();
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->min_role = min_role;
  route->index = ws_routes_.size();
  node->websocket = route.get();
  ws_routes_.push_back(std::move(route));
}

namespace {

// Depth-first walk: literal children first, then the parameter child, so
// "/models/active" beats "/models/{id}" but "/models/7/x" can still reach
// "/models/{id}/x".
template <typename NodeT>
const NodeT* Walk(const NodeT* node, const Segments& segs, size_t i, Params* params) {
  if (i == segs.count) return node->HasAny() ? node : nullptr;
  const std::string_view seg = segs.items[i];
  if (seg.empty()) return nullptr;  // "//" never matches
  for (const auto& [lit, child] : node->literals) {
    if (lit == seg) {
      if (const NodeT* found = Walk(child.get(), segs, i + 1, params)) return found;
    }
  }
  if (node->param) {
    params->emplace_back(node->param_name, std::string(seg));
    if (const NodeT* found = Walk(node->param.get(), segs, i + 1, params)) return found;
    params->pop_back();
  }
  return nullptr;
}

}  // namespace

const Router::Node* Router::Find(std::string_view path, Params* params, bool* bad_path) const {
  Segments segs;
  *bad_path = false;
  if (!Split(path, &segs)) return nullptr;
  // Decode only when needed: the common path has no '%'.
  std::array<std::string, kMaxSegments> decoded;
  if (path.find('%') != std::string_view::npos) {
    for (size_t i = 0; i < segs.count; ++i) {
      if (!PercentDecode(segs.items[i], false, &decoded[i])) {
        *bad_path = true;
        return nullptr;
      }
      segs.items[i] = decoded[i];
    }
    params->clear();
    return Walk(root_.get(), segs, 0, params);  // params copy the decoded values
  }
  params->clear();
  return Walk(root_.get(), segs, 0, params);
}

void Router::Match(Method method, std::string_view path, RouteMatch* out) const {
  out->route = nullptr;
  out->websocket = nullptr;
  out->allow.clear();
  bool bad_path = false;
  const Node* node = Find(path, &out->params, &bad_path);
  if (bad_path) {
    out->kind = RouteMatch::Kind::kBadPath;
    return;
  }
  const bool fallback = fallback_ && (method == Method::kGet || method == Method::kHead);
  if (!node) {
    out->kind = fallback ? RouteMatch::Kind::kFound : RouteMatch::Kind::kNotFound;
    out->route = fallback ? fallback_ : nullptr;
    out->params.clear();
    return;
  }
  const Route* route = node->routes[static_cast<size_t>(method)];
  if (!route && method == Method::kHead) route = node->routes[static_cast<size_t>(Method::kGet)];
  if (route) {
    out->kind = RouteMatch::Kind::kFound;
    out->route = route;
    return;
  }
  out->kind = RouteMatch::Kind::kMethodNotAllowed;
  for (size_t m = 0; m < kMethodCount; ++m) {
    const bool has = node->routes[m] != nullptr ||
                     (static_cast<Method>(m) == Method::kHead && node->routes[static_cast<size_t>(Method::kGet)]);
    if (!has) continue;
    if (!out->allow.empty()) out->allow += ", ";
    out->allow += MethodName(static_cast<Method>(m));
  }
  if (out->allow.empty()) {  // WebSocket-only path
    out->kind = fallback ? RouteMatch::Kind::kFound : RouteMatch::Kind::kNotFound;
    out->route = fallback ? fallback_ : nullptr;
    out->params.clear();
  }
}

void Router::MatchWebSocket(std::string_view path, RouteMatch* out) const {
  out->route = nullptr;
  out->websocket = nullptr;
  out->allow.clear();
  bool bad_path = false;
  const Node* node = Find(path, &out->params, &bad_path);
  if (bad_path) {
    out->kind = RouteMatch::Kind::kBadPath;
  } else if (node && node->websocket) {
    out->kind = RouteMatch::Kind::kFound;
    out->websocket = node->websocket;
  } else {
    out->kind = RouteMatch::Kind::kNotFound;
  }
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size() + ws_routes_.size());
  for (const auto& r : routes_) {
    if (r.get() == fallback_) continue;
    out.push_back({r->method, r->pattern, r->options.min_role, r->options.summary, r->options.tag, false});
  }
  for (const auto& w : ws_routes_) out.push_back({Method::kGet, w->pattern, w->min_role, {}, {}, true});
  return out;
}

}  // namespace threatd::http
