//! Experiments, runs, metrics and logged models of the MLflow API.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::json::{self as shape, read_double};
use super::{next_page_token, BatchFields, Caller, Fields, MetricItem, MlflowError, MlflowResult};
use crate::db::tracking::{ViewType, EXPERIMENT_TAGS, LOGGED_MODEL_PARAMS, LOGGED_MODEL_TAGS, RUN_TAGS};
use crate::server::AppState;
use crate::tracking::search::{parse_filter, parse_order_by, Field, Op, OrderBy, Value as SearchValue};
use crate::tracking::{
    check_key, DatasetInput, Experiment, MetricPoint, Run, MAX_BATCH_ENTITIES, MAX_BATCH_METRICS, MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH,
};

const RUN_STATUSES: [&str; 5] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

/// Finds an experiment by its id text; "0" is the workspace's Default project.
pub(super) async fn experiment_of(state: &AppState, caller: &Caller, id: &str) -> Result<Experiment, MlflowError> {
    if id == "0" {
        return Ok(state.db.default_experiment(caller.workspace_id).await?);
    }
    let found = match id.parse::<i64>() {
        Ok(number) => state.db.experiment(caller.workspace_id, number).await?,
        Err(_) => None,
    };
    found.ok_or_else(|| MlflowError::missing(format!("No Experiment with id={id} exists")))
}

async fn run_of(state: &AppState, caller: &Caller, fields: &Fields) -> Result<Run, MlflowError> {
    let run_id = match fields.text("run_id")? {
        Some(id) if !id.is_empty() => id,
        _ => fields.required_text("run_uuid")?,
    };
    state
        .db
        .run(caller.workspace_id, &run_id)
        .await?
        .ok_or_else(|| MlflowError::missing(format!("Run with id={run_id} not found")))
}

/// A run that accepts new data: it must not be deleted.
async fn active_run(state: &AppState, caller: &Caller, fields: &Fields) -> Result<Run, MlflowError> {
    caller.require_write()?;
    let run = run_of(state, caller, fields).await?;
    if run.lifecycle_stage != "active" {
        return Err(MlflowError::invalid(format!(
            "The run {} must be in the 'active' state. Current state is {}; restore it first.",
            run.run_uuid, run.lifecycle_stage
        )));
    }
    Ok(run)
}

/// Looks up the workspace's experiments among `experiment_ids`. MLflow returns nothing for ids that
/// do not exist, rather than failing, and so does this.
async fn experiment_ids_of(state: &AppState, caller: &Caller, fields: &Fields) -> Result<Vec<i64>, MlflowError> {
    let mut ids = Vec::new();
    for id in fields.list("experiment_ids") {
        let id = match id {
            Value::String(text) => text,
            other => other.to_string(),
        };
        match experiment_of(state, caller, &id).await {
            Ok(experiment) => ids.push(experiment.id),
            Err(error) if error.code == "RESOURCE_DOES_NOT_EXIST" => {}
            Err(error) => return Err(error),
        }
    }
    Ok(ids)
}

/// Finds the points among `items` that name a logged model (`model_id`), with that model's row id.
async fn model_metrics_of(
    state: &AppState,
    caller: &Caller,
    items: &[MetricItem],
    points: &[MetricPoint],
) -> Result<Vec<(i64, MetricPoint)>, MlflowError> {
    let mut found: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut linked = Vec::new();
    for (item, point) in items.iter().zip(points) {
        let Some(model_id) = item.model_id.as_ref().and_then(Value::as_str).filter(|id| !id.is_empty()) else { continue };
        let id = match found.get(model_id) {
            Some(id) => *id,
            None => {
                let model = logged_model_of(state, caller, model_id).await?;
                found.insert(model_id.to_string(), model.id);
                model.id
            }
        };
        linked.push((id, point.clone()));
    }
    Ok(linked)
}

fn check_tags(tags: &[(String, String)]) -> Result<(), MlflowError> {
    for (key, value) in tags {
        check_key("tag", key).map_err(MlflowError::invalid)?;
        if value.chars().count() > MAX_TAG_VALUE_LENGTH {
            return Err(MlflowError::invalid(format!(
                "tag \"{key}\" has a value longer than {MAX_TAG_VALUE_LENGTH} characters; shorten it or log it as an artifact"
            )));
        }
    }
    Ok(())
}

