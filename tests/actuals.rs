//! Delayed actuals: sent by prediction id after the predictions, joined with predictions
//! that arrive later still, corrected by sending again, on SQLite and PostgreSQL.
//!
//! Expected metrics come from scikit-learn 1.9.1 on the pairs each step builds:
//! `accuracy_score`, `precision_score`, `recall_score`, `f1_score` on the labels and
//! `roc_auc_score`, `log_loss` on the scores, with 1 as the positive class.

#![cfg(feature = "ssr")]

mod common;

use axum::http::StatusCode;
use common::{api_token, bearer, body_json, TestApp};
use orrery::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";
const VERSION: &str = "/api/v1/workspaces/team/models/churn/versions/v1";
const PERFORMANCE: &str = "/api/v1/workspaces/team/models/churn/performance?version=v1&from=2024-03-01&to=2024-03-02";

fn schema(with_actual: bool) -> ModelSchema {
    let column = |name: &str, kind, role| ColumnSpec::new(name, kind, role);
    let mut columns = vec![
        column("x", ColumnKind::Numeric, ColumnRole::Feature),
        column("pred", ColumnKind::Categorical, ColumnRole::Prediction),
        column("score", ColumnKind::Numeric, ColumnRole::PredictionScore),
    ];
    if with_actual {
        columns.push(column("label", ColumnKind::Categorical, ColumnRole::Actual));
    }
    ModelSchema { id_column: "id".into(), timestamp_column: "ts".into(), columns }
}

/// Predictions p1 to p8 of 2024-03-01, without their actuals.
const PREDICTIONS: &str = "id,ts,x,pred,score,label
p1,2024-03-01T01:00:00Z,1.5,1,0.9,
p2,2024-03-01T02:00:00Z,2.5,0,0.2,
p3,2024-03-01T03:00:00Z,3.5,1,0.7,
p4,2024-03-01T04:00:00Z,4.5,1,0.6,
p5,2024-03-01T05:00:00Z,5.5,0,0.4,
p6,2024-03-01T06:00:00Z,6.5,0,0.1,
p7,2024-03-01T07:00:00Z,7.5,1,0.8,
p8,2024-03-01T08:00:00Z,8.5,0,0.3,
";

async fn seeded(app: &TestApp) -> String {
    let owner = app.create_user("owner", PASSWORD).await;
    let workspace = app.db.create_workspace("team", "team", owner).await.unwrap();
    app.db.create_model(workspace, "churn", "", &schema(true)).await.unwrap();
    app.db.create_model(workspace, "noactual", "", &schema(false)).await.unwrap();
    let token = api_token(&app.db, owner).await;
    let path = format!("{VERSION}/environments/production/records?file_name=predictions.csv");
    let response = app.send(bearer("POST", &path, &token, "text/csv", PREDICTIONS.into())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    token
}

async fn send_actuals(app: &TestApp, token: &str, csv: &str) -> (StatusCode, Value) {
    let path = format!("{VERSION}/actuals?file_name=actuals.csv");
    let response = app.send(bearer("POST", &path, token, "text/csv", csv.as_bytes().to_vec())).await;
    (response.status(), body_json(response).await)
}

/// Current-window metrics of the performance report by name, and the rows with an actual.
async fn current_metrics(app: &TestApp, token: &str) -> (Vec<(String, Option<f64>)>, u64) {
    let response = app.send(bearer("GET", PERFORMANCE, token, "application/json", Vec::new())).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report = body_json(response).await;
    let metrics = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["name"].as_str().unwrap().to_string(), row["current"].as_f64()))
        .collect();
    (metrics, report["current_rows"].as_u64().unwrap())
}

fn assert_metrics(metrics: &[(String, Option<f64>)], expected: &[(&str, f64)]) {
    for (name, value) in expected {
        let actual = metrics.iter().find(|(metric, _)| metric == name).and_then(|(_, value)| *value);
        let actual = actual.unwrap_or_else(|| panic!("no current {name} in {metrics:?}"));
        assert!((actual - value).abs() < 1e-9, "{name}: {actual}, scikit-learn gives {value}");
    }
}

