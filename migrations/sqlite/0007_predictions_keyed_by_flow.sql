-- threatd schema v7 (SQLite): a flow's predictions share the flow's id.
-- threat_predictions and attack_predictions hold at most one row per flow
-- (traffic_data_id was UNIQUE), so their id is now traffic_data.id itself:
--   * the UNIQUE index on traffic_data_id goes: the primary key enforces one
--     row per flow, and CHECK (traffic_data_id = id) keeps the original's
--     column true;
--   * the created_at indexes go: a prediction is written with its flow, at
--     the flow's created_at, so time ranges and newest-first listings walk
--     ix_traffic_data_created_at and join on the id (storage/traffic_sql.cpp);
--   * the foreign key to traffic_data is on id, so deleting a flow finds its
--     predictions by primary key.
-- Four index insertions fewer per attack flow, two per benign one (measured
-- with Python's sqlite3 module: 1 us per threat_predictions row). See
-- docs/benchmarks.md "Kafka ingestion".
-- Existing predictions take their flow's id; decisions that point at an
-- attack prediction are moved with it. The migrator runs this with foreign
-- keys off (the SQLite procedure for rebuilding a table) and checks them all
-- before committing.

CREATE TABLE threat_predictions_v7 (
  id                INTEGER PRIMARY KEY REFERENCES traffic_data(id) ON DELETE CASCADE,
  traffic_data_id   INTEGER NOT NULL CHECK (traffic_data_id = id),
  created_at        INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  prediction_score  REAL NOT NULL,
  is_attack         INTEGER NOT NULL CHECK (is_attack IN (0, 1)),
  threshold         REAL NOT NULL DEFAULT 0.5,
  model_version     TEXT NOT NULL
);
INSERT INTO threat_predictions_v7(id, traffic_data_id, created_at, prediction_score, is_attack, threshold,
                                  model_version)
  SELECT traffic_data_id, traffic_data_id, created_at, prediction_score, is_attack, threshold, model_version
  FROM threat_predictions;
DROP TABLE threat_predictions;
ALTER TABLE threat_predictions_v7 RENAME TO threat_predictions;

CREATE TABLE attack_predictions_v7 (
  id                   INTEGER PRIMARY KEY REFERENCES traffic_data(id) ON DELETE CASCADE,
  traffic_data_id      INTEGER NOT NULL CHECK (traffic_data_id = id),
  created_at           INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  attack_type_encoded  INTEGER NOT NULL,
  attack_type_name     TEXT NOT NULL,
  confidence           REAL,
  model_version        TEXT NOT NULL
);
INSERT INTO attack_predictions_v7(id, traffic_data_id, created_at, attack_type_encoded, attack_type_name,
                                  confidence, model_version)
  SELECT traffic_data_id, traffic_data_id, created_at, attack_type_encoded, attack_type_name, confidence,
         model_version
  FROM attack_predictions;
UPDATE self_healing_actions
  SET attack_prediction_id = (SELECT a.traffic_data_id FROM attack_predictions a
                              WHERE a.id = self_healing_actions.attack_prediction_id)
  WHERE attack_prediction_id IS NOT NULL;
DROP TABLE attack_predictions;
ALTER TABLE attack_predictions_v7 RENAME TO attack_predictions;
CREATE INDEX ix_attack_predictions_attack_type_name ON attack_predictions(attack_type_name);
