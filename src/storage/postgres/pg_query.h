// Running a dialect-neutral SqlQuery (storage/sql_query.h) on PostgreSQL and
// reading its rows through the row interface the shared row mappers expect
// (traffic_sql.h, decision_sql.h: IsNull, Int64, Double, Text, Blob).
//
// Thread-safety: stateless; a transaction belongs to one thread.
// Errors: pqxx exceptions propagate (PgPool::Run maps them to a Status).
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <variant>
#include <vector>

#include "storage/sql_query.h"

namespace threatd::storage::pg {

struct PgRow {
  const pqxx::row& r;
  bool IsNull(int c) const { return r[c].is_null(); }
  int64_t Int64(int c) const { return r[c].as<int64_t>(); }
  double Double(int c) const { return r[c].as<double>(); }
  std::string Text(int c) const { return r[c].as<std::string>(); }
  std::string Blob(int c) const { return pqxx::binarystring(r[c]).str(); }
};

// Binds the parameters in order ($1, $2, ...) as text.
inline pqxx::result Exec(pqxx::transaction_base& tx, const SqlQuery& q) {
  std::vector<std::string> params;
  params.reserve(q.params.size());
  for (const auto& p : q.params) {
    if (const auto* v = std::get_if<int64_t>(&p)) {
      params.push_back(std::to_string(*v));
    } else {
      params.push_back(std::get<std::string>(p));
    }
  }
  return tx.exec_params(q.sql, pqxx::prepare::make_dynamic_params(params));
}

}  // namespace threatd::storage::pg
