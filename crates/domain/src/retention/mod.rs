//! Retention: rows that serve a purpose for a while (sessions, sign-in
//! links, authorization codes, idempotency keys) go once they expire;
//! usage counts, alerts and lifecycle events are kept for a configurable time.

pub mod service;
pub mod store;

use std::time::Duration;

use crate::clock::Millis;

/// How long rows without an expiry of their own are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Per-minute usage counts (charts, anomaly detection, the usage API).
    pub usage: Duration,
    /// Usage alerts, delivered or not.
    pub alerts: Duration,
    /// Lifecycle events (the feed, and what a webhook endpoint can recover).
    pub events: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            usage: Duration::from_secs(90 * 24 * 3600),
            alerts: Duration::from_secs(90 * 24 * 3600),
            events: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The cutoffs of one purge: rows older than these go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBefore {
    /// Sessions, sign-in links and authorization codes that expired before this.
    pub expired: Millis,
    /// Idempotency keys created before this.
    pub idempotency: Millis,
    /// Usage minutes that started before this.
    pub usage: Millis,
    /// Alerts raised before this.
    pub alerts: Millis,
    /// Events committed before this.
    pub events: Millis,
}

/// How many rows of each kind a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub signin_links: u64,
    pub auth_codes: u64,
    pub idempotency_keys: u64,
    pub usage_minutes: u64,
    pub usage_hours: u64,
    pub alerts: u64,
    pub events: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.signin_links
            + self.auth_codes
            + self.idempotency_keys
            + self.usage_minutes
            + self.usage_hours
            + self.alerts
            + self.events
    }
}
