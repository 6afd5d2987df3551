// The bundle's JSON mapping (docs/formats/model-bundle.md): canonical
// serialisation (sorted keys via nlohmann's std::map objects, compact, floats
// in shortest round-trip form) and a strict parser that never throws.
#include <cfloat>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ml/bundle.h"
#include "ml/gzip.h"
#include "common/sha256.h"

namespace threatd::ml {
namespace {

using nlohmann::json;

const char* const kHint = "the file is not a valid threatd model bundle; see docs/formats/model-bundle.md";

json TreeToJson(const Tree& t) {
  std::vector<int> default_left(t.default_left.begin(), t.default_left.end());
  return json{{"class", t.class_index},         {"split_feature", t.split_feature},
              {"threshold", t.threshold},       {"left", t.left},
              {"right", t.right},               {"default_left", default_left},
              {"leaf_value", t.leaf_value}};
}

json BundleToJson(const ModelBundle& b) {
  json j = json::object();
  j["format_version"] = b.format_version;
  j["model_type"] = ModelTypeName(b.model_type);
  j["version"] = b.version;
  j["created_at"] = b.created_at;
  json features = json::array();
  for (const auto& f : b.features) features.push_back({{"name", f.name}, {"aliases", f.aliases}});
  j["features"] = features;
  j["missing_value_policy"] = b.missing_value_policy;
  j["classes"] = b.classes;
  j["threshold"] = b.threshold;
  json trees = json::array();
  for (const auto& t : b.trees) trees.push_back(TreeToJson(t));
  j["model"] = {{"objective", ObjectiveName(b.objective)}, {"num_class", b.num_class},
                {"base_margin", b.base_margin}, {"trees", std::move(trees)}};
  ToJson(j["model_card"], b.card);
  return j;
}

Status Bad(const std::string& where, const std::string& what) {
  return Status::Validation(fmt::format("{}: {}", where, what), kHint);
}

Status GetString(const json& j, const char* key, const std::string& where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return Bad(where, fmt::format("missing field '{}'", key));
  if (!it->is_string()) return Bad(where, fmt::format("'{}' must be a string", key));
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ToFloat(const json& v, const std::string& where, float* out) {
  if (!v.is_number()) return Bad(where, "must be a number (NaN/Infinity are not allowed)");
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(FLT_MAX)) return Bad(where, "number out of float range");
  *out = static_cast<float>(d);
  return Status::Ok();
}

Status GetInt(const json& v, const std::string& where, int64_t lo, int64_t hi, int64_t* out) {
  if (!v.is_number_integer()) return Bad(where, "must be an integer");
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                        ? INT64_MAX : v.get<int64_t>();
  if (x < lo || x > hi) return Bad(where, fmt::format("{} out of range [{}, {}]", x, lo, hi));
  *out = x;
  return Status::Ok();
}

template <typename T>
Status GetIntArray(const json& tree, const char* key, const std::string& where, int64_t lo, int64_t hi,
                   std::vector<T>* out) {
  auto it = tree.find(key);
  if (it == tree.end() || !it->is_array()) return Bad(where, fmt::format("'{}' must be an array", key));
  if (it->size() > kMaxNodesPerTree) return Bad(where, fmt::format("'{}' has more than {} entries", key, kMaxNodesPerTree));
  out->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    int64_t v = 0;
    THREATD_RETURN_IF_ERROR(GetInt((*it)[i], fmt::format("{}.{}[{}]", where, key, i), lo, hi, &v));
    out->push_back(static_cast<T>(v));
  }
  return Status::Ok();
}

Status GetFloatArray(const json& tree, const char* key, const std::string& where, std::vector<float>* out) {
  auto it = tree.find(key);
  if (it == tree.end() || !it->is_array()) return Bad(where, fmt::format("'{}' must be an array", key));
  if (it->size() > kMaxNodesPerTree) return Bad(where, fmt::format("'{}' has more than {} entries", key, kMaxNodesPerTree));
  out->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    float v = 0;
    THREATD_RETURN_IF_ERROR(ToFloat((*it)[i], fmt::format("{}.{}[{}]", where, key, i), &v));
    out->push_back(v);
  }
  return Status::Ok();
}

Status CheckKeys(const json& j, const std::string& where, std::initializer_list<const char*> allowed) {
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!ok.count(it.key())) return Bad(where, fmt::format("unknown field '{}'", it.key()));
  }
  return Status::Ok();
}

