//! Rounds of delivery: fan new events out to the endpoints that want them,
//! then lease the messages that are due and hand each endpoint's to a task
//! that attempts them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::clock::{Clock, Millis};
use crate::error::DomainError;
use crate::events::{Event, EventFilter, EventType};
use crate::ids::EndpointId;
use crate::infra::master_key::MasterKey;
use crate::store::Store;
use crate::tenancy::EnvKind;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::attempt::{failed, ms, record};
use crate::webhooks::delivery::{Message, SendOutcome, WebhookSender, lease_for};
use crate::webhooks::secret::SecretSealer;
use crate::webhooks::signature::signature_header;
use crate::webhooks::target::{TargetPolicy, TargetUrl};

/// Events fanned out to one endpoint per round.
const FAN_OUT_BATCH: u32 = 500;
/// Messages leased per round.
const LEASE_BATCH: u32 = 500;
/// Endpoints attempted at once on this node.
const CONCURRENCY: usize = 32;
/// Attempts in flight at once for one endpoint.
const PER_ENDPOINT: usize = 4;
/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 100;

/// Delivers events to webhook endpoints: one per node, run in rounds by
/// the server's background task.
pub struct Delivery {
    store: Arc<dyn Store>,
    sender: Arc<dyn WebhookSender>,
    policy: TargetPolicy,
    sealer: SecretSealer,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    /// Endpoints whose messages a task of this node is attempting.
    busy: Mutex<HashSet<EndpointId>>,
    /// Rung when such a task ends: its endpoint may have more due.
    done: Notify,
}

/// One endpoint's leased messages, the events they carry, and how long
/// the lease lasts.
struct Batch {
    endpoint: Endpoint,
    queue: Vec<Message>,
    lease_until: Millis,
}

impl Delivery {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        sender: Arc<dyn WebhookSender>,
        policy: TargetPolicy,
        master: &MasterKey,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Self {
        Self {
            store,
            sender,
            policy,
            sealer: SecretSealer::new(master),
            clock,
            timeout,
            busy: Mutex::new(HashSet::new()),
            done: Notify::new(),
        }
    }

    /// One round: fans new events out, then leases what is due for
    /// endpoints no task of this node is busy with (at most [`CONCURRENCY`]
    /// such tasks) and starts a task per endpoint. Returns the messages
    /// leased; after a round that leased none, wait with [`idle`](Self::idle).
    ///
    /// # Errors
    /// Storage failures (the next round tries again).
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, DomainError> {
        let endpoints: HashMap<EndpointId, Endpoint> = self
            .store
            .enabled_endpoints()
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        for endpoint in endpoints.values() {
            self.fan_out(endpoint).await?;
        }
        let busy: Vec<EndpointId> = self.busy().iter().cloned().collect();
        if busy.len() >= CONCURRENCY {
            return Ok(0);
        }
        let now = self.clock.now_ms();
        let lease_until = now + ms(lease_for(self.timeout));
        let due = self.store.lease_due_messages(now, lease_until, &busy, LEASE_BATCH).await?;
        let mut queues: BTreeMap<EndpointId, Vec<Message>> = BTreeMap::new();
        for m in due {
            queues.entry(m.endpoint_id.clone()).or_default().push(m);
        }
        let (mut leased, mut spare) = (0, Vec::new());
        for (id, queue) in queues {
            match endpoints.get(&id).filter(|_| self.busy().len() < CONCURRENCY) {
                Some(endpoint) => {
                    self.busy().insert(id);
                    leased += queue.len();
                    let batch = Batch {
                        endpoint: endpoint.clone(),
                        queue,
                        lease_until,
                    };
                    tokio::spawn(Arc::clone(self).drain(batch));
                }
                _ => spare.extend(queue),
            }
        }
        if !spare.is_empty() {
            self.store.release_leases(&spare).await?;
        }
        Ok(leased)
    }

