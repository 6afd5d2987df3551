// DataSourceRepository: the data_source_config rows (packet_capture,
// external_kafka, internal_kafka). Sources are seeded by the first migration;
// they can be updated but not created or deleted.
//
// Thread-safety: implementations are safe for concurrent use; calls block on
// database I/O and must not be made from an I/O loop thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/records.h"

namespace threatd::storage {

class DataSourceRepository {
 public:
  virtual ~DataSourceRepository() = default;

  // Ordered by name.
  virtual Result<std::vector<DataSource>> ListDataSources() = 0;
  virtual Result<std::optional<DataSource>> GetDataSource(std::string_view name) = 0;
  // Sets is_enabled and, when config_json is given, replaces config_params
  // (nullopt keeps it). updated_at becomes now. NotFound for an unknown name,
  // Validation when config_json is not valid JSON.
  virtual Result<DataSource> UpdateDataSource(std::string_view name, bool enabled,
                                              std::optional<std::string> config_json) = 0;
};

}  // namespace threatd::storage
