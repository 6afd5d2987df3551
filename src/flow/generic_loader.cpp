// LoadGeneric: any labelled table. Pass 1 types the columns, pass 2 parses
// the values and collects category codes, then categories are ranked by
// frequency and expanded one-hot.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "flow/byte_source.h"
#include "flow/column_aliases.h"
#include "flow/csv_reader.h"
#include "flow/labels.h"
#include "flow/table_loader.h"
#include "flow/value_policy.h"

namespace threatd::flow {
namespace {

constexpr uint32_t kNoCategory = std::numeric_limits<uint32_t>::max();

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Column {
  std::string name;  // as written (trimmed)
  uint64_t numeric = 0;
  uint64_t non_numeric = 0;
  bool categorical = false;
  size_t slot = 0;  // index among numeric or categorical columns
  std::unordered_map<std::string, uint32_t> codes;
  std::vector<std::string> values;  // by code
  std::vector<uint64_t> counts;     // by code
};

// Opens a file and returns its reader positioned after the header, plus the
// file column of each schema column (label last).
struct OpenTable {
  std::unique_ptr<CsvReader> reader;
  std::vector<size_t> column_of;  // per schema column
  size_t label = 0;
  size_t width = 0;
  bool has_label = false;
};

Result<OpenTable> Open(const std::string& file, const std::vector<Column>* schema,
                       const LoadOptions& options, std::vector<Column>* new_schema) {
  auto source = OpenFileSource(file);
  if (!source.ok()) return source.status();
  OpenTable t;
  t.reader = std::make_unique<CsvReader>(std::move(*source));
  auto has = t.reader->Next();
  if (!has.ok()) return has.status().WithContext(file);
  if (!*has) return Status::InvalidArgument(file + ": the CSV file is empty", "a header row is required");
  const CsvRow& header = t.reader->row();
  t.width = header.size();
  std::unordered_map<std::string, size_t> by_name;
  std::string label_key = NormaliseColumnName(options.label_column);
  for (size_t c = 0; c < header.size(); ++c) {
    std::string key = NormaliseColumnName(header[c]);
    if (!t.has_label && key == label_key) {
      t.has_label = true;
      t.label = c;
      continue;
    }
    by_name.emplace(key, c);
  }
  if (options.require_label && !t.has_label) {
    return Status::Validation(file + ": label column '" + options.label_column + "' not found",
                              "name the label column (--label-column)");
  }
  if (schema == nullptr) {  // the first file defines the schema
    std::unordered_set<std::string> excluded;
    for (const auto& n : IdentifierColumns()) excluded.insert(NormaliseColumnName(n));
    for (const auto& n : options.exclude_columns) excluded.insert(NormaliseColumnName(n));
    for (size_t c = 0; c < header.size(); ++c) {
      std::string key = NormaliseColumnName(header[c]);
      if ((t.has_label && c == t.label) || excluded.count(key) || by_name[key] != c) continue;
      Column col;
      col.name = std::string(Trim(header[c]));
      new_schema->push_back(std::move(col));
      t.column_of.push_back(c);
    }
    return t;
  }
  for (const Column& col : *schema) {
    auto it = by_name.find(NormaliseColumnName(col.name));
    if (it == by_name.end()) {
      return Status::Validation(file + ": missing column '" + col.name + "' that the first file has",
                                "give every file the same columns");
    }
    t.column_of.push_back(it->second);
  }
  return t;
}

}  // namespace

Result<Dataset> LoadGeneric(const std::vector<std::string>& files, const LoadOptions& options) {
  std::vector<Column> schema;
  // Pass 1: column types.
  uint64_t typed_rows = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    auto t = Open(files[i], i == 0 ? nullptr : &schema, options, &schema);
    if (!t.ok()) return t.status();
    for (;;) {
      if (options.max_rows > 0 && typed_rows >= options.max_rows) break;
      auto has = t->reader->Next();
      if (!has.ok()) return has.status().WithContext(files[i]);
      if (!*has) break;
      const CsvRow& row = t->reader->row();
      if (row.size() != t->width) continue;  // reported in pass 2
      ++typed_rows;
      for (size_t k = 0; k < schema.size(); ++k) {
        std::string_view v = Trim(row[t->column_of[k]]);
        if (v.empty()) continue;
        (IsNumericOrMissing(v) ? schema[k].numeric : schema[k].non_numeric)++;
      }
    }
  }
  if (schema.empty()) {
    return Status::Validation("no feature columns left after excluding the label and identifiers",
                              "check --label-column and --exclude-columns");
  }
  size_t numeric_count = 0, categorical_count = 0;
  for (Column& c : schema) {
    c.categorical = c.non_numeric > 0 && c.non_numeric * 2 >= c.numeric + c.non_numeric;
    c.slot = c.categorical ? categorical_count++ : numeric_count++;
  }

