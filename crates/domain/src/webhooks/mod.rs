//! Webhook endpoints: where an environment's owner (the operator and its
//! service users) or a partner wants lifecycle events sent, signed the
//! Standard Webhooks way. This module holds the endpoints and the rules of
//! their fields; `secret.rs` their signing secrets (sealed at rest),
//! `signature.rs` the signature scheme, `target.rs` which URLs may be
//! called, `service.rs` the management commands.
//!
//! Delivery (the fan-out of events to endpoints, attempts, retries, the
//! attempt log) is in `delivery/`; it keeps [`Endpoint::event_cursor`] and
//! [`Endpoint::failing_since`].

pub mod delivery;
pub mod secret;
pub mod service;
pub mod signature;
pub mod store;
pub mod target;

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::events::EventType;
use crate::ids::{EndpointId, EnvId, PartnerId};
use secret::EndpointSecrets;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// Why an endpoint's owner disabled it (`disabled_reason`); delivery will
/// add its own reasons (a `410 Gone`, days of failures).
pub const DISABLED_BY_OWNER: &str = "disabled";

/// Who an endpoint belongs to, which decides the events it may receive and
/// who may manage it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The environment's owner: the operator and its service users. Its
    /// endpoints may receive every event of the environment.
    Environment,
    /// A partner: events about the accounts it created, its keys, its usage
    /// alerts and its own endpoints.
    Partner(PartnerId),
}

impl Owner {
    /// The partner, for a partner's endpoint (the store's `partner_id`).
    pub fn partner_id(&self) -> Option<&PartnerId> {
        match self {
            Owner::Environment => None,
            Owner::Partner(id) => Some(id),
        }
    }

    /// The owner a stored `partner_id` names.
    pub fn from_partner(partner_id: Option<PartnerId>) -> Self {
        partner_id.map_or(Owner::Environment, Owner::Partner)
    }

    /// Whether this owner may subscribe to events of type `t`.
    pub fn may_receive(&self, t: EventType) -> bool {
        match self {
            Owner::Environment => true,
            Owner::Partner(_) => t.visible_to_partners(),
        }
    }
}

/// A webhook endpoint of one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub env_id: EnvId,
    pub owner: Owner,
    /// As normalised by [`target::TargetUrl::parse`].
    pub url: String,
    pub description: String,
    /// What it subscribes to; empty is every type its owner may receive.
    pub event_types: Vec<EventType>,
    /// When it was disabled (by its owner, or later by delivery); `None`
    /// while enabled.
    pub disabled_at: Option<Millis>,
    pub disabled_reason: Option<String>,
    pub secrets: EndpointSecrets,
    /// The last event sequence fanned out to this endpoint: set at creation
    /// to the environment's last sequence, so an endpoint receives the
    /// events from its creation on; moved by delivery.
    pub event_cursor: i64,
    /// Since when every delivery attempt has failed (kept by delivery).
    pub failing_since: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Endpoint {
    pub fn enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// Whether the endpoint wants events of type `t` (its own filter, within
    /// what its owner may see).
    pub fn subscribes_to(&self, t: EventType) -> bool {
        self.owner.may_receive(t) && (self.event_types.is_empty() || self.event_types.contains(&t))
    }

    /// Turns the endpoint on or off; re-enabling starts afresh (no reason,
    /// no failure streak).
    pub fn set_enabled(&mut self, enabled: bool, now: Millis) {
        match (enabled, self.enabled()) {
            (true, false) => {
                self.disabled_at = None;
                self.disabled_reason = None;
                self.failing_since = None;
            }
            (false, true) => {
                self.disabled_at = Some(now);
                self.disabled_reason = Some(DISABLED_BY_OWNER.to_owned());
            }
            _ => {}
        }
    }
}

/// A description: at most [`MAX_DESCRIPTION_CHARS`] characters, no control
/// characters (it is shown in lists and terminals); empty is allowed. Kept
/// as sent, so the OpenAPI document can say exactly what is accepted.
///
/// # Errors
/// `invalid_length` or `invalid_characters` on `description`.
pub fn parse_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(FieldError::new(
            "description",
            FieldCode::InvalidLength,
            format!("description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            "description",
            FieldCode::InvalidCharacters,
            "description must not contain control characters",
        ));
    }
    Ok(raw.to_owned())
}

