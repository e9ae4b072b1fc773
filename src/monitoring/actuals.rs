//! Delayed actuals: a file or request of (prediction id, actual) pairs sent after the
//! predictions. Each actual is written into the production rows with that id, and their days'
//! summaries are derived again, so the performance pages include it however late it comes.
//! Actuals whose predictions are not stored yet are kept and joined when those arrive.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::actuals::{ActualColumn, Summarize};
use crate::db::Db;
use crate::ingest::{cell_id, cell_value, IngestError, RecordReader};
use crate::monitoring::ingestion::{parse_value_json, value_json, PerformanceColumns, SkippedRow, MAX_REPORTED_ROW_ERRORS};
use crate::monitoring::performance::PerformanceSummary;
use crate::monitoring::schema::{ColumnRole, ModelSchema};
use crate::monitoring::summary::SummaryBuilder;

/// Outcome of one file or request of actuals.
#[derive(Clone, Debug, Serialize)]
pub struct ActualsOutcome {
    pub file: String,
    pub version: String,
    /// Distinct prediction ids received; a later row with the same id replaces an earlier one.
    pub received: u64,
    /// Ids that matched a stored production prediction, whose performance now counts them.
    pub matched: u64,
    /// Ids with no stored prediction yet: kept, and joined when the prediction arrives.
    pub pending: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ActualsFailure {
    #[error("{0}")]
    File(#[from] IngestError),
    #[error("model \"{model}\" has no actual column; add a column with the role actual to its schema before sending actuals")]
    NoActualColumn { model: String },
    #[error("{file} has no column \"{column}\"; it has {found}. Name the columns {id} and {actual}")]
    MissingColumn { file: String, column: String, found: String, id: String, actual: String },
    #[error("{file} has no rows; nothing was stored")]
    NoRows { file: String },
    #[error("{file} was not stored because {count} {rows} invalid{more}. The first: {first}", count = errors.len(), rows = if errors.len() == 1 { "row is" } else { "rows are" }, more = if *truncated { " (or more)" } else { "" }, first = errors.first().map(|e| e.message.clone()).unwrap_or_default())]
    BadRows { file: String, errors: Vec<SkippedRow>, truncated: bool },
    #[error("storing the actuals failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Finds the actual column of `schema`: its position and name.
fn actual_column<'a>(schema: &'a ModelSchema, model: &str) -> Result<(usize, &'a str), ActualsFailure> {
    schema
        .columns
        .iter()
        .position(|column| column.role == ColumnRole::Actual)
        .map(|index| (index, schema.columns[index].name.as_str()))
        .ok_or_else(|| ActualsFailure::NoActualColumn { model: model.to_string() })
}

/// Reads (prediction id, actual) pairs from a file whose columns are the schema's id column
/// (or `id`) and its actual column (or `actual`). Every bad row is reported, up to
/// [`MAX_REPORTED_ROW_ERRORS`], and any bad row fails the whole file.
fn read_actuals(
    mut reader: Box<dyn RecordReader + Send>,
    schema: &ModelSchema,
    actual_index: usize,
) -> Result<BTreeMap<String, serde_json::Value>, ActualsFailure> {
    let file = reader.file_name().to_string();
    let actual_spec = &schema.columns[actual_index];
    let columns = reader.columns().to_vec();
    let find = |preferred: &str, fallback: &str| {
        columns.iter().position(|name| name == preferred).or_else(|| columns.iter().position(|name| name == fallback))
    };
    let missing = |column: &str| ActualsFailure::MissingColumn {
        file: file.clone(),
        column: column.to_string(),
        found: columns.join(", "),
        id: schema.id_column.clone(),
        actual: actual_spec.name.clone(),
    };
    let id_index = find(&schema.id_column, "id").ok_or_else(|| missing(&schema.id_column))?;
    let value_index = find(&actual_spec.name, "actual").ok_or_else(|| missing(&actual_spec.name))?;

    let mut actuals = BTreeMap::new();
    let mut errors = Vec::new();
    let error = |row: u64, column: &str, value: String, message: String| SkippedRow {
        message: format!("row {row}, column \"{column}\": {message}"),
        row,
        column: column.to_string(),
        value,
    };
    while let Some(row) = reader.next_row() {
        if errors.len() >= MAX_REPORTED_ROW_ERRORS {
            break;
        }
        let row = row?;
        let cell = |index: usize| row.cells.get(index).cloned().unwrap_or(crate::ingest::Cell::Missing);
        let Some(id) = cell_id(&cell(id_index)) else {
            let message = "the prediction id is missing; fill it in or remove the row".to_string();
            errors.push(error(row.row_number, &columns[id_index], String::new(), message));
            continue;
        };
        match cell_value(actual_spec.kind, &cell(value_index)) {
            Ok(Some(value)) => {
                actuals.insert(id, value_json(&Some(value)));
            }
            Ok(None) => {
                let message = format!("the actual of prediction \"{id}\" is missing; send it once it is known");
                errors.push(error(row.row_number, &columns[value_index], String::new(), message));
            }
            Err(message) => {
                errors.push(error(row.row_number, &columns[value_index], format!("{:?}", cell(value_index)), message));
            }
        }
    }
    if !errors.is_empty() {
        let truncated = errors.len() >= MAX_REPORTED_ROW_ERRORS;
        return Err(ActualsFailure::BadRows { file, errors, truncated });
    }
    if actuals.is_empty() {
        return Err(ActualsFailure::NoRows { file });
    }
    Ok(actuals)
}

/// Builds the function that summarises one ingestion-day's rows again: the actual column's
/// counts and the performance counts, as the ingestion pipeline computes them.
fn summarizer(schema: &ModelSchema, actual_index: usize) -> impl Fn(&[Vec<serde_json::Value>]) -> (String, String) + Send + Sync + '_ {
    let performance_columns = PerformanceColumns::of(schema);
    move |rows: &[Vec<serde_json::Value>]| {
        let mut column = SummaryBuilder::default();
        let mut performance = PerformanceSummary::default();
        for row in rows {
            let values: Vec<_> = schema
                .columns
                .iter()
                .enumerate()
                .map(|(index, spec)| row.get(index).and_then(|value| parse_value_json(value, spec.kind)))
                .collect();
            match &values[actual_index] {
                None => column.add_missing(),
                Some(crate::ingest::ColumnValue::Number(number)) => column.add_number(*number),
                Some(crate::ingest::ColumnValue::Category(category)) => column.add_category(category),
            }
            if let Some(columns) = &performance_columns {
                columns.add(&mut performance, &values);
            }
        }
        let column_json = serde_json::to_string(&column.finish_bounded()).expect("summaries always serialize");
        let performance_json = serde_json::to_string(&performance).expect("summaries always serialize");
        (column_json, performance_json)
    }
}

/// Stores the actuals a reader yields for `version` of a model and folds them into the
/// performance of the predictions they name.
pub async fn ingest_actuals(
    db: &Db,
    model_name: &str,
    schema: &ModelSchema,
    model_version_id: i64,
    version: &str,
    reader: Box<dyn RecordReader + Send>,
) -> Result<ActualsOutcome, ActualsFailure> {
    let (actual_index, actual_name) = actual_column(schema, model_name)?;
    let file = reader.file_name().to_string();
    let reading_schema = schema.clone();
    let actuals = tokio::task::spawn_blocking(move || read_actuals(reader, &reading_schema, actual_index))
        .await
        .map_err(|error| IngestError::Io { file: file.clone(), source: std::io::Error::other(error.to_string()) })??;

    let column = ActualColumn { name: actual_name, index: actual_index };
    let summarize = summarizer(schema, actual_index);
    let matched = db.store_actuals(model_version_id, &column, &actuals, &summarize).await?;
    let received = actuals.len() as u64;
    tracing::info!(model_version = model_version_id, received, matched, "actuals stored");
    Ok(ActualsOutcome { file, version: version.to_string(), received, matched, pending: received - matched })
}

/// The actual column and the summariser that the ingestion pipeline needs to join earlier
/// actuals with new production rows, for schemas that have an actual column.
pub struct ActualsJoiner<'a> {
    column: ActualColumn<'a>,
    summarize: Box<dyn Fn(&[Vec<serde_json::Value>]) -> (String, String) + Send + Sync + 'a>,
}

impl<'a> ActualsJoiner<'a> {
    pub fn of(schema: &'a ModelSchema) -> Option<ActualsJoiner<'a>> {
        let index = schema.columns.iter().position(|column| column.role == ColumnRole::Actual)?;
        Some(ActualsJoiner {
            column: ActualColumn { name: &schema.columns[index].name, index },
            summarize: Box::new(summarizer(schema, index)),
        })
    }

    pub fn parts(&self) -> (&ActualColumn<'a>, Summarize<'_>) {
        (&self.column, self.summarize.as_ref())
    }
}
