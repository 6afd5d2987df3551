#include "kafka/flow_message.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "flow/column_aliases.h"
#include "flow/features.h"
#include "flow/labels.h"
#include "flow/timestamp.h"
#include "flow/value_policy.h"

namespace threatd::kafka {
namespace {

using nlohmann::json;

constexpr size_t kMaxEcho = 64;      // bytes of an offending value or key quoted in an error
constexpr size_t kMaxListed = 8;     // names listed in an error

std::string Echo(std::string_view s) {
  if (s.size() <= kMaxEcho) return std::string(s);
  return std::string(s.substr(0, kMaxEcho)) + "...";
}

// Records where a parse failed; every other event is accepted. Used only to
// explain a payload the DOM parser already rejected.
class ErrorLocator final : public json::json_sax_t {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    position_ = position;
    // "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error ..."
    std::string_view what = ex.what();
    if (auto colon = what.find(": "); colon != std::string_view::npos) what.remove_prefix(colon + 2);
    reason_ = std::string(what);
    return false;
  }
  size_t position() const { return position_; }
  const std::string& reason() const { return reason_; }

 private:
  size_t position_ = 0;
  std::string reason_;
};

// simdjson says that the payload is not valid; nlohmann's SAX parser says
// where (simdjson does not locate errors).
Status BadJson(std::string_view payload, simdjson::error_code code) {
  ErrorLocator locator;
  json::sax_parse(payload.begin(), payload.end(), &locator);
  if (locator.reason().empty())  // valid for nlohmann, e.g. an integer beyond 64 bits
    return Status::Validation(fmt::format("bad JSON: {}", simdjson::error_message(code)),
                              "produce one UTF-8 JSON object per message; see docs/kafka.md");
  return Status::Validation(fmt::format("bad JSON at byte {}: {}", locator.position(), locator.reason()),
                            "produce one UTF-8 JSON object per message; see docs/kafka.md");
}

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

std::string_view TypeName(const element& v) {
  switch (v.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

bool IsNumber(const element& v) {
  const auto t = v.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double NumberOf(const element& v) {
  switch (v.type()) {
    case element_type::INT64: return static_cast<double>(int64_t(v));
    case element_type::UINT64: return static_cast<double>(uint64_t(v));
    default: return double(v);
  }
}

// A feature value by the missing-value policy; an error names the key.
Result<float> FeatureValue(std::string_view key, const element& v, bool negative_is_missing) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  if (v.is_null()) return kNaN;
  if (IsNumber(v)) {
    const double d = NumberOf(v);
    if (negative_is_missing && d < 0) return kNaN;
    const float f = static_cast<float>(d);
    return std::isfinite(f) ? f : kNaN;
  }
  if (v.is_string()) {
    const std::string_view text = v.get_string().value_unsafe();
    const flow::ParsedValue p = flow::ParseFeatureValue(text, negative_is_missing);
    if (p.kind == flow::ValueKind::kInvalid)
      return Status::Validation(fmt::format("feature '{}': '{}' is not a number", Echo(key), Echo(text)));
    return p.value;
  }
  return Status::Validation(fmt::format("feature '{}': expected a number, found {}", Echo(key), TypeName(v)));
}

std::string TextOf(const element& v) {
  switch (v.type()) {
    case element_type::STRING: return std::string(v.get_string().value_unsafe());
    case element_type::INT64: return std::to_string(int64_t(v));
    case element_type::UINT64: return std::to_string(uint64_t(v));
    case element_type::DOUBLE: return fmt::format("{}", double(v));
    default: return {};
  }
}

int32_t IntOf(const element& v) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  switch (v.type()) {
    case element_type::INT64: {
      const int64_t i = int64_t(v);
      return i >= 0 && i <= kMax ? static_cast<int32_t>(i) : -1;
    }
    case element_type::UINT64: {
      const uint64_t u = uint64_t(v);
      return u <= static_cast<uint64_t>(kMax) ? static_cast<int32_t>(u) : -1;
    }
    case element_type::DOUBLE: {
      const double d = double(v);
      return d >= 0 && d <= static_cast<double>(kMax) && d == std::floor(d) ? static_cast<int32_t>(d) : -1;
    }
    case element_type::STRING: {
      const std::string_view s = v.get_string().value_unsafe();
      int64_t n = 0;
      if (s.empty() || s.size() > 10) return -1;
      for (char c : s) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
      }
      return n <= kMax ? static_cast<int32_t>(n) : -1;
    }
    default: return -1;
  }
}

// Strings by flow/timestamp.h (ISO-8601 or the CIC dialects); numbers are
// Unix time in seconds, milliseconds (>= 1e11) or microseconds (>= 1e14).
int64_t TimestampOf(const element& v) {
  if (v.is_string()) {
    auto t = flow::ParseFlowTimestamp(std::string(v.get_string().value_unsafe()));
    return t ? *t : 0;
  }
  if (IsNumber(v)) {
    const double d = NumberOf(v);
    if (!std::isfinite(d) || d <= 0) return 0;
    if (d >= 1e14) return static_cast<int64_t>(d);
    if (d >= 1e11) return static_cast<int64_t>(d * 1e3);
    return static_cast<int64_t>(d * 1e6);
  }
  return 0;
}

void SetIdentifier(flow::IdentifierField field, const element& v, flow::RowIdentifiers* ids) {
  using flow::IdentifierField;
  switch (field) {
    case IdentifierField::kFlowId: ids->flow_id = TextOf(v); break;
    case IdentifierField::kSrcIp: ids->src_ip = TextOf(v); break;
    case IdentifierField::kDstIp: ids->dst_ip = TextOf(v); break;
    case IdentifierField::kSrcPort: ids->src_port = IntOf(v); break;
    case IdentifierField::kDstPort: ids->dst_port = IntOf(v); break;
    case IdentifierField::kProtocol: ids->protocol = IntOf(v); break;
    case IdentifierField::kTimestamp: ids->timestamp_us = TimestampOf(v); break;
  }
}

// The role of a key, and whether it is the label column. The same few dozen
// keys arrive in every message, so each thread remembers them (bounded, so
// hostile messages with ever-new keys cannot grow it).
struct KeyRole {
  flow::ColumnRole role;
  bool label = false;
};

KeyRole RoleOf(std::string_view key) {
  constexpr size_t kMaxCachedKeys = 4096;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  thread_local std::unordered_map<std::string, KeyRole, Hash, std::equal_to<>> cache;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedKeys) cache.clear();
  KeyRole r{flow::LookupColumn(key), flow::NormaliseColumnName(key) == "label"};
  cache.emplace(std::string(key), r);
  return r;
}

