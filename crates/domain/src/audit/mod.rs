//! Audit events: who changed what, when, where. Append-only.

pub mod service;
pub mod store;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::clock::{Millis, now_ms};
use crate::events::{EventActor, EventDraft, EventType};
use crate::ids::{
    AccountId, AppId, AuditEventId, EnvId, EventId, KeyId, OperatorId, PartnerId, PlatformId, PortalUserId, ScimTokenId, ServiceUserId,
};

/// Who made a change. Its `Display` is the one spelling of callers in audit
/// events, rate-limit keys, idempotency scopes and logs: ids only, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    /// The operator CLI.
    Operator,
    /// An operator signed in to the console.
    ConsoleOperator(OperatorId),
    /// A partner's person signed in to the partner portal.
    PortalUser(PortalUserId),
    ServiceUser(ServiceUserId),
    /// A partner API key, by key id.
    ApiKey(KeyId),
    VendorApp(AppId),
    /// A person on the account pages.
    Account(AccountId),
    /// A SCIM client (an identity provider), by its token's id.
    ScimToken(ScimTokenId),
    /// Someone signing themselves up on the pages.
    SelfSignup,
    /// The server itself (`demo`, `usage-monitor`).
    System(&'static str),
    /// An unauthenticated client, by address when known.
    Client(Option<IpAddr>),
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorKind::Operator => f.write_str("operator"),
            ActorKind::ConsoleOperator(id) => write!(f, "operator:{id}"),
            ActorKind::PortalUser(id) => write!(f, "portal_user:{id}"),
            ActorKind::ServiceUser(id) => write!(f, "service_user:{id}"),
            ActorKind::ApiKey(key_id) => write!(f, "api_key:{key_id}"),
            ActorKind::VendorApp(id) => write!(f, "vendor_app:{id}"),
            ActorKind::Account(id) => write!(f, "account:{id}"),
            ActorKind::ScimToken(id) => write!(f, "scim_token:{id}"),
            ActorKind::SelfSignup => f.write_str("self-signup"),
            ActorKind::System(what) => write!(f, "system:{what}"),
            ActorKind::Client(Some(ip)) => write!(f, "ip:{ip}"),
            ActorKind::Client(None) => f.write_str("ip:unknown"),
        }
    }
}

/// Who made a change, and through which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(kind: ActorKind, request_id: Option<String>) -> Self {
        Self { kind, request_id }
    }

    pub fn operator() -> Self {
        Self::new(ActorKind::Operator, None)
    }

    /// An operator acting in the console.
    pub fn console_operator(id: &OperatorId) -> Self {
        Self::new(ActorKind::ConsoleOperator(id.clone()), None)
    }

    /// A partner's person acting in the partner portal.
    pub fn portal_user(id: &PortalUserId) -> Self {
        Self::new(ActorKind::PortalUser(id.clone()), None)
    }

    pub fn service_user(id: &ServiceUserId, request_id: Option<String>) -> Self {
        Self::new(ActorKind::ServiceUser(id.clone()), request_id)
    }

    /// A person acting on their own account through the pages.
    pub fn account(id: &AccountId) -> Self {
        Self::new(ActorKind::Account(id.clone()), None)
    }

    pub fn system(what: &'static str) -> Self {
        Self::new(ActorKind::System(what), None)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub platform_id: PlatformId,
    /// `None` for instance-wide changes.
    pub environment: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub request_id: Option<String>,
    /// Non-secret details of the change.
    pub detail: serde_json::Value,
    pub created_at: Millis,
    /// The lifecycle events the change emits, committed with it.
    #[serde(skip)]
    pub events: Vec<EventDraft>,
}

impl AuditEvent {
    pub fn new(actor: &Actor, platform_id: &PlatformId, environment: Option<&str>, action: &str, target: &str) -> Self {
        Self {
            id: AuditEventId::generate(),
            platform_id: platform_id.clone(),
            environment: environment.map(str::to_owned),
            actor: actor.kind.to_string(),
            action: action.to_owned(),
            target: target.to_owned(),
            request_id: actor.request_id.clone(),
            detail: serde_json::Value::Null,
            created_at: now_ms(),
            events: Vec::new(),
        }
    }

    /// An event about something in one tenant's environment.
    pub fn in_tenant(actor: &Actor, tenant: &crate::tenancy::Tenant, action: &str, target: &str) -> Self {
        Self::new(actor, &tenant.instance.platform_id, Some(tenant.env.kind.as_str()), action, target)
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// This event and its lifecycle events completed with the account a
    /// change turned out to be about (a sign-in link names its account only
    /// to the store that redeems it): the target, `account_id` and
    /// `partner_id` in the data, the partner who sees it, and the person as
    /// the actor when no credential acted.
    #[must_use]
    pub fn about_account(&self, account: &AccountId, partner: Option<&PartnerId>) -> Self {
        let mut out = self.clone();
        out.target = account.to_string();
        for event in &mut out.events {
            if let serde_json::Value::Object(data) = &mut event.data {
                data.insert("account_id".into(), serde_json::json!(account));
                data.insert("partner_id".into(), serde_json::json!(partner));
            }
            event.partner_id = partner.cloned();
            event.actor = EventActor::from_audit(&out.actor, Some(account.as_str()));
        }
        out
    }

    /// This audit event with its `api_key.revoked` event repeated for each
    /// of `successors`, the keys a revoked key had minted and that go with
    /// it (the store learns them as it revokes).
    #[must_use]
    pub fn with_revoked_successors(&self, successors: &[KeyId]) -> Self {
        let mut out = self.clone();
        let revoked: Vec<EventDraft> = self
            .events
            .iter()
            .filter(|e| e.event_type == EventType::ApiKeyRevoked)
            .cloned()
            .collect();
        for key in successors {
            for event in &revoked {
                let mut copy = event.clone();
                copy.id = EventId::generate();
                copy.data["key_id"] = serde_json::json!(key);
                out.events.push(copy);
            }
        }
        out
    }

    /// Attaches the lifecycle event of this change: it commits (or rolls
    /// back) with the change and its audit event. `partner` is the partner
    /// whose objects the event is about, who sees it in its own feed.
    #[must_use]
    pub fn emit(mut self, env_id: &EnvId, event_type: EventType, partner: Option<&PartnerId>, data: serde_json::Value) -> Self {
        let account = data.get("account_id").and_then(serde_json::Value::as_str);
        self.events.push(EventDraft {
            id: EventId::generate(),
            env_id: env_id.clone(),
            event_type,
            partner_id: partner.cloned(),
            actor: EventActor::from_audit(&self.actor, account),
            data,
        });
        self
    }
}

/// Filters for listing audit events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// An instance; `Some("")` for deployment-wide events (operators).
    pub platform_id: Option<String>,
    pub environment: Option<String>,
    /// The actor as audit events spell it (`operator:…`, `api_key:…`), or
    /// its kind alone (`operator`, `api_key`).
    pub actor: Option<String>,
    /// An action (`account.created`), or a prefix ending in `.` (`account.`).
    pub action: Option<String>,
    pub target: Option<String>,
    /// Created at or after (ms).
    pub from: Option<Millis>,
    /// Created before (ms).
    pub to: Option<Millis>,
    /// Older than this event (the previous page's last id).
    pub before: Option<AuditEventId>,
    pub limit: u32,
}
