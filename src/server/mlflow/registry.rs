//! Registered models, versions, tags and aliases of the MLflow API. Setting an alias here
//! is a direct change: only the roles the model's promotion policy names may make it, and
//! it is recorded in the model's history like every other change.

use axum::extract::State;
use axum::Json;
use serde_json::json;

use super::json as shape;
use super::{next_page_token, Caller, Fields, MlflowError, MlflowResult};
use crate::db::tracking::{REGISTERED_MODEL_TAGS, VERSION_TAGS};
use crate::server::AppState;
use crate::tracking::search::{parse_filter, parse_order_by, OrderBy};
use crate::tracking::{check_key, RegisteredModel, RegistryVersion};

async fn model_of(state: &AppState, caller: &Caller, fields: &Fields) -> Result<RegisteredModel, MlflowError> {
    let name = fields.required_text("name")?;
    state
        .db
        .registered_model(caller.workspace_id, &name)
        .await?
        .ok_or_else(|| MlflowError::missing(format!("Registered Model with name={name} not found")))
}

fn version_number(text: &str) -> Result<i64, MlflowError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| MlflowError::invalid(format!("Model version must be a positive whole number, not \"{text}\"")))
}

async fn version_of(state: &AppState, model: &RegisteredModel, version: &str) -> Result<RegistryVersion, MlflowError> {
    let number = version_number(version)?;
    state
        .db
        .registry_version(model.id, number)
        .await?
        .ok_or_else(|| MlflowError::missing(format!("Model Version (name={}, version={number}) not found", model.name)))
}

/// Checks a registered model name: 1 to 256 characters, no '/', no control characters.
pub fn check_model_name(name: &str) -> Result<(), MlflowError> {
    if name.trim().is_empty() || name.chars().count() > 256 {
        return Err(MlflowError::invalid("a registered model name needs 1 to 256 characters"));
    }
    if name.contains('/') || name.chars().any(char::is_control) {
        return Err(MlflowError::invalid(format!("registered model name \"{name}\" must not contain '/' or control characters")));
    }
    Ok(())
}

/// Checks an alias name in MLflow's error shape.
pub fn check_alias(alias: &str) -> Result<(), MlflowError> {
    super::check_alias_text(alias).map_err(MlflowError::invalid)
}

fn orders(fields: &Fields) -> Result<Vec<OrderBy>, MlflowError> {
    fields
        .list("order_by")
        .iter()
        .filter_map(|value| value.as_str())
        .filter(|text| !text.trim().is_empty())
        .map(|text| parse_order_by(text).map_err(MlflowError::from))
        .collect()
}

async fn latest_of(state: &AppState, caller: &Caller, model: &RegisteredModel) -> Result<Vec<RegistryVersion>, MlflowError> {
    let filter = parse_filter(&format!("name = '{}'", model.name.replace('\'', "\\'")))?;
    let order = vec![parse_order_by("version_number DESC")?];
    Ok(state.db.search_registry_versions(caller.workspace_id, &filter, &order, 1, 0).await?)
}

async fn model_json(state: &AppState, caller: &Caller, model: &RegisteredModel) -> Result<serde_json::Value, MlflowError> {
    let latest = latest_of(state, caller, model).await?;
    Ok(shape::registered_model(model, &latest))
}

pub async fn create_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let name = fields.required_text("name")?;
    check_model_name(&name)?;
    let tags = fields.pairs("tags")?;
    for (key, _) in &tags {
        check_key("tag", key).map_err(MlflowError::invalid)?;
    }
    let description = fields.text("description")?.unwrap_or_default();
    match state.db.create_registered_model(caller.workspace_id, &name, &description, &tags, &caller.actor()).await {
        Ok(_) => {}
        Err(error) if crate::db::is_unique_violation(&error) => {
            return Err(MlflowError::exists(format!("Registered Model (name={name}) already exists.")))
        }
        Err(error) => return Err(error.into()),
    }
    let model = model_of(&state, &caller, &fields).await?;
    Ok(Json(json!({ "registered_model": model_json(&state, &caller, &model).await? })))
}

pub async fn get_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let model = model_of(&state, &caller, &fields).await?;
    Ok(Json(json!({ "registered_model": model_json(&state, &caller, &model).await? })))
}

