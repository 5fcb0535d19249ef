//! The purge of expired rows and of usage and alerts past their retention.
//! Each table has an index on the column compared, so a purge reads only
//! what it deletes. Purges cut by time alone, in every environment at once:
//! they name no id, so they cannot reach across environments.

use async_trait::async_trait;
use onramp_domain::retention::{PurgeBefore, Purged};
use onramp_domain::store::RetentionStore;

use crate::SqlStore;
use crate::db::{R, Sql};

#[async_trait]
impl RetentionStore for SqlStore {
    async fn purge(&self, before: &PurgeBefore) -> R<Purged> {
        // One statement per table, no transaction: each delete stands alone,
        // and a failure leaves the rest for the next round.
        let delete = async |sql: &'static str, cutoff: i64| sqlx::query(sql).bind(cutoff).run(&self.pool).await;
        Ok(Purged {
            sessions: delete("DELETE FROM sessions WHERE expires_at < $1", before.expired).await?,
            signin_links: delete("DELETE FROM login_tokens WHERE expires_at < $1", before.expired).await?,
            auth_codes: delete("DELETE FROM auth_codes WHERE expires_at < $1", before.expired).await?,
            idempotency_keys: delete("DELETE FROM idempotency_keys WHERE created_at < $1", before.idempotency).await?,
            usage_minutes: delete("DELETE FROM usage_minutes WHERE minute < $1", before.usage).await?,
            // An hour goes once all its minutes have gone.
            usage_hours: delete("DELETE FROM usage_hours WHERE hour < $1", before.usage - 3_600_000).await?,
            alerts: delete("DELETE FROM alerts WHERE created_at < $1", before.alerts).await?,
            events: delete("DELETE FROM events WHERE created_at < $1", before.events).await?,
        })
    }
}
