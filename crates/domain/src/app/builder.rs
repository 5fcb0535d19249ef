//! [`CoreBuilder`]: the one place a [`Core`] is put together, each service
//! handed the shared infrastructure it needs.

use std::sync::Arc;

use super::{Core, CoreConfig};
use crate::accounts::service::Accounts;
use crate::audit::service::Audit;
use crate::error::DomainError;
use crate::events::service::Events;
use crate::groups::service::Groups;
use crate::idempotency::service::Idempotency;
use crate::infra::hashing::{PasswordHasher, PoolSize};
use crate::infra::master_key::MasterKey;
use crate::infra::throttle::{LoginThrottle, SharedThrottle};
use crate::integration::service::Integration;
use crate::oauth::revoked::RevokedTokens;
use crate::oauth::service::OAuth;
use crate::operators::service::Operators;
use crate::partners::provisioning::Provisioning;
use crate::partners::service::Partners;
use crate::portal::service::Portal;
use crate::retention::service::Retention;
use crate::scim::tokens::ScimTokens;
use crate::scim::users::ScimUsers;
use crate::service_users::service::ServiceUsers;
use crate::store::Store;
use crate::tenancy::service::Tenancy;
use crate::tenancy::signing::sealed::SeedSealer;
use crate::usage::service::{AlertNotifier, Usage};
use crate::webhooks::delivery::WebhookSender;
use crate::webhooks::delivery::run::Delivery;
use crate::webhooks::service::Webhooks;

/// Builds a [`Core`] once, complete: nothing is assigned after `build`.
pub struct CoreBuilder {
    pub(super) store: Arc<dyn Store>,
    pub(super) config: CoreConfig,
    pub(super) master_key: Arc<MasterKey>,
    pub(super) notifier: Option<Arc<dyn AlertNotifier>>,
    pub(super) shared_throttle: Option<Arc<dyn SharedThrottle>>,
    pub(super) sender: Option<Arc<dyn WebhookSender>>,
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
        let revoked = Arc::new(RevokedTokens::new(Arc::clone(&store), config.settings_ttl, Arc::clone(&clock)));
        let service_users = Arc::new(ServiceUsers::new(
            Arc::clone(&store),
            Arc::clone(&config),
            Arc::clone(&hasher),
            Arc::clone(&throttle),
            Arc::clone(&tenancy),
            Arc::clone(&revoked),
        ));
        Ok(Core {
            oauth: OAuth::new(
                Arc::clone(&store),
                Arc::clone(&config),
                Arc::clone(&tenancy),
                Arc::clone(&service_users),
                revoked,
            ),
            service_users,
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
