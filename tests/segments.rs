//! Segments: drift and performance of the rows that meet conditions on feature values, on
//! SQLite and PostgreSQL.
//!
//! Expected values come from scipy 1.17.1 and scikit-learn 1.9.1 on the rows built below,
//! filtered the way each segment filters them: `scipy.stats.ks_2samp(reference, current,
//! method="auto")` for the distance column and `sklearn.metrics.accuracy_score(actual,
//! prediction)` for accuracy.

#![cfg(feature = "ssr")]

mod common;

use axum::http::StatusCode;
use common::{api_token, bearer, body_json, TestApp};
use orrery::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";
const RECORDS: &str = "/api/v1/workspaces/team/models/flights/versions/v1/environments";
const MODEL: &str = "/api/v1/workspaces/team/models/flights";
const WINDOW: &str = "version=v1&from=2024-03-05&to=2024-03-05";
const CARRIERS: [&str; 3] = ["UA", "AA", "DL"];

fn schema() -> ModelSchema {
    ModelSchema {
        id_column: "id".into(),
        timestamp_column: "ts".into(),
        columns: vec![
            ColumnSpec::new("carrier", ColumnKind::Categorical, ColumnRole::Feature),
            ColumnSpec::new("distance", ColumnKind::Numeric, ColumnRole::Feature),
            ColumnSpec::new("prediction", ColumnKind::Categorical, ColumnRole::Prediction),
            ColumnSpec::new("actual", ColumnKind::Categorical, ColumnRole::Actual),
        ],
    }
}

fn flip(label: &str) -> &'static str {
    if label == "late" { "on_time" } else { "late" }
}

fn label(distance: i64) -> &'static str {
    if distance > 900 { "late" } else { "on_time" }
}

/// Training: 60 rows; every fifth prediction is wrong.
fn training_csv() -> Vec<u8> {
    let mut text = String::from("id,ts,carrier,distance,prediction,actual\n");
    for i in 0..60i64 {
        let distance = 200 + (i * 37) % 1500;
        let actual = label(distance);
        let prediction = if i % 5 != 0 { actual } else { flip(actual) };
        text.push_str(&format!("t{i},2024-01-01,{},{distance},{prediction},{actual}\n", CARRIERS[i as usize % 3]));
    }
    text.into_bytes()
}

/// Production on 2024-03-05 (the window): 45 rows; UA flights are 400 longer, and even rows
/// whose index is a multiple of 3 get a wrong prediction. Five more UA rows on 2024-03-06,
/// outside the window, must count nowhere.
fn production_csv() -> Vec<u8> {
    let mut text = String::from("id,ts,carrier,distance,prediction,actual\n");
    for i in 0..45i64 {
        let carrier = CARRIERS[i as usize % 3];
        let distance = 200 + (i * 53) % 1500 + if carrier == "UA" { 400 } else { 0 };
        let actual = label(distance);
        let prediction = if i % 3 != 0 || i % 2 != 0 { actual } else { flip(actual) };
        text.push_str(&format!("p{i},2024-03-05,{carrier},{distance},{prediction},{actual}\n"));
    }
    for i in 0..5 {
        text.push_str(&format!("q{i},2024-03-06,UA,5000,late,on_time\n"));
    }
    text.into_bytes()
}

async fn seeded(app: &TestApp) -> String {
    let owner = app.create_user("owner", PASSWORD).await;
    let workspace = app.db.create_workspace("team", "team", owner).await.unwrap();
    app.db.create_model(workspace, "flights", "", &schema()).await.unwrap();
    let token = api_token(&app.db, owner).await;
    for (environment, body) in [("training", training_csv()), ("production", production_csv())] {
        let path = format!("{RECORDS}/{environment}/records?file_name=flights.csv");
        let response = app.send(bearer("POST", &path, &token, "text/csv", body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{environment} upload");
    }
    token
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app.send(bearer("GET", path, token, "application/json", Vec::new())).await;
    let status = response.status();
    (status, body_json(response).await)
}

fn encoded(segment: &str) -> String {
    orrery::url::percent_encode(segment)
}

fn column<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["columns"].as_array().unwrap().iter().find(|row| row["column"] == name).expect("a column row")
}

fn accuracy(report: &Value) -> (f64, f64) {
    let row = report["metrics"].as_array().unwrap().iter().find(|row| row["name"] == "Accuracy").expect("an accuracy row");
    (row["reference"].as_f64().unwrap(), row["current"].as_f64().unwrap())
}

fn assert_close(actual: &Value, expected: f64, quantity: &str) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{quantity} is not a number: {actual}"));
    assert!((actual - expected).abs() <= 1e-9 * expected.abs().max(1.0), "{quantity}: {actual} against {expected}");
}

