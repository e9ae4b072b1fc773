//! Ingested rows and their per-day column summaries.
//!
//! An ingestion writes its rows in batches while it is `pending` and flips to `complete` in
//! one transaction with its summaries, so readers never see half a file and a long upload
//! does not hold a write lock for its whole duration.

use std::collections::BTreeMap;

use sqlx::Row;

use super::actuals::{join_stored_actuals, ActualColumn, Summarize};
use super::{now_ms, Db};
use crate::monitoring::performance::PerformanceSummary;
use crate::monitoring::summary::ColumnSummary;
use crate::types::Environment;

/// Failure of [`Db::scan_records`]: the database, or a row the visitor could not use.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Row(String),
}

/// One validated row, ready to store.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub record_id: String,
    pub timestamp_ms: i64,
    /// JSON array of the values in schema column order.
    pub values_json: String,
}

/// Destination of an ingestion's rows.
#[derive(Clone, Debug)]
pub struct IngestionTarget {
    pub ingestion_id: i64,
    pub model_version_id: i64,
    pub environment: Environment,
}

/// An earlier ingestion found by its idempotency key.
#[derive(Clone, Debug)]
pub struct KeyedIngestion {
    pub ingestion_id: i64,
    pub complete: bool,
    pub file_name: String,
    pub rows_ingested: i64,
    pub rows_skipped: i64,
}

/// Summaries keyed by (bucket start in Unix ms, column name).
pub type BucketSummaries = BTreeMap<(i64, String), ColumnSummary>;

/// Rows per INSERT statement: 4 parameters each stays far below SQLite's limit of 32,766.
const INSERT_BATCH_ROWS: usize = 500;

