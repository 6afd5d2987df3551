// UploadService: runs CSV uploads, synchronously (the caller waits for the
// report) or in the background (the body is first spooled to a file under
// the spool directory, then processed by a thread of this service while
// progress goes to the progress sink - the WebSocket hub's batch_progress).
//
// Ownership: references to the pipeline, models, repository and clock (they
// outlive the service); owns the background threads and spool files.
// Thread-safety: all methods are thread-safe. Upload() blocks for the whole
// upload; UploadAsync() blocks only to check the header.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "ingest/csv_upload.h"

namespace threatd::ingest {

class UploadService {
 public:
  using ProgressSink = std::function<void(const UploadProgress&)>;

  UploadService(pipeline::Pipeline& pipeline, pipeline::ModelProvider& models, storage::TrafficRepository& traffic,
                Clock& clock, UploadOptions defaults, std::string spool_dir);
  ~UploadService();  // Stop()

  // Set once at start-up, before uploads run.
  void SetProgressSink(ProgressSink sink) { progress_ = std::move(sink); }

  // The whole upload on the calling thread. On failure the Status explains it
  // and the report (if the header was read) says what happened; nothing of a
  // failed upload stays stored.
  std::pair<std::optional<UploadReport>, Status> Upload(std::unique_ptr<flow::ByteSource> source,
                                                        std::string filename,
                                                        std::optional<std::string> created_by);

  // A fresh spool file path for an async upload's body.
  Result<std::string> NewSpoolPath();
  // Checks the spooled file's header, then processes it in the background
  // and deletes it when done. Returns the batch id.
  Result<std::string> UploadAsync(std::string spool_path, std::string filename,
                                  std::optional<std::string> created_by);

  // Waits for background uploads. Idempotent.
  void Stop();

 private:
  pipeline::Pipeline& pipeline_;
  pipeline::ModelProvider& models_;
  storage::TrafficRepository& traffic_;
  Clock& clock_;
  const UploadOptions defaults_;
  const std::string spool_dir_;
  ProgressSink progress_;

  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);
  };
  // Joins the jobs that have finished (called with mu_ held).
  void ReapLocked();

  std::mutex mu_;
  std::list<Job> jobs_;   // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
};

// A random RFC 4122 version-4 UUID (the original's batch ids).
std::string NewBatchId();

}  // namespace threatd::ingest