fn check_params(params: &[(String, String)]) -> Result<(), MlflowError> {
    for (key, value) in params {
        check_key("param", key).map_err(MlflowError::invalid)?;
        if value.chars().count() > MAX_PARAM_VALUE_LENGTH {
            return Err(MlflowError::invalid(format!(
                "param \"{key}\" has a value longer than {MAX_PARAM_VALUE_LENGTH} characters; shorten it or log it as an artifact"
            )));
        }
    }
    let mut seen = std::collections::HashMap::new();
    for (key, value) in params {
        if let Some(previous) = seen.insert(key, value) {
            if previous != value {
                return Err(MlflowError::invalid(format!(
                    "param \"{key}\" appears twice in the batch with different values (\"{previous}\" and \"{value}\")"
                )));
            }
        }
    }
    Ok(())
}

fn metric_point(item: &MetricItem, now: i64) -> Result<MetricPoint, MlflowError> {
    let key = item
        .key
        .as_ref()
        .and_then(Value::as_str)
        .ok_or_else(|| MlflowError::invalid("every metric needs a string \"key\""))?;
    check_key("metric", key).map_err(MlflowError::invalid)?;
    // Numbers skip read_double, which needs the field's name formatted for its messages.
    let value = match item.value.as_ref().and_then(Value::as_f64) {
        Some(number) => number,
        None => read_double(item.value.as_ref().filter(|value| !value.is_null()), &format!("metric \"{key}\" value"))?,
    };
    let int = |field: &str, value: &Option<Value>| -> Result<Option<i64>, MlflowError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => number
                .as_i64()
                .map(Some)
                .ok_or_else(|| MlflowError::invalid(format!("metric \"{key}\" {field} must be a whole number"))),
            Some(Value::String(text)) => text
                .parse()
                .map(Some)
                .map_err(|_| MlflowError::invalid(format!("metric \"{key}\" {field} must be a whole number, not \"{text}\""))),
            Some(other) => Err(MlflowError::invalid(format!("metric \"{key}\" {field} must be a whole number, not {other}"))),
        }
    };
    Ok(MetricPoint {
        key: key.to_string(),
        value,
        timestamp_ms: int("timestamp", &item.timestamp)?.unwrap_or(now),
        step: int("step", &item.step)?.unwrap_or(0),
    })
}

async fn write_batch(
    state: &AppState,
    run: &Run,
    metrics: &[MetricPoint],
    params: &[(String, String)],
    tags: &[(String, String)],
    model_metrics: &[(i64, MetricPoint)],
) -> Result<(), MlflowError> {
    match state.db.log_batch(run.id, metrics, params, tags, model_metrics).await? {
        Ok(()) => Ok(()),
        Err(message) => Err(MlflowError::invalid(message)),
    }
}

fn order_list(fields: &Fields) -> Result<Vec<OrderBy>, MlflowError> {
    fields
        .list("order_by")
        .iter()
        .filter_map(|value| value.as_str())
        .filter(|text| !text.trim().is_empty())
        .map(|text| parse_order_by(text).map_err(MlflowError::from))
        .collect()
}

// ---- Experiments -----------------------------------------------------------------------

