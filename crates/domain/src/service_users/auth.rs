//! Service-user login and service-token verification.
//!
//! Two in-memory caches keep the hot paths cheap without weakening them:
//! - a login cache of recently verified credentials, keyed by an HMAC of the
//!   password under a per-process random key and bound to the stored hash, so
//!   a repeated correct login skips argon2 while a wrong password, a reset
//!   password or a disabled user always takes the slow path;
//! - a cache of verified tokens, keyed by the token's SHA-256, so a token's
//!   signature is checked once, not on every request.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::app::TtlCache;
use crate::error::DomainError;
use crate::ids::ServiceUserId;
use crate::infra::hash_queue::Share;
use crate::infra::secret::{Secret, ct_eq, random_bytes, random_token};
use crate::infra::throttle::{LoginAttempt, LoginSource, Realm, check_login_name};
use crate::service_users::ServiceUser;
use crate::service_users::service::ServiceUsers;
use crate::tenancy::Tenant;
use crate::tenancy::signing::{AUDIENCE, ServiceClaims};

/// Bound on each cache; past it the cache is cleared rather than grown.
const MAX_CACHED: usize = 100_000;

struct CachedLogin {
    mac: [u8; 32],
    password_hash: String,
}

pub(crate) struct AuthCaches {
    login_key: [u8; 32],
    logins: DashMap<ServiceUserId, CachedLogin>,
    tokens: DashMap<[u8; 32], Arc<ServiceClaims>>,
    /// Whether a service user is still active, re-read at most once per ttl.
    pub(crate) active: TtlCache<ServiceUserId, bool>,
}

impl AuthCaches {
    pub(crate) fn new(ttl: Duration, clock: Arc<dyn crate::clock::Clock>) -> Self {
        Self {
            login_key: random_bytes(),
            logins: DashMap::new(),
            tokens: DashMap::new(),
            active: TtlCache::new(ttl, clock),
        }
    }

    fn mac(&self, user: &ServiceUser, password: &Secret) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.login_key).expect("any key length");
        mac.update(user.id.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(password.expose().as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn remembers(&self, user: &ServiceUser, password: &Secret) -> bool {
        self.logins
            .get(&user.id)
            .is_some_and(|c| c.password_hash == user.password_hash && ct_eq(&c.mac, &self.mac(user, password)))
    }

    fn remember(&self, user: &ServiceUser, password: &Secret) {
        if self.logins.len() >= MAX_CACHED {
            self.logins.clear();
        }
        let entry = CachedLogin {
            mac: self.mac(user, password),
            password_hash: user.password_hash.clone(),
        };
        self.logins.insert(user.id.clone(), entry);
    }
}

/// A freshly issued service token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

impl ServiceUsers {
    /// Logs a service user in and issues a service token.
    ///
    /// # Errors
    /// `Validation` for a username longer than any can be,
    /// `InvalidCredentials` (one message for unknown user, wrong password or
    /// disabled user), `LoginThrottled` after repeated failures, `Overloaded`.
    pub async fn service_login(
        &self,
        tenant: &Tenant,
        username: &str,
        password: &Secret,
        source: LoginSource,
    ) -> Result<IssuedToken, DomainError> {
        check_login_name("username", username)?;
        let attempt = LoginAttempt::new(&tenant.env.id, Realm::ServiceUser, &username.to_lowercase(), source);
        self.throttle.check(&attempt).await?;
        let user = self.store.service_user_by_name(&tenant.env.id, username).await?;
        let ok = match &user {
            Some(u) if self.auth.remembers(u, password) => true,
            _ => self
                .hasher
                .verify(
                    &Share::tenant(&tenant.env.id),
                    password,
                    user.as_ref().map(|u| u.password_hash.as_str()),
                )
                .await?
                .is_some(),
        };
        let user = match user {
            Some(u) if ok && u.disabled_at.is_none() => u,
            _ => {
                self.throttle.failed(&attempt).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.throttle.succeeded(&attempt).await;
        self.auth.remember(&user, password);
        self.issue_service_token(tenant, &user).await
    }

    async fn issue_service_token(&self, tenant: &Tenant, user: &ServiceUser) -> Result<IssuedToken, DomainError> {
        let ttl = self.config.service_token_ttl.as_secs();
        let iat = self.config.clock.now_ms() / 1000;
        let claims = ServiceClaims {
            r: user.roles.clone(),
            exp: iat + ttl as i64,
            iat,
            sub: user.id.clone(),
            reg: tenant.instance.region.clone(),
            iss: self.tenancy.issuer(tenant),
            aud: AUDIENCE.to_owned(),
            jti: random_token("", 22),
            env: tenant.env.kind.as_str().to_owned(),
            pid: tenant.instance.platform_id.to_string(),
            client_id: None,
            scope: None,
        };
        let token = self.tenancy.keyring(tenant).await?.sign(&claims)?;
        Ok(IssuedToken { token, expires_in: ttl })
    }

    /// Verifies a service token presented to `tenant` and checks that its
    /// user is still active and the token not revoked (each re-read at most
    /// once per settings ttl).
    ///
    /// # Errors
    /// `Unauthenticated` for any token that is invalid here.
    pub async fn authenticate_service(&self, tenant: &Tenant, token: &str) -> Result<Arc<ServiceClaims>, DomainError> {
        let mut digest = Sha256::new();
        digest.update(tenant.env.id.as_str().as_bytes());
        digest.update([0]);
        digest.update(token.as_bytes());
        let key: [u8; 32] = digest.finalize().into();
        let now = self.config.clock.now_ms() / 1000;
        let cached = self.auth.tokens.get(&key).map(|c| Arc::clone(&c)).filter(|c| c.exp > now);
        let claims = match cached {
            Some(c) => c,
            None => {
                let claims = Arc::new(self.tenancy.keyring(tenant).await?.verify_at(token, now)?);
                if claims.env != tenant.env.kind.as_str() || claims.pid != tenant.instance.platform_id.as_str() {
                    return Err(DomainError::Unauthenticated);
                }
                if self.auth.tokens.len() >= MAX_CACHED {
                    self.auth.tokens.retain(|_, c| c.exp > now);
                    if self.auth.tokens.len() >= MAX_CACHED {
                        self.auth.tokens.clear();
                    }
                }
                self.auth.tokens.insert(key, Arc::clone(&claims));
                claims
            }
        };
        let active = self
            .auth
            .active
            .get_or_load(&claims.sub, async || {
                let user = self.store.service_user(&tenant.env.id, &claims.sub).await?;
                Ok::<_, DomainError>(user.is_some_and(|u| u.disabled_at.is_none()))
            })
            .await?;
        if !active || self.revoked.is_revoked(&tenant.env.id, &claims.jti).await? {
            return Err(DomainError::Unauthenticated);
        }
        Ok(claims)
    }

    /// The environment's public keys as a JWK Set.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn jwks(&self, tenant: &Tenant) -> Result<crate::tenancy::signing::JwkSet, DomainError> {
        Ok(self.tenancy.keyring(tenant).await?.jwks().clone())
    }
}
