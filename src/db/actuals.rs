//! Actuals that arrive after their predictions: stored by prediction id, written into the
//! matching production rows, and folded into those rows' per-day summaries.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use super::{now_ms, Db};

const DAY_MS: i64 = 86_400_000;
/// Prediction ids per `IN (…)` lookup.
const LOOKUP_BATCH: usize = 500;

/// Summarises the rows of one ingestion and day again after actuals changed: receives each
/// row's values (a JSON array in schema column order) and returns the JSON of the actual
/// column's summary and of the performance summary.
pub type Summarize<'a> = &'a (dyn Fn(&[Vec<serde_json::Value>]) -> (String, String) + Sync);

/// Name and position of the actual column in a model's rows.
pub struct ActualColumn<'a> {
    pub name: &'a str,
    /// Position in `records.values_json`.
    pub index: usize,
}

impl Db {
    /// Stores `actuals` (prediction id, JSON value) for a version, writes each into the
    /// version's complete production rows with that id and re-derives their summaries, all in
    /// one transaction. Returns how many distinct ids matched a stored prediction.
    pub async fn store_actuals(
        &self,
        model_version_id: i64,
        column: &ActualColumn<'_>,
        actuals: &BTreeMap<String, serde_json::Value>,
        summarize: Summarize<'_>,
    ) -> Result<u64, sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        lock_version(&mut transaction, model_version_id).await?;
        let received_at = now_ms();
        // NOTE: one statement per actual; files of hundreds of thousands of actuals would
        // want multi-row upserts.
        for (record_id, value) in actuals {
            sqlx::query(
                "INSERT INTO delayed_actuals (model_version_id, record_id, actual_json, received_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (model_version_id, record_id)
                 DO UPDATE SET actual_json = excluded.actual_json, received_at = excluded.received_at",
            )
            .bind(model_version_id)
            .bind(record_id.as_str())
            .bind(value.to_string())
            .bind(received_at)
            .execute(&mut *transaction)
            .await?;
        }

