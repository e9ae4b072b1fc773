//! Personal API tokens. Only a SHA-256 hash of each token is stored.

use sqlx::Row;

use super::{now_ms, Db};
use crate::types::TokenInfo;

/// How often a token's last use is written, in milliseconds.
const TOKEN_USE_STAMP_MS: i64 = 60_000;

impl Db {
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        prefix: &str,
        workspace_id: Option<i64>,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, workspace_id)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(prefix)
        .bind(now_ms())
        .bind(workspace_id)
        .fetch_one(&self.pool)
        .await
    }

    /// Returns the user owning the unrevoked token with this hash, and the workspace the
    /// token is limited to, if any. The token's last use is stamped at most once a minute,
    /// so that busy clients do not turn every read into a database write.
    pub async fn user_for_token(&self, token_hash: &str) -> Result<Option<(i64, Option<i64>)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, user_id, workspace_id, last_used_at FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_ms();
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        if last_used.is_none_or(|last| now - last >= TOKEN_USE_STAMP_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some((row.try_get("user_id")?, row.try_get("workspace_id")?)))
    }

    /// Limits token `token_id` to one workspace.
    pub async fn scope_token(&self, token_id: i64, workspace_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE api_tokens SET workspace_id = $1 WHERE id = $2")
            .bind(workspace_id)
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.prefix, t.created_at, t.last_used_at, w.slug AS workspace FROM api_tokens t
             LEFT JOIN workspaces w ON w.id = t.workspace_id
             WHERE t.user_id = $1 AND t.revoked_at IS NULL ORDER BY t.created_at DESC, t.id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenInfo {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    created_at_ms: row.try_get("created_at")?,
                    last_used_at_ms: row.try_get("last_used_at")?,
                    workspace: row.try_get("workspace")?,
                })
            })
            .collect()
    }

    /// Revokes token `token_id` if it belongs to `user_id`; returns whether one was revoked.
    pub async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(token_id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }
}
