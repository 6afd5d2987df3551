// JSON shapes of the prediction records, compatible with the original API
// (original-system-inventory.md §1.1): TrafficData, ThreatPrediction,
// AttackPrediction, SelfHealingAction and Complete, plus upload batches.
// Times are ISO-8601 UTC with a 'Z'; a NaN/Inf feature is null. Shared by
// the prediction, upload and realtime routes.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "storage/traffic_records.h"

namespace threatd::api {

nlohmann::json TrafficDataJson(const storage::TrafficDataRecord& t);
nlohmann::json ThreatJson(const storage::ThreatPredictionRecord& t);
nlohmann::json AttackJson(const storage::AttackPredictionRecord& a);
nlohmann::json ActionJson(const storage::ActionRecord& a);
// {traffic_data, threat_prediction|null, attack_prediction|null, self_healing_action|null}
nlohmann::json CompleteJson(const storage::CompletePrediction& p);
nlohmann::json CompleteListJson(const std::vector<storage::CompletePrediction>& rows);
// {name: count, ...}
nlohmann::json DistributionJson(const storage::Distribution& d);
// One upload batch (the original's {batch_id,row_count,uploaded_at} plus
// status, counts, summary, error, finished_at, created_by).
nlohmann::json UploadBatchJson(const storage::UploadBatchRecord& b);

}  // namespace threatd::api
