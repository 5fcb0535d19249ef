//! Vendor apps and their keys, grants, and single-use authorization codes.
//! Each table is keyed by (env_id, …) and every statement names the
//! environment: an account id (chosen by the client) or an app id (public)
//! may exist in both environments.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::ids::{AccountId, AppId, AppKeyId, EnvId};
use onramp_domain::integration::oidc::CodeBinding;
use onramp_domain::integration::{AuthCode, Grant, VendorApp};
use onramp_domain::store::{IntegrationStore, StoreError};
use onramp_domain::tenancy::signing::KeyAlg;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, to_json};

#[derive(sqlx::FromRow)]
struct VendorAppRow {
    id: String,
    env_id: String,
    account_id: String,
    name: String,
    origins: String,
    redirect_uris: String,
    id_token_alg: String,
    key_id: Option<String>,
    key_hash: Option<String>,
    key_created_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    suspended_at: Option<i64>,
}

impl Record for VendorAppRow {
    type Domain = VendorApp;
    fn into_domain(self) -> R<VendorApp> {
        Ok(VendorApp {
            id: self.id.into(),
            env_id: self.env_id.into(),
            account_id: self.account_id.into(),
            name: self.name,
            origins: from_json("origins", &self.origins)?,
            redirect_uris: from_json("redirect_uris", &self.redirect_uris)?,
            id_token_alg: KeyAlg::parse(&self.id_token_alg)
                .ok_or_else(|| StoreError::other(format!("unknown ID token algorithm `{}`", self.id_token_alg)))?,
            key_id: self.key_id.map(Into::into),
            key_hash: self.key_hash,
            key_created_at: self.key_created_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            suspended_at: self.suspended_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    env_id: String,
    account_id: String,
    app_id: String,
    scopes: String,
    granted_at: i64,
}

impl Record for GrantRow {
    type Domain = Grant;
    fn into_domain(self) -> R<Grant> {
        Ok(Grant {
            env_id: self.env_id.into(),
            account_id: self.account_id.into(),
            app_id: self.app_id.into(),
            scopes: from_json("scopes", &self.scopes)?,
            granted_at: self.granted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AuthCodeRow {
    code_hash: String,
    env_id: String,
    app_id: String,
    account_id: String,
    code_challenge: String,
    created_at: i64,
    expires_at: i64,
    redirect_uri: Option<String>,
    scope: Option<String>,
    nonce: Option<String>,
    auth_time: Option<i64>,
}

impl Record for AuthCodeRow {
    type Domain = AuthCode;
    fn into_domain(self) -> R<AuthCode> {
        Ok(AuthCode {
            code_hash: self.code_hash,
            env_id: self.env_id.into(),
            app_id: self.app_id.into(),
            account_id: self.account_id.into(),
            code_challenge: self.code_challenge,
            created_at: self.created_at,
            expires_at: self.expires_at,
            oidc: self.redirect_uri.map(|redirect_uri| CodeBinding {
                redirect_uri,
                scope: self.scope.unwrap_or_default(),
                nonce: self.nonce,
                auth_time: self.auth_time.unwrap_or(self.created_at),
            }),
        })
    }
}

#[async_trait]
impl IntegrationStore for SqlStore {
    async fn create_vendor_app(&self, a: &VendorApp, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO vendor_apps (id, env_id, account_id, name, origins, key_id, key_hash, key_created_at, created_at, updated_at,
                    redirect_uris, id_token_alg)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(a.id.as_str())
            .bind(a.env_id.as_str())
            .bind(a.account_id.as_str())
            .bind(&a.name)
            .bind(to_json(&a.origins))
            .bind(a.key_id.as_ref().map(AppKeyId::as_str))
            .bind(a.key_hash.as_deref())
            .bind(a.key_created_at)
            .bind(a.created_at)
            .bind(a.updated_at)
            .bind(to_json(&a.redirect_uris))
            .bind(a.id_token_alg.as_str())
            .run(c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn vendor_app(&self, env_id: &EnvId, id: &AppId) -> R<Option<VendorApp>> {
        sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 AND id = $2")
            .bind(env_id.as_str())
            .bind(id.as_str())
            .optional::<VendorAppRow, _>(&self.pool)
            .await
    }

    async fn vendor_apps(&self, env_id: &EnvId, account_id: &AccountId) -> R<Vec<VendorApp>> {
        sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 AND account_id = $2 ORDER BY id")
            .bind(env_id.as_str())
            .bind(account_id.as_str())
            .all::<VendorAppRow, _>(&self.pool)
            .await
    }

    async fn env_vendor_apps(&self, env_id: &EnvId) -> R<Vec<VendorApp>> {
        sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 ORDER BY created_at, id")
            .bind(env_id.as_str())
            .all::<VendorAppRow, _>(&self.pool)
            .await
    }

    async fn set_vendor_app_suspended(&self, env_id: &EnvId, id: &AppId, at: Option<i64>, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            let changed = sqlx::query("UPDATE vendor_apps SET suspended_at = $3 WHERE env_id = $1 AND id = $2")
                .bind(env_id.as_str())
                .bind(id.as_str())
                .bind(at)
                .run(c)
                .await?;
            if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn vendor_app_by_key_hash(&self, env_id: &EnvId, key_hash: &str) -> R<Option<VendorApp>> {
        sqlx::query("SELECT * FROM vendor_apps WHERE env_id = $1 AND key_hash = $2")
            .bind(env_id.as_str())
            .bind(key_hash)
            .optional::<VendorAppRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn set_vendor_key(
        &self,
        env_id: &EnvId,
        app_id: &AppId,
        key_id: &AppKeyId,
        key_hash: &str,
        now: i64,
        audit: &AuditEvent,
    ) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "UPDATE vendor_apps SET key_id = $3, key_hash = $4, key_created_at = $5, updated_at = $5 WHERE env_id = $1 AND id = $2",
            )
            .bind(env_id.as_str())
            .bind(app_id.as_str())
            .bind(key_id.as_str())
            .bind(key_hash)
            .bind(now)
            .expect_row(c)
            .await
        })
        .await
    }

    async fn update_vendor_app(&self, a: &VendorApp, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "UPDATE vendor_apps SET name = $4, origins = $5, updated_at = $6, redirect_uris = $7, id_token_alg = $8
                 WHERE env_id = $1 AND id = $2 AND account_id = $3",
            )
            .bind(a.env_id.as_str())
            .bind(a.id.as_str())
            .bind(a.account_id.as_str())
            .bind(&a.name)
            .bind(to_json(&a.origins))
            .bind(a.updated_at)
            .bind(to_json(&a.redirect_uris))
            .bind(a.id_token_alg.as_str())
            .expect_row(c)
            .await
        })
        .await
    }

    async fn delete_vendor_app(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent) -> R<()> {
        // The grants to the app go by their foreign key's cascade, in this
        // statement's transaction.
        self.audited(Some(audit), async |c| {
            sqlx::query("DELETE FROM vendor_apps WHERE env_id = $1 AND id = $2 AND account_id = $3")
                .bind(env_id.as_str())
                .bind(app_id.as_str())
                .bind(account_id.as_str())
                .expect_row(c)
                .await
        })
        .await
    }

    async fn create_grant(&self, g: &Grant, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(
                "INSERT INTO grants (env_id, account_id, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (env_id, account_id, app_id) DO NOTHING",
            )
            .bind(g.env_id.as_str())
            .bind(g.account_id.as_str())
            .bind(g.app_id.as_str())
            .bind(to_json(&g.scopes))
            .bind(g.granted_at)
            .run(c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId) -> R<Option<Grant>> {
        sqlx::query("SELECT * FROM grants WHERE env_id = $1 AND account_id = $2 AND app_id = $3")
            .bind(env_id.as_str())
            .bind(account_id.as_str())
            .bind(app_id.as_str())
            .optional::<GrantRow, _>(&mut *self.reader().await?)
            .await
    }

    async fn grants(&self, env_id: &EnvId, account_id: &AccountId) -> R<Vec<Grant>> {
        sqlx::query("SELECT * FROM grants WHERE env_id = $1 AND account_id = $2 ORDER BY granted_at")
            .bind(env_id.as_str())
            .bind(account_id.as_str())
            .all::<GrantRow, _>(&self.pool)
            .await
    }

    async fn delete_grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query("DELETE FROM grants WHERE env_id = $1 AND account_id = $2 AND app_id = $3")
                .bind(env_id.as_str())
                .bind(account_id.as_str())
                .bind(app_id.as_str())
                .expect_row(c)
                .await
        })
        .await
    }

    async fn create_auth_code(&self, code: &AuthCode) -> R<()> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at,
                redirect_uri, scope, nonce, auth_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&code.code_hash)
        .bind(code.env_id.as_str())
        .bind(code.app_id.as_str())
        .bind(code.account_id.as_str())
        .bind(&code.code_challenge)
        .bind(code.created_at)
        .bind(code.expires_at)
        .bind(code.oidc.as_ref().map(|o| o.redirect_uri.as_str()))
        .bind(code.oidc.as_ref().map(|o| o.scope.as_str()))
        .bind(code.oidc.as_ref().and_then(|o| o.nonce.as_deref()))
        .bind(code.oidc.as_ref().map(|o| o.auth_time))
        .run(&self.pool)
        .await?;
        Ok(())
    }

