//! Client accounts: validated emails and names, and the account record.

pub mod password;
pub mod service;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::events::EventType;
use crate::ids::{AccountId, EnvId, PartnerId};

/// A syntactically valid email address of at most 254 characters, with an
/// ASCII local part and a domain that IDNA can map. Equality for uniqueness
/// is on [`Email::normalized`] ([`canonical_email`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// `invalid_email` when the address is malformed or too long.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > 254 {
            return Err(FieldError::new(
                field,
                FieldCode::InvalidEmail,
                format!("{field} must be at most 254 characters"),
            ));
        }
        if !email_address::EmailAddress::is_valid(trimmed) || trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                FieldCode::InvalidEmail,
                format!("{field} is not a valid email address"),
            ));
        }
        let (local, domain) = trimmed.rsplit_once('@').expect("a valid address has an @");
        if !local.is_ascii() {
            // Unicode local parts have no agreed folding: `\u{212A}ate` (Kelvin
            // sign) would otherwise stand beside, or for, `kate`.
            return Err(FieldError::new(
                field,
                FieldCode::InvalidEmail,
                format!("{field} must have an ASCII part before the @ (the domain may be international)"),
            ));
        }
        if idna::domain_to_ascii(domain).is_err() {
            return Err(FieldError::new(
                field,
                FieldCode::InvalidEmail,
                format!("{field} has a domain that is not a valid (internationalised) domain name"),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on.
    pub fn normalized(&self) -> String {
        canonical_email(&self.0)
    }
}

/// The one form of an address that uniqueness and lookups compare: the
/// ASCII local part lowercased, the domain mapped by IDNA (UTS 46: case and
/// compatibility characters folded, then Punycode), so `Ann@EXAMPLE.com`,
/// `ann@ｅxample.com` and `ann@example.com` are one person's address.
pub fn canonical_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
            format!("{}@{domain}", local.to_ascii_lowercase())
        }
        None => address.to_ascii_lowercase(),
    }
}

/// Validates one human name part: 1 to 100 characters, no control characters.
///
/// # Errors
/// `invalid_name` naming the field.
pub fn parse_name_part(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let len = value.chars().count();
    if !(1..=100).contains(&len) {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidLength,
            format!("{field} must be 1 to 100 characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{FEFF}'))
    {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidCharacters,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A person's name as the client API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub first_name: String,
    pub last_name: String,
}

/// The stored hash of an account that has no password (one a SCIM client
/// created without): no password verifies against it, and checking one
/// costs the same time as a real hash.
pub const NO_PASSWORD: &str = "!";

/// A client account. The password hash never leaves the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub env_id: EnvId,
    pub email: String,
    pub name: PersonName,
    pub password_hash: String,
    /// The partner that created the account, if one did.
    pub partner_id: Option<PartnerId>,
    /// A deactivated account cannot sign in, has no sessions, and its vendor
    /// grants answer as if it did not exist; it can be reactivated.
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Account {
    /// How lifecycle events name the account (never its hash).
    pub fn event_data(&self) -> serde_json::Value {
        serde_json::json!({ "account_id": self.id, "email": self.email, "partner_id": self.partner_id })
    }
}

/// Changes to an account; `None` keeps a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    /// `Some(false)` deactivates the account and ends all its sessions.
    pub active: Option<bool>,
    /// The new version; it always moves forward, so two changes within one
    /// millisecond still get two versions.
    pub updated_at: Millis,
    /// Update only if the version is still this one.
    pub if_version: Option<Millis>,
    /// What SCIM keeps of the account, replaced alongside.
    pub scim: Option<crate::scim::store::ScimExtra>,
}

impl AccountUpdate {
    /// Attaches the lifecycle events of this update of `account`:
    /// `account.updated` naming the fields that changed (the password
    /// aside) and whether the account is active afterwards, and
    /// `account.password_changed` when the password did.
    pub fn emit_events(&self, mut audit: AuditEvent, env_id: &EnvId, account: &Account, changed: &[&str]) -> AuditEvent {
        let partner = account.partner_id.as_ref();
        let mut data = account.event_data();
        if let Some(email) = &self.email {
            data["email"] = serde_json::json!(email);
        }

        let fields: Vec<&str> = changed.iter().copied().filter(|f| *f != "password").collect();
        if !fields.is_empty() {
            let mut data = data.clone();
            data["changed"] = serde_json::json!(fields);
            data["active"] = serde_json::json!(self.active.unwrap_or(account.active));
            audit = audit.emit(env_id, EventType::AccountUpdated, partner, data);
        }
        if self.password_hash.is_some() {
            audit = audit.emit(env_id, EventType::AccountPasswordChanged, partner, data);
        }
        audit
    }
}

/// A client session; only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub env_id: EnvId,
    pub account_id: AccountId,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Which accounts to list.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub email_normalized: Option<String>,
    /// Only accounts this partner created.
    pub partner_id: Option<PartnerId>,
    /// Only ids greater than this (the page cursor).
    pub after: Option<AccountId>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse("email", "Ann@Example.com").unwrap().normalized(), "ann@example.com");
        assert!(Email::parse("email", "not-an-email").is_err());
        assert!(Email::parse("email", &format!("{}@x.com", "a".repeat(250))).is_err());
        // The Kelvin sign folds to `k` under Unicode lowercasing: refused.
        assert!(Email::parse("email", "\u{212A}ate@example.com").is_err());
        assert!(Email::parse("email", "k\u{00E4}te@example.com").is_err());
        for same in ["Kate@EXAMPLE.com", "kate@\u{FF45}xample.com", "kate@example.com"] {
            assert_eq!(Email::parse("email", same).unwrap().normalized(), "kate@example.com", "{same}");
        }
        assert_eq!(
            Email::parse("email", "kate@B\u{00FC}cher.example").unwrap().normalized(),
            "kate@xn--bcher-kva.example"
        );
    }

    #[test]
    fn names() {
        assert_eq!(parse_name_part("first_name", " Ann ").unwrap(), "Ann");
        assert!(parse_name_part("first_name", "").is_err());
        assert!(parse_name_part("first_name", "A\u{0007}nn").is_err());
        assert!(parse_name_part("first_name", &"é".repeat(101)).is_err());
        assert!(parse_name_part("first_name", &"é".repeat(100)).is_ok());
    }
}