// A producer sends its keys in the same order in every message, so a thread
// also remembers the previous message's keys by position: a key equal to the
// one seen at its position needs no hashing. Any other key falls back to
// RoleOf() and takes the position over.
class KeyLayout {
 public:
  KeyRole At(size_t position, std::string_view key) {
    if (position < slots_.size() && slots_[position].key == key) return slots_[position].role;
    const KeyRole role = RoleOf(key);
    if (position < kMaxPositions) {
      if (position >= slots_.size()) slots_.resize(position + 1);
      slots_[position].key.assign(key);
      slots_[position].role = role;
    }
    return role;
  }

 private:
  static constexpr size_t kMaxPositions = 512;  // bounds the memory a hostile message can claim
  struct Slot {
    std::string key;
    KeyRole role;
  };
  std::vector<Slot> slots_;
};

// Maps every key of a feature object onto the record.
Status MapFeatures(const object& fields, FlowMessage* out, std::vector<bool>* seen) {
  thread_local KeyLayout layout;
  const auto& features = flow::CanonicalFeatures();
  size_t position = 0;
  for (const auto field : fields) {
    const std::string_view key = field.key;
    const KeyRole k = layout.At(position++, key);
    if (k.role.feature >= 0) {
      const auto f = static_cast<size_t>(k.role.feature);
      if ((*seen)[f]) continue;  // a second spelling of the same feature: the first wins
      auto v = FeatureValue(key, field.value, features[f].negative_is_missing);
      if (!v.ok()) return v.status();
      out->record.features[f] = *v;
      (*seen)[f] = true;
      ++out->matched_features;
    }
    if (k.role.identifier) {
      SetIdentifier(*k.role.identifier, field.value, &out->record.ids);
    } else if (k.role.feature < 0 && k.label && field.value.is_string()) {
      out->record.label = flow::NormaliseLabel(std::string(field.value.get_string().value_unsafe()));
    }
  }
  return Status::Ok();
}

