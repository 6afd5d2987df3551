// Pipeline: the one path every flow takes, whatever its source (upload, test
// stream, Kafka, later packet capture):
//
//   Submit(FlowBatch) -> bounded queue -> worker: score with ONE ModelSet
//   snapshot (detector, then classifier for detected attacks) -> persist the
//   batch in one transaction -> observers (self-healing, WebSocket hub, later
//   Kafka) -> the batch's `done` callback. Decisions are not made here:
//   healing::Healer observes stored batches (src/healing).
//
// Back-pressure: Submit blocks while the queue is full (storage slower than
// the sources), up to Options::submit_timeout, then fails with Unavailable;
// memory is bounded by queue_capacity batches.
//
// Model swaps: a batch is scored entirely by the ModelSet current when its
// scoring starts (ModelProvider::Current(), one atomic load), so no flow is
// scored by a half-loaded model or by two models.
//
// Ownership: references to the provider, repository, clock and
// registry, which must outlive the pipeline. Observers must outlive it too
// (or be removed before they die).
// Thread-safety: Submit/AddObserver/Snapshot from any thread. `done` and the
// observers run on a pipeline worker thread; they must not block for long.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "flow/flow_csv_stream.h"
#include "ml/loaded_model.h"
#include "storage/traffic_repository.h"

namespace threatd::pipeline {

// Where the scoring models come from (the model registry).
class ModelProvider {
 public:
  virtual ~ModelProvider() = default;
  // The current snapshot; null or without a detector when no model is loaded
  // (batches then fail with Unavailable).
  virtual std::shared_ptr<const ml::ModelSet> Current() const = 0;
};

// Outcome of one batch, given to its `done` callback.
struct BatchResult {
  Status status;                 // Ok: every flow stored (or a known duplicate)
  size_t stored = 0;             // new rows
  size_t duplicates = 0;         // Kafka positions already stored
  size_t attacks = 0;            // detector said attack
  std::map<std::string, size_t> by_class;  // classifier label (or BENIGN) -> flows
};

struct FlowBatch {
  std::string source;                   // upload, realtime, external_kafka, test_stream
  std::optional<std::string> batch_id;  // upload batch id
  std::vector<uint16_t> stored_features;  // canonical indices to store; empty = all
  std::vector<flow::FlowRecord> flows;
  std::vector<std::optional<storage::KafkaPosition>> kafka;  // empty, or one per flow
  std::function<void(const BatchResult&)> done;               // optional
};

// Sees every stored batch (after commit), in commit order per worker.
class PipelineObserver {
 public:
  virtual ~PipelineObserver() = default;
  virtual void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) = 0;
};

struct PipelineSnapshot {
  size_t queue_depth = 0;        // batches waiting
  size_t queue_capacity = 0;
  size_t queued_flows = 0;       // flows in waiting batches
  uint64_t flows_total = 0;      // stored since start
  uint64_t batches_failed = 0;
  double flows_per_second = 0;   // over the last ~10 s
  std::optional<std::string> last_error;
  std::optional<Clock::WallTime> last_error_at;
};

struct PipelineOptions {
  size_t queue_capacity = 64;  // batches
  size_t workers = 1;
  std::chrono::milliseconds submit_timeout{30000};
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, ModelProvider& models, storage::TrafficRepository& traffic, Clock& clock,
           metrics::Registry& registry);
  ~Pipeline();  // Stop()
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Queues a batch; blocks while the queue is full. Unavailable after
  // submit_timeout or once stopped (then `done` is not called).
  Status Submit(FlowBatch batch);
  void AddObserver(PipelineObserver* observer);
  void RemoveObserver(PipelineObserver* observer);
  PipelineSnapshot Snapshot() const;
  // Finishes the queued batches, then stops the workers. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threatd::pipeline
