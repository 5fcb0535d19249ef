//! The partner portal's people: a partner's portal users, who sign in with
//! an email and a password on their environment's public host, their
//! sessions, the invitations that bring more of them in, and the
//! application a company leaves when it asks to become a partner.
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
pub mod service;
pub mod sessions;
pub mod store;

/// How long an invitation link stays good.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The prefix of invitation tokens (so a leaked one is recognisable).
pub const INVITATION_PREFIX: &str = "onr_inv_";

/// A partner's person, as stored: the password hashed.
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
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl fmt::Debug for PortalUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalUser")
            .field("id", &self.id)
            .field("partner_id", &self.partner_id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A portal session, as stored (under the SHA-256 of its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub token_hash: String,
    pub user_id: PortalUserId,
    pub created_at: Millis,
    pub last_seen_at: Millis,
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

    /// Whether the partner is approved: only then does the portal open.
    pub fn approved(&self) -> bool {
        self.partner.status == PartnerStatus::Active
    }
}

/// A newly made invitation; `url_path` carries the only copy of its token.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub invitation: Invitation,
    /// `/partners/invite/<token>`: the host is the partner's environment's.
    pub url_path: crate::infra::secret::Secret,
}