Status ParseTree(const json& jt, size_t index, Tree* t) {
  const std::string where = fmt::format("model.trees[{}]", index);
  if (!jt.is_object()) return Bad(where, "must be an object");
  THREATD_RETURN_IF_ERROR(CheckKeys(jt, where, {"class", "split_feature", "threshold", "left", "right", "default_left", "leaf_value"}));
  int64_t cls = 0;
  if (!jt.contains("class")) return Bad(where, "missing field 'class'");
  THREATD_RETURN_IF_ERROR(GetInt(jt["class"], where + ".class", 0, static_cast<int64_t>(kMaxClasses), &cls));
  t->class_index = static_cast<int32_t>(cls);
  constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
  THREATD_RETURN_IF_ERROR(GetIntArray(jt, "split_feature", where, -1, kI32Max, &t->split_feature));
  THREATD_RETURN_IF_ERROR(GetIntArray(jt, "left", where, -1, kI32Max, &t->left));
  THREATD_RETURN_IF_ERROR(GetIntArray(jt, "right", where, -1, kI32Max, &t->right));
  THREATD_RETURN_IF_ERROR(GetIntArray(jt, "default_left", where, 0, 1, &t->default_left));
  THREATD_RETURN_IF_ERROR(GetFloatArray(jt, "threshold", where, &t->threshold));
  THREATD_RETURN_IF_ERROR(GetFloatArray(jt, "leaf_value", where, &t->leaf_value));
  return Status::Ok();
}

Status ParseModel(const json& m, ModelBundle* b) {
  if (!m.is_object()) return Bad("model", "must be an object");
  THREATD_RETURN_IF_ERROR(CheckKeys(m, "model", {"objective", "num_class", "base_margin", "trees"}));
  std::string objective;
  THREATD_RETURN_IF_ERROR(GetString(m, "objective", "model", &objective));
  if (objective == "binary:logistic") b->objective = Objective::kBinaryLogistic;
  else if (objective == "multi:softprob") b->objective = Objective::kMultiSoftprob;
  else return Bad("model.objective", fmt::format("unsupported objective '{}' (binary:logistic or multi:softprob)", objective));
  int64_t num_class = 0;
  if (!m.contains("num_class")) return Bad("model", "missing field 'num_class'");
  THREATD_RETURN_IF_ERROR(GetInt(m["num_class"], "model.num_class", 2, static_cast<int64_t>(kMaxClasses), &num_class));
  b->num_class = static_cast<int>(num_class);
  if (!m.contains("base_margin")) return Bad("model", "missing field 'base_margin'");
  THREATD_RETURN_IF_ERROR(ToFloat(m["base_margin"], "model.base_margin", &b->base_margin));
  if (!m.contains("trees") || !m["trees"].is_array()) return Bad("model", "'trees' must be an array");
  if (m["trees"].size() > kMaxTrees) return Bad("model.trees", fmt::format("more than {} trees", kMaxTrees));
  b->trees.resize(m["trees"].size());
  for (size_t i = 0; i < b->trees.size(); ++i) THREATD_RETURN_IF_ERROR(ParseTree(m["trees"][i], i, &b->trees[i]));
  return Status::Ok();
}

