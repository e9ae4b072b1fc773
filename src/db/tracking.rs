//! Projects (MLflow's experiments), runs, params, tags, metric series, dataset inputs and
//! logged models. Every lookup names the workspace, so ids from another workspace find
//! nothing.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::{now_ms, Db};
use crate::tracking::search::{Clause, Field, Op, OrderBy, Value};
use crate::tracking::series::{self, SeriesPoint};
use crate::tracking::{DatasetInput, Experiment, LoggedModel, MetricPoint, Run, RunDetail};

/// A value bound into a query built at run time.
#[derive(Clone, Debug)]
pub enum SqlValue {
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// Binds `values` in order to a query whose text uses `$1`, `$2`, ….
pub fn bind_all<'q>(mut query: Query<'q, Any, AnyArguments<'q>>, values: &'q [SqlValue]) -> Query<'q, Any, AnyArguments<'q>> {
    for value in values {
        query = match value {
            SqlValue::Int(number) => query.bind(*number),
            SqlValue::Float(number) => query.bind(*number),
            SqlValue::Text(text) => query.bind(text.as_str()),
            SqlValue::Bytes(bytes) => query.bind(bytes.as_slice()),
        };
    }
    query
}

/// Collects bound values and hands out their placeholders.
#[derive(Default)]
pub struct Binds {
    pub values: Vec<SqlValue>,
}

impl Binds {
    pub fn push(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }
    pub fn text(&mut self, text: &str) -> String {
        self.push(SqlValue::Text(text.to_string()))
    }
    pub fn int(&mut self, number: i64) -> String {
        self.push(SqlValue::Int(number))
    }
    /// Binds `items` and returns their parenthesized placeholder list for IN.
    pub fn list(&mut self, items: &[String]) -> String {
        let placeholders: Vec<String> = items.iter().map(|item| self.text(item)).collect();
        format!("({})", placeholders.join(", "))
    }
}

/// The lifecycle stages a search returns (MLflow's `run_view_type` and `view_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewType {
    ActiveOnly,
    DeletedOnly,
    All,
}

impl ViewType {
    pub fn parse(text: Option<&str>) -> Result<ViewType, String> {
        match text.unwrap_or("ACTIVE_ONLY") {
            "ACTIVE_ONLY" | "1" => Ok(ViewType::ActiveOnly),
            "DELETED_ONLY" | "2" => Ok(ViewType::DeletedOnly),
            "ALL" | "3" => Ok(ViewType::All),
            other => Err(format!("view type \"{other}\" is not ACTIVE_ONLY, DELETED_ONLY or ALL")),
        }
    }

    fn condition(self, column: &str) -> String {
        match self {
            ViewType::ActiveOnly => format!("{column} = 'active'"),
            ViewType::DeletedOnly => format!("{column} = 'deleted'"),
            ViewType::All => "1 = 1".to_string(),
        }
    }
}

/// A filter that names something the entity does not have.
#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A table of key/value pairs that belong to one row of another table: the tags and params
/// of experiments, runs, logged models, registered models and versions.
#[derive(Clone, Copy, Debug)]
pub struct PairTable {
    table: &'static str,
    owner: &'static str,
}

pub const EXPERIMENT_TAGS: PairTable = PairTable { table: "experiment_tags", owner: "experiment_id" };
pub const RUN_TAGS: PairTable = PairTable { table: "run_tags", owner: "run_id" };
pub const LOGGED_MODEL_TAGS: PairTable = PairTable { table: "logged_model_tags", owner: "logged_model_id" };
pub const LOGGED_MODEL_PARAMS: PairTable = PairTable { table: "logged_model_params", owner: "logged_model_id" };
pub const REGISTERED_MODEL_TAGS: PairTable = PairTable { table: "registered_model_tags", owner: "registered_model_id" };
pub const VERSION_TAGS: PairTable = PairTable { table: "registry_version_tags", owner: "registry_version_id" };

impl PairTable {
    /// Sets `key` to `value`, replacing an earlier value.
    pub async fn set<'c, E: sqlx::Executor<'c, Database = Any>>(self, executor: E, owner_id: i64, key: &str, value: &str) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "INSERT INTO {table} ({owner}, key, value) VALUES ($1, $2, $3)
             ON CONFLICT ({owner}, key) DO UPDATE SET value = excluded.value",
            table = self.table,
            owner = self.owner
        ))
        .bind(owner_id)
        .bind(key)
        .bind(value)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Deletes `key`; returns whether it existed.
    pub async fn delete<'c, E: sqlx::Executor<'c, Database = Any>>(self, executor: E, owner_id: i64, key: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(&format!("DELETE FROM {} WHERE {} = $1 AND key = $2", self.table, self.owner))
            .bind(owner_id)
            .bind(key)
            .execute(executor)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Loads all pairs of one owner, ordered by key.
    pub async fn load<'c, E: sqlx::Executor<'c, Database = Any>>(self, executor: E, owner_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(&format!("SELECT key, value FROM {} WHERE {} = $1 ORDER BY key", self.table, self.owner))
            .bind(owner_id)
            .fetch_all(executor)
            .await?;
        pairs(&rows)
    }
}

/// Parses a column that [`Db::json_rows`] filled; an empty text means no rows.
fn json_column<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, sqlx::Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|error| sqlx::Error::Decode(format!("a JSON column from the database is invalid: {error}").into()))
}

fn pairs(rows: &[AnyRow]) -> Result<Vec<(String, String)>, sqlx::Error> {
    rows.iter().map(|row| Ok((row.try_get("key")?, row.try_get("value")?))).collect()
}

