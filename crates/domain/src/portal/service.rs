//! Applying to become a partner, and the partner's team: invitations (from
//! the operator or a teammate), accepting them, removing people. Sign-in
//! and sessions are in `sessions.rs`, keys and alerts in `keys.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::accounts::password::check_policy;
use crate::accounts::{Email, parse_name_part};
use crate::audit::{Actor, AuditEvent};
use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode, FieldError, Validator};
use crate::events::EventType;
use crate::ids::{EnvId, PartnerId, PortalUserId};
use crate::infra::hash_queue::Share;
use crate::infra::hashing::PasswordHasher;
use crate::infra::master_key::MasterKey;
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::infra::throttle::LoginThrottle;
use crate::partners::service::Partners;
use crate::partners::{Partner, PartnerStatus};
use crate::portal::{Application, INVITATION_LIFETIME, INVITATION_PREFIX, Invitation, Member, NewApplication, NewInvitation, PortalUser};
use crate::store::{Store, StoreError};
use crate::tenancy::{Feature, Tenant};

/// Longest "intended use" an application keeps.
const MAX_INTENDED_USE: usize = 2000;

/// The partner portal: applications, portal users, their sessions and invitations.
pub struct Portal {
    pub(super) store: Arc<dyn Store>,
    pub(super) hasher: Arc<PasswordHasher>,
    pub(super) throttle: Arc<LoginThrottle>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) partners: Arc<Partners>,
    /// Seals TOTP secrets.
    pub(super) seal_key: [u8; 32],
    /// Keys recovery-code hashes.
    pub(super) recovery_key: [u8; 32],
    /// How long a portal session lasts without a request.
    pub(super) idle: Duration,
}

