//! What usage metering and alerts need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AlertId, EnvId, PartnerId};
use crate::store::StoreError;
use crate::usage::{Alert, Delivery, KeyActivity, UsageRow};

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Adds counts to the usage table (upsert).
    async fn add_usage(&self, rows: &[UsageRow]) -> Result<(), StoreError>;
    /// A partner's usage rows with `from <= minute < to`.
    async fn usage(&self, env_id: &EnvId, partner_id: &PartnerId, from: Millis, to: Millis) -> Result<Vec<UsageRow>, StoreError>;
    /// Per key (and environment) with traffic since `window_start`: requests since then, and in `[trailing_start, window_start)`.
    async fn key_activity(&self, trailing_start: Millis, window_start: Millis) -> Result<Vec<KeyActivity>, StoreError>;
    async fn create_alert(&self, alert: &Alert, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn set_alert_delivery(
        &self,
        id: &AlertId,
        delivery: Delivery,
        attempts: i64,
        delivered_at: Option<Millis>,
    ) -> Result<(), StoreError>;
    /// Alerts, newest first.
    async fn alerts(&self, limit: u32) -> Result<Vec<Alert>, StoreError>;
}
