//! The application: `Core` is the set of context services that the HTTP
//! handlers and the operator CLI call, built once by [`CoreBuilder`]. Each
//! service lives in its context's `service.rs` and owns its caches; shared
//! infrastructure (the store, the hasher, the login throttle) is handed to
//! the services that need it.

pub mod cache;

use std::sync::Arc;
use std::time::Duration;

use crate::accounts::service::Accounts;
use crate::audit::service::Audit;
use crate::clock::{Clock, SystemClock};
use crate::error::DomainError;
use crate::events::service::Events;
use crate::groups::service::Groups;
use crate::idempotency::service::Idempotency;
use crate::infra::hashing::{HashCost, PasswordHasher, PoolSize};
use crate::infra::master_key::MasterKey;
use crate::infra::throttle::{LoginThrottle, SharedThrottle, ThrottlePolicy};
use crate::integration::service::Integration;
use crate::operators::service::Operators;
use crate::partners::provisioning::Provisioning;
use crate::partners::service::Partners;
use crate::portal::service::Portal;
use crate::retention::RetentionPolicy;
use crate::retention::service::Retention;
use crate::scim::tokens::ScimTokens;
use crate::scim::users::ScimUsers;
use crate::secrets::Unlocked;
use crate::service_users::service::ServiceUsers;
use crate::store::Store;
use crate::tenancy::service::Tenancy;
use crate::tenancy::signing::sealed::SeedSealer;
use crate::tenancy::{EnvKind, PlatformId};
use crate::usage::service::{AlertNotifier, AlertPolicy, Usage};
use crate::webhooks::delivery::WebhookSender;
use crate::webhooks::delivery::run::Delivery;
use crate::webhooks::service::Webhooks;
use crate::webhooks::target::TargetPolicy;

pub use cache::{ReadCache, TtlCache};

/// Settings the services need; the binary fills them from its configuration.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub base_domain: String,
    pub service_token_ttl: Duration,
    pub session_ttl: Duration,
    pub hash_cost: HashCost,
    /// Threads that hash passwords; `None` is one per core.
    pub hash_workers: Option<usize>,
    /// Per environment, most hashes of single requests (logins, sign-ups,
    /// password changes) queued or running; past that, callers get
    /// `Overloaded`. `None` is 32 per worker.
    pub hash_queue: Option<usize>,
    /// Per environment, most batch-import hashes queued or running; a batch
    /// that does not fit gets `Overloaded`. `None` is 1,000 (one full batch).
    pub hash_batch_queue: Option<usize>,
    /// Most hashes queued or running in all. `None` is 4,096.
    pub hash_queue_total: Option<usize>,
    pub throttle: ThrottlePolicy,
    /// How long instance settings, signing keys and service-user status are
    /// cached: the longest an operator change takes to reach a running server.
    pub settings_ttl: Duration,
    /// How long an account read may be served from memory. Writes through
    /// this process invalidate at once; writes through other nodes show
    /// within this time. Zero disables the cache.
    pub account_cache_ttl: Duration,
    /// When usage alerts fire and how they are retried.
    pub alerts: AlertPolicy,
    /// The environment that bare `localhost` / `127.0.0.1` requests address (demo mode).
    pub local_host_env: Option<(PlatformId, EnvKind)>,
    /// How long usage counts and alerts are kept.
    pub retention: RetentionPolicy,
    /// Which URLs webhooks may be sent to, and how hosts are resolved.
    pub webhook_targets: TargetPolicy,
    /// How long a webhook receiver has to answer.
    pub webhook_timeout: Duration,
    /// How long a console session lasts without a request.
    pub console_idle: Duration,
    /// How long a partner portal session lasts without a request.
    pub portal_idle: Duration,
    /// Where every service reads the time (tests move a manual one).
    pub clock: Arc<dyn Clock>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            base_domain: "localhost".into(),
            service_token_ttl: Duration::from_secs(15 * 60),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            hash_cost: HashCost::default(),
            hash_workers: None,
            hash_queue: None,
            hash_batch_queue: None,
            hash_queue_total: None,
            throttle: ThrottlePolicy::default(),
            settings_ttl: Duration::from_secs(1),
            account_cache_ttl: Duration::from_secs(1),
            alerts: AlertPolicy::default(),
            local_host_env: None,
            retention: RetentionPolicy::default(),
            webhook_targets: TargetPolicy::default(),
            webhook_timeout: crate::webhooks::delivery::DEFAULT_TIMEOUT,
            console_idle: Duration::from_secs(30 * 60),
            portal_idle: Duration::from_secs(30 * 60),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The application core shared by every request and CLI command: one
