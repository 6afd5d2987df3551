-- threatd schema v3 (PostgreSQL 15): indexes no query uses, dropped to make the
-- write path (one row per flow in traffic_data and threat_predictions)
-- cheaper. See docs/benchmarks.md "Pipeline".
--   src_ip: no query filters or sorts on it; a random key, so every insert
--     touched a random page of a large index (the costliest of them).
--   feature_schema_id: only a DELETE of a feature_schemas row would use it
--     (ON DELETE RESTRICT check), and schemas are never deleted.
--   threat_predictions.is_attack: a boolean; the listings filter it while
--     walking the created_at index, the totals scan the table anyway.
--   self_healing_actions.status: no query filters on it.
-- Kept: created_at (listings, time ranges, retention), batch_id (upload
-- batches, all-or-nothing rollback), the UNIQUE keys (joins, Kafka dedupe),
-- attack_type_name / action_type (filters and distributions).

DROP INDEX IF EXISTS ix_traffic_data_src_ip;
DROP INDEX IF EXISTS ix_traffic_data_feature_schema_id;
DROP INDEX IF EXISTS ix_threat_predictions_is_attack;
DROP INDEX IF EXISTS ix_self_healing_actions_status;
