-- Experiment tracking (projects, runs, params, tags, metric series, dataset inputs, logged
-- models) and the model registry with its promotion workflow. MLflow calls projects
-- experiments; the MLflow-compatible API uses that name, the pages say project.

-- A token may act in one workspace only; NULL means its user's default workspace.
ALTER TABLE api_tokens ADD COLUMN workspace_id BIGINT REFERENCES workspaces(id) ON DELETE CASCADE;

CREATE TABLE experiments (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    artifact_location TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE experiment_tags (
    experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    run_uuid TEXT NOT NULL UNIQUE,
    experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    user_name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time BIGINT,
    end_time BIGINT,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active',
    artifact_uri TEXT NOT NULL,
    parent_run_uuid TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX runs_experiment ON runs (experiment_id, start_time);

CREATE TABLE run_params (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE run_tags (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

-- Every logged point. NaN, which SQLite cannot hold, is stored as value 0 with is_nan = 1,
-- so that the unique index below also catches a NaN point sent twice.
CREATE TABLE metrics (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    is_nan BIGINT NOT NULL DEFAULT 0,
    timestamp_ms BIGINT NOT NULL,
    step BIGINT NOT NULL
);
-- One row per distinct point, so a point sent twice is stored once; also serves history
-- reads in step order.
CREATE UNIQUE INDEX metrics_point ON metrics (run_id, key, step, timestamp_ms, value, is_nan);

-- The latest point per run and key (highest step, then time, then value), as MLflow
-- defines it, so that search and sort never scan the series.
CREATE TABLE latest_metrics (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value DOUBLE PRECISION,
    is_nan BIGINT NOT NULL DEFAULT 0,
    timestamp_ms BIGINT NOT NULL,
    step BIGINT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key_value ON latest_metrics (key, value);

CREATE TABLE datasets (
    id BIGSERIAL PRIMARY KEY,
    experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source TEXT NOT NULL,
    schema_json TEXT,
    profile_json TEXT,
    UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_inputs (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    tags_json TEXT NOT NULL,
    PRIMARY KEY (run_id, dataset_id)
);

-- MLflow 3 logged models: a model's artifacts, made by a run, before it is registered.
CREATE TABLE logged_models (
    id BIGSERIAL PRIMARY KEY,
    model_uuid TEXT NOT NULL UNIQUE,
    experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    model_type TEXT,
    source_run_uuid TEXT,
    status TEXT NOT NULL,
    artifact_uri TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE logged_model_tags (
    logged_model_id BIGINT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (logged_model_id, key)
);

CREATE TABLE logged_model_params (
    logged_model_id BIGINT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (logged_model_id, key)
);

-- Models a run produced (MLflow 3's run outputs), with the step they were logged at.
CREATE TABLE run_outputs (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    logged_model_id BIGINT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    step BIGINT NOT NULL,
    PRIMARY KEY (run_id, logged_model_id)
);

-- Metrics logged for a model (MLflow 3 sends a run's metrics again with the model's id).
CREATE TABLE logged_model_metrics (
    logged_model_id BIGINT NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value DOUBLE PRECISION,
    is_nan BIGINT NOT NULL DEFAULT 0,
    timestamp_ms BIGINT NOT NULL,
    step BIGINT NOT NULL,
    PRIMARY KEY (logged_model_id, key, step, timestamp_ms)
);

CREATE TABLE registered_models (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE registered_model_tags (
    registered_model_id BIGINT NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (registered_model_id, key)
);

CREATE TABLE registry_versions (
    id BIGSERIAL PRIMARY KEY,
    registered_model_id BIGINT NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    run_uuid TEXT NOT NULL DEFAULT '',
    run_link TEXT NOT NULL DEFAULT '',
    model_uuid TEXT,
    user_name TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL DEFAULT 'None',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (registered_model_id, version)
);

CREATE TABLE registry_version_tags (
    registry_version_id BIGINT NOT NULL REFERENCES registry_versions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (registry_version_id, key)
);

CREATE TABLE registry_aliases (
    registered_model_id BIGINT NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (registered_model_id, alias)
);

-- Who may approve what. A row with registered_model_id NULL is the workspace default.
CREATE TABLE promotion_policies (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    registered_model_id BIGINT REFERENCES registered_models(id) ON DELETE CASCADE,
    policy_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX promotion_policies_model ON promotion_policies (workspace_id, registered_model_id);

CREATE TABLE promotion_requests (
    id BIGSERIAL PRIMARY KEY,
    registered_model_id BIGINT NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    version BIGINT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES users(id),
    comment TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'superseded')),
    policy_json TEXT NOT NULL,
    gates_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX promotion_requests_model ON promotion_requests (registered_model_id, status);
-- At most one pending request per alias: a newer request supersedes the pending one, and
-- this index makes two concurrent requests retry instead of both staying pending.
CREATE UNIQUE INDEX promotion_requests_one_pending ON promotion_requests (registered_model_id, alias)
    WHERE status = 'pending';

CREATE TABLE promotion_reviews (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES promotion_requests(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (request_id, user_id)
);

-- The append-only history of the registry: requests, reviews, alias moves, direct changes.
CREATE TABLE registry_events (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    registered_model_id BIGINT REFERENCES registered_models(id) ON DELETE SET NULL,
    model_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    alias TEXT,
    version BIGINT,
    previous_version BIGINT,
    request_id BIGINT,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX registry_events_model ON registry_events (registered_model_id, id);

CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

-- One delivery per webhook and event. Any replica may claim a due delivery; the claim
-- column makes two replicas never send the same attempt.
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES registry_events(id) ON DELETE CASCADE,
    event_kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
