//! Ingestion over HTTP: the JSON API for machines (API token) and the upload form for people.
//! Both spool the body to a temporary file in the data folder, so a large upload never sits
//! in memory, then run the ingestion pipeline on it.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::auth::CurrentUser;
use crate::url::percent_encode;
use super::errors::ApiError;
use super::forms::{require_workspace, validate_model_name, validate_schema};
use super::AppState;
use crate::monitoring::ingestion::{ingest, IngestFailure, IngestRequest};
use crate::monitoring::schema::ModelSchema;
use crate::pages::drift::DriftQuery;
use crate::types::{Environment, Role};

pub fn router() -> Router<AppState> {
    let records = "/api/v1/workspaces/{workspace}/models/{model}/versions/{version}/environments/{environment}/records";
    Router::new()
        .route("/api/v1/workspaces/{workspace}/models", get(list_models).post(create_model))
        .route("/api/v1/workspaces/{workspace}/models/{model}/drift", get(drift))
        .route("/api/v1/workspaces/{workspace}/models/{model}/quality", get(quality))
        .route("/api/v1/workspaces/{workspace}/models/{model}/performance", get(performance))
        .route("/api/v1/workspaces/{workspace}/models/{model}/segments", get(segments))
        .route("/api/v1/workspaces/{workspace}/models/{model}/versions/compare", get(compare_versions))
        .route(records, post(ingest_body))
        .route("/api/v1/workspaces/{workspace}/models/{model}/versions/{version}/actuals", post(actuals_body))
        .route("/w/{workspace}/models/{model}/upload", post(upload_form))
        // Uploads are limited by --max-upload-mb in the handlers instead.
        .layer(DefaultBodyLimit::disable())
}

#[derive(Deserialize)]
struct CreateModel {
    name: String,
    #[serde(default)]
    description: String,
    schema: ModelSchema,
}

/// Handles the POST /api/v1/workspaces/{workspace}/models route.
async fn create_model(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    body: Result<Json<CreateModel>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ApiError::bad_request(format!(
            "invalid model definition: {}; send {{\"name\": …, \"schema\": {{\"id_column\": …, \"timestamp_column\": …, \"columns\": [{{\"name\": …, \"kind\": \"numeric\" or \"categorical\", \"role\": \"feature\"}}]}}}}",
            rejection.body_text()
        ))
    })?;
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_write, "create models").await?;
    validate_model_name(&body.name).map_err(ApiError::bad_request)?;
    validate_schema(&body.schema).map_err(ApiError::bad_request)?;

    let created = state.db.create_model(workspace.workspace_id, &body.name, &body.description, &body.schema).await;
    match created {
        Ok(_) => {}
        Err(error) if crate::db::is_unique_violation(&error) => {
            return Err(ApiError::conflict(format!("a model named \"{}\" already exists in workspace \"{slug}\"", body.name)));
        }
        Err(error) => return Err(error.into()),
    }
    tracing::info!(user = user.id, workspace = %slug, model = %body.name, "model created");
    let body = serde_json::json!({ "name": body.name, "schema": body.schema });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Handles the GET /api/v1/workspaces/{workspace}/models route.
async fn list_models(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view it").await?;
    let detail = crate::monitoring::drift::workspace_detail(&state.db, &workspace).await?;
    Ok(Json(serde_json::json!({ "models": detail.models })).into_response())
}

/// Defines the GET handler of a model report: it checks that the user may read the workspace,
/// then responds with `$build(db, workspace_id, model, query)` as JSON.
macro_rules! model_report_handler {
    ($name:ident, $build:path) => {
        async fn $name(
            State(state): State<AppState>,
            user: CurrentUser,
            Path((slug, model)): Path<(String, String)>,
            Query(query): Query<DriftQuery>,
        ) -> Result<Response, ApiError> {
            let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view it").await?;
            let report = $build(&state.db, workspace.workspace_id, &model, &query).await?;
            Ok(Json(report).into_response())
        }
    };
}

