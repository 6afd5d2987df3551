#include "ingest/test_stream.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "flow/features.h"
#include "flow/labels.h"

namespace threatd::ingest {
namespace {

constexpr double kMaxRate = 10000;                          // flows per second
constexpr double kBatchSeconds = 0.1;                       // at most ~100 ms of flows per batch
constexpr auto kPollSlice = std::chrono::milliseconds(20);  // real time between looks at the Clock
constexpr auto kMaxLag = std::chrono::seconds(1);           // behind schedule by more: re-anchor, no burst

bool KnownModelType(std::string_view t) { return t == "attack_classification" || t == "threat_detection"; }

Status BadModelType(std::string_view t) {
  return Status::Validation(
      fmt::format("Invalid model_type '{}'. Use 'threat_detection' or 'attack_classification'", t),
      "attack_classification sends attack flows only; threat_detection a realistic mix (80 % BENIGN)");
}

Status SourceDisabled() {
  return Status::Conflict("the internal_kafka data source (internal test data stream) is disabled",
                          "enable it: PATCH /api/v1/config/sources/internal_kafka {\"is_enabled\": true}");
}

}  // namespace

struct TestStream::Run {
  StreamRequest request;
  Clock::WallTime started_at;
  std::optional<sim::FlowGenerator> generator;  // used by the stream thread only
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  bool running = true;                      // guarded by TestStream::mu_
  bool stop = false;                        // guarded by TestStream::mu_
  std::optional<std::string> stop_reason;   // guarded by TestStream::mu_
  std::optional<std::string> last_error;    // guarded by TestStream::mu_
};

TestStream::TestStream(Sink sink, std::shared_ptr<const sim::TrafficProfile> profile, SourceStates& sources,
                       Clock& clock, std::string profile_error)
    : sink_(std::move(sink)),
      profile_(std::move(profile)),
      sources_(sources),
      clock_(clock),
      profile_error_(std::move(profile_error)) {
  subscription_ = sources_.Subscribe([this](const std::string& name, bool enabled) { OnSourceChange(name, enabled); });
}

TestStream::~TestStream() {
  sources_.Unsubscribe(subscription_);
  Stop();
}

Result<std::map<std::string, double>> TestStream::MixFor(const StreamRequest& request) const {
  if (!request.attack_mix.empty()) return request.attack_mix;  // FlowGenerator validates the names and weights
  std::optional<double> fraction = request.attack_fraction;
  if (!fraction && request.model_type == "attack_classification") fraction = 1.0;
  if (!fraction) return std::map<std::string, double>{};  // the generator's default mix
  if (!(*fraction >= 0 && *fraction <= 1))
    return Status::Validation(fmt::format("attack_mix must be a fraction from 0 to 1, got {}", *fraction),
                              "or give weights by class, e.g. {\"BENIGN\": 0.7, \"DDoS\": 0.3}");
  std::map<std::string, double> mix;
  std::vector<std::string> attacks;
  for (const auto& c : profile_->classes) {
    if (c.label != flow::kBenignLabel) attacks.push_back(c.label);
  }
  if (*fraction > 0 && attacks.empty()) return Status::Validation("the traffic profile has no attack classes");
  if (*fraction < 1 && !profile_->FindClass(flow::kBenignLabel))
    return Status::Validation("the traffic profile has no BENIGN class; use attack_mix 1 or class weights");
  if (*fraction < 1) mix[std::string(flow::kBenignLabel)] = 1 - *fraction;
  for (const auto& a : attacks) mix[a] = *fraction / static_cast<double>(attacks.size());
  return mix;
}

Status TestStream::Start(const StreamRequest& request) {
  if (request.count < 0) return Status::Validation("count must be 0 (until stopped) or a positive number of flows");
  if (!(request.rate > 0 && request.rate <= kMaxRate))
    return Status::Validation(fmt::format("the stream rate must be above 0 and at most {} flows/s, got {}", kMaxRate,
                                          request.rate),
                              "interval is seconds per flow (e.g. 0.5); rate is flows per second");
  if (!KnownModelType(request.model_type)) return BadModelType(request.model_type);
  if (!profile_) return Status::Unavailable("no traffic profile is loaded: " + profile_error_);
  auto mix = MixFor(request);
  if (!mix.ok()) return mix.status();

  std::unique_lock lock(mu_);
  if (run_ && run_->running) {
    return Status::Conflict(
        fmt::format("a test stream is already running ({} of {} flows sent)", run_->sent.load(),
                    run_->request.count == 0 ? std::string("unlimited") : std::to_string(run_->request.count)),
        "stop it first: POST /api/v1/test/stop-stream");
  }
  if (!sources_.IsEnabled(kInternalKafkaSource)) return SourceDisabled();

  sim::GeneratorOptions options;
  options.seed = seed_++;
  options.mix = std::move(mix).value();
  options.rate_per_second = request.rate;
  options.start_time_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch()).count();
  auto generator = sim::FlowGenerator::Create(profile_, std::move(options));
  if (!generator.ok()) return Status::Validation(generator.status().message(), generator.status().hint());

