//! The error type of handlers: one status per case, a JSON body naming the problem.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra fields for the JSON body, such as the rows that failed validation.
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: None }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::unauthorized("sign in, or send an API token as `Authorization: Bearer <token>`")
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// Used for resources outside the caller's workspaces too, so ids reveal nothing.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn session(error: tower_sessions::session::Error) -> ApiError {
        ApiError::internal(format!("session store failed: {error}"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        tracing::error!(%error, "database query failed");
        ApiError::internal("the database query failed; see the server log")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // `error_code` carries MLflow's name for the status, because the MLflow client reads
        // that field and reports any error without it as INTERNAL_ERROR.
        let mlflow_code = match self.status.as_u16() {
            400 => "INVALID_PARAMETER_VALUE",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "RESOURCE_DOES_NOT_EXIST",
            409 => "RESOURCE_ALREADY_EXISTS",
            429 => "REQUEST_LIMIT_EXCEEDED",
            _ => "INTERNAL_ERROR",
        };
        let mut body = json!({ "error": self.code, "error_code": mlflow_code, "message": self.message });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// Renders a minimal standalone HTML page for errors shown outside the Leptos app.
pub fn message_page(title: &str, message: &str, link: &str, link_text: &str) -> Html<String> {
    let escape = |text: &str| {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Orrery</title>\
         <link rel=\"stylesheet\" href=\"/pkg/orrery.css\"></head><body><main class=\"message-page\">\
         <h1>{title}</h1><p>{message}</p><p><a href=\"{link}\">{link_text}</a></p></main></body></html>",
        title = escape(title),
        message = escape(message),
        link = escape(link),
        link_text = escape(link_text),
    ))
}

/// Handles every path no route matches.
pub async fn not_found_page() -> Response {
    let page = message_page("Not found", "There is nothing at this address.", "/", "Go to your workspace");
    (StatusCode::NOT_FOUND, page).into_response()
}
