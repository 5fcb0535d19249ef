//! Lifecycle events: numbered and written with the audit event of their
//! change (`db::insert_audit`), read back as an environment's feed.

use async_trait::async_trait;
use onramp_domain::audit::AuditEvent;
use onramp_domain::events::{Event, EventActor, EventDraft, EventFilter};
use onramp_domain::ids::EnvId;
use onramp_domain::store::EventStore;
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::db::{R, Record, Sql, from_json, to_json};
use crate::errors::map_err;
use crate::tenancy::platform_id;

/// Numbers `event` and writes it, inside the transaction of its change.
/// The counter row stays locked until that transaction ends, so numbers
/// follow commit order within an environment.
pub(crate) async fn insert_event(c: &mut AnyConnection, audit: &AuditEvent, event: &EventDraft) -> R<()> {
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO event_sequences (env_id, last_sequence) VALUES ($1, 1)
         ON CONFLICT (env_id) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1
         RETURNING last_sequence",
    )
    .bind(event.env_id.as_str())
    .fetch_one(&mut *c)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO events (env_id, sequence, id, type, partner_id, platform_id, environment, actor_type, actor_id, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(event.env_id.as_str())
    .bind(sequence)
    .bind(event.id.as_str())
    .bind(event.event_type.as_str())
    .bind(event.partner_id.as_ref().map(|p| p.as_str()))
    .bind(audit.platform_id.as_str())
    .bind(audit.environment.as_deref().unwrap_or_default())
    .bind(&event.actor.kind)
    .bind(event.actor.id.as_deref())
    .bind(to_json(&event.data))
    .bind(audit.created_at)
    .run(c)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    env_id: String,
    sequence: i64,
    id: String,
    #[sqlx(rename = "type")]
    event_type: String,
    partner_id: Option<String>,
    platform_id: String,
    environment: String,
    actor_type: String,
    actor_id: Option<String>,
    data: String,
    created_at: i64,
}

impl Record for EventRow {
    type Domain = Event;
    fn into_domain(self) -> R<Event> {
        Ok(Event {
            id: self.id.into(),
            env_id: self.env_id.into(),
            sequence: self.sequence,
            event_type: self.event_type,
            timestamp: self.created_at,
            platform_id: platform_id(&self.platform_id)?,
            environment: self.environment,
            partner_id: self.partner_id.map(Into::into),
            actor: EventActor {
                kind: self.actor_type,
                id: self.actor_id,
            },
            data: from_json("data", &self.data)?,
        })
    }
}

#[async_trait]
impl EventStore for SqlStore {
    async fn events(&self, env_id: &EnvId, f: &EventFilter) -> R<Vec<Event>> {
        sqlx::query(
            "SELECT * FROM events WHERE env_id = $1 AND sequence > $2 AND ($3 IS NULL OR type = $3)
             AND ($4 IS NULL OR partner_id = $4) ORDER BY sequence LIMIT $5",
        )
        .bind(env_id.as_str())
        .bind(f.after)
        .bind(f.event_type.map(|t| t.as_str()))
        .bind(f.partner_id.as_ref().map(|p| p.as_str()))
        .bind(i64::from(f.limit))
        .all::<EventRow, _>(&self.pool)
        .await
    }
}
