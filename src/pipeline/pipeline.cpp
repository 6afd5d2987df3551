#include "pipeline/pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/thread_name.h"
#include "flow/labels.h"

namespace threatd::pipeline {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kRateWindow = std::chrono::seconds(10);

// Scores `flows` with one ModelSet: detector on every flow, classifier on
// the flows the detector calls attacks.
struct Scores {
  std::vector<float> attack_probability;
  std::vector<int> class_index;  // -1: not classified
  std::vector<float> class_probability;
};

Scores Score(const ml::ModelSet& set, const std::vector<flow::FlowRecord>& flows) {
  const size_t n = flows.size();
  Scores s;
  s.attack_probability.resize(n);
  s.class_index.assign(n, -1);
  s.class_probability.assign(n, 0.f);

  const ml::LoadedModel& det = *set.detector;
  std::vector<float> x(n * det.NumFeatures());
  for (size_t i = 0; i < n; ++i) det.Project(flows[i].features.data(), 1, x.data() + i * det.NumFeatures());
  std::vector<float> proba(n * det.engine->NumOutputs());
  det.engine->PredictProba(x.data(), n, proba.data());
  const float threshold = det.engine->threshold();
  std::vector<size_t> attacks;
  for (size_t i = 0; i < n; ++i) {
    s.attack_probability[i] = proba[i * 2 + 1];
    if (s.attack_probability[i] >= threshold) attacks.push_back(i);
  }
  if (!set.classifier || attacks.empty()) return s;

  const ml::LoadedModel& cls = *set.classifier;
  const size_t k = cls.NumFeatures();
  const size_t m = cls.engine->NumOutputs();
  x.assign(attacks.size() * k, 0.f);
  for (size_t j = 0; j < attacks.size(); ++j) cls.Project(flows[attacks[j]].features.data(), 1, x.data() + j * k);
  proba.assign(attacks.size() * m, 0.f);
  cls.engine->PredictProba(x.data(), attacks.size(), proba.data());
  for (size_t j = 0; j < attacks.size(); ++j) {
    const float* row = proba.data() + j * m;
    const size_t best = static_cast<size_t>(std::max_element(row, row + m) - row);
    s.class_index[attacks[j]] = static_cast<int>(best);
    s.class_probability[attacks[j]] = row[best];
  }
  return s;
}

}  // namespace

struct Pipeline::Impl {
  Impl(PipelineOptions o, ModelProvider& m, storage::TrafficRepository& t, Clock& c,
       metrics::Registry& registry)
      : options(o),
        models(m),
        traffic(t),
        clock(c),
        flows_counter(registry.GetCounter("threatd_pipeline_flows_total", "Flows scored and stored.")),
        attacks_counter(registry.GetCounter("threatd_pipeline_attacks_total", "Flows the detector called attacks.")),
        failed_counter(registry.GetCounter("threatd_pipeline_batches_failed_total", "Batches that failed.")),
        batch_seconds(registry.GetHistogram("threatd_pipeline_batch_seconds",
                                            "Time from a batch's dequeue to its commit.", {},
                                            {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5})) {}

  void Loop();
  void Process(FlowBatch& batch);
  Status Run(FlowBatch& batch, BatchResult& result);
  Clock::WallTime NextTime();
  void Fail(const Status& s);

  const PipelineOptions options;
  ModelProvider& models;
  storage::TrafficRepository& traffic;
  Clock& clock;
  metrics::Counter& flows_counter;
  metrics::Counter& attacks_counter;
  metrics::Counter& failed_counter;
  metrics::Histogram& batch_seconds;

  mutable std::mutex mu;
  std::condition_variable not_empty;
  std::condition_variable not_full;
  std::deque<FlowBatch> queue;  // guarded by mu
  size_t queued_flows = 0;      // guarded by mu
  bool stopping = false;        // guarded by mu
  std::vector<std::thread> workers;
  std::once_flag stopped;

  mutable std::shared_mutex observers_mu;
  std::vector<PipelineObserver*> observers;  // guarded by observers_mu

