//! A model's default baseline: the form behind the monitoring pages' "make this the default"
//! button, and its JSON twin at /api/v1/workspaces/{workspace}/models/{model}/baseline.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::errors::ApiError;
use super::forms::require_workspace;
use super::AppState;
use crate::db::models::Model;
use crate::monitoring::drift::parse_baseline;
use crate::pages::drift::DriftQuery;
use crate::types::{Baseline, Role};
use crate::url::percent_encode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{workspace}/models/{model}/baseline", post(baseline_form))
        .route(
            "/api/v1/workspaces/{workspace}/models/{model}/baseline",
            get(get_baseline_api).put(set_baseline_api).delete(reset_baseline_api),
        )
}

#[derive(Deserialize)]
struct BaselineForm {
    baseline: String,
    #[serde(default)]
    baseline_from: String,
    #[serde(default)]
    baseline_to: String,
    #[serde(default)]
    baseline_days: String,
    /// The page to return to; it must be one of this model's pages.
    #[serde(default)]
    back: String,
}

/// Checks a baseline the way a page URL's parameters are checked.
fn checked(baseline: &str, from: &str, to: &str, days: &str) -> Result<Baseline, ApiError> {
    let non_empty = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_string());
    let query = DriftQuery {
        baseline: non_empty(baseline),
        baseline_from: non_empty(from),
        baseline_to: non_empty(to),
        baseline_days: non_empty(days),
        ..DriftQuery::default()
    };
    parse_baseline(&query)?.ok_or_else(|| {
        ApiError::bad_request("no baseline given; use training, validation, production or trailing")
    })
}

async fn writable_model(state: &AppState, user: &CurrentUser, slug: &str, name: &str) -> Result<Model, ApiError> {
    let workspace = require_workspace(&state.db, user, slug, Role::can_write, "change a model's default baseline").await?;
    state
        .db
        .model(workspace.workspace_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{name}\" not found")))
}

/// Saves `baseline` as the model's default; training data is stored as no default at all.
async fn save(state: &AppState, user: &CurrentUser, model: &Model, baseline: &Baseline) -> Result<(), ApiError> {
    let stored = (*baseline != Baseline::Training).then_some(baseline);
    state.db.set_default_baseline(model.id, stored).await?;
    tracing::info!(user = user.id, model = model.id, baseline = ?baseline, "default baseline saved");
    Ok(())
}

/// Handles the POST /w/{workspace}/models/{model}/baseline route.
async fn baseline_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<BaselineForm>,
) -> Result<Response, ApiError> {
    let model = writable_model(&state, &user, &slug, &name).await?;
    let baseline = checked(&form.baseline, &form.baseline_from, &form.baseline_to, &form.baseline_days)?;
    save(&state, &user, &model, &baseline).await?;

    // Only a path on this model's pages is followed, so the form cannot redirect elsewhere.
    let model_page = format!("/w/{slug}/models/{}", percent_encode(&name));
    let back = if form.back.starts_with(&model_page) && !form.back.contains("//") { form.back } else { model_page };
    let separator = if back.contains('?') { '&' } else { '?' };
    let notice = format!("Saved: pages of model {name} now compare with {} unless their link names another baseline.", baseline.describe());
    Ok(Redirect::to(&format!("{back}{separator}notice={}", percent_encode(&notice))).into_response())
}

/// Handles GET /api/v1/workspaces/{workspace}/models/{model}/baseline.
async fn get_baseline_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view it").await?;
    let model = state
        .db
        .model(workspace.workspace_id, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model \"{name}\" not found")))?;
    Ok(Json(model.default_baseline.unwrap_or(Baseline::Training)).into_response())
}

#[derive(Deserialize)]
struct BaselineBody {
    kind: String,
    from: Option<String>,
    to: Option<String>,
    days: Option<serde_json::Value>,
}

/// Handles PUT /api/v1/workspaces/{workspace}/models/{model}/baseline with a body such as
/// `{"kind": "trailing", "days": 7}` or `{"kind": "production", "from": …, "to": …}`.
async fn set_baseline_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    body: Result<Json<BaselineBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ApiError::bad_request(format!(
            "invalid baseline: {}; send {{\"kind\": \"training\"}}, {{\"kind\": \"validation\"}}, {{\"kind\": \"production\", \"from\": \"2024-01-01\", \"to\": \"2024-01-31\"}} or {{\"kind\": \"trailing\", \"days\": 7}}",
            rejection.body_text()
        ))
    })?;
    let model = writable_model(&state, &user, &slug, &name).await?;
    let days = match &body.days {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let baseline = checked(&body.kind, body.from.as_deref().unwrap_or(""), body.to.as_deref().unwrap_or(""), &days)?;
    save(&state, &user, &model, &baseline).await?;
    Ok(Json(baseline).into_response())
}

/// Handles DELETE /api/v1/workspaces/{workspace}/models/{model}/baseline: back to training data.
async fn reset_baseline_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let model = writable_model(&state, &user, &slug, &name).await?;
    save(&state, &user, &model, &Baseline::Training).await?;
    Ok(Json(Baseline::Training).into_response())
}