pub async fn search_models(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let limit = fields.max_results(100, 1000)?;
    let offset = fields.offset()?;
    let clauses = parse_filter(&fields.text("filter")?.unwrap_or_default())?;
    let models = state.db.search_registered_models(caller.workspace_id, &clauses, &orders(&fields)?, limit, offset).await?;
    let mut shown = Vec::with_capacity(models.len());
    for model in &models {
        shown.push(model_json(&state, &caller, model).await?);
    }
    let mut body = json!({ "registered_models": shown });
    if let Some(token) = next_page_token(offset, limit, models.len()) {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

pub async fn update_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    if let Some(description) = fields.text("description")? {
        state.db.update_registered_model(model.id, &description).await?;
    }
    let model = model_of(&state, &caller, &fields).await?;
    Ok(Json(json!({ "registered_model": model_json(&state, &caller, &model).await? })))
}

pub async fn rename_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let new_name = fields.required_text("new_name")?;
    check_model_name(&new_name)?;
    match state.db.rename_registered_model(model.id, &new_name).await {
        Ok(()) => {}
        Err(error) if crate::db::is_unique_violation(&error) => {
            return Err(MlflowError::exists(format!("Registered Model (name={new_name}) already exists.")))
        }
        Err(error) => return Err(error.into()),
    }
    let model = state
        .db
        .registered_model(caller.workspace_id, &new_name)
        .await?
        .ok_or_else(|| MlflowError::internal("the renamed model disappeared"))?;
    Ok(Json(json!({ "registered_model": model_json(&state, &caller, &model).await? })))
}

pub async fn delete_model(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    state.db.delete_registered_model(&model, &caller.actor()).await?;
    Ok(Json(json!({})))
}

pub async fn set_model_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let key = fields.required_text("key")?;
    check_key("tag", &key).map_err(MlflowError::invalid)?;
    REGISTERED_MODEL_TAGS.set(&state.db.pool, model.id, &key, &fields.text("value")?.unwrap_or_default()).await?;
    Ok(Json(json!({})))
}

pub async fn delete_model_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    REGISTERED_MODEL_TAGS.delete(&state.db.pool, model.id, &fields.required_text("key")?).await?;
    Ok(Json(json!({})))
}

/// Refuses a direct alias change unless the model's policy lets the caller's role make it.
async fn check_direct_change(state: &AppState, caller: &Caller, model: &RegisteredModel) -> Result<(), MlflowError> {
    let policy = state.db.promotion_policy(caller.workspace_id, Some(model.id)).await?;
    if policy.direct_change_roles.contains(&caller.role) {
        return Ok(());
    }
    let roles: Vec<&str> = policy.direct_change_roles.iter().map(|role| role.as_str()).collect();
    Err(MlflowError::denied(format!(
        "your role is {}; the promotion policy of \"{}\" lets only {} move aliases directly. Open a promotion request on the model's page instead",
        caller.role.as_str(),
        model.name,
        if roles.is_empty() { "nobody".to_string() } else { roles.join(" or ") }
    )))
}

pub async fn set_alias(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let alias = fields.required_text("alias")?;
    check_alias(&alias)?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    check_direct_change(&state, &caller, &model).await?;
    state.db.set_alias_directly(&model, &alias, version.version, &caller.actor(), "set through the MLflow API").await?;
    Ok(Json(json!({})))
}

pub async fn delete_alias(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let alias = fields.required_text("alias")?;
    check_direct_change(&state, &caller, &model).await?;
    if !state.db.delete_alias(&model, &alias, &caller.actor()).await? {
        return Err(MlflowError::invalid(format!("Registered model alias {alias} not found.")));
    }
    Ok(Json(json!({})))
}

pub async fn get_by_alias(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let model = model_of(&state, &caller, &fields).await?;
    let alias = fields.required_text("alias")?;
    let version = state
        .db
        .alias_version(model.id, &alias)
        .await?
        .ok_or_else(|| MlflowError::invalid(format!("Registered model alias {alias} not found.")))?;
    let version = version_of(&state, &model, &version.to_string()).await?;
    Ok(Json(json!({ "model_version": shape::version(&version) })))
}

pub async fn latest_versions(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let model = model_of(&state, &caller, &fields).await?;
    let stages: Vec<String> = fields.list("stages").iter().filter_map(|value| value.as_str().map(str::to_string)).collect();
    let latest = latest_of(&state, &caller, &model).await?;
    let shown: Vec<_> = latest
        .iter()
        .filter(|version| stages.is_empty() || stages.iter().any(|stage| stage.eq_ignore_ascii_case(&version.stage)))
        .map(shape::version)
        .collect();
    Ok(Json(json!({ "model_versions": shown })))
}

