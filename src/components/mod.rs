//! Pieces shared by several pages.

pub mod chart;
pub mod header;

use leptos::prelude::*;

use crate::app::CurrentViewer;

/// Renders a hidden form field with the session's CSRF token. Every POST form includes one.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name="csrf_token" value=csrf_token()/> }
}

/// Returns the session's CSRF token, or an empty string for a visitor.
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

/// Shows `?notice=` from the URL, set by form handlers that succeeded and report a result.
#[component]
pub fn Notice() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        query.read().get("notice").map(|message| {
            view! { <p class="notice" role="status" data-testid="notice">{message}</p> }
        })
    }
}

/// Shows a failed page load: the message without the framework's prefix, and a way back.
#[component]
pub fn LoadError(error: ServerFnError, #[prop(into)] back: String) -> impl IntoView {
    let message = match error {
        ServerFnError::ServerError(message) => message,
        other => other.to_string(),
    };
    view! {
        <div class="form-error" role="alert" data-testid="load-error">
            <p>{message}</p>
            <p><a href=back>"Open the default view"</a></p>
        </div>
    }
}

/// Capitalises the first letter, for a word that starts a sentence.
pub fn sentence_start(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Formats Unix milliseconds as `YYYY-MM-DD HH:MM` UTC.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|time| time.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Formats a count with thousands separators: 68785 becomes "68,785".
pub fn format_count(count: impl Into<u64>) -> String {
    let digits = count.into().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Formats a statistic with four significant digits, switching to scientific notation for
/// very small values so p-values like 1e-8 stay readable.
pub fn format_stat(value: f64) -> String {
    if value.is_infinite() {
        // Spelled as MLflow's API writes infinities.
        if value > 0.0 { "Infinity".to_string() } else { "-Infinity".to_string() }
    } else if value == 0.0 {
        "0".to_string()
    } else if value.abs() < 1e-3 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_count_groups_thousands() {
        assert_eq!(format_count(0u64), "0");
        assert_eq!(format_count(999u64), "999");
        assert_eq!(format_count(68_785u64), "68,785");
        assert_eq!(format_count(1_234_567u64), "1,234,567");
    }

    #[test]
    fn format_stat_switches_to_scientific_below_one_thousandth() {
        assert_eq!(format_stat(0.023784886684748475), "0.0238");
        assert_eq!(format_stat(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(format_stat(f64::NAN), "NaN");
        assert_eq!(format_stat(1.0594949190740636e-8), "1.059e-8");
        assert_eq!(format_stat(0.0), "0");
    }
}
