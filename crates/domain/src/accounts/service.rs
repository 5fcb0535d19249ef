//! Client accounts and their sessions, managed by service users; what a
//! signed-in person does to their own account is in `own`, the notes a
//! page leaves for the session's next page in `flash`.

mod flash;
mod own;

use std::sync::Arc;

use serde_json::json;

use crate::accounts::password::check_policy;
use crate::accounts::{Account, Email, PersonName, canonical_email, parse_name_part};
use crate::accounts::{AccountQuery, AccountUpdate, Session};
use crate::app::{CoreConfig, Page, ReadCache};
use crate::audit::{Actor, AuditEvent};
use crate::clock::Millis;
use crate::error::{DomainError, Validator};
use crate::events::EventType;
use crate::ids::{AccountId, EnvId, PartnerId};
use crate::infra::hash_queue::Share;
use crate::infra::hashing::PasswordHasher;
use crate::infra::hashing::Verified;
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::infra::throttle::{LoginAttempt, LoginSource, LoginThrottle, Realm, check_login_name};
use crate::store::{Store, StoreError};
use crate::tenancy::Tenant;

/// Prefix of client session tokens.
pub const SESSION_PREFIX: &str = "onr_sess_";

#[derive(Debug, Clone)]
pub struct Signup {
    pub user_id: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password: Secret,
}

/// A new session: the token is shown to the caller once.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub client_token: Secret,
    pub user_id: AccountId,
    pub expires_at: Millis,
}

/// A PATCH of an account; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChanges {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password: Option<Secret>,
    /// `false` deactivates the account (its sessions end), `true` reactivates it.
    pub active: Option<bool>,
    /// Change the account only if its version (`updated_at`) is still this
    /// one (`If-Match`), checked in the update itself.
    pub if_version: Option<Millis>,
    /// What SCIM keeps of the account, replaced in the same transaction
    /// (a SCIM PUT or PATCH changes both or neither).
    pub scim: Option<crate::scim::store::ScimExtra>,
}

/// Client accounts and their sessions.
pub struct Accounts {
    store: Arc<dyn Store>,
    config: Arc<CoreConfig>,
    hasher: Arc<PasswordHasher>,
    throttle: Arc<LoginThrottle>,
    /// Accounts by (environment id, account id).
    cache: ReadCache<(EnvId, AccountId), Arc<Account>>,
}

impl Accounts {
    pub(crate) fn new(store: Arc<dyn Store>, config: Arc<CoreConfig>, hasher: Arc<PasswordHasher>, throttle: Arc<LoginThrottle>) -> Self {
        Self {
            cache: ReadCache::new(config.account_cache_ttl, Arc::clone(&config.clock)),
            store,
            config,
            hasher,
            throttle,
        }
    }

    pub(crate) fn new_session(&self, env_id: &EnvId, account_id: &AccountId) -> (Session, OpenedSession) {
        let token = random_token(SESSION_PREFIX, 43);
        let now = self.config.clock.now_ms();
        // Whole seconds, as the API shows them: a session never outlives its advertised expiry.
        let expires_at = (now + self.config.session_ttl.as_millis() as i64) / 1000 * 1000;
        let session = Session {
            token_hash: token_hash(&token),
            env_id: env_id.clone(),
            account_id: account_id.clone(),
            created_at: now,
            expires_at,
        };
        (
            session,
            OpenedSession {
                client_token: Secret::new(token),
                user_id: account_id.clone(),
                expires_at,
            },
        )
    }

