//! The `mlflow-artifacts` proxy: uploads, downloads and listings of run and model
//! artifacts. Store paths start with the experiment id (`<experiment>/<run>/artifacts/…`),
//! which ties every path to one workspace.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::TryStreamExt;
use serde_json::json;

use super::{Caller, Fields, MlflowError};
use crate::server::AppState;
use crate::tracking::artifacts::check_path;

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
    state.artifacts.put(&path, Box::pin(stream)).await.map_err(io_error)?;
    Ok(Json(json!({})))
}

pub async fn remove(State(state): State<AppState>, caller: Caller, Path(path): Path<String>) -> Result<Json<serde_json::Value>, MlflowError> {
    caller.require_write()?;
    let path = authorize(&state, &caller, &path).await?;
    state.artifacts.delete(&path).await.map_err(io_error)?;
    Ok(Json(json!({})))
}

/// Multipart and presigned transfers need a cloud store; the client falls back to one
/// request per file when it gets this answer, as it does from MLflow with a local store.
pub async fn not_implemented() -> MlflowError {
    MlflowError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "NOT_IMPLEMENTED",
        "multipart and presigned transfers need an S3-compatible artifact store; send the file in one PUT",
    )
}
