#include "api/prediction_json.h"

#include <cmath>

#include "common/clock.h"
#include "flow/features.h"

namespace threatd::api {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json TimeOrNull(const std::optional<Clock::WallTime>& t) {
  return t ? nlohmann::json(FormatIso8601(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json TrafficDataJson(const storage::TrafficDataRecord& t) {
  nlohmann::json features = nlohmann::json::object();
  if (t.feature_names) {
    const auto& names = *t.feature_names;
    for (size_t i = 0; i < names.size() && i < t.feature_values.size(); ++i) {
      const double v = t.feature_values[i];
      features[names[i]] = std::isfinite(v) ? nlohmann::json(flow::FeatureJsonValue(v)) : nlohmann::json(nullptr);
    }
  }
  return {{"id", t.id},
          {"features", std::move(features)},
          {"source", t.source},
          {"batch_id", OrNull(t.batch_id)},
          {"created_at", FormatIso8601(t.created_at)},
          {"label", OrNull(t.label)},
          {"src_ip", OrNull(t.src_ip)},
          {"dst_ip", OrNull(t.dst_ip)},
          {"src_port", OrNull(t.src_port)},
          {"dst_port", OrNull(t.dst_port)},
          {"protocol", OrNull(t.protocol)}};
}

nlohmann::json ThreatJson(const storage::ThreatPredictionRecord& t) {
  return {{"id", t.id},
          {"traffic_data_id", t.traffic_data_id},
          {"prediction_score", t.prediction_score},
          {"is_attack", t.is_attack},
          {"threshold", t.threshold},
          {"model_version", t.model_version},
          {"created_at", FormatIso8601(t.created_at)}};
}

nlohmann::json AttackJson(const storage::AttackPredictionRecord& a) {
  return {{"id", a.id},
          {"traffic_data_id", a.traffic_data_id},
          {"attack_type_encoded", a.attack_type_encoded},
          {"attack_type_name", a.attack_type_name},
          {"confidence", OrNull(a.confidence)},
          {"model_version", a.model_version},
          {"created_at", FormatIso8601(a.created_at)}};
}

nlohmann::json ActionJson(const storage::ActionRecord& a) {
  nlohmann::json params = nullptr;
  if (a.action_params_json) params = nlohmann::json::parse(*a.action_params_json, nullptr, false);
  if (params.is_discarded()) params = nullptr;
  return {{"id", a.id},
          {"attack_prediction_id", OrNull(a.attack_prediction_id)},
          {"action_type", a.action_type},
          {"action_description", a.action_description},
          {"action_params", std::move(params)},
          {"status", a.status},
          {"created_at", FormatIso8601(a.created_at)},
          {"execution_time", TimeOrNull(a.execution_time)},
          {"error_message", OrNull(a.error_message)},
          {"target", a.target},
          {"origin", a.origin},
          {"mode", a.mode},
          {"expires_at", TimeOrNull(a.expires_at)}};
}

nlohmann::json CompleteJson(const storage::CompletePrediction& p) {
  return {{"traffic_data", TrafficDataJson(p.traffic_data)},
          {"threat_prediction", p.threat_prediction ? ThreatJson(*p.threat_prediction) : nlohmann::json(nullptr)},
          {"attack_prediction", p.attack_prediction ? AttackJson(*p.attack_prediction) : nlohmann::json(nullptr)},
          {"self_healing_action",
           p.self_healing_action ? ActionJson(*p.self_healing_action) : nlohmann::json(nullptr)}};
}

nlohmann::json CompleteListJson(const std::vector<storage::CompletePrediction>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : rows) out.push_back(CompleteJson(p));
  return out;
}

nlohmann::json DistributionJson(const storage::Distribution& d) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, n] : d.counts) out[name] = n;
  return out;
}

nlohmann::json UploadBatchJson(const storage::UploadBatchRecord& b) {
  nlohmann::json summary = nullptr;
  if (b.summary_json) summary = nlohmann::json::parse(*b.summary_json, nullptr, false);
  if (summary.is_discarded()) summary = nullptr;
  return {{"batch_id", b.batch_id},
          {"filename", b.filename},
          {"status", b.status},
          {"row_count", b.stored_flows},
          {"total_rows", b.total_rows},
          {"accepted_rows", b.accepted_rows},
          {"rejected_rows", b.rejected_rows},
          {"uploaded_at", FormatIso8601(b.created_at)},
          {"finished_at", TimeOrNull(b.finished_at)},
          {"created_by", OrNull(b.created_by)},
          {"error", OrNull(b.error)},
          {"summary", std::move(summary)}};
}

}  // namespace threatd::api
