//! The operator commands of the CLI (and, for admins, the console):
//! create, list, disable, reset a password.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::accounts::Email;
use crate::accounts::password::check_policy;
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::{EnvId, OperatorId, PlatformId};
use crate::infra::hash_queue::Share;
use crate::infra::hashing::PasswordHasher;
use crate::infra::master_key::MasterKey;
use crate::infra::secret::{Secret, generate_password};
use crate::infra::throttle::LoginThrottle;
use crate::operators::{Operator, OperatorRole};
use crate::store::Store;

/// Operators and their console sessions (`sessions.rs`).
pub struct Operators {
    pub(super) store: Arc<dyn Store>,
    pub(super) hasher: Arc<PasswordHasher>,
    pub(super) throttle: Arc<LoginThrottle>,
    pub(super) clock: Arc<dyn Clock>,
    /// Seals TOTP secrets.
    pub(super) seal_key: [u8; 32],
    /// Keys recovery-code hashes.
    pub(super) recovery_key: [u8; 32],
    /// How long a console session lasts without a request.
    pub(super) idle: Duration,
}

impl Operators {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        hasher: Arc<PasswordHasher>,
        throttle: Arc<LoginThrottle>,
        clock: Arc<dyn Clock>,
        master: &MasterKey,
        idle: Duration,
    ) -> Self {
        Self {
            store,
            hasher,
            throttle,
            clock,
            seal_key: master.derive("operator-totp"),
            recovery_key: master.derive("operator-recovery"),
            idle,
        }
    }

    /// Operators' passwords queue for hashing as one tenant of their own.
    pub(super) fn share() -> Share {
        Share::tenant(&EnvId::new("operators"))
    }

    /// Creates an operator; returns the password when it was generated.
    ///
    /// # Errors
    /// `Validation` (email, password), `Conflict` for a taken email.
    pub async fn create(
        &self,
        actor: &Actor,
        email: &str,
        role: OperatorRole,
        password: Option<Secret>,
    ) -> Result<(Operator, Option<Secret>), DomainError> {
        let email = Email::parse("email", email).map_err(|e| DomainError::Validation(vec![e]))?;
        let email = email.as_str().to_lowercase();
        let (password, generated) = chosen(password, &email)?;
        let now = self.clock.now_ms();
        let operator = Operator {
            id: OperatorId::generate(),
            email,
            role,
            password_hash: self.hasher.hash(&Self::share(), &password).await?,
            totp_secret: None,
            totp_last_step: 0,
            disabled_at: None,
            created_at: now,
            updated_at: now,
        };
        let audit = deployment_audit(actor, "operator.created", &operator).with_detail(json!({
            "email": operator.email, "role": operator.role.as_str()
        }));
        self.store.create_operator(&operator, &audit).await?;
        Ok((operator, generated.then_some(password)))
    }

    /// Every operator, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn list(&self) -> Result<Vec<Operator>, DomainError> {
        Ok(self.store.operators().await?)
    }

    /// # Errors
    /// `NotFound("operator")`.
    pub async fn by_email(&self, email: &str) -> Result<Operator, DomainError> {
        self.store
            .operator_by_email(&email.trim().to_lowercase())
            .await?
            .ok_or(DomainError::NotFound("operator"))
    }

    /// Disables an operator and ends their console sessions at once.
    ///
    /// # Errors
    /// `NotFound("operator")`.
    pub async fn disable(&self, actor: &Actor, email: &str) -> Result<Operator, DomainError> {
        let mut operator = self.by_email(email).await?;
        if operator.disabled_at.is_none() {
            let now = self.clock.now_ms();
            operator.disabled_at = Some(now);
            operator.updated_at = now;
            let audit = deployment_audit(actor, "operator.disabled", &operator);
            self.store.update_operator(&operator, true, &audit).await?;
        }
        Ok(operator)
    }

    /// Sets a new password (generated when not given) and ends the
    /// operator's console sessions; a disabled operator stays disabled.
    ///
    /// # Errors
    /// `NotFound("operator")`, `Validation` for a weak password.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        email: &str,
        password: Option<Secret>,
    ) -> Result<(Operator, Option<Secret>), DomainError> {
        let mut operator = self.by_email(email).await?;
        let (password, generated) = chosen(password, &operator.email)?;
        operator.password_hash = self.hasher.hash(&Self::share(), &password).await?;
        operator.updated_at = self.clock.now_ms();
        let audit = deployment_audit(actor, "operator.password_reset", &operator);
        self.store.update_operator(&operator, true, &audit).await?;
        Ok((operator, generated.then_some(password)))
    }
}

/// A password the operator gave (checked like every password), or one generated.
fn chosen(given: Option<Secret>, email: &str) -> Result<(Secret, bool), DomainError> {
    match given {
        Some(pw) => {
            check_policy("password", &pw, Some(email)).map_err(|e| DomainError::Validation(vec![e]))?;
            Ok((pw, false))
        }
        None => Ok((generate_password(), true)),
    }
}

/// An audit event of a change to an operator: deployment-wide, no instance.
pub(super) fn deployment_audit(actor: &Actor, action: &str, operator: &Operator) -> AuditEvent {
    AuditEvent::new(actor, &PlatformId::deployment(), None, action, operator.id.as_str())
}