model_report_handler!(drift, crate::monitoring::drift::drift_report);
model_report_handler!(quality, crate::monitoring::quality::quality_report);
model_report_handler!(performance, crate::monitoring::performance::performance_report);
model_report_handler!(segments, crate::monitoring::breakdown::segments_report);
model_report_handler!(compare_versions, crate::monitoring::versions::compare_versions);

#[derive(Deserialize)]
struct IngestParams {
    #[serde(default)]
    skip_bad_rows: bool,
    /// Names the upload in messages and picks CSV or Parquet by its extension.
    file_name: Option<String>,
}

/// Longest accepted `Idempotency-Key` header.
const MAX_IDEMPOTENCY_KEY_LENGTH: usize = 200;

/// Handles the POST …/versions/{version}/environments/{environment}/records route: the body
/// is a CSV, Parquet or JSON file (JSON: an array of records, `{"records": [...]}`, or one
/// object per line). With an `Idempotency-Key` header, a retry of a stored batch returns the
/// first outcome and stores nothing.
async fn ingest_body(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, model_name, version, environment)): Path<(String, String, String, String)>,
    Query(params): Query<IngestParams>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let file_name = params.file_name.or_else(|| default_name_for(&headers));
    let (mut request, file_name) = prepare(&state, &user, &slug, &model_name, &version, &environment, params.skip_bad_rows, file_name).await?;
    request.idempotency_key = idempotency_key(&headers)?;

    if let Some(key) = &request.idempotency_key {
        if let Some(earlier) = state.db.ingestion_by_key(request.model_id, &request.version, request.environment, key).await? {
            if !earlier.complete {
                return Err(ApiError::conflict(format!("another request with idempotency key \"{key}\" is being ingested; retry when it has finished")));
            }
            tracing::info!(user = user.id, ingestion = earlier.ingestion_id, key = %key, "replayed an ingestion by its idempotency key");
            let outcome = crate::monitoring::ingestion::IngestOutcome {
                ingestion_id: earlier.ingestion_id,
                file: earlier.file_name,
                version: request.version.clone(),
                environment: request.environment,
                rows_ingested: earlier.rows_ingested as u64,
                rows_skipped: earlier.rows_skipped as u64,
                skipped: Vec::new(),
                replayed: true,
            };
            return Ok((StatusCode::OK, Json(outcome)).into_response());
        }
    }

    let spooled = spool_stream(&state, &file_name, body.into_data_stream()).await?;
    let outcome = run_ingestion(&state, &request, &spooled).await?;
    Ok((StatusCode::CREATED, Json(outcome)).into_response())
}

#[derive(Deserialize)]
struct ActualsParams {
    /// Names the upload in messages and picks CSV, Parquet or JSON by its extension.
    file_name: Option<String>,
}

/// Handles the POST …/versions/{version}/actuals route: a CSV, Parquet or JSON body of
/// prediction ids and their actuals, sent after the predictions.
async fn actuals_body(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, model_name, version)): Path<(String, String, String)>,
    Query(params): Query<ActualsParams>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    use crate::monitoring::actuals::{ingest_actuals, ActualsFailure};

    let workspace = require_workspace(&state.db, &user, &slug, Role::can_write, "send actuals").await?;
    let model = state
        .db
        .model(workspace.workspace_id, &model_name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{model_name}\" not found in workspace \"{slug}\"")))?;
    let Some(version_id) = state.db.version_id(model.id, &version).await? else {
        let versions: Vec<String> = state.db.versions(model.id).await?.into_iter().map(|info| info.version).collect();
        return Err(ApiError::not_found(format!(
            "version \"{version}\" of model \"{model_name}\" not found; send its predictions first (it has {})",
            if versions.is_empty() { "no versions yet".to_string() } else { versions.join(", ") }
        )));
    };

    let file_name = params.file_name.filter(|name| !name.is_empty()).or_else(|| default_name_for(&headers)).unwrap_or_else(|| "actuals".to_string());
    let spooled = spool_stream(&state, &file_name, body.into_data_stream()).await?;
    let reader = open_spooled(&spooled).await?;

    let outcome = ingest_actuals(&state.db, &model.name, &model.schema, version_id, &version, reader).await.map_err(|failure| match failure {
        ActualsFailure::Database(error) => error.into(),
        ActualsFailure::NoActualColumn { .. } => ApiError::bad_request(failure.to_string()),
        ActualsFailure::BadRows { ref errors, .. } => bad_rows_error(failure.to_string(), errors),
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", other.to_string()),
    })?;
    tracing::info!(user = user.id, workspace = %slug, model = %model_name, version = %version, received = outcome.received, matched = outcome.matched, "actuals received");
    Ok(Json(outcome).into_response())
}