    /// Creates an account and opens its first session.
    ///
    /// # Errors
    /// `Validation` for bad input, `EmailTaken` or `Conflict` for a duplicate
    /// email or user id.
    pub async fn signup(&self, tenant: &Tenant, actor: &Actor, input: Signup) -> Result<OpenedSession, DomainError> {
        let mut v = Validator::default();
        let id = match &input.user_id {
            Some(raw) => v.check(AccountId::parse("user_id", raw)),
            None => Some(AccountId::generate()),
        };
        let email = v.check(Email::parse("email", &input.email));
        let first = v.check(parse_name_part("name.first_name", &input.first_name));
        let last = v.check(parse_name_part("name.last_name", &input.last_name));
        v.check(check_policy("password", &input.password, Some(input.email.trim())));
        v.finish()?;
        let (Some(id), Some(email), Some(first_name), Some(last_name)) = (id, email, first, last) else {
            unreachable!()
        };
        let env_id = &tenant.env.id;
        // Fail fast before the expensive hash; the unique index decides races.
        if self.store.account_by_email(env_id, &email.normalized()).await?.is_some() {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = self.hasher.hash(&Share::tenant(env_id), &input.password).await?;
        let now = self.config.clock.now_ms();
        let account = Account {
            id,
            env_id: env_id.clone(),
            email: email.as_str().to_owned(),
            name: PersonName { first_name, last_name },
            password_hash,
            partner_id: None,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let (session, opened) = self.new_session(env_id, &account.id);
        let audit = AuditEvent::in_tenant(actor, tenant, "account.created", account.id.as_str())
            .with_detail(json!({ "email": account.email }))
            .emit(env_id, EventType::AccountCreated, None, account.event_data());
        self.store
            .create_account(&account, Some(&session), None, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict("id") => DomainError::Conflict("an account with this user_id already exists".into()),
                other => other.into(),
            })?;
        Ok(opened)
    }

    /// Logs a client in with email and password and opens a session.
    ///
    /// # Errors
    /// `Validation` for an email longer than any can be,
    /// `InvalidCredentials`, `AccountDisabled` (the password was right),
    /// `LoginThrottled`, `Overloaded`.
    pub async fn client_login(
        &self,
        tenant: &Tenant,
        email: &str,
        password: &Secret,
        source: LoginSource,
    ) -> Result<OpenedSession, DomainError> {
        check_login_name("email", email.trim())?;
        let normalized = canonical_email(email.trim());
        let attempt = LoginAttempt::new(&tenant.env.id, Realm::Client, &normalized, source);
        self.throttle.check(&attempt).await?;
        let account = self.store.account_by_email(&tenant.env.id, &normalized).await?;
        let share = &Share::tenant(&tenant.env.id);
        let verified = self
            .hasher
            .verify(share, password, account.as_ref().map(|a| a.password_hash.as_str()))
            .await?;
        let (Some(account), Some(verified)) = (account.as_ref(), verified) else {
            self.throttle.failed(&attempt).await;
            return Err(DomainError::InvalidCredentials);
        };
        self.throttle.succeeded(&attempt).await;
        // Only after the password: without it, a caller learns nothing about
        // whether an account exists or is deactivated.
        if !account.active {
            return Err(DomainError::AccountDisabled);
        }
        let rehash = match verified {
            Verified::NeedsRehash => Some(self.hasher.hash(share, password).await?),
            Verified::Current => None,
        };
        let (session, opened) = self.new_session(&tenant.env.id, &account.id);
        let opened_session = self
            .store
            .open_session_checked(&session, &account.password_hash, rehash.as_deref())
            .await;
        if rehash.is_some() {
            self.cache.invalidate(&(tenant.env.id.clone(), account.id.clone()));
        }
        if !opened_session? {
            // The password changed, or the account was deactivated, while
            // this login was verifying the password.
            let now_active = self.store.account(&tenant.env.id, &account.id).await?.is_some_and(|a| a.active);
            return Err(if now_active {
                DomainError::InvalidCredentials
            } else {
                DomainError::AccountDisabled
            });
        }
        Ok(opened)
    }

    /// The session behind a client token, if it is live.
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown, ended or expired token.
    pub async fn verify_session(&self, tenant: &Tenant, client_token: &str) -> Result<Session, DomainError> {
        if !client_token.starts_with(SESSION_PREFIX) || client_token.len() > 128 {
            return Err(DomainError::Unauthenticated);
        }
        match self.store.session(&tenant.env.id, &token_hash(client_token)).await? {
            Some(s) if s.expires_at > self.config.clock.now_ms() => Ok(s),
            _ => Err(DomainError::Unauthenticated),
        }
    }

    /// Ends a session. Ending an unknown or already ended session is not an error.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn logout(&self, tenant: &Tenant, client_token: &str) -> Result<(), DomainError> {
        self.store.delete_session(&tenant.env.id, &token_hash(client_token)).await?;
        Ok(())
    }

    /// # Errors
    /// `NotFound("account")`.
    pub async fn account(&self, tenant: &Tenant, id: &AccountId) -> Result<Account, DomainError> {
        let key = (tenant.env.id.clone(), id.clone());
        let found = self
            .cache
            .get_or_load(&key, async || {
                Ok::<_, DomainError>(self.store.account(&key.0, &key.1).await?.map(Arc::new))
            })
            .await?;
        found.map(|a| Account::clone(&a)).ok_or(DomainError::NotFound("account"))
    }

