//! First attempts come from the event stream: each round reads the events
//! after the endpoints' cursors, once per environment for all its idle
//! endpoints, and plans each endpoint's batch and its claim on the cursor.

use std::collections::{BTreeMap, HashMap};

use crate::error::DomainError;
use crate::events::{Event, EventFilter, EventType};
use crate::ids::{EndpointId, EnvId, PartnerId};
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::batch::{Batch, Span};
use crate::webhooks::delivery::run::Delivery;
use crate::webhooks::delivery::{CursorClaim, CursorTake, Message};

/// Events read from the stream for one environment per round.
pub(super) const STREAM_BATCH: u32 = 500;

type Plans = (Vec<CursorClaim>, HashMap<EndpointId, Batch>);

impl Delivery {
    /// The claims and batches of these endpoints. An environment's events
    /// are read once from its furthest-behind cursor; an endpoint that read
    /// does not reach (a full read ending at or before its cursor) reads
    /// its own.
    pub(super) async fn read_streams(&self, endpoints: &[&Endpoint]) -> Result<Plans, DomainError> {
        let mut by_env: BTreeMap<&EnvId, Vec<&Endpoint>> = BTreeMap::new();
        for endpoint in endpoints {
            by_env.entry(&endpoint.env_id).or_default().push(endpoint);
        }
        let (mut claims, mut batches) = (Vec::new(), HashMap::new());
        for (env_id, group) in by_env {
            let from = group.iter().map(|e| e.event_cursor).min().unwrap_or(0);
            let events = self.read(env_id, from, None).await?;
            let full = events.len() >= STREAM_BATCH as usize;
            for endpoint in group {
                let reached = events.last().is_some_and(|e| e.sequence > endpoint.event_cursor);
                let own;
                let events = if reached || !full {
                    &events
                } else {
                    own = self.read(env_id, endpoint.event_cursor, endpoint.owner.partner_id()).await?;
                    &own
                };
                let (claim, batch) = plan(endpoint, events);
                claims.extend(claim);
                if let Some(batch) = batch {
                    batches.insert(endpoint.id.clone(), batch);
                }
            }
        }
        Ok((claims, batches))
    }

    async fn read(&self, env_id: &EnvId, after: i64, partner: Option<&PartnerId>) -> Result<Vec<Event>, DomainError> {
        let filter = EventFilter {
            after,
            event_type: None,
            partner_id: partner.cloned(),
            limit: STREAM_BATCH,
        };
        Ok(self.store.events(env_id, &filter).await?)
    }
}

/// The endpoint's share of `events` (read in `sequence` order, after a
/// point at or before its cursor): a claim on its cursor (none when no
/// event is after it), and the batch to attempt if this node gets it (none
/// when it wants none of them: the claim then only moves the cursor past).
fn plan(endpoint: &Endpoint, events: &[Event]) -> (Option<CursorClaim>, Option<Batch>) {
    let Some(last) = events.last().map(|e| e.sequence).filter(|l| *l > endpoint.event_cursor) else {
        return (None, None);
    };
    let partner = endpoint.owner.partner_id();
    let wanted: HashMap<i64, Event> = events
        .iter()
        .filter(|e| e.sequence > endpoint.event_cursor)
        .filter(|e| partner.is_none() || e.partner_id.as_ref() == partner)
        .filter(|e| e.event_type.parse::<EventType>().is_ok_and(|t| endpoint.subscribes_to(t)))
        .map(|e| (e.sequence, e.clone()))
        .collect();
    let span = Span {
        from: endpoint.event_cursor,
        last,
    };
    let claim = CursorClaim {
        endpoint_id: endpoint.id.clone(),
        from: span.from,
        take: if wanted.is_empty() {
            CursorTake::Skip(last)
        } else {
            CursorTake::Lease
        },
    };
    if wanted.is_empty() {
        return (Some(claim), None);
    }
    let mut queue: Vec<Message> = wanted
        .values()
        .map(|e| Message {
            endpoint_id: endpoint.id.clone(),
            event_id: e.id.clone(),
            env_id: e.env_id.clone(),
            sequence: e.sequence,
            attempts: 0,
            queued: false,
        })
        .collect();
    queue.sort_by_key(|m| m.sequence);
    let batch = Batch {
        endpoint: endpoint.clone(),
        queue,
        events: wanted,
        lease_until: 0,
        stream: Some(span),
    };
    (Some(claim), Some(batch))
}
