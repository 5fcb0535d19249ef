//! Managing webhook endpoints, the same rules for the operator CLI, service
//! users (the environment's own endpoints) and partners (their own): the
//! URL passes the target policy, event types are known and visible to the
//! owner, a new or rotated secret is shown once and stored sealed.

use std::sync::Arc;

use serde_json::json;

use crate::app::Page;
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::clock::Millis;
use crate::error::{DomainError, Validator};
use crate::ids::{EndpointId, EventId};
use crate::infra::master_key::MasterKey;
use crate::store::{Store, StoreError};
use crate::tenancy::Environment;
use crate::tenancy::service::Tenancy;
use crate::webhooks::delivery::{Attempt, AttemptCursor};
use crate::webhooks::secret::{EndpointSecrets, PreviousSecret, ROTATION_OVERLAP_MS, SecretSealer, WebhookSecret};
use crate::webhooks::target::{TargetPolicy, TargetUrl};
use crate::webhooks::{Endpoint, Owner, parse_description, parse_event_types};

/// What creating an endpoint takes.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    /// Empty: every type the owner may receive.
    pub event_types: Vec<String>,
}

/// What an update changes; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    /// `Some(empty)`: every type the owner may receive.
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint with its new secret, shown once (at creation and rotation).
#[derive(Debug, Clone)]
pub struct EndpointWithSecret {
    pub endpoint: Endpoint,
    pub secret: WebhookSecret,
}

/// Webhook endpoints and their secrets.
pub struct Webhooks {
    store: Arc<dyn Store>,
    tenancy: Arc<Tenancy>,
    policy: TargetPolicy,
    sealer: SecretSealer,
    clock: Arc<dyn Clock>,
}

fn not_found(e: StoreError) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::NotFound("endpoint"),
        other => other.into(),
    }
}

