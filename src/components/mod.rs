//! Pieces shared by several pages.

pub mod chart;
pub mod header;

use leptos::prelude::*;

use crate::app::CurrentViewer;

/// A hidden form field with the session's CSRF token; every POST form includes one.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name="csrf_token" value=csrf_token()/> }
}

/// The session's CSRF token, or an empty string for a visitor.
pub fn csrf_token() -> String {
    use_context::<CurrentViewer>()
        .and_then(|viewer| viewer.0)
        .map(|viewer| viewer.csrf_token)
        .unwrap_or_default()
}

/// Shows `?error=` from the URL, set by form handlers that rejected a value.
#[component]
pub fn FormError() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        query.read().get("error").map(|message| {
            view! { <p class="form-error" role="alert">{message}</p> }
        })
    }
}

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM` UTC.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|time| time.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Formats a statistic with four significant digits, switching to scientific notation for
/// very small values so p-values like 1e-8 stay readable.
pub fn format_stat(value: f64) -> String {
    if value == 0.0 {
        "0".to_string()
    } else if value.abs() < 1e-3 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}
