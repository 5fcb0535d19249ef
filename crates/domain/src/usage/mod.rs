//! Usage records of partner API keys and the alerts raised from them.

pub mod service;
pub mod store;

use serde::Serialize;

use crate::clock::Millis;

/// Requests of one key to one route with one status class in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub key_id: String,
    pub partner_id: String,
    pub env_id: String,
    pub route: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub status_class: String,
    /// Start of the minute, Unix milliseconds.
    pub minute: Millis,
    pub count: i64,
    /// Of `count`, the `401` and `429` answers.
    pub denied: i64,
}

/// One key's recent traffic, for anomaly detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyActivity {
    pub key_id: String,
    pub partner_id: String,
    pub env_id: String,
    /// Requests in the detection window (the last 5 minutes).
    pub recent: i64,
    /// Of those, `401` and `429` answers.
    pub recent_denied: i64,
    /// Requests in the trailing hour before the window.
    pub trailing: i64,
}

/// An anomaly alert about an API key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub id: String,
    pub env_id: String,
    pub partner_id: String,
    pub key_id: String,
    /// `volume_spike` or `error_rate`.
    pub kind: String,
    pub detail: serde_json::Value,
    pub created_at: Millis,
    /// `not_configured`, `pending`, `delivered` or `failed`.
    pub delivery: String,
    pub attempts: i64,
    pub delivered_at: Option<Millis>,
}

/// The status class of an HTTP status.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
