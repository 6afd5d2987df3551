#include "registry/bundle_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/sha256.h"
#include "ml/gzip.h"

namespace threatd::registry {
namespace fs = std::filesystem;

std::string SafeFileComponent(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 64) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), 'v');
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::NotFound(fmt::format("model file '{}' is missing: {}", path, ec.message()),
                                  "re-upload the model or restore the file from a backup");
  if (size > ml::kMaxBundleBytes)
    return Status::Validation(fmt::format("model file '{}' is {} bytes, over the {} byte limit", path, size,
                                          ml::kMaxBundleBytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable(fmt::format("cannot open model file '{}'", path), "check its permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Result<StoredBundle> BundleStore::Write(const ml::ModelBundle& bundle) const {
  const std::string bytes = ml::GzipCompress(ml::SerializeBundle(bundle));
  StoredBundle out;
  out.sha256 = Sha256Hex(bytes);
  out.size_bytes = static_cast<int64_t>(bytes.size());
  const fs::path type_dir = fs::absolute(fs::path(dir_) / std::string(ml::ModelTypeName(bundle.model_type)));
  std::error_code ec;
  fs::create_directories(type_dir, ec);
  if (ec)
    return Status::Unavailable(fmt::format("cannot create the models directory '{}': {}", type_dir.string(),
                                           ec.message()),
                               "check models.dir exists and is writable by threatd");
  const fs::path final_path =
      type_dir / fmt::format("{}-{}.json.gz", SafeFileComponent(bundle.version), out.sha256.substr(0, 8));
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp = type_dir / fmt::format(".tmp-{}-{}", ::getpid(), counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status::Unavailable(fmt::format("cannot write '{}'", tmp.string()), "check models.dir is writable");
  size_t done = 0;
  bool ok = true;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (ok) {
    fs::rename(tmp, final_path, ec);
    ok = !ec;
  }
  if (!ok) {
    fs::remove(tmp, ec);
    return Status::Unavailable(fmt::format("writing model file '{}' failed", final_path.string()),
                               "check free disk space in models.dir");
  }
  out.path = final_path.string();
  return out;
}

Result<ml::ModelBundle> BundleStore::Read(const std::string& path, std::string_view expected_sha256) const {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  if (!expected_sha256.empty()) {
    const std::string actual = Sha256Hex(*bytes);
    if (actual != expected_sha256)
      return Status::Validation(
          fmt::format("model file '{}' has SHA-256 {} but the registry recorded {}: it was modified on disk", path,
                      actual, expected_sha256),
          "re-upload the model (the registry never scores a file whose checksum changed)");
  }
  auto bundle = ml::ParseBundle(*bytes);
  if (!bundle.ok()) return bundle.status().WithContext(fmt::format("model file '{}'", path));
  return bundle;
}

Status BundleStore::Remove(const std::string& path) const {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(dir_), ec);
  const fs::path target = fs::weakly_canonical(fs::absolute(path), ec);
  const auto rel = target.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") {
    return Status::Ok();  // not ours (e.g. a file registered elsewhere): leave it alone
  }
  fs::remove(target, ec);
  if (ec) return Status::Unavailable(fmt::format("cannot remove '{}': {}", target.string(), ec.message()));
  return Status::Ok();
}

}  // namespace threatd::registry
