//! The promotion workflow over HTTP: browser forms on the registry pages and the same
//! actions as a JSON API for scripts, plus promotion policies and webhooks.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::CurrentUser;
use super::errors::ApiError;
use super::forms::{back_with_error, require_workspace};
use super::AppState;
use crate::db::registry::Actor;
use crate::db::workspaces::Membership;
use crate::tracking::promotion::{approval_refusal, check_gates, MetricGate, Policy, ReviewOutcome};
use crate::tracking::RegisteredModel;
use crate::types::Role;
use crate::url::percent_encode;

pub fn router() -> Router<AppState> {
    let api = "/api/v1/workspaces/{workspace}/registry/{model}";
    Router::new()
        .route("/w/{workspace}/registry/{model}/requests", post(request_form))
        .route("/w/{workspace}/registry/{model}/requests/{id}/{action}", post(review_form))
        .route("/w/{workspace}/registry/{model}/policy", post(policy_form))
        .route("/w/{workspace}/registry-policy", post(default_policy_form))
        .route("/w/{workspace}/registry/{model}/aliases", post(alias_form))
        .route("/w/{workspace}/webhooks", post(webhook_form))
        .route("/w/{workspace}/webhooks/{id}/delete", post(delete_webhook_form))
        .route(&format!("{api}/requests"), get(list_requests_api).post(request_api))
        .route(&format!("{api}/requests/{{id}}/{{action}}"), post(review_api))
        .route(&format!("{api}/history"), get(history_api))
        .route(&format!("{api}/policy"), get(get_policy_api).put(set_policy_api))
        .route("/api/v1/workspaces/{workspace}/registry-policy", get(get_default_policy_api).put(set_default_policy_api))
        .route("/api/v1/workspaces/{workspace}/webhooks", get(list_webhooks_api).post(create_webhook_api))
}

fn actor(user: &CurrentUser) -> Actor {
    Actor { id: user.id, name: user.username.clone() }
}

async fn registered_model(state: &AppState, workspace: &Membership, name: &str) -> Result<RegisteredModel, ApiError> {
    state
        .db
        .registered_model(workspace.workspace_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("registered model \"{name}\" not found")))
}

/// Opens a promotion request after checking the version, the alias and the gates.
pub async fn request_promotion(
    state: &AppState,
    workspace: &Membership,
    user: &CurrentUser,
    model: &RegisteredModel,
    alias: &str,
    version: &str,
    comment: &str,
) -> Result<i64, ApiError> {
    let alias = alias.trim();
    super::mlflow::check_alias_text(alias).map_err(ApiError::bad_request)?;
    let number: i64 = version.trim().parse().map_err(|_| {
        ApiError::bad_request(format!("version \"{version}\" is not a version number; pick one from the versions table"))
    })?;
    let version = state.db.registry_version(model.id, number).await?.ok_or_else(|| {
        ApiError::bad_request(format!("model \"{}\" has no version {number}", model.name))
    })?;
    if state.db.alias_version(model.id, alias).await? == Some(number) {
        return Err(ApiError::conflict(format!("alias \"{alias}\" already points at version {number}")));
    }
    let policy = state.db.promotion_policy(workspace.workspace_id, Some(model.id)).await?;
    let gates = check_gates(&state.db, workspace.workspace_id, &policy, &version).await?;
    let failed: Vec<String> = gates.iter().filter(|gate| !gate.passed).map(|gate| format!("{} ({})", gate.gate, gate.detail)).collect();
    if !failed.is_empty() {
        return Err(ApiError::bad_request(format!(
            "version {number} fails the promotion policy's gates: {}",
            failed.join("; ")
        )));
    }
    let gates_json = serde_json::to_string(&gates).expect("gate results serialize");
    let id = state
        .db
        .create_promotion_request(model, alias, number, &actor(user), comment.trim(), &policy, &gates_json)
        .await?;
    tracing::info!(user = user.id, model = %model.name, alias, version = number, request = id, "promotion requested");
    Ok(id)
}