/// Names a body sent without `file_name` by its content type, so its format is detected.
fn default_name_for(headers: &axum::http::HeaderMap) -> Option<String> {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE)?.to_str().ok()?;
    let extension = match content_type.split(';').next()?.trim() {
        "text/csv" => "csv",
        "application/json" => "json",
        "application/x-ndjson" | "application/jsonl" | "application/ndjson" => "ndjson",
        "application/vnd.apache.parquet" | "application/x-parquet" => "parquet",
        _ => return None,
    };
    Some(format!("request-body.{extension}"))
}

fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LENGTH {
        return Err(ApiError::bad_request(format!(
            "invalid Idempotency-Key header: use 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters, such as a UUID"
        )));
    }
    Ok(Some(key.to_string()))
}

/// Checks access and arguments shared by the API and the upload form.
#[allow(clippy::too_many_arguments)]
async fn prepare(
    state: &AppState,
    user: &CurrentUser,
    slug: &str,
    model_name: &str,
    version: &str,
    environment: &str,
    skip_bad_rows: bool,
    file_name: Option<String>,
) -> Result<(IngestRequest, String), ApiError> {
    let workspace = require_workspace(&state.db, user, slug, Role::can_write, "ingest data").await?;
    let model = state
        .db
        .model(workspace.workspace_id, model_name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{model_name}\" not found in workspace \"{slug}\"")))?;
    let environment = Environment::parse(environment).ok_or_else(|| {
        ApiError::bad_request(format!("invalid environment \"{environment}\"; use training, validation or production"))
    })?;
    let version = version.trim();
    if version.is_empty() || version.len() > 100 {
        return Err(ApiError::bad_request(format!("invalid version \"{version}\"; use 1 to 100 characters, such as v1")));
    }

    let file_name = file_name.filter(|name| !name.is_empty()).unwrap_or_else(|| "upload".to_string());
    let request = IngestRequest {
        model_id: model.id,
        schema: model.schema,
        version: version.to_string(),
        environment,
        source: if user.csrf_token.is_some() { "upload form".into() } else { "api".into() },
        skip_bad_rows,
        user_id: Some(user.id),
        idempotency_key: None,
    };
    Ok((request, file_name))
}

/// A temporary copy of an upload, deleted when dropped.
struct SpooledFile {
    _directory: tempfile::TempDir,
    path: PathBuf,
    /// The name the sender gave the file, used in messages.
    file_name: String,
}

async fn spool_stream<S, E>(state: &AppState, file_name: &str, mut stream: S) -> Result<SpooledFile, ApiError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let uploads = state.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads)
        .await
        .map_err(|error| ApiError::internal(format!("could not create {}: {error}", uploads.display())))?;
    let directory = tempfile::tempdir_in(&uploads)
        .map_err(|error| ApiError::internal(format!("could not create a temporary folder: {error}")))?;
    // Keep only the last path component, so a name like ../../x stays inside the folder.
    let safe_name = std::path::Path::new(file_name)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".to_string());
    let path = directory.path().join(&safe_name);
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|error| ApiError::internal(format!("could not write the upload: {error}")))?;

    let limit = state.config.max_upload_mb * 1024 * 1024;
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| ApiError::bad_request(format!("the upload was interrupted: {error}")))?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the upload is larger than {} MB; split the file or raise --max-upload-mb", state.config.max_upload_mb),
            ));
        }
        file.write_all(&chunk)
            .await
            .map_err(|error| ApiError::internal(format!("could not write the upload: {error}")))?;
    }
    file.flush().await.map_err(|error| ApiError::internal(format!("could not write the upload: {error}")))?;
    Ok(SpooledFile { _directory: directory, path, file_name: safe_name })
}

