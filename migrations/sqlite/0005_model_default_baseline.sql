-- The baseline a model's monitoring pages use when the URL names none, as the JSON of
-- `types::Baseline`; NULL means training data.
ALTER TABLE models ADD COLUMN default_baseline_json TEXT;