    /// Waits for the next round: `interval`, or less if a task ended.
    pub async fn idle(&self, interval: Duration) {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = self.done.notified() => {}
        }
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<EndpointId>> {
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn drain(self: Arc<Self>, batch: Batch) {
        let id = batch.endpoint.id.clone();
        if let Err(e) = self.attempt_all(batch).await {
            tracing::warn!(endpoint = %id, error = %e, "webhook attempts not recorded");
        }
        self.busy().remove(&id);
        self.done.notify_one();
    }

    /// Attempts one endpoint's messages: started in `sequence` order, at
    /// most [`PER_ENDPOINT`] in flight, recorded as they end (several per
    /// transaction when they end together). None starts so late that its
    /// lease could run out mid-attempt, nor after the endpoint answered
    /// `410 Gone`; those are given back for the next round.
    async fn attempt_all(&self, batch: Batch) -> Result<(), DomainError> {
        let Batch {
            endpoint,
            queue,
            lease_until,
        } = batch;
        let sequences: Vec<i64> = queue.iter().map(|m| m.sequence).collect();
        let events: HashMap<i64, Event> = self
            .store
            .events_by_sequence(&endpoint.env_id, &sequences)
            .await?
            .into_iter()
            .map(|e| (e.sequence, e))
            .collect();
        let latest_start = lease_until - 2 * ms(self.timeout);
        let stop = AtomicBool::new(false);
        let (endpoint, events, stop) = (&endpoint, &events, &stop);
        let mut outcomes = futures_util::stream::iter(queue)
            .map(|message| async move {
                let started = self.clock.now_ms();
                if stop.load(Ordering::Relaxed) || started > latest_start {
                    return (message, None);
                }
                let outcome = match events.get(&message.sequence) {
                    Some(event) => self.send(endpoint, event).await,
                    None => failed("event_purged"),
                };
                if outcome.status == Some(410) {
                    stop.store(true, Ordering::Relaxed);
                }
                (message, Some((started, outcome)))
            })
            .buffered(PER_ENDPOINT)
            .ready_chunks(RECORD_BATCH);
        let (mut failing_since, mut unsent) = (endpoint.failing_since, Vec::new());
        while let Some(chunk) = outcomes.next().await {
            let mut recorded = Vec::with_capacity(chunk.len());
            for (message, sent) in chunk {
                match sent {
                    Some((started, outcome)) => {
                        let event = events.get(&message.sequence);
                        recorded.push(record(endpoint, &mut failing_since, &message, event, started, outcome));
                    }
                    None => unsent.push(message),
                }
            }
            if recorded.iter().any(|r| r.health.as_ref().is_some_and(|h| h.disable.is_some())) {
                stop.store(true, Ordering::Relaxed);
            }
            self.store.record_attempts(&recorded).await?;
        }
        if !unsent.is_empty() {
            self.store.release_leases(&unsent).await?;
        }
        Ok(())
    }

    /// Gives an endpoint a message for each new event it subscribes to.
    async fn fan_out(&self, endpoint: &Endpoint) -> Result<(), DomainError> {
        let filter = EventFilter {
            after: endpoint.event_cursor,
            event_type: None,
            partner_id: endpoint.owner.partner_id().cloned(),
            limit: FAN_OUT_BATCH,
        };
        let events = self.store.events(&endpoint.env_id, &filter).await?;
        let Some(last) = events.last().map(|e| e.sequence) else {
            return Ok(());
        };
        let messages: Vec<Message> = events
            .into_iter()
            .filter(|e| e.event_type.parse::<EventType>().is_ok_and(|t| endpoint.subscribes_to(t)))
            .map(|e| Message {
                endpoint_id: endpoint.id.clone(),
                event_id: e.id,
                env_id: e.env_id,
                sequence: e.sequence,
                attempts: 0,
            })
            .collect();
        let now = self.clock.now_ms();
        self.store
            .enqueue_messages(&endpoint.id, endpoint.event_cursor, last, &messages, now)
            .await?;
        Ok(())
    }

    /// Signs and sends the event, to the addresses the target policy allows
    /// now (a name may resolve elsewhere than it did at creation).
    async fn send(&self, endpoint: &Endpoint, event: &Event) -> SendOutcome {
        let kind = event.environment.parse::<EnvKind>().unwrap_or(EnvKind::Production);
        let vetted = match TargetUrl::parse(&endpoint.url, kind) {
            Ok(url) => match tokio::time::timeout(self.timeout, self.policy.vet(&url)).await {
                Ok(vetted) => vetted.map_err(|refusal| format!("{refusal:?}")),
                Err(_) => return failed("timeout"),
            },
            Err(e) => Err(e.message),
        };
        let addresses = match vetted {
            Ok(addresses) => addresses,
            Err(why) => {
                tracing::warn!(endpoint = %endpoint.id, %why, "webhook target refused at delivery");
                return failed("target_not_allowed");
            }
        };
        let now = self.clock.now_ms();
        let secrets = match self.sealer.signing_secrets(&endpoint.id, &endpoint.secrets, now) {
            Ok(secrets) => secrets,
            Err(e) => {
                tracing::error!(endpoint = %endpoint.id, error = %e, "webhook secret does not open");
                return failed("secret_unavailable");
            }
        };
        let body = event.payload().to_string().into_bytes();
        let timestamp = now / 1000;
        let headers = [
            ("webhook-id", event.id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature_header(&secrets, event.id.as_str(), timestamp, &body)),
        ];
        self.sender.post(&endpoint.url, &addresses, &headers, body).await
    }
}
