//! Rounds of delivery: lease the event cursors of endpoints with new
//! events and the messages that are due, and hand each endpoint's batch to
//! a task that attempts it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc};

use crate::clock::{Clock, Millis};
use crate::error::DomainError;
use crate::events::{Event, EventFilter, EventType};
use crate::ids::EndpointId;
use crate::infra::master_key::MasterKey;
use crate::store::Store;
use crate::tenancy::EnvKind;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::attempt::{failed, ms, record};
use crate::webhooks::delivery::{CursorClaim, CursorMove, CursorTake, Message, SendOutcome, WebhookSender, lease_for};
use crate::webhooks::secret::SecretSealer;
use crate::webhooks::signature::signature_header;
use crate::webhooks::target::{TargetPolicy, TargetUrl};

/// Events read from the stream for one endpoint per lease.
const STREAM_BATCH: u32 = 500;
/// Messages leased per round.
const LEASE_BATCH: u32 = 500;
/// Endpoints attempted at once on this node.
const CONCURRENCY: usize = 32;
/// Attempts in flight at once for one endpoint.
const PER_ENDPOINT: usize = 4;
/// The shortest wait between rounds while events keep coming.
const PACE: Duration = Duration::from_millis(100);
/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 200;
/// The longest an attempt waits to be recorded while its batch goes on.
const RECORD_EVERY: Duration = Duration::from_secs(1);

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
    events: HashMap<i64, Event>,
    lease_until: Millis,
    /// Set for first attempts from the event stream: the cursor's lease,
    /// from where it was to the last event read.
    stream: Option<Span>,
}

/// The events a cursor lease covers: after `from`, up to `last`.
#[derive(Clone, Copy)]
struct Span {
    from: i64,
    last: i64,
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
    /// round that leased none, wait with [`idle`](Self::idle).
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
        let idle: Vec<&Endpoint> = endpoints.values().filter(|e| !self.busy().contains(&e.id)).collect();
        let (mut claims, mut batches) = (Vec::new(), HashMap::new());
        for endpoint in idle {
            if batches.len() >= room {
                break;
            }
            let (claim, batch) = self.read_stream(endpoint).await?;
            if let Some(claim) = claim {
                claims.push(claim);
            }
            if let Some(batch) = batch {
                batches.insert(endpoint.id.clone(), batch);
            }
        }
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

    /// The events after the endpoint's cursor: a claim on the cursor (none
    /// when there are no events), and the batch to attempt if this node
    /// gets it (none when the endpoint wants none of them: the claim then
    /// only moves the cursor past them).
    async fn read_stream(&self, endpoint: &Endpoint) -> Result<(Option<CursorClaim>, Option<Batch>), DomainError> {
        let filter = EventFilter {
            after: endpoint.event_cursor,
            event_type: None,
            partner_id: endpoint.owner.partner_id().cloned(),
            limit: STREAM_BATCH,
        };
        let events = self.store.events(&endpoint.env_id, &filter).await?;
        let Some(last) = events.last().map(|e| e.sequence) else {
            return Ok((None, None));
        };
        let span = Span {
            from: endpoint.event_cursor,
            last,
        };
        let events: HashMap<i64, Event> = events
            .into_iter()
            .filter(|e| e.event_type.parse::<EventType>().is_ok_and(|t| endpoint.subscribes_to(t)))
            .map(|e| (e.sequence, e))
            .collect();
        let take = if events.is_empty() {
            CursorTake::Skip(last)
        } else {
            CursorTake::Lease
        };
        let claim = CursorClaim {
            endpoint_id: endpoint.id.clone(),
            from: span.from,
            take,
        };
        if events.is_empty() {
            return Ok((Some(claim), None));
        }
        let mut queue: Vec<Message> = events
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
            events,
            lease_until: 0,
            stream: Some(span),
        };
        Ok((Some(claim), Some(batch)))
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

