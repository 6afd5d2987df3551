#include "ingest/csv_upload.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "flow/features.h"
#include "flow/flow_csv_stream.h"

namespace threatd::ingest {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Counts the bytes the CSV reader pulls (upload progress).
class CountingSource final : public flow::ByteSource {
 public:
  CountingSource(std::unique_ptr<flow::ByteSource> inner, std::shared_ptr<std::atomic<uint64_t>> count)
      : inner_(std::move(inner)), count_(std::move(count)) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    auto n = inner_->Read(buffer, capacity);
    if (n.ok()) count_->fetch_add(*n, std::memory_order_relaxed);
    return n;
  }

 private:
  std::unique_ptr<flow::ByteSource> inner_;
  std::shared_ptr<std::atomic<uint64_t>> count_;
};

}  // namespace

std::vector<std::string> RequiredFeatures(const ml::ModelSet& models) {
  std::set<std::string> names;
  for (const auto* m : {models.detector.get(), models.classifier.get()}) {
    if (m == nullptr) continue;
    for (uint16_t i : m->feature_index) names.emplace(flow::CanonicalFeatures()[i].name);
  }
  return {names.begin(), names.end()};
}

nlohmann::json UploadReport::ToJson() const {
  nlohmann::json rejected = nlohmann::json::object();
  for (const auto& [reason, r] : rejected_by_reason) {
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : r.examples)
      examples.push_back({{"row", e.row}, {"line", e.line}, {"column", e.column}, {"value", e.value},
                          {"message", e.ToString()}});
    rejected[reason] = {{"count", r.count}, {"examples", std::move(examples)}};
  }
  nlohmann::json j = {
      {"message", status == "completed" ? fmt::format("Successfully processed {} rows", accepted_rows)
                                        : fmt::format("Upload failed; nothing was stored: {}", error.value_or(""))},
      {"batch_id", batch_id},
      {"filename", filename},
      {"status", status},
      {"total_rows", total_rows},
      {"accepted_rows", accepted_rows},
      {"rejected_rows", rejected_rows},
      {"attacks", attacks},
      {"bytes", bytes},
      {"seconds", seconds},
      {"rows_per_second", seconds > 0 ? static_cast<double>(total_rows) / seconds : 0.0},
      {"by_class", by_class},
      {"by_label", by_label},
      {"rejected_by_reason", std::move(rejected)},
      {"columns",
       {{"matched_features", matched_features},
        {"ignored", ignored_columns},
        {"duplicates", duplicate_columns},
        {"missing_values", missing_values}}},
  };
  if (error) j["error"] = *error;
  return j;
}

struct CsvUpload::State {
  std::unique_ptr<flow::FlowCsvStream> stream;
  std::shared_ptr<std::atomic<uint64_t>> bytes = std::make_shared<std::atomic<uint64_t>>(0);
  std::vector<uint16_t> stored_features;
  UploadReport report;
  SteadyClock::time_point started;

  std::mutex mu;
  std::condition_variable idle;
  size_t in_flight = 0;                 // guarded by mu
  uint64_t stored = 0;                  // guarded by mu
  std::optional<Status> batch_error;    // guarded by mu: the first failed batch
};

CsvUpload::CsvUpload(pipeline::Pipeline& pipeline, pipeline::ModelProvider& models, storage::TrafficRepository& traffic,
                     Clock& clock, UploadOptions options)
    : pipeline_(pipeline), models_(models), traffic_(traffic), clock_(clock), options_(std::move(options)) {}

Status CsvUpload::Open(std::unique_ptr<flow::ByteSource> source, std::string filename, std::string batch_id) {
  auto state = std::make_shared<State>();
  state->started = SteadyClock::now();
  const auto set = models_.Current();
  if (!set || !set->detector)
    return Status::Unavailable("no threat detector model is active, so the upload cannot be scored",
                               "activate one: POST /api/v1/models/{id}/activate (GET /api/v1/models lists them)");
  flow::FlowStreamOptions fo;
  fo.required_features = RequiredFeatures(*set);
  auto stream = flow::FlowCsvStream::Open(std::make_unique<CountingSource>(std::move(source), state->bytes), fo);
  if (!stream.ok()) {
    const Status& s = stream.status();
    if (s.code() == ErrorCode::kValidation)
      return Status::Validation(
          fmt::format("the CSV lacks columns the active models need: {}", s.message()),
          "upload CICFlowMeter flows (CIC-IDS2017/2018 MachineLearningCVE or TrafficLabelling layout); "
          "GET /api/v1/models/profile/threat_detector lists the expected features");
    return Status::InvalidArgument(fmt::format("the file is not a readable CSV: {}", s.message()),
                                   "upload a comma-separated text file with a header row");
  }
  state->stream = std::move(stream).value();
  const auto& mapping = state->stream->mapping();
  for (size_t i = 0; i < flow::kFeatureCount; ++i)
    if (mapping.has_feature(i)) state->stored_features.push_back(static_cast<uint16_t>(i));

  auto& r = state->report;
  r.batch_id = std::move(batch_id);
  r.filename = std::move(filename);
  r.matched_features = mapping.matched_features();
  // The label column is read (by_label), not ignored.
  const int label_col = state->stream->has_label() ? state->stream->label_column() : -1;
  for (const auto& c : mapping.ignored_columns)
    if (label_col < 0 || c != state->stream->header()[static_cast<size_t>(label_col)]) r.ignored_columns.push_back(c);
  r.duplicate_columns = mapping.duplicate_columns;
  THREATD_RETURN_IF_ERROR(
      traffic_.CreateUploadBatch({r.batch_id, r.filename, options_.created_by, clock_.Now()}));
  state_ = std::move(state);
  return Status::Ok();
}

