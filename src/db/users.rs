//! Accounts.

use sqlx::Row;

use super::{now_ms, Db};

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub default_workspace_id: Option<i64>,
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        default_workspace_id: row.try_get("default_workspace_id")?,
    })
}

const USER_COLUMNS: &str = "id, username, password_hash, is_admin, default_workspace_id";

impl Db {
    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await
    }

    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, is_admin, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(is_admin as i64)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql).bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn set_default_workspace(
        &self,
        user_id: i64,
        workspace_id: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET default_workspace_id = $1 WHERE id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed login under `scope_key` (an account or a client address).
    pub async fn record_login_failure(&self, scope_key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO login_failures (scope_key, failed_at) VALUES ($1, $2)")
            .bind(scope_key)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts failed logins under `scope_key` since `since_ms`.
    pub async fn count_login_failures(
        &self,
        scope_key: &str,
        since_ms: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE scope_key = $1 AND failed_at >= $2",
        )
        .bind(scope_key)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await
    }

    pub async fn clear_login_failures(&self, scope_key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_failures WHERE scope_key = $1")
            .bind(scope_key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_login_failures_before(&self, before_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
