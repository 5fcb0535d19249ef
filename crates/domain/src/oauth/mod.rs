//! OAuth 2.0 for machine clients: a service user is a confidential client
//! with client secrets (`onr_cs_…`), gets RFC 9068 access tokens through the
//! client-credentials grant, and may introspect (RFC 7662) and revoke
//! (RFC 7009) them. The server's metadata (RFC 8414) is in [`metadata`].

use std::fmt;

use crate::clock::Millis;
use crate::error::DomainError;
use crate::ids::{ClientSecretId, EnvId, ServiceUserId};
use crate::infra::secret::Secret;
use crate::tenancy::{EnvKind, PlatformId};

pub mod code_grant;
pub mod metadata;
pub mod revoked;
pub mod service;
pub mod store;
mod tokens;

/// What starts the `client_id` of a service user.
pub const CLIENT_ID_PREFIX: &str = "svc_";

/// The `client_id` of a service user: `svc_` and the service user's id.
/// Stable (ids never change, a reset password or a new secret keeps it),
/// unique (service-user ids are UUIDv7s, unique across environments), and
/// never a vendor app's `client_id` (a bare UUID).
pub fn client_id_of(user: &ServiceUserId) -> String {
    format!("{CLIENT_ID_PREFIX}{user}")
}

/// A client secret of a service user, as stored (without the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub id: ClientSecretId,
    pub env_id: EnvId,
    pub platform_id: PlatformId,
    pub environment: EnvKind,
    pub service_user_id: ServiceUserId,
    pub created_at: Millis,
    /// After this instant the secret is refused; `None`: it never expires.
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// Whether a secret authenticates, at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStatus {
    Active,
    Expired,
    Revoked,
}

impl SecretStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStatus::Active => "active",
            SecretStatus::Expired => "expired",
            SecretStatus::Revoked => "revoked",
        }
    }
}

impl ClientSecret {
    /// The `client_id` this secret authenticates.
    pub fn client_id(&self) -> String {
        client_id_of(&self.service_user_id)
    }

    /// Revoked wins over expired: an operator's act is what the list shows.
    pub fn status(&self, now: Millis) -> SecretStatus {
        if self.revoked_at.is_some() {
            SecretStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            SecretStatus::Expired
        } else {
            SecretStatus::Active
        }
    }
}

/// A secret just added, with the secret itself (shown once).
#[derive(Debug)]
pub struct IssuedClientSecret {
    pub secret: ClientSecret,
    pub client_secret: Secret,
}

/// The error codes of RFC 6749 §5.2 and RFC 7009 §2.2.1 this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedTokenType,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthCode {
    /// The code as the `error` member spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::UnsupportedTokenType => "unsupported_token_type",
            OAuthCode::ServerError => "server_error",
            OAuthCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

impl fmt::Display for OAuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an OAuth request fails: refused by the protocol (the client learns
/// the code and a description), or failed underneath (storage, overload).
#[derive(Debug)]
pub enum OAuthError {
    Refused { code: OAuthCode, description: String },
    Failed(DomainError),
}

impl OAuthError {
    pub fn refused(code: OAuthCode, description: impl Into<String>) -> Self {
        OAuthError::Refused {
            code,
            description: description.into(),
        }
    }

    /// `invalid_client`, with the one description every failed client
    /// authentication gets (unknown client, wrong, expired or revoked
    /// secret, disabled user): which of them is not the caller's business.
    pub fn invalid_client() -> Self {
        Self::refused(OAuthCode::InvalidClient, "client authentication failed")
    }
}

impl From<DomainError> for OAuthError {
    fn from(e: DomainError) -> Self {
        OAuthError::Failed(e)
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::Failed(e.into())
    }
}
