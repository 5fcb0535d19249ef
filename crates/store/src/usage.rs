//! Usage counts per key, route, status class and minute, and the alerts
//! raised from them.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AlertId, EnvId, PartnerId};
use onramp_domain::store::{StoreError, UsageStore};
use onramp_domain::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsageTotals};
use onramp_domain::usage::thresholds::{AlertSettings, AlertSettingsChange, Change};
use onramp_domain::usage::{Alert, Delivery, KeyActivity, UsageRow};

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json};
use crate::usage_buckets;

#[derive(sqlx::FromRow)]
struct UsageMinuteRow {
    key_id: String,
    partner_id: String,
    env_id: String,
    route: String,
    status_class: String,
    minute: i64,
    count: i64,
    denied: i64,
    limited: i64,
}

impl Record for UsageMinuteRow {
    type Domain = UsageRow;
    fn into_domain(self) -> R<UsageRow> {
        Ok(UsageRow {
            key_id: self.key_id.into(),
            partner_id: self.partner_id.into(),
            env_id: self.env_id.into(),
            route: self.route,
            status_class: self.status_class.parse().map_err(StoreError::other)?,
            minute: self.minute,
            count: self.count,
            denied: self.denied,
            limited: self.limited,
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyActivityRow {
    key_id: String,
    partner_id: String,
    env_id: String,
    recent: i64,
    recent_denied: i64,
    trailing: i64,
}

impl Record for KeyActivityRow {
    type Domain = KeyActivity;
    fn into_domain(self) -> R<KeyActivity> {
        Ok(KeyActivity {
            key_id: self.key_id.into(),
            partner_id: self.partner_id.into(),
            env_id: self.env_id.into(),
            recent: self.recent,
            recent_denied: self.recent_denied,
            trailing: self.trailing,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: String,
    env_id: String,
    partner_id: String,
    key_id: String,
    kind: String,
    detail: String,
    created_at: i64,
    delivery: String,
    attempts: i64,
    delivered_at: Option<i64>,
}

impl Record for AlertRow {
    type Domain = Alert;
    fn into_domain(self) -> R<Alert> {
        Ok(Alert {
            id: self.id.into(),
            env_id: self.env_id.into(),
            partner_id: self.partner_id.into(),
            key_id: self.key_id.into(),
            kind: self.kind.parse().map_err(StoreError::other)?,
            detail: from_json("detail", &self.detail)?,
            created_at: self.created_at,
            delivery: self.delivery.parse().map_err(StoreError::other)?,
            attempts: self.attempts,
            delivered_at: self.delivered_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AlertSettingsRow {
    volume_factor: Option<String>,
    volume_min: Option<i64>,
    error_share: Option<String>,
    error_min: Option<i64>,
}

/// A ratio column: decimal text (see migration 0012).
fn ratio(column: &str, text: Option<String>) -> R<Option<f64>> {
    text.map(|t| t.parse().map_err(|e| StoreError::other(format!("column {column}: {e}"))))
        .transpose()
}

impl Record for AlertSettingsRow {
    type Domain = AlertSettings;
    fn into_domain(self) -> R<AlertSettings> {
        Ok(AlertSettings {
            volume_factor: ratio("volume_factor", self.volume_factor)?,
            volume_min: self.volume_min,
            error_share: ratio("error_share", self.error_share)?,
            error_min: self.error_min,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ActiveSettingsRow {
    env_id: String,
    partner_id: String,
    #[sqlx(flatten)]
    settings: AlertSettingsRow,
}

impl Record for ActiveSettingsRow {
    type Domain = (EnvId, PartnerId, AlertSettings);
    fn into_domain(self) -> R<Self::Domain> {
        Ok((self.env_id.into(), self.partner_id.into(), self.settings.into_domain()?))
    }
}

/// A change's column value and whether to write it: `Keep` writes nothing
/// over an existing row (and NULL into a new one), `Reset` writes NULL.
fn column<T>(change: Change<T>) -> (i64, Option<T>) {
    match change {
        Change::Keep => (0, None),
        Change::Reset => (1, None),
        Change::Set(v) => (1, Some(v)),
    }
}

/// One upsert, so that concurrent changes of different fields both land
/// (a read-modify-write would lose one under PostgreSQL's READ COMMITTED).
const CHANGE_ALERT_SETTINGS: &str = "INSERT INTO alert_settings
     (env_id, partner_id, volume_factor, volume_min, error_share, error_min, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (env_id, partner_id) DO UPDATE SET
     volume_factor = CASE WHEN $8 = 1 THEN excluded.volume_factor ELSE alert_settings.volume_factor END,
     volume_min = CASE WHEN $9 = 1 THEN excluded.volume_min ELSE alert_settings.volume_min END,
     error_share = CASE WHEN $10 = 1 THEN excluded.error_share ELSE alert_settings.error_share END,
     error_min = CASE WHEN $11 = 1 THEN excluded.error_min ELSE alert_settings.error_min END,
     updated_at = excluded.updated_at
     RETURNING volume_factor, volume_min, error_share, error_min";

/// Sums are cast to BIGINT: PostgreSQL sums BIGINTs as NUMERIC. Grouped by
/// environment too, so that rows of the same key id in two environments are
/// two keys' activity.
const KEY_ACTIVITY: &str = "SELECT env_id, key_id, MIN(partner_id) AS partner_id,
     CAST(COALESCE(SUM(CASE WHEN minute >= $2 THEN count ELSE 0 END), 0) AS BIGINT) AS recent,
     CAST(COALESCE(SUM(CASE WHEN minute >= $2 THEN denied ELSE 0 END), 0) AS BIGINT) AS recent_denied,
     CAST(COALESCE(SUM(CASE WHEN minute < $2 THEN count ELSE 0 END), 0) AS BIGINT) AS trailing
     FROM usage_minutes WHERE minute >= $1
     GROUP BY env_id, key_id HAVING SUM(CASE WHEN minute >= $2 THEN count ELSE 0 END) > 0";

#[async_trait]
impl UsageStore for SqlStore {
    async fn add_usage(&self, rows: &[UsageRow]) -> R<()> {
        self.audited(None, async |c| {
            for r in rows {
                sqlx::query(
                    "INSERT INTO usage_minutes (key_id, partner_id, env_id, route, status_class, minute, count, denied, limited)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (env_id, key_id, route, status_class, minute)
                     DO UPDATE SET count = usage_minutes.count + excluded.count, denied = usage_minutes.denied + excluded.denied,
                     limited = usage_minutes.limited + excluded.limited",
                )
                .bind(r.key_id.as_str())
                .bind(r.partner_id.as_str())
                .bind(r.env_id.as_str())
                .bind(&r.route)
                .bind(r.status_class.as_str())
                .bind(r.minute)
                .bind(r.count)
                .bind(r.denied)
                .bind(r.limited)
                .run(&mut *c)
                .await?;
            }
            usage_buckets::add_hours(c, rows).await
        })
        .await
    }

    async fn usage(&self, env_id: &EnvId, partner_id: &PartnerId, from: i64, to: i64) -> R<Vec<UsageRow>> {
        sqlx::query("SELECT * FROM usage_minutes WHERE env_id = $1 AND partner_id = $2 AND minute >= $3 AND minute < $4 ORDER BY minute")
            .bind(env_id.as_str())
            .bind(partner_id.as_str())
            .bind(from)
            .bind(to)
            .all::<UsageMinuteRow, _>(&self.pool)
            .await
    }

    async fn usage_buckets(&self, filter: &UsageFilter, from: i64, to: i64, granularity: Granularity) -> R<Vec<UsageBucket>> {
        usage_buckets::buckets(&self.pool, filter, from, to, granularity).await
    }

    async fn usage_totals(&self, filter: &UsageFilter, from: i64, to: i64, by: UsageDimension) -> R<Vec<UsageTotals>> {
        usage_buckets::totals(&self.pool, filter, from, to, by).await
    }

    async fn key_activity(&self, trailing_start: i64, window_start: i64) -> R<Vec<KeyActivity>> {
        sqlx::query(KEY_ACTIVITY)
            .bind(trailing_start)
            .bind(window_start)
            .all::<KeyActivityRow, _>(&self.pool)
            .await
    }

    async fn create_alert(&self, a: &Alert, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO alerts (id, env_id, partner_id, key_id, kind, detail, created_at, delivery, attempts, delivered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(a.id.as_str())
            .bind(a.env_id.as_str())
            .bind(a.partner_id.as_str())
            .bind(a.key_id.as_str())
            .bind(a.kind.as_str())
            .bind(a.detail.to_string())
            .bind(a.created_at)
            .bind(a.delivery.as_str())
            .bind(a.attempts)
            .bind(a.delivered_at)
            .run(c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn set_alert_delivery(&self, id: &AlertId, delivery: Delivery, attempts: i64, delivered_at: Option<i64>) -> R<()> {
        sqlx::query("UPDATE alerts SET delivery = $2, attempts = $3, delivered_at = $4 WHERE id = $1")
            .bind(id.as_str())
            .bind(delivery.as_str())
            .bind(attempts)
            .bind(delivered_at)
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn alerts(&self, limit: u32) -> R<Vec<Alert>> {
        sqlx::query("SELECT * FROM alerts ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .all::<AlertRow, _>(&self.pool)
            .await
    }

    async fn partner_alerts(&self, env_id: &EnvId, partner_id: &PartnerId, limit: u32) -> R<Vec<Alert>> {
        // Alert ids are UUIDv7: by id is by time.
        sqlx::query("SELECT * FROM alerts WHERE env_id = $1 AND partner_id = $2 ORDER BY id DESC LIMIT $3")
            .bind(env_id.as_str())
            .bind(partner_id.as_str())
            .bind(i64::from(limit))
            .all::<AlertRow, _>(&self.pool)
            .await
    }

    async fn alert_settings(&self, env_id: &EnvId, partner_id: &PartnerId) -> R<AlertSettings> {
        let own = sqlx::query(
            "SELECT volume_factor, volume_min, error_share, error_min FROM alert_settings WHERE env_id = $1 AND partner_id = $2",
        )
        .bind(env_id.as_str())
        .bind(partner_id.as_str())
        .optional::<AlertSettingsRow, _>(&self.pool)
        .await?;
        Ok(own.unwrap_or_default())
    }

    async fn change_alert_settings(
        &self,
        env_id: &EnvId,
        partner_id: &PartnerId,
        change: &AlertSettingsChange,
        now: i64,
        audit: &AuditEvent,
    ) -> R<AlertSettings> {
        // Ratios as their shortest decimal text, which parses back to the same f64.
        let text = |c: Change<f64>| match c {
            Change::Set(v) => Change::Set(v.to_string()),
            Change::Reset => Change::Reset,
            Change::Keep => Change::Keep,
        };
        let (set_factor, factor) = column(text(change.volume_factor));
        let (set_volume_min, volume_min) = column(change.volume_min);
        let (set_share, share) = column(text(change.error_share));
        let (set_error_min, error_min) = column(change.error_min);
        self.audited(Some(audit), async |c| {
            let row = sqlx::query(CHANGE_ALERT_SETTINGS)
                .bind(env_id.as_str())
                .bind(partner_id.as_str())
                .bind(factor)
                .bind(volume_min)
                .bind(share)
                .bind(error_min)
                .bind(now)
                .bind(set_factor)
                .bind(set_volume_min)
                .bind(set_share)
                .bind(set_error_min)
                .optional::<AlertSettingsRow, _>(&mut *c)
                .await?;
            row.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn active_alert_settings(&self, since: i64) -> R<Vec<(EnvId, PartnerId, AlertSettings)>> {
        sqlx::query(
            "SELECT s.env_id, s.partner_id, s.volume_factor, s.volume_min, s.error_share, s.error_min
             FROM alert_settings s
             WHERE EXISTS (SELECT 1 FROM usage_minutes u
                           WHERE u.env_id = s.env_id AND u.partner_id = s.partner_id AND u.minute >= $1)",
        )
        .bind(since)
        .all::<ActiveSettingsRow, _>(&self.pool)
        .await
    }
}
