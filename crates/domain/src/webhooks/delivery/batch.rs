//! One endpoint's batch: its attempts, sent a few at a time in `sequence`
//! order, and recorded while the next are sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::clock::Millis;
use crate::error::DomainError;
use crate::events::Event;
use crate::tenancy::EnvKind;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::attempt::{failed, ms, record};
use crate::webhooks::delivery::run::Delivery;
use crate::webhooks::delivery::{CursorMove, Message, SendOutcome};
use crate::webhooks::secret::WebhookSecret;
use crate::webhooks::signature::signature_header;
use crate::webhooks::target::TargetUrl;

/// Attempts in flight at once for one endpoint.
const PER_ENDPOINT: usize = 4;
/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 200;
/// The longest an attempt waits to be recorded while its batch goes on.
const RECORD_EVERY: Duration = Duration::from_secs(1);

/// One endpoint's leased messages, the events they carry, and how long
/// the lease lasts.
pub(super) struct Batch {
    pub(super) endpoint: Endpoint,
    pub(super) queue: Vec<Message>,
    pub(super) events: HashMap<i64, Event>,
    pub(super) lease_until: Millis,
    /// Set for first attempts from the event stream: the cursor's lease,
    /// from where it was to the last event read.
    pub(super) stream: Option<Span>,
}

/// The events a cursor lease covers: after `from`, up to `last`.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub(super) from: i64,
    pub(super) last: i64,
}

impl Delivery {
    /// Attempts one endpoint's messages: started in `sequence` order, at
    /// most [`PER_ENDPOINT`] in flight, and recorded as they end while the
    /// next are sent (all those that ended during a transaction go in the
    /// next one). None starts so late that its lease could run out
    /// mid-attempt, nor after the endpoint answered `410 Gone` or was
    /// disabled; those are given back for the next round.
    pub(super) async fn attempt_all(&self, mut batch: Batch) -> Result<(), DomainError> {
        let queue = std::mem::take(&mut batch.queue);
        let latest_start = batch.lease_until - 2 * ms(self.timeout);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::unbounded_channel();
        let kind = batch.events.values().next().and_then(|e| e.environment.parse::<EnvKind>().ok());
        let target = self.prepare(&batch.endpoint, kind.unwrap_or(EnvKind::Production)).await;
        let (endpoint, events, stop_ref, target) = (&batch.endpoint, &batch.events, &stop, &target);
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
                            Some(event) => self.send(endpoint, target, event).await,
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

    /// Where and with what a batch is sent: the addresses the target
    /// policy allows now (a name may resolve elsewhere than it did at
    /// creation), vetted once per batch and then the only ones its attempts
    /// connect to, and the secrets that sign. An outcome to record for each
    /// attempt when there are none.
    async fn prepare(&self, endpoint: &Endpoint, kind: EnvKind) -> Result<Target, SendOutcome> {
        let vetted = match TargetUrl::parse(&endpoint.url, kind) {
            Ok(url) => match tokio::time::timeout(self.timeout, self.policy.vet(&url)).await {
                Ok(vetted) => vetted.map_err(|refusal| format!("{refusal:?}")),
                Err(_) => return Err(failed("timeout")),
            },
            Err(e) => Err(e.message),
        };
        let addresses = vetted.map_err(|why| {
            tracing::warn!(endpoint = %endpoint.id, %why, "webhook target refused at delivery");
            failed("target_not_allowed")
        })?;
        let secrets = self
            .sealer
            .signing_secrets(&endpoint.id, &endpoint.secrets, self.clock.now_ms())
            .map_err(|e| {
                tracing::error!(endpoint = %endpoint.id, error = %e, "webhook secret does not open");
                failed("secret_unavailable")
            })?;
        Ok(Target { addresses, secrets })
    }

    /// Signs and sends the event.
    async fn send(&self, endpoint: &Endpoint, target: &Result<Target, SendOutcome>, event: &Event) -> SendOutcome {
        let target = match target {
            Ok(target) => target,
            Err(outcome) => return outcome.clone(),
        };
        let body = event.payload().to_string().into_bytes();
        let timestamp = self.clock.now_ms() / 1000;
        let headers = [
            ("webhook-id", event.id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                signature_header(&target.secrets, event.id.as_str(), timestamp, &body),
            ),
        ];
        self.sender.post(&endpoint.url, &target.addresses, &headers, body).await
    }
}

/// A batch's vetted addresses and signing secrets.
struct Target {
    addresses: Vec<SocketAddr>,
    secrets: Vec<WebhookSecret>,
}
