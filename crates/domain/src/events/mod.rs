//! Lifecycle events: every change worth telling someone about, written in
//! the transaction of the change (with its audit event), numbered per
//! environment, and read as a feed (and, later, delivered as webhooks).
//!
//! An event is drafted by the service that makes the change, attached to
//! the change's [`AuditEvent`](crate::audit::AuditEvent) with
//! [`AuditEvent::emit`](crate::audit::AuditEvent::emit), and numbered by the
//! store when it commits: a change that rolls back leaves no event.

pub mod service;
pub mod store;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::clock::{Millis, rfc3339};
use crate::ids::{EnvId, EventId, PartnerId, PlatformId};

/// Declares the event types once: the enum, its wire names and the list.
macro_rules! event_types {
    ($($(#[$meta:meta])* $variant:ident = $name:literal,)+) => {
        /// What happened. The wire name is `object.verb`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($(#[$meta])* $variant,)+
        }

        impl EventType {
            /// Every type, in documentation order.
            pub const ALL: &[EventType] = &[$(EventType::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)+
                }
            }
        }
    };
}

event_types! {
    AccountCreated = "account.created",
    AccountUpdated = "account.updated",
    AccountDeleted = "account.deleted",
    AccountPasswordChanged = "account.password_changed",
    SigninLinkRedeemed = "signin_link.redeemed",
    PartnerCreated = "partner.created",
    PartnerApproved = "partner.approved",
    PartnerSuspended = "partner.suspended",
    ApiKeyIssued = "api_key.issued",
    ApiKeyRotated = "api_key.rotated",
    ApiKeyRevoked = "api_key.revoked",
    ServiceUserCreated = "service_user.created",
    ServiceUserDisabled = "service_user.disabled",
    SigningKeyRotated = "signing_key.rotated",
    AppCreated = "app.created",
    AppKeyReset = "app.key_reset",
    AppDeleted = "app.deleted",
    GrantCreated = "grant.created",
    GrantRevoked = "grant.revoked",
    UsageAlert = "usage.alert",
    EndpointDisabled = "endpoint.disabled",
    MessageAttemptExhausted = "message.attempt.exhausted",
}

impl EventType {
    /// The keys of this type's `data`: the documentation (README, OpenAPI)
    /// is made from this list, and the tests hold every emitted event to it.
    pub fn data_fields(self) -> &'static [&'static str] {
        use EventType as T;
        match self {
            T::AccountCreated | T::AccountDeleted | T::AccountPasswordChanged => &["account_id", "email", "partner_id"],
            T::AccountUpdated => &["account_id", "email", "partner_id", "changed", "active"],
            T::SigninLinkRedeemed => &["account_id", "partner_id"],
            T::PartnerCreated | T::PartnerApproved | T::PartnerSuspended => &["partner_id", "name"],
            T::ApiKeyIssued | T::ApiKeyRevoked => &["partner_id", "key_id"],
            T::ApiKeyRotated => &["partner_id", "key_id", "new_key_id"],
            T::ServiceUserCreated | T::ServiceUserDisabled => &["service_user_id", "username"],
            T::SigningKeyRotated => &["kid"],
            T::AppCreated | T::AppKeyReset | T::AppDeleted | T::GrantCreated | T::GrantRevoked => &["app_id", "account_id"],
            T::UsageAlert => &[
                "partner_id",
                "key_id",
                "kind",
                "alert_id",
                "requests_last_5_minutes",
                "trailing_hour_average_per_5_minutes",
                "denied_401_429",
                "share",
            ],
            T::EndpointDisabled => &["endpoint_id", "reason"],
            T::MessageAttemptExhausted => &["endpoint_id", "event_id"],
        }
    }
}