    async fn redeem_auth_code(&self, env_id: &EnvId, code_hash: &str, now: i64) -> R<Option<AuthCode>> {
        // The conditional UPDATE makes a code single-use under concurrency;
        // env_id keeps another environment from using it up.
        sqlx::query(
            "UPDATE auth_codes SET used_at = $3 WHERE env_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3
             RETURNING code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at,
                       redirect_uri, scope, nonce, auth_time",
        )
        .bind(env_id.as_str())
        .bind(code_hash)
        .bind(now)
        .optional::<AuthCodeRow, _>(&self.pool)
        .await
    }

    async fn redeem_oidc_code(&self, env_id: &EnvId, code_hash: &str, now: i64, jti: &str, access_exp: i64) -> R<Option<AuthCode>> {
        // As for the popup's codes, and the token's id in the same statement,
        // so that a replay always finds what to revoke.
        sqlx::query(
            "UPDATE auth_codes SET used_at = $3, access_jti = $4, access_exp = $5
             WHERE env_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > $3 AND redirect_uri IS NOT NULL
             RETURNING code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at,
                       redirect_uri, scope, nonce, auth_time",
        )
        .bind(env_id.as_str())
        .bind(code_hash)
        .bind(now)
        .bind(jti)
        .bind(access_exp)
        .optional::<AuthCodeRow, _>(&self.pool)
        .await
    }

    async fn code_access_token(&self, env_id: &EnvId, code_hash: &str) -> R<Option<(String, i64)>> {
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT access_jti, access_exp FROM auth_codes WHERE env_id = $1 AND code_hash = $2")
                .bind(env_id.as_str())
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::map_err)?;
        Ok(row.and_then(|(jti, exp)| Some((jti?, exp?))))
    }
}
