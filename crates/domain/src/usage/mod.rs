//! Usage records of partner API keys and the alerts raised from them.

pub mod alerts;
pub mod buckets;
pub mod service;
pub mod store;
pub mod thresholds;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::clock::Millis;
use crate::ids::{AlertId, EnvId, KeyId, PartnerId};

/// An enum stored and shown as fixed strings: `as_str`, `Display`,
/// `FromStr` and `Serialize` from one list.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} `{other}`", stringify!($name))),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The class of an HTTP status, as usage is counted.
    StatusClass { Success => "2xx", Redirection => "3xx", ClientError => "4xx", ServerError => "5xx" }
}

impl StatusClass {
    pub fn of(status: u16) -> Self {
        match status {
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirection,
            400..=499 => StatusClass::ClientError,
            _ => StatusClass::ServerError,
        }
    }
}

string_enum! {
    /// What looked anomalous about a key's traffic.
    AlertKind { VolumeSpike => "volume_spike", ErrorRate => "error_rate" }
}

string_enum! {
    /// Where an alert's webhook delivery stands.
    Delivery { NotConfigured => "not_configured", Pending => "pending", Delivered => "delivered", Failed => "failed" }
}

/// Requests of one key to one route with one status class in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub key_id: KeyId,
    pub partner_id: PartnerId,
    pub env_id: EnvId,
    pub route: String,
    pub status_class: StatusClass,
    /// Start of the minute, Unix milliseconds.
    pub minute: Millis,
    pub count: i64,
    /// Of `count`, the `401` and `429` answers (anomaly detection).
    pub denied: i64,
    /// Of `count`, the `429` answers (charts show them apart from other `4xx`).
    pub limited: i64,
}

/// One key's recent traffic, for anomaly detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyActivity {
    pub key_id: KeyId,
    pub partner_id: PartnerId,
    pub env_id: EnvId,
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
    pub id: AlertId,
    pub env_id: EnvId,
    pub partner_id: PartnerId,
    pub key_id: KeyId,
    pub kind: AlertKind,
    pub detail: serde_json::Value,
    pub created_at: Millis,
    pub delivery: Delivery,
    pub attempts: i64,
    pub delivered_at: Option<Millis>,
}
