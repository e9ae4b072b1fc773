//! Database maintenance that no request path exercises: session store round trips and
//! expiry, stale-ingestion cleanup, old login failures, long metric series and metric rows of
//! older versions, on SQLite and PostgreSQL.

#![cfg(feature = "ssr")]

mod common;

use common::TestApp;
use orrery::db::records::StoredRecord;
use orrery::db::sessions::DbSessionStore;
use orrery::types::Environment;
use tower_sessions::session::{Id, Record};
use tower_sessions::{ExpiredDeletion, SessionStore};

async fn session_store_round_trip(app: &TestApp) {
    let store = DbSessionStore::new(app.db.clone());
    let mut record = Record {
        id: Id::default(),
        data: [("user_id".to_string(), serde_json::json!(7))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();

    let loaded = store.load(&record.id).await.unwrap().expect("the session loads");
    assert_eq!(loaded.data["user_id"], 7);

    let mut expired = Record { id: Id::default(), data: Default::default(), expiry_date: time::OffsetDateTime::now_utc() - time::Duration::minutes(1) };
    store.create(&mut expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none(), "an expired session does not load");
    store.delete_expired().await.unwrap();
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(remaining, 1);

    store.delete(&record.id).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
}
on_both_databases!(session_store_round_trip_on, session_store_round_trip);

async fn stale_ingestion_is_failed(app: &TestApp) {
    let user_id = app.create_user("owner", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("team", "Team", user_id).await.unwrap();
    let schema = orrery::demo::census_schema();
    let model_id = app.db.create_model(workspace_id, "m", "", &schema).await.unwrap();
    let version_id = app.db.ensure_version(model_id, "v1").await.unwrap();
    let target = app.db.begin_ingestion(version_id, Environment::Production, "api", "a.csv", Some(user_id), None).await.unwrap();
    let record = StoredRecord { record_id: "1".into(), timestamp_ms: 0, values_json: "[]".into() };
    app.db.insert_records(&target, &[record]).await.unwrap();

    let failed = app.db.fail_stale_ingestions(orrery::db::now_ms() + 1_000).await.unwrap();

    assert_eq!(failed, 1);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(rows, 0, "the rows of a failed ingestion are removed");
    let status: String = sqlx::query_scalar("SELECT status FROM ingestions").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(status, "failed");
}
on_both_databases!(stale_ingestion_is_failed_on, stale_ingestion_is_failed);

async fn old_login_failures_are_deleted(app: &TestApp) {
    app.db.record_login_failure("user:alice").await.unwrap();
    let now = orrery::db::now_ms();

    app.db.delete_login_failures_before(now + 1_000).await.unwrap();

    assert_eq!(app.db.count_login_failures("user:alice", 0).await.unwrap(), 0);
}
on_both_databases!(old_login_failures_are_deleted_on, old_login_failures_are_deleted);

async fn long_metric_series_keeps_peaks(app: &TestApp) {
    use orrery::tracking::MetricPoint;
    let user_id = app.create_user("owner", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("team", "Team", user_id).await.unwrap();
    let project_id = app.db.create_experiment(workspace_id, "sweep", &[]).await.unwrap();
    let project = app.db.experiment(workspace_id, project_id).await.unwrap().unwrap();
    let run = app.db.create_run(&project, "long", "owner", Some(0), &[]).await.unwrap();

    // 100,000 steps of a sawtooth between 0 and 99, with one spike up and one dip down.
    let points: Vec<MetricPoint> = (0..100_000i64)
        .map(|step| {
            let value = match step {
                61_234 => 1e6,
                7_000 => -5e5,
                _ => (step % 100) as f64,
            };
            MetricPoint { key: "loss".into(), value, timestamp_ms: 1, step }
        })
        .collect();
    for chunk in points.chunks(1000) {
        app.db.log_batch(run.id, chunk, &[], &[], &[]).await.unwrap().unwrap();
    }

    let (series, logged) = app.db.metric_series(run.id, "loss", 500).await.unwrap();
    assert_eq!(logged, 100_000);
    assert!(series.len() <= 1002, "{} points drawn", series.len());
    assert!(series.contains(&(61_234, 1e6)), "the spike keeps its height and step");
    assert!(series.contains(&(7_000, -5e5)), "the dip keeps its depth and step");
    assert!(series.windows(2).all(|pair| pair[0].0 <= pair[1].0), "steps stay in order");
    assert_eq!(series.first().map(|point| point.0), Some(0));
    assert_eq!(series.last().map(|point| point.0), Some(99_999));

    let (short, logged) = app.db.metric_series(run.id, "missing", 500).await.unwrap();
    assert_eq!((short.len(), logged), (0, 0));
}
on_both_databases!(long_metric_series_keeps_peaks_on, long_metric_series_keeps_peaks);

async fn metric_rows_move_to_blocks(app: &TestApp) {
    let user_id = app.create_user("owner", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("team", "Team", user_id).await.unwrap();
    let project_id = app.db.create_experiment(workspace_id, "old", &[]).await.unwrap();
    let project = app.db.experiment(workspace_id, project_id).await.unwrap().unwrap();
    let first = app.db.create_run(&project, "first", "owner", Some(0), &[]).await.unwrap();
    let second = app.db.create_run(&project, "second", "owner", Some(0), &[]).await.unwrap();
    // Rows as versions before packed blocks stored them: one per point, NaN as is_nan = 1.
    // 120,005 rows take three passes of 50,000.
    let mut rows: Vec<(i64, &str, f64, i64, i64, i64)> =
        vec![(first.id, "loss", 0.5, 0, 10, 0), (first.id, "loss", 0.0, 1, 11, 1), (second.id, "acc", 0.9, 0, 10, 0)];
    rows.extend((0..120_000).map(|step| (second.id, "lr", step as f64 / 10.0, 0, 20, step)));
    rows.push((first.id, "loss", 0.25, 0, 12, 2));
    rows.push((first.id, "loss", 0.125, 0, 13, 3));
    for chunk in rows.chunks(5_000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(run, key, value, is_nan, timestamp, step)| format!("({run}, '{key}', {value:?}, {is_nan}, {timestamp}, {step})"))
            .collect();
        let sql = format!("INSERT INTO metrics (run_id, key, value, is_nan, timestamp_ms, step) VALUES {}", values.join(", "));
        sqlx::query(&sql).execute(&app.db.pool).await.unwrap();
    }

    let moved = app.db.move_metric_rows_to_blocks().await.unwrap();

    assert_eq!(moved, 120_005);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metrics").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(left, 0);
    let loss = app.db.metric_history(first.id, "loss", 100, 0).await.unwrap();
    let steps: Vec<i64> = loss.iter().map(|point| point.step).collect();
    assert_eq!(steps, [0, 1, 2, 3]);
    assert_eq!(loss[0].value, 0.5);
    assert!(loss[1].value.is_nan(), "{:?}", loss[1]);
    assert_eq!((loss[3].value, loss[3].timestamp_ms), (0.125, 13));
    let lr = app.db.metric_points(second.id, "lr").await.unwrap();
    assert_eq!(lr.len(), 120_000);
    assert_eq!((lr[99_999].step, lr[99_999].value), (99_999, 9_999.9));
    let acc = app.db.metric_history(second.id, "acc", 10, 0).await.unwrap();
    assert_eq!(acc.len(), 1);
    assert_eq!(app.db.move_metric_rows_to_blocks().await.unwrap(), 0, "a second start moves nothing");
}
on_both_databases!(metric_rows_move_to_blocks_on, metric_rows_move_to_blocks);

async fn concurrent_metric_writes_all_stored(app: &TestApp) {
    use orrery::tracking::MetricPoint;
    let user_id = app.create_user("owner", "long-enough-pw").await;
    let workspace_id = app.db.create_workspace("team", "Team", user_id).await.unwrap();
    let project_id = app.db.create_experiment(workspace_id, "many", &[]).await.unwrap();
    let project = app.db.experiment(workspace_id, project_id).await.unwrap().unwrap();
    let mut runs = Vec::new();
    for index in 0..3 {
        runs.push(app.db.create_run(&project, &format!("run-{index}"), "owner", Some(0), &[]).await.unwrap());
    }

    // 60 calls at once, 20 per run, each with 50 steps of two keys, so they are written in
    // groups. One more call names a run that does not exist.
    let mut calls = Vec::new();
    for call in 0..60i64 {
        let db = app.db.clone();
        let run_id = runs[(call % 3) as usize].id;
        let first_step = (call / 3) * 50;
        calls.push(tokio::spawn(async move {
            let points: Vec<MetricPoint> = (first_step..first_step + 50)
                .flat_map(|step| {
                    [
                        MetricPoint { key: "loss".into(), value: step as f64, timestamp_ms: 7, step },
                        MetricPoint { key: "acc".into(), value: -(step as f64), timestamp_ms: 7, step },
                    ]
                })
                .collect();
            db.log_batch(run_id, &points, &[], &[], &[]).await
        }));
    }
    let missing_run = {
        let db = app.db.clone();
        let point = MetricPoint { key: "loss".into(), value: 1.0, timestamp_ms: 7, step: 0 };
        tokio::spawn(async move { db.log_batch(987_654_321, &[point], &[], &[], &[]).await })
    };
    for (index, call) in calls.into_iter().enumerate() {
        call.await.unwrap().unwrap_or_else(|error| panic!("call {index} failed: {error}")).unwrap();
    }
    assert!(missing_run.await.unwrap().is_err(), "a point of a missing run is rejected");

    for run in &runs {
        let loss = app.db.metric_points(run.id, "loss").await.unwrap();
        let steps: Vec<i64> = loss.iter().map(|point| point.step).collect();
        assert_eq!(steps, (0..1000).collect::<Vec<_>>(), "run {}", run.name);
        let acc = app.db.metric_points(run.id, "acc").await.unwrap();
        assert_eq!(acc.len(), 1000);
        assert_eq!(acc[999].value, -999.0);
    }
    let details = app.db.run_details(runs.clone()).await.unwrap();
    for detail in &details {
        let latest: Vec<(&str, i64, f64)> = detail.metrics.iter().map(|point| (point.key.as_str(), point.step, point.value)).collect();
        assert_eq!(latest, [("acc", 999, -999.0), ("loss", 999, 999.0)], "run {}", detail.run.name);
    }
}
on_both_databases!(concurrent_metric_writes_all_stored_on, concurrent_metric_writes_all_stored);