pub async fn create_experiment(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let name = fields.required_text("name")?;
    if name.trim().is_empty() {
        return Err(MlflowError::invalid("Invalid experiment name: ''. Give the experiment a name."));
    }
    if name.chars().count() > 500 {
        return Err(MlflowError::invalid("the experiment name is longer than 500 characters"));
    }
    let tags = fields.pairs("tags")?;
    check_tags(&tags)?;
    match state.db.create_experiment(caller.workspace_id, &name, &tags).await {
        Ok(id) => Ok(Json(json!({ "experiment_id": id.to_string() }))),
        Err(error) if crate::db::is_unique_violation(&error) => {
            Err(MlflowError::exists(format!("Experiment '{name}' already exists.")))
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn get_experiment(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    Ok(Json(json!({ "experiment": shape::experiment(&experiment) })))
}

pub async fn get_experiment_by_name(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let name = fields.required_text("experiment_name")?;
    let experiment = match state.db.experiment_by_name(caller.workspace_id, &name).await? {
        Some(experiment) => experiment,
        None if name == "Default" => state.db.default_experiment(caller.workspace_id).await?,
        None => return Err(MlflowError::missing(format!("Could not find experiment with name '{name}'"))),
    };
    Ok(Json(json!({ "experiment": shape::experiment(&experiment) })))
}

pub async fn search_experiments(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let limit = fields.max_results(1000, 50_000)?;
    let offset = fields.offset()?;
    let view = ViewType::parse(fields.text("view_type")?.as_deref()).map_err(MlflowError::invalid)?;
    let clauses = parse_filter(&fields.text("filter")?.unwrap_or_default())?;
    let orders = order_list(&fields)?;
    // The Default project exists in every workspace, as it does on an MLflow server.
    state.db.default_experiment(caller.workspace_id).await?;
    let experiments = state.db.search_experiments(caller.workspace_id, view, &clauses, &orders, limit, offset).await?;
    let mut body = json!({ "experiments": experiments.iter().map(shape::experiment).collect::<Vec<_>>() });
    if let Some(token) = next_page_token(offset, limit, experiments.len()) {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

pub async fn update_experiment(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    if let Some(name) = fields.text("new_name")? {
        if name.trim().is_empty() {
            return Err(MlflowError::invalid("the new experiment name is empty"));
        }
        match state.db.rename_experiment(experiment.id, &name).await {
            Ok(()) => {}
            Err(error) if crate::db::is_unique_violation(&error) => {
                return Err(MlflowError::exists(format!("Experiment '{name}' already exists.")))
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Json(json!({})))
}

pub async fn delete_experiment(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    if experiment.name == "Default" {
        return Err(MlflowError::invalid("the Default experiment cannot be deleted"));
    }
    state.db.set_experiment_stage(experiment.id, "deleted").await?;
    Ok(Json(json!({})))
}

pub async fn restore_experiment(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    state.db.set_experiment_stage(experiment.id, "active").await?;
    Ok(Json(json!({})))
}

pub async fn set_experiment_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    let tag = (fields.required_text("key")?, fields.text("value")?.unwrap_or_default());
    check_tags(std::slice::from_ref(&tag))?;
    EXPERIMENT_TAGS.set(&state.db.pool, experiment.id, &tag.0, &tag.1).await?;
    Ok(Json(json!({})))
}

pub async fn delete_experiment_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    let key = fields.required_text("key")?;
    if !EXPERIMENT_TAGS.delete(&state.db.pool, experiment.id, &key).await? {
        return Err(MlflowError::missing(format!("No tag with name: {key} in experiment {}", experiment.id)));
    }
    Ok(Json(json!({})))
}

// ---- Runs ------------------------------------------------------------------------------

pub async fn create_run(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.text("experiment_id")?.unwrap_or_else(|| "0".into())).await?;
    if experiment.lifecycle_stage != "active" {
        return Err(MlflowError::invalid(format!(
            "The experiment {} must be in the 'active' state; restore it first.",
            experiment.id
        )));
    }
    let tags = fields.pairs("tags")?;
    check_tags(&tags)?;
    let name = fields
        .text("run_name")?
        .filter(|name| !name.is_empty())
        .or_else(|| tags.iter().find(|(key, _)| key == "mlflow.runName").map(|(_, value)| value.clone()))
        .unwrap_or_else(|| format!("run-{}", &crate::tracking::new_uuid()[..8]));
    let user = fields.text("user_id")?.filter(|user| !user.is_empty()).unwrap_or_else(|| caller.user.username.clone());
    let start = fields.int("start_time")?.or(Some(crate::db::now_ms()));
    let run = state.db.create_run(&experiment, &name, &user, start, &tags).await?;
    let detail = state.db.run_details(vec![run]).await?.remove(0);
    Ok(Json(json!({ "run": shape::run(&detail) })))
}

pub async fn update_run(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let run = run_of(&state, &caller, &fields).await?;
    let status = fields.text("status")?;
    if let Some(status) = &status {
        if !RUN_STATUSES.contains(&status.as_str()) {
            return Err(MlflowError::invalid(format!("run status \"{status}\" is not one of {}", RUN_STATUSES.join(", "))));
        }
    }
    let name = fields.text("run_name")?.filter(|name| !name.is_empty());
    state.db.update_run(run.id, status.as_deref(), fields.int("end_time")?, name.as_deref()).await?;
    let run = run_of(&state, &caller, &fields).await?;
    Ok(Json(json!({ "run_info": shape::run_info(&run) })))
}

pub async fn get_run(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = run_of(&state, &caller, &fields).await?;
    let detail = state.db.run_details(vec![run]).await?.remove(0);
    Ok(Json(json!({ "run": shape::run(&detail) })))
}

pub async fn delete_run(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let run = run_of(&state, &caller, &fields).await?;
    state.db.set_run_stage(run.id, "deleted").await?;
    Ok(Json(json!({})))
}

pub async fn restore_run(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let run = run_of(&state, &caller, &fields).await?;
    state.db.set_run_stage(run.id, "active").await?;
    Ok(Json(json!({})))
}

pub async fn set_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let tag = (fields.required_text("key")?, fields.text("value")?.unwrap_or_default());
    check_tags(std::slice::from_ref(&tag))?;
    write_batch(&state, &run, &[], &[], &[tag], &[]).await?;
    Ok(Json(json!({})))
}

pub async fn delete_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let key = fields.required_text("key")?;
    if !RUN_TAGS.delete(&state.db.pool, run.id, &key).await? {
        return Err(MlflowError::missing(format!("No tag with name: {key} in run with id {}", run.run_uuid)));
    }
    Ok(Json(json!({})))
}

pub async fn log_metric(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let item = MetricItem {
        key: fields.get("key").cloned(),
        value: fields.get("value").cloned(),
        timestamp: fields.get("timestamp").cloned(),
        step: fields.get("step").cloned(),
        model_id: fields.get("model_id").cloned(),
    };
    let point = metric_point(&item, crate::db::now_ms())?;
    let model_metrics = model_metrics_of(&state, &caller, std::slice::from_ref(&item), std::slice::from_ref(&point)).await?;
    write_batch(&state, &run, &[point], &[], &[], &model_metrics).await?;
    Ok(Json(json!({})))
}

pub async fn log_param(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let param = (fields.required_text("key")?, fields.text("value")?.unwrap_or_default());
    check_params(std::slice::from_ref(&param))?;
    write_batch(&state, &run, &[], &[param], &[], &[]).await?;
    Ok(Json(json!({})))
}

pub async fn log_batch(State(state): State<AppState>, caller: Caller, batch: BatchFields) -> MlflowResult {
    let BatchFields { fields, metrics: metric_items } = batch;
    let run = active_run(&state, &caller, &fields).await?;
    let params = fields.pairs("params")?;
    let tags = fields.pairs("tags")?;
    if metric_items.len() > MAX_BATCH_METRICS {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_BATCH_METRICS} metrics. Got {} metrics; split the batch.",
            metric_items.len()
        )));
    }
    if params.len() > MAX_BATCH_PARAMS {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_BATCH_PARAMS} params. Got {} params; split the batch.",
            params.len()
        )));
    }
    if tags.len() > MAX_BATCH_TAGS {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_BATCH_TAGS} tags. Got {} tags; split the batch.",
            tags.len()
        )));
    }
    let total = metric_items.len() + params.len() + tags.len();
    if total > MAX_BATCH_ENTITIES {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_BATCH_ENTITIES} metrics, params and tags in total. Got {total}; split the batch."
        )));
    }
    let now = crate::db::now_ms();
    let metrics = metric_items.iter().map(|item| metric_point(item, now)).collect::<Result<Vec<_>, _>>()?;
    check_params(&params)?;
    check_tags(&tags)?;
    let model_metrics = model_metrics_of(&state, &caller, &metric_items, &metrics).await?;
    write_batch(&state, &run, &metrics, &params, &tags, &model_metrics).await?;
    Ok(Json(json!({})))
}

