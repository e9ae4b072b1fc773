//! Request context for server functions: the application state and the signed-in user.

use leptos::prelude::*;

use super::auth::CurrentUser;
use super::AppState;

pub fn state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("the application state is missing from the request context"))
}

pub async fn current_user() -> Result<CurrentUser, ServerFnError> {
    leptos_axum::extract::<CurrentUser>()
        .await
        .map_err(|_| ServerFnError::new("sign in to continue"))
}

/// Returns the state and the signed-in user's membership of workspace `slug`, which every
/// page's server function needs before it reads; a non-member gets a 404 error.
pub async fn workspace_member(slug: &str) -> Result<(AppState, crate::db::workspaces::Membership), ServerFnError> {
    let state = state()?;
    let user = current_user().await?;
    let membership = super::forms::require_workspace(&state.db, &user, slug, |_| true, "view it")
        .await
        .map_err(to_server_error)?;
    Ok((state, membership))
}

/// Turns a handler error into the message a page shows, keeping its HTTP status so that a
/// server-function call for another workspace's data also gets 404.
pub fn to_server_error(error: super::errors::ApiError) -> ServerFnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status);
    }
    ServerFnError::new(error.message)
}
