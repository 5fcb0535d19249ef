//! What usage metering and alerts need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AlertId, EnvId, PartnerId};
use crate::store::StoreError;
use crate::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsageTotals};
use crate::usage::thresholds::{AlertSettings, AlertSettingsChange};
use crate::usage::{Alert, Delivery, KeyActivity, UsageRow};

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Adds counts to the usage table (upsert).
    async fn add_usage(&self, rows: &[UsageRow]) -> Result<(), StoreError>;
    /// A partner's usage rows with `from <= minute < to`.
    async fn usage(&self, env_id: &EnvId, partner_id: &PartnerId, from: Millis, to: Millis) -> Result<Vec<UsageRow>, StoreError>;
    /// Requests matching `filter` with `from <= minute < to`, summed per
    /// bucket in the database; only buckets with rows, oldest first.
    async fn usage_buckets(
        &self,
        filter: &UsageFilter,
        from: Millis,
        to: Millis,
        granularity: Granularity,
    ) -> Result<Vec<UsageBucket>, StoreError>;
    /// Requests matching `filter` with `from <= minute < to`, summed per
    /// route or key in the database (any order).
    async fn usage_totals(
        &self,
        filter: &UsageFilter,
        from: Millis,
        to: Millis,
        by: UsageDimension,
    ) -> Result<Vec<UsageTotals>, StoreError>;
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
    /// One partner's alerts, newest first.
    async fn partner_alerts(&self, env_id: &EnvId, partner_id: &PartnerId, limit: u32) -> Result<Vec<Alert>, StoreError>;
    /// A partner's own alert thresholds (all `None` when it chose none).
    async fn alert_settings(&self, env_id: &EnvId, partner_id: &PartnerId) -> Result<AlertSettings, StoreError>;
    /// Applies `change` in one statement (two concurrent changes of
    /// different fields both land) with its audit event; returns the result.
    async fn change_alert_settings(
        &self,
        env_id: &EnvId,
        partner_id: &PartnerId,
        change: &AlertSettingsChange,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<AlertSettings, StoreError>;
    /// In one query, the own thresholds of the partners with usage since
    /// `since` that chose any.
    async fn active_alert_settings(&self, since: Millis) -> Result<Vec<(EnvId, PartnerId, AlertSettings)>, StoreError>;
}