pub async fn log_inputs(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let mut inputs = Vec::new();
    for item in fields.list("datasets") {
        let dataset = item.get("dataset").ok_or_else(|| MlflowError::invalid("every dataset input needs a \"dataset\""))?;
        let text = |field: &str| dataset.get(field).and_then(Value::as_str).map(str::to_string);
        let name = text("name").ok_or_else(|| MlflowError::invalid("a dataset needs a \"name\""))?;
        let digest = text("digest").ok_or_else(|| MlflowError::invalid(format!("dataset \"{name}\" needs a \"digest\"")))?;
        inputs.push(DatasetInput {
            name,
            digest,
            source_type: text("source_type").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            schema: text("schema"),
            profile: text("profile"),
            tags: shape::pairs(item.get("tags").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]), "tags")?,
        });
    }
    state.db.log_inputs(&run, &inputs).await?;
    Ok(Json(json!({})))
}

/// Records MLflow 3's link between a run and the models it produced.
pub async fn log_outputs(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let mut outputs = Vec::new();
    for item in fields.list("models") {
        let model_id = item.get("model_id").and_then(Value::as_str).unwrap_or_default();
        let model = logged_model_of(&state, &caller, model_id).await?;
        let step = item.get("step").and_then(|step| step.as_i64().or_else(|| step.as_str()?.parse().ok())).unwrap_or(0);
        outputs.push((model.id, step));
    }
    state.db.log_run_outputs(run.id, &outputs).await?;
    Ok(Json(json!({})))
}

