//! OAuth: service users' client secrets (by the hash of their value) and
//! revoked access tokens.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{ClientSecretId, EnvId, ServiceUserId};
use onramp_domain::oauth::ClientSecret;
use onramp_domain::service_users::ServiceUser;
use onramp_domain::store::{ClientLookup, OAuthStore};

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json};
use crate::tenancy::{env_kind, platform_id};

#[derive(sqlx::FromRow)]
struct SecretRow {
    id: String,
    env_id: String,
    platform_id: String,
    kind: String,
    service_user_id: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl Record for SecretRow {
    type Domain = ClientSecret;
    fn into_domain(self) -> R<ClientSecret> {
        Ok(ClientSecret {
            id: self.id.into(),
            env_id: self.env_id.into(),
            platform_id: platform_id(&self.platform_id)?,
            environment: env_kind(&self.kind)?,
            service_user_id: self.service_user_id.into(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// A secret with its service user's columns (`u_…`) and the revocation
/// of the token asked about alongside.
#[derive(sqlx::FromRow)]
struct ClientRow {
    #[sqlx(flatten)]
    secret: SecretRow,
    revoked_jti: Option<String>,
    u_username: String,
    u_password_hash: String,
    u_roles: String,
    u_disabled_at: Option<i64>,
    u_created_at: i64,
    u_updated_at: i64,
}

impl ClientRow {
    fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            secret: SecretRow {
                id: row.get("id")?,
                env_id: row.get("env_id")?,
                platform_id: row.get("platform_id")?,
                kind: row.get("kind")?,
                service_user_id: row.get("service_user_id")?,
                created_at: row.get("created_at")?,
                expires_at: row.get("expires_at")?,
                revoked_at: row.get("revoked_at")?,
            },
            revoked_jti: row.get("revoked_jti")?,
            u_username: row.get("u_username")?,
            u_password_hash: row.get("u_password_hash")?,
            u_roles: row.get("u_roles")?,
            u_disabled_at: row.get("u_disabled_at")?,
            u_created_at: row.get("u_created_at")?,
            u_updated_at: row.get("u_updated_at")?,
        })
    }
}

impl Record for ClientRow {
    type Domain = ClientLookup;
    fn into_domain(self) -> R<ClientLookup> {
        let secret = self.secret.into_domain()?;
        let user = ServiceUser {
            id: secret.service_user_id.clone(),
            env_id: secret.env_id.clone(),
            username: self.u_username,
            password_hash: self.u_password_hash,
            roles: from_json("roles", &self.u_roles)?,
            disabled_at: self.u_disabled_at,
            created_at: self.u_created_at,
            updated_at: self.u_updated_at,
        };
        Ok(ClientLookup {
            secret,
            user,
            token_revoked: self.revoked_jti.is_some(),
        })
    }
}

/// The secret's columns and its environment's, from `oauth_client_secrets s JOIN environments e`.
const COLUMNS: &str = "s.id, s.env_id, e.platform_id, e.kind, s.service_user_id, s.created_at, s.expires_at, s.revoked_at";
const FROM: &str = "oauth_client_secrets s JOIN environments e ON e.id = s.env_id";

#[async_trait]
impl OAuthStore for SqlStore {
    async fn create_client_secret(&self, s: &ClientSecret, secret_hash: &str, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO oauth_client_secrets (id, env_id, service_user_id, secret_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(s.id.as_str())
            .bind(s.env_id.as_str())
            .bind(s.service_user_id.as_str())
            .bind(secret_hash)
            .bind(s.created_at)
            .bind(s.expires_at)
            .run(c)
            .await
            .map(|_| ())
        })
        .await
    }

    async fn client_secrets(&self, env_id: &EnvId, user: &ServiceUserId) -> R<Vec<ClientSecret>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE s.env_id = $1 AND s.service_user_id = $2 ORDER BY s.created_at, s.id"
        )))
        .bind(env_id.as_str())
        .bind(user.as_str())
        .all::<SecretRow, _>(&self.pool)
        .await
    }

    async fn client_secret(&self, id: &ClientSecretId) -> R<Option<ClientSecret>> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM {FROM} WHERE s.id = $1")))
            .bind(id.as_str())
            .optional::<SecretRow, _>(&self.pool)
            .await
    }

    async fn revoke_client_secret(&self, id: &ClientSecretId, at: i64, audit: &AuditEvent) -> R<bool> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE oauth_client_secrets SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.as_str())
                .bind(at)
                .run(c)
                .await
                .map(|n| n == 1)
        })
        .await
    }

    async fn client_by_secret_hash(&self, secret_hash: &str, also_revoked: Option<(&EnvId, &str)>) -> R<Option<ClientLookup>> {
        // No environment id is empty, so an absent question finds nothing.
        let (env_id, jti) = also_revoked.map_or(("", ""), |(env, jti)| (env.as_str(), jti));
        // Every token and introspection request's statement, built once.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {COLUMNS}, u.username AS u_username, u.password_hash AS u_password_hash, u.roles AS u_roles,
                        u.disabled_at AS u_disabled_at, u.created_at AS u_created_at, u.updated_at AS u_updated_at,
                        (SELECT r.jti FROM revoked_tokens r WHERE r.env_id = $2 AND r.jti = $3) AS revoked_jti
                 FROM {FROM} JOIN service_users u ON u.id = s.service_user_id
                 WHERE s.secret_hash = $1"
            )
        });
        let sql: &str = &SQL;
        let args: [(&str, &(dyn rusqlite::ToSql + Sync)); 3] = [("$1", &secret_hash), ("$2", &env_id), ("$3", &jti)];
        if let Some(found) = self.inline_row(sql, &args, ClientRow::of_inline)? {
            return Ok(found);
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(secret_hash)
            .bind(env_id)
            .bind(jti)
            .optional::<ClientRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn revoke_token(&self, env_id: &EnvId, jti: &str, expires_at: i64, now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("DELETE FROM revoked_tokens WHERE env_id = $1 AND expires_at <= $2")
                .bind(env_id.as_str())
                .bind(now)
                .run(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO revoked_tokens (env_id, jti, expires_at, revoked_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (env_id, jti) DO NOTHING",
            )
            .bind(env_id.as_str())
            .bind(jti)
            .bind(expires_at)
            .bind(now)
            .run(c)
            .await
            .map(|_| ())
        })
        .await
    }

    async fn revoked_jtis(&self, env_id: &EnvId, now: i64) -> R<Vec<String>> {
        sqlx::query_scalar::<_, String>("SELECT jti FROM revoked_tokens WHERE env_id = $1 AND expires_at > $2")
            .bind(env_id.as_str())
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(crate::map_err)
    }
}