async fn segment_matches_scipy(app: &TestApp) {
    let token = seeded(app).await;
    let segment = "carrier = \"UA\"";

    let (status, report) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}&segment={}", encoded(segment))).await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["segment"], segment);
    assert_eq!(report["reference_rows"], 20);
    assert_eq!(report["current_rows"], 15);
    let distance = column(&report, "distance");
    assert_eq!(distance["method"], "K-S p_value");
    // ks_2samp(UA training distances, UA production distances).pvalue
    assert_close(&distance["value"], 0.07897214709878113, "K-S p-value of the UA segment");
}
on_both_databases!(segment_matches_scipy_on, segment_matches_scipy);

async fn segment_with_two_conditions(app: &TestApp) {
    let token = seeded(app).await;
    let segment = "carrier in ('UA') and distance > 1000";

    let (_, report) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}&segment={}", encoded(segment))).await;
    let (_, performance) = get_json(app, &token, &format!("{MODEL}/performance?{WINDOW}&segment={}", encoded(segment))).await;

    assert_eq!(report["reference_rows"], 6);
    assert_eq!(report["current_rows"], 10);
    assert_close(&column(&report, "distance")["value"], 0.8354145854145854, "K-S p-value");
    let (reference, current) = accuracy(&performance);
    assert_close(&Value::from(reference), 0.8333333333333334, "baseline accuracy");
    assert_close(&Value::from(current), 0.5, "window accuracy");
}
on_both_databases!(segment_with_two_conditions_on, segment_with_two_conditions);

/// Checks that a segment rebuilt from raw rows that contains every row gives the report the
/// stored summaries give.
async fn segment_of_all_rows_equals_report(app: &TestApp) {
    let token = seeded(app).await;

    let (_, whole) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}")).await;
    let (_, segment) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}&segment={}", encoded("distance > 0"))).await;
    let (_, performance) = get_json(app, &token, &format!("{MODEL}/performance?{WINDOW}")).await;

    assert_eq!(whole["columns"], segment["columns"]);
    assert_eq!(whole["reference_rows"], segment["reference_rows"]);
    assert_eq!(whole["current_rows"], 45);
    // ks_2samp(all training distances, all production distances).pvalue
    assert_close(&column(&whole, "distance")["value"], 0.35504808666772125, "K-S p-value");
    let (reference, current) = accuracy(&performance);
    assert_close(&Value::from(reference), 0.8, "baseline accuracy");
    assert_close(&Value::from(current), 0.8222222222222222, "window accuracy");
}
on_both_databases!(segment_of_all_rows_equals_report_on, segment_of_all_rows_equals_report);

async fn invalid_segment_names_value(app: &TestApp) {
    let token = seeded(app).await;

    let (status, body) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}&segment={}", encoded("origin = \"JFK\""))).await;
    let (quality_status, quality) = get_json(app, &token, &format!("{MODEL}/quality?{WINDOW}&segment={}", encoded("carrier > 3"))).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("invalid segment"), "{message}");
    assert!(message.contains("the model's columns are carrier, distance, prediction, actual"), "{message}");
    assert_eq!(quality_status, StatusCode::BAD_REQUEST);
    assert!(quality["message"].as_str().unwrap().contains("column \"carrier\" is categorical"), "{quality}");
}
on_both_databases!(invalid_segment_names_value_on, invalid_segment_names_value);

fn segment<'a>(report: &'a Value, label: &str) -> &'a Value {
    report["segments"].as_array().unwrap().iter().find(|row| row["label"] == label).unwrap_or_else(|| panic!("no segment {label}: {report}"))
}