pub async fn create_version(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let source = fields.required_text("source")?;
    let mut run_uuid = fields.text("run_id")?.unwrap_or_default();
    let model_uuid = fields.text("model_id")?.filter(|id| !id.is_empty());
    if let Some(model_id) = &model_uuid {
        let logged = state
            .db
            .logged_model(caller.workspace_id, model_id)
            .await?
            .ok_or_else(|| MlflowError::missing(format!("Logged model with ID '{model_id}' not found.")))?;
        // A version made from a logged model comes from the run that logged it.
        if run_uuid.is_empty() {
            run_uuid = logged.source_run_uuid.unwrap_or_default();
        }
    } else if source.starts_with("models:/m-") {
        return Err(MlflowError::invalid(
            "The model_id request parameter must identify the resource that contains the source; send model_id with a models:/ source",
        ));
    }
    if !run_uuid.is_empty() && state.db.run(caller.workspace_id, &run_uuid).await?.is_none() {
        return Err(MlflowError::missing(format!("Run with id={run_uuid} not found")));
    }
    let tags = fields.pairs("tags")?;
    for (key, _) in &tags {
        check_key("tag", key).map_err(MlflowError::invalid)?;
    }
    let number = state
        .db
        .create_registry_version(
            &model,
            &source,
            &run_uuid,
            &fields.text("run_link")?.unwrap_or_default(),
            &fields.text("description")?.unwrap_or_default(),
            model_uuid.as_deref(),
            &tags,
            &caller.actor(),
        )
        .await?;
    let version = version_of(&state, &model, &number.to_string()).await?;
    Ok(Json(json!({ "model_version": shape::version(&version) })))
}

pub async fn get_version(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    Ok(Json(json!({ "model_version": shape::version(&version) })))
}

pub async fn search_versions(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let limit = fields.max_results(10_000, 200_000)?;
    let offset = fields.offset()?;
    let clauses = parse_filter(&fields.text("filter")?.unwrap_or_default())?;
    let versions = state.db.search_registry_versions(caller.workspace_id, &clauses, &orders(&fields)?, limit, offset).await?;
    let mut body = json!({ "model_versions": versions.iter().map(shape::version).collect::<Vec<_>>() });
    if let Some(token) = next_page_token(offset, limit, versions.len()) {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

pub async fn update_version(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    if let Some(description) = fields.text("description")? {
        state.db.update_registry_version(version.id, &description).await?;
    }
    let version = version_of(&state, &model, &version.version.to_string()).await?;
    Ok(Json(json!({ "model_version": shape::version(&version) })))
}

pub async fn delete_version(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    state.db.delete_registry_version(&model, version.version, &caller.actor()).await?;
    Ok(Json(json!({})))
}

/// Resolves where a version's files are: a logged model's artifacts (`models:/m-…`), a
/// run's artifacts (`runs:/<run>/<path>`), or the source itself.
pub async fn download_uri(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    let uri = resolve_source(&state, &caller, &version).await?;
    Ok(Json(json!({ "artifact_uri": uri })))
}

async fn resolve_source(state: &AppState, caller: &Caller, version: &RegistryVersion) -> Result<String, MlflowError> {
    if let Some(model_id) = version.source.strip_prefix("models:/").filter(|rest| rest.starts_with("m-")) {
        let model_id = model_id.split('/').next().unwrap_or(model_id);
        if let Some(model) = state.db.logged_model(caller.workspace_id, model_id).await? {
            return Ok(model.artifact_uri);
        }
    }
    if let Some(rest) = version.source.strip_prefix("runs:/") {
        let (run_id, path) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(run) = state.db.run(caller.workspace_id, run_id).await? {
            return Ok(if path.is_empty() { run.artifact_uri } else { format!("{}/{path}", run.artifact_uri) });
        }
    }
    if let Some(model_id) = &version.model_uuid {
        if let Some(model) = state.db.logged_model(caller.workspace_id, model_id).await? {
            return Ok(model.artifact_uri);
        }
    }
    Ok(version.source.clone())
}

pub async fn set_version_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    let key = fields.required_text("key")?;
    check_key("tag", &key).map_err(MlflowError::invalid)?;
    VERSION_TAGS.set(&state.db.pool, version.id, &key, &fields.text("value")?.unwrap_or_default()).await?;
    Ok(Json(json!({})))
}

pub async fn delete_version_tag(State(state): State<AppState>, caller: Caller, fields: Fields) -> MlflowResult {
    caller.require_write()?;
    let model = model_of(&state, &caller, &fields).await?;
    let version = version_of(&state, &model, &fields.required_text("version")?).await?;
    VERSION_TAGS.delete(&state.db.pool, version.id, &fields.required_text("key")?).await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_mlflow_rules() {
        assert!(check_alias("champion").is_ok());
        assert!(check_alias("prod-eu_1").is_ok());
        for bad in ["latest", "v3", "V12", "has space", ""] {
            assert!(check_alias(bad).is_err(), "{bad}");
        }
        assert!(check_alias("v1beta").is_ok());
    }
}
