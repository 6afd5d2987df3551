// TrafficRepository: flows and what threatd decided about them - the
// traffic_data, threat_predictions, attack_predictions and
// self_healing_actions rows - plus upload batches and retention.
//
// Write side (the pipeline): InsertScoredFlows stores a batch of scored flows
// (traffic and predictions; self-healing decisions are written separately
// through DecisionRepository) in ONE transaction: either every row of the
// batch is stored or none. Flows that carry a Kafka position already stored
// (UNIQUE topic/partition/offset) are skipped and reported as duplicates, so
// a redelivered message never produces a second row.
//
// Upload batches record each CSV upload (status, counts, summary). Retention
// deletes old traffic and old decisions no longer in force in bounded
// transactions.
//
// Read side (the REST API): see the query methods below; every query applies
// its filters before LIMIT/OFFSET and runs as one SQL statement (no N+1).
//
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/traffic_records.h"

namespace threatd::storage {

// Timeline limits: 1..kMaxTimelineBuckets buckets, since < until, and every
// bucket at least kMinTimelineBucket wide. InvalidArgument naming the fix.
inline constexpr std::chrono::seconds kMinTimelineBucket{1};
Status CheckTimelineQuery(const TimelineQuery& q);

class TrafficRepository {
 public:
  virtual ~TrafficRepository() = default;

  // Stores every flow of `batch` with its predictions in one transaction.
  // out (resized to batch.flows.size()) receives the new row ids; a
  // duplicate Kafka position yields StoredFlowIds{.duplicate = true}.
  // Validation for malformed input (e.g. a stored_features index out of
  // range), Unavailable when the database is down or the write queue full.
  virtual Status InsertScoredFlows(const ScoredFlowBatch& batch, std::vector<StoredFlowIds>* out) = 0;

  // --- Read side. limit 1..1000 and offset >= 0, else InvalidArgument. ---

  // Flows joined with their threat, attack and newest action, ordered by
  // traffic_data.created_at (newest first unless filter.oldest_first).
  // Honours every PredictionFilter field (times on traffic_data.created_at).
  virtual Result<std::vector<CompletePrediction>> ListPredictions(const PredictionFilter& filter) = 0;
  // One flow by traffic_data.id; nullopt when it does not exist.
  virtual Result<std::optional<CompletePrediction>> GetPrediction(int64_t traffic_data_id) = 0;
  // A prediction shares its flow's id and created_at (schema v7), and times
  // in every query below are on traffic_data.created_at, the one indexed.
  //
  // threat_predictions newest first; honours limit, offset, since, until, attacks_only.
  virtual Result<std::vector<ThreatPredictionRecord>> ListThreats(const PredictionFilter& filter) = 0;
  // attack_predictions newest first; honours limit, offset, since, until, attack_type.
  virtual Result<std::vector<AttackPredictionRecord>> ListAttacks(const PredictionFilter& filter) = 0;
  // self_healing_actions newest first; honours limit, offset, since, until, action_type.
  virtual Result<std::vector<ActionRecord>> ListActions(const PredictionFilter& filter) = 0;
  // attack_type_name counts, BENIGN (any case) excluded.
  virtual Result<Distribution> AttackDistribution(const TimeRange& range) = 0;
  // action_type counts.
  virtual Result<Distribution> ActionDistribution(const TimeRange& range) = 0;
  // Totals over threat_predictions, the attack distribution and the 20
  // newest complete predictions.
  virtual Result<PredictionStats> Stats(const TimeRange& range) = 0;

  // Dashboard aggregates. An attack flow is one the detector flagged
  // (threat_predictions.is_attack) and the classifier did not call BENIGN
  // (any case) - so, unlike Stats().total_attacks, a flagged flow the
  // classifier overruled does not count.
  //
  // Threat predictions per bucket of q,
  // all q.buckets buckets in time order, empty ones with zero counts; ONE
  // statement grouped by bucket. InvalidArgument unless CheckTimelineQuery(q) passes.
  virtual Result<std::vector<TimelineBucket>> Timeline(const TimelineQuery& q) = 0;
  // The `limit` (1..kMaxTopSources, else InvalidArgument) source addresses
  // with the most attack flows in range (times on traffic_data.created_at),
  // most first (ties: newest last_seen, then address); flows without src_ip
  // are left out. ONE statement; the range applies before the limit.
  virtual Result<std::vector<SourceActivity>> TopSources(const TimeRange& range, int64_t limit) = 0;

  // --- Upload batches (upload_batches table) ---

  // Inserts the batch as 'processing'. Conflict when the id exists.
  virtual Status CreateUploadBatch(const NewUploadBatch& batch) = 0;
  // Records the outcome. NotFound for an unknown id.
  virtual Status FinishUploadBatch(std::string_view batch_id, const UploadBatchOutcome& outcome) = 0;
  // Deletes every traffic row of the batch (predictions go by cascade;
  // decisions stay, their attack_prediction_id set to NULL) in one
  // transaction: the upload's compensation when it fails.
  // Returns the number of traffic rows deleted.
  virtual Result<int64_t> DeleteBatchFlows(std::string_view batch_id) = 0;
  // Newest first.
  virtual Result<std::vector<UploadBatchRecord>> ListUploadBatches(int64_t limit, int64_t offset) = 0;
  virtual Result<std::optional<UploadBatchRecord>> GetUploadBatch(std::string_view batch_id) = 0;
  // At start-up: every batch still 'processing' was abandoned by a crash;
  // deletes its rows and marks it failed. Returns how many batches.
  virtual Result<int64_t> FailAbandonedUploads(WallTime now) = 0;

  // --- Retention ---

  // In one transaction: deletes at most max_rows traffic rows with
  // created_at < cutoff (oldest first; predictions by cascade, decisions
  // keep a NULL attack_prediction_id), and at most max_rows decisions with
  // created_at < cutoff that are finished - any status but pending/applied,
  // so a block is never forgotten before ExpireDecisions or a revoke took
  // it down - with their events (cascade). Returns the traffic rows plus
  // decisions deleted: below max_rows means nothing old is left.
  virtual Result<int64_t> DeleteTrafficBefore(WallTime cutoff, int64_t max_rows) = 0;
};

}  // namespace threatd::storage
