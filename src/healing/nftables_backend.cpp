#include "healing/nftables_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "healing/nft_context.h"
#include "healing/nft_interval_set.h"
#include "healing/nft_ruleset.h"

namespace threatd::healing {
namespace {

using nft::Key;
using nft::Range;
using nft::SetId;


int64_t ToMs(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Sorted, merged (touching ranges joined) copy of `ranges`.
std::vector<Range> Union(std::vector<Range> ranges, Key max_key) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const auto& r : ranges) {
    if (!out.empty() && (out.back().hi == max_key || r.lo <= out.back().hi + 1)) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

bool Covered(const std::vector<Range>& merged, const Range& r) {
  auto it = std::upper_bound(merged.begin(), merged.end(), r.lo, [](Key k, const Range& m) { return k < m.lo; });
  if (it == merged.begin()) return false;
  --it;
  return it->hi >= r.hi;
}

}  // namespace

Status NftablesOptions::Validate() const {
  static const std::regex kName("[A-Za-z][A-Za-z0-9_]{0,31}");
  if (!std::regex_match(table, kName)) {
    return Status::Validation(fmt::format("nftables table name '{}' is invalid", table),
                              "use 1 to 32 letters, digits or '_', starting with a letter (default: threatd)");
  }
  if (chain_priority < -1000 || chain_priority > 1000) {
    return Status::Validation(fmt::format("nftables chain priority {} is out of range", chain_priority),
                              "use -1000..1000 (default -10, before the usual filter chains at 0)");
  }
  if (rate_limit_per_second < 1 || rate_limit_per_second > 1000000) {
    return Status::Validation(fmt::format("nftables rate_limit_per_second {} is out of range", rate_limit_per_second),
                              "use 1..1000000 packets per second per source (default 100)");
  }
  return Status::Ok();
}

struct NftablesBackend::Impl {
  Impl(NftablesOptions o, Clock& c) : options(std::move(o)), clock(c) {
    ruleset.table = options.table;
    ruleset.chain_priority = options.chain_priority;
    ruleset.rate_per_second = options.rate_limit_per_second;
    ResetSets();
  }

  void ResetSets() {
    sets.clear();
    for (size_t i = 0; i < nft::kSetCount; ++i) sets.emplace_back(nft::SetAt(i).family);
  }

  int64_t NowMs() const { return ToMs(clock.Now()); }

  void PurgeExpired(int64_t now) {
    for (auto& s : sets) s.PurgeExpired(now);
  }

  // Stages `item` in the sets (not yet in the kernel).
  void Stage(const Enforcement& item, nft::SetKind kind, int64_t now) {
    const SetId id = nft::SetFor(kind, item.target);
    const size_t index = nft::SetIndex(id);
    for (size_t i = 0; i < sets.size(); ++i) {
      if (i != index) sets[i].Erase(item.decision_id, now);  // the decision changed action or target family
    }
    const int64_t expiry = item.expires_at ? ToMs(*item.expires_at) : nft::kNever;
    if (expiry <= now) {
      sets[index].Erase(item.decision_id, now);  // already over: nothing to enforce
      return;
    }
    const Range r = nft::ToRange(item.target);
    sets[index].Upsert({item.decision_id, r.lo, r.hi, expiry}, now);
    if (kind == nft::SetKind::kRateLimit && item.rate_per_second != 0 &&
        item.rate_per_second != options.rate_limit_per_second) {
      spdlog::warn("nftables: decision {} asks for {}/s; rate_limit uses the backend's {}/s for every source",
                   item.decision_id, item.rate_per_second, options.rate_limit_per_second);
    }
  }

  // The transaction for everything staged: removed elements are first added
  // without a timeout and then deleted (so deleting what the kernel already
  // timed out is not an error), then the new elements are added.
  std::string StagedCommands(int64_t now) const {
    std::string deletes;
    std::string adds;
    for (size_t i = 0; i < sets.size(); ++i) {
      const auto diff = sets[i].PendingDiff(now);
      const SetId id = nft::SetAt(i);
      if (!diff.removed.empty()) {
        std::vector<std::string> texts;
        for (auto s : diff.removed) {
          s.expiry_ms = nft::kNever;
          texts.push_back(nft::ElementText(id, s, now));
        }
        deletes += nft::AddElements(ruleset, id, texts);
        deletes += nft::DeleteElements(ruleset, id, texts);
      }
      if (!diff.added.empty()) {
        std::vector<std::string> texts;
        for (const auto& s : diff.added) texts.push_back(nft::ElementText(id, s, now));
        adds += nft::AddElements(ruleset, id, texts);
      }
    }
    return deletes + adds;
  }

