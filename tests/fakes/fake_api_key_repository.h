// An in-memory ApiKeyRepository for unit tests, with a switch that makes every
// call fail as if the database were down.
#pragma once

#include <mutex>
#include <vector>

#include "storage/api_key_repository.h"

namespace threatd::testing {

class FakeApiKeyRepository final : public storage::ApiKeyRepository {
 public:
  bool down = false;  // every call returns Unavailable
  int lookups = 0;    // FindApiKeyByPrefix calls

  Result<storage::ApiKeyRecord> InsertApiKey(const storage::NewApiKey& key) override {
    std::lock_guard lock(mu_);
    if (down) return Down();
    for (const auto& r : rows_)
      if (r.prefix == key.prefix) return Status::Conflict("duplicate prefix");
    storage::ApiKeyRecord r{static_cast<int64_t>(rows_.size() + 1), key.name, key.prefix, key.salt, key.key_hash,
                            key.role, key.created_at, key.created_by, std::nullopt, std::nullopt};
    rows_.push_back(r);
    return r;
  }
  Result<std::optional<storage::ApiKeyRecord>> FindApiKeyByPrefix(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    ++lookups;
    if (down) return Down();
    for (const auto& r : rows_)
      if (r.prefix == prefix) return std::optional<storage::ApiKeyRecord>(r);
    return std::optional<storage::ApiKeyRecord>();
  }
  Result<std::vector<storage::ApiKeyRecord>> ListApiKeys() override {
    std::lock_guard lock(mu_);
    if (down) return Down();
    return rows_;
  }
  Status RevokeApiKey(int64_t id, storage::WallTime at) override {
    std::lock_guard lock(mu_);
    if (down) return Down();
    for (auto& r : rows_)
      if (r.id == id) {
        if (!r.revoked_at) r.revoked_at = at;
        return Status::Ok();
      }
    return Status::NotFound("no API key " + std::to_string(id));
  }
  Result<int64_t> CountActiveApiKeys() override {
    std::lock_guard lock(mu_);
    if (down) return Down();
    int64_t n = 0;
    for (const auto& r : rows_) n += r.active();
    return n;
  }
  Status TouchApiKey(int64_t id, storage::WallTime at) override {
    std::lock_guard lock(mu_);
    for (auto& r : rows_)
      if (r.id == id) r.last_used_at = at;
    return Status::Ok();
  }

 private:
  static Status Down() { return Status::Unavailable("database down"); }
  std::mutex mu_;
  std::vector<storage::ApiKeyRecord> rows_;
};

}  // namespace threatd::testing