  mutable std::mutex stats_mu;
  uint64_t flows_total = 0;                                 // guarded by stats_mu
  uint64_t batches_failed = 0;                              // guarded by stats_mu
  std::deque<std::pair<SteadyClock::time_point, uint64_t>> rate;  // guarded by stats_mu: (time, flows_total)
  std::optional<std::string> last_error;                     // guarded by stats_mu
  std::optional<Clock::WallTime> last_error_at;              // guarded by stats_mu

  std::mutex time_mu;
  Clock::WallTime last_time{};  // guarded by time_mu
};

Clock::WallTime Pipeline::Impl::NextTime() {
  std::lock_guard lock(time_mu);
  auto now = clock.Now();
  // Distinct, increasing created_at per flow (the original stamped a whole
  // batch with one transaction time, so order within it was undefined).
  if (now <= last_time) now = last_time + std::chrono::microseconds(1);
  last_time = now;
  return now;
}

void Pipeline::Impl::Fail(const Status& s) {
  failed_counter.Inc();
  std::lock_guard lock(stats_mu);
  ++batches_failed;
  last_error = s.ToString();
  last_error_at = clock.Now();
}

Status Pipeline::Impl::Run(FlowBatch& batch, BatchResult& result) {
  const auto set = models.Current();
  if (!set || !set->detector)
    return Status::Unavailable("no threat detector model is active, so flows cannot be scored",
                               "activate one: POST /api/v1/models/{id}/activate (GET /api/v1/models lists them)");
  if (!batch.kafka.empty() && batch.kafka.size() != batch.flows.size())
    return Status::Internal(fmt::format("batch has {} flows but {} Kafka positions", batch.flows.size(),
                                        batch.kafka.size()));
  const Scores scores = Score(*set, batch.flows);

  storage::ScoredFlowBatch out;
  out.source = std::move(batch.source);
  out.batch_id = std::move(batch.batch_id);
  out.stored_features = std::move(batch.stored_features);
  out.flows.resize(batch.flows.size());
  const float threshold = set->detector->engine->threshold();
  for (size_t i = 0; i < batch.flows.size(); ++i) {
    flow::FlowRecord& in = batch.flows[i];
    storage::NewScoredFlow& f = out.flows[i];
    f.features = in.features;
    f.ids = std::move(in.ids);
    f.label = std::move(in.label);
    if (!batch.kafka.empty()) f.kafka = std::move(batch.kafka[i]);
    f.created_at = NextTime();
    f.threat.prediction_score = scores.attack_probability[i];
    f.threat.is_attack = scores.attack_probability[i] >= threshold;
    f.threat.threshold = threshold;
    f.threat.model_version = set->detector->version;
    std::string_view label;
    if (scores.class_index[i] >= 0) {
      const auto& cls = *set->classifier;
      label = cls.classes[static_cast<size_t>(scores.class_index[i])];
      f.attack = storage::NewAttackPrediction{scores.class_index[i], std::string(label),
                                              scores.class_probability[i], cls.version};
    }
  }

  std::vector<storage::StoredFlowIds> ids;
  THREATD_RETURN_IF_ERROR(traffic.InsertScoredFlows(out, &ids));
  for (size_t i = 0; i < out.flows.size(); ++i) {
    if (ids[i].duplicate) {
      ++result.duplicates;
      continue;
    }
    const auto& f = out.flows[i];
    ++result.stored;
    if (f.threat.is_attack) ++result.attacks;
    ++result.by_class[f.attack ? f.attack->attack_type_name
                               : (f.threat.is_attack ? std::string("ATTACK") : std::string(flow::kBenignLabel))];
  }
  {
    std::shared_lock lock(observers_mu);
    for (auto* o : observers) o->OnStored(out, ids);
  }
  return Status::Ok();
}

void Pipeline::Impl::Process(FlowBatch& batch) {
  const auto start = SteadyClock::now();
  BatchResult result;
  auto done = std::move(batch.done);
  result.status = Run(batch, result);
  batch_seconds.Observe(std::chrono::duration<double>(SteadyClock::now() - start).count());
  if (result.status.ok()) {
    flows_counter.Inc(result.stored);
    attacks_counter.Inc(result.attacks);
    std::lock_guard lock(stats_mu);
    flows_total += result.stored;
    const auto now = SteadyClock::now();
    rate.emplace_back(now, flows_total);
    while (rate.size() > 2 && now - rate.front().first > kRateWindow) rate.pop_front();
  } else {
    spdlog::warn("pipeline batch failed: {}", result.status.ToString());
    Fail(result.status);
  }
  if (done) done(result);
}

