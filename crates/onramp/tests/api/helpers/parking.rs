//! A store decorator that parks a chosen call until the test lets it go, so a
//! race test forces the interleaving it is about instead of hoping that a
//! sleep lands it. It wraps the server's real store: every role-trait method
//! is delegated unchanged, and only an armed method waits, once.
//!
//! ```ignore
//! let parking = Parking::default();
//! settings.wrap_store = Some(parking.wrapper());
//! // ... start the server ...
//! let spot = parking.arm("open_session_checked");
//! let (login, patch) = spot.run_while_parked(login_request, patch_request).await;
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use onramp::startup::StoreWrapper;
use onramp_domain::accounts::{Account, AccountQuery, AccountUpdate, Session};
use onramp_domain::audit::{AuditEvent, AuditFilter};
use onramp_domain::clock::Millis;
use onramp_domain::events::{Event, EventFilter};
use onramp_domain::groups::store::{GroupChange, GroupQuery, Written};
use onramp_domain::groups::{Group, GroupSummary, Member};
use onramp_domain::idempotency::IdempotencyRecord;
use onramp_domain::ids::{
    AccountId, AlertId, AppId, AppKeyId, ClientSecretId, EndpointId, EnvId, EventId, GroupId, KeyId, OperatorId, PartnerId, PortalUserId,
    ScimTokenId, ServiceUserId,
};
use onramp_domain::integration::{AuthCode, Grant, VendorApp};
use onramp_domain::oauth::ClientSecret;
use onramp_domain::operators::{Operator, OperatorSession};
use onramp_domain::partners::{ApiKey, Partner, PartnerStatus, Scope};
use onramp_domain::portal::{Application, Invitation, PortalSession, PortalUser};
use onramp_domain::retention::{PurgeBefore, Purged};
use onramp_domain::scim::store::ScimExtra;
use onramp_domain::scim::tokens::ScimToken;
use onramp_domain::scim::users::UserQuery;
use onramp_domain::service_users::ServiceUser;
use onramp_domain::signin_links::{LinkState, LoginToken, Redeemed};
use onramp_domain::store::{
    AccountStore, AuditStore, ClientLookup, DeliveryStore, EventStore, GroupStore, IdempotencyStore, IntegrationStore, OAuthStore,
    OperatorStore, PartnerStore, PortalFactorStore, PortalStore, RetentionStore, ScimStore, ServiceUserStore, SessionStore,
    SigninLinkStore, Store, StoreError, TenancyStore, UsageStore, WebhookStore,
};
use onramp_domain::tenancy::signing::SigningKey;
use onramp_domain::tenancy::{EnvKind, Environment, Instance, PlatformId};
use onramp_domain::usage::buckets::{Granularity, UsageBucket, UsageDimension, UsageFilter, UsageTotals};
use onramp_domain::usage::thresholds::{AlertSettings, AlertSettingsChange};
use onramp_domain::usage::{Alert, Delivery, KeyActivity, UsageRow};
use onramp_domain::webhooks::delivery::{Attempt, AttemptCursor, CursorClaim, CursorMove, Message, Recorded};
use onramp_domain::webhooks::secret::SealedSecret;
use onramp_domain::webhooks::{Endpoint, Owner};
use tokio::sync::Barrier;

use super::EVENTUALLY;

/// The armed parking spots, shared by the test and every store it wraps.
#[derive(Clone, Default)]
pub struct Parking {
    armed: Arc<Mutex<HashMap<&'static str, Arc<Spot>>>>,
}

impl Parking {
    /// What `ServerSettings::wrap_store` takes to put the server's store
    /// behind these spots.
    pub fn wrapper(&self) -> StoreWrapper {
        let parking = self.clone();
        Arc::new(move |inner| {
            Arc::new(ParkingStore {
                inner,
                parking: parking.clone(),
            }) as Arc<dyn Store>
        })
    }