        let ids: Vec<&String> = actuals.keys().collect();
        let mut matched = BTreeSet::new();
        let mut touched = BTreeSet::new();
        for batch in ids.chunks(LOOKUP_BATCH) {
            let placeholders: Vec<String> = (0..batch.len()).map(|index| format!("${}", index + 2)).collect();
            let sql = format!(
                "SELECT r.id, r.ingestion_id, r.timestamp_ms, r.record_id, r.values_json FROM records r
                 JOIN ingestions i ON i.id = r.ingestion_id AND i.status = 'complete'
                 WHERE r.model_version_id = $1 AND r.environment = 'production' AND r.record_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(model_version_id);
            for id in batch {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(&mut *transaction).await?;
            for row in rows {
                let record_id: String = row.try_get("record_id")?;
                let value = &actuals[&record_id];
                if write_actual(&mut transaction, &row, column, value).await? {
                    let ingestion_id: i64 = row.try_get("ingestion_id")?;
                    let timestamp_ms: i64 = row.try_get("timestamp_ms")?;
                    touched.insert((ingestion_id, timestamp_ms.div_euclid(DAY_MS) * DAY_MS));
                }
                matched.insert(record_id);
            }
        }
        resummarize(&mut transaction, model_version_id, column, &touched, summarize).await?;
        transaction.commit().await?;
        Ok(matched.len() as u64)
    }

}

/// Writes the stored actuals of a version into the rows of a production ingestion that is
/// completing in `transaction` and re-derives those rows' summaries. Returns the rows changed.
pub(super) async fn join_stored_actuals(
    transaction: &mut Transaction,
    model_version_id: i64,
    ingestion_id: i64,
    column: &ActualColumn<'_>,
    summarize: Summarize<'_>,
) -> Result<u64, sqlx::Error> {
    lock_version(transaction, model_version_id).await?;
    let rows = sqlx::query(
        "SELECT r.id, r.ingestion_id, r.timestamp_ms, r.values_json, a.actual_json FROM delayed_actuals a
         JOIN records r ON r.model_version_id = a.model_version_id AND r.record_id = a.record_id
         WHERE a.model_version_id = $1 AND r.ingestion_id = $2 AND r.environment = 'production'",
    )
    .bind(model_version_id)
    .bind(ingestion_id)
    .fetch_all(&mut **transaction)
    .await?;
    let mut changed = 0;
    let mut touched = BTreeSet::new();
    for row in rows {
        let json: String = row.try_get("actual_json")?;
        let value: serde_json::Value =
            serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        if write_actual(transaction, &row, column, &value).await? {
            let timestamp_ms: i64 = row.try_get("timestamp_ms")?;
            touched.insert((ingestion_id, timestamp_ms.div_euclid(DAY_MS) * DAY_MS));
            changed += 1;
        }
    }
    resummarize(transaction, model_version_id, column, &touched, summarize).await?;
    Ok(changed)
}

pub(super) type Transaction = sqlx::Transaction<'static, sqlx::Any>;

/// Serialises actual updates of one version, so two requests never summarise the same day
/// from different snapshots of its rows (the later write would drop the other's actuals).
async fn lock_version(transaction: &mut Transaction, model_version_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE model_versions SET id = id WHERE id = $1")
        .bind(model_version_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Sets the actual of one stored row; returns false when it already had that value.
async fn write_actual(
    transaction: &mut Transaction,
    row: &sqlx::any::AnyRow,
    column: &ActualColumn<'_>,
    value: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let id: i64 = row.try_get("id")?;
    let json: String = row.try_get("values_json")?;
    let mut values: Vec<serde_json::Value> =
        serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
    let Some(slot) = values.get_mut(column.index) else {
        return Err(sqlx::Error::Protocol(format!("record {id} has no value at position {}", column.index)));
    };
    if slot == value {
        return Ok(false);
    }
    *slot = value.clone();
    sqlx::query("UPDATE records SET values_json = $1 WHERE id = $2")
        .bind(serde_json::Value::Array(values).to_string())
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(true)
}

/// Re-derives the actual column's summary and the performance summary of each (ingestion,
/// day) in `touched` from its stored rows.
async fn resummarize(
    transaction: &mut Transaction,
    model_version_id: i64,
    column: &ActualColumn<'_>,
    touched: &BTreeSet<(i64, i64)>,
    summarize: Summarize<'_>,
) -> Result<(), sqlx::Error> {
    for &(ingestion_id, day_ms) in touched {
        let rows = sqlx::query(
            "SELECT values_json FROM records
             WHERE model_version_id = $1 AND environment = 'production' AND timestamp_ms >= $2
               AND timestamp_ms < $3 AND ingestion_id = $4",
        )
        .bind(model_version_id)
        .bind(day_ms)
        .bind(day_ms + DAY_MS)
        .bind(ingestion_id)
        .fetch_all(&mut **transaction)
        .await?;
        let mut values = Vec::with_capacity(rows.len());
        for row in rows {
            let json: String = row.try_get("values_json")?;
            values.push(serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?);
        }
        let (column_json, performance_json) = summarize(&values);

        sqlx::query(
            "UPDATE column_summaries SET summary_json = $1
             WHERE ingestion_id = $2 AND bucket_start_ms = $3 AND column_name = $4",
        )
        .bind(column_json)
        .bind(ingestion_id)
        .bind(day_ms)
        .bind(column.name)
        .execute(&mut **transaction)
        .await?;
        sqlx::query("DELETE FROM performance_summaries WHERE ingestion_id = $1 AND bucket_start_ms = $2")
            .bind(ingestion_id)
            .bind(day_ms)
            .execute(&mut **transaction)
            .await?;
        sqlx::query(
            "INSERT INTO performance_summaries (model_version_id, environment, ingestion_id, bucket_start_ms, summary_json)
             VALUES ($1, 'production', $2, $3, $4)",
        )
        .bind(model_version_id)
        .bind(ingestion_id)
        .bind(day_ms)
        .bind(performance_json)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