/// MLflow 2's record of models logged by a run, kept in the `mlflow.log-model.history` tag.
pub async fn log_model_history(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let run = active_run(&state, &caller, &fields).await?;
    let model_json = fields.required_text("model_json")?;
    let entry: Value = serde_json::from_str(&model_json)
        .map_err(|error| MlflowError::invalid(format!("model_json is not valid JSON: {error}")))?;
    let detail = state.db.run_details(vec![run.clone()]).await?.remove(0);
    let mut history: Vec<Value> = detail
        .tags
        .iter()
        .find(|(key, _)| key == "mlflow.log-model.history")
        .and_then(|(_, value)| serde_json::from_str(value).ok())
        .unwrap_or_default();
    history.push(entry);
    let tag = ("mlflow.log-model.history".to_string(), Value::Array(history).to_string());
    write_batch(&state, &run, &[], &[], &[tag], &[]).await?;
    Ok(Json(json!({})))
}

/// Returns a metric's points. Like MLflow, a run or metric that does not exist gives an
/// empty answer rather than an error.
pub async fn metric_history(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let key = match fields.text("metric_key")? {
        Some(key) => key,
        None => fields.required_text("metric_name")?,
    };
    let run = match run_of(&state, &caller, &fields).await {
        Ok(run) => run,
        Err(error) if error.code == "RESOURCE_DOES_NOT_EXIST" => return Ok(Json(json!({}))),
        Err(error) => return Err(error),
    };
    let (limit, paged) = match fields.int("max_results")? {
        Some(limit) if (1..=1_000_000).contains(&limit) => (limit, true),
        Some(limit) => return Err(MlflowError::invalid(format!("max_results {limit} is out of range; use 1 to 1000000"))),
        None => (i64::MAX, false),
    };
    let offset = fields.offset()?;
    let points = state.db.metric_history(run.id, &key, limit, offset).await?;
    let mut body = json!({ "metrics": points.iter().map(shape::metric).collect::<Vec<_>>() });
    if paged {
        if let Some(token) = next_page_token(offset, limit, points.len()) {
            body["next_page_token"] = json!(token);
        }
    }
    Ok(Json(body))
}

pub async fn search_runs(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let limit = fields.max_results(1000, 50_000)?;
    let offset = fields.offset()?;
    let view = ViewType::parse(fields.text("run_view_type")?.as_deref()).map_err(MlflowError::invalid)?;
    let clauses = parse_filter(&fields.text("filter")?.unwrap_or_default())?;
    let orders = order_list(&fields)?;
    let experiment_ids = experiment_ids_of(&state, &caller, &fields).await?;
    let runs = state.db.search_runs(&experiment_ids, view, &clauses, &orders, limit, offset).await?;
    let count = runs.len();
    let details = state.db.run_details(runs).await?;
    let mut body = json!({ "runs": details.iter().map(shape::run).collect::<Vec<_>>() });
    if let Some(token) = next_page_token(offset, limit, count) {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

// ---- Logged models ---------------------------------------------------------------------

async fn logged_model_of(state: &AppState, caller: &Caller, model_id: &str) -> Result<crate::tracking::LoggedModel, MlflowError> {
    state
        .db
        .logged_model(caller.workspace_id, model_id)
        .await?
        .ok_or_else(|| MlflowError::missing(format!("Logged model with ID '{model_id}' not found.")))
}

pub async fn create_logged_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let experiment = experiment_of(&state, &caller, &fields.required_text("experiment_id")?).await?;
    let name = fields
        .text("name")?
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("model-{}", &crate::tracking::new_uuid()[..8]));
    let source_run = fields.text("source_run_id")?.filter(|id| !id.is_empty());
    if let Some(run_id) = &source_run {
        if state.db.run(caller.workspace_id, run_id).await?.is_none() {
            return Err(MlflowError::missing(format!("Run with id={run_id} not found")));
        }
    }
    let tags = fields.pairs("tags")?;
    let params = fields.pairs("params")?;
    check_tags(&tags)?;
    check_params(&params)?;
    let model = state
        .db
        .create_logged_model(&experiment, &name, fields.text("model_type")?.as_deref(), source_run.as_deref(), &tags, &params)
        .await?;
    Ok(Json(json!({ "model": shape::logged_model(&model) })))
}

