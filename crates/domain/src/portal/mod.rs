//! The partner portal's people: a partner's portal users, who sign in with
//! an email and a password on their environment's public host, their
//! sessions, the invitations that bring more of them in, and the
//! application a company leaves when it asks to become a partner.
//!
//! A portal user may add a second factor (TOTP, with recovery codes), the
//! same as operators' but optional: once enrolled, signing in takes an
//! authentication code after the password (`second_factor.rs`).
//!
//! A portal user belongs to exactly one partner, which belongs to exactly
//! one environment: everything a portal user may see or change is the
//! partner's, which the service (not the caller) takes from the session.

use std::fmt;
use std::time::Duration;

use crate::audit::Actor;
use crate::clock::Millis;
use crate::ids::{EnvId, PartnerId, PortalUserId};
use crate::partners::{Partner, PartnerStatus};

pub mod accounts;
pub mod keys;
pub mod second_factor;
pub mod service;
pub mod sessions;
pub mod store;

/// How long an invitation link stays good.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The prefix of invitation tokens (so a leaked one is recognisable).
pub const INVITATION_PREFIX: &str = "onr_inv_";

/// A partner's person, as stored: the password hashed, the TOTP secret sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalUser {
    pub id: PortalUserId,
    pub env_id: EnvId,
    pub partner_id: PartnerId,
    /// Lowercase.
    pub email: String,
    /// The contact name given when applying; empty for invited people.
    pub name: String,
    pub password_hash: String,
    /// Sealed with a key derived from the master key; `None` while the
    /// person has no authenticator (the second factor is optional).
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP time step accepted: each code signs in once.
    pub totp_last_step: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl fmt::Debug for PortalUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalUser")
            .field("id", &self.id)
            .field("partner_id", &self.partner_id)
            .field("email", &self.email)
            .field("enrolled", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

impl PortalUser {
    /// Whether signing in takes an authentication code.
    pub fn has_authenticator(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// How far a portal session has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the person has an authenticator, so its
    /// code (or a recovery code) is next. Nothing of the portal opens yet.
    SecondFactor,
    /// Signed in.
    Complete,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second_factor",
            Stage::Complete => "complete",
        }
    }

    /// What [`as_str`](Self::as_str) wrote; anything else is no session.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "second_factor" => Some(Stage::SecondFactor),
            "complete" => Some(Stage::Complete),
            _ => None,
        }
    }
}

/// A portal session, as stored (under the SHA-256 of its token).
#[derive(Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub token_hash: String,
    pub user_id: PortalUserId,
    pub stage: Stage,
    /// The TOTP secret offered on the security page (sealed), until a code
    /// confirms it.
    pub pending_totp: Option<Vec<u8>>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

impl fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalSession")
            .field("user_id", &self.user_id)
            .field("stage", &self.stage)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// An invitation to join a partner, as stored (under the SHA-256 of its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub token_hash: String,
    pub env_id: EnvId,
    pub partner_id: PartnerId,
    /// Lowercase.
    pub email: String,
    /// The audit actor who invited (`operator`, `portal_user:…`).
    pub invited_by: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

/// What a company wrote when it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub partner_id: PartnerId,
    pub contact_name: String,
    /// Lowercase.
    pub contact_email: String,
    pub intended_use: String,
    pub created_at: Millis,
}

/// What the apply form sends.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub company: String,
    pub contact_name: String,
    pub email: String,
    pub intended_use: String,
    pub password: crate::infra::secret::Secret,
}

/// A signed-in portal user, their partner (as it is now) and their session.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: PortalUser,
    pub partner: Partner,
    pub session: PortalSession,
}

impl Member {
    /// The portal user as the actor of what they do in the portal.
    pub fn actor(&self) -> Actor {
        Actor::portal_user(&self.user.id)
    }

    /// Whether sign-in is complete (the second factor too, for a person
    /// with an authenticator): only then does anything of the portal open.
    pub fn signed_in(&self) -> bool {
        self.session.stage == Stage::Complete
    }

    /// Whether the person is signed in and the partner approved: only then
    /// do the partner's pages open.
    pub fn approved(&self) -> bool {
        self.signed_in() && self.partner.status == PartnerStatus::Active
    }
}

/// A newly made invitation; `url_path` carries the only copy of its token.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub invitation: Invitation,
    /// `/partners/invite/<token>`: the host is the partner's environment's.
    pub url_path: crate::infra::secret::Secret,
}