impl Db {
    pub async fn begin_ingestion(
        &self,
        model_version_id: i64,
        environment: Environment,
        source: &str,
        file_name: &str,
        created_by: Option<i64>,
        idempotency_key: Option<&str>,
    ) -> Result<IngestionTarget, sqlx::Error> {
        let ingestion_id = sqlx::query_scalar(
            "INSERT INTO ingestions (model_version_id, environment, source, file_name, rows_ingested,
                                     rows_skipped, status, created_by, created_at, idempotency_key)
             VALUES ($1, $2, $3, $4, 0, 0, 'pending', $5, $6, $7) RETURNING id",
        )
        .bind(model_version_id)
        .bind(environment.as_str())
        .bind(source)
        .bind(file_name)
        .bind(created_by)
        .bind(now_ms())
        .bind(idempotency_key)
        .fetch_one(&self.pool)
        .await?;
        Ok(IngestionTarget { ingestion_id, model_version_id, environment })
    }

    /// Stores `records` for a pending ingestion, in multi-row INSERTs.
    pub async fn insert_records(
        &self,
        target: &IngestionTarget,
        records: &[StoredRecord],
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        for chunk in records.chunks(INSERT_BATCH_ROWS) {
            let mut sql = String::from(
                "INSERT INTO records (model_version_id, environment, ingestion_id, record_id,
                                      timestamp_ms, values_json) VALUES ",
            );
            for index in 0..chunk.len() {
                let base = index * 3;
                if index > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({}, '{}', {}, ${}, ${}, ${})",
                    target.model_version_id,
                    target.environment.as_str(),
                    target.ingestion_id,
                    base + 1,
                    base + 2,
                    base + 3
                ));
            }
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(record.record_id.as_str())
                    .bind(record.timestamp_ms)
                    .bind(record.values_json.as_str());
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await
    }

    /// Stores the summaries and marks the ingestion complete, in one transaction. With
    /// `actuals`, the same transaction joins actuals received earlier for a production
    /// ingestion's rows, so none is left unjoined.
    pub async fn complete_ingestion(
        &self,
        target: &IngestionTarget,
        rows_ingested: u64,
        rows_skipped: u64,
        summaries: &BucketSummaries,
        performance: &BTreeMap<i64, PerformanceSummary>,
        actuals: Option<(&ActualColumn<'_>, Summarize<'_>)>,
    ) -> Result<u64, sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        for (bucket_start_ms, summary) in performance {
            let summary_json = serde_json::to_string(summary).expect("summaries always serialize");
            sqlx::query(
                "INSERT INTO performance_summaries (model_version_id, environment, ingestion_id,
                                                    bucket_start_ms, summary_json)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(target.model_version_id)
            .bind(target.environment.as_str())
            .bind(target.ingestion_id)
            .bind(*bucket_start_ms)
            .bind(summary_json)
            .execute(&mut *transaction)
            .await?;
        }
        for ((bucket_start_ms, column_name), summary) in summaries {
            let summary_json = serde_json::to_string(summary).expect("summaries always serialize");
            sqlx::query(
                "INSERT INTO column_summaries (model_version_id, environment, ingestion_id,
                                               bucket_start_ms, column_name, summary_json)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(target.model_version_id)
            .bind(target.environment.as_str())
            .bind(target.ingestion_id)
            .bind(*bucket_start_ms)
            .bind(column_name.as_str())
            .bind(summary_json)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query(
            "UPDATE ingestions SET status = 'complete', rows_ingested = $1, rows_skipped = $2
             WHERE id = $3",
        )
        .bind(rows_ingested as i64)
        .bind(rows_skipped as i64)
        .bind(target.ingestion_id)
        .execute(&mut *transaction)
        .await?;
        let joined = match actuals {
            Some((column, summarize)) if target.environment == Environment::Production => {
                join_stored_actuals(&mut transaction, target.model_version_id, target.ingestion_id, column, summarize).await?
            }
            _ => 0,
        };
        transaction.commit().await?;
        Ok(joined)
    }

    /// Deletes a failed ingestion's rows and marks it failed.
    pub async fn fail_ingestion(&self, ingestion_id: i64) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM records WHERE ingestion_id = $1")
            .bind(ingestion_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE ingestions SET status = 'failed', idempotency_key = NULL WHERE id = $1")
            .bind(ingestion_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await
    }

    /// Returns the ingestion that used `idempotency_key` for this model version and
    /// environment, if any: its id, status, file name and row counts.
    pub async fn ingestion_by_key(
        &self,
        model_id: i64,
        version: &str,
        environment: Environment,
        idempotency_key: &str,
    ) -> Result<Option<KeyedIngestion>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT i.id, i.status, i.file_name, i.rows_ingested, i.rows_skipped FROM ingestions i
             JOIN model_versions v ON v.id = i.model_version_id
             WHERE v.model_id = $1 AND v.version = $2 AND i.environment = $3 AND i.idempotency_key = $4",
        )
        .bind(model_id)
        .bind(version)
        .bind(environment.as_str())
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(KeyedIngestion {
            ingestion_id: row.try_get("id")?,
            complete: row.try_get::<String, _>("status")? == "complete",
            file_name: row.try_get("file_name")?,
            rows_ingested: row.try_get("rows_ingested")?,
            rows_skipped: row.try_get("rows_skipped")?,
        }))
    }

    /// Marks ingestions that stayed pending since before `before_ms` as failed (their server
    /// stopped mid-file) and deletes their rows.
    pub async fn fail_stale_ingestions(&self, before_ms: i64) -> Result<u64, sqlx::Error> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM ingestions WHERE status = 'pending' AND created_at < $1",
        )
        .bind(before_ms)
        .fetch_all(&self.pool)
        .await?;
        for id in &ids {
            self.fail_ingestion(*id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Loads the completed summaries of a version and environment whose buckets start in
    /// `[from_ms, to_ms]` (either bound optional), for one column or all, as (bucket start,
    /// column, summary).
    pub async fn load_summaries(
        &self,
        model_version_id: i64,
        environment: Environment,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        column: Option<&str>,
    ) -> Result<Vec<(i64, String, ColumnSummary)>, sqlx::Error> {
        let column_filter = if column.is_some() { "AND s.column_name = $5" } else { "" };
        let sql = format!(
            "SELECT s.bucket_start_ms, s.column_name, s.summary_json FROM column_summaries s
             JOIN ingestions i ON i.id = s.ingestion_id AND i.status = 'complete'
             WHERE s.model_version_id = $1 AND s.environment = $2
               AND s.bucket_start_ms >= $3 AND s.bucket_start_ms <= $4 {column_filter}
             ORDER BY s.bucket_start_ms"
        );
        let mut query = sqlx::query(&sql)
            .bind(model_version_id)
            .bind(environment.as_str())
            .bind(from_ms.unwrap_or(i64::MIN))
            .bind(to_ms.unwrap_or(i64::MAX));
        if let Some(column) = column {
            query = query.bind(column);
        }
        let rows = query.fetch_all(&self.pool).await?;

        let mut summaries = Vec::with_capacity(rows.len());
        for row in rows {
            let json: String = row.try_get("summary_json")?;
            let summary: ColumnSummary =
                serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            summaries.push((row.try_get("bucket_start_ms")?, row.try_get("column_name")?, summary));
        }
        Ok(summaries)
    }

    /// Loads the completed performance counts of a version and environment per bucket whose
    /// start is in `[from_ms, to_ms]`, in bucket order.
    pub async fn load_performance(
        &self,
        model_version_id: i64,
        environment: Environment,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, PerformanceSummary)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT s.bucket_start_ms, s.summary_json FROM performance_summaries s
             JOIN ingestions i ON i.id = s.ingestion_id AND i.status = 'complete'
             WHERE s.model_version_id = $1 AND s.environment = $2
               AND s.bucket_start_ms >= $3 AND s.bucket_start_ms <= $4
             ORDER BY s.bucket_start_ms",
        )
        .bind(model_version_id)
        .bind(environment.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in rows {
            let json: String = row.try_get("summary_json")?;
            let summary = serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            summaries.push((row.try_get("bucket_start_ms")?, summary));
        }
        Ok(summaries)
    }

    /// Streams the completed rows of a version and environment whose time is in
    /// `[from_ms, end_ms)` to `visit`, as (timestamp, values JSON), without holding them all.
    /// An error from `visit` stops the scan and is returned.
    pub async fn scan_records(
        &self,
        model_version_id: i64,
        environment: Environment,
        from_ms: i64,
        end_ms: i64,
        mut visit: impl FnMut(i64, &str) -> Result<(), String>,
    ) -> Result<(), ScanError> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT r.timestamp_ms, r.values_json FROM records r
             JOIN ingestions i ON i.id = r.ingestion_id AND i.status = 'complete'
             WHERE r.model_version_id = $1 AND r.environment = $2
               AND r.timestamp_ms >= $3 AND r.timestamp_ms < $4",
        )
        .bind(model_version_id)
        .bind(environment.as_str())
        .bind(from_ms)
        .bind(end_ms)
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let timestamp_ms: i64 = row.try_get("timestamp_ms")?;
            let json: String = row.try_get("values_json")?;
            visit(timestamp_ms, &json).map_err(ScanError::Row)?;
        }
        Ok(())
    }

    /// Deletes the raw production rows of the days that end by `cutoff_ms`, version by version
    /// in batches so that no statement holds a write lock for long. Summaries stay. Whole days
    /// go, because a delayed actual re-derives a day's summaries from all of its rows.
    /// Returns the number of rows deleted.
    pub async fn delete_production_rows_before(&self, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
        const BATCH: i64 = 10_000;
        const DAY_MS: i64 = 86_400_000;
        let cutoff_ms = cutoff_ms.div_euclid(DAY_MS) * DAY_MS;
        let versions: Vec<i64> = sqlx::query_scalar("SELECT id FROM model_versions").fetch_all(&self.pool).await?;
        let mut deleted = 0;
        for version_id in versions {
            loop {
                let batch = sqlx::query(
                    "DELETE FROM records WHERE id IN (
                         SELECT id FROM records
                         WHERE model_version_id = $1 AND environment = 'production' AND timestamp_ms < $2
                         LIMIT $3)",
                )
                .bind(version_id)
                .bind(cutoff_ms)
                .bind(BATCH)
                .execute(&self.pool)
                .await?
                .rows_affected();
                deleted += batch;
                if batch < BATCH as u64 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Returns the time of the latest completed row, in Unix ms, if any.
    pub async fn latest_timestamp(
        &self,
        model_version_id: i64,
        environment: Environment,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MAX(r.timestamp_ms) FROM records r
             JOIN ingestions i ON i.id = r.ingestion_id AND i.status = 'complete'
             WHERE r.model_version_id = $1 AND r.environment = $2",
        )
        .bind(model_version_id)
        .bind(environment.as_str())
        .fetch_one(&self.pool)
        .await
    }

    /// Returns the first and last bucket start with completed data, if any.
    pub async fn bucket_range(
        &self,
        model_version_id: i64,
        environment: Environment,
    ) -> Result<Option<(i64, i64)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT MIN(s.bucket_start_ms) AS first_ms, MAX(s.bucket_start_ms) AS last_ms
             FROM column_summaries s
             JOIN ingestions i ON i.id = s.ingestion_id AND i.status = 'complete'
             WHERE s.model_version_id = $1 AND s.environment = $2",
        )
        .bind(model_version_id)
        .bind(environment.as_str())
        .fetch_one(&self.pool)
        .await?;
        let first: Option<i64> = row.try_get("first_ms")?;
        let last: Option<i64> = row.try_get("last_ms")?;
        Ok(first.zip(last))
    }
}