std::string ListKeys(const object& fields) {
  std::string s;
  size_t n = 0;
  for (const auto field : fields) {
    if (n == kMaxListed) {
      s += ", ...";
      break;
    }
    if (n++ > 0) s += ", ";
    s += "'" + Echo(field.key) + "'";
  }
  return s;
}

}  // namespace

Result<FlowMessage> ParseFlowMessage(std::string_view payload, std::optional<std::string_view> sender_header,
                                     const FlowMessageOptions& options) {
  if (payload.empty())
    return Status::Validation("empty message (no JSON)", "produce one JSON object of flow features per message");
  // One parser per thread: it keeps its buffers between messages.
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto code = parser.parse(payload.data(), payload.size()).get(doc); code != simdjson::SUCCESS)
    return BadJson(payload, code);
  object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS)
    return Status::Validation(fmt::format("message must be a JSON object, found {}", TypeName(doc)),
                              "send {\"features\": {...}} or a flat object of features; see docs/kafka.md");

  FlowMessage out;
  out.record.features.fill(std::numeric_limits<float>::quiet_NaN());
  std::vector<bool> seen(flow::kFeatureCount, false);

  element features_value;
  object features;
  const bool has_features = top.at_key("features").get(features_value) == simdjson::SUCCESS;
  if (has_features) {
    if (features_value.get_object().get(features) != simdjson::SUCCESS)
      return Status::Validation(
          fmt::format("'features' must be an object of feature name -> number, found {}", TypeName(features_value)),
          "see docs/kafka.md");
    out.envelope = true;
    if (Status s = MapFeatures(features, &out, &seen); !s.ok()) return s;
    // The envelope's own keys: identifiers, label, sender (never features).
    thread_local KeyLayout envelope_layout;
    size_t position = 0;
    for (const auto field : top) {
      const KeyRole k = envelope_layout.At(position++, field.key);
      if (field.key == "features" || field.key == kSenderHeader) continue;
      if (k.role.identifier) {
        SetIdentifier(*k.role.identifier, field.value, &out.record.ids);
      } else if (k.label && field.value.is_string()) {
        out.record.label = flow::NormaliseLabel(std::string(field.value.get_string().value_unsafe()));
      }
    }
  } else {
    if (Status s = MapFeatures(top, &out, &seen); !s.ok()) return s;
  }

  if (out.matched_features == 0) {
    const object& fields = out.envelope ? features : top;
    if (fields.size() == 0)
      return Status::Validation(out.envelope ? "no flow features: 'features' is empty" : "no flow features: empty object",
                                "see docs/kafka.md for the feature names");
    return Status::Validation(
        fmt::format("no flow features: none of the {} keys ({}) is a known feature name", fields.size(),
                    ListKeys(fields)),
        "use CICFlowMeter feature names (CIC-IDS2017, CSE-CIC-IDS2018 or canonical); see docs/formats/flows.md");
  }

  if (!options.required_features.empty()) {
    std::string missing;
    size_t n_missing = 0;
    for (size_t f : options.required_features) {
      if (f >= seen.size() || seen[f]) continue;
      if (n_missing < kMaxListed) missing += fmt::format("{}'{}'", n_missing ? ", " : "", flow::CanonicalFeatures()[f].name);
      ++n_missing;
    }
    if (n_missing > 0)
      return Status::Validation(
          fmt::format("missing features {}{} (matched {} of {} required)", missing, n_missing > kMaxListed ? ", ..." : "",
                      options.required_features.size() - n_missing, options.required_features.size()),
          "send every feature the active models read; see docs/formats/flows.md");
  }

  std::string_view sender;
  if (sender_header && !sender_header->empty()) {
    out.sender_ip = std::string(*sender_header);
  } else if (top.at_key(kSenderHeader).get(sender) == simdjson::SUCCESS) {
    out.sender_ip = std::string(sender);
  }
  return out;
}

}  // namespace threatd::kafka
