//! Usage metering of partner API keys and anomaly alerts.
//!
//! Requests are counted in memory (a map increment on the request path) and
//! flushed to the database by a background task every few seconds; a crash
//! loses at most the counts since the last flush. After each flush the
//! detector compares every active key's last five minutes with its trailing
//! hour and raises alerts: a WARN log line, an audit event, a stored alert
//! and, when configured, a signed POST to the operator's webhook, retried
//! with backoff.

use std::sync::Arc;

use dashmap::DashMap;
use serde_json::json;

use crate::app::CoreConfig;
use crate::audit::{Actor, AuditEvent};
use crate::clock::{Millis, rfc3339};
use crate::error::{DomainError, FieldCode};
use crate::events::EventType;
use crate::ids::{AlertId, EnvId, KeyId, PartnerId};
use crate::partners::service::Partners;
use crate::partners::{ApiKey, Partner};
use crate::store::Store;
pub use crate::usage::alerts::{AlertNotifier, AlertPolicy, webhook_signature};
use crate::usage::alerts::{alert_event_data, deliver};
use crate::usage::thresholds::{MINUTE_MS, TRAILING_MS, WINDOW_MS, anomalies};
use crate::usage::{Alert, AlertKind, Delivery, KeyActivity, StatusClass, UsageRow};

mod alert_settings;
mod charts;

pub use crate::usage::buckets::Granularity;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MeterKey {
    key_id: KeyId,
    partner_id: PartnerId,
    env_id: EnvId,
    route: String,
    class: StatusClass,
    minute: Millis,
}

/// Of one [`MeterKey`]: requests, and of those the `401`/`429` and the `429` answers.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    count: i64,
    denied: i64,
    limited: i64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.count += other.count;
        self.denied += other.denied;
        self.limited += other.limited;
    }
}

/// In-memory counts waiting for the next flush, and alert cooldowns.
#[derive(Default)]
pub(crate) struct UsageMeter {
    counts: DashMap<MeterKey, Counts>,
    /// When each key last raised each kind of alert (cooldown).
    last_alert: DashMap<(EnvId, KeyId, AlertKind), Millis>,
}

/// Requests in one bucket of a series.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UsagePoint {
    pub start: Millis,
    pub requests: i64,
    pub status_2xx: i64,
    pub status_3xx: i64,
    pub status_4xx: i64,
    pub status_5xx: i64,
}

/// Longest series a query may return.
const MAX_POINTS: i64 = 10_000;

/// Refuses an empty range and one of more than [`MAX_POINTS`] buckets.
fn check_range(from: Millis, to: Millis, granularity: Granularity) -> Result<(), DomainError> {
    if to <= from {
        return Err(DomainError::invalid("to", FieldCode::InvalidRange, "`to` must be after `from`"));
    }
    if (to - granularity.floor(from)) / granularity.millis() > MAX_POINTS {
        return Err(DomainError::invalid(
            "granularity",
            FieldCode::TooManyPoints,
            "the range holds more than 10000 buckets; use a coarser granularity",
        ));
    }
    Ok(())
}

/// Usage metering of partner keys and the alerts raised from it.
pub struct Usage {
    store: Arc<dyn Store>,
    config: Arc<CoreConfig>,
    meter: UsageMeter,
    /// Where alerts are posted, if the operator configured a webhook.
    notifier: Option<Arc<dyn AlertNotifier>>,
    partners: Arc<Partners>,
}