impl Portal {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        hasher: Arc<PasswordHasher>,
        throttle: Arc<LoginThrottle>,
        clock: Arc<dyn Clock>,
        partners: Arc<Partners>,
        master: &MasterKey,
        idle: Duration,
    ) -> Self {
        Self {
            store,
            hasher,
            throttle,
            clock,
            partners,
            // Keys of their own, apart from operators': a portal secret can
            // never be unsealed as an operator's, nor a code hash match.
            seal_key: master.derive("portal-totp"),
            recovery_key: master.derive("portal-recovery"),
            idle,
        }
    }

    /// Portal users' passwords queue for hashing with their environment's.
    pub(super) fn share(env_id: &EnvId) -> Share {
        Share::tenant(env_id)
    }

    /// Applies to become a partner of `tenant`'s environment: a `pending`
    /// partner named after the company, its application and its first
    /// portal user, who is signed in at once (to a portal that shows only
    /// "awaiting approval" until the operator approves). Returns the
    /// session token for the cookie.
    ///
    /// # Errors
    /// `FeatureDisabled`, `Validation` (every field at once), `EmailTaken`
    /// when the email is a portal user's of this environment already.
    pub async fn apply(&self, tenant: &Tenant, new: NewApplication) -> Result<(String, Member), DomainError> {
        tenant.require(Feature::Partners)?;
        let mut v = Validator::default();
        let company = v.check(parse_name_part("company", &new.company));
        let contact = v.check(parse_name_part("contact_name", &new.contact_name));
        let email = v.check(Email::parse("email", &new.email)).map(|e| e.as_str().to_lowercase());
        let intended_use = v.check(parse_intended_use(&new.intended_use));
        v.check(check_policy("password", &new.password, email.as_deref()));
        v.finish()?;
        let (Some(company), Some(contact), Some(email), Some(intended_use)) = (company, contact, email, intended_use) else {
            unreachable!("a validator that finished holds every value");
        };
        let now = self.clock.now_ms();
        let partner = Partner {
            id: PartnerId::generate(),
            env_id: tenant.env.id.clone(),
            platform_id: tenant.instance.platform_id.clone(),
            environment: tenant.env.kind,
            name: company,
            status: PartnerStatus::Pending,
            allowed_scopes: crate::partners::Scope::ALL.to_vec(),
            created_at: now,
            updated_at: now,
        };
        let user = PortalUser {
            id: PortalUserId::generate(),
            env_id: tenant.env.id.clone(),
            partner_id: partner.id.clone(),
            email: email.clone(),
            name: contact.clone(),
            password_hash: self.hasher.hash(&Self::share(&tenant.env.id), &new.password).await?,
            totp_secret: None,
            totp_last_step: 0,
            created_at: now,
            updated_at: now,
        };
        let application = Application {
            partner_id: partner.id.clone(),
            contact_name: contact,
            contact_email: email,
            intended_use,
            created_at: now,
        };
        let actor = Actor::portal_user(&user.id);
        let audits = [
            AuditEvent::in_tenant(&actor, tenant, "partner.applied", partner.id.as_str())
                .with_detail(json!({ "name": partner.name, "contact_email": application.contact_email }))
                .emit(&partner.env_id, EventType::PartnerCreated, None, partner.event_data()),
            user_audit(&actor, &partner, "portal_user.created", &user),
        ];
        self.store.create_application(&partner, &application, &user, &audits).await?;
        // The password was just set: open the session without hashing it again.
        let token = self.open_session(&user, &partner).await?;
        let member = self.session(tenant, &token).await?.ok_or(DomainError::NotFound("session"))?;
        Ok((token, member))
    }

    /// What the company wrote when it applied; `None` for partners the
    /// operator created.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn application(&self, partner_id: &PartnerId) -> Result<Option<Application>, DomainError> {
        Ok(self.store.partner_application(partner_id).await?)
    }

    /// A partner's portal users, oldest first (for the operator).
    ///
    /// # Errors
    /// `NotFound("partner")`.
    pub async fn users_of(&self, partner_id: &PartnerId) -> Result<Vec<PortalUser>, DomainError> {
        let partner = self.partners.partner(partner_id).await?;
        Ok(self.store.portal_users(&partner.id).await?)
    }

    /// Invites `email` to join a partner (the operator, from the CLI or
    /// the console): a link good once, for 7 days.
    ///
    /// # Errors
    /// `NotFound("partner")`, `Validation` for a bad email, `EmailTaken`
    /// when it is a portal user's of the partner's environment already.
    pub async fn invite(&self, actor: &Actor, partner_id: &PartnerId, email: &str) -> Result<NewInvitation, DomainError> {
        let partner = self.partners.partner(partner_id).await?;
        self.invite_to(actor, &partner, email).await
    }

    /// A member invites a teammate.
    ///
    /// # Errors
    /// As [`Portal::invite`]; `PartnerNotApproved` before approval.
    pub async fn invite_teammate(&self, member: &Member, email: &str) -> Result<NewInvitation, DomainError> {
        require_approved(member)?;
        self.invite_to(&member.actor(), &member.partner, email).await
    }

    async fn invite_to(&self, actor: &Actor, partner: &Partner, email: &str) -> Result<NewInvitation, DomainError> {
        let email = Email::parse("email", email)
            .map_err(|e| DomainError::Validation(vec![e]))?
            .as_str()
            .to_lowercase();
        if self.store.portal_user_by_email(&partner.env_id, &email).await?.is_some() {
            return Err(DomainError::EmailTaken);
        }
        let token = random_token(INVITATION_PREFIX, 43);
        let now = self.clock.now_ms();
        let invitation = Invitation {
            token_hash: token_hash(&token),
            env_id: partner.env_id.clone(),
            partner_id: partner.id.clone(),
            email,
            invited_by: actor.kind.to_string(),
            created_at: now,
            expires_at: now + millis(INVITATION_LIFETIME),
            used_at: None,
        };
        let audit = partner_audit(actor, partner, "portal_user.invited", partner.id.as_str())
            .with_detail(json!({ "email": invitation.email, "expires_at": invitation.expires_at }));
        self.store.create_invitation(&invitation, &audit).await?;
        Ok(NewInvitation {
            invitation,
            url_path: Secret::new(format!("/partners/invite/{token}")),
        })
    }

    /// The live invitation of `token` on `tenant`'s host.
    ///
    /// # Errors
    /// `InvalidGrant` for an unknown or used link (or one of another
    /// environment), `TokenExpired`.
    pub async fn invitation(&self, tenant: &Tenant, token: &str) -> Result<Invitation, DomainError> {
        const UNKNOWN: DomainError = DomainError::InvalidGrant("this invitation link is unknown or was used already");
        if !token.starts_with(INVITATION_PREFIX) || token.len() > 128 {
            return Err(UNKNOWN);
        }
        let found = self.store.invitation(&token_hash(token)).await?;
        let invitation = found.filter(|i| i.env_id == tenant.env.id && i.used_at.is_none()).ok_or(UNKNOWN)?;
        if invitation.expires_at <= self.clock.now_ms() {
            return Err(DomainError::TokenExpired);
        }
        Ok(invitation)
    }

    /// Accepts an invitation with a password: the person joins the partner
    /// and is signed in. The link works once, even under concurrency.
    ///
    /// # Errors
    /// As [`Portal::invitation`]; `Validation` for a weak password,
    /// `EmailTaken`.
    pub async fn accept(&self, tenant: &Tenant, token: &str, password: &Secret) -> Result<String, DomainError> {
        let invitation = self.invitation(tenant, token).await?;
        check_policy("password", password, Some(&invitation.email)).map_err(|e| DomainError::Validation(vec![e]))?;
        let partner = self.partners.partner(&invitation.partner_id).await?;
        let now = self.clock.now_ms();
        let user = PortalUser {
            id: PortalUserId::generate(),
            env_id: invitation.env_id.clone(),
            partner_id: partner.id.clone(),
            email: invitation.email.clone(),
            name: String::new(),
            password_hash: self.hasher.hash(&Self::share(&tenant.env.id), password).await?,
            totp_secret: None,
            totp_last_step: 0,
            created_at: now,
            updated_at: now,
        };
        let actor = Actor::portal_user(&user.id);
        let audit = user_audit(&actor, &partner, "portal_user.created", &user).with_detail(json!({
            "partner_id": partner.id, "email": user.email, "invited_by": invitation.invited_by
        }));
        match self.store.accept_invitation(&invitation.token_hash, now, &user, &audit).await {
            Err(StoreError::NotFound) => return Err(DomainError::InvalidGrant("this invitation link was used already")),
            other => other?,
        }
        self.open_session(&user, &partner).await
    }

    /// The member's partner's portal users, oldest first.
    ///
    /// # Errors
    /// `PartnerNotApproved`; storage failures.
    pub async fn team(&self, member: &Member) -> Result<Vec<PortalUser>, DomainError> {
        require_approved(member)?;
        Ok(self.store.portal_users(&member.partner.id).await?)
    }

    /// Removes a teammate (never oneself); their sessions end at once.
    ///
    /// # Errors
    /// `Forbidden` for oneself, `NotFound("portal user")` for anyone not
    /// of the member's partner, `PartnerNotApproved`.
    pub async fn remove(&self, member: &Member, id: &PortalUserId) -> Result<PortalUser, DomainError> {
        require_approved(member)?;
        if *id == member.user.id {
            return Err(DomainError::Forbidden("you cannot remove yourself"));
        }
        let user = self
            .store
            .portal_user(id)
            .await?
            .filter(|u| u.partner_id == member.partner.id)
            .ok_or(DomainError::NotFound("portal user"))?;
        let audit = user_audit(&member.actor(), &member.partner, "portal_user.removed", &user);
        self.store.delete_portal_user(&user.id, &audit).await?;
        Ok(user)
    }

    /// Purges idle sessions and expired invitations.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn purge(&self) -> Result<u64, DomainError> {
        let now = self.clock.now_ms();
        Ok(self.store.purge_portal(now - millis(self.idle), now).await?)
    }
}

