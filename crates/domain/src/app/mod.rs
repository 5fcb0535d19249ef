//! The application services: what the HTTP handlers and the operator CLI
//! call. `Core` owns the store, the hasher and the in-memory caches.

pub mod cache;

use std::sync::Arc;
use std::time::Duration;

use crate::error::DomainError;
use crate::infra::hashing::{HashCost, PasswordHasher};
use crate::infra::throttle::{LoginThrottle, ThrottlePolicy};
use crate::store::Store;
use crate::tenancy::signing::KeyRing;
use crate::tenancy::{EnvKind, PlatformId, Tenant};

pub use cache::{ReadCache, TtlCache};

/// Settings the services need; the binary fills them from its configuration.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub base_domain: String,
    pub service_token_ttl: Duration,
    pub session_ttl: Duration,
    pub hash_cost: HashCost,
    pub throttle: ThrottlePolicy,
    /// How long instance settings, signing keys and service-user status are
    /// cached: the longest an operator change takes to reach a running server.
    pub settings_ttl: Duration,
    /// How long an account read may be served from memory. Writes through
    /// this process invalidate at once; writes through other nodes show
    /// within this time. Zero disables the cache.
    pub account_cache_ttl: Duration,
    /// When usage alerts fire and how they are retried.
    pub alerts: crate::usage::service::AlertPolicy,
    /// The environment that bare `localhost` / `127.0.0.1` requests address (demo mode).
    pub local_host_env: Option<(PlatformId, EnvKind)>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            base_domain: "localhost".into(),
            service_token_ttl: Duration::from_secs(15 * 60),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            hash_cost: HashCost::default(),
            throttle: ThrottlePolicy::default(),
            settings_ttl: Duration::from_secs(1),
            account_cache_ttl: Duration::from_secs(1),
            alerts: crate::usage::service::AlertPolicy::default(),
            local_host_env: None,
        }
    }
}

/// The application core shared by every request and CLI command.
pub struct Core {
    pub store: Arc<dyn Store>,
    pub hasher: PasswordHasher,
    pub config: CoreConfig,
    pub(crate) tenants: TtlCache<String, Option<Arc<Tenant>>>,
    pub(crate) keyrings: TtlCache<String, Arc<KeyRing>>,
    /// Accounts by (environment id, account id).
    pub(crate) accounts: ReadCache<(String, String), Arc<crate::accounts::Account>>,
    pub(crate) auth: crate::service_users::auth::AuthCaches,
    pub(crate) throttle: LoginThrottle,
    pub(crate) key_touches: crate::partners::service::KeyTouches,
    pub(crate) usage: crate::usage::service::UsageMeter,
    /// Where alerts are posted, if the operator configured a webhook.
    pub notifier: Option<Arc<dyn crate::usage::service::AlertNotifier>>,
}

impl Core {
    /// Shares failed-login counts between nodes.
    pub fn share_login_throttle(&mut self, shared: Arc<dyn crate::infra::throttle::SharedThrottle>) {
        self.throttle.share(shared);
    }

    /// # Errors
    /// `Internal` if the hashing parameters are invalid.
    pub fn new(store: Arc<dyn Store>, config: CoreConfig) -> Result<Self, DomainError> {
        Ok(Self {
            store,
            hasher: PasswordHasher::new(config.hash_cost)?,
            tenants: TtlCache::new(config.settings_ttl),
            keyrings: TtlCache::new(config.settings_ttl),
            accounts: ReadCache::new(config.account_cache_ttl),
            auth: crate::service_users::auth::AuthCaches::new(config.settings_ttl),
            throttle: LoginThrottle::new(config.throttle),
            key_touches: crate::partners::service::KeyTouches::default(),
            usage: crate::usage::service::UsageMeter::default(),
            notifier: None,
            config,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
