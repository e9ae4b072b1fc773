-- Initial schema. Times are Unix milliseconds (BIGINT) and flags are 0/1 integers, so the same
-- queries and Rust types work on SQLite and PostgreSQL through sqlx's Any driver.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    default_workspace_id BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- Sessions live in the database so that any replica can serve any user.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed logins per account and per client address, shared by all replicas for rate limiting.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_key TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_key_time ON login_failures (scope_key, failed_at);

CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schema_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (model_id, version)
);

CREATE TABLE ingestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    environment TEXT NOT NULL CHECK (environment IN ('training', 'validation', 'production')),
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    rows_ingested BIGINT NOT NULL,
    rows_skipped BIGINT NOT NULL,
    -- Rows become visible only when their ingestion is 'complete', so a failed or
    -- interrupted file never shows half-ingested.
    status TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'failed')),
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

-- Raw rows, kept for drill-down and exact recomputation. Values are a JSON array in the
-- order of the model schema's columns.
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    ingestion_id BIGINT NOT NULL REFERENCES ingestions(id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    values_json TEXT NOT NULL
);
CREATE INDEX records_version_env_time ON records (model_version_id, environment, timestamp_ms);

-- Mergeable per-day summaries of each column, one set per ingestion, so pages compute drift
-- for any window by merging them instead of rescanning raw rows, and concurrent ingestions
-- never update the same row.
CREATE TABLE column_summaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    ingestion_id BIGINT NOT NULL REFERENCES ingestions(id) ON DELETE CASCADE,
    bucket_start_ms BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    UNIQUE (ingestion_id, bucket_start_ms, column_name)
);
CREATE INDEX column_summaries_version_env_time
    ON column_summaries (model_version_id, environment, bucket_start_ms);
