//! Partners and their API keys: the operator's commands, authentication of
//! `x-api-key`, and rotation by the partner itself.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode, FieldError};
use crate::events::EventType;
use crate::ids::{KeyId, PartnerId};
use crate::infra::secret::{Secret, token_hash};
use crate::partners::allowance::{parse_scopes, within_allowance};
use crate::partners::{ApiKey, Partner, PartnerStatus, Scope, generate_key, key_is_well_formed};
use crate::store::{Store, StoreError};
use crate::tenancy::service::Tenancy;
use crate::tenancy::{EnvKind, PlatformId, Tenant};

/// Longest grace period of a rotation.
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A request authenticated by an API key.
#[derive(Debug, Clone)]
pub struct PartnerPrincipal {
    pub key: ApiKey,
    pub partner: Partner,
}

/// A newly issued key; `secret` is shown once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: Secret,
}

/// What a presented partner key turned out to be.
#[derive(Debug, Clone)]
pub enum PartnerKeyCheck {
    /// A live key of this environment (the partner's status is the
    /// caller's to check: it answers `403`, not `401`).
    Valid(PartnerPrincipal),
    /// Malformed, unknown, revoked, expired or of another environment
    /// (`401`); the stored key it names, if any, so that the refusal can be
    /// counted against that key.
    Refused(Option<ApiKey>),
}

/// When each key was last used, waiting for the usage flush to write it
/// (process-local): authentication itself writes nothing.
#[derive(Default)]
pub(crate) struct KeyTouches(DashMap<KeyId, Millis>);

impl KeyTouches {
    fn record(&self, key_id: &KeyId, at: Millis) {
        let mut entry = self.0.entry(key_id.clone()).or_insert(at);
        *entry = (*entry).max(at);
    }

    /// Takes every recorded use.
    pub(crate) fn drain(&self) -> Vec<(KeyId, Millis)> {
        let ids: Vec<KeyId> = self.0.iter().map(|e| e.key().clone()).collect();
        ids.into_iter().filter_map(|id| self.0.remove(&id)).collect()
    }

    /// Puts back uses that could not be written.
    pub(crate) fn restore(&self, uses: Vec<(KeyId, Millis)>) {
        for (key_id, at) in uses {
            self.record(&key_id, at);
        }
    }
}

fn parse_partner_name(raw: &str) -> Result<String, FieldError> {
    crate::accounts::parse_name_part("name", raw)
}

/// Partners and their API keys.
pub struct Partners {
    pub(super) store: Arc<dyn Store>,
    tenancy: Arc<Tenancy>,
    pub(super) clock: Arc<dyn Clock>,
    key_touches: KeyTouches,
}

