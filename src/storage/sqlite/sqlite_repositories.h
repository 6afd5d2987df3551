// Factories of the SQLite repositories, one .cpp each. PRIVATE to
// src/storage/sqlite; SqliteDatabase calls them.
#pragma once

#include <memory>

#include "storage/decision_repository.h"
#include "storage/model_repository.h"
#include "storage/sqlite/sqlite_access.h"
#include "storage/traffic_repository.h"
#include "storage/whitelist_repository.h"

namespace threatd::storage::sqlite {

std::unique_ptr<TrafficRepository> MakeTrafficRepository(SqliteAccess& access);
std::unique_ptr<ModelRepository> MakeModelRepository(SqliteAccess& access);
std::unique_ptr<WhitelistRepository> MakeWhitelistRepository(SqliteAccess& access);
std::unique_ptr<DecisionRepository> MakeDecisionRepository(SqliteAccess& access);

}  // namespace threatd::storage::sqlite
