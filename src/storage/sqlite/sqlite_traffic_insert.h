// The SQLite write path of InsertScoredFlows. PRIVATE to src/storage/sqlite.
//
// Runs inside the caller's transaction (a writer job's SAVEPOINT): on error
// the caller's rollback undoes every row. A flow whose Kafka position is
// stored already is skipped (ON CONFLICT DO NOTHING) and reported duplicate.
// Thread-safety: uses only the connection it is given (the writer thread).
#pragma once

#include <vector>

#include "storage/sqlite/sqlite_connection.h"
#include "storage/traffic_encoding.h"
#include "storage/traffic_records.h"

namespace threatd::storage::sqlite {

// out must hold batch.flows.size() entries; schema is the feature_schemas id.
Status WriteScoredFlows(SqliteConnection& c, const ScoredFlowBatch& batch, const EncodedBatch& encoded,
                        int64_t schema, std::vector<StoredFlowIds>* out);

}  // namespace threatd::storage::sqlite
