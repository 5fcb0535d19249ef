//! User integration: vendor apps and their keys, consent, authorization
//! codes bound to PKCE, and the profile a vendor may read.

use std::sync::Arc;

use serde_json::json;

use crate::accounts::Account;
use crate::accounts::service::Accounts;
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::events::EventType;
use crate::ids::{AccountId, AppId, AppKeyId};
use crate::infra::secret::{Secret, token_hash};
use crate::integration::{AppFields, Grant, PROFILE_SCOPES, VendorApp, app_detail, pkce_matches, valid_app_fields};
use crate::partners::{KeyKind, generate_key_of, key_is_well_formed_as};
use crate::store::{Store, StoreError};
use crate::tenancy::Tenant;

/// How long an authorization code lives.
pub const CODE_TTL_MS: i64 = 60_000;
pub(super) const CODE_PREFIX: &str = "onr_code_";

/// Vendor apps, the consent people give them, and authorization codes.
pub struct Integration {
    pub(super) store: Arc<dyn Store>,
    accounts: Arc<Accounts>,
    pub(super) clock: Arc<dyn Clock>,
}

impl Integration {
    pub(crate) fn new(store: Arc<dyn Store>, accounts: Arc<Accounts>, clock: Arc<dyn Clock>) -> Self {
        Self { store, accounts, clock }
    }

    /// Registers an app for the popup only (no redirect URIs, ES256).
    ///
    /// # Errors
    /// `Validation` for a bad name or origin.
    pub async fn register_app(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        name: &str,
        origins: &[String],
    ) -> Result<VendorApp, DomainError> {
        self.register_app_with(tenant, account_id, actor, &AppFields::popup(name, origins))
            .await
    }

    /// Registers an app for a signed-in account.
    ///
    /// # Errors
    /// `Validation` for a bad name, origin or redirect URI.
    pub async fn register_app_with(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        fields: &AppFields,
    ) -> Result<VendorApp, DomainError> {
        let fields = valid_app_fields(tenant, fields)?;
        let now = self.clock.now_ms();
        let app = VendorApp {
            id: AppId::generate(),
            env_id: tenant.env.id.clone(),
            account_id: account_id.clone(),
            name: fields.name,
            origins: fields.origins,
            redirect_uris: fields.redirect_uris,
            id_token_alg: fields.id_token_alg,
            key_id: None,
            key_hash: None,
            key_created_at: None,
            created_at: now,
            updated_at: now,
            suspended_at: None,
        };
        let audit = AuditEvent::in_tenant(actor, tenant, "vendor_app.created", app.id.as_str())
            .with_detail(app_detail(&app))
            .emit(&tenant.env.id, EventType::AppCreated, None, app_data(&app.id, &app.account_id));
        self.store.create_vendor_app(&app, &audit).await?;
        Ok(app)
    }

    /// Renames an app and replaces its origins, redirect URIs and ID token
    /// algorithm; its key and grants stay.
    ///
    /// # Errors
    /// `Validation` for a bad name, origin or redirect URI, `NotFound("app")`
    /// unless the account owns the app.
    pub async fn update_app(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app_id: &AppId,
        fields: &AppFields,
    ) -> Result<VendorApp, DomainError> {
        let mut app = self.owned_app(tenant, account_id, app_id).await?;
        let fields = valid_app_fields(tenant, fields)?;
        (app.name, app.origins, app.redirect_uris, app.id_token_alg) =
            (fields.name, fields.origins, fields.redirect_uris, fields.id_token_alg);
        app.updated_at = self.clock.now_ms();
        let audit = AuditEvent::in_tenant(actor, tenant, "vendor_app.updated", app.id.as_str()).with_detail(app_detail(&app));
        self.store.update_vendor_app(&app, &audit).await.map_err(app_not_found)?;
        Ok(app)
    }

    /// Deletes an app: its key stops at once and every grant to it ends.
    ///
    /// # Errors
    /// `NotFound("app")` unless the account owns the app.
    pub async fn delete_app(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app_id: &AppId,
    ) -> Result<VendorApp, DomainError> {
        let app = self.owned_app(tenant, account_id, app_id).await?;
        let audit = AuditEvent::in_tenant(actor, tenant, "vendor_app.deleted", app.id.as_str())
            .with_detail(json!({ "name": app.name }))
            .emit(&tenant.env.id, EventType::AppDeleted, None, app_data(&app.id, &app.account_id));
        self.store
            .delete_vendor_app(&tenant.env.id, account_id, &app.id, &audit)
            .await
            .map_err(app_not_found)?;
        Ok(app)
    }