async fn segments_by_category(app: &TestApp) {
    let token = seeded(app).await;

    let (status, report) = get_json(app, &token, &format!("{MODEL}/segments?{WINDOW}")).await;

    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["by"], "carrier", "the first categorical feature by default");
    assert_eq!(report["metric"], "Accuracy");
    let united = segment(&report, "UA");
    assert_eq!(united["segment"], "carrier = \"UA\"");
    assert_eq!(united["reference_rows"], 20);
    assert_eq!(united["current_rows"], 15);
    assert_eq!(united["ranked"], false, "15 rows are too few to rank");
    // accuracy_score on the UA rows: 0.8 on training, 0.4666… in the window.
    assert_close(&united["metric_reference"], 0.8, "UA baseline accuracy");
    assert_close(&united["metric_current"], 0.4666666666666667, "UA window accuracy");
    assert_close(&united["drop"], 0.8 - 0.4666666666666667, "UA drop");
    assert_close(&segment(&report, "AA")["metric_current"], 1.0, "AA window accuracy");
    assert_eq!(report["segments"][0]["label"], "UA", "the largest drop comes first");
}
on_both_databases!(segments_by_category_on, segments_by_category);

/// Distance is cut at the training quintiles 422, 644, 866 and 1273, the edges
/// `numpy.quantile(distances, [0.2, 0.4, 0.6, 0.8], method="higher")` gives for these rows.
async fn segments_by_number(app: &TestApp) {
    let token = seeded(app).await;

    let (status, report) = get_json(app, &token, &format!("{MODEL}/segments?{WINDOW}&by=distance")).await;

    assert_eq!(status, StatusCode::OK, "{report}");
    let cases = [
        ("below 422", "distance < 422", 12, 6, 0.75, 1.0),
        ("422 to 644", "distance >= 422 and distance < 644", 12, 6, 0.8333333333333334, 0.8333333333333334),
        ("644 to 866", "distance >= 644 and distance < 866", 12, 8, 0.8333333333333334, 0.875),
        ("866 to 1273", "distance >= 866 and distance < 1273", 12, 14, 0.8333333333333334, 0.7857142857142857),
        ("1273 and above", "distance >= 1273", 12, 11, 0.75, 0.7272727272727273),
    ];
    for (label, condition, reference_rows, current_rows, reference, current) in cases {
        let row = segment(&report, label);
        assert_eq!(row["segment"], condition);
        assert_eq!(row["reference_rows"], reference_rows, "{label}");
        assert_eq!(row["current_rows"], current_rows, "{label}");
        assert_close(&row["metric_reference"], reference, label);
        assert_close(&row["metric_current"], current, label);
    }
}
on_both_databases!(segments_by_number_on, segments_by_number);

async fn segments_by_unknown_column(app: &TestApp) {
    let token = seeded(app).await;

    let (status, body) = get_json(app, &token, &format!("{MODEL}/segments?{WINDOW}&by=origin")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("invalid by \"origin\""), "{message}");
    assert!(message.contains("use one of carrier, distance"), "{message}");
}
on_both_databases!(segments_by_unknown_column_on, segments_by_unknown_column);

/// Retention deletes raw production rows before the cutoff: whole-model pages still read the
/// summaries, while segment views, rebuilt from raw rows, no longer see those days.
async fn retention_keeps_summaries(app: &TestApp) {
    let token = seeded(app).await;
    let (_, before) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}")).await;
    let cutoff = chrono::NaiveDate::from_ymd_opt(2024, 3, 6).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();

    let deleted = app.db.delete_production_rows_before(cutoff).await.unwrap();

    assert_eq!(deleted, 45, "the window's rows; the five rows of 2024-03-06 stay");
    let (_, after) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}")).await;
    assert_eq!(before["columns"], after["columns"]);
    assert_eq!(after["current_rows"], 45);
    let (_, segment) = get_json(app, &token, &format!("{MODEL}/drift?{WINDOW}&segment={}", encoded("distance > 0"))).await;
    assert_eq!(segment["current_rows"], 0);
    assert_eq!(segment["reference_rows"], 60, "training rows are never deleted");
    let later = "version=v1&from=2024-03-06&to=2024-03-06";
    let (_, kept) = get_json(app, &token, &format!("{MODEL}/drift?{later}&segment={}", encoded("carrier = \"UA\""))).await;
    assert_eq!(kept["current_rows"], 5);
}
on_both_databases!(retention_keeps_summaries_on, retention_keeps_summaries);