  // Runs what is staged; commits on success, rolls back on failure.
  Status RunStaged(int64_t now) {
    const std::string commands = StagedCommands(now);
    Status st;
    if (!commands.empty()) {
      auto r = ctx->Run(commands);
      if (!r.ok()) st = r.status();
    }
    for (auto& s : sets) {
      if (st.ok()) {
        s.Commit();
      } else {
        s.Rollback();
      }
    }
    return st;
  }

  void Begin() {
    for (auto& s : sets) s.Begin();
  }

  Status NotStarted() const {
    return Status::Unavailable("the nftables backend is not started", "call Start() first (threatd does at start-up)");
  }

  // Records the outcome of an operation for Health().
  void Record(const char* op, const Status& st, double ms) {
    std::array<size_t, nft::kSetCount> counts{};
    size_t decisions = 0;
    for (size_t i = 0; i < sets.size(); ++i) {
      counts[i] = sets[i].segment_count();
      decisions += sets[i].member_count();
    }
    std::lock_guard lock(mu);
    elements = counts;
    decision_count = decisions;
    last_ok = st.ok();
    if (!st.ok()) {
      last_error = fmt::format("{}: {}", op, st.message());
      ++failures;
    }
    if (std::string_view(op) == "reconcile") {
      last_reconcile_ms = ms;
    } else {
      last_apply_ms = ms;
    }
  }

  NftablesOptions options;
  nft::RulesetOptions ruleset;
  Clock& clock;
  std::unique_ptr<nft::NftContext> ctx;
  // Measure's own context: the Healer measures while other calls may run
  // (libnftables contexts are not thread-safe).
  std::unique_ptr<nft::NftContext> measure_ctx;
  std::vector<nft::NftIntervalSet> sets;

