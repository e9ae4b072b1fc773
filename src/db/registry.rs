//! The model registry: registered models, versions, aliases, tags, the promotion workflow
//! and its append-only history, and webhook deliveries.
//!
//! Every change that users can see in the history goes through [`record_event`] inside the
//! transaction that makes the change, and queues the webhook deliveries in that same
//! transaction, so an acknowledged change always has its event and its deliveries.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::tracking::{bind_all, Binds, SearchFailure, REGISTERED_MODEL_TAGS, VERSION_TAGS};
use super::{now_ms, Db};
use crate::tracking::promotion::{Policy, ReviewOutcome};
use crate::tracking::search::{Clause, Field, OrderBy};
use crate::tracking::{RegisteredModel, RegistryVersion};
use crate::types::{PromotionRequestInfo, RegistryEventInfo, ReviewInfo, WebhookDeliveryInfo, WebhookInfo};

/// An event for the history and for webhooks.
#[derive(Clone, Debug, Default)]
pub struct NewEvent {
    pub kind: &'static str,
    pub alias: Option<String>,
    pub version: Option<i64>,
    pub previous_version: Option<i64>,
    pub request_id: Option<i64>,
    pub comment: String,
}

/// Who acts.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: i64,
    pub name: String,
}

/// Appends an event to the history and queues a delivery for every webhook that wants it.
pub async fn record_event(
    transaction: &mut Transaction<'_, Any>,
    workspace_id: i64,
    model: (i64, &str),
    actor: &Actor,
    event: NewEvent,
) -> Result<i64, sqlx::Error> {
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO registry_events (workspace_id, registered_model_id, model_name, kind, alias, version,
                                      previous_version, request_id, actor_id, actor_name, comment, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(workspace_id)
    .bind(model.0)
    .bind(model.1)
    .bind(event.kind)
    .bind(&event.alias)
    .bind(event.version)
    .bind(event.previous_version)
    .bind(event.request_id)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(&event.comment)
    .bind(now)
    .fetch_one(&mut **transaction)
    .await?;

    let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE workspace_id = $1 AND active = 1")
        .bind(workspace_id)
        .fetch_all(&mut **transaction)
        .await?;
    if !hooks.is_empty() {
        let payload = serde_json::json!({
            "id": id,
            "event": event.kind,
            "model": model.1,
            "alias": event.alias,
            "version": event.version,
            "previous_version": event.previous_version,
            "request_id": event.request_id,
            "actor": actor.name,
            "comment": event.comment,
            "created_at_ms": now,
        })
        .to_string();
        for hook in hooks {
            let events: String = hook.try_get("events")?;
            if !events.split(',').any(|wanted| wanted.trim() == event.kind || wanted.trim() == "*") {
                continue;
            }
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event_id, event_kind, payload, status, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            )
            .bind(hook.try_get::<i64, _>("id")?)
            .bind(id)
            .bind(event.kind)
            .bind(&payload)
            .bind(now)
            .execute(&mut **transaction)
            .await?;
        }
    }
    Ok(id)
}

const VERSION_COLUMNS: &str = "v.id, v.registered_model_id, m.name AS model_name, v.version, v.description, v.source, \
                               v.run_uuid, v.run_link, v.model_uuid, v.user_name, v.stage, v.created_at, v.updated_at";

fn version_from_row(row: &AnyRow) -> Result<RegistryVersion, sqlx::Error> {
    Ok(RegistryVersion {
        id: row.try_get("id")?,
        registered_model_id: row.try_get("registered_model_id")?,
        model_name: row.try_get("model_name")?,
        version: row.try_get("version")?,
        description: row.try_get("description")?,
        source: row.try_get("source")?,
        run_uuid: row.try_get("run_uuid")?,
        run_link: row.try_get("run_link")?,
        model_uuid: row.try_get("model_uuid")?,
        user_name: row.try_get("user_name")?,
        stage: row.try_get("stage")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        tags: Vec::new(),
        aliases: Vec::new(),
    })
}