fn metric_value(row: &AnyRow) -> Result<f64, sqlx::Error> {
    let is_nan: i64 = row.try_get("is_nan")?;
    if is_nan != 0 {
        return Ok(f64::NAN);
    }
    Ok(row.try_get::<Option<f64>, _>("value")?.unwrap_or(f64::NAN))
}

fn metric_from_row(row: &AnyRow) -> Result<MetricPoint, sqlx::Error> {
    Ok(MetricPoint {
        key: row.try_get("key")?,
        value: metric_value(row)?,
        timestamp_ms: row.try_get("timestamp_ms")?,
        step: row.try_get("step")?,
    })
}

fn experiment_from_row(row: &AnyRow) -> Result<Experiment, sqlx::Error> {
    Ok(Experiment {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        artifact_location: row.try_get("artifact_location")?,
        lifecycle_stage: row.try_get("lifecycle_stage")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        tags: Vec::new(),
    })
}

const RUN_COLUMNS: &str = "r.id, r.run_uuid, r.experiment_id, r.name, r.user_name, r.status, r.start_time, \
                           r.end_time, r.lifecycle_stage, r.artifact_uri";

fn run_from_row(row: &AnyRow) -> Result<Run, sqlx::Error> {
    Ok(Run {
        id: row.try_get("id")?,
        run_uuid: row.try_get("run_uuid")?,
        experiment_id: row.try_get("experiment_id")?,
        name: row.try_get("name")?,
        user_name: row.try_get("user_name")?,
        status: row.try_get("status")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        lifecycle_stage: row.try_get("lifecycle_stage")?,
        artifact_uri: row.try_get("artifact_uri")?,
    })
}

/// Picks the latest point per key of `points` by MLflow's rule: highest step, then latest
/// time, then largest value.
fn latest_per_key<'a>(points: impl IntoIterator<Item = &'a MetricPoint>) -> Vec<&'a MetricPoint> {
    let mut latest: std::collections::BTreeMap<&str, &'a MetricPoint> = std::collections::BTreeMap::new();
    for point in points {
        let newer = match latest.get(point.key.as_str()) {
            None => true,
            Some(current) => {
                (point.step, point.timestamp_ms) > (current.step, current.timestamp_ms)
                    || ((point.step, point.timestamp_ms) == (current.step, current.timestamp_ms)
                        && point.value.total_cmp(&current.value).is_gt())
            }
        };
        if newer {
            latest.insert(point.key.as_str(), point);
        }
    }
    latest.into_values().collect()
}

/// Rows per statement of the two helpers below, which keeps their bound values under
/// SQLite's limit of 32,766 (6 values per row at most).
const METRIC_ROWS_PER_STATEMENT: usize = 5_000;

/// Stores the points of log calls, given as (run id, points), as one block per call and key,
/// in logged order.
pub(super) async fn insert_metric_blocks(
    transaction: &mut sqlx::Transaction<'static, Any>,
    calls: &[(i64, &[MetricPoint])],
) -> Result<(), sqlx::Error> {
    let mut blocks: Vec<(i64, &str, Vec<SeriesPoint>)> = Vec::new();
    for (run_id, metrics) in calls {
        let mut positions: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for point in *metrics {
            let position = *positions.entry(point.key.as_str()).or_insert_with(|| {
                blocks.push((*run_id, point.key.as_str(), Vec::new()));
                blocks.len() - 1
            });
            blocks[position].2.push(SeriesPoint { step: point.step, timestamp_ms: point.timestamp_ms, value: point.value });
        }
    }
    for chunk in blocks.chunks(METRIC_ROWS_PER_STATEMENT) {
        let mut binds = Binds::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|(run_id, key, points)| {
                let run = binds.int(*run_id);
                let key = binds.text(key);
                let block = binds.push(SqlValue::Bytes(series::pack(points)));
                format!("({run}, {key}, {block})")
            })
            .collect();
        let sql = format!("INSERT INTO metric_blocks (run_id, key, points) VALUES {}", rows.join(", "));
        bind_all(sqlx::query(&sql), &binds.values).execute(&mut **transaction).await?;
    }
    Ok(())
}

/// Moves each run's latest point per key among `calls` into `latest_metrics` when it is
/// later than the stored one: a higher step, then a later time, then a larger value, as
/// MLflow orders them.
pub(super) async fn upsert_latest_metrics(
    transaction: &mut sqlx::Transaction<'static, Any>,
    calls: &[(i64, &[MetricPoint])],
) -> Result<(), sqlx::Error> {
    // One row per run and key: PostgreSQL rejects a statement that updates a row twice.
    let mut by_run: std::collections::BTreeMap<i64, Vec<&MetricPoint>> = std::collections::BTreeMap::new();
    for (run_id, metrics) in calls {
        by_run.entry(*run_id).or_default().extend(metrics.iter());
    }
    let latest: Vec<(i64, &MetricPoint)> = by_run
        .iter()
        .flat_map(|(run_id, points)| latest_per_key(points.iter().copied()).into_iter().map(move |point| (*run_id, point)))
        .collect();
    for chunk in latest.chunks(METRIC_ROWS_PER_STATEMENT) {
        let mut binds = Binds::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|(run_id, point)| {
                let (value, is_nan) = nan_parts(point.value);
                let run = binds.int(*run_id);
                let key = binds.text(&point.key);
                let value = binds.push(SqlValue::Float(value));
                let is_nan = binds.int(is_nan);
                let timestamp = binds.int(point.timestamp_ms);
                let step = binds.int(point.step);
                format!("({run}, {key}, CASE WHEN {is_nan} = 1 THEN NULL ELSE {value} END, {is_nan}, {timestamp}, {step})")
            })
            .collect();
        let sql = format!(
            "INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp_ms, step) VALUES {}
             ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
                 timestamp_ms = excluded.timestamp_ms, step = excluded.step
             WHERE excluded.step > latest_metrics.step
                OR (excluded.step = latest_metrics.step AND excluded.timestamp_ms > latest_metrics.timestamp_ms)
                OR (excluded.step = latest_metrics.step AND excluded.timestamp_ms = latest_metrics.timestamp_ms
                    AND COALESCE(excluded.value, 0) > COALESCE(latest_metrics.value, 0))",
            rows.join(", ")
        );
        bind_all(sqlx::query(&sql), &binds.values).execute(&mut **transaction).await?;
    }
    Ok(())
}

