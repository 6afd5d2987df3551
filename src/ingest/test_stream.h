// TestStream: synthetic flows from sim::FlowGenerator fed into the pipeline
// with source "test_stream" - the original's "Internal test data stream",
// now with a stop, a rate and an attack mix.
//
// One stream at a time: Start() while one runs is a Conflict. The stream
// runs on its own thread and submits batches of at most ~100 ms of flows
// (one flow per batch at 1 flow/s), paced by the Clock's monotonic time, so
// a FakeClock drives it in tests. When the sink blocks (back-pressure) the
// stream slows down rather than bursting afterwards.
//
// The `internal_kafka` source flag (SourceStates) gates it: disabled ->
// Start/SendSingle refuse with Conflict and a running stream stops within
// one second (at once, through the SourceStates subscription). A sink error
// that is not retryable (e.g. the pipeline stopped) ends the stream; a
// retryable one is counted and the stream goes on.
//
// model_type ("attack_classification" | "threat_detection", as in the
// original) picks the default mix when none is given: attack flows only
// for attack_classification (the original sent "attack data"), the
// generator's default (80 % BENIGN) for threat_detection. Every flow is
// scored by both models either way.
//
// Ownership: owns its thread; references the sink target, sources and clock,
// which must outlive it (the destructor stops the stream).
// Thread-safety: every method is thread-safe. Start/Snapshot never block on
// I/O; Stop joins the stream thread (which may be inside the sink);
// SendSingle blocks until the pipeline has stored the flow or the timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "ingest/source_states.h"
#include "pipeline/pipeline.h"
#include "sim/flow_generator.h"
#include "sim/traffic_profile.h"

namespace threatd::ingest {

inline constexpr std::string_view kTestStreamSource = "test_stream";

struct StreamRequest {
  int64_t count = 100;           // flows; 0 = until stopped
  double rate = 1.0;             // flows per second (the API's interval i means 1/i)
  std::string model_type = "attack_classification";
  // Either a fraction of attack flows in [0, 1] (shared equally by the
  // profile's attack classes) or class -> weight; neither: by model_type.
  std::optional<double> attack_fraction;
  std::map<std::string, double> attack_mix;
};

struct StreamStatus {
  bool running = false;
  uint64_t sent = 0;             // flows accepted by the sink in the current/last stream
  uint64_t failed = 0;           // flows whose batch the sink refused
  int64_t count = 0;             // requested (0 = until stopped)
  double rate = 0;               // flows per second
  std::string model_type;
  std::optional<Clock::WallTime> started_at;
  std::optional<std::string> stop_reason;  // why the last stream ended early
  std::optional<std::string> last_error;
};

struct SingleFlowResult {
  flow::FlowRecord flow;
  pipeline::BatchResult result;
};

class TestStream {
 public:
  using Sink = std::function<Status(pipeline::FlowBatch)>;

  // `profile` may be null (then Start/SendSingle fail with Unavailable naming
  // `profile_error`); see LoadTrafficProfile below.
  TestStream(Sink sink, std::shared_ptr<const sim::TrafficProfile> profile, SourceStates& sources, Clock& clock,
             std::string profile_error = {});
  ~TestStream();  // Stop()
  TestStream(const TestStream&) = delete;
  TestStream& operator=(const TestStream&) = delete;

  // Validation for a bad request (count < 0, rate outside (0, 10000],
  // unknown model_type, a mix naming a class the profile lacks); Conflict
  // while a stream runs or when internal_kafka is disabled.
  Status Start(const StreamRequest& request);
  // Stops the running stream (no-op otherwise) and joins its thread.
  void Stop();
  // Generates one flow for model_type, submits it and waits for the pipeline
  // to store it. Validation for an unknown model_type, Conflict when
  // internal_kafka is disabled, Timeout when the pipeline does not answer.
  Result<SingleFlowResult> SendSingle(std::string_view model_type,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  StreamStatus Snapshot() const;

  // {"status": "ok|disabled|error", "running", "sent", ...}
  nlohmann::json HealthCheck() const;

 private:
  struct Run;
  void Loop(std::shared_ptr<Run> run);
  void OnSourceChange(const std::string& name, bool enabled);
  Result<std::map<std::string, double>> MixFor(const StreamRequest& request) const;

  Sink sink_;
  std::shared_ptr<const sim::TrafficProfile> profile_;
  SourceStates& sources_;
  Clock& clock_;
  const std::string profile_error_;
  int subscription_ = 0;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::shared_ptr<Run> run_;       // guarded by mu_: the current or last stream
  std::thread thread_;             // guarded by mu_
  uint64_t seed_ = 1;              // guarded by mu_
  std::mutex single_mu_;           // serialises SendSingle's generator use
  std::map<std::string, sim::FlowGenerator, std::less<>> single_generators_;  // guarded by single_mu_
};

// Reads <assets_dir>/models/traffic_profile.json.gz (shipped next to the
// binary); the error says where it looked.
Result<std::shared_ptr<const sim::TrafficProfile>> LoadTrafficProfile(const std::string& assets_dir);

// JSON of a flow for API responses: identifiers, label and the features by
// canonical name (missing features omitted).
nlohmann::json FlowJson(const flow::FlowRecord& flow);

}  // namespace threatd::ingest
