-- A client-chosen key per ingestion, so that a retried batch is stored once. Failed
-- ingestions give their key up (set to NULL), so the same batch can be sent again.
ALTER TABLE ingestions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX ingestions_idempotency_key
    ON ingestions (model_version_id, environment, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
