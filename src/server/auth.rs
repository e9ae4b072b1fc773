//! Sign-in: the current-user middleware, login, logout, first-admin setup, and login rate
//! limits.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::errors::ApiError;
use super::AppState;
use crate::accounts::passwords::{check_password_rules, dummy_hash, hash_password, verify_password};
use crate::accounts::tokens::{hash_token, random_secret};
use crate::accounts::validate_name;
use crate::url::percent_encode;

pub const SESSION_USER_KEY: &str = "user_id";
pub const SESSION_CSRF_KEY: &str = "csrf_token";

/// Failed logins allowed per account within [`RATE_LIMIT_WINDOW_MS`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins allowed per client address within [`RATE_LIMIT_WINDOW_MS`].
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const RATE_LIMIT_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The signed-in user of a request, put in the request's extensions by
/// [`load_current_user`].
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// Set for browser sessions; API-token requests have none and need no CSRF check.
    pub csrf_token: Option<String>,
    /// The workspace an API token is limited to, if it is.
    pub token_workspace_id: Option<i64>,
    /// For API-token requests, the membership of the workspace they act in unless a header
    /// picks another, loaded with the token.
    pub token_membership: Option<crate::db::workspaces::Membership>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<CurrentUser, ApiError> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or_else(ApiError::unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Option<CurrentUser>, std::convert::Infallible> {
        Ok(parts.extensions.get::<CurrentUser>().cloned())
    }
}

/// Resolves the user from a `Bearer` API token or from the session cookie.
pub async fn load_current_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    match resolve_user(&state, &session, request.headers()).await {
        Ok(Some(user)) => {
            if user.csrf_token.is_some() {
                match viewer_of(&state, &user).await {
                    Ok(viewer) => {
                        request.extensions_mut().insert(viewer);
                    }
                    Err(error) => return error.into_response(),
                }
            }
            request.extensions_mut().insert(user);
        }
        Ok(None) => {}
        Err(error) => return error.into_response(),
    }
    next.run(request).await
}

/// Builds what pages show of a browser user: name, workspaces and the CSRF token for forms.
async fn viewer_of(state: &AppState, user: &CurrentUser) -> Result<crate::types::Viewer, ApiError> {
    Ok(crate::types::Viewer {
        user_id: user.id,
        username: user.username.clone(),
        is_admin: user.is_admin,
        csrf_token: user.csrf_token.clone().unwrap_or_default(),
        workspaces: state.db.workspaces_of(user.id).await?,
    })
}

async fn resolve_user(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
) -> Result<Option<CurrentUser>, ApiError> {
    if let Some(token) = api_token(headers) {
        let identity = state
            .db
            .token_identity(&hash_token(&token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the API token is invalid or revoked; create a new one on the API tokens page"))?;
        return Ok(Some(CurrentUser {
            id: identity.user_id,
            username: identity.username,
            is_admin: identity.is_admin,
            csrf_token: None,
            token_workspace_id: identity.token_workspace_id,
            token_membership: identity.membership,
        }));
    }

    let user_id: Option<i64> = session.get(SESSION_USER_KEY).await.map_err(ApiError::session)?;
    let Some(user_id) = user_id else { return Ok(None) };
    let Some(user) = state.db.user_by_id(user_id).await? else {
        session.flush().await.map_err(ApiError::session)?;
        return Ok(None);
    };
    let csrf_token: Option<String> = session.get(SESSION_CSRF_KEY).await.map_err(ApiError::session)?;
    Ok(Some(CurrentUser {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        csrf_token,
        token_workspace_id: None,
        token_membership: None,
    }))
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim)
}

/// The API token of a request: a bearer token, or the password of HTTP basic auth (what
/// MLflow clients send with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD).
pub fn api_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = bearer_token(headers) {
        return Some(token.to_string());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_string())
}

