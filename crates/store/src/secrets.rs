//! The master key's check value, and the sealing of plaintext signing seeds
//! at start-up.

use async_trait::async_trait;
use onramp_domain::clock::Millis;
use onramp_domain::secrets::store::{MakeKey, Reseal};
use onramp_domain::store::{SecretsStore, StoreError};
use onramp_domain::tenancy::signing::KeyAlg;

use crate::SqlStore;
use crate::db::{R, Record, Sql};
use crate::map_err;
use crate::tenancy::{SigningKeyRow, insert_key};

/// The one row of `master_key_check`.
const ROW: &str = "master";

#[derive(sqlx::FromRow)]
struct CheckRow {
    check_value: String,
}

impl Record for CheckRow {
    type Domain = String;
    fn into_domain(self) -> R<String> {
        Ok(self.check_value)
    }
}

#[async_trait]
impl SecretsStore for SqlStore {
    async fn master_key_check(&self) -> R<Option<String>> {
        sqlx::query("SELECT check_value FROM master_key_check WHERE id = $1")
            .bind(ROW)
            .optional::<CheckRow, _>(&self.pool)
            .await
    }

    async fn init_master_key_check(&self, value: &str, now: Millis) -> R<String> {
        // Read first: every operator command unlocks, and needs no write lock.
        if let Some(stored) = self.master_key_check().await? {
            return Ok(stored);
        }
        // Nodes starting together race here: the first insert wins, and
        // every node compares its key with the winner's.
        sqlx::query("INSERT INTO master_key_check (id, check_value, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(ROW)
            .bind(value)
            .bind(now)
            .run(&self.pool)
            .await?;
        self.master_key_check()
            .await?
            .ok_or_else(|| StoreError::other("master_key_check: the row just written is missing"))
    }

    async fn reseal_signing_keys(&self, reseal: Reseal<'_>) -> R<usize> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let keys = sqlx::query("SELECT * FROM signing_keys ORDER BY created_at")
            .all::<SigningKeyRow, _>(&mut *tx)
            .await?;
        let mut resealed = 0;
        for key in &keys {
            let Some(seed) = reseal(key) else { continue };
            // Only if the row still holds what was read: a node that sealed it
            // meanwhile wins, and its sealed seed is as good as ours.
            resealed += sqlx::query("UPDATE signing_keys SET seed = $3 WHERE kid = $1 AND seed = $2")
                .bind(key.kid.as_str())
                .bind(key.seed.as_bytes())
                .bind(seed.as_bytes())
                .run(&mut *tx)
                .await? as usize;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(resealed)
    }

    async fn add_missing_signing_keys(&self, alg: KeyAlg, make: MakeKey<'_>) -> R<usize> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let missing = sqlx::query_scalar::<_, String>(
            "SELECT id FROM environments e WHERE NOT EXISTS
               (SELECT 1 FROM signing_keys k WHERE k.env_id = e.id AND k.alg = $1 AND k.retired_at IS NULL)",
        )
        .bind(alg.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for env_id in &missing {
            insert_key(&mut tx, &make(&env_id.as_str().into())).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(missing.len())
    }
}
