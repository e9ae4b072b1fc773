//! Experiment tracking and the model registry: the entities, MLflow's search syntax, the
//! artifact store and the promotion workflow.

pub mod artifacts;
pub mod charts;
pub mod promotion;
pub mod search;
pub mod series;
pub mod views;
pub mod webhooks;

use serde::{Deserialize, Serialize};

/// The maximum number of values in one log-batch call, as in MLflow.
pub const MAX_BATCH_METRICS: usize = 1000;
pub const MAX_BATCH_PARAMS: usize = 100;
pub const MAX_BATCH_TAGS: usize = 100;
pub const MAX_BATCH_ENTITIES: usize = 1000;
/// Field limits, as in MLflow.
pub const MAX_KEY_LENGTH: usize = 250;
pub const MAX_PARAM_VALUE_LENGTH: usize = 6000;
pub const MAX_TAG_VALUE_LENGTH: usize = 8000;
pub const MAX_RESULTS: i64 = 50_000;

#[derive(Clone, Debug)]
pub struct Experiment {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Run {
    pub id: i64,
    pub run_uuid: String,
    pub experiment_id: i64,
    pub name: String,
    pub user_name: String,
    pub status: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub lifecycle_stage: String,
    pub artifact_uri: String,
}

/// One point of a metric series. `value` is NaN when the client logged NaN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub key: String,
    pub value: f64,
    pub timestamp_ms: i64,
    pub step: i64,
}

#[derive(Clone, Debug, Default)]
pub struct DatasetInput {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    pub schema: Option<String>,
    pub profile: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A run with everything MLflow's run view returns.
#[derive(Clone, Debug)]
pub struct RunDetail {
    pub run: Run,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub metrics: Vec<MetricPoint>,
    pub inputs: Vec<DatasetInput>,
    /// Logged models the run produced, as (model id, step).
    pub outputs: Vec<(String, i64)>,
}

#[derive(Clone, Debug)]
pub struct LoggedModel {
    pub id: i64,
    pub model_uuid: String,
    pub experiment_id: i64,
    pub name: String,
    pub model_type: Option<String>,
    pub source_run_uuid: Option<String>,
    pub status: String,
    pub artifact_uri: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
    /// Metrics logged with this model's id, all points.
    pub metrics: Vec<MetricPoint>,
}

#[derive(Clone, Debug)]
pub struct RegisteredModel {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<(String, String)>,
    pub aliases: Vec<(String, i64)>,
}

#[derive(Clone, Debug)]
pub struct RegistryVersion {
    pub id: i64,
    pub registered_model_id: i64,
    pub model_name: String,
    pub version: i64,
    pub description: String,
    pub source: String,
    pub run_uuid: String,
    pub run_link: String,
    pub model_uuid: Option<String>,
    pub user_name: String,
    pub stage: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<(String, String)>,
    pub aliases: Vec<String>,
}

/// Checks an MLflow key (metric, param or tag name) the way MLflow does.
pub fn check_key(kind: &str, key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err(format!("{kind} key must not be empty"));
    }
    if key.chars().count() > MAX_KEY_LENGTH {
        return Err(format!("{kind} key \"{}…\" is longer than {MAX_KEY_LENGTH} characters", key.chars().take(40).collect::<String>()));
    }
    if key.starts_with('/') || key.split('/').any(|part| part == "..") {
        return Err(format!("{kind} key \"{key}\" must not start with '/' or contain '..'"));
    }
    if !key.chars().all(|c| c.is_alphanumeric() || "_-. /:".contains(c)) {
        return Err(format!(
            "{kind} key \"{key}\" may contain only letters, digits, underscores, dashes, periods, spaces, colons and slashes"
        ));
    }
    Ok(())
}

/// Returns a new 32-character hexadecimal id, the form of MLflow's run ids.
pub fn new_uuid() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