  if (thread_.joinable()) thread_.join();  // the last stream already ended (running == false)
  auto run = std::make_shared<Run>();
  run->request = request;
  run->started_at = clock_.Now();
  run->generator.emplace(std::move(generator).value());
  run_ = run;
  sources_.SetRunning(kInternalKafkaSource, true, fmt::format("test stream at {} flows/s", request.rate));
  thread_ = std::thread([this, run] { Loop(run); });
  return Status::Ok();
}

void TestStream::Stop() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    if (run_ && run_->running && !run_->stop) {
      run_->stop = true;
      run_->stop_reason = "stopped by request";
    }
    t = std::move(thread_);
  }
  wake_.notify_all();
  if (t.joinable()) t.join();
}

void TestStream::OnSourceChange(const std::string& name, bool enabled) {
  if (name != kInternalKafkaSource || enabled) return;
  {
    std::lock_guard lock(mu_);
    if (!run_ || !run_->running || run_->stop) return;
    run_->stop = true;
    run_->stop_reason = "the internal_kafka source was disabled";
  }
  wake_.notify_all();
}

void TestStream::Loop(std::shared_ptr<Run> run) {
  const StreamRequest& req = run->request;
  const auto per_batch = static_cast<uint64_t>(std::max(1.0, std::floor(req.rate * kBatchSeconds)));
  auto next_due = clock_.Monotonic();
  while (true) {
    {
      std::unique_lock lock(mu_);
      while (!run->stop) {
        const auto now = clock_.Monotonic();
        if (now >= next_due) break;
        // Real-time slices, re-reading the Clock: a FakeClock moves without notifying.
        wake_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(next_due - now, kPollSlice));
      }
      if (run->stop) break;
      if (!sources_.IsEnabled(kInternalKafkaSource)) {
        run->stop_reason = "the internal_kafka source was disabled";
        break;
      }
    }
    const uint64_t done = run->sent + run->failed;
    const uint64_t n = req.count == 0 ? per_batch : std::min<uint64_t>(per_batch, req.count - done);
    pipeline::FlowBatch batch;
    batch.source = std::string(kTestStreamSource);
    batch.flows.reserve(n);
    for (uint64_t i = 0; i < n; ++i) batch.flows.push_back(run->generator->Next());
    const Status s = sink_(std::move(batch));
    if (s.ok()) {
      run->sent += n;
    } else {
      run->failed += n;
      std::lock_guard lock(mu_);
      run->last_error = s.ToString();
      if (!s.retryable()) {
        run->stop_reason = "the pipeline refused the flows: " + s.message();
        break;
      }
    }
    if (req.count > 0 && run->sent + run->failed >= static_cast<uint64_t>(req.count)) break;
    next_due += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(static_cast<double>(n) / req.rate));
    const auto now = clock_.Monotonic();
    if (now - next_due > kMaxLag) next_due = now;
  }
  {
    std::lock_guard lock(mu_);
    run->running = false;
  }
  sources_.SetRunning(kInternalKafkaSource, false, fmt::format("test stream ended after {} flows", run->sent.load()));
}