/// Records an approval or rejection after checking the reviewer's rights and, for an
/// approval, that the gates still pass.
pub async fn review_promotion(
    state: &AppState,
    workspace: &Membership,
    user: &CurrentUser,
    model: &RegisteredModel,
    request_id: i64,
    approve: bool,
    comment: &str,
) -> Result<ReviewOutcome, ApiError> {
    let request = state
        .db
        .promotion_request(workspace.workspace_id, request_id)
        .await?
        .filter(|request| request.model_name == model.name)
        .ok_or_else(|| ApiError::not_found(format!("promotion request #{request_id} not found")))?;
    let policy: Policy = serde_json::from_str(&request.policy_json).unwrap_or_default();
    if let Some(reason) = approval_refusal(&policy, workspace.role, request.requested_by == user.username) {
        return Err(ApiError::forbidden(reason));
    }
    if approve && request.status == "pending" {
        if let Some(version) = state.db.registry_version(model.id, request.version).await? {
            let gates = check_gates(&state.db, workspace.workspace_id, &policy, &version).await?;
            let failed: Vec<String> = gates.iter().filter(|gate| !gate.passed).map(|gate| format!("{} ({})", gate.gate, gate.detail)).collect();
            if !failed.is_empty() {
                return Err(ApiError::conflict(format!("the version no longer passes the gates: {}", failed.join("; "))));
            }
        } else {
            return Err(ApiError::conflict(format!("version {} was deleted; reject or cancel this request", request.version)));
        }
    }
    let outcome = state.db.review_promotion(model, request_id, &actor(user), approve, comment.trim()).await?;
    tracing::info!(user = user.id, request = request_id, approve, ?outcome, "promotion reviewed");
    Ok(outcome)
}

fn outcome_message(outcome: &ReviewOutcome) -> String {
    match outcome {
        ReviewOutcome::NotFound => "The request was not found.".into(),
        ReviewOutcome::AlreadyReviewed { decision, status } => {
            format!("You already chose to {decision} this request; it is {status}.")
        }
        ReviewOutcome::Closed { status } => format!("The request is already {status}."),
        ReviewOutcome::Rejected => "Request rejected.".into(),
        ReviewOutcome::Approved { alias_moved: true, .. } => "Approved. The alias now points at the requested version.".into(),
        ReviewOutcome::Approved { approvals, required, .. } => {
            format!("Approved. {approvals} of {required} required approvals so far.")
        }
    }
}

fn model_page(slug: &str, model: &str) -> String {
    format!("/w/{slug}/registry/{}", percent_encode(model))
}

fn back_with_notice(path: &str, message: &str) -> Response {
    Redirect::to(&format!("{path}?notice={}", percent_encode(message))).into_response()
}

/// Turns a rejected value into a message on the page; other errors stay errors.
fn form_result(page: &str, result: Result<String, ApiError>) -> Result<Response, ApiError> {
    match result {
        Ok(notice) => Ok(back_with_notice(page, &notice)),
        Err(error) if error.status.is_client_error() && error.status != axum::http::StatusCode::NOT_FOUND => {
            Ok(back_with_error(page, &error.message))
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
struct RequestForm {
    alias: String,
    version: String,
    #[serde(default)]
    comment: String,
}

/// Handles the POST /w/{workspace}/registry/{model}/requests route.
async fn request_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<RequestForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_write, "request promotions").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let result = request_promotion(&state, &workspace, &user, &model, &form.alias, &form.version, &form.comment)
        .await
        .map(|id| format!("Promotion request #{id} opened. Approvers see it on this page."));
    form_result(&model_page(&slug, &name), result)
}

#[derive(Deserialize)]
struct CommentForm {
    #[serde(default)]
    comment: String,
}

/// Handles POST /w/{workspace}/registry/{model}/requests/{id}/{approve|reject|cancel}.
async fn review_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name, id, action)): Path<(String, String, i64, String)>,
    Form(form): Form<CommentForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "review promotions").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let result = match action.as_str() {
        "approve" | "reject" => review_promotion(&state, &workspace, &user, &model, id, action == "approve", &form.comment)
            .await
            .map(|outcome| outcome_message(&outcome)),
        "cancel" => cancel(&state, &workspace, &user, &model, id).await.map(|_| format!("Request #{id} cancelled.")),
        other => return Err(ApiError::not_found(format!("no action \"{other}\"; use approve, reject or cancel"))),
    };
    form_result(&model_page(&slug, &name), result)
}

