//! The environments' issuer and signing keys: the key ring each
//! environment verifies and signs with (cached for the settings ttl), and
//! the operator's rotation.

use std::sync::Arc;

use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::error::DomainError;
use crate::events::EventType;
use crate::tenancy::service::Tenancy;
use crate::tenancy::signing::{KeyAlg, KeyRing, SigningKey};
use crate::tenancy::{EnvKind, PlatformId, Tenant};

impl Tenancy {
    /// The issuer (`iss`) of this environment's service tokens, and the
    /// origin of every URL it advertises: `https://<canonical host>`, or
    /// the configured public scheme and port.
    pub fn issuer(&self, tenant: &Tenant) -> String {
        let host = tenant.canonical_host(&self.config.base_domain);
        let scheme = &self.config.public_scheme;
        match self.config.public_port {
            Some(port) if !matches!((scheme.as_str(), port), ("https", 443) | ("http", 80)) => format!("{scheme}://{host}:{port}"),
            _ => format!("{scheme}://{host}"),
        }
    }

    /// The environment's signing and verification keys.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn keyring(&self, tenant: &Tenant) -> Result<Arc<KeyRing>, DomainError> {
        self.keyrings
            .get_or_load(&tenant.env.id, async || {
                let keys = self.store.signing_keys(&tenant.env.id).await?;
                let ttl = self.config.service_token_ttl.as_millis() as i64;
                Ok(Arc::new(KeyRing::build(
                    &keys,
                    &self.sealer,
                    &self.issuer(tenant),
                    self.config.clock.now_ms(),
                    ttl,
                )))
            })
            .await
    }

    /// Adds a new signing key of each algorithm (EdDSA first, then ES256);
    /// the previous ones keep verifying (and stay in the JWKS) until every
    /// token they signed has expired. The event names the new EdDSA key,
    /// which signs service tokens.
    ///
    /// # Errors
    /// `NotFound` for an unknown instance.
    pub async fn rotate_signing_key(&self, actor: &Actor, platform_id: &PlatformId, kind: EnvKind) -> Result<Vec<SigningKey>, DomainError> {
        let env = self.environment(platform_id, kind).await?;
        let now = self.config.clock.now_ms();
        let keys = SigningKey::generate_set(&env.id, now, &self.sealer);
        let kid = |alg: KeyAlg| keys.iter().find(|k| k.alg == alg).map(|k| k.kid.clone()).unwrap_or_default();
        let audit = AuditEvent::new(actor, platform_id, Some(kind.as_str()), "signing_key.rotated", &kid(KeyAlg::EdDsa))
            .with_detail(json!({ "es256_kid": kid(KeyAlg::Es256) }))
            .emit(&env.id, EventType::SigningKeyRotated, None, json!({ "kid": kid(KeyAlg::EdDsa) }));
        self.store.rotate_signing_keys(&env.id, &keys, now, &audit).await?;
        self.keyrings.remove(&env.id);
        Ok(keys)
    }

    /// # Errors
    /// `NotFound` for an unknown instance.
    pub async fn signing_keys(&self, platform_id: &PlatformId, kind: EnvKind) -> Result<Vec<SigningKey>, DomainError> {
        let env = self.environment(platform_id, kind).await?;
        Ok(self.store.signing_keys(&env.id).await?)
    }
}
