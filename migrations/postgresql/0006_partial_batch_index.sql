-- threatd schema v6 (PostgreSQL 15): the batch_id index covers upload rows only.
-- Flows from Kafka and the test stream have no batch_id, and each of them
-- still added a NULL entry to this index: one index insertion per flow that
-- no query reads (measured on PostgreSQL: 1.3 us of server CPU per row when
-- a COPY fills traffic_data). Every query on batch_id compares it with = or
-- IN, which implies IS NOT NULL, so both planners use the partial index
-- (TrafficTest.UploadBatchQueriesUseThePartialIndex checks the SQLite plans).
-- The index is rebuilt once, from the upload rows only.

DROP INDEX IF EXISTS ix_traffic_data_batch_id;
CREATE INDEX ix_traffic_data_batch_id ON traffic_data(batch_id) WHERE batch_id IS NOT NULL;
