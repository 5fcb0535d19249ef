//! Partners and their API keys.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{EnvId, KeyId, PartnerId};
use onramp_domain::partners::{ApiKey, Partner, PartnerStatus, Scope};
use onramp_domain::store::{PartnerStore, StoreError};
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, insert_audit, to_json};
use crate::errors::map_err;
use crate::tenancy::{env_kind, platform_id};

/// Partners are read with their environment's instance and kind.
const PARTNER_SELECT: &str = "SELECT p.*, e.platform_id, e.kind FROM partners p JOIN environments e ON e.id = p.env_id";

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: String,
    env_id: String,
    platform_id: String,
    kind: String,
    name: String,
    status: String,
    allowed_scopes: String,
    created_at: i64,
    updated_at: i64,
}

impl Record for PartnerRow {
    type Domain = Partner;
    fn into_domain(self) -> R<Partner> {
        Ok(Partner {
            id: self.id.into(),
            env_id: self.env_id.into(),
            platform_id: platform_id(&self.platform_id)?,
            environment: env_kind(&self.kind)?,
            name: self.name,
            status: self.status.parse::<PartnerStatus>().map_err(StoreError::other)?,
            allowed_scopes: from_json("allowed_scopes", &self.allowed_scopes)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    key_id: String,
    partner_id: String,
    env_id: String,
    key_hash: String,
    scopes: String,
    created_at: i64,
    expires_at: Option<i64>,
    retires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    rotated_to: Option<String>,
}

impl ApiKeyRow {
    fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            key_id: row.get("key_id")?,
            partner_id: row.get("partner_id")?,
            env_id: row.get("env_id")?,
            key_hash: row.get("key_hash")?,
            scopes: row.get("scopes")?,
            created_at: row.get("created_at")?,
            expires_at: row.get("expires_at")?,
            retires_at: row.get("retires_at")?,
            revoked_at: row.get("revoked_at")?,
            last_used_at: row.get("last_used_at")?,
            rotated_to: row.get("rotated_to")?,
        })
    }
}

impl Record for ApiKeyRow {
    type Domain = ApiKey;
    fn into_domain(self) -> R<ApiKey> {
        Ok(ApiKey {
            key_id: self.key_id.into(),
            partner_id: self.partner_id.into(),
            env_id: self.env_id.into(),
            key_hash: self.key_hash,
            scopes: from_json("scopes", &self.scopes)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            retires_at: self.retires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            rotated_to: self.rotated_to.map(Into::into),
        })
    }
}

/// A key and its partner in one row, so that authenticating a request takes
/// one statement.
#[derive(sqlx::FromRow)]
struct KeyWithPartnerRow {
    #[sqlx(flatten)]
    key: ApiKeyRow,
    p_name: String,
    p_status: String,
    p_allowed_scopes: String,
    p_created_at: i64,
    p_updated_at: i64,
    platform_id: String,
    kind: String,
}

impl KeyWithPartnerRow {
    fn of_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            key: ApiKeyRow::of_inline(row)?,
            p_name: row.get("p_name")?,
            p_status: row.get("p_status")?,
            p_allowed_scopes: row.get("p_allowed_scopes")?,
            p_created_at: row.get("p_created_at")?,
            p_updated_at: row.get("p_updated_at")?,
            platform_id: row.get("platform_id")?,
            kind: row.get("kind")?,
        })
    }
}

impl Record for KeyWithPartnerRow {
    type Domain = (ApiKey, Partner);
    fn into_domain(self) -> R<Self::Domain> {
        let partner = PartnerRow {
            id: self.key.partner_id.clone(),
            env_id: self.key.env_id.clone(),
            platform_id: self.platform_id,
            kind: self.kind,
            name: self.p_name,
            status: self.p_status,
            allowed_scopes: self.p_allowed_scopes,
            created_at: self.p_created_at,
            updated_at: self.p_updated_at,
        };
        Ok((self.key.into_domain()?, partner.into_domain()?))
    }
}

async fn revoke(c: &mut AnyConnection, key_id: &KeyId, now: i64) -> R<()> {
    sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE key_id = $1")
        .bind(key_id.as_str())
        .bind(now)
        .expect_row(c)
        .await
}

/// Adds a partner (the operator's, or an application through the portal).
pub(crate) async fn insert_partner(c: &mut AnyConnection, p: &Partner) -> R<()> {
    sqlx::query(
        "INSERT INTO partners (id, env_id, name, status, allowed_scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.id.as_str())
    .bind(p.env_id.as_str())
    .bind(&p.name)
    .bind(p.status.as_str())
    .bind(to_json(&p.allowed_scopes))
    .bind(p.created_at)
    .bind(p.updated_at)
    .run(c)
    .await?;
    Ok(())
}

async fn insert_api_key(c: &mut AnyConnection, k: &ApiKey) -> R<()> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, partner_id, env_id, key_hash, scopes, created_at, expires_at, revoked_at, last_used_at, retires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(k.key_id.as_str())
    .bind(k.partner_id.as_str())
    .bind(k.env_id.as_str())
    .bind(&k.key_hash)
    .bind(to_json(&k.scopes))
    .bind(k.created_at)
    .bind(k.expires_at)
    .bind(k.revoked_at)
    .bind(k.last_used_at)
    .bind(k.retires_at)
    .run(c)
    .await?;
    Ok(())
}

