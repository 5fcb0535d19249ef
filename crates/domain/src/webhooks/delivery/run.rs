//! One round of delivery: fan new events out to the endpoints that want
//! them, then attempt the messages that are due.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::clock::{Clock, Millis};
use crate::error::DomainError;
use crate::events::{Event, EventFilter, EventType};
use crate::ids::EndpointId;
use crate::infra::master_key::MasterKey;
use crate::store::Store;
use crate::tenancy::EnvKind;
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::{
    Attempt, DISABLE_AFTER, EndpointHealth, LEASE, MAX_RETRY_AFTER, Message, NextStep, SCHEDULE, SendOutcome, WebhookSender,
};
use crate::webhooks::secret::SecretSealer;
use crate::webhooks::signature::signature_header;
use crate::webhooks::target::{TargetPolicy, TargetUrl};

/// Events fanned out to one endpoint per round.
const FAN_OUT_BATCH: u32 = 500;
/// Messages leased per round.
const LEASE_BATCH: u32 = 256;
/// Endpoints attempted at once on this node.
const CONCURRENCY: usize = 32;
/// Attempts in flight at once for one endpoint.
const PER_ENDPOINT: usize = 4;

fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Delivers events to webhook endpoints (one per node, run in rounds).
pub struct Delivery {
    store: Arc<dyn Store>,
    sender: Arc<dyn WebhookSender>,
    policy: TargetPolicy,
    sealer: SecretSealer,
    clock: Arc<dyn Clock>,
}

