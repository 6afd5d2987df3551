#include "healing/policy.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/ascii.h"
#include "flow/labels.h"

namespace threatd::healing {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<std::pair<TargetSide, std::string_view>, 4> kSides{{
    {TargetSide::kSource, "source"},
    {TargetSide::kDestination, "destination"},
    {TargetSide::kInternal, "internal"},
    {TargetSide::kExternal, "external"},
}};

IpNetwork Net(std::string_view text) { return *IpNetwork::Parse(text); }

Rule MakeRule(std::string name, std::vector<std::string> classes, double confidence, int64_t detections,
              seconds window, ActionType action, TargetSide target, std::vector<seconds> durations) {
  Rule r;
  r.name = std::move(name);
  r.classes = std::move(classes);
  r.min_confidence = confidence;
  r.min_detections = detections;
  r.window = window;
  r.action = action;
  r.target = target;
  r.durations = std::move(durations);
  return r;
}

// "1h", "10m", "30s", "7d" or a number of seconds.
Result<seconds> ParseDuration(const json& v, const std::string& where) {
  if (v.is_number_integer() && v.get<int64_t>() > 0) return seconds(v.get<int64_t>());
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    size_t used = 0;
    int64_t n = 0;
    try {
      n = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const std::string unit = s.substr(used);
    int64_t mult = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
    if (used > 0 && n > 0 && mult > 0 && n <= int64_t{3650} * 86400 / mult) return seconds(n * mult);
  }
  return Status::Validation(
      fmt::format("{}: '{}' is not a duration; use a number of seconds or e.g. \"30s\", \"10m\", \"1h\", \"7d\"",
                  where, v.dump()));
}

std::string DurationText(seconds s) {
  const int64_t n = s.count();
  if (n % 86400 == 0) return fmt::format("{}d", n / 86400);
  if (n % 3600 == 0) return fmt::format("{}h", n / 3600);
  if (n % 60 == 0) return fmt::format("{}m", n / 60);
  return fmt::format("{}s", n);
}

Result<std::vector<IpNetwork>> ParseNetworks(const json& v, const std::string& where) {
  if (!v.is_array()) return Status::Validation(where + ": expected a list of addresses or CIDR ranges");
  std::vector<IpNetwork> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return Status::Validation(fmt::format("{}[{}]: expected a string", where, i));
    auto n = IpNetwork::Parse(v[i].get<std::string>());
    if (!n.ok()) return Status::Validation(fmt::format("{}[{}]: {}", where, i, n.status().message()));
    out.push_back(*n);
  }
  return out;
}

json NetworksJson(const std::vector<IpNetwork>& v) {
  json a = json::array();
  for (const auto& n : v) a.push_back(n.ToString());
  return a;
}

