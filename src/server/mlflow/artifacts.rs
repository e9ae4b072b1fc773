//! The `mlflow-artifacts` proxy: uploads, downloads and listings of run and model
//! artifacts. Store paths start with the experiment id (`<experiment>/<run>/artifacts/…`),
//! which ties every path to one workspace.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::TryStreamExt;
use serde_json::json;

use super::{Caller, Fields, MlflowError};
use crate::server::AppState;
use crate::tracking::artifacts::{check_path, ByteStream, MultipartUpload, MAX_UPLOAD_PARTS};

/// Checks that `path` is well formed and lies under an experiment of the caller's workspace.
async fn authorize(state: &AppState, caller: &Caller, path: &str) -> Result<String, MlflowError> {
    let path = path.trim_matches('/').to_string();
    check_path(&path).map_err(MlflowError::invalid)?;
    let experiment = path.split('/').next().unwrap_or_default();
    let id: i64 = experiment
        .parse()
        .map_err(|_| MlflowError::missing(format!("no artifacts at \"{path}\"; paths start with an experiment id")))?;
    if state.db.experiment(caller.workspace_id, id).await?.is_none() {
        return Err(MlflowError::missing(format!("no artifacts at \"{path}\"")));
    }
    Ok(path)
}

fn io_error(error: std::io::Error) -> MlflowError {
    if error.kind() == std::io::ErrorKind::InvalidInput {
        return MlflowError::invalid(error.to_string());
    }
    tracing::error!(%error, "artifact store failed");
    MlflowError::internal("the artifact store failed; see the server log")
}

pub async fn list(State(state): State<AppState>, caller: Caller, fields: Fields) -> Result<Json<serde_json::Value>, MlflowError> {
    let requested = fields.text("path")?.unwrap_or_default();
    if requested.trim_matches('/').is_empty() {
        return Ok(Json(json!({})));
    }
    let path = authorize(&state, &caller, &requested).await?;
    let entries = state.artifacts.list(&path).await.map_err(io_error)?;
    // A missing folder and a file both list as `{}`; the client tells files from folders so.
    if entries.is_empty() {
        return Ok(Json(json!({})));
    }
    let files: Vec<_> = entries
        .iter()
        .map(|entry| {
            let mut file = json!({ "path": entry.path, "is_dir": entry.is_dir });
            if let Some(size) = entry.size {
                file["file_size"] = json!(size);
            }
            file
        })
        .collect();
    Ok(Json(json!({ "files": files })))
}

pub async fn download(State(state): State<AppState>, caller: Caller, Path(path): Path<String>) -> Result<Response, MlflowError> {
    let path = authorize(&state, &caller, &path).await?;
    let (size, stream) = state
        .artifacts
        .get(&path)
        .await
        .map_err(io_error)?
        .ok_or_else(|| MlflowError::missing(format!("artifact \"{path}\" not found")))?;
    let name = path.rsplit('/').next().unwrap_or("artifact").replace('"', "");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
    request: Request,
) -> Result<Json<serde_json::Value>, MlflowError> {
    caller.require_write()?;
    let path = authorize(&state, &caller, &path).await?;
    state.artifacts.put(&path, limited_body(&state, request)).await.map_err(io_error)?;
    Ok(Json(json!({})))
}

/// Returns the request body as a stream that fails once it passes `--max-upload-mb`.
fn limited_body(state: &AppState, request: Request) -> ByteStream {
    let limit = state.config.max_upload_mb.saturating_mul(1024 * 1024);
    let mut seen = 0u64;
    let stream = request.into_body().into_data_stream().map_err(std::io::Error::other).and_then(move |chunk| {
        seen += chunk.len() as u64;
        let result = if seen > limit {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the upload is larger than the server's limit of {} MB (--max-upload-mb)", limit >> 20),
            ))
        } else {
            Ok(chunk)
        };
        std::future::ready(result)
    });
    Box::pin(stream)
}

pub async fn remove(State(state): State<AppState>, caller: Caller, Path(path): Path<String>) -> Result<Json<serde_json::Value>, MlflowError> {
    caller.require_write()?;
    let path = authorize(&state, &caller, &path).await?;
    state.artifacts.delete(&path).await.map_err(io_error)?;
    Ok(Json(json!({})))
}

/// Presigned downloads need a cloud store. The client requests them only when server-info
/// enables them, and on this response it downloads each file in one request, as with MLflow.
pub async fn not_implemented() -> MlflowError {
    MlflowError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "NOT_IMPLEMENTED",
        "presigned downloads need an S3-compatible artifact store; download the file with GET /api/2.0/mlflow-artifacts/artifacts/<path>",
    )
}

// ---- Multipart uploads --------------------------------------------------------------------
//
// The MLflow client (3.18, with multipart uploads enabled in server-info) splits a large file
// into parts, requests one upload URL per part from mpu/create, PUTs the parts to those URLs in
// parallel, then calls mpu/complete with each part's ETag. On S3 the URLs are presigned; here
// they point back at this server. The client sends no credentials with a part, so the upload
// id, 128 random bits, is what authorizes it, as the signature does on S3.

/// Returns the artifact path of the file an upload writes: the folder in the request path
/// plus the file name from the body. Clients before MLflow 3.18 sent the whole local path.
async fn upload_target(state: &AppState, caller: &Caller, folder: &str, fields: &Fields) -> Result<String, MlflowError> {
    let local = fields.required_text("path")?;
    let name = local.rsplit(['/', '\\']).next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(MlflowError::invalid(format!("\"path\" must name the file to upload, not \"{local}\"")));
    }
    authorize(state, caller, &format!("{}/{name}", folder.trim_matches('/'))).await
}