impl Webhooks {
    /// Enabled endpoints, of every environment, whose attempts have all
    /// failed lately (the console's overview).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn failing_endpoints(&self) -> Result<usize, DomainError> {
        Ok(self
            .store
            .enabled_endpoints()
            .await?
            .iter()
            .filter(|e| e.failing_since.is_some())
            .count())
    }

    pub(crate) fn new(
        store: Arc<dyn Store>,
        tenancy: Arc<Tenancy>,
        policy: TargetPolicy,
        master: &MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            tenancy,
            policy,
            sealer: SecretSealer::new(master),
            clock,
        }
    }

    /// The target policy, which delivery runs again before each attempt.
    pub fn target_policy(&self) -> &TargetPolicy {
        &self.policy
    }

    /// Opens endpoint secrets, for signing deliveries.
    pub fn sealer(&self) -> &SecretSealer {
        &self.sealer
    }

    /// An endpoint's delivery attempts, newest first; another owner's
    /// endpoint is not found.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn deliveries(
        &self,
        env: &Environment,
        owner: &Owner,
        id: &EndpointId,
        cursor: Option<&AttemptCursor>,
        limit: u32,
    ) -> Result<Page<Attempt>, DomainError> {
        let endpoint = self.get(env, owner, id).await?;
        let items = self.store.attempts(&endpoint.id, cursor, limit).await?;
        let next_cursor = items
            .last()
            .filter(|_| items.len() == limit as usize)
            .map(|a| AttemptCursor::after(a).encode());
        Ok(Page { items, next_cursor })
    }

    /// Sends one event to one of the owner's endpoints again, now: one its
    /// owner may see, whether it failed, is waiting for a retry, or was
    /// delivered.
    ///
    /// # Errors
    /// `NotFound("endpoint")`, `NotFound("event")`.
    pub async fn resend(&self, env: &Environment, owner: &Owner, id: &EndpointId, event_id: &EventId) -> Result<(), DomainError> {
        let endpoint = self.get(env, owner, id).await?;
        let event = self
            .store
            .event_by_id(&env.id, event_id)
            .await?
            .filter(|e| owner.partner_id().is_none_or(|p| e.partner_id.as_ref() == Some(p)))
            .ok_or(DomainError::NotFound("event"))?;
        Ok(self.store.requeue_event(&endpoint.id, &event, self.clock.now_ms()).await?)
    }

    /// Sends again, now, every event since `since` that the endpoint has not
    /// received (failed, given up, or waiting for a retry); returns how many.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn recover(&self, env: &Environment, owner: &Owner, id: &EndpointId, since: Millis) -> Result<u64, DomainError> {
        let endpoint = self.get(env, owner, id).await?;
        Ok(self.store.requeue_since(&endpoint.id, &env.id, since, self.clock.now_ms()).await?)
    }

    /// Adds an endpoint to `env` for `owner`, with a new secret.
    ///
    /// # Errors
    /// `Validation` for a malformed URL, a bad description or an event type
    /// unknown or invisible to the owner; `TargetNotAllowed` for a URL whose
    /// host the target policy refuses.
    pub async fn create(
        &self,
        env: &Environment,
        owner: &Owner,
        actor: &Actor,
        input: NewEndpoint,
    ) -> Result<EndpointWithSecret, DomainError> {
        let mut v = Validator::default();
        let url = v.check(TargetUrl::parse(&input.url, env.kind));
        let description = v.check(parse_description(input.description.as_deref().unwrap_or_default()));
        let event_types = v.check(parse_event_types(owner, &input.event_types));
        v.finish()?;
        let (Some(url), Some(description), Some(event_types)) = (url, description, event_types) else {
            unreachable!("the validator failed on any missing value");
        };
        self.policy.vet(&url).await?;
        let now = self.clock.now_ms();
        let id = EndpointId::generate();
        let secret = WebhookSecret::generate();
        let mut endpoint = Endpoint {
            secrets: EndpointSecrets {
                current: self.sealer.seal(&id, &secret),
                previous: None,
            },
            id,
            env_id: env.id.clone(),
            owner: owner.clone(),
            // As sent (it passed the checks): the owner sees what it wrote.
            url: input.url.clone(),
            description,
            event_types,
            disabled_at: None,
            disabled_reason: None,
            event_cursor: 0,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        let audit = audit(actor, env, "webhook_endpoint.created", &endpoint);
        endpoint.event_cursor = self.store.create_endpoint(&endpoint, &audit).await?;
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// A page of `env`'s endpoints, of one owner or (`None`) of all, by
    /// creation, after the endpoint `after` (the previous page's cursor).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn list(
        &self,
        env: &Environment,
        owner: Option<&Owner>,
        after: Option<&EndpointId>,
        limit: u32,
    ) -> Result<Page<Endpoint>, DomainError> {
        let mut items = self.store.endpoints(&env.id, owner, after, limit.saturating_add(1)).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = items.last().filter(|_| more).map(|e| e.id.to_string());
        Ok(Page { items, next_cursor })
    }

    /// An endpoint of `env` that `owner` manages.
    ///
    /// # Errors
    /// `NotFound("endpoint")`, the same when it is another owner's.
    pub async fn get(&self, env: &Environment, owner: &Owner, id: &EndpointId) -> Result<Endpoint, DomainError> {
        self.store
            .endpoint(&env.id, owner, id)
            .await?
            .ok_or(DomainError::NotFound("endpoint"))
    }

    /// An endpoint of the environment, whoever owns it (the operator's
    /// console).
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn get_any_owner(&self, env: &Environment, id: &EndpointId) -> Result<Endpoint, DomainError> {
        self.store
            .endpoint_any_owner(&env.id, id)
            .await?
            .ok_or(DomainError::NotFound("endpoint"))
    }

    /// Changes an endpoint; a new URL passes the target policy again.
    ///
    /// # Errors
    /// As [`Webhooks::create`], and `NotFound("endpoint")`.
    pub async fn update(
        &self,
        env: &Environment,
        owner: &Owner,
        actor: &Actor,
        id: &EndpointId,
        changes: EndpointChanges,
    ) -> Result<Endpoint, DomainError> {
        let mut endpoint = self.get(env, owner, id).await?;
        let mut v = Validator::default();
        let url = changes.url.as_deref().and_then(|u| v.check(TargetUrl::parse(u, env.kind)));
        let description = changes.description.as_deref().and_then(|d| v.check(parse_description(d)));
        let event_types = changes.event_types.as_deref().and_then(|t| v.check(parse_event_types(owner, t)));
        v.finish()?;
        if let Some(url) = url {
            self.policy.vet(&url).await?;
            endpoint.url = changes.url.clone().unwrap_or_else(|| url.as_str().to_owned());
        }
        endpoint.description = description.unwrap_or(endpoint.description);
        endpoint.event_types = event_types.unwrap_or(endpoint.event_types);
        let now = self.clock.now_ms();
        if let Some(enabled) = changes.enabled {
            endpoint.set_enabled(enabled, now);
        }
        endpoint.updated_at = now;
        let audit = audit(actor, env, "webhook_endpoint.updated", &endpoint);
        let state_changed = changes.enabled.is_some();
        self.store
            .update_endpoint(&endpoint, state_changed, &audit)
            .await
            .map_err(not_found)?;
        // Read back: delivery may have changed the state meanwhile.
        self.get(env, owner, id).await
    }

    /// Deletes an endpoint; nothing is sent to it afterwards.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn delete(&self, env: &Environment, owner: &Owner, actor: &Actor, id: &EndpointId) -> Result<Endpoint, DomainError> {
        let endpoint = self.get(env, owner, id).await?;
        let audit = AuditEvent::new(
            actor,
            &env.platform_id,
            Some(env.kind.as_str()),
            "webhook_endpoint.deleted",
            id.as_str(),
        )
        .with_detail(json!({ "partner_id": endpoint.owner.partner_id() }));
        self.store.delete_endpoint(&env.id, owner, id, &audit).await.map_err(not_found)?;
        Ok(endpoint)
    }

    /// Gives an endpoint a new secret, shown once; the previous one keeps
    /// signing beside it for 24 hours, so receivers can switch without
    /// missing a delivery.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn rotate_secret(
        &self,
        env: &Environment,
        owner: &Owner,
        actor: &Actor,
        id: &EndpointId,
    ) -> Result<EndpointWithSecret, DomainError> {
        let mut endpoint = self.get(env, owner, id).await?;
        let secret = WebhookSecret::generate();
        let sealed = self.sealer.seal(id, &secret);
        let now = self.clock.now_ms();
        endpoint.updated_at = now;
        let expires_at = now + ROTATION_OVERLAP_MS;
        let audit = AuditEvent::new(
            actor,
            &env.platform_id,
            Some(env.kind.as_str()),
            "webhook_endpoint.secret_rotated",
            id.as_str(),
        )
        .with_detail(json!({ "partner_id": endpoint.owner.partner_id(), "previous_secret_expires_at": expires_at }));
        self.store
            .rotate_endpoint_secret(&endpoint, &sealed, expires_at, &audit)
            .await
            .map_err(not_found)?;
        endpoint.secrets = EndpointSecrets {
            previous: Some(PreviousSecret {
                sealed: endpoint.secrets.current,
                expires_at,
            }),
            current: sealed,
        };
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// The environment and owner of an endpoint named by id alone (the
    /// operator's commands), and the endpoint.
    ///
    /// # Errors
    /// `NotFound("endpoint")`.
    pub async fn locate(&self, id: &EndpointId) -> Result<(Environment, Endpoint), DomainError> {
        let (platform_id, kind, owner) = self.store.endpoint_home(id).await?.ok_or(DomainError::NotFound("endpoint"))?;
        let env = self.tenancy.environment(&platform_id, kind).await?;
        let endpoint = self.get(&env, &owner, id).await?;
        Ok((env, endpoint))
    }
}

/// The audit event of a change to an endpoint: its target's origin (not
/// its path or query, which may carry a receiver's token) and subscription.
fn audit(actor: &Actor, env: &Environment, action: &str, endpoint: &Endpoint) -> AuditEvent {
    let types: Vec<&str> = endpoint.event_types.iter().map(|t| t.as_str()).collect();
    let origin = url::Url::parse(&endpoint.url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    AuditEvent::new(actor, &env.platform_id, Some(env.kind.as_str()), action, endpoint.id.as_str()).with_detail(json!({
        "origin": origin,
        "event_types": types,
        "enabled": endpoint.enabled(),
        "partner_id": endpoint.owner.partner_id(),
    }))
}
