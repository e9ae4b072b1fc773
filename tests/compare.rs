//! The compare view of runs: overlaid charts of reduced series, and the params and metrics
//! tables, read in batches for many runs, on SQLite and PostgreSQL.

#![cfg(feature = "ssr")]

mod common;

use common::TestApp;
use orrery::tracking::views::compare_view;
use orrery::tracking::MetricPoint;
use orrery::types::MetricValue;

fn point(key: &str, step: i64, value: f64) -> MetricPoint {
    MetricPoint { key: key.into(), value, timestamp_ms: 1_000 + step, step }
}

async fn compare_many_runs(app: &TestApp) {
    let user_id = app.create_user("owner", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("team", "Team", user_id).await.unwrap();
    let membership = app.db.membership_by_id(user_id, workspace_id).await.unwrap().unwrap();
    let project_id = app.db.create_experiment(workspace_id, "sweep", &[]).await.unwrap();
    let project = app.db.experiment(workspace_id, project_id).await.unwrap().unwrap();
    let other_id = app.db.create_experiment(workspace_id, "other", &[]).await.unwrap();
    let other = app.db.experiment(workspace_id, other_id).await.unwrap().unwrap();
    let stranger = app.db.create_run(&other, "stranger", "owner", Some(0), &[]).await.unwrap();

    // 30 runs with a 20-step loss curve and a learning-rate param; run 7 also logs a
    // 50,000-step series with one spike, in 50 calls.
    let mut runs = Vec::new();
    for index in 0..30 {
        let run = app.db.create_run(&project, &format!("run-{index:02}"), "owner", Some(index), &[]).await.unwrap();
        let loss: Vec<MetricPoint> = (0..20).map(|step| point("loss", step, 1.0 / (step + 1 + index) as f64)).collect();
        let lr = if index < 29 { "0.1" } else { "0.01" };
        app.db.log_batch(run.id, &loss, &[("lr".to_string(), lr.to_string())], &[], &[]).await.unwrap().unwrap();
        runs.push(run);
    }
    for call in 0..50 {
        let long: Vec<MetricPoint> = (call * 1000..(call + 1) * 1000)
            .map(|step| point("grad", step, if step == 31_337 { 900.0 } else { (step % 7) as f64 }))
            .collect();
        app.db.log_batch(runs[7].id, &long, &[], &[], &[]).await.unwrap().unwrap();
    }
    let mut ids: Vec<String> = runs.iter().map(|run| run.run_uuid.clone()).collect();
    ids.push(runs[3].run_uuid.clone());

    let view = compare_view(&app.db, &membership, project_id, &ids).await.unwrap();

    let names: Vec<&str> = view.runs.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(names.len(), 30, "a run picked twice is shown once: {names:?}");
    assert_eq!(names[0], "run-00");
    assert_eq!(names[29], "run-29");
    let chart_keys: Vec<&str> = view.charts.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(chart_keys, ["grad", "loss"]);
    // 30 loss series of 20 points, drawn whole, and the 50,000-point series reduced.
    assert_eq!(view.points_logged, 30 * 20 + 50_000);
    assert!(view.points_drawn < 30 * 20 + 1_100, "{} points drawn", view.points_drawn);
    let (_, lr_values, lr_differs) = view.params.iter().find(|(key, _, _)| key == "lr").unwrap();
    assert!(*lr_differs);
    assert_eq!(lr_values[28].as_deref(), Some("0.1"));
    assert_eq!(lr_values[29].as_deref(), Some("0.01"));
    let (_, loss_values) = view.metrics.iter().find(|(key, _)| key == "loss").unwrap();
    assert_eq!(loss_values[2], Some(MetricValue(1.0 / 22.0)), "the latest loss of run-02 is at step 19");
    let (_, grad_values) = view.metrics.iter().find(|(key, _)| key == "grad").unwrap();
    assert_eq!(grad_values[7], Some(MetricValue((49_999 % 7) as f64)));
    assert_eq!(grad_values[0], None);

    let mixed = [runs[0].run_uuid.clone(), stranger.run_uuid.clone()];
    let error = compare_view(&app.db, &membership, project_id, &mixed).await.unwrap_err();
    assert!(format!("{error:?}").contains(&stranger.run_uuid), "{error:?}");
}
on_both_databases!(compare_many_runs_on, compare_many_runs);