Result<SingleFlowResult> TestStream::SendSingle(std::string_view model_type, std::chrono::milliseconds timeout) {
  if (!KnownModelType(model_type)) return BadModelType(model_type);
  if (!profile_) return Status::Unavailable("no traffic profile is loaded: " + profile_error_);
  if (!sources_.IsEnabled(kInternalKafkaSource)) return SourceDisabled();

  flow::FlowRecord record;
  {
    std::lock_guard lock(single_mu_);
    auto it = single_generators_.find(model_type);
    if (it == single_generators_.end()) {
      StreamRequest req;
      req.model_type = std::string(model_type);
      auto mix = MixFor(req);
      if (!mix.ok()) return mix.status();
      sim::GeneratorOptions options;
      options.mix = std::move(mix).value();
      options.seed = 0x5eed + single_generators_.size();
      auto gen = sim::FlowGenerator::Create(profile_, std::move(options));
      if (!gen.ok()) return gen.status();
      it = single_generators_.emplace(std::string(model_type), std::move(gen).value()).first;
    }
    record = it->second.Next();
  }
  record.ids.timestamp_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.Now().time_since_epoch()).count();

  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<pipeline::BatchResult> result;
  };
  auto wait = std::make_shared<Wait>();  // shared: `done` may run after a timeout
  pipeline::FlowBatch batch;
  batch.source = std::string(kTestStreamSource);
  batch.flows.push_back(record);
  batch.done = [wait](const pipeline::BatchResult& r) {
    std::lock_guard lock(wait->mu);
    wait->result = r;
    wait->cv.notify_all();
  };
  THREATD_RETURN_IF_ERROR(sink_(std::move(batch)));
  std::unique_lock lock(wait->mu);
  if (!wait->cv.wait_for(lock, timeout, [&] { return wait->result.has_value(); }))
    return Status::Timeout(fmt::format("the pipeline did not store the test flow within {} ms", timeout.count()),
                           "check /api/v1/health/detailed for the pipeline's queue and last error");
  if (!wait->result->status.ok()) return wait->result->status;
  return SingleFlowResult{std::move(record), *wait->result};
}

StreamStatus TestStream::Snapshot() const {
  std::lock_guard lock(mu_);
  StreamStatus s;
  if (!run_) return s;
  s.running = run_->running;
  s.sent = run_->sent;
  s.failed = run_->failed;
  s.count = run_->request.count;
  s.rate = run_->request.rate;
  s.model_type = run_->request.model_type;
  s.started_at = run_->started_at;
  s.stop_reason = run_->stop_reason;
  s.last_error = run_->last_error;
  return s;
}

nlohmann::json TestStream::HealthCheck() const {
  const StreamStatus s = Snapshot();
  nlohmann::json j = {{"status", profile_ ? "ok" : "degraded"}, {"running", s.running}, {"sent", s.sent},
                      {"failed", s.failed}, {"rate", s.rate}};
  if (!profile_) j["detail"] = "no traffic profile: " + profile_error_;
  if (s.last_error) j["last_error"] = *s.last_error;
  return j;
}

Result<std::shared_ptr<const sim::TrafficProfile>> LoadTrafficProfile(const std::string& assets_dir) {
  const std::string path = (std::filesystem::path(assets_dir) / "models" / "traffic_profile.json.gz").string();
  auto profile = sim::ReadTrafficProfile(path);
  if (!profile.ok()) return profile.status().WithContext(fmt::format("loading the test stream profile {}", path));
  return std::shared_ptr<const sim::TrafficProfile>(
      std::make_shared<const sim::TrafficProfile>(std::move(profile).value()));
}

nlohmann::json FlowJson(const flow::FlowRecord& flow) {
  nlohmann::json features = nlohmann::json::object();
  const auto& names = flow::CanonicalFeatures();
  for (size_t i = 0; i < flow::kFeatureCount; ++i) {
    if (!std::isnan(flow.features[i])) features[std::string(names[i].name)] = flow::FeatureJsonValue(flow.features[i]);
  }
  nlohmann::json j = {{"flow_id", flow.ids.flow_id},   {"src_ip", flow.ids.src_ip},
                      {"dst_ip", flow.ids.dst_ip},     {"src_port", flow.ids.src_port},
                      {"dst_port", flow.ids.dst_port}, {"protocol", flow.ids.protocol},
                      {"label", flow.label},           {"features", features}};
  j["timestamp"] = flow.ids.timestamp_us > 0
                       ? nlohmann::json(FormatIso8601(Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(
                             std::chrono::microseconds(flow.ids.timestamp_us)))))
                       : nlohmann::json(nullptr);
  return j;
}

}  // namespace threatd::ingest
