//! The MLflow REST API in-process: experiments, runs, log-batch limits, metric history and
//! the latest-value rule, run search and pagination, artifacts, the registry, workspace
//! selection and isolation, roles and authentication, each on SQLite and on PostgreSQL.

#![cfg(feature = "ssr")]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api_token, TestApp};
use http_body_util::BodyExt;
use orrery::types::Role;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
const API: &str = "/api/2.0/mlflow";
const ARTIFACTS: &str = "/api/2.0/mlflow-artifacts/artifacts";

/// Builds an MLflow call with a bearer token, an optional X-MLFLOW-WORKSPACE header and an
/// optional JSON body.
fn mlflow_request(method: &str, uri: &str, token: &str, workspace: Option<&str>, body: Option<&Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(slug) = workspace {
        builder = builder.header("x-mlflow-workspace", slug);
    }
    match body {
        Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Sends a request and returns the status and the JSON body.
async fn send_json(app: &TestApp, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.send(request).await;
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let body = serde_json::from_str(&text).unwrap_or_else(|error| panic!("invalid JSON ({error}) with status {status}: {text}"));
    (status, body)
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    send_json(app, mlflow_request("POST", &format!("{API}{path}"), token, None, Some(&body))).await
}

async fn get(app: &TestApp, token: &str, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    send_json(app, mlflow_request("GET", &with_query(&format!("{API}{path}"), query), token, None, None)).await
}

fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{query}")
}

/// Checks an MLflow error response: its status and `error_code`.
fn assert_error(response: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(response.0, status, "{}", response.1);
    assert_eq!(response.1["error_code"], code, "{}", response.1);
}

/// Creates a user who owns a new workspace `slug`, and returns the user, the workspace and a token.
async fn owner_of(app: &TestApp, username: &str, slug: &str) -> (i64, i64, String) {
    let user_id = app.create_user(username, PASSWORD).await;
    let workspace_id = app.db.create_workspace(slug, slug, user_id).await.unwrap();
    let token = api_token(&app.db, user_id).await;
    (user_id, workspace_id, token)
}

async fn create_experiment(app: &TestApp, token: &str, name: &str) -> String {
    let (status, body) = post(app, token, "/experiments/create", json!({ "name": name })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["experiment_id"].as_str().expect("experiment_id is a string").to_string()
}

/// Creates a run and returns its run id.
async fn create_run(app: &TestApp, token: &str, experiment_id: &str, name: &str) -> String {
    let (status, body) = post(app, token, "/runs/create", json!({ "experiment_id": experiment_id, "run_name": name })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["run"]["info"]["run_id"].as_str().unwrap().to_string()
}

async fn log_batch(app: &TestApp, token: &str, run_id: &str, metrics: Value, params: Value) -> (StatusCode, Value) {
    post(app, token, "/runs/log-batch", json!({ "run_id": run_id, "metrics": metrics, "params": params })).await
}

async fn get_run(app: &TestApp, token: &str, run_id: &str) -> Value {
    let (status, body) = get(app, token, "/runs/get", &[("run_id", run_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["run"].clone()
}

/// Returns the run's `data.params` as (key, value) pairs.
fn params_of(run: &Value) -> Vec<(String, String)> {
    run["data"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair["key"].as_str().unwrap().to_string(), pair["value"].as_str().unwrap().to_string()))
        .collect()
}

/// Returns the store path of a run's artifact root, `<experiment>/<run>/artifacts`.
fn artifact_root(run: &Value) -> String {
    let uri = run["info"]["artifact_uri"].as_str().unwrap();
    uri.strip_prefix("mlflow-artifacts:/").unwrap_or_else(|| panic!("artifact_uri {uri} is not an mlflow-artifacts URI")).to_string()
}

async fn put_artifact(app: &TestApp, token: &str, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::put(format!("{ARTIFACTS}/{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .unwrap();
    send_json(app, request).await
}

async fn list_artifacts(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    send_json(app, mlflow_request("GET", &with_query(ARTIFACTS, &[("path", path)]), token, None, None)).await
}

/// Downloads an artifact and returns the status and the raw bytes.
async fn download_artifact(app: &TestApp, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let response = app.send(mlflow_request("GET", &format!("{ARTIFACTS}/{path}"), token, None, None)).await;
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

// ---- Experiments and runs -------------------------------------------------------------

async fn experiment_create_get_duplicate(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;

    let id = create_experiment(app, &token, "churn experiments").await;
    let (status, found) = get(app, &token, "/experiments/get-by-name", &[("experiment_name", "churn experiments")]).await;
    let duplicate = post(app, &token, "/experiments/create", json!({ "name": "churn experiments" })).await;
    let missing = get(app, &token, "/experiments/get-by-name", &[("experiment_name", "no such experiment")]).await;

    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["experiment"]["experiment_id"], id.as_str());
    assert_eq!(found["experiment"]["name"], "churn experiments");
    assert_eq!(found["experiment"]["lifecycle_stage"], "active");
    // Experiments store artifacts under `mlflow-artifacts:/<id>`, the proxy URI MLflow uses.
    assert_eq!(found["experiment"]["artifact_location"], format!("mlflow-artifacts:/{id}"));
    assert_error(&duplicate, StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS");
    assert!(duplicate.1["message"].as_str().unwrap().contains("churn experiments"), "{}", duplicate.1);
    assert_error(&missing, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
}
on_both_databases!(experiment_create_get_duplicate_on, experiment_create_get_duplicate);

async fn run_create_update_get(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "runs").await;
    let start_time = 1_700_000_000_000_i64;
    let end_time = start_time + 90_000;

    let (status, created) = post(
        app,
        &token,
        "/runs/create",
        json!({ "experiment_id": experiment_id, "run_name": "baseline", "start_time": start_time,
                "tags": [{ "key": "team", "value": "churn" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let run_id = created["run"]["info"]["run_id"].as_str().unwrap().to_string();
    let (status, updated) = post(
        app,
        &token,
        "/runs/update",
        json!({ "run_id": run_id, "status": "FINISHED", "end_time": end_time, "run_name": "baseline-final" }),
    )
    .await;
    let run = get_run(app, &token, &run_id).await;

    assert_eq!(created["run"]["info"]["status"], "RUNNING");
    assert_eq!(run_id.len(), 32, "MLflow run ids are 32 hexadecimal characters");
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["run_info"]["status"], "FINISHED");
    assert_eq!(run["info"]["run_id"], run_id.as_str());
    assert_eq!(run["info"]["experiment_id"], experiment_id.as_str());
    assert_eq!(run["info"]["status"], "FINISHED");
    assert_eq!(run["info"]["start_time"], start_time);
    assert_eq!(run["info"]["end_time"], end_time);
    assert_eq!(run["info"]["run_name"], "baseline-final");
    assert_eq!(run["info"]["user_id"], "alice", "the user defaults to the token's owner");
    assert_eq!(artifact_root(&run), format!("{experiment_id}/{run_id}/artifacts"));
    let tags = run["data"]["tags"].as_array().unwrap();
    assert!(tags.contains(&json!({ "key": "team", "value": "churn" })), "{tags:?}");
    assert!(tags.contains(&json!({ "key": "mlflow.runName", "value": "baseline-final" })), "renaming updates the tag: {tags:?}");

    let unknown = post(app, &token, "/runs/update", json!({ "run_id": "0".repeat(32), "status": "FINISHED" })).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    let bad_status = post(app, &token, "/runs/update", json!({ "run_id": run_id, "status": "DONE" })).await;
    assert_error(&bad_status, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
}
on_both_databases!(run_create_update_get_on, run_create_update_get);

// ---- Log-batch limits and params ------------------------------------------------------

fn metric_points(count: usize) -> Value {
    Value::Array((0..count).map(|step| json!({ "key": "loss", "value": 1.0 / (step as f64 + 1.0), "timestamp": 1000, "step": step })).collect())
}

fn param_pairs(count: usize) -> Value {
    Value::Array((0..count).map(|index| json!({ "key": format!("p{index}"), "value": index.to_string() })).collect())
}

async fn log_batch_limits(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "limits").await;
    let run_id = create_run(app, &token, &experiment_id, "limits").await;

    // MLflow allows at most 1,000 metrics and 100 params in one log-batch call.
    let too_many_metrics = log_batch(app, &token, &run_id, metric_points(1001), json!([])).await;
    let too_many_params = log_batch(app, &token, &run_id, json!([]), param_pairs(101)).await;

    assert_error(&too_many_metrics, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let message = too_many_metrics.1["message"].as_str().unwrap();
    assert!(message.contains("1000"), "the message names the limit: {message}");
    assert!(message.contains("1001"), "the message names the count sent: {message}");
    assert_error(&too_many_params, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let message = too_many_params.1["message"].as_str().unwrap();
    assert!(message.contains("100 params"), "the message names the limit: {message}");
    let run = get_run(app, &token, &run_id).await;
    assert_eq!(run["data"]["metrics"], json!([]), "a rejected batch stores no metric");
    assert_eq!(run["data"]["params"], json!([]), "a rejected batch stores no param");

    // Exactly at the limits, both batches are stored whole.
    let (status, body) = log_batch(app, &token, &run_id, metric_points(1000), json!([])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = log_batch(app, &token, &run_id, json!([]), param_pairs(100)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, history) = get(app, &token, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "loss")]).await;
    assert_eq!(history["metrics"].as_array().unwrap().len(), 1000);
    assert_eq!(params_of(&get_run(app, &token, &run_id).await).len(), 100);
}
on_both_databases!(log_batch_limits_on, log_batch_limits);

async fn param_value_is_write_once(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "params").await;
    let run_id = create_run(app, &token, &experiment_id, "params").await;

    let first = post(app, &token, "/runs/log-parameter", json!({ "run_id": run_id, "key": "lr", "value": "0.1" })).await;
    let same = post(app, &token, "/runs/log-parameter", json!({ "run_id": run_id, "key": "lr", "value": "0.1" })).await;
    let changed = post(app, &token, "/runs/log-parameter", json!({ "run_id": run_id, "key": "lr", "value": "0.2" })).await;
    let batch_same = log_batch(app, &token, &run_id, json!([]), json!([{ "key": "lr", "value": "0.1" }, { "key": "depth", "value": "6" }])).await;
    let batch_changed = log_batch(app, &token, &run_id, json!([]), json!([{ "key": "lr", "value": "0.3" }, { "key": "trees", "value": "50" }])).await;

    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(same.0, StatusCode::OK, "logging the same value again is accepted: {}", same.1);
    assert_error(&changed, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let message = changed.1["message"].as_str().unwrap();
    assert!(message.contains("\"lr\""), "the message names the param: {message}");
    assert!(message.contains("0.1"), "the message names the stored value: {message}");
    assert!(message.contains("0.2"), "the message names the rejected value: {message}");
    assert_eq!(batch_same.0, StatusCode::OK, "{}", batch_same.1);
    assert_error(&batch_changed, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    // The rejected batch stored nothing, not even its new key "trees".
    let params = params_of(&get_run(app, &token, &run_id).await);
    assert_eq!(params, vec![("depth".to_string(), "6".to_string()), ("lr".to_string(), "0.1".to_string())]);
}
on_both_databases!(param_value_is_write_once_on, param_value_is_write_once);

// ---- Metric history and the latest value ----------------------------------------------

async fn metric_history_step_order_nan(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "history").await;
    let run_id = create_run(app, &token, &experiment_id, "history").await;
    // The points are logged out of step order, in separate calls. NaN is sent as the string
    // "NaN", the way protobuf JSON writes a NaN double.
    let logged: [(i64, i64, Value); 4] =
        [(3, 1300, json!(0.25)), (0, 1000, json!(0.9)), (2, 1200, json!("NaN")), (1, 1100, json!(0.5))];
    for (step, timestamp, value) in &logged {
        let body = json!({ "run_id": run_id, "key": "loss", "value": value, "timestamp": timestamp, "step": step });
        let (status, response) = post(app, &token, "/runs/log-metric", body).await;
        assert_eq!(status, StatusCode::OK, "{response}");
    }

    let (status, history) = get(app, &token, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "loss")]).await;

    assert_eq!(status, StatusCode::OK, "{history}");
    // The expected series is the logged one sorted by step.
    let mut expected: Vec<(i64, i64, Value)> = logged.to_vec();
    expected.sort_by_key(|(step, _, _)| *step);
    let points = history["metrics"].as_array().unwrap();
    assert_eq!(points.len(), expected.len());
    for (point, (step, timestamp, value)) in points.iter().zip(&expected) {
        assert_eq!(point["key"], "loss");
        assert_eq!(point["step"], *step);
        assert_eq!(point["timestamp"], *timestamp);
        assert_eq!(&point["value"], value, "step {step}");
    }
    // The greatest step (3) has the value 0.25, so that is the run's latest loss, not the NaN.
    let run = get_run(app, &token, &run_id).await;
    assert_eq!(run["data"]["metrics"], json!([{ "key": "loss", "value": 0.25, "timestamp": 1300, "step": 3 }]));

    let unknown = get(app, &token, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "never-logged")]).await;
    assert_eq!(unknown.0, StatusCode::OK);
    assert!(unknown.1["metrics"].as_array().is_none_or(Vec::is_empty), "{}", unknown.1);
}
on_both_databases!(metric_history_step_order_nan_on, metric_history_step_order_nan);

async fn latest_metric_step_then_time(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "latest").await;
    let run_id = create_run(app, &token, &experiment_id, "latest").await;
    // Points are (step, timestamp, value). "loss" is sent one point per call, so the stored
    // latest value is compared with each new point. "auc" is sent in one batch.
    let loss = [(3, 9000, 0.1), (5, 2000, 0.4), (5, 1000, 0.3), (4, 99_999, 0.2)];
    let auc = [(1, 500, 0.6), (2, 100, 0.7), (2, 50, 0.65)];
    for (step, timestamp, value) in loss {
        let point = json!([{ "key": "loss", "value": value, "timestamp": timestamp, "step": step }]);
        let (status, body) = log_batch(app, &token, &run_id, point, json!([])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let batch: Vec<Value> = auc.iter().map(|(step, timestamp, value)| json!({ "key": "auc", "value": value, "timestamp": timestamp, "step": step })).collect();
    let (status, body) = log_batch(app, &token, &run_id, Value::Array(batch), json!([])).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let run = get_run(app, &token, &run_id).await;

    // MLflow's latest value: the greatest step, and among equal steps the greatest timestamp.
    let latest = |points: &[(i64, i64, f64)]| *points.iter().max_by_key(|(step, timestamp, _)| (*step, *timestamp)).unwrap();
    let (loss_step, loss_time, loss_value) = latest(&loss);
    let (auc_step, auc_time, auc_value) = latest(&auc);
    assert_eq!((loss_step, loss_time, loss_value), (5, 2000, 0.4), "the rule picks step 5 at time 2000");
    let metrics = run["data"]["metrics"].as_array().unwrap();
    let by_key = |key: &str| metrics.iter().find(|metric| metric["key"] == key).unwrap_or_else(|| panic!("no {key} in {metrics:?}")).clone();
    assert_eq!(by_key("loss"), json!({ "key": "loss", "value": loss_value, "timestamp": loss_time, "step": loss_step }));
    assert_eq!(by_key("auc"), json!({ "key": "auc", "value": auc_value, "timestamp": auc_time, "step": auc_step }));

    // Search compares the same latest value: 0.4 matches, the older 0.1 and 0.3 do not.
    let search = |filter: &str| {
        post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "filter": filter }))
    };
    let (_, matching) = search("metrics.loss = 0.4").await;
    let (_, stale) = search("metrics.loss < 0.35").await;
    assert_eq!(matching["runs"].as_array().map(Vec::len), Some(1), "{matching}");
    assert!(stale["runs"].as_array().is_none_or(Vec::is_empty), "{stale}");
}
on_both_databases!(latest_metric_step_then_time_on, latest_metric_step_then_time);

async fn repeated_point_stored_once(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "repeats").await;
    let run_id = create_run(app, &token, &experiment_id, "repeats").await;
    // MLflow 3 sends a run's points again when it logs a model. History reads return each
    // distinct (step, timestamp, value) once, and a NaN point is no exception.
    let points = json!([
        { "key": "loss", "value": 0.5, "timestamp": 1000, "step": 0 },
        { "key": "loss", "value": "NaN", "timestamp": 1100, "step": 1 },
    ]);

    for attempt in 0..2 {
        let (status, body) = log_batch(app, &token, &run_id, points.clone(), json!([])).await;
        assert_eq!(status, StatusCode::OK, "attempt {attempt}: {body}");
    }
    let (_, history) = get(app, &token, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "loss")]).await;

    let steps: Vec<i64> = history["metrics"].as_array().unwrap().iter().map(|point| point["step"].as_i64().unwrap()).collect();
    assert_eq!(steps, [0, 1], "each point once: {history}");
}
on_both_databases!(repeated_point_stored_once_on, repeated_point_stored_once);

async fn metric_values_read_back_exactly(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "exact").await;
    let run_id = create_run(app, &token, &experiment_id, "exact").await;
    // Values whose shortest decimal form needs 16 or 17 significant digits, the extremes of
    // f64, and the special values MLflow's JSON writes as strings.
    let values = [
        ("a_sum", json!(0.1 + 0.2)),
        ("b_third", json!(1.0 / 3.0)),
        ("c_tiny", json!(5e-324)),
        ("d_huge", json!(f64::MAX)),
        ("e_negative_infinity", json!("-Infinity")),
        ("f_nan", json!("NaN")),
    ];
    let metrics: Vec<Value> =
        values.iter().map(|(key, value)| json!({ "key": key, "value": value, "timestamp": 1000, "step": 3 })).collect();
    let (status, body) = log_batch(app, &token, &run_id, json!(metrics), json!([])).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, run) = get(app, &token, "/runs/get", &[("run_id", &run_id)]).await;

    assert_eq!(status, StatusCode::OK, "{run}");
    let read = run["run"]["data"]["metrics"].as_array().expect("metrics listed").clone();
    let keys: Vec<&str> = read.iter().map(|metric| metric["key"].as_str().unwrap()).collect();
    assert_eq!(keys, values.iter().map(|(key, _)| *key).collect::<Vec<_>>());
    for ((key, sent), metric) in values.iter().zip(&read) {
        assert_eq!(&metric["value"], sent, "{key}: {metric}");
        assert_eq!(metric["step"], 3, "{key}: {metric}");
    }
}
on_both_databases!(metric_values_read_back_exactly_on, metric_values_read_back_exactly);

// ---- Run search -----------------------------------------------------------------------

/// A run for the search tests: name, rmse points as (step, value), and the "model" param.
struct SearchRun {
    name: &'static str,
    rmse: &'static [(i64, f64)],
    model: &'static str,
}

const SEARCH_RUNS: [SearchRun; 9] = [
    SearchRun { name: "r-a", rmse: &[(0, 0.5)], model: "xgb" },
    // The latest rmse is 0.9 (step 1), so the earlier 0.2 must not match rmse < 0.8.
    SearchRun { name: "r-b", rmse: &[(0, 0.2), (1, 0.9)], model: "xgb" },
    SearchRun { name: "r-c", rmse: &[(0, 0.3)], model: "lgbm" },
    SearchRun { name: "r-d", rmse: &[(0, 0.7)], model: "xgb" },
    SearchRun { name: "r-e", rmse: &[], model: "xgb" },
    SearchRun { name: "r-f", rmse: &[(0, 0.1)], model: "xgb" },
    SearchRun { name: "r-g", rmse: &[(0, 0.79)], model: "xgb" },
    SearchRun { name: "r-h", rmse: &[(0, 0.8)], model: "xgb" },
    SearchRun { name: "r-i", rmse: &[], model: "lgbm" },
];

impl SearchRun {
    /// Returns the latest rmse, the value at the greatest step.
    fn latest_rmse(&self) -> Option<f64> {
        self.rmse.iter().max_by_key(|(step, _)| *step).map(|(_, value)| *value)
    }
}

/// Logs SEARCH_RUNS and returns the experiment id and a map from run id to run name.
async fn log_search_runs(app: &TestApp, token: &str) -> (String, std::collections::HashMap<String, &'static str>) {
    let experiment_id = create_experiment(app, token, "search").await;
    let mut names = std::collections::HashMap::new();
    for run in &SEARCH_RUNS {
        let run_id = create_run(app, token, &experiment_id, run.name).await;
        let metrics: Vec<Value> =
            run.rmse.iter().map(|(step, value)| json!({ "key": "rmse", "value": value, "timestamp": 1000 + step, "step": step })).collect();
        let (status, body) = log_batch(app, token, &run_id, Value::Array(metrics), json!([{ "key": "model", "value": run.model }])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        names.insert(run_id, run.name);
    }
    (experiment_id, names)
}

fn run_names(body: &Value, names: &std::collections::HashMap<String, &'static str>) -> Vec<&'static str> {
    body["runs"]
        .as_array()
        .map(|runs| runs.iter().map(|run| names[run["info"]["run_id"].as_str().unwrap()]).collect())
        .unwrap_or_default()
}

/// Names of the runs with an rmse sorted by it, then the names of runs without one (whose
/// relative order MLflow leaves open).
fn expected_order(ascending: bool) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut with_metric: Vec<(&'static str, f64)> =
        SEARCH_RUNS.iter().filter_map(|run| run.latest_rmse().map(|rmse| (run.name, rmse))).collect();
    with_metric.sort_by(|a, b| if ascending { a.1.total_cmp(&b.1) } else { b.1.total_cmp(&a.1) });
    let mut without: Vec<&'static str> = SEARCH_RUNS.iter().filter(|run| run.latest_rmse().is_none()).map(|run| run.name).collect();
    without.sort();
    (with_metric.into_iter().map(|(name, _)| name).collect(), without)
}

async fn search_runs_filter_and_order(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let (experiment_id, names) = log_search_runs(app, &token).await;

    let (status, filtered) = post(
        app,
        &token,
        "/runs/search",
        json!({ "experiment_ids": [experiment_id], "filter": "metrics.rmse < 0.8 and params.model = \"xgb\"",
                "order_by": ["metrics.rmse ASC"] }),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{filtered}");
    // The expected runs come from the table: latest rmse below 0.8 and model xgb, by rmse.
    let mut expected: Vec<(&str, f64)> = SEARCH_RUNS
        .iter()
        .filter(|run| run.model == "xgb")
        .filter_map(|run| run.latest_rmse().filter(|rmse| *rmse < 0.8).map(|rmse| (run.name, rmse)))
        .collect();
    expected.sort_by(|a, b| a.1.total_cmp(&b.1));
    let expected: Vec<&str> = expected.into_iter().map(|(name, _)| name).collect();
    assert_eq!(expected, ["r-f", "r-a", "r-d", "r-g"], "the table gives these four");
    assert_eq!(run_names(&filtered, &names), expected);

    // Sorting by the filtered metric walks its index, in either direction.
    let (status, descending) = post(
        app,
        &token,
        "/runs/search",
        json!({ "experiment_ids": [experiment_id], "filter": "metrics.rmse < 0.8 and params.model = \"xgb\"",
                "order_by": ["metrics.rmse DESC"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{descending}");
    assert_eq!(run_names(&descending, &names), ["r-g", "r-d", "r-a", "r-f"]);

    for (ascending, direction) in [(true, "ASC"), (false, "DESC")] {
        let order = format!("metrics.rmse {direction}");
        let (status, ordered) =
            post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "order_by": [order] })).await;
        assert_eq!(status, StatusCode::OK, "{ordered}");
        let found = run_names(&ordered, &names);
        let (sorted, missing) = expected_order(ascending);
        assert_eq!(found.len(), SEARCH_RUNS.len(), "{direction}: {found:?}");
        assert_eq!(found[..sorted.len()], sorted[..], "{direction}: runs with rmse come first, sorted");
        let mut tail = found[sorted.len()..].to_vec();
        tail.sort();
        assert_eq!(tail, missing, "{direction}: runs without rmse come last");
    }
}
on_both_databases!(search_runs_filter_and_order_on, search_runs_filter_and_order);

async fn search_runs_pagination(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let (experiment_id, names) = log_search_runs(app, &token).await;
    let page_size = 4;

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut page_token: Option<String> = None;
    loop {
        let mut body = json!({ "experiment_ids": [experiment_id], "order_by": ["metrics.rmse ASC"], "max_results": page_size });
        if let Some(token) = &page_token {
            body["page_token"] = json!(token);
        }
        let (status, page) = post(app, &token, "/runs/search", body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids: Vec<String> =
            page["runs"].as_array().map(|runs| runs.iter().map(|run| run["info"]["run_id"].as_str().unwrap().to_string()).collect()).unwrap_or_default();
        assert!(ids.len() <= page_size, "page {} has {} runs", pages.len(), ids.len());
        pages.push(ids);
        page_token = page["next_page_token"].as_str().map(str::to_string);
        if page_token.is_none() {
            break;
        }
        assert!(pages.len() <= SEARCH_RUNS.len(), "the pages never end: {pages:?}");
    }
    let (_, whole) =
        post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "order_by": ["metrics.rmse ASC"] })).await;

    // 9 runs in pages of 4 make pages of 4, 4 and 1.
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 4, 1]);
    let paged: Vec<String> = pages.concat();
    let mut unique = paged.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paged.len(), "no run appears on two pages");
    let mut created: Vec<String> = names.keys().cloned().collect();
    created.sort();
    assert_eq!(unique, created, "every run appears once");
    let whole: Vec<String> = whole["runs"].as_array().unwrap().iter().map(|run| run["info"]["run_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(paged, whole, "the pages follow the order of one unpaged search");

    let bad_token = post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "page_token": "not-a-token" })).await;
    assert_error(&bad_token, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
}
on_both_databases!(search_runs_pagination_on, search_runs_pagination);

async fn invalid_filter_rejected(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "filters").await;
    create_run(app, &token, &experiment_id, "only").await;
    let filters = [
        "metrics.rmse < 'low'",
        "params.model > 'xgb'",
        "metrics.rmse <",
        "metrics.rmse < 0.8 or params.model = 'xgb'",
        "metrics.rmse < 0.8 params.model = 'xgb'",
        "params.model = 'xgb",
        "attributes.colour = 'red'",
    ];

    for filter in filters {
        let response = post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "filter": filter })).await;
        assert_error(&response, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    }
    let bad_order = post(app, &token, "/runs/search", json!({ "experiment_ids": [experiment_id], "order_by": ["metrics.rmse SIDEWAYS"] })).await;
    assert_error(&bad_order, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
}
on_both_databases!(invalid_filter_rejected_on, invalid_filter_rejected);