fn request_from_row(row: &AnyRow) -> Result<PromotionRequestInfo, sqlx::Error> {
    Ok(PromotionRequestInfo {
        id: row.try_get("id")?,
        model_name: row.try_get("model_name")?,
        alias: row.try_get("alias")?,
        version: row.try_get("version")?,
        requested_by: row.try_get("requester")?,
        comment: row.try_get("comment")?,
        status: row.try_get("status")?,
        policy_json: row.try_get("policy_json")?,
        gates_json: row.try_get("gates_json")?,
        created_at_ms: row.try_get("created_at")?,
        decided_at_ms: row.try_get("decided_at")?,
        reviews: Vec::new(),
    })
}

const REQUEST_COLUMNS: &str = "r.id, m.name AS model_name, r.alias, r.version, u.username AS requester, r.comment, \
                               r.status, r.policy_json, r.gates_json, r.created_at, r.decided_at";

impl Db {
    // ---- Registered models -------------------------------------------------------------

    pub async fn create_registered_model(
        &self,
        workspace_id: i64,
        name: &str,
        description: &str,
        tags: &[(String, String)],
        actor: &Actor,
    ) -> Result<i64, sqlx::Error> {
        let now = now_ms();
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO registered_models (workspace_id, name, description, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        for (key, value) in tags {
            REGISTERED_MODEL_TAGS.set(&mut *transaction, id, key, value).await?;
        }
        record_event(&mut transaction, workspace_id, (id, name), actor, NewEvent { kind: "model_created", ..Default::default() }).await?;
        transaction.commit().await?;
        Ok(id)
    }

    pub async fn registered_model(&self, workspace_id: i64, name: &str) -> Result<Option<RegisteredModel>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM registered_models WHERE workspace_id = $1 AND name = $2")
            .bind(workspace_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(self.registered_model_from_row(&row).await?))
    }

