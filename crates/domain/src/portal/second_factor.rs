//! A portal user's optional second factor, built like operators' mandatory
//! one (`operators/sessions.rs`): a TOTP authenticator (RFC 6238) the
//! person sets up on the security page, confirmed with a code and handed
//! recovery codes shown once; then every sign-in takes an authentication
//! code (each TOTP step accepted once) or a recovery code (each usable
//! once). Turning it off takes a current code too.
//!
//! Wrong codes are throttled under a name of their own, apart from the
//! password's: a right password must not wipe the failures of guessed codes.

use serde_json::json;

use crate::audit::Actor;
use crate::error::DomainError;
use crate::ids::{PartnerId, PortalUserId};
use crate::infra::seal::{seal, unseal};
use crate::infra::throttle::{LoginAttempt, LoginSource, Realm};
use crate::infra::totp::{TotpSecret, recovery_codes, recovery_hash};
use crate::portal::service::{Portal, partner_audit, user_audit};
use crate::portal::{Member, PortalUser, Stage};
use crate::store::StoreError;

/// How a code checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Factor {
    Totp,
    RecoveryCode,
}

impl Factor {
    fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

impl Portal {
    /// Completes sign-in with a TOTP code (each accepted once) or a
    /// recovery code (each usable once).
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong or reused code (throttled),
    /// `LoginThrottled`, `Forbidden` when the session awaits no code.
    pub async fn second_factor(&self, member: &mut Member, code: &str, source: LoginSource) -> Result<(), DomainError> {
        if member.session.stage != Stage::SecondFactor {
            return Err(DomainError::Forbidden("no authentication code is awaited"));
        }
        let factor = self.checked(&member.user, code, source).await?;
        member.session.stage = Stage::Complete;
        member.session.pending_totp = None;
        member.session.last_seen_at = self.clock.now_ms();
        let audit = partner_audit(&member.actor(), &member.partner, "portal_user.signed_in", member.user.id.as_str())
            .with_detail(json!({ "partner_id": member.partner.id, "second_factor": factor.as_str() }));
        self.store.update_portal_session(&member.session, Some(&audit)).await?;
        Ok(())
    }

    /// The secret to set up, kept on the session until confirmed (so a
    /// reload shows the same QR code).
    ///
    /// # Errors
    /// `Forbidden` before sign-in is complete or when an authenticator is
    /// set up already.
    pub async fn enrolment(&self, member: &mut Member) -> Result<TotpSecret, DomainError> {
        if !member.signed_in() {
            return Err(DomainError::Forbidden("enter your authentication code first"));
        }
        if member.user.has_authenticator() {
            return Err(DomainError::Forbidden("an authenticator is set up already: turn it off first"));
        }
        if let Some(secret) = self.pending(member) {
            return Ok(secret);
        }
        let secret = TotpSecret::generate();
        member.session.pending_totp = Some(self.seal_totp(&member.user, &secret));
        self.store.update_portal_session(&member.session, None).await?;
        Ok(secret)
    }

    /// Confirms the set-up with a code of the offered secret: from now on
    /// signing in takes a code, and the person's other sessions end. Returns
    /// the recovery codes, shown this once.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong code (throttled), `LoginThrottled`,
    /// `Forbidden` when no set-up is in progress.
    pub async fn confirm_enrolment(&self, member: &mut Member, code: &str, source: LoginSource) -> Result<Vec<String>, DomainError> {
        let secret = self
            .pending(member)
            .filter(|_| member.signed_in() && !member.user.has_authenticator())
            .ok_or(DomainError::Forbidden("no authenticator set-up is in progress: start again"))?;
        let attempt = self.code_attempt(&member.user, source);
        self.throttle.check(&attempt).await?;
        let Some(step) = secret.check(code, self.clock.now_ms()) else {
            self.throttle.failed(&attempt).await;
            return Err(DomainError::InvalidCredentials);
        };
        self.throttle.succeeded(&attempt).await;
        let codes = recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(&self.recovery_key, c)).collect();
        let audit = user_audit(&member.actor(), &member.partner, "portal_user.totp_enrolled", &member.user);
        let sealed = self.seal_totp(&member.user, &secret);
        match self
            .store
            .enrol_portal_totp(&member.user.id, &sealed, step, &hashes, &member.session.token_hash, &audit)
            .await
        {
            Err(StoreError::NotFound) => return Err(DomainError::Forbidden("an authenticator is set up already")),
            other => other?,
        }
        member.user.totp_secret = Some(sealed);
        member.user.totp_last_step = step;
        member.session.pending_totp = None;
        self.store.update_portal_session(&member.session, None).await?;
        Ok(codes)
    }

