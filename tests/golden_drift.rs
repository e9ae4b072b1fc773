//! The drift API on the real census data against the golden values computed by Evidently
//! 0.7.23 and scipy 1.17.1 (tests/fixtures/golden), on SQLite and PostgreSQL. The data goes
//! through the whole path: Parquet reader, validation, stored summaries, merged window.

#![cfg(feature = "ssr")]

mod common;

use common::{api_token, bearer, body_json, TestApp};
use serde_json::Value;

const GOLDEN: &str = include_str!("fixtures/golden/golden_us_census_ma_employment_2015_vs_2018.json");

/// Tolerances from the golden file's README: distances 1e-9 relative; p-values 1e-6 relative
/// or 1e-12 absolute, whichever is looser.
fn assert_close(actual: f64, expected: f64, is_p_value: bool, label: &str) {
    let difference = (actual - expected).abs();
    let relative = if is_p_value { 1e-6 } else { 1e-9 };
    let allowed = (relative * expected.abs()).max(if is_p_value { 1e-12 } else { 0.0 });
    assert!(difference <= allowed, "{label}: got {actual}, golden {expected} (difference {difference:e})");
}

async fn census_drift_matches_golden(app: &TestApp) {
    let user_id = app.create_user("analyst", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("census", "Census", user_id).await.unwrap();
    let schema = orrery::demo::census_schema();
    app.db.create_model(workspace_id, orrery::demo::CENSUS_MODEL, "", &schema).await.unwrap();
    for slice in orrery::demo::census_slices(&[2018]) {
        orrery::demo::load_slice(&app.db, workspace_id, &slice, Some(user_id)).await.unwrap();
    }
    let token = api_token(&app.db, user_id).await;
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();

    let path = format!("/api/v1/workspaces/census/models/{}/drift", orrery::demo::CENSUS_MODEL);
    let response = app.send(bearer("GET", &path, &token, "application/json", Vec::new())).await;
    let report = body_json(response).await;

    assert_eq!(report["window_from"], "2017-12-03", "default window: 30 days ending at the last day");
    assert_eq!(report["window_to"], "2018-01-01");
    assert_eq!(report["reference_rows"], golden["meta"]["n_ref_rows"]);
    assert_eq!(report["current_rows"], golden["meta"]["n_cur_rows"]);
    let columns = report["columns"].as_array().unwrap();
    assert_eq!(columns.len(), golden["columns"].as_object().unwrap().len());
    for row in columns {
        let name = row["column"].as_str().unwrap();
        let expected = &golden["columns"][name];
        let default = &expected["default"];
        let is_test = matches!(default["stat_expected_by_rule"].as_str(), Some("ks" | "chisquare" | "z"));
        assert_close(row["value"].as_f64().unwrap(), default["scipy_value"].as_f64().unwrap(), is_test, &format!("{name} default statistic"));
        assert_eq!(row["threshold"], default["threshold"], "{name} threshold");
        assert_eq!(row["drift"], default["scipy_drift"], "{name} drift flag");
        assert_close(row["psi"].as_f64().unwrap(), expected["stats"]["psi"]["value"].as_f64().unwrap(), false, &format!("{name} PSI"));
    }
    assert_eq!(report["drifted_columns"], 0, "Evidently flags no column in 2018");
    // The table is sorted by drift: ANC has the largest Jensen-Shannon distance relative to
    // its threshold, then AGEP's normed Wasserstein distance.
    assert_eq!(columns[0]["column"], "ANC");
    assert_eq!(columns[1]["column"], "AGEP");
}
on_both_databases!(census_drift_matches_golden_on, census_drift_matches_golden);

/// Expected values from scikit-learn 1.9.1 on the same rows (`sklearn.metrics`
/// accuracy_score, precision_score, recall_score, f1_score, roc_auc_score on
/// predicted_probability, log_loss, and f1_score with average="macro" and "weighted"), for
/// year 2015 and year 2018 of `employed` against `prediction`.
const CENSUS_METRICS: [(&str, f64, f64); 8] = [
    ("Accuracy", 0.8271570836664971, 0.828221471246667),
    ("Precision", 0.8000432163790077, 0.8107964366440633),
    ("Recall", 0.8684688911042046, 0.8607644966405059),
    ("F1", 0.8328529854208551, 0.8350336177030413),
    ("ROC AUC", 0.903360969060035, 0.9057044924288108),
    ("Log loss", 0.3803271280788089, 0.37632677213132426),
    ("Macro F1", 0.8269561355514443, 0.8279280529951958),
    ("Weighted F1", 0.8269070129960155, 0.8280002930550366),
];

async fn census_performance_matches_scikit_learn(app: &TestApp) {
    let user_id = app.create_user("analyst", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("census", "Census", user_id).await.unwrap();
    app.db.create_model(workspace_id, orrery::demo::CENSUS_MODEL, "", &orrery::demo::census_schema()).await.unwrap();
    for slice in orrery::demo::census_slices(&[2018]) {
        orrery::demo::load_slice(&app.db, workspace_id, &slice, Some(user_id)).await.unwrap();
    }
    let token = api_token(&app.db, user_id).await;

    let path = format!("/api/v1/workspaces/census/models/{}/performance", orrery::demo::CENSUS_MODEL);
    let report = body_json(app.send(bearer("GET", &path, &token, "application/json", Vec::new())).await).await;

    assert_eq!(report["task"], "classification");
    assert_eq!(report["reference_rows"], 68_785);
    assert_eq!(report["current_rows"], 70_131);
    let metrics = report["metrics"].as_array().unwrap();
    for (name, reference, current) in CENSUS_METRICS {
        let row = metrics.iter().find(|row| row["name"] == name).unwrap_or_else(|| panic!("no metric {name}"));
        assert_close(row["reference"].as_f64().unwrap(), reference, false, &format!("{name} on 2015"));
        assert_close(row["current"].as_f64().unwrap(), current, false, &format!("{name} on 2018"));
    }
}
on_both_databases!(census_performance_matches_scikit_learn_on, census_performance_matches_scikit_learn);
