//! The storage port: everything the domain needs from a database, as one
//! role trait per context (each in its context's `store.rs`). The SQL
//! implementation lives in the `onramp-store` crate, one file per role;
//! every mutating method writes its audit event in the same transaction as
//! the change.

pub use crate::accounts::store::{AccountStore, SessionStore};
pub use crate::audit::store::AuditStore;
pub use crate::events::store::EventStore;
pub use crate::groups::store::GroupStore;
pub use crate::idempotency::store::IdempotencyStore;
pub use crate::integration::store::IntegrationStore;
pub use crate::oauth::store::{ClientLookup, OAuthStore};
pub use crate::operators::store::OperatorStore;
pub use crate::partners::store::PartnerStore;
pub use crate::portal::store::{PortalFactorStore, PortalStore};
pub use crate::retention::store::RetentionStore;
pub use crate::scim::store::ScimStore;
pub use crate::secrets::store::SecretsStore;
pub use crate::service_users::store::ServiceUserStore;
pub use crate::signin_links::store::SigninLinkStore;
pub use crate::tenancy::store::TenancyStore;
pub use crate::usage::store::UsageStore;
pub use crate::webhooks::delivery::store::DeliveryStore;
pub use crate::webhooks::store::WebhookStore;

pub use crate::error::StoreError;

/// The whole storage port: every context's role trait. Services hold an
/// `Arc<dyn Store>` and name the role traits they use in their imports.
pub trait Store:
    TenancyStore
    + ServiceUserStore
    + AccountStore
    + SessionStore
    + SigninLinkStore
    + PartnerStore
    + IntegrationStore
    + UsageStore
    + IdempotencyStore
    + AuditStore
    + EventStore
    + DeliveryStore
    + WebhookStore
    + RetentionStore
    + OperatorStore
    + PortalStore
    + PortalFactorStore
    + ScimStore
    + GroupStore
    + OAuthStore
{
}

impl<T> Store for T where
    T: TenancyStore
        + ServiceUserStore
        + AccountStore
        + SessionStore
        + SigninLinkStore
        + PartnerStore
        + IntegrationStore
        + UsageStore
        + IdempotencyStore
        + AuditStore
        + EventStore
        + DeliveryStore
        + WebhookStore
        + RetentionStore
        + OperatorStore
        + PortalStore
        + PortalFactorStore
        + ScimStore
        + GroupStore
        + OAuthStore
{
}