Status ParseTop(const json& j, ModelBundle* b) {
  if (!j.is_object()) return Bad("bundle", "top level must be a JSON object");
  THREATD_RETURN_IF_ERROR(CheckKeys(j, "bundle", {"format_version", "model_type", "version", "created_at", "features",
                                                  "missing_value_policy", "classes", "threshold", "model", "model_card", "sha256"}));
  int64_t fv = 0;
  if (!j.contains("format_version")) return Bad("bundle", "missing field 'format_version'");
  THREATD_RETURN_IF_ERROR(GetInt(j["format_version"], "format_version", 0, 1 << 20, &fv));
  b->format_version = static_cast<int>(fv);
  if (fv != kBundleFormatVersion) return ValidateBundle(*b);  // reports the version precisely
  std::string type;
  THREATD_RETURN_IF_ERROR(GetString(j, "model_type", "bundle", &type));
  if (type == "threat_detector") b->model_type = ModelType::kThreatDetector;
  else if (type == "attack_classifier") b->model_type = ModelType::kAttackClassifier;
  else return Bad("model_type", fmt::format("unknown model_type '{}' (threat_detector or attack_classifier)", type));
  THREATD_RETURN_IF_ERROR(GetString(j, "version", "bundle", &b->version));
  THREATD_RETURN_IF_ERROR(GetString(j, "created_at", "bundle", &b->created_at));
  THREATD_RETURN_IF_ERROR(GetString(j, "missing_value_policy", "bundle", &b->missing_value_policy));
  THREATD_RETURN_IF_ERROR(GetString(j, "sha256", "bundle", &b->sha256));
  if (!j.contains("features") || !j["features"].is_array()) return Bad("bundle", "'features' must be an array");
  for (size_t i = 0; i < j["features"].size(); ++i) {
    const json& f = j["features"][i];
    const std::string where = fmt::format("features[{}]", i);
    if (!f.is_object()) return Bad(where, "must be an object");
    THREATD_RETURN_IF_ERROR(CheckKeys(f, where, {"name", "aliases"}));
    FeatureSpec spec;
    THREATD_RETURN_IF_ERROR(GetString(f, "name", where, &spec.name));
    if (f.contains("aliases")) {
      if (!f["aliases"].is_array()) return Bad(where, "'aliases' must be an array of strings");
      for (const auto& a : f["aliases"]) {
        if (!a.is_string()) return Bad(where, "'aliases' must be an array of strings");
        spec.aliases.push_back(a.get<std::string>());
      }
    }
    b->features.push_back(std::move(spec));
  }
  if (!j.contains("classes") || !j["classes"].is_array()) return Bad("bundle", "'classes' must be an array");
  for (const auto& c : j["classes"]) {
    if (!c.is_string()) return Bad("classes", "must be an array of strings");
    b->classes.push_back(c.get<std::string>());
  }
  if (!j.contains("threshold")) return Bad("bundle", "missing field 'threshold'");
  THREATD_RETURN_IF_ERROR(ToFloat(j["threshold"], "threshold", &b->threshold));
  if (!j.contains("model")) return Bad("bundle", "missing field 'model'");
  THREATD_RETURN_IF_ERROR(ParseModel(j["model"], b));
  if (j.contains("model_card")) {
    auto card = ModelCardFromJson(j["model_card"]);
    if (!card.ok()) return card.status();
    b->card = std::move(card).value();
  }
  return Status::Ok();
}

// nlohmann's dump() recurses; refuse absurd nesting before parsing at all.
bool NestingWithin(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::string_view ModelTypeName(ModelType t) {
  return t == ModelType::kThreatDetector ? "threat_detector" : "attack_classifier";
}

std::string_view ObjectiveName(Objective o) {
  return o == Objective::kBinaryLogistic ? "binary:logistic" : "multi:softprob";
}

std::string ComputeBundleSha256(const ModelBundle& bundle) {
  return Sha256Hex(BundleToJson(bundle).dump());
}

std::string SerializeBundle(const ModelBundle& bundle) {
  json j = BundleToJson(bundle);
  j["sha256"] = Sha256Hex(j.dump());
  return j.dump() + "\n";
}

Result<ModelBundle> ParseBundle(std::string_view bytes) {
  std::string inflated;
  if (LooksGzipped(bytes)) {
    auto r = GzipDecompress(bytes, kMaxBundleBytes);
    if (!r.ok()) return r.status();
    inflated = std::move(r).value();
    bytes = inflated;
  }
  if (bytes.size() > kMaxBundleBytes) return Status::PayloadTooLarge("bundle larger than the 512 MiB limit");
  if (!NestingWithin(bytes, 32)) return Status::Validation("bundle JSON is nested deeper than 32 levels", kHint);
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Validation("bundle is not valid JSON", kHint);
  ModelBundle b;
  THREATD_RETURN_IF_ERROR(ParseTop(j, &b));
  THREATD_RETURN_IF_ERROR(ValidateBundle(b));
  j.erase("sha256");
  const std::string actual = Sha256Hex(j.dump());
  if (actual != b.sha256) {
    return Status::Validation(fmt::format("sha256 mismatch: file says {}, content hashes to {}", b.sha256, actual),
                              "the bundle was modified or truncated after it was written; re-export it");
  }
  return b;
}

}  // namespace threatd::ml