impl EventType {
    /// Whether a partner can ever receive events of this type: those about
    /// the accounts it created, its keys, its usage alerts and its own
    /// webhook endpoints. Partners, service users, signing keys, apps and
    /// grants are the environment owner's business.
    pub fn visible_to_partners(self) -> bool {
        use EventType as T;
        matches!(
            self,
            T::AccountCreated
                | T::AccountUpdated
                | T::AccountDeleted
                | T::AccountPasswordChanged
                | T::SigninLinkRedeemed
                | T::ApiKeyIssued
                | T::ApiKeyRotated
                | T::ApiKeyRevoked
                | T::UsageAlert
                | T::EndpointDisabled
                | T::MessageAttemptExhausted
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s).ok_or(())
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Who caused an event: ids only, never an address or a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventActor {
    /// `operator`, `service_user`, `api_key`, `vendor_app`, `account`,
    /// `portal_user`, `scim_token` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

impl EventActor {
    /// From an audit event's actor (`service_user:…`, `api_key:…`, …). A
    /// person acting without a credential (signing up, redeeming a link) is
    /// the account the event is about; an address never leaves the server.
    pub fn from_audit(actor: &str, account: Option<&str>) -> Self {
        let (kind, id) = actor.split_once(':').unwrap_or((actor, ""));
        let id = (!id.is_empty()).then(|| id.to_owned());
        match kind {
            "operator" | "service_user" | "api_key" | "vendor_app" | "account" | "portal_user" | "scim_token" => {
                Self { kind: kind.to_owned(), id }
            }
            "self-signup" | "ip" if account.is_some() => Self {
                kind: "account".into(),
                id: account.map(str::to_owned),
            },
            _ => Self {
                kind: "system".into(),
                id: None,
            },
        }
    }
}

/// An event as drafted by a service, before the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub id: EventId,
    pub env_id: EnvId,
    pub event_type: EventType,
    /// The partner whose objects the event is about (it sees the event in
    /// its own feed); `None` for events only the environment's owner sees.
    pub partner_id: Option<PartnerId>,
    pub actor: EventActor,
    pub data: Value,
}

/// A committed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub env_id: EnvId,
    pub sequence: i64,
    pub event_type: String,
    pub timestamp: Millis,
    pub platform_id: PlatformId,
    pub environment: String,
    pub partner_id: Option<PartnerId>,
    pub actor: EventActor,
    pub data: Value,
}

impl Event {
    /// The payload every consumer sees (feed and webhook body alike).
    pub fn payload(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "type": self.event_type,
            "timestamp": rfc3339(self.timestamp),
            "sequence": self.sequence,
            "platform_id": self.platform_id,
            "environment": self.environment,
            "actor": self.actor,
            "data": self.data,
        })
    }
}

/// Which events a feed reads.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events numbered after this one.
    pub after: i64,
    pub event_type: Option<EventType>,
    /// Only events about this partner's objects.
    pub partner_id: Option<PartnerId>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_parse_back() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(*t));
        }
        assert_eq!(EventType::ALL.len(), 22);
        assert!("account.exploded".parse::<EventType>().is_err());
    }

    #[test]
    fn partners_see_their_accounts_keys_alerts_and_endpoints_only() {
        let visible: Vec<&str> = EventType::ALL
            .iter()
            .filter(|t| t.visible_to_partners())
            .map(|t| t.as_str())
            .collect();
        assert_eq!(
            visible,
            [
                "account.created",
                "account.updated",
                "account.deleted",
                "account.password_changed",
                "signin_link.redeemed",
                "api_key.issued",
                "api_key.rotated",
                "api_key.revoked",
                "usage.alert",
                "endpoint.disabled",
                "message.attempt.exhausted",
            ]
        );
    }

    #[test]
    fn actors_name_ids_never_addresses() {
        let actor = |a: &str, acc: Option<&str>| {
            let e = EventActor::from_audit(a, acc);
            (e.kind, e.id)
        };
        assert_eq!(actor("service_user:u1", None), ("service_user".into(), Some("u1".into())));
        assert_eq!(actor("operator", None), ("operator".into(), None));
        assert_eq!(actor("ip:10.0.0.1", Some("a1")), ("account".into(), Some("a1".into())));
        assert_eq!(actor("ip:10.0.0.1", None), ("system".into(), None));
        assert_eq!(actor("self-signup", Some("a1")), ("account".into(), Some("a1".into())));
        assert_eq!(actor("system:usage-monitor", None), ("system".into(), None));
    }
}
