//! The versions tab: two versions of a model over the same production window, on SQLite and
//! PostgreSQL.
//!
//! Expected accuracies come from scikit-learn 1.9.1, `sklearn.metrics.accuracy_score(actual,
//! prediction)`, on the rows built below.

#![cfg(feature = "ssr")]

mod common;

use axum::http::StatusCode;
use common::{api_token, bearer, body_json, TestApp};
use orrery::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";
const MODEL: &str = "/api/v1/workspaces/team/models/delays";
const WINDOW: &str = "from=2024-03-05&to=2024-03-05";

fn schema() -> ModelSchema {
    ModelSchema {
        id_column: "id".into(),
        timestamp_column: "ts".into(),
        columns: vec![
            ColumnSpec::new("x", ColumnKind::Numeric, ColumnRole::Feature),
            ColumnSpec::new("prediction", ColumnKind::Categorical, ColumnRole::Prediction),
            ColumnSpec::new("actual", ColumnKind::Categorical, ColumnRole::Actual),
        ],
    }
}

fn label(x: i64) -> &'static str {
    if x > 50 { "late" } else { "on_time" }
}

fn flip(label: &str) -> &'static str {
    if label == "late" { "on_time" } else { "late" }
}

/// Writes rows as CSV; row `i` gets the wrong prediction when `wrong(i)` is true.
fn csv(day: &str, xs: impl Iterator<Item = i64>, wrong: impl Fn(i64) -> bool) -> Vec<u8> {
    let mut text = String::from("id,ts,x,prediction,actual\n");
    for (i, x) in xs.enumerate() {
        let actual = label(x);
        let prediction = if wrong(i as i64) { flip(actual) } else { actual };
        text.push_str(&format!("{day}-{i},{day},{x},{prediction},{actual}\n"));
    }
    text.into_bytes()
}

/// v1 trains on 40 even x with every fourth prediction wrong (accuracy 0.75), v2 on 40 odd x
/// with every eighth wrong (0.875). Both score the same 30 production rows on 2024-03-05:
/// v1 gets every third wrong (0.666…), v2 every tenth (0.9).
async fn seeded(app: &TestApp) -> String {
    let owner = app.create_user("owner", PASSWORD).await;
    let workspace = app.db.create_workspace("team", "team", owner).await.unwrap();
    app.db.create_model(workspace, "delays", "", &schema()).await.unwrap();
    let token = api_token(&app.db, owner).await;
    let production = || (0..30).map(|i| i * 3 % 100);
    let uploads = [
        ("v1", "training", csv("2024-01-01", (0..80).step_by(2), |i| i % 4 == 0)),
        ("v2", "training", csv("2024-02-01", (1..81).step_by(2), |i| i % 8 == 0)),
        ("v1", "production", csv("2024-03-05", production(), |i| i % 3 == 0)),
        ("v2", "production", csv("2024-03-05", production(), |i| i % 10 == 0)),
    ];
    for (version, environment, body) in uploads {
        let path = format!("{MODEL}/versions/{version}/environments/{environment}/records?file_name=rows.csv");
        let response = app.send(bearer("POST", &path, &token, "text/csv", body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{version} {environment} upload");
    }
    token
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app.send(bearer("GET", path, token, "application/json", Vec::new())).await;
    let status = response.status();
    (status, body_json(response).await)
}

fn assert_close(actual: &Value, expected: f64, quantity: &str) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{quantity} is not a number: {actual}"));
    assert!((actual - expected).abs() <= 1e-9, "{quantity}: {actual} against {expected}");
}

async fn versions_compare_accuracy(app: &TestApp) {
    let token = seeded(app).await;

    let (status, report) = get_json(app, &token, &format!("{MODEL}/versions/compare?version=v1&compare=v2&{WINDOW}")).await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["drift"]["version"], "v1");
    assert_eq!(report["other"]["version"], "v2");
    assert_eq!(report["other"]["current_rows"], 30);
    let accuracy = report["metrics"].as_array().unwrap().iter().find(|row| row["name"] == "Accuracy").unwrap();
    assert_close(&accuracy["first_baseline"], 0.75, "v1 training accuracy");
    assert_close(&accuracy["second_baseline"], 0.875, "v2 training accuracy");
    assert_close(&accuracy["first_current"], 0.6666666666666666, "v1 window accuracy");
    assert_close(&accuracy["second_current"], 0.9, "v2 window accuracy");
    let x = report["columns"].as_array().unwrap().iter().find(|row| row["column"] == "x").unwrap();
    // Both versions scored the same rows: ks_2samp of identical samples has p-value 1.
    assert_close(&x["value"], 1.0, "K-S p-value of x between the versions");
    assert_eq!(x["drift"], false);
}
on_both_databases!(versions_compare_accuracy_on, versions_compare_accuracy);

async fn versions_default_and_errors(app: &TestApp) {
    let token = seeded(app).await;

    let (_, latest) = get_json(app, &token, &format!("{MODEL}/versions/compare?{WINDOW}")).await;
    let (same_status, same) = get_json(app, &token, &format!("{MODEL}/versions/compare?version=v1&compare=v1")).await;
    let (missing_status, missing) = get_json(app, &token, &format!("{MODEL}/versions/compare?compare=v9")).await;

    assert_eq!(latest["drift"]["version"], "v2", "the latest version comes first");
    assert_eq!(latest["other"]["version"], "v1");
    assert_eq!(same_status, StatusCode::OK, "a compare equal to the version falls back: {same}");
    assert_eq!(same["other"]["version"], "v2");
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert!(missing["message"].as_str().unwrap().contains("version \"v9\" of model \"delays\" not found; it has v2, v1"), "{missing}");
}
on_both_databases!(versions_default_and_errors_on, versions_default_and_errors);