impl Usage {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        config: Arc<CoreConfig>,
        notifier: Option<Arc<dyn AlertNotifier>>,
        partners: Arc<Partners>,
    ) -> Self {
        Self {
            store,
            config,
            meter: UsageMeter::default(),
            notifier,
            partners,
        }
    }

    /// Counts one request made with `key` (cheap: an in-memory increment).
    pub fn record_usage(&self, key: &ApiKey, route: &str, status: u16) {
        let now = self.config.clock.now_ms();
        let meter_key = MeterKey {
            key_id: key.key_id.clone(),
            partner_id: key.partner_id.clone(),
            env_id: key.env_id.clone(),
            route: route.to_owned(),
            class: StatusClass::of(status),
            minute: now - now.rem_euclid(MINUTE_MS),
        };
        let counts = Counts {
            count: 1,
            denied: i64::from(matches!(status, 401 | 429)),
            limited: i64::from(status == 429),
        };
        self.meter.counts.entry(meter_key).or_default().add(counts);
    }

    /// Writes the counts gathered since the last flush, and when each key
    /// was last used (`last_used_at`), so that requests write neither.
    /// Returns the number of usage rows written.
    ///
    /// # Errors
    /// Storage failures of the counts, which are put back for the next
    /// attempt (key uses that fail are logged and kept the same way).
    pub async fn flush_usage(&self) -> Result<usize, DomainError> {
        if let Err(e) = self.partners.flush_key_uses().await {
            tracing::warn!(error = %e, "could not record key use; kept for the next flush");
        }
        let keys: Vec<MeterKey> = self.meter.counts.iter().map(|e| e.key().clone()).collect();
        let rows: Vec<UsageRow> = keys
            .into_iter()
            .filter_map(|k| self.meter.counts.remove(&k))
            .map(|(k, c)| UsageRow {
                key_id: k.key_id,
                partner_id: k.partner_id,
                env_id: k.env_id,
                route: k.route,
                status_class: k.class,
                minute: k.minute,
                count: c.count,
                denied: c.denied,
                limited: c.limited,
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        if let Err(e) = self.store.add_usage(&rows).await {
            for r in rows {
                let class = r.status_class;
                let key = MeterKey {
                    key_id: r.key_id,
                    partner_id: r.partner_id,
                    env_id: r.env_id,
                    route: r.route,
                    class,
                    minute: r.minute,
                };
                self.meter.counts.entry(key).or_default().add(Counts {
                    count: r.count,
                    denied: r.denied,
                    limited: r.limited,
                });
            }
            return Err(e.into());
        }
        Ok(rows.len())
    }

    /// A partner's requests per bucket in `[from, to)`, empty buckets
    /// included; only the partner's environment is counted.
    ///
    /// # Errors
    /// `Validation` for an empty or too long range.
    pub async fn usage_series(
        &self,
        partner: &Partner,
        from: Millis,
        to: Millis,
        granularity: Granularity,
    ) -> Result<Vec<UsagePoint>, DomainError> {
        check_range(from, to, granularity)?;
        let step = granularity.millis();
        let start = granularity.floor(from);
        let mut points: Vec<UsagePoint> = (0..)
            .map(|i| start + i * step)
            .take_while(|s| *s < to)
            .map(|s| UsagePoint {
                start: s,
                ..Default::default()
            })
            .collect();
        for row in self.store.usage(&partner.env_id, &partner.id, start, to).await? {
            let Some(point) = points.get_mut(((row.minute - start) / step) as usize) else {
                continue;
            };
            point.requests += row.count;
            match row.status_class {
                StatusClass::Success => point.status_2xx += row.count,
                StatusClass::Redirection => point.status_3xx += row.count,
                StatusClass::ClientError => point.status_4xx += row.count,
                StatusClass::ServerError => point.status_5xx += row.count,
            }
        }
        Ok(points)
    }

    /// Raises alerts for keys whose recent traffic is anomalous.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn detect_anomalies(&self) -> Result<Vec<Alert>, DomainError> {
        let now = self.config.clock.now_ms();
        let activity = self.store.key_activity(now - WINDOW_MS - TRAILING_MS, now - WINDOW_MS).await?;
        let thresholds = self.thresholds_of_active(&activity, now - WINDOW_MS).await?;
        let mut raised = Vec::new();
        for a in activity {
            for (kind, detail) in anomalies(&a, &thresholds.of(&a)) {
                let fresh = self
                    .meter
                    .last_alert
                    .get(&(a.env_id.clone(), a.key_id.clone(), kind))
                    .is_none_or(|t| now - *t >= self.config.alerts.cooldown.as_millis() as Millis);
                if fresh {
                    self.meter.last_alert.insert((a.env_id.clone(), a.key_id.clone(), kind), now);
                    raised.push(self.raise_alert(&a, kind, detail, now).await?);
                }
            }
        }
        Ok(raised)
    }

    async fn raise_alert(&self, a: &KeyActivity, kind: AlertKind, detail: serde_json::Value, now: Millis) -> Result<Alert, DomainError> {
        let delivery = if self.notifier.is_some() {
            Delivery::Pending
        } else {
            Delivery::NotConfigured
        };
        let alert = Alert {
            id: AlertId::generate(),
            env_id: a.env_id.clone(),
            partner_id: a.partner_id.clone(),
            key_id: a.key_id.clone(),
            kind,
            detail,
            created_at: now,
            delivery,
            attempts: 0,
            delivered_at: None,
        };
        tracing::warn!(alert_id = %alert.id, kind = %kind, key_id = %alert.key_id, partner_id = %alert.partner_id, detail = %alert.detail, "usage anomaly");
        let partner = self.partners.partner(&a.partner_id).await?;
        let actor = Actor::system("usage-monitor");
        let audit = AuditEvent::new(
            &actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "alert.raised",
            alert.key_id.as_str(),
        )
        .with_detail(json!({ "alert_id": alert.id, "kind": kind, "detail": alert.detail }))
        .emit(
            &alert.env_id,
            EventType::UsageAlert,
            Some(&alert.partner_id),
            alert_event_data(&alert),
        );
        self.store.create_alert(&alert, &audit).await?;
        if let Some(notifier) = &self.notifier {
            let body = json!({
                "id": alert.id, "type": format!("usage.{kind}"), "createdAt": rfc3339(now),
                "platformId": partner.platform_id, "environment": partner.environment,
                "partnerId": alert.partner_id, "keyId": alert.key_id, "detail": alert.detail,
            });
            tokio::spawn(deliver(
                Arc::clone(&self.store),
                Arc::clone(notifier),
                alert.id.clone(),
                body.to_string().into_bytes(),
                self.config.alerts.clone(),
            ));
        }
        Ok(alert)
    }

    /// Alerts, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn alerts(&self, limit: u32) -> Result<Vec<Alert>, DomainError> {
        Ok(self.store.alerts(limit).await?)
    }

    /// One partner's alerts, newest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn partner_alerts(&self, partner: &Partner, limit: u32) -> Result<Vec<Alert>, DomainError> {
        Ok(self.store.partner_alerts(&partner.env_id, &partner.id, limit).await?)
    }
}