pub async fn get_logged_model(State(state): State<AppState>, caller: Caller, Path(model_id): Path<String>) -> MlflowResult {
    let model = logged_model_of(&state, &caller, &model_id).await?;
    Ok(Json(json!({ "model": shape::logged_model(&model) })))
}

pub async fn finalize_logged_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(model_id): Path<String>,
    fields: Fields,
) -> MlflowResult {
    caller.require_write()?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    let status = fields.required_text("status")?;
    const STATUSES: [&str; 3] = ["LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"];
    let status = match status.as_str() {
        "1" => "LOGGED_MODEL_PENDING".to_string(),
        "2" => "LOGGED_MODEL_READY".to_string(),
        "3" => "LOGGED_MODEL_UPLOAD_FAILED".to_string(),
        other if STATUSES.contains(&other) => other.to_string(),
        other => return Err(MlflowError::invalid(format!("logged model status \"{other}\" is not one of {}", STATUSES.join(", ")))),
    };
    state.db.set_logged_model_status(model.id, &status).await?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    Ok(Json(json!({ "model": shape::logged_model(&model) })))
}

pub async fn delete_logged_model(State(state): State<AppState>, caller: Caller, Path(model_id): Path<String>) -> MlflowResult {
    caller.require_write()?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    state.db.delete_logged_model(model.id).await?;
    Ok(Json(json!({})))
}

pub async fn set_logged_model_tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(model_id): Path<String>,
    fields: Fields,
) -> MlflowResult {
    caller.require_write()?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    let tags = fields.pairs("tags")?;
    check_tags(&tags)?;
    for (key, value) in &tags {
        LOGGED_MODEL_TAGS.set(&state.db.pool, model.id, key, value).await?;
    }
    Ok(Json(json!({})))
}

pub async fn delete_logged_model_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path((model_id, key)): Path<(String, String)>,
) -> MlflowResult {
    caller.require_write()?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    if !LOGGED_MODEL_TAGS.delete(&state.db.pool, model.id, &key).await? {
        return Err(MlflowError::missing(format!("No tag with key '{key}' on logged model '{model_id}'")));
    }
    Ok(Json(json!({})))
}

pub async fn log_logged_model_params(
    State(state): State<AppState>,
    caller: Caller,
    Path(model_id): Path<String>,
    fields: Fields,
) -> MlflowResult {
    caller.require_write()?;
    let model = logged_model_of(&state, &caller, &model_id).await?;
    let params = fields.pairs("params")?;
    check_params(&params)?;
    for (key, value) in &params {
        LOGGED_MODEL_PARAMS.set(&state.db.pool, model.id, key, value).await?;
    }
    Ok(Json(json!({})))
}

pub async fn search_logged_models(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let limit = fields.max_results(100, 50_000)?;
    let offset = fields.offset()?;
    let experiment_ids = experiment_ids_of(&state, &caller, &fields).await?;
    if fields.list("experiment_ids").is_empty() {
        return Err(MlflowError::invalid("experiment_ids must name at least one experiment"));
    }
    let mut name = None;
    for clause in parse_filter(&fields.text("filter")?.unwrap_or_default())? {
        match (&clause.field, clause.op, &clause.value) {
            (Field::Attribute(field), Op::Eq, SearchValue::Text(value)) if field == "name" => name = Some(value.clone()),
            _ => {
                return Err(MlflowError::invalid(format!(
                    "logged models can be filtered by name = '<name>' only, not by {}",
                    clause.field
                )))
            }
        }
    }
    let models = state.db.search_logged_models(&experiment_ids, name.as_deref(), limit, offset).await?;
    if models.is_empty() {
        return Ok(Json(json!({})));
    }
    let mut body = json!({ "models": models.iter().map(shape::logged_model).collect::<Vec<_>>() });
    if let Some(token) = next_page_token(offset, limit, models.len()) {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

/// Handles GET /api/3.0/mlflow/server-info: what this server offers beyond the basics.
/// Multipart uploads are on, so the client splits files of at least
/// MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE (500 MB by default) into parts. Presigned
/// downloads are off, so each file downloads in one request.
pub async fn server_info() -> Json<Value> {
    Json(json!({
        "store_type": "SqlStore",
        "multipart_uploads_enabled": true,
        "multipart_downloads_enabled": false,
        "artifacts_presigned_only": false,
        "artifact_serving_enabled": true,
        "workspaces_enabled": false,
    }))
}