async fn late_actuals_join_predictions(app: &TestApp) {
    let token = seeded(app).await;
    let (_, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 0, "no prediction has an actual yet");

    // Six known ids, and p99 whose prediction is not stored yet.
    let (status, outcome) = send_actuals(app, &token, "id,label\np1,1\np2,0\np3,0\np4,1\np5,1\np6,0\np99,1\n").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!((outcome["received"].as_u64(), outcome["matched"].as_u64(), outcome["pending"].as_u64()), (Some(7), Some(6), Some(1)));
    let (metrics, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 6);
    // y_true [1,0,0,1,1,0], y_pred [1,0,1,1,0,0], scores [.9,.2,.7,.6,.4,.1].
    assert_metrics(
        &metrics,
        &[
            ("Accuracy", 0.6666666666666666),
            ("Precision", 0.6666666666666666),
            ("Recall", 0.6666666666666666),
            ("F1", 0.6666666666666666),
            ("ROC AUC", 0.7777777777777779),
            ("Log loss", 0.5108256237659907),
        ],
    );

    // p99's prediction arrives a day later and picks up the stored actual.
    let late = "id,ts,x,pred,score,label\np99,2024-03-02T09:00:00Z,9.5,1,0.65,\n";
    let path = format!("{VERSION}/environments/production/records?file_name=late.csv");
    assert_eq!(app.send(bearer("POST", &path, &token, "text/csv", late.into())).await.status(), StatusCode::CREATED);
    let (metrics, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 7);
    // y_true [1,0,0,1,1,0,1], y_pred [1,0,1,1,0,0,1], scores [.9,.2,.7,.6,.4,.1,.65].
    assert_metrics(
        &metrics,
        &[("Accuracy", 0.7142857142857143), ("Precision", 0.75), ("Recall", 0.75), ("F1", 0.75), ("ROC AUC", 0.7500000000000001), ("Log loss", 0.49939095124119975)],
    );

    // Sending p3 again corrects it rather than counting it twice.
    let (status, outcome) = send_actuals(app, &token, "id,label\np3,1\n").await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["matched"], 1);
    let (metrics, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 7);
    // y_true [1,0,1,1,1,0,1], same predictions and scores.
    assert_metrics(
        &metrics,
        &[("Accuracy", 0.8571428571428571), ("Precision", 1.0), ("Recall", 0.8), ("F1", 0.8888888888888888), ("ROC AUC", 1.0), ("Log loss", 0.3783483997573135)],
    );

    // The actual column's own summaries count the actuals too: 7 of the 9 rows have one.
    let drift = "/api/v1/workspaces/team/models/churn/quality?version=v1&from=2024-03-01&to=2024-03-02";
    let response = app.send(bearer("GET", drift, &token, "application/json", Vec::new())).await;
    let quality = body_json(response).await;
    let label = quality["columns"].as_array().unwrap().iter().find(|column| column["column"] == "label").unwrap().clone();
    let missing = label["current_missing_share"].as_f64().unwrap();
    assert!((missing - 2.0 / 9.0).abs() < 1e-12, "{label}");
}
on_both_databases!(late_actuals_join_predictions_on, late_actuals_join_predictions);

async fn actuals_as_json_lines(app: &TestApp) {
    let token = seeded(app).await;
    let path = format!("{VERSION}/actuals");
    let body = "{\"id\": \"p7\", \"label\": 1}\n{\"id\": \"p8\", \"label\": \"0\"}\n";
    let response = app.send(bearer("POST", &path, &token, "application/x-ndjson", body.into())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await["matched"], 2);
    let (metrics, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 2);
    // y_true [1, 0], y_pred [1, 0]: every prediction right.
    assert_metrics(&metrics, &[("Accuracy", 1.0)]);
}
on_both_databases!(actuals_as_json_lines_on, actuals_as_json_lines);

async fn bad_actuals_name_the_problem(app: &TestApp) {
    let token = seeded(app).await;

    let (status, body) = send_actuals(app, &token, "id,label\np1,1\np2,\n,1\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("2 rows are invalid"), "{message}");
    assert!(message.contains("the actual of prediction \"p2\" is missing"), "{message}");
    assert_eq!(body["details"]["rows"][1]["message"], "row 3, column \"id\": the prediction id is missing; fill it in or remove the row");
    let (_, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 0, "a file with a bad row stores nothing");

    let (status, body) = send_actuals(app, &token, "prediction,outcome\np1,1\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("has no column \"id\"; it has prediction, outcome"), "{body}");

    let path = "/api/v1/workspaces/team/models/churn/versions/v9/actuals?file_name=a.csv";
    let response = app.send(bearer("POST", path, &token, "text/csv", b"id,label\np1,1\n".to_vec())).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_json(response).await["message"].as_str().unwrap().contains("version \"v9\" of model \"churn\" not found; send its predictions first (it has v1)"));

    let predictions = "/api/v1/workspaces/team/models/noactual/versions/v1/environments/production/records?file_name=p.csv";
    app.send(bearer("POST", predictions, &token, "text/csv", b"id,ts,x,pred,score\np1,2024-03-01,1,1,0.9\n".to_vec())).await;
    let path = "/api/v1/workspaces/team/models/noactual/versions/v1/actuals?file_name=a.csv";
    let response = app.send(bearer("POST", path, &token, "text/csv", b"id,label\np1,1\n".to_vec())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(response).await["message"].as_str().unwrap().contains("has no actual column"));
}
on_both_databases!(bad_actuals_name_the_problem_on, bad_actuals_name_the_problem);

async fn concurrent_actuals_all_count(app: &TestApp) {
    let token = seeded(app).await;
    // One request per prediction, all at once: every request rewrites the same day's
    // summaries, so an unserialised pair would drop the other's actual.
    let labels = [("p1", 1), ("p2", 0), ("p3", 0), ("p4", 1), ("p5", 1), ("p6", 0), ("p7", 1), ("p8", 1)];
    let requests = labels.iter().map(|(id, label)| {
        let path = format!("{VERSION}/actuals?file_name=one.csv");
        app.send(bearer("POST", &path, &token, "text/csv", format!("id,label\n{id},{label}\n").into_bytes()))
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (metrics, rows) = current_metrics(app, &token).await;
    assert_eq!(rows, 8);
    // y_true [1,0,0,1,1,0,1,1], y_pred [1,0,1,1,0,0,1,0]: 5 of 8 right
    // (accuracy_score gives 0.625).
    assert_metrics(&metrics, &[("Accuracy", 0.625)]);
}
on_both_databases!(concurrent_actuals_all_count_on, concurrent_actuals_all_count);
