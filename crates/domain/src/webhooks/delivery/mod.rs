//! Delivery of events to webhook endpoints, at least once.
//!
//! The request path only writes events. A background task on every node
//! runs rounds of [`run::Delivery`]. First attempts come straight from the
//! event stream: a node leases an endpoint's cursor (its place in the
//! environment's events), attempts the events after it that the endpoint
//! subscribes to, and moves the cursor past each one in the transaction
//! that records its attempt. Only an attempt that fails leaves a message
//! row behind, with its next attempt on the [`SCHEDULE`]; due messages are
//! leased and attempted the same way. A delivery that succeeds at once
//! thus writes one row (its attempt), which is what keeps delivery cheap
//! beside the request path on one database. Everything that must survive a
//! crash is in the database before and after an attempt: a node killed
//! mid-attempt leaves a lease that runs out, and what it was attempting is
//! attempted again (at least once).
//!
//! Each endpoint's leased messages are attempted by a task of their own
//! ([`run::Delivery`]), so a slow or dead receiver holds only its own
//! messages; the round goes on for the others.

mod attempt;
mod batch;
pub mod run;
pub mod store;

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{EndpointId, EnvId, EventId};

/// The waits between attempts after a failure: the second attempt 5 s
/// after the first, the third 5 minutes after the second, and so on; after
/// the last, the message is given up (`message.attempt.exhausted`).
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];
/// How long a receiver has to answer, unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a node holds the messages it leased, for receivers that have
/// `timeout` to answer. No attempt starts later than two timeouts before the
/// lease runs out, so two nodes never attempt one message at once.
pub fn lease_for(timeout: Duration) -> Duration {
    timeout * 4
}
/// An endpoint whose every attempt has failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How much of an answer is kept.
pub const SNIPPET_BYTES: usize = 1024;

/// One event to deliver to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub endpoint_id: EndpointId,
    pub event_id: EventId,
    pub env_id: EnvId,
    pub sequence: i64,
    /// Attempts made so far.
    pub attempts: i64,
    /// Whether it has a row in the queue (a retry or a resend), or comes
    /// straight from the event stream (a first attempt).
    pub queued: bool,
}

/// What a round asks of an endpoint's event cursor, still at `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorClaim {
    pub endpoint_id: EndpointId,
    pub from: i64,
    /// Lease it (there are events to attempt), or move it straight to
    /// `Skip(to)` (the events after it are none the endpoint wants).
    pub take: CursorTake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorTake {
    Lease,
    Skip(i64),
}

/// Where recorded first attempts leave an endpoint's cursor: moved to `to`
/// (never back), and the lease taken until `release` given back when set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorMove {
    pub endpoint_id: EndpointId,
    pub to: i64,
    pub release: Option<Millis>,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub endpoint_id: EndpointId,
    pub event_id: EventId,
    pub event_type: String,
    /// 1 for the first.
    pub attempt: i64,
    pub attempted_at: Millis,
    /// `None` when no answer came.
    pub status_code: Option<u16>,
    /// `timeout`, `connect`, `target_not_allowed`, … when no answer came.
    pub error: Option<String>,
    pub latency_ms: i64,
    pub response_snippet: String,
}

/// Where a page of the attempt log (newest first) continues: after the
/// attempt at this time, of this event, with this number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptCursor {
    pub attempted_at: Millis,
    pub event_id: EventId,
    pub attempt: i64,
}

impl AttemptCursor {
    /// The cursor that continues after `a`.
    pub fn after(a: &Attempt) -> Self {
        Self {
            attempted_at: a.attempted_at,
            event_id: a.event_id.clone(),
            attempt: a.attempt,
        }
    }

    /// As clients hold it: `<attempted_at>.<event_id>.<attempt>`.
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.attempted_at, self.event_id, self.attempt)
    }

    /// `None` for anything [`encode`](Self::encode) did not make.
    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let attempted_at = parts.next()?.parse().ok()?;
        let event_id = parts.next().filter(|e| e.starts_with("evt_"))?;
        let attempt = parts.next()?.parse().ok()?;
        parts.next().is_none().then(|| Self {
            attempted_at,
            event_id: event_id.into(),
            attempt,
        })
    }
}

/// What became of a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    /// Attempt again at this time.
    Retry(Millis),
    /// No more attempts (the schedule ran out, or the endpoint is gone).
    GiveUp,
}

/// What an attempt changes on its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth {
    /// Since when every attempt has failed; `None` after a success.
    pub failing_since: Option<Millis>,
    /// Disable it now, with this reason (`gone`, `failing`).
    pub disable: Option<&'static str>,
}

/// One attempt as it is recorded: the attempt, the message's next step,
/// the endpoint's health after it, and the events it causes.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub message: Message,
    pub attempt: Attempt,
    pub next: NextStep,
    /// `None` when the attempt leaves it as it was (a success of a healthy
    /// endpoint, most of the time): nothing to write.
    pub health: Option<EndpointHealth>,
    pub audit: Option<AuditEvent>,
}

/// A receiver's answer, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendOutcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub snippet: String,
    /// `Retry-After` of a `429` or `503`.
    pub retry_after: Option<Duration>,
}

/// One POST to a receiver, to exactly the vetted addresses, no redirects.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn post(&self, url: &str, addresses: &[SocketAddr], headers: &[(&'static str, String)], body: Vec<u8>) -> SendOutcome;
}