    /// An app of this environment that `account_id` registered.
    ///
    /// # Errors
    /// `NotFound("app")`, the same whether it does not exist or is another's.
    pub async fn owned_app(&self, tenant: &Tenant, account_id: &AccountId, app_id: &AppId) -> Result<VendorApp, DomainError> {
        let app = self.vendor_app(tenant, app_id).await?;
        if app.account_id != *account_id {
            return Err(DomainError::NotFound("app"));
        }
        Ok(app)
    }

    /// # Errors
    /// Storage failures.
    pub async fn vendor_apps(&self, tenant: &Tenant, account_id: &AccountId) -> Result<Vec<VendorApp>, DomainError> {
        Ok(self.store.vendor_apps(&tenant.env.id, account_id).await?)
    }

    /// An app of this environment, by its public id (`client_id`).
    ///
    /// # Errors
    /// `NotFound("app")`.
    pub async fn vendor_app(&self, tenant: &Tenant, app_id: &AppId) -> Result<VendorApp, DomainError> {
        let app = self
            .store
            .vendor_app(&tenant.env.id, app_id)
            .await?
            .ok_or(DomainError::NotFound("app"))?;
        if app.suspended_at.is_some() {
            return Err(DomainError::Forbidden("this app is suspended by the platform"));
        }
        Ok(app)
    }

    /// Generates (or resets) an app's key; the previous key stops at once.
    ///
    /// # Errors
    /// `NotFound("app")` unless the account owns the app.
    pub async fn reset_vendor_key(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app_id: &AppId,
    ) -> Result<(AppKeyId, Secret), DomainError> {
        let app = self.owned_app(tenant, account_id, app_id).await?;
        let key = generate_key_of(KeyKind::VendorApp, tenant.env.kind);
        let key_id = AppKeyId::generate();
        let audit = AuditEvent::in_tenant(actor, tenant, "vendor_app.key_reset", app.id.as_str())
            .with_detail(json!({ "key_id": key_id }))
            .emit(&tenant.env.id, EventType::AppKeyReset, None, app_data(&app.id, &app.account_id));
        self.store
            .set_vendor_key(&tenant.env.id, &app.id, &key_id, &token_hash(&key), self.clock.now_ms(), &audit)
            .await?;
        Ok((key_id, Secret::new(key)))
    }

    /// The app behind a vendor key presented to `tenant`: one lookup, and
    /// only for a key with a vendor app key's prefix and checksum.
    ///
    /// # Errors
    /// `Unauthenticated`.
    pub async fn authenticate_vendor_key(&self, tenant: &Tenant, raw: &str) -> Result<VendorApp, DomainError> {
        if !key_is_well_formed_as(raw, KeyKind::VendorApp, tenant.env.kind) {
            return Err(DomainError::Unauthenticated);
        }
        self.store
            .vendor_app_by_key_hash(&tenant.env.id, &token_hash(raw))
            .await?
            .filter(|app| app.suspended_at.is_none())
            .ok_or(DomainError::Unauthenticated)
    }

