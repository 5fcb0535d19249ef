//! Portal sign-in: email and password (throttled like every login), a
//! session under the SHA-256 of its token, ended by signing out, by the
//! person's removal, or after `idle` without a request. A person with an
//! authenticator gets a session awaiting the second factor
//! (`second_factor.rs` completes it).

use crate::audit::Actor;
use crate::error::DomainError;
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::infra::throttle::{LoginAttempt, LoginSource, Realm, check_login_name};
use crate::partners::Partner;
use crate::portal::service::{Portal, millis, partner_audit};
use crate::portal::{Member, PortalSession, PortalUser, Stage};
use crate::tenancy::{Feature, Tenant};

/// Last-seen times are written at most this often (ms): a session's idle
/// timeout is exact to within this.
const TOUCH_EVERY: i64 = 60_000;

impl Portal {
    /// Checks email and password on `tenant`'s environment and opens a
    /// session; returns its token for the cookie and its stage: complete,
    /// or awaiting the authentication code of a person with an
    /// authenticator. A pending or suspended partner's people sign in too
    /// (to the status page).
    ///
    /// # Errors
    /// `FeatureDisabled`, `InvalidCredentials`, `LoginThrottled`.
    pub async fn sign_in(
        &self,
        tenant: &Tenant,
        email: &str,
        password: &Secret,
        source: LoginSource,
    ) -> Result<(String, Stage), DomainError> {
        tenant.require(Feature::Partners)?;
        check_login_name("email", email)?;
        let email = email.trim().to_lowercase();
        let attempt = LoginAttempt::new(&tenant.env.id, Realm::Portal, &email, source);
        self.throttle.check(&attempt).await?;
        let user = self.store.portal_user_by_email(&tenant.env.id, &email).await?;
        let verified = self
            .hasher
            .verify(
                &Self::share(&tenant.env.id),
                password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            )
            .await?
            .is_some();
        let user = match user {
            Some(u) if verified => u,
            _ => {
                self.throttle.failed(&attempt).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.throttle.succeeded(&attempt).await;
        if user.has_authenticator() {
            // Signed in only once the code is in: no audit event yet.
            let (token, session) = self.new_session(&user, Stage::SecondFactor);
            self.store.create_portal_session(&session, None).await?;
            return Ok((token, Stage::SecondFactor));
        }
        let partner = self.partners.partner(&user.partner_id).await?;
        Ok((self.open_session(&user, &partner).await?, Stage::Complete))
    }

    fn new_session(&self, user: &PortalUser, stage: Stage) -> (String, PortalSession) {
        let token = random_token("", 43);
        let now = self.clock.now_ms();
        let session = PortalSession {
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            stage,
            pending_totp: None,
            created_at: now,
            last_seen_at: now,
        };
        (token, session)
    }

    /// Opens a complete session for a person whose password was just
    /// checked or set and who has no authenticator.
    pub(super) async fn open_session(&self, user: &PortalUser, partner: &Partner) -> Result<String, DomainError> {
        let (token, session) = self.new_session(user, Stage::Complete);
        let audit = partner_audit(&Actor::portal_user(&user.id), partner, "portal_user.signed_in", user.id.as_str())
            .with_detail(serde_json::json!({ "partner_id": partner.id }));
        self.store.create_portal_session(&session, Some(&audit)).await?;
        Ok(token)
    }

    /// The live session of `token` on `tenant`'s environment, at whatever
    /// stage, with its person and their partner as they are now; a request
    /// through it keeps it alive. Callers check [`Member::signed_in`].
    ///
    /// # Errors
    /// Storage failures.
    pub async fn session(&self, tenant: &Tenant, token: &str) -> Result<Option<Member>, DomainError> {
        let hash = token_hash(token);
        let Some(mut session) = self.store.portal_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        let user = self.store.portal_user(&session.user_id).await?;
        let fresh = now - session.last_seen_at <= millis(self.idle);
        let Some(user) = user.filter(|u| fresh && u.env_id == tenant.env.id) else {
            if !fresh {
                self.store.delete_portal_session(&hash, None).await?;
            }
            return Ok(None);
        };
        let Some(partner) = self.store.partner(&user.partner_id).await? else {
            return Ok(None);
        };
        if now - session.last_seen_at >= TOUCH_EVERY {
            session.last_seen_at = now;
            self.store.touch_portal_session(&hash, now).await?;
        }
        Ok(Some(Member { user, partner, session }))
    }

    /// Ends the member's session.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn sign_out(&self, member: &Member) -> Result<(), DomainError> {
        // A session still awaiting its code was never signed in: no event.
        let audit = member
            .signed_in()
            .then(|| partner_audit(&member.actor(), &member.partner, "portal_user.signed_out", member.user.id.as_str()));
        self.store.delete_portal_session(&member.session.token_hash, audit.as_ref()).await?;
        Ok(())
    }
}
