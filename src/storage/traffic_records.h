// Records of the traffic/prediction tables (TrafficRepository): what the
// pipeline writes and what the prediction API reads.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "flow/dataset.h"
#include "flow/features.h"

namespace threatd::storage {

using WallTime = Clock::WallTime;

struct KafkaPosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

struct NewThreatPrediction {
  double prediction_score = 0;  // detector's P(attack)
  bool is_attack = false;
  double threshold = 0.5;
  std::string model_version;
};

struct NewAttackPrediction {
  int attack_type_encoded = 0;  // the classifier's class index
  std::string attack_type_name;
  std::optional<double> confidence;
  std::string model_version;
};

// One scored flow. Self-healing decisions are not part of the flow write:
// the healing component creates them through DecisionRepository after the
// flows are stored (decision_repository.h).
struct NewScoredFlow {
  std::array<float, flow::kFeatureCount> features{};  // canonical order, NaN = absent
  flow::RowIdentifiers ids;
  std::string label;                    // ground truth from the input, may be empty
  std::optional<KafkaPosition> kafka;   // for idempotent Kafka ingestion
  WallTime created_at;                  // distinct per flow (the pipeline ensures it)
  NewThreatPrediction threat;
  std::optional<NewAttackPrediction> attack;
};

struct ScoredFlowBatch {
  std::string source;                   // upload, realtime, external_kafka, test_stream
  std::optional<std::string> batch_id;  // upload batch id
  // Canonical feature indices stored in traffic_data.features, in order
  // (the feature_schemas row); empty = all kFeatureCount canonical features.
  std::vector<uint16_t> stored_features;
  std::vector<NewScoredFlow> flows;
};

struct StoredFlowIds {
  int64_t traffic_data_id = 0;
  int64_t threat_prediction_id = 0;
  int64_t attack_prediction_id = 0;  // 0 when the flow has no attack prediction
  bool duplicate = false;            // its Kafka position was already stored; nothing written
};

// --- Read side (the prediction API) ---

// A stored flow. Features are named by the row's feature_schemas entry
// (shared between rows of the same schema); NaN marks an absent value.
struct TrafficDataRecord {
  int64_t id = 0;
  WallTime created_at;
  std::string source;
  std::optional<std::string> batch_id;
  std::shared_ptr<const std::vector<std::string>> feature_names;  // never null once read
  std::vector<double> feature_values;                             // same length as *feature_names
  std::optional<std::string> label;
  std::optional<std::string> src_ip;
  std::optional<std::string> dst_ip;
  std::optional<int64_t> src_port;
  std::optional<int64_t> dst_port;
  std::optional<int64_t> protocol;
};

struct ThreatPredictionRecord {
  int64_t id = 0;
  int64_t traffic_data_id = 0;
  double prediction_score = 0;
  bool is_attack = false;
  double threshold = 0.5;
  std::string model_version;
  WallTime created_at;
};

struct AttackPredictionRecord {
  int64_t id = 0;
  int64_t traffic_data_id = 0;
  int64_t attack_type_encoded = 0;
  std::string attack_type_name;
  std::optional<double> confidence;
  std::string model_version;
  WallTime created_at;
};

// A self_healing_actions row as the prediction API shows it (the full
// decision, with its history, is DecisionRepository's Decision).
struct ActionRecord {
  int64_t id = 0;
  std::optional<int64_t> attack_prediction_id;  // null for manual decisions and once retention removed the prediction
  std::string action_type;
  std::string action_description;
  std::optional<std::string> action_params_json;
  std::string status;
  WallTime created_at;
  std::optional<WallTime> execution_time;
  std::optional<std::string> error_message;
  std::string target;  // empty for rows written before decisions had targets
  std::string origin;  // automatic, manual, api
  std::string mode;    // enforce, simulate
  std::optional<WallTime> expires_at;
};

// A flow with everything decided about it (the original's
// CompletePredictionResponse). The action is the newest one of the flow's
// attack prediction.
struct CompletePrediction {
  TrafficDataRecord traffic_data;
  std::optional<ThreatPredictionRecord> threat_prediction;
  std::optional<AttackPredictionRecord> attack_prediction;
  std::optional<ActionRecord> self_healing_action;
};

// Filters of the list queries; every filter is applied before LIMIT/OFFSET.
// Times are inclusive bounds on the listed table's created_at. Which fields a
// query honours is stated at the query (TrafficRepository).
struct PredictionFilter {
  int64_t limit = 100;  // 1..1000
  int64_t offset = 0;   // >= 0
  std::optional<WallTime> since;
  std::optional<WallTime> until;
  std::optional<std::string> source;
  std::optional<std::string> batch_id;
  bool attacks_only = false;               // threat_predictions.is_attack
  std::optional<std::string> attack_type;  // attack_type_name, exact
  std::optional<std::string> action_type;  // action_type, exact
  bool oldest_first = false;               // default newest first (created_at, id)
};

struct TimeRange {
  std::optional<WallTime> since;
  std::optional<WallTime> until;
};

// Counts by name, largest first (ties by name), and their sum.
struct Distribution {
  std::vector<std::pair<std::string, int64_t>> counts;
  int64_t total = 0;
};

// Flows over time: [since, until] cut into `buckets` equal buckets
// (TrafficRepository::Timeline; CheckTimelineQuery states the limits).
struct TimelineQuery {
  WallTime since;
  WallTime until;          // inclusive; later than since
  int64_t buckets = 60;    // 1..kMaxTimelineBuckets
};
inline constexpr int64_t kMaxTimelineBuckets = 500;

// One bucket: threat predictions created in [start, end) - the last bucket
// also holds `until` itself - and how many of them are attacks.
struct TimelineBucket {
  WallTime start;
  WallTime end;
  int64_t total = 0;
  int64_t attacks = 0;
};

// A source address by the attack flows it sent (TrafficRepository::TopSources).
struct SourceActivity {
  std::string src_ip;
  int64_t attacks = 0;
  WallTime last_seen;                          // its newest attack flow
  std::optional<std::string> top_attack_type;  // most frequent class; none when no flow was classified
};
inline constexpr int64_t kMaxTopSources = 100;

struct PredictionStats {
  int64_t total_predictions = 0;  // stored flows with a threat prediction
  int64_t total_attacks = 0;      // of which is_attack
  int64_t total_normal = 0;
  double attack_rate = 0;         // percent, 0..100, rounded to 2 decimals
  Distribution attack_types;      // attack predictions, BENIGN excluded
  std::vector<CompletePrediction> recent;  // newest 20
};

// --- Upload batches ---

inline constexpr std::string_view kBatchProcessing = "processing";
inline constexpr std::string_view kBatchCompleted = "completed";
inline constexpr std::string_view kBatchFailed = "failed";

struct NewUploadBatch {
  std::string batch_id;  // caller-chosen (a UUID), <= 64 chars
  std::string filename;
  std::optional<std::string> created_by;
  WallTime created_at;
};

struct UploadBatchOutcome {
  std::string status;  // kBatchCompleted or kBatchFailed
  int64_t total_rows = 0;
  int64_t accepted_rows = 0;
  int64_t rejected_rows = 0;
  std::optional<std::string> summary_json;  // a JSON object (counts by class/reason, examples)
  std::optional<std::string> error;
  WallTime finished_at;
};

struct UploadBatchRecord {
  std::string batch_id;
  std::string filename;
  std::string status;  // processing | completed | failed
  int64_t total_rows = 0;
  int64_t accepted_rows = 0;
  int64_t rejected_rows = 0;
  std::optional<std::string> summary_json;
  std::optional<std::string> error;
  WallTime created_at;
  std::optional<WallTime> finished_at;
  std::optional<std::string> created_by;
  int64_t stored_flows = 0;  // traffic_data rows carrying this batch id
};

}  // namespace threatd::storage
