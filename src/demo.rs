//! The demo workspace: a `demo` user and two models on real public data, loaded once.
//!
//! Data files (shipped in `demo-data/`, see its README for sources and licenses):
//! - US Census ACS PUMS employment, Massachusetts (via the nannyml package): 2015 is the
//!   training baseline, 2016 to 2018 are production.
//! - NYC flights 2013 (US BTS, via the nycflights13 R package): January to March is the
//!   training baseline, April to December is production.

use std::collections::HashSet;

use bytes::Bytes;

use crate::accounts::tokens::random_secret;
use crate::db::Db;
use crate::ingest::{open_bytes, Cell, IngestError, RawRow, RecordReader};
use crate::monitoring::ingestion::{ingest, IngestRequest};
use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use crate::types::Environment;

static CENSUS: &[u8] = include_bytes!("../demo-data/us_census_ma_employment.parquet");
static FLIGHTS: &[u8] = include_bytes!("../demo-data/nycflights13_flights.parquet");

pub const DEMO_USER: &str = "demo";
pub const DEMO_WORKSPACE: &str = "demo";
pub const CENSUS_MODEL: &str = "us-census-employment";
pub const FLIGHTS_MODEL: &str = "nyc-flights-delay";

fn columns(kind: ColumnKind, role: ColumnRole, names: &[&str]) -> Vec<ColumnSpec> {
    names.iter().map(|name| ColumnSpec { name: name.to_string(), kind, role }).collect()
}

pub fn census_schema() -> ModelSchema {
    let mut specs = columns(ColumnKind::Numeric, ColumnRole::Feature, &["AGEP"]);
    specs.extend(columns(
        ColumnKind::Categorical,
        ColumnRole::Feature,
        &["SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"],
    ));
    specs.extend(columns(ColumnKind::Categorical, ColumnRole::Prediction, &["prediction"]));
    specs.extend(columns(ColumnKind::Numeric, ColumnRole::PredictionScore, &["predicted_probability"]));
    specs.extend(columns(ColumnKind::Categorical, ColumnRole::Actual, &["employed"]));
    ModelSchema { id_column: "id".into(), timestamp_column: "year".into(), columns: specs }
}

pub fn flights_schema() -> ModelSchema {
    let mut specs = columns(
        ColumnKind::Numeric,
        ColumnRole::Feature,
        &["dep_delay", "distance", "sched_dep_time", "sched_arr_time", "hour"],
    );
    specs.extend(columns(ColumnKind::Categorical, ColumnRole::Feature, &["carrier", "origin", "dest"]));
    specs.extend(columns(ColumnKind::Categorical, ColumnRole::Prediction, &["y_pred"]));
    specs.extend(columns(ColumnKind::Numeric, ColumnRole::PredictionScore, &["y_pred_proba"]));
    specs.extend(columns(ColumnKind::Categorical, ColumnRole::Actual, &["delayed"]));
    ModelSchema { id_column: "id".into(), timestamp_column: "time_hour".into(), columns: specs }
}

/// A reader that passes on only the rows whose integer column `column` is in `keep`.
pub struct FilteredReader {
    inner: Box<dyn RecordReader + Send>,
    column_index: usize,
    keep: HashSet<i64>,
}

impl FilteredReader {
    pub fn new(inner: Box<dyn RecordReader + Send>, column: &str, keep: &[i64]) -> anyhow::Result<FilteredReader> {
        let Some(column_index) = inner.columns().iter().position(|name| name == column) else {
            anyhow::bail!("{} has no column \"{column}\" to filter on", inner.file_name());
        };
        Ok(FilteredReader { inner, column_index, keep: keep.iter().copied().collect() })
    }
}

impl RecordReader for FilteredReader {
    fn file_name(&self) -> &str {
        self.inner.file_name()
    }

    fn columns(&self) -> &[String] {
        self.inner.columns()
    }

