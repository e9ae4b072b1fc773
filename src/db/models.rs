//! Monitored models and their versions, always looked up inside one workspace.

use sqlx::Row;

use super::{now_ms, Db};
use crate::monitoring::schema::ModelSchema;
use crate::types::{Baseline, Environment, VersionInfo};

#[derive(Clone, Debug)]
pub struct Model {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub description: String,
    pub schema: ModelSchema,
    /// The baseline pages use when their URL names none; `None` means training data.
    pub default_baseline: Option<Baseline>,
}

fn model_from_row(row: &sqlx::any::AnyRow) -> Result<Model, sqlx::Error> {
    let schema_json: String = row.try_get("schema_json")?;
    let schema = serde_json::from_str(&schema_json)
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
    let baseline_json: Option<String> = row.try_get("default_baseline_json")?;
    let default_baseline = baseline_json
        .map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
    Ok(Model {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        schema,
        default_baseline,
    })
}

impl Db {
    pub async fn create_model(
        &self,
        workspace_id: i64,
        name: &str,
        description: &str,
        schema: &ModelSchema,
    ) -> Result<i64, sqlx::Error> {
        let schema_json = serde_json::to_string(schema).expect("a schema always serializes");
        sqlx::query_scalar(
            "INSERT INTO models (workspace_id, name, description, schema_json, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(description)
        .bind(schema_json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    pub async fn model(&self, workspace_id: i64, name: &str) -> Result<Option<Model>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, workspace_id, name, description, schema_json, default_baseline_json FROM models
             WHERE workspace_id = $1 AND name = $2",
        )
        .bind(workspace_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    pub async fn models(&self, workspace_id: i64) -> Result<Vec<Model>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, name, description, schema_json, default_baseline_json FROM models
             WHERE workspace_id = $1 ORDER BY name",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(model_from_row).collect()
    }

    /// Saves the baseline the model's pages use when their URL names none; `None` restores
    /// training data.
    pub async fn set_default_baseline(&self, model_id: i64, baseline: Option<&Baseline>) -> Result<(), sqlx::Error> {
        let json = baseline.map(|baseline| serde_json::to_string(baseline).expect("a baseline always serializes"));
        sqlx::query("UPDATE models SET default_baseline_json = $1 WHERE id = $2")
            .bind(json)
            .bind(model_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Returns the id of `version` of `model_id`, creating the version on first use.
    pub async fn ensure_version(&self, model_id: i64, version: &str) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO model_versions (model_id, version, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (model_id, version) DO NOTHING",
        )
        .bind(model_id)
        .bind(version)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.version_id(model_id, version)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound)
    }

    pub async fn version_id(&self, model_id: i64, version: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM model_versions WHERE model_id = $1 AND version = $2")
            .bind(model_id)
            .bind(version)
            .fetch_optional(&self.pool)
            .await
    }

    /// Lists a model's versions, newest first, with their completed row counts.
    pub async fn versions(&self, model_id: i64) -> Result<Vec<VersionInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT v.version, i.environment, CAST(SUM(i.rows_ingested) AS BIGINT) AS row_count
             FROM model_versions v
             LEFT JOIN ingestions i ON i.model_version_id = v.id AND i.status = 'complete'
             WHERE v.model_id = $1
             GROUP BY v.id, v.version, i.environment
             ORDER BY v.id DESC",
        )
        .bind(model_id)
        .fetch_all(&self.pool)
        .await?;

        let mut versions: Vec<VersionInfo> = Vec::new();
        for row in rows {
            let version: String = row.try_get("version")?;
            let environment: Option<String> = row.try_get("environment")?;
            let count: i64 = row.try_get::<Option<i64>, _>("row_count")?.unwrap_or(0);
            if versions.last().map(|last| last.version != version).unwrap_or(true) {
                versions.push(VersionInfo {
                    version: version.clone(),
                    training_rows: 0,
                    validation_rows: 0,
                    production_rows: 0,
                });
            }
            let entry = versions.last_mut().expect("pushed above");
            match environment.as_deref().and_then(Environment::parse) {
                Some(Environment::Training) => entry.training_rows = count,
                Some(Environment::Validation) => entry.validation_rows = count,
                Some(Environment::Production) => entry.production_rows = count,
                None => {}
            }
        }
        Ok(versions)
    }
}
