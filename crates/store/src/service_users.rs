//! Service users of each environment.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{EnvId, ServiceUserId};
use onramp_domain::service_users::ServiceUser;
use onramp_domain::store::ServiceUserStore;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, to_json};

#[derive(sqlx::FromRow)]
struct ServiceUserRow {
    id: String,
    env_id: String,
    username: String,
    password_hash: String,
    roles: String,
    disabled_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Record for ServiceUserRow {
    type Domain = ServiceUser;
    fn into_domain(self) -> R<ServiceUser> {
        Ok(ServiceUser {
            id: self.id.into(),
            env_id: self.env_id.into(),
            username: self.username,
            password_hash: self.password_hash,
            roles: from_json("roles", &self.roles)?,
            disabled_at: self.disabled_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[async_trait]
impl ServiceUserStore for SqlStore {
    async fn create_service_user(&self, u: &ServiceUser, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO service_users (id, env_id, username, password_hash, roles, disabled_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(u.id.as_str())
            .bind(u.env_id.as_str())
            .bind(&u.username)
            .bind(&u.password_hash)
            .bind(to_json(&u.roles))
            .bind(u.disabled_at)
            .bind(u.created_at)
            .bind(u.updated_at)
            .run(c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn service_user_by_name(&self, env_id: &EnvId, username: &str) -> R<Option<ServiceUser>> {
        sqlx::query("SELECT * FROM service_users WHERE env_id = $1 AND username = $2")
            .bind(env_id.as_str())
            .bind(username)
            .optional::<ServiceUserRow, _>(&self.pool)
            .await
    }

    async fn service_user(&self, env_id: &EnvId, id: &ServiceUserId) -> R<Option<ServiceUser>> {
        sqlx::query("SELECT * FROM service_users WHERE env_id = $1 AND id = $2")
            .bind(env_id.as_str())
            .bind(id.as_str())
            .optional::<ServiceUserRow, _>(&self.pool)
            .await
    }

    async fn service_users(&self, env_id: &EnvId) -> R<Vec<ServiceUser>> {
        sqlx::query("SELECT * FROM service_users WHERE env_id = $1 ORDER BY username")
            .bind(env_id.as_str())
            .all::<ServiceUserRow, _>(&self.pool)
            .await
    }

    async fn update_service_user(&self, u: &ServiceUser, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "UPDATE service_users SET password_hash = $3, roles = $4, disabled_at = $5, updated_at = $6 WHERE env_id = $1 AND id = $2",
            )
            .bind(u.env_id.as_str())
            .bind(u.id.as_str())
            .bind(&u.password_hash)
            .bind(to_json(&u.roles))
            .bind(u.disabled_at)
            .bind(u.updated_at)
            .expect_row(c)
            .await
        })
        .await
    }
}
