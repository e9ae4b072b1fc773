-- Metric points packed per run, key and log call (see src/tracking/series.rs for the
-- layout). Writing one row per key and call instead of one per point, with no unique index
-- over every point, is what makes log-batch fast; reads merge the blocks and drop repeats.
-- Rows of the old metrics table are moved into blocks when the server starts.
CREATE TABLE metric_blocks (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    points BYTEA NOT NULL
);
CREATE INDEX metric_blocks_series ON metric_blocks (run_id, key, id);
