//! The promotion workflow of the registry through its JSON API and forms: requests, reviews
//! by role, multi-approver policies, rejection, cancellation, superseding, metric gates,
//! direct alias changes, concurrent approvals and signed webhook deliveries with retries,
//! each on SQLite and on PostgreSQL.

#![cfg(feature = "ssr")]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, StatusCode};
use common::{api_token, location, TestApp};
use http_body_util::BodyExt;
use orrery::types::Role;
use serde_json::{json, Value};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const SLUG: &str = "team";
const MODEL: &str = "churn";
/// The rmse each version's source run logs: version 1 fails the gate `rmse < 0.8`, version 2
/// passes it.
const VERSION_ONE_RMSE: f64 = 0.9;
const VERSION_TWO_RMSE: f64 = 0.5;

/// One workspace with a member of every role, a registered model `churn` with versions 1
/// and 2, and an API token per user.
struct Team {
    workspace_id: i64,
    tokens: HashMap<&'static str, String>,
    /// Source runs of versions 1 and 2.
    runs: [String; 2],
}

impl Team {
    fn token(&self, username: &str) -> &str {
        self.tokens.get(username).unwrap_or_else(|| panic!("no user {username}"))
    }
}

/// Users of the team and their roles. `owner` creates the workspace.
const MEMBERS: [(&str, Role); 6] = [
    ("owner", Role::Owner),
    ("admin", Role::Admin),
    ("admin-two", Role::Admin),
    ("member", Role::Member),
    ("member-two", Role::Member),
    ("viewer", Role::Viewer),
];

fn request_with_json(method: &str, uri: &str, token: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn read_json(response: axum::http::Response<Body>) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let body = serde_json::from_str(&text).unwrap_or_else(|error| panic!("invalid JSON ({error}) with status {status}: {text}"));
    (status, body)
}

async fn call(app: &TestApp, method: &str, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
    read_json(app.send(request_with_json(method, uri, token, &body)).await).await
}

async fn call_get(app: &TestApp, uri: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    read_json(app.send(request).await).await
}

fn registry_api(path: &str) -> String {
    format!("/api/v1/workspaces/{SLUG}/registry/{MODEL}{path}")
}

fn review_uri(request_id: i64, action: &str) -> String {
    registry_api(&format!("/requests/{request_id}/{action}"))
}

async fn mlflow_post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, "POST", &format!("/api/2.0/mlflow{path}"), token, body).await
}

/// Creates the team: users, memberships, tokens, the two source runs and the two versions.
async fn team(app: &TestApp) -> Team {
    let mut tokens = HashMap::new();
    let mut workspace_id = 0;
    for (username, role) in MEMBERS {
        let user_id = app.create_user(username, PASSWORD).await;
        if role == Role::Owner {
            workspace_id = app.db.create_workspace(SLUG, "Team", user_id).await.unwrap();
        } else {
            app.db.upsert_member(workspace_id, user_id, role).await.unwrap();
        }
        tokens.insert(username, api_token(&app.db, user_id).await);
    }

    let owner = tokens["owner"].clone();
    let (status, experiment) = mlflow_post(app, &owner, "/experiments/create", json!({ "name": "churn-training" })).await;
    assert_eq!(status, StatusCode::OK, "{experiment}");
    let mut runs = Vec::new();
    for rmse in [VERSION_ONE_RMSE, VERSION_TWO_RMSE] {
        let (_, run) = mlflow_post(app, &owner, "/runs/create", json!({ "experiment_id": experiment["experiment_id"] })).await;
        let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
        let metric = json!({ "run_id": run_id, "key": "rmse", "value": rmse, "timestamp": 1000, "step": 0 });
        assert_eq!(mlflow_post(app, &owner, "/runs/log-metric", metric).await.0, StatusCode::OK);
        runs.push(run_id);
    }

    let (status, model) = mlflow_post(app, &owner, "/registered-models/create", json!({ "name": MODEL })).await;
    assert_eq!(status, StatusCode::OK, "{model}");
    for (index, run_id) in runs.iter().enumerate() {
        let body = json!({ "name": MODEL, "source": format!("runs:/{run_id}/model"), "run_id": run_id });
        let (status, version) = mlflow_post(app, &owner, "/model-versions/create", body).await;
        assert_eq!(status, StatusCode::OK, "{version}");
        assert_eq!(version["model_version"]["version"], (index + 1).to_string());
    }

    let runs = [runs[0].clone(), runs[1].clone()];
    Team { workspace_id, tokens, runs }
}

/// Opens a promotion request as `token`.
async fn request_promotion(app: &TestApp, token: &str, alias: &str, version: i64) -> (StatusCode, Value) {
    let body = json!({ "alias": alias, "version": version, "comment": format!("promote {version} to {alias}") });
    call(app, "POST", &registry_api("/requests"), token, body).await
}

