//! Workspaces and their members. Every workspace lookup goes through a membership, so a
//! non-member cannot tell a workspace exists.

use sqlx::Row;

use super::{now_ms, Db};
use crate::types::{MemberInfo, Role, WorkspaceSummary};

/// A workspace as seen by one of its members.
#[derive(Clone, Debug)]
pub struct Membership {
    pub workspace_id: i64,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

pub(super) fn role_from_text(text: String) -> Result<Role, sqlx::Error> {
    Role::parse(&text).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {text:?}").into()))
}

impl Db {
    /// Creates a workspace with `owner_id` as its owner, in one transaction.
    pub async fn create_workspace(
        &self,
        slug: &str,
        name: &str,
        owner_id: i64,
    ) -> Result<i64, sqlx::Error> {
        let mut transaction = self.begin_write().await?;
        let workspace_id: i64 = sqlx::query_scalar(
            "INSERT INTO workspaces (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(workspace_id)
        .bind(owner_id)
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(workspace_id)
    }

    /// Returns the workspace `slug` if `user_id` is a member of it.
    pub async fn membership(
        &self,
        user_id: i64,
        slug: &str,
    ) -> Result<Option<Membership>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT w.id, w.slug, w.name, m.role FROM workspaces w
             JOIN memberships m ON m.workspace_id = w.id
             WHERE w.slug = $1 AND m.user_id = $2",
        )
        .bind(slug)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Membership {
            workspace_id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            role: role_from_text(row.try_get("role")?)?,
        }))
    }

    /// Returns workspace `workspace_id` if `user_id` is a member of it.
    pub async fn membership_by_id(&self, user_id: i64, workspace_id: i64) -> Result<Option<Membership>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT w.id, w.slug, w.name, m.role FROM workspaces w
             JOIN memberships m ON m.workspace_id = w.id
             WHERE w.id = $1 AND m.user_id = $2",
        )
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Membership {
            workspace_id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            role: role_from_text(row.try_get("role")?)?,
        }))
    }

    pub async fn workspaces_of(&self, user_id: i64) -> Result<Vec<WorkspaceSummary>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT w.slug, w.name, m.role FROM workspaces w
             JOIN memberships m ON m.workspace_id = w.id
             WHERE m.user_id = $1 ORDER BY w.name, w.slug",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WorkspaceSummary {
                    slug: row.try_get("slug")?,
                    name: row.try_get("name")?,
                    role: role_from_text(row.try_get("role")?)?,
                })
            })
            .collect()
    }

    pub async fn rename_workspace(&self, workspace_id: i64, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(workspace_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn members(&self, workspace_id: i64) -> Result<Vec<MemberInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = $1 ORDER BY u.username",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MemberInfo {
                    username: row.try_get("username")?,
                    role: role_from_text(row.try_get("role")?)?,
                })
            })
            .collect()
    }

    /// Adds `user_id` with `role`, or changes the role of an existing member.
    pub async fn upsert_member(
        &self,
        workspace_id: i64,
        user_id: i64,
        role: Role,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(workspace_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_member(&self, workspace_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn count_owners(&self, workspace_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
        )
        .bind(workspace_id)
        .fetch_one(&self.pool)
        .await
    }

    pub async fn workspace_slug_taken(&self, slug: &str) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }
}
