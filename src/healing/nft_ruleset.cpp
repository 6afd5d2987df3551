#include "healing/nft_ruleset.h"

#include <fmt/format.h>

namespace threatd::healing::nft {
namespace {

constexpr std::array<std::string_view, 3> kKindNames{"block", "isolate", "ratelimit"};

bool IsV4(const SetId& id) { return id.family == IpNetwork::Family::kV4; }

std::string Declaration(const SetId& id) {
  return fmt::format("type {}; flags {};", IsV4(id) ? "ipv4_addr" : "ipv6_addr",
                     id.hosts ? "timeout" : "interval, timeout");
}

// "ip saddr" / "ip6 daddr".
std::string Match(IpNetwork::Family f, bool source) {
  return fmt::format("{} {}", f == IpNetwork::Family::kV4 ? "ip" : "ip6", source ? "saddr" : "daddr");
}

// Rules that drop what matches `kind`'s sets (hosts and ranges, both families).
void DropRules(SetKind kind, bool source, std::string* out) {
  for (auto family : {IpNetwork::Family::kV4, IpNetwork::Family::kV6}) {
    for (bool hosts : {true, false}) {
      const SetId id{kind, family, hosts};
      *out += fmt::format("    {} @{} counter drop\n", Match(family, source), SetName(id));
    }
  }
}

void RateLimitRules(const RulesetOptions& o, std::string* out) {
  for (auto family : {IpNetwork::Family::kV4, IpNetwork::Family::kV6}) {
    const std::string v = family == IpNetwork::Family::kV4 ? "v4" : "v6";
    for (bool hosts : {true, false}) {
      const SetId id{SetKind::kRateLimit, family, hosts};
      *out += fmt::format("    {0} @{1} update @ratelimit_meter_{2} {{ {0} limit rate over {3}/second }} counter drop\n",
                          Match(family, true), SetName(id), v, o.rate_per_second);
    }
  }
}

std::string ChainRules(const RulesetOptions& o, std::string_view chain) {
  std::string r;
  if (chain == "input" || chain == "forward") {
    DropRules(SetKind::kBlock, true, &r);
    DropRules(SetKind::kIsolate, true, &r);
    if (chain == "forward") DropRules(SetKind::kIsolate, false, &r);
    RateLimitRules(o, &r);
  } else {
    DropRules(SetKind::kIsolate, false, &r);
  }
  return r;
}

constexpr std::array<std::string_view, 3> kChains{"input", "forward", "output"};

// One element of `nft -j` output: "10.0.0.1", {"prefix": ...}, {"range": [...]},
// or {"elem": {"val": <one of those>, "timeout": ..., "expires": ...}}.
bool ParseElement(IpNetwork::Family family, const nlohmann::json& e, Range* out) {
  if (e.is_string()) {
    Key k = 0;
    if (!ParseKey(family, e.get_ref<const std::string&>(), &k)) return false;
    *out = {k, k};
    return true;
  }
  if (!e.is_object()) return false;
  if (auto it = e.find("elem"); it != e.end() && it->is_object() && it->contains("val")) {
    return ParseElement(family, it->at("val"), out);
  }
  if (auto it = e.find("prefix"); it != e.end() && it->is_object()) {
    const auto& addr = it->value("addr", nlohmann::json());
    const auto& len = it->value("len", nlohmann::json());
    if (!addr.is_string() || !len.is_number_integer()) return false;
    IpNetwork::Family f = family;
    auto net = IpNetwork::Parse(fmt::format("{}/{}", addr.get<std::string>(), len.get<int>()));
    if (!net.ok() || net->family() != f) return false;
    *out = ToRange(*net);
    return true;
  }
  if (auto it = e.find("range"); it != e.end() && it->is_array() && it->size() == 2) {
    const auto& a = (*it)[0];
    const auto& b = (*it)[1];
    if (!a.is_string() || !b.is_string()) return false;
    return ParseKey(family, a.get_ref<const std::string&>(), &out->lo) &&
           ParseKey(family, b.get_ref<const std::string&>(), &out->hi);
  }
  return false;
}

}  // namespace

size_t SetIndex(const SetId& id) {
  return static_cast<size_t>(id.kind) * 4 + (IsV4(id) ? 0 : 2) + (id.hosts ? 0 : 1);
}

SetId SetAt(size_t index) {
  return {static_cast<SetKind>(index / 4), (index % 4) < 2 ? IpNetwork::Family::kV4 : IpNetwork::Family::kV6,
          index % 2 == 0};
}

std::string SetName(const SetId& id) {
  return fmt::format("{}{}_{}", kKindNames[static_cast<size_t>(id.kind)], id.hosts ? "_hosts" : "",
                     IsV4(id) ? "v4" : "v6");
}

std::optional<SetKind> KindOf(ActionType action) {
  switch (action) {
    case ActionType::kBlockIp: return SetKind::kBlock;
    case ActionType::kIsolateHost: return SetKind::kIsolate;
    case ActionType::kRateLimit: return SetKind::kRateLimit;
    default: return std::nullopt;
  }
}

ActionType ActionOf(SetKind kind) {
  switch (kind) {
    case SetKind::kBlock: return ActionType::kBlockIp;
    case SetKind::kIsolate: return ActionType::kIsolateHost;
    case SetKind::kRateLimit: return ActionType::kRateLimit;
  }
  return ActionType::kLogOnly;
}

SetId SetFor(SetKind kind, const IpNetwork& target) { return {kind, target.family(), target.is_host()}; }

std::string ElementText(const SetId& id, const Segment& segment, int64_t now_ms) {
  std::string text = id.hosts ? FormatKey(id.family, segment.lo) : FormatRange(id.family, segment.lo, segment.hi);
  if (segment.expiry_ms != kNever) text += fmt::format(" timeout {}ms", std::max<int64_t>(1, segment.expiry_ms - now_ms));
  return text;
}

std::string TableBlock(const RulesetOptions& o, bool declare_only,
                       const std::array<std::vector<std::string>, kSetCount>* elements) {
  std::string out = fmt::format("table inet {} {{\n", o.table);
  for (size_t i = 0; i < kSetCount; ++i) {
    const SetId id = SetAt(i);
    out += fmt::format("  set {} {{ {}", SetName(id), Declaration(id));
    if (elements != nullptr && !(*elements)[i].empty()) {
      out += " elements = { ";
      bool first = true;
      for (const auto& e : (*elements)[i]) {
        if (!first) out += ", ";
        out += e;
        first = false;
      }
      out += " }";
    }
    out += " }\n";
  }
  for (std::string_view v : {"v4", "v6"}) {
    out += fmt::format("  set ratelimit_meter_{} {{ type {}; size {}; flags dynamic, timeout; timeout 10s; }}\n", v,
                       v == "v4" ? "ipv4_addr" : "ipv6_addr", kMeterSize);
  }
  for (std::string_view chain : kChains) {
    out += fmt::format("  chain {0} {{\n    type filter hook {0} priority {1}; policy accept;\n", chain,
                       o.chain_priority);
    if (!declare_only) out += ChainRules(o, chain);
    out += "  }\n";
  }
  out += "}\n";
  return out;
}

std::string RulesBlock(const RulesetOptions& o) {
  std::string out;
  for (std::string_view chain : kChains) out += fmt::format("flush chain inet {} {}\n", o.table, chain);
  out += fmt::format("table inet {} {{\n", o.table);
  for (std::string_view chain : kChains) out += fmt::format("  chain {} {{\n{}  }}\n", chain, ChainRules(o, chain));
  out += "}\n";
  return out;
}

namespace {
std::string ElementList(const std::vector<std::string>& elements) {
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ", ";
    out += elements[i];
  }
  return out;
}
}  // namespace

