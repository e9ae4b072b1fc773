//! The MLflow REST API (2.0 paths, the `mlflow-artifacts` proxy and MLflow 3's logged
//! models), so that training code using the MLflow client works unchanged with
//! `MLFLOW_TRACKING_URI` pointing at Orrery.
//!
//! A request acts in one workspace: the `X-MLFLOW-WORKSPACE` header (a workspace slug) when
//! sent, else the workspace the token is limited to, else the user's default workspace.
//! Errors have MLflow's shape, `{"error_code": …, "message": …}`, so the client raises its
//! usual `MlflowException`.

mod artifacts;
mod json;
mod registry;
mod runs;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, patch, post, put};
use axum::Router;
use serde_json::{json, Map, Value};

use super::auth::CurrentUser;
use super::AppState;
use crate::db::registry::Actor;
use crate::types::Role;

const API: &str = "/api/2.0/mlflow";
/// Largest JSON body accepted; a full log-batch is about 150 kB.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    let route = |path: &str| format!("{API}{path}");
    Router::new()
        .route(&route("/experiments/create"), post(runs::create_experiment))
        .route(&route("/experiments/get"), get(runs::get_experiment))
        .route(&route("/experiments/get-by-name"), get(runs::get_experiment_by_name))
        .route(&route("/experiments/search"), post(runs::search_experiments).get(runs::search_experiments))
        .route(&route("/experiments/list"), get(runs::search_experiments))
        .route(&route("/experiments/update"), post(runs::update_experiment))
        .route(&route("/experiments/delete"), post(runs::delete_experiment))
        .route(&route("/experiments/restore"), post(runs::restore_experiment))
        .route(&route("/experiments/set-experiment-tag"), post(runs::set_experiment_tag))
        .route(&route("/experiments/delete-experiment-tag"), post(runs::delete_experiment_tag))
        .route(&route("/runs/create"), post(runs::create_run))
        .route(&route("/runs/update"), post(runs::update_run))
        .route(&route("/runs/get"), get(runs::get_run))
        .route(&route("/runs/search"), post(runs::search_runs))
        .route(&route("/runs/delete"), post(runs::delete_run))
        .route(&route("/runs/restore"), post(runs::restore_run))
        .route(&route("/runs/set-tag"), post(runs::set_tag))
        .route(&route("/runs/delete-tag"), post(runs::delete_tag))
        .route(&route("/runs/log-metric"), post(runs::log_metric))
        .route(&route("/runs/log-parameter"), post(runs::log_param))
        .route(&route("/runs/log-batch"), post(runs::log_batch))
        .route(&route("/runs/log-inputs"), post(runs::log_inputs))
        .route(&route("/runs/outputs"), post(runs::log_outputs))
        .route(&route("/runs/log-model"), post(runs::log_model_history))
        .route(&route("/metrics/get-history"), get(runs::metric_history))
        .route(&route("/logged-models"), post(runs::create_logged_model))
        .route(&route("/logged-models/search"), post(runs::search_logged_models))
        .route(
            &route("/logged-models/{model_id}"),
            get(runs::get_logged_model).patch(runs::finalize_logged_model).delete(runs::delete_logged_model),
        )
        .route(&route("/logged-models/{model_id}/tags"), patch(runs::set_logged_model_tags))
        .route(&route("/logged-models/{model_id}/tags/{key}"), delete(runs::delete_logged_model_tag))
        .route(&route("/logged-models/{model_id}/params"), post(runs::log_logged_model_params))
        .route(&route("/registered-models/create"), post(registry::create_model))
        .route(&route("/registered-models/get"), get(registry::get_model))
        .route(&route("/registered-models/search"), get(registry::search_models))
        .route(&route("/registered-models/list"), get(registry::search_models))
        .route(&route("/registered-models/update"), patch(registry::update_model))
        .route(&route("/registered-models/rename"), post(registry::rename_model))
        .route(&route("/registered-models/delete"), delete(registry::delete_model))
        .route(&route("/registered-models/set-tag"), post(registry::set_model_tag))
        .route(&route("/registered-models/delete-tag"), delete(registry::delete_model_tag))
        .route(
            &route("/registered-models/alias"),
            post(registry::set_alias).delete(registry::delete_alias).get(registry::get_by_alias),
        )
        .route(
            &route("/registered-models/get-latest-versions"),
            post(registry::latest_versions).get(registry::latest_versions),
        )
        .route(&route("/model-versions/create"), post(registry::create_version))
        .route(&route("/model-versions/get"), get(registry::get_version))
        .route(&route("/model-versions/search"), get(registry::search_versions))
        .route(&route("/model-versions/update"), patch(registry::update_version))
        .route(&route("/model-versions/delete"), delete(registry::delete_version))
        .route(&route("/model-versions/get-download-uri"), get(registry::download_uri))
        .route(&route("/model-versions/set-tag"), post(registry::set_version_tag))
        .route(&route("/model-versions/delete-tag"), delete(registry::delete_version_tag))
        .route("/api/3.0/mlflow/server-info", get(runs::server_info))
        .route("/api/2.0/mlflow-artifacts/mpu/create/{*path}", post(artifacts::create_multipart))
        .route("/api/2.0/mlflow-artifacts/mpu/complete/{*path}", post(artifacts::complete_multipart))
        .route("/api/2.0/mlflow-artifacts/mpu/abort/{*path}", post(artifacts::abort_multipart))
        .route("/api/2.0/mlflow-artifacts/mpu/parts/{upload_id}/{part_number}", put(artifacts::upload_part))
        .route("/api/2.0/mlflow-artifacts/presigned/{*path}", get(artifacts::not_implemented))
        .route("/api/2.0/mlflow-artifacts/artifacts", get(artifacts::list))
        .route(
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            get(artifacts::download).put(artifacts::upload).delete(artifacts::remove),
        )
        .route("/api/2.0/mlflow/{*rest}", any(unknown_endpoint))
        .route("/api/3.0/mlflow/{*rest}", any(unknown_endpoint))
        .route("/api/2.0/mlflow-artifacts/{*rest}", any(unknown_endpoint))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Returns the 404 error, in MLflow's shape, for a path under the MLflow API that this server
