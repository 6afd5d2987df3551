// CsvUpload: one CSV upload (POST /api/v1/upload/csv) from bytes to stored
// predictions, in constant memory whatever the file size.
//
//   ByteSource -> FlowCsvStream (header mapped onto canonical features; each
//   row accepted or rejected with a reason) -> batches of
//   pipeline.batch_size flows -> Pipeline::Submit (back-pressure: a slow
//   database slows the upload, memory stays bounded) -> report.
//
// Accepted rows are all-or-nothing: the batch is recorded as "processing"
// first; if anything fails (a server error, a broken client connection,
// malformed CSV midway) every row already stored under its batch id is
// deleted and the batch is marked "failed" with the error. A crash midway is
// cleaned up at the next start (TrafficRepository::FailAbandonedUploads).
//
// Ownership: references to the pipeline, repository and clock, which must
// outlive Run(). Thread-safety: one Run() per object; many uploads may run
// concurrently on different objects. Run() blocks (CSV parsing on the
// calling thread, scoring and storing on the pipeline's workers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "flow/byte_source.h"
#include "pipeline/pipeline.h"

namespace threatd::ingest {

struct UploadOptions {
  size_t batch_size = 2048;     // flows per pipeline batch
  size_t max_examples = 5;      // rejected-row examples kept per reason
  std::optional<std::string> created_by;
};

struct UploadProgress {
  std::string batch_id;
  uint64_t bytes_read = 0;
  uint64_t rows_read = 0;
  uint64_t rows_stored = 0;
  bool finished = false;
};

// The upload's outcome: the response body of a synchronous upload and the
// summary stored with the batch.
struct UploadReport {
  std::string batch_id;
  std::string filename;
  std::string status;  // completed | failed
  uint64_t total_rows = 0;
  uint64_t accepted_rows = 0;
  uint64_t rejected_rows = 0;
  uint64_t attacks = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  std::map<std::string, uint64_t> by_class;       // predicted class -> flows
  std::map<std::string, uint64_t> by_label;       // the file's own Label column -> rows
  struct Rejection {
    uint64_t count = 0;
    std::vector<flow::RowError> examples;
  };
  std::map<std::string, Rejection> rejected_by_reason;
  size_t matched_features = 0;
  std::vector<std::string> ignored_columns;
  std::vector<std::string> duplicate_columns;
  std::map<std::string, uint64_t> missing_values;  // feature -> rows with no usable value (NaN, Inf, empty)
  std::optional<std::string> error;

  nlohmann::json ToJson() const;
};

class CsvUpload {
 public:
  using ProgressFn = std::function<void(const UploadProgress&)>;

  CsvUpload(pipeline::Pipeline& pipeline, pipeline::ModelProvider& models, storage::TrafficRepository& traffic,
            Clock& clock, UploadOptions options);

  // Checks the header (before anything is stored): Validation listing the
  // missing columns when the file lacks features the active models need,
  // InvalidArgument when it is not CSV. On success the batch exists as
  // "processing" and Run() must follow.
  Status Open(std::unique_ptr<flow::ByteSource> source, std::string filename, std::string batch_id);

  // Streams every row through the pipeline and waits for the last batch.
  // The report is returned for a failed upload too (status "failed",
  // error set; nothing of it remains stored); the Status is its error.
  std::pair<UploadReport, Status> Run(const ProgressFn& progress = {});

 private:
  struct State;
  pipeline::Pipeline& pipeline_;
  pipeline::ModelProvider& models_;
  storage::TrafficRepository& traffic_;
  Clock& clock_;
  UploadOptions options_;
  std::shared_ptr<State> state_;
};

// The canonical names of the features the active models read (detector and
// classifier), what an upload must provide.
std::vector<std::string> RequiredFeatures(const ml::ModelSet& models);

}  // namespace threatd::ingest
