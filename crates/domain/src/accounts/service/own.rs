//! What a signed-in person does to their own account: change its password
//! and delete it, both after confirming the current password.

use super::{AccountChanges, Accounts, OpenedSession};
use crate::accounts::{Account, canonical_email};
use crate::audit::Actor;
use crate::error::DomainError;
use crate::infra::hash_queue::Share;
use crate::infra::secret::Secret;
use crate::infra::throttle::{LoginAttempt, LoginSource, Realm};
use crate::tenancy::Tenant;

impl Accounts {
    /// Checks that `current` is the account's password now, counted by the
    /// login throttle as a sign-in is: a stolen session is no faster oracle
    /// than the login form.
    async fn confirm_password(&self, tenant: &Tenant, account: &Account, current: &Secret, source: LoginSource) -> Result<(), DomainError> {
        let attempt = LoginAttempt::new(&tenant.env.id, Realm::Client, &canonical_email(&account.email), source);
        self.throttle.check(&attempt).await?;
        let share = Share::tenant(&tenant.env.id);
        if self.hasher.verify(&share, current, Some(&account.password_hash)).await?.is_none() {
            self.throttle.failed(&attempt).await;
            return Err(DomainError::InvalidCredentials);
        }
        self.throttle.succeeded(&attempt).await;
        Ok(())
    }

    /// Changes an account's own password: `current` must be its password now
    /// and `new` must pass the password policy. Every session of the account
    /// ends, and a fresh one is opened for the person who changed it.
    /// `Ok(None)` means the password was changed but no fresh session could be
    /// opened (it changed again meanwhile, or storage failed): sign in again.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong `current`, `LoginThrottled` after
    /// repeated wrong ones, `Validation` when `new` breaks the policy,
    /// `Overloaded` when the hashing queue is full, `NotFound` for a deleted
    /// account.
    pub async fn change_password(
        &self,
        tenant: &Tenant,
        account: &Account,
        current: &Secret,
        new: &Secret,
        source: LoginSource,
    ) -> Result<Option<OpenedSession>, DomainError> {
        self.confirm_password(tenant, account, current, source).await?;
        let actor = Actor::account(&account.id);
        let changes = AccountChanges {
            password: Some(new.clone()),
            ..AccountChanges::default()
        };
        let updated = self.update_account(tenant, &actor, &account.id, changes).await?;
        // Opening the session against the hash just written, rather than
        // logging in again, saves an argon2 verification and still loses to
        // a change that raced with this one.
        let (session, opened) = self.new_session(&tenant.env.id, &account.id);
        match self.store.open_session_checked(&session, &updated.password_hash, None).await {
            Ok(true) => Ok(Some(opened)),
            Ok(false) => Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "no fresh session after a password change");
                Ok(None)
            }
        }
    }

    /// Deletes the person's own account once `current` confirms it: its
    /// sessions, the apps it registered (and every grant to them) and the
    /// grants it gave go with it, in one transaction.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong `current`, `LoginThrottled` after
    /// repeated wrong ones, `Overloaded`, `NotFound` if it is already gone.
    pub async fn delete_own_account(
        &self,
        tenant: &Tenant,
        account: &Account,
        current: &Secret,
        source: LoginSource,
    ) -> Result<(), DomainError> {
        self.confirm_password(tenant, account, current, source).await?;
        self.delete_account(tenant, &Actor::account(&account.id), &account.id).await
    }
}
