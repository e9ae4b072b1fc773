//! Access rules for pages, applied before Leptos renders anything: signed-out visitors go to
//! the login page, and a workspace or model the user cannot see is a plain 404.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::auth::CurrentUser;
use crate::url::percent_encode;
use super::errors::not_found_page;
use super::AppState;

/// Paths served to everyone.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 5] = ["/pkg/", "/public/", "/api/", "/healthz", "/readyz"];
    path == "/" || path == "/login" || path == "/favicon.ico" || PREFIXES.iter().any(|p| path.starts_with(p))
}

pub async fn page_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();

    if path == "/setup" {
        return match state.db.count_users().await {
            Ok(0) => next.run(request).await,
            Ok(_) => Redirect::to("/login").into_response(),
            Err(error) => super::errors::ApiError::from(error).into_response(),
        };
    }
    if is_public(&path) {
        return next.run(request).await;
    }

    let Some(user) = request.extensions().get::<CurrentUser>().cloned() else {
        let next_path = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path.clone(),
        };
        return Redirect::to(&format!("/login?next={}", percent_encode(&next_path))).into_response();
    };

    match workspace_scope_visible(&state, &user, &path).await {
        Ok(true) => next.run(request).await,
        Ok(false) => not_found_page().await,
        Err(error) => super::errors::ApiError::from(error).into_response(),
    }
}

/// For `/w/{slug}/…` and `/w/{slug}/models/{name}/…`, checks membership and that the model
/// exists; other paths are visible to any signed-in user.
async fn workspace_scope_visible(
    state: &AppState,
    user: &CurrentUser,
    path: &str,
) -> Result<bool, sqlx::Error> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.first() != Some(&"w") {
        return Ok(true);
    }
    let Some(slug) = segments.get(1) else { return Ok(false) };
    let Some(membership) = state.db.membership(user.id, slug).await? else {
        return Ok(false);
    };
    if segments.get(2) == Some(&"models") {
        if let Some(model_name) = segments.get(3) {
            let name = percent_decode(model_name);
            return Ok(state.db.model(membership.workspace_id, &name).await?.is_some());
        }
    }
    Ok(true)
}

fn percent_decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}
