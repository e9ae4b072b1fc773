-- Actuals sent after their predictions, keyed by prediction id. Each is written into the
-- production rows with that id and kept here, so predictions stored later (however much
-- later) get it too. actual_json is a JSON number or string, as in records.values_json.
CREATE TABLE delayed_actuals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    actual_json TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (model_version_id, record_id)
);

CREATE INDEX records_version_record_id ON records (model_version_id, record_id);