    async fn registered_model_from_row(&self, row: &AnyRow) -> Result<RegisteredModel, sqlx::Error> {
        let id: i64 = row.try_get("id")?;
        let aliases = sqlx::query("SELECT alias, version FROM registry_aliases WHERE registered_model_id = $1 ORDER BY alias")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(RegisteredModel {
            id,
            workspace_id: row.try_get("workspace_id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            tags: REGISTERED_MODEL_TAGS.load(&self.pool, id).await?,
            aliases: aliases
                .iter()
                .map(|row| Ok((row.try_get("alias")?, row.try_get("version")?)))
                .collect::<Result<_, sqlx::Error>>()?,
        })
    }

    pub async fn search_registered_models(
        &self,
        workspace_id: i64,
        clauses: &[Clause],
        order_by: &[OrderBy],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<RegisteredModel>, SearchFailure> {
        let mut binds = Binds::default();
        let mut sql = format!("SELECT m.* FROM registered_models m WHERE m.workspace_id = {}", binds.int(workspace_id));
        for clause in clauses {
            let condition = match &clause.field {
                Field::Attribute(name) if name == "name" => compare_text(&mut binds, "m.name", clause),
                Field::Tag(key) => {
                    let key = binds.text(key);
                    format!(
                        "EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.registered_model_id = m.id AND t.key = {key} AND {})",
                        compare_text(&mut binds, "t.value", clause)
                    )
                }
                other => {
                    return Err(SearchFailure::Invalid(format!("registered models can be filtered by name or tags.<key>, not {other}")))
                }
            };
            sql.push_str(" AND ");
            sql.push_str(&condition);
        }
        let mut orders = Vec::new();
        for order in order_by {
            let column = match &order.field {
                Field::Attribute(name) if name == "name" => "m.name",
                Field::Attribute(name) if name == "timestamp" || name == "last_updated_timestamp" => "m.updated_at",
                Field::Attribute(name) if name == "creation_timestamp" => "m.created_at",
                other => {
                    return Err(SearchFailure::Invalid(format!(
                        "registered models can be ordered by name, creation_timestamp or last_updated_timestamp, not {other}"
                    )))
                }
            };
            orders.push(format!("{column} {}", if order.ascending { "ASC" } else { "DESC" }));
        }
        orders.push("m.name ASC".into());
        sql.push_str(&format!(" ORDER BY {} LIMIT {} OFFSET {}", orders.join(", "), binds.int(limit), binds.int(offset)));
        let rows = bind_all(sqlx::query(&sql), &binds.values).fetch_all(&self.pool).await?;
        let mut models = Vec::with_capacity(rows.len());
        for row in &rows {
            models.push(self.registered_model_from_row(row).await?);
        }
        Ok(models)
    }

    pub async fn update_registered_model(&self, id: i64, description: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE registered_models SET description = $1, updated_at = $2 WHERE id = $3")
            .bind(description)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn rename_registered_model(&self, id: i64, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE registered_models SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a registered model; its history stays, keyed by the model's name.
    pub async fn delete_registered_model(&self, model: &RegisteredModel, actor: &Actor) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        record_event(&mut transaction, model.workspace_id, (model.id, &model.name), actor, NewEvent { kind: "model_deleted", ..Default::default() })
            .await?;
        sqlx::query("DELETE FROM registered_models WHERE id = $1").bind(model.id).execute(&mut *transaction).await?;
        transaction.commit().await
    }



    // ---- Versions ----------------------------------------------------------------------

    /// Creates the next version number of `model`. Concurrent creations each get their own
    /// number: a collision on the unique (model, version) pair retries with the next one.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_registry_version(
        &self,
        model: &RegisteredModel,
        source: &str,
        run_uuid: &str,
        run_link: &str,
        description: &str,
        model_uuid: Option<&str>,
        tags: &[(String, String)],
        actor: &Actor,
    ) -> Result<i64, sqlx::Error> {
        for _attempt in 0..20 {
            let now = now_ms();
            let mut transaction = self.begin_write().await?;
            let next: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM registry_versions WHERE registered_model_id = $1",
            )
            .bind(model.id)
            .fetch_one(&mut *transaction)
            .await?;
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO registry_versions (registered_model_id, version, description, source, run_uuid, run_link,
                                                model_uuid, user_name, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            )
            .bind(model.id)
            .bind(next)
            .bind(description)
            .bind(source)
            .bind(run_uuid)
            .bind(run_link)
            .bind(model_uuid)
            .bind(&actor.name)
            .bind(now)
            .fetch_one(&mut *transaction)
            .await;
            let version_id = match inserted {
                Ok(id) => id,
                Err(error) if super::is_unique_violation(&error) => continue,
                Err(error) => return Err(error),
            };
            for (key, value) in tags {
                VERSION_TAGS.set(&mut *transaction, version_id, key, value).await?;
            }
            sqlx::query("UPDATE registered_models SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(model.id)
                .execute(&mut *transaction)
                .await?;
            record_event(
                &mut transaction,
                model.workspace_id,
                (model.id, &model.name),
                actor,
                NewEvent { kind: "version_created", version: Some(next), ..Default::default() },
            )
            .await?;
            match transaction.commit().await {
                Ok(()) => return Ok(next),
                Err(error) if super::is_unique_violation(&error) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(sqlx::Error::Protocol("could not pick a free version number after 20 attempts".into()))
    }

    pub async fn registry_version(&self, model_id: i64, version: i64) -> Result<Option<RegistryVersion>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM registry_versions v JOIN registered_models m ON m.id = v.registered_model_id
             WHERE v.registered_model_id = $1 AND v.version = $2"
        ))
        .bind(model_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut versions = self.with_version_extras(vec![version_from_row(&row)?]).await?;
        Ok(versions.pop())
    }

    async fn with_version_extras(&self, mut versions: Vec<RegistryVersion>) -> Result<Vec<RegistryVersion>, sqlx::Error> {
        for version in &mut versions {
            version.tags = VERSION_TAGS.load(&self.pool, version.id).await?;
            version.aliases = sqlx::query_scalar(
                "SELECT alias FROM registry_aliases WHERE registered_model_id = $1 AND version = $2 ORDER BY alias",
            )
            .bind(version.registered_model_id)
            .bind(version.version)
            .fetch_all(&self.pool)
            .await?;
        }
        Ok(versions)
    }

    pub async fn search_registry_versions(
        &self,
        workspace_id: i64,
        clauses: &[Clause],
        order_by: &[OrderBy],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<RegistryVersion>, SearchFailure> {
        let mut binds = Binds::default();
        let mut sql = format!(
            "SELECT {VERSION_COLUMNS} FROM registry_versions v JOIN registered_models m ON m.id = v.registered_model_id
             WHERE m.workspace_id = {}",
            binds.int(workspace_id)
        );
        for clause in clauses {
            let condition = match &clause.field {
                Field::Attribute(name) => {
                    let column = match name.as_str() {
                        "name" => "m.name",
                        "run_id" => "v.run_uuid",
                        "source_path" | "source" => "v.source",
                        "version_number" | "version" => "CAST(v.version AS TEXT)",
                        other => {
                            return Err(SearchFailure::Invalid(format!(
                                "model versions can be filtered by name, run_id, source_path, version_number or tags.<key>, not \"{other}\""
                            )))
                        }
                    };
                    compare_text(&mut binds, column, clause)
                }
                Field::Tag(key) => {
                    let key = binds.text(key);
                    format!(
                        "EXISTS (SELECT 1 FROM registry_version_tags t WHERE t.registry_version_id = v.id AND t.key = {key} AND {})",
                        compare_text(&mut binds, "t.value", clause)
                    )
                }
                other => return Err(SearchFailure::Invalid(format!("model versions cannot be filtered by {other}"))),
            };
            sql.push_str(" AND ");
            sql.push_str(&condition);
        }
        let mut orders = Vec::new();
        for order in order_by {
            let column = match &order.field {
                Field::Attribute(name) if name == "name" => "m.name",
                Field::Attribute(name) if name == "version_number" || name == "version" => "v.version",
                Field::Attribute(name) if name == "creation_timestamp" => "v.created_at",
                Field::Attribute(name) if name == "last_updated_timestamp" || name == "timestamp" => "v.updated_at",
                other => return Err(SearchFailure::Invalid(format!("model versions cannot be ordered by {other}"))),
            };
            orders.push(format!("{column} {}", if order.ascending { "ASC" } else { "DESC" }));
        }
        orders.push("m.name ASC".into());
        orders.push("v.version DESC".into());
        sql.push_str(&format!(" ORDER BY {} LIMIT {} OFFSET {}", orders.join(", "), binds.int(limit), binds.int(offset)));
        let rows = bind_all(sqlx::query(&sql), &binds.values).fetch_all(&self.pool).await?;
        let versions = rows.iter().map(version_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(self.with_version_extras(versions).await?)
    }

    pub async fn update_registry_version(&self, version_id: i64, description: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE registry_versions SET description = $1, updated_at = $2 WHERE id = $3")
            .bind(description)
            .bind(now_ms())
            .bind(version_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a version and the aliases that point at it, recording both.
    pub async fn delete_registry_version(&self, model: &RegisteredModel, version: i64, actor: &Actor) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        let aliases: Vec<String> = sqlx::query_scalar(
            "SELECT alias FROM registry_aliases WHERE registered_model_id = $1 AND version = $2",
        )
        .bind(model.id)
        .bind(version)
        .fetch_all(&mut *transaction)
        .await?;
        for alias in aliases {
            record_event(
                &mut transaction,
                model.workspace_id,
                (model.id, &model.name),
                actor,
                NewEvent { kind: "alias_removed", alias: Some(alias), previous_version: Some(version), comment: "the version was deleted".into(), ..Default::default() },
            )
            .await?;
        }
        sqlx::query("DELETE FROM registry_aliases WHERE registered_model_id = $1 AND version = $2")
            .bind(model.id)
            .bind(version)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM registry_versions WHERE registered_model_id = $1 AND version = $2")
            .bind(model.id)
            .bind(version)
            .execute(&mut *transaction)
            .await?;
        record_event(&mut transaction, model.workspace_id, (model.id, &model.name), actor, NewEvent { kind: "version_deleted", version: Some(version), ..Default::default() })
            .await?;
        transaction.commit().await
    }



    // ---- Aliases -----------------------------------------------------------------------

    /// Points `alias` at `version` directly (outside a promotion request) and records it.
    pub async fn set_alias_directly(
        &self,
        model: &RegisteredModel,
        alias: &str,
        version: i64,
        actor: &Actor,
        comment: &str,
    ) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        move_alias(&mut transaction, model, alias, version, actor, None, comment).await?;
        transaction.commit().await
    }

    pub async fn delete_alias(&self, model: &RegisteredModel, alias: &str, actor: &Actor) -> Result<bool, sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        let previous: Option<i64> = sqlx::query_scalar(
            "DELETE FROM registry_aliases WHERE registered_model_id = $1 AND alias = $2 RETURNING version",
        )
        .bind(model.id)
        .bind(alias)
        .fetch_optional(&mut *transaction)
        .await?;
        if previous.is_some() {
            record_event(
                &mut transaction,
                model.workspace_id,
                (model.id, &model.name),
                actor,
                NewEvent { kind: "alias_removed", alias: Some(alias.to_string()), previous_version: previous, ..Default::default() },
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(previous.is_some())
    }

    pub async fn alias_version(&self, model_id: i64, alias: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT version FROM registry_aliases WHERE registered_model_id = $1 AND alias = $2")
            .bind(model_id)
            .bind(alias)
            .fetch_optional(&self.pool)
            .await
    }

    // ---- Promotion requests ------------------------------------------------------------

    /// Opens a request to point `alias` at `version`. Pending requests for the same alias
    /// are superseded in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_promotion_request(
        &self,
        model: &RegisteredModel,
        alias: &str,
        version: i64,
        actor: &Actor,
        comment: &str,
        policy: &Policy,
        gates_json: &str,
    ) -> Result<i64, sqlx::Error> {
        // A concurrent request for the same alias makes the insert below fail on the
        // one-pending-request index; the retry then sees and supersedes it.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_create_promotion_request(model, alias, version, actor, comment, policy, gates_json).await {
                Err(error) if attempt < 20 && super::is_unique_violation(&error) => continue,
                result => return result,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn try_create_promotion_request(
        &self,
        model: &RegisteredModel,
        alias: &str,
        version: i64,
        actor: &Actor,
        comment: &str,
        policy: &Policy,
        gates_json: &str,
    ) -> Result<i64, sqlx::Error> {
        let now = now_ms();
        let mut transaction = self.begin_write().await?;
        let superseded: Vec<i64> = sqlx::query_scalar(
            "UPDATE promotion_requests SET status = 'superseded', decided_at = $1
             WHERE registered_model_id = $2 AND alias = $3 AND status = 'pending' RETURNING id",
        )
        .bind(now)
        .bind(model.id)
        .bind(alias)
        .fetch_all(&mut *transaction)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO promotion_requests (registered_model_id, alias, version, requested_by, comment, status,
                                             policy_json, gates_json, created_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING id",
        )
        .bind(model.id)
        .bind(alias)
        .bind(version)
        .bind(actor.id)
        .bind(comment)
        .bind(serde_json::to_string(policy).expect("a policy serializes"))
        .bind(gates_json)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        for old in superseded {
            record_event(
                &mut transaction,
                model.workspace_id,
                (model.id, &model.name),
                actor,
                NewEvent {
                    kind: "request_superseded",
                    alias: Some(alias.to_string()),
                    request_id: Some(old),
                    comment: format!("superseded by request #{id}"),
                    ..Default::default()
                },
            )
            .await?;
        }
        record_event(
            &mut transaction,
            model.workspace_id,
            (model.id, &model.name),
            actor,
            NewEvent { kind: "request_created", alias: Some(alias.to_string()), version: Some(version), request_id: Some(id), comment: comment.to_string(), ..Default::default() },
        )
        .await?;
        transaction.commit().await?;
        Ok(id)
    }

    pub async fn promotion_request(&self, workspace_id: i64, request_id: i64) -> Result<Option<PromotionRequestInfo>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM promotion_requests r JOIN registered_models m ON m.id = r.registered_model_id
             JOIN users u ON u.id = r.requested_by WHERE r.id = $1 AND m.workspace_id = $2"
        ))
        .bind(request_id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut request = request_from_row(&row)?;
        request.reviews = self.reviews(request.id).await?;
        Ok(Some(request))
    }

    async fn reviews(&self, request_id: i64) -> Result<Vec<ReviewInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT u.username, v.decision, v.comment, v.created_at FROM promotion_reviews v
             JOIN users u ON u.id = v.user_id WHERE v.request_id = $1 ORDER BY v.id",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReviewInfo {
                    username: row.try_get("username")?,
                    decision: row.try_get("decision")?,
                    comment: row.try_get("comment")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Requests of a model (or of every model of the workspace), newest first.
    pub async fn promotion_requests(
        &self,
        workspace_id: i64,
        model_id: Option<i64>,
        pending_only: bool,
    ) -> Result<Vec<PromotionRequestInfo>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM promotion_requests r JOIN registered_models m ON m.id = r.registered_model_id
             JOIN users u ON u.id = r.requested_by
             WHERE m.workspace_id = $1 AND ($2 = 0 OR r.registered_model_id = $2) AND ($3 = 0 OR r.status = 'pending')
             ORDER BY r.id DESC LIMIT 200"
        ))
        .bind(workspace_id)
        .bind(model_id.unwrap_or(0))
        .bind(i64::from(pending_only))
        .fetch_all(&self.pool)
        .await?;
        let mut requests = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut request = request_from_row(row)?;
            request.reviews = self.reviews(request.id).await?;
            requests.push(request);
        }
        Ok(requests)
    }

    /// Records one reviewer's decision. The request row is locked first (an UPDATE), so
    /// concurrent reviewers of one request go one at a time: exactly one of them sees the
    /// last required approval and moves the alias, and a repeated click changes nothing.
    pub async fn review_promotion(
        &self,
        model: &RegisteredModel,
        request_id: i64,
        actor: &Actor,
        approve: bool,
        comment: &str,
    ) -> Result<ReviewOutcome, sqlx::Error> {
        let now = now_ms();
        let mut transaction = self.begin_write().await?;
        let locked = sqlx::query(
            "UPDATE promotion_requests SET decided_at = decided_at WHERE id = $1 AND registered_model_id = $2
             RETURNING status, alias, version, policy_json, requested_by",
        )
        .bind(request_id)
        .bind(model.id)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(locked) = locked else { return Ok(ReviewOutcome::NotFound) };
        let status: String = locked.try_get("status")?;
        let alias: String = locked.try_get("alias")?;
        let version: i64 = locked.try_get("version")?;
        let policy: Policy = serde_json::from_str(&locked.try_get::<String, _>("policy_json")?).unwrap_or_default();

        let previous: Option<String> = sqlx::query_scalar(
            "SELECT decision FROM promotion_reviews WHERE request_id = $1 AND user_id = $2",
        )
        .bind(request_id)
        .bind(actor.id)
        .fetch_optional(&mut *transaction)
        .await?;
        if let Some(decision) = previous {
            transaction.commit().await?;
            return Ok(ReviewOutcome::AlreadyReviewed { decision, status });
        }
        if status != "pending" {
            transaction.commit().await?;
            return Ok(ReviewOutcome::Closed { status });
        }
        let decision = if approve { "approve" } else { "reject" };
        sqlx::query(
            "INSERT INTO promotion_reviews (request_id, user_id, decision, comment, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(request_id)
        .bind(actor.id)
        .bind(decision)
        .bind(comment)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let model_ref = (model.id, model.name.as_str());
        if !approve {
            sqlx::query("UPDATE promotion_requests SET status = 'rejected', decided_at = $1 WHERE id = $2")
                .bind(now)
                .bind(request_id)
                .execute(&mut *transaction)
                .await?;
            record_event(
                &mut transaction,
                model.workspace_id,
                model_ref,
                actor,
                NewEvent { kind: "request_rejected", alias: Some(alias), version: Some(version), request_id: Some(request_id), comment: comment.to_string(), ..Default::default() },
            )
            .await?;
            transaction.commit().await?;
            return Ok(ReviewOutcome::Rejected);
        }
        record_event(
            &mut transaction,
            model.workspace_id,
            model_ref,
            actor,
            NewEvent { kind: "review_approved", alias: Some(alias.clone()), version: Some(version), request_id: Some(request_id), comment: comment.to_string(), ..Default::default() },
        )
        .await?;
        let approvals: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM promotion_reviews WHERE request_id = $1 AND decision = 'approve'",
        )
        .bind(request_id)
        .fetch_one(&mut *transaction)
        .await?;
        if approvals < i64::from(policy.required_approvals.max(1)) {
            transaction.commit().await?;
            return Ok(ReviewOutcome::Approved { approvals, required: i64::from(policy.required_approvals.max(1)), alias_moved: false });
        }
        sqlx::query("UPDATE promotion_requests SET status = 'approved', decided_at = $1 WHERE id = $2")
            .bind(now)
            .bind(request_id)
            .execute(&mut *transaction)
            .await?;
        record_event(
            &mut transaction,
            model.workspace_id,
            model_ref,
            actor,
            NewEvent { kind: "request_approved", alias: Some(alias.clone()), version: Some(version), request_id: Some(request_id), ..Default::default() },
        )
        .await?;
        move_alias(&mut transaction, model, &alias, version, actor, Some(request_id), "").await?;
        transaction.commit().await?;
        Ok(ReviewOutcome::Approved { approvals, required: i64::from(policy.required_approvals.max(1)), alias_moved: true })
    }

    /// Cancels a pending request; returns false when it was no longer pending.
    pub async fn cancel_promotion(&self, model: &RegisteredModel, request_id: i64, actor: &Actor) -> Result<bool, sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE promotion_requests SET status = 'cancelled', decided_at = $1
             WHERE id = $2 AND registered_model_id = $3 AND status = 'pending' RETURNING alias, version",
        )
        .bind(now_ms())
        .bind(request_id)
        .bind(model.id)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(row) = row else { return Ok(false) };
        record_event(
            &mut transaction,
            model.workspace_id,
            (model.id, &model.name),
            actor,
            NewEvent {
                kind: "request_cancelled",
                alias: Some(row.try_get("alias")?),
                version: Some(row.try_get("version")?),
                request_id: Some(request_id),
                ..Default::default()
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    // ---- Policies ----------------------------------------------------------------------

    /// Returns the policy of a model, else the workspace default, else the built-in default.
    pub async fn promotion_policy(&self, workspace_id: i64, model_id: Option<i64>) -> Result<Policy, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT registered_model_id, policy_json FROM promotion_policies
             WHERE workspace_id = $1 AND (registered_model_id IS NULL OR registered_model_id = $2)",
        )
        .bind(workspace_id)
        .bind(model_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        let mut workspace_default = None;
        for row in &rows {
            let json: String = row.try_get("policy_json")?;
            let policy: Policy = serde_json::from_str(&json).unwrap_or_default();
            match row.try_get::<Option<i64>, _>("registered_model_id")? {
                Some(_) => return Ok(policy),
                None => workspace_default = Some(policy),
            }
        }
        Ok(workspace_default.unwrap_or_default())
    }

    /// Returns whether the model has a policy of its own rather than the workspace's.
    pub async fn has_own_policy(&self, workspace_id: i64, model_id: i64) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM promotion_policies WHERE workspace_id = $1 AND registered_model_id = $2",
        )
        .bind(workspace_id)
        .bind(model_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
    }

    pub async fn set_promotion_policy(&self, workspace_id: i64, model_id: Option<i64>, policy: &Policy) -> Result<(), sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM promotion_policies WHERE workspace_id = $1
             AND ((registered_model_id IS NULL AND $2 = -1) OR registered_model_id = $2)",
        )
        .bind(workspace_id)
        .bind(model_id.unwrap_or(-1))
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO promotion_policies (workspace_id, registered_model_id, policy_json, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(workspace_id)
        .bind(model_id)
        .bind(serde_json::to_string(policy).expect("a policy serializes"))
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await
    }

    // ---- History -----------------------------------------------------------------------

    pub async fn registry_events(&self, workspace_id: i64, model_name: &str, limit: i64) -> Result<Vec<RegistryEventInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, alias, version, previous_version, request_id, actor_name, comment, created_at
             FROM registry_events WHERE workspace_id = $1 AND model_name = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(workspace_id)
        .bind(model_name)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RegistryEventInfo {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    alias: row.try_get("alias")?,
                    version: row.try_get("version")?,
                    previous_version: row.try_get("previous_version")?,
                    request_id: row.try_get("request_id")?,
                    actor: row.try_get("actor_name")?,
                    comment: row.try_get("comment")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    // ---- Webhooks ----------------------------------------------------------------------

    pub async fn create_webhook(&self, workspace_id: i64, url: &str, secret: &str, events: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO webhooks (workspace_id, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(url)
        .bind(secret)
        .bind(events)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    pub async fn webhooks(&self, workspace_id: i64) -> Result<Vec<WebhookInfo>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, url, events, active, created_at FROM webhooks WHERE workspace_id = $1 ORDER BY id")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookInfo {
                    id: row.try_get("id")?,
                    url: row.try_get("url")?,
                    events: row.try_get("events")?,
                    active: row.try_get::<i64, _>("active")? != 0,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_webhook(&self, workspace_id: i64, webhook_id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2")
            .bind(webhook_id)
            .bind(workspace_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn webhook_deliveries(&self, workspace_id: i64, limit: i64) -> Result<Vec<WebhookDeliveryInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, h.url, d.event_kind, d.status, d.attempts, d.last_status_code, d.last_error,
                    d.created_at, d.delivered_at, d.next_attempt_at
             FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id
             WHERE h.workspace_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(workspace_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookDeliveryInfo {
                    id: row.try_get("id")?,
                    webhook_id: row.try_get("webhook_id")?,
                    url: row.try_get("url")?,
                    event: row.try_get("event_kind")?,
                    status: row.try_get("status")?,
                    attempts: row.try_get("attempts")?,
                    last_status_code: row.try_get("last_status_code")?,
                    last_error: row.try_get("last_error")?,
                    created_at_ms: row.try_get("created_at")?,
                    delivered_at_ms: row.try_get("delivered_at")?,
                    next_attempt_at_ms: row.try_get("next_attempt_at")?,
                })
            })
            .collect()
    }

    /// Claims up to `limit` due deliveries for `lease_ms`; another replica skips them. The
    /// outer conditions are checked again on PostgreSQL when two replicas race for a row.
    pub async fn claim_deliveries(&self, limit: i64, lease_ms: i64) -> Result<Vec<(i64, String, String, String, String, i64)>, sqlx::Error> {
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE webhook_deliveries SET claimed_until = $1
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $2
                          AND claimed_until < $2 ORDER BY id LIMIT $3)
               AND status = 'pending' AND claimed_until < $2
             RETURNING id, webhook_id, event_kind, payload, attempts",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let webhook_id: i64 = row.try_get("webhook_id")?;
            let hook = sqlx::query("SELECT url, secret FROM webhooks WHERE id = $1")
                .bind(webhook_id)
                .fetch_optional(&self.pool)
                .await?;
            let Some(hook) = hook else { continue };
            claimed.push((
                row.try_get("id")?,
                hook.try_get("url")?,
                hook.try_get("secret")?,
                row.try_get("event_kind")?,
                row.try_get("payload")?,
                row.try_get("attempts")?,
            ));
        }
        Ok(claimed)
    }

    pub async fn finish_delivery(
        &self,
        delivery_id: i64,
        delivered: bool,
        status_code: Option<i64>,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let status = match (delivered, next_attempt_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status_code = $2, last_error = $3,
                    next_attempt_at = $4, claimed_until = 0, delivered_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(status_code)
        .bind(error)
        .bind(next_attempt_at.unwrap_or(now))
        .bind(if delivered { Some(now) } else { None })
        .bind(delivery_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Points `alias` at `version` and records the move with the version it replaced.
pub async fn move_alias(
    transaction: &mut Transaction<'_, Any>,
    model: &RegisteredModel,
    alias: &str,
    version: i64,
    actor: &Actor,
    request_id: Option<i64>,
    comment: &str,
) -> Result<(), sqlx::Error> {
    let previous: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM registry_aliases WHERE registered_model_id = $1 AND alias = $2",
    )
    .bind(model.id)
    .bind(alias)
    .fetch_optional(&mut **transaction)
    .await?;
    sqlx::query(
        "INSERT INTO registry_aliases (registered_model_id, alias, version, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (registered_model_id, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
    )
    .bind(model.id)
    .bind(alias)
    .bind(version)
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    record_event(
        transaction,
        model.workspace_id,
        (model.id, &model.name),
        actor,
        NewEvent {
            kind: if request_id.is_some() { "alias_moved" } else { "alias_set_directly" },
            alias: Some(alias.to_string()),
            version: Some(version),
            previous_version: previous,
            request_id,
            comment: comment.to_string(),
        },
    )
    .await?;
    Ok(())
}



/// Text comparison for registry filters (names, tags): numbers compare as their text.
fn compare_text(binds: &mut Binds, column: &str, clause: &Clause) -> String {
    use crate::tracking::search::{Op, Value};
    match (&clause.value, clause.op) {
        (Value::List(items), op) => format!("{column} {} {}", op.sql(), binds.list(items)),
        (Value::Text(text), Op::ILike) => format!("LOWER({column}) LIKE LOWER({})", binds.text(text)),
        (Value::Text(text), op) => format!("{column} {} {}", op.sql(), binds.text(text)),
        (Value::Number(number), op) => format!("{column} {} {}", op.sql(), binds.text(&format_number(*number))),
    }
}

fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}