std::string AddElements(const RulesetOptions& o, const SetId& id, const std::vector<std::string>& elements) {
  return fmt::format("table inet {} {{\n  set {} {{ {} elements = {{ {} }} }}\n}}\n", o.table, SetName(id),
                     Declaration(id), ElementList(elements));
}

std::string DeleteElements(const RulesetOptions& o, const SetId& id, const std::vector<std::string>& elements) {
  return fmt::format("delete element inet {} {} {{ {} }}\n", o.table, SetName(id), ElementList(elements));
}

Result<std::array<std::vector<Range>, kSetCount>> ParseListing(const nlohmann::json& listing) {
  std::array<std::vector<Range>, kSetCount> out;
  const auto items = listing.is_object() ? listing.find("nftables") : listing.end();
  if (!listing.is_object() || items == listing.end() || !items->is_array()) {
    return Status::Internal("unexpected `nft -j list table` output: no \"nftables\" array");
  }
  for (const auto& item : *items) {
    if (!item.is_object() || !item.contains("set")) continue;
    const auto& set = item.at("set");
    const std::string name = set.value("name", "");
    std::optional<size_t> index;
    for (size_t i = 0; i < kSetCount; ++i) {
      if (SetName(SetAt(i)) == name) index = i;
    }
    if (!index) continue;  // the meters, or something not ours
    const SetId id = SetAt(*index);
    auto elems = set.find("elem");
    if (elems == set.end()) continue;
    if (!elems->is_array()) return Status::Internal(fmt::format("unexpected elements of set {} in nft output", name));
    for (const auto& e : *elems) {
      Range r;
      if (!ParseElement(id.family, e, &r)) {
        return Status::Internal(fmt::format("unexpected element {} of set {} in nft output", e.dump(), name));
      }
      out[*index].push_back(r);
    }
  }
  return out;
}

}  // namespace threatd::healing::nft
