//! Personal API tokens. Only a SHA-256 hash of each token is stored.

use sqlx::Row;

use super::{now_ms, Db};
use crate::types::TokenInfo;

impl Db {
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        prefix: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(prefix)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    /// Returns the user owning the unrevoked token with this hash and stamps its last use.
    pub async fn user_for_token(&self, token_hash: &str) -> Result<Option<i64>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1
             WHERE token_hash = $2 AND revoked_at IS NULL RETURNING user_id",
        )
        .bind(now_ms())
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| row.try_get("user_id")).transpose()
    }

    pub async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
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
