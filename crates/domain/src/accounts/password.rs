//! The password policy (CONVENTIONS §2): 8 to 256 Unicode scalar values, not a
//! common password, not the account's email.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::error::{FieldCode, FieldError};
use crate::infra::secret::Secret;

/// Ranked list of 30,000 common passwords (see `data/README.md`).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// Number of passwords in the bundled common-password list.
pub fn common_list_len() -> usize {
    COMMON.len()
}

/// Checks a new password against the policy.
///
/// # Errors
/// A `FieldError` on `field` naming the rule that failed.
pub fn check_policy(field: &str, password: &Secret, email: Option<&str>) -> Result<(), FieldError> {
    let pw = password.expose();
    let len = pw.chars().count();
    if len < 8 {
        return Err(FieldError::new(
            field,
            FieldCode::PasswordTooShort,
            "password must be at least 8 characters",
        ));
    }
    if len > 256 {
        return Err(FieldError::new(
            field,
            FieldCode::PasswordTooLong,
            "password must be at most 256 characters",
        ));
    }
    if COMMON.contains(pw.to_lowercase().as_str()) {
        return Err(FieldError::new(
            field,
            FieldCode::PasswordTooCommon,
            "password is too common; choose another",
        ));
    }
    if email.is_some_and(|e| e.eq_ignore_ascii_case(pw.trim())) {
        return Err(FieldError::new(
            field,
            FieldCode::PasswordEqualsEmail,
            "password must not be the email address",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str, email: Option<&str>) -> Result<(), &'static str> {
        check_policy("password", &Secret::new(pw.to_owned()), email).map_err(|e| e.code.as_str())
    }

    #[test]
    fn policy() {
        assert!(common_list_len() >= 10_000);
        assert_eq!(check("short", None), Err("password_too_short"));
        assert_eq!(check(&"x".repeat(257), None), Err("password_too_long"));
        assert_eq!(check("password123", None), Err("password_too_common"));
        assert_eq!(check("Ann@example.com", Some("ann@example.com")), Err("password_equals_email"));
        assert_eq!(check("correct horse battery", None), Ok(()));
        // Scalar values, not bytes: eight two-byte characters are enough.
        assert_eq!(check("éééééééé", None), Ok(()));
    }
}
