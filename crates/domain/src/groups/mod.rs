//! Groups of accounts, per environment: identity providers push them over
//! SCIM (`/scim/v2/Groups`), service users read them through the client API.
//! A group has a display name unique in its environment (compared
//! case-insensitively), an optional `external_id` (the identity provider's
//! id, unique when set) and members, accounts of the same environment.
//! Memberships are rows of their own, so adding or removing one member of a
//! group of thousands touches one row.

pub mod service;
pub mod store;

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::ids::{AccountId, EnvId, GroupId};

/// The longest display name and external id, in characters.
pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_EXTERNAL_ID_CHARS: usize = 1024;

/// A group of accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub env_id: EnvId,
    pub display_name: String,
    /// The identity provider's id for the group.
    pub external_id: Option<String>,
    /// Counts every change, membership changes included (SCIM's ETag).
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A group and how many members it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub group: Group,
    pub member_count: u64,
}

/// A member of a group: an account and its email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: AccountId,
    pub email: String,
}

/// What a new group is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGroup {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<AccountId>,
}

/// The key that makes display names unique: SCIM compares `displayName`
/// case-insensitively, so `Sales` and `sales` are one group.
pub fn display_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

/// Checks a display name: 1 to [`MAX_NAME_CHARS`] characters, not only
/// spaces, no control characters.
///
/// # Errors
/// A [`FieldError`] on `field` saying what is wrong.
pub fn check_display_name(field: &str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidLength,
            format!("{field} must hold 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidCharacters,
            format!("{field} must not hold control characters"),
        ));
    }
    Ok(())
}

/// Checks an external id: 1 to [`MAX_EXTERNAL_ID_CHARS`] characters.
///
/// # Errors
/// A [`FieldError`] on `externalId`.
pub fn check_external_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() || id.chars().count() > MAX_EXTERNAL_ID_CHARS {
        return Err(FieldError::new(
            "externalId",
            FieldCode::InvalidLength,
            format!("externalId must hold 1 to {MAX_EXTERNAL_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_checked_and_keyed_without_case() {
        assert_eq!(display_key("Sales EMEA"), display_key("sales emea"));
        assert!(check_display_name("displayName", "Sales").is_ok());
        assert!(check_display_name("displayName", "  ").is_err());
        assert!(check_display_name("displayName", "a\u{0}b").is_err());
        assert!(check_display_name("displayName", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(check_external_id("").is_err() && check_external_id("abc").is_ok());
    }
}
