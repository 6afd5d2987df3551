-- threatd schema v2 (SQLite): upload batches. See docs/formats/database.md.
-- One row per CSV upload: its status, row counts and the summary (counts by
-- class and by rejection reason with the first examples).

CREATE TABLE upload_batches (
  batch_id       TEXT PRIMARY KEY CHECK (length(batch_id) BETWEEN 1 AND 64),
  filename       TEXT NOT NULL CHECK (length(filename) <= 255),
  status         TEXT NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
  total_rows     INTEGER NOT NULL DEFAULT 0,
  accepted_rows  INTEGER NOT NULL DEFAULT 0,
  rejected_rows  INTEGER NOT NULL DEFAULT 0,
  summary        TEXT CHECK (summary IS NULL OR json_valid(summary)),
  error          TEXT,
  created_at     INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
  finished_at    INTEGER,
  created_by     TEXT CHECK (created_by IS NULL OR length(created_by) <= 100)
);
CREATE INDEX ix_upload_batches_created_at ON upload_batches(created_at);
CREATE INDEX ix_upload_batches_status ON upload_batches(status);