/// Returns the URL clients reach this server at: `--public-url` when set, otherwise the
/// request's Host header with the scheme from X-Forwarded-Proto (default http).
fn base_url(state: &AppState, headers: &HeaderMap) -> Result<String, MlflowError> {
    if let Some(url) = &state.config.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| MlflowError::invalid("the request has no Host header; send one or start the server with --public-url"))?;
    let scheme = match headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

/// Returns the id and the artifact path of the upload that a complete or abort request names,
/// after checking that the caller may write there and that the upload writes that file.
async fn existing_upload(state: &AppState, caller: &Caller, folder: &str, fields: &Fields) -> Result<(String, String), MlflowError> {
    caller.require_write()?;
    let target = upload_target(state, caller, folder, fields).await?;
    let upload_id = fields.required_text("upload_id")?;
    let upload: MultipartUpload = state
        .artifacts
        .multipart(&upload_id)
        .await
        .map_err(io_error)?
        .ok_or_else(|| MlflowError::missing(format!("upload \"{upload_id}\" not found; it was completed, aborted or never started")))?;
    if upload.path != target {
        return Err(MlflowError::invalid(format!(
            "upload \"{upload_id}\" writes \"{}\", not \"{target}\"; send the artifact path and file name given to mpu/create",
            upload.path
        )));
    }
    Ok((upload_id, target))
}

/// Handles POST /api/2.0/mlflow-artifacts/mpu/create/<folder> with the file name and the
/// number of parts, and returns the upload id and one upload URL per part.
pub async fn create_multipart(
    State(state): State<AppState>,
    caller: Caller,
    Path(folder): Path<String>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Json<serde_json::Value>, MlflowError> {
    caller.require_write()?;
    let target = upload_target(&state, &caller, &folder, &fields).await?;
    let parts = fields.int("num_parts")?.unwrap_or(1);
    let parts = u32::try_from(parts)
        .ok()
        .filter(|parts| (1..=MAX_UPLOAD_PARTS).contains(parts))
        .ok_or_else(|| MlflowError::invalid(format!("\"num_parts\" must be 1 to {MAX_UPLOAD_PARTS}, not {parts}; use larger parts")))?;
    let base = base_url(&state, &headers)?;
    let upload_id = state.artifacts.create_multipart(&target, parts).await.map_err(io_error)?;
    tracing::info!(%upload_id, path = %target, parts, "multipart upload started");
    let credentials: Vec<_> = (1..=parts)
        .map(|part_number| {
            json!({
                "part_number": part_number,
                "url": format!("{base}/api/2.0/mlflow-artifacts/mpu/parts/{upload_id}/{part_number}"),
                "headers": {},
            })
        })
        .collect();
    Ok(Json(json!({ "upload_id": upload_id, "credentials": credentials })))
}

/// Handles PUT /api/2.0/mlflow-artifacts/mpu/parts/<upload id>/<part number>: streams one
/// part to the store and returns its ETag in the ETag header.
pub async fn upload_part(
    State(state): State<AppState>,
    Path((upload_id, part_number)): Path<(String, String)>,
    request: Request,
) -> Result<Response, MlflowError> {
    let part_number: u32 = part_number
        .parse()
        .map_err(|_| MlflowError::invalid(format!("part number \"{part_number}\" is not a whole number; use the URL mpu/create returned")))?;
    let stream = limited_body(&state, request);
    let etag = state.artifacts.put_part(&upload_id, part_number, stream).await.map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            MlflowError::missing(error.to_string())
        } else {
            io_error(error)
        }
    })?;
    Ok(([(header::ETAG, format!("\"{etag}\""))], Json(json!({}))).into_response())
}

/// Handles POST /api/2.0/mlflow-artifacts/mpu/complete/<folder>: joins the listed parts
/// into the file.
pub async fn complete_multipart(
    State(state): State<AppState>,
    caller: Caller,
    Path(folder): Path<String>,
    fields: Fields,
) -> Result<Json<serde_json::Value>, MlflowError> {
    let (upload_id, target) = existing_upload(&state, &caller, &folder, &fields).await?;
    let mut parts = Vec::new();
    for part in fields.list("parts") {
        let number = part.get("part_number").and_then(serde_json::Value::as_u64).and_then(|number| u32::try_from(number).ok());
        let etag = part.get("etag").and_then(serde_json::Value::as_str);
        match (number, etag) {
            (Some(number), Some(etag)) => parts.push((number, etag.to_string())),
            _ => return Err(MlflowError::invalid(format!("every part needs a \"part_number\" and an \"etag\", got {part}"))),
        }
    }
    let size = state.artifacts.complete_multipart(&upload_id, &parts).await.map_err(io_error)?;
    tracing::info!(%upload_id, path = %target, size, "multipart upload completed");
    Ok(Json(json!({})))
}

/// Handles POST /api/2.0/mlflow-artifacts/mpu/abort/<folder>: ends an upload and deletes its
/// parts.
pub async fn abort_multipart(
    State(state): State<AppState>,
    caller: Caller,
    Path(folder): Path<String>,
    fields: Fields,
) -> Result<Json<serde_json::Value>, MlflowError> {
    let (upload_id, target) = existing_upload(&state, &caller, &folder, &fields).await?;
    state.artifacts.abort_multipart(&upload_id).await.map_err(io_error)?;
    tracing::info!(%upload_id, path = %target, "multipart upload aborted");
    Ok(Json(json!({})))
}