void Pipeline::Impl::Loop() {
  while (true) {
    FlowBatch batch;
    {
      std::unique_lock lock(mu);
      not_empty.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping and drained
      batch = std::move(queue.front());
      queue.pop_front();
      queued_flows -= batch.flows.size();
    }
    not_full.notify_one();
    Process(batch);
  }
}

Pipeline::Pipeline(PipelineOptions options, ModelProvider& models, storage::TrafficRepository& traffic, Clock& clock,
                   metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(options, models, traffic, clock, registry)) {
  registry.AddCallbackGauge("threatd_pipeline_queue_depth", "Batches waiting to be scored and stored.", {},
                            [impl = impl_.get()] {
                              std::lock_guard lock(impl->mu);
                              return static_cast<double>(impl->queue.size());
                            });
  const size_t n = std::max<size_t>(1, options.workers);
  for (size_t i = 0; i < n; ++i) impl_->workers.emplace_back([this, i] {
      NameThisThread(fmt::format("pipeline-{}", i));
      impl_->Loop();
    });
}

Pipeline::~Pipeline() { Stop(); }

Status Pipeline::Submit(FlowBatch batch) {
  {
    std::unique_lock lock(impl_->mu);
    const bool room = impl_->not_full.wait_for(lock, impl_->options.submit_timeout, [&] {
      return impl_->stopping || impl_->queue.size() < impl_->options.queue_capacity;
    });
    if (impl_->stopping) return Status::Unavailable("the pipeline is shutting down", "retry after the restart");
    if (!room)
      return Status::Unavailable(
          fmt::format("the pipeline queue stayed full for {} ms: storage is slower than the incoming flows",
                      impl_->options.submit_timeout.count()),
          "retry later; /api/v1/health/detailed shows the pipeline's queue and last error");
    impl_->queued_flows += batch.flows.size();
    impl_->queue.push_back(std::move(batch));
  }
  impl_->not_empty.notify_one();
  return Status::Ok();
}

void Pipeline::AddObserver(PipelineObserver* observer) {
  std::unique_lock lock(impl_->observers_mu);
  impl_->observers.push_back(observer);
}

void Pipeline::RemoveObserver(PipelineObserver* observer) {
  std::unique_lock lock(impl_->observers_mu);
  std::erase(impl_->observers, observer);
}

PipelineSnapshot Pipeline::Snapshot() const {
  PipelineSnapshot s;
  {
    std::lock_guard lock(impl_->mu);
    s.queue_depth = impl_->queue.size();
    s.queued_flows = impl_->queued_flows;
  }
  s.queue_capacity = impl_->options.queue_capacity;
  std::lock_guard lock(impl_->stats_mu);
  s.flows_total = impl_->flows_total;
  s.batches_failed = impl_->batches_failed;
  s.last_error = impl_->last_error;
  s.last_error_at = impl_->last_error_at;
  const auto& r = impl_->rate;
  if (!r.empty()) {
    // Flows over the window up to now (an idle pipeline decays to 0).
    const auto now = SteadyClock::now();
    const auto from = std::max(r.front().first, now - kRateWindow);
    uint64_t base = r.front().second;
    for (const auto& [t, total] : r)
      if (t <= from) base = total;
    const double secs = std::chrono::duration<double>(now - from).count();
    if (secs > 0.05) s.flows_per_second = static_cast<double>(r.back().second - base) / secs;
  }
  return s;
}

void Pipeline::Stop() {
  std::call_once(impl_->stopped, [this] {
    {
      std::lock_guard lock(impl_->mu);
      impl_->stopping = true;
    }
    impl_->not_empty.notify_all();
    impl_->not_full.notify_all();
    for (auto& t : impl_->workers) t.join();
  });
}

}  // namespace threatd::pipeline