/// Opens a request that must succeed and returns its id.
async fn open_request(app: &TestApp, token: &str, alias: &str, version: i64) -> i64 {
    let (status, body) = request_promotion(app, token, alias, version).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["request"]["status"], "pending");
    body["request"]["id"].as_i64().unwrap()
}

async fn review(app: &TestApp, token: &str, request_id: i64, action: &str) -> (StatusCode, Value) {
    call(app, "POST", &review_uri(request_id, action), token, json!({ "comment": format!("{action} by test") })).await
}

/// Returns the model's history, oldest event first.
async fn history(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = call_get(app, &registry_api("/history"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut events = body["events"].as_array().unwrap().clone();
    events.sort_by_key(|event| event["id"].as_i64().unwrap());
    events
}

/// Returns (kind, actor) of each event.
fn kinds_and_actors(events: &[Value]) -> Vec<(String, String)> {
    events.iter().map(|event| (event["kind"].as_str().unwrap().to_string(), event["actor"].as_str().unwrap().to_string())).collect()
}

fn count_kind(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|event| event["kind"] == kind).count()
}

/// Reads where an alias points through the MLflow API, or `None` when it is not set.
async fn alias_target(app: &TestApp, token: &str, alias: &str) -> Option<String> {
    let uri = format!("/api/2.0/mlflow/registered-models/alias?name={MODEL}&alias={alias}");
    let (status, body) = call_get(app, &uri, token).await;
    match status {
        StatusCode::OK => Some(body["model_version"]["version"].as_str().unwrap().to_string()),
        _ => {
            // MLflow returns INVALID_PARAMETER_VALUE for an unknown alias.
            assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
            None
        }
    }
}

/// Points an alias directly through the MLflow API.
async fn set_alias(app: &TestApp, token: &str, alias: &str, version: i64) -> (StatusCode, Value) {
    mlflow_post(app, token, "/registered-models/alias", json!({ "name": MODEL, "alias": alias, "version": version.to_string() })).await
}

async fn put_policy(app: &TestApp, token: &str, policy: Value) -> (StatusCode, Value) {
    call(app, "PUT", &registry_api("/policy"), token, policy).await
}

// ---- Request, review, history ---------------------------------------------------------

async fn admin_approves_member_request(app: &TestApp) {
    let team = team(app).await;
    assert_eq!(set_alias(app, team.token("owner"), "production", 1).await.0, StatusCode::OK);

    let request_id = open_request(app, team.token("member"), "production", 2).await;
    let own = review(app, team.token("member"), request_id, "approve").await;
    let viewer = review(app, team.token("viewer"), request_id, "approve").await;
    let (status, approved) = review(app, team.token("admin"), request_id, "approve").await;

    // A member is not an approver under the default policy (owner and admin approve).
    assert_eq!(own.0, StatusCode::FORBIDDEN, "{}", own.1);
    assert!(own.1["message"].as_str().unwrap().contains("member"), "{}", own.1);
    assert_eq!(viewer.0, StatusCode::FORBIDDEN, "{}", viewer.1);
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["alias_moved"], true);
    assert_eq!(approved["request"]["status"], "approved");
    assert_eq!(approved["request"]["requested_by"], "member");
    let reviews = approved["request"]["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1, "rejected reviews are not recorded: {reviews:?}");
    assert_eq!(reviews[0]["username"], "admin");
    assert_eq!(reviews[0]["decision"], "approve");
    assert_eq!(alias_target(app, team.token("viewer"), "production").await.as_deref(), Some("2"));

    let events = history(app, team.token("viewer")).await;
    // The setup made the model and two versions, the owner pointed production at version 1,
    // and then the member's request went through one approval.
    let expected = [
        ("model_created", "owner"),
        ("version_created", "owner"),
        ("version_created", "owner"),
        ("alias_set_directly", "owner"),
        ("request_created", "member"),
        ("review_approved", "admin"),
        ("request_approved", "admin"),
        ("alias_moved", "admin"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(kind, actor)| (kind.to_string(), actor.to_string())).collect();
    assert_eq!(kinds_and_actors(&events), expected);
    let moved = events.last().unwrap();
    assert_eq!(moved["alias"], "production");
    assert_eq!(moved["version"], 2);
    assert_eq!(moved["previous_version"], 1, "the move records the version it replaced");
    assert_eq!(moved["request_id"], request_id);
    for event in &events[4..] {
        assert_eq!(event["request_id"], request_id, "{event}");
    }
}
on_both_databases!(admin_approves_member_request_on, admin_approves_member_request);

async fn requester_cannot_self_approve(app: &TestApp) {
    let team = team(app).await;

    let request_id = open_request(app, team.token("admin"), "staging", 1).await;
    let own = review(app, team.token("admin"), request_id, "approve").await;
    let (status, approved) = review(app, team.token("owner"), request_id, "approve").await;

    // The admin may approve others' requests, but the default policy forbids approving one's own.
    assert_eq!(own.0, StatusCode::FORBIDDEN, "{}", own.1);
    assert!(own.1["message"].as_str().unwrap().contains("your own request"), "{}", own.1);
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["request"]["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(approved["request"]["reviews"][0]["username"], "owner");
    assert_eq!(alias_target(app, team.token("admin"), "staging").await.as_deref(), Some("1"));
}
on_both_databases!(requester_cannot_self_approve_on, requester_cannot_self_approve);

async fn two_approvals_required(app: &TestApp) {
    let team = team(app).await;
    let policy = json!({ "required_approvals": 2, "approver_roles": ["owner", "admin"] });
    let (status, saved) = put_policy(app, team.token("admin"), policy).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["required_approvals"], 2);

    let request_id = open_request(app, team.token("member"), "production", 2).await;
    let (_, first) = review(app, team.token("admin"), request_id, "approve").await;
    let (repeat_status, repeat) = review(app, team.token("admin"), request_id, "approve").await;
    let alias_after_one = alias_target(app, team.token("member"), "production").await;
    let (_, second) = review(app, team.token("admin-two"), request_id, "approve").await;

    assert_eq!(first["alias_moved"], false);
    assert_eq!(first["request"]["status"], "pending");
    assert!(first["message"].as_str().unwrap().contains("1 of 2"), "{first}");
    assert_eq!(repeat_status, StatusCode::OK, "{repeat}");
    assert_eq!(repeat["unchanged"], true, "the same approver counts once");
    assert_eq!(repeat["request"]["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(alias_after_one, None, "one approval of two moves nothing");
    assert_eq!(second["alias_moved"], true, "{second}");
    assert_eq!(second["request"]["status"], "approved");
    let reviewers: Vec<&str> = second["request"]["reviews"].as_array().unwrap().iter().map(|review| review["username"].as_str().unwrap()).collect();
    assert_eq!(reviewers, ["admin", "admin-two"]);
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
    let events = history(app, team.token("member")).await;
    assert_eq!(count_kind(&events, "review_approved"), 2);
    assert_eq!(count_kind(&events, "alias_moved"), 1);
    assert_eq!(events.last().unwrap()["previous_version"], Value::Null, "production had no version before");

    let policy_change = put_policy(app, team.token("member"), json!({ "required_approvals": 1, "approver_roles": ["member"] })).await;
    assert_eq!(policy_change.0, StatusCode::FORBIDDEN, "only owners and admins set policies: {}", policy_change.1);
    let no_approvers = put_policy(app, team.token("owner"), json!({ "required_approvals": 1, "approver_roles": [] })).await;
    assert_eq!(no_approvers.0, StatusCode::BAD_REQUEST, "{}", no_approvers.1);
}
on_both_databases!(two_approvals_required_on, two_approvals_required);

async fn workspace_default_policy_applies(app: &TestApp) {
    let team = team(app).await;
    let uri = format!("/api/v1/workspaces/{SLUG}/registry-policy");
    let default = json!({ "required_approvals": 2, "approver_roles": ["owner", "admin"] });
    let (status, saved) = call(app, "PUT", &uri, team.token("owner"), default).await;
    assert_eq!(status, StatusCode::OK, "{saved}");

    // The model has no policy of its own, so the workspace default (two approvals) applies.
    let (_, model_policy) = call_get(app, &registry_api("/policy"), team.token("member")).await;
    assert_eq!(model_policy["required_approvals"], 2, "{model_policy}");
    let request_id = open_request(app, team.token("member"), "production", 2).await;
    let (_, first) = review(app, team.token("admin"), request_id, "approve").await;
    assert_eq!(first["alias_moved"], false, "{first}");

    // A model policy overrides the default for later requests.
    let own = json!({ "required_approvals": 1, "approver_roles": ["owner", "admin"] });
    assert_eq!(put_policy(app, team.token("owner"), own).await.0, StatusCode::OK);
    let (_, model_policy) = call_get(app, &registry_api("/policy"), team.token("member")).await;
    assert_eq!(model_policy["required_approvals"], 1, "{model_policy}");
    let (_, workspace_policy) = call_get(app, &uri, team.token("member")).await;
    assert_eq!(workspace_policy["required_approvals"], 2, "{workspace_policy}");

    let member_change = call(app, "PUT", &uri, team.token("member"), json!({ "required_approvals": 1, "approver_roles": ["member"] })).await;
    assert_eq!(member_change.0, StatusCode::FORBIDDEN, "{}", member_change.1);
}
on_both_databases!(workspace_default_policy_applies_on, workspace_default_policy_applies);

async fn reject_closes_request(app: &TestApp) {
    let team = team(app).await;

    let request_id = open_request(app, team.token("member"), "production", 2).await;
    let (status, rejected) = review(app, team.token("admin"), request_id, "reject").await;
    let (late_status, late) = review(app, team.token("owner"), request_id, "approve").await;

    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["request"]["status"], "rejected");
    assert_eq!(rejected["alias_moved"], false);
    assert_eq!(late_status, StatusCode::OK, "{late}");
    assert_eq!(late["unchanged"], true, "a closed request takes no more reviews");
    assert_eq!(late["request"]["status"], "rejected");
    assert_eq!(late["request"]["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(alias_target(app, team.token("member"), "production").await, None);
    let events = history(app, team.token("member")).await;
    let last = kinds_and_actors(&events[events.len() - 2..]);
    let expected = [("request_created", "member"), ("request_rejected", "admin")].map(|(kind, actor)| (kind.to_string(), actor.to_string()));
    assert_eq!(last, expected);
    assert_eq!(count_kind(&events, "alias_moved"), 0);
}
on_both_databases!(reject_closes_request_on, reject_closes_request);

async fn requester_cancels_request(app: &TestApp) {
    let team = team(app).await;

    let request_id = open_request(app, team.token("member"), "production", 2).await;
    let by_other_member = review(app, team.token("member-two"), request_id, "cancel").await;
    let by_viewer = review(app, team.token("viewer"), request_id, "cancel").await;
    let (status, cancelled) = review(app, team.token("member"), request_id, "cancel").await;
    let again = review(app, team.token("member"), request_id, "cancel").await;
    let (_, late) = review(app, team.token("admin"), request_id, "approve").await;

    // Only the requester, an owner or an admin may cancel.
    assert_eq!(by_other_member.0, StatusCode::FORBIDDEN, "{}", by_other_member.1);
    assert_eq!(by_viewer.0, StatusCode::FORBIDDEN, "{}", by_viewer.1);
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["request"]["status"], "cancelled");
    assert_eq!(again.0, StatusCode::CONFLICT, "{}", again.1);
    assert_eq!(late["unchanged"], true, "{late}");
    assert_eq!(late["request"]["status"], "cancelled");
    assert_eq!(alias_target(app, team.token("member"), "production").await, None);
    let events = history(app, team.token("member")).await;
    let cancel = events.last().unwrap();
    assert_eq!(cancel["kind"], "request_cancelled");
    assert_eq!(cancel["actor"], "member");
    assert_eq!(cancel["request_id"], request_id);
}
on_both_databases!(requester_cancels_request_on, requester_cancels_request);

async fn newer_request_supersedes_older(app: &TestApp) {
    let team = team(app).await;

    let older = open_request(app, team.token("member"), "production", 1).await;
    let other_alias = open_request(app, team.token("member"), "staging", 1).await;
    let newer = open_request(app, team.token("member-two"), "production", 2).await;
    let (_, list) = call_get(app, &registry_api("/requests"), team.token("viewer")).await;
    let (_, late) = review(app, team.token("admin"), older, "approve").await;

    let status_of = |id: i64| {
        list["requests"].as_array().unwrap().iter().find(|request| request["id"] == id).unwrap_or_else(|| panic!("no request {id}: {list}"))["status"].clone()
    };
    assert_eq!(status_of(older), "superseded");
    assert_eq!(status_of(other_alias), "pending", "a request for another alias stays open");
    assert_eq!(status_of(newer), "pending");
    assert_eq!(late["unchanged"], true, "{late}");
    assert_eq!(alias_target(app, team.token("member"), "production").await, None);
    let events = history(app, team.token("member")).await;
    let superseded: Vec<&Value> = events.iter().filter(|event| event["kind"] == "request_superseded").collect();
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0]["request_id"], older);
    assert!(superseded[0]["comment"].as_str().unwrap().contains(&format!("#{newer}")), "{}", superseded[0]);

    let (_, approved) = review(app, team.token("admin"), newer, "approve").await;
    assert_eq!(approved["alias_moved"], true, "{approved}");
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
}
on_both_databases!(newer_request_supersedes_older_on, newer_request_supersedes_older);

// ---- Policies: gates and direct changes ------------------------------------------------

async fn metric_gate_checks_source_run(app: &TestApp) {
    let team = team(app).await;
    let policy = json!({ "required_approvals": 1, "approver_roles": ["owner", "admin"],
                         "metric_gates": [{ "metric": "rmse", "op": "<", "threshold": 0.8 }] });
    let (status, saved) = put_policy(app, team.token("owner"), policy).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read_back) = call_get(app, &registry_api("/policy"), team.token("member")).await;
    // Fields left out of the PUT keep the built-in defaults.
    let expected_policy = json!({
        "required_approvals": 1,
        "approver_roles": ["owner", "admin"],
        "allow_self_approval": false,
        "direct_change_roles": ["owner", "admin"],
        "metric_gates": [{ "metric": "rmse", "op": "<", "threshold": 0.8 }],
        "require_no_drift": false,
    });
    assert_eq!(read_back, expected_policy);

    let failing = request_promotion(app, team.token("member"), "production", 1).await;
    let (passing_status, passing) = request_promotion(app, team.token("member"), "production", 2).await;

    // The gate passes exactly when the run's rmse is below 0.8.
    const { assert!(VERSION_ONE_RMSE >= 0.8, "version 1 fails the gate") };
    const { assert!(VERSION_TWO_RMSE < 0.8, "version 2 passes the gate") };
    assert_eq!(failing.0, StatusCode::BAD_REQUEST, "{}", failing.1);
    let message = failing.1["message"].as_str().unwrap();
    assert!(message.contains("rmse < 0.8"), "the message names the gate: {message}");
    assert!(message.contains(&VERSION_ONE_RMSE.to_string()), "the message names the value: {message}");
    assert_eq!(passing_status, StatusCode::CREATED, "{passing}");
    let gates: Value = serde_json::from_str(passing["request"]["gates_json"].as_str().unwrap()).unwrap();
    assert_eq!(gates[0]["gate"], "rmse < 0.8");
    assert_eq!(gates[0]["passed"], true);
    assert!(gates[0]["detail"].as_str().unwrap().contains(&VERSION_TWO_RMSE.to_string()), "{gates}");
    let (_, list) = call_get(app, &registry_api("/requests"), team.token("member")).await;
    assert_eq!(list["requests"].as_array().unwrap().len(), 1, "the rejected request was not stored");

    // Gates are checked again at approval: a newer rmse of 0.95 on version 2's run fails it.
    let request_id = passing["request"]["id"].as_i64().unwrap();
    let metric = json!({ "run_id": team.runs[1], "key": "rmse", "value": 0.95, "timestamp": 2000, "step": 1 });
    assert_eq!(mlflow_post(app, team.token("owner"), "/runs/log-metric", metric).await.0, StatusCode::OK);
    let stale = review(app, team.token("admin"), request_id, "approve").await;
    assert_eq!(stale.0, StatusCode::CONFLICT, "{}", stale.1);
    assert!(stale.1["message"].as_str().unwrap().contains("0.95"), "{}", stale.1);
    assert_eq!(alias_target(app, team.token("member"), "production").await, None);

    // Back under the threshold at a later step, the approval goes through.
    let metric = json!({ "run_id": team.runs[1], "key": "rmse", "value": 0.45, "timestamp": 3000, "step": 2 });
    assert_eq!(mlflow_post(app, team.token("owner"), "/runs/log-metric", metric).await.0, StatusCode::OK);
    let (status, approved) = review(app, team.token("admin"), request_id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["alias_moved"], true);
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
}
on_both_databases!(metric_gate_checks_source_run_on, metric_gate_checks_source_run);

async fn direct_alias_change_by_role(app: &TestApp) {
    let team = team(app).await;
    let policy = json!({ "required_approvals": 1, "approver_roles": ["owner", "admin"], "direct_change_roles": ["owner", "admin"] });
    assert_eq!(put_policy(app, team.token("owner"), policy).await.0, StatusCode::OK);

    let by_member = set_alias(app, team.token("member"), "production", 2).await;
    let alias_after_member = alias_target(app, team.token("member"), "production").await;
    let (status, by_owner) = set_alias(app, team.token("owner"), "production", 2).await;
    let delete_by_member = call(
        app,
        "DELETE",
        "/api/2.0/mlflow/registered-models/alias",
        team.token("member"),
        json!({ "name": MODEL, "alias": "production" }),
    )
    .await;

    assert_eq!(by_member.0, StatusCode::FORBIDDEN, "{}", by_member.1);
    assert_eq!(by_member.1["error_code"], "PERMISSION_DENIED");
    assert!(by_member.1["message"].as_str().unwrap().contains("owner or admin"), "{}", by_member.1);
    assert_eq!(alias_after_member, None);
    assert_eq!(status, StatusCode::OK, "{by_owner}");
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
    assert_eq!(delete_by_member.1["error_code"], "PERMISSION_DENIED", "{}", delete_by_member.1);
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
    let events = history(app, team.token("member")).await;
    let direct: Vec<&Value> = events.iter().filter(|event| event["kind"] == "alias_set_directly").collect();
    assert_eq!(direct.len(), 1, "the rejected change left no event");
    assert_eq!(direct[0]["actor"], "owner");
    assert_eq!(direct[0]["alias"], "production");
    assert_eq!(direct[0]["version"], 2);
    assert_eq!(direct[0]["request_id"], Value::Null);

    // Naming only owners takes the right away from admins too.
    let owners_only = json!({ "required_approvals": 1, "approver_roles": ["owner", "admin"], "direct_change_roles": ["owner"] });
    assert_eq!(put_policy(app, team.token("owner"), owners_only).await.0, StatusCode::OK);
    let by_admin = set_alias(app, team.token("admin"), "production", 1).await;
    assert_eq!(by_admin.1["error_code"], "PERMISSION_DENIED", "{}", by_admin.1);
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
}
on_both_databases!(direct_alias_change_by_role_on, direct_alias_change_by_role);

async fn forms_request_and_approve(app: &TestApp) {
    let team = team(app).await;
    let member = app.login("member", PASSWORD).await;
    let admin = app.login("admin", PASSWORD).await;
    let page = format!("/w/{SLUG}/registry/{MODEL}");

    let opened = app.send(member.post_form(&format!("{page}/requests"), "alias=production&version=2&comment=ready")).await;
    let bad_version = app.send(member.post_form(&format!("{page}/requests"), "alias=production&version=9")).await;
    let (_, list) = call_get(app, &registry_api("/requests"), team.token("member")).await;
    let request_id = list["requests"][0]["id"].as_i64().unwrap();
    let self_review = app.send(member.post_form(&format!("{page}/requests/{request_id}/approve"), "")).await;
    let approved = app.send(admin.post_form(&format!("{page}/requests/{request_id}/approve"), "comment=looks+good")).await;
    let without_token = app.send(admin.post_form_without_token(&format!("{page}/requests/{request_id}/reject"), "")).await;

    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert!(location(&opened).starts_with(&format!("{page}?notice=")), "{}", location(&opened));
    assert!(location(&bad_version).starts_with(&format!("{page}?error=")), "{}", location(&bad_version));
    assert_eq!(list["requests"].as_array().unwrap().len(), 1, "the bad version opened nothing");
    assert!(location(&self_review).contains("error="), "{}", location(&self_review));
    assert!(location(&approved).contains("notice="), "{}", location(&approved));
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN, "forms need the CSRF token");
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));
    let events = history(app, team.token("member")).await;
    let approval = events.iter().find(|event| event["kind"] == "review_approved").unwrap();
    assert_eq!(approval["actor"], "admin");
    assert_eq!(approval["comment"], "looks good");
}
on_both_databases!(forms_request_and_approve_on, forms_request_and_approve);

