//! Service users: the accounts platform backends log in with for service tokens.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::ids::{EnvId, ServiceUserId};

pub mod auth;
pub mod service;
pub mod store;

/// A service user of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub id: ServiceUserId,
    pub env_id: EnvId,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl ServiceUser {
    /// How lifecycle events name the service user (never its hash).
    pub fn event_data(&self) -> serde_json::Value {
        serde_json::json!({ "service_user_id": self.id, "username": self.username })
    }
}

/// A service user's role, spelt as the CLI takes it and tokens carry it
/// (`r`). `service` opens the client account API; the operator may give
/// other names, which tokens carry for the platform's own use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// `service`: what the client account API requires.
    Service,
    /// Any other name the operator gave.
    Other(String),
}

impl Role {
    /// The role a service user gets when none is given.
    pub const DEFAULT: Role = Role::Service;

    /// A role name from the operator: 1 to 32 lowercase letters, `-`, `_` or `:`.
    ///
    /// # Errors
    /// `invalid_role`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=32).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_' || c == ':');
        if ok {
            Ok(Self::from(raw))
        } else {
            Err(FieldError::new(
                "role",
                FieldCode::InvalidRole,
                format!("`{raw}` is not a valid role name"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Role::Service => "service",
            Role::Other(name) => name,
        }
    }
}

/// A role read back from a row or a signed token: what we wrote, so not checked again.
impl From<&str> for Role {
    fn from(name: &str) -> Self {
        match name {
            "service" => Role::Service,
            other => Role::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Role::from(name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_keep_their_spelling() {
        assert_eq!(Role::parse("service").unwrap(), Role::Service);
        assert_eq!(Role::parse("reports").unwrap(), Role::Other("reports".into()));
        assert_eq!(
            serde_json::to_string(&[Role::Service, Role::from("a:b")]).unwrap(),
            r#"["service","a:b"]"#
        );
        assert_eq!(
            serde_json::from_str::<Vec<Role>>(r#"["service","x"]"#).unwrap(),
            [Role::Service, Role::from("x")]
        );
        for bad in ["", "Admin", "a b", &"a".repeat(33)] {
            assert_eq!(Role::parse(bad).unwrap_err().code, FieldCode::InvalidRole, "{bad:?}");
        }
    }
}
