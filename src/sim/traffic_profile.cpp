#include "sim/traffic_profile.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "flow/features.h"
#include "ml/gzip.h"

namespace threatd::sim {
namespace {

using nlohmann::json;

constexpr size_t kMaxProfileBytes = 256u << 20;
constexpr std::string_view kFormatHint = "see docs/formats/traffic-profile.md";

// Six significant digits keep the committed profile small.
double Round6(double v) {
  if (!std::isfinite(v)) return v;
  return std::stod(fmt::format("{:.6g}", v));
}

double Round4(double v) { return std::round(v * 1e4) / 1e4; }

json MarginalToJson(const Marginal& m) {
  json j;
  j["kind"] = m.kind == Marginal::Kind::kDiscrete ? "discrete" : "continuous";
  j["missing"] = Round6(m.missing);
  j["integral"] = m.integral;
  json values = json::array();
  for (double v : m.values) values.push_back(Round6(v));
  j["values"] = std::move(values);
  if (m.kind == Marginal::Kind::kDiscrete) {
    json cdf = json::array();
    for (double c : m.cdf) cdf.push_back(Round6(c));
    j["cdf"] = std::move(cdf);
  }
  return j;
}

Result<Marginal> MarginalFromJson(const json& j) {
  Marginal m;
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == "discrete") {
    m.kind = Marginal::Kind::kDiscrete;
  } else if (kind == "continuous") {
    m.kind = Marginal::Kind::kContinuous;
  } else {
    return Status::Validation(fmt::format("unknown marginal kind '{}'", kind), std::string(kFormatHint));
  }
  m.missing = j.at("missing").get<double>();
  m.integral = j.at("integral").get<bool>();
  m.values = j.at("values").get<std::vector<double>>();
  if (m.kind == Marginal::Kind::kDiscrete) m.cdf = j.at("cdf").get<std::vector<double>>();
  return m;
}

Status ValidateMarginal(const Marginal& m) {
  if (!(m.missing >= 0 && m.missing <= 1)) return Status::Validation("missing fraction outside [0, 1]");
  if (m.missing < 1 && m.values.empty()) return Status::Validation("no values for a feature that is not always missing");
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i])) return Status::Validation("non-finite value");
    if (i > 0 && m.values[i] < m.values[i - 1]) return Status::Validation("values not ascending");
  }
  if (m.kind == Marginal::Kind::kDiscrete) {
    if (m.cdf.size() != m.values.size()) return Status::Validation("cdf and values differ in length");
    for (size_t i = 0; i < m.cdf.size(); ++i) {
      if (!(m.cdf[i] >= 0 && m.cdf[i] <= 1.000001)) return Status::Validation("cdf outside [0, 1]");
      if (i > 0 && m.cdf[i] < m.cdf[i - 1]) return Status::Validation("cdf not ascending");
    }
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(fmt::format("cannot open traffic profile '{}'", path),
                            "pass --profile models/traffic_profile.json.gz or a file written by `threatd profile`");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

const ClassProfile* TrafficProfile::FindClass(std::string_view label) const {
  for (const auto& c : classes) {
    if (c.label == label) return &c;
  }
  return nullptr;
}

Status ValidateTrafficProfile(const TrafficProfile& p) {
  if (p.format_version != kProfileFormatVersion) {
    return Status::Validation(fmt::format("unsupported traffic profile format_version {} (expected {})",
                                          p.format_version, kProfileFormatVersion),
                              std::string(kFormatHint));
  }
  if (p.features.empty()) return Status::Validation("traffic profile has no features", std::string(kFormatHint));
  for (const auto& f : p.features) {
    if (!flow::FindFeature(f)) {
      return Status::Validation(fmt::format("traffic profile feature '{}' is not a canonical flow feature", f),
                                "see docs/formats/flows.md for the canonical names");
    }
  }
  if (p.classes.empty()) return Status::Validation("traffic profile has no classes", std::string(kFormatHint));
  const size_t d = p.features.size();
  for (const auto& c : p.classes) {
    if (!(c.spread > 0 && c.spread <= 1)) {
      return Status::Validation(fmt::format("class '{}': spread {} outside (0, 1]", c.label, c.spread),
                                std::string(kFormatHint));
    }
    if (c.components.empty()) {
      return Status::Validation(fmt::format("class '{}' has no components", c.label), std::string(kFormatHint));
    }
    for (const auto& k : c.components) {
      if (k.marginals.size() != d || k.correlation.size() != d * d) {
        return Status::Validation(
            fmt::format("class '{}': expected {} marginals and a {}x{} correlation", c.label, d, d, d),
            std::string(kFormatHint));
      }
      if (!(k.weight >= 0 && k.weight <= 1)) {
        return Status::Validation(fmt::format("class '{}': component weight outside [0, 1]", c.label),
                                  std::string(kFormatHint));
      }
      for (size_t j = 0; j < d; ++j) {
        Status s = ValidateMarginal(k.marginals[j]);
        if (!s.ok()) {
          return Status::Validation(fmt::format("class '{}', feature '{}': {}", c.label, p.features[j], s.message()),
                                    std::string(kFormatHint));
        }
      }
      for (double r : k.correlation) {
        if (!(r >= -1.0001 && r <= 1.0001)) {
          return Status::Validation(fmt::format("class '{}': correlation outside [-1, 1]", c.label),
                                    std::string(kFormatHint));
        }
      }
    }
    for (const auto& k : c.components) {
      for (const auto& [proto, share] : k.protocols) {
        if (proto < 0 || proto > 255 || !(share >= 0 && share <= 1)) {
          return Status::Validation(fmt::format("class '{}': bad protocol share {}={}", c.label, proto, share),
                                    std::string(kFormatHint));
        }
      }
    }
  }
  return Status::Ok();
}

std::string SerializeTrafficProfile(const TrafficProfile& p) {
  json root;
  root["format"] = kProfileFormatName;
  root["format_version"] = p.format_version;
  root["created_at"] = p.created_at;
  root["source_files"] = p.source_files;
  root["features"] = p.features;
  json classes = json::array();
  const size_t d = p.features.size();
  for (const auto& c : p.classes) {
    json jc;
    jc["label"] = c.label;
    jc["rows"] = c.rows;
    jc["spread"] = Round6(c.spread);
    json components = json::array();
    for (const auto& k : c.components) {
      json jk;
      jk["weight"] = Round6(k.weight);
      jk["rows"] = k.rows;
      json protocols = json::object();
      for (const auto& [proto, share] : k.protocols) protocols[std::to_string(proto)] = Round6(share);
      jk["protocols"] = std::move(protocols);
      json marginals = json::array();
      for (const auto& m : k.marginals) marginals.push_back(MarginalToJson(m));
      jk["marginals"] = std::move(marginals);
      json upper = json::array();
      for (size_t i = 0; i < d; ++i) {
        for (size_t t = i + 1; t < d; ++t) upper.push_back(Round4(k.correlation[i * d + t]));
      }
      jk["correlation_upper"] = std::move(upper);
      components.push_back(std::move(jk));
    }
    jc["components"] = std::move(components);
    classes.push_back(std::move(jc));
  }
  root["classes"] = std::move(classes);
  return root.dump();
}

Result<TrafficProfile> ParseTrafficProfile(std::string_view text) {
  TrafficProfile p;
  try {
    const json root = json::parse(text);
    if (root.at("format").get<std::string>() != kProfileFormatName) {
      return Status::Validation(fmt::format("not a traffic profile (format is not '{}')", kProfileFormatName),
                                std::string(kFormatHint));
    }
    p.format_version = root.at("format_version").get<int>();
    p.created_at = root.value("created_at", "");
    p.source_files = root.value("source_files", std::vector<std::string>{});
    p.features = root.at("features").get<std::vector<std::string>>();
    const size_t d = p.features.size();
    for (const auto& jc : root.at("classes")) {
      ClassProfile c;
      c.label = jc.at("label").get<std::string>();
      c.rows = jc.at("rows").get<uint64_t>();
      c.spread = jc.value("spread", 1.0);
      for (const auto& jk : jc.at("components")) {
        Component k;
        k.weight = jk.at("weight").get<double>();
        k.rows = jk.at("rows").get<uint64_t>();
        for (const auto& [proto, share] : jk.at("protocols").items()) k.protocols[std::stoi(proto)] = share.get<double>();
        for (const auto& jm : jk.at("marginals")) {
          auto m = MarginalFromJson(jm);
          if (!m.ok()) return m.status();
          k.marginals.push_back(std::move(*m));
        }
        const auto upper = jk.at("correlation_upper").get<std::vector<double>>();
        if (upper.size() != d * (d - 1) / 2) {
          return Status::Validation(fmt::format("class '{}': correlation_upper has {} entries, expected {}", c.label,
                                                upper.size(), d * (d - 1) / 2),
                                    std::string(kFormatHint));
        }
        k.correlation.assign(d * d, 0.0);
        size_t next = 0;
        for (size_t i = 0; i < d; ++i) {
          k.correlation[i * d + i] = 1.0;
          for (size_t t = i + 1; t < d; ++t) {
            k.correlation[i * d + t] = k.correlation[t * d + i] = upper[next++];
          }
        }
        c.components.push_back(std::move(k));
      }
      p.classes.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    return Status::Validation(fmt::format("malformed traffic profile: {}", e.what()), std::string(kFormatHint));
  }
  THREATD_RETURN_IF_ERROR(ValidateTrafficProfile(p));
  return p;
}

Result<TrafficProfile> ReadTrafficProfile(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  if (ml::LooksGzipped(*bytes)) {
    auto plain = ml::GzipDecompress(*bytes, kMaxProfileBytes);
    if (!plain.ok()) return plain.status().WithContext(path);
    *bytes = std::move(*plain);
  }
  auto profile = ParseTrafficProfile(*bytes);
  if (!profile.ok()) return profile.status().WithContext(path);
  return profile;
}

Status WriteTrafficProfile(const TrafficProfile& profile, const std::string& path) {
  THREATD_RETURN_IF_ERROR(ValidateTrafficProfile(profile));
  std::string bytes = SerializeTrafficProfile(profile);
  if (std::filesystem::path(path).extension() == ".gz") bytes = ml::GzipCompress(bytes);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::InvalidArgument(fmt::format("cannot write traffic profile '{}'", path), "check the directory exists and is writable");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Status::Internal(fmt::format("short write to '{}'", path), "check free disk space");
  return Status::Ok();
}

}  // namespace threatd::sim