pub(super) fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The portal opens for approved partners only, and only once sign-in is
/// complete.
pub(super) fn require_approved(member: &Member) -> Result<(), DomainError> {
    if !member.signed_in() {
        return Err(DomainError::Forbidden("enter your authentication code first"));
    }
    if member.approved() {
        Ok(())
    } else {
        Err(DomainError::PartnerNotApproved(member.partner.status.as_str()))
    }
}

/// An audit event in the partner's environment.
pub(super) fn partner_audit(actor: &Actor, partner: &Partner, action: &str, target: &str) -> AuditEvent {
    AuditEvent::new(actor, &partner.platform_id, Some(partner.environment.as_str()), action, target)
}

/// An audit event about a portal user.
pub(super) fn user_audit(actor: &Actor, partner: &Partner, action: &str, user: &PortalUser) -> AuditEvent {
    partner_audit(actor, partner, action, user.id.as_str()).with_detail(json!({ "partner_id": partner.id, "email": user.email }))
}

fn parse_intended_use(raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    let len = text.chars().count();
    if len == 0 || len > MAX_INTENDED_USE {
        return Err(FieldError::new(
            "intended_use",
            FieldCode::InvalidLength,
            format!("intended_use must be 1 to {MAX_INTENDED_USE} characters"),
        ));
    }
    Ok(text.to_owned())
}
