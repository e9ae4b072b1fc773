//! What server functions need from the request: the application state and the user.

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

/// Turns a handler error into the message a page shows.
pub fn to_server_error(error: super::errors::ApiError) -> ServerFnError {
    ServerFnError::new(error.message)
}