/// Splits a metric value into a finite number to bind and a NaN flag. The SQL writes NULL
/// for a NaN itself (`CASE WHEN <flag> = 1 THEN NULL ELSE <value> END`): sqlx 0.8.6's `Any`
/// driver sends a NULL `f64` as a PostgreSQL float4, and a connection that prepared a
/// statement with it then rejects the float8 numbers that follow ("incorrect binary data
/// format").
fn nan_parts(value: f64) -> (f64, i64) {
    if value.is_nan() {
        (0.0, 1)
    } else {
        (value, 0)
    }
}

impl Db {
    // ---- Experiments -------------------------------------------------------------------

    /// Creates an experiment whose artifacts live under `mlflow-artifacts:/<id>`.
    pub async fn create_experiment(
        &self,
        workspace_id: i64,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<i64, sqlx::Error> {
        let now = now_ms();
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO experiments (workspace_id, name, artifact_location, created_at, updated_at)
             VALUES ($1, $2, '', $3, $3) RETURNING id",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        sqlx::query("UPDATE experiments SET artifact_location = $1 WHERE id = $2")
            .bind(format!("mlflow-artifacts:/{id}"))
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        for (key, value) in tags {
            EXPERIMENT_TAGS.set(&mut *transaction, id, key, value).await?;
        }
        transaction.commit().await?;
        Ok(id)
    }

    pub async fn experiment(&self, workspace_id: i64, id: i64) -> Result<Option<Experiment>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM experiments WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut experiment = experiment_from_row(&row)?;
        experiment.tags = EXPERIMENT_TAGS.load(&self.pool, experiment.id).await?;
        Ok(Some(experiment))
    }

