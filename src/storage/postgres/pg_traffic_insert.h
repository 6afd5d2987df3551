// The PostgreSQL write path of InsertScoredFlows, in one transaction and a
// fixed number of round trips per batch whatever its size:
//   1. the feature_schemas id (cached by the caller; upserted on a miss),
//   2. which Kafka positions are stored already (one unnest query),
//   3. the ids of every new row, reserved from the identity sequences,
//   4. COPY of traffic_data, threat_predictions and attack_predictions with
//      those ids.
// A concurrent insert of the same Kafka position makes the COPY fail with
// Conflict (23505); the batch is then rolled back whole and may be retried.
// PRIVATE to src/storage/postgres.
//
// Thread-safety: uses only the connection it is given.
#pragma once

#include <pqxx/connection>
#include <vector>

#include "common/status.h"
#include "storage/traffic_encoding.h"
#include "storage/traffic_records.h"

namespace threatd::storage::pg {

// *schema_id: the cached id, or 0 to upsert (then it receives the id).
Status InsertScoredFlowsPg(pqxx::connection& c, const ScoredFlowBatch& batch, const EncodedBatch& encoded,
                           int64_t* schema_id, std::vector<StoredFlowIds>* out);

// A PostgreSQL array literal of texts: {"a","b\"c"}.
std::string TextArray(const std::vector<std::string>& values);

}  // namespace threatd::storage::pg
