// Shared ground for the FlowConsumer tests: a real pipeline (shipped default
// models, SQLite) whose stored batches are recorded by Kafka position, so a
// test can say "every produced message stored exactly once".
//
// Thread-safety: StoredLog is filled by pipeline workers and read by the test
// thread under its mutex.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "integration/kafka/topic_reader.h"
#include "common/metrics.h"
#include "kafka/flow_consumer.h"
#include "pipeline/pipeline.h"
#include "storage/database.h"
#include "support/shipped_models.h"

namespace threatd::kafka::testing {

using threatd::testing::ShippedModelProvider;
using threatd::testing::ShippedModels;

// Counts how often each (partition, offset) was stored as a NEW row.
class StoredLog final : public pipeline::PipelineObserver {
 public:
  void OnStored(const storage::ScoredFlowBatch& batch, const std::vector<storage::StoredFlowIds>& ids) override {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < batch.flows.size(); ++i) {
      const auto& k = batch.flows[i].kafka;
      if (!k) continue;
      if (ids[i].duplicate) {
        ++duplicates_;
        continue;
      }
      ++stored_[{k->topic + "/" + std::to_string(k->partition), k->offset}];
      ++rows_;
      sources_[batch.source]++;
    }
  }
  size_t rows() const {
    std::lock_guard lock(mu_);
    return rows_;
  }
  size_t duplicates() const {
    std::lock_guard lock(mu_);
    return duplicates_;
  }
  // Positions stored more than once (must stay 0: the storage dedupes).
  size_t stored_twice() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [pos, count] : stored_) n += count > 1 ? 1 : 0;
    return n;
  }
  size_t from_source(const std::string& s) const {
    std::lock_guard lock(mu_);
    auto it = sources_.find(s);
    return it == sources_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, int> stored_;
  std::map<std::string, size_t> sources_;
  size_t rows_ = 0;
  size_t duplicates_ = 0;
};

// A flow message in the original's flat 42-feature spelling (a subset).
inline std::string FlowJson(int i) {
  return nlohmann::json{{" Destination Port", 80 + i % 5},
                        {" Flow Duration", 1000 + i},
                        {" Total Fwd Packets", 1 + i % 7},
                        {" Total Backward Packets", i % 3},
                        {"Flow Bytes/s", 100.5 * (1 + i % 11)},
                        {" Flow Packets/s", 10 + i % 13},
                        {" Flow IAT Mean", 50 + i % 17},
                        {"FIN Flag Count", i % 2},
                        {" ACK Flag Count", i % 4}}
      .dump();
}

// Pipeline + SQLite database + recorder, one per test.
class PipelineHarness {
 public:
  PipelineHarness() {
    storage::StorageOptions so;
    so.url = "sqlite::memory:";
    auto db = storage::OpenDatabase(so, registry);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    EXPECT_TRUE(db_->Migrate().ok());
    pipeline = std::make_unique<pipeline::Pipeline>(pipeline::PipelineOptions{.queue_capacity = 8, .workers = 2},
                                                    models, db_->Traffic(), Clock::System(), registry);
    pipeline->AddObserver(&log);
  }
  ~PipelineHarness() { pipeline->Stop(); }

  FlowConsumer::SubmitFn Submit() {
    return [p = pipeline.get()](pipeline::FlowBatch b) { return p->Submit(std::move(b)); };
  }
  storage::Database& db() { return *db_; }
  int64_t StoredRows() {
    auto s = db_->Traffic().Stats({});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? s->total_predictions : -1;
  }

  metrics::Registry registry;
  ShippedModelProvider models;  // the shipped models; a test may Set(nullptr)
  StoredLog log;
  std::unique_ptr<pipeline::Pipeline> pipeline;

 private:
  std::unique_ptr<storage::Database> db_;
};

// Consumer options for tests: short waits so failures show quickly.
inline FlowConsumerOptions TestOptions(const std::string& bootstrap, const std::string& topic,
                                       const std::string& group) {
  FlowConsumerOptions o;
  o.name = "internal";
  o.source = "realtime";
  o.cluster.bootstrap_servers = bootstrap;
  o.topic = topic;
  o.group_id = group;
  o.batch_max_messages = 500;
  o.batch_wait = std::chrono::milliseconds(20);
  o.degraded_window = std::chrono::milliseconds(2000);
  o.backoff_max = std::chrono::milliseconds(4000);
  o.stop_wait = std::chrono::milliseconds(10000);
  o.consumer_properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"},
                           {"topic.metadata.refresh.interval.ms", "1000"}};
  return o;
}

// Reading a topic back (dead-letter checks): the shared test reader.
using threatd::testing::ReadTopic;

// Sum of the committed offsets in a snapshot (-1 = none counts as 0).
inline int64_t CommittedTotal(const ConsumerSnapshot& s) {
  int64_t n = 0;
  for (const auto& p : s.partitions) n += p.committed > 0 ? p.committed : 0;
  return n;
}

}  // namespace threatd::kafka::testing