// ---- Artifacts ------------------------------------------------------------------------

async fn artifacts_round_trip(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "artifacts").await;
    let run_id = create_run(app, &token, &experiment_id, "artifacts").await;
    let root = artifact_root(&get_run(app, &token, &run_id).await);
    // Every byte value, then a pattern past the first 256 KiB read chunk of the store.
    let weights: Vec<u8> = (0..300_000_u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();

    let stored = put_artifact(app, &token, &format!("{root}/model/weights.bin"), weights.clone()).await;
    let notes = put_artifact(app, &token, &format!("{root}/notes.txt"), b"hello".to_vec()).await;
    let (status, top) = list_artifacts(app, &token, &root).await;
    let (_, model_folder) = list_artifacts(app, &token, &format!("{root}/model")).await;
    let (_, file_listing) = list_artifacts(app, &token, &format!("{root}/notes.txt")).await;
    let (download_status, downloaded) = download_artifact(app, &token, &format!("{root}/model/weights.bin")).await;

    assert_eq!(stored.0, StatusCode::OK, "{}", stored.1);
    assert_eq!(notes.0, StatusCode::OK, "{}", notes.1);
    assert_eq!(status, StatusCode::OK, "{top}");
    assert_eq!(top["files"], json!([{ "path": "model", "is_dir": true }, { "path": "notes.txt", "is_dir": false, "file_size": 5 }]));
    assert_eq!(model_folder["files"], json!([{ "path": "weights.bin", "is_dir": false, "file_size": weights.len() }]));
    assert_eq!(file_listing, json!({}), "listing a file gives an empty object, as MLflow does");
    assert_eq!(download_status, StatusCode::OK);
    assert_eq!(downloaded.len(), weights.len());
    assert!(downloaded == weights, "the download is byte-equal to the upload");
    let (missing_status, _) = download_artifact(app, &token, &format!("{root}/model/missing.bin")).await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
}
on_both_databases!(artifacts_round_trip_on, artifacts_round_trip);

