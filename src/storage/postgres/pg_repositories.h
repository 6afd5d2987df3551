// Factories of the PostgreSQL repositories, one .cpp each. PRIVATE to
// src/storage/postgres; PgDatabase calls them.
#pragma once

#include <memory>

#include "common/clock.h"
#include "storage/decision_repository.h"
#include "storage/model_repository.h"
#include "storage/postgres/pg_pool.h"
#include "storage/traffic_repository.h"
#include "storage/whitelist_repository.h"

namespace threatd::storage::pg {

std::unique_ptr<TrafficRepository> MakeTrafficRepository(PgPool& pool, Clock& clock);
std::unique_ptr<ModelRepository> MakeModelRepository(PgPool& pool, Clock& clock);
std::unique_ptr<WhitelistRepository> MakeWhitelistRepository(PgPool& pool, Clock& clock);
std::unique_ptr<DecisionRepository> MakeDecisionRepository(PgPool& pool, Clock& clock);

}  // namespace threatd::storage::pg
