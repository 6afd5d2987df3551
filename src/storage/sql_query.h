// SqlQuery and QueryBuilder: one SQL statement and its parameters, written
// once for both dialects. PRIVATE to src/storage: traffic_sql and
// decision_sql build their statements with it, and the SQLite and PostgreSQL
// repositories bind the parameters in order.
//
// Placeholders: `?` for SQLite, `$n` for PostgreSQL. Times travel as int64
// epoch microseconds (PostgreSQL converts them in SQL, see pg::TimeParam).
//
// Thread-safety: a builder is a local value of one query.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "storage/micros.h"

namespace threatd::storage {

enum class Dialect { kSqlite, kPostgres };

using SqlValue = std::variant<int64_t, std::string>;

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> params;
};

class QueryBuilder {
 public:
  explicit QueryBuilder(Dialect d) : d_(d) {}

  bool pg() const { return d_ == Dialect::kPostgres; }

  // Each Add* appends a parameter and returns its placeholder.
  std::string AddInt(int64_t v) {
    q_.params.emplace_back(v);
    return pg() ? fmt::format("${}::int8", q_.params.size()) : "?";
  }
  std::string AddText(std::string_view v) {
    q_.params.emplace_back(std::string(v));
    return pg() ? fmt::format("${}", q_.params.size()) : "?";
  }
  std::string AddTime(Clock::WallTime t) {
    q_.params.emplace_back(ToMicros(t));
    return pg() ? fmt::format("(timestamptz 'epoch' + ${}::int8 * interval '1 microsecond')", q_.params.size())
                : "?";
  }

  // Conditions joined with AND, in the order added: where() is "" or " WHERE ...".
  void Where(const std::string& cond) {
    where_ += where_.empty() ? " WHERE " : " AND ";
    where_ += cond;
  }
  void TimeFilter(std::string_view col, const std::optional<Clock::WallTime>& since,
                  const std::optional<Clock::WallTime>& until) {
    if (since) Where(fmt::format("{} >= {}", col, AddTime(*since)));
    if (until) Where(fmt::format("{} <= {}", col, AddTime(*until)));
  }
  const std::string& where() const { return where_; }
  std::string Page(int64_t limit, int64_t offset) {
    const std::string l = AddInt(limit);
    return fmt::format(" LIMIT {} OFFSET {}", l, AddInt(offset));
  }

  SqlQuery Done(std::string sql) {
    q_.sql = std::move(sql);
    return std::move(q_);
  }

 private:
  Dialect d_;
  SqlQuery q_;
  std::string where_;
};

}  // namespace threatd::storage
