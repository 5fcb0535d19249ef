//! Audit events: who changed what, when, where. Append-only.

pub mod service;
pub mod store;

use serde::Serialize;

use crate::clock::{Millis, now_ms};

/// Who made a change, and through which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `service_user:<id>`, `api_key:<key_id>`, `vendor_app:<app_id>` (as the
    /// HTTP layer's `Credential` spells them), `account:<id>` (the pages),
    /// `operator` (the CLI) or `system:<what>`.
    pub id: String,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn operator() -> Self {
        Self {
            id: "operator".into(),
            request_id: None,
        }
    }

    pub fn service_user(id: &str, request_id: Option<String>) -> Self {
        Self {
            id: format!("service_user:{id}"),
            request_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: String,
    pub platform_id: String,
    /// `None` for instance-wide changes.
    pub environment: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub request_id: Option<String>,
    /// Non-secret details of the change.
    pub detail: serde_json::Value,
    pub created_at: Millis,
}

impl AuditEvent {
    pub fn new(actor: &Actor, platform_id: &str, environment: Option<&str>, action: &str, target: &str) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            platform_id: platform_id.to_owned(),
            environment: environment.map(str::to_owned),
            actor: actor.id.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            request_id: actor.request_id.clone(),
            detail: serde_json::Value::Null,
            created_at: now_ms(),
        }
    }

    /// An event about something in one tenant's environment.
    pub fn in_tenant(actor: &Actor, tenant: &crate::tenancy::Tenant, action: &str, target: &str) -> Self {
        Self::new(
            actor,
            tenant.instance.platform_id.as_str(),
            Some(tenant.env.kind.as_str()),
            action,
            target,
        )
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Filters for listing audit events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub platform_id: Option<String>,
    pub environment: Option<String>,
    pub limit: u32,
}
