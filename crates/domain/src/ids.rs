//! The ids of the model, one type each, so that an account id cannot be
//! passed where an app id is expected: `grant(&AccountId, &AppId)` does not
//! compile with its arguments swapped. Strings exist only at the edges: the
//! store binds `as_str()` and wraps the columns it reads, serde writes the
//! bare string, and the HTTP layer and the CLI parse what clients send.
//!
//! Wrapping a string (`From`, `new`) checks nothing: it is for ids
//! the server made or stored itself. Ids that clients supply keep their
//! validation at the edge ([`AccountId::parse`], [`PlatformId::parse`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::error::{FieldCode, FieldError};
use crate::infra::secret::random_token;

pub use crate::tenancy::PlatformId;

/// An opaque string id: `Display` and serde give the bare string.
macro_rules! string_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id the server made or stored; checks nothing.
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self(raw)
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self(raw.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    )+};
}

/// Ids the server makes as UUIDv7 strings (they sort by creation time).
macro_rules! uuid_v7_ids {
    ($($name:ident),+) => {$(
        impl $name {
            /// A new UUIDv7 id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
        }
    )+};
}

string_id! {
    /// One environment (staging or production) of an instance.
    EnvId;
    /// A client account: a UUID, chosen by the client at signup or generated.
    AccountId;
    /// A partner of one environment.
    PartnerId;
    /// A partner API key's visible id (`key_…`), shown in lists and logs.
    KeyId;
    /// A vendor app (its public `client_id`).
    AppId;
    /// A vendor app key's visible id (`key_…`).
    AppKeyId;
    /// A service user of one environment.
    ServiceUserId;
    /// A usage anomaly alert.
    AlertId;
    /// An audit event.
    AuditEventId;
    /// A lifecycle event (`evt_…`), the `webhook-id` of its deliveries.
    EventId;
    /// A webhook endpoint (`ep_…`).
    EndpointId;
    /// An operator: a person who runs the deployment from the console.
    OperatorId;
    /// A partner's person who signs in to the partner portal.
    PortalUserId;
    /// A SCIM bearer token of one environment.
    ScimTokenId;
    /// A group of accounts of one environment (a SCIM Group).
    GroupId;
    /// An OAuth client secret of a service user.
    ClientSecretId;
}

uuid_v7_ids!(
    EnvId,
    AccountId,
    PartnerId,
    AppId,
    ServiceUserId,
    AlertId,
    AuditEventId,
    OperatorId,
    PortalUserId,
    ScimTokenId,
    GroupId,
    ClientSecretId
);

/// Random characters of a visible key id after its `key_` prefix.
const KEY_ID_RANDOM_LEN: usize = 20;

impl KeyId {
    /// A new visible key id: `key_` and 20 random base62 characters.
    pub fn generate() -> Self {
        Self(random_token("key_", KEY_ID_RANDOM_LEN))
    }
}

impl EventId {
    /// A new event id: `evt_` and a UUIDv7 without hyphens (sorts by time).
    pub fn generate() -> Self {
        Self(format!("evt_{}", uuid::Uuid::now_v7().simple()))
    }
}

impl EndpointId {
    /// A new endpoint id: `ep_` and a UUIDv7 without hyphens (sorts by time,
    /// so lists page by id in creation order).
    pub fn generate() -> Self {
        Self(format!("ep_{}", uuid::Uuid::now_v7().simple()))
    }

    /// An endpoint id to look up (from a URL path, a cursor or the CLI):
    /// what does not have the shape of one names no endpoint.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub fn lookup(raw: &str) -> Result<Self, DomainError> {
        let hex = raw.strip_prefix("ep_").ok_or(DomainError::NotFound("endpoint"))?;
        if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::NotFound("endpoint"))
        }
    }
}

impl AppKeyId {
    /// A new visible key id: `key_` and 20 random base62 characters.
    pub fn generate() -> Self {
        Self(random_token("key_", KEY_ID_RANDOM_LEN))
    }
}

impl GroupId {
    /// A group id to look up (from a URL path or a filter): what is not a
    /// UUID names no group.
    ///
    /// # Errors
    /// `NotFound("group")` when it is not a UUID.
    pub fn lookup(raw: &str) -> Result<Self, DomainError> {
        uuid::Uuid::try_parse(raw)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| DomainError::NotFound("group"))
    }
}

impl AccountId {
    /// A client-supplied account id: any UUID, kept in canonical form
    /// (lowercase, hyphenated), so every spelling of one UUID names one account.
    ///
    /// # Errors
    /// `invalid_uuid` on `field` when it is not a UUID.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        uuid::Uuid::try_parse(raw)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| FieldError::new(field, FieldCode::InvalidUuid, format!("{field} must be a UUID")))
    }

    /// An account id to look up (from a URL path): what is not a UUID names
    /// no account.
    ///
    /// # Errors
    /// `NotFound("account")` when it is not a UUID.
    pub fn lookup(raw: &str) -> Result<Self, DomainError> {
        Self::parse("user_id", raw).map_err(|_| DomainError::NotFound("account"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_canonical_uuids() {
        let id = AccountId::parse("user_id", "0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B").unwrap();
        assert_eq!(id.as_str(), "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b");
        let err = AccountId::parse("cursor", "nope").unwrap_err();
        assert_eq!((err.field.as_str(), err.code), ("cursor", FieldCode::InvalidUuid));
        assert!(matches!(AccountId::lookup("nope"), Err(DomainError::NotFound("account"))));
    }

    #[test]
    fn ids_are_bare_strings_on_the_wire() {
        let id = AppId::new("a1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""a1""#);
        assert_eq!(serde_json::from_str::<AppId>(r#""a1""#).unwrap(), id);
        assert_eq!(id.to_string(), "a1");
    }

    #[test]
    fn generated_ids_have_their_shapes() {
        assert!(uuid::Uuid::try_parse(AccountId::generate().as_str()).is_ok());
        let key = KeyId::generate();
        assert!(key.as_str().starts_with("key_") && key.as_str().len() == 24, "{key}");
        assert_ne!(KeyId::generate(), key);
        let ep = EndpointId::generate();
        assert_eq!(EndpointId::lookup(ep.as_str()).unwrap(), ep);
        assert!(ep < EndpointId::generate(), "endpoint ids sort by creation");
        for bad in [
            "",
            "ep_",
            "evt_0190a1b2c3d47e5f8a6b7c8d9e0f1a2b",
            "ep_0190A1B2C3D47E5F8A6B7C8D9E0F1A2B",
            "ep_x",
        ] {
            assert!(EndpointId::lookup(bad).is_err(), "{bad}");
        }
    }
}
