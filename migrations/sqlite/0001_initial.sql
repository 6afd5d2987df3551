-- threatd schema v1 (SQLite). See docs/formats/database.md.
-- Times are INTEGER microseconds since the Unix epoch (UTC); the application
-- passes them (distinct per row), the defaults are a fallback (ms precision).
-- Booleans are INTEGER 0/1; JSON columns are TEXT checked with json_valid.
-- No BEGIN/COMMIT here: the migrator wraps the file in one transaction.

CREATE TABLE feature_schemas (
  id          INTEGER PRIMARY KEY,
  checksum    TEXT NOT NULL UNIQUE,
  names       TEXT NOT NULL CHECK (json_valid(names)),
  created_at  INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);

CREATE TABLE traffic_data (
  id                 INTEGER PRIMARY KEY,
  created_at         INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  source             TEXT NOT NULL,
  batch_id           TEXT,
  feature_schema_id  INTEGER NOT NULL REFERENCES feature_schemas(id) ON DELETE RESTRICT,
  features           BLOB NOT NULL,
  label              TEXT,
  flow_id            TEXT,
  src_ip             TEXT,
  src_port           INTEGER,
  dst_ip             TEXT,
  dst_port           INTEGER,
  protocol           INTEGER,
  flow_timestamp     INTEGER,
  kafka_topic        TEXT,
  kafka_partition    INTEGER,
  kafka_offset       INTEGER,
  UNIQUE (kafka_topic, kafka_partition, kafka_offset)
);
CREATE INDEX ix_traffic_data_created_at ON traffic_data(created_at);
CREATE INDEX ix_traffic_data_batch_id ON traffic_data(batch_id);
CREATE INDEX ix_traffic_data_src_ip ON traffic_data(src_ip);
CREATE INDEX ix_traffic_data_feature_schema_id ON traffic_data(feature_schema_id);

CREATE TABLE threat_predictions (
  id                INTEGER PRIMARY KEY,
  traffic_data_id   INTEGER NOT NULL UNIQUE REFERENCES traffic_data(id) ON DELETE CASCADE,
  created_at        INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  prediction_score  REAL NOT NULL,
  is_attack         INTEGER NOT NULL CHECK (is_attack IN (0, 1)),
  threshold         REAL NOT NULL DEFAULT 0.5,
  model_version     TEXT NOT NULL
);
CREATE INDEX ix_threat_predictions_created_at ON threat_predictions(created_at);
CREATE INDEX ix_threat_predictions_is_attack ON threat_predictions(is_attack);

CREATE TABLE attack_predictions (
  id                   INTEGER PRIMARY KEY,
  traffic_data_id      INTEGER NOT NULL UNIQUE REFERENCES traffic_data(id) ON DELETE CASCADE,
  created_at           INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  attack_type_encoded  INTEGER NOT NULL,
  attack_type_name     TEXT NOT NULL,
  confidence           REAL,
  model_version        TEXT NOT NULL
);
CREATE INDEX ix_attack_predictions_created_at ON attack_predictions(created_at);
CREATE INDEX ix_attack_predictions_attack_type_name ON attack_predictions(attack_type_name);

CREATE TABLE self_healing_actions (
  id                    INTEGER PRIMARY KEY,
  attack_prediction_id  INTEGER REFERENCES attack_predictions(id) ON DELETE CASCADE,
  created_at            INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  action_type           TEXT NOT NULL,
  action_description    TEXT NOT NULL,
  action_params         TEXT CHECK (action_params IS NULL OR json_valid(action_params)),
  status                TEXT NOT NULL DEFAULT 'logged',
  execution_time        INTEGER,
  error_message         TEXT
);
CREATE INDEX ix_self_healing_actions_attack_prediction_id ON self_healing_actions(attack_prediction_id);
CREATE INDEX ix_self_healing_actions_created_at ON self_healing_actions(created_at);
CREATE INDEX ix_self_healing_actions_action_type ON self_healing_actions(action_type);
CREATE INDEX ix_self_healing_actions_status ON self_healing_actions(status);

CREATE TABLE ip_whitelist (
  id           INTEGER PRIMARY KEY,
  ip_address   TEXT NOT NULL UNIQUE CHECK (length(ip_address) BETWEEN 1 AND 49),
  description  TEXT,
  created_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  updated_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  is_active    INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_by   TEXT CHECK (created_by IS NULL OR length(created_by) <= 100),
  expires_at   INTEGER
);
CREATE INDEX ix_ip_whitelist_is_active ON ip_whitelist(is_active);

CREATE TABLE data_source_config (
  id             INTEGER PRIMARY KEY,
  source_name    TEXT NOT NULL UNIQUE CHECK (length(source_name) BETWEEN 1 AND 50),
  is_enabled     INTEGER NOT NULL DEFAULT 0 CHECK (is_enabled IN (0, 1)),
  description    TEXT,
  config_params  TEXT CHECK (config_params IS NULL OR json_valid(config_params)),
  updated_at     INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);
INSERT INTO data_source_config(source_name, is_enabled, description, config_params) VALUES
  ('packet_capture', 0, 'Network packet capture from server interface', '{"interface": "any", "buffer_size": 1000}'),
  ('external_kafka', 0, 'External data providers via Kafka', '{"topic": "external-traffic"}'),
  ('internal_kafka', 1, 'Internal test data stream', '{"topic": "network-traffic"}');

CREATE TABLE ml_models (
  id                   INTEGER PRIMARY KEY,
  model_type           TEXT NOT NULL CHECK (length(model_type) <= 50),
  version              TEXT NOT NULL CHECK (length(version) <= 100),
  file_path            TEXT NOT NULL CHECK (length(file_path) <= 500),
  file_format          TEXT NOT NULL CHECK (length(file_format) <= 20),
  original_filename    TEXT NOT NULL CHECK (length(original_filename) <= 255),
  is_active            INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
  model_metadata       TEXT CHECK (model_metadata IS NULL OR json_valid(model_metadata)),
  validation_results   TEXT CHECK (validation_results IS NULL OR json_valid(validation_results)),
  file_size_bytes      INTEGER,
  expected_features    TEXT CHECK (expected_features IS NULL OR json_valid(expected_features)),
  class_labels         TEXT CHECK (class_labels IS NULL OR json_valid(class_labels)),
  preprocessing_notes  TEXT,
  created_at           INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  uploaded_by          TEXT CHECK (uploaded_by IS NULL OR length(uploaded_by) <= 100),
  description          TEXT,
  sha256               TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
  activated_at         INTEGER,
  UNIQUE (model_type, version)
);
CREATE INDEX ix_ml_models_model_type ON ml_models(model_type);
CREATE INDEX ix_ml_models_is_active ON ml_models(is_active);
-- At most one active model per type (the original enforced this in code only).
CREATE UNIQUE INDEX ux_ml_models_one_active ON ml_models(model_type) WHERE is_active = 1;

CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  prefix        TEXT NOT NULL UNIQUE,
  salt          TEXT NOT NULL,
  key_hash      TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at    INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  created_by    TEXT,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);

CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY,
  created_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  target_type  TEXT,
  target_id    TEXT,
  details      TEXT CHECK (details IS NULL OR json_valid(details)),
  request_id   TEXT
);
CREATE INDEX ix_audit_log_created_at ON audit_log(created_at);
