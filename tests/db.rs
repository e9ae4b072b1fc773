//! Database maintenance that no request path exercises: session store round trips and
//! expiry, stale-ingestion cleanup, and old login failures, on SQLite and PostgreSQL.

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