/// service per context.
pub struct Core {
    config: Arc<CoreConfig>,
    hasher: Arc<PasswordHasher>,
    tenancy: Arc<Tenancy>,
    service_users: ServiceUsers,
    accounts: Arc<Accounts>,
    partners: Arc<Partners>,
    provisioning: Provisioning,
    integration: Integration,
    usage: Usage,
    idempotency: Idempotency,
    audit: Audit,
    events: Events,
    webhooks: Webhooks,
    delivery: Option<Arc<Delivery>>,
    retention: Retention,
    operators: Operators,
    portal: Portal,
    scim_tokens: ScimTokens,
    scim_users: ScimUsers,
    groups: Groups,
    throttle: Arc<LoginThrottle>,
    master_key: Arc<MasterKey>,
}

impl Core {
    /// Starts building a core over `store`, with the master key that
    /// [`crate::secrets::unlock`] checked against it.
    pub fn builder(store: Arc<dyn Store>, config: CoreConfig, unlocked: &Unlocked) -> CoreBuilder {
        CoreBuilder {
            store,
            config,
            master_key: Arc::clone(unlocked.master_key()),
            notifier: None,
            shared_throttle: None,
            sender: None,
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// The password hashing workers and their queue.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Instances, environments, hosts and signing keys.
    pub fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }

    /// Service users, their logins and service tokens.
    pub fn service_users(&self) -> &ServiceUsers {
        &self.service_users
    }

    /// Client accounts and their sessions.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Partners and their API keys.
    pub fn partners(&self) -> &Partners {
        &self.partners
    }

    /// Accounts created and managed by partners, and their sign-in links.
    pub fn provisioning(&self) -> &Provisioning {
        &self.provisioning
    }

    /// Vendor apps, consent and authorization codes.
    pub fn integration(&self) -> &Integration {
        &self.integration
    }

    /// Usage metering and anomaly alerts.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    pub fn idempotency(&self) -> &Idempotency {
        &self.idempotency
    }

    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Webhook endpoints and their signing secrets.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// Webhook delivery, when the core was built with a sender.
    pub fn delivery(&self) -> Option<&Arc<Delivery>> {
        self.delivery.as_ref()
    }

    /// Operators and their console sessions.
    pub fn operators(&self) -> &Operators {
        &self.operators
    }

    /// SCIM bearer tokens.
    pub fn scim_tokens(&self) -> &ScimTokens {
        &self.scim_tokens
    }

    /// SCIM's `/Users` listings.
    pub fn scim_users(&self) -> &ScimUsers {
        &self.scim_users
    }

    /// Groups of accounts (SCIM Groups, the client API's `/v1/groups`).
    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    /// The partner portal: applications, portal users and their sessions.
    pub fn portal(&self) -> &Portal {
        &self.portal
    }

    /// The purge of expired rows and old usage.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// The master key, for keys derived for one purpose (`derive("csrf")`).
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// The failed-login throttle shared by every login path.
    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.throttle
    }
}

/// Builds a [`Core`] once, complete: nothing is assigned after `build`.
pub struct CoreBuilder {
    store: Arc<dyn Store>,
    config: CoreConfig,
    master_key: Arc<MasterKey>,
    notifier: Option<Arc<dyn AlertNotifier>>,
    shared_throttle: Option<Arc<dyn SharedThrottle>>,
    sender: Option<Arc<dyn WebhookSender>>,
}

