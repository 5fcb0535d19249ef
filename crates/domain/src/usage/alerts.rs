//! Anomaly alerts: when they fire, their event data, and their delivery to
//! the operator's webhook, retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::ids::AlertId;
use crate::store::Store;
use crate::usage::{Alert, Delivery};

/// When alerts fire, and how they are delivered.
#[derive(Debug, Clone)]
pub struct AlertPolicy {
    /// Volume spike: the last 5 minutes exceed this many times the average
    /// 5 minutes of the trailing hour…
    pub volume_factor: f64,
    /// …and at least this many requests.
    pub volume_min: i64,
    /// Error rate: the share of 401 and 429 answers in the last 5 minutes
    /// exceeds this…
    pub error_share: f64,
    /// …over at least this many requests.
    pub error_min: i64,
    /// The same alert for the same key is not raised again within this time.
    pub cooldown: Duration,
    /// Webhook attempts per alert, and the first wait between them (doubling).
    pub max_attempts: u32,
    pub first_retry: Duration,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            volume_factor: 5.0,
            volume_min: 100,
            error_share: 0.5,
            error_min: 50,
            cooldown: Duration::from_secs(15 * 60),
            max_attempts: 5,
            first_retry: Duration::from_secs(1),
        }
    }
}

/// Delivers alert notifications outside the process (the operator's webhook).
#[async_trait]
pub trait AlertNotifier: Send + Sync {
    /// One delivery attempt of a JSON body, `id` the same on every attempt
    /// (the receiver's deduplication key); `Err` says why it failed.
    async fn send(&self, id: &str, body: &[u8]) -> Result<(), String>;
}

/// The signature header value of a webhook body: `t=<unix seconds>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>" under the shared secret>`.
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts one alert, retrying with doubling waits, and records the outcome.
pub(crate) async fn deliver(store: Arc<dyn Store>, notifier: Arc<dyn AlertNotifier>, id: AlertId, body: Vec<u8>, policy: AlertPolicy) {
    let mut wait = policy.first_retry;
    for attempt in 1..=policy.max_attempts.max(1) {
        match notifier.send(id.as_str(), &body).await {
            Ok(()) => {
                let _ = store
                    .set_alert_delivery(&id, Delivery::Delivered, i64::from(attempt), Some(crate::clock::now_ms()))
                    .await;
                return;
            }
            Err(e) => {
                tracing::warn!(alert_id = %id, attempt, error = %e, "alert webhook delivery failed");
                let _ = store.set_alert_delivery(&id, Delivery::Pending, i64::from(attempt), None).await;
                if attempt < policy.max_attempts {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }
    let _ = store
        .set_alert_delivery(&id, Delivery::Failed, i64::from(policy.max_attempts), None)
        .await;
}

/// `usage.alert`'s data: whose key, which kind, and the measured figures.
pub(crate) fn alert_event_data(alert: &Alert) -> serde_json::Value {
    let mut data = json!({ "partner_id": alert.partner_id, "key_id": alert.key_id, "kind": alert.kind, "alert_id": alert.id });
    if let (Some(data), Some(figures)) = (data.as_object_mut(), alert.detail.as_object()) {
        for (name, value) in figures {
            data.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    data
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_stable() {
        let sig = super::webhook_signature(b"secret", 1_700_000_000, b"{}");
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, super::webhook_signature(b"other", 1_700_000_000, b"{}"));
    }
}
