//! The authorization-code grant (RFC 6749 §4.1.3 with PKCE, OpenID Connect
//! Core §3.1.3): a code of `/oauth/authorize` becomes an RFC 9068 access
//! token for the client and an ID token.

use serde::{Deserialize, Serialize};

use crate::audit::{Actor, AuditEvent};
use crate::error::DomainError;
use crate::infra::secret::{random_token, token_hash};
use crate::integration::{VendorApp, pkce_matches};
use crate::oauth::service::OAuth;
use crate::oauth::{OAuthCode, OAuthError};
use crate::tenancy::Tenant;
use crate::tenancy::signing::{KeyAlg, TYP_ACCESS_TOKEN, TYP_JWT};

/// The claims of an access token issued to a vendor app for a person
/// (RFC 9068 §2.2): its audience is the app, never `onramp-api`, so it
/// opens `/oauth/userinfo` and nothing of the API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserAccessClaims {
    pub iss: String,
    /// The account id.
    pub sub: String,
    /// The app (client) id.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    pub env: String,
    pub pid: String,
}

/// An ID token's claims (OpenID Connect Core §2, §5.1); the profile claims
/// only when the scopes allow them.
#[derive(Debug, Clone, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

/// The claims `/oauth/userinfo` and the ID token share, by scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Profile {
    /// What `scope` (space-separated) lets a client see of `account`.
    /// Emails are not verified by this platform (`email_verified: false`).
    pub fn of(account: &crate::accounts::Account, scope: &str) -> Self {
        let has = |s: &str| scope.split(' ').any(|x| x == s);
        let mut p = Profile::default();
        if has("email") {
            p.email = Some(account.email.clone());
            p.email_verified = Some(false);
        }
        if has("profile") {
            let (given, family) = (&account.name.first_name, &account.name.last_name);
            p.given_name = Some(given.clone());
            p.family_name = Some(family.clone());
            p.name = Some(format!("{given} {family}").trim().to_owned());
        }
        p
    }
}

/// What the token endpoint answers for a code.
#[derive(Debug, Clone)]
pub struct CodeTokens {
    pub access_token: String,
    /// Present when the scopes include `openid`.
    pub id_token: Option<String>,
    pub expires_in: u64,
    pub scope: String,
}

