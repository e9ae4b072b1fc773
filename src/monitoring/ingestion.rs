//! The ingestion pipeline: rows from a file reader are validated against the model schema,
//! stored in batches, and summarised per day and column.
//!
//! Reading and validation run on a blocking thread and hand batches to the database writer
//! through a bounded channel, so memory stays flat however large the file is. An ingestion is
//! all or nothing: a bad row fails the whole file unless the caller asked to skip bad rows.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::db::records::{BucketSummaries, IngestionTarget, StoredRecord};
use crate::db::Db;
use crate::ingest::{validate_rows, ColumnValue, IngestError, RecordReader, RowError, ValidRecord};
use crate::monitoring::performance::PerformanceSummary;
use crate::monitoring::schema::{ColumnKind, ColumnRole, ModelSchema};
use crate::monitoring::summary::SummaryBuilder;
use crate::types::Environment;

const DAY_MS: i64 = 86_400_000;
/// Rows handed to the writer at a time.
const BATCH_ROWS: usize = 2_000;
/// Batches that may wait in the channel; bounds memory to about this many times BATCH_ROWS.
const CHANNEL_BATCHES: usize = 4;
/// Row errors reported back; reading stops once this many are found and rows are not skipped.
pub const MAX_REPORTED_ROW_ERRORS: usize = 50;

#[derive(Clone, Debug)]
pub struct IngestRequest {
    pub model_id: i64,
    pub schema: ModelSchema,
    pub version: String,
    pub environment: Environment,
    pub source: String,
    pub skip_bad_rows: bool,
    pub user_id: Option<i64>,
    /// A client-chosen key; a second ingestion with the same key is rejected.
    pub idempotency_key: Option<String>,
}

