//! Webhook endpoints. Every statement names the environment, and those of
//! callers that manage only their own endpoints the owner too (`partner_id`,
//! NULL for the environment's own), so another owner's endpoint is simply
//! not found.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::events::EventType;
use onramp_domain::ids::{EndpointId, EnvId};
use onramp_domain::store::{StoreError, WebhookStore};
use onramp_domain::tenancy::{EnvKind, PlatformId};
use onramp_domain::webhooks::secret::{EndpointSecrets, PreviousSecret, SealedSecret};
use onramp_domain::webhooks::{Endpoint, Owner};

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, to_json};
use crate::tenancy::{env_kind, platform_id};

/// The owner condition: `$n` is the partner id, NULL for the environment's own.
macro_rules! owned_by {
    ($n:literal) => {
        concat!("(partner_id = $", $n, " OR ($", $n, " IS NULL AND partner_id IS NULL))")
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct EndpointRow {
    id: String,
    env_id: String,
    partner_id: Option<String>,
    url: String,
    description: String,
    event_types: String,
    secret: Vec<u8>,
    previous_secret: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    event_cursor: i64,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Record for EndpointRow {
    type Domain = Endpoint;
    fn into_domain(self) -> R<Endpoint> {
        let names: Vec<String> = from_json("event_types", &self.event_types)?;
        let event_types = names
            .iter()
            .map(|n| {
                n.parse::<EventType>()
                    .map_err(|()| StoreError::other(format!("column event_types: unknown type `{n}`")))
            })
            .collect::<R<Vec<_>>>()?;
        let previous = match (self.previous_secret, self.previous_secret_expires_at) {
            (Some(sealed), Some(expires_at)) => Some(PreviousSecret {
                sealed: SealedSecret::from_stored(sealed),
                expires_at,
            }),
            _ => None,
        };
        Ok(Endpoint {
            id: self.id.into(),
            env_id: self.env_id.into(),
            owner: Owner::from_partner(self.partner_id.map(Into::into)),
            url: self.url,
            description: self.description,
            event_types,
            disabled_at: self.disabled_at,
            disabled_reason: self.disabled_reason,
            secrets: EndpointSecrets {
                current: SealedSecret::from_stored(self.secret),
                previous,
            },
            event_cursor: self.event_cursor,
            failing_since: self.failing_since,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct HomeRow {
    platform_id: String,
    kind: String,
    partner_id: Option<String>,
}

impl Record for HomeRow {
    type Domain = (PlatformId, EnvKind, Owner);
    fn into_domain(self) -> R<Self::Domain> {
        let owner = Owner::from_partner(self.partner_id.map(Into::into));
        Ok((platform_id(&self.platform_id)?, env_kind(&self.kind)?, owner))
    }
}

fn type_names(types: &[EventType]) -> String {
    to_json(&types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
}

fn partner(owner: &Owner) -> Option<&str> {
    owner.partner_id().map(|p| p.as_str())
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_endpoint(&self, e: &Endpoint, audit: &AuditEvent) -> R<i64> {
        // The cursor is read in the insert itself: the endpoint receives
        // every event committed after it.
        self.audited(Some(audit), async |c| {
            sqlx::query_scalar(
                "INSERT INTO webhook_endpoints (id, env_id, partner_id, url, description, event_types, secret, event_cursor, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7,
                         COALESCE((SELECT last_sequence FROM event_sequences WHERE env_id = $2), 0), $8, $9)
                 RETURNING event_cursor",
            )
            .bind(e.id.as_str())
            .bind(e.env_id.as_str())
            .bind(partner(&e.owner))
            .bind(&e.url)
            .bind(&e.description)
            .bind(type_names(&e.event_types))
            .bind(e.secrets.current.as_bytes())
            .bind(e.created_at)
            .bind(e.updated_at)
            .fetch_one(&mut *c)
            .await
            .map_err(crate::map_err)
        })
        .await
    }

    async fn endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId) -> R<Option<Endpoint>> {
        sqlx::query(concat!(
            "SELECT * FROM webhook_endpoints WHERE env_id = $1 AND id = $2 AND ",
            owned_by!("3")
        ))
        .bind(env_id.as_str())
        .bind(id.as_str())
        .bind(partner(owner))
        .optional::<EndpointRow, _>(&self.pool)
        .await
    }

    async fn endpoint_any_owner(&self, env_id: &EnvId, id: &EndpointId) -> R<Option<Endpoint>> {
        sqlx::query("SELECT * FROM webhook_endpoints WHERE env_id = $1 AND id = $2")
            .bind(env_id.as_str())
            .bind(id.as_str())
            .optional::<EndpointRow, _>(&self.pool)
            .await
    }

    async fn endpoints(&self, env_id: &EnvId, owner: Option<&Owner>, after: Option<&EndpointId>, limit: u32) -> R<Vec<Endpoint>> {
        let after = after.map_or("", |a| a.as_str());
        let limit = i64::from(limit);
        match owner {
            Some(owner) => {
                sqlx::query(concat!(
                    "SELECT * FROM webhook_endpoints WHERE env_id = $1 AND id > $2 AND ",
                    owned_by!("3"),
                    " ORDER BY id LIMIT $4"
                ))
                .bind(env_id.as_str())
                .bind(after)
                .bind(partner(owner))
                .bind(limit)
                .all::<EndpointRow, _>(&self.pool)
                .await
            }
            None => {
                sqlx::query("SELECT * FROM webhook_endpoints WHERE env_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(env_id.as_str())
                    .bind(after)
                    .bind(limit)
                    .all::<EndpointRow, _>(&self.pool)
                    .await
            }
        }
    }

    async fn update_endpoint(&self, e: &Endpoint, state_changed: bool, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(concat!(
                "UPDATE webhook_endpoints SET url = $4, description = $5, event_types = $6,
                 disabled_at = CASE WHEN $11 = 1 THEN $7 ELSE disabled_at END,
                 disabled_reason = CASE WHEN $11 = 1 THEN $8 ELSE disabled_reason END,
                 failing_since = CASE WHEN $11 = 1 THEN $9 ELSE failing_since END,
                 updated_at = $10 WHERE env_id = $1 AND id = $2 AND ",
                owned_by!("3")
            ))
            .bind(e.env_id.as_str())
            .bind(e.id.as_str())
            .bind(partner(&e.owner))
            .bind(&e.url)
            .bind(&e.description)
            .bind(type_names(&e.event_types))
            .bind(e.disabled_at)
            .bind(e.disabled_reason.as_deref())
            .bind(e.failing_since)
            .bind(e.updated_at)
            .bind(i64::from(state_changed))
            .expect_row(c)
            .await
        })
        .await
    }

    async fn rotate_endpoint_secret(&self, e: &Endpoint, secret: &SealedSecret, previous_expires_at: i64, audit: &AuditEvent) -> R<()> {
        // The current secret becomes the previous one in the statement
        // itself, so two rotations at once cannot both keep the same one.
        self.audited(Some(audit), async |c| {
            sqlx::query(concat!(
                "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $5, secret = $4,
                 updated_at = $6 WHERE env_id = $1 AND id = $2 AND ",
                owned_by!("3")
            ))
            .bind(e.env_id.as_str())
            .bind(e.id.as_str())
            .bind(partner(&e.owner))
            .bind(secret.as_bytes())
            .bind(previous_expires_at)
            .bind(e.updated_at)
            .expect_row(c)
            .await
        })
        .await
    }

    async fn delete_endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId, audit: &AuditEvent) -> R<()> {
        self.audited(Some(audit), async |c| {
            sqlx::query(concat!(
                "DELETE FROM webhook_endpoints WHERE env_id = $1 AND id = $2 AND ",
                owned_by!("3")
            ))
            .bind(env_id.as_str())
            .bind(id.as_str())
            .bind(partner(owner))
            .expect_row(c)
            .await
        })
        .await
    }

    async fn endpoint_home(&self, id: &EndpointId) -> R<Option<(PlatformId, EnvKind, Owner)>> {
        sqlx::query(
            "SELECT e.platform_id, e.kind, w.partner_id FROM webhook_endpoints w JOIN environments e ON e.id = w.env_id WHERE w.id = $1",
        )
        .bind(id.as_str())
        .optional::<HomeRow, _>(&self.pool)
        .await
    }
}