impl OAuth {
    /// Exchanges a code for tokens. The code is used up by the first
    /// attempt, successful or not; a second one also revokes the access
    /// token the first issued.
    ///
    /// # Errors
    /// `invalid_grant` for an unknown, used, expired or other client's code,
    /// another redirect URI, a wrong verifier, or an account or grant that
    /// is gone; `invalid_request` without a verifier or redirect URI.
    pub async fn authorization_code(
        &self,
        tenant: &Tenant,
        app: &VendorApp,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<CodeTokens, OAuthError> {
        let invalid = || OAuthError::refused(OAuthCode::InvalidGrant, "the code is unknown, used, expired or not for this client");
        let code_hash = token_hash(code);
        let ttl = self.config.service_token_ttl.as_secs();
        let now = self.config.clock.now_ms();
        let (iat, exp) = (now / 1000, now / 1000 + ttl as i64);
        let jti = random_token("", 22);
        let Some(record) = self
            .store
            .redeem_oidc_code(&tenant.env.id, &code_hash, now, &jti, exp * 1000)
            .await?
        else {
            self.revoke_replayed(tenant, &code_hash).await?;
            return Err(invalid());
        };
        let binding = record.oidc.as_ref().ok_or_else(invalid)?;
        if record.app_id != app.id || binding.redirect_uri != redirect_uri {
            return Err(invalid());
        }
        if !pkce_matches(verifier, &record.code_challenge) {
            return Err(OAuthError::refused(
                OAuthCode::InvalidGrant,
                "the code_verifier does not match the code_challenge",
            ));
        }
        let account = self.store.account(&tenant.env.id, &record.account_id).await?.filter(|a| a.active);
        let granted = self.store.grant(&tenant.env.id, &record.account_id, &app.id).await?.is_some();
        let Some(account) = account.filter(|_| granted) else {
            return Err(OAuthError::refused(
                OAuthCode::InvalidGrant,
                "the account or its grant to this client is gone",
            ));
        };
        let iss = self.tenancy.issuer(tenant);
        let keyring = self.tenancy.keyring(tenant).await?;
        let access = UserAccessClaims {
            iss: iss.clone(),
            sub: account.id.to_string(),
            aud: app.id.to_string(),
            exp,
            iat,
            jti,
            client_id: app.id.to_string(),
            scope: binding.scope.clone(),
            env: tenant.env.kind.as_str().to_owned(),
            pid: tenant.instance.platform_id.to_string(),
        };
        let access_token = keyring.sign_as(KeyAlg::EdDsa, TYP_ACCESS_TOKEN, &access)?;
        let id_token = if binding.scope.split(' ').any(|s| s == "openid") {
            let claims = IdTokenClaims {
                iss,
                sub: account.id.to_string(),
                aud: app.id.to_string(),
                exp,
                iat,
                auth_time: binding.auth_time / 1000,
                nonce: binding.nonce.clone(),
                profile: Profile::of(&account, &binding.scope),
            };
            Some(keyring.sign_as(app.id_token_alg, TYP_JWT, &claims)?)
        } else {
            None
        };
        Ok(CodeTokens {
            access_token,
            id_token,
            expires_in: ttl,
            scope: binding.scope.clone(),
        })
    }

    /// What `/oauth/userinfo` answers for an access token of the
    /// authorization-code grant: the account id and the claims its scopes
    /// allow. The token must verify, be live and unrevoked, and its account
    /// active with its grant to the client standing.
    ///
    /// # Errors
    /// `Unauthenticated` for anything else; storage failures.
    pub async fn userinfo(&self, tenant: &Tenant, token: &str) -> Result<(String, Profile), DomainError> {
        let keyring = self.tenancy.keyring(tenant).await?;
        let payload = keyring.verified_payload(token)?;
        let claims: UserAccessClaims = serde_json::from_slice(&payload).map_err(|_| DomainError::Unauthenticated)?;
        let now = self.config.clock.now_ms() / 1000;
        let live = claims.exp >= now && claims.iat <= now + 5 && claims.iss == keyring.issuer();
        let for_app = claims.aud == claims.client_id && claims.aud != crate::tenancy::signing::AUDIENCE;
        if !live || !for_app || self.revoked.is_revoked(&tenant.env.id, &claims.jti).await? {
            return Err(DomainError::Unauthenticated);
        }
        let account_id = crate::ids::AccountId::from(claims.sub.as_str());
        let account = self.store.account(&tenant.env.id, &account_id).await?.filter(|a| a.active);
        let app_id = crate::ids::AppId::from(claims.client_id.as_str());
        let granted = self.store.grant(&tenant.env.id, &account_id, &app_id).await?.is_some();
        match account {
            Some(account) if granted => Ok((claims.sub, Profile::of(&account, &claims.scope))),
            _ => Err(DomainError::Unauthenticated),
        }
    }

    /// A used code came again: the access token it was exchanged for is
    /// revoked (RFC 6749 §4.1.2), on this node at once.
    async fn revoke_replayed(&self, tenant: &Tenant, code_hash: &str) -> Result<(), OAuthError> {
        let Some((jti, exp)) = self.store.code_access_token(&tenant.env.id, code_hash).await? else {
            return Ok(());
        };
        let now = self.config.clock.now_ms();
        let audit = AuditEvent::new(
            &Actor::system("authorization code replay"),
            &tenant.instance.platform_id,
            Some(tenant.env.kind.as_str()),
            "oauth_token.revoked",
            &jti,
        )
        .with_detail(serde_json::json!({ "reason": "authorization code replayed" }));
        self.store.revoke_token(&tenant.env.id, &jti, exp, now, &audit).await?;
        self.revoked.forget(&tenant.env.id);
        Ok(())
    }
}
