//! Console sign-in: the password opens a session at its first stage; the
//! TOTP code (or a recovery code) completes it, or, for an operator with no
//! authenticator yet, enrolment does. A session ends when its operator
//! signs out, is disabled or has the password reset, or after `idle`
//! without a request.

use crate::audit::Actor;
use crate::error::DomainError;
use crate::infra::seal::{seal, unseal};
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::infra::throttle::{LoginAttempt, LoginSource, Realm, check_login_name};
use crate::infra::totp::{TotpSecret, recovery_codes, recovery_hash};
use crate::operators::service::{Operators, deployment_audit};
use crate::operators::{Operator, OperatorSession, Stage};
use crate::store::StoreError;

/// Last-seen times are written at most this often (ms): a session's idle
/// timeout is exact to within this.
const TOUCH_EVERY: i64 = 60_000;

/// A console session and its operator.
#[derive(Debug, Clone)]
pub struct Console {
    pub operator: Operator,
    pub session: OperatorSession,
}

impl Console {
    /// The operator as the actor of what they do in the console.
    pub fn actor(&self) -> Actor {
        Actor::console_operator(&self.operator.id)
    }
}

impl Operators {
    /// Checks email and password (throttled like every login) and opens a
    /// session awaiting the second factor, or enrolment. Returns the
    /// session token for the cookie.
    ///
    /// # Errors
    /// `InvalidCredentials` (also for a disabled operator), `TooManyAttempts`.
    pub async fn sign_in(&self, email: &str, password: &Secret, source: LoginSource) -> Result<(String, Stage), DomainError> {
        check_login_name("email", email)?;
        let email = email.trim().to_lowercase();
        let attempt = LoginAttempt::new(&"operators".into(), Realm::Operator, &email, source);
        self.throttle.check(&attempt).await?;
        let operator = self.store.operator_by_email(&email).await?;
        let verified = self
            .hasher
            .verify(&Self::share(), password, operator.as_ref().map(|o| o.password_hash.as_str()))
            .await?
            .is_some();
        let operator = match operator {
            Some(o) if verified && o.disabled_at.is_none() => o,
            _ => {
                self.throttle.failed(&attempt).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.throttle.succeeded(&attempt).await;
        let token = random_token("", 43);
        let now = self.clock.now_ms();
        let stage = if operator.totp_secret.is_some() {
            Stage::SecondFactor
        } else {
            Stage::Enrol
        };
        let session = OperatorSession {
            token_hash: token_hash(&token),
            operator_id: operator.id,
            stage,
            pending_totp: None,
            created_at: now,
            last_seen_at: now,
        };
        self.store.create_operator_session(&session).await?;
        Ok((token, stage))
    }

    /// The live session of `token`, if any; a request through it keeps it alive.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn session(&self, token: &str) -> Result<Option<Console>, DomainError> {
        let hash = token_hash(token);
        let Some(mut session) = self.store.operator_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        let idle_ms = i64::try_from(self.idle.as_millis()).unwrap_or(i64::MAX);
        let operator = self.store.operator(&session.operator_id).await?;
        let Some(operator) = operator.filter(|o| o.disabled_at.is_none() && now - session.last_seen_at <= idle_ms) else {
            self.store.delete_operator_session(&hash, None).await?;
            return Ok(None);
        };
        if now - session.last_seen_at >= TOUCH_EVERY {
            session.last_seen_at = now;
            self.store.update_operator_session(&session, None).await?;
        }
        Ok(Some(Console { operator, session }))
    }

    /// The secret to enrol (the same until confirmed, so a reload shows the
    /// same QR code).
    ///
    /// # Errors
    /// `Forbidden` outside enrolment.
    pub async fn enrolment(&self, console: &mut Console) -> Result<TotpSecret, DomainError> {
        if console.session.stage != Stage::Enrol {
            return Err(DomainError::Forbidden("the authenticator is already enrolled"));
        }
        if let Some(secret) = self.pending(console) {
            return Ok(secret);
        }
        let secret = TotpSecret::generate();
        console.session.pending_totp = Some(self.seal_totp(&console.operator, &secret));
        self.store.update_operator_session(&console.session, None).await?;
        Ok(secret)
    }

    fn pending(&self, console: &Console) -> Option<TotpSecret> {
        let sealed = console.session.pending_totp.as_ref()?;
        unseal(&self.seal_key, console.operator.id.as_str().as_bytes(), sealed).and_then(|b| TotpSecret::from_bytes(&b))
    }

    fn seal_totp(&self, operator: &Operator, secret: &TotpSecret) -> Vec<u8> {
        seal(&self.seal_key, operator.id.as_str().as_bytes(), secret.as_bytes())
    }

    /// Confirms enrolment with a code of the offered secret: the operator is
    /// signed in and gets recovery codes, shown this once.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong code (throttled), `Forbidden` outside enrolment.
    pub async fn confirm_enrolment(&self, console: &mut Console, code: &str, source: LoginSource) -> Result<Vec<String>, DomainError> {
        let secret = self
            .pending(console)
            .filter(|_| console.session.stage == Stage::Enrol)
            .ok_or(DomainError::Forbidden("no enrolment in progress"))?;
        let attempt = self.second_factor_attempt(&console.operator, source);
        self.throttle.check(&attempt).await?;
        let Some(step) = secret.check(code, self.clock.now_ms()) else {
            self.throttle.failed(&attempt).await;
            return Err(DomainError::InvalidCredentials);
        };
        self.throttle.succeeded(&attempt).await;
        let codes = recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(&self.recovery_key, c)).collect();
        let actor = Actor::console_operator(&console.operator.id);
        let audit = deployment_audit(&actor, "operator.totp_enrolled", &console.operator);
        let sealed = self.seal_totp(&console.operator, &secret);
        self.store.enrol_totp(&console.operator.id, &sealed, step, &hashes, &audit).await?;
        console.operator.totp_secret = Some(sealed);
        self.complete(console, "operator.signed_in", serde_json::Value::Null).await?;
        Ok(codes)
    }

