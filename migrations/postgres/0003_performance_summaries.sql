-- Mergeable performance counts per ingestion and day: (actual, prediction) pairs, scores
-- per actual label, and regression error sums. Rows without an actual add nothing.
CREATE TABLE performance_summaries (
    id BIGSERIAL PRIMARY KEY,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    ingestion_id BIGINT NOT NULL REFERENCES ingestions(id) ON DELETE CASCADE,
    bucket_start_ms BIGINT NOT NULL,
    summary_json TEXT NOT NULL,
    UNIQUE (ingestion_id, bucket_start_ms)
);
CREATE INDEX performance_summaries_version_env_time
    ON performance_summaries (model_version_id, environment, bucket_start_ms);