async fn cancel(state: &AppState, workspace: &Membership, user: &CurrentUser, model: &RegisteredModel, id: i64) -> Result<(), ApiError> {
    let request = state
        .db
        .promotion_request(workspace.workspace_id, id)
        .await?
        .filter(|request| request.model_name == model.name)
        .ok_or_else(|| ApiError::not_found(format!("promotion request #{id} not found")))?;
    if request.requested_by != user.username && !workspace.role.can_administer() {
        return Err(ApiError::forbidden("only the requester, an owner or an admin can cancel a request"));
    }
    if !state.db.cancel_promotion(model, id, &actor(user)).await? {
        return Err(ApiError::conflict(format!("request #{id} is already {}", request.status)));
    }
    Ok(())
}

#[derive(Deserialize)]
struct PolicyForm {
    required_approvals: String,
    #[serde(default)]
    approver_roles: String,
    #[serde(default)]
    direct_change_roles: String,
    #[serde(default)]
    allow_self_approval: Option<String>,
    #[serde(default)]
    require_no_drift: Option<String>,
    #[serde(default)]
    metric_gates: String,
}

fn parse_roles(field: &str, text: &str) -> Result<Vec<Role>, String> {
    text.split([',', ' '])
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            Role::parse(part.trim().to_lowercase().as_str())
                .ok_or_else(|| format!("{field}: unknown role \"{}\"; use owner, admin, member or viewer", part.trim()))
        })
        .collect()
}

impl PolicyForm {
    fn policy(&self) -> Result<Policy, String> {
        let required_approvals: u32 = self
            .required_approvals
            .trim()
            .parse()
            .ok()
            .filter(|count| (1..=20).contains(count))
            .ok_or_else(|| format!("required approvals \"{}\" must be a whole number from 1 to 20", self.required_approvals))?;
        let approver_roles = parse_roles("approver roles", &self.approver_roles)?;
        if approver_roles.is_empty() {
            return Err("name at least one approver role, such as owner, admin".into());
        }
        let metric_gates = self
            .metric_gates
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(MetricGate::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            required_approvals,
            approver_roles,
            allow_self_approval: self.allow_self_approval.is_some(),
            direct_change_roles: parse_roles("direct change roles", &self.direct_change_roles)?,
            metric_gates,
            require_no_drift: self.require_no_drift.is_some(),
        })
    }
}

/// Handles the POST /w/{workspace}/registry/{model}/policy route.
async fn policy_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<PolicyForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "change promotion policies").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let page = model_page(&slug, &name);
    let policy = match form.policy() {
        Ok(policy) => policy,
        Err(message) => return Ok(back_with_error(&page, &message)),
    };
    state.db.set_promotion_policy(workspace.workspace_id, Some(model.id), &policy).await?;
    Ok(back_with_notice(&page, "Promotion policy saved."))
}

/// Handles the POST /w/{workspace}/registry-policy route: the policy of every model that has
/// none of its own.
async fn default_policy_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "change promotion policies").await?;
    let page = format!("/w/{slug}/registry");
    let policy = match form.policy() {
        Ok(policy) => policy,
        Err(message) => return Ok(back_with_error(&page, &message)),
    };
    state.db.set_promotion_policy(workspace.workspace_id, None, &policy).await?;
    Ok(back_with_notice(&page, "Default promotion policy saved. Models without a policy of their own use it."))
}

#[derive(Deserialize)]
struct AliasForm {
    alias: String,
    version: String,
    #[serde(default)]
    comment: String,
}

/// Handles the POST /w/{workspace}/registry/{model}/aliases route: a direct alias change,
/// allowed only for the roles the policy names.
async fn alias_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Form(form): Form<AliasForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_write, "change aliases").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let page = model_page(&slug, &name);
    let policy = state.db.promotion_policy(workspace.workspace_id, Some(model.id)).await?;
    if !policy.direct_change_roles.contains(&workspace.role) {
        return Ok(back_with_error(&page, "the promotion policy does not let your role move aliases directly; open a promotion request instead"));
    }
    let alias = form.alias.trim();
    if let Err(message) = super::mlflow::check_alias_text(alias) {
        return Ok(back_with_error(&page, &message));
    }
    let Ok(number) = form.version.trim().parse::<i64>() else {
        return Ok(back_with_error(&page, &format!("version \"{}\" is not a version number", form.version)));
    };
    if state.db.registry_version(model.id, number).await?.is_none() {
        return Ok(back_with_error(&page, &format!("model \"{name}\" has no version {number}")));
    }
    state.db.set_alias_directly(&model, alias, number, &actor(&user), form.comment.trim()).await?;
    Ok(back_with_notice(&page, &format!("Alias \"{alias}\" now points at version {number}.")))
}