#[async_trait]
impl PartnerStore for SqlStore {
    async fn create_partner(&self, p: &Partner, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| insert_partner(c, p).await).await
    }

    async fn partner(&self, id: &PartnerId) -> R<Option<Partner>> {
        sqlx::query(sqlx::AssertSqlSafe(format!("{PARTNER_SELECT} WHERE p.id = $1")))
            .bind(id.as_str())
            .optional::<PartnerRow, _>(&self.pool)
            .await
    }

    async fn partners(&self, env_id: Option<&EnvId>) -> R<Vec<Partner>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PARTNER_SELECT} WHERE ($1 IS NULL OR p.env_id = $1) ORDER BY p.id"
        )))
        .bind(env_id.map(EnvId::as_str))
        .all::<PartnerRow, _>(&self.pool)
        .await
    }

    async fn partners_page(&self, status: Option<PartnerStatus>, name: &str, after: &str, limit: u32) -> R<Vec<Partner>> {
        let pattern = format!("%{}%", crate::audit::like_escaped(&name.to_lowercase()));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{PARTNER_SELECT} WHERE p.id > $1 AND ($2 = '' OR p.status = $2) AND LOWER(p.name) LIKE $3 ESCAPE '\\'
             ORDER BY p.id LIMIT $4"
        )))
        .bind(after)
        .bind(status.map_or("", PartnerStatus::as_str))
        .bind(pattern)
        .bind(i64::from(limit))
        .all::<PartnerRow, _>(&self.pool)
        .await
    }

    async fn partner_counts(&self) -> R<Vec<(PartnerStatus, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, CAST(COUNT(*) AS BIGINT) FROM partners GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|(status, n)| {
                let status = status.parse::<PartnerStatus>().map_err(StoreError::other)?;
                Ok((status, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    async fn set_partner_status(&self, id: &PartnerId, status: PartnerStatus, now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE partners SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(status.as_str())
                .bind(now)
                .expect_row(c)
                .await
        })
        .await
    }

    async fn set_partner_scopes(&self, id: &PartnerId, scopes: &[Scope], now: i64, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("UPDATE partners SET allowed_scopes = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(to_json(&scopes))
                .bind(now)
                .expect_row(c)
                .await
        })
        .await
    }

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| insert_api_key(c, key).await).await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> R<Option<(ApiKey, Partner)>> {
        const SQL: &str = "SELECT k.*, p.name AS p_name, p.status AS p_status, p.allowed_scopes AS p_allowed_scopes, p.created_at AS p_created_at, p.updated_at AS p_updated_at,
             e.platform_id, e.kind
             FROM api_keys k JOIN partners p ON p.id = k.partner_id JOIN environments e ON e.id = p.env_id
             WHERE k.key_hash = $1";
        if let Some(found) = self.inline_row(SQL, &[("$1", &key_hash)], KeyWithPartnerRow::of_inline)? {
            return Ok(found);
        }
        sqlx::query(SQL)
            .bind(key_hash)
            .optional::<KeyWithPartnerRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn api_key(&self, key_id: &KeyId) -> R<Option<ApiKey>> {
        sqlx::query("SELECT * FROM api_keys WHERE key_id = $1")
            .bind(key_id.as_str())
            .optional::<ApiKeyRow, _>(&self.pool)
            .await
    }

    async fn api_keys(&self, partner_id: &PartnerId) -> R<Vec<ApiKey>> {
        sqlx::query("SELECT * FROM api_keys WHERE partner_id = $1 ORDER BY created_at, key_id")
            .bind(partner_id.as_str())
            .all::<ApiKeyRow, _>(&self.pool)
            .await
    }

    async fn revoke_api_key(&self, key_id: &KeyId, now: i64, audit: &AuditEvent) -> R<Vec<KeyId>> {
        // The audit event goes last, with an `api_key.revoked` event for
        // every successor revoked along.
        self.audited(None, async |c| {
            // Write first: on SQLite a transaction that reads before it
            // writes can fail to upgrade its lock while another process writes.
            revoke(c, key_id, now).await?;
            let key = sqlx::query("SELECT * FROM api_keys WHERE key_id = $1")
                .bind(key_id.as_str())
                .optional::<ApiKeyRow, _>(&mut *c)
                .await?
                .ok_or(StoreError::NotFound)?;
            // Revoked by this call (not earlier) while in its grace period.
            let in_grace = key.revoked_at == Some(now) && key.retires_at.is_some_and(|r| r > now);
            let mut successors = Vec::new();
            let mut next = key.rotated_to.filter(|_| in_grace);
            // Each key rotates at most once, so the chain ends; every link
            // was minted, directly or not, by the key being revoked.
            while let Some(id) = next {
                revoke(c, &id, now).await?;
                next = sqlx::query_scalar::<_, Option<String>>("SELECT rotated_to FROM api_keys WHERE key_id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(map_err)?
                    .flatten()
                    .map(KeyId::from);
                successors.push(id);
            }
            insert_audit(c, &audit.with_revoked_successors(&successors)).await?;
            Ok(successors)
        })
        .await
    }

    async fn rotate_api_key(&self, old_key_id: &KeyId, old_expires_at: i64, new: &ApiKey, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            // Only a live key that was never rotated may rotate: the
            // condition is in the statement, so of two concurrent rotations
            // (or a rotation racing a revocation) one finds no row.
            let rotated = sqlx::query(
                "UPDATE api_keys SET retires_at = $2, rotated_to = $3
                 WHERE key_id = $1 AND retires_at IS NULL AND rotated_to IS NULL AND revoked_at IS NULL",
            )
            .bind(old_key_id.as_str())
            .bind(old_expires_at)
            .bind(new.key_id.as_str())
            .run(&mut *c)
            .await?;
            if rotated == 0 {
                return Err(StoreError::Conflict("rotation"));
            }
            insert_api_key(c, new).await
        })
        .await
    }

    async fn touch_api_key(&self, key_id: &KeyId, now: i64) -> R<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1")
            .bind(key_id.as_str())
            .bind(now)
            .run(&self.pool)
            .await?;
        Ok(())
    }
}