/// Opens a spooled upload with the reader its name (or, failing that, its first bytes) picks.
async fn open_spooled(spooled: &SpooledFile) -> Result<Box<dyn crate::ingest::RecordReader + Send>, ApiError> {
    let path = spooled.path.clone();
    let name = spooled.file_name.clone();
    tokio::task::spawn_blocking(move || crate::ingest::open_path_as(&path, &name))
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?
        .map_err(|error| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", error.to_string()))
}

/// Builds the 422 response of a file with invalid rows, listing the rows in `details`.
fn bad_rows_error(message: String, rows: &[crate::monitoring::ingestion::SkippedRow]) -> ApiError {
    let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_rows", message);
    error.details = Some(serde_json::json!({ "rows": rows }));
    error
}

async fn run_ingestion(
    state: &AppState,
    request: &IngestRequest,
    spooled: &SpooledFile,
) -> Result<crate::monitoring::ingestion::IngestOutcome, ApiError> {
    let reader = open_spooled(spooled).await?;

    ingest(&state.db, request, reader).await.map_err(|failure| match failure {
        IngestFailure::Database(error) => error.into(),
        IngestFailure::KeyInUse { .. } => ApiError::conflict(failure.to_string()),
        IngestFailure::BadRows { ref errors, .. } => bad_rows_error(failure.to_string(), errors),
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", other.to_string()),
    })
}

/// Handles the POST /w/{workspace}/models/{model}/upload route (multipart form).
async fn upload_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, model_name)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let home = format!("/w/{slug}");
    let back = |message: &str| Redirect::to(&format!("{home}?error={}", percent_encode(message))).into_response();

    let mut version = String::new();
    let mut environment = String::new();
    let mut skip_bad_rows = false;
    let mut spooled = None;
    let mut file_name = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|error| ApiError::bad_request(format!("the upload form is malformed: {error}")))? {
        match field.name().unwrap_or("") {
            "version" => version = field.text().await.unwrap_or_default(),
            "environment" => environment = field.text().await.unwrap_or_default(),
            "skip_bad_rows" => skip_bad_rows = field.text().await.unwrap_or_default() == "true",
            "file" => {
                // The file comes last in the form, so access was checked with the fields above.
                file_name = field.file_name().unwrap_or("upload").to_string();
                let (request, name) = match prepare(&state, &user, &slug, &model_name, &version, &environment, skip_bad_rows, Some(file_name.clone())).await {
                    Ok(prepared) => prepared,
                    Err(error) if error.status == StatusCode::NOT_FOUND => return Err(error),
                    Err(error) if error.status == StatusCode::FORBIDDEN => return Err(error),
                    Err(error) => return Ok(back(&error.message)),
                };
                let file = spool_stream(&state, &name, field).await?;
                spooled = Some((request, file));
            }
            _ => {}
        }
    }
    let Some((request, file)) = spooled else {
        return Ok(back("choose a CSV or Parquet file to upload"));
    };

    match run_ingestion(&state, &request, &file).await {
        Ok(outcome) => {
            tracing::info!(user = user.id, workspace = %slug, model = %model_name, file = %file_name, rows = outcome.rows_ingested, "upload ingested");
            let stored_noun = if outcome.rows_ingested == 1 { "row" } else { "rows" };
            let mut notice = format!(
                "Stored {} {stored_noun} from {} as {} data of version {}.",
                outcome.rows_ingested, outcome.file, request.environment.as_str(), request.version
            );
            if outcome.rows_skipped > 0 {
                let noun = if outcome.rows_skipped == 1 { "row" } else { "rows" };
                notice.push_str(&format!(" Skipped {} bad {noun}", outcome.rows_skipped));
                let listed: Vec<String> = outcome.skipped.iter().take(3).map(|row| row.message.clone()).collect();
                notice.push_str(&format!(", such as: {}", listed.join(" ")));
            }
            let target = format!("/w/{slug}/models/{model_name}?version={}&notice={}", percent_encode(&request.version), percent_encode(&notice));
            Ok(Redirect::to(&target).into_response())
        }
        Err(error) if error.status.is_client_error() => Ok(back(&error.message)),
        Err(error) => Err(error),
    }
}