// ---- Concurrency ----------------------------------------------------------------------

/// Approvers that race for one request, under a policy that needs 3 approvals.
const RACING_APPROVERS: usize = 100;
const RACE_REQUIRED_APPROVALS: usize = 3;

async fn concurrent_approvals_move_alias_once(app: &TestApp) {
    let team = team(app).await;
    let policy = json!({ "required_approvals": RACE_REQUIRED_APPROVALS, "approver_roles": ["owner", "admin"] });
    assert_eq!(put_policy(app, team.token("owner"), policy).await.0, StatusCode::OK);
    // The racing admins sign in with tokens only, so a placeholder password hash is enough.
    let mut approvers: Vec<(String, String)> = Vec::new();
    for index in 0..RACING_APPROVERS {
        let username = format!("approver-{index:03}");
        let user_id = app.db.create_user(&username, "no-password-login", false).await.unwrap();
        app.db.upsert_member(team.workspace_id, user_id, Role::Admin).await.unwrap();
        approvers.push((username, api_token(&app.db, user_id).await));
    }
    let request_id = open_request(app, team.token("member"), "production", 2).await;

    // Every task waits at the barrier, so all approvals are sent at the same moment.
    let barrier = Arc::new(tokio::sync::Barrier::new(RACING_APPROVERS));
    let tasks: Vec<_> = approvers
        .iter()
        .map(|(_, token)| {
            let router = app.router.clone();
            let barrier = barrier.clone();
            let request = request_with_json("POST", &review_uri(request_id, "approve"), token, &json!({}));
            tokio::spawn(async move {
                barrier.wait().await;
                let response = router.oneshot(request).await.expect("the router never fails");
                read_json(response).await
            })
        })
        .collect();
    let responses: Vec<(StatusCode, Value)> = futures::future::join_all(tasks).await.into_iter().map(|joined| joined.expect("the task finished")).collect();

    for (status, body) in &responses {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let moved = responses.iter().filter(|(_, body)| body["alias_moved"] == true).count();
    let recorded = responses.iter().filter(|(_, body)| body["unchanged"] == false).count();
    assert_eq!(moved, 1, "exactly one approval moves the alias");
    // The first 3 reviews are recorded, and the other 97 find the request approved.
    assert_eq!(recorded, RACE_REQUIRED_APPROVALS);
    assert_eq!(responses.len() - recorded, RACING_APPROVERS - RACE_REQUIRED_APPROVALS);
    let (_, list) = call_get(app, &registry_api("/requests"), team.token("member")).await;
    let request = list["requests"].as_array().unwrap().iter().find(|request| request["id"] == request_id).unwrap().clone();
    assert_eq!(request["status"], "approved");
    let reviews = request["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), RACE_REQUIRED_APPROVALS);
    let mut reviewers: Vec<&str> = reviews.iter().map(|review| review["username"].as_str().unwrap()).collect();
    reviewers.sort();
    reviewers.dedup();
    assert_eq!(reviewers.len(), RACE_REQUIRED_APPROVALS, "three different approvers");
    assert!(reviews.iter().all(|review| review["decision"] == "approve"));
    let events = history(app, team.token("member")).await;
    assert_eq!(count_kind(&events, "alias_moved"), 1);
    assert_eq!(count_kind(&events, "request_approved"), 1);
    assert_eq!(count_kind(&events, "review_approved"), RACE_REQUIRED_APPROVALS);
    assert_eq!(alias_target(app, team.token("member"), "production").await.as_deref(), Some("2"));

    // One of the recorded approvers clicks again: nothing changes and nothing fails.
    let repeat_token = &approvers.iter().find(|(username, _)| username == reviewers[0]).unwrap().1;
    let (status, repeat) = review(app, repeat_token, request_id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{repeat}");
    assert_eq!(repeat["unchanged"], true);
    assert_eq!(repeat["alias_moved"], false);
    assert_eq!(repeat["request"]["reviews"].as_array().unwrap().len(), RACE_REQUIRED_APPROVALS);
    assert_eq!(history(app, team.token("member")).await.len(), events.len(), "the repeat recorded no event");
}
on_both_databases!(concurrent_approvals_move_alias_once_on, concurrent_approvals_move_alias_once);

/// Requests for one alias that race. Each one supersedes the pending requests committed before it.
const RACING_REQUESTS: usize = 20;

async fn concurrent_requests_leave_one_pending(app: &TestApp) {
    let team = team(app).await;
    let requesters = ["member", "member-two", "admin", "admin-two"];

    let barrier = Arc::new(tokio::sync::Barrier::new(RACING_REQUESTS));
    let tasks: Vec<_> = (0..RACING_REQUESTS)
        .map(|index| {
            let router = app.router.clone();
            let barrier = barrier.clone();
            let token = team.token(requesters[index % requesters.len()]);
            let body = json!({ "alias": "production", "version": 1 + index % 2 });
            let request = request_with_json("POST", &registry_api("/requests"), token, &body);
            tokio::spawn(async move {
                barrier.wait().await;
                read_json(router.oneshot(request).await.expect("the router never fails")).await
            })
        })
        .collect();
    let responses: Vec<(StatusCode, Value)> = futures::future::join_all(tasks).await.into_iter().map(|joined| joined.unwrap()).collect();

    for (status, body) in &responses {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    let (_, list) = call_get(app, &registry_api("/requests"), team.token("member")).await;
    let requests = list["requests"].as_array().unwrap();
    assert_eq!(requests.len(), RACING_REQUESTS);
    // Superseding keeps at most one open request per alias, whatever the timing.
    let pending: Vec<i64> = requests.iter().filter(|request| request["status"] == "pending").map(|request| request["id"].as_i64().unwrap()).collect();
    let superseded = requests.iter().filter(|request| request["status"] == "superseded").count();
    assert_eq!(pending.len(), 1, "pending requests for production: {pending:?}");
    assert_eq!(superseded, RACING_REQUESTS - 1);
}
on_both_databases!(concurrent_requests_leave_one_pending_on, concurrent_requests_leave_one_pending);

async fn scoped_token_limited_in_registry_api(app: &TestApp) {
    let team = team(app).await;
    // The admin also owns a second workspace and has a token limited to it.
    let admin_id = app.db.user_by_name("admin").await.unwrap().unwrap().id;
    let other_workspace = app.db.create_workspace("side-project", "Side project", admin_id).await.unwrap();
    let scoped = api_token(&app.db, admin_id).await;
    let scoped_id = app.db.tokens_of(admin_id).await.unwrap().iter().map(|token| token.id).max().unwrap();
    app.db.scope_token(scoped_id, other_workspace).await.unwrap();
    let request_id = open_request(app, team.token("member"), "production", 2).await;

    // The MLflow API rejects this token outside its workspace, so the JSON API must too.
    let mlflow = call(app, "POST", "/api/2.0/mlflow/registered-models/alias", &scoped, json!({ "name": MODEL, "alias": "production", "version": "1" })).await;
    let mut mlflow_request = request_with_json("GET", &format!("/api/2.0/mlflow/registered-models/get?name={MODEL}"), &scoped, &json!({}));
    mlflow_request.headers_mut().insert("x-mlflow-workspace", SLUG.parse().unwrap());
    let (mlflow_header_status, _) = read_json(app.send(mlflow_request).await).await;
    let approval = review(app, &scoped, request_id, "approve").await;

    assert_eq!(mlflow.0, StatusCode::NOT_FOUND, "without a header the token acts in side-project: {}", mlflow.1);
    assert_eq!(mlflow_header_status, StatusCode::FORBIDDEN);
    assert!(
        matches!(approval.0, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "a token limited to side-project approved in {SLUG}: {} {}",
        approval.0,
        approval.1
    );
    assert_eq!(alias_target(app, team.token("member"), "production").await, None);
}
on_both_databases!(scoped_token_limited_in_registry_api_on, scoped_token_limited_in_registry_api);

// ---- Webhooks -------------------------------------------------------------------------

/// A webhook receiver that returns 500 for the first delivery and 200 for later ones.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Receiver {
    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

async fn receive(axum::extract::State(receiver): axum::extract::State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut received = receiver.received.lock().unwrap();
    received.push((headers, body));
    if received.len() == 1 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// HMAC-SHA256 of `body` keyed with `secret`, as `sha256=<hex>`.
fn expected_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook_retries_and_signs(app: &TestApp) {
    let team = team(app).await;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let receiver_app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(receiver.clone());
    let server = tokio::spawn(async move { axum::serve(listener, receiver_app).await });
    let secret = "webhook-secret-for-signatures";
    let webhooks_uri = format!("/api/v1/workspaces/{SLUG}/webhooks");

    let by_member = call(app, "POST", &webhooks_uri, team.token("member"), json!({ "url": url, "secret": secret })).await;
    let short_secret = call(app, "POST", &webhooks_uri, team.token("owner"), json!({ "url": url, "secret": "short" })).await;
    let (status, created) =
        call(app, "POST", &webhooks_uri, team.token("owner"), json!({ "url": url, "secret": secret, "events": ["alias_moved"] })).await;
    assert_eq!(by_member.0, StatusCode::FORBIDDEN, "only owners and admins manage webhooks: {}", by_member.1);
    assert_eq!(short_secret.0, StatusCode::BAD_REQUEST, "{}", short_secret.1);
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["events"], "alias_moved");

    // production goes 1 -> 2: the direct change is not subscribed, the approved move is.
    assert_eq!(set_alias(app, team.token("owner"), "production", 1).await.0, StatusCode::OK);
    let request_id = open_request(app, team.token("member"), "production", 2).await;
    assert_eq!(review(app, team.token("admin"), request_id, "approve").await.0, StatusCode::OK);

    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
    let first_round = orrery::tracking::webhooks::deliver_due(&app.db, &client, 1).await.unwrap();
    let (_, after_failure) = call_get(app, &webhooks_uri, team.token("admin")).await;
    assert_eq!(first_round, 1, "one delivery is due");
    assert_eq!(receiver.count(), 1);
    let failed = &after_failure["deliveries"][0];
    assert_eq!(failed["status"], "pending", "a 500 is retried: {failed}");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["last_status_code"], 500);

    // The retry waits 1 ms, the base passed to deliver_due. Poll until it is sent.
    for _ in 0..200 {
        if receiver.count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        orrery::tracking::webhooks::deliver_due(&app.db, &client, 1).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let leftover = orrery::tracking::webhooks::deliver_due(&app.db, &client, 1).await.unwrap();
    let (_, log) = call_get(app, &webhooks_uri, team.token("admin")).await;
    server.abort();

    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "one failed attempt and one success");
    assert_eq!(leftover, 0, "nothing is sent after the success");
    assert_eq!(received[0].1, received[1].1, "the retry sends the same body");
    for (headers, body) in &received {
        assert_eq!(headers["x-orrery-event"], "alias_moved");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers["x-orrery-signature-256"].to_str().unwrap(), expected_signature(secret, body));
    }
    let payload: Value = serde_json::from_slice(&received[1].1).unwrap();
    assert_eq!(payload["event"], "alias_moved");
    assert_eq!(payload["model"], MODEL);
    assert_eq!(payload["alias"], "production");
    assert_eq!(payload["version"], 2);
    assert_eq!(payload["previous_version"], 1);
    assert_eq!(payload["request_id"], request_id);
    assert_eq!(payload["actor"], "admin");
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "only the subscribed event was queued: {deliveries:?}");
    assert_eq!(deliveries[0]["status"], "delivered");
    assert_eq!(deliveries[0]["attempts"], 2);
    assert_eq!(deliveries[0]["last_status_code"], 200);
    assert_eq!(deliveries[0]["event"], "alias_moved");
    assert_eq!(log["webhooks"][0]["url"], url.as_str());
    assert!(!log.to_string().contains(secret), "the listing never shows the secret");
}
on_both_databases!(webhook_retries_and_signs_on, webhook_retries_and_signs);