    /// Makes the next call of the store method `method` (its name in the
    /// role trait) wait, before it reaches the database, until the test
    /// releases it. Calls after that one pass straight through.
    #[track_caller]
    pub fn arm(&self, method: &'static str) -> Arc<Spot> {
        assert!(METHODS.contains(&method), "the store has no method {method}");
        let spot = Arc::new(Spot {
            method,
            arrived: Barrier::new(2),
            leave: Barrier::new(2),
        });
        let previous = self.lock().insert(method, Arc::clone(&spot));
        assert!(previous.is_none(), "{method} is armed twice");
        spot
    }

    async fn park(&self, method: &'static str) {
        // Taken out under the lock, so exactly one call parks.
        let spot = self.lock().remove(method);
        if let Some(spot) = spot {
            spot.arrived.wait().await;
            spot.leave.wait().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Arc<Spot>>> {
        self.armed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One armed store method: the call that reaches it waits there for the test.
pub struct Spot {
    method: &'static str,
    /// Met by the parked call and [`Spot::reached`].
    arrived: Barrier,
    /// Met by the parked call and [`Spot::release`].
    leave: Barrier,
}

impl Spot {
    /// Waits until a call has reached this spot and is parked there.
    pub async fn reached(&self) {
        tokio::time::timeout(EVENTUALLY, self.arrived.wait())
            .await
            .unwrap_or_else(|_| panic!("no call of {} was parked", self.method));
    }

    /// Lets the parked call go on to the database.
    pub async fn release(&self) {
        tokio::time::timeout(EVENTUALLY, self.leave.wait())
            .await
            .unwrap_or_else(|_| panic!("the call of {} was never parked", self.method));
    }

    /// Starts `parked`, waits until it is parked here, runs `meanwhile` to
    /// completion, then releases `parked` and waits for it: whatever
    /// `meanwhile` does happens between `parked`'s earlier store calls and
    /// this one.
    pub async fn run_while_parked<P, M>(&self, parked: P, meanwhile: M) -> (P::Output, M::Output)
    where
        P: Future + Send + 'static,
        P::Output: Send + 'static,
        M: Future,
    {
        let parked = tokio::spawn(parked);
        self.reached().await;
        let meanwhile = meanwhile.await;
        self.release().await;
        (parked.await.expect("the parked request"), meanwhile)
    }
}

/// The real store behind the parking spots.
struct ParkingStore {
    inner: Arc<dyn Store>,
    parking: Parking,
}

/// Implements each role trait for [`ParkingStore`] from the list of its
/// methods: park if armed, then call the wrapped store. Also lists every
/// method's name in `METHODS`, so a misspelt spot fails at once.
macro_rules! delegate {
    ($($role:ident { $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* })*) => {
        const METHODS: &[&str] = &[$($(stringify!($name)),*),*];
        $(
            #[async_trait]
            impl $role for ParkingStore {
                $(
                    async fn $name(&self $(, $arg: $ty)*) -> $ret {
                        self.parking.park(stringify!($name)).await;
                        $role::$name(&*self.inner $(, $arg)*).await
                    }
                )*
            }
        )*
    };
}

delegate! {
    TenancyStore {
        fn ping(&self) -> Result<(), StoreError>;
        fn create_instance(&self, instance: &Instance, envs: &[Environment], keys: &[SigningKey], audit: &AuditEvent) -> Result<(), StoreError>;
        fn update_instance(&self, instance: &Instance, audit: &AuditEvent) -> Result<(), StoreError>;
        fn instance(&self, id: &PlatformId) -> Result<Option<Instance>, StoreError>;
        fn instances(&self) -> Result<Vec<Instance>, StoreError>;
        fn instances_page(&self, search: &str, after: &str, limit: u32) -> Result<Vec<Instance>, StoreError>;
        fn environment(&self, id: &PlatformId, kind: EnvKind) -> Result<Option<Environment>, StoreError>;
        fn environment_by_hostname(&self, host: &str) -> Result<Option<(PlatformId, EnvKind)>, StoreError>;
        fn update_environment(&self, env: &Environment, audit: &AuditEvent) -> Result<(), StoreError>;
        fn signing_keys(&self, env_id: &EnvId) -> Result<Vec<SigningKey>, StoreError>;
        fn rotate_signing_keys(&self, env_id: &EnvId, new: &[SigningKey], now: i64, audit: &AuditEvent) -> Result<(), StoreError>;
    }
    ServiceUserStore {
        fn create_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
        fn service_user_by_name(&self, env_id: &EnvId, username: &str) -> Result<Option<ServiceUser>, StoreError>;
        fn service_user(&self, env_id: &EnvId, id: &ServiceUserId) -> Result<Option<ServiceUser>, StoreError>;
        fn service_users(&self, env_id: &EnvId) -> Result<Vec<ServiceUser>, StoreError>;
        fn update_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
    }
    AccountStore {
        fn create_account(&self, account: &Account, session: Option<&Session>, link: Option<&LoginToken>, audit: &AuditEvent) -> Result<(), StoreError>;
        fn create_accounts_batch(&self, entries: &[(Account, LoginToken, AuditEvent)]) -> Result<Vec<bool>, StoreError>;
        fn account(&self, env_id: &EnvId, id: &AccountId) -> Result<Option<Account>, StoreError>;
        fn account_by_email(&self, env_id: &EnvId, email_normalized: &str) -> Result<Option<Account>, StoreError>;
        fn accounts(&self, env_id: &EnvId, query: &AccountQuery) -> Result<Vec<Account>, StoreError>;
        fn update_account(&self, env_id: &EnvId, id: &AccountId, update: &AccountUpdate, audit: &AuditEvent) -> Result<Account, StoreError>;
        fn delete_account(&self, env_id: &EnvId, id: &AccountId, audit: &AuditEvent) -> Result<(), StoreError>;
    }
    SessionStore {
        fn create_session(&self, session: &Session) -> Result<(), StoreError>;
        fn open_session_checked(&self, session: &Session, verified_hash: &str, rehash: Option<&str>) -> Result<bool, StoreError>;
        fn session(&self, env_id: &EnvId, token_hash: &str) -> Result<Option<Session>, StoreError>;
        fn delete_session(&self, env_id: &EnvId, token_hash: &str) -> Result<bool, StoreError>;
        fn live_sessions(&self, env_id: &EnvId, account_id: &AccountId, now: Millis) -> Result<(u64, Option<Millis>), StoreError>;
        fn end_account_sessions(&self, env_id: &EnvId, account_id: &AccountId, audit: &AuditEvent) -> Result<u64, StoreError>;
        fn put_flash(&self, env_id: &EnvId, token_hash: &str, sealed: &[u8], expires_at: Millis) -> Result<(), StoreError>;
        fn take_flash(&self, env_id: &EnvId, token_hash: &str, now: Millis) -> Result<Option<Vec<u8>>, StoreError>;
    }
    SigninLinkStore {
        fn create_login_token(&self, token: &LoginToken) -> Result<(), StoreError>;
        fn redeem_login_token(&self, env_id: &EnvId, token_hash: &str, now: Millis, session: &Session, audit: &AuditEvent) -> Result<Redeemed, StoreError>;
        fn latest_login_links(&self, env_id: &EnvId, account_ids: &[AccountId]) -> Result<Vec<LinkState>, StoreError>;
    }
    PartnerStore {
        fn create_partner(&self, partner: &Partner, audit: &AuditEvent) -> Result<(), StoreError>;
        fn partner(&self, id: &PartnerId) -> Result<Option<Partner>, StoreError>;
        fn partners(&self, env_id: Option<&EnvId>) -> Result<Vec<Partner>, StoreError>;
        fn set_partner_status(&self, id: &PartnerId, status: PartnerStatus, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
        fn partners_page(&self, status: Option<PartnerStatus>, name: &str, after: &str, limit: u32) -> Result<Vec<Partner>, StoreError>;
        fn partner_counts(&self) -> Result<Vec<(PartnerStatus, u64)>, StoreError>;
        fn set_partner_scopes(&self, id: &PartnerId, scopes: &[Scope], now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
        fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
        fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Partner)>, StoreError>;
        fn api_key(&self, key_id: &KeyId) -> Result<Option<ApiKey>, StoreError>;
        fn api_keys(&self, partner_id: &PartnerId) -> Result<Vec<ApiKey>, StoreError>;
        fn revoke_api_key(&self, key_id: &KeyId, now: Millis, audit: &AuditEvent) -> Result<Vec<KeyId>, StoreError>;
        fn rotate_api_key(&self, old_key_id: &KeyId, old_expires_at: Millis, new: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
        fn touch_api_key(&self, key_id: &KeyId, now: Millis) -> Result<(), StoreError>;
    }
    IntegrationStore {
        fn create_vendor_app(&self, app: &VendorApp, audit: &AuditEvent) -> Result<(), StoreError>;
        fn vendor_app(&self, env_id: &EnvId, id: &AppId) -> Result<Option<VendorApp>, StoreError>;
        fn vendor_apps(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<VendorApp>, StoreError>;
        fn env_vendor_apps(&self, env_id: &EnvId) -> Result<Vec<VendorApp>, StoreError>;
        fn set_vendor_app_suspended(&self, env_id: &EnvId, id: &AppId, at: Option<Millis>, audit: &AuditEvent) -> Result<(), StoreError>;
        fn vendor_app_by_key_hash(&self, env_id: &EnvId, key_hash: &str) -> Result<Option<VendorApp>, StoreError>;
        fn set_vendor_key(&self, env_id: &EnvId, app_id: &AppId, key_id: &AppKeyId, key_hash: &str, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
        fn update_vendor_app(&self, app: &VendorApp, audit: &AuditEvent) -> Result<(), StoreError>;
        fn delete_vendor_app(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent) -> Result<(), StoreError>;
        fn create_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError>;
        fn grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId) -> Result<Option<Grant>, StoreError>;
        fn grants(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<Grant>, StoreError>;
        fn delete_grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent) -> Result<(), StoreError>;
        fn create_auth_code(&self, code: &AuthCode) -> Result<(), StoreError>;
        fn redeem_auth_code(&self, env_id: &EnvId, code_hash: &str, now: Millis) -> Result<Option<AuthCode>, StoreError>;
        fn redeem_oidc_code(&self, env_id: &EnvId, code_hash: &str, now: Millis, jti: &str, access_exp: Millis) -> Result<Option<AuthCode>, StoreError>;
        fn code_access_token(&self, env_id: &EnvId, code_hash: &str) -> Result<Option<(String, Millis)>, StoreError>;
    }
    UsageStore {
        fn add_usage(&self, rows: &[UsageRow]) -> Result<(), StoreError>;
        fn usage(&self, env_id: &EnvId, partner_id: &PartnerId, from: Millis, to: Millis) -> Result<Vec<UsageRow>, StoreError>;
        fn usage_buckets(&self, filter: &UsageFilter, from: Millis, to: Millis, granularity: Granularity) -> Result<Vec<UsageBucket>, StoreError>;
        fn usage_totals(&self, filter: &UsageFilter, from: Millis, to: Millis, by: UsageDimension) -> Result<Vec<UsageTotals>, StoreError>;
        fn key_activity(&self, trailing_start: Millis, window_start: Millis) -> Result<Vec<KeyActivity>, StoreError>;
        fn create_alert(&self, alert: &Alert, audit: &AuditEvent) -> Result<(), StoreError>;
        fn set_alert_delivery(&self, id: &AlertId, delivery: Delivery, attempts: i64, delivered_at: Option<Millis>) -> Result<(), StoreError>;
        fn alerts(&self, limit: u32) -> Result<Vec<Alert>, StoreError>;
        fn partner_alerts(&self, env_id: &EnvId, partner_id: &PartnerId, limit: u32) -> Result<Vec<Alert>, StoreError>;
        fn alert_settings(&self, env_id: &EnvId, partner_id: &PartnerId) -> Result<AlertSettings, StoreError>;
        fn change_alert_settings(&self, env_id: &EnvId, partner_id: &PartnerId, change: &AlertSettingsChange, now: Millis, audit: &AuditEvent) -> Result<AlertSettings, StoreError>;
        fn active_alert_settings(&self, since: Millis) -> Result<Vec<(EnvId, PartnerId, AlertSettings)>, StoreError>;
    }
    IdempotencyStore {
        fn claim_idempotency_key(&self, record: &IdempotencyRecord, expired_before: Millis, abandoned_before: Millis) -> Result<bool, StoreError>;
        fn idempotency_key(&self, env_id: &EnvId, key_hash: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
        fn complete_idempotency_key(&self, env_id: &EnvId, key_hash: &str, claimed_at: Millis, status: i64, body: &[u8]) -> Result<(), StoreError>;
        fn release_idempotency_key(&self, env_id: &EnvId, key_hash: &str, claimed_at: Millis) -> Result<(), StoreError>;
    }
    RetentionStore {
        fn purge(&self, before: &PurgeBefore) -> Result<Purged, StoreError>;
    }
    AuditStore {
        fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
        fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    }
    EventStore {
        fn events(&self, env_id: &EnvId, filter: &EventFilter) -> Result<Vec<Event>, StoreError>;
    }
    DeliveryStore {
        fn enabled_endpoints(&self) -> Result<Vec<Endpoint>, StoreError>;
        fn events_by_sequence(&self, env_id: &EnvId, sequences: &[i64]) -> Result<Vec<Event>, StoreError>;
        fn claim_cursors(&self, claims: &[CursorClaim], now: Millis, lease_until: Millis) -> Result<Vec<EndpointId>, StoreError>;
        fn lease_due_messages(&self, now: Millis, lease_until: Millis, skip: &[EndpointId], limit: u32) -> Result<Vec<Message>, StoreError>;
        fn release_leases(&self, messages: &[Message]) -> Result<(), StoreError>;
        fn event_by_id(&self, env_id: &EnvId, event_id: &EventId) -> Result<Option<Event>, StoreError>;
        fn requeue_event(&self, endpoint_id: &EndpointId, event: &Event, now: Millis) -> Result<(), StoreError>;
        fn requeue_since(&self, endpoint_id: &EndpointId, env_id: &EnvId, since: Millis, now: Millis) -> Result<u64, StoreError>;
        fn attempts(&self, endpoint_id: &EndpointId, cursor: Option<&AttemptCursor>, limit: u32) -> Result<Vec<Attempt>, StoreError>;
        fn record_attempts(&self, recorded: &[Recorded], cursor: Option<&CursorMove>) -> Result<(), StoreError>;
    }
    ScimStore {
        fn create_scim_token(&self, token: &ScimToken, token_hash: &str, audit: &AuditEvent) -> Result<(), StoreError>;
        fn scim_tokens(&self, env_id: &EnvId) -> Result<Vec<ScimToken>, StoreError>;
        fn scim_token(&self, id: &ScimTokenId) -> Result<Option<ScimToken>, StoreError>;
        fn scim_token_by_hash(&self, token_hash: &str) -> Result<Option<ScimToken>, StoreError>;
        fn scim_users(&self, env_id: &EnvId, query: &UserQuery, offset: u64, limit: u32) -> Result<(Vec<(Account, ScimExtra)>, u64), StoreError>;
        fn create_scim_user(&self, account: &Account, extra: &ScimExtra, audit: &AuditEvent) -> Result<(), StoreError>;
        fn scim_extras(&self, env_id: &EnvId, ids: &[AccountId]) -> Result<Vec<(AccountId, ScimExtra)>, StoreError>;
        fn revoke_scim_token(&self, id: &ScimTokenId, at: Millis, audit: &AuditEvent) -> Result<bool, StoreError>;
    }
    GroupStore {
        fn create_group(&self, group: &Group, members: &[AccountId], audit: &AuditEvent) -> Result<(), StoreError>;
        fn group(&self, env_id: &EnvId, id: &GroupId) -> Result<Option<Group>, StoreError>;
        fn groups(&self, env_id: &EnvId, query: &GroupQuery, offset: u64, limit: u32) -> Result<(Vec<Group>, u64), StoreError>;
        fn group_summaries(&self, env_id: &EnvId, after: Option<&GroupId>, limit: u32) -> Result<Vec<GroupSummary>, StoreError>;
        fn member_count(&self, env_id: &EnvId, id: &GroupId) -> Result<u64, StoreError>;
        fn members_of(&self, env_id: &EnvId, ids: &[GroupId]) -> Result<Vec<(GroupId, Member)>, StoreError>;
        fn member_page(&self, env_id: &EnvId, id: &GroupId, after: Option<&AccountId>, limit: u32) -> Result<Vec<Member>, StoreError>;
        fn known_accounts(&self, env_id: &EnvId, ids: &[AccountId]) -> Result<Vec<AccountId>, StoreError>;
        fn update_group(&self, env_id: &EnvId, id: &GroupId, change: &GroupChange, audit: &AuditEvent) -> Result<Written<Group>, StoreError>;
        fn delete_group(&self, env_id: &EnvId, id: &GroupId, expected_version: Option<i64>, audit: &AuditEvent) -> Result<Written<()>, StoreError>;
        fn account_groups(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<(GroupId, String)>, StoreError>;
    }
    OAuthStore {
        fn create_client_secret(&self, secret: &ClientSecret, secret_hash: &str, audit: &AuditEvent) -> Result<(), StoreError>;
        fn client_secrets(&self, env_id: &EnvId, user: &ServiceUserId) -> Result<Vec<ClientSecret>, StoreError>;
        fn client_secret(&self, id: &ClientSecretId) -> Result<Option<ClientSecret>, StoreError>;
        fn revoke_client_secret(&self, id: &ClientSecretId, at: Millis, audit: &AuditEvent) -> Result<bool, StoreError>;
        fn client_by_secret_hash(&self, secret_hash: &str, also_revoked: Option<(&EnvId, &str)>) -> Result<Option<ClientLookup>, StoreError>;
        fn revoke_token(&self, env_id: &EnvId, jti: &str, expires_at: Millis, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
        fn revoked_jtis(&self, env_id: &EnvId, now: Millis) -> Result<Vec<String>, StoreError>;
    }
    OperatorStore {
        fn create_operator(&self, operator: &Operator, audit: &AuditEvent) -> Result<(), StoreError>;
        fn operator(&self, id: &OperatorId) -> Result<Option<Operator>, StoreError>;
        fn operator_by_email(&self, email: &str) -> Result<Option<Operator>, StoreError>;
        fn operators(&self) -> Result<Vec<Operator>, StoreError>;
        fn update_operator(&self, operator: &Operator, end_sessions: bool, audit: &AuditEvent) -> Result<(), StoreError>;
        fn enrol_totp(&self, id: &OperatorId, sealed_secret: &[u8], step: i64, recovery_hashes: &[String], audit: &AuditEvent) -> Result<(), StoreError>;
        fn accept_totp_step(&self, id: &OperatorId, step: i64) -> Result<bool, StoreError>;
        fn use_recovery_code(&self, id: &OperatorId, code_hash: &str) -> Result<bool, StoreError>;
        fn recovery_codes_left(&self, id: &OperatorId) -> Result<u32, StoreError>;
        fn create_operator_session(&self, session: &OperatorSession) -> Result<(), StoreError>;
        fn operator_session(&self, token_hash: &str) -> Result<Option<OperatorSession>, StoreError>;
        fn update_operator_session(&self, session: &OperatorSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
        fn delete_operator_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
        fn purge_operator_sessions(&self, idle_before: Millis) -> Result<u64, StoreError>;
    }
    PortalStore {
        fn create_application(&self, partner: &Partner, application: &Application, user: &PortalUser, audits: &[AuditEvent]) -> Result<(), StoreError>;
        fn partner_application(&self, partner_id: &PartnerId) -> Result<Option<Application>, StoreError>;
        fn portal_user(&self, id: &PortalUserId) -> Result<Option<PortalUser>, StoreError>;
        fn portal_user_by_email(&self, env_id: &EnvId, email: &str) -> Result<Option<PortalUser>, StoreError>;
        fn portal_users(&self, partner_id: &PartnerId) -> Result<Vec<PortalUser>, StoreError>;
        fn delete_portal_user(&self, id: &PortalUserId, audit: &AuditEvent) -> Result<(), StoreError>;
        fn create_portal_session(&self, session: &PortalSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
        fn portal_session(&self, token_hash: &str) -> Result<Option<PortalSession>, StoreError>;
        fn touch_portal_session(&self, token_hash: &str, last_seen_at: Millis) -> Result<(), StoreError>;
        fn delete_portal_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
        fn create_invitation(&self, invitation: &Invitation, audit: &AuditEvent) -> Result<(), StoreError>;
        fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError>;
        fn accept_invitation(&self, token_hash: &str, now: Millis, user: &PortalUser, audit: &AuditEvent) -> Result<(), StoreError>;
        fn purge_portal(&self, idle_before: Millis, expired_before: Millis) -> Result<u64, StoreError>;
    }
    PortalFactorStore {
        fn update_portal_session(&self, session: &PortalSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
        fn enrol_portal_totp(&self, id: &PortalUserId, sealed_secret: &[u8], step: i64, recovery_hashes: &[String], keep: &str, audit: &AuditEvent) -> Result<(), StoreError>;
        fn disable_portal_totp(&self, id: &PortalUserId, audit: &AuditEvent) -> Result<(), StoreError>;
        fn accept_portal_totp_step(&self, id: &PortalUserId, step: i64) -> Result<bool, StoreError>;
        fn use_portal_recovery_code(&self, id: &PortalUserId, code_hash: &str) -> Result<bool, StoreError>;
        fn portal_recovery_codes_left(&self, id: &PortalUserId) -> Result<u32, StoreError>;
    }
    WebhookStore {
        fn create_endpoint(&self, endpoint: &Endpoint, audit: &AuditEvent) -> Result<i64, StoreError>;
        fn endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId) -> Result<Option<Endpoint>, StoreError>;
        fn endpoint_any_owner(&self, env_id: &EnvId, id: &EndpointId) -> Result<Option<Endpoint>, StoreError>;
        fn endpoints(&self, env_id: &EnvId, owner: Option<&Owner>, after: Option<&EndpointId>, limit: u32) -> Result<Vec<Endpoint>, StoreError>;
        fn update_endpoint(&self, endpoint: &Endpoint, state_changed: bool, audit: &AuditEvent) -> Result<(), StoreError>;
        fn rotate_endpoint_secret(&self, endpoint: &Endpoint, secret: &SealedSecret, previous_expires_at: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
        fn delete_endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId, audit: &AuditEvent) -> Result<(), StoreError>;
        fn endpoint_home(&self, id: &EndpointId) -> Result<Option<(PlatformId, EnvKind, Owner)>, StoreError>;
    }
}