/// does not serve.
async fn unknown_endpoint(method: Method, uri: axum::http::Uri) -> MlflowError {
    MlflowError::new(
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        format!("{method} {} is not an MLflow endpoint this server serves; the README lists the supported ones", uri.path()),
    )
}

/// An error in MLflow's shape.
#[derive(Debug)]
pub struct MlflowError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl MlflowError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> MlflowError {
        MlflowError { status, code, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }
    pub fn missing(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }
    pub fn exists(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", message)
    }
    pub fn denied(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }
    pub fn internal(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

impl From<sqlx::Error> for MlflowError {
    fn from(error: sqlx::Error) -> MlflowError {
        tracing::error!(%error, "database query failed");
        MlflowError::internal("the database query failed; see the server log")
    }
}

impl From<crate::db::tracking::SearchFailure> for MlflowError {
    fn from(failure: crate::db::tracking::SearchFailure) -> MlflowError {
        match failure {
            crate::db::tracking::SearchFailure::Invalid(message) => MlflowError::invalid(message),
            crate::db::tracking::SearchFailure::Db(error) => error.into(),
        }
    }
}

impl From<crate::tracking::search::SearchError> for MlflowError {
    fn from(error: crate::tracking::search::SearchError) -> MlflowError {
        MlflowError::invalid(error.to_string())
    }
}

impl From<super::errors::ApiError> for MlflowError {
    fn from(error: super::errors::ApiError) -> MlflowError {
        let code = match error.status {
            StatusCode::NOT_FOUND => "RESOURCE_DOES_NOT_EXIST",
            StatusCode::BAD_REQUEST => "INVALID_PARAMETER_VALUE",
            StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
            StatusCode::FORBIDDEN => "PERMISSION_DENIED",
            _ => "INTERNAL_ERROR",
        };
        MlflowError::new(error.status, code, error.message)
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error_code": self.code, "message": self.message }))).into_response()
    }
}

pub type MlflowResult = Result<axum::Json<Value>, MlflowError>;

/// The caller and the workspace a request acts in.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: CurrentUser,
    pub workspace_id: i64,
    pub role: Role,
}

impl Caller {
    pub fn require_write(&self) -> Result<(), MlflowError> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(MlflowError::denied(format!(
                "your role in this workspace is {}, which can read but not write; ask an owner or admin for the member role",
                self.role.as_str()
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor { id: self.user.id, name: self.user.username.clone() }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = MlflowError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, MlflowError> {
        let user = parts.extensions.get::<CurrentUser>().cloned().ok_or_else(|| {
            MlflowError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "send a personal API token: set MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_PASSWORD) to a token from the API tokens page",
            )
        })?;
        let header = parts
            .headers
            .get("x-mlflow-workspace")
            .map(|value| value.to_str().map(str::trim).map(str::to_string))
            .transpose()
            .map_err(|_| MlflowError::invalid("the X-MLFLOW-WORKSPACE header is not valid text"))?;
        let membership = match header {
            Some(slug) if !slug.is_empty() => {
                let membership = state
                    .db
                    .membership(user.id, &slug)
                    .await?
                    .ok_or_else(|| MlflowError::missing(format!("workspace \"{slug}\" not found among your workspaces")))?;
                if let Some(scope) = user.token_workspace_id {
                    if scope != membership.workspace_id {
                        return Err(MlflowError::denied(format!(
                            "this API token is limited to another workspace and cannot act in \"{slug}\"; create a token for that workspace"
                        )));
                    }
                }
                membership
            }
            _ => match user.token_membership.clone() {
                // An API token comes with the membership of its default workspace.
                Some(membership) => membership,
                None => {
                    let workspace_id = match user.token_workspace_id {
                        Some(id) => Some(id),
                        None => state.db.user_by_id(user.id).await?.and_then(|user| user.default_workspace_id),
                    };
                    let by_id = match workspace_id {
                        Some(id) => state.db.membership_by_id(user.id, id).await?,
                        None => None,
                    };
                    match by_id {
                        Some(membership) => membership,
                        None => {
                            let first = state.db.workspaces_of(user.id).await?.into_iter().next().ok_or_else(|| {
                                MlflowError::missing("you belong to no workspace yet; create one in the browser first")
                            })?;
                            state.db.membership(user.id, &first.slug).await?.ok_or_else(|| MlflowError::missing("workspace not found"))?
                        }
                    }
                }
            },
        };
        Ok(Caller { user, workspace_id: membership.workspace_id, role: membership.role })
    }
}

/// Request fields from the JSON body, or from the query string for GET requests, read with
/// MLflow's leniency: numbers may arrive as JSON numbers or as strings.
#[derive(Debug, Default)]
pub struct Fields(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = MlflowError;

    async fn from_request(request: Request, _state: &S) -> Result<Fields, MlflowError> {
        let mut fields = query_fields(&request);
        if let Some(body) = json_body::<Value>(request).await? {
            match body {
                Value::Object(map) => fields.0.extend(map),
                _ => return Err(MlflowError::invalid("the request body must be a JSON object")),
            }
        }
        Ok(fields)
    }
}

/// Returns the query string's fields; a key sent more than once becomes an array.
fn query_fields(request: &Request) -> Fields {
    let mut fields = Map::new();
    if let Some(query) = request.uri().query() {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = Value::String(value.into_owned());
            match fields.get_mut(key.as_ref()) {
                Some(Value::Array(items)) => items.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None => {
                    fields.insert(key.into_owned(), value);
                }
            }
        }
    }
    Fields(fields)
}

/// Reads and parses the JSON body of a request other than GET, up to [`MAX_BODY_BYTES`].
/// Returns `None` for GET and for an empty body.
async fn json_body<T: serde::de::DeserializeOwned>(request: Request) -> Result<Option<T>, MlflowError> {
    if request.method() == Method::GET {
        return Ok(None);
    }
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| MlflowError::invalid(format!("the request body is larger than {} MB or was cut off", MAX_BODY_BYTES >> 20)))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| MlflowError::invalid(format!("the request body is not valid JSON: {error}")))
}