Result<Rule> ParseRule(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::Validation(where + ": expected an object");
  static const std::vector<std::string> kKnown = {"name",   "classes",  "min_confidence",  "min_detections",
                                                  "window", "action",   "target",          "durations",
                                                  "rate_per_second", "simulate"};
  for (const auto& [k, v] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      return Status::Validation(fmt::format("{}: unknown field '{}'", where, k));
  }
  Rule r;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty() ||
      j["name"].get<std::string>().size() > 64)
    return Status::Validation(where + ".name: required, 1 to 64 characters");
  r.name = j["name"].get<std::string>();
  if (!j.contains("classes") || !j["classes"].is_array() || j["classes"].empty())
    return Status::Validation(where + ".classes: required, a non-empty list of attack classes (\"*\" for any)");
  for (size_t i = 0; i < j["classes"].size(); ++i) {
    const auto& c = j["classes"][i];
    if (!c.is_string() || c.get<std::string>().empty())
      return Status::Validation(fmt::format("{}.classes[{}]: expected a class name", where, i));
    if (EqualsIgnoreCase(c.get<std::string>(), flow::kBenignLabel))
      return Status::Validation(fmt::format("{}.classes[{}]: BENIGN traffic never triggers an action", where, i));
    r.classes.push_back(c.get<std::string>());
  }
  if (j.contains("min_confidence")) {
    if (!j["min_confidence"].is_number() || j["min_confidence"].get<double>() < 0 ||
        j["min_confidence"].get<double>() > 1)
      return Status::Validation(where + ".min_confidence: a number from 0 to 1");
    r.min_confidence = j["min_confidence"].get<double>();
  }
  if (j.contains("min_detections")) {
    if (!j["min_detections"].is_number_integer() || j["min_detections"].get<int64_t>() < 1 ||
        j["min_detections"].get<int64_t>() > 1000000)
      return Status::Validation(where + ".min_detections: an integer from 1 to 1000000");
    r.min_detections = j["min_detections"].get<int64_t>();
  }
  if (j.contains("window")) {
    auto w = ParseDuration(j["window"], where + ".window");
    if (!w.ok()) return w.status();
    r.window = *w;
  }
  if (!j.contains("action") || !j["action"].is_string() || !ParseActionType(j["action"].get<std::string>()))
    return Status::Validation(where +
                              ".action: required, one of block_ip, rate_limit, isolate_host, alert_admin, "
                              "restart_service, log_only");
  r.action = *ParseActionType(j["action"].get<std::string>());
  if (j.contains("target")) {
    bool found = false;
    for (const auto& [side, name] : kSides) {
      if (j["target"].is_string() && j["target"].get<std::string>() == name) {
        r.target = side;
        found = true;
      }
    }
    if (!found) return Status::Validation(where + ".target: one of source, destination, internal, external");
  }
  if (!j.contains("durations") || !j["durations"].is_array() || j["durations"].empty() ||
      j["durations"].size() > 16)
    return Status::Validation(where +
                              ".durations: required, the escalation ladder, 1 to 16 steps, e.g. "
                              "[\"10m\", \"1h\", \"24h\", \"7d\"]");
  for (size_t i = 0; i < j["durations"].size(); ++i) {
    auto d = ParseDuration(j["durations"][i], fmt::format("{}.durations[{}]", where, i));
    if (!d.ok()) return d.status();
    r.durations.push_back(*d);
  }
  if (j.contains("rate_per_second")) {
    if (!j["rate_per_second"].is_number_integer() || j["rate_per_second"].get<int64_t>() < 1)
      return Status::Validation(where + ".rate_per_second: a positive integer (packets per second)");
    r.rate_per_second = j["rate_per_second"].get<int64_t>();
  }
  if (r.action == ActionType::kRateLimit && r.rate_per_second == 0) r.rate_per_second = 100;
  if (j.contains("simulate")) {
    if (!j["simulate"].is_boolean()) return Status::Validation(where + ".simulate: true or false");
    r.simulate = j["simulate"].get<bool>();
  }
  return r;
}

std::string Describe(const Rule& rule, const Detection& d, const std::optional<IpNetwork>& target,
                     int64_t detections) {
  const std::string who = target ? target->ToString() : std::string("a flow without addresses");
  return fmt::format("{} {}: {} {} detection{} within {} (rule {}, confidence >= {:.2f})", ToString(rule.action),
                     who, detections, d.attack_class, detections == 1 ? "" : "s", DurationText(rule.window),
                     rule.name, rule.min_confidence);
}

}  // namespace

std::string_view ToString(TargetSide s) {
  for (const auto& [side, name] : kSides)
    if (side == s) return name;
  return "source";
}

bool ClassMatches(std::string_view pattern, std::string_view attack_class) {
  if (pattern == "*") return true;
  if (pattern.ends_with('*')) return StartsWithIgnoreCase(attack_class, pattern.substr(0, pattern.size() - 1));
  return EqualsIgnoreCase(pattern, attack_class);
}

std::vector<IpNetwork> DefaultInternalNetworks() {
  return {Net("10.0.0.0/8"), Net("172.16.0.0/12"), Net("192.168.0.0/16"), Net("100.64.0.0/10"), Net("fc00::/7")};
}

