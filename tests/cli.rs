//! The `orrery` binary as a CI pipeline uses it: create a user and a token without a
//! browser, then stream a file to a running server with `orrery ingest`.

#![cfg(feature = "ssr")]

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use orrery::db::Db;
use orrery::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use orrery::server::config::ServerConfig;
use orrery::server::{router, AppState};

fn orrery(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orrery"))
        .args(args)
        .env("ORRERY_DATA_DIR", data_dir)
        .env_remove("ORRERY_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the orrery binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_then_ingest_file() {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path();

    let created = orrery(dir, &["user", "create", "--username", "ci-bot", "--password-stdin"], "a-long-password\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token_output = orrery(dir, &["token", "create", "--user", "ci-bot", "--name", "pipeline"], "");
    assert!(token_output.status.success(), "{}", String::from_utf8_lossy(&token_output.stderr));
    let stdout = String::from_utf8(token_output.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("orr_"), "last line is the token: {stdout:?}");
    assert_eq!(token.len(), 68, "last line is the token: {stdout:?}");

    let config = ServerConfig::for_data_dir(dir.to_path_buf(), None);
    let db = Db::connect(None, dir).await.unwrap();
    let user = db.user_by_name("ci-bot").await.unwrap().unwrap();
    let workspace_id = db.create_workspace("ml", "ML", user.id).await.unwrap();
    let schema = ModelSchema {
        id_column: "id".into(),
        timestamp_column: "ts".into(),
        columns: vec![ColumnSpec::new("score", ColumnKind::Numeric, ColumnRole::Feature)],
    };
    db.create_model(workspace_id, "ranker", "", &schema).await.unwrap();
    let state = AppState::new(db.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });

    let csv_path = dir.join("scores.csv");
    let mut csv = String::from("id,ts,score\n");
    for row in 0..2_500 {
        csv.push_str(&format!("{row},2024-03-{:02},{}\n", 1 + row % 28, row as f64 / 10.0));
    }
    std::fs::write(&csv_path, csv).unwrap();
    let server_url = format!("http://{address}");
    let csv_arg = csv_path.to_str().unwrap().to_string();
    let ingest_args = [
        "ingest", "--server", &server_url, "--token", &token, "--workspace", "ml", "--model", "ranker",
        "--version", "v2", "--environment", "production", &csv_arg,
    ];
    let ingest_dir = dir.to_path_buf();
    let args: Vec<String> = ingest_args.iter().map(|arg| arg.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        orrery(&ingest_dir, &args, "")
    })
    .await
    .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("ingested 2500 rows"), "{stdout}");
    let model = db.model(workspace_id, "ranker").await.unwrap().unwrap();
    assert_eq!(db.versions(model.id).await.unwrap()[0].production_rows, 2_500);

    let wrong_token = [
        "ingest", "--server", &server_url, "--token", "orr_not-a-token", "--workspace", "ml", "--model", "ranker",
        "--version", "v2", "--environment", "production", &csv_arg,
    ];
    let args: Vec<String> = wrong_token.iter().map(|arg| arg.to_string()).collect();
    let ingest_dir = dir.to_path_buf();
    let rejected = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        orrery(&ingest_dir, &args, "")
    })
    .await
    .unwrap();
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("API token is invalid"), "{stderr}");
    server.abort();
}

#[test]
fn user_create_rejects_short_password() {
    let data_dir = tempfile::tempdir().unwrap();

    let output = orrery(data_dir.path(), &["user", "create", "--username", "eve", "--password-stdin"], "short\n");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 8 characters"));
}

/// Writes the census rows of `year` as CSV, from the demo Parquet file.
fn census_year_csv(path: &std::path::Path, year: i64) {
    use orrery::ingest::{open_path, Cell, RecordReader};
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/us_census_ma_employment.parquet");
    let reader = open_path(&source).unwrap();
    let mut reader = orrery::demo::FilteredReader::new(reader, "year", &[year]).unwrap();
    let mut csv = reader.columns().join(",") + "\n";
    while let Some(row) = reader.next_row() {
        let cells: Vec<String> = row
            .unwrap()
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Missing => String::new(),
                Cell::Number(value) => value.to_string(),
                Cell::Integer(value) => value.to_string(),
                Cell::Text(text) => text.clone(),
                Cell::Boolean(value) => value.to_string(),
                Cell::Timestamp(value) => value.to_string(),
            })
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn drift_command_matches_golden() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("census_2015.csv");
    let current = dir.path().join("census_2018.csv");
    census_year_csv(&reference, 2015);
    census_year_csv(&current, 2018);
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/golden/golden_us_census_ma_employment_2015_vs_2018.json")).unwrap();
    let list = |key: &str| {
        golden["meta"][key].as_array().unwrap().iter().map(|name| name.as_str().unwrap()).collect::<Vec<_>>().join(",")
    };

    let output = orrery(
        dir.path(),
        &[
            "drift", "--reference", reference.to_str().unwrap(), "--current", current.to_str().unwrap(),
            "--numerical", &list("numerical"), "--categorical", &list("categorical"), "--format", "json",
        ],
        "",
    );

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["reference_rows"], 68_785);
    assert_eq!(report["current_rows"], 70_131);
    assert_eq!(report["dataset_drift"], false);
    for column in report["columns"].as_array().unwrap() {
        let name = column["column"].as_str().unwrap();
        let expected = &golden["columns"][name];
        let value = column["value"].as_f64().unwrap();
        let golden_value = expected["default"]["scipy_value"].as_f64().unwrap();
        assert!((value - golden_value).abs() <= 1e-9 * golden_value.abs(), "{name}: {value} vs {golden_value}");
        for statistic in column["statistics"].as_array().unwrap() {
            let method = statistic["method"].as_str().unwrap();
            let golden_stat = &expected["stats"][method];
            // A p-value within 1e-6 relative or 1e-12 absolute; a distance within 1e-9 relative.
            let (actual, wanted, relative, absolute) = match golden_stat["p_value"].as_f64() {
                Some(p) => (statistic["p_value"].as_f64().unwrap(), p, 1e-6, 1e-12),
                None => (statistic["value"].as_f64().unwrap(), golden_stat["value"].as_f64().unwrap(), 1e-9, 0.0),
            };
            let allowed = (relative * wanted.abs()).max(absolute);
            assert!((actual - wanted).abs() <= allowed, "{name} {method}: {actual} vs golden {wanted}");
        }
    }
}