    /// Attempts one endpoint's messages: started in `sequence` order, at
    /// most [`PER_ENDPOINT`] in flight, and recorded as they end while the
    /// next are sent (all those that ended during a transaction go in the
    /// next one). None starts so late that its lease could run out
    /// mid-attempt, nor after the endpoint answered `410 Gone` or was
    /// disabled; those are given back for the next round.
    async fn attempt_all(&self, mut batch: Batch) -> Result<(), DomainError> {
        let queue = std::mem::take(&mut batch.queue);
        let latest_start = batch.lease_until - 2 * ms(self.timeout);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::unbounded_channel();
        let (endpoint, events, stop_ref) = (&batch.endpoint, &batch.events, &stop);
        let send = async move {
            // Whether to start is decided in order, as each attempt is
            // taken up: once one is held back, so are all after it, and a
            // stream's cursor can stop just before the first.
            let mut outcomes = futures_util::stream::iter(queue)
                .map(|message| {
                    let go = !stop_ref.load(Ordering::Relaxed) && self.clock.now_ms() <= latest_start;
                    if !go {
                        stop_ref.store(true, Ordering::Relaxed);
                    }
                    async move {
                        if !go {
                            return (message, None);
                        }
                        let started = self.clock.now_ms();
                        let outcome = match events.get(&message.sequence) {
                            Some(event) => self.send(endpoint, event).await,
                            None => failed("event_purged"),
                        };
                        if outcome.status == Some(410) {
                            stop_ref.store(true, Ordering::Relaxed);
                        }
                        (message, Some((started, outcome)))
                    }
                })
                .buffered(PER_ENDPOINT);
            while let Some(outcome) = outcomes.next().await {
                if tx.send(outcome).is_err() {
                    break;
                }
            }
        };
        let ((), recorded) = tokio::join!(send, self.record_all(&batch, &stop, rx));
        recorded
    }

    /// Records the outcomes `attempt_all` sends: together when the batch
    /// is done (one transaction, with the cursor's move and release), or
    /// every [`RECORD_BATCH`] attempts or [`RECORD_EVERY`] while it lasts,
    /// so a slow receiver's log still shows its attempts as they end. At
    /// the end, what was not attempted is given back (for a stream: the
    /// cursor stops before it).
    async fn record_all(
        &self,
        batch: &Batch,
        stop: &AtomicBool,
        mut rx: mpsc::UnboundedReceiver<(Message, Option<(Millis, SendOutcome)>)>,
    ) -> Result<(), DomainError> {
        let endpoint = &batch.endpoint;
        let mut failing_since = endpoint.failing_since;
        let mut cursor = batch.stream.map(|s| s.from);
        let (mut unsent, mut recorded) = (Vec::new(), Vec::new());
        let mut chunk = Vec::with_capacity(RECORD_BATCH);
        let mut flush_at = tokio::time::Instant::now() + RECORD_EVERY;
        loop {
            let received = tokio::time::timeout_at(flush_at, rx.recv_many(&mut chunk, RECORD_BATCH)).await;
            let done = matches!(received, Ok(0));
            for (message, sent) in chunk.drain(..) {
                match sent {
                    Some((started, outcome)) => {
                        if unsent.is_empty() && cursor.is_some() {
                            cursor = Some(message.sequence);
                        }
                        let event = batch.events.get(&message.sequence);
                        recorded.push(record(endpoint, &mut failing_since, &message, event, started, outcome));
                    }
                    None => unsent.push(message),
                }
            }
            let due = received.is_err() || recorded.len() >= RECORD_BATCH;
            if !done && !(due && !recorded.is_empty()) {
                if received.is_err() {
                    flush_at = tokio::time::Instant::now() + RECORD_EVERY;
                }
                continue;
            }
            if recorded.iter().any(|r| r.health.as_ref().is_some_and(|h| h.disable.is_some())) {
                stop.store(true, Ordering::Relaxed);
            }
            let moved = batch.stream.zip(cursor).map(|(span, at)| CursorMove {
                endpoint_id: endpoint.id.clone(),
                to: if done && unsent.is_empty() { span.last } else { at },
                release: done.then_some(batch.lease_until),
            });
            if let Err(e) = self.store.record_attempts(&recorded, moved.as_ref()).await {
                stop.store(true, Ordering::Relaxed);
                return Err(e.into());
            }
            recorded.clear();
            flush_at = tokio::time::Instant::now() + RECORD_EVERY;
            if done {
                break;
            }
        }
        if batch.stream.is_none() && !unsent.is_empty() {
            self.store.release_leases(&unsent).await?;
        }
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