/// Sends one part to the URL mpu/create returned, without credentials as the MLflow client
/// does, and returns the status and the ETag header.
async fn put_part(app: &TestApp, url: &str, bytes: Vec<u8>) -> (StatusCode, String) {
    let path = url.split_once("://").and_then(|(_, rest)| rest.split_once('/')).map(|(_, path)| format!("/{path}")).unwrap();
    let response = app.send(Request::put(path).body(Body::from(bytes)).unwrap()).await;
    let etag = response.headers().get(header::ETAG).map(|value| value.to_str().unwrap().to_string()).unwrap_or_default();
    (response.status(), etag)
}

async fn multipart_upload_round_trip(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let (_, _, other_token) = owner_of(app, "bob", "other").await;
    let experiment_id = create_experiment(app, &token, "multipart").await;
    let run_id = create_run(app, &token, &experiment_id, "multipart").await;
    let root = artifact_root(&get_run(app, &token, &run_id).await);
    let mpu = "/api/2.0/mlflow-artifacts/mpu";
    let bytes: Vec<u8> = (0..700_000_u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let chunks: Vec<Vec<u8>> = bytes.chunks(300_000).map(<[u8]>::to_vec).collect();

    let create_body = json!({ "path": "/home/me/weights.bin", "num_parts": chunks.len() });
    let mut request = mlflow_request("POST", &format!("{mpu}/create/{root}/model"), &token, None, Some(&create_body));
    request.headers_mut().insert(header::HOST, "orrery.example:8080".parse().unwrap());
    let (status, created) = send_json(app, request).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let upload_id = created["upload_id"].as_str().unwrap().to_string();
    let credentials = created["credentials"].as_array().unwrap().clone();
    assert_eq!(credentials.len(), 3, "{created}");
    // Parts go up in reverse order; the ETag is the part's SHA-256, quoted.
    let mut parts = Vec::new();
    for (credential, chunk) in credentials.iter().zip(&chunks).rev() {
        assert!(credential["url"].as_str().unwrap().starts_with("http://orrery.example:8080/api/"), "{credential}");
        let (status, etag) = put_part(app, credential["url"].as_str().unwrap(), chunk.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(etag.len(), 66, "{etag}");
        parts.insert(0, json!({ "part_number": credential["part_number"], "etag": etag, "url": credential["url"] }));
    }
    let complete_body = json!({ "path": "weights.bin", "upload_id": upload_id, "parts": parts });

    let wrong_workspace =
        send_json(app, mlflow_request("POST", &format!("{mpu}/complete/{root}/model"), &other_token, None, Some(&complete_body))).await;
    let wrong_folder =
        send_json(app, mlflow_request("POST", &format!("{mpu}/complete/{root}/other"), &token, None, Some(&complete_body))).await;
    assert_error(&wrong_workspace, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    assert_error(&wrong_folder, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let (status, completed) =
        send_json(app, mlflow_request("POST", &format!("{mpu}/complete/{root}/model"), &token, None, Some(&complete_body))).await;

    assert_eq!(status, StatusCode::OK, "{completed}");
    let (download_status, downloaded) = download_artifact(app, &token, &format!("{root}/model/weights.bin")).await;
    assert_eq!(download_status, StatusCode::OK);
    assert!(downloaded == bytes, "the joined file is byte-equal to the parts");
    let late = put_part(app, credentials[0]["url"].as_str().unwrap(), b"late".to_vec()).await;
    assert_eq!(late.0, StatusCode::NOT_FOUND, "a completed upload takes no more parts");
    let (_, listing) = list_artifacts(app, &token, &format!("{root}/model")).await;
    assert_eq!(listing["files"], json!([{ "path": "weights.bin", "is_dir": false, "file_size": bytes.len() }]));

    // An aborted upload leaves no file.
    let abort_create = json!({ "path": "dropped.bin", "num_parts": 1 });
    let mut request = mlflow_request("POST", &format!("{mpu}/create/{root}"), &token, None, Some(&abort_create));
    request.headers_mut().insert(header::HOST, "127.0.0.1".parse().unwrap());
    let (_, created) = send_json(app, request).await;
    let abort_id = created["upload_id"].as_str().unwrap().to_string();
    let (status, _) = put_part(app, created["credentials"][0]["url"].as_str().unwrap(), b"x".to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let abort_body = json!({ "path": "dropped.bin", "upload_id": abort_id });
    let (status, aborted) = send_json(app, mlflow_request("POST", &format!("{mpu}/abort/{root}"), &token, None, Some(&abort_body))).await;
    assert_eq!(status, StatusCode::OK, "{aborted}");
    let (missing, _) = download_artifact(app, &token, &format!("{root}/dropped.bin")).await;
    assert_eq!(missing, StatusCode::NOT_FOUND);

    let too_many = json!({ "path": "huge.bin", "num_parts": 10_001 });
    let rejected = send_json(app, mlflow_request("POST", &format!("{mpu}/create/{root}"), &token, None, Some(&too_many))).await;
    assert_error(&rejected, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let bad_part = put_part(app, &format!("http://host{mpu}/parts/{abort_id}/first"), b"x".to_vec()).await;
    assert_eq!(bad_part.0, StatusCode::BAD_REQUEST);
}
on_both_databases!(multipart_upload_round_trip_on, multipart_upload_round_trip);

async fn artifact_dot_dot_rejected(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "artifacts").await;
    let run_id = create_run(app, &token, &experiment_id, "artifacts").await;
    let root = artifact_root(&get_run(app, &token, &run_id).await);
    // Each URI is built by hand: nothing between here and the handler removes the dot
    // segments, so the server must reject them itself.
    let escapes = [
        format!("{ARTIFACTS}/{root}/../../../escape.txt"),
        format!("{ARTIFACTS}/{experiment_id}/../escape.txt"),
        format!("{ARTIFACTS}/{root}/%2E%2E/%2E%2E/%2E%2E/escape.txt"),
    ];

    for uri in &escapes {
        let request = Request::builder()
            .method("PUT")
            .uri(uri.as_str())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from("escaped"))
            .unwrap();
        assert_eq!(request.uri().path(), uri.as_str(), "the URI reaches the router as written");
        let upload = send_json(app, request).await;
        assert_error(&upload, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
        let download = send_json(app, mlflow_request("GET", uri, &token, None, None)).await;
        assert_error(&download, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    }
    let listing = list_artifacts(app, &token, &format!("{root}/../..")).await;
    assert_error(&listing, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let artifacts_dir = app.state.config.artifacts_dir();
    for leaked in [artifacts_dir.join("escape.txt"), artifacts_dir.join("..").join("escape.txt")] {
        assert!(!leaked.exists(), "{} was written", leaked.display());
    }
}
on_both_databases!(artifact_dot_dot_rejected_on, artifact_dot_dot_rejected);

// ---- Registry -------------------------------------------------------------------------

async fn create_version(app: &TestApp, token: &str, model: &str, run_id: &str) -> (StatusCode, Value) {
    post(app, token, "/model-versions/create", json!({ "name": model, "source": format!("runs:/{run_id}/model"), "run_id": run_id })).await
}

async fn registered_model_alias_download_uri(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "registry").await;
    let first_run = create_run(app, &token, &experiment_id, "first").await;
    let second_run = create_run(app, &token, &experiment_id, "second").await;

    let (status, created) = post(app, &token, "/registered-models/create", json!({ "name": "churn-model", "description": "churn" })).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let duplicate = post(app, &token, "/registered-models/create", json!({ "name": "churn-model" })).await;
    let (_, version_one) = create_version(app, &token, "churn-model", &first_run).await;
    let (_, version_two) = create_version(app, &token, "churn-model", &second_run).await;
    let (alias_status, alias_set) =
        post(app, &token, "/registered-models/alias", json!({ "name": "churn-model", "alias": "champion", "version": "2" })).await;
    let (_, by_alias) = get(app, &token, "/registered-models/alias", &[("name", "churn-model"), ("alias", "champion")]).await;
    let (_, model) = get(app, &token, "/registered-models/get", &[("name", "churn-model")]).await;
    let (_, uri) = get(app, &token, "/model-versions/get-download-uri", &[("name", "churn-model"), ("version", "1")]).await;

    assert_eq!(created["registered_model"]["name"], "churn-model");
    assert_error(&duplicate, StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS");
    // Versions are numbered from 1 in creation order and sent as strings.
    assert_eq!(version_one["model_version"]["version"], "1");
    assert_eq!(version_one["model_version"]["run_id"], first_run.as_str());
    assert_eq!(version_two["model_version"]["version"], "2");
    assert_eq!(alias_status, StatusCode::OK, "{alias_set}");
    assert_eq!(by_alias["model_version"]["version"], "2");
    assert_eq!(by_alias["model_version"]["run_id"], second_run.as_str());
    assert_eq!(by_alias["model_version"]["aliases"], json!(["champion"]));
    assert_eq!(model["registered_model"]["aliases"], json!([{ "alias": "champion", "version": "2" }]));
    let latest = model["registered_model"]["latest_versions"].as_array().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["version"], "2");
    // A runs:/<run>/model source resolves to that folder under the run's artifact URI.
    let first_root = get_run(app, &token, &first_run).await["info"]["artifact_uri"].as_str().unwrap().to_string();
    assert_eq!(uri["artifact_uri"], format!("{first_root}/model"));

    let reserved = post(app, &token, "/registered-models/alias", json!({ "name": "churn-model", "alias": "latest", "version": "1" })).await;
    assert_error(&reserved, StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE");
    let no_version = post(app, &token, "/registered-models/alias", json!({ "name": "churn-model", "alias": "backup", "version": "7" })).await;
    assert_error(&no_version, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
}
on_both_databases!(registered_model_alias_download_uri_on, registered_model_alias_download_uri);

// ---- Workspaces -----------------------------------------------------------------------

async fn other_workspace_is_invisible(app: &TestApp) {
    let (_, _, alice) = owner_of(app, "alice", "team-a").await;
    let (_, _, bob) = owner_of(app, "bob", "team-b").await;
    let experiment_id = create_experiment(app, &alice, "private").await;
    let run_id = create_run(app, &alice, &experiment_id, "private").await;
    let root = artifact_root(&get_run(app, &alice, &run_id).await);
    let notes = format!("{root}/notes.txt");
    assert_eq!(put_artifact(app, &alice, &notes, b"secret".to_vec()).await.0, StatusCode::OK);
    assert_eq!(post(app, &alice, "/registered-models/create", json!({ "name": "private-model" })).await.0, StatusCode::OK);
    assert_eq!(create_version(app, &alice, "private-model", &run_id).await.0, StatusCode::OK);

    let reads = [
        get(app, &bob, "/experiments/get", &[("experiment_id", &experiment_id)]).await,
        get(app, &bob, "/experiments/get-by-name", &[("experiment_name", "private")]).await,
        get(app, &bob, "/runs/get", &[("run_id", &run_id)]).await,
        get(app, &bob, "/registered-models/get", &[("name", "private-model")]).await,
        get(app, &bob, "/model-versions/get", &[("name", "private-model"), ("version", "1")]).await,
        list_artifacts(app, &bob, &root).await,
        send_json(app, mlflow_request("GET", &format!("{ARTIFACTS}/{notes}"), &bob, None, None)).await,
    ];
    for (index, response) in reads.iter().enumerate() {
        assert_error(response, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
        assert!(!response.1.to_string().contains("secret"), "read {index} leaks data: {}", response.1);
    }
    let writes = [
        post(app, &bob, "/runs/log-metric", json!({ "run_id": run_id, "key": "rmse", "value": 0.1, "timestamp": 1, "step": 0 })).await,
        post(app, &bob, "/runs/update", json!({ "run_id": run_id, "status": "KILLED" })).await,
        post(app, &bob, "/runs/create", json!({ "experiment_id": experiment_id })).await,
        put_artifact(app, &bob, &notes, b"overwritten".to_vec()).await,
        create_version(app, &bob, "private-model", &run_id).await,
    ];
    for response in &writes {
        assert_error(response, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    }
    let (_, searched) = post(app, &bob, "/runs/search", json!({ "experiment_ids": [experiment_id] })).await;
    assert!(searched["runs"].as_array().is_none_or(Vec::is_empty), "{searched}");

    // Alice's data is unchanged by Bob's attempts.
    let run = get_run(app, &alice, &run_id).await;
    assert_eq!(run["info"]["status"], "RUNNING");
    assert_eq!(run["data"]["metrics"], json!([]));
    assert_eq!(download_artifact(app, &alice, &notes).await.1, b"secret");
}
on_both_databases!(other_workspace_is_invisible_on, other_workspace_is_invisible);

async fn workspace_header_selects(app: &TestApp) {
    let (alice_id, team_a, alice) = owner_of(app, "alice", "team-a").await;
    let (_, team_b, _) = owner_of(app, "carol", "team-b").await;
    owner_of(app, "bob", "team-c").await;
    app.db.upsert_member(team_b, alice_id, Role::Member).await.unwrap();
    app.db.set_default_workspace(alice_id, team_a).await.unwrap();
    let create = |slug: Option<&'static str>, name: &'static str| {
        mlflow_request("POST", &format!("{API}/experiments/create"), &alice, slug, Some(&json!({ "name": name })))
    };
    let by_name = |slug: Option<&'static str>| {
        mlflow_request("GET", &with_query(&format!("{API}/experiments/get-by-name"), &[("experiment_name", "shared")]), &alice, slug, None)
    };

    let (status, body) = send_json(app, create(Some("team-b"), "shared")).await;
    let in_default = send_json(app, by_name(None)).await;
    let (found_status, found) = send_json(app, by_name(Some("team-b"))).await;
    let not_member = send_json(app, create(Some("team-c"), "intrusion")).await;
    let unknown = send_json(app, create(Some("no-such-team"), "nowhere")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let stored = app.db.experiment_by_name(team_b, "shared").await.unwrap().expect("the experiment is in team-b");
    assert_eq!(stored.id.to_string(), body["experiment_id"].as_str().unwrap());
    assert!(app.db.experiment_by_name(team_a, "shared").await.unwrap().is_none(), "team-a got nothing");
    assert_error(&in_default, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(found_status, StatusCode::OK, "{found}");
    assert_eq!(found["experiment"]["experiment_id"], body["experiment_id"]);
    assert_error(&not_member, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    assert_error(&unknown, StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST");
    let team_c = app.db.membership(app.db.user_by_name("bob").await.unwrap().unwrap().id, "team-c").await.unwrap().unwrap();
    assert!(app.db.experiment_by_name(team_c.workspace_id, "intrusion").await.unwrap().is_none());
}
on_both_databases!(workspace_header_selects_on, workspace_header_selects);

async fn scoped_token_stays_in_workspace(app: &TestApp) {
    let (alice_id, team_a, _) = owner_of(app, "alice", "team-a").await;
    let (_, team_b, _) = owner_of(app, "carol", "team-b").await;
    app.db.upsert_member(team_b, alice_id, Role::Member).await.unwrap();
    // The default workspace is team-b, so only the token's scope can send calls to team-a.
    app.db.set_default_workspace(alice_id, team_b).await.unwrap();
    let scoped = api_token(&app.db, alice_id).await;
    let token_id = app.db.tokens_of(alice_id).await.unwrap()[0].id;
    app.db.scope_token(token_id, team_a).await.unwrap();
    let create = |slug: Option<&'static str>, name: &'static str| {
        mlflow_request("POST", &format!("{API}/experiments/create"), &scoped, slug, Some(&json!({ "name": name })))
    };

    let (status, body) = send_json(app, create(None, "scoped")).await;
    let (named_status, named) = send_json(app, create(Some("team-a"), "named")).await;
    let other = send_json(app, create(Some("team-b"), "elsewhere")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(app.db.experiment_by_name(team_a, "scoped").await.unwrap().is_some(), "without a header the token's workspace is used");
    assert_eq!(named_status, StatusCode::OK, "{named}");
    assert_error(&other, StatusCode::FORBIDDEN, "PERMISSION_DENIED");
    assert!(app.db.experiment_by_name(team_b, "elsewhere").await.unwrap().is_none());
    let read_other = send_json(
        app,
        mlflow_request("GET", &with_query(&format!("{API}/experiments/get-by-name"), &[("experiment_name", "Default")]), &scoped, Some("team-b"), None),
    )
    .await;
    assert_error(&read_other, StatusCode::FORBIDDEN, "PERMISSION_DENIED");
}
on_both_databases!(scoped_token_stays_in_workspace_on, scoped_token_stays_in_workspace);

// ---- Roles and authentication ---------------------------------------------------------

async fn viewer_reads_but_cannot_write(app: &TestApp) {
    let (_, workspace_id, owner) = owner_of(app, "owner", "team").await;
    let viewer_id = app.create_user("vic", PASSWORD).await;
    app.db.upsert_member(workspace_id, viewer_id, Role::Viewer).await.unwrap();
    let viewer = api_token(&app.db, viewer_id).await;
    let experiment_id = create_experiment(app, &owner, "shared").await;
    let run_id = create_run(app, &owner, &experiment_id, "shared").await;
    let root = artifact_root(&get_run(app, &owner, &run_id).await);
    let metric = json!([{ "key": "rmse", "value": 0.4, "timestamp": 1, "step": 0 }]);
    assert_eq!(log_batch(app, &owner, &run_id, metric, json!([])).await.0, StatusCode::OK);
    assert_eq!(put_artifact(app, &owner, &format!("{root}/notes.txt"), b"notes".to_vec()).await.0, StatusCode::OK);
    assert_eq!(post(app, &owner, "/registered-models/create", json!({ "name": "churn" })).await.0, StatusCode::OK);
    assert_eq!(create_version(app, &owner, "churn", &run_id).await.0, StatusCode::OK);

    let reads = [
        get(app, &viewer, "/experiments/get", &[("experiment_id", &experiment_id)]).await,
        get(app, &viewer, "/runs/get", &[("run_id", &run_id)]).await,
        get(app, &viewer, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "rmse")]).await,
        post(app, &viewer, "/runs/search", json!({ "experiment_ids": [experiment_id] })).await,
        get(app, &viewer, "/registered-models/get", &[("name", "churn")]).await,
        list_artifacts(app, &viewer, &root).await,
    ];
    for (index, response) in reads.iter().enumerate() {
        assert_eq!(response.0, StatusCode::OK, "read {index}: {}", response.1);
    }
    assert_eq!(reads[2].1["metrics"][0]["value"], 0.4);
    assert_eq!(download_artifact(app, &viewer, &format!("{root}/notes.txt")).await.1, b"notes");

    let writes = [
        post(app, &viewer, "/experiments/create", json!({ "name": "viewer-made" })).await,
        post(app, &viewer, "/runs/create", json!({ "experiment_id": experiment_id })).await,
        post(app, &viewer, "/runs/log-metric", json!({ "run_id": run_id, "key": "rmse", "value": 0.1, "timestamp": 2, "step": 1 })).await,
        log_batch(app, &viewer, &run_id, json!([]), json!([{ "key": "lr", "value": "0.1" }])).await,
        post(app, &viewer, "/runs/set-tag", json!({ "run_id": run_id, "key": "by", "value": "viewer" })).await,
        put_artifact(app, &viewer, &format!("{root}/viewer.txt"), b"x".to_vec()).await,
        post(app, &viewer, "/registered-models/create", json!({ "name": "viewer-model" })).await,
        create_version(app, &viewer, "churn", &run_id).await,
        post(app, &viewer, "/registered-models/alias", json!({ "name": "churn", "alias": "champion", "version": "1" })).await,
    ];
    for (index, response) in writes.iter().enumerate() {
        assert_error(response, StatusCode::FORBIDDEN, "PERMISSION_DENIED");
        assert!(response.1["message"].as_str().unwrap().contains("viewer"), "write {index}: {}", response.1);
    }
    assert!(app.db.experiment_by_name(workspace_id, "viewer-made").await.unwrap().is_none());
    let run = get_run(app, &owner, &run_id).await;
    assert_eq!(run["data"]["metrics"][0]["value"], 0.4, "the viewer's metric was not stored");
    assert!(params_of(&run).is_empty());
    assert_eq!(download_artifact(app, &owner, &format!("{root}/viewer.txt")).await.0, StatusCode::NOT_FOUND);
}
on_both_databases!(viewer_reads_but_cannot_write_on, viewer_reads_but_cannot_write);

async fn basic_auth_and_missing_credentials(app: &TestApp) {
    use base64::Engine;
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let search = format!("{API}/experiments/search?max_results=10");
    let basic = |credentials: String| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        Request::get(search.as_str()).header(header::AUTHORIZATION, format!("Basic {encoded}")).body(Body::empty()).unwrap()
    };

    // MLflow clients send MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD as basic
    // auth. The token is the password, and the user name is not checked.
    let (status, body) = send_json(app, basic(format!("alice:{token}"))).await;
    let wrong = send_json(app, basic("alice:not-a-token".to_string())).await;
    let wrong_bearer = send_json(app, mlflow_request("GET", search.as_str(), "orr_not-a-token", None, None)).await;
    let unknown_path = send_json(app, mlflow_request("GET", &format!("{API}/no-such-endpoint"), &token, None, None)).await;
    let anonymous_get = send_json(app, Request::get(search.as_str()).body(Body::empty()).unwrap()).await;
    let anonymous_post = send_json(
        app,
        Request::post(format!("{API}/experiments/create"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "name": "anonymous" }).to_string()))
            .unwrap(),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["experiments"].as_array().unwrap().iter().map(|experiment| experiment["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Default"], "every workspace starts with the Default experiment");
    // The MLflow client reports an error without `error_code` as INTERNAL_ERROR.
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    assert_error(&wrong_bearer, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    assert!(wrong_bearer.1["message"].as_str().unwrap().contains("invalid or revoked"), "{}", wrong_bearer.1);
    assert_error(&unknown_path, StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND");
    assert_error(&anonymous_get, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    assert_error(&anonymous_post, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
}
on_both_databases!(basic_auth_and_missing_credentials_on, basic_auth_and_missing_credentials);

async fn concurrent_log_batches_all_stored(app: &TestApp) {
    let (_, _, token) = owner_of(app, "owner", "team").await;
    let experiment_id = create_experiment(app, &token, "parallel").await;
    let mut run_ids = Vec::new();
    for index in 0..12 {
        run_ids.push(create_run(app, &token, &experiment_id, &format!("run-{index}")).await);
    }

    // Each batch reads the run's params before writing. On SQLite a transaction that read
    // first used to fail with "database is locked" when another batch wrote in between.
    let batches = run_ids.iter().map(|run_id| {
        let metrics = json!([{ "key": "rmse", "value": 0.5, "timestamp": 1_700_000_000_000_i64, "step": 0 }]);
        let params = json!([{ "key": "model", "value": "xgb" }, { "key": "depth", "value": "6" }]);
        log_batch(app, &token, run_id, metrics, params)
    });
    for (status, body) in futures::future::join_all(batches).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for run_id in &run_ids {
        let run = get_run(app, &token, run_id).await;
        assert_eq!(run["data"]["params"].as_array().map(Vec::len), Some(2), "{run}");
        assert_eq!(run["data"]["metrics"][0]["value"], 0.5, "{run}");
    }
}
on_both_databases!(concurrent_log_batches_all_stored_on, concurrent_log_batches_all_stored);

/// A NaN logged before any number: PostgreSQL must not keep the NULL's parameter type for the
/// numbers that follow on the same connection.
async fn metric_nan_then_number(app: &TestApp) {
    let (_, _, token) = owner_of(app, "alice", "team").await;
    let experiment_id = create_experiment(app, &token, "nan-first").await;
    let run_id = create_run(app, &token, &experiment_id, "nan-first").await;

    for (step, value) in [(0, json!("NaN")), (1, json!(0.5)), (2, json!("NaN")), (3, json!(0.25))] {
        let body = json!({ "run_id": run_id, "key": "loss", "value": value, "timestamp": 1000 + step, "step": step });
        let (status, response) = post(app, &token, "/runs/log-metric", body).await;
        assert_eq!(status, StatusCode::OK, "step {step}: {response}");
    }

    let (status, history) = get(app, &token, "/metrics/get-history", &[("run_id", &run_id), ("metric_key", "loss")]).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["metrics"].as_array().unwrap().len(), 4);
}
on_both_databases!(metric_nan_then_number_on, metric_nan_then_number);
