//! MLflow's JSON shapes for experiments, runs, metrics, models and versions.

use serde_json::{json, Value};

use super::MlflowError;
use crate::tracking::{Experiment, LoggedModel, MetricPoint, RegisteredModel, RegistryVersion, Run, RunDetail};

pub fn pairs_json(pairs: &[(String, String)]) -> Value {
    Value::Array(pairs.iter().map(|(key, value)| json!({ "key": key, "value": value })).collect())
}

/// Reads `[{"key": …, "value": …}]`; a missing value is an empty string, as in MLflow.
pub fn pairs(items: &[Value], field: &str) -> Result<Vec<(String, String)>, MlflowError> {
    items
        .iter()
        .map(|item| {
            let key = item.get("key").and_then(Value::as_str).ok_or_else(|| {
                MlflowError::invalid(format!("every entry of \"{field}\" needs a string \"key\""))
            })?;
            let value = match item.get("value") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            };
            Ok((key.to_string(), value))
        })
        .collect()
}

/// Writes a double as protobuf JSON does: NaN and infinities as strings.
pub fn double(value: f64) -> Value {
    if value.is_nan() {
        json!("NaN")
    } else if value == f64::INFINITY {
        json!("Infinity")
    } else if value == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(value)
    }
}

/// Reads a double sent as a number or as "NaN", "Infinity", "-Infinity" or a numeric string.
pub fn read_double(value: Option<&Value>, field: &str) -> Result<f64, MlflowError> {
    match value {
        Some(Value::Number(number)) => number.as_f64().ok_or_else(|| MlflowError::invalid(format!("{field} is not a number"))),
        Some(Value::String(text)) => match text.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| MlflowError::invalid(format!("{field} must be a number, not \"{other}\""))),
        },
        Some(other) => Err(MlflowError::invalid(format!("{field} must be a number, not {other}"))),
        None => Err(MlflowError::invalid(format!("missing value for required parameter '{field}'"))),
    }
}

pub fn experiment(experiment: &Experiment) -> Value {
    json!({
        "experiment_id": experiment.id.to_string(),
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.created_at,
        "last_update_time": experiment.updated_at,
        "tags": pairs_json(&experiment.tags),
    })
}

pub fn run_info(run: &Run) -> Value {
    let mut info = json!({
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "run_name": run.name,
        "experiment_id": run.experiment_id.to_string(),
        "user_id": run.user_name,
        "status": run.status,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    });
    if let Some(start) = run.start_time {
        info["start_time"] = json!(start);
    }
    if let Some(end) = run.end_time {
        info["end_time"] = json!(end);
    }
    info
}

pub fn metric(point: &MetricPoint) -> Value {
    json!({ "key": point.key, "value": double(point.value), "timestamp": point.timestamp_ms, "step": point.step })
}

pub fn run(detail: &RunDetail) -> Value {
    let inputs: Vec<Value> = detail
        .inputs
        .iter()
        .map(|input| {
            let mut dataset = json!({
                "name": input.name,
                "digest": input.digest,
                "source_type": input.source_type,
                "source": input.source,
            });
            if let Some(schema) = &input.schema {
                dataset["schema"] = json!(schema);
            }
            if let Some(profile) = &input.profile {
                dataset["profile"] = json!(profile);
            }
            json!({ "tags": pairs_json(&input.tags), "dataset": dataset })
        })
        .collect();
    json!({
        "info": run_info(&detail.run),
        "data": {
            "metrics": detail.metrics.iter().map(metric).collect::<Vec<_>>(),
            "params": pairs_json(&detail.params),
            "tags": pairs_json(&detail.tags),
        },
        "inputs": { "dataset_inputs": inputs },
        "outputs": {
            "model_outputs": detail.outputs.iter().map(|(model_id, step)| json!({ "model_id": model_id, "step": step })).collect::<Vec<_>>(),
        },
    })
}

pub fn logged_model(model: &LoggedModel) -> Value {
    let mut info = json!({
        "model_id": model.model_uuid,
        "experiment_id": model.experiment_id.to_string(),
        "name": model.name,
        "artifact_uri": model.artifact_uri,
        "status": model.status,
        "creation_timestamp_ms": model.created_at,
        "last_updated_timestamp_ms": model.updated_at,
        "tags": pairs_json(&model.tags),
        "params": pairs_json(&model.params),
    });
    if let Some(model_type) = &model.model_type {
        info["model_type"] = json!(model_type);
    }
    if let Some(run) = &model.source_run_uuid {
        info["source_run_id"] = json!(run);
    }
    let metrics: Vec<Value> = model
        .metrics
        .iter()
        .map(|point| {
            let mut value = metric(point);
            value["model_id"] = json!(model.model_uuid);
            if let Some(run) = &model.source_run_uuid {
                value["run_id"] = json!(run);
            }
            value
        })
        .collect();
    json!({ "info": info, "data": { "params": pairs_json(&model.params), "metrics": metrics } })
}

pub fn version(version: &RegistryVersion) -> Value {
    let mut value = json!({
        "name": version.model_name,
        "version": version.version.to_string(),
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "current_stage": version.stage,
        "description": version.description,
        "user_id": version.user_name,
        "source": version.source,
        "run_id": version.run_uuid,
        "run_link": version.run_link,
        "status": "READY",
        "tags": pairs_json(&version.tags),
        "aliases": version.aliases,
    });
    if let Some(model) = &version.model_uuid {
        value["model_id"] = json!(model);
    }
    value
}

pub fn registered_model(model: &RegisteredModel, latest: &[RegistryVersion]) -> Value {
    json!({
        "name": model.name,
        "creation_timestamp": model.created_at,
        "last_updated_timestamp": model.updated_at,
        "description": model.description,
        "tags": pairs_json(&model.tags),
        "aliases": model.aliases.iter().map(|(alias, version)| json!({ "alias": alias, "version": version.to_string() })).collect::<Vec<_>>(),
        "latest_versions": latest.iter().map(version).collect::<Vec<_>>(),
    })
}