    /// Lists accounts by id, optionally filtered by email.
    ///
    /// # Errors
    /// `Validation` for a malformed cursor or limit.
    pub async fn list(
        &self,
        tenant: &Tenant,
        partner_id: Option<&PartnerId>,
        email: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Account>, DomainError> {
        let after = cursor
            .map(|c| AccountId::parse("cursor", c))
            .transpose()
            .map_err(|e| DomainError::Validation(vec![e]))?;
        let query = AccountQuery {
            email_normalized: email.map(|e| canonical_email(e.trim())),
            partner_id: partner_id.cloned(),
            after,
            limit: limit + 1,
        };
        let mut items = self.store.accounts(&tenant.env.id, &query).await?;
        let next_cursor = (items.len() > limit as usize).then(|| {
            items.truncate(limit as usize);
            items.last().map(|a| a.id.to_string()).unwrap_or_default()
        });
        Ok(Page { items, next_cursor })
    }

    /// Edits an account. A password change or a deactivation ends all its
    /// sessions (in the transaction that writes the change).
    ///
    /// # Errors
    /// `NotFound`, `Validation`, `EmailTaken`.
    pub async fn update_account(
        &self,
        tenant: &Tenant,
        actor: &Actor,
        id: &AccountId,
        changes: AccountChanges,
    ) -> Result<Account, DomainError> {
        let account = self.account(tenant, id).await?;
        let mut v = Validator::default();
        let email = changes.email.as_deref().and_then(|e| v.check(Email::parse("email", e)));
        let first_name = changes
            .first_name
            .as_deref()
            .and_then(|n| v.check(parse_name_part("name.first_name", n)));
        let last_name = changes
            .last_name
            .as_deref()
            .and_then(|n| v.check(parse_name_part("name.last_name", n)));
        if let Some(pw) = &changes.password {
            let effective_email = email.as_ref().map_or(account.email.as_str(), |e| e.as_str());
            v.check(check_policy("password", pw, Some(effective_email)));
        }
        v.finish()?;
        let password_hash = match &changes.password {
            Some(pw) => Some(self.hasher.hash(&Share::tenant(&tenant.env.id), pw).await?),
            None => None,
        };
        let update = AccountUpdate {
            email: email.map(|e| e.as_str().to_owned()),
            first_name,
            last_name,
            password_hash,
            active: changes.active,
            updated_at: self.config.clock.now_ms(),
            if_version: changes.if_version,
            scim: changes.scim,
        };
        let changed: Vec<&str> = [
            ("email", update.email.is_some()),
            ("name.first_name", update.first_name.is_some()),
            ("name.last_name", update.last_name.is_some()),
            ("password", update.password_hash.is_some()),
            ("active", update.active.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        let audit = AuditEvent::in_tenant(actor, tenant, "account.updated", account.id.as_str()).with_detail(json!({ "changed": changed }));
        let audit = update.emit_events(audit, &tenant.env.id, &account, &changed);
        let result = self.store.update_account(&tenant.env.id, &account.id, &update, &audit).await;
        self.cache.invalidate(&(tenant.env.id.clone(), account.id.clone()));
        result.map_err(|e| match e {
            StoreError::NotFound => DomainError::NotFound("account"),
            StoreError::Conflict("version") => DomainError::Stale("account"),
            StoreError::Conflict("external_id") => DomainError::Conflict("a User with this externalId already exists".into()),
            other => other.into(),
        })
    }

    /// Deletes an account and ends its sessions.
    ///
    /// # Errors
    /// `NotFound("account")`.
    pub async fn delete_account(&self, tenant: &Tenant, actor: &Actor, id: &AccountId) -> Result<(), DomainError> {
        let account = self.account(tenant, id).await?;
        let audit = AuditEvent::in_tenant(actor, tenant, "account.deleted", id.as_str()).emit(
            &tenant.env.id,
            EventType::AccountDeleted,
            account.partner_id.as_ref(),
            account.event_data(),
        );
        let result = self.store.delete_account(&tenant.env.id, id, &audit).await;
        self.cache.invalidate(&(tenant.env.id.clone(), id.clone()));
        result.map_err(|e| match e {
            StoreError::NotFound => DomainError::NotFound("account"),
            other => other.into(),
        })
    }

    /// How many live sessions the account has, and when the newest began.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn live_sessions(&self, tenant: &Tenant, id: &AccountId) -> Result<(u64, Option<Millis>), DomainError> {
        Ok(self.store.live_sessions(&tenant.env.id, id, self.config.clock.now_ms()).await?)
    }

    /// Signs the account out everywhere (an operator ending its sessions).
    ///
    /// # Errors
    /// `NotFound("account")`.
    pub async fn end_sessions(&self, tenant: &Tenant, actor: &Actor, id: &AccountId) -> Result<u64, DomainError> {
        self.account(tenant, id).await?;
        let audit = AuditEvent::in_tenant(actor, tenant, "account.sessions_ended", id.as_str());
        Ok(self.store.end_account_sessions(&tenant.env.id, id, &audit).await?)
    }
}
