//! Instances, environments with their hostnames, and signing keys.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::EnvId;
use onramp_domain::store::{StoreError, TenancyStore};
use onramp_domain::tenancy::signing::sealed::StoredSeed;
use onramp_domain::tenancy::signing::{KeyAlg, SigningKey};
use onramp_domain::tenancy::{EnvKind, Environment, Instance, PlatformId};
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, to_json};

#[derive(sqlx::FromRow)]
struct InstanceRow {
    platform_id: String,
    name: String,
    region: String,
    app_url: String,
    features: String,
    rate_limits: String,
    link_template: Option<String>,
    login_link_ttl_secs: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Record for InstanceRow {
    type Domain = Instance;
    fn into_domain(self) -> R<Instance> {
        Ok(Instance {
            platform_id: platform_id(&self.platform_id)?,
            name: self.name,
            region: self.region,
            app_url: self.app_url,
            features: from_json("features", &self.features)?,
            rate_limits: from_json("rate_limits", &self.rate_limits)?,
            link_template: self.link_template,
            login_link_ttl_secs: self.login_link_ttl_secs,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// An environment's own columns; its hostnames are read separately.
#[derive(sqlx::FromRow)]
struct EnvironmentRow {
    id: String,
    platform_id: String,
    kind: String,
    cors_origins: String,
}

impl Record for EnvironmentRow {
    type Domain = Environment;
    fn into_domain(self) -> R<Environment> {
        Ok(Environment {
            platform_id: platform_id(&self.platform_id)?,
            kind: env_kind(&self.kind)?,
            hostnames: Vec::new(),
            cors_origins: from_json("cors_origins", &self.cors_origins)?,
            id: self.id.into(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct EnvRefRow {
    platform_id: String,
    kind: String,
}

impl Record for EnvRefRow {
    type Domain = (PlatformId, EnvKind);
    fn into_domain(self) -> R<Self::Domain> {
        Ok((platform_id(&self.platform_id)?, env_kind(&self.kind)?))
    }
}

#[derive(sqlx::FromRow)]
struct HostnameRow {
    hostname: String,
}

impl Record for HostnameRow {
    type Domain = String;
    fn into_domain(self) -> R<String> {
        Ok(self.hostname)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    env_id: String,
    alg: String,
    seed: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

impl Record for SigningKeyRow {
    type Domain = SigningKey;
    fn into_domain(self) -> R<SigningKey> {
        Ok(SigningKey {
            kid: self.kid,
            env_id: self.env_id.into(),
            alg: KeyAlg::parse(&self.alg).ok_or_else(|| StoreError::other(format!("unknown signing key algorithm `{}`", self.alg)))?,
            seed: StoredSeed::from_stored(self.seed),
            created_at: self.created_at,
            retired_at: self.retired_at,
        })
    }
}

pub(crate) fn platform_id(raw: &str) -> R<PlatformId> {
    PlatformId::parse(raw).map_err(StoreError::other)
}

pub(crate) fn env_kind(raw: &str) -> R<EnvKind> {
    raw.parse::<EnvKind>().map_err(StoreError::other)
}

pub(crate) async fn insert_key(c: &mut AnyConnection, key: &SigningKey) -> R<()> {
    sqlx::query("INSERT INTO signing_keys (kid, env_id, alg, seed, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&key.kid)
        .bind(key.env_id.as_str())
        .bind(key.alg.as_str())
        .bind(key.seed.as_bytes())
        .bind(key.created_at)
        .bind(key.retired_at)
        .run(c)
        .await?;
    Ok(())
}

#[async_trait]
impl TenancyStore for SqlStore {
    async fn ping(&self) -> R<()> {
        sqlx::query("SELECT 1").run(&self.pool).await?;
        Ok(())
    }

    async fn create_instance(&self, i: &Instance, envs: &[Environment], keys: &[SigningKey], audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO instances (platform_id, name, region, app_url, features, rate_limits, link_template, login_link_ttl_secs, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(i.platform_id.as_str())
            .bind(&i.name)
            .bind(&i.region)
            .bind(&i.app_url)
            .bind(to_json(&i.features))
            .bind(to_json(&i.rate_limits))
            .bind(i.link_template.as_deref())
            .bind(i.login_link_ttl_secs)
            .bind(i.created_at)
            .bind(i.updated_at)
            .run(&mut *c)
            .await?;
            for env in envs {
                sqlx::query("INSERT INTO environments (id, platform_id, kind, cors_origins) VALUES ($1, $2, $3, $4)")
                    .bind(env.id.as_str())
                    .bind(env.platform_id.as_str())
                    .bind(env.kind.as_str())
                    .bind(to_json(&env.cors_origins))
                    .run(&mut *c)
                    .await?;
            }
            for key in keys {
                insert_key(c, key).await?;
            }
            Ok(())
        })
        .await
    }

    async fn update_instance(&self, i: &Instance, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "UPDATE instances SET name = $2, region = $3, app_url = $4, features = $5, rate_limits = $6, updated_at = $7,
                 link_template = $8, login_link_ttl_secs = $9 WHERE platform_id = $1",
            )
            .bind(i.platform_id.as_str())
            .bind(&i.name)
            .bind(&i.region)
            .bind(&i.app_url)
            .bind(to_json(&i.features))
            .bind(to_json(&i.rate_limits))
            .bind(i.updated_at)
            .bind(i.link_template.as_deref())
            .bind(i.login_link_ttl_secs)
            .expect_row(c)
            .await
        })
        .await
    }

    async fn instance(&self, id: &PlatformId) -> R<Option<Instance>> {
        sqlx::query("SELECT * FROM instances WHERE platform_id = $1")
            .bind(id.as_str())
            .optional::<InstanceRow, _>(&self.pool)
            .await
    }

    async fn instances(&self) -> R<Vec<Instance>> {
        sqlx::query("SELECT * FROM instances ORDER BY platform_id")
            .all::<InstanceRow, _>(&self.pool)
            .await
    }

    async fn instances_page(&self, search: &str, after: &str, limit: u32) -> R<Vec<Instance>> {
        let pattern = format!("%{}%", crate::audit::like_escaped(&search.to_lowercase()));
        sqlx::query(
            "SELECT * FROM instances WHERE platform_id > $1
             AND (LOWER(platform_id) LIKE $2 ESCAPE '\\' OR LOWER(name) LIKE $2 ESCAPE '\\')
             ORDER BY platform_id LIMIT $3",
        )
        .bind(after)
        .bind(pattern)
        .bind(i64::from(limit))
        .all::<InstanceRow, _>(&self.pool)
        .await
    }

    async fn environment(&self, id: &PlatformId, kind: EnvKind) -> R<Option<Environment>> {
        let env = sqlx::query("SELECT * FROM environments WHERE platform_id = $1 AND kind = $2")
            .bind(id.as_str())
            .bind(kind.as_str())
            .optional::<EnvironmentRow, _>(&self.pool)
            .await?;
        let Some(mut env) = env else { return Ok(None) };
        env.hostnames = sqlx::query("SELECT hostname FROM hostnames WHERE env_id = $1 ORDER BY hostname")
            .bind(env.id.as_str())
            .all::<HostnameRow, _>(&self.pool)
            .await?;
        Ok(Some(env))
    }

    async fn environment_by_hostname(&self, host: &str) -> R<Option<(PlatformId, EnvKind)>> {
        sqlx::query("SELECT e.platform_id, e.kind FROM hostnames h JOIN environments e ON e.id = h.env_id WHERE h.hostname = $1")
            .bind(host)
            .optional::<EnvRefRow, _>(&self.pool)
            .await
    }

    async fn update_environment(&self, env: &Environment, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE environments SET cors_origins = $2 WHERE id = $1")
                .bind(env.id.as_str())
                .bind(to_json(&env.cors_origins))
                .expect_row(&mut *c)
                .await?;
            sqlx::query("DELETE FROM hostnames WHERE env_id = $1")
                .bind(env.id.as_str())
                .run(&mut *c)
                .await?;
            for host in &env.hostnames {
                sqlx::query("INSERT INTO hostnames (hostname, env_id) VALUES ($1, $2)")
                    .bind(host)
                    .bind(env.id.as_str())
                    .run(&mut *c)
                    .await?;
            }
            Ok(())
        })
        .await
    }

    async fn signing_keys(&self, env_id: &EnvId) -> R<Vec<SigningKey>> {
        sqlx::query("SELECT * FROM signing_keys WHERE env_id = $1 ORDER BY created_at")
            .bind(env_id.as_str())
            .all::<SigningKeyRow, _>(&self.pool)
            .await
    }

    async fn rotate_signing_keys(&self, env_id: &EnvId, new: &[SigningKey], now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE env_id = $1 AND retired_at IS NULL")
                .bind(env_id.as_str())
                .bind(now)
                .run(&mut *c)
                .await?;
            for key in new {
                insert_key(c, key).await?;
            }
            Ok(())
        })
        .await
    }
}