    pub async fn experiment_by_name(&self, workspace_id: i64, name: &str) -> Result<Option<Experiment>, sqlx::Error> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM experiments WHERE workspace_id = $1 AND name = $2")
            .bind(workspace_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => self.experiment(workspace_id, id).await,
            None => Ok(None),
        }
    }

    /// Returns the workspace's "Default" project, which MLflow clients address as id 0.
    pub async fn default_experiment(&self, workspace_id: i64) -> Result<Experiment, sqlx::Error> {
        if let Some(experiment) = self.experiment_by_name(workspace_id, "Default").await? {
            return Ok(experiment);
        }
        match self.create_experiment(workspace_id, "Default", &[]).await {
            Ok(_) => {}
            Err(error) if super::is_unique_violation(&error) => {}
            Err(error) => return Err(error),
        }
        self.experiment_by_name(workspace_id, "Default")
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound)
    }

    pub async fn search_experiments(
        &self,
        workspace_id: i64,
        view: ViewType,
        clauses: &[Clause],
        order_by: &[OrderBy],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Experiment>, SearchFailure> {
        let mut binds = Binds::default();
        let mut sql = format!(
            "SELECT e.* FROM experiments e WHERE e.workspace_id = {} AND {}",
            binds.int(workspace_id),
            view.condition("e.lifecycle_stage")
        );
        for clause in clauses {
            let condition = match &clause.field {
                Field::Attribute(name) => {
                    let column = match name.as_str() {
                        "name" => "e.name",
                        "creation_time" => "e.created_at",
                        "last_update_time" => "e.updated_at",
                        other => {
                            return Err(SearchFailure::Invalid(format!(
                                "experiments have no attribute \"{other}\"; use name, creation_time, last_update_time or tags.<key>"
                            )))
                        }
                    };
                    compare(&mut binds, column, clause)?
                }
                Field::Tag(key) => {
                    let key = binds.text(key);
                    format!(
                        "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.id AND t.key = {key} AND {})",
                        compare(&mut binds, "t.value", clause)?
                    )
                }
                other => {
                    return Err(SearchFailure::Invalid(format!("experiments cannot be filtered by {other}; use name or tags.<key>")))
                }
            };
            sql.push_str(" AND ");
            sql.push_str(&condition);
        }
        let mut orders = Vec::new();
        for order in order_by {
            let column = match &order.field {
                Field::Attribute(name) if name == "name" => "e.name",
                Field::Attribute(name) if name == "creation_time" => "e.created_at",
                Field::Attribute(name) if name == "last_update_time" => "e.updated_at",
                Field::Attribute(name) if name == "experiment_id" => "e.id",
                other => {
                    return Err(SearchFailure::Invalid(format!(
                        "experiments cannot be ordered by {other}; use name, creation_time, last_update_time or experiment_id"
                    )))
                }
            };
            orders.push(format!("{column} {}", if order.ascending { "ASC" } else { "DESC" }));
        }
        orders.push("e.created_at DESC".into());
        orders.push("e.id DESC".into());
        sql.push_str(&format!(" ORDER BY {} LIMIT {} OFFSET {}", orders.join(", "), binds.int(limit), binds.int(offset)));
        let rows = bind_all(sqlx::query(&sql), &binds.values).fetch_all(&self.pool).await?;
        let mut experiments = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut experiment = experiment_from_row(row)?;
            experiment.tags = EXPERIMENT_TAGS.load(&self.pool, experiment.id).await?;
            experiments.push(experiment);
        }
        Ok(experiments)
    }

    pub async fn rename_experiment(&self, id: i64, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE experiments SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks an experiment and its runs deleted or active again.
    pub async fn set_experiment_stage(&self, id: i64, stage: &str) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("UPDATE experiments SET lifecycle_stage = $1, updated_at = $2 WHERE id = $3")
            .bind(stage)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE experiment_id = $2")
            .bind(stage)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await
    }

    /// Counts runs per experiment of a workspace, for the projects page.
    pub async fn run_counts(&self, workspace_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT e.id, COUNT(r.id) AS runs FROM experiments e LEFT JOIN runs r
               ON r.experiment_id = e.id AND r.lifecycle_stage = 'active'
             WHERE e.workspace_id = $1 GROUP BY e.id",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("runs")?))).collect()
    }

    // ---- Runs --------------------------------------------------------------------------

    pub async fn create_run(
        &self,
        experiment: &Experiment,
        name: &str,
        user_name: &str,
        start_time: Option<i64>,
        tags: &[(String, String)],
    ) -> Result<Run, sqlx::Error> {
        let run_uuid = crate::tracking::new_uuid();
        let artifact_uri = format!("{}/{run_uuid}/artifacts", experiment.artifact_location);
        let parent = tags.iter().find(|(key, _)| key == "mlflow.parentRunId").map(|(_, value)| value.clone());
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_name, status, start_time,
                               artifact_uri, parent_run_uuid, created_at)
             VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6, $7, $8) RETURNING id",
        )
        .bind(&run_uuid)
        .bind(experiment.id)
        .bind(name)
        .bind(user_name)
        .bind(start_time)
        .bind(&artifact_uri)
        .bind(parent)
        .bind(now_ms())
        .fetch_one(&mut *transaction)
        .await?;
        for (key, value) in tags {
            RUN_TAGS.set(&mut *transaction, id, key, value).await?;
        }
        RUN_TAGS.set(&mut *transaction, id, "mlflow.runName", name).await?;
        RUN_TAGS.set(&mut *transaction, id, "mlflow.user", user_name).await?;
        transaction.commit().await?;
        Ok(Run {
            id,
            run_uuid,
            experiment_id: experiment.id,
            name: name.to_string(),
            user_name: user_name.to_string(),
            status: "RUNNING".into(),
            start_time,
            end_time: None,
            lifecycle_stage: "active".into(),
            artifact_uri,
        })
    }

    /// Returns run `run_uuid` if it belongs to a project of `workspace_id`.
    pub async fn run(&self, workspace_id: i64, run_uuid: &str) -> Result<Option<Run>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
             WHERE r.run_uuid = $1 AND e.workspace_id = $2"
        ))
        .bind(run_uuid)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Returns the runs among `run_uuids` that belong to projects of `workspace_id`, in no
    /// particular order; ids not found are left out.
    pub async fn runs_by_uuid(&self, workspace_id: i64, run_uuids: &[String]) -> Result<Vec<Run>, sqlx::Error> {
        let mut runs = Vec::with_capacity(run_uuids.len());
        for chunk in run_uuids.chunks(900) {
            let mut binds = Binds::default();
            let workspace = binds.int(workspace_id);
            let list = binds.list(chunk);
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
                 WHERE e.workspace_id = {workspace} AND r.run_uuid IN {list}"
            );
            for row in bind_all(sqlx::query(&sql), &binds.values).fetch_all(&self.pool).await? {
                runs.push(run_from_row(&row)?);
            }
        }
        Ok(runs)
    }

    pub async fn update_run(
        &self,
        run_id: i64,
        status: Option<&str>,
        end_time: Option<i64>,
        name: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "UPDATE runs SET status = COALESCE($1, status), end_time = COALESCE($2, end_time),
                             name = COALESCE($3, name) WHERE id = $4",
        )
        .bind(status)
        .bind(end_time)
        .bind(name)
        .bind(run_id)
        .execute(&mut *transaction)
        .await?;
        if let Some(name) = name {
            RUN_TAGS.set(&mut *transaction, run_id, "mlflow.runName", name).await?;
        }
        transaction.commit().await
    }

    pub async fn set_run_stage(&self, run_id: i64, stage: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE id = $2")
            .bind(stage)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores params, tags and metric points of one run in one transaction. A param that
    /// already has a different value fails the whole batch, as in MLflow.
    pub async fn log_batch(
        &self,
        run_id: i64,
        metrics: &[MetricPoint],
        params: &[(String, String)],
        tags: &[(String, String)],
        model_metrics: &[(i64, MetricPoint)],
    ) -> Result<Result<(), String>, sqlx::Error> {
        if params.is_empty() && tags.is_empty() && model_metrics.is_empty() {
            if !metrics.is_empty() {
                self.write_metrics(run_id, metrics.to_vec()).await?;
            }
            return Ok(Ok(()));
        }
        let mut transaction = self.begin_write().await?;
        for (key, value) in params {
            let existing: Option<String> = sqlx::query_scalar("SELECT value FROM run_params WHERE run_id = $1 AND key = $2")
                .bind(run_id)
                .bind(key)
                .fetch_optional(&mut *transaction)
                .await?;
            match existing {
                Some(old) if &old != value => {
                    return Ok(Err(format!(
                        "param \"{key}\" already has the value \"{old}\" and cannot change to \"{value}\"; params are write-once, log a new key or start a new run"
                    )))
                }
                Some(_) => {}
                None => {
                    sqlx::query(
                        "INSERT INTO run_params (run_id, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (run_id, key) DO NOTHING",
                    )
                    .bind(run_id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *transaction)
                    .await?;
                }
            }
        }
        for (key, value) in tags {
            RUN_TAGS.set(&mut *transaction, run_id, key, value).await?;
            if key == "mlflow.runName" {
                sqlx::query("UPDATE runs SET name = $1 WHERE id = $2")
                    .bind(value)
                    .bind(run_id)
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        insert_metric_blocks(&mut transaction, &[(run_id, metrics)]).await?;
        for (logged_model_id, point) in model_metrics {
            let (value, is_nan) = nan_parts(point.value);
            sqlx::query(
                "INSERT INTO logged_model_metrics (logged_model_id, run_id, key, value, is_nan, timestamp_ms, step)
                 VALUES ($1, $2, $3, CASE WHEN $5 = 1 THEN NULL ELSE $4 END, $5, $6, $7)
                 ON CONFLICT (logged_model_id, key, step, timestamp_ms) DO NOTHING",
            )
            .bind(logged_model_id)
            .bind(run_id)
            .bind(&point.key)
            .bind(value)
            .bind(is_nan)
            .bind(point.timestamp_ms)
            .bind(point.step)
            .execute(&mut *transaction)
            .await?;
        }
        upsert_latest_metrics(&mut transaction, &[(run_id, metrics)]).await?;
        transaction.commit().await?;
        Ok(Ok(()))
    }

    /// Links datasets to a run; a dataset is stored once per project by name and digest.
    pub async fn log_inputs(&self, run: &Run, inputs: &[DatasetInput]) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        for input in inputs {
            sqlx::query(
                "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema_json, profile_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (experiment_id, name, digest) DO NOTHING",
            )
            .bind(run.experiment_id)
            .bind(&input.name)
            .bind(&input.digest)
            .bind(&input.source_type)
            .bind(&input.source)
            .bind(&input.schema)
            .bind(&input.profile)
            .execute(&mut *transaction)
            .await?;
            let dataset_id: i64 = sqlx::query_scalar(
                "SELECT id FROM datasets WHERE experiment_id = $1 AND name = $2 AND digest = $3",
            )
            .bind(run.experiment_id)
            .bind(&input.name)
            .bind(&input.digest)
            .fetch_one(&mut *transaction)
            .await?;
            let tags = serde_json::to_string(&input.tags).expect("pairs of strings serialize");
            sqlx::query(
                "INSERT INTO run_inputs (run_id, dataset_id, tags_json) VALUES ($1, $2, $3)
                 ON CONFLICT (run_id, dataset_id) DO UPDATE SET tags_json = excluded.tags_json",
            )
            .bind(run.id)
            .bind(dataset_id)
            .bind(tags)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await
    }

    /// Loads params, tags, latest metrics, inputs and outputs of many runs with one query per
    /// 900 runs. Each kind comes back as one JSON array in one column, because the SQLite
    /// driver hands rows one at a time from its worker thread and a search page would
    /// otherwise wait on about ten rows per run.
    pub async fn run_details(&self, runs: Vec<Run>) -> Result<Vec<RunDetail>, sqlx::Error> {
        let mut details: Vec<RunDetail> = runs
            .into_iter()
            .map(|run| RunDetail { run, params: Vec::new(), tags: Vec::new(), metrics: Vec::new(), inputs: Vec::new(), outputs: Vec::new() })
            .collect();
        let index: std::collections::HashMap<i64, usize> =
            details.iter().enumerate().map(|(position, detail)| (detail.run.id, position)).collect();
        for chunk in details.iter().map(|detail| detail.run.id).collect::<Vec<_>>().chunks(900) {
            let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let value = self.exact_float_text("value");
            let sql = format!(
                "SELECT {} AS params, {} AS tags, {} AS metrics, {} AS outputs, {} AS inputs",
                self.json_rows("run_id, key, value", &format!("FROM run_params WHERE run_id IN ({ids})")),
                self.json_rows("run_id, key, value", &format!("FROM run_tags WHERE run_id IN ({ids})")),
                self.json_rows(
                    &format!("run_id, key, {value}, is_nan, timestamp_ms, step"),
                    &format!("FROM latest_metrics WHERE run_id IN ({ids})")
                ),
                self.json_rows(
                    "o.run_id, l.model_uuid, o.step",
                    &format!("FROM run_outputs o JOIN logged_models l ON l.id = o.logged_model_id WHERE o.run_id IN ({ids})")
                ),
                self.json_rows(
                    "i.run_id, i.tags_json, d.name, d.digest, d.source_type, d.source, d.schema_json, d.profile_json",
                    &format!("FROM run_inputs i JOIN datasets d ON d.id = i.dataset_id WHERE i.run_id IN ({ids})")
                ),
            );
            let row = sqlx::query(&sql).fetch_one(&self.pool).await?;
            let column = |name: &str| -> Result<String, sqlx::Error> { Ok(row.try_get::<Option<String>, _>(name)?.unwrap_or_default()) };

            for (run_id, key, value) in json_column::<(i64, String, String)>(&column("params")?)? {
                details[index[&run_id]].params.push((key, value));
            }
            for (run_id, key, value) in json_column::<(i64, String, String)>(&column("tags")?)? {
                details[index[&run_id]].tags.push((key, value));
            }
            type MetricColumns = (i64, String, Option<String>, i64, i64, i64);
            for (run_id, key, value, is_nan, timestamp_ms, step) in json_column::<MetricColumns>(&column("metrics")?)? {
                let value = match value {
                    Some(text) if is_nan == 0 => text
                        .parse()
                        .map_err(|_| sqlx::Error::Decode(format!("metric value \"{text}\" is not a number").into()))?,
                    _ => f64::NAN,
                };
                details[index[&run_id]].metrics.push(MetricPoint { key, value, timestamp_ms, step });
            }
            for (run_id, model_uuid, step) in json_column::<(i64, String, i64)>(&column("outputs")?)? {
                details[index[&run_id]].outputs.push((model_uuid, step));
            }
            type InputColumns = (i64, String, String, String, String, String, Option<String>, Option<String>);
            for (run_id, tags_json, name, digest, source_type, source, schema, profile) in json_column::<InputColumns>(&column("inputs")?)? {
                details[index[&run_id]].inputs.push(DatasetInput {
                    name,
                    digest,
                    source_type,
                    source,
                    schema,
                    profile,
                    tags: serde_json::from_str(&tags_json).unwrap_or_default(),
                });
            }
        }
        for detail in &mut details {
            detail.params.sort();
            detail.tags.sort();
            detail.metrics.sort_by(|a, b| a.key.cmp(&b.key));
            detail.outputs.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            detail.inputs.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(details)
    }

    /// Returns a scalar subquery that gathers `columns` of the rows `from` selects into one
    /// JSON array of arrays, as text. Its value is NULL or `[]` when no row matches.
    fn json_rows(&self, columns: &str, from: &str) -> String {
        match self.backend {
            super::Backend::Sqlite => format!("(SELECT json_group_array(json_array({columns})) {from})"),
            super::Backend::Postgres => format!("(SELECT json_agg(json_build_array({columns}))::text {from})"),
        }
    }

    /// Returns SQL that renders the float column `column` as text that parses back to the
    /// same number (SQLite's JSON and text casts keep only 15 significant digits).
    fn exact_float_text(&self, column: &str) -> String {
        match self.backend {
            super::Backend::Sqlite => format!("CASE WHEN {column} IS NULL THEN NULL ELSE printf('%!.17g', {column}) END"),
            // PostgreSQL 12 and later print the shortest text that reads back exactly.
            super::Backend::Postgres => format!("{column}::text"),
        }
    }

    /// Returns a metric's points in step order, then time order, each distinct point once.
    pub async fn metric_points(&self, run_id: i64, key: &str) -> Result<Vec<SeriesPoint>, sqlx::Error> {
        Ok(self.metric_points_of_runs(&[run_id], key).await?.remove(&run_id).unwrap_or_default())
    }

    /// Returns [`Db::metric_points`] of one key for many runs, reading the blocks of up to
    /// 900 runs per query. Runs without the key are left out.
    async fn metric_points_of_runs(&self, run_ids: &[i64], key: &str) -> Result<std::collections::HashMap<i64, Vec<SeriesPoint>>, sqlx::Error> {
        let mut points_by_run: std::collections::HashMap<i64, Vec<SeriesPoint>> = std::collections::HashMap::new();
        for chunk in run_ids.chunks(900) {
            let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let rows = sqlx::query(&format!("SELECT run_id, points FROM metric_blocks WHERE key = $1 AND run_id IN ({ids}) ORDER BY id"))
                .bind(key)
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                let block: Vec<u8> = row.try_get("points")?;
                let points = points_by_run.entry(row.try_get("run_id")?).or_default();
                series::unpack(&block, points).map_err(|message| sqlx::Error::Decode(message.into()))?;
            }
        }
        Ok(points_by_run.into_iter().map(|(run_id, points)| (run_id, series::merge(points))).collect())
    }

    /// Returns one page of a metric's points in step order.
    pub async fn metric_history(&self, run_id: i64, key: &str, limit: i64, offset: i64) -> Result<Vec<MetricPoint>, sqlx::Error> {
        let points = self.metric_points(run_id, key).await?;
        let page = points
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(0))
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|point| MetricPoint { key: key.to_string(), value: point.value, timestamp_ms: point.timestamp_ms, step: point.step })
            .collect();
        Ok(page)
    }

    /// Returns a metric's finite points for a chart, reduced to at most `2 * buckets + 2`
    /// points by [`series::reduce`], and the number of points logged that are not NaN.
    pub async fn metric_series(&self, run_id: i64, key: &str, buckets: i64) -> Result<(Vec<(i64, f64)>, u64), sqlx::Error> {
        Ok(self.metric_series_of_runs(&[run_id], key, buckets).await?.remove(&run_id).unwrap_or_default())
    }

    /// Returns [`Db::metric_series`] of one key for many runs. Runs without the key are left
    /// out.
    pub async fn metric_series_of_runs(
        &self,
        run_ids: &[i64],
        key: &str,
        buckets: i64,
    ) -> Result<std::collections::HashMap<i64, (Vec<(i64, f64)>, u64)>, sqlx::Error> {
        let buckets = usize::try_from(buckets).unwrap_or(1);
        Ok(self
            .metric_points_of_runs(run_ids, key)
            .await?
            .into_iter()
            .map(|(run_id, points)| {
                let logged = points.iter().filter(|point| !point.value.is_nan()).count() as u64;
                (run_id, (series::reduce(&points, buckets), logged))
            })
            .collect())
    }

    /// Moves points stored one per row in the `metrics` table, by versions before packed
    /// blocks, into `metric_blocks`, 50,000 rows per transaction. Returns the rows moved.
    /// Two replicas starting together may both copy a row, which is harmless because reads
    /// drop repeated points.
    pub async fn move_metric_rows_to_blocks(&self) -> Result<u64, sqlx::Error> {
        let mut moved = 0u64;
        loop {
            let mut transaction = self.begin_write().await?;
            let rows = sqlx::query(
                "SELECT id, run_id, key, value, is_nan, timestamp_ms, step FROM metrics ORDER BY id LIMIT 50000",
            )
            .fetch_all(&mut *transaction)
            .await?;
            let Some(last) = rows.last() else {
                return Ok(moved);
            };
            let last_id: i64 = last.try_get("id")?;
            let mut by_run: std::collections::BTreeMap<i64, Vec<MetricPoint>> = std::collections::BTreeMap::new();
            for row in &rows {
                by_run.entry(row.try_get("run_id")?).or_default().push(metric_from_row(row)?);
            }
            let calls: Vec<(i64, &[MetricPoint])> = by_run.iter().map(|(run_id, points)| (*run_id, points.as_slice())).collect();
            insert_metric_blocks(&mut transaction, &calls).await?;
            sqlx::query("DELETE FROM metrics WHERE id <= $1").bind(last_id).execute(&mut *transaction).await?;
            transaction.commit().await?;
            moved += rows.len() as u64;
        }
    }

    /// Searches runs of the given projects with MLflow's filter and ordering.
    pub async fn search_runs(
        &self,
        experiment_ids: &[i64],
        view: ViewType,
        clauses: &[Clause],
        order_by: &[OrderBy],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Run>, SearchFailure> {
        if experiment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = Binds::default();
        let ids = experiment_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        // When the first sort key is a metric that a clause also filters on, every matching run
        // has a value for it. The query can then walk the (key, value) index in order and stop
        // after one page, instead of sorting every run of the experiment.
        let index_order = match order_by.first() {
            Some(OrderBy { field: Field::Metric(key), .. })
                if clauses.iter().any(|clause| matches!(&clause.field, Field::Metric(filtered) if filtered == key)) =>
            {
                Some(binds.text(key))
            }
            _ => None,
        };
        let from = match &index_order {
            Some(key) => format!("latest_metrics o JOIN runs r ON r.id = o.run_id WHERE o.key = {key} AND"),
            None => "runs r WHERE".to_string(),
        };
        let mut sql = format!(
            "SELECT {RUN_COLUMNS} FROM {from} r.experiment_id IN ({ids}) AND {}",
            view.condition("r.lifecycle_stage")
        );
        for clause in clauses {
            sql.push_str(" AND ");
            sql.push_str(&run_condition(&mut binds, clause)?);
        }
        let mut orders = Vec::new();
        for (position, order) in order_by.iter().enumerate() {
            let direction = if order.ascending { "ASC" } else { "DESC" };
            if position == 0 && index_order.is_some() {
                // Every run in the result has the value, so NULLS LAST is left out: with it,
                // PostgreSQL cannot read the index backwards for DESC.
                orders.push(format!("o.value {direction}"));
                continue;
            }
            let expression = match &order.field {
                Field::Metric(key) => format!(
                    "(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {})",
                    binds.text(key)
                ),
                Field::Param(key) => format!(
                    "(SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = {})",
                    binds.text(key)
                ),
                Field::Tag(key) => format!(
                    "(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = {})",
                    binds.text(key)
                ),
                Field::Attribute(name) => run_attribute_column(name)?.to_string(),
                Field::Dataset(_) => return Err(SearchFailure::Invalid("runs cannot be ordered by a dataset field".into())),
            };
            orders.push(format!("{expression} {direction} NULLS LAST"));
        }
        orders.push("r.start_time DESC NULLS LAST".into());
        orders.push("r.run_uuid ASC".into());
        sql.push_str(&format!(" ORDER BY {} LIMIT {} OFFSET {}", orders.join(", "), binds.int(limit), binds.int(offset)));
        let rows = bind_all(sqlx::query(&sql), &binds.values).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(run_from_row).collect::<Result<_, _>>()?)
    }

    /// Records that `run_id` produced the logged models, each at its step.
    pub async fn log_run_outputs(&self, run_id: i64, outputs: &[(i64, i64)]) -> Result<(), sqlx::Error> {
        for (logged_model_id, step) in outputs {
            sqlx::query(
                "INSERT INTO run_outputs (run_id, logged_model_id, step) VALUES ($1, $2, $3)
                 ON CONFLICT (run_id, logged_model_id) DO UPDATE SET step = excluded.step",
            )
            .bind(run_id)
            .bind(logged_model_id)
            .bind(step)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    // ---- Logged models -----------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn create_logged_model(
        &self,
        experiment: &Experiment,
        name: &str,
        model_type: Option<&str>,
        source_run_uuid: Option<&str>,
        tags: &[(String, String)],
        params: &[(String, String)],
    ) -> Result<LoggedModel, sqlx::Error> {
        let model_uuid = format!("m-{}", crate::tracking::new_uuid());
        let artifact_uri = format!("{}/models/{model_uuid}/artifacts", experiment.artifact_location);
        let now = now_ms();
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO logged_models (model_uuid, experiment_id, name, model_type, source_run_uuid, status,
                                        artifact_uri, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'LOGGED_MODEL_PENDING', $6, $7, $7) RETURNING id",
        )
        .bind(&model_uuid)
        .bind(experiment.id)
        .bind(name)
        .bind(model_type)
        .bind(source_run_uuid)
        .bind(&artifact_uri)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        for (table, entries) in [(LOGGED_MODEL_TAGS, tags), (LOGGED_MODEL_PARAMS, params)] {
            for (key, value) in entries {
                table.set(&mut *transaction, id, key, value).await?;
            }
        }
        transaction.commit().await?;
        Ok(LoggedModel {
            id,
            model_uuid,
            experiment_id: experiment.id,
            name: name.to_string(),
            model_type: model_type.map(str::to_string),
            source_run_uuid: source_run_uuid.map(str::to_string),
            status: "LOGGED_MODEL_PENDING".into(),
            artifact_uri,
            created_at: now,
            updated_at: now,
            tags: tags.to_vec(),
            params: params.to_vec(),
            metrics: Vec::new(),
        })
    }

    pub async fn logged_model(&self, workspace_id: i64, model_uuid: &str) -> Result<Option<LoggedModel>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT l.* FROM logged_models l JOIN experiments e ON e.id = l.experiment_id
             WHERE l.model_uuid = $1 AND e.workspace_id = $2 AND l.lifecycle_stage = 'active'",
        )
        .bind(model_uuid)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(self.logged_model_from_row(&row).await?))
    }

    async fn logged_model_from_row(&self, row: &AnyRow) -> Result<LoggedModel, sqlx::Error> {
        let id: i64 = row.try_get("id")?;
        Ok(LoggedModel {
            id,
            model_uuid: row.try_get("model_uuid")?,
            experiment_id: row.try_get("experiment_id")?,
            name: row.try_get("name")?,
            model_type: row.try_get("model_type")?,
            source_run_uuid: row.try_get("source_run_uuid")?,
            status: row.try_get("status")?,
            artifact_uri: row.try_get("artifact_uri")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            tags: LOGGED_MODEL_TAGS.load(&self.pool, id).await?,
            params: LOGGED_MODEL_PARAMS.load(&self.pool, id).await?,
            metrics: self.logged_model_metrics(id).await?,
        })
    }

    async fn logged_model_metrics(&self, logged_model_id: i64) -> Result<Vec<MetricPoint>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT key, value, is_nan, timestamp_ms, step FROM logged_model_metrics
             WHERE logged_model_id = $1 ORDER BY key, step, timestamp_ms",
        )
        .bind(logged_model_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(metric_from_row).collect()
    }

    /// Logged models of the given projects, newest first, optionally only those named `name`.
    pub async fn search_logged_models(
        &self,
        experiment_ids: &[i64],
        name: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<LoggedModel>, sqlx::Error> {
        if experiment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = experiment_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT * FROM logged_models WHERE experiment_id IN ({ids}) AND lifecycle_stage = 'active'
               AND ($1 = '' OR name = $1)
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(name.unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut models = Vec::with_capacity(rows.len());
        for row in &rows {
            models.push(self.logged_model_from_row(row).await?);
        }
        Ok(models)
    }

    pub async fn set_logged_model_status(&self, id: i64, status: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE logged_models SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_logged_model(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE logged_models SET lifecycle_stage = 'deleted', updated_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }



}


fn run_attribute_column(name: &str) -> Result<&'static str, SearchFailure> {
    Ok(match name {
        "run_id" | "run_uuid" => "r.run_uuid",
        "run_name" | "name" => "r.name",
        "status" => "r.status",
        "user_id" | "user" => "r.user_name",
        "start_time" => "r.start_time",
        "end_time" => "r.end_time",
        "artifact_uri" => "r.artifact_uri",
        "created" => "r.start_time",
        other => {
            return Err(SearchFailure::Invalid(format!(
                "runs have no attribute \"{other}\"; use run_id, run_name, status, user_id, start_time, end_time or artifact_uri"
            )))
        }
    })
}

/// SQL for one run filter clause, with its values bound.
fn run_condition(binds: &mut Binds, clause: &Clause) -> Result<String, SearchFailure> {
    Ok(match &clause.field {
        Field::Metric(key) => {
            let key = binds.text(key);
            format!(
                "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.key = {key} AND {})",
                compare(binds, "m.value", clause)?
            )
        }
        Field::Param(key) => {
            let key = binds.text(key);
            format!(
                "EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = r.id AND p.key = {key} AND {})",
                compare(binds, "p.value", clause)?
            )
        }
        Field::Tag(key) => {
            let key = binds.text(key);
            format!(
                "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = {key} AND {})",
                compare(binds, "t.value", clause)?
            )
        }
        Field::Attribute(name) => compare(binds, run_attribute_column(name)?, clause)?,
        Field::Dataset(name) => {
            let column = match name.as_str() {
                "name" => "d.name",
                "digest" => "d.digest",
                other => return Err(SearchFailure::Invalid(format!("datasets have no field \"{other}\"; use datasets.name or datasets.digest"))),
            };
            format!(
                "EXISTS (SELECT 1 FROM run_inputs i JOIN datasets d ON d.id = i.dataset_id WHERE i.run_id = r.id AND {})",
                compare(binds, column, clause)?
            )
        }
    })
}

/// `column <op> value`, with ILIKE written as a lower-case LIKE so both engines agree.
fn compare(binds: &mut Binds, column: &str, clause: &Clause) -> Result<String, SearchFailure> {
    Ok(match (&clause.value, clause.op) {
        (Value::List(items), op) => format!("{column} {} {}", op.sql(), binds.list(items)),
        (Value::Text(text), Op::ILike) => format!("LOWER({column}) LIKE LOWER({})", binds.text(text)),
        (Value::Text(text), op) => format!("{column} {} {}", op.sql(), binds.text(text)),
        (Value::Number(number), op) if matches!(op, Op::Like | Op::ILike) => {
            return Err(SearchFailure::Invalid(format!("LIKE needs a quoted pattern, not the number {number}")))
        }
        (Value::Number(number), op) => {
            let is_time = column.ends_with("_time") || column.ends_with("_at");
            let value = if is_time { SqlValue::Int(*number as i64) } else { SqlValue::Float(*number) };
            format!("{column} {} {}", op.sql(), binds.push(value))
        }
    })
}