/// Outcome of a finished ingestion.
#[derive(Clone, Debug, Serialize)]
pub struct IngestOutcome {
    pub ingestion_id: i64,
    pub file: String,
    pub version: String,
    pub environment: Environment,
    pub rows_ingested: u64,
    pub rows_skipped: u64,
    /// The first skipped rows with the reason each was skipped.
    pub skipped: Vec<SkippedRow>,
    /// True when this responds to a retry: an earlier request with the same idempotency key
    /// stored the rows, and nothing was stored again.
    pub replayed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SkippedRow {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl From<&RowError> for SkippedRow {
    fn from(error: &RowError) -> SkippedRow {
        SkippedRow {
            row: error.row,
            column: error.column.clone(),
            value: error.value.clone(),
            message: error.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestFailure {
    #[error("{0}")]
    File(#[from] IngestError),
    #[error("{file} was not ingested because {count} {rows} invalid{more}. The first: {first} Fix the rows, or upload again with skip_bad_rows to store the good rows and list the bad ones.", count = errors.len(), rows = if errors.len() == 1 { "row is" } else { "rows are" }, more = if *truncated { " (or more)" } else { "" }, first = errors.first().map(|e| e.message.clone()).unwrap_or_default())]
    BadRows { file: String, errors: Vec<SkippedRow>, truncated: bool },
    #[error("{file} has no data rows; nothing was stored")]
    NoRows { file: String },
    #[error("another request with idempotency key \"{key}\" is being ingested; retry when it has finished")]
    KeyInUse { key: String },
    #[error("storing the rows failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Message from the reading thread to the writer.
enum Message {
    Batch(Vec<StoredRecord>),
    /// Reading finished: summaries, rows read and skipped, and the first row errors.
    Done {
        summaries: BucketSummaries,
        performance: BTreeMap<i64, PerformanceSummary>,
        rows: u64,
        skipped: u64,
        errors: Vec<SkippedRow>,
        failed: bool,
    },
    Failed(IngestError),
}

/// Reads every row of `reader` into `request`'s model version and environment.
pub async fn ingest(
    db: &Db,
    request: &IngestRequest,
    reader: Box<dyn RecordReader + Send>,
) -> Result<IngestOutcome, IngestFailure> {
    let file = reader.file_name().to_string();
    let rows = validate_rows(reader, &request.schema)?;

    let version_id = db.ensure_version(request.model_id, &request.version).await?;
    let target = db
        .begin_ingestion(version_id, request.environment, &request.source, &file, request.user_id, request.idempotency_key.as_deref())
        .await
        .map_err(|error| {
            if crate::db::is_unique_violation(&error) {
                IngestFailure::KeyInUse { key: request.idempotency_key.clone().unwrap_or_default() }
            } else {
                IngestFailure::Database(error)
            }
        })?;
    tracing::info!(ingestion = target.ingestion_id, file = %file, version = %request.version, environment = request.environment.as_str(), "ingestion started");

    let (sender, receiver) = mpsc::channel(CHANNEL_BATCHES);
    let schema = request.schema.clone();
    let skip_bad_rows = request.skip_bad_rows;
    let reading = tokio::task::spawn_blocking(move || read_rows(rows, &schema, skip_bad_rows, sender));

    let result = write_rows(db, &target, receiver).await;
    // The reader ends on its own once the channel closes.
    let _ = reading.await;

    match result {
        Ok((summaries, performance, rows, skipped, errors)) => {
            if rows == 0 {
                db.fail_ingestion(target.ingestion_id).await?;
                return Err(IngestFailure::NoRows { file });
            }
            let joiner = crate::monitoring::actuals::ActualsJoiner::of(&request.schema);
            let joined = db.complete_ingestion(&target, rows, skipped, &summaries, &performance, joiner.as_ref().map(|joiner| joiner.parts())).await?;
            tracing::info!(ingestion = target.ingestion_id, rows, skipped, joined_actuals = joined, "ingestion complete");
            Ok(IngestOutcome {
                ingestion_id: target.ingestion_id,
                file,
                version: request.version.clone(),
                environment: request.environment,
                rows_ingested: rows,
                rows_skipped: skipped,
                skipped: errors,
                replayed: false,
            })
        }
        Err(failure) => {
            tracing::warn!(ingestion = target.ingestion_id, error = %failure, "ingestion failed, rows removed");
            if let Err(error) = db.fail_ingestion(target.ingestion_id).await {
                tracing::error!(ingestion = target.ingestion_id, %error, "removing the rows of a failed ingestion failed");
            }
            Err(match failure {
                IngestFailure::BadRows { errors, truncated, .. } => IngestFailure::BadRows { file, errors, truncated },
                other => other,
            })
        }
    }
}

type WriteResult = (BucketSummaries, BTreeMap<i64, PerformanceSummary>, u64, u64, Vec<SkippedRow>);

async fn write_rows(
    db: &Db,
    target: &IngestionTarget,
    mut receiver: mpsc::Receiver<Message>,
) -> Result<WriteResult, IngestFailure> {
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Batch(batch) => db.insert_records(target, &batch).await?,
            Message::Done { summaries, performance, rows, skipped, errors, failed } => {
                if failed {
                    let truncated = errors.len() >= MAX_REPORTED_ROW_ERRORS;
                    return Err(IngestFailure::BadRows { file: String::new(), errors, truncated });
                }
                return Ok((summaries, performance, rows, skipped, errors));
            }
            Message::Failed(error) => return Err(IngestFailure::File(error)),
        }
    }
    Err(IngestFailure::File(IngestError::Io {
        file: String::new(),
        source: std::io::Error::other("the file reader stopped unexpectedly"),
    }))
}

/// Runs on a blocking thread: validates rows, batches them and builds the summaries.
fn read_rows(
    rows: impl Iterator<Item = Result<ValidRecord, IngestError>>,
    schema: &ModelSchema,
    skip_bad_rows: bool,
    sender: mpsc::Sender<Message>,
) {
    let mut builders: BTreeMap<(i64, usize), SummaryBuilder> = BTreeMap::new();
    let mut performance: BTreeMap<i64, PerformanceSummary> = BTreeMap::new();
    let roles = PerformanceColumns::of(schema);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut stored = 0u64;
    let mut skipped = 0u64;
    let mut errors: Vec<SkippedRow> = Vec::new();

    for row in rows {
        let record = match row {
            Ok(record) => record,
            Err(IngestError::Row { error, .. }) => {
                skipped += 1;
                if errors.len() < MAX_REPORTED_ROW_ERRORS {
                    errors.push(SkippedRow::from(&error));
                }
                if !skip_bad_rows && errors.len() >= MAX_REPORTED_ROW_ERRORS {
                    break;
                }
                continue;
            }
            Err(error) => {
                let _ = sender.blocking_send(Message::Failed(error));
                return;
            }
        };
        if !skip_bad_rows && !errors.is_empty() {
            // The file will fail; keep reading only to report more bad rows.
            continue;
        }

        let day = record.timestamp_ms.div_euclid(DAY_MS) * DAY_MS;
        for (index, value) in record.values.iter().enumerate() {
            builders.entry((day, index)).or_default().add_value(value.as_ref());
        }
        if let Some(roles) = &roles {
            roles.add(performance.entry(day).or_default(), &record.values);
        }
        batch.push(StoredRecord {
            record_id: record.record_id.clone(),
            timestamp_ms: record.timestamp_ms,
            values_json: values_json(&record.values),
        });
        stored += 1;
        if batch.len() >= BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            if sender.blocking_send(Message::Batch(full)).is_err() {
                return;
            }
        }
    }

    let failed = !skip_bad_rows && !errors.is_empty();
    if !failed && !batch.is_empty() && sender.blocking_send(Message::Batch(batch)).is_err() {
        return;
    }
    let summaries = builders
        .into_iter()
        .map(|((day, index), builder)| ((day, schema.columns[index].name.clone()), builder.finish_bounded()))
        .collect();
    let _ = sender.blocking_send(Message::Done { summaries, performance, rows: stored, skipped, errors, failed });
}

/// Positions of the prediction, score and actual among the schema's columns.
pub(crate) struct PerformanceColumns {
    prediction: usize,
    pub(crate) actual: usize,
    score: Option<usize>,
    regression: bool,
}

impl PerformanceColumns {
    /// Returns `None` unless the schema has both a prediction and an actual.
    pub(crate) fn of(schema: &ModelSchema) -> Option<PerformanceColumns> {
        let position = |role: ColumnRole| schema.columns.iter().position(|column| column.role == role);
        let prediction = position(ColumnRole::Prediction)?;
        Some(PerformanceColumns {
            prediction,
            actual: position(ColumnRole::Actual)?,
            score: position(ColumnRole::PredictionScore),
            regression: schema.columns[prediction].kind == ColumnKind::Numeric,
        })
    }

    /// Adds one row; rows missing the prediction or the actual add nothing.
    pub(crate) fn add(&self, summary: &mut PerformanceSummary, values: &[Option<ColumnValue>]) {
        let (Some(prediction), Some(actual)) = (&values[self.prediction], &values[self.actual]) else {
            return;
        };
        if self.regression {
            if let (ColumnValue::Number(prediction), ColumnValue::Number(actual)) = (prediction, actual) {
                summary.add_regression(*actual, *prediction);
            }
            return;
        }
        let label = |value: &ColumnValue| match value {
            ColumnValue::Category(label) => label.clone(),
            ColumnValue::Number(number) => number.to_string(),
        };
        let actual = label(actual);
        summary.add_classification(&actual, &label(prediction));
        if let Some(Some(ColumnValue::Number(score))) = self.score.map(|index| &values[index]) {
            summary.add_score(*score, &actual);
        }
    }
}

/// Encodes values as a JSON array, each as [`value_json`] encodes it.
fn values_json(values: &[Option<ColumnValue>]) -> String {
    serde_json::Value::Array(values.iter().map(value_json).collect()).to_string()
}

/// Encodes one value for `records.values_json`: infinities become the strings "inf" and
/// "-inf" because JSON has no such numbers, and a missing value becomes null.
pub(crate) fn value_json(value: &Option<ColumnValue>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(ColumnValue::Number(number)) if number.is_finite() => serde_json::json!(number),
        Some(ColumnValue::Number(number)) => {
            serde_json::Value::String(if *number > 0.0 { "inf" } else { "-inf" }.to_string())
        }
        Some(ColumnValue::Category(category)) => serde_json::Value::String(category.clone()),
    }
}

/// Decodes one value written by [`value_json`] for a column of `kind`.
pub(crate) fn parse_value_json(value: &serde_json::Value, kind: ColumnKind) -> Option<ColumnValue> {
    match (value, kind) {
        (serde_json::Value::Null, _) => None,
        (serde_json::Value::Number(number), ColumnKind::Numeric) => number.as_f64().map(ColumnValue::Number),
        (serde_json::Value::String(text), ColumnKind::Numeric) => match text.as_str() {
            "inf" => Some(ColumnValue::Number(f64::INFINITY)),
            "-inf" => Some(ColumnValue::Number(f64::NEG_INFINITY)),
            other => other.parse().ok().map(ColumnValue::Number),
        },
        (serde_json::Value::String(text), ColumnKind::Categorical) => Some(ColumnValue::Category(text.clone())),
        (other, ColumnKind::Categorical) => Some(ColumnValue::Category(other.to_string())),
        (_, ColumnKind::Numeric) => None,
    }
}