impl Delivery {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        sender: Arc<dyn WebhookSender>,
        policy: TargetPolicy,
        master: &MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            sender,
            policy,
            sealer: SecretSealer::new(master),
            clock,
        }
    }

    /// One round: fans new events out, then attempts what is due
    /// ([`CONCURRENCY`] endpoints at once, [`PER_ENDPOINT`] attempts each,
    /// started in `sequence` order per endpoint). Returns the attempts made.
    ///
    /// # Errors
    /// Storage failures (the next round tries again).
    pub async fn run_once(&self) -> Result<usize, DomainError> {
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
        let now = self.clock.now_ms();
        let due = self.store.lease_due_messages(now, now + ms(LEASE), LEASE_BATCH).await?;
        // One queue per endpoint, attempted in order; endpoints side by side.
        let mut queues: HashMap<EndpointId, Vec<Message>> = HashMap::new();
        for m in due {
            queues.entry(m.endpoint_id.clone()).or_default().push(m);
        }
        let rounds: Vec<_> = queues
            .into_iter()
            .filter_map(|(id, queue)| endpoints.get(&id).map(|e| self.drain(e, queue)))
            .collect();
        let counts: Vec<usize> = futures_util::stream::iter(rounds).buffer_unordered(CONCURRENCY).collect().await;
        Ok(counts.into_iter().sum())
    }

    /// Attempts one endpoint's due messages: started in `sequence` order,
    /// at most [`PER_ENDPOINT`] in flight, so one receiver cannot take
    /// every slot and a slow one still gets its events in order.
    async fn drain(&self, endpoint: &Endpoint, queue: Vec<Message>) -> usize {
        let n = queue.len();
        let attempts: Vec<_> = queue.iter().map(|m| self.attempt_logged(endpoint, m)).collect();
        futures_util::stream::iter(attempts)
            .buffered(PER_ENDPOINT)
            .for_each(|()| async {})
            .await;
        n
    }

    async fn attempt_logged(&self, endpoint: &Endpoint, message: &Message) {
        if let Err(e) = self.attempt(endpoint, message).await {
            tracing::warn!(endpoint = %endpoint.id, event = %message.event_id, error = %e, "webhook attempt not recorded");
        }
    }

    /// Gives `endpoint` a message for each new event it subscribes to.
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

    /// Attempts one message and records what came of it.
    async fn attempt(&self, endpoint: &Endpoint, message: &Message) -> Result<(), DomainError> {
        let Some(event) = self.store.event(&message.env_id, message.sequence).await? else {
            // Purged before it could be delivered: nothing left to send.
            let attempt = self.attempt_record(
                endpoint,
                message,
                "unknown",
                self.clock.now_ms(),
                SendOutcome {
                    error: Some("event_purged".into()),
                    ..SendOutcome::default()
                },
            );
            let health = EndpointHealth {
                failing_since: endpoint.failing_since,
                disable: None,
            };
            return Ok(self.store.record_attempt(&attempt, NextStep::GiveUp, &health, None).await?);
        };
        let started = self.clock.now_ms();
        let outcome = self.send(endpoint, &event).await;
        let attempt = self.attempt_record(endpoint, message, &event.event_type, started, outcome.clone());
        let next = next_step(&attempt, &outcome);
        let health = health_after(endpoint, &outcome, started);
        let audit = consequences(endpoint, &event, &attempt, next, &health);
        Ok(self.store.record_attempt(&attempt, next, &health, audit.as_ref()).await?)
    }

    /// Signs and sends the event, to the addresses the target policy allows
    /// now (a name may resolve elsewhere than it did at creation).
    async fn send(&self, endpoint: &Endpoint, event: &Event) -> SendOutcome {
        let kind = event.environment.parse::<EnvKind>().unwrap_or(EnvKind::Production);
        let vetted = match TargetUrl::parse(&endpoint.url, kind) {
            Ok(url) => self.policy.vet(&url).await.map_err(|refusal| format!("{refusal:?}")),
            Err(e) => Err(e.message),
        };
        let addresses = match vetted {
            Ok(addresses) => addresses,
            Err(why) => {
                tracing::warn!(endpoint = %endpoint.id, %why, "webhook target refused at delivery");
                return SendOutcome {
                    error: Some("target_not_allowed".into()),
                    ..SendOutcome::default()
                };
            }
        };
        let now = self.clock.now_ms();
        let secrets = match self.sealer.signing_secrets(&endpoint.id, &endpoint.secrets, now) {
            Ok(secrets) => secrets,
            Err(e) => {
                tracing::error!(endpoint = %endpoint.id, error = %e, "webhook secret does not open");
                return SendOutcome {
                    error: Some("secret_unavailable".into()),
                    ..SendOutcome::default()
                };
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

    fn attempt_record(&self, endpoint: &Endpoint, message: &Message, event_type: &str, at: Millis, outcome: SendOutcome) -> Attempt {
        Attempt {
            endpoint_id: endpoint.id.clone(),
            event_id: message.event_id.clone(),
            event_type: event_type.to_owned(),
            attempt: message.attempts + 1,
            attempted_at: at,
            status_code: outcome.status,
            error: outcome.error,
            latency_ms: outcome.latency_ms,
            response_snippet: outcome.snippet,
        }
    }
}

fn succeeded(outcome: &SendOutcome) -> bool {
    outcome.status.is_some_and(|s| (200..300).contains(&s))
}

/// Delivered, retried on the schedule counted from this attempt's start (or
/// later, as `Retry-After` asks), or given up after the last wait or a
/// `410 Gone`.
fn next_step(attempt: &Attempt, outcome: &SendOutcome) -> NextStep {
    if succeeded(outcome) {
        return NextStep::Delivered;
    }
    if outcome.status == Some(410) {
        return NextStep::GiveUp;
    }
    let Some(wait) = usize::try_from(attempt.attempt - 1).ok().and_then(|i| SCHEDULE.get(i)) else {
        return NextStep::GiveUp;
    };
    let asked = outcome.retry_after.filter(|_| matches!(outcome.status, Some(429 | 503)));
    let wait = asked.map_or(*wait, |a| a.min(MAX_RETRY_AFTER).max(*wait));
    NextStep::Retry(attempt.attempted_at + ms(wait))
}

/// The endpoint's failure streak after this outcome, and whether it is
/// disabled now: at once on `410 Gone`, or after failing for [`DISABLE_AFTER`].
fn health_after(endpoint: &Endpoint, outcome: &SendOutcome, at: Millis) -> EndpointHealth {
    if succeeded(outcome) {
        return EndpointHealth {
            failing_since: None,
            disable: None,
        };
    }
    let since = endpoint.failing_since.unwrap_or(at);
    let disable = if outcome.status == Some(410) {
        Some("gone")
    } else if at - since >= ms(DISABLE_AFTER) {
        Some("failing")
    } else {
        None
    };
    EndpointHealth {
        failing_since: Some(since),
        disable,
    }
}

/// The events an attempt causes: `endpoint.disabled` when it disables the
/// endpoint, `message.attempt.exhausted` when the message is given up. The
/// endpoint's owner sees both (a partner's, in its own feed).
fn consequences(endpoint: &Endpoint, event: &Event, attempt: &Attempt, next: NextStep, health: &EndpointHealth) -> Option<AuditEvent> {
    let exhausted = next == NextStep::GiveUp && !succeeded_attempt(attempt);
    if health.disable.is_none() && !exhausted {
        return None;
    }
    let actor = Actor::system("webhooks");
    let partner = endpoint.owner.partner_id();
    let mut audit = AuditEvent::new(
        &actor,
        &event.platform_id,
        Some(&event.environment),
        "webhook.delivery",
        endpoint.id.as_str(),
    );
    if let Some(reason) = health.disable {
        let data = json!({ "endpoint_id": endpoint.id, "reason": reason });
        audit = audit.emit(&endpoint.env_id, EventType::EndpointDisabled, partner, data);
    }
    if exhausted {
        let data = json!({ "endpoint_id": endpoint.id, "event_id": event.id });
        audit = audit.emit(&endpoint.env_id, EventType::MessageAttemptExhausted, partner, data);
    }
    Some(audit)
}

fn succeeded_attempt(attempt: &Attempt) -> bool {
    attempt.status_code.is_some_and(|s| (200..300).contains(&s))
}
