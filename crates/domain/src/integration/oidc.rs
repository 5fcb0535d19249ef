//! The authorization-code flow of OpenID Connect: the same consent (grant)
//! as the popup, with codes bound also to a redirect URI, scopes, a nonce
//! and the time the person signed in.

use crate::audit::Actor;
use crate::clock::Millis;
use crate::error::{DomainError, FieldCode};
use crate::ids::AccountId;
use crate::infra::secret::{Secret, random_token, token_hash};
use crate::integration::service::{CODE_PREFIX, CODE_TTL_MS, Integration};
use crate::integration::{AuthCode, VendorApp};
use crate::tenancy::Tenant;

/// The scopes a client may ask `/oauth/authorize` for.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// What a code of `/oauth/authorize` is bound to besides client and PKCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBinding {
    /// Exactly as the authorization request gave it; the token request must repeat it.
    pub redirect_uri: String,
    /// Space-separated, each one of [`OIDC_SCOPES`].
    pub scope: String,
    pub nonce: Option<String>,
    /// When the person signed in (the ID token's `auth_time`).
    pub auth_time: Millis,
}

/// The scopes of a request, deduplicated in the order given; `None` if one
/// is unknown (`invalid_scope`) or there is none.
pub fn parse_scope(raw: &str) -> Option<String> {
    let mut scopes: Vec<&str> = Vec::new();
    for s in raw.split(' ').filter(|s| !s.is_empty()) {
        if !OIDC_SCOPES.contains(&s) {
            return None;
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

/// Whether a PKCE challenge has the shape of an S256 one (base64url SHA-256).
pub fn challenge_is_s256(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Integration {
    /// The time as this service's clock reads it (tests move a manual one).
    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Records consent (unless it stands) and issues a code bound to the
    /// client, the PKCE challenge and `binding`.
    ///
    /// # Errors
    /// `Validation` for a malformed challenge; storage failures.
    pub async fn authorize_oidc(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app: &VendorApp,
        code_challenge: &str,
        binding: CodeBinding,
    ) -> Result<Secret, DomainError> {
        self.issue_code(tenant, account_id, actor, app, code_challenge, Some(binding)).await
    }

    /// Records consent (unless it stands) and issues a single-use code bound
    /// to the app, the PKCE challenge and, for OpenID Connect, `oidc`: the
    /// popup's codes and the authorization endpoint's are one mechanism.
    pub(super) async fn issue_code(
        &self,
        tenant: &Tenant,
        account_id: &AccountId,
        actor: &Actor,
        app: &VendorApp,
        code_challenge: &str,
        oidc: Option<CodeBinding>,
    ) -> Result<Secret, DomainError> {
        if !challenge_is_s256(code_challenge) {
            return Err(DomainError::invalid(
                "code_challenge",
                FieldCode::InvalidChallenge,
                "code_challenge must be a base64url SHA-256 (43 characters)",
            ));
        }
        self.ensure_grant(tenant, account_id, actor, app).await?;
        let now = self.clock.now_ms();
        let code = random_token(CODE_PREFIX, 43);
        let record = AuthCode {
            code_hash: token_hash(&code),
            env_id: tenant.env.id.clone(),
            app_id: app.id.clone(),
            account_id: account_id.clone(),
            code_challenge: code_challenge.to_owned(),
            created_at: now,
            expires_at: now + CODE_TTL_MS,
            oidc,
        };
        self.store.create_auth_code(&record).await?;
        Ok(Secret::new(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(parse_scope("openid email openid").as_deref(), Some("openid email"));
        assert_eq!(parse_scope("openid  profile").as_deref(), Some("openid profile"));
        assert_eq!(parse_scope("openid admin"), None);
        assert_eq!(parse_scope(""), None);
    }
}
