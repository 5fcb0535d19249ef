//! Rounds of delivery: lease the event cursors of endpoints with new
//! events and the messages that are due, and hand each endpoint's batch to
//! a task that attempts it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::EndpointId;
use crate::infra::master_key::MasterKey;
use crate::store::Store;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::attempt::ms;
use crate::webhooks::delivery::batch::Batch;
use crate::webhooks::delivery::stream::STREAM_BATCH;
use crate::webhooks::delivery::{Message, WebhookSender, lease_for};
use crate::webhooks::secret::SecretSealer;
use crate::webhooks::target::TargetPolicy;

/// Messages leased per round.
const LEASE_BATCH: u32 = 500;
/// Endpoints attempted at once on this node.
const CONCURRENCY: usize = 32;
/// The shortest wait between rounds while events keep coming.
const PACE: Duration = Duration::from_millis(250);

/// Delivers events to webhook endpoints: one per node, run in rounds by
/// the server's background task.
pub struct Delivery {
    pub(super) store: Arc<dyn Store>,
    pub(super) sender: Arc<dyn WebhookSender>,
    pub(super) policy: TargetPolicy,
    pub(super) sealer: SecretSealer,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) timeout: Duration,
    /// Endpoints whose messages a task of this node is attempting.
    busy: Mutex<HashSet<EndpointId>>,
    /// Rung when such a task ends: its endpoint may have more due.
    done: Notify,
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

    /// One round: for endpoints no task of this node is busy with (at most
    /// [`CONCURRENCY`] such tasks), leases the event cursors that have new
    /// events behind them, then the messages that are due, and starts a
    /// task per endpoint. Returns the events and messages leased; after a
    /// round, wait with [`wait_after`](Self::wait_after).
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
        let leased = self.lease_streams(&endpoints).await?;
        Ok(leased + self.lease_queue(&endpoints).await?)
    }

    /// Marks the batch's endpoint busy and starts its task; returns its size.
    fn start(self: &Arc<Self>, batch: Batch) -> usize {
        self.busy().insert(batch.endpoint.id.clone());
        let size = batch.queue.len();
        tokio::spawn(Arc::clone(self).drain(batch));
        size
    }

    /// Claims, in one transaction, the cursors of the endpoints (not busy
    /// here) with new events behind them, and starts a task for each one
    /// this node then holds.
    async fn lease_streams(self: &Arc<Self>, endpoints: &HashMap<EndpointId, Endpoint>) -> Result<usize, DomainError> {
        let room = CONCURRENCY.saturating_sub(self.busy().len());
        let idle: Vec<&Endpoint> = endpoints.values().filter(|e| !self.busy().contains(&e.id)).take(room).collect();
        let (claims, mut batches) = self.read_streams(&idle).await?;
        if claims.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now_ms();
        let lease_until = now + ms(lease_for(self.timeout));
        let held = self.store.claim_cursors(&claims, now, lease_until).await?;
        let mut leased = 0;
        for id in held {
            if let Some(mut batch) = batches.remove(&id) {
                batch.lease_until = lease_until;
                leased += self.start(batch);
            }
        }
        Ok(leased)
    }

    /// Leases the messages that are due (retries and resends) of endpoints
    /// no task of this node is busy with, and starts a task per endpoint.
    async fn lease_queue(self: &Arc<Self>, endpoints: &HashMap<EndpointId, Endpoint>) -> Result<usize, DomainError> {
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
                    let sequences: Vec<i64> = queue.iter().map(|m| m.sequence).collect();
                    let events = self
                        .store
                        .events_by_sequence(&endpoint.env_id, &sequences)
                        .await?
                        .into_iter()
                        .map(|e| (e.sequence, e))
                        .collect();
                    leased += self.start(Batch {
                        endpoint: endpoint.clone(),
                        queue,
                        events,
                        lease_until,
                        stream: None,
                    });
                }
                None => spare.extend(queue),
            }
        }
        if !spare.is_empty() {
            self.store.release_leases(&spare).await?;
        }
        Ok(leased)
    }

    /// Waits for the next round, after one that leased `leased` events
    /// and messages. After a full batch, none: there is a backlog. After
    /// a smaller one, [`PACE`] (or `interval` if shorter), so that the
    /// next batch gathers what arrives meanwhile: each batch costs a few
    /// transactions whatever its size, and rounds chasing every single
    /// event would write more than the requests that made them. After an
    /// empty one, `interval`, or less if a task ended.
    pub async fn wait_after(&self, leased: usize, interval: Duration) {
        if leased >= STREAM_BATCH as usize {
            tokio::task::yield_now().await;
        } else if leased > 0 {
            tokio::time::sleep(PACE.min(interval)).await;
        } else {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = self.done.notified() => {}
            }
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
}