#[test]
fn drift_command_names_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("a.csv");
    let current = dir.path().join("b.csv");
    std::fs::write(&reference, "x,y\n1,a\n2,b\n").unwrap();
    std::fs::write(&current, "x\n3\n").unwrap();

    let output = orrery(
        dir.path(),
        &["drift", "--reference", reference.to_str().unwrap(), "--current", current.to_str().unwrap(), "--categorical", "y"],
        "",
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("column \"y\" is missing from the current file"), "{stderr}");
}

#[test]
fn drift_command_adds_chunk_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    let current = dir.path().join("current.csv");
    let small = dir.path().join("small.csv");
    let ages = |values: Vec<f64>| values.iter().fold(String::from("age\n"), |text, age| text + &format!("{age}\n"));
    std::fs::write(&reference, ages((0..40).map(|i| 20.0 + f64::from(i) * 0.75).collect())).unwrap();
    std::fs::write(&current, ages((35..45).map(f64::from).collect())).unwrap();
    std::fs::write(&small, ages((30..50).map(f64::from).collect())).unwrap();
    let run = |reference: &std::path::Path, format: &str| {
        let args = ["drift", "--reference", reference.to_str().unwrap(), "--current", current.to_str().unwrap(), "--chunks", "--format", format];
        let output = orrery(dir.path(), &args, "");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };

    let report: serde_json::Value = serde_json::from_str(&run(&reference, "json")).unwrap();
    let chunks = &report["columns"][0]["chunks"];
    // 40 reference rows make 4 chunks of the current file's 10. The current value on the
    // chunk scale is K-S's D, as scipy 1.17.1 gives it:
    // ks_2samp([20 + 0.75 * i for i in range(40)], range(35, 45)).statistic == 0.5.
    assert_eq!((chunks["chunks"].as_u64(), chunks["chunk_rows"].as_u64()), (Some(4), Some(10)));
    assert_eq!(chunks["method"], "ks");
    assert_eq!(chunks["value"], 0.5);
    assert!(report["chunk_drifted_columns"].is_u64());

    let table = run(&small, "table");
    assert!(table.contains("chunk range"), "{table}");
    assert!(
        table.contains("age: no chunk-based verdict: the reference's 20 valid rows make fewer than 3 chunks of the current data's 10 rows"),
        "{table}"
    );
}

#[test]
fn drift_command_takes_method_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.csv");
    let current = dir.path().join("current.csv");
    let ages = |values: Vec<f64>| values.iter().fold(String::from("age\n"), |text, age| text + &format!("{age}\n"));
    std::fs::write(&reference, ages((0..40).map(|i| 20.0 + f64::from(i) * 0.75).collect())).unwrap();
    std::fs::write(&current, ages((35..45).map(f64::from).collect())).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["drift", "--reference", reference.to_str().unwrap(), "--current", current.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        orrery(dir.path(), &args, "")
    };

    let output = run(&["--method", "age=psi", "--threshold", "age=0.05"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let column = &report["columns"][0];
    assert_eq!(column["method"], "PSI");
    assert_eq!(column["threshold"], 0.05);
    let psi = column["statistics"].as_array().unwrap().iter().find(|result| result["method"] == "psi").unwrap();
    assert_eq!(column["value"], psi["value"], "the override's value is the PSI computed with the default threshold");

    let output = run(&["--method", "age=chisquare"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("drift_method \"chisquare\" does not apply to the numeric column \"age\""), "{stderr}");
    let output = run(&["--method", "income=psi"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--method names column \"income\", which is not compared; the compared columns are age"));
}
