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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventActor;
    use crate::webhooks::secret::SealedSecret;
    use crate::webhooks::{EndpointSecrets, Owner};

    fn endpoint(owner: Owner, cursor: i64, types: Vec<EventType>) -> Endpoint {
        Endpoint {
            id: EndpointId::generate(),
            env_id: "e1".into(),
            owner,
            url: "https://hooks.example.com/".into(),
            description: String::new(),
            event_types: types,
            disabled_at: None,
            disabled_reason: None,
            secrets: EndpointSecrets {
                current: SealedSecret::from_stored(vec![1]),
                previous: None,
            },
            event_cursor: cursor,
            failing_since: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    fn event(sequence: i64, kind: EventType, partner: Option<&str>) -> Event {
        Event {
            id: format!("evt_{sequence}").into(),
            env_id: "e1".into(),
            sequence,
            event_type: kind.as_str().to_owned(),
            timestamp: sequence,
            platform_id: crate::tenancy::PlatformId::parse("acme").unwrap(),
            environment: "staging".into(),
            partner_id: partner.map(Into::into),
            actor: EventActor {
                kind: "system".into(),
                id: None,
            },
            data: serde_json::json!({}),
        }
    }

    /// One read of the environment (sequences 1 to 5) serves endpoints at
    /// different cursors, owners and subscriptions.
    #[test]
    fn each_endpoint_takes_its_share_of_one_read() {
        let events = vec![
            event(1, EventType::AccountCreated, Some("p1")),
            event(2, EventType::PartnerCreated, None),
            event(3, EventType::AccountCreated, Some("p2")),
            event(4, EventType::AccountDeleted, Some("p1")),
            event(5, EventType::AccountCreated, None),
        ];
        let sequences = |batch: &Option<Batch>| batch.as_ref().map(|b| b.queue.iter().map(|m| m.sequence).collect::<Vec<_>>());

        let every = endpoint(Owner::Environment, 0, Vec::new());
        let (claim, batch) = plan(&every, &events);
        assert_eq!(claim.map(|c| (c.from, c.take)), Some((0, CursorTake::Lease)));
        assert_eq!(sequences(&batch), Some(vec![1, 2, 3, 4, 5]));
        let span = batch.unwrap().stream.unwrap();
        assert_eq!((span.from, span.last), (0, 5));

        // Further along: only what is after its cursor.
        let (_, batch) = plan(&endpoint(Owner::Environment, 3, Vec::new()), &events);
        assert_eq!(sequences(&batch), Some(vec![4, 5]));

        // A partner's endpoint: its own events only.
        let (_, batch) = plan(&endpoint(Owner::Partner("p1".into()), 0, Vec::new()), &events);
        assert_eq!(sequences(&batch), Some(vec![1, 4]));

        // Subscribed to other types: the cursor is stepped past, nothing sent.
        let (claim, batch) = plan(&endpoint(Owner::Environment, 1, vec![EventType::UsageAlert]), &events);
        assert_eq!(claim.map(|c| c.take), Some(CursorTake::Skip(5)));
        assert!(batch.is_none());

        // At the end already: no claim at all (no write).
        assert_eq!(plan(&endpoint(Owner::Environment, 5, Vec::new()), &events).0, None);
        assert_eq!(plan(&endpoint(Owner::Environment, 0, Vec::new()), &[]).0, None);
    }
}