/// One metric of log-metric or log-batch, each field as sent. A batch's metrics are read into
/// this type rather than generic JSON maps, which saves a map allocation per metric.
#[derive(Debug, Default, serde::Deserialize)]
pub struct MetricItem {
    pub key: Option<Value>,
    pub value: Option<Value>,
    pub timestamp: Option<Value>,
    pub step: Option<Value>,
    pub model_id: Option<Value>,
}

/// The fields of a log-batch request, with its metrics read as [`MetricItem`]s.
#[derive(Debug, Default)]
pub struct BatchFields {
    pub fields: Fields,
    pub metrics: Vec<MetricItem>,
}

impl<S: Send + Sync> FromRequest<S> for BatchFields {
    type Rejection = MlflowError;

    async fn from_request(request: Request, _state: &S) -> Result<BatchFields, MlflowError> {
        #[derive(serde::Deserialize)]
        struct Body {
            metrics: Option<Vec<MetricItem>>,
            #[serde(flatten)]
            rest: Map<String, Value>,
        }
        let mut fields = query_fields(&request);
        let Some(body) = json_body::<Body>(request).await? else {
            return Ok(BatchFields { fields, metrics: Vec::new() });
        };
        fields.0.extend(body.rest);
        Ok(BatchFields { fields, metrics: body.metrics.unwrap_or_default() })
    }
}