std::pair<UploadReport, Status> CsvUpload::Run(const ProgressFn& progress) {
  State& st = *state_;
  UploadReport& r = st.report;
  auto last_progress = SteadyClock::now();
  auto report_progress = [&](bool finished) {
    if (!progress) return;
    uint64_t stored;
    {
      std::lock_guard lock(st.mu);
      stored = st.stored;
    }
    progress({r.batch_id, st.bytes->load(), r.total_rows, stored, finished});
  };

  pipeline::FlowBatch batch;
  auto submit = [&]() -> Status {
    if (batch.flows.empty()) return Status::Ok();
    batch.source = "upload";
    batch.batch_id = r.batch_id;
    batch.stored_features = st.stored_features;
    batch.done = [state = state_](const pipeline::BatchResult& res) {
      std::lock_guard lock(state->mu);
      if (res.status.ok()) {
        state->stored += res.stored;
        state->report.attacks += res.attacks;
        for (const auto& [c, n] : res.by_class) state->report.by_class[c] += n;
      } else if (!state->batch_error) {
        state->batch_error = res.status;
      }
      --state->in_flight;
      state->idle.notify_all();
    };
    {
      std::lock_guard lock(st.mu);
      ++st.in_flight;
    }
    Status s = pipeline_.Submit(std::move(batch));
    if (!s.ok()) {
      std::lock_guard lock(st.mu);
      --st.in_flight;
    }
    batch = pipeline::FlowBatch{};
    batch.flows.reserve(options_.batch_size);
    return s;
  };
  batch.flows.reserve(options_.batch_size);

  Status failure;
  while (failure.ok()) {
    auto item = st.stream->Next();
    if (!item.ok()) {
      failure = Status::InvalidArgument(
          fmt::format("the CSV is malformed after row {}: {}", r.total_rows, item.status().message()),
          "fix the file (an unterminated quote or binary data) and upload it again; nothing was stored");
      break;
    }
    if (*item == flow::FlowCsvStream::Item::kEnd) break;
    ++r.total_rows;
    if (*item == flow::FlowCsvStream::Item::kRowError) {
      const auto& e = st.stream->row_error();
      auto& rej = r.rejected_by_reason[e.reason];
      ++rej.count;
      if (rej.examples.size() < options_.max_examples) rej.examples.push_back(e);
      ++r.rejected_rows;
    } else {
      const auto& rec = st.stream->record();
      ++r.accepted_rows;
      if (!rec.label.empty()) ++r.by_label[rec.label];
      batch.flows.push_back(rec);
      if (batch.flows.size() >= options_.batch_size) failure = submit();
    }
    if ((r.total_rows & 1023) == 0) {
      {
        std::lock_guard lock(st.mu);
        if (st.batch_error) failure = *st.batch_error;
      }
      const auto now = SteadyClock::now();
      if (now - last_progress > std::chrono::milliseconds(500)) {
        last_progress = now;
        report_progress(false);
      }
    }
  }
  if (failure.ok()) failure = submit();
  {
    std::unique_lock lock(st.mu);
    st.idle.wait(lock, [&] { return st.in_flight == 0; });
    if (failure.ok() && st.batch_error) failure = *st.batch_error;
  }
  if (failure.ok() && r.accepted_rows == 0)
    failure = Status::Validation(
        r.total_rows == 0 ? "the CSV has a header but no data rows" : "every row of the CSV was rejected",
        r.total_rows == 0 ? "upload a file with at least one flow row"
                          : "see rejected_by_reason for the first examples of each problem");

  const auto& stats = st.stream->column_stats();
  for (uint16_t i : st.stored_features)
    if (stats[i].missing > 0) r.missing_values[std::string(flow::CanonicalFeatures()[i].name)] = stats[i].missing;
  r.bytes = st.bytes->load();
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - st.started).count();

  storage::UploadBatchOutcome outcome;
  outcome.total_rows = static_cast<int64_t>(r.total_rows);
  outcome.accepted_rows = static_cast<int64_t>(r.accepted_rows);
  outcome.rejected_rows = static_cast<int64_t>(r.rejected_rows);
  outcome.finished_at = clock_.Now();
  if (failure.ok()) {
    r.status = "completed";
  } else {
    // All-or-nothing: remove what earlier batches stored.
    r.status = "failed";
    r.error = failure.message();
    if (auto d = traffic_.DeleteBatchFlows(r.batch_id); !d.ok())
      r.error = fmt::format("{} (and removing its stored rows failed: {})", *r.error, d.status().message());
    r.by_class.clear();
    r.attacks = 0;
  }
  outcome.status = r.status;
  outcome.error = r.error;
  outcome.summary_json = r.ToJson().dump();
  if (Status f = traffic_.FinishUploadBatch(r.batch_id, outcome); !f.ok() && failure.ok()) failure = f;
  report_progress(true);
  return {std::move(r), std::move(failure)};
}

}  // namespace threatd::ingest
