//! Personal API tokens. Only a SHA-256 hash of each token is stored.

use sqlx::Row;

use super::workspaces::{role_from_text, Membership};
use super::{now_ms, Db};
use crate::types::TokenInfo;

/// The user an API token acts for.
#[derive(Clone, Debug)]
pub struct TokenIdentity {
    pub user_id: i64,
    pub username: String,
    pub is_admin: bool,
    /// The workspace the token is limited to, if it is.
    pub token_workspace_id: Option<i64>,
    /// The user's membership in the token's workspace, or else in the user's default
    /// workspace; `None` when the user is not a member there.
    pub membership: Option<Membership>,
}

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

    /// Returns who the unrevoked token with this hash acts for, with the membership of the
    /// workspace a request acts in by default, all in one query because every API request
    /// needs them. The token's last use is stamped at most once a minute, so that busy
    /// clients do not turn every read into a database write.
    pub async fn token_identity(&self, token_hash: &str) -> Result<Option<TokenIdentity>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.user_id, t.workspace_id AS token_workspace_id, t.last_used_at,
                    u.username, u.is_admin, w.id AS workspace_id, w.slug, w.name, m.role
             FROM api_tokens t
             JOIN users u ON u.id = t.user_id
             LEFT JOIN workspaces w ON w.id = COALESCE(t.workspace_id, u.default_workspace_id)
             LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
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
                .bind(row.try_get::<i64, _>("token_id")?)
                .execute(&self.pool)
                .await?;
        }
        let role: Option<String> = row.try_get("role")?;
        let membership = match role {
            Some(role) => Some(Membership {
                workspace_id: row.try_get("workspace_id")?,
                slug: row.try_get("slug")?,
                name: row.try_get("name")?,
                role: role_from_text(role)?,
            }),
            None => None,
        };
        Ok(Some(TokenIdentity {
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            token_workspace_id: row.try_get("token_workspace_id")?,
            membership,
        }))
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