impl Fields {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|value| !value.is_null())
    }

    pub fn text(&self, key: &str) -> Result<Option<String>, MlflowError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(other) => Err(MlflowError::invalid(format!("field \"{key}\" must be a string, not {other}"))),
        }
    }

    pub fn required_text(&self, key: &str) -> Result<String, MlflowError> {
        self.text(key)?.ok_or_else(|| MlflowError::invalid(format!("missing value for required parameter '{key}'")))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, MlflowError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) => number
                .as_i64()
                .or_else(|| number.as_f64().filter(|value| value.fract() == 0.0).map(|value| value as i64))
                .map(Some)
                .ok_or_else(|| MlflowError::invalid(format!("field \"{key}\" must be a whole number, not {number}"))),
            Some(Value::String(text)) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| MlflowError::invalid(format!("field \"{key}\" must be a whole number, not \"{text}\""))),
            Some(other) => Err(MlflowError::invalid(format!("field \"{key}\" must be a whole number, not {other}"))),
        }
    }

    /// Reads a list field, given as a JSON array or (in a query string) repeated or single.
    pub fn list(&self, key: &str) -> Vec<Value> {
        match self.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
        }
    }

    /// `[{"key": …, "value": …}]` pairs, as MLflow sends tags and params.
    pub fn pairs(&self, key: &str) -> Result<Vec<(String, String)>, MlflowError> {
        json::pairs(&self.list(key), key)
    }

    /// `max_results`, checked against `limit`.
    pub fn max_results(&self, default: i64, limit: i64) -> Result<i64, MlflowError> {
        let value = self.int("max_results")?.unwrap_or(default);
        if value < 1 || value > limit {
            return Err(MlflowError::invalid(format!("max_results {value} is out of range; use 1 to {limit}")));
        }
        Ok(value)
    }

    /// Reads the offset that `page_token` encodes, because Orrery's page tokens are offsets.
    pub fn offset(&self) -> Result<i64, MlflowError> {
        match self.text("page_token")? {
            None => Ok(0),
            Some(token) if token.is_empty() => Ok(0),
            Some(token) => token
                .parse::<i64>()
                .ok()
                .filter(|offset| *offset >= 0)
                .ok_or_else(|| MlflowError::invalid(format!("page_token \"{token}\" is not one this server gave out; start without it"))),
        }
    }
}

/// Returns the page token for the page after `offset`, when the page was full.
pub fn next_page_token(offset: i64, limit: i64, returned: usize) -> Option<String> {
    (returned as i64 == limit).then(|| (offset + limit).to_string())
}

/// Checks an alias name: letters, digits, `_` and `-`, and not a name MLflow reserves.
pub fn check_alias_text(alias: &str) -> Result<(), String> {
    if alias.is_empty() || alias.len() > 255 {
        return Err("an alias needs 1 to 255 characters".into());
    }
    if !alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("alias \"{alias}\" may contain only letters, digits, '_' and '-'"));
    }
    let lower = alias.to_ascii_lowercase();
    let looks_like_version = lower.starts_with('v') && lower.len() > 1 && lower[1..].chars().all(|c| c.is_ascii_digit());
    if lower == "latest" || looks_like_version {
        return Err(format!("alias \"{alias}\" is reserved (\"latest\" and v<number> name versions); choose another name"));
    }
    Ok(())
}
