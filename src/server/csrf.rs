//! Cross-site request forgery protection for every state-changing request.
//!
//! Two checks, both required for requests that rely on the session cookie:
//! 1. origin: a browser's `Sec-Fetch-Site` must be `same-origin` or `none`, and an `Origin`
//!    header must name this host. This also covers the login and setup forms, which run
//!    before a session exists.
//! 2. token: a signed-in session's CSRF token must come back in the `X-CSRF-Token` header,
//!    the `csrf_token` query parameter (used by file uploads) or the `csrf_token` field of a
//!    URL-encoded form.
//!
//! Requests with an `Authorization: Bearer` token skip both, because browsers never attach
//! that header on their own.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{api_token, CurrentUser};
use super::errors::message_page;
use crate::accounts::tokens::constant_time_eq;

/// Largest URL-encoded form body read to find the token.
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

pub async fn csrf_protection(request: Request, next: Next) -> Response {
    let safe_method = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe_method || api_token(request.headers()).is_some() {
        return next.run(request).await;
    }

    if let Err(reason) = check_origin(&request) {
        tracing::warn!(path = %request.uri().path(), reason, "cross-site request rejected");
        return reject(reason);
    }

    let expected = request
        .extensions()
        .get::<CurrentUser>()
        .and_then(|user| user.csrf_token.clone());
    let Some(expected) = expected else {
        return next.run(request).await;
    };

    let (request, presented) = match presented_token(request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match presented {
        Some(token) if constant_time_eq(&token, &expected) => next.run(request).await,
        _ => {
            tracing::warn!(path = %request.uri().path(), "request without a valid CSRF token rejected");
            reject("the form is missing its security token or the token has expired; reload the page and submit again")
        }
    }
}

fn check_origin(request: &Request) -> Result<(), &'static str> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err("the request came from another site");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
        if origin == "null" || origin_host != host {
            return Err("the request's Origin does not match this server");
        }
    }
    Ok(())
}

/// Finds the token in the header, the query string, or a URL-encoded body. A body is read and
/// put back, so the handler still receives it.
async fn presented_token(request: Request) -> Result<(Request, Option<String>), Response> {
    if let Some(token) = request.headers().get(CSRF_HEADER).and_then(|value| value.to_str().ok()) {
        let token = token.to_string();
        return Ok((request, Some(token)));
    }
    if let Some(token) = query_field(request.uri().query().unwrap_or(""), CSRF_FIELD) {
        return Ok((request, Some(token)));
    }

    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.starts_with("application/x-www-form-urlencoded"))
        .unwrap_or(false);
    if !is_form {
        return Ok((request, None));
    }

    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let message = "the form is larger than 1 MiB; send files through the upload form";
            return Err((StatusCode::PAYLOAD_TOO_LARGE, message).into_response());
        }
    };
    let token = query_field(std::str::from_utf8(&bytes).unwrap_or(""), CSRF_FIELD);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

fn query_field(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn reject(reason: &str) -> Response {
    let page = message_page("Request rejected", reason, "/", "Go back to Orrery");
    (StatusCode::FORBIDDEN, page).into_response()
}
