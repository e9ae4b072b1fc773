//! `orrery ingest`: streams a file to a running server's ingestion API with a progress bar.

use std::path::PathBuf;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::io::ReaderStream;

use crate::url::percent_encode;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Server URL.
    #[arg(long, env = "ORRERY_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// Personal API token (create one with `orrery token create` or on the API tokens page).
    #[arg(long, env = "ORRERY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Workspace slug, as in the URL /w/<slug>.
    #[arg(long)]
    pub workspace: String,
    #[arg(long)]
    pub model: String,
    /// Model version the rows belong to, such as v1; created on first use.
    #[arg(long)]
    pub version: String,
    /// training, validation or production.
    #[arg(long)]
    pub environment: String,
    /// Store the good rows and list the bad ones, instead of rejecting the whole file.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// CSV or Parquet file.
    pub file: PathBuf,
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(&args.file)
        .await
        .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", args.file.display()))?;
    let size = file.metadata().await?.len();
    let file_name = args.file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();

    let url = format!(
        "{}/api/v1/workspaces/{}/models/{}/versions/{}/environments/{}/records?skip_bad_rows={}&file_name={}",
        args.server.trim_end_matches('/'),
        percent_encode(&args.workspace),
        percent_encode(&args.model),
        percent_encode(&args.version),
        percent_encode(&args.environment),
        args.skip_bad_rows,
        percent_encode(&file_name),
    );

    check_target(&args).await?;

    let progress = ProgressBar::new(size);
    progress.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    progress.set_message(format!("uploading {file_name}"));
    let bar = progress.clone();
    let stream = ReaderStream::new(file).inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            bar.inc(bytes.len() as u64);
        }
    });

    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&args.token)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .map_err(|error| anyhow::anyhow!("could not reach {}: {error}", args.server))?;
    progress.finish_with_message(format!("uploaded {file_name}; the server is ingesting it"));

    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no message");
        let mut text = format!("ingestion failed ({status}): {message}");
        if let Some(rows) = body["details"]["rows"].as_array() {
            for row in rows.iter().take(20) {
                text.push_str(&format!("\n  {}", row["message"].as_str().unwrap_or("")));
            }
        }
        anyhow::bail!(text);
    }

    println!(
        "ingested {} rows into {} {} ({}), skipped {}",
        body["rows_ingested"], args.model, args.version, args.environment, body["rows_skipped"]
    );
    if let Some(rows) = body["skipped"].as_array() {
        for row in rows {
            println!("  skipped: {}", row["message"].as_str().unwrap_or(""));
        }
    }
    Ok(())
}

/// Checks the token, the workspace and the model with one small request before the upload.
/// A server that rejects a streamed upload closes the connection before reading the body, so
/// the client often sees a broken connection instead of the server's message.
async fn check_target(args: &IngestArgs) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/workspaces/{}/models", args.server.trim_end_matches('/'), percent_encode(&args.workspace));
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&args.token)
        .send()
        .await
        .map_err(|error| anyhow::anyhow!("could not reach {}: {error}", args.server))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("ingestion failed ({status}): {}", body["message"].as_str().unwrap_or("no message"));
    }
    let known = body["models"].as_array().is_some_and(|models| models.iter().any(|model| model["name"] == args.model.as_str()));
    if !known {
        anyhow::bail!(
            "model \"{}\" not found in workspace \"{}\"; create it on the workspace page or with the API first",
            args.model,
            args.workspace
        );
    }
    Ok(())
}