  // Pass 2: values and category codes.
  Dataset ds;
  std::vector<float> numeric;
  std::vector<uint32_t> codes;
  std::vector<ColumnStats> stats(schema.size());
  std::unordered_map<std::string, std::string> label_cache;
  uint64_t rows = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<Column> unused;
    auto t = Open(files[i], &schema, options, &unused);
    if (!t.ok()) return t.status();
    ds.source_files.push_back(files[i]);
    for (;;) {
      if (options.max_rows > 0 && rows >= options.max_rows) break;
      auto has = t->reader->Next();
      if (!has.ok()) return has.status().WithContext(files[i]);
      if (!*has) break;
      const CsvRow& row = t->reader->row();
      auto fail = [&](const std::string& column, std::string_view value, const std::string& reason) -> Status {
        if (ds.skipped_rows++ < options.max_row_errors) return Status::Ok();
        std::string where = files[i] + ": row " + std::to_string(row.index()) + " (line " +
                            std::to_string(row.line()) + ")";
        if (!column.empty()) where += ", column '" + column + "', value '" + std::string(value.substr(0, 64)) + "'";
        return Status::Validation(where + ": " + reason, "fix the row, or allow skipping bad rows (max_row_errors)");
      };
      if (row.size() != t->width) {
        THREATD_RETURN_IF_ERROR(fail("", "", "expected " + std::to_string(t->width) + " fields, found " +
                                                 std::to_string(row.size())));
        continue;
      }
      std::string label;
      if (t->has_label) {
        std::string_view raw = row[t->label];
        auto it = label_cache.find(std::string(raw));
        if (it == label_cache.end()) it = label_cache.emplace(std::string(raw), NormaliseLabel(raw)).first;
        label = it->second;
        if (label.empty()) {
          THREATD_RETURN_IF_ERROR(fail(options.label_column, raw, "empty label"));
          continue;
        }
      }
      size_t numeric_start = numeric.size(), codes_start = codes.size();
      bool bad = false;
      for (size_t k = 0; k < schema.size() && !bad; ++k) {
        Column& col = schema[k];
        std::string_view v = Trim(row[t->column_of[k]]);
        if (!col.categorical) {
          ParsedValue p = ParseFeatureValue(v);
          if (p.kind == ValueKind::kInvalid) {
            THREATD_RETURN_IF_ERROR(fail(col.name, v, "not a number"));
            bad = true;
            break;
          }
          CountValue(p, &stats[k]);
          numeric.push_back(p.value);
          continue;
        }
        if (v.empty()) {
          ++stats[k].missing;
          codes.push_back(kNoCategory);
          continue;
        }
        auto [it, inserted] = col.codes.emplace(std::string(v), static_cast<uint32_t>(col.values.size()));
        if (inserted) {
          col.values.emplace_back(v);
          col.counts.push_back(0);
        }
        ++col.counts[it->second];
        codes.push_back(it->second);
      }
      if (bad) {  // roll back the partial row
        numeric.resize(numeric_start);
        codes.resize(codes_start);
        continue;
      }
      if (t->has_label) ds.labels.push_back(std::move(label));
      ++rows;
    }
  }
  if (!ds.labels.empty() && ds.labels.size() != rows) {
    return Status::Validation("some files have a label column and some do not", "give every file the label column");
  }

  // Rank categories: most frequent first, ties by value; cap with __other__.
  std::vector<std::vector<uint32_t>> onehot_of_code(schema.size());  // code -> one-hot offset
  std::vector<size_t> width(schema.size(), 1);
  for (size_t k = 0; k < schema.size(); ++k) {
    Column& col = schema[k];
    if (!col.categorical) continue;
    std::vector<uint32_t> order(col.values.size());
    for (uint32_t c = 0; c < order.size(); ++c) order[c] = c;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return col.counts[a] != col.counts[b] ? col.counts[a] > col.counts[b] : col.values[a] < col.values[b];
    });
    size_t kept = std::min(order.size(), options.max_categories);
    bool other = order.size() > kept;
    width[k] = kept + (other ? 1 : 0);
    onehot_of_code[k].assign(col.values.size(), static_cast<uint32_t>(kept));  // __other__
    for (size_t r = 0; r < kept; ++r) onehot_of_code[k][order[r]] = static_cast<uint32_t>(r);
    std::vector<std::string> names;
    for (size_t r = 0; r < kept; ++r) names.push_back(col.name + "=" + col.values[order[r]]);
    if (other) names.push_back(col.name + "=__other__");
    col.values = std::move(names);  // now the one-hot column names
  }
  for (size_t k = 0; k < schema.size(); ++k) {
    if (schema[k].categorical) {
      for (const auto& n : schema[k].values) ds.feature_names.push_back(n);
    } else {
      ds.feature_names.push_back(schema[k].name);
      ds.column_stats[schema[k].name] = stats[k];
    }
  }
  if (schema.size() > 0) {
    for (size_t k = 0; k < schema.size(); ++k) {
      if (schema[k].categorical) ds.column_stats[schema[k].name] = stats[k];
    }
  }

  const size_t cols = ds.feature_names.size();
  ds.values.assign(rows * cols, 0.0f);
  for (uint64_t r = 0; r < rows; ++r) {
    float* out = ds.values.data() + r * cols;
    for (size_t k = 0; k < schema.size(); ++k) {
      const Column& col = schema[k];
      if (!col.categorical) {
        *out++ = numeric[r * numeric_count + col.slot];
        continue;
      }
      uint32_t code = codes[r * categorical_count + col.slot];
      if (code != kNoCategory) out[onehot_of_code[k][code]] = 1.0f;
      out += width[k];
    }
  }
  return ds;
}

}  // namespace threatd::flow
