// Agent: `threatd agent` - a remote enforcement point. It consumes the
// self-healing decisions that detection instances publish to
// kafka.topic_actions and enforces them with a local EnforcementBackend
// (nftables by default), so one detection cluster protects a fleet of
// gateways.
//
// Convergence: every start (and every partition assignment) reads the topic
// from the EARLIEST offset, never from committed offsets (the agent commits
// nothing). The replay only builds the state (DecisionFollower); once every
// assigned partition has reached its end the backend is reconciled to it in
// one transaction, then events are enforced as they arrive. So a restarted
// agent converges to exactly the decisions in force. This needs the topic
// to retain events at least as long as the longest decision lasts
// (retention.ms >= the escalation ladder's cap, 7 days: use 8 days;
// docs/kafka-producers.md). The default group id threatd-agent-<hostname> gives every
// agent all partitions; agents must not share a group id.
//
// Start() never waits for the brokers: the consumer thread keeps polling
// while librdkafka reconnects; errors are logged and shown in HealthCheck().
// A fatal client error stops the agent: Fatal() then holds the reason.
//
// Ownership: owns the consumer handle, its thread and the follower (and
// through it the backend).
// Thread-safety: Start/Stop from one thread; Stats/HealthCheck/Fatal from any.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "healing/backend.h"
#include "kafka/client.h"
#include "kafka/decision_follower.h"

namespace threatd::kafka {

struct AgentOptions {
  ClusterSettings cluster;
  std::string topic = "self-healing-actions";     // kafka.topic_actions
  std::string group_id;                           // "" = DefaultAgentGroupId()
  std::chrono::milliseconds tick{250};            // local expiry checks
  Properties extra;                               // further librdkafka consumer properties
};

// "threatd-agent-<hostname>".
std::string DefaultAgentGroupId();

class Agent {
 public:
  Agent(AgentOptions options, std::unique_ptr<healing::EnforcementBackend> backend, Clock& clock,
        metrics::Registry& registry);
  ~Agent();  // Stop(false)
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the backend (its error says what to do, e.g. nftables missing),
  // creates the consumer and its thread. Does not wait for the brokers.
  Status Start();
  // Stops consuming; the backend's state stays (cleanup=false: nftables
  // elements keep their timeouts) or is removed (cleanup=true). Idempotent.
  void Stop(bool cleanup = false);

  // Set when the agent stopped itself on a fatal error.
  std::optional<Status> Fatal() const;
  const std::string& group_id() const { return options_.group_id; }
  FollowerStats Stats() const { return follower_.Stats(); }
  // {"status", "topic", "group_id", "assigned_partitions", "last_error",
  //  "follower": {...}}
  nlohmann::json HealthCheck() const;

  struct Consumer;  // librdkafka callbacks reach it; defined in agent.cpp

 private:
  void Loop();

  AgentOptions options_;
  Clock& clock_;
  DecisionFollower follower_;
  std::unique_ptr<Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  bool stopped_ = false;
  mutable std::mutex mu_;
  std::optional<Status> fatal_;            // guarded by mu_
  std::optional<std::string> last_error_;  // guarded by mu_
};

}  // namespace threatd::kafka