    fn next_row(&mut self) -> Option<Result<RawRow, IngestError>> {
        loop {
            let row = match self.inner.next_row()? {
                Ok(row) => row,
                Err(error) => return Some(Err(error)),
            };
            let value = match row.cells.get(self.column_index) {
                Some(Cell::Integer(value)) => Some(*value),
                Some(Cell::Number(value)) => Some(*value as i64),
                _ => None,
            };
            if value.map(|value| self.keep.contains(&value)).unwrap_or(false) {
                return Some(Ok(row));
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.inner.bytes_read()
    }

    fn total_bytes(&self) -> Option<u64> {
        self.inner.total_bytes()
    }

    fn select_columns(&mut self, indices: &[usize]) {
        let mut indices = indices.to_vec();
        if !indices.contains(&self.column_index) {
            indices.push(self.column_index);
        }
        self.inner.select_columns(&indices);
    }
}

/// One slice of a demo file to ingest.
pub struct DemoSlice {
    pub model: &'static str,
    pub file_name: &'static str,
    pub data: &'static [u8],
    pub filter_column: &'static str,
    pub keep: Vec<i64>,
    pub environment: Environment,
}

pub fn census_slices(production_years: &[i64]) -> Vec<DemoSlice> {
    vec![
        DemoSlice {
            model: CENSUS_MODEL,
            file_name: "us_census_ma_employment.parquet",
            data: CENSUS,
            filter_column: "year",
            keep: vec![2015],
            environment: Environment::Training,
        },
        DemoSlice {
            model: CENSUS_MODEL,
            file_name: "us_census_ma_employment.parquet",
            data: CENSUS,
            filter_column: "year",
            keep: production_years.to_vec(),
            environment: Environment::Production,
        },
    ]
}

fn flights_slices() -> Vec<DemoSlice> {
    vec![
        DemoSlice {
            model: FLIGHTS_MODEL,
            file_name: "nycflights13_flights.parquet",
            data: FLIGHTS,
            filter_column: "month",
            keep: vec![1, 2, 3],
            environment: Environment::Training,
        },
        DemoSlice {
            model: FLIGHTS_MODEL,
            file_name: "nycflights13_flights.parquet",
            data: FLIGHTS,
            filter_column: "month",
            keep: (4..=12).collect(),
            environment: Environment::Production,
        },
    ]
}

/// Ingests `slice` as version v1 of its model in the workspace.
pub async fn load_slice(db: &Db, workspace_id: i64, slice: &DemoSlice, user_id: Option<i64>) -> anyhow::Result<u64> {
    let model = db
        .model(workspace_id, slice.model)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo model {} is missing", slice.model))?;
    let reader = open_bytes(slice.file_name, Bytes::from_static(slice.data))?;
    let reader = Box::new(FilteredReader::new(reader, slice.filter_column, &slice.keep)?);
    let request = IngestRequest {
        model_id: model.id,
        schema: model.schema,
        version: "v1".into(),
        environment: slice.environment,
        source: "demo".into(),
        skip_bad_rows: false,
        user_id,
        idempotency_key: None,
    };
    let outcome = ingest(db, &request, reader).await?;
    Ok(outcome.rows_ingested)
}

/// Creates the demo user, workspace and models and loads their data, unless the demo user
/// already exists. The password comes from `password` or is generated, and is logged.
pub async fn ensure_demo(db: &Db, password: Option<&str>) -> anyhow::Result<()> {
    if db.user_by_name(DEMO_USER).await?.is_some() {
        tracing::info!(user = DEMO_USER, "demo already loaded");
        return Ok(());
    }

    let password = password.map(str::to_string).unwrap_or_else(|| random_secret()[..16].to_string());
    let user_id = crate::server::forms::create_user_account(db, DEMO_USER, &password, false)
        .await
        .map_err(|message| anyhow::anyhow!(message))?;
    let workspace_id = db.create_workspace(DEMO_WORKSPACE, "Demo", user_id).await?;
    db.set_default_workspace(user_id, workspace_id).await?;
    db.create_model(workspace_id, CENSUS_MODEL, "Employment classifier on US Census ACS data for Massachusetts (NannyML)", &census_schema()).await?;
    db.create_model(workspace_id, FLIGHTS_MODEL, "Arrival delay over 15 minutes for NYC departures in 2013", &flights_schema()).await?;

    let mut slices = census_slices(&[2016, 2017, 2018]);
    slices.extend(flights_slices());
    for slice in &slices {
        let rows = load_slice(db, workspace_id, slice, Some(user_id)).await?;
        tracing::info!(model = slice.model, environment = slice.environment.as_str(), rows, "demo data loaded");
    }

    // The password is printed on purpose: it is the demo account's only way in.
    tracing::info!(user = DEMO_USER, password = %password, "demo ready: log in with this user and password");
    Ok(())
}
