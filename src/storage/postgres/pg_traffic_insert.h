// The PostgreSQL write path of InsertScoredFlows, in one transaction and a
// fixed number of round trips per batch whatever its size:
//   1. the feature_schemas id (cached by the caller; upserted on a miss),
//   2. the ids of the new flows, reserved from traffic_data's identity
//      sequence (a flow's predictions share its id),
//   3. COPY of traffic_data, threat_predictions and attack_predictions with
//      those ids, as rows of COPY text built here.
// A batch from Kafka is written without looking its positions up first; when
// the Kafka-position key reports one stored already (a redelivery, or another
// instance first), the transaction is rolled back and written again with a
// lookup (one unnest query) that skips and reports those flows.
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
