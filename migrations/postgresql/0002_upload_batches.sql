-- threatd schema v2 (PostgreSQL 15): upload batches. See docs/formats/database.md.
-- One row per CSV upload: its status, row counts and the summary (counts by
-- class and by rejection reason with the first examples).

CREATE TABLE upload_batches (
  batch_id       varchar(64) PRIMARY KEY,
  filename       varchar(255) NOT NULL,
  status         varchar(20) NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
  total_rows     bigint NOT NULL DEFAULT 0,
  accepted_rows  bigint NOT NULL DEFAULT 0,
  rejected_rows  bigint NOT NULL DEFAULT 0,
  summary        jsonb,
  error          text,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at    timestamptz,
  created_by     varchar(100)
);
CREATE INDEX ix_upload_batches_created_at ON upload_batches(created_at);
CREATE INDEX ix_upload_batches_status ON upload_batches(status);
