#include "kafka/flow_message.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

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

Status BadJson(std::string_view payload) {
  ErrorLocator locator;
  json::sax_parse(payload.begin(), payload.end(), &locator);
  return Status::Validation(fmt::format("bad JSON at byte {}: {}", locator.position(), locator.reason()),
                            "produce one UTF-8 JSON object per message; see docs/kafka.md");
}

std::string_view TypeName(const json& v) { return v.type_name(); }

// A feature value by the missing-value policy; an error names the key.
Result<float> FeatureValue(const std::string& key, const json& v, bool negative_is_missing) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  if (v.is_null()) return kNaN;
  if (v.is_number()) {
    const double d = v.get<double>();
    if (negative_is_missing && d < 0) return kNaN;
    const float f = static_cast<float>(d);
    return std::isfinite(f) ? f : kNaN;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    const flow::ParsedValue p = flow::ParseFeatureValue(s, negative_is_missing);
    if (p.kind == flow::ValueKind::kInvalid)
      return Status::Validation(fmt::format("feature '{}': '{}' is not a number", Echo(key), Echo(s)));
    return p.value;
  }
  return Status::Validation(
      fmt::format("feature '{}': expected a number, found {}", Echo(key), TypeName(v)));
}

std::string TextOf(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  return {};
}

int32_t IntOf(const json& v) {
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return i >= 0 && i <= std::numeric_limits<int32_t>::max() ? static_cast<int32_t>(i) : -1;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return d >= 0 && d <= std::numeric_limits<int32_t>::max() && d == std::floor(d) ? static_cast<int32_t>(d) : -1;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t n = 0;
    if (s.empty() || s.size() > 10) return -1;
    for (char c : s) {
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n <= std::numeric_limits<int32_t>::max() ? static_cast<int32_t>(n) : -1;
  }
  return -1;
}

// Strings by flow/timestamp.h (ISO-8601 or the CIC dialects); numbers are
// Unix time in seconds, milliseconds (>= 1e11) or microseconds (>= 1e14).
int64_t TimestampOf(const json& v) {
  if (v.is_string()) {
    auto t = flow::ParseFlowTimestamp(v.get_ref<const std::string&>());
    return t ? *t : 0;
  }
  if (v.is_number()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d <= 0) return 0;
    if (d >= 1e14) return static_cast<int64_t>(d);
    if (d >= 1e11) return static_cast<int64_t>(d * 1e3);
    return static_cast<int64_t>(d * 1e6);
  }
  return 0;
}

void SetIdentifier(flow::IdentifierField field, const json& v, flow::RowIdentifiers* ids) {
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

bool IsLabelKey(const std::string& key) { return flow::NormaliseColumnName(key) == "label"; }

// Maps every key of a feature object onto the record.
Status MapFeatures(const json& object, FlowMessage* out, std::vector<bool>* seen) {
  const auto& features = flow::CanonicalFeatures();
  for (const auto& [key, value] : object.items()) {
    const flow::ColumnRole role = flow::LookupColumn(key);
    if (role.feature >= 0) {
      const auto f = static_cast<size_t>(role.feature);
      if ((*seen)[f]) continue;  // a second spelling of the same feature: the first wins
      auto v = FeatureValue(key, value, features[f].negative_is_missing);
      if (!v.ok()) return v.status();
      out->record.features[f] = *v;
      (*seen)[f] = true;
      ++out->matched_features;
    }
    if (role.identifier) {
      SetIdentifier(*role.identifier, value, &out->record.ids);
    } else if (role.feature < 0 && IsLabelKey(key) && value.is_string()) {
      out->record.label = flow::NormaliseLabel(value.get_ref<const std::string&>());
    }
  }
  return Status::Ok();
}

std::string ListKeys(const json& object) {
  std::string s;
  size_t n = 0;
  for (const auto& [key, value] : object.items()) {
    if (n == kMaxListed) {
      s += ", ...";
      break;
    }
    if (n++ > 0) s += ", ";
    s += "'" + Echo(key) + "'";
  }
  return s;
}

}  // namespace

Result<FlowMessage> ParseFlowMessage(std::string_view payload, std::optional<std::string_view> sender_header,
                                     const FlowMessageOptions& options) {
  if (payload.empty())
    return Status::Validation("empty message (no JSON)", "produce one JSON object of flow features per message");
  json doc = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return BadJson(payload);
  if (!doc.is_object())
    return Status::Validation(fmt::format("message must be a JSON object, found {}", TypeName(doc)),
                              "send {\"features\": {...}} or a flat object of features; see docs/kafka.md");

  FlowMessage out;
  out.record.features.fill(std::numeric_limits<float>::quiet_NaN());
  std::vector<bool> seen(flow::kFeatureCount, false);

  const auto features_it = doc.find("features");
  if (features_it != doc.end()) {
    if (!features_it->is_object())
      return Status::Validation(
          fmt::format("'features' must be an object of feature name -> number, found {}", TypeName(*features_it)),
          "see docs/kafka.md");
    out.envelope = true;
    if (Status s = MapFeatures(*features_it, &out, &seen); !s.ok()) return s;
    // The envelope's own keys: identifiers, label, sender (never features).
    for (const auto& [key, value] : doc.items()) {
      if (key == "features" || key == kSenderHeader) continue;
      const flow::ColumnRole role = flow::LookupColumn(key);
      if (role.identifier) {
        SetIdentifier(*role.identifier, value, &out.record.ids);
      } else if (IsLabelKey(key) && value.is_string()) {
        out.record.label = flow::NormaliseLabel(value.get_ref<const std::string&>());
      }
    }
  } else {
    if (Status s = MapFeatures(doc, &out, &seen); !s.ok()) return s;
  }

  if (out.matched_features == 0) {
    const json& object = out.envelope ? *features_it : doc;
    if (object.empty())
      return Status::Validation(out.envelope ? "no flow features: 'features' is empty" : "no flow features: empty object",
                                "see docs/kafka.md for the feature names");
    return Status::Validation(
        fmt::format("no flow features: none of the {} keys ({}) is a known feature name", object.size(),
                    ListKeys(object)),
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

  if (sender_header && !sender_header->empty()) {
    out.sender_ip = std::string(*sender_header);
  } else if (auto s = doc.find(kSenderHeader); s != doc.end() && s->is_string()) {
    out.sender_ip = s->get<std::string>();
  }
  return out;
}

}  // namespace threatd::kafka