    /// An operator takes a partner's person's authenticator away (they lost
    /// both the app and their recovery codes): they sign in with their
    /// password alone until they set one up again.
    ///
    /// # Errors
    /// `NotFound("portal user")` unless the person is the partner's;
    /// `Forbidden` when no authenticator is set up.
    pub async fn reset_authenticator(&self, actor: &Actor, partner_id: &PartnerId, user_id: &PortalUserId) -> Result<(), DomainError> {
        let partner = self.partners.partner(partner_id).await?;
        let user = self
            .store
            .portal_users(&partner.id)
            .await?
            .into_iter()
            .find(|u| &u.id == user_id)
            .ok_or(DomainError::NotFound("portal user"))?;
        let audit = user_audit(actor, &partner, "portal_user.totp_reset", &user);
        match self.store.disable_portal_totp(&user.id, &audit).await {
            Err(StoreError::NotFound) => Err(DomainError::Forbidden("no authenticator is set up")),
            other => Ok(other?),
        }
    }

    /// Turns the authenticator off, given a current code (or a recovery
    /// code): signing in takes the password alone again.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong or reused code (throttled),
    /// `LoginThrottled`, `Forbidden` when there is none to turn off.
    pub async fn disable_authenticator(&self, member: &mut Member, code: &str, source: LoginSource) -> Result<(), DomainError> {
        if !member.signed_in() || !member.user.has_authenticator() {
            return Err(DomainError::Forbidden("no authenticator is set up"));
        }
        let factor = self.checked(&member.user, code, source).await?;
        let audit = user_audit(&member.actor(), &member.partner, "portal_user.totp_disabled", &member.user)
            .with_detail(json!({ "partner_id": member.partner.id, "email": member.user.email, "second_factor": factor.as_str() }));
        match self.store.disable_portal_totp(&member.user.id, &audit).await {
            Err(StoreError::NotFound) => return Err(DomainError::Forbidden("no authenticator is set up")),
            other => other?,
        }
        member.user.totp_secret = None;
        Ok(())
    }

    /// Recovery codes the person has left.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn recovery_codes_left(&self, member: &Member) -> Result<u32, DomainError> {
        Ok(self.store.portal_recovery_codes_left(&member.user.id).await?)
    }

    /// Checks `code` (throttled): how it was good, or `InvalidCredentials`.
    async fn checked(&self, user: &PortalUser, code: &str, source: LoginSource) -> Result<Factor, DomainError> {
        let attempt = self.code_attempt(user, source);
        self.throttle.check(&attempt).await?;
        match self.check_code(user, code).await? {
            Some(factor) => {
                self.throttle.succeeded(&attempt).await;
                Ok(factor)
            }
            None => {
                self.throttle.failed(&attempt).await;
                Err(DomainError::InvalidCredentials)
            }
        }
    }

    /// How `code` is good now, if it is: a TOTP code of a step not used
    /// before, or a recovery code not used before (used up by this check).
    async fn check_code(&self, user: &PortalUser, code: &str) -> Result<Option<Factor>, StoreError> {
        let secret = user
            .totp_secret
            .as_ref()
            .and_then(|sealed| unseal(&self.seal_key, user.id.as_str().as_bytes(), sealed))
            .and_then(|b| TotpSecret::from_bytes(&b));
        let Some(secret) = secret else {
            return Ok(None);
        };
        if let Some(step) = secret.check(code, self.clock.now_ms()) {
            let fresh = self.store.accept_portal_totp_step(&user.id, step).await?;
            return Ok(fresh.then_some(Factor::Totp));
        }
        if code.trim().len() < 10 {
            return Ok(None);
        }
        let used = self
            .store
            .use_portal_recovery_code(&user.id, &recovery_hash(&self.recovery_key, code))
            .await?;
        Ok(used.then_some(Factor::RecoveryCode))
    }

    fn pending(&self, member: &Member) -> Option<TotpSecret> {
        let sealed = member.session.pending_totp.as_ref()?;
        unseal(&self.seal_key, member.user.id.as_str().as_bytes(), sealed).and_then(|b| TotpSecret::from_bytes(&b))
    }

    /// Sealed with the person's id bound: a secret copied onto another
    /// row does not unseal.
    fn seal_totp(&self, user: &PortalUser, secret: &TotpSecret) -> Vec<u8> {
        seal(&self.seal_key, user.id.as_str().as_bytes(), secret.as_bytes())
    }

    fn code_attempt(&self, user: &PortalUser, source: LoginSource) -> LoginAttempt {
        LoginAttempt::new(&user.env_id, Realm::Portal, &format!("2fa:{}", user.email), source)
    }
}