  // Health, written by the calling thread, read by Health().
  mutable std::mutex mu;
  bool started = false;
  bool last_ok = true;
  std::string last_error;
  std::optional<double> last_apply_ms;
  std::optional<double> last_reconcile_ms;
  std::array<size_t, nft::kSetCount> elements{};
  size_t decision_count = 0;
  int64_t failures = 0;
};

NftablesBackend::NftablesBackend(NftablesOptions options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

NftablesBackend::~NftablesBackend() = default;

const NftablesOptions& NftablesBackend::options() const { return impl_->options; }

bool NftablesBackend::Supports(ActionType action) const { return nft::KindOf(action).has_value(); }

Status NftablesBackend::Start() {
  auto& d = *impl_;
  auto fail = [&](Status st) {
    d.ctx.reset();  // Apply() and the rest answer "not started"
    d.measure_ctx.reset();
    std::lock_guard lock(d.mu);
    d.started = false;
    d.last_ok = false;
    d.last_error = "start: " + st.message();
    return st;
  };
  if (Status st = d.options.Validate(); !st.ok()) return fail(st);
  // libnftables exits the process when it cannot open its netlink socket.
  if (Status st = nft::NetlinkAvailable(); !st.ok()) return fail(st);
  d.ctx = std::make_unique<nft::NftContext>();
  d.measure_ctx = std::make_unique<nft::NftContext>();
  if (!d.ctx->ok() || !d.measure_ctx->ok()) return fail(Status::Internal("libnftables could not create a context (out of memory?)"));

  // Declares the sets and chains (kept if present, elements included) and
  // rewrites the rules, in one transaction.
  auto r = d.ctx->Run(nft::TableBlock(d.ruleset, true, nullptr) + nft::RulesBlock(d.ruleset));
  if (!r.ok()) {
    if (auto unusable = nft::UnusableNftables(r.status().message())) return fail(*unusable);
    // An older layout, another chain priority: replace the table (its
    // elements go; the Enforcer's Reconcile restores the active decisions).
    spdlog::warn("nftables: table inet {} does not match this version's layout ({}); recreating it empty",
                 d.options.table, r.status().message());
    const std::string recreate = fmt::format("add table inet {0}\ndelete table inet {0}\n", d.options.table) +
                                 nft::TableBlock(d.ruleset, false, nullptr);
    if (auto again = d.ctx->Run(recreate); !again.ok()) {
      return fail(again.status().WithContext(fmt::format("creating table inet {}", d.options.table)));
    }
  }
  d.ResetSets();
  std::lock_guard lock(d.mu);
  d.started = true;
  d.last_ok = true;
  d.last_error.clear();
  spdlog::info("nftables: table inet {} ready (chains at priority {}, rate limit {}/s per source)", d.options.table,
               d.options.chain_priority, d.options.rate_limit_per_second);
  return Status::Ok();
}

Status NftablesBackend::Apply(const std::vector<Enforcement>& items,
                              std::vector<std::pair<int64_t, std::string>>* failed) {
  auto& d = *impl_;
  if (!d.ctx) return d.NotStarted();
  const auto start = std::chrono::steady_clock::now();
  const int64_t now = d.NowMs();
  d.PurgeExpired(now);
  std::vector<std::pair<const Enforcement*, nft::SetKind>> todo;
  for (const auto& item : items) {
    if (auto kind = nft::KindOf(item.action)) {
      todo.emplace_back(&item, *kind);
    } else {
      failed->emplace_back(item.decision_id,
                           fmt::format("the nftables backend does not enforce {}", ToString(item.action)));
    }
  }
  d.Begin();
  for (const auto& [item, kind] : todo) d.Stage(*item, kind, now);
  Status batch = d.RunStaged(now);
  size_t applied = batch.ok() ? todo.size() : 0;
  if (!batch.ok() && todo.size() > 1) {
    spdlog::warn("nftables: batch of {} rejected ({}); applying one by one", todo.size(), batch.message());
    for (const auto& [item, kind] : todo) {
      d.Begin();
      d.Stage(*item, kind, now);
      if (Status one = d.RunStaged(now); one.ok()) {
        ++applied;
      } else {
        failed->emplace_back(item->decision_id, one.message());
      }
    }
  } else if (!batch.ok()) {
    failed->emplace_back(todo.front().first->decision_id, batch.message());
  }
  Status result;
  if (applied == 0 && !items.empty()) {
    result = batch.ok() ? Status::Validation("none of the decisions can be enforced by nftables")
                        : batch.WithContext("nftables rejected every decision");
  }
  d.Record("apply", result, MsSince(start));
  return result;
}

Status NftablesBackend::Remove(const std::vector<Enforcement>& items) {
  auto& d = *impl_;
  if (!d.ctx) return d.NotStarted();
  const auto start = std::chrono::steady_clock::now();
  const int64_t now = d.NowMs();
  d.PurgeExpired(now);
  d.Begin();
  for (const auto& item : items) {
    for (auto& s : d.sets) s.Erase(item.decision_id, now);
  }
  Status st = d.RunStaged(now);
  if (!st.ok()) st = st.WithContext("nftables could not remove decisions");
  d.Record("remove", st, MsSince(start));
  return st;
}

Status NftablesBackend::Reconcile(const std::vector<Enforcement>& active) {
  auto& d = *impl_;
  if (!d.ctx) return d.NotStarted();
  const auto start = std::chrono::steady_clock::now();
  const int64_t now = d.NowMs();
  std::array<std::vector<nft::Member>, nft::kSetCount> members;
  for (const auto& item : active) {
    auto kind = nft::KindOf(item.action);
    if (!kind) continue;
    const int64_t expiry = item.expires_at ? ToMs(*item.expires_at) : nft::kNever;
    if (expiry <= now) continue;
    const Range r = nft::ToRange(item.target);
    members[nft::SetIndex(nft::SetFor(*kind, item.target))].push_back({item.decision_id, r.lo, r.hi, expiry});
  }
  std::vector<nft::NftIntervalSet> fresh;
  std::array<std::vector<std::string>, nft::kSetCount> elements;
  for (size_t i = 0; i < nft::kSetCount; ++i) {
    const SetId id = nft::SetAt(i);
    fresh.emplace_back(id.family);
    fresh.back().Reset(members[i], now);
    for (const auto& s : fresh.back().Segments(now)) elements[i].push_back(nft::ElementText(id, s, now));
  }
  // Deleting and re-creating the table in one transaction swaps the whole
  // state atomically: no moment without the rules, nothing left over.
  const std::string commands = fmt::format("add table inet {0}\ndelete table inet {0}\n", d.options.table) +
                               nft::TableBlock(d.ruleset, false, &elements);
  Status st;
  if (auto r = d.ctx->Run(commands); r.ok()) {
    d.sets = std::move(fresh);
  } else {
    st = r.status().WithContext("nftables could not reconcile");
  }
  d.Record("reconcile", st, MsSince(start));
  return st;
}

Result<Drift> NftablesBackend::Measure(const std::vector<Enforcement>& active) {
  auto& d = *impl_;
  if (!d.measure_ctx) return d.NotStarted();
  std::array<std::vector<Range>, nft::kSetCount> kernel;
  auto listing = d.measure_ctx->Run(fmt::format("list table inet {}", d.options.table), true);
  if (!listing.ok()) {
    // A deleted table enforces nothing: everything is missing.
    if (listing.status().message().find("No such file or directory") == std::string::npos) {
      return listing.status().WithContext("reading the nftables sets");
    }
  } else {
    auto json = nlohmann::json::parse(*listing, nullptr, false);
    auto parsed = nft::ParseListing(json);
    if (!parsed.ok()) return parsed.status();
    kernel = std::move(*parsed);
  }
  const int64_t now = d.NowMs();
  std::array<std::vector<std::pair<Range, const Enforcement*>>, nft::kSetCount> expected;
  for (const auto& item : active) {
    auto kind = nft::KindOf(item.action);
    if (!kind) continue;
    if (item.expires_at && ToMs(*item.expires_at) <= now) continue;
    expected[nft::SetIndex(nft::SetFor(*kind, item.target))].emplace_back(nft::ToRange(item.target), &item);
  }
  Drift drift;
  for (size_t i = 0; i < nft::kSetCount; ++i) {
    const SetId id = nft::SetAt(i);
    const Key max_key = nft::MaxKey(id.family);
    const auto in_kernel = Union(kernel[i], max_key);
    std::vector<Range> wanted;
    for (const auto& [range, item] : expected[i]) {
      wanted.push_back(range);
      if (!Covered(in_kernel, range)) {
        drift.missing.push_back(fmt::format("{} {}", ToString(item->action), item->target.ToString()));
      }
    }
    const auto wanted_union = Union(std::move(wanted), max_key);
    for (const auto& r : kernel[i]) {
      if (!Covered(wanted_union, r)) {
        drift.unexpected.push_back(
            fmt::format("{} {}", ToString(nft::ActionOf(id.kind)), nft::FormatRange(id.family, r.lo, r.hi)));
      }
    }
  }
  return drift;
}

Status NftablesBackend::Shutdown(bool cleanup) {
  auto& d = *impl_;
  if (!d.ctx) return Status::Ok();
  Status st;
  if (cleanup) {
    auto r = d.ctx->Run(fmt::format("delete table inet {}", d.options.table));
    if (!r.ok() && r.status().message().find("No such file or directory") == std::string::npos) {
      st = r.status().WithContext(fmt::format("deleting table inet {}", d.options.table));
    }
  }
  if (st.ok()) {
    spdlog::info("nftables: {}", cleanup ? "table deleted" : "table left in place (elements keep their timeouts)");
  }
  d.ctx.reset();
  d.measure_ctx.reset();
  d.ResetSets();
  std::lock_guard lock(d.mu);
  d.started = false;
  if (!st.ok()) d.last_error = "shutdown: " + st.message();
  return st;
}

nlohmann::json NftablesBackend::Health() const {
  const auto& d = *impl_;
  std::lock_guard lock(d.mu);
  nlohmann::json elements = nlohmann::json::object();
  for (size_t i = 0; i < nft::kSetCount; ++i) elements[nft::SetName(nft::SetAt(i))] = d.elements[i];
  auto optional_ms = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {
      {"backend", "nftables"},
      {"status", !d.started ? "error" : (d.last_ok ? "ok" : "degraded")},
      {"table", "inet " + d.options.table},
      {"chain_priority", d.options.chain_priority},
      {"rate_limit_per_second", d.options.rate_limit_per_second},
      {"decisions", d.decision_count},
      {"elements", elements},
      {"failures", d.failures},
      {"last_error", d.last_error.empty() ? nlohmann::json() : nlohmann::json(d.last_error)},
      {"last_apply_latency_ms", optional_ms(d.last_apply_ms)},
      {"last_reconcile_ms", optional_ms(d.last_reconcile_ms)},
  };
}

}  // namespace threatd::healing