/// Handles the GET / route: sends users to their workspace, or to setup or login.
pub async fn home(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
) -> Result<Redirect, ApiError> {
    if state.db.count_users().await? == 0 {
        return Ok(Redirect::to("/setup"));
    }
    let Some(user) = user else { return Ok(Redirect::to("/login")) };

    let workspaces = state.db.workspaces_of(user.id).await?;
    let account = state.db.user_by_id(user.id).await?;
    let default_id = account.and_then(|account| account.default_workspace_id);
    let mut target = workspaces.first().map(|workspace| workspace.slug.clone());
    if let Some(default_id) = default_id {
        for workspace in &workspaces {
            let membership = state.db.membership(user.id, &workspace.slug).await?;
            if membership.map(|m| m.workspace_id) == Some(default_id) {
                target = Some(workspace.slug.clone());
            }
        }
    }
    Ok(match target {
        Some(slug) => Redirect::to(&format!("/w/{slug}")),
        None => Redirect::to("/workspaces"),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// Handles the POST /login route.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    connect_info: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let username = form.username.trim().to_lowercase();
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|address| address.trim().to_string())
        .filter(|address| !address.is_empty() && state.config.trust_forwarded_for);
    let address = forwarded.or_else(|| connect_info.map(|axum::Extension(ConnectInfo(addr))| addr.ip().to_string()));
    let account_key = format!("user:{username}");
    let address_key = format!("addr:{}", address.as_deref().unwrap_or("unknown"));
    let since = crate::db::now_ms() - RATE_LIMIT_WINDOW_MS;

    let account_failures = state.db.count_login_failures(&account_key, since).await?;
    let address_failures = state.db.count_login_failures(&address_key, since).await?;
    if account_failures >= MAX_FAILURES_PER_ACCOUNT || address_failures >= MAX_FAILURES_PER_ADDRESS {
        tracing::warn!(username = %username, address = ?address, "login rate limit reached");
        return Ok(login_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; wait 15 minutes and try again",
        ));
    }

    let user = state.db.user_by_name(&username).await?;
    let hash = user.as_ref().map(|user| user.password_hash.as_str()).unwrap_or(dummy_hash());
    let password = form.password.clone();
    let hash = hash.to_string();
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state.db.record_login_failure(&account_key).await?;
            state.db.record_login_failure(&address_key).await?;
            tracing::info!(username = %username, address = ?address, "login failed");
            return Ok(login_error(StatusCode::UNAUTHORIZED, "wrong username or password"));
        }
    };

    state.db.clear_login_failures(&account_key).await?;
    start_session(&session, user.id).await?;
    tracing::info!(user = user.id, "logged in");
    Ok(Redirect::to(safe_next(form.next.as_deref())).into_response())
}

/// Rotates the session id (against session fixation) and stores the user and a fresh CSRF
/// token in it.
pub async fn start_session(session: &Session, user_id: i64) -> Result<(), ApiError> {
    session.cycle_id().await.map_err(ApiError::session)?;
    session.insert(SESSION_USER_KEY, user_id).await.map_err(ApiError::session)?;
    session.insert(SESSION_CSRF_KEY, random_secret()).await.map_err(ApiError::session)?;
    Ok(())
}

fn login_error(status: StatusCode, message: &str) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        let body = super::errors::message_page("Too many failed logins", message, "/login", "Back to login");
        return (status, body).into_response();
    }
    Redirect::to(&format!("/login?error={}", percent_encode(message))).into_response()
}

/// Keeps a post-login redirect on this site: only absolute paths, never `//host`.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path,
        _ => "/",
    }
}

/// Handles the POST /logout route.
pub async fn logout(session: Session, user: Option<CurrentUser>) -> Result<Redirect, ApiError> {
    session.flush().await.map_err(ApiError::session)?;
    if let Some(user) = user {
        tracing::info!(user = user.id, "logged out");
    }
    Ok(Redirect::to("/login"))
}

#[derive(Deserialize)]
pub struct SetupForm {
    pub username: String,
    pub password: String,
    pub workspace: String,
}

/// Handles the POST /setup route: creates the first admin and their workspace. Once any user
/// exists this returns 404, so setup cannot be used to take over a running server.
pub async fn setup(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response, ApiError> {
    if state.db.count_users().await? > 0 {
        return Err(ApiError::not_found("setup is finished: an administrator already exists"));
    }
    let username = form.username.trim().to_lowercase();
    let workspace_name = form.workspace.trim();
    let checks = validate_name("username", &username)
        .and_then(|_| check_password_rules(&form.password))
        .and_then(|_| crate::server::forms::check_workspace_name(workspace_name));
    if let Err(message) = checks {
        return Ok(Redirect::to(&format!("/setup?error={}", percent_encode(&message))).into_response());
    }

    let password = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?;
    let user_id = state.db.create_user(&username, &hash, true).await?;
    let slug = crate::server::forms::unique_slug(&state.db, workspace_name).await?;
    let workspace_id = state.db.create_workspace(&slug, workspace_name, user_id).await?;
    state.db.set_default_workspace(user_id, workspace_id).await?;
    tracing::info!(user = user_id, workspace = %slug, "first administrator created");

    start_session(&session, user_id).await?;
    Ok(Redirect::to(&format!("/w/{slug}")).into_response())
}
