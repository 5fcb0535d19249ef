//! The operator's service-user commands.

use std::sync::Arc;

use serde_json::json;

use crate::accounts::password::check_policy;
use crate::app::CoreConfig;
use crate::audit::{Actor, AuditEvent};
use crate::error::{DomainError, FieldCode, FieldError};
use crate::events::EventType;
use crate::ids::ServiceUserId;
use crate::infra::hash_queue::Share;
use crate::infra::hashing::PasswordHasher;
use crate::infra::secret::{Secret, generate_password};
use crate::infra::throttle::LoginThrottle;
use crate::oauth::revoked::RevokedTokens;
use crate::service_users::auth::AuthCaches;
use crate::service_users::{Role, ServiceUser};
use crate::store::Store;
use crate::tenancy::service::Tenancy;
use crate::tenancy::{EnvKind, PlatformId};

/// 1 to 64 characters of letters, digits, `.`, `_`, `-` or `@`.
fn parse_username(raw: &str) -> Result<String, FieldError> {
    let ok = (1..=64).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            "username",
            FieldCode::InvalidUsername,
            "username must be 1 to 64 letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

/// A password the operator gave, or one generated (and to be shown once).
fn chosen_password(given: Option<Secret>) -> Result<(Secret, bool), DomainError> {
    match given {
        Some(pw) => {
            check_policy("password", &pw, None).map_err(|e| DomainError::Validation(vec![e]))?;
            Ok((pw, false))
        }
        None => Ok((generate_password(), true)),
    }
}

/// Service users: the operator's commands, logins and service tokens
/// (`auth.rs`).
pub struct ServiceUsers {
    pub(super) store: Arc<dyn Store>,
    pub(super) config: Arc<CoreConfig>,
    pub(super) hasher: Arc<PasswordHasher>,
    pub(super) throttle: Arc<LoginThrottle>,
    pub(super) tenancy: Arc<Tenancy>,
    pub(super) auth: AuthCaches,
    /// Access tokens revoked through OAuth (RFC 7009).
    pub(super) revoked: Arc<RevokedTokens>,
}

impl ServiceUsers {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        config: Arc<CoreConfig>,
        hasher: Arc<PasswordHasher>,
        throttle: Arc<LoginThrottle>,
        tenancy: Arc<Tenancy>,
        revoked: Arc<RevokedTokens>,
    ) -> Self {
        Self {
            revoked,
            auth: AuthCaches::new(config.settings_ttl, Arc::clone(&config.clock)),
            store,
            config,
            hasher,
            throttle,
            tenancy,
        }
    }

    /// Creates a service user; returns the password when it was generated.
    ///
    /// # Errors
    /// `Validation` for bad input, `Conflict` for a taken username.
    pub async fn create_service_user(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        kind: EnvKind,
        username: &str,
        roles: &[String],
        password: Option<Secret>,
    ) -> Result<(ServiceUser, Option<Secret>), DomainError> {
        let env = self.tenancy.environment(platform_id, kind).await?;
        let username = parse_username(username).map_err(|e| DomainError::Validation(vec![e]))?;
        let mut roles: Vec<Role> = roles
            .iter()
            .map(|r| Role::parse(r))
            .collect::<Result<_, _>>()
            .map_err(|e| DomainError::Validation(vec![e]))?;
        if roles.is_empty() {
            roles.push(Role::DEFAULT);
        }
        let (password, generated) = chosen_password(password)?;
        let now = self.config.clock.now_ms();
        let user = ServiceUser {
            id: ServiceUserId::generate(),
            env_id: env.id.clone(),
            username,
            password_hash: self.hasher.hash(&Share::tenant(&env.id), &password).await?,
            roles,
            disabled_at: None,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::new(actor, platform_id, Some(kind.as_str()), "service_user.created", user.id.as_str())
            .with_detail(json!({ "username": user.username, "roles": user.roles }))
            .emit(&env.id, EventType::ServiceUserCreated, None, user.event_data());
        self.store.create_service_user(&user, &audit).await?;
        Ok((user, generated.then_some(password)))
    }

    /// # Errors
    /// `NotFound` for an unknown instance.
    pub async fn service_users(&self, platform_id: &PlatformId, kind: EnvKind) -> Result<Vec<ServiceUser>, DomainError> {
        let env = self.tenancy.environment(platform_id, kind).await?;
        Ok(self.store.service_users(&env.id).await?)
    }

    async fn service_user_named(&self, platform_id: &PlatformId, kind: EnvKind, username: &str) -> Result<ServiceUser, DomainError> {
        let env = self.tenancy.environment(platform_id, kind).await?;
        self.store
            .service_user_by_name(&env.id, username)
            .await?
            .ok_or(DomainError::NotFound("service user"))
    }

    /// Disables a service user: new logins fail at once, existing tokens
    /// within the settings ttl.
    ///
    /// # Errors
    /// `NotFound` for an unknown user.
    pub async fn disable_service_user(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        kind: EnvKind,
        username: &str,
    ) -> Result<ServiceUser, DomainError> {
        let mut user = self.service_user_named(platform_id, kind, username).await?;
        if user.disabled_at.is_none() {
            user.disabled_at = Some(self.config.clock.now_ms());
            user.updated_at = self.config.clock.now_ms();
            let audit = AuditEvent::new(actor, platform_id, Some(kind.as_str()), "service_user.disabled", user.id.as_str()).emit(
                &user.env_id,
                EventType::ServiceUserDisabled,
                None,
                user.event_data(),
            );
            self.store.update_service_user(&user, &audit).await?;
        }
        self.auth.active.remove(&user.id);
        Ok(user)
    }

    /// Sets a new password (generated when not given) and re-enables nothing:
    /// a disabled user stays disabled.
    ///
    /// # Errors
    /// `NotFound` for an unknown user, `Validation` for a weak password.
    pub async fn reset_service_user_password(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        kind: EnvKind,
        username: &str,
        password: Option<Secret>,
    ) -> Result<(ServiceUser, Option<Secret>), DomainError> {
        let mut user = self.service_user_named(platform_id, kind, username).await?;
        let (password, generated) = chosen_password(password)?;
        user.password_hash = self.hasher.hash(&Share::tenant(&user.env_id), &password).await?;
        user.updated_at = self.config.clock.now_ms();
        let audit = AuditEvent::new(
            actor,
            platform_id,
            Some(kind.as_str()),
            "service_user.password_reset",
            user.id.as_str(),
        );
        self.store.update_service_user(&user, &audit).await?;
        Ok((user, generated.then_some(password)))
    }
}
