-- threatd schema v4 (SQLite): self-healing decisions. See docs/formats/database.md.
-- A self_healing_actions row becomes a decision about a target address or
-- CIDR (storage/decision_repository.h), no longer one row per attack flow:
--   - new columns: target, origin, mode, updated_at, rule, attack_class,
--     confidence, model_version, trigger_flow_ids, detections,
--     escalation_level, duration_seconds, expires_at, created_by;
--   - attack_prediction_id becomes ON DELETE SET NULL (was CASCADE): retention
--     deleting old predictions must not silently delete blocks in force;
--   - self_healing_action_events: every status change of a decision;
--   - healing_settings: the policy and enforcement mode, one row.
-- SQLite cannot change a foreign key in place, so the table is rebuilt
-- (https://sqlite.org/lang_altertable.html#otheralter). The migrator runs this
-- file in a transaction, where PRAGMA foreign_keys cannot be switched off;
-- that is safe here because no table references self_healing_actions yet
-- (the events table is created after the rename), so neither the implicit
-- DELETE of DROP TABLE nor the RENAME touches another table's rows, and the
-- copied rows are checked against attack_predictions as they are inserted.
-- Existing rows keep their ids and values; the new columns get their
-- defaults (target '' = written before decisions had targets) and
-- updated_at = created_at.
-- Indexes: the write path is a few decisions per attacking address, not one
-- row per flow, so two composite indexes are cheap. (target, action_type,
-- mode, created_at) serves CountDecisions (escalation); (status, expires_at)
-- serves ListActiveDecisions, ExpireDecisions and retention. The status-only
-- index stays dropped (0003).

CREATE TABLE self_healing_actions_v4 (
  id                    INTEGER PRIMARY KEY,
  attack_prediction_id  INTEGER REFERENCES attack_predictions(id) ON DELETE SET NULL,
  created_at            INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  action_type           TEXT NOT NULL,
  action_description    TEXT NOT NULL,
  action_params         TEXT CHECK (action_params IS NULL OR json_valid(action_params)),
  status                TEXT NOT NULL DEFAULT 'logged'
                          CHECK (status IN ('pending', 'applied', 'failed', 'expired', 'revoked', 'logged')),
  execution_time        INTEGER,
  error_message         TEXT,
  target                TEXT NOT NULL DEFAULT '' CHECK (length(target) <= 49),
  origin                TEXT NOT NULL DEFAULT 'automatic' CHECK (origin IN ('automatic', 'manual', 'api')),
  mode                  TEXT NOT NULL DEFAULT 'enforce' CHECK (mode IN ('enforce', 'simulate')),
  updated_at            INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  rule                  TEXT CHECK (rule IS NULL OR length(rule) <= 100),
  attack_class          TEXT CHECK (attack_class IS NULL OR length(attack_class) <= 100),
  confidence            REAL,
  model_version         TEXT CHECK (model_version IS NULL OR length(model_version) <= 100),
  trigger_flow_ids      TEXT NOT NULL DEFAULT '[]'
                          CHECK (json_valid(trigger_flow_ids) AND json_type(trigger_flow_ids) = 'array'),
  detections            INTEGER NOT NULL DEFAULT 0,
  escalation_level      INTEGER NOT NULL DEFAULT 0,
  duration_seconds      INTEGER,
  expires_at            INTEGER,
  created_by            TEXT CHECK (created_by IS NULL OR length(created_by) <= 100)
);

INSERT INTO self_healing_actions_v4(id, attack_prediction_id, created_at, action_type, action_description,
                                    action_params, status, execution_time, error_message, updated_at)
  SELECT id, attack_prediction_id, created_at, action_type, action_description, action_params, status,
         execution_time, error_message, created_at
  FROM self_healing_actions;

DROP TABLE self_healing_actions;
ALTER TABLE self_healing_actions_v4 RENAME TO self_healing_actions;

-- The indexes of 0001 that 0003 kept (they went with the old table).
CREATE INDEX ix_self_healing_actions_attack_prediction_id ON self_healing_actions(attack_prediction_id);
CREATE INDEX ix_self_healing_actions_created_at ON self_healing_actions(created_at);
CREATE INDEX ix_self_healing_actions_action_type ON self_healing_actions(action_type);
-- New.
CREATE INDEX ix_self_healing_actions_offences ON self_healing_actions(target, action_type, mode, created_at);
CREATE INDEX ix_self_healing_actions_status_expires ON self_healing_actions(status, expires_at);

CREATE TABLE self_healing_action_events (
  id         INTEGER PRIMARY KEY,
  action_id  INTEGER NOT NULL REFERENCES self_healing_actions(id) ON DELETE CASCADE,
  at         INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  status     TEXT NOT NULL
               CHECK (status IN ('pending', 'applied', 'failed', 'expired', 'revoked', 'logged')),
  message    TEXT NOT NULL,
  actor      TEXT CHECK (actor IS NULL OR length(actor) <= 100)
);
CREATE INDEX ix_self_healing_action_events_action_id ON self_healing_action_events(action_id);

CREATE TABLE healing_settings (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  policy_json  TEXT NOT NULL CHECK (json_valid(policy_json)),
  mode         TEXT NOT NULL CHECK (mode IN ('enforce', 'dry_run')),
  updated_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  updated_by   TEXT CHECK (updated_by IS NULL OR length(updated_by) <= 100)
);
