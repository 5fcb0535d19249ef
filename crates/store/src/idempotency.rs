//! Remembered Idempotency-Keys.

use async_trait::async_trait;
use onramp_domain::idempotency::IdempotencyRecord;
use onramp_domain::ids::EnvId;
use onramp_domain::store::IdempotencyStore;

use crate::SqlStore;
use crate::db::{R, Record, Sql};

#[derive(sqlx::FromRow)]
struct IdempotencyRow {
    env_id: String,
    key_hash: String,
    fingerprint: String,
    status: i64,
    body: Vec<u8>,
    created_at: i64,
}

impl Record for IdempotencyRow {
    type Domain = IdempotencyRecord;
    fn into_domain(self) -> R<IdempotencyRecord> {
        Ok(IdempotencyRecord {
            env_id: self.env_id.into(),
            key_hash: self.key_hash,
            fingerprint: self.fingerprint,
            status: self.status,
            body: self.body,
            created_at: self.created_at,
        })
    }
}

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn claim_idempotency_key(&self, r: &IdempotencyRecord, expired_before: i64, abandoned_before: i64) -> R<bool> {
        // One statement: a new key is inserted, an expired or abandoned one
        // replaced; the primary key decides which of two concurrent first
        // requests wins.
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (env_id, key_hash, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (env_id, key_hash) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
             body = excluded.body, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $7 OR (idempotency_keys.status = 0 AND idempotency_keys.created_at < $8)",
        )
        .bind(r.env_id.as_str())
        .bind(&r.key_hash)
        .bind(&r.fingerprint)
        .bind(r.status)
        .bind(r.body.as_slice())
        .bind(r.created_at)
        .bind(expired_before)
        .bind(abandoned_before)
        .run(&self.pool)
        .await?;
        Ok(inserted == 1)
    }

    async fn idempotency_key(&self, env_id: &EnvId, key_hash: &str) -> R<Option<IdempotencyRecord>> {
        sqlx::query("SELECT * FROM idempotency_keys WHERE env_id = $1 AND key_hash = $2")
            .bind(env_id.as_str())
            .bind(key_hash)
            .optional::<IdempotencyRow, _>(&self.pool)
            .await
    }

    async fn complete_idempotency_key(&self, env_id: &EnvId, key_hash: &str, claimed_at: i64, status: i64, body: &[u8]) -> R<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $4, body = $5
             WHERE env_id = $1 AND key_hash = $2 AND created_at = $3 AND status = 0",
        )
        .bind(env_id.as_str())
        .bind(key_hash)
        .bind(claimed_at)
        .bind(status)
        .bind(body)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_idempotency_key(&self, env_id: &EnvId, key_hash: &str, claimed_at: i64) -> R<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE env_id = $1 AND key_hash = $2 AND created_at = $3 AND status = 0")
            .bind(env_id.as_str())
            .bind(key_hash)
            .bind(claimed_at)
            .run(&self.pool)
            .await?;
        Ok(())
    }
}
