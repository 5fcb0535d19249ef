//! Operators: the people who run a deployment from the console. Each signs
//! in with an email and a password, then a TOTP code (RFC 6238) from the
//! authenticator app they enrolled at their first sign-in, or one of their
//! recovery codes. `admin`s change anything; `support` reads everything and
//! may only end a client session or resend a webhook.

use std::fmt;

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::ids::OperatorId;

pub mod service;
pub mod sessions;
pub mod store;

/// An operator, as stored: the password hashed, the TOTP secret sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    /// Lowercase.
    pub email: String,
    pub role: OperatorRole,
    pub password_hash: String,
    /// Sealed with the master key; `None` until the operator enrols.
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP time step accepted: each code signs in once.
    pub totp_last_step: i64,
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("enrolled", &self.totp_secret.is_some())
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Operator {
    pub fn is_admin(&self) -> bool {
        self.role == OperatorRole::Admin
    }
}

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// Changes anything.
    Admin,
    /// Reads everything; ends client sessions and resends webhooks.
    Support,
}

impl OperatorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Admin => "admin",
            OperatorRole::Support => "support",
        }
    }

    /// `admin` or `support`.
    ///
    /// # Errors
    /// `invalid_role`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "admin" => Ok(OperatorRole::Admin),
            "support" => Ok(OperatorRole::Support),
            _ => Err(FieldError::new("role", FieldCode::InvalidRole, "role must be `admin` or `support`")),
        }
    }
}

/// How far a console session has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the TOTP code (or a recovery code) is next.
    SecondFactor,
    /// The password was right and no authenticator is enrolled yet: the
    /// operator enrols one before anything else.
    Enrol,
    /// Signed in.
    Complete,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second_factor",
            Stage::Enrol => "enrol",
            Stage::Complete => "complete",
        }
    }

    /// What [`as_str`](Self::as_str) wrote; anything else is no session.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "second_factor" => Some(Stage::SecondFactor),
            "enrol" => Some(Stage::Enrol),
            "complete" => Some(Stage::Complete),
            _ => None,
        }
    }
}

/// A console session, as stored (under the SHA-256 of its token).
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorSession {
    pub token_hash: String,
    pub operator_id: OperatorId,
    pub stage: Stage,
    /// The TOTP secret offered at enrolment (sealed), until confirmed.
    pub pending_totp: Option<Vec<u8>>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

impl fmt::Debug for OperatorSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorSession")
            .field("operator_id", &self.operator_id)
            .field("stage", &self.stage)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}
