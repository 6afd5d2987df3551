#include "storage/postgres/pg_pool.h"

#include <fmt/format.h>

#include <pqxx/except>
#include <pqxx/nontransaction>

namespace threatd::storage::pg {

namespace {

// Appends libpq parameters to a postgresql:// URI unless the user set them.
std::string BuildConninfo(const PgPoolOptions& o) {
  std::string out = o.url;
  auto add = [&](std::string_view key, const std::string& value) {
    if (out.find(std::string(key) + "=") != std::string::npos) return;
    out += out.find('?') == std::string::npos ? '?' : '&';
    out += fmt::format("{}={}", key, value);
  };
  const auto seconds = std::max<long long>(2, (o.connect_timeout.count() + 999) / 1000);
  add("connect_timeout", std::to_string(seconds));
  add("application_name", o.application_name);
  return out;
}

bool StartsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

Status FromSqlError(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  std::string message = fmt::format("postgresql: {} (SQLSTATE {})", e.what(), state.empty() ? "?" : state);
  while (!message.empty() && (message.back() == '\n')) message.pop_back();
  if (state == "23505") return Status::Conflict(std::move(message));
  if (StartsWith(state, "23") || StartsWith(state, "22")) return Status::Validation(std::move(message));
  if (state == "57014") {
    return Status::Timeout(std::move(message), "the statement exceeded storage.statement_timeout");
  }
  if (StartsWith(state, "08") || StartsWith(state, "57P") || state == "40001" || state == "40P01" ||
      state == "53300") {
    return Status::Unavailable(std::move(message), "retry later");
  }
  return Status::Internal(std::move(message));
}

std::string TimeParam(int n) { return fmt::format("(timestamptz 'epoch' + ${}::int8 * interval '1 microsecond')", n); }
std::string MicrosOf(std::string_view column) {
  return fmt::format("(extract(epoch from {}) * 1000000)::int8", column);
}

PgPool::PgPool(PgPoolOptions options, StorageStats& stats)
    : options_(std::move(options)), conninfo_(BuildConninfo(options_)), stats_(stats) {}

PgPool::~PgPool() { Close(); }

int PgPool::OpenConnections() const {
  std::lock_guard lock(mu_);
  return open_;
}

void PgPool::Close() {
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    open_ -= static_cast<int>(idle_.size());
    idle.swap(idle_);
  }
  available_.notify_all();
  // `idle` closes the connections here, outside the lock.
}

Result<std::unique_ptr<pqxx::connection>> PgPool::Connect() {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    if (options_.statement_timeout.count() > 0) {
      pqxx::nontransaction tx(*conn);
      tx.exec(fmt::format("SET statement_timeout = {}", options_.statement_timeout.count()));
    }
    return conn;
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::Unavailable(fmt::format("cannot connect to PostgreSQL at {}: {}", options_.redacted_url, why),
                               "check that the server is up and storage.url is right; the call may be retried");
  } catch (const pqxx::sql_error& e) {
    return FromSqlError(e);
  } catch (const std::exception& e) {
    return Status::Unavailable(fmt::format("cannot connect to PostgreSQL at {}: {}", options_.redacted_url, e.what()));
  }
}

Result<std::unique_ptr<pqxx::connection>> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  const bool got = available_.wait_for(lock, options_.acquire_timeout,
                                       [&] { return closed_ || !idle_.empty() || open_ < options_.size; });
  if (closed_) return Status::Unavailable("the database is closed");
  if (!got) {
    stats_.pool_acquire_timeouts.Inc();
    return Status::Unavailable(fmt::format("all {} PostgreSQL connections stayed busy for {} ms", options_.size,
                                           options_.acquire_timeout.count()),
                               "retry later or raise storage.pool_size");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  auto conn = Connect();
  if (!conn.ok()) {
    stats_.connect_failures.Inc();
    Release(nullptr);
  }
  return conn;
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn == nullptr || closed_ || !conn->is_open()) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  available_.notify_one();
}

Status PgPool::Run(const std::function<Status(pqxx::connection&)>& fn) {
  const auto start = std::chrono::steady_clock::now();
  stats_.queries.Inc();
  Status s;
  auto conn = Acquire();
  if (!conn.ok()) {
    s = conn.status();
  } else {
    bool keep = true;
    try {
      s = fn(**conn);
    } catch (const pqxx::broken_connection& e) {
      keep = false;
      s = Status::Unavailable(fmt::format("lost the connection to PostgreSQL at {}: {}", options_.redacted_url,
                                          e.what()),
                              "retry later");
    } catch (const pqxx::sql_error& e) {
      s = FromSqlError(e);
      keep = s.code() != ErrorCode::kUnavailable;
    } catch (const pqxx::in_doubt_error& e) {
      keep = false;
      s = Status::Unavailable(fmt::format("postgresql: commit outcome unknown: {}", e.what()),
                              "check whether the write happened before retrying");
    } catch (const std::exception& e) {
      s = Status::Internal(fmt::format("postgresql: {}", e.what()));
    }
    Release(keep ? std::move(*conn) : nullptr);
  }
  if (!s.ok()) {
    stats_.errors.Inc();
    if (s.code() == ErrorCode::kUnavailable) stats_.unavailable.Inc();
  }
  stats_.query_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return s;
}

}  // namespace threatd::storage::pg