/// The event types an endpoint of `owner` subscribes to: known types its
/// owner may receive, each once, in documentation order. Empty stays empty
/// (every type).
///
/// # Errors
/// `unknown_event_type` or `event_type_not_visible` on `event_types`.
pub fn parse_event_types(owner: &Owner, raw: &[String]) -> Result<Vec<EventType>, FieldError> {
    let mut types = Vec::with_capacity(raw.len());
    for name in raw {
        let t: EventType = name
            .parse()
            .map_err(|()| FieldError::new("event_types", FieldCode::UnknownEventType, format!("`{name}` is not an event type")))?;
        if !owner.may_receive(t) {
            return Err(FieldError::new(
                "event_types",
                FieldCode::EventTypeNotVisible,
                format!("a partner's endpoint cannot receive `{name}` events"),
            ));
        }
        // As sent, each once: the endpoint shows what its owner asked for.
        if !types.contains(&t) {
            types.push(t);
        }
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn event_types_are_known_visible_and_deduplicated() {
        let partner = Owner::Partner("p1".into());
        let parsed = parse_event_types(&partner, &names(&["usage.alert", "account.created", "usage.alert"])).unwrap();
        assert_eq!(parsed, [EventType::UsageAlert, EventType::AccountCreated], "as sent, each once");
        assert_eq!(parse_event_types(&partner, &[]).unwrap(), []);
        let err = parse_event_types(&partner, &names(&["partner.created"])).unwrap_err();
        assert_eq!((err.field.as_str(), err.code), ("event_types", FieldCode::EventTypeNotVisible));
        let err = parse_event_types(&Owner::Environment, &names(&["account.exploded"])).unwrap_err();
        assert_eq!(err.code, FieldCode::UnknownEventType);
        assert_eq!(
            parse_event_types(&Owner::Environment, &names(&["partner.created"])).unwrap(),
            [EventType::PartnerCreated]
        );
    }

    #[test]
    fn descriptions_are_bounded_and_printable() {
        assert_eq!(parse_description(" Orders ").unwrap(), " Orders ");
        assert_eq!(parse_description("").unwrap(), "");
        assert!(parse_description(&"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok());
        let err = parse_description(&"é".repeat(MAX_DESCRIPTION_CHARS + 1)).unwrap_err();
        assert_eq!(err.code, FieldCode::InvalidLength);
        assert_eq!(parse_description("a\u{1b}[2Jb").unwrap_err().code, FieldCode::InvalidCharacters);
        assert_eq!(parse_description("a\n").unwrap_err().code, FieldCode::InvalidCharacters);
        assert_eq!(parse_description("\u{85}").unwrap_err().code, FieldCode::InvalidCharacters);
    }

    #[test]
    fn an_endpoint_subscribes_within_what_its_owner_sees() {
        use secret::SealedSecret;
        let mut ep = Endpoint {
            id: EndpointId::generate(),
            env_id: "e1".into(),
            owner: Owner::Partner("p1".into()),
            url: "https://hooks.example.com/".into(),
            description: String::new(),
            event_types: Vec::new(),
            disabled_at: None,
            disabled_reason: None,
            secrets: EndpointSecrets {
                current: SealedSecret::from_stored(vec![1]),
                previous: None,
            },
            event_cursor: 0,
            failing_since: Some(5),
            created_at: 1,
            updated_at: 1,
        };
        assert!(ep.subscribes_to(EventType::AccountCreated));
        assert!(!ep.subscribes_to(EventType::PartnerCreated), "not even with an empty filter");
        ep.event_types = vec![EventType::UsageAlert];
        assert!(!ep.subscribes_to(EventType::AccountCreated));
        ep.set_enabled(false, 9);
        assert_eq!((ep.enabled(), ep.disabled_reason.as_deref()), (false, Some(DISABLED_BY_OWNER)));
        ep.set_enabled(true, 10);
        assert!(ep.enabled() && ep.disabled_reason.is_none() && ep.failing_since.is_none());
    }
}