impl Partners {
    pub(crate) fn new(store: Arc<dyn Store>, tenancy: Arc<Tenancy>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            tenancy,
            clock,
            key_touches: KeyTouches::default(),
        }
    }

    /// Creates a partner in state `pending`.
    ///
    /// # Errors
    /// `Validation` for a bad name, `NotFound` for an unknown instance.
    pub async fn create_partner(&self, actor: &Actor, platform_id: &PlatformId, kind: EnvKind, name: &str) -> Result<Partner, DomainError> {
        let env = self.tenancy.environment(platform_id, kind).await?;
        let name = parse_partner_name(name).map_err(|e| DomainError::Validation(vec![e]))?;
        let now = self.clock.now_ms();
        let partner = Partner {
            id: PartnerId::generate(),
            env_id: env.id,
            platform_id: platform_id.clone(),
            environment: kind,
            name,
            status: PartnerStatus::Pending,
            allowed_scopes: Scope::ALL.to_vec(),
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::new(actor, platform_id, Some(kind.as_str()), "partner.created", partner.id.as_str())
            .with_detail(json!({ "name": partner.name }))
            .emit(&partner.env_id, EventType::PartnerCreated, None, partner.event_data());
        self.store.create_partner(&partner, &audit).await?;
        Ok(partner)
    }

    /// # Errors
    /// `NotFound("partner")`.
    pub async fn partner(&self, id: &PartnerId) -> Result<Partner, DomainError> {
        self.store.partner(id).await?.ok_or(DomainError::NotFound("partner"))
    }

    /// Partners of one instance environment, or of all.
    ///
    /// # Errors
    /// `NotFound` for an unknown instance.
    pub async fn list(&self, scope: Option<(&PlatformId, EnvKind)>) -> Result<Vec<Partner>, DomainError> {
        let env_id = match scope {
            Some((platform_id, kind)) => Some(self.tenancy.environment(platform_id, kind).await?.id),
            None => None,
        };
        Ok(self.store.partners(env_id.as_ref()).await?)
    }

    /// Approves (`active`) or suspends a partner.
    ///
    /// # Errors
    /// `NotFound("partner")`.
    pub async fn set_partner_status(&self, actor: &Actor, id: &PartnerId, status: PartnerStatus) -> Result<Partner, DomainError> {
        let action = match status {
            PartnerStatus::Active => "partner.approved",
            PartnerStatus::Suspended => "partner.suspended",
            PartnerStatus::Pending => "partner.reset_to_pending",
        };
        self.change_status(actor, id, status, action, serde_json::Value::Null).await
    }

    pub(super) async fn change_status(
        &self,
        actor: &Actor,
        id: &PartnerId,
        status: PartnerStatus,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<Partner, DomainError> {
        let mut partner = self.partner(id).await?;
        let event = match status {
            PartnerStatus::Active => Some(EventType::PartnerApproved),
            PartnerStatus::Suspended => Some(EventType::PartnerSuspended),
            PartnerStatus::Pending => None,
        };
        let mut audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            action,
            partner.id.as_str(),
        )
        .with_detail(detail);
        if let Some(event) = event {
            audit = audit.emit(&partner.env_id, event, None, partner.event_data());
        }
        partner.status = status;
        partner.updated_at = self.clock.now_ms();
        self.store
            .set_partner_status(&partner.id, status, partner.updated_at, &audit)
            .await?;
        Ok(partner)
    }

    /// Issues a key for a partner, within the scopes the operator allows
    /// it (all of those when none are given).
    ///
    /// # Errors
    /// `Validation` for unknown scopes or scopes the partner is not
    /// allowed, `NotFound("partner")`.
    pub async fn issue_api_key(
        &self,
        actor: &Actor,
        partner_id: &PartnerId,
        scopes: &[String],
        expires_in: Option<Duration>,
    ) -> Result<IssuedKey, DomainError> {
        let partner = self.partner(partner_id).await?;
        let mut parsed = parse_scopes(scopes)?;
        if parsed.is_empty() {
            parsed.clone_from(&partner.allowed_scopes);
        }
        within_allowance(&partner, &parsed)?;
        let now = self.clock.now_ms();
        let issued = new_key(&partner, parsed, now, expires_in.map(|d| now + d.as_millis() as i64));
        let audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "api_key.issued",
            issued.key.key_id.as_str(),
        )
        .with_detail(json!({ "partner_id": partner.id, "scopes": issued.key.scopes, "expires_at": issued.key.expires_at }))
        .emit(
            &partner.env_id,
            EventType::ApiKeyIssued,
            Some(&partner.id),
            json!({ "partner_id": partner.id, "key_id": issued.key.key_id }),
        );
        self.store.create_api_key(&issued.key, &audit).await?;
        Ok(issued)
    }

    /// # Errors
    /// `NotFound("partner")`.
    pub async fn api_keys(&self, partner_id: &PartnerId) -> Result<Vec<ApiKey>, DomainError> {
        let partner = self.partner(partner_id).await?;
        Ok(self.store.api_keys(&partner.id).await?)
    }

    /// Revokes a key; it is refused from the next request on. A key in its
    /// grace period after a rotation takes the successors it minted with it
    /// (a leaked key's holder may have rotated it).
    ///
    /// # Errors
    /// `NotFound("api key")`.
    pub async fn revoke_api_key(&self, actor: &Actor, key_id: &KeyId) -> Result<ApiKey, DomainError> {
        let key = self.store.api_key(key_id).await?.ok_or(DomainError::NotFound("api key"))?;
        let partner = self.partner(&key.partner_id).await?;
        let audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "api_key.revoked",
            key_id.as_str(),
        )
        .emit(
            &partner.env_id,
            EventType::ApiKeyRevoked,
            Some(&partner.id),
            json!({ "partner_id": partner.id, "key_id": key_id }),
        );
        let successors = self.store.revoke_api_key(key_id, self.clock.now_ms(), &audit).await?;
        if !successors.is_empty() {
            tracing::info!(%key_id, ?successors, "revoked the keys a retiring key had minted");
        }
        self.store.api_key(key_id).await?.ok_or(DomainError::NotFound("api key"))
    }

    /// Checks a partner key presented to `tenant` with one lookup (the key
    /// joined to its partner), and only if the key has a partner key's
    /// prefix and checksum. A partner key of the other environment
    /// (`onr_live_…` on staging) is looked up too, only so that the refusal
    /// counts against it. Nothing is written: the use reaches
    /// `last_used_at` with the next usage flush.
    ///
    /// # Errors
    /// Storage failures only; a bad key is [`PartnerKeyCheck::Refused`].
    pub async fn authenticate_api_key(&self, tenant: &Tenant, raw: &str) -> Result<PartnerKeyCheck, DomainError> {
        // The checksum refuses typos, garbage and vendor app keys without a database lookup.
        if !EnvKind::ALL.iter().any(|env| key_is_well_formed(raw, *env)) {
            return Ok(PartnerKeyCheck::Refused(None));
        }
        let Some((key, partner)) = self.store.api_key_by_hash(&token_hash(raw)).await? else {
            return Ok(PartnerKeyCheck::Refused(None));
        };
        let now = self.clock.now_ms();
        if !key_is_well_formed(raw, tenant.env.kind) || key.env_id != tenant.env.id || !key.is_live(now) {
            return Ok(PartnerKeyCheck::Refused(Some(key)));
        }
        self.key_touches.record(&key.key_id, now);
        Ok(PartnerKeyCheck::Valid(PartnerPrincipal { key, partner }))
    }

    /// Writes the key uses recorded since the last call (`last_used_at`).
    ///
    /// # Errors
    /// Storage failures; the uses not written are kept for the next attempt.
    pub async fn flush_key_uses(&self) -> Result<usize, DomainError> {
        let mut uses = self.key_touches.drain();
        let count = uses.len();
        while let Some((key_id, at)) = uses.pop() {
            if let Err(e) = self.store.touch_api_key(&key_id, at).await {
                uses.push((key_id, at));
                self.key_touches.restore(uses);
                return Err(e.into());
            }
        }
        Ok(count)
    }

    /// Rotation by the partner: a new key with the same scopes; the presented
    /// key keeps working for `grace` (0 to 7 days), then fails. A key rotates
    /// once: a retiring key cannot mint more successors.
    ///
    /// # Errors
    /// `Validation` for a grace period out of range, `KeyAlreadyRotated`.
    pub async fn rotate_api_key(
        &self,
        actor: &Actor,
        principal: &PartnerPrincipal,
        grace: Duration,
    ) -> Result<(IssuedKey, Millis), DomainError> {
        if grace > MAX_GRACE {
            return Err(DomainError::invalid(
                "gracePeriodSeconds",
                FieldCode::OutOfRange,
                "gracePeriodSeconds must be between 0 and 604800 (7 days)",
            ));
        }
        let now = self.clock.now_ms();
        let old = &principal.key;
        if old.retires_at.is_some() || old.rotated_to.is_some() {
            return Err(DomainError::KeyAlreadyRotated);
        }
        let issued = new_key(&principal.partner, old.scopes.clone(), now, old.expires_at);
        // The old key retires at the end of the grace period (or earlier, if it was to end sooner).
        let old_expires_at = [old.expires_at, old.retires_at]
            .into_iter()
            .flatten()
            .fold(now + grace.as_millis() as i64, i64::min);
        let partner = &principal.partner;
        let audit = AuditEvent::new(
            actor,
            &partner.platform_id,
            Some(partner.environment.as_str()),
            "api_key.rotated",
            old.key_id.as_str(),
        )
        .with_detail(json!({ "new_key_id": issued.key.key_id, "old_key_expires_at": old_expires_at }))
        .emit(
            &partner.env_id,
            EventType::ApiKeyRotated,
            Some(&partner.id),
            json!({ "partner_id": partner.id, "key_id": old.key_id, "new_key_id": issued.key.key_id }),
        );
        match self.store.rotate_api_key(&old.key_id, old_expires_at, &issued.key, &audit).await {
            Err(StoreError::Conflict("rotation")) => return Err(DomainError::KeyAlreadyRotated),
            other => other?,
        }
        Ok((issued, old_expires_at))
    }
}

fn new_key(partner: &Partner, scopes: Vec<Scope>, now: Millis, expires_at: Option<Millis>) -> IssuedKey {
    let secret = generate_key(partner.environment);
    let key = ApiKey {
        key_id: KeyId::generate(),
        partner_id: partner.id.clone(),
        env_id: partner.env_id.clone(),
        key_hash: token_hash(&secret),
        scopes,
        created_at: now,
        expires_at,
        retires_at: None,
        revoked_at: None,
        last_used_at: None,
        rotated_to: None,
    };
    IssuedKey {
        key,
        secret: Secret::new(secret),
    }
}
