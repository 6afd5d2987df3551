#include "ingest/upload_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <random>

namespace threatd::ingest {

namespace fs = std::filesystem;

std::string NewBatchId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  const uint64_t hi = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  const uint64_t lo = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFull);
}

UploadService::UploadService(pipeline::Pipeline& pipeline, pipeline::ModelProvider& models,
                             storage::TrafficRepository& traffic, Clock& clock, UploadOptions defaults,
                             std::string spool_dir)
    : pipeline_(pipeline),
      models_(models),
      traffic_(traffic),
      clock_(clock),
      defaults_(std::move(defaults)),
      spool_dir_(std::move(spool_dir)) {}

UploadService::~UploadService() { Stop(); }

std::pair<std::optional<UploadReport>, Status> UploadService::Upload(std::unique_ptr<flow::ByteSource> source,
                                                                     std::string filename,
                                                                     std::optional<std::string> created_by) {
  UploadOptions o = defaults_;
  o.created_by = std::move(created_by);
  CsvUpload upload(pipeline_, models_, traffic_, clock_, o);
  if (Status s = upload.Open(std::move(source), std::move(filename), NewBatchId()); !s.ok()) return {std::nullopt, s};
  auto [report, status] = upload.Run(progress_);
  return {std::move(report), std::move(status)};
}

Result<std::string> UploadService::NewSpoolPath() {
  std::error_code ec;
  fs::create_directories(spool_dir_, ec);
  if (ec)
    return Status::Unavailable(fmt::format("cannot create the upload spool directory '{}': {}", spool_dir_,
                                           ec.message()),
                               "check data_dir's permissions and free space");
  return (fs::path(spool_dir_) / (NewBatchId() + ".upload")).string();
}

Result<std::string> UploadService::UploadAsync(std::string spool_path, std::string filename,
                                               std::optional<std::string> created_by) {
  auto remove_spool = [](const std::string& p) {
    std::error_code ec;
    fs::remove(p, ec);
  };
  auto file = flow::OpenFileSource(spool_path);
  if (!file.ok()) {
    remove_spool(spool_path);
    return file.status();
  }
  std::unique_ptr<flow::ByteSource> source = std::move(file).value();
  if (filename.size() > 3 && filename.ends_with(".gz")) source = flow::MakeGzipSource(std::move(source));
  UploadOptions o = defaults_;
  o.created_by = std::move(created_by);
  auto upload = std::make_shared<CsvUpload>(pipeline_, models_, traffic_, clock_, o);
  const std::string batch_id = NewBatchId();
  if (Status s = upload->Open(std::move(source), std::move(filename), batch_id); !s.ok()) {
    remove_spool(spool_path);
    return s;
  }
  std::lock_guard lock(mu_);
  if (stopped_) {
    remove_spool(spool_path);
    return Status::Unavailable("the service is shutting down", "upload again after the restart");
  }
  ReapLocked();
  Job& job = jobs_.emplace_back();
  job.thread = std::thread([this, upload, spool_path, remove_spool, finished = job.finished] {
    auto [report, status] = upload->Run(progress_);
    if (!status.ok()) spdlog::warn("upload {} failed: {}", report.batch_id, status.ToString());
    remove_spool(spool_path);
    *finished = true;
  });
  return batch_id;
}

void UploadService::ReapLocked() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (*it->finished) {
      it->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void UploadService::Stop() {
  std::list<Job> jobs;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    jobs.swap(jobs_);
  }
  for (auto& j : jobs) j.thread.join();
}

}  // namespace threatd::ingest