#[derive(Deserialize)]
struct WebhookForm {
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    events: String,
}

/// Checks a webhook and returns its URL, secret and event list.
fn check_webhook(url: &str, secret: &str, events: &str) -> Result<(String, String, String), String> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(format!("webhook URL \"{url}\" must start with http:// or https://"));
    }
    reqwest::Url::parse(url).map_err(|error| format!("webhook URL \"{url}\" is not valid: {error}"))?;
    let secret = secret.trim();
    if secret.len() < 16 {
        return Err("the webhook secret needs at least 16 characters; receivers use it to check signatures".into());
    }
    let events: Vec<&str> = events.split([',', ' ']).map(str::trim).filter(|event| !event.is_empty()).collect();
    for event in &events {
        if !crate::tracking::webhooks::EVENTS.contains(event) && *event != "*" {
            return Err(format!(
                "unknown webhook event \"{event}\"; use {} or * for all",
                crate::tracking::webhooks::EVENTS.join(", ")
            ));
        }
    }
    let events = if events.is_empty() { "*".to_string() } else { events.join(",") };
    Ok((url.to_string(), secret.to_string(), events))
}

/// Handles the POST /w/{workspace}/webhooks route.
async fn webhook_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<WebhookForm>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "manage webhooks").await?;
    let page = format!("/w/{slug}/webhooks");
    match check_webhook(&form.url, &form.secret, &form.events) {
        Ok((url, secret, events)) => {
            state.db.create_webhook(workspace.workspace_id, &url, &secret, &events).await?;
            Ok(back_with_notice(&page, "Webhook added."))
        }
        Err(message) => Ok(back_with_error(&page, &message)),
    }
}

/// Handles the POST /w/{workspace}/webhooks/{id}/delete route.
async fn delete_webhook_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "manage webhooks").await?;
    if !state.db.delete_webhook(workspace.workspace_id, id).await? {
        return Err(ApiError::not_found(format!("webhook {id} not found")));
    }
    Ok(back_with_notice(&format!("/w/{slug}/webhooks"), "Webhook deleted."))
}

// ---- JSON API --------------------------------------------------------------------------

#[derive(Deserialize)]
struct RequestBody {
    alias: String,
    version: serde_json::Value,
    #[serde(default)]
    comment: String,
}

/// Handles POST /api/v1/workspaces/{workspace}/registry/{model}/requests.
async fn request_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Json(body): Json<RequestBody>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_write, "request promotions").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let version = match &body.version {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let id = request_promotion(&state, &workspace, &user, &model, &body.alias, &version, &body.comment).await?;
    let request = state.db.promotion_request(workspace.workspace_id, id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "request": request }))).into_response())
}

/// Handles POST /api/v1/workspaces/{workspace}/registry/{model}/requests/{id}/{action}.
async fn review_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name, id, action)): Path<(String, String, i64, String)>,
    body: Option<Json<serde_json::Value>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "review promotions").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let comment = body
        .as_ref()
        .and_then(|Json(body)| body.get("comment").and_then(|value| value.as_str()).map(str::to_string))
        .unwrap_or_default();
    let result = match action.as_str() {
        "approve" | "reject" => {
            let outcome = review_promotion(&state, &workspace, &user, &model, id, action == "approve", &comment).await?;
            if outcome == ReviewOutcome::NotFound {
                return Err(ApiError::not_found(format!("promotion request #{id} not found")));
            }
            let (alias_moved, already) = match &outcome {
                ReviewOutcome::Approved { alias_moved, .. } => (*alias_moved, false),
                ReviewOutcome::AlreadyReviewed { .. } | ReviewOutcome::Closed { .. } => (false, true),
                _ => (false, false),
            };
            json!({ "message": outcome_message(&outcome), "alias_moved": alias_moved, "unchanged": already })
        }
        "cancel" => {
            cancel(&state, &workspace, &user, &model, id).await?;
            json!({ "message": format!("request #{id} cancelled") })
        }
        other => return Err(ApiError::not_found(format!("no action \"{other}\"; use approve, reject or cancel"))),
    };
    let request = state.db.promotion_request(workspace.workspace_id, id).await?;
    let mut body = result;
    body["request"] = json!(request);
    Ok(Json(body))
}

