-- threatd schema v7 (PostgreSQL): a flow's predictions share the flow's id.
-- threat_predictions and attack_predictions hold at most one row per flow
-- (traffic_data_id was UNIQUE), so their id is now traffic_data.id itself:
--   * the UNIQUE index on traffic_data_id goes: the primary key enforces one
--     row per flow, and CHECK (traffic_data_id = id) keeps the original's
--     column true;
--   * the created_at indexes go: a prediction is written with its flow, at
--     the flow's created_at, so time ranges and newest-first listings walk
--     ix_traffic_data_created_at and join on the id (storage/traffic_sql.cpp);
--   * the foreign key to traffic_data is on id, so deleting a flow finds its
--     predictions by primary key;
--   * the identity sequences go: the id is the flow's.
-- Measured when a COPY fills threat_predictions: the UNIQUE index and the
-- created_at index cost the server 0.9 and 1.6 us per row. See
-- docs/benchmarks.md "Kafka ingestion".
-- Existing predictions take their flow's id (in two steps, through negative
-- ids, so no intermediate id collides); decisions that point at an attack
-- prediction are moved with it.

ALTER TABLE self_healing_actions DROP CONSTRAINT self_healing_actions_attack_prediction_id_fkey;
UPDATE self_healing_actions s SET attack_prediction_id = a.traffic_data_id
  FROM attack_predictions a WHERE a.id = s.attack_prediction_id;

ALTER TABLE threat_predictions
  DROP CONSTRAINT threat_predictions_traffic_data_id_key,
  DROP CONSTRAINT threat_predictions_traffic_data_id_fkey,
  ALTER COLUMN id DROP IDENTITY IF EXISTS;
UPDATE threat_predictions SET id = -traffic_data_id;
UPDATE threat_predictions SET id = -id;
ALTER TABLE threat_predictions
  ADD CONSTRAINT threat_predictions_id_fkey FOREIGN KEY (id) REFERENCES traffic_data(id) ON DELETE CASCADE,
  ADD CONSTRAINT threat_predictions_traffic_data_id_check CHECK (traffic_data_id = id);
DROP INDEX IF EXISTS ix_threat_predictions_created_at;

ALTER TABLE attack_predictions
  DROP CONSTRAINT attack_predictions_traffic_data_id_key,
  DROP CONSTRAINT attack_predictions_traffic_data_id_fkey,
  ALTER COLUMN id DROP IDENTITY IF EXISTS;
UPDATE attack_predictions SET id = -traffic_data_id;
UPDATE attack_predictions SET id = -id;
ALTER TABLE attack_predictions
  ADD CONSTRAINT attack_predictions_id_fkey FOREIGN KEY (id) REFERENCES traffic_data(id) ON DELETE CASCADE,
  ADD CONSTRAINT attack_predictions_traffic_data_id_check CHECK (traffic_data_id = id);
DROP INDEX IF EXISTS ix_attack_predictions_created_at;

ALTER TABLE self_healing_actions
  ADD CONSTRAINT self_healing_actions_attack_prediction_id_fkey
    FOREIGN KEY (attack_prediction_id) REFERENCES attack_predictions(id) ON DELETE SET NULL;
