// BundleStore: the model bundle files of the registry on disk.
//
// Layout: <models_dir>/<model_type>/<version>-<sha8>.json.gz, where sha8 is
// the first 8 hex digits of the file's SHA-256 (the full digest is kept in
// ml_models.sha256). Whatever the upload format, the stored file is always a
// gzip'ed threatd bundle. Writes are atomic: a temp file in the same
// directory, fsync, rename. Reads re-verify the SHA-256 of the bytes before
// parsing, so a file changed on disk is refused, never scored.
//
// Ownership: a value holding the directory path. Thread-safety: methods are
// safe to call concurrently (distinct temp names). Blocking: file I/O.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "ml/bundle.h"

namespace threatd::registry {

struct StoredBundle {
  std::string path;    // absolute
  std::string sha256;  // of the file bytes, lower-case hex
  int64_t size_bytes = 0;
};

class BundleStore {
 public:
  explicit BundleStore(std::string models_dir) : dir_(std::move(models_dir)) {}

  // Serialises `bundle` (gzip) and stores it atomically under the layout above.
  Result<StoredBundle> Write(const ml::ModelBundle& bundle) const;
  // Reads `path`, checks SHA-256(bytes) == expected_sha256 (skipped when
  // empty), parses and validates. NotFound when the file is gone, Validation
  // on a checksum mismatch or a bad bundle.
  Result<ml::ModelBundle> Read(const std::string& path, std::string_view expected_sha256) const;
  // Removes a stored file; refuses paths outside the models directory.
  Status Remove(const std::string& path) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// "2026.11.1 (beta)" -> "2026.11.1__beta_": only [A-Za-z0-9._-], at most 64 chars.
std::string SafeFileComponent(std::string_view text);

// Reads a whole file (bounded by ml::kMaxBundleBytes); NotFound when missing.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace threatd::registry
