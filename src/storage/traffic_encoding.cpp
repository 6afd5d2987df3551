#include "storage/traffic_encoding.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "flow/features.h"

namespace threatd::storage {

static_assert(std::endian::native == std::endian::little, "features are stored little-endian");

Result<EncodedBatch> EncodeBatch(const ScoredFlowBatch& batch) {
  EncodedBatch e;
  std::vector<uint16_t> indices = batch.stored_features;
  if (indices.empty()) {
    for (uint16_t i = 0; i < flow::kFeatureCount; ++i) indices.push_back(i);
  }
  std::vector<bool> seen(flow::kFeatureCount, false);
  for (uint16_t i : indices) {
    if (i >= flow::kFeatureCount || seen[i])
      return Status::Validation(fmt::format("stored_features index {} is out of range or repeated (0..{})", i,
                                            flow::kFeatureCount - 1));
    seen[i] = true;
    e.names.emplace_back(flow::CanonicalFeatures()[i].name);
  }
  e.names_json = nlohmann::json(e.names).dump();
  e.checksum = Sha256Hex(e.names_json);
  e.features.resize(batch.flows.size());
  // The values are float32 already (FlowRecord): stored as such, after the
  // format byte (docs/formats/database.md, "The features encoding").
  std::vector<float> values(indices.size());
  for (size_t f = 0; f < batch.flows.size(); ++f) {
    const auto& src = batch.flows[f].features;
    for (size_t k = 0; k < indices.size(); ++k) values[k] = src[indices[k]];
    std::string& out = e.features[f];
    out.resize(1 + values.size() * sizeof(float));
    out[0] = kFeaturesFloat32;
    std::memcpy(out.data() + 1, values.data(), values.size() * sizeof(float));
  }
  return e;
}

Status CheckOutcome(const UploadBatchOutcome& o) {
  if (o.status != kBatchCompleted && o.status != kBatchFailed)
    return Status::InvalidArgument(fmt::format("upload batch status must be completed or failed, got '{}'", o.status));
  if (o.total_rows < 0 || o.accepted_rows < 0 || o.rejected_rows < 0)
    return Status::InvalidArgument("upload batch row counts must be >= 0");
  if (o.summary_json && !nlohmann::json::accept(*o.summary_json))
    return Status::InvalidArgument("upload batch summary must be valid JSON");
  return Status::Ok();
}

void FinishStats(PredictionStats* s) {
  s->total_normal = s->total_predictions - s->total_attacks;
  s->attack_rate = s->total_predictions == 0
                       ? 0.0
                       : std::round(10000.0 * static_cast<double>(s->total_attacks) /
                                    static_cast<double>(s->total_predictions)) /
                             100.0;
}

}  // namespace threatd::storage