    /// Whether the person already granted the app access.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn grant_of(&self, tenant: &Tenant, account_id: &AccountId, app_id: &AppId) -> Result<Option<Grant>, DomainError> {
        Ok(self.store.grant(&tenant.env.id, account_id, app_id).await?)
    }

    /// Records consent (if not already given) and issues a single-use code
    /// bound to the app and the PKCE challenge.
    ///
    /// # Errors
    /// `Validation` for a malformed challenge.
    pub async fn authorize(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app: &VendorApp,
        code_challenge: &str,
    ) -> Result<Secret, DomainError> {
        self.issue_code(tenant, account_id, actor, app, code_challenge, None).await
    }

    /// Records the person's consent for the app unless it already stands.
    pub(super) async fn ensure_grant(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app: &VendorApp,
    ) -> Result<(), DomainError> {
        if self.store.grant(&tenant.env.id, account_id, &app.id).await?.is_none() {
            let grant = Grant {
                env_id: tenant.env.id.clone(),
                account_id: account_id.clone(),
                app_id: app.id.clone(),
                scopes: PROFILE_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                granted_at: self.clock.now_ms(),
            };
            let audit = AuditEvent::in_tenant(actor, tenant, "grant.created", app.id.as_str())
                .with_detail(json!({ "account_id": account_id }))
                .emit(&tenant.env.id, EventType::GrantCreated, None, app_data(&app.id, account_id));
            self.store.create_grant(&grant, &audit).await?;
        }
        Ok(())
    }

    /// Exchanges a code for the person's profile. The code is used up by the
    /// first attempt, successful or not.
    ///
    /// # Errors
    /// `InvalidGrant` for an unknown, used, expired or other app's code or a
    /// wrong verifier; `UserNotFound` if the account is gone or deactivated.
    pub async fn exchange_code(
        &self,
        tenant: &Tenant,
        app: &VendorApp,
        code: &str,
        verifier: &str,
    ) -> Result<(Account, Grant), DomainError> {
        let invalid = DomainError::InvalidGrant("the code is unknown, used, expired or not for this app, or the verifier does not match");
        if !code.starts_with(CODE_PREFIX) || code.len() > 128 {
            return Err(invalid);
        }
        let now = self.clock.now_ms();
        let Some(record) = self.store.redeem_auth_code(&tenant.env.id, &token_hash(code), now).await? else {
            return Err(invalid);
        };
        if record.app_id != app.id || !pkce_matches(verifier, &record.code_challenge) {
            return Err(invalid);
        }
        let account = self
            .accounts
            .account(tenant, &record.account_id)
            .await
            .ok()
            .filter(|a| a.active)
            .ok_or(DomainError::UserNotFound)?;
        let grant = self.store.grant(&tenant.env.id, &account.id, &app.id).await?.ok_or(invalid)?;
        Ok((account, grant))
    }

    /// The current profile of a person who granted the app access; the same
    /// `NotFound` whether the person does not exist, is deactivated or never
    /// granted access.
    ///
    /// # Errors
    /// `NotFound("user")`.
    pub async fn integration_user(&self, tenant: &Tenant, app: &VendorApp, user_id: &AccountId) -> Result<(Account, Grant), DomainError> {
        let not_found = || DomainError::NotFound("user");
        // A deactivated account answers exactly like a missing one.
        let account = self
            .accounts
            .account(tenant, user_id)
            .await
            .ok()
            .filter(|a| a.active)
            .ok_or_else(not_found)?;
        let grant = self
            .store
            .grant(&tenant.env.id, &account.id, &app.id)
            .await?
            .ok_or_else(not_found)?;
        Ok((account, grant))
    }

    /// The apps a person granted access, with their grants.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn connections(&self, tenant: &Tenant, account_id: &AccountId) -> Result<Vec<(Grant, VendorApp)>, DomainError> {
        let mut out = Vec::new();
        for grant in self.store.grants(&tenant.env.id, account_id).await? {
            if let Some(app) = self.store.vendor_app(&tenant.env.id, &grant.app_id).await? {
                out.push((grant, app));
            }
        }
        Ok(out)
    }

    /// Ends an app's access to a person's profile at once.
    ///
    /// # Errors
    /// `NotFound("connection")`.
    pub async fn revoke_connection(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app_id: &AppId,
    ) -> Result<(), DomainError> {
        let audit = AuditEvent::in_tenant(actor, tenant, "grant.revoked", app_id.as_str())
            .with_detail(json!({ "account_id": account_id }))
            .emit(&tenant.env.id, EventType::GrantRevoked, None, app_data(app_id, account_id));
        let deleted = self.store.delete_grant(&tenant.env.id, account_id, app_id, &audit).await;
        deleted.map_err(|e| match e {
            StoreError::NotFound => DomainError::NotFound("connection"),
            other => other.into(),
        })
    }
}

/// How lifecycle events name an app and the account it concerns (its
/// developer for `app.*`, the consenting person for `grant.*`).
fn app_data(app_id: &AppId, account_id: &AccountId) -> serde_json::Value {
    json!({ "app_id": app_id, "account_id": account_id })
}

/// An app's name and origins, validated for the tenant's environment.
fn app_not_found(e: StoreError) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::NotFound("app"),
        other => other.into(),
    }
}