impl CoreBuilder {
    /// Where usage alerts are posted.
    pub fn notifier(mut self, notifier: Arc<dyn AlertNotifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Sends webhook deliveries; without one, this core delivers nothing
    /// (an operator command's core, say).
    pub fn webhook_sender(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.sender = Some(sender);
        self
    }

    /// Shares failed-login counts between nodes.
    pub fn shared_throttle(mut self, shared: Arc<dyn SharedThrottle>) -> Self {
        self.shared_throttle = Some(shared);
        self
    }

    /// # Errors
    /// `Internal` if the hashing parameters are invalid.
    pub fn build(self) -> Result<Core, DomainError> {
        let Self {
            store,
            config,
            master_key,
            notifier,
            shared_throttle,
            sender,
        } = self;
        let config = Arc::new(config);
        let size = PoolSize {
            workers: config.hash_workers,
            requests: config.hash_queue,
            batch: config.hash_batch_queue,
            total: config.hash_queue_total,
        };
        let hasher = Arc::new(PasswordHasher::sized(config.hash_cost, size)?);
        let mut throttle = LoginThrottle::new(config.throttle, Arc::clone(&config.clock));
        if let Some(shared) = shared_throttle {
            throttle.share(shared);
        }
        let throttle = Arc::new(throttle);
        let tenancy = Arc::new(Tenancy::new(Arc::clone(&store), Arc::clone(&config), SeedSealer::new(&master_key)));
        let accounts = Arc::new(Accounts::new(
            Arc::clone(&store),
            Arc::clone(&config),
            Arc::clone(&hasher),
            Arc::clone(&throttle),
        ));
        let clock = Arc::clone(&config.clock);
        let partners = Arc::new(Partners::new(Arc::clone(&store), Arc::clone(&tenancy), Arc::clone(&clock)));
        Ok(Core {
            service_users: ServiceUsers::new(
                Arc::clone(&store),
                Arc::clone(&config),
                Arc::clone(&hasher),
                Arc::clone(&throttle),
                Arc::clone(&tenancy),
            ),
            provisioning: Provisioning::new(Arc::clone(&store), Arc::clone(&hasher), Arc::clone(&accounts), Arc::clone(&clock)),
            integration: Integration::new(Arc::clone(&store), Arc::clone(&accounts), Arc::clone(&clock)),
            usage: Usage::new(Arc::clone(&store), Arc::clone(&config), notifier, Arc::clone(&partners)),
            idempotency: Idempotency::new(Arc::clone(&store), clock, &master_key),
            retention: Retention::new(Arc::clone(&store), Arc::clone(&config)),
            operators: Operators::new(
                Arc::clone(&store),
                Arc::clone(&hasher),
                Arc::clone(&throttle),
                Arc::clone(&config.clock),
                &master_key,
                config.console_idle,
            ),
            scim_tokens: ScimTokens::new(Arc::clone(&store), Arc::clone(&config.clock)),
            scim_users: ScimUsers::new(Arc::clone(&store), Arc::clone(&hasher), Arc::clone(&config.clock)),
            groups: Groups::new(Arc::clone(&store), Arc::clone(&config.clock), config.account_cache_ttl),
            portal: Portal::new(
                Arc::clone(&store),
                Arc::clone(&hasher),
                Arc::clone(&throttle),
                Arc::clone(&config.clock),
                Arc::clone(&partners),
                &master_key,
                config.portal_idle,
            ),
            events: Events::new(Arc::clone(&store)),
            delivery: sender.map(|sender| {
                Arc::new(Delivery::new(
                    Arc::clone(&store),
                    sender,
                    config.webhook_targets.clone(),
                    &master_key,
                    Arc::clone(&config.clock),
                    config.webhook_timeout,
                ))
            }),
            webhooks: Webhooks::new(
                Arc::clone(&store),
                Arc::clone(&tenancy),
                config.webhook_targets.clone(),
                &master_key,
                Arc::clone(&config.clock),
            ),
            audit: Audit::new(store),
            throttle,
            hasher,
            config,
            master_key,
            tenancy,
            accounts,
            partners,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