PolicyConfig DefaultPolicy() {
  using A = ActionType;
  using T = TargetSide;
  const std::vector<seconds> ladder = {minutes(10), hours(1), hours(24), hours(24 * 7)};
  PolicyConfig p;
  p.rules = {
      MakeRule("denial-of-service", {"DDoS", "DoS*"}, 0.9, 20, seconds(10), A::kBlockIp, T::kSource, ladder),
      MakeRule("port-scan", {"PortScan"}, 0.9, 30, seconds(60), A::kBlockIp, T::kSource, ladder),
      MakeRule("brute-force", {"FTP-Patator", "SSH-Patator"}, 0.9, 10, seconds(60), A::kBlockIp, T::kSource,
               ladder),
      MakeRule("web-attack", {"Web Attack*"}, 0.8, 3, seconds(60), A::kBlockIp, T::kSource,
               {hours(1), hours(24), hours(24 * 7)}),
      MakeRule("heartbleed", {"Heartbleed"}, 0.8, 1, seconds(60), A::kBlockIp, T::kSource,
               {hours(24), hours(24 * 7)}),
      // Bots beacon slowly (every few seconds to minutes): a window of
      // minutes, not seconds. An infiltrated host is a confirmed compromise
      // (like Heartbleed): one confident detection isolates it.
      MakeRule("infected-host", {"Bot*"}, 0.9, 3, minutes(10), A::kIsolateHost, T::kInternal,
               {hours(1), hours(24), hours(24 * 7)}),
      MakeRule("infiltrated-host", {"Infiltration*"}, 0.9, 1, minutes(10), A::kIsolateHost, T::kInternal,
               {hours(1), hours(24), hours(24 * 7)}),
      MakeRule("command-and-control", {"Bot*"}, 0.9, 3, minutes(10), A::kBlockIp, T::kExternal,
               {hours(24), hours(24 * 7)}),
      MakeRule("unclassified-attack", {"ATTACK"}, 0.95, 10, seconds(60), A::kAlertAdmin, T::kSource, {hours(1)}),
  };
  p.internal_networks = DefaultInternalNetworks();
  return p;
}

Result<PolicyConfig> ParsePolicy(const json& j) {
  if (!j.is_object()) return Status::Validation("policy: expected a JSON object with \"rules\"");
  static const std::vector<std::string> kKnown = {"rules", "protected_networks", "internal_networks",
                                                  "ipv6_prefix", "max_blocks_per_minute", "escalation_lookback"};
  for (const auto& [k, v] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      return Status::Validation(fmt::format("policy: unknown field '{}'", k));
  }
  PolicyConfig p;
  p.internal_networks = DefaultInternalNetworks();
  if (!j.contains("rules") || !j["rules"].is_array())
    return Status::Validation("policy.rules: required, a list of rules (an empty list disables self-healing)");
  if (j["rules"].size() > 256) return Status::Validation("policy.rules: at most 256 rules");
  for (size_t i = 0; i < j["rules"].size(); ++i) {
    auto r = ParseRule(j["rules"][i], fmt::format("rules[{}]", i));
    if (!r.ok()) return r.status();
    for (const auto& other : p.rules) {
      if (other.name == r->name) return Status::Validation(fmt::format("rules[{}].name: '{}' is used twice", i, r->name));
    }
    p.rules.push_back(std::move(*r));
  }
  if (j.contains("protected_networks")) {
    auto n = ParseNetworks(j["protected_networks"], "protected_networks");
    if (!n.ok()) return n.status();
    p.protected_networks = std::move(*n);
  }
  if (j.contains("internal_networks")) {
    auto n = ParseNetworks(j["internal_networks"], "internal_networks");
    if (!n.ok()) return n.status();
    p.internal_networks = std::move(*n);
  }
  if (j.contains("ipv6_prefix")) {
    if (!j["ipv6_prefix"].is_number_integer() || j["ipv6_prefix"].get<int>() < 16 || j["ipv6_prefix"].get<int>() > 128)
      return Status::Validation("ipv6_prefix: an integer from 16 to 128 (64 blocks a whole subnet, 128 one address)");
    p.ipv6_prefix = j["ipv6_prefix"].get<int>();
  }
  if (j.contains("max_blocks_per_minute")) {
    if (!j["max_blocks_per_minute"].is_number_integer() || j["max_blocks_per_minute"].get<int64_t>() < 1)
      return Status::Validation("max_blocks_per_minute: a positive integer (the circuit breaker's limit)");
    p.max_blocks_per_minute = j["max_blocks_per_minute"].get<int64_t>();
  }
  if (j.contains("escalation_lookback")) {
    auto d = ParseDuration(j["escalation_lookback"], "escalation_lookback");
    if (!d.ok()) return d.status();
    p.escalation_lookback = *d;
  }
  return p;
}

