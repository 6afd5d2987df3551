#include "auth/api_key_service.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <mutex>

#include "common/sha256.h"

namespace threatd::auth {
namespace {

constexpr std::string_view kKeyTag = "tdk_";
constexpr size_t kPrefixLen = 12;
constexpr size_t kSecretLen = 32;
constexpr size_t kMaxCacheEntries = 10'000;
constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool IsBase62(std::string_view s) {
  for (char c : s)
    if (kBase62.find(c) == std::string_view::npos) return false;
  return true;
}

Result<std::string> RandomBase62(size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof buf) != 1) return Status::Internal("the system random generator failed");
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 62 * 4: keep the distribution uniform
      out += kBase62[b % 62];
      if (out.size() == n) break;
    }
  }
  return out;
}

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return Status::Internal("the system random generator failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

bool SplitKey(std::string_view token, std::string_view* prefix, std::string_view* secret) {
  if (token.size() != kKeyTag.size() + kPrefixLen + 1 + kSecretLen || !token.starts_with(kKeyTag)) return false;
  token.remove_prefix(kKeyTag.size());
  if (token[kPrefixLen] != '_') return false;
  *prefix = token.substr(0, kPrefixLen);
  *secret = token.substr(kPrefixLen + 1);
  return IsBase62(*prefix) && IsBase62(*secret);
}

ApiKeyService::ApiKeyService(storage::ApiKeyRepository& repo, Clock& clock, metrics::Registry& registry,
                             std::chrono::milliseconds cache_ttl)
    : repo_(repo),
      clock_(clock),
      cache_ttl_(cache_ttl),
      auth_ok_(registry.GetCounter("threatd_auth_attempts_total", "API key verifications", {{"result", "ok"}})),
      auth_failed_(registry.GetCounter("threatd_auth_attempts_total", "API key verifications", {{"result", "failed"}})) {}

Result<CreatedKey> ApiKeyService::Create(std::string_view name, Role role, std::optional<std::string> created_by) {
  if (name.empty() || name.size() > 100)
    return Status::Validation("an API key name must be 1 to 100 characters", "e.g. --name ci-dashboard");
  if (role == Role::kPublic) return Status::Validation("role must be viewer, operator or admin");
  auto prefix = RandomBase62(kPrefixLen);
  auto secret = RandomBase62(kSecretLen);
  auto salt = RandomHex(16);
  if (!prefix.ok()) return prefix.status();
  if (!secret.ok()) return secret.status();
  if (!salt.ok()) return salt.status();

  storage::NewApiKey key;
  key.name = std::string(name);
  key.prefix = *prefix;
  key.salt = *salt;
  key.key_hash = Sha256Hex(*salt + *secret);
  key.role = role;
  key.created_by = std::move(created_by);
  key.created_at = clock_.Now();
  auto record = repo_.InsertApiKey(key);
  if (!record.ok()) return record.status();
  return CreatedKey{std::move(record).value(), fmt::format("{}{}_{}", kKeyTag, *prefix, *secret)};
}

Result<Principal> ApiKeyService::Authenticate(std::string_view token) {
  const std::string cache_key = Sha256Hex(token);
  const auto now = clock_.Monotonic();
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end() && it->second.expires > now) {
      auth_ok_.Inc();
      return it->second.principal;
    }
  }
  auto fail = [this]() -> Status {
    auth_failed_.Inc();
    return Status::Unauthenticated("invalid or revoked API key",
                                   "send 'Authorization: Bearer tdk_...'; create keys with `threatd keys create`");
  };
  std::string_view prefix, secret;
  if (!SplitKey(token, &prefix, &secret)) return fail();
  auto found = repo_.FindApiKeyByPrefix(prefix);
  if (!found.ok()) return found.status();
  if (!found->has_value() || !(*found)->active()) return fail();
  const auto& rec = **found;
  const std::string hash = Sha256Hex(rec.salt + std::string(secret));
  if (hash.size() != rec.key_hash.size() || CRYPTO_memcmp(hash.data(), rec.key_hash.data(), hash.size()) != 0)
    return fail();

  Principal p{rec.id, rec.name, rec.role};
  (void)repo_.TouchApiKey(rec.id, clock_.Now());  // best effort; never fails a request
  {
    std::unique_lock lock(cache_mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[cache_key] = CacheEntry{p, now + cache_ttl_};
  }
  auth_ok_.Inc();
  return p;
}

Status ApiKeyService::Revoke(int64_t id) {
  Status s = repo_.RevokeApiKey(id, clock_.Now());
  std::unique_lock lock(cache_mu_);
  cache_.clear();
  return s;
}

Result<std::vector<storage::ApiKeyRecord>> ApiKeyService::List() { return repo_.ListApiKeys(); }

Result<std::optional<CreatedKey>> ApiKeyService::BootstrapAdminIfNone() {
  auto count = repo_.CountActiveApiKeys();
  if (!count.ok()) return count.status();
  if (*count > 0) return std::optional<CreatedKey>{};
  auto created = Create("bootstrap-admin", Role::kAdmin, std::string("system"));
  if (!created.ok()) return created.status();
  return std::optional<CreatedKey>{std::move(created).value()};
}

}  // namespace threatd::auth