    /// Completes sign-in with a TOTP code (each accepted once) or a
    /// recovery code (each usable once).
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong or reused code (throttled),
    /// `Forbidden` when the session is not awaiting one.
    pub async fn second_factor(&self, console: &mut Console, code: &str, source: LoginSource) -> Result<(), DomainError> {
        if console.session.stage != Stage::SecondFactor {
            return Err(DomainError::Forbidden("no second factor is awaited"));
        }
        let attempt = self.second_factor_attempt(&console.operator, source);
        self.throttle.check(&attempt).await?;
        let how = match self.check_code(&console.operator, code).await? {
            Some(how) => how,
            None => {
                self.throttle.failed(&attempt).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.throttle.succeeded(&attempt).await;
        self.complete(console, "operator.signed_in", serde_json::json!({ "second_factor": how }))
            .await
    }

    /// `totp` or `recovery_code` when `code` is good now, else `None`.
    async fn check_code(&self, operator: &Operator, code: &str) -> Result<Option<&'static str>, StoreError> {
        let secret = operator
            .totp_secret
            .as_ref()
            .and_then(|sealed| unseal(&self.seal_key, operator.id.as_str().as_bytes(), sealed))
            .and_then(|b| TotpSecret::from_bytes(&b));
        if let Some(step) = secret.and_then(|s| s.check(code, self.clock.now_ms())) {
            let fresh = self.store.accept_totp_step(&operator.id, step).await?;
            return Ok(fresh.then_some("totp"));
        }
        if code.trim().len() < 10 {
            return Ok(None);
        }
        let used = self
            .store
            .use_recovery_code(&operator.id, &recovery_hash(&self.recovery_key, code))
            .await?;
        Ok(used.then_some("recovery_code"))
    }

    fn second_factor_attempt(&self, operator: &Operator, source: LoginSource) -> LoginAttempt {
        // Counted apart from passwords: a right password must not wipe the
        // failures of guessed codes.
        LoginAttempt::new(&"operators".into(), Realm::Operator, &format!("2fa:{}", operator.email), source)
    }

    async fn complete(&self, console: &mut Console, action: &str, detail: serde_json::Value) -> Result<(), DomainError> {
        console.session.stage = Stage::Complete;
        console.session.pending_totp = None;
        console.session.last_seen_at = self.clock.now_ms();
        let actor = Actor::console_operator(&console.operator.id);
        let audit = deployment_audit(&actor, action, &console.operator).with_detail(detail);
        self.store.update_operator_session(&console.session, Some(&audit)).await?;
        Ok(())
    }

    /// Recovery codes the operator has left.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn recovery_codes_left(&self, operator: &Operator) -> Result<u32, DomainError> {
        Ok(self.store.recovery_codes_left(&operator.id).await?)
    }

    /// Ends the session of `token`.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn sign_out(&self, console: &Console) -> Result<(), DomainError> {
        let actor = Actor::console_operator(&console.operator.id);
        let audit = deployment_audit(&actor, "operator.signed_out", &console.operator);
        self.store
            .delete_operator_session(&console.session.token_hash, Some(&audit))
            .await?;
        Ok(())
    }
}