json PolicyToJson(const PolicyConfig& p) {
  json rules = json::array();
  for (const auto& r : p.rules) {
    json durations = json::array();
    for (auto d : r.durations) durations.push_back(DurationText(d));
    json rule = {{"name", r.name},
                 {"classes", r.classes},
                 {"min_confidence", r.min_confidence},
                 {"min_detections", r.min_detections},
                 {"window", DurationText(r.window)},
                 {"action", ToString(r.action)},
                 {"target", ToString(r.target)},
                 {"durations", durations},
                 {"simulate", r.simulate}};
    if (r.action == ActionType::kRateLimit) rule["rate_per_second"] = r.rate_per_second;
    rules.push_back(std::move(rule));
  }
  return json{{"rules", rules},
              {"protected_networks", NetworksJson(p.protected_networks)},
              {"internal_networks", NetworksJson(p.internal_networks)},
              {"ipv6_prefix", p.ipv6_prefix},
              {"max_blocks_per_minute", p.max_blocks_per_minute},
              {"escalation_lookback", DurationText(p.escalation_lookback)}};
}

// --- PolicyEngine ---

PolicyEngine::PolicyEngine(PolicyConfig config) : config_(std::move(config)) {}

bool PolicyEngine::IsInternal(const IpNetwork& a) const {
  return std::any_of(config_.internal_networks.begin(), config_.internal_networks.end(),
                     [&](const IpNetwork& n) { return n.Contains(a); });
}

std::optional<IpNetwork> PolicyEngine::Resolve(const Rule& rule, const Detection& d) const {
  auto parse = [](const std::string& s) -> std::optional<IpNetwork> {
    if (s.empty()) return std::nullopt;
    auto a = IpNetwork::ParseAddress(s);
    return a.ok() ? std::optional<IpNetwork>(*a) : std::nullopt;
  };
  const auto src = parse(d.src_ip), dst = parse(d.dst_ip);
  switch (rule.target) {
    case TargetSide::kSource: return src;
    case TargetSide::kDestination: return dst;
    case TargetSide::kInternal:
      if (src && IsInternal(*src)) return src;
      if (dst && IsInternal(*dst)) return dst;
      return std::nullopt;
    case TargetSide::kExternal:
      if (dst && !IsInternal(*dst)) return dst;
      if (src && !IsInternal(*src)) return src;
      return std::nullopt;
  }
  return std::nullopt;
}

std::vector<Proposal> PolicyEngine::Observe(const Detection& d) {
  std::vector<Proposal> out;
  if (ClassMatches(flow::kBenignLabel, d.attack_class)) return out;
  for (size_t i = 0; i < config_.rules.size(); ++i) {
    const Rule& rule = config_.rules[i];
    if (d.confidence < rule.min_confidence) continue;
    if (std::none_of(rule.classes.begin(), rule.classes.end(),
                     [&](const std::string& c) { return ClassMatches(c, d.attack_class); }))
      continue;
    std::optional<IpNetwork> target = Resolve(rule, d);
    // internal/external with both endpoints on one side: nothing to act on.
    const bool has_addresses = !d.src_ip.empty() || !d.dst_ip.empty();
    if (!target && has_addresses &&
        (rule.target == TargetSide::kInternal || rule.target == TargetSide::kExternal))
      continue;
    if (target && target->family() == IpNetwork::Family::kV6) target = target->Supernet(config_.ipv6_prefix);

    Window& w = windows_[{i, target ? target->ToString() : std::string()}];
    while (!w.hits.empty() && w.hits.front().first <= d.at - rule.window) w.hits.pop_front();
    if (w.hits.empty()) w.max_confidence = 0;
    w.hits.emplace_back(d.at, d.traffic_data_id);
    w.max_confidence = std::max(w.max_confidence, d.confidence);
    if (static_cast<int64_t>(w.hits.size()) < rule.min_detections) continue;

    Proposal p;
    p.rule = &rule;
    // A flow without a usable address can only raise an alert.
    p.action = target ? rule.action : ActionType::kAlertAdmin;
    p.target = target;
    p.attack_class = d.attack_class;
    p.confidence = w.max_confidence;
    p.model_version = d.model_version;
    const size_t first = w.hits.size() - std::min(w.hits.size(), kMaxFlowsPerProposal);
    for (size_t k = first; k < w.hits.size(); ++k) p.flows.push_back(w.hits[k].second);
    p.attack_prediction_id = d.attack_prediction_id;
    p.detections = static_cast<int64_t>(w.hits.size());
    p.description = Describe(rule, d, target, p.detections);
    out.push_back(std::move(p));
    windows_.erase({i, target ? target->ToString() : std::string()});  // the next decision needs a new threshold
  }
  return out;
}

void PolicyEngine::Prune(Clock::WallTime now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    const Rule& rule = config_.rules[it->first.first];
    if (it->second.hits.empty() || it->second.hits.back().first <= now - rule.window) {
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace threatd::healing