/// Handles GET /api/v1/workspaces/{workspace}/registry/{model}/requests.
async fn list_requests_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view promotions").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    let requests = state.db.promotion_requests(workspace.workspace_id, Some(model.id), false).await?;
    Ok(Json(json!({ "requests": requests })))
}

/// Handles GET /api/v1/workspaces/{workspace}/registry/{model}/history.
async fn history_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view the history").await?;
    let events = state.db.registry_events(workspace.workspace_id, &name, 10_000).await?;
    if events.is_empty() {
        registered_model(&state, &workspace, &name).await?;
    }
    Ok(Json(json!({ "events": events })))
}

/// Handles GET /api/v1/workspaces/{workspace}/registry/{model}/policy.
async fn get_policy_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Json<Policy>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view policies").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    Ok(Json(state.db.promotion_policy(workspace.workspace_id, Some(model.id)).await?))
}

/// Handles PUT /api/v1/workspaces/{workspace}/registry/{model}/policy.
async fn set_policy_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, name)): Path<(String, String)>,
    Json(policy): Json<Policy>,
) -> Result<Json<Policy>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "change promotion policies").await?;
    let model = registered_model(&state, &workspace, &name).await?;
    check_policy(&policy)?;
    state.db.set_promotion_policy(workspace.workspace_id, Some(model.id), &policy).await?;
    Ok(Json(policy))
}

fn check_policy(policy: &Policy) -> Result<(), ApiError> {
    if !(1..=1000).contains(&policy.required_approvals) {
        return Err(ApiError::bad_request(format!(
            "required_approvals {} must be from 1 to 1000",
            policy.required_approvals
        )));
    }
    if policy.approver_roles.is_empty() {
        return Err(ApiError::bad_request("approver_roles must name at least one role, such as [\"owner\", \"admin\"]"));
    }
    Ok(())
}

/// Handles GET /api/v1/workspaces/{workspace}/registry-policy.
async fn get_default_policy_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<Policy>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, |_| true, "view policies").await?;
    Ok(Json(state.db.promotion_policy(workspace.workspace_id, None).await?))
}

/// Handles PUT /api/v1/workspaces/{workspace}/registry-policy: the default for models with
/// no policy of their own.
async fn set_default_policy_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Json(policy): Json<Policy>,
) -> Result<Json<Policy>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "change promotion policies").await?;
    check_policy(&policy)?;
    state.db.set_promotion_policy(workspace.workspace_id, None, &policy).await?;
    Ok(Json(policy))
}

#[derive(Deserialize)]
struct WebhookBody {
    url: String,
    secret: String,
    #[serde(default)]
    events: Vec<String>,
}

/// Handles POST /api/v1/workspaces/{workspace}/webhooks.
async fn create_webhook_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Json(body): Json<WebhookBody>,
) -> Result<Response, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "manage webhooks").await?;
    let (url, secret, events) = check_webhook(&body.url, &body.secret, &body.events.join(",")).map_err(ApiError::bad_request)?;
    let id = state.db.create_webhook(workspace.workspace_id, &url, &secret, &events).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({ "id": id, "url": url, "events": events }))).into_response())
}

/// Handles GET /api/v1/workspaces/{workspace}/webhooks: the hooks and recent deliveries.
async fn list_webhooks_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let workspace = require_workspace(&state.db, &user, &slug, Role::can_administer, "manage webhooks").await?;
    let webhooks = state.db.webhooks(workspace.workspace_id).await?;
    let deliveries = state.db.webhook_deliveries(workspace.workspace_id, 200).await?;
    Ok(Json(json!({ "webhooks": webhooks, "deliveries": deliveries })))
}
